package findings

import (
	"fmt"
	"strings"

	"github.com/ecs-audit/audit/policy"
)

var ruleER005 = register(&rule{RuleMeta: RuleMeta{
	ID:            "ER005",
	Title:         "A needed permission is granted only under conditions that cannot be confirmed",
	Severity:      Medium,
	SeverityRange: SeverityRange{Min: Low, Max: Medium},
	Description: "The execution role is allowed a permission the task needs only when condition keys have values that cannot be known statically " +
		"(aws:SourceVpce, aws:ResourceTag/…, kms:ViaService…), only if a resource policy that was not collected also allows it " +
		"(cross-account resources, KMS key policies, the ECR registry policy), only for some values of a part of the resource that is not known " +
		"(a secret's 6-character suffix), or while a policy that applies was not collected and may deny it (an identity policy, an SCP or RCP level, " +
		"a secret's resource policy). Medium, or the need's own lower severity when its denial would be low (a permission the task can start without).",
	Why:         "Whether the task starts depends on the network path or on a policy outside the scan. When the condition does not hold, the task fails at start.",
	Remediation: "Confirm the named conditions hold for the agent's or Fargate's calls (for example that Fargate's ecr:GetAuthorizationToken does not carry aws:SourceVpce conditions), or grant the need unconditionally on the exact resource.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html",
	},
	Tags:      []string{"availability", "ecs", "iam", "indeterminate"},
	Precision: "medium",
}, check: checkER005})

func checkER005(e *evaluation, r *rule) {
	for _, t := range e.tds {
		for i, n := range t.needs {
			d := t.decs[i]
			if d == nil {
				continue
			}
			var why string
			switch {
			case d.Decision == policy.Indeterminate:
				keys := unknownKeyList(*d)
				if len(d.UnknownKeys) == 0 {
					why = d.Reason
				} else {
					why = "it depends on the values of " + keys
				}
			case d.Decision == policy.ImplicitDeny && n.altGrantor != "" && d.DecidingLayer == policy.LayerIdentity:
				why = "the identity policies do not allow it; " + n.altGrantor + " may, but it was not collected"
			default:
				continue
			}
			// The severity model (README): a need that cannot be
			// confirmed may stop the task, whatever the unknown is (a
			// condition key, a policy outside the scan or not collected,
			// an unresolved suffix): medium, so that --fail-on medium
			// never passes it. Only a need whose denial is itself below
			// medium (ecr:BatchCheckLayerAvailability, which a task can
			// start without) keeps that lower severity.
			sev := Medium
			if n.severity.Rank() < Medium.Rank() {
				sev = n.severity
			}
			need := n.Need
			msg := fmt.Sprintf("Whether execution role %s of task definition %s in %s may call %s on %s (for %s, container %q, %s) cannot be confirmed: %s.",
				t.exec.arn(), tdLabel(t), where(t.account.ID, t.region), n.Action, n.Resource, n.Feature, n.Container, n.FieldPath, why)
			facts := map[string]string{"fieldPath": n.FieldPath}
			if len(d.UnknownKeys) > 0 {
				var ks []string
				for _, k := range d.UnknownKeys {
					ks = append(ks, k.Key)
				}
				facts["unknownKeys"] = strings.Join(ks, ", ")
			}
			r.emit(e, Finding{
				Severity: sev, Message: msg,
				AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
				TaskDefinitionARN: t.td.ARN, RoleARN: t.execARN, Container: n.Container,
				Evidence: Evidence{Need: &need, Decision: d, Facts: facts, SuggestedPolicy: leastPrivilege([]Need{n.Need})},
			}, n.Action+"|"+n.Resource+"|"+n.FieldPath)
		}
	}
}
