package findings

import (
	"fmt"
	"strings"
)

var rulePL001 = register(&rule{RuleMeta: RuleMeta{
	ID:            "PL001",
	Title:         "Execution role policy is malformed or names actions that do not exist",
	Severity:      High,
	SeverityRange: SeverityRange{Min: Medium, Max: High},
	Description: "A policy on an execution role (inline, attached managed, permissions boundary or trust policy) cannot be parsed as an IAM " +
		"policy (unknown elements, a bad Effect, a condition block that maps values instead of condition keys…), names an action or service " +
		"prefix that does not exist, or is attached but was not collected.",
	Why: "A malformed statement or a misspelled action grants nothing, so a permission the author meant to give is missing; the audit " +
		"cannot evaluate a policy it cannot read, so conclusions about the role are incomplete.",
	Remediation: "Fix the policy document as the evidence describes (IAM's policy validator in Access Analyzer reports the same problems) and re-run the audit.",
	Docs: []string{
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html",
		"https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html",
	},
	Tags:      []string{"correctness", "iam"},
	Precision: "very-high",
}, check: checkPL001})

func checkPL001(e *evaluation, r *rule) {
	for _, ri := range e.sortedRoles() {
		for _, p := range ri.problems {
			var what string
			switch p.kind {
			case problemMalformed:
				what = "is malformed"
			case problemUnknownAction:
				what = "names an action that does not exist"
			default:
				what = "is not available"
			}
			r.emit(e, Finding{
				Severity: p.severity,
				Message: fmt.Sprintf("Policy %s of execution role %s in %s %s: %s.",
					p.policy, ri.arn(), e.accountLabel(ri.account.ID), what, strings.TrimSuffix(p.detail, ".")),
				AccountID: ri.account.ID, ResourceType: ResourceRole, ResourceARN: ri.arn(), RoleARN: ri.arn(),
				Evidence: Evidence{Facts: map[string]string{"policy": p.policy, "problem": p.kind.String(), "detail": p.detail}},
			}, p.policy+"|"+p.kind.String()+"|"+p.detail)
		}
	}
}
