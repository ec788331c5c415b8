package findings

import (
	"strconv"
	"strings"
)

// Feature keys for minimum versions and capabilities (ecs-facts §2.1).
const (
	featExecRole        = "execution-role"
	featECRExec         = "ecr-pull-execution-role"
	featAwslogsExec     = "awslogs-execution-role"
	featPrivateRegistry = "private-registry-auth"
	featSSMSecrets      = "ssm-secrets"
	featASMSecrets      = "secrets-manager-secrets"
	featSecretOptions   = "log-secret-options"
	featASMJSONKey      = "secrets-manager-json-key"
	featEnvFiles        = "environment-files"
	featFirelens        = "firelens"
	featFirelensS3      = "firelens-s3-config"
)

// featureInfo is what ECS needs for a feature.
type featureInfo struct {
	title string
	// agent is the minimum ECS container agent version on EC2.
	agent string
	// fargateLinux / fargateWindows are the minimum Fargate platform
	// versions; "-" means not supported; "" means any.
	fargateLinux, fargateWindows string
	// capabilities a container instance must advertise (when the task
	// definition has no requiresAttributes to go by).
	capabilities []string
	source       string
}

var features = map[string]featureInfo{
	featExecRole: {title: "task execution role", agent: "1.16.0",
		source: "ECS Developer Guide, task_execution_IAM_role"},
	featECRExec: {title: "ECR pull with the execution role", agent: "1.16.0",
		capabilities: []string{"com.amazonaws.ecs.capability.ecr-auth", "ecs.capability.execution-role-ecr-pull"},
		source:       "amazon-ecs-agent agent_capability.go; ECS Developer Guide"},
	featAwslogsExec: {title: "awslogs with the execution role", agent: "1.16.0",
		capabilities: []string{"com.amazonaws.ecs.capability.logging-driver.awslogs", "ecs.capability.execution-role-awslogs"},
		source:       "ECS Developer Guide using_awslogs; amazon-ecs-agent agent_capability.go"},
	featPrivateRegistry: {title: "private registry authentication", agent: "1.19.0", fargateLinux: "1.2.0",
		capabilities: []string{"ecs.capability.private-registry-authentication.secretsmanager"},
		source:       "ECS Developer Guide private-auth; agent CHANGELOG 1.19.0"},
	featSSMSecrets: {title: "SSM parameters as secrets", agent: "1.22.0", fargateLinux: "1.3.0", fargateWindows: "1.0.0",
		capabilities: []string{"ecs.capability.secrets.ssm.environment-variables"},
		source:       "ECS Developer Guide specifying-sensitive-data-parameters; agent CHANGELOG 1.22.0"},
	featASMSecrets: {title: "Secrets Manager secrets", agent: "1.23.0", fargateLinux: "1.3.0", fargateWindows: "1.0.0",
		capabilities: []string{"ecs.capability.secrets.asm.environment-variables"},
		source:       "agent CHANGELOG 1.23.0 (the guide says 1.22.0)"},
	featSecretOptions: {title: "secrets in log configuration", agent: "1.27.0", fargateLinux: "1.3.0", fargateWindows: "1.0.0",
		source: "agent CHANGELOG 1.27.0 (the guide says 1.22.0)"},
	featASMJSONKey: {title: "Secrets Manager JSON key / version", agent: "1.37.0", fargateLinux: "1.4.0", fargateWindows: "1.0.0",
		capabilities: []string{"ecs.capability.secrets.asm.environment-variables"},
		source:       "ECS Developer Guide secrets-envvar-secrets-manager; agent CHANGELOG 1.37.0"},
	featEnvFiles: {title: "environment files", agent: "1.39.0", fargateLinux: "1.4.0", fargateWindows: "-",
		capabilities: []string{"ecs.capability.env-files.s3"},
		source:       "ECS Developer Guide taskdef-envfiles; agent CHANGELOG 1.39.0"},
	featFirelens: {title: "FireLens log router", agent: "1.30.0", fargateLinux: "1.3.0",
		source: "agent CHANGELOG; ECS Developer Guide platform-linux-fargate"},
	featFirelensS3: {title: "FireLens configuration from S3", agent: "1.31.0", fargateLinux: "-", fargateWindows: "-",
		capabilities: []string{"ecs.capability.firelens.options.config.s3"},
		source:       "ECS Developer Guide firelens-taskdef; agent_capability_unix.go"},
}

// Secret options' capability depends on the provider.
var secretOptionCapabilities = map[string]string{
	"ssm":            "ecs.capability.secrets.ssm.bootstrap.log-driver",
	"secretsmanager": "ecs.capability.secrets.asm.bootstrap.log-driver",
}

// compareVersions compares dotted versions numerically ("1.9.0" < "1.16.0").
// A leading "v" and anything after a "-" or "+" are ignored. ok is false
// when either is not a version.
func compareVersions(a, b string) (cmp int, ok bool) {
	pa, okA := parseVersion(a)
	pb, okB := parseVersion(b)
	if !okA || !okB {
		return 0, false
	}
	for i := 0; i < 3; i++ {
		if pa[i] != pb[i] {
			if pa[i] < pb[i] {
				return -1, true
			}
			return 1, true
		}
	}
	return 0, true
}

func parseVersion(s string) ([3]int, bool) {
	var v [3]int
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(s, "-+ "); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return v, false
	}
	// Up to three parts (without strings.Split: versions are compared
	// for every container instance and feature).
	for i := 0; ; i++ {
		if i == 3 {
			return [3]int{}, false
		}
		p, rest, more := strings.Cut(s, ".")
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return [3]int{}, false
		}
		v[i] = n
		if !more {
			return v, true
		}
		s = rest
	}
}

// fargatePlatformVersion resolves a service's platform version: "LATEST" (or
// empty) is 1.4.0 on Linux and 1.0.0 on Windows (ecs-facts §2.1 notes).
func fargatePlatformVersion(pv string, windows bool) string {
	if pv == "" || strings.EqualFold(pv, "LATEST") {
		if windows {
			return "1.0.0"
		}
		return "1.4.0"
	}
	return pv
}
