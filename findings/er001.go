package findings

import (
	"fmt"
	"sort"
)

var ruleER001 = register(&rule{RuleMeta: RuleMeta{
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
}, check: checkER001})

func checkER001(e *evaluation, r *rule) {
	for _, t := range e.tds {
		if t.execKind != execNone {
			continue
		}
		byFeature := map[string][]derivedNeed{}
		for _, n := range t.needs {
			if n.ServedBy == ServedByExecutionRole {
				byFeature[n.Feature] = append(byFeature[n.Feature], n)
			}
		}
		if len(byFeature) == 0 {
			continue
		}
		var feats []string
		for f := range byFeature {
			feats = append(feats, f)
		}
		var needs []Need
		for _, f := range sortedKeys(byFeature) {
			for _, n := range byFeature[f] {
				needs = append(needs, n.Need)
			}
		}
		first := needs[0]
		r.emit(e, Finding{
			Message: fmt.Sprintf("Task definition %s in %s runs on %s and uses %s, which need a task execution role, but executionRoleArn is empty.",
				tdLabel(t), where(t.account.ID, t.region), joinSorted(t.host.list()), joinSorted(feats)),
			AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
			TaskDefinitionARN: t.td.ARN, Container: first.Container,
			Evidence: Evidence{Need: &first, Facts: map[string]string{
				"launchTypes": joinSorted(t.host.list()), "features": joinSorted(feats), "fieldPath": first.FieldPath,
			}, SuggestedPolicy: leastPrivilege(needs)},
		}, "")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
