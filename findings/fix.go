package findings

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// Remediation from why a cause failed: the fixes of each deciding layer,
// and their proof by the policy engine.

// text renders the fix as plain text: the summary, then the steps.
func (f Fix) text() string {
	return strings.TrimSpace(strings.Join(append([]string{f.Summary}, f.Steps...), " "))
}

// needItem is one need of a finding with its verdict.
type needItem struct {
	n *derivedNeed
	v *verdict
}

func needsOf(items []needItem) []Need {
	out := make([]Need, len(items))
	for i, it := range items {
		out[i] = it.n.Need
	}
	return out
}

// reevaluate decides the needs again on what was collected, with apply
// changing the engine's input (a suggested policy added where it would go),
// and returns, for every need that is still not allowed, the need and the
// engine's reason.
func (e *evaluation) reevaluate(t *tdInfo, items []needItem, apply func(in *policy.Input)) []string {
	var out []string
	for _, it := range items {
		if it.v == nil || it.v.in == nil {
			continue
		}
		in := *it.v.in
		in.Identity = slices.Clone(in.Identity)
		in.Boundary = slices.Clone(in.Boundary)
		apply(&in)
		ctx := it.v.ctx
		if ctx == nil {
			ctx = e.requestContext(t, it.n)
		}
		req := policy.Request{Principal: t.exec.arn(), Action: it.n.Action, Context: ctx}
		if r, _ := evaluateReadings(&in, &req, &it.n.Need); r.Decision != policy.Allowed {
			out = append(out, "With that added, "+it.n.Action+" on "+it.n.Resource+" is still "+decisionWords(r.Decision)+": "+r.Reason+".")
		}
	}
	return out
}

// decisionWords says a decision in words.
func decisionWords(d policy.Decision) string {
	switch d {
	case policy.ExplicitDeny:
		return "denied explicitly"
	case policy.ImplicitDeny:
		return "denied"
	case policy.Indeterminate:
		return "not confirmed"
	}
	return "allowed"
}

// parseSuggested parses a suggested policy; it is built from plain
// strings, so a failure is a bug.
func parseSuggested(name string, doc json.RawMessage) *policy.Policy {
	p, err := policy.Parse(name, doc)
	if err != nil {
		panic("findings: suggested policy does not parse: " + err.Error())
	}
	return p
}

// addIdentity adds a suggested policy to the role's identity policies.
func addIdentity(doc json.RawMessage) func(in *policy.Input) {
	p := parseSuggested("suggested", doc)
	return func(in *policy.Input) {
		in.Identity = append(in.Identity, policy.NamedPolicy{Name: "suggested", Policy: p})
	}
}

// addBoundary adds a suggested policy to the permissions boundary (several
// boundary documents allow what any of them allows).
func addBoundary(doc json.RawMessage) func(in *policy.Input) {
	p := parseSuggested("suggested-boundary", doc)
	return func(in *policy.Input) {
		in.Boundary = append(in.Boundary, policy.NamedPolicy{Name: "suggested-boundary", Policy: p})
	}
}

// addResourceStatements adds suggested statements to the resource policy
// (or gives the resource one, where it has none).
func addResourceStatements(doc json.RawMessage) func(in *policy.Input) {
	p := parseSuggested("suggested-resource-policy", doc)
	return func(in *policy.Input) {
		merged := &policy.Policy{Name: p.Name, Version: p.Version, Statements: p.Statements}
		if old := in.ResourcePolicy; old != nil && old.Policy != nil {
			merged = &policy.Policy{Name: old.Policy.Name, Version: old.Policy.Version,
				Statements: append(slices.Clone(old.Policy.Statements), p.Statements...)}
		}
		in.ResourcePolicy = &policy.NamedPolicy{Name: merged.Name, Policy: merged}
		in.ResourcePolicyAbsent = false
	}
}

// statementStyle is how a resource policy's statement names the resource.
type statementStyle int

const (
	styleResources        statementStyle = iota // the needed resources, exactly
	styleKeyPolicy                              // "*", which in a key policy means the key itself
	styleRepositoryPolicy                       // no Resource: a repository policy applies to its repository only
)

// resourcePolicyStatement is what to add to a resource's policy so that it
// allows the role exactly the needs: the role as principal, the needed
// actions on the needed resources (as style says), one statement per set
// of resources.
func resourcePolicyStatement(roleARN string, needs []Need, style statementStyle) json.RawMessage {
	type principal struct {
		AWS string `json:"AWS"`
	}
	type statement struct {
		Sid       string    `json:"Sid"`
		Effect    string    `json:"Effect"`
		Principal principal `json:"Principal"`
		Action    any       `json:"Action"`
		Resource  any       `json:"Resource,omitempty"`
	}
	var order []string
	actions := map[string][]string{}
	resources := map[string][]string{}
	for _, n := range needs {
		rs := policyResources(n)
		switch style {
		case styleKeyPolicy:
			rs = []string{"*"}
		case styleRepositoryPolicy:
			rs = nil
		}
		rs = slices.Compact(slices.Sorted(slices.Values(rs)))
		k := strings.Join(rs, "\x00")
		if _, ok := actions[k]; !ok {
			order = append(order, k)
			resources[k] = rs
		}
		if !slices.Contains(actions[k], n.Action) {
			actions[k] = append(actions[k], n.Action)
		}
	}
	slices.Sort(order)
	doc := struct {
		Version   string      `json:"Version"`
		Statement []statement `json:"Statement"`
	}{Version: "2012-10-17"}
	for i, k := range order {
		sid := "AllowEcsExecutionRole"
		if i > 0 {
			sid += strconv.Itoa(i + 1)
		}
		acts := slices.Sorted(slices.Values(actions[k]))
		st := statement{Sid: sid, Effect: "Allow", Principal: principal{AWS: roleARN}, Action: oneOrMany(acts)}
		if len(resources[k]) > 0 {
			st.Resource = oneOrMany(resources[k])
		}
		doc.Statement = append(doc.Statement, st)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // plain strings cannot fail to marshal
	}
	return b
}

// orgNode is the root, OU or account at a level of an account's path.
func orgNode(a *inventory.Account, level int) *inventory.PathNode {
	if a == nil || level < 0 || level >= len(a.Path) {
		return nil
	}
	return &a.Path[level]
}

// nodePhrase names a root, OU or account: "OU Workloads (ou-ab12-…)".
func nodePhrase(n *inventory.PathNode) string {
	if n == nil {
		return "an unknown level of the organization"
	}
	typ := n.Type
	switch n.Type {
	case inventory.NodeRoot:
		typ = "the root"
	case inventory.NodeOU:
		typ = "OU"
	case inventory.NodeAccount:
		typ = "account"
	}
	if n.Name != "" {
		return typ + " " + n.Name + " (" + n.ID + ")"
	}
	return typ + " " + n.ID
}

func orgNodeRef(n *inventory.PathNode) *OrgNode {
	if n == nil {
		return nil
	}
	return &OrgNode{ID: n.ID, Name: n.Name, Type: n.Type}
}

// permittedHint says, for needs an SCP or RCP denies, what the realistic
// alternative in the task definition is.
func permittedHint(needs []Need) string {
	var hints []string
	seen := map[string]bool{}
	for _, n := range needs {
		var h string
		switch n.Feature {
		case FeatureAwslogs:
			h = "point awslogs-group and awslogs-region (" + n.FieldPath + ") at a log group in a region the policy permits"
		case FeatureECRPull:
			h = "pull the image from a repository in a region the policy permits"
		case FeatureSecretsManager, FeatureSSMParameter, FeaturePrivateRegistry, FeatureFSxCredentials:
			h = "reference a secret or parameter in a region the policy permits (" + n.FieldPath + ")"
		case FeatureKMSDecrypt:
			h = "encrypt the secret with a key the policy permits"
		case FeatureEnvironmentFile, FeatureFirelensS3Config:
			h = "keep the file in a bucket the policy permits (" + n.FieldPath + ")"
		default:
			h = "use a region or resource the policy permits"
		}
		if !seen[h] {
			seen[h] = true
			hints = append(hints, h)
		}
	}
	return "Use what the policy permits: " + strings.Join(hints, "; ") + ", in a new task definition revision."
}

// actionsOn is "A and B on R; C on S" for a set of needs.
func actionsOn(needs []Need) string {
	var res []string
	acts := map[string][]string{}
	for _, n := range needs {
		if _, ok := acts[n.Resource]; !ok {
			res = append(res, n.Resource)
		}
		if !slices.Contains(acts[n.Resource], n.Action) {
			acts[n.Resource] = append(acts[n.Resource], n.Action)
		}
	}
	var parts []string
	for _, r := range res {
		parts = append(parts, listAnd(acts[r])+" on "+r)
	}
	return strings.Join(parts, "; ")
}
