// Package awsactions is a catalog of IAM service prefixes and, for the
// services an ECS execution role deals with, their actions and access levels.
// Source and date in catalog_data.go's header.
//
// Every service prefix AWS documents is known, so a statement naming an
// unknown prefix (for example "secretmanager:GetSecretValue") can be flagged
// as granting nothing. The full action lists are kept only for the cataloged
// services (ecr, ecs, iam, kms, logs, s3, secretsmanager, ssm, sts); only for
// those can a misspelled action be detected and a wildcard be expanded.
//
// Matching follows IAM: prefixes and action names compare case-insensitively
// (ASCII only), "*" matches any run of characters and "?" exactly one.
package awsactions

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// AccessLevel is the access-level classification AWS gives an action.
type AccessLevel string

// The access levels used by the AWS Service Authorization Reference.
const (
	List                  AccessLevel = "List"
	Read                  AccessLevel = "Read"
	Write                 AccessLevel = "Write"
	PermissionsManagement AccessLevel = "Permissions management"
	Tagging               AccessLevel = "Tagging"
)

// levelLetters maps the letters used in catalog_data.go to access levels.
var levelLetters = map[string]AccessLevel{
	"L": List,
	"R": Read,
	"W": Write,
	"P": PermissionsManagement,
	"T": Tagging,
}

type action struct {
	name  string // as AWS writes it, e.g. "GetSecretValue"
	lower string
	level AccessLevel
}

type service struct {
	prefix  string   // lower case, as AWS writes it
	actions []action // sorted by name
	byLower map[string]int
}

type catalog struct {
	known     map[string]bool // every known prefix, lower case
	services  []string        // sorted known prefixes
	cataloged map[string]*service
	all       []string // every cataloged action, "prefix:Name", sorted
}

var (
	loadOnce sync.Once
	loaded   *catalog
)

func load() *catalog {
	loadOnce.Do(func() { loaded = parseCatalog() })
	return loaded
}

// parseCatalog builds the catalog from the tables in catalog_data.go. It
// panics on malformed data: that is a bug in the data file, caught by tests.
func parseCatalog() *catalog {
	c := &catalog{known: map[string]bool{}, cataloged: map[string]*service{}}
	for _, table := range []string{currentPrefixes, retiredPrefixes} {
		for _, p := range strings.Fields(table) {
			if p != asciiLower(p) || hasWildcard(p) || c.known[p] {
				panic(fmt.Sprintf("awsactions: bad or duplicate prefix %q", p))
			}
			c.known[p] = true
			c.services = append(c.services, p)
		}
	}
	sort.Strings(c.services)

	for prefix, table := range actionTables {
		if !c.known[prefix] {
			panic(fmt.Sprintf("awsactions: cataloged service %q is not a known prefix", prefix))
		}
		svc := &service{prefix: prefix, byLower: map[string]int{}}
		for _, line := range strings.Split(table, "\n") {
			fields := strings.Fields(line)
			if len(fields) == 0 {
				continue
			}
			level, ok := levelLetters[fields[0]]
			if !ok || len(fields) < 2 {
				panic(fmt.Sprintf("awsactions: bad line %q in %s table", line, prefix))
			}
			for _, name := range fields[1:] {
				lower := asciiLower(name)
				if hasWildcard(name) || strings.Contains(name, ":") {
					panic(fmt.Sprintf("awsactions: bad action name %q in %s table", name, prefix))
				}
				if _, dup := svc.byLower[lower]; dup {
					panic(fmt.Sprintf("awsactions: duplicate action %s:%s", prefix, name))
				}
				svc.byLower[lower] = -1
				svc.actions = append(svc.actions, action{name: name, lower: lower, level: level})
			}
		}
		sort.Slice(svc.actions, func(i, j int) bool { return svc.actions[i].name < svc.actions[j].name })
		for i, a := range svc.actions {
			svc.byLower[a.lower] = i
			c.all = append(c.all, prefix+":"+a.name)
		}
		c.cataloged[prefix] = svc
	}
	sort.Strings(c.all)
	return c
}

// KnownService reports whether prefix is an IAM service prefix, compared
// case-insensitively. Prefixes of discontinued services that AWS has dropped
// from its reference still count as known: naming them is not a typo.
func KnownService(prefix string) bool {
	return load().known[asciiLower(prefix)]
}

// Cataloged reports whether the full action list of the service with this
// prefix (compared case-insensitively) is in the catalog.
func Cataloged(prefix string) bool {
	return load().cataloged[asciiLower(prefix)] != nil
}

// Lookup finds a single action, given as "prefix:Name" in any letter case and
// without wildcards. It returns the name as AWS writes it (for example
// "secretsmanager:GetSecretValue") and its access level. ok is false when the
// action is malformed, contains a wildcard, belongs to a service that is not
// cataloged, or does not exist.
func Lookup(action string) (name string, level AccessLevel, ok bool) {
	prefix, act, found := strings.Cut(action, ":")
	if !found || hasWildcard(action) {
		return "", "", false
	}
	svc := load().cataloged[asciiLower(prefix)]
	if svc == nil {
		return "", "", false
	}
	i, found := svc.byLower[asciiLower(act)]
	if !found {
		return "", "", false
	}
	a := svc.actions[i]
	return svc.prefix + ":" + a.name, a.level, true
}

// Expand returns the actions a policy action pattern grants, as sorted
// "prefix:Name" strings. The pattern may use "*" and "?" and is matched
// case-insensitively.
//
// For a pattern naming a cataloged service it returns every matching action
// (nil when none matches) and cataloged=true. For a service that is not
// cataloged, or a malformed pattern, it returns nil, false. The pattern "*"
// returns every cataloged action with cataloged=false, since it also grants
// the actions of services the catalog does not list. A pattern with a
// wildcard in its prefix returns the matching actions of the cataloged
// services it covers; cataloged is true only if every known service it covers
// is cataloged.
func Expand(pattern string) (actions []string, cataloged bool) {
	c := load()
	if pattern == "*" {
		return append([]string(nil), c.all...), false
	}
	prefix, name, ok := strings.Cut(pattern, ":")
	if !ok || prefix == "" || name == "" {
		return nil, false
	}
	lowPrefix, lowName := asciiLower(prefix), asciiLower(name)
	if !hasWildcard(lowPrefix) {
		svc := c.cataloged[lowPrefix]
		if svc == nil {
			return nil, false
		}
		return svc.match(lowName), true
	}
	matched := c.matchServices(lowPrefix)
	if len(matched) == 0 {
		return nil, false
	}
	all := true
	for _, p := range matched {
		svc := c.cataloged[p]
		if svc == nil {
			all = false
			continue
		}
		actions = append(actions, svc.match(lowName)...)
	}
	sort.Strings(actions)
	return actions, all
}

// Check returns "" when a policy action pattern is plausible, or a short
// description of why it grants nothing: an unknown service prefix, a missing
// or empty part, or (for cataloged services only) an action name or wildcard
// that matches no action. Examples:
//
//	unknown service prefix "secretmanager"
//	no action of secretsmanager matches "GetSecretVal"
func Check(pattern string) (problem string) {
	if pattern == "" {
		return "empty action"
	}
	if pattern == "*" {
		return ""
	}
	prefix, name, ok := strings.Cut(pattern, ":")
	switch {
	case !ok:
		return fmt.Sprintf("action %q has no service prefix", pattern)
	case prefix == "":
		return fmt.Sprintf("action %q has an empty service prefix", pattern)
	case name == "":
		return fmt.Sprintf("action %q has an empty action name", pattern)
	}
	c := load()
	lowPrefix := asciiLower(prefix)
	if hasWildcard(lowPrefix) {
		if len(c.matchServices(lowPrefix)) == 0 {
			return fmt.Sprintf("no service prefix matches %q", prefix)
		}
		if actions, all := Expand(pattern); all && len(actions) == 0 {
			return fmt.Sprintf("no action of the services matching %q matches %q", prefix, name)
		}
		return ""
	}
	if !c.known[lowPrefix] {
		return fmt.Sprintf("unknown service prefix %q", prefix)
	}
	svc := c.cataloged[lowPrefix]
	if svc == nil {
		return ""
	}
	if len(svc.match(asciiLower(name))) == 0 {
		return fmt.Sprintf("no action of %s matches %q", svc.prefix, name)
	}
	return ""
}

// Services returns every known service prefix, sorted, including those of
// discontinued services (see KnownService).
func Services() []string {
	return append([]string(nil), load().services...)
}

// match returns the "prefix:Name" of every action whose lower-case name
// matches the lower-case glob, in name order.
func (s *service) match(glob string) []string {
	if !hasWildcard(glob) {
		if i, ok := s.byLower[glob]; ok {
			return []string{s.prefix + ":" + s.actions[i].name}
		}
		return nil
	}
	var out []string
	for _, a := range s.actions {
		if globMatch(glob, a.lower) {
			out = append(out, s.prefix+":"+a.name)
		}
	}
	return out
}

// matchServices returns the known prefixes matched by a lower-case glob.
func (c *catalog) matchServices(glob string) []string {
	var out []string
	for _, p := range c.services {
		if globMatch(glob, p) {
			out = append(out, p)
		}
	}
	return out
}

func hasWildcard(s string) bool {
	return strings.ContainsAny(s, "*?")
}

// asciiLower lower-cases ASCII letters only, so that no non-ASCII character
// can fold into an ASCII one.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// globMatch reports whether s matches pattern, where "*" matches any run of
// characters (including none) and "?" exactly one character.
func globMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
