package findings

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ecs-audit/audit/internal/awsactions"
	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// evaluateNeeds decides every need the execution role serves.
func (e *evaluation) evaluateNeeds(t *tdInfo) {
	if t.exec == nil {
		return
	}
	for i := range t.needs {
		n := &t.needs[i]
		if n.ServedBy != ServedByExecutionRole || n.Invalid {
			continue
		}
		r := e.decide(t, n)
		t.decs[i] = &r
	}
}

// decide evaluates one need with the role's policies, the boundary, the SCPs
// on the account's path, the RCPs and the resource policy where known, and
// fails closed where a policy that exists was not collected: whatever the
// collected policies allow, the uncollected one may deny.
func (e *evaluation) decide(t *tdInfo, n *derivedNeed) policy.Result {
	r := e.decideCollected(t, n)
	if r.Decision != policy.Allowed && r.Decision != policy.Indeterminate {
		return r // denied whatever the uncollected policies say
	}
	ri := t.exec
	svc, _, _ := strings.Cut(n.Action, ":")
	resAcct := n.resourceAccount
	if resAcct == "" {
		resAcct = t.account.ID
	}
	var unknown []string
	layer := policy.Layer("")
	add := func(l policy.Layer, what string) {
		if layer == "" {
			layer = l
		}
		unknown = append(unknown, what)
	}
	if lv := e.scpLevels(ri.account); lv.incomplete != "" {
		add(policy.LayerSCP, lv.incomplete)
	}
	if rcpServices[svc] {
		if ra := e.accounts[resAcct]; ra != nil {
			if lv := e.rcpLevels(ra); lv.incomplete != "" {
				add(policy.LayerRCP, lv.incomplete)
			}
		}
	}
	if len(ri.unavailable) > 0 {
		add(policy.LayerIdentity, "identity policy "+strings.Join(ri.unavailable, ", ")+" was not collected")
	}
	if len(ri.unreadableMayDeny) > 0 {
		add(policy.LayerIdentity, "identity policy "+strings.Join(ri.unreadableMayDeny, ", ")+" could not be read (see PL001) and holds a Deny statement")
	}
	// Across accounts a resource policy that was not collected already
	// makes the decision indeterminate; in the same account it may still
	// deny.
	if svc == "secretsmanager" && resAcct == ri.account.ID {
		if s := e.res.secretByARN(n.Resource); s != nil && e.secretPolicy(s) == nil && s.EffectivePolicyStatus(e.res.failed) != inventory.PolicyNone {
			add(policy.LayerResourcePolicy, "the resource policy of secret "+s.ARN+" was not collected")
		}
	}
	if len(unknown) == 0 {
		return r
	}
	why := strings.Join(unknown, "; ")
	if r.Decision == policy.Indeterminate {
		r.Reason += "; moreover " + why + ", and it may deny the request"
		return r
	}
	return policy.Result{Decision: policy.Indeterminate, DecidingLayer: layer,
		Reason:     "the collected policies allow it (" + r.Reason + "), but " + why + ", and it may deny the request",
		Statements: r.Statements, Outcomes: &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ExplicitDeny}}
}

// secretPolicy is the parsed resource policy of a secret whose policy was
// collected, or nil.
func (e *evaluation) secretPolicy(s *inventory.Secret) *policy.NamedPolicy {
	if s.EffectivePolicyStatus(e.res.failed) != inventory.PolicyCollected {
		return nil
	}
	return e.resourcePolicy("secret-policy:"+s.Name, s.ResourcePolicy, "resource policy of secret "+s.ARN)
}

// resourcePolicy parses a collected resource policy once. One that cannot
// be parsed is as good as not collected (a coverage gap).
func (e *evaluation) resourcePolicy(name, doc, what string) *policy.NamedPolicy {
	key := name + "\x00" + doc
	if np, ok := e.rpCache[key]; ok {
		return np
	}
	var np *policy.NamedPolicy
	if p, err := policy.ParseString(name, doc); err == nil {
		np = &policy.NamedPolicy{Name: name, Policy: p}
	} else {
		e.gaps = append(e.gaps, fmt.Sprintf("%s could not be parsed, so it is treated as not collected: %v", what, err))
	}
	e.rpCache[key] = np
	return np
}

// decideCollected is decide on what was collected, with the resource
// policy's status: given, known to be absent, or not collected.
func (e *evaluation) decideCollected(t *tdInfo, n *derivedNeed) policy.Result {
	ri := t.exec
	svc, _, _ := strings.Cut(n.Action, ":")
	resAcct := n.resourceAccount
	if resAcct == "" {
		resAcct = t.account.ID
	}
	in := e.input(ri, svc, resAcct)
	in.ResourceAccount = resAcct
	// A resource policy that was collected is evaluated; one known to be
	// absent is a fact (across accounts nothing grants); one not collected
	// (or not resolved) is not provided, which the engine reports as
	// indeterminate wherever it is needed.
	switch svc {
	case "secretsmanager":
		if s := e.res.secretByARN(n.Resource); s != nil {
			in.ResourcePolicy = e.secretPolicy(s)
			in.ResourcePolicyAbsent = s.EffectivePolicyStatus(e.res.failed) == inventory.PolicyNone
		}
	case "ssm":
		// A parameter's resource policy shares it with other accounts.
		if p := e.res.parameterByARN(n.Resource); p != nil {
			switch p.EffectivePolicyStatus() {
			case inventory.PolicyCollected:
				in.ResourcePolicy = e.resourcePolicy("parameter-policy:"+p.Name, p.ResourcePolicy, "resource policy of parameter "+p.Name)
			case inventory.PolicyNone:
				in.ResourcePolicyAbsent = true
			}
		}
	case "kms":
		in.ResourcePolicyKind = policy.ResourcePolicyKMSKey
		if k := e.res.kmsKey(n.Resource, resAcct, n.resourceRegion); k != nil {
			switch k.EffectivePolicyStatus() {
			case inventory.PolicyCollected:
				in.ResourcePolicy = e.resourcePolicy("key-policy:"+k.KeyID, k.Policy, "key policy of "+k.ARN)
			case inventory.PolicyNone:
				// Every KMS key has a key policy (the snapshot loader
				// rejects a key without one); an inventory that says
				// otherwise describes a key nothing can open.
				in.ResourcePolicyAbsent = true
			}
		}
	}
	ctx := e.requestContext(t, n)
	req := policy.Request{Principal: ri.arn(), Action: n.Action, Context: ctx}
	r := evaluateReadings(in, &req, &n.Need)
	// Policies that were not collected make certain answers uncertain.
	if r.Decision == policy.Allowed && ri.boundaryUnavailable != "" {
		return policy.Result{Decision: policy.Indeterminate, DecidingLayer: policy.LayerBoundary,
			Reason:     "the identity policies allow it, but the permissions boundary " + ri.boundaryUnavailable + " could not be evaluated (not collected or not readable)",
			Statements: r.Statements, Outcomes: &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ImplicitDeny}}
	}
	if r.Decision == policy.ImplicitDeny && r.DecidingLayer == policy.LayerIdentity && len(ri.unavailable) > 0 {
		return policy.Result{Decision: policy.Indeterminate, DecidingLayer: policy.LayerIdentity,
			Reason:   "no collected identity policy allows it, but attached policy " + strings.Join(ri.unavailable, ", ") + " was not collected and may",
			Outcomes: &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ImplicitDeny}}
	}
	if r.Decision == policy.Allowed || r.Decision == policy.ExplicitDeny {
		return r
	}
	// CreateLogStream: current authorization is on the stream ARN, older on
	// the group ARN (ecs-facts §1.4, UNCONFIRMED which applies): allowed on
	// the group only is indeterminate, not a failure.
	if n.groupARN != "" && r.Decision == policy.ImplicitDeny {
		req.Resource, req.ResourceUnknown = n.groupARN, nil
		if alt := policy.Evaluate(in, req); alt.Decision == policy.Allowed {
			return policy.Result{Decision: policy.Indeterminate, DecidingLayer: r.DecidingLayer,
				Reason:     "allowed on the log group ARN " + n.groupARN + " but not on the log stream ARN; which of the two AWS authorizes for CreateLogStream is not confirmed",
				Statements: alt.Statements, Outcomes: &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ImplicitDeny}}
		}
	}
	return r
}

// requestContext is what is known of the request the agent (or Fargate)
// makes with the execution role's credentials.
func (e *evaluation) requestContext(t *tdInfo, n *derivedNeed) *policy.Context {
	ri := t.exec
	c := policy.NewContext()
	c.Set("aws:PrincipalArn", ri.arn())
	c.Set("aws:PrincipalAccount", ri.account.ID)
	c.Set("aws:PrincipalType", "AssumedRole")
	c.Set("aws:PrincipalIsAWSService", "false")
	// The agent calls ECR, CloudWatch Logs, Secrets Manager, SSM and S3
	// itself; KMS is called by Secrets Manager or SSM on the role's behalf,
	// so for kms:Decrypt aws:ViaAWSService (and aws:CalledVia) are not known.
	if !strings.HasPrefix(n.Action, "kms:") {
		c.Set("aws:ViaAWSService", "false")
	}
	c.Set("aws:SecureTransport", "true")
	c.SetAbsent("aws:username")
	c.SetAbsent("aws:MultiFactorAuthPresent")
	c.SetAbsent("aws:MultiFactorAuthAge")
	c.Set("aws:CurrentTime", e.now.UTC().Format("2006-01-02T15:04:05Z"))
	c.Set("aws:EpochTime", strconv.FormatInt(e.now.Unix(), 10))
	if org := e.inv.Organization; org != nil && len(ri.account.Path) > 0 {
		c.Set("aws:PrincipalOrgID", org.ID)
	}
	for k, v := range ri.role.Tags {
		c.Set("aws:PrincipalTag/"+k, v)
	}
	c.SetAbsentPrefix("aws:PrincipalTag/")
	// The region of the call: the resource's. An S3 bucket's region is not
	// in its ARN; it is taken to be the task's region (documented
	// assumption: the usual layout, and what a region-restricting SCP expects).
	region := n.resourceRegion
	if region == "" {
		region = t.region
	}
	if region != "" {
		c.Set("aws:RequestedRegion", region)
	}
	if n.resourceAccount != "" {
		c.Set("aws:ResourceAccount", n.resourceAccount)
	}
	// On Fargate GetAuthorizationToken leaves through an ENI Fargate owns, not
	// the task's, so it never arrives through the task's VPC endpoint
	// (ecs-facts §1.3). For every other call the route is not known.
	if n.Action == "ecr:GetAuthorizationToken" && t.host.Fargate && !t.host.EC2 && !t.host.External {
		c.SetAbsent("aws:SourceVpce")
		c.SetAbsent("aws:SourceVpc")
	}
	return c
}

// unknownActions lists statements' actions that name no existing action
// (PL001): a typo grants nothing.
func unknownActions(name string, p *policy.Policy) []policyProblem {
	var out []policyProblem
	for _, s := range p.Statements {
		for _, list := range [][]string{s.Actions, s.NotActions} {
			for _, a := range list {
				if msg := awsactions.Check(a); msg != "" {
					out = append(out, policyProblem{policy: name, kind: problemUnknownAction,
						detail: fmt.Sprintf("statement %s: %s", stmtLabel(s), msg), severity: Medium})
				}
			}
		}
	}
	return out
}

func stmtLabel(s *policy.Statement) string {
	if s.Sid != "" {
		return fmt.Sprintf("%d (Sid %q)", s.Index, s.Sid)
	}
	return strconv.Itoa(s.Index)
}
