package findings

import (
	"fmt"
	"slices"
	"strings"
)

var rulePL001 = &rule{RuleMeta: RuleMeta{
	ID:            "PL001",
	Title:         "Execution role policy is malformed, names actions that do not exist, or was not collected",
	Severity:      High,
	SeverityRange: SeverityRange{Min: Medium, Max: High},
	Description: "A policy on an execution role (inline, attached managed, permissions boundary or trust policy) cannot be parsed as an IAM " +
		"policy (unknown elements, a bad Effect, a condition block that maps values instead of condition keys…), names an action or service " +
		"prefix that does not exist, or is attached but was not collected. One finding per policy: a managed policy's problems once, with the execution " +
		"roles it is attached to; an inline or trust policy's on its role.",
	Why: "A malformed statement or a misspelled action grants nothing, so a permission the author meant to give is missing; the audit " +
		"cannot evaluate a policy it cannot read, so conclusions about the role are incomplete.",
	Remediation: "Fix the policy document as the evidence describes (IAM's policy validator in Access Analyzer reports the same problems) and re-run the audit.",
	Docs: []string{
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html",
		"https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html",
	},
	Tags:      []string{"correctness", "iam"},
	Precision: "very-high",
}, check: checkPL001}

func init() { register(rulePL001) }

func checkPL001(e *evaluation, r *rule) {
	type group struct {
		account   string
		name, arn string
		roles     []*roleInfo
		problems  []policyProblem
		members   []string
	}
	var groups grouped[group]
	for _, ri := range e.sortedRoles() {
		for _, p := range ri.problems {
			// A managed policy is one resource, whatever it is attached to;
			// an inline or trust policy belongs to its role.
			key := ri.account.ID + "|" + ri.arn() + "|" + p.policy
			if p.arn != "" {
				key = ri.account.ID + "|" + p.arn
			}
			g := groups.get(key, func() *group { return &group{account: ri.account.ID, name: p.policy, arn: p.arn} })
			if !slices.Contains(g.roles, ri) {
				g.roles = append(g.roles, ri)
			}
			if !slices.ContainsFunc(g.problems, func(q policyProblem) bool { return q.kind == p.kind && q.detail == p.detail }) {
				g.problems = append(g.problems, p)
			}
			g.members = append(g.members, legacyPolicyID(r.ID, ri, p))
		}
	}
	for _, key := range groups.keys() {
		g := groups.m[key]
		f := Finding{AccountID: g.account, Severity: Info}
		probs := g.problems
		slices.SortStableFunc(probs, func(a, b policyProblem) int { return b.severity.Rank() - a.severity.Rank() })
		var public []PolicyProblem
		for _, p := range probs {
			public = append(public, PolicyProblem{Kind: p.kind.String(), Detail: p.shown, Severity: p.severity})
			if p.severity.Rank() > f.Severity.Rank() {
				f.Severity = p.severity
			}
		}
		var roleARNs []string
		for _, ri := range g.roles {
			roleARNs = append(roleARNs, ri.arn())
		}
		subject := g.roles[0].sources[g.name].phrase
		if g.arn != "" {
			f.ResourceType, f.ResourceARN = ResourcePolicy, g.arn
			subject = "Policy " + g.arn
			if !slices.Contains(g.roles[0].role.AttachedPolicies, g.arn) {
				subject = "Permissions boundary " + g.arn
			}
			for _, ri := range g.roles {
				f.Affected = append(f.Affected, ResourceRef{Type: ResourceRole, ARN: ri.arn(), Name: ri.role.Name})
			}
			f.Message = fmt.Sprintf("%s, attached to execution %s %s in %s, %s.", subject, plural(len(roleARNs), "role", "roles"),
				listAnd(roleARNs), e.accountLabel(g.account), problemsPhrase(probs))
		} else {
			ri := g.roles[0]
			f.ResourceType, f.ResourceARN, f.RoleARN = ResourceRole, ri.arn(), ri.arn()
			f.Message = fmt.Sprintf("%s of execution role %s in %s %s.", capitalize(subject), ri.arn(), e.accountLabel(g.account), problemsPhrase(probs))
		}
		if len(g.roles) == 1 {
			f.RoleARN = g.roles[0].arn()
		}
		f.Title = problemsTitle(probs)
		f.Evidence = Evidence{Problems: public, Facts: map[string]string{"policy": g.name}}
		f.Fix = policyFix(g.roles[0], g.name, g.arn, probs)
		cause := g.name
		if g.arn != "" {
			cause = ""
		}
		r.emit(e, f, cause, g.members...)
	}
}

// problemsPhrase: "is malformed (…)", "names actions that do not exist
// (…)", "was not collected, so what it says is unknown".
func problemsPhrase(probs []policyProblem) string {
	by := map[problemKind][]string{}
	var kinds []problemKind
	for _, p := range probs {
		if _, ok := by[p.kind]; !ok {
			kinds = append(kinds, p.kind)
		}
		by[p.kind] = append(by[p.kind], strings.TrimSuffix(p.shown, "."))
	}
	var parts []string
	for _, k := range kinds {
		details := by[k]
		switch k {
		case problemMalformed:
			parts = append(parts, "is malformed ("+strings.Join(details, "; ")+")")
		case problemUnknownAction:
			parts = append(parts, "names "+plural(len(details), "an action that does not exist", "actions that do not exist")+" ("+strings.Join(details, "; ")+")")
		case problemMissing:
			parts = append(parts, "was not collected, so what it says is unknown")
		}
	}
	return listAnd(parts)
}

func problemsTitle(probs []policyProblem) string {
	kinds := map[problemKind]bool{}
	for _, p := range probs {
		kinds[p.kind] = true
	}
	switch {
	case len(kinds) > 1:
		return "Execution role policy is malformed, names actions that do not exist, or was not collected"
	case kinds[problemMalformed]:
		return "Execution role policy is malformed"
	case kinds[problemUnknownAction]:
		return "Execution role policy names actions that do not exist"
	}
	return "Execution role policy was not collected"
}

// policyFix: fix the document, or collect it.
func policyFix(ri *roleInfo, name, arn string, probs []policyProblem) Fix {
	target := &FixTarget{Type: ResourcePolicy, ARN: arn}
	src := ri.sources[name]
	if arn != "" {
		src = ri.sources[arn]
		if !slices.Contains(ri.role.AttachedPolicies, arn) {
			src = ri.sources["boundary:"+arn]
		}
	}
	layer := FixIdentity
	switch src.kind {
	case sourceInline:
		target = &FixTarget{Type: TargetInlinePolicy, Name: src.name, Role: ri.arn()}
	case sourceTrust:
		target, layer = &FixTarget{Type: ResourceRole, ARN: ri.arn(), Name: ri.role.Name}, FixTrustPolicy
	case sourceBoundary:
		layer = FixBoundary
	}
	fix := Fix{Layer: layer, Target: target}
	var collect, edit bool
	for _, p := range probs {
		switch p.kind {
		case problemMalformed:
			edit = true
			fix.Steps = append(fix.Steps, "Fix the document: "+strings.TrimSuffix(p.shown, ".")+".")
		case problemUnknownAction:
			edit = true
			fix.Steps = append(fix.Steps, "Correct the action: "+strings.TrimSuffix(p.shown, ".")+".")
		case problemMissing:
			collect = true
		}
	}
	if edit {
		fix.Summary = "Correct " + src.phrase + " so that it parses and names only existing actions (IAM Access Analyzer's policy validation reports the same problems), then run the audit again."
	}
	if collect {
		perm := "iam:GetPolicy and iam:GetPolicyVersion on " + arn
		switch src.kind {
		case sourceInline:
			perm = "iam:GetRolePolicy on role " + ri.arn()
		case sourceTrust:
			perm = "iam:GetRole on role " + ri.arn()
		}
		fix.Layer = FixConfirm
		fix.Summary = strings.TrimSpace(fix.Summary + " Collect " + src.phrase + ": the scanning role needs " + perm + " (or iam:GetAccountAuthorizationDetails), then run the audit again.")
	}
	return fix
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
