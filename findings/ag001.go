package findings

var ruleAG001 = &rule{RuleMeta: RuleMeta{
	ID:            "AG001",
	Title:         "Container agent older than 1.16.0 where task definitions use an execution role",
	Severity:      High,
	SeverityRange: SeverityRange{Min: High, Max: High},
	Description: "A container instance runs an ECS container agent older than 1.16.0 in a cluster whose EC2 or External task definitions " +
		"use a task execution role. " +
		"A container instance gets one finding listing every constraint it does not meet, under the rule of the most severe (AG001, then AG003, then AG002).",
	Why: "Agents before 1.16.0 do not support task execution roles: they cannot pull ECR images or send awslogs with the execution role, " +
		"and cannot fetch secrets. Tasks cannot be placed on the instance or fail at start.",
	Remediation: "Update the container agent (UpdateContainerAgent, or replace the instance with a current ECS-optimized AMI).",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-agent-update.html",
	},
	Tags:      []string{"availability", "ecs", "container-agent"},
	Precision: "very-high",
}}

// AG001's check reports the facts of AG001, AG002 and AG003 together, one
// finding per container instance (group.go). It is set in init, not in the
// literal, because it refers to ruleAG001 itself.
func init() {
	ruleAG001.check = checkContainerInstances
	register(ruleAG001)
}
