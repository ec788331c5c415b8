package findings

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ecs-audit/audit/internal/awsactions"
	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// verdict is the decision on one need: the policy engine's result, what
// an unconfirmable result hangs on, and what the engine was given (so that
// a fix can be proved by evaluating again with it applied).
type verdict struct {
	policy.Result
	// unknowns are, for an Indeterminate decision, everything it depends
	// on: condition keys, a part of the resource, policies that were not
	// collected. Sorted by kind and subject; never empty when Indeterminate.
	unknowns []Unknown
	in       *policy.Input
	rp       rpInfo
	// ctx is the request context the decision was made with, path the
	// network path it was decided on (network.go; nil when none is known).
	ctx  *policy.Context
	path *netPath
}

// rpInfo is the resource policy that applies to a need's resource.
type rpInfo struct {
	// resource is the resource whose policy applies: a secret, a KMS key,
	// a parameter, an ECR repository; "" when none is evaluated.
	resource string
	// service is the resource's service prefix (secretsmanager, kms, ssm,
	// ecr).
	service string
	kind    policy.ResourcePolicyKind
	// provided: a policy was given to the engine; absent: it is known that
	// there is none.
	provided, absent bool
	// account is the resource's account; cross: another account than the
	// role's.
	account string
	cross   bool
	// members are, for an ECR or S3 need, the policies of the layer, each
	// with what is known of it (several for an import through a
	// pull-through cache rule: the registry policy, then the repository
	// policy). A fix adds its statement to the first.
	members []rpMember
}

// rpKind is what a policy of the resource-policy layer is attached to.
type rpKind int

const (
	rpRepository rpKind = iota // an ECR repository policy
	rpRegistry                 // an ECR private registry permissions policy
	rpBucket                   // an S3 bucket policy
)

// rpMember is one policy of the resource-policy layer of an ECR or S3 need.
type rpMember struct {
	kind rpKind
	// name is the policy's name as given to the engine:
	// repository-policy:<name>, registry-policy:<account>,
	// bucket-policy:<bucket>.
	name string
	// target is the repository's or bucket's ARN ("" for a registry);
	// account and region the owner's.
	target, account, region string
	// status is inventory.PolicyCollected, PolicyNone or
	// PolicyNotCollected as recorded, or "" when nothing was recorded.
	status string
	// uncreated: a repository the first pull through a cache rule creates
	// in another account, whose policy comes from the registry's
	// repository creation template.
	uncreated bool
}

// phrase names the policy in a sentence.
func (m rpMember) phrase() string {
	switch m.kind {
	case rpRegistry:
		return "the registry policy of account " + m.account + " (" + m.region + ")"
	case rpBucket:
		return "the bucket policy of " + m.target
	}
	return "the repository policy of " + m.target
}

// key identifies the policy however its statements change: the
// repository's or bucket's ARN, the registry's account and region.
func (m rpMember) key() string {
	if m.kind == rpRegistry {
		return "registry:" + m.account + ":" + m.region
	}
	return m.target
}

// fixTarget is the FixTarget of the policy (stmt: the statement to change,
// if any).
func (m rpMember) fixTarget(stmt string) *FixTarget {
	if m.kind == rpRegistry {
		return &FixTarget{Type: TargetRegistry, ID: m.account, Name: m.region, Statement: stmt}
	}
	return &FixTarget{Type: TargetResource, ARN: m.target, Statement: stmt}
}

// owner names what the policy is attached to: "repository ARN", "the
// registry of account A (region)", "bucket ARN".
func (m rpMember) owner() string {
	switch m.kind {
	case rpRegistry:
		return "the registry of account " + m.account + " (" + m.region + ")"
	case rpBucket:
		return "bucket " + m.target
	}
	return "repository " + m.target
}

// none says that there is no such policy.
func (m rpMember) none() string {
	return m.owner() + " has no " + m.noun()
}

// style is how a statement added to the layer names its resources.
func (rp rpInfo) style() statementStyle {
	switch {
	case rp.kind == policy.ResourcePolicyKMSKey:
		return styleKeyPolicy
	case len(rp.members) > 0 && rp.members[0].kind == rpRepository:
		return styleRepositoryPolicy
	}
	return styleResources
}

// noun is what the policy is called.
func (m rpMember) noun() string {
	switch m.kind {
	case rpRegistry:
		return "registry policy"
	case rpBucket:
		return "bucket policy"
	}
	return "repository policy"
}

// mayGrant: a policy of the layer that was not collected may grant what
// the others do not. The registry policy is the documented grantor of a
// pull-through cache import, so it counts without a record too; another
// policy counts when its read is recorded as failed.
func (m rpMember) mayGrant() bool {
	return (m.kind == rpRegistry && m.status == "") || m.status == inventory.PolicyNotCollected
}

// mayDeny: a policy whose read is recorded as failed may deny what the
// others allow.
func (m rpMember) mayDeny() bool { return m.status == inventory.PolicyNotCollected }

// unknown is what a decision that this uncollected policy may change
// hangs on.
func (m rpMember) unknown(action string) Unknown {
	if m.kind == rpRegistry && m.status == inventory.PolicyNotCollected {
		// Its read failed: it may grant or deny, which no grant
		// elsewhere settles.
		return Unknown{Kind: UnknownResourcePolicy, Subject: m.name,
			Description: "the ECR private registry permissions policy of account " + m.account + " (" + m.region + "), which may grant or deny it, was not collected",
			Settle:      "Collect it: the scanning role needs ecr:GetRegistryPolicy in account " + m.account + ", " + m.region + "."}
	}
	if m.kind == rpRegistry {
		return Unknown{Kind: UnknownRegistryPolicy, Subject: m.account,
			Description: "the ECR private registry permissions policy of account " + m.account + " may grant it, but it was not collected",
			Settle: "Check that the registry's permissions policy allows the role " + action + " (aws ecr get-registry-policy in account " + m.account +
				", which needs ecr:GetRegistryPolicy)."}
	}
	if m.uncreated {
		return Unknown{Kind: UnknownResourcePolicy, Subject: m.target,
			Description: "repository " + m.target + " does not exist yet: the first pull through the cache creates it with the repository policy of the registry's repository creation template, which is not collected",
			Settle: "Check that the repository creation template for the cache rule in account " + m.account + ", " + m.region +
				" gives the repository a policy that allows the role (aws ecr describe-repository-creation-templates)."}
	}
	svc := "ecr"
	if m.kind == rpBucket {
		svc = "s3"
	}
	return resourcePolicyUnknown(svc, m.target, m.account)
}

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
		v := e.decideOnPaths(t, n)
		t.decs[i] = &v
	}
}

// decide evaluates one need with the role's policies, the boundary, the SCPs
// on the account's path, the RCPs and the resource policy where known, and
// fails closed where a policy that exists was not collected: whatever the
// collected policies allow, the uncollected one may deny.
func (e *evaluation) decide(t *tdInfo, n *derivedNeed) verdict {
	v := e.decideCollected(t, n)
	if v.Decision != policy.Allowed && v.Decision != policy.Indeterminate {
		return v // denied whatever the uncollected policies say
	}
	ri := t.exec
	svc, _, _ := strings.Cut(n.Action, ":")
	resAcct := n.resourceAccount
	if resAcct == "" {
		resAcct = t.account.ID
	}
	var extra []Unknown
	layer := policy.Layer("")
	add := func(l policy.Layer, u Unknown) {
		if layer == "" {
			layer = l
		}
		extra = append(extra, u)
	}
	if lv := e.scpLevels(ri.account); lv.incomplete != "" {
		add(policy.LayerSCP, Unknown{Kind: UnknownSCPs, Subject: ri.account.ID, Description: lv.incomplete,
			Settle: "Collect the organization's policies: the scanning role in the management account needs organizations:ListParents, organizations:ListPoliciesForTarget and organizations:DescribePolicy."})
	}
	if rcpServices[svc] {
		if ra := e.account(resAcct); ra != nil {
			if lv := e.rcpLevels(ra); lv.incomplete != "" {
				add(policy.LayerRCP, Unknown{Kind: UnknownRCPs, Subject: ra.ID, Description: lv.incomplete,
					Settle: "Collect the organization's policies: the scanning role in the management account needs organizations:ListParents, organizations:ListPoliciesForTarget and organizations:DescribePolicy."})
			}
		}
	}
	if len(ri.unavailable) > 0 {
		add(policy.LayerIdentity, uncollectedIdentityUnknown(ri))
	}
	if len(ri.unreadableMayDeny) > 0 {
		add(policy.LayerIdentity, Unknown{Kind: UnknownIdentityPolicy, Subject: strings.Join(ri.unreadableMayDeny, ", "),
			Description: listAnd(ri.phrases(ri.unreadableMayDeny)) + " of role " + ri.arn() + " could not be read (see PL001)",
			Settle:      "Fix the policy so that it parses (PL001 says what is wrong) and run the audit again."})
	}
	// Across accounts a resource policy that was not collected already
	// makes the decision indeterminate; in the same account it may still
	// deny.
	if svc == "secretsmanager" && resAcct == ri.account.ID {
		if s := e.res.secretByARN(n.Resource); s != nil && e.secretPolicy(s) == nil && s.EffectivePolicyStatus(e.res.failed) != inventory.PolicyNone {
			add(policy.LayerResourcePolicy, resourcePolicyUnknown(svc, s.ARN, ""))
		}
	}
	// A repository, registry or bucket policy whose read failed may deny,
	// in any account (across accounts, the others may have allowed).
	if v.rp.provided || !v.rp.cross {
		for _, m := range v.rp.members {
			if m.mayDeny() {
				add(policy.LayerResourcePolicy, m.unknown(n.Action))
			}
		}
	}
	if len(extra) == 0 {
		return e.unlooked(n, v)
	}
	var why []string
	for i := range extra {
		extra[i].Description += ", and it may deny the request"
		why = append(why, extra[i].Description)
	}
	if v.Decision == policy.Indeterminate {
		v.Reason += "; moreover " + strings.Join(why, "; ")
	} else {
		v.Result = policy.Result{Decision: policy.Indeterminate, DecidingLayer: layer,
			Reason:     "the collected policies allow it (" + v.Reason + "), but " + strings.Join(why, "; "),
			Statements: v.Statements, Outcomes: &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ExplicitDeny}}
	}
	v.unknowns = mergeUnknowns(v.unknowns, extra)
	return e.unlooked(n, v)
}

// unlooked: a need whose resource could not be looked up is never a pass.
// Whatever the policies say of it (a denial stays a denial), an allowed
// need is Indeterminate and an indeterminate one hangs on the resource's
// existence too.
func (e *evaluation) unlooked(n *derivedNeed, v verdict) verdict {
	x := n.exist
	if x == nil || x.status != existUnknown || (v.Decision != policy.Allowed && v.Decision != policy.Indeterminate) {
		return v
	}
	if v.Decision == policy.Indeterminate {
		v.Reason += "; moreover " + x.unknown.Description
	} else {
		v.Result = policy.Result{Decision: policy.Indeterminate, DecidingLayer: v.DecidingLayer, Level: v.Level,
			Reason:     "the policies allow it (" + v.Reason + "), but " + x.unknown.Description,
			Statements: v.Statements, Outcomes: &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ImplicitDeny}}
	}
	v.unknowns = mergeUnknowns(v.unknowns, []Unknown{*x.unknown})
	return v
}

// uncollectedIdentityUnknown: identity policies attached to the role were
// not collected.
func uncollectedIdentityUnknown(ri *roleInfo) Unknown {
	return Unknown{Kind: UnknownIdentityPolicy, Subject: strings.Join(ri.unavailable, ", "),
		Description: listAnd(ri.phrases(ri.unavailable)) + " of role " + ri.arn() + " " + plural(len(ri.unavailable), "was", "were") + " not collected",
		Settle:      "Collect the role's policies: the scanning role needs iam:GetAccountAuthorizationDetails (or iam:GetRolePolicy for inline policies, iam:GetPolicy and iam:GetPolicyVersion for managed ones)."}
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

// needInput is what the policy engine is given for a need: the role's
// identity policies and boundary, the SCPs and RCPs, and the resource
// policy with its status (given, known to be absent, or not collected).
func (e *evaluation) needInput(t *tdInfo, n *derivedNeed) (*policy.Input, rpInfo) {
	ri := t.exec
	svc, _, _ := strings.Cut(n.Action, ":")
	resAcct := n.resourceAccount
	if resAcct == "" {
		resAcct = t.account.ID
	}
	in := e.input(ri, svc, resAcct)
	in.ResourceAccount = resAcct
	rp := rpInfo{service: svc, account: resAcct, cross: resAcct != ri.account.ID}
	// A resource policy that was collected is evaluated; one known to be
	// absent is a fact (across accounts nothing grants); one not collected
	// (or not resolved) is not provided, which the engine reports as
	// indeterminate wherever it is needed.
	switch svc {
	case "secretsmanager":
		rp.resource = n.Resource
		if s := e.res.secretByARN(n.Resource); s != nil {
			rp.resource = s.ARN
			in.ResourcePolicy = e.secretPolicy(s)
			in.ResourcePolicyAbsent = s.EffectivePolicyStatus(e.res.failed) == inventory.PolicyNone
		}
	case "ssm":
		// A parameter's resource policy shares it with other accounts.
		rp.resource = n.Resource
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
		rp.resource = n.Resource
		if k := e.res.kmsKey(n.Resource, resAcct, n.resourceRegion); k != nil {
			rp.resource = k.ARN
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
	case "ecr":
		if n.Resource != "*" {
			rp.resource = n.Resource
			e.ecrLayer(n, in, &rp)
		}
	case "s3":
		e.bucketLayer(n, in, &rp)
	}
	// A resource that does not exist has no policy: in its own account the
	// identity policies decide, as they will once it is created; across
	// accounts nothing grants, which RS001 reports with the statement its
	// new policy needs (checkER004 leaves that denial to it).
	if x := n.exist; x != nil && x.status == existMissing && in.ResourcePolicy == nil && len(in.ResourcePolicies) == 0 {
		in.ResourcePolicyAbsent = true
	}
	e.pathEndpoint(in)
	rp.kind = in.ResourcePolicyKind
	rp.provided = in.ResourcePolicy != nil || len(in.ResourcePolicies) > 0
	rp.absent = in.ResourcePolicyAbsent && !rp.provided
	return in, rp
}

// ecrLayer gives the engine the resource-policy layer of an ECR need on a
// repository: for a pull, the repository policy; for an import through a
// pull-through cache rule, the registry's permissions policy and the
// repository policy; for creating the cached repository, the registry
// policy (docs/facts.md §1.3). Each is given when it was collected, known
// to be absent when it was looked up and there is none (or the repository
// does not exist yet), and otherwise left out and listed in rp.members as
// not collected.
func (e *evaluation) ecrLayer(n *derivedNeed, in *policy.Input, rp *rpInfo) {
	acct, region := n.resourceAccount, n.resourceRegion
	_, name, _ := strings.Cut(n.Resource, ":repository/")
	repoM := rpMember{kind: rpRepository, name: "repository-policy:" + name, target: n.Resource, account: acct, region: region}
	var repoPol *policy.NamedPolicy
	repoAbsent := false
	switch repo := e.res.repository(acct, region, name); {
	case repo == nil:
	case repo.Status == inventory.Exists:
		repoM.status = repo.PolicyStatus
		switch repo.PolicyStatus {
		case inventory.PolicyCollected:
			if repoPol = e.resourcePolicy(repoM.name, repo.Policy, "the repository policy of "+n.Resource); repoPol == nil {
				repoM.status = inventory.PolicyNotCollected
			}
		case inventory.PolicyNone:
			repoAbsent = true
		}
	case repo.Status == inventory.DoesNotExist:
		if rp.cross && (n.exist == nil || n.exist.status != existMissing) {
			// Created by the first pull through a cache rule (or
			// perhaps, when the rules are not known), with the policy of
			// the registry's repository creation template, which is not
			// collected.
			repoM.uncreated = true
			break
		}
		repoM.status, repoAbsent = inventory.PolicyNone, true
	}
	if n.Action != "ecr:BatchImportUpstreamImage" && n.Action != "ecr:CreateRepository" {
		rp.members = []rpMember{repoM}
		in.ResourcePolicy, in.ResourcePolicyAbsent = repoPol, repoAbsent
		return
	}
	regM := rpMember{kind: rpRegistry, name: "registry-policy:" + acct, account: acct, region: region}
	regAbsent := false
	if reg := e.res.registry(acct, region); reg != nil {
		regM.status = reg.PolicyStatus
		switch reg.PolicyStatus {
		case inventory.PolicyCollected:
			if in.ResourcePolicy = e.resourcePolicy(regM.name, reg.Policy, "the registry policy of account "+acct+" ("+region+")"); in.ResourcePolicy == nil {
				regM.status = inventory.PolicyNotCollected
			}
		case inventory.PolicyNone:
			regAbsent = true
		}
	}
	rp.members = []rpMember{regM}
	in.ResourcePolicyAbsent = regAbsent
	if n.Action == "ecr:BatchImportUpstreamImage" {
		rp.members = append(rp.members, repoM)
		if repoPol != nil {
			in.ResourcePolicies = []policy.NamedPolicy{*repoPol}
		}
		in.ResourcePolicyAbsent = regAbsent && repoAbsent
	}
}

// bucketLayer gives the engine the bucket policy of an S3 need (an
// environment file or a FireLens configuration): collected, known absent,
// or not collected.
func (e *evaluation) bucketLayer(n *derivedNeed, in *policy.Input, rp *rpInfo) {
	part, rest, ok := strings.Cut(strings.TrimPrefix(n.Resource, "arn:"), ":s3:::")
	if !ok {
		return
	}
	name, _, _ := strings.Cut(rest, "/")
	m := rpMember{kind: rpBucket, name: "bucket-policy:" + name, target: "arn:" + part + ":s3:::" + name, account: n.resourceAccount, region: n.resourceRegion}
	rp.resource = m.target
	switch b := e.res.bucket(name); {
	case b == nil:
	case b.Status == inventory.DoesNotExist:
		m.status, in.ResourcePolicyAbsent = inventory.PolicyNone, true
	default:
		m.status = b.PolicyStatus
		switch b.PolicyStatus {
		case inventory.PolicyCollected:
			if in.ResourcePolicy = e.resourcePolicy(m.name, b.Policy, "the bucket policy of "+m.target); in.ResourcePolicy == nil {
				m.status = inventory.PolicyNotCollected
			}
		case inventory.PolicyNone:
			in.ResourcePolicyAbsent = true
		}
	}
	rp.members = []rpMember{m}
}

// decideCollected is decide on what was collected.
func (e *evaluation) decideCollected(t *tdInfo, n *derivedNeed) verdict {
	ri := t.exec
	in, rp := e.needInput(t, n)
	req := policy.Request{Principal: ri.arn(), Action: n.Action, Context: e.requestContext(t, n)}
	r, ambiguous := evaluateReadings(in, &req, &n.Need)
	v := verdict{Result: r, in: in, rp: rp, ctx: req.Context, path: e.net.cur}
	if r.Decision == policy.Indeterminate {
		v.unknowns = e.engineUnknowns(ri, r, n, rp, ambiguous)
	}
	e.pathEndpointUnknown(&v)
	// Policies that were not collected make certain answers uncertain.
	if r.Decision == policy.Allowed && ri.boundaryUnavailable != "" {
		u := Unknown{Kind: UnknownBoundary, Subject: ri.boundaryUnavailable,
			Description: "the permissions boundary " + ri.boundaryUnavailable + " could not be read (see PL001)",
			Settle:      "Fix the boundary policy so that it parses (PL001 says what is wrong) and run the audit again."}
		if ri.boundaryMissing {
			u.Description = "the permissions boundary " + ri.boundaryUnavailable + " was not collected"
			u.Settle = "Collect it: the scanning role needs iam:GetPolicy and iam:GetPolicyVersion on " + ri.boundaryUnavailable + "."
		}
		v.Result = policy.Result{Decision: policy.Indeterminate, DecidingLayer: policy.LayerBoundary,
			Reason:     "the identity policies allow it, but " + u.Description + ", so whether it allows the request is unknown",
			Statements: r.Statements, Outcomes: &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ImplicitDeny}}
		v.unknowns = []Unknown{u}
		return v
	}
	if r.Decision == policy.ImplicitDeny && r.DecidingLayer == policy.LayerIdentity && len(ri.unavailable) > 0 {
		v.Result = policy.Result{Decision: policy.Indeterminate, DecidingLayer: policy.LayerIdentity,
			Reason:   "no collected identity policy allows it, but attached policy " + strings.Join(ri.unavailable, ", ") + " was not collected and may",
			Outcomes: &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ImplicitDeny}}
		v.unknowns = []Unknown{uncollectedIdentityUnknown(ri)}
		return v
	}
	// A policy of the resource-policy layer that was not collected may
	// grant what neither the identity policies (in the same account) nor
	// the collected policies of the layer (across accounts) do: the
	// registry policy for a pull-through cache import, or a policy whose
	// read failed.
	if r.Decision == policy.ImplicitDeny && (r.DecidingLayer == policy.LayerIdentity && !rp.cross || r.DecidingLayer == policy.LayerResourcePolicy && rp.cross) {
		var grantors []Unknown
		var names []string
		for _, m := range rp.members {
			if m.mayGrant() {
				grantors = append(grantors, m.unknown(n.Action))
				names = append(names, m.phrase())
			}
		}
		if len(grantors) > 0 {
			v.Result = policy.Result{Decision: policy.Indeterminate, DecidingLayer: r.DecidingLayer,
				Reason:     "no collected policy allows it (" + r.Reason + "); " + listAnd(names) + " may, but " + plural(len(names), "it was", "they were") + " not collected",
				Statements: r.Statements, Outcomes: &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ImplicitDeny}}
			v.unknowns = mergeUnknowns(nil, grantors)
			return v
		}
	}
	if r.Decision == policy.Allowed || r.Decision == policy.ExplicitDeny {
		return v
	}
	// CreateLogStream: current authorization is on the stream ARN, older on
	// the group ARN (ecs-facts §1.4, UNCONFIRMED which applies): allowed on
	// the group only is indeterminate, not a failure.
	if n.groupARN != "" && r.Decision == policy.ImplicitDeny {
		req.Resource, req.ResourceUnknown = n.groupARN, nil
		if alt := policy.Evaluate(in, req); alt.Decision == policy.Allowed {
			v.Result = policy.Result{Decision: policy.Indeterminate, DecidingLayer: r.DecidingLayer,
				Reason:     "allowed on the log group ARN " + n.groupARN + " but not on the log stream ARN; which of the two AWS authorizes for CreateLogStream is not confirmed",
				Statements: alt.Statements, Outcomes: &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ImplicitDeny}}
			v.unknowns = []Unknown{{Kind: UnknownAuthorizationResource, Subject: n.groupARN,
				Description: "the role is allowed logs:CreateLogStream on the log group " + n.groupARN + " but not on its streams, and which of the two AWS authorizes is not confirmed",
				Settle:      "Grant logs:CreateLogStream on the log streams (" + n.groupARN + ":log-stream:*, or narrower by stream prefix)."}}
		}
	}
	return v
}

// engineUnknowns lists what an Indeterminate answer of the engine hangs on.
func (e *evaluation) engineUnknowns(ri *roleInfo, r policy.Result, n *derivedNeed, rp rpInfo, ambiguous bool) []Unknown {
	var out []Unknown
	if len(r.UnknownKeys) > 0 {
		var keys []string
		for _, k := range r.UnknownKeys {
			keys = append(keys, k.Key)
		}
		ref := r.UnknownKeys[0].Statements[0]
		verb := "allows it only"
		if ref.Effect == "Deny" {
			verb = "denies it"
		}
		out = append(out, Unknown{Kind: UnknownConditionKeys, Subject: strings.Join(keys, ", "),
			Description: e.stmtPhrase(ri, rp, ref) + " " + verb + " under a condition on " + listAnd(keys) + ", whose " +
				plural(len(keys), "value is", "values are") + " not known",
			Settle: settleKeys(keys)})
	}
	if u := r.UnknownResource; u != nil {
		var allows, denies []string
		for _, s := range u.Statements {
			if s.Effect == "Deny" {
				denies = append(denies, e.stmtPhrase(ri, rp, s))
			} else {
				allows = append(allows, e.stmtPhrase(ri, rp, s))
			}
		}
		out = append(out, resourcePartUnknown(u, n, allows, denies))
	}
	if rp.resource != "" && !rp.provided && !rp.absent && (rp.cross || rp.kind == policy.ResourcePolicyKMSKey) {
		if len(rp.members) == 0 {
			out = append(out, resourcePolicyUnknown(rp.service, rp.resource, rp.account))
		}
		for _, m := range rp.members {
			if m.status != inventory.PolicyCollected && m.status != inventory.PolicyNone {
				out = append(out, m.unknown(n.Action))
			}
		}
	}
	if ambiguous {
		out = append(out, Unknown{Kind: UnknownSecretName, Subject: n.Resource,
			Description: "whether " + n.Resource + " is the secret's full ARN or the partial ARN of a longer name is not known (the secret was not resolved)",
			Settle:      "Resolve the secret (the scanning role needs secretsmanager:DescribeSecret in its account), or name it in the task definition by its full ARN."})
	}
	if len(out) == 0 {
		out = append(out, Unknown{Kind: UnknownOther, Subject: r.Reason, Description: r.Reason,
			Settle: "Grant " + n.Action + " on " + n.Resource + " without conditions, or confirm the decision's conditions by hand."})
	}
	return mergeUnknowns(nil, out)
}

// resourcePartUnknown describes a resource known only in part.
func resourcePartUnknown(u *policy.UnknownResource, n *derivedNeed, allows, denies []string) Unknown {
	var clauses []string
	if len(allows) > 0 {
		clauses = append(clauses, listAnd(allows)+" "+plural(len(allows), "allows", "allow")+" it only for some values")
	}
	if len(denies) > 0 {
		clauses = append(clauses, listAnd(denies)+" "+plural(len(denies), "denies", "deny")+" it for some values")
	}
	desc := strings.Join(clauses, ", and ") + " of the unknown part of " + u.Resource + " (" + u.Unknown.Describe() + ")"
	if r := n.reading(); r != nil && r.why != "" {
		desc += ": " + r.why
	}
	out := Unknown{Kind: UnknownResourcePart, Subject: u.Resource, Description: desc}
	switch n.readingKind() {
	case readingSecretSuffix:
		out.Settle = "Resolve the secret (the scanning role needs secretsmanager:DescribeSecret in its account, and the scan must not run with --no-resolve-resources), or name it in the task definition by its full ARN."
	default:
		out.Settle = "Grant every value of the unknown part: the ID is new for every task, so a grant of some values fails for the others."
	}
	return out
}

// resourcePolicyUnknown: the policy of a resource of a service was not
// collected (account: the resource's, when it is another than the role's).
func resourcePolicyUnknown(service, resource, account string) Unknown {
	noun, perm := resourcePolicyNoun(service)
	u := Unknown{Kind: UnknownResourcePolicy, Subject: resource, Description: "the " + noun + " of " + resource + " was not collected"}
	switch {
	case perm == "":
		u.Settle = "This version of audit does not collect this " + noun + ": read it and check that it allows the role."
	case account != "":
		u.Settle = "Collect it: the scanning role needs " + perm + " on it in account " + account + " (which the scan must include)."
	default:
		u.Settle = "Collect it: the scanning role needs " + perm + " on it."
	}
	return u
}

// resourcePolicyNoun is what the resource policy of a service's resources
// is called and the permission that reads it ("" when the scanner does not
// read it).
func resourcePolicyNoun(service string) (noun, permission string) {
	switch service {
	case "secretsmanager":
		return "resource policy", "secretsmanager:GetResourcePolicy"
	case "kms":
		return "key policy", "kms:GetKeyPolicy"
	case "ssm":
		return "resource policy", "ssm:GetResourcePolicies"
	case "ecr":
		return "repository policy", "ecr:GetRepositoryPolicy"
	case "s3":
		return "bucket policy", "s3:GetBucketPolicy"
	}
	return "resource policy", ""
}

// mergeUnknowns adds b to a, without duplicates, sorted by kind and
// subject.
func mergeUnknowns(a, b []Unknown) []Unknown {
	out := append(append([]Unknown(nil), a...), b...)
	slices.SortStableFunc(out, func(x, y Unknown) int {
		if c := strings.Compare(string(x.Kind), string(y.Kind)); c != 0 {
			return c
		}
		return strings.Compare(x.Subject, y.Subject)
	})
	return slices.CompactFunc(out, func(x, y Unknown) bool { return x.Kind == y.Kind && x.Subject == y.Subject })
}

// requestContext is what is known of the request the agent (or Fargate)
// makes with the execution role's credentials. Contexts are read only, so
// needs that share everything a context is built from share one context.
func (e *evaluation) requestContext(t *tdInfo, n *derivedNeed) *policy.Context {
	// The region of the call: the resource's. An S3 bucket's region is not
	// in its ARN; it is taken to be the task's region (documented
	// assumption: the usual layout, and what a region-restricting SCP expects).
	region := n.resourceRegion
	if region == "" {
		region = t.region
	}
	key := reqCtxKey{role: t.exec, kms: strings.HasPrefix(n.Action, "kms:"), region: region,
		resourceAccount: n.resourceAccount, path: e.pathKeysOf(t, n)}
	if c := e.reqCtx[key]; c != nil {
		return c
	}
	c := e.newRequestContext(key)
	if e.reqCtx == nil {
		e.reqCtx = make(map[reqCtxKey]*policy.Context)
	}
	e.reqCtx[key] = c
	return c
}

// reqCtxKey is everything requestContext builds a context from besides the
// evaluation's time and Organization.
type reqCtxKey struct {
	role                    *roleInfo
	kms                     bool
	region, resourceAccount string
	path                    pathKeys
}

func (e *evaluation) newRequestContext(k reqCtxKey) *policy.Context {
	ri := k.role
	c := policy.NewContext()
	c.Set("aws:PrincipalArn", ri.arn())
	c.Set("aws:PrincipalAccount", ri.account.ID)
	c.Set("aws:PrincipalType", "AssumedRole")
	c.Set("aws:PrincipalIsAWSService", "false")
	// The agent calls ECR, CloudWatch Logs, Secrets Manager, SSM and S3
	// itself; KMS is called by Secrets Manager or SSM on the role's behalf,
	// so for kms:Decrypt aws:ViaAWSService (and aws:CalledVia) are not known.
	if !k.kms {
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
	if k.region != "" {
		c.Set("aws:RequestedRegion", k.region)
	}
	if k.resourceAccount != "" {
		c.Set("aws:ResourceAccount", k.resourceAccount)
	}
	// aws:SourceVpce and aws:SourceVpc from the network path (network.go).
	k.path.apply(c)
	return c
}

// unknownActions lists statements' actions that name no existing action
// (PL001): a typo grants nothing.
func unknownActions(name, arn string, p *policy.Policy) []policyProblem {
	var out []policyProblem
	for _, s := range p.Statements {
		for _, list := range [][]string{s.Actions, s.NotActions} {
			for _, a := range list {
				if msg := awsactions.Check(a); msg != "" {
					d := fmt.Sprintf("statement %s: %s", stmtLabel(s), msg)
					out = append(out, policyProblem{policy: name, arn: arn, kind: problemUnknownAction, detail: d, shown: d, severity: Medium})
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
