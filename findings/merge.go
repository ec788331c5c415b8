package findings

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// Shards. Every finding, role and task definition of a Result belongs to
// one account (group.go keys every finding by account), so the Result of
// a whole scope is the union of the Results of its shards, with the
// summary counted again and the coverage added up. Merge does that;
// RestrictToShard first takes out of a shard's Result the accounts of
// other shards whose resources the shard looked up.

// RestrictToShard removes from the Result of a sharded scan what concerns
// the accounts of other shards that the scan entered only to look up
// resources (inventory.Shard.ReferencedAccounts): they hold no task
// definition and no IAM, so they have no finding, but they would count in
// scope and coverage. The collection errors recorded there stay: they
// concern lookups for the shard's task definitions.
func RestrictToShard(r *Result, sh *inventory.Shard) {
	if sh == nil {
		return
	}
	r.Shard = sh
	if len(sh.ReferencedAccounts) == 0 {
		return
	}
	ref := map[string]bool{}
	for _, a := range sh.ReferencedAccounts {
		ref[a] = true
	}
	r.Scope.Accounts = slices.DeleteFunc(r.Scope.Accounts, func(a AccountRef) bool { return ref[a.ID] })
	c := &r.Coverage
	for _, ar := range c.Collected {
		if ref[ar.AccountID] && ar.Region != "" {
			c.RegionsScanned--
		}
	}
	c.Collected = slices.DeleteFunc(c.Collected, func(ar AccountRegion) bool { return ref[ar.AccountID] })
	for id := range ref {
		c.AccountsTotal--
		c.Gaps = slices.DeleteFunc(c.Gaps, func(g string) bool { return g == iamGap(id) })
	}
	r.Scope.Regions = collectedRegions(c.Collected)
	c.Complete = c.Interrupted == "" && len(c.Errors) == 0 && len(c.Gaps) == 0 && c.RegionsFailed == 0
}

// iamGap is the gap coverage() records for an account without IAM.
func iamGap(account string) string {
	return fmt.Sprintf("account %s: IAM was not collected, so execution roles in it were not evaluated", account)
}

// collectedRegions are the regions of the collected account × regions,
// sorted: Scope.Regions.
func collectedRegions(cs []AccountRegion) []string {
	out := []string{}
	for _, c := range cs {
		if c.Region != "" && !slices.Contains(out, c.Region) {
			out = append(out, c.Region)
		}
	}
	sort.Strings(out)
	return out
}

// MergeOptions say what a merge knows beyond the parts.
type MergeOptions struct {
	// Missing are the shards (0-based) of Count that are not among the
	// parts (a merge with --allow-partial): each is recorded as a coverage
	// gap, and the coverage is not complete.
	Missing []int
	// Count is the number of shards, for the gaps.
	Count int
	// AccountsInScope counts the accounts of the whole scope, for
	// AccountsTotal when shards are missing (0: unknown).
	AccountsInScope int
}

// Merge combines the Results of the shards of one scan into the Result an
// unsharded scan of the same scope gives, apart from the times: the
// findings, roles and task definitions of every part, the summary counted
// again, the coverage added up. The caller checks that the parts belong
// together (one organization, one shard count, one tool); the rule
// catalog and the tool are the first part's. Triage is not merged: apply
// it to the merged Result.
func Merge(parts []*Result, opts MergeOptions) *Result {
	if len(parts) == 0 {
		return nil
	}
	first := parts[0]
	r := &Result{SchemaVersion: ResultSchemaVersion, Tool: first.Tool, Scope: Scope{Source: first.Scope.Source,
		Partition: first.Scope.Partition, OrganizationID: first.Scope.OrganizationID, Accounts: []AccountRef{}},
		Findings: []Finding{}, Roles: []RoleReport{}, TaskDefinitions: []TaskDefReport{}, Rules: first.Rules}
	c := &r.Coverage
	c.Complete = len(opts.Missing) == 0
	c.Errors = []inventory.CollectionError{}
	for _, p := range parts {
		if p.GeneratedAt.After(r.GeneratedAt) {
			r.GeneratedAt = p.GeneratedAt
		}
		if r.Scope.CollectedAt.IsZero() || p.Scope.CollectedAt.Before(r.Scope.CollectedAt) {
			r.Scope.CollectedAt = p.Scope.CollectedAt
		}
		r.Scope.Accounts = append(r.Scope.Accounts, p.Scope.Accounts...)
		r.Findings = append(r.Findings, stripTriage(p.Findings)...)
		r.Roles = append(r.Roles, p.Roles...)
		r.TaskDefinitions = append(r.TaskDefinitions, p.TaskDefinitions...)
		c.add(p.Coverage)
	}
	sort.Slice(r.Scope.Accounts, func(i, j int) bool { return r.Scope.Accounts[i].ID < r.Scope.Accounts[j].ID })
	r.Scope.Accounts = slices.CompactFunc(r.Scope.Accounts, func(a, b AccountRef) bool { return a.ID == b.ID })
	sortFindings(r.Findings)
	sort.Slice(r.Roles, func(i, j int) bool { return r.Roles[i].RoleARN < r.Roles[j].RoleARN })
	sort.Slice(r.TaskDefinitions, func(i, j int) bool { return r.TaskDefinitions[i].ARN < r.TaskDefinitions[j].ARN })

	sortErrors(c.Errors)
	c.Errors = slices.CompactFunc(c.Errors, func(a, b inventory.CollectionError) bool { return a == b })
	sortCollected(c.Collected)
	for _, k := range opts.Missing {
		c.Gaps = append(c.Gaps, fmt.Sprintf("shard %d of %d (0-based) is missing from the merge: its accounts were not scanned", k, opts.Count))
	}
	if len(opts.Missing) > 0 && opts.AccountsInScope > c.AccountsTotal {
		c.AccountsTotal = opts.AccountsInScope
	}
	sort.Strings(c.Gaps)
	c.Gaps = slices.Compact(c.Gaps)
	if len(c.Gaps) > 0 || c.RegionsFailed > 0 || len(c.Errors) > 0 {
		c.Complete = false
	}
	r.Scope.Regions = collectedRegions(c.Collected)
	r.summarize()
	return r
}

// add adds up the coverage of one part: the counts, and the errors,
// account × regions and gaps, which the caller sorts.
func (c *Coverage) add(pc Coverage) {
	c.Complete = c.Complete && pc.Complete
	if c.Interrupted == "" {
		c.Interrupted = pc.Interrupted
	}
	c.AccountsScanned += pc.AccountsScanned
	c.AccountsTotal += pc.AccountsTotal
	c.RegionsScanned += pc.RegionsScanned
	c.RegionsNotEnabled += pc.RegionsNotEnabled
	c.RegionsFailed += pc.RegionsFailed
	c.Errors = append(c.Errors, pc.Errors...)
	c.Collected = append(c.Collected, pc.Collected...)
	c.Gaps = append(c.Gaps, pc.Gaps...)
}

// sortCollected orders account × regions by account, then region.
func sortCollected(cs []AccountRegion) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].AccountID != cs[j].AccountID {
			return cs[i].AccountID < cs[j].AccountID
		}
		return cs[i].Region < cs[j].Region
	})
}

// stripTriage returns the findings without what triage added to them.
func stripTriage(fs []Finding) []Finding {
	out := slices.Clone(fs)
	for i := range out {
		out[i].Suppression, out[i].SuppressionExpired, out[i].Change = nil, nil, ""
	}
	return out
}

// sortErrors orders collection errors as coverage() does.
func sortErrors(es []inventory.CollectionError) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		for _, p := range [][2]string{{a.AccountID, b.AccountID}, {a.Region, b.Region}, {a.Service, b.Service}, {a.Operation, b.Operation}, {a.Resource, b.Resource}, {a.Code, b.Code}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return strings.Compare(a.Message, b.Message) < 0
	})
}

// summarize counts the Summary from the findings, roles and task
// definitions, as result() does.
func (r *Result) summarize() {
	r.Summary = Summary{Total: len(r.Findings), BySeverity: map[string]int{}, ByRule: map[string]int{}, ByAccount: map[string]int{},
		Affected: map[string]int{}, TaskDefinitions: len(r.TaskDefinitions), Roles: len(r.Roles)}
	for _, s := range Severities {
		r.Summary.BySeverity[string(s)] = 0
	}
	affected := map[string]bool{}
	for _, f := range r.Findings {
		r.Summary.BySeverity[string(f.Severity)]++
		r.Summary.ByRule[f.RuleID]++
		r.Summary.ByAccount[f.AccountID]++
		r.Summary.Items += f.Impact.Items
		for _, ref := range append([]ResourceRef{{Type: f.ResourceType, ARN: f.ResourceARN}}, f.Affected...) {
			if !affected[ref.Type+"\x00"+ref.ARN] {
				affected[ref.Type+"\x00"+ref.ARN] = true
				r.Summary.Affected[ref.Type]++
			}
		}
	}
}
