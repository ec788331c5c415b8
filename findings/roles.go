package findings

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// rcpServices are the services resource control policies apply to (the
// launch set, ecs-facts §5.1; later additions are UNCONFIRMED).
var rcpServices = map[string]bool{"s3": true, "sts": true, "kms": true, "sqs": true, "secretsmanager": true}

// problemKind is what is wrong with a policy attached to a role.
type problemKind int

const (
	problemMalformed     problemKind = iota // the document cannot be parsed
	problemUnknownAction                    // a statement names an action that does not exist
	problemMissing                          // attached, but its document was not collected
)

// String is the kind as findings.json and schema version 1's fingerprints
// spell it.
func (k problemKind) String() string {
	switch k {
	case problemMalformed:
		return "malformed"
	case problemUnknownAction:
		return "unknown-action"
	}
	return "missing"
}

// policyProblem is a policy attached to a role that could not be parsed,
// that names an action that does not exist, or that was not collected.
type policyProblem struct {
	policy string // name as reported ("inline:x", a managed policy ARN, "boundary:ARN", "trust-policy")
	// arn is the managed policy's ARN (attached or boundary); "" for an
	// inline or trust policy, which belongs to the role.
	arn  string
	kind problemKind
	// detail is as schema version 1 spelled it (its fingerprints hash it);
	// shown is what findings show, without the policy's name where the
	// parser put it first.
	detail, shown string
	severity      Severity
}

// parseProblem is the problem of a policy that does not parse.
func parseProblem(name, arn string, err error) policyProblem {
	shown := err.Error()
	var pe *policy.ParseError
	if errors.As(err, &pe) {
		shown = pe.Detail()
	}
	return policyProblem{policy: name, arn: arn, kind: problemMalformed, detail: err.Error(), shown: shown, severity: High}
}

// trustPolicyName is the name a role's trust policy is evaluated under.
const trustPolicyName = "trust-policy"

// sourceKind says where a policy the engine evaluates comes from.
type sourceKind int

const (
	sourceUnknown sourceKind = iota
	sourceInline
	sourceManaged
	sourceBoundary
	sourceTrust
	sourceSCP
	sourceRCP
	sourceResource
)

// policySource is where a policy the engine evaluated comes from, keyed by
// the name it was evaluated under.
type policySource struct {
	kind sourceKind
	// phrase names it in a sentence: "inline policy x", "managed policy
	// ARN", "SCP name (p-…)".
	phrase string
	// name is an inline policy's or an organization policy's name; arn a
	// managed policy's; id an organization policy's.
	name, arn, id string
}

// key identifies the policy however it is renamed: an organization
// policy's ID, a managed policy's or a resource's ARN, an inline policy's
// name.
func (s policySource) key() string {
	switch s.kind {
	case sourceSCP, sourceRCP:
		return s.id
	case sourceInline:
		return "inline:" + s.name
	case sourceTrust:
		return trustPolicyName
	}
	return s.arn
}

// roleInfo is an IAM role with its parsed policies.
type roleInfo struct {
	account  *inventory.Account
	role     *inventory.Role
	identity []policy.NamedPolicy
	boundary []policy.NamedPolicy
	trust    *policy.Policy
	trustErr error
	// trustUnavailable: the trust policy was not collected (an empty
	// document, with a collection error saying so).
	trustUnavailable bool
	problems         []policyProblem
	usedBy           []*tdInfo
	// unavailable are identity policies (attached or inline) that were not
	// collected; boundaryUnavailable is a boundary that was not collected or
	// not readable. Any decision they could change is indeterminate: they
	// may grant what is missing, or deny what the others allow.
	unavailable         []string
	boundaryUnavailable string
	// boundaryMissing: the boundary was not collected (rather than not
	// readable).
	boundaryMissing bool
	// unreadableMayDeny are identity policies the engine could not parse
	// (PL001) that hold, or may hold, a Deny statement: whatever the others
	// allow, they may deny it, so an allow is indeterminate. A malformed
	// policy whose every statement is an Allow only fails to grant, which
	// its PL001 finding explains.
	unreadableMayDeny []string
	// sources are the role's policies by the name they are evaluated
	// under.
	sources map[string]policySource
}

func (r *roleInfo) arn() string { return r.role.ARN }

// phrases names the role's policies, given by the names they are evaluated
// under, in words.
func (r *roleInfo) phrases(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "policy " + n
		if src, ok := r.sources[n]; ok {
			out[i] = src.phrase
		}
	}
	return out
}

// role returns the parsed role of an account by name (case-insensitive, as
// IAM role names are unique regardless of case), or nil.
func (e *evaluation) role(a *inventory.Account, name string) *roleInfo {
	key := a.ID + "|" + strings.ToLower(name)
	if ri, ok := e.roles[key]; ok {
		return ri
	}
	var role *inventory.Role
	for _, r := range a.IAM.Roles {
		if strings.EqualFold(r.Name, name) {
			role = r
			break
		}
	}
	if role == nil {
		e.roles[key] = nil
		return nil
	}
	ri := &roleInfo{account: a, role: role, sources: map[string]policySource{
		trustPolicyName: {kind: sourceTrust, phrase: "the trust policy"},
	}}
	managed := e.managed[a.ID]
	if managed == nil {
		managed = make(map[string]*inventory.ManagedPolicy, len(a.IAM.ManagedPolicies))
		for _, p := range a.IAM.ManagedPolicies {
			managed[p.ARN] = p
		}
		e.managed[a.ID] = managed
	}
	for _, ip := range role.InlinePolicies {
		name := "inline:" + ip.Name
		ri.sources[name] = policySource{kind: sourceInline, phrase: "inline policy " + ip.Name, name: ip.Name}
		if blankDoc(ip.Document) {
			e.uncollectedIdentity(ri, name, "", "the inline policy's document was not collected, so what it grants or denies is unknown")
			continue
		}
		if p := e.parse(ri, name, "", ip.Document); p != nil {
			ri.identity = append(ri.identity, policy.NamedPolicy{Name: name, Policy: p})
		}
	}
	for _, arn := range role.AttachedPolicies {
		ri.sources[arn] = policySource{kind: sourceManaged, phrase: "managed policy " + arn, arn: arn}
		mp := managed[arn]
		if mp == nil || blankDoc(mp.Document) {
			e.uncollectedIdentity(ri, arn, arn, "the attached managed policy was not collected, so what it grants or denies is unknown")
			continue
		}
		if p := e.parse(ri, arn, arn, mp.Document); p != nil {
			ri.identity = append(ri.identity, policy.NamedPolicy{Name: arn, Policy: p})
		}
	}
	if b := role.PermissionsBoundary; b != "" {
		ri.sources["boundary:"+b] = policySource{kind: sourceBoundary, phrase: "permissions boundary " + b, arn: b}
		if mp := managed[b]; mp == nil || blankDoc(mp.Document) {
			ri.problems = append(ri.problems, policyProblem{policy: b, arn: b, kind: problemMissing,
				detail: "the permissions boundary policy was not collected, so what it allows is unknown", shown: "not collected", severity: Medium})
			ri.boundaryUnavailable, ri.boundaryMissing = b, true
			e.gaps = append(e.gaps, fmt.Sprintf("role %s: permissions boundary %s was not collected; grants it could block are reported as indeterminate", role.ARN, b))
		} else if p := e.parse(ri, "boundary:"+b, b, mp.Document); p != nil {
			ri.boundary = []policy.NamedPolicy{{Name: "boundary:" + b, Policy: p}}
		} else {
			// IAM accepted this boundary, so a parse failure is ours to
			// report (PL001); what it allows is unknown.
			ri.boundaryUnavailable = b
		}
	}
	if blankDoc(role.TrustPolicy) {
		ri.trustUnavailable = true
		ri.problems = append(ri.problems, policyProblem{policy: trustPolicyName, kind: problemMissing,
			detail: "the trust policy was not collected, so whether ECS may assume the role is unknown", shown: "not collected", severity: Medium})
		e.gaps = append(e.gaps, fmt.Sprintf("role %s: the trust policy was not collected; whether ECS may assume it is reported as indeterminate", role.ARN))
	} else if p, err := policy.ParseString(trustPolicyName, role.TrustPolicy); err != nil {
		ri.trustErr = err
		ri.problems = append(ri.problems, parseProblem(trustPolicyName, "", err))
	} else {
		ri.trust = p
	}
	e.roles[key] = ri
	return ri
}

// uncollectedIdentity records an identity policy that was not collected.
func (e *evaluation) uncollectedIdentity(ri *roleInfo, name, arn, detail string) {
	ri.problems = append(ri.problems, policyProblem{policy: name, arn: arn, kind: problemMissing, detail: detail, shown: "not collected", severity: Medium})
	ri.unavailable = append(ri.unavailable, name)
	e.gaps = append(e.gaps, fmt.Sprintf("role %s: policy %s was not collected; needs it could grant or deny are reported as indeterminate", ri.role.ARN, name))
}

// blankDoc is a policy document that was not collected: empty, or the JSON
// null (the snapshot loader accepts one only with a collection error).
func blankDoc(doc string) bool {
	d := strings.TrimSpace(doc)
	return d == "" || d == "null"
}

// managedKey identifies a managed policy document as parsed: the name it
// is evaluated under and the document.
type managedKey struct{ name, doc string }

// parsedPolicy is a policy document parsed, with what is wrong with it.
type parsedPolicy struct {
	p        *policy.Policy
	err      error
	problems []policyProblem
}

// parse parses one identity or boundary policy of a role (arn: the
// managed policy's, "" for an inline one), recording its problems on the
// role. A managed policy's document is parsed once for every role that
// attaches it (the parsed policy is read only; a fix that adds statements
// works on a copy).
func (e *evaluation) parse(ri *roleInfo, name, arn, doc string) *policy.Policy {
	var pp parsedPolicy
	k := managedKey{name, doc}
	if cached, ok := e.managedParsed[k]; ok && arn != "" {
		pp = cached
	} else {
		pp.p, pp.err = policy.ParseString(name, doc)
		if pp.err != nil {
			pp.problems = []policyProblem{parseProblem(name, arn, pp.err)}
		} else {
			pp.problems = unknownActions(name, arn, pp.p)
		}
		if arn != "" {
			e.managedParsed[k] = pp
		}
	}
	ri.problems = append(ri.problems, pp.problems...)
	if pp.err != nil {
		if mayDeny(doc) {
			ri.unreadableMayDeny = append(ri.unreadableMayDeny, name)
		}
		return nil
	}
	return pp.p
}

// input is the policy.Input for requests by this role to a resource in
// resourceAccount of service svc.
func (e *evaluation) input(ri *roleInfo, svc, resourceAccount string) *policy.Input {
	in := &policy.Input{Identity: ri.identity, Boundary: ri.boundary, SCPLevels: e.scpLevels(ri.account).levels}
	if rcpServices[svc] {
		if ra := e.account(resourceAccount); ra != nil {
			in.RCPLevels = e.rcpLevels(ra).levels
		}
	}
	return in
}

// orgLevels are the SCP or RCP levels of an account. When some of them were
// not collected, incomplete says which, and each level that may miss
// policies holds a stand-in that allows everything: the best case, so that a
// collection gap never becomes a denial. The decision is then confirmed only
// if it is a denial anyway; an Allow is indeterminate (decide).
type orgLevels struct {
	levels     [][]policy.NamedPolicy
	incomplete string
}

// scpLevels returns the SCP levels of an account: root, each OU, the
// account. None apply outside an organization or to the management account.
func (e *evaluation) scpLevels(a *inventory.Account) orgLevels {
	return e.orgLevels(a, e.scps, inventory.PolicyTypeSCP, func(n inventory.PathNode) []string { return n.SCPs })
}

func (e *evaluation) rcpLevels(a *inventory.Account) orgLevels {
	org := e.inv.Organization
	if org == nil || !org.RCPsEnabled {
		return orgLevels{}
	}
	return e.orgLevels(a, e.rcps, inventory.PolicyTypeRCP, func(n inventory.PathNode) []string { return n.RCPs })
}

// notCollectedPolicy stands in for organization policies that were not
// collected: in the best case they allow everything.
var notCollectedPolicy = func() policy.NamedPolicy {
	p, err := policy.ParseString("not-collected", `{"Version":"2012-10-17","Statement":[{"Sid":"BestCase","Effect":"Allow","Action":"*","Resource":"*"}]}`)
	if err != nil {
		panic(err)
	}
	return policy.NamedPolicy{Name: "(not collected)", Policy: p}
}()

func (e *evaluation) orgLevels(a *inventory.Account, cache map[string]orgLevels, typ string, ids func(inventory.PathNode) []string) orgLevels {
	org := e.inv.Organization
	if org == nil || len(a.Path) == 0 || a.ID == org.ManagementAccountID {
		return orgLevels{}
	}
	if lv, ok := cache[a.ID]; ok {
		return lv
	}
	kind := "service control policies"
	if typ == inventory.PolicyTypeRCP {
		kind = "resource control policies"
	}
	var out orgLevels
	var missing []string
	empty := 0
	for _, n := range a.Path {
		var lvl []policy.NamedPolicy
		lost := false
		for _, id := range ids(n) {
			p := e.orgPolicy(id)
			if p == nil {
				missing = append(missing, id)
				lost = true
				continue
			}
			lvl = append(lvl, policy.NamedPolicy{Name: p.Name, Policy: p})
		}
		if len(ids(n)) == 0 {
			empty++
			lost = true
		}
		if lost {
			lvl = append(lvl, notCollectedPolicy)
		}
		out.levels = append(out.levels, lvl)
	}
	switch {
	case a.Path[0].Type != inventory.NodeRoot:
		out.incomplete = fmt.Sprintf("the organization path of account %s does not reach the root (not fully collected), so %s above it are unknown", a.ID, kind)
	case empty == len(a.Path):
		// Every level of an organization has at least one SCP
		// (FullAWSAccess), and once RCPs are enabled (rcpLevels checks)
		// every level has RCPFullAWSAccess: none at all means they were
		// not collected.
		out.incomplete = fmt.Sprintf("no %s were collected on the path of account %s", kind, a.ID)
	case len(missing) > 0 || empty > 0:
		// SCPs (and, once enabled, RCPs) are attached at every level, so an
		// empty level or a missing policy means the path was not fully
		// collected.
		var what []string
		if empty > 0 {
			what = append(what, count(empty, "level", "levels")+" without policies")
		}
		if len(missing) > 0 {
			what = append(what, "missing "+strings.Join(missing, ", "))
		}
		out.incomplete = fmt.Sprintf("the %s on the path of account %s were not all collected (%s)", kind, a.ID, strings.Join(what, "; "))
	}
	if out.incomplete != "" {
		e.gaps = append(e.gaps, out.incomplete+"; needs they could deny are reported as indeterminate")
	}
	cache[a.ID] = out
	return out
}

func (e *evaluation) orgPolicy(id string) *policy.Policy {
	if p, ok := e.orgDocs[id]; ok {
		return p
	}
	op := e.inv.Organization.Policies[id]
	if op == nil {
		e.orgDocs[id] = nil
		return nil
	}
	if op.Type == inventory.PolicyTypeRCP && !e.inv.Organization.RCPsEnabled {
		e.orgDocs[id] = nil
		return nil
	}
	name := orgPolicyName(id, op)
	src := policySource{kind: sourceSCP, phrase: "SCP " + name, name: op.Name, id: id}
	if op.Type == inventory.PolicyTypeRCP {
		src.kind, src.phrase = sourceRCP, "RCP "+name
	}
	e.orgSources[name] = src
	p, err := policy.ParseString(name, op.Document)
	if err != nil {
		e.gaps = append(e.gaps, "organization policy "+id+" could not be parsed; what it allows or denies is unknown: "+err.Error())
		e.orgDocs[id] = nil
		return nil
	}
	e.orgDocs[id] = p
	return p
}

// orgPolicyName is the name an SCP or RCP is evaluated under: "name (id)".
func orgPolicyName(id string, op *inventory.OrgPolicy) string {
	name := op.Name
	if name == "" {
		name = id
	}
	return name + " (" + id + ")"
}

// sortedRoles returns every role that is some task definition's execution
// role, sorted by ARN.
func (e *evaluation) sortedRoles() []*roleInfo {
	var out []*roleInfo
	for _, ri := range e.roles {
		if ri != nil && len(ri.usedBy) > 0 {
			out = append(out, ri)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].arn() < out[j].arn() })
	return out
}

// mayDeny says whether a policy document the engine could not parse may hold
// a Deny: true unless it reads, leniently, as statements that are all
// "Effect": "Allow". A document that is not JSON at all, or whose
// statements cannot be told apart, may deny.
func mayDeny(doc string) bool {
	d := strings.TrimSpace(doc)
	if !strings.HasPrefix(d, "{") {
		if u, err := url.PathUnescape(d); err == nil {
			d = strings.TrimSpace(u)
		}
	}
	var top struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(d), &top) != nil || len(top.Statement) == 0 {
		return true
	}
	type stmt struct{ Effect json.RawMessage }
	var list []stmt
	if json.Unmarshal(top.Statement, &list) != nil {
		var one stmt
		if json.Unmarshal(top.Statement, &one) != nil {
			return true
		}
		list = []stmt{one}
	}
	for _, st := range list {
		if string(st.Effect) != `"Allow"` {
			return true
		}
	}
	return false
}
