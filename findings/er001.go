package findings

import (
	"fmt"
	"slices"
	"strings"
)

var ruleER001 = &rule{RuleMeta: RuleMeta{
	ID:            "ER001",
	Title:         "Task definition needs an execution role but names none",
	Severity:      Critical,
	SeverityRange: SeverityRange{Min: Critical, Max: Critical},
	Description: "The task definition uses a feature that only the task execution role can serve (on Fargate: private ECR images and awslogs; " +
		"on any launch type: secrets, secretOptions, repositoryCredentials, environmentFiles, FireLens configuration from S3) but executionRoleArn is empty.",
	Why: "Without an execution role the ECS agent or Fargate has no credentials for these calls: registration is refused, or tasks stop at start " +
		"with ResourceInitializationError. On EC2, ECR pulls and awslogs fall back to the container instance role, so they alone do not fire this rule.",
	Remediation: "Create a role trusted by ecs-tasks.amazonaws.com, attach the least-privilege policy shown in the evidence, and set executionRoleArn in a new task definition revision.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html",
	},
	Tags:      []string{"security", "availability", "ecs", "iam"},
	Precision: "very-high",
}, check: checkER001}

func init() { register(ruleER001) }

func checkER001(e *evaluation, r *rule) {
	for _, t := range e.tds {
		if t.execKind != execNone {
			continue
		}
		var needs []Need
		var ev []NeedEvidence
		var feats []string
		for _, n := range t.needs {
			if n.ServedBy != ServedByExecutionRole {
				continue
			}
			needs = append(needs, n.Need)
			ev = append(ev, NeedEvidence{Need: n.Need, Severity: Critical})
			if !slices.Contains(feats, n.Feature) {
				feats = append(feats, n.Feature)
			}
		}
		if len(needs) == 0 {
			continue
		}
		slices.Sort(feats)
		var what []string
		for _, f := range feats {
			what = append(what, featureUses(f))
		}
		first := needs[0]
		doc := leastPrivilege(needs)
		r.emit(e, Finding{
			Message: fmt.Sprintf("Task definition %s in %s runs on %s and uses %s, which need a task execution role, but executionRoleArn is empty.",
				tdLabel(t), where(t.account.ID, t.region), listAnd(t.host.list()), listAnd(what)) + launchedBy(t),
			AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
			TaskDefinitionARN: t.td.ARN, Container: first.Container, Affected: serviceRefs(t),
			Evidence: Evidence{Need: &first, Needs: ev, Facts: map[string]string{
				"launchTypes": strings.Join(t.host.list(), ", "), "features": strings.Join(feats, ", "), "fieldPath": first.FieldPath,
			}},
			Fix: Fix{Layer: FixTaskDefinition, Target: &FixTarget{Type: ResourceTaskDefinition, ARN: t.td.ARN, Name: tdLabel(t)},
				Summary: "Create an execution role in account " + t.account.ID + " trusted by ecs-tasks.amazonaws.com, give it the suggested policy, and set executionRoleArn to it in a new revision of " + tdLabel(t) + ".",
				Steps: []string{"Trust policy: {\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ecs-tasks.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}, " +
					"with aws:SourceAccount " + t.account.ID + " as a condition."},
				SuggestedPolicy: doc, SuggestedPolicyLayer: FixIdentity, SuggestedPolicyTarget: "the identity policy of the new execution role"},
		}, "", Fingerprint(r.ID, t.account.ID, t.region, t.td.ARN, ""))
	}
}
