package findings

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ecs-audit/audit/policy"
)

var ruleER005 = &rule{RuleMeta: RuleMeta{
	ID:            "ER005",
	Title:         "Whether a needed permission is granted cannot be confirmed",
	Severity:      Medium,
	SeverityRange: SeverityRange{Min: Low, Max: Medium},
	Description: "The execution role is allowed a permission the task needs only when condition keys have values that cannot be known statically " +
		"(aws:SourceVpce, aws:ResourceTag/…, kms:ViaService…), only if a resource policy that was not collected also allows it " +
		"(cross-account resources, KMS key policies, the ECR registry policy), only for some values of a part of the resource that is not known " +
		"(a secret's 6-character suffix), while a policy that applies was not collected and may deny it (an identity policy, an SCP or RCP level, " +
		"a secret's resource policy, a repository, registry or bucket policy), or while whether a resource the task needs exists could not be checked " +
		"(the lookup failed, or the resource is in an account or region outside the scan). One finding per task definition and set of unknowns, listing every need that hangs on them. " +
		"Medium, or the needs' own lower severity when their denial would be low (a permission the task can start without).",
	Why:         "Whether the task starts depends on the network path or on a policy outside the scan. When the condition does not hold, the task fails at start.",
	Remediation: "Settle what the decision hangs on, as the finding's fix says: confirm the condition key's value, collect the policy that was not collected (the fix names the permission), resolve the secret; or grant the need for certain on the exact resource.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html",
	},
	Tags:      []string{"availability", "ecs", "iam", "indeterminate"},
	Precision: "medium",
}, check: checkER005}

func init() { register(ruleER005) }

func checkER005(e *evaluation, r *rule) {
	for _, t := range e.roleUsers() {
		type group struct {
			unknowns []Unknown
			items    []needItem
		}
		var groups grouped[group]
		for i := range t.needs {
			v := t.decs[i]
			if v == nil || v.Decision != policy.Indeterminate {
				continue
			}
			g := groups.get(unknownsKey(v.unknowns), func() *group { return &group{unknowns: v.unknowns} })
			g.items = append(g.items, needItem{&t.needs[i], v})
		}
		for _, key := range groups.keys() {
			g := groups.m[key]
			e.emitUnconfirmed(r, t, g.unknowns, g.items, causePrefix(t)+key)
		}
	}
}

// unconfirmedSeverity is the severity model (README): a need that cannot
// be confirmed may stop the task, whatever the unknown is (a condition key,
// a policy outside the scan or not collected, an unresolved suffix):
// medium, so that --fail-on medium never passes it. Only a need whose
// denial is itself below medium (ecr:BatchCheckLayerAvailability, which a
// task can start without) keeps that lower severity.
func unconfirmedSeverity(n *derivedNeed) Severity {
	if n.severity.Rank() < Medium.Rank() {
		return n.severity
	}
	return Medium
}

// emitUnconfirmed emits one ER005: the needs that hang on one set of
// unknowns.
func (e *evaluation) emitUnconfirmed(r *rule, t *tdInfo, unknowns []Unknown, items []needItem, key string) {
	slices.SortStableFunc(items, func(a, b needItem) int {
		return unconfirmedSeverity(b.n).Rank() - unconfirmedSeverity(a.n).Rank()
	})
	var ev []NeedEvidence
	var members []string
	containers := map[string]bool{}
	sev := Info
	for _, it := range items {
		res := it.v.Result
		s := unconfirmedSeverity(it.n)
		ev = append(ev, NeedEvidence{Need: it.n.Need, Severity: s, Decision: &res})
		members = append(members, legacyNeedID(r.ID, t, it.n.Need))
		containers[it.n.Container] = true
		if s.Rank() > sev.Rank() {
			sev = s
		}
	}
	var descs []string
	for _, u := range unknowns {
		descs = append(descs, u.Description)
	}
	first := ev[0].Need
	facts := map[string]string{"fieldPath": first.FieldPath}
	for _, u := range unknowns {
		if u.Kind == UnknownConditionKeys {
			facts["unknownKeys"] = u.Subject
		}
	}
	f := Finding{
		Severity: sev, Title: unknownsTitle(unknowns), AccountID: t.account.ID, Region: t.region,
		ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN, TaskDefinitionARN: t.td.ARN, RoleARN: t.execARN,
		Affected: serviceRefs(t),
		Message: fmt.Sprintf("Whether %s may call %s cannot be confirmed: %s.",
			lowerFirst(roleSubject(t)), needsPhrase(needsOf(items)), strings.Join(descs, "; and ")) + pathSentences(items) + launchedBy(t),
		Evidence: Evidence{Need: &first, Decision: ev[0].Decision, Needs: ev, Unknowns: unknowns, Facts: facts},
		Fix:      e.unconfirmedFix(t, unknowns, items),
	}
	if len(containers) == 1 {
		f.Container = first.Container
	}
	r.emit(e, f, key, members...)
}

// unknownsTitle fits what the decision hangs on.
func unknownsTitle(us []Unknown) string {
	const lead = "A needed permission depends on "
	kinds := map[string]bool{}
	for _, u := range us {
		switch u.Kind {
		case UnknownConditionKeys:
			kinds["keys"] = true
		case UnknownResourcePart, UnknownSecretName:
			kinds["resource"] = true
		case UnknownAuthorizationResource:
			kinds["authorization"] = true
		case UnknownExistence:
			kinds["existence"] = true
		case UnknownNetworkPath:
			kinds["path"] = true
		default:
			kinds["policy"] = true
		}
	}
	if len(kinds) > 1 {
		return "Whether a needed permission is granted cannot be confirmed"
	}
	switch {
	case kinds["keys"]:
		return lead + "condition keys whose values cannot be confirmed"
	case kinds["resource"]:
		return lead + "a part of the resource that is not known"
	case kinds["authorization"]:
		return "A needed permission is granted on the log group, not on its streams"
	case kinds["existence"]:
		return "Whether a resource the task needs exists could not be checked"
	case kinds["path"]:
		return lead + "which network path the call takes"
	}
	return lead + "a policy that was not collected or cannot be read"
}

// identitySettles are the unknowns that a grant in the role's identity
// policies can settle.
var identitySettles = map[UnknownKind]bool{
	UnknownConditionKeys: true, UnknownResourcePart: true, UnknownSecretName: true,
	UnknownAuthorizationResource: true, UnknownRegistryPolicy: true,
}

// unconfirmedFix: what would settle each unknown, and, where the engine
// proves that a grant in the role's identity policies settles all of them,
// that grant.
func (e *evaluation) unconfirmedFix(t *tdInfo, unknowns []Unknown, items []needItem) Fix {
	fix := Fix{Layer: FixConfirm, Target: &FixTarget{Type: ResourceRole, ARN: t.exec.arn(), Name: t.exec.role.Name}}
	settles := true
	for _, u := range unknowns {
		fix.Steps = append(fix.Steps, u.Settle)
		settles = settles && identitySettles[u.Kind]
	}
	if len(fix.Steps) == 1 {
		fix.Summary, fix.Steps = fix.Steps[0], nil
	} else {
		fix.Summary = "Settle each thing the decision hangs on, then run the audit again."
	}
	if !settles {
		return fix
	}
	doc := leastPrivilege(needsOf(items))
	if len(e.reevaluate(t, items, addIdentity(doc))) > 0 {
		return fix
	}
	fix.SuggestedPolicy, fix.SuggestedPolicyLayer = doc, FixIdentity
	fix.SuggestedPolicyTarget = "an identity policy of role " + t.exec.arn()
	fix.Steps = append(fix.Steps, "Or make it certain: add the suggested statements to an identity policy of role "+t.exec.arn()+"; they grant exactly "+actionsOn(needsOf(items))+", whatever the unknowns turn out to be.")
	return fix
}
