package findings

import (
	"fmt"

	"github.com/ecs-audit/audit/policy"
)

var ruleER004 = register(&rule{RuleMeta: RuleMeta{
	ID:            "ER004",
	Title:         "Execution role is not granted a permission the task definition needs",
	Severity:      Critical,
	SeverityRange: SeverityRange{Min: Low, Max: Critical},
	Description: "A permission the task definition needs from its execution role (ECR pull, awslogs, a secret, a parameter, registry credentials, " +
		"an environment file, FireLens configuration, kms:Decrypt) is denied: no Allow in the identity policies, an explicit Deny, " +
		"the permissions boundary, an SCP level without an Allow, an RCP, or a resource policy.",
	Why: "The agent or Fargate makes these calls with the execution role before the containers start. A denied call stops the task with " +
		"ResourceInitializationError (for example 'not authorized to perform ssm:GetParameters'), and services stay at zero running tasks.",
	Remediation: "Grant the action on the resource shown in the evidence (the suggested policy is the narrowest that works), or remove the deny in the layer that decided.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
	},
	Tags:      []string{"availability", "ecs", "iam", "least-privilege"},
	Precision: "high",
}, check: checkER004})

func checkER004(e *evaluation, r *rule) {
	for _, t := range e.tds {
		for i, n := range t.needs {
			d := t.decs[i]
			invalid := n.Invalid
			if !invalid && (d == nil || (d.Decision != policy.ImplicitDeny && d.Decision != policy.ExplicitDeny)) {
				continue
			}
			if invalid && t.exec == nil {
				continue
			}
			if d != nil && n.altGrantor != "" && d.Decision == policy.ImplicitDeny && d.DecidingLayer == policy.LayerIdentity {
				continue // ER005: another, uncollected policy may grant it
			}
			sev := n.severity
			need := n.Need
			var msg string
			if invalid {
				msg = fmt.Sprintf("Task definition %s in %s references %q at %s: %s; the task cannot start.",
					tdLabel(t), where(t.account.ID, t.region), n.Resource, n.FieldPath, n.Note)
			} else {
				msg = fmt.Sprintf("Execution role %s of task definition %s in %s is not allowed %s on %s (needed for %s by container %q at %s): %s.",
					t.exec.arn(), tdLabel(t), where(t.account.ID, t.region), n.Action, n.Resource, n.Feature, n.Container, n.FieldPath, d.Reason)
			}
			if n.Optional && !invalid {
				msg += " " + n.Note
			}
			ev := Evidence{Need: &need, Decision: d, Facts: map[string]string{"fieldPath": n.FieldPath}}
			if !invalid {
				ev.SuggestedPolicy = leastPrivilege([]Need{n.Need})
			}
			roleARN := t.execARN
			r.emit(e, Finding{
				Severity: sev, Message: msg,
				AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
				TaskDefinitionARN: t.td.ARN, RoleARN: roleARN, Container: n.Container, Evidence: ev,
			}, n.Action+"|"+n.Resource+"|"+n.FieldPath)
		}
	}
}
