package findings

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// rcpServices are the services resource control policies apply to (the
// launch set, ecs-facts §5.1; later additions are UNCONFIRMED).
var rcpServices = map[string]bool{"s3": true, "sts": true, "kms": true, "sqs": true, "secretsmanager": true}

// policyProblem is a policy attached to a role that could not be parsed,
// or that names an action that does not exist.
type policyProblem struct {
	policy   string // name as reported
	kind     string // "malformed", "unknown-action", "missing"
	detail   string
	severity Severity
}

// roleInfo is an IAM role with its parsed policies.
type roleInfo struct {
	account  *inventory.Account
	role     *inventory.Role
	identity []policy.NamedPolicy
	boundary []policy.NamedPolicy
	trust    *policy.Policy
	trustErr error
	problems []policyProblem
	usedBy   []*tdInfo
	// unavailable are attached policies that were not collected;
	// boundaryUnavailable is a boundary that was not collected or not
	// readable. Denials (resp. grants) that they could change are
	// indeterminate.
	unavailable         []string
	boundaryUnavailable string
}

func (r *roleInfo) arn() string { return r.role.ARN }

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
	ri := &roleInfo{account: a, role: role}
	managed := map[string]*inventory.ManagedPolicy{}
	for _, p := range a.IAM.ManagedPolicies {
		managed[p.ARN] = p
	}
	for _, ip := range role.InlinePolicies {
		name := "inline:" + ip.Name
		if p := ri.parse(name, ip.Document); p != nil {
			ri.identity = append(ri.identity, policy.NamedPolicy{Name: name, Policy: p})
		}
	}
	for _, arn := range role.AttachedPolicies {
		mp := managed[arn]
		if mp == nil {
			ri.problems = append(ri.problems, policyProblem{policy: arn, kind: "missing",
				detail: "the attached managed policy was not collected, so what it grants is unknown", severity: Medium})
			ri.unavailable = append(ri.unavailable, arn)
			e.gaps = append(e.gaps, fmt.Sprintf("role %s: attached policy %s was not collected; denials it could lift are reported as indeterminate", role.ARN, arn))
			continue
		}
		if p := ri.parse(arn, mp.Document); p != nil {
			ri.identity = append(ri.identity, policy.NamedPolicy{Name: arn, Policy: p})
		}
	}
	if b := role.PermissionsBoundary; b != "" {
		if mp := managed[b]; mp == nil {
			ri.problems = append(ri.problems, policyProblem{policy: b, kind: "missing",
				detail: "the permissions boundary policy was not collected, so what it allows is unknown", severity: Medium})
			ri.boundaryUnavailable = b
			e.gaps = append(e.gaps, fmt.Sprintf("role %s: permissions boundary %s was not collected; grants it could block are reported as indeterminate", role.ARN, b))
		} else if p := ri.parse("boundary:"+b, mp.Document); p != nil {
			ri.boundary = []policy.NamedPolicy{{Name: "boundary:" + b, Policy: p}}
		} else {
			// IAM accepted this boundary, so a parse failure is ours to
			// report (PL001); what it allows is unknown.
			ri.boundaryUnavailable = b
		}
	}
	if p, err := policy.ParseString("trust-policy", role.TrustPolicy); err != nil {
		ri.trustErr = err
		ri.problems = append(ri.problems, policyProblem{policy: "trust-policy", kind: "malformed", detail: err.Error(), severity: High})
	} else {
		ri.trust = p
	}
	e.roles[key] = ri
	return ri
}

// parse parses one identity or boundary policy, recording problems.
func (ri *roleInfo) parse(name, doc string) *policy.Policy {
	p, err := policy.ParseString(name, doc)
	if err != nil {
		ri.problems = append(ri.problems, policyProblem{policy: name, kind: "malformed", detail: err.Error(), severity: High})
		return nil
	}
	ri.problems = append(ri.problems, unknownActions(name, p)...)
	return p
}

// input is the policy.Input for requests by this role to a resource in
// resourceAccount of service svc.
func (e *evaluation) input(ri *roleInfo, svc, resourceAccount string) *policy.Input {
	in := &policy.Input{Identity: ri.identity, Boundary: ri.boundary, SCPLevels: e.scpLevels(ri.account)}
	if rcpServices[svc] {
		if ra := e.accounts[resourceAccount]; ra != nil {
			in.RCPLevels = e.rcpLevels(ra)
		}
	}
	return in
}

// scpLevels returns the SCP levels of an account: root, each OU, the
// account. None apply outside an organization or to the management account.
func (e *evaluation) scpLevels(a *inventory.Account) [][]policy.NamedPolicy {
	return e.orgLevels(a, e.scps, inventory.PolicyTypeSCP, func(n inventory.PathNode) []string { return n.SCPs })
}

func (e *evaluation) rcpLevels(a *inventory.Account) [][]policy.NamedPolicy {
	org := e.inv.Organization
	if org == nil || !org.RCPsEnabled {
		return nil
	}
	return e.orgLevels(a, e.rcps, inventory.PolicyTypeRCP, func(n inventory.PathNode) []string { return n.RCPs })
}

func (e *evaluation) orgLevels(a *inventory.Account, cache map[string][][]policy.NamedPolicy, typ string, ids func(inventory.PathNode) []string) [][]policy.NamedPolicy {
	org := e.inv.Organization
	if org == nil || len(a.Path) == 0 || a.ID == org.ManagementAccountID {
		return nil
	}
	if lv, ok := cache[a.ID]; ok {
		return lv
	}
	if a.Path[0].Type != inventory.NodeRoot {
		e.gaps = append(e.gaps, fmt.Sprintf("account %s: its organization path does not reach the root (not fully collected); organization policies were left out of the evaluation", a.ID))
		cache[a.ID] = nil
		return nil
	}
	var levels [][]policy.NamedPolicy
	var missing []string
	empty := 0
	for _, n := range a.Path {
		var lvl []policy.NamedPolicy
		for _, id := range ids(n) {
			p := e.orgPolicy(id)
			if p == nil {
				missing = append(missing, id)
				continue
			}
			lvl = append(lvl, policy.NamedPolicy{Name: p.Name, Policy: p})
		}
		if len(ids(n)) == 0 {
			empty++
		}
		levels = append(levels, lvl)
	}
	scp := typ == inventory.PolicyTypeSCP
	switch {
	case empty == len(a.Path) && scp:
		// Every level of an organization has at least one SCP
		// (FullAWSAccess): none at all means they were not collected.
		e.gaps = append(e.gaps, fmt.Sprintf("account %s: no service control policies were collected on its path; SCPs were left out of the evaluation", a.ID))
		levels = nil
	case empty == len(a.Path):
		// No RCP on any level: RCPs are not enabled (RCPFullAWSAccess is
		// attached everywhere when they are).
		levels = nil
	case len(missing) > 0 || empty > 0:
		// SCPs are attached at every level of an organization (at least
		// FullAWSAccess), so an empty level or a missing policy means the
		// path was not fully collected. Evaluating the rest would turn a
		// collection gap into false denials: leave them out, and say so.
		e.gaps = append(e.gaps, fmt.Sprintf("account %s: the organization policies on its path were not all collected (%d level(s) without policies, missing %v); they were left out of the evaluation", a.ID, empty, missing))
		levels = nil
	}
	cache[a.ID] = levels
	return levels
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
	name := op.Name
	if name == "" {
		name = id
	}
	p, err := policy.ParseString(name+" ("+id+")", op.Document)
	if err != nil {
		e.gaps = append(e.gaps, "organization policy "+id+" could not be parsed and was left out of the evaluation: "+err.Error())
		e.orgDocs[id] = nil
		return nil
	}
	e.orgDocs[id] = p
	return p
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
