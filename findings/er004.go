package findings

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

var ruleER004 = &rule{RuleMeta: RuleMeta{
	ID:            "ER004",
	Title:         "Execution role is denied a permission the task definition needs",
	Severity:      Critical,
	SeverityRange: SeverityRange{Min: Low, Max: Critical},
	Description: "A permission the task definition needs from its execution role (ECR pull, awslogs, a secret, a parameter, registry credentials, " +
		"an environment file, FireLens configuration, kms:Decrypt) is denied: no Allow in the identity policies, an explicit Deny, " +
		"the permissions boundary, an SCP level without an Allow, an RCP, or a resource policy (a secret's, a KMS key policy, an ECR repository or registry policy, " +
		"an S3 bucket policy; across accounts the resource's policy must allow the role too); or a reference in the task definition cannot work as written. " +
		"One finding per task definition and cause: every need that the same statement denies, or that the same layer does not grant, is listed in it.",
	Why: "The agent or Fargate makes these calls with the execution role before the containers start. A denied call stops the task with " +
		"ResourceInitializationError (for example 'not authorized to perform ssm:GetParameters'), and services stay at zero running tasks.",
	Remediation: "Change the layer that decided, as the finding's fix says: add the suggested statements to the role's identity policy or to the resource's policy, " +
		"narrow the statement that denies, or, where an SCP or RCP decides, use what it permits or ask for an exception in it (a grant to the role cannot override it).",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html",
	},
	Tags:      []string{"availability", "ecs", "iam", "least-privilege"},
	Precision: "high",
}, check: checkER004}

func init() { register(ruleER004) }

// denialKind is why a need is denied.
type denialKind int

const (
	denialNoGrant              denialKind = iota // no statement of the deciding layer allows it
	denialExplicit                               // a Deny statement matches
	denialResourcePolicyAbsent                   // across accounts, the resource has no resource policy
	denialInvalid                                // the reference cannot work as written
)

// denial is the cause of an ER004: the deciding layer (and SCP or RCP
// level, with its root, OU or account) and the statement that denied, or
// the reference that cannot work.
type denial struct {
	kind  denialKind
	layer policy.Layer
	level int
	stmt  *policy.StatementRef
	// policyID identifies the policy of stmt however it is renamed: an
	// organization policy's ID, a managed policy's ARN, an inline policy's
	// name, the resource of a resource policy.
	policyID string
	node     *inventory.PathNode
	rp       rpInfo
	// fieldPath and action of an invalid reference.
	fieldPath, action string
	// ep is the VPC endpoint whose policy decided (network.go).
	ep *inventory.VPCEndpoint
}

// classify finds the cause of a denied need.
func (e *evaluation) classify(t *tdInfo, n *derivedNeed, v *verdict) denial {
	if n.Invalid {
		return denial{kind: denialInvalid, fieldPath: n.FieldPath, action: n.Action}
	}
	d := denial{kind: denialNoGrant, layer: v.DecidingLayer, level: v.Level, rp: v.rp}
	if d.layer == policy.LayerVPCEndpoint && v.path != nil && v.path.r.ep != nil {
		d.ep = v.path.r.ep
	}
	if v.Decision == policy.ExplicitDeny {
		for i := range v.Statements {
			if s := v.Statements[i]; s.Layer == v.DecidingLayer && s.Level == v.Level && s.Effect == "Deny" {
				d.kind, d.stmt = denialExplicit, &s
				src := e.source(t.exec, v.rp, s)
				d.policyID = src.key()
				break
			}
		}
	}
	if d.kind == denialNoGrant && d.layer == policy.LayerResourcePolicy && v.rp.absent {
		d.kind = denialResourcePolicyAbsent
	}
	switch d.layer {
	case policy.LayerSCP:
		d.node = orgNode(t.exec.account, d.level)
	case policy.LayerRCP:
		d.node = orgNode(e.account(v.rp.account), d.level)
	}
	return d
}

func checkER004(e *evaluation, r *rule) {
	for _, t := range e.roleUsers() {
		type group struct {
			d     denial
			items []needItem
		}
		var groups grouped[group]
		for i := range t.needs {
			n := &t.needs[i]
			v := t.decs[i]
			switch {
			case n.Invalid:
				if t.exec == nil {
					continue // ER001 or ER002 says what is wrong first
				}
			case v == nil || (v.Decision != policy.ImplicitDeny && v.Decision != policy.ExplicitDeny):
				continue
			case decidedByRS001(n, v):
				// The resource does not exist, so it has no policy:
				// RS001 says to create it, with the statement its policy
				// needs.
				continue
			}
			d := e.classify(t, n, v)
			g := groups.get(d.causeKey(), func() *group { return &group{d: d} })
			g.items = append(g.items, needItem{n, v})
		}
		for _, key := range groups.keys() {
			g := groups.m[key]
			e.emitDenial(r, t, g.d, g.items, causePrefix(t)+key)
		}
	}
}

// emitDenial emits one ER004: the needs one cause denies.
func (e *evaluation) emitDenial(r *rule, t *tdInfo, d denial, items []needItem, key string) {
	slices.SortStableFunc(items, func(a, b needItem) int { return b.n.severity.Rank() - a.n.severity.Rank() })
	var ev []NeedEvidence
	var members []string
	containers := map[string]bool{}
	sev := Info
	for _, it := range items {
		ne := NeedEvidence{Need: it.n.Need, Severity: it.n.severity}
		if it.v != nil {
			res := it.v.Result
			ne.Decision = &res
		}
		ev = append(ev, ne)
		members = append(members, legacyNeedID(r.ID, t, it.n.Need))
		containers[it.n.Container] = true
		if it.n.severity.Rank() > sev.Rank() {
			sev = it.n.severity
		}
	}
	first := ev[0].Need
	f := Finding{
		Severity: sev, Title: d.title(items), AccountID: t.account.ID, Region: t.region,
		ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN, TaskDefinitionARN: t.td.ARN, RoleARN: t.execARN,
		Affected: serviceRefs(t),
		Evidence: Evidence{Need: &first, Decision: ev[0].Decision, Needs: ev, Facts: map[string]string{"fieldPath": first.FieldPath}},
	}
	if len(containers) == 1 {
		f.Container = first.Container
	}
	if d.kind == denialInvalid {
		f.Message = invalidMessage(t, items[0].n)
	} else {
		f.Message = fmt.Sprintf("%s is not allowed %s: %s.", roleSubject(t), needsPhrase(needsOf(items)), e.denialClause(t, d, len(items)))
		noted := map[string]bool{}
		for _, it := range items {
			if it.n.Optional && it.n.Note != "" && !noted[it.n.Note] {
				noted[it.n.Note] = true // the same note of several containers, once
				f.Message += " " + it.n.Note
			}
		}
		if d.layer != policy.LayerVPCEndpoint {
			f.Message += pathSentences(items)
		}
		endpointFacts(f.Evidence.Facts, d.ep)
		f.Message += launchedBy(t)
	}
	f.Fix = e.denialFix(t, d, items)
	r.emit(e, f, key, members...)
}

// title fits the cause.
func (d denial) title(items []needItem) string {
	what := "what the task definition needs"
	switch d.kind {
	case denialInvalid:
		if items[0].n.pasted != "" {
			return "A value that looks like a secret is written where valueFrom names a secret or parameter"
		}
		return "A reference in the task definition cannot work as written"
	case denialResourcePolicyAbsent:
		return "A resource in another account has no resource policy that could allow the execution role"
	case denialExplicit:
		switch d.layer {
		case policy.LayerSCP:
			return "A service control policy denies " + what
		case policy.LayerRCP:
			return "A resource control policy denies " + what
		case policy.LayerBoundary:
			return "An explicit Deny in the permissions boundary blocks " + what
		case policy.LayerResourcePolicy:
			return "A resource policy denies the execution role " + what
		case policy.LayerVPCEndpoint:
			return "A VPC endpoint policy denies the execution role " + what
		}
		return "An explicit Deny in the execution role's policies blocks " + what
	}
	switch d.layer {
	case policy.LayerSCP:
		return "No service control policy allows " + what
	case policy.LayerRCP:
		return "No resource control policy allows " + what
	case policy.LayerBoundary:
		return "The permissions boundary does not allow " + what
	case policy.LayerResourcePolicy:
		if d.rp.kind == policy.ResourcePolicyKMSKey {
			return "The KMS key policy does not allow the execution role " + what
		}
		return "A resource policy does not allow the execution role " + what
	case policy.LayerVPCEndpoint:
		return "A VPC endpoint policy does not allow the execution role " + what
	}
	return "Execution role is not granted " + what
}

// needsPhrase lists needs with what they are for and where they come
// from: `logs:CreateLogStream and logs:PutLogEvents on R for sending logs
// with awslogs (container "app" at containerDefinitions[0]…)`.
func needsPhrase(needs []Need) string {
	type key struct{ container, path, feature string }
	var order []key
	by := map[key][]Need{}
	for _, n := range needs {
		k := key{n.Container, n.FieldPath, n.Feature}
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], n)
	}
	var parts []string
	for _, k := range order {
		where := "at " + k.path
		if k.container != "" {
			where = fmt.Sprintf("container %q at %s", k.container, k.path)
		}
		parts = append(parts, strings.ReplaceAll(actionsOn(by[k]), "; ", ", ")+" for "+featureNoun(k.feature)+" ("+where+")")
	}
	return strings.Join(parts, "; ")
}

// denialClause says why, in the words of the deciding layer.
func (e *evaluation) denialClause(t *tdInfo, d denial, n int) string {
	ri := t.exec
	it := plural(n, "it", "them")
	switch d.kind {
	case denialExplicit:
		s := e.stmtPhrase(ri, d.rp, *d.stmt)
		if d.node != nil {
			s += ", attached to " + nodePhrase(d.node) + ","
		}
		return s + " denies " + it + " explicitly"
	case denialResourcePolicyAbsent:
		if len(d.rp.members) > 0 {
			var none []string
			for _, m := range d.rp.members {
				none = append(none, m.none())
			}
			return "the resource is in account " + d.rp.account + ", " + listAnd(none) + ", and across accounts only a resource policy can let the role in"
		}
		return "the resource is in account " + d.rp.account + " and has no resource policy, and across accounts only a resource policy can let the role in"
	}
	switch d.layer {
	case policy.LayerSCP, policy.LayerRCP:
		return "no " + strings.ToUpper(string(d.layer)) + " attached to " + nodePhrase(d.node) + " allows " + it + "; " + e.levelPolicies(d)
	case policy.LayerBoundary:
		return "the permissions boundary " + ri.role.PermissionsBoundary + " does not allow " + it
	case policy.LayerVPCEndpoint:
		return endpointDenialClause(d, it)
	case policy.LayerResourcePolicy:
		if d.rp.kind == policy.ResourcePolicyKMSKey && !d.rp.cross {
			return rpPhrase(d.rp) + " neither allows the role nor delegates to account " + ri.account.ID
		}
		return rpPhrase(d.rp) + " (account " + d.rp.account + ") does not allow the role, and across accounts both the role's and the resource's policies must allow"
	}
	return "no identity policy of the role allows " + it
}

// levelPolicies names the SCPs or RCPs attached at a denial's level.
func (e *evaluation) levelPolicies(d denial) string {
	if d.node == nil || e.inv.Organization == nil {
		return "not collected"
	}
	ids := d.node.SCPs
	if d.layer == policy.LayerRCP {
		ids = d.node.RCPs
	}
	var names []string
	for _, id := range ids {
		if op := e.inv.Organization.Policies[id]; op != nil {
			names = append(names, orgPolicyName(id, op))
		} else {
			names = append(names, id+" (not collected)")
		}
	}
	if len(names) == 0 {
		return "none collected"
	}
	kind := strings.ToUpper(string(d.layer))
	return plural(len(names), "the "+kind+" there is ", "the "+kind+"s there are ") + listAnd(names)
}

// invalidMessage describes a reference that cannot work.
func invalidMessage(t *tdInfo, n *derivedNeed) string {
	w := fmt.Sprintf("task definition %s in %s", tdLabel(t), where(t.account.ID, t.region))
	if n.Container != "" {
		w = fmt.Sprintf("container %q of %s", n.Container, w)
	}
	if n.pasted != "" {
		return fmt.Sprintf("In %s, %s holds what looks like a secret value (%s) rather than the name or ARN of a secret or parameter; the value is not repeated here. The task cannot start, and the value is exposed to anyone who can describe the task definition.",
			w, n.FieldPath, valueClassNoun(n.pasted))
	}
	return fmt.Sprintf("In %s, %s references %q, which cannot work: %s; the task cannot start.", w, n.FieldPath, n.Resource, n.Note)
}

// denialFix is the fix for a cause, from the layer that decided.
func (e *evaluation) denialFix(t *tdInfo, d denial, items []needItem) Fix {
	ri := t.exec
	needs := needsOf(items)
	acts := actionsOn(needs)
	switch d.kind {
	case denialInvalid:
		n := items[0].n
		if n.pasted != "" {
			return Fix{Layer: FixTaskDefinition, Target: &FixTarget{Type: ResourceTaskDefinition, ARN: t.td.ARN, Name: tdLabel(t)},
				Summary: "Store the value in Secrets Manager or SSM Parameter Store and reference it by ARN at " + n.FieldPath + " in a new task definition revision.",
				Steps: []string{"Rotate the credential: it is exposed to anyone who can describe the task definition.",
					"Grant the execution role read access to exactly that secret or parameter."}}
		}
		return Fix{Layer: FixTaskDefinition, Target: &FixTarget{Type: ResourceTaskDefinition, ARN: t.td.ARN, Name: tdLabel(t)},
			Summary: "Correct the reference at " + n.FieldPath + " in a new task definition revision: " + n.Note + "."}
	case denialExplicit:
		src := e.source(ri, d.rp, *d.stmt)
		target := e.sourceTarget(ri, d, src)
		switch d.layer {
		case policy.LayerSCP, policy.LayerRCP:
			kind := "SCP"
			layer := FixSCP
			if d.layer == policy.LayerRCP {
				kind, layer = "RCP", FixRCP
			}
			return Fix{Layer: layer, Target: target,
				Summary: fmt.Sprintf("Statement %s of %s %s, attached to %s, denies %s; no grant to role %s can override an explicit Deny in an %s.",
					stmtID(*d.stmt), kind, orgPolicyLabel(src), nodePhrase(d.node), acts, ri.arn(), kind),
				Steps: []string{permittedHint(needs),
					"Or ask whoever administers the organization's policies for an exception in that statement (for example a condition that excludes role " + ri.arn() + ")."}}
		case policy.LayerResourcePolicy:
			phrase := rpPhrase(d.rp)
			for _, m := range d.rp.members {
				if m.name == d.stmt.Policy {
					phrase, target = m.phrase(), m.fixTarget(stmtKey(*d.stmt))
				}
			}
			return Fix{Layer: FixResourcePolicy, Target: target,
				Summary: fmt.Sprintf("Statement %s of %s denies %s: narrow its Resource, Action or Principal so that it no longer matches role %s, or remove it; an Allow elsewhere cannot override an explicit Deny.",
					stmtID(*d.stmt), phrase, acts, ri.arn())}
		case policy.LayerVPCEndpoint:
			return Fix{Layer: FixVPCEndpoint, Target: target,
				Summary: fmt.Sprintf("Statement %s of %s denies %s: narrow its Resource, Action, Principal or Condition so that it no longer matches role %s, or remove it; an Allow elsewhere cannot override an explicit Deny.",
					stmtID(*d.stmt), src.phrase, acts, ri.arn())}
		}
		layer := FixIdentity
		if d.layer == policy.LayerBoundary {
			layer = FixBoundary
		}
		return Fix{Layer: layer, Target: target,
			Summary: fmt.Sprintf("Statement %s of %s denies %s: narrow its Resource or Action (or add a condition) so that it no longer matches what the task definition needs, or remove it; an Allow elsewhere cannot override an explicit Deny.",
				stmtID(*d.stmt), src.phrase, acts)}
	case denialResourcePolicyAbsent:
		doc := resourcePolicyStatement(ri.arn(), needs, d.rp.style())
		fix := Fix{Layer: FixResourcePolicy, Target: &FixTarget{Type: TargetResource, ARN: d.rp.resource},
			Summary:         "Attach a resource policy to " + d.rp.resource + " (account " + d.rp.account + ") with the suggested statement, which allows role " + ri.arn() + " exactly " + acts + ".",
			SuggestedPolicy: doc, SuggestedPolicyLayer: FixResourcePolicy, SuggestedPolicyTarget: "the resource policy of " + d.rp.resource + " (new)"}
		if len(d.rp.members) > 0 {
			m := d.rp.members[0]
			fix.Target = m.fixTarget("")
			fix.Summary = "Give " + m.owner() + " (account " + m.account + ") a " + m.noun() + " with the suggested statement, which allows role " + ri.arn() + " exactly " + acts + "."
			fix.SuggestedPolicyTarget = m.phrase() + " (new)"
		}
		fix.Steps = e.reevaluate(t, items, addResourceStatements(doc))
		return fix
	}
	switch d.layer {
	case policy.LayerSCP, policy.LayerRCP:
		kind, layer := "SCP", FixSCP
		if d.layer == policy.LayerRCP {
			kind, layer = "RCP", FixRCP
		}
		return Fix{Layer: layer, Target: &FixTarget{Type: strings.ToLower(kind), AttachedTo: orgNodeRef(d.node)},
			Summary: fmt.Sprintf("No %s attached to %s allows %s; %s. They act as an allow list there, and no grant to role %s can override them.",
				kind, nodePhrase(d.node), acts, e.levelPolicies(d), ri.arn()),
			Steps: []string{permittedHint(needs),
				"Or ask whoever administers the organization's policies to allow " + listAnd(uniqueActions(needs)) + " in one of the " + kind + "s attached to " + nodePhrase(d.node) + "."}}
	case policy.LayerBoundary:
		doc := leastPrivilege(needs)
		b := ri.role.PermissionsBoundary
		fix := Fix{Layer: FixBoundary, Target: &FixTarget{Type: ResourcePolicy, ARN: b},
			Summary:         "Add the suggested statements to the permissions boundary " + b + " of role " + ri.arn() + ": the identity policies allow " + acts + ", the boundary does not.",
			SuggestedPolicy: doc, SuggestedPolicyLayer: FixBoundary, SuggestedPolicyTarget: "the permissions boundary " + b + " (add these statements)"}
		fix.Steps = e.reevaluate(t, items, addBoundary(doc))
		return fix
	case policy.LayerVPCEndpoint:
		return e.endpointDenialFix(t, d, items)
	case policy.LayerResourcePolicy:
		doc := resourcePolicyStatement(ri.arn(), needs, d.rp.style())
		phrase, target := rpPhrase(d.rp), &FixTarget{Type: TargetResource, ARN: d.rp.resource}
		if len(d.rp.members) > 0 {
			// The first policy of the layer: the repository policy of a
			// pull, the registry policy of a pull-through cache import,
			// the bucket policy.
			phrase, target = d.rp.members[0].phrase(), d.rp.members[0].fixTarget("")
		}
		fix := Fix{Layer: FixResourcePolicy, Target: target,
			Summary:         "Add the suggested statement to " + phrase + ": it allows role " + ri.arn() + " exactly " + acts + ".",
			SuggestedPolicy: doc, SuggestedPolicyLayer: FixResourcePolicy, SuggestedPolicyTarget: phrase + " (add this statement)"}
		fix.Steps = e.reevaluate(t, items, addResourceStatements(doc))
		return fix
	}
	doc := leastPrivilege(needs)
	fix := Fix{Layer: FixIdentity, Target: &FixTarget{Type: ResourceRole, ARN: ri.arn(), Name: ri.role.Name},
		Summary:         "Add the suggested statements to an identity policy of role " + ri.arn() + " (an inline policy, or a customer managed policy attached to it): they grant exactly " + acts + ".",
		SuggestedPolicy: doc, SuggestedPolicyLayer: FixIdentity, SuggestedPolicyTarget: "an identity policy of role " + ri.arn()}
	fix.Steps = e.reevaluate(t, items, addIdentity(doc))
	return fix
}

// sourceTarget is the FixTarget of the policy a statement belongs to.
func (e *evaluation) sourceTarget(ri *roleInfo, d denial, src policySource) *FixTarget {
	stmt := ""
	if d.stmt != nil {
		stmt = stmtKey(*d.stmt)
	}
	switch src.kind {
	case sourceInline:
		return &FixTarget{Type: TargetInlinePolicy, Name: src.name, Role: ri.arn(), Statement: stmt}
	case sourceManaged, sourceBoundary:
		return &FixTarget{Type: ResourcePolicy, ARN: src.arn, Statement: stmt}
	case sourceSCP, sourceRCP:
		typ := TargetSCP
		if src.kind == sourceRCP {
			typ = TargetRCP
		}
		return &FixTarget{Type: typ, ID: src.id, Name: src.name, Statement: stmt, AttachedTo: orgNodeRef(d.node)}
	case sourceTrust:
		return &FixTarget{Type: ResourceRole, ARN: ri.arn(), Name: ri.role.Name, Statement: stmt}
	case sourceEndpoint:
		return &FixTarget{Type: TargetVPCEndpoint, ID: src.arn, Statement: stmt}
	}
	return &FixTarget{Type: TargetResource, ARN: src.arn, Statement: stmt}
}

// orgPolicyLabel is "name (p-…)".
func orgPolicyLabel(src policySource) string {
	if src.name == "" {
		return src.id
	}
	return src.name + " (" + src.id + ")"
}

func uniqueActions(needs []Need) []string {
	var out []string
	for _, n := range needs {
		if !slices.Contains(out, n.Action) {
			out = append(out, n.Action)
		}
	}
	return out
}
