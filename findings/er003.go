package findings

import (
	"fmt"
	"strings"

	"github.com/ecs-audit/audit/policy"
)

var ruleER003 = register(&rule{RuleMeta: RuleMeta{
	ID:            "ER003",
	Title:         "Execution role's trust policy does not let ECS assume it",
	Severity:      Critical,
	SeverityRange: SeverityRange{Min: Medium, Max: Critical},
	Description: "The role's trust policy does not allow the service principal ecs-tasks.amazonaws.com to call sts:AssumeRole " +
		"(no matching Allow, an explicit Deny, or conditions that ECS's request cannot satisfy).",
	Why:         "ECS assumes the execution role for every task start. If it cannot, tasks stop at start and services stay at zero running tasks.",
	Remediation: "Add a statement to the trust policy: {\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ecs-tasks.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}, optionally with aws:SourceAccount / aws:SourceArn conditions naming your account.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
	},
	Tags:      []string{"availability", "ecs", "iam", "trust-policy"},
	Precision: "high",
}, check: checkER003})

// ecsPrincipal is the service principal that assumes execution roles.
const ecsPrincipal = "ecs-tasks.amazonaws.com"

// trustDecision evaluates the trust policy for ECS assuming the role on
// behalf of a task in account/region.
func (e *evaluation) trustDecision(ri *roleInfo, account, region string) policy.Result {
	ctx := policy.NewContext()
	// ECS is believed to send aws:SourceAccount and aws:SourceArn (the task's
	// account; an ECS ARN in it). Both are UNCONFIRMED for the execution
	// role (ecs-facts §3.3): the account is set, the ARN known only by prefix.
	ctx.Set("aws:SourceAccount", account)
	ctx.SetPrefix("aws:SourceArn", fmt.Sprintf("arn:%s:ecs:%s:%s:", e.inv.Partition, region, account))
	ctx.Set("aws:PrincipalIsAWSService", "true")
	ctx.Set("aws:PrincipalServiceName", ecsPrincipal)
	ctx.Set("aws:SecureTransport", "true")
	ctx.Set("aws:RequestedRegion", region)
	in := &policy.Input{
		ResourcePolicy:     &policy.NamedPolicy{Name: "trust-policy", Policy: ri.trust},
		ResourcePolicyKind: policy.ResourcePolicyTrust,
		ResourceAccount:    ri.account.ID,
	}
	return policy.Evaluate(in, policy.Request{Principal: ecsPrincipal, Action: "sts:AssumeRole", Resource: ri.arn(), Context: ctx})
}

func checkER003(e *evaluation, r *rule) {
	for _, t := range e.tds {
		ri := t.exec
		if ri == nil || (ri.trust == nil && !ri.trustUnavailable) {
			continue // a malformed trust policy is PL001
		}
		var d policy.Result
		if ri.trustUnavailable {
			// Not collected: whether ECS may assume the role is unknown
			// (fail closed, never a pass).
			d = policy.Result{Decision: policy.Indeterminate, DecidingLayer: policy.LayerResourcePolicy,
				Reason:   "the trust policy was not collected",
				Outcomes: &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ImplicitDeny}}
		} else {
			d = e.trustDecision(ri, t.account.ID, t.region)
		}
		sev := Critical
		var msg string
		switch {
		case d.Decision == policy.Allowed:
			continue
		case ri.trustUnavailable:
			sev = Medium
			msg = fmt.Sprintf("The trust policy of execution role %s was not collected, so whether ecs-tasks.amazonaws.com may assume it for task definition %s in %s cannot be confirmed.",
				ri.arn(), tdLabel(t), where(t.account.ID, t.region))
		case d.Decision == policy.Indeterminate:
			sev = Medium
			msg = fmt.Sprintf("The trust policy of execution role %s allows ecs-tasks.amazonaws.com only under conditions on %s, whose values for task definition %s in %s cannot be confirmed.",
				ri.arn(), unknownKeyList(d), tdLabel(t), where(t.account.ID, t.region))
		default:
			msg = fmt.Sprintf("The trust policy of execution role %s does not let ecs-tasks.amazonaws.com assume it (%s), so task definition %s in %s cannot start.",
				ri.arn(), d.Reason, tdLabel(t), where(t.account.ID, t.region))
		}
		r.emit(e, Finding{
			Severity: sev, Message: msg,
			AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
			TaskDefinitionARN: t.td.ARN, RoleARN: ri.arn(),
			Evidence: Evidence{Decision: &d, Facts: map[string]string{"principal": ecsPrincipal, "action": "sts:AssumeRole"}},
		}, ri.arn())
	}
}

func unknownKeyList(d policy.Result) string {
	var keys []string
	for _, k := range d.UnknownKeys {
		keys = append(keys, k.Key)
	}
	if len(keys) == 0 {
		return "context that is not known"
	}
	return strings.Join(keys, ", ")
}
