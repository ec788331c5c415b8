package findings

import (
	"maps"
	"slices"
)

// rule is a catalog entry: its metadata and its check. Each rule lives in a
// file of its own (er001.go, ...) and registers itself as a package
// variable (ruleER001, ...); a rule's findings are emitted through it
// (rule.emit), so their ID and default severity come from the metadata.
type rule struct {
	RuleMeta
	// check runs the rule on an evaluation. A rule whose facts another
	// rule's check reports (AG002 and AG003 inside AG001's per-instance
	// finding, see group.go) has none.
	check func(e *evaluation, r *rule)
}

var registry = map[string]*rule{}

// register adds a rule to the catalog and returns it.
func register(r *rule) *rule {
	if _, dup := registry[r.ID]; dup {
		panic("findings: rule registered twice: " + r.ID)
	}
	registry[r.ID] = r
	return r
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
// default unless the finding sets one), title and remediation when the
// finding has none, and its fingerprint from the cause key (group.go).
func (r *rule) emit(e *evaluation, f Finding, cause string) {
	f.RuleID = r.ID
	if f.Severity == "" {
		f.Severity = r.Severity
	}
	if f.Title == "" {
		f.Title = r.Title
	}
	if f.Remediation == "" {
		f.Remediation = r.Remediation
	}
	if f.AccountName == "" {
		if a := e.accounts[f.AccountID]; a != nil {
			f.AccountName = a.Name
		}
	}
	f.ID = Fingerprint(r.ID, f.AccountID, f.Region, f.ResourceARN, cause)
	e.findings = append(e.findings, f)
	if t := e.tdByARN[f.TaskDefinitionARN]; t != nil {
		t.findings++
	}
}
