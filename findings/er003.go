package findings

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ecs-audit/audit/policy"
)

var ruleER003 = &rule{RuleMeta: RuleMeta{
	ID:            "ER003",
	Title:         "Execution role's trust policy does not let ECS assume it",
	Severity:      Critical,
	SeverityRange: SeverityRange{Min: Medium, Max: Critical},
	Description: "The role's trust policy does not allow the service principal ecs-tasks.amazonaws.com to call sts:AssumeRole " +
		"(no matching Allow, an explicit Deny, or conditions that ECS's request cannot satisfy). One finding per role and outcome lists the " +
		"task definitions that use the role.",
	Why:         "ECS assumes the execution role for every task start. If it cannot, tasks stop at start and services stay at zero running tasks.",
	Remediation: "Add a statement to the trust policy: {\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ecs-tasks.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}, optionally with aws:SourceAccount / aws:SourceArn conditions naming your account.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
	},
	Tags:      []string{"availability", "ecs", "iam", "trust-policy"},
	Precision: "high",
}, check: checkER003}

func init() { register(ruleER003) }

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
		ResourcePolicy:     &policy.NamedPolicy{Name: trustPolicyName, Policy: ri.trust},
		ResourcePolicyKind: policy.ResourcePolicyTrust,
		ResourceAccount:    ri.account.ID,
	}
	return policy.Evaluate(in, policy.Request{Principal: ecsPrincipal, Action: "sts:AssumeRole", Resource: ri.arn(), Context: ctx})
}

// trustDecisionWith is trustDecision with statements added to the trust
// policy (a suggested fix, to prove it).
func (e *evaluation) trustDecisionWith(ri *roleInfo, doc json.RawMessage, account, region string) policy.Result {
	add := parseSuggested("suggested-trust", doc)
	merged := *ri
	p := &policy.Policy{Name: trustPolicyName, Version: add.Version, Statements: add.Statements}
	if ri.trust != nil {
		p.Statements = append(slices.Clone(ri.trust.Statements), add.Statements...)
	}
	merged.trust = p
	return e.trustDecision(&merged, account, region)
}

func checkER003(e *evaluation, r *rule) {
	type group struct {
		ri      *roleInfo
		outcome string
		tds     []*tdInfo
		decs    []policy.Result
	}
	var groups grouped[group]
	for _, t := range e.roleUsers() {
		ri := t.exec
		if ri == nil || (ri.trust == nil && !ri.trustUnavailable) {
			continue // a malformed trust policy is PL001
		}
		var d policy.Result
		outcome := trustDenied
		switch {
		case ri.trustUnavailable:
			// Not collected: whether ECS may assume the role is unknown
			// (fail closed, never a pass).
			d = policy.Result{Decision: policy.Indeterminate, DecidingLayer: policy.LayerResourcePolicy,
				Reason:   "the trust policy was not collected",
				Outcomes: &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ImplicitDeny}}
			outcome = trustNotCollected
		default:
			d = e.trustDecision(ri, t.account.ID, t.region)
			if d.Decision == policy.Allowed {
				continue
			}
			if d.Decision == policy.Indeterminate {
				outcome = trustConditions
			}
		}
		g := groups.get(ri.arn()+"|"+outcome, func() *group { return &group{ri: ri, outcome: outcome} })
		g.tds = append(g.tds, t)
		g.decs = append(g.decs, d)
	}
	for _, k := range groups.keys() {
		g := groups.m[k]
		ri := g.ri
		var labels, members []string
		var affected []ResourceRef
		for _, t := range g.tds {
			labels = append(labels, tdLabel(t))
			members = append(members, legacyTrustID(r.ID, t, ri.arn()))
			affected = append(affected, tdRef(t))
		}
		tds := count(len(labels), "task definition", "task definitions") + " (" + strings.Join(sortedCopy(labels), ", ") + ")"
		d := g.decs[0]
		f := Finding{AccountID: ri.account.ID, ResourceType: ResourceRole, ResourceARN: ri.arn(), RoleARN: ri.arn(), Affected: affected,
			Evidence: Evidence{Decision: &d, Facts: map[string]string{"principal": ecsPrincipal, "action": "sts:AssumeRole"}}}
		if len(g.tds) == 1 {
			f.TaskDefinitionARN = g.tds[0].td.ARN
		}
		doc := hardenedTrustPolicy(e.inv.Partition, ri.account.ID)
		proved := true
		for _, t := range g.tds {
			if e.trustDecisionWith(ri, doc, t.account.ID, t.region).Decision != policy.Allowed {
				proved = false
			}
		}
		switch g.outcome {
		case trustNotCollected:
			f.Severity = Medium
			f.Title = "Execution role's trust policy was not collected"
			f.Message = fmt.Sprintf("The trust policy of execution role %s in %s was not collected, so whether ecs-tasks.amazonaws.com may assume it for %s cannot be confirmed.",
				ri.arn(), e.accountLabel(ri.account.ID), tds)
			u := Unknown{Kind: UnknownTrustPolicy, Subject: ri.arn(), Description: "the trust policy of role " + ri.arn() + ", which was not collected",
				Settle: "Collect it: the scanning role needs iam:GetRole on " + ri.arn() + " (or iam:GetAccountAuthorizationDetails)."}
			f.Evidence.Unknowns = []Unknown{u}
			f.Fix = Fix{Layer: FixConfirm, Target: &FixTarget{Type: ResourceRole, ARN: ri.arn(), Name: ri.role.Name}, Summary: u.Settle}
		case trustConditions:
			f.Severity = Medium
			f.Title = "Execution role's trust policy lets ECS assume it only under conditions that cannot be confirmed"
			keys := unknownKeyList(d)
			f.Message = fmt.Sprintf("The trust policy of execution role %s in %s allows ecs-tasks.amazonaws.com only under conditions on %s, whose values for %s cannot be confirmed.",
				ri.arn(), e.accountLabel(ri.account.ID), keys, tds)
			u := Unknown{Kind: UnknownConditionKeys, Subject: keys, Description: "the values ECS sends for " + keys + " when it assumes the role",
				Settle: "Check the AssumeRole events of ecs-tasks.amazonaws.com for the role in CloudTrail: ECS's values of these keys for the execution role are not documented."}
			f.Evidence.Unknowns = []Unknown{u}
			f.Fix = Fix{Layer: FixConfirm, Target: &FixTarget{Type: ResourceRole, ARN: ri.arn(), Name: ri.role.Name}, Summary: u.Settle}
			if proved {
				f.Fix.Steps = []string{"Or use conditions that hold for every task of the account, as in the suggested trust policy (aws:SourceAccount, and aws:SourceArn for any ECS resource of account " + ri.account.ID + ")."}
				f.Fix.SuggestedPolicy, f.Fix.SuggestedPolicyLayer = doc, FixTrustPolicy
				f.Fix.SuggestedPolicyTarget = "the trust policy of role " + ri.arn() + " (replacing the ecs-tasks.amazonaws.com statement)"
			}
		default:
			var why string
			target := &FixTarget{Type: ResourceRole, ARN: ri.arn(), Name: ri.role.Name}
			if d.Decision == policy.ExplicitDeny && len(d.Statements) > 0 {
				why = "statement " + stmtID(d.Statements[0]) + " denies it explicitly"
				target.Statement = stmtKey(d.Statements[0])
				f.Fix = Fix{Layer: FixTrustPolicy, Target: target,
					Summary: "Narrow or remove statement " + stmtID(d.Statements[0]) + " of the trust policy of role " + ri.arn() + " so that it no longer denies ecs-tasks.amazonaws.com sts:AssumeRole."}
			} else {
				why = "no statement allows " + ecsPrincipal + " to call sts:AssumeRole"
				f.Fix = Fix{Layer: FixTrustPolicy, Target: target,
					Summary: "Add the suggested statement to the trust policy of role " + ri.arn() + ": it lets ecs-tasks.amazonaws.com assume the role for tasks of account " + ri.account.ID + " only."}
				if proved {
					f.Fix.SuggestedPolicy, f.Fix.SuggestedPolicyLayer = doc, FixTrustPolicy
					f.Fix.SuggestedPolicyTarget = "the trust policy of role " + ri.arn() + " (add this statement)"
				}
			}
			f.Title = "Execution role's trust policy does not let ECS assume it"
			f.Message = fmt.Sprintf("The trust policy of execution role %s in %s does not let ecs-tasks.amazonaws.com assume it (%s), so %s cannot start.",
				ri.arn(), e.accountLabel(ri.account.ID), why, tds)
		}
		r.emit(e, f, g.outcome, members...)
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
