package findings

import (
	"maps"
	"slices"
)

// rule is a catalog entry: its metadata and its check. Each rule lives in a
// file of its own (er001.go, ...) as a package variable (ruleER001, ...)
// that the file's init registers; a rule's findings are emitted through it
// (rule.emit), so their ID and default severity come from the metadata.
type rule struct {
	RuleMeta
	// check runs the rule on an evaluation. A rule whose facts another
	// rule's check reports (AG002 and AG003 inside AG001's per-instance
	// finding, see group.go) has none.
	check func(e *evaluation, r *rule)
}

var registry = map[string]*rule{}

// register adds a rule to the catalog.
func register(r *rule) {
	if _, dup := registry[r.ID]; dup {
		panic("findings: rule registered twice: " + r.ID)
	}
	registry[r.ID] = r
}

// Catalog returns every rule's metadata, sorted by ID.
func Catalog() []RuleMeta {
	out := make([]RuleMeta, 0, len(registry))
	for _, id := range slices.Sorted(maps.Keys(registry)) {
		out = append(out, registry[id].RuleMeta)
	}
	return out
}

// Rule returns one rule's metadata.
func Rule(id string) (RuleMeta, bool) {
	r, ok := registry[id]
	if !ok {
		return RuleMeta{}, false
	}
	return r.RuleMeta, true
}

// emit records a finding of the rule: its rule ID, its severity (the rule's
// default unless the finding sets one), its title when it has none, its
// fingerprint from the cause key and the schema version 1 IDs of the items
// it covers (group.go), its impact, and its remediation text from its fix.
func (r *rule) emit(e *evaluation, f Finding, cause string, members ...string) {
	f.RuleID = r.ID
	if f.Severity == "" {
		f.Severity = r.Severity
	}
	if f.Title == "" {
		f.Title = r.Title
	}
	if f.AccountName == "" {
		if a := e.account(f.AccountID); a != nil {
			f.AccountName = a.Name
		}
	}
	f.ID = Fingerprint(r.ID, f.AccountID, f.Region, f.ResourceARN, cause)
	f.MemberIDs = slices.Compact(slices.Sorted(slices.Values(members)))
	f.Affected = sortRefs(f.Affected)
	f.Impact = impactOf(&f)
	f.Remediation = f.Fix.text()
	if f.Remediation == "" {
		f.Remediation = r.Remediation
	}
	f.Evidence.SuggestedPolicy = f.Fix.SuggestedPolicy
	e.findings = append(e.findings, f)
	// Each task definition counts the findings that affect it.
	counted := map[*tdInfo]bool{}
	for _, arn := range append([]string{f.TaskDefinitionARN, f.ResourceARN}, refARNs(f.Affected)...) {
		if t := e.tdByARN[arn]; t != nil && !counted[t] {
			counted[t] = true
			t.findings++
		}
	}
}

func refARNs(refs []ResourceRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.ARN
	}
	return out
}
