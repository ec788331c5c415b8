package report

import "github.com/ecs-audit/audit/findings"

// Reading a version 1 findings.json into the version 2 shape.
//
// Version 1 had one finding per item (a need, a constraint, an excess
// grant…) and no impact, fix or member IDs. Each version 1 finding is read
// as a root cause of its own, and only what its own fields say is added:
//
//   - memberIds: its own ID (what version 2 lists for a finding that
//     replaces a version 1 one), so that triage matches it either way;
//   - impact: its own resource, and its items: the excess grants of a role
//     (the one list version 1 had), else 1;
//   - fix: summary is its remediation. The layer is left empty: version 1
//     did not record where the fix is made, and a guess from the rule would
//     be a claim the file never made. Its suggested policy stays where
//     version 1 put it (evidence.suggestedPolicy): it was not proved against
//     the deciding layer, so it is not offered as fix.suggestedPolicy;
//   - summary.items and summary.affected, counted from the findings.
//
// An excess grant's kind, which version 1 did not record either, stays
// empty. Every other field is the file's, unchanged (docs/findings.md,
// "Version 1").
func upgradeV1(res *findings.Result) {
	list := make([]*findings.Finding, len(res.Findings))
	for i := range res.Findings {
		list[i] = &res.Findings[i]
		upgradeV1Finding(list[i])
	}
	res.Summary.Affected, res.Summary.Items = affectedCounts(list)
}

// upgradeV1Finding reads a version 1 finding as a root cause of its own.
func upgradeV1Finding(f *findings.Finding) {
	if len(f.MemberIDs) == 0 && f.ID != "" {
		f.MemberIDs = []string{f.ID}
	}
	f.Impact = v1Impact(f)
	f.Fix = findings.Fix{Summary: f.Remediation}
}

// v1Impact is the impact of a version 1 finding: its resource, and its
// excess grants when it lists them.
func v1Impact(f *findings.Finding) findings.Impact {
	one, many := resourceNoun(f.ResourceType)
	im := findings.Impact{Summary: countOf(1, one, many), Resources: map[string]int{f.ResourceType: 1}, Items: 1}
	if n := len(f.Evidence.Excess); n > 0 {
		im.Items, im.ItemKind = n, findings.ItemGrant
		one, many := itemNoun(findings.ItemGrant)
		im.Summary += "; " + countOf(n, one, many)
	}
	return im
}
