package findings

var ruleAG003 = &rule{RuleMeta: RuleMeta{
	ID:            "AG003",
	Title:         "Container agent older than the minimum of a feature in use",
	Severity:      High,
	SeverityRange: SeverityRange{Min: High, Max: High},
	Description: "A container instance's agent is older than the minimum version of a feature that task definitions placed on its cluster use: " +
		"private registry authentication 1.19.0, SSM secrets 1.22.0, Secrets Manager secrets 1.23.0, secrets in log configuration 1.27.0, " +
		"FireLens 1.30.0, FireLens configuration from S3 1.31.0, Secrets Manager JSON keys and versions 1.37.0, environment files 1.39.0. " +
		"A container instance gets one finding listing every constraint it does not meet, under the rule of the most severe (AG001, then AG003, then AG002).",
	Why:         "An agent that predates a feature cannot serve it: the task is not placed on the instance or stops at start.",
	Remediation: "Update the container agent on the instance (UpdateContainerAgent or a current ECS-optimized AMI).",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-agent-update.html",
		"https://github.com/aws/amazon-ecs-agent/blob/master/CHANGELOG.md",
	},
	Tags:      []string{"availability", "ecs", "container-agent"},
	Precision: "high",
}}

// Its facts are reported by AG001's check.
func init() { register(ruleAG003) }
