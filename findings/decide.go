package findings

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ecs-audit/audit/internal/awsactions"
	"github.com/ecs-audit/audit/policy"
)

// evaluateNeeds decides every need the execution role serves.
func (e *evaluation) evaluateNeeds(t *tdInfo) {
	if t.exec == nil {
		return
	}
	for i := range t.needs {
		n := &t.needs[i]
		if n.ServedBy != ServedByExecutionRole || strings.HasPrefix(n.Note, "invalid reference") {
			continue
		}
		r := e.decide(t, n)
		t.decs[i] = &r
	}
}

// decide evaluates one need with the role's policies, the boundary, the SCPs
// on the account's path, the RCPs and the resource policy where known.
func (e *evaluation) decide(t *tdInfo, n *derivedNeed) policy.Result {
	ri := t.exec
	svc, _, _ := strings.Cut(n.Action, ":")
	resAcct := n.resourceAccount
	if resAcct == "" {
		resAcct = t.account.ID
	}
	in := e.input(ri, svc, resAcct)
	in.ResourceAccount = resAcct
	switch svc {
	case "secretsmanager":
		if s := e.res.secretByARN(n.Resource); s != nil && s.ResourcePolicy != "" {
			if p, err := policy.ParseString("secret-policy:"+s.Name, s.ResourcePolicy); err == nil {
				in.ResourcePolicy = &policy.NamedPolicy{Name: "secret-policy:" + s.Name, Policy: p}
			} else {
				e.gaps = append(e.gaps, fmt.Sprintf("resource policy of secret %s could not be parsed: %v", s.ARN, err))
			}
		}
	case "kms":
		in.ResourcePolicyKind = policy.ResourcePolicyKMSKey
		if k := e.res.kmsKey(n.Resource, resAcct, n.resourceRegion); k != nil && k.Policy != "" {
			if p, err := policy.ParseString("key-policy:"+k.KeyID, k.Policy); err == nil {
				in.ResourcePolicy = &policy.NamedPolicy{Name: "key-policy:" + k.KeyID, Policy: p}
			} else {
				e.gaps = append(e.gaps, fmt.Sprintf("key policy of %s could not be parsed: %v", k.ARN, err))
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
					out = append(out, policyProblem{policy: name, kind: "unknown-action",
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
