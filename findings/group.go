package findings

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"

	"github.com/ecs-audit/audit/policy"
)

// One finding per root cause.
//
// A finding is one thing to fix: a cause on a resource. Findings are
// grouped by (rule, account, region, resource, cause key), and every item
// the cause affects (a need, an unmet constraint, a value…) is listed in
// the finding's evidence instead of becoming a finding of its own. The
// keys are defined here, and only here:
//
//	rule          resource                          cause key                              items
//	AG001–AG003   container instance                "" (one per instance)                  constraints (AG001/AG002/AG003 facts)
//	ER001         task definition                   ""                                     needs
//	ER002         task definition                   the execution role ARN                 –
//	ER003         execution role                    the outcome: denied, conditions, not   –  (affected: task definitions)
//	                                                collected
//	ER004         task definition                   the deciding statement or missing      needs
//	                                                grant (denial.causeKey)
//	ER005         task definition                   the unknowns (unknownsKey)             needs
//	ER006         execution role                    ""                                     excess grants
//	ER007         task definition                   ""                                     –
//	ER008         execution role                    ""                                     –
//	FG001         service or other launch (platform the task definition ARN, or            features
//	              version) or task definition        "unsupported"
//	              (unsupported)
//	NW001         task definition                   "no-path|" route table "|" public IP,   needs (affected: launches)
//	                                                or "endpoint|" the S3 endpoint
//	PL001         managed policy, or the role for   "" (managed), or the policy's name     problems (affected: roles)
//	              its inline and trust policies
//	RS001         task definition                   the missing resource: its kind and     needs
//	                                                ARN (existence.causeKey)
//	TD001         task definition                   ""                                     values
//
// RS001 is keyed by the resource, not by the reference: two containers
// that name one missing log group are one cause (create it), and a
// missing bucket is one cause for every object in it. A repository that
// does not exist is one cause whatever tags are pulled from it; a tag that
// does not exist in a repository that does is one cause per tag.
//
// ER002–ER005 of an override unit (launch.go: the task definition with the
// execution role a launch passes in its overrides) prefix the cause key
// with "override|" and the overriding role's ARN.
//
// A container instance's finding carries the rule ID of its most severe
// unmet constraint: by severity, then AG001 (the agent predates execution
// roles: nothing that needs one runs) before AG003 (the agent predates a
// feature in use) before AG002 (an attribute is missing).
//
// The ID (Fingerprint) hashes rule, account, region, resource and cause
// key, never the list of items: a cause that comes to affect more needs,
// task definitions or constraints keeps its ID. It changes when the rule
// changes (for an instance: when its most severe constraint moves between
// AG001, AG003 and AG002), when the resource changes (a new task
// definition revision, a replaced instance, a renamed role), or when the
// cause does (another deciding statement, another unknown).
//
// MemberIDs are the IDs schema version 1 gave each item as a finding of
// its own (the legacy* functions below compute them exactly as version 1
// did), so that a baseline or a suppression written before grouping still
// matches the finding that now carries the item.

// Fingerprint is the stable identity of a finding: the same cause on the
// same resource gets the same ID in every run, so SARIF alerts and
// baselines survive re-runs. Schema version 1 passed a per-item detail
// where version 2 passes the cause key.
func Fingerprint(rule, account, region, resource, detail string) string {
	h := sha256.New()
	for _, s := range []string{rule, account, region, resource, detail} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Cause keys.

// Outcomes of the trust policy (ER003).
const (
	trustDenied       = "denied"
	trustConditions   = "conditions"
	trustNotCollected = "not-collected"
)

// fargateUnsupported is the cause key of FG001 for features Fargate does
// not support at all; a platform version too old is keyed by the task
// definition ARN on the service.
const fargateUnsupported = "unsupported"

// causeKey is the cause of an ER004: the statement that denied, or the
// layer (and, for SCPs and RCPs, the root, OU or account; for a resource
// policy, the resource) where no statement allows.
func (d denial) causeKey() string {
	scope := ""
	switch d.layer {
	case policy.LayerSCP, policy.LayerRCP:
		if d.node != nil {
			scope = d.node.ID
		}
	case policy.LayerResourcePolicy:
		scope = d.rp.resource
	case policy.LayerVPCEndpoint:
		if d.ep != nil {
			scope = d.ep.ID
		}
	}
	switch d.kind {
	case denialInvalid:
		return "invalid|" + d.fieldPath + "|" + d.action
	case denialExplicit:
		return "deny|" + string(d.layer) + "|" + scope + "|" + d.policyID + "|" + stmtKey(*d.stmt)
	case denialResourcePolicyAbsent:
		return "no-resource-policy|" + scope
	}
	return "no-grant|" + string(d.layer) + "|" + scope
}

// unknownsKey is the cause of an ER005: every unknown the decision hangs
// on, by kind and subject.
func unknownsKey(us []Unknown) string {
	parts := make([]string, len(us))
	for i, u := range us {
		parts[i] = string(u.Kind) + ":" + strings.ToLower(u.Subject)
	}
	return strings.Join(parts, "|")
}

// constraintRank orders a container instance's constraints, most severe
// first: severity, then AG001, AG003, AG002.
func constraintRank(c Constraint) int {
	r := c.Severity.Rank() * 10
	switch c.RuleID {
	case ruleAG001.ID:
		r += 3
	case ruleAG003.ID:
		r += 2
	case ruleAG002.ID:
		r++
	}
	return r
}

// Schema version 1 IDs (MemberIDs), computed as version 1 computed them.

// legacyNeedID is an ER004 or ER005 of one need. Version 1 had no
// override units (launch.go): theirs name the overriding role too.
func legacyNeedID(rule string, t *tdInfo, n Need) string {
	detail := n.Action + "|" + n.Resource + "|" + n.FieldPath
	if t.override != nil {
		detail += "|" + t.execARN
	}
	return Fingerprint(rule, t.account.ID, t.region, t.td.ARN, detail)
}

// legacyTrustID is an ER003 of one task definition.
func legacyTrustID(rule string, t *tdInfo, roleARN string) string {
	return Fingerprint(rule, t.account.ID, t.region, t.td.ARN, roleARN)
}

// legacyPolicyID is a PL001 of one problem of a policy on one role.
func legacyPolicyID(rule string, ri *roleInfo, p policyProblem) string {
	return Fingerprint(rule, ri.account.ID, "", ri.arn(), p.policy+"|"+p.kind.String()+"|"+p.detail)
}

// Impact.

// impactOf counts what a finding affects.
func impactOf(f *Finding) Impact {
	im := Impact{Resources: map[string]int{f.ResourceType: 1}, Items: 1}
	seen := map[string]bool{f.ResourceARN: true}
	for _, a := range f.Affected {
		if !seen[a.ARN] {
			seen[a.ARN] = true
			im.Resources[a.Type]++
		}
	}
	ev := &f.Evidence
	var noun, nouns string
	switch {
	case len(ev.Needs) > 0:
		im.Items, im.ItemKind, noun, nouns = len(ev.Needs), ItemNeed, "need", "needs"
	case len(ev.Constraints) > 0:
		im.Items, im.ItemKind, noun, nouns = len(ev.Constraints), ItemConstraint, "unmet constraint", "unmet constraints"
	case len(ev.Features) > 0:
		im.Items, im.ItemKind, noun, nouns = len(ev.Features), ItemFeature, "feature", "features"
	case len(ev.Values) > 0:
		im.Items, im.ItemKind, noun, nouns = len(ev.Values), ItemValue, "value", "values"
	case len(ev.Problems) > 0:
		im.Items, im.ItemKind, noun, nouns = len(ev.Problems), ItemProblem, "problem", "problems"
	case len(ev.Excess) > 0:
		im.Items, im.ItemKind, noun, nouns = len(ev.Excess), ItemGrant, "excess grant", "excess grants"
	}
	one, many := ResourceNoun(f.ResourceType)
	s := count(1, one, many)
	var others []string
	for _, typ := range ResourceTypeOrder {
		if typ == f.ResourceType || im.Resources[typ] == 0 {
			continue
		}
		one, many := ResourceNoun(typ)
		others = append(others, count(im.Resources[typ], one, many))
	}
	if len(others) > 0 {
		s += " × " + strings.Join(others, ", ")
	}
	if noun != "" {
		s += "; " + count(im.Items, noun, nouns)
	}
	im.Summary = s
	return im
}

// ResourceTypeOrder is the order resource types are counted in.
var ResourceTypeOrder = []string{ResourceContainerInstance, ResourceService, ResourceSchedule, ResourceEventRule, ResourceTask, ResourceTaskDefinition, ResourceRole, ResourcePolicy}

// sortRefs sorts and deduplicates resource references.
func sortRefs(refs []ResourceRef) []ResourceRef {
	slices.SortFunc(refs, func(a, b ResourceRef) int {
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return strings.Compare(a.ARN, b.ARN)
	})
	return slices.CompactFunc(refs, func(a, b ResourceRef) bool { return a.Type == b.Type && a.ARN == b.ARN })
}

// tdRef references a task definition.
func tdRef(t *tdInfo) ResourceRef {
	return ResourceRef{Type: ResourceTaskDefinition, ARN: t.td.ARN, Name: tdLabel(t)}
}

// serviceRefs are the services and other launches (tasks, rules,
// schedules: launch.go) that run a task definition.
func serviceRefs(t *tdInfo) []ResourceRef {
	var out []ResourceRef
	for _, u := range t.uses {
		out = append(out, ResourceRef{Type: ResourceService, ARN: u.service.ARN, Name: u.service.Name})
	}
	return sortRefs(append(out, launchRefs(t)...))
}

// grouped collects values under string keys; keys() returns them sorted,
// so that emission order never depends on map order.
type grouped[V any] struct {
	m map[string]*V
}

func (g *grouped[V]) get(key string, init func() *V) *V {
	if g.m == nil {
		g.m = map[string]*V{}
	}
	v, ok := g.m[key]
	if !ok {
		v = init()
		g.m[key] = v
	}
	return v
}

func (g *grouped[V]) keys() []string { return slices.Sorted(maps.Keys(g.m)) }
