package findings

import (
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

var goodCaps = []string{
	"com.amazonaws.ecs.capability.ecr-auth", "ecs.capability.execution-role-ecr-pull",
	"com.amazonaws.ecs.capability.logging-driver.awslogs", "ecs.capability.execution-role-awslogs",
	"ecs.capability.secrets.ssm.environment-variables", "ecs.capability.env-files.s3",
}

// an EC2 service on cluster "c1" running an ECR+awslogs+SSM task definition with an execution role.
func ec2World(w *tw) *inventory.Cluster {
	c := w.cluster("c1")
	exec := w.role("exec", hardenedTrust, true, "p", allowDoc(`"ssm:GetParameters"`, `"arn:aws:ssm:us-east-1:111122223333:parameter/app/*"`))
	td := w.td("app", exec, "EC2", ctr("c", ecrImg("app:1"), withLogs("/ecs/app", "p"), withSecret("X", "/app/x")))
	w.service(c, "svc", "EC2", "", td)
	return c
}

// ecs-facts §2.1: execution roles need agent 1.16.0.
func TestAG001(t *testing.T) {
	runRuleCases(t, "AG001", []ruleCase{
		{"agent 1.15.0", func(w *tw) { w.instance(ec2World(w), "i-1", "1.15.0", goodCaps...) }, 1, High, []string{"1.15.0", "i-1"}, 0},
		{"agent 1.16.0", func(w *tw) { w.instance(ec2World(w), "i-1", "1.16.0", goodCaps...) }, 0, "", nil, 0},
		{"agent 1.9.0 but draining", func(w *tw) {
			w.instance(ec2World(w), "i-1", "1.9.0", goodCaps...).Status = "DRAINING"
		}, 0, "", nil, 0},
		{"old agent in a cluster without execution roles", func(w *tw) {
			c := w.cluster("c1")
			w.service(c, "svc", "EC2", "", w.td("app", "", "EC2", ctr("c", "nginx")))
			w.instance(c, "i-1", "1.10.0")
		}, 0, "", nil, 0},
		{"Fargate services do not place tasks on instances", func(w *tw) {
			c := w.cluster("c1")
			w.service(c, "svc", "FARGATE", "LATEST", w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", "nginx")))
			w.instance(c, "i-1", "1.10.0")
		}, 0, "", nil, 0},
	})
}

// ecs-facts §2.2, §2.3: requiresAttributes and the awslogs capability.
func TestAG002(t *testing.T) {
	runRuleCases(t, "AG002", []ruleCase{
		{"missing execution-role-awslogs", func(w *tw) {
			var caps []string
			for _, c := range goodCaps {
				if c != "ecs.capability.execution-role-awslogs" {
					caps = append(caps, c)
				}
			}
			w.instance(ec2World(w), "i-1", "1.80.0", caps...)
		}, 1, High, []string{"ecs.capability.execution-role-awslogs", "ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE"}, 0},
		{"all capabilities", func(w *tw) { w.instance(ec2World(w), "i-1", "1.80.0", goodCaps...) }, 0, "", nil, 0},
		{"requiresAttributes take precedence over derivation", func(w *tw) {
			c := ec2World(w)
			w.reg.TaskDefinitions[0].RequiresAttributes = []inventory.Attribute{{Name: "ecs.capability.custom"}}
			w.instance(c, "i-1", "1.80.0", goodCaps...)
		}, 1, High, []string{"ecs.capability.custom"}, 0},
	})
}

func TestAG003(t *testing.T) {
	runRuleCases(t, "AG003", []ruleCase{
		{"SSM secrets need 1.22.0", func(w *tw) { w.instance(ec2World(w), "i-1", "1.20.0", goodCaps...) }, 1, High, []string{"1.22.0"}, 0},
		{"1.22.0 is enough", func(w *tw) { w.instance(ec2World(w), "i-1", "1.22.0", goodCaps...) }, 0, "", nil, 0},
		{"version with suffix", func(w *tw) { w.instance(ec2World(w), "i-1", "1.21.9-beta", goodCaps...) }, 1, High, nil, 0},
	})
}

// ecs-facts §2.1 notes: Fargate platform versions.
func TestFG001(t *testing.T) {
	envFile := func(td *inventory.TaskDefinition) {
		td.ContainerDefinitions[0].EnvironmentFiles = []inventory.EnvironmentFile{{Value: "arn:aws:s3:::cfg/a.env", Type: "s3"}}
	}
	runRuleCases(t, "FG001", []ruleCase{
		{"env files on 1.3.0", func(w *tw) {
			td := w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx"))
			envFile(td)
			w.service(w.cluster("c"), "svc", "FARGATE", "1.3.0", td)
		}, 1, High, []string{"1.3.0", "1.4.0"}, 0},
		{"env files on LATEST", func(w *tw) {
			td := w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx"))
			envFile(td)
			w.service(w.cluster("c"), "svc", "FARGATE", "LATEST", td)
		}, 0, "", nil, 0},
		{"secrets on 1.2.0", func(w *tw) {
			td := w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withSecret("X", "/x")))
			w.service(w.cluster("c"), "svc", "FARGATE", "1.2.0", td)
		}, 1, High, nil, 0},
		{"FireLens S3 config on Fargate is unsupported", func(w *tw) {
			td := w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "fluent"))
			td.ContainerDefinitions[0].FirelensConfiguration = &inventory.FirelensConfiguration{Type: "fluentbit", Options: map[string]string{"config-file-type": "s3", "config-file-value": "arn:aws:s3:::b/x.conf"}}
		}, 1, Critical, []string{"does not support"}, 0},
		{"env files on Windows Fargate are unsupported", func(w *tw) {
			td := w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx"))
			envFile(td)
			td.RuntimePlatform = &inventory.RuntimePlatform{OperatingSystemFamily: "WINDOWS_SERVER_2019_CORE"}
		}, 1, Critical, []string{"Windows"}, 0},
		{"EC2 services are not Fargate", func(w *tw) {
			td := w.td("app", w.role("exec", ecsTrust, true), "EC2", ctr("c", "nginx"))
			envFile(td)
			w.service(w.cluster("c"), "svc", "EC2", "", td)
		}, 0, "", nil, 0},
	})
}

func TestTD001(t *testing.T) {
	runRuleCases(t, "TD001", []ruleCase{
		{"password by name", func(w *tw) {
			c := ctr("c", "nginx")
			c.Environment = []inventory.EnvVar{{Name: "DB_PASSWORD", ValueLength: 12}}
			w.td("app", "", "EC2", c)
		}, 1, Medium, []string{"DB_PASSWORD", "not shown"}, 0},
		{"AWS access key by value", func(w *tw) {
			c := ctr("c", "nginx")
			c.Environment = []inventory.EnvVar{{Name: "KEY", ValueClass: inventory.ValueAWSAccessKey, ValueLength: 20}}
			w.td("app", "", "EC2", c)
		}, 1, Critical, []string{"an AWS access key ID"}, 0},
		{"references are not secrets", func(w *tw) {
			c := ctr("c", "nginx")
			c.Environment = []inventory.EnvVar{{Name: "DB_PASSWORD_ARN"}, {Name: "SECRET_NAME"}, {Name: "LOG_LEVEL"}}
			w.td("app", "", "EC2", c)
		}, 0, "", nil, 0},
		{"credential in a log option", func(w *tw) {
			c := ctr("c", "nginx")
			c.LogConfiguration = &inventory.LogConfiguration{LogDriver: "splunk", Options: inventory.RedactOptions(map[string]string{"splunk-token": "abc", "splunk-url": "https://x"})}
			w.td("app", "", "EC2", c)
		}, 1, High, []string{"splunk-token"}, 0},
	})
}

func TestPL001(t *testing.T) {
	runRuleCases(t, "PL001", []ruleCase{
		{"ARN-to-ARN condition block from the ECS docs", func(w *tw) {
			d := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"*","Condition":{"StringEquals":{"arn:aws:iam::111122223333:role/x":"arn:aws:ssm:us-east-1:111122223333:parameter/x"}}}]}`
			w.td("app", w.role("exec", ecsTrust, true, "docs", d), "FARGATE", ctr("c", "nginx"))
		}, 1, High, []string{"Inline policy docs", "malformed"}, 0},
		{"misspelled service prefix", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretmanager:GetSecretValue"`, `"*"`)), "FARGATE", ctr("c", "nginx"))
		}, 1, Medium, []string{"secretmanager"}, 0},
		{"misspelled action", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"ssm:GetParameterz"`, `"*"`)), "FARGATE", ctr("c", "nginx"))
		}, 1, Medium, []string{"GetParameterz"}, 0},
		{"malformed trust policy", func(w *tw) {
			w.td("app", w.role("exec", `{"Version":"2012-10-17","Statement":[{"Effect":"allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, true), "FARGATE", ctr("c", "nginx"))
		}, 1, High, []string{"trust policy", "malformed"}, 0},
		{"attached policy not collected", func(w *tw) {
			arn := w.role("exec", ecsTrust, true)
			w.acct.IAM.Roles[0].AttachedPolicies = append(w.acct.IAM.Roles[0].AttachedPolicies, "arn:aws:iam::111122223333:policy/gone")
			w.td("app", arn, "FARGATE", ctr("c", "nginx"))
		}, 1, Medium, []string{"not collected"}, 0},
		{"valid policies", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx"))
		}, 0, "", nil, 0},
	})
}
