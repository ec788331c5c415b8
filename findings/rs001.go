package findings

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

var ruleRS001 = &rule{RuleMeta: RuleMeta{
	ID:            "RS001",
	Title:         "A resource the task needs at start does not exist",
	Severity:      Critical,
	SeverityRange: SeverityRange{Min: Critical, Max: Critical},
	Description: "The task definition references a resource that was looked up and does not exist, or that cannot be the one referenced: " +
		"the ECR repository, or the image tag or digest (an archived image cannot be pulled until it is restored); the awslogs log group when " +
		"awslogs-create-group is not true (read as the log driver reads it: true, True and 1 are true); the S3 bucket or object of an environment " +
		"file or a FireLens configuration; a Secrets Manager secret (a secret scheduled for deletion cannot be read either) or an SSM parameter. " +
		"A repository or image under a pull-through cache rule is not missing: the first pull creates the repository and imports the image, which " +
		"needs ecr:BatchImportUpstreamImage and, while the repository does not exist, ecr:CreateRepository. One finding per task definition and " +
		"missing resource, listing every need that requires it. Where the lookup failed or the resource is outside the scan, the need is " +
		"indeterminate (ER005), never RS001 and never a pass.",
	Why: "ECS stops the task before its containers start: CannotPullContainerError for a missing repository or tag, ResourceInitializationError " +
		"for a missing secret, parameter, log group or S3 object. A service stays at zero running tasks.",
	Remediation: "Create or restore the resource, or correct the reference in a new task definition revision, as the finding's fix says.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html",
		"https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html",
	},
	Tags:      []string{"availability", "ecs", "existence"},
	Precision: "high",
}, check: checkRS001}

func init() { register(ruleRS001) }

// checkRS001 emits one finding per task definition and missing resource
// (group.go), listing the needs that require it. It does not depend on the
// execution role: a missing resource stops the task whoever calls for it.
func checkRS001(e *evaluation, r *rule) {
	for _, t := range e.tds {
		type group struct {
			x     *existence
			items []needItem
		}
		var groups grouped[group]
		for i := range t.needs {
			n := &t.needs[i]
			if n.Invalid || n.exist == nil || n.exist.status != existMissing {
				continue
			}
			g := groups.get(n.exist.causeKey(), func() *group { return &group{x: n.exist} })
			g.items = append(g.items, needItem{n, t.decs[i]})
		}
		for _, key := range groups.keys() {
			g := groups.m[key]
			e.emitMissing(r, t, g.x, g.items, key)
		}
	}
}

// emitMissing emits one RS001: a resource that does not exist and the
// needs that require it.
func (e *evaluation) emitMissing(r *rule, t *tdInfo, x *existence, items []needItem, key string) {
	var ev []NeedEvidence
	var members, refs []string
	containers := map[string]bool{}
	for _, it := range items {
		ev = append(ev, NeedEvidence{Need: it.n.Need, Severity: Critical})
		members = append(members, legacyNeedID(r.ID, t, it.n.Need))
		containers[it.n.Container] = true
		ref := "at " + it.n.FieldPath
		if it.n.Container != "" {
			ref = fmt.Sprintf("container %q at %s", it.n.Container, it.n.FieldPath)
		}
		if !slices.Contains(refs, ref) {
			refs = append(refs, ref)
		}
	}
	first := ev[0].Need
	f := Finding{
		Title: missingTitle(x, first.Feature), AccountID: t.account.ID, Region: t.region,
		ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN, TaskDefinitionARN: t.td.ARN, RoleARN: t.execARN,
		Affected: serviceRefs(t),
		Message: fmt.Sprintf("Task definition %s in %s needs %s (%s), which %s: the task cannot start.",
			tdLabel(t), where(t.account.ID, t.region), x.what, strings.Join(refs, "; "), x.why),
		Evidence: Evidence{Need: &first, Needs: ev, Facts: map[string]string{
			"fieldPath": first.FieldPath, "missing": x.subject, "missingKind": string(x.kind),
		}},
		Fix: e.missingFix(t, x, items),
	}
	if len(containers) == 1 {
		f.Container = first.Container
	}
	r.emit(e, f, key, members...)
}

// missingTitle fits the missing resource.
func missingTitle(x *existence, feature string) string {
	switch x.kind {
	case existRepository:
		return "The ECR repository the task pulls from does not exist"
	case existImage:
		if strings.HasPrefix(x.why, "is ") {
			return "The image the task pulls is archived"
		}
		return "The image tag or digest the task pulls does not exist"
	case existLogGroup:
		return "The awslogs log group does not exist, and the log driver does not create it"
	case existBucket, existObject:
		if feature == FeatureFirelensS3Config {
			return "The FireLens configuration file in S3 does not exist"
		}
		return "An environment file in S3 does not exist"
	case existSecret:
		if strings.HasPrefix(x.why, "is scheduled") {
			return "A secret the task reads is scheduled for deletion"
		}
		return "A secret the task reads does not exist"
	case existParameter:
		return "An SSM parameter the task reads does not exist"
	}
	return "A resource the task needs at start does not exist"
}

// missingFix: create or restore the resource, or correct the reference.
// A resource in another account needs a resource policy that lets the role
// in once it exists: the statement comes with the fix, proved by the
// engine on the needs (as if the resource existed with it).
func (e *evaluation) missingFix(t *tdInfo, x *existence, items []needItem) Fix {
	var paths []string
	for _, it := range items {
		if !slices.Contains(paths, it.n.FieldPath) {
			paths = append(paths, it.n.FieldPath)
		}
	}
	target := &FixTarget{Type: TargetResource, ARN: x.subject}
	if x.kind == existImage {
		repo, tag, _ := strings.Cut(x.subject, "@")
		if tag == "" {
			i := strings.LastIndex(x.subject, ":")
			repo, tag = x.subject[:i], x.subject[i+1:]
		}
		target = &FixTarget{Type: TargetResource, ARN: repo, Name: tag}
	}
	fix := Fix{Layer: FixResource, Target: target,
		Summary: x.create + ", or correct the reference at " + listAnd(paths) + " in a new revision of " + tdLabel(t) + "."}
	if x.kind == existLogGroup {
		fix.Steps = append(fix.Steps, "Or let the log driver create it: set awslogs-create-group to \"true\" in the log configuration; the execution role then also needs logs:CreateLogGroup on "+
			x.subject+".")
	}
	if t.exec == nil || x.account == "" || x.account == t.account.ID {
		return fix
	}
	// Across accounts, the new resource's policy must let the role in.
	style, noun := styleResources, ""
	switch x.kind {
	case existRepository:
		style, noun = styleRepositoryPolicy, "repository policy"
	case existBucket:
		noun = "bucket policy"
	case existSecret:
		noun = "resource policy"
	default:
		return fix
	}
	var needs []Need
	var evaluated []needItem
	for _, it := range items {
		if it.v != nil && it.v.in != nil && it.n.ServedBy == ServedByExecutionRole {
			needs = append(needs, it.n.Need)
			evaluated = append(evaluated, it)
		}
	}
	if len(needs) == 0 {
		return fix
	}
	doc := resourcePolicyStatement(t.exec.arn(), needs, style)
	fix.SuggestedPolicy, fix.SuggestedPolicyLayer = doc, FixResourcePolicy
	fix.SuggestedPolicyTarget = "the " + noun + " of " + x.subject + " (when it is created)"
	fix.Steps = append(fix.Steps, "It is in account "+x.account+", another account than the role's: give it a "+noun+
		" with the suggested statement, which allows role "+t.exec.arn()+" exactly "+actionsOn(needs)+".")
	fix.Steps = append(fix.Steps, e.reevaluate(t, evaluated, addResourceStatements(doc))...)
	return fix
}

// existenceGaps: what the report says once about existence that no need
// says. When nothing was looked up (fast mode, or a snapshot that does not
// record it) one gap says so; a need that is not decided against an
// execution role (the instance role serves it on EC2) and whose resource
// could not be checked has no ER005 to carry the unknown, so a gap names
// it.
func (e *evaluation) existenceGaps() {
	checkable := false
	for _, t := range e.tds {
		for i := range t.needs {
			n := &t.needs[i]
			if n.Invalid {
				continue
			}
			switch n.Feature {
			case FeatureKMSDecrypt:
			default:
				checkable = true
			}
			if x := n.exist; x != nil && x.status == existUnknown && n.ServedBy == ServedByInstanceRole {
				e.gaps = append(e.gaps, fmt.Sprintf("task definition %s in %s: %s; the instance role serves the need, which is not evaluated, so no finding says so",
					tdLabel(t), where(t.account.ID, t.region), x.unknown.Description))
			}
		}
	}
	if !checkable || e.res.looked() {
		return
	}
	switch e.inv.Scope.Resources {
	case inventory.ResourcesSkipped:
		e.gaps = append(e.gaps, "resources were not looked up (fast mode, --no-resolve-resources): whether the ECR repositories and images, log groups, "+
			"S3 objects, secrets and parameters that task definitions need exist, and the repository, registry and bucket policies on the way, were not checked")
	default:
		e.gaps = append(e.gaps, "the inventory does not record whether the resources task definitions reference were looked up (no scope.resources: "+
			"a version 1 snapshot, or one written by hand): whether the ECR repositories and images, log groups, S3 objects, secrets and parameters "+
			"that task definitions need exist, and the repository, registry and bucket policies on the way, were not checked")
	}
}

// decidedByRS001 says whether a need's denial belongs to RS001: its
// resource does not exist, so it has no resource policy yet.
func decidedByRS001(n *derivedNeed, v *verdict) bool {
	return n.exist != nil && n.exist.status == existMissing && v != nil &&
		v.Decision == policy.ImplicitDeny && v.DecidingLayer == policy.LayerResourcePolicy
}
