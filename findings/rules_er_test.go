package findings

import (
	"strings"
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

type ruleCase struct {
	name     string
	setup    func(w *tw)
	want     int
	sev      Severity
	contains []string
	// items, when not 0, is the number of items (needs, constraints…)
	// the findings cover.
	items int
}

func runRuleCases(t *testing.T, rule string, cases []ruleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newTW()
			c.setup(w)
			r := w.eval(t)
			check(t, r, rule, c.want, c.sev, c.contains...)
			if c.items > 0 {
				checkItems(t, r, rule, c.want, c.items)
			}
		})
	}
}

// ecs-facts §1.1: which features need the execution role.
func TestER001(t *testing.T) {
	runRuleCases(t, "ER001", []ruleCase{
		{"fargate ECR image without role", func(w *tw) {
			w.td("app", "", "FARGATE", ctr("c", ecrImg("app:1")))
		}, 1, Critical, []string{"app:1", "FARGATE", "private ECR images"}, 4},
		{"fargate awslogs without role", func(w *tw) {
			w.td("app", "", "FARGATE", ctr("c", "nginx:1", withLogs("/ecs/app", "p")))
		}, 1, Critical, []string{"awslogs"}, 0},
		{"EC2 ECR and awslogs fall back to the instance role", func(w *tw) {
			w.td("app", "", "EC2", ctr("c", ecrImg("app:1"), withLogs("/ecs/app", "p")))
		}, 0, "", nil, 0},
		{"EC2 secrets have no fallback", func(w *tw) {
			w.td("app", "", "EC2", ctr("c", "nginx", withSecret("X", "/app/x")))
		}, 1, Critical, []string{"SSM parameters"}, 1},
		{"External (ECS Anywhere) has no instance-role fallback", func(w *tw) {
			w.td("app", "", "EXTERNAL", ctr("c", ecrImg("app:1")))
		}, 1, Critical, []string{"EXTERNAL"}, 0},
		{"public image, no logs: nothing needed", func(w *tw) {
			w.td("app", "", "FARGATE", ctr("c", "public.ecr.aws/nginx/nginx:1"))
		}, 0, "", nil, 0},
		{"launch type from the service, not requiresCompatibilities", func(w *tw) {
			td := w.td("app", "", "", ctr("c", ecrImg("app:1")))
			w.service(w.cluster("c1"), "svc", "FARGATE", "LATEST", td)
		}, 1, Critical, []string{"FARGATE"}, 0},
		{"role present: no finding", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("app:1")))
		}, 0, "", nil, 0},
	})
}

func TestER002(t *testing.T) {
	runRuleCases(t, "ER002", []ruleCase{
		{"missing role", func(w *tw) {
			w.td("app", "arn:aws:iam::111122223333:role/gone", "FARGATE", ctr("c", "nginx"))
		}, 1, Critical, []string{"gone", "does not exist"}, 0},
		{"role name case differs: IAM names are case-insensitive", func(w *tw) {
			w.role("Exec-Role", ecsTrust, true)
			w.td("app", "arn:aws:iam::111122223333:role/exec-role", "FARGATE", ctr("c", "nginx"))
		}, 0, "", nil, 0},
		{"role with a path", func(w *tw) {
			w.role("exec", ecsTrust, true)
			w.td("app", "arn:aws:iam::111122223333:role/service-role/exec", "FARGATE", ctr("c", "nginx"))
		}, 0, "", nil, 0},
		{"role in another account: ECS cannot pass it", func(w *tw) {
			w.td("app", "arn:aws:iam::999988887777:role/exec", "FARGATE", ctr("c", "nginx"))
		}, 1, Critical, []string{"another account"}, 0},
		{"IAM of the account not collected", func(w *tw) {
			w.acct.IAM = nil
			w.td("app", "arn:aws:iam::111122223333:role/exec", "FARGATE", ctr("c", "nginx"))
		}, 0, "", nil, 0},
	})
}

// ecs-facts §3.2, §3.3: the trust policy.
func TestER003(t *testing.T) {
	runRuleCases(t, "ER003", []ruleCase{
		{"trusted by EC2 only", func(w *tw) {
			tr := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
			w.td("app", w.role("exec", tr, true), "FARGATE", ctr("c", "nginx"))
		}, 1, Critical, []string{"cannot start"}, 0},
		{"standard trust", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx"))
		}, 0, "", nil, 0},
		{"hardened trust naming the account", func(w *tw) {
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", "nginx"))
		}, 0, "", nil, 0},
		{"aws:SourceAccount of another account", func(w *tw) {
			tr := strings.ReplaceAll(hardenedTrust, `"aws:SourceAccount":"111122223333"`, `"aws:SourceAccount":"999999999999"`)
			w.td("app", w.role("exec", tr, true), "FARGATE", ctr("c", "nginx"))
		}, 1, Critical, nil, 0},
		{"aws:SourceArn narrowed to one cluster: cannot be confirmed", func(w *tw) {
			tr := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:us-east-1:111122223333:task/prod/*"}}}]}`
			w.td("app", w.role("exec", tr, true), "FARGATE", ctr("c", "nginx"))
		}, 1, Medium, []string{"aws:SourceArn"}, 0},
		{"explicit deny of ECS in the trust policy", func(w *tw) {
			tr := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}]}`
			w.td("app", w.role("exec", tr, true), "FARGATE", ctr("c", "nginx"))
		}, 1, Critical, nil, 0},
	})
}

// ecs-facts §1.3–1.9 and §5: needs decided by the policy engine.
func TestER004(t *testing.T) {
	secretARN := "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf"
	runRuleCases(t, "ER004", []ruleCase{
		{"managed policy covers ECR and logs", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("app:1"), withLogs("/ecs/app", "p")))
		}, 0, "", nil, 0},
		{"no policy at all: ECR and logs denied", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, false), "FARGATE", ctr("c", ecrImg("app:1"), withLogs("/ecs/app", "p")))
		}, 1, Critical, []string{"no identity policy of the role allows them"}, 6}, // one cause: GetAuthorizationToken, BatchGetImage, GetDownloadUrlForLayer, CreateLogStream, PutLogEvents critical + BatchCheckLayerAvailability low
		{"ssm:GetParameter (singular) does not grant GetParameters", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"ssm:GetParameter"`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", "/app/x")))
		}, 1, Critical, []string{"ssm:GetParameters", "arn:aws:ssm:us-east-1:111122223333:parameter/app/x", "containerDefinitions[0].secrets[0].valueFrom"}, 0},
		{"secret allowed by NAME-??????", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"arn:aws:secretsmanager:us-east-1:111122223333:secret:db-??????"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", secretARN)))
		}, 0, "", nil, 0},
		{"explicit deny wins", func(w *tw) {
			d := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"},{"Sid":"NoDb","Effect":"Deny","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:db-*"}]}`
			w.td("app", w.role("exec", ecsTrust, true, "p", d), "FARGATE", ctr("c", "nginx", withSecret("X", secretARN)))
		}, 1, Critical, []string{"NoDb"}, 0},
		{"permissions boundary without logs", func(w *tw) {
			arn := w.role("exec", ecsTrust, true)
			w.managed("arn:aws:iam::111122223333:policy/boundary", allowDoc(`"ecr:*"`, `"*"`))
			w.acct.IAM.Roles[0].PermissionsBoundary = "arn:aws:iam::111122223333:policy/boundary"
			w.td("app", arn, "FARGATE", ctr("c", "nginx", withLogs("/ecs/app", "p")))
		}, 1, Critical, []string{"boundary"}, 2},
		{"SCP level without an Allow", func(w *tw) {
			w.inOrg(allowDoc(`"ecr:*"`, `"*"`))
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withLogs("/ecs/app", "p")))
		}, 1, Critical, []string{"no SCP attached to OU ou-test allows them"}, 2},
		{"invalid secret ARN format", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withSecret("X", "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf:key")))
		}, 1, Critical, []string{"invalid ARN format"}, 0},
		{"create-group without CreateLogGroup is medium", func(w *tw) {
			td := w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withLogs("/ecs/app", "p")))
			td.ContainerDefinitions[0].LogConfiguration.Options["awslogs-create-group"] = "true"
		}, 1, Medium, []string{"logs:CreateLogGroup"}, 0},
		{"environment file without s3", func(w *tw) {
			td := w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx"))
			td.ContainerDefinitions[0].EnvironmentFiles = []inventory.EnvironmentFile{{Value: "arn:aws:s3:::cfg/app.env", Type: "s3"}}
		}, 1, Critical, []string{"s3:GetObject", "s3:GetBucketLocation"}, 2},
		{"instance-role needs are not evaluated", func(w *tw) {
			w.td("app", "", "EC2", ctr("c", ecrImg("app:1"), withLogs("/ecs/app", "p")))
		}, 0, "", nil, 0},
	})
}

func TestER005(t *testing.T) {
	vpce := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:*"],"Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}},
	{"Effect":"Allow","Action":["logs:*"],"Resource":"*"}]}`
	runRuleCases(t, "ER005", []ruleCase{
		{"layer pulls depend on aws:SourceVpce", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, false, "p", vpce), "FARGATE", ctr("c", ecrImg("app:1")))
		}, 1, Medium, []string{"aws:SourceVpce"}, 3}, // one unknown: BatchGetImage, GetDownloadUrlForLayer (medium), BatchCheckLayerAvailability (low)
		{"cross-account ECR: repository policy not collected", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "999988887777.dkr.ecr.us-east-1.amazonaws.com/base:1"))
		}, 1, Medium, []string{"999988887777", "repository policy"}, 3}, // a resource policy outside the scan: medium like any unconfirmable required need
		{"pull-through cache import may come from the registry policy", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("docker-hub/library/nginx:latest")))
		}, 1, Medium, []string{"BatchImportUpstreamImage"}, 0},
		{"an optional need stays low", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, false, "p", allowDoc(`["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]`, `"*"`),
				"c", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchCheckLayerAvailability","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}`),
				"FARGATE", ctr("c", ecrImg("app:1")))
		}, 1, Low, []string{"ecr:BatchCheckLayerAvailability", "aws:SourceVpce"}, 0},
		{"an optional need the task may still require is medium", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "c", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:CreateLogGroup","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}`),
				"FARGATE", ctr("c", ecrImg("app:1"), func(c *inventory.ContainerDefinition) {
					withLogs("/ecs/app", "p")(c)
					c.LogConfiguration.Options["awslogs-create-group"] = "true"
				}))
		}, 1, Medium, []string{"logs:CreateLogGroup", "aws:SourceVpce"}, 0},
		{"partial secret ARN with one exact suffix in the policy", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"arn:aws:secretsmanager:us-east-1:111122223333:secret:db-XyZ123"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", "arn:aws:secretsmanager:us-east-1:111122223333:secret:db")))
		}, 1, Medium, []string{"suffix"}, 0},
		{"unconditional grant: nothing indeterminate", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("app:1")))
		}, 0, "", nil, 0},
	})
}

// On Fargate, GetAuthorizationToken never carries aws:SourceVpce (ecs-facts §1.3).
func TestER004GetAuthorizationTokenWithSourceVpceOnFargate(t *testing.T) {
	w := newTW()
	vpce := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:*"],"Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}`
	w.td("app", w.role("exec", ecsTrust, false, "p", vpce), "FARGATE", ctr("c", ecrImg("app:1")))
	r := w.eval(t)
	got := byRule(r, "ER004")
	if len(got) != 1 || got[0].Evidence.Need.Action != "ecr:GetAuthorizationToken" {
		t.Fatalf("want one ER004 for GetAuthorizationToken, got %+v", got)
	}
}

func TestER006(t *testing.T) {
	runRuleCases(t, "ER006", []ruleCase{
		{"administrator access", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, false, "p", allowDoc(`"*"`, `"*"`)), "FARGATE", ctr("c", "nginx"))
		}, 1, Critical, []string{"grants more than", "administrator access"}, 0},
		{"secrets on every resource", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf")))
		}, 1, Medium, nil, 0},
		{"unrelated write actions", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"s3:PutObject"`, `"arn:aws:s3:::b/*"`)), "FARGATE", ctr("c", ecrImg("a:1")))
		}, 1, Medium, nil, 0},
		{"iam:PassRole is high", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"iam:PassRole"`, `"*"`)), "FARGATE", ctr("c", ecrImg("a:1")))
		}, 1, High, nil, 0},
		{"secretsmanager:* grants writes", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:*"`, `"arn:aws:secretsmanager:us-east-1:111122223333:secret:db-??????"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf")))
		}, 1, High, nil, 0},
		{"AmazonECSTaskExecutionRolePolicy for ECR and logs needs: the documented default", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("a:1"), withLogs("/ecs/a", "p")))
		}, 0, "", nil, 0},
		{"AmazonECSTaskExecutionRolePolicy without ECR needs: info", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withLogs("/ecs/a", "p")))
		}, 1, Info, nil, 0},
		{"the same wildcards in a customer policy: info", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, false, "p", allowDoc(`["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability"]`, `"*"`)), "FARGATE", ctr("c", ecrImg("a:1")))
		}, 1, Info, nil, 0},
		{"misspelled actions grant nothing: PL001, not ER006", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretmanager:GetSecretValue"`, `"*"`)), "FARGATE", ctr("c", ecrImg("a:1"), withLogs("/ecs/a", "p")))
		}, 0, "", nil, 0},
		{"scoped policy: nothing", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, false, "p", allowDoc(`"ssm:GetParameters"`, `"arn:aws:ssm:us-east-1:111122223333:parameter/app/x"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", "/app/x")))
		}, 0, "", nil, 0},
		{"Allow with NotAction", func(w *tw) {
			d := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`
			w.td("app", w.role("exec", ecsTrust, false, "p", d), "FARGATE", ctr("c", "nginx"))
		}, 1, High, nil, 0},
	})
}

func TestER007(t *testing.T) {
	runRuleCases(t, "ER007", []ruleCase{
		{"same ARN", func(w *tw) {
			arn := w.role("exec", ecsTrust, true)
			w.td("app", arn, "FARGATE", ctr("c", "nginx")).TaskRoleARN = arn
		}, 1, Medium, nil, 0},
		{"task role as a short name", func(w *tw) {
			arn := w.role("exec", ecsTrust, true)
			w.td("app", arn, "FARGATE", ctr("c", "nginx")).TaskRoleARN = "exec"
		}, 1, Medium, nil, 0},
		{"different roles", func(w *tw) {
			arn := w.role("exec", ecsTrust, true)
			w.td("app", arn, "FARGATE", ctr("c", "nginx")).TaskRoleARN = "arn:aws:iam::111122223333:role/app"
		}, 0, "", nil, 0},
	})
}

func TestER008(t *testing.T) {
	runRuleCases(t, "ER008", []ruleCase{
		{"no conditions", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx"))
		}, 1, Low, nil, 0},
		{"hardened", func(w *tw) {
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", "nginx"))
		}, 0, "", nil, 0},
		{"trust that fails is ER003, not ER008", func(w *tw) {
			tr := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
			w.td("app", w.role("exec", tr, true), "FARGATE", ctr("c", "nginx"))
		}, 0, "", nil, 0},
	})
}
