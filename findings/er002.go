package findings

import "fmt"

var ruleER002 = &rule{RuleMeta: RuleMeta{
	ID:            "ER002",
	Title:         "Execution role does not exist",
	Severity:      Critical,
	SeverityRange: SeverityRange{Min: Critical, Max: Critical},
	Description: "executionRoleArn names a role that is not in the IAM of its account (or names a role in another account, which ECS " +
		"cannot pass to the task).",
	Why:         "ECS cannot assume a missing role: every task of this task definition stops at start, and services stay at zero running tasks.",
	Remediation: "Recreate the role (with the same name and path) or register a new task definition revision naming an existing execution role in the same account.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
	},
	Tags:      []string{"availability", "ecs", "iam"},
	Precision: "high",
}, check: checkER002}

func init() { register(ruleER002) }

func checkER002(e *evaluation, r *rule) {
	for _, t := range e.roleUsers() {
		if t.override != nil {
			e.overrideRoleMissing(r, t)
			continue
		}
		var msg string
		switch t.execKind {
		case execMissing:
			msg = fmt.Sprintf("Task definition %s in %s names execution role %s, which does not exist in account %s.",
				tdLabel(t), where(t.account.ID, t.region), t.execARN, t.account.ID)
		case execOtherAccount:
			msg = fmt.Sprintf("Task definition %s in %s names execution role %s, which is in another account: ECS passes only roles of the task definition's own account.",
				tdLabel(t), where(t.account.ID, t.region), t.execARN)
		default:
			continue
		}
		msg += launchedBy(t)
		fix := Fix{Layer: FixTaskDefinition, Target: &FixTarget{Type: ResourceTaskDefinition, ARN: t.td.ARN, Name: tdLabel(t)},
			Summary: "Register a new revision of " + tdLabel(t) + " whose executionRoleArn names an existing role of account " + t.account.ID + "."}
		if t.execKind == execMissing {
			fix.Steps = []string{"Or recreate role " + roleName(t.execARN) + " (with the same path) in account " + t.account.ID +
				", trusted by ecs-tasks.amazonaws.com and with the permissions the task definition needs; running tasks keep their revision."}
		}
		r.emit(e, Finding{
			Message:   msg,
			AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
			TaskDefinitionARN: t.td.ARN, RoleARN: t.execARN, Affected: serviceRefs(t),
			Evidence: Evidence{Facts: map[string]string{"executionRoleArn": t.execARN, "fieldPath": "executionRoleArn"}},
			Fix:      fix,
		}, t.execARN, Fingerprint(r.ID, t.account.ID, t.region, t.td.ARN, t.execARN))
	}
}
