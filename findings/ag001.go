package findings

import (
	"fmt"
	"sort"
	"strings"
)

var ruleAG001 = register(&rule{RuleMeta: RuleMeta{
	ID:            "AG001",
	Title:         "Container agent older than 1.16.0 where task definitions use an execution role",
	Severity:      High,
	SeverityRange: SeverityRange{Min: High, Max: High},
	Description: "A container instance runs an ECS container agent older than 1.16.0 in a cluster whose EC2 or External task definitions " +
		"use a task execution role.",
	Why: "Agents before 1.16.0 do not support task execution roles: they cannot pull ECR images or send awslogs with the execution role, " +
		"and cannot fetch secrets. Tasks cannot be placed on the instance or fail at start.",
	Remediation: "Update the container agent (UpdateContainerAgent, or replace the instance with a current ECS-optimized AMI).",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-agent-update.html",
	},
	Tags:      []string{"availability", "ecs", "container-agent"},
	Precision: "very-high",
}, check: checkAG001})

func checkAG001(e *evaluation, r *rule) {
	for _, c := range e.clusters {
		var users []string
		for _, t := range c.placed {
			if t.td.ExecutionRoleARN != "" {
				users = append(users, tdLabel(t))
			}
		}
		if len(users) == 0 {
			continue
		}
		sort.Strings(users)
		for _, ci := range activeInstances(c.cluster) {
			cmp, ok := compareVersions(ci.AgentVersion, "1.16.0")
			if !ok || cmp >= 0 {
				continue
			}
			r.emit(e, Finding{
				Message: fmt.Sprintf("Container instance %s in cluster %s (%s) runs agent %s, older than 1.16.0, but task definitions placed on the cluster use an execution role: %s.",
					instanceID(ci), c.cluster.Name, where(c.account.ID, c.region), ci.AgentVersion, strings.Join(users, ", ")),
				AccountID: c.account.ID, Region: c.region, ResourceType: ResourceContainerInstance, ResourceARN: ci.ARN,
				Evidence: Evidence{Facts: map[string]string{
					"agentVersion": ci.AgentVersion, "minimum": "1.16.0", "cluster": c.cluster.ARN, "taskDefinitions": strings.Join(users, ", "),
				}},
			}, "")
		}
	}
}
