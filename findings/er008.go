package findings

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ecs-audit/audit/policy"
)

var ruleER008 = &rule{RuleMeta: RuleMeta{
	ID:            "ER008",
	Title:         "Execution role trust policy has no confused-deputy conditions",
	Severity:      Low,
	SeverityRange: SeverityRange{Min: Low, Max: Low},
	Description: "The trust policy statement that lets ecs-tasks.amazonaws.com assume the role has no aws:SourceAccount or aws:SourceArn " +
		"condition.",
	Why: "Without them, the ECS service may assume the role on behalf of any account's task definition that names it (the confused-deputy " +
		"problem). ECS documents these conditions for task roles; for execution roles they are optional hardening and their absence does not " +
		"stop tasks.",
	Remediation: "Add \"Condition\": {\"StringEquals\": {\"aws:SourceAccount\": \"<account>\"}, \"ArnLike\": {\"aws:SourceArn\": \"arn:aws:ecs:*:<account>:*\"}} to the trust statement.",
	Docs: []string{
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
	},
	Tags:      []string{"security", "hardening", "trust-policy"},
	Precision: "very-high",
}, check: checkER008}

func init() { register(ruleER008) }

func checkER008(e *evaluation, r *rule) {
	for _, ri := range e.sortedRoles() {
		if ri.trust == nil {
			continue
		}
		t := ri.usedBy[0]
		d := e.trustDecision(ri, t.account.ID, t.region)
		if d.Decision != policy.Allowed {
			continue // ER003 reports it
		}
		hardened := false
		for _, ref := range d.Statements {
			if ref.Index < len(ri.trust.Statements) {
				for _, k := range ri.trust.Statements[ref.Index].ConditionKeys() {
					if strings.EqualFold(k, "aws:SourceAccount") || strings.EqualFold(k, "aws:SourceArn") {
						hardened = true
					}
				}
			}
		}
		if hardened {
			continue
		}
		var affected []ResourceRef
		for _, u := range ri.usedBy {
			affected = append(affected, tdRef(u))
		}
		doc := hardenedTrustPolicy(e.inv.Partition, ri.account.ID)
		r.emit(e, Finding{
			Message: fmt.Sprintf("The trust policy of execution role %s in %s lets ecs-tasks.amazonaws.com assume it without aws:SourceAccount or aws:SourceArn conditions.",
				ri.arn(), e.accountLabel(ri.account.ID)),
			AccountID: ri.account.ID, ResourceType: ResourceRole, ResourceARN: ri.arn(), RoleARN: ri.arn(), Affected: affected,
			Evidence: Evidence{Decision: &d},
			Fix: Fix{Layer: FixTrustPolicy, Target: &FixTarget{Type: ResourceRole, ARN: ri.arn(), Name: ri.role.Name, Statement: stmtKeyOf(d)},
				Summary:         "Add aws:SourceAccount and aws:SourceArn conditions naming account " + ri.account.ID + " to the trust statement that lets ecs-tasks.amazonaws.com assume the role, as in the suggested trust policy.",
				SuggestedPolicy: doc, SuggestedPolicyLayer: FixTrustPolicy, SuggestedPolicyTarget: "the trust policy of role " + ri.arn() + " (replacing the ecs-tasks.amazonaws.com statement)"},
		}, "", Fingerprint(r.ID, ri.account.ID, "", ri.arn(), ""))
	}
}

// hardenedTrustPolicy is the trust policy that lets ECS assume an execution
// role for tasks of its own account only.
func hardenedTrustPolicy(partition, account string) json.RawMessage {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid": "EcsTasksAssumeRole", "Effect": "Allow",
			"Principal": map[string]any{"Service": ecsPrincipal},
			"Action":    "sts:AssumeRole",
			"Condition": map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": account},
				"ArnLike":      map[string]any{"aws:SourceArn": "arn:" + partition + ":ecs:*:" + account + ":*"},
			},
		}},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // plain maps of strings cannot fail to marshal
	}
	return b
}

// stmtKeyOf is the Sid or #index of the first statement of a decision.
func stmtKeyOf(d policy.Result) string {
	if len(d.Statements) == 0 {
		return ""
	}
	return stmtKey(d.Statements[0])
}
