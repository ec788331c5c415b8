package report

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/ecs-audit/audit/findings"
)

// Words shared by the writers: resource nouns and the counts of root
// causes and affected resources ("35 root causes affecting 22 task
// definitions, 11 services").

// resourceTypeOrder is the order in which affected resources are counted
// (the order of findings' impact summaries).
var resourceTypeOrder = findings.ResourceTypeOrder

// resourceNoun is the singular and plural noun of a resource type
// ("resource" for none).
func resourceNoun(typ string) (one, many string) {
	if typ == "" {
		return "resource", "resources"
	}
	return findings.ResourceNoun(typ)
}

// countOf is "1 task definition", "3 task definitions".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// countResources is "22 task definitions, 11 services, 7 roles, 3
// container instances" for counts by resource type: most first, then in
// resourceTypeOrder (then any other type by name); types with no resource
// are left out.
func countResources(by map[string]int) string {
	rank := map[string]int{}
	for i, typ := range resourceTypeOrder {
		rank[typ] = i + 1
	}
	var types []string
	for typ, n := range by {
		if n > 0 {
			types = append(types, typ)
		}
	}
	slices.SortFunc(types, func(a, b string) int {
		ra, rb := rank[a], rank[b]
		if ra == 0 {
			ra = len(resourceTypeOrder) + 1
		}
		if rb == 0 {
			rb = len(resourceTypeOrder) + 1
		}
		return cmp.Or(cmp.Compare(by[b], by[a]), cmp.Compare(ra, rb), cmp.Compare(a, b))
	})
	parts := make([]string, len(types))
	for i, typ := range types {
		one, many := resourceNoun(typ)
		parts[i] = countOf(by[typ], one, many)
	}
	return strings.Join(parts, ", ")
}

// itemNoun is the noun of an impact's item kind.
func itemNoun(kind string) (one, many string) {
	switch kind {
	case findings.ItemNeed:
		return "need", "needs"
	case findings.ItemConstraint:
		return "unmet constraint", "unmet constraints"
	case findings.ItemFeature:
		return "feature", "features"
	case findings.ItemValue:
		return "value", "values"
	case findings.ItemProblem:
		return "problem", "problems"
	case findings.ItemGrant:
		return "excess grant", "excess grants"
	}
	return "item", "items"
}

// affectedCounts counts the distinct resources the findings affect (each
// finding's own resource and its Affected list) by resource type, and the
// items they cover (the sum of Impact.Items, 1 for a finding without).
func affectedCounts(fs []*findings.Finding) (byType map[string]int, items int) {
	byType = map[string]int{}
	seen := map[[2]string]bool{}
	add := func(typ, arn string) {
		k := [2]string{typ, arn}
		if arn == "" || seen[k] {
			return
		}
		seen[k] = true
		byType[typ]++
	}
	for _, f := range fs {
		add(f.ResourceType, f.ResourceARN)
		for _, a := range f.Affected {
			add(a.Type, a.ARN)
		}
		items += max(f.Impact.Items, 1)
	}
	return byType, items
}

// affectedCounter counts the distinct resources findings affect, by type,
// and the items they cover, as affectedCounts does, one finding at a time,
// in memory that does not grow with the resources (a
// findings.DistinctCounter, whose temporary file, if it needs one, is in
// os.TempDir()).
type affectedCounter struct {
	seen  *findings.DistinctCounter
	items int
}

func newAffectedCounter() *affectedCounter {
	return &affectedCounter{seen: findings.NewDistinctCounter("")}
}

func (c *affectedCounter) add(f *findings.Finding) {
	if f.ResourceARN != "" {
		c.seen.Add(f.ResourceType, f.ResourceARN)
	}
	for _, a := range f.Affected {
		if a.ARN != "" {
			c.seen.Add(a.Type, a.ARN)
		}
	}
	c.items += max(f.Impact.Items, 1)
}

// counts ends the count: the resources by type and the items; the
// counter's file is removed.
func (c *affectedCounter) counts() (byType map[string]int, items int, err error) {
	byType, err = c.seen.Counts()
	if cerr := c.seen.Close(); err == nil {
		err = cerr
	}
	return byType, c.items, err
}

// close removes the counter's file, for a count that ends early.
func (c *affectedCounter) close() { c.seen.Close() }
