package findings

import "fmt"

var ruleER007 = &rule{RuleMeta: RuleMeta{
	ID:            "ER007",
	Title:         "Task role and execution role are the same role",
	Severity:      Medium,
	SeverityRange: SeverityRange{Min: Medium, Max: Medium},
	Description: "taskRoleArn and executionRoleArn name the same IAM role, so the application containers receive the credentials " +
		"meant for the ECS agent.",
	Why: "The execution role can read the task's secrets and pull its images; the task role is what the application code runs with. " +
		"Sharing one role gives the application every secret the agent injects (and any other task's secrets the role can read) " +
		"and makes least privilege impossible for either.",
	Remediation: "Create a separate task role with only the application's permissions and set taskRoleArn to it; keep the execution role for ECR, logs and secrets.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
	},
	Tags:      []string{"security", "least-privilege", "iam"},
	Precision: "very-high",
}, check: checkER007}

func init() { register(ruleER007) }

func checkER007(e *evaluation, r *rule) {
	for _, t := range e.tds {
		if t.td.ExecutionRoleARN == "" || t.td.TaskRoleARN == "" {
			continue
		}
		if !sameRole(t.td.ExecutionRoleARN, t.td.TaskRoleARN, t.account.ID, e.inv.Partition) {
			continue
		}
		r.emit(e, Finding{
			Message: fmt.Sprintf("Task definition %s in %s uses %s as both task role and execution role.",
				tdLabel(t), where(t.account.ID, t.region), t.execARN),
			AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
			TaskDefinitionARN: t.td.ARN, RoleARN: t.execARN, Affected: serviceRefs(t),
			Evidence: Evidence{Facts: map[string]string{"taskRoleArn": t.td.TaskRoleARN, "executionRoleArn": t.td.ExecutionRoleARN}},
			Fix: Fix{Layer: FixTaskDefinition, Target: &FixTarget{Type: ResourceTaskDefinition, ARN: t.td.ARN, Name: tdLabel(t)},
				Summary: "Create a separate task role with only the application's permissions and set taskRoleArn to it in a new revision of " + tdLabel(t) + "; keep " + t.execARN + " for ECR, logs and secrets."},
		}, "", Fingerprint(r.ID, t.account.ID, t.region, t.td.ARN, ""))
	}
}
