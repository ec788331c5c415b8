package findings

var ruleAG002 = &rule{RuleMeta: RuleMeta{
	ID:            "AG002",
	Title:         "Container instance lacks a capability its cluster's task definitions require",
	Severity:      High,
	SeverityRange: SeverityRange{Min: High, Max: High},
	Description: "An ACTIVE container instance does not advertise an attribute that task definitions placed on its cluster require " +
		"(their requiresAttributes, or the capabilities derived from the task definition when ECS recorded none). In particular " +
		"ecs.capability.execution-role-awslogs is only advertised when the agent runs with ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE=true. " +
		"A container instance gets one finding listing every constraint it does not meet, under the rule of the most severe (AG001, then AG003, then AG002).",
	Why: "ECS places a task only on instances that have every required attribute. Without it placement fails with 'missing an attribute " +
		"required by your task', and services on the cluster stay below their desired count.",
	Remediation: "For ecs.capability.execution-role-awslogs set ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE=true in /etc/ecs/ecs.config (Windows: as a machine environment variable) and restart the agent; ECS-optimized AMIs with ecs-init 1.16.0-1 or later set it. For other capabilities update the agent.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-agent-config.html",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-constraints.html",
	},
	Tags:      []string{"availability", "ecs", "container-agent", "placement"},
	Precision: "high",
}}

// Its facts are reported by AG001's check.
func init() { register(ruleAG002) }
