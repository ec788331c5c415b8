package findings

import (
	"sort"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

// needLine is "feature action resource servedBy" for compact expectations.
func needLines(ns []derivedNeed) []string {
	var out []string
	for _, n := range ns {
		out = append(out, strings.Join([]string{n.Feature, n.Action, n.Resource, n.ServedBy}, " "))
	}
	sort.Strings(out)
	return out
}

func derive(td *inventory.TaskDefinition, host hosting, res *resources) []derivedNeed {
	return deriveNeeds(tdInput{td: td, partition: "aws", account: tAcct, region: tRegion, host: host, res: res})
}

var fargate = hosting{Fargate: true}
var ec2 = hosting{EC2: true}

const (
	repoBase = "arn:aws:ecr:us-east-1:111122223333:repository/"
	smBase   = "arn:aws:secretsmanager:us-east-1:111122223333:secret:"
	ssmBase  = "arn:aws:ssm:us-east-1:111122223333:parameter/"
)

func ecrLines(repoARN, by string) []string {
	return []string{
		"ecr-pull ecr:BatchCheckLayerAvailability " + repoARN + " " + by,
		"ecr-pull ecr:BatchGetImage " + repoARN + " " + by,
		"ecr-pull ecr:GetAuthorizationToken * " + by,
		"ecr-pull ecr:GetDownloadUrlForLayer " + repoARN + " " + by,
	}
}

// Every need form of ecs-facts §1.3–§1.10.
func TestDeriveNeeds(t *testing.T) {
	const ex = "execution-role"
	cases := []struct {
		name  string
		c     inventory.ContainerDefinition
		host  hosting
		exec  bool
		want  []string
		paths []string
	}{
		{"ECR image with tag", ctr("c", ecrImg("app:1.2")), fargate, true, ecrLines(repoBase+"app", ex), nil},
		{"ECR image with digest", ctr("c", ecrImg("app@sha256:0123")), fargate, true, ecrLines(repoBase+"app", ex), nil},
		{"ECR repository path with slashes", ctr("c", ecrImg("team/sub/app:1")), fargate, true, ecrLines(repoBase+"team/sub/app", ex), nil},
		{"ECR image without tag", ctr("c", ecrImg("app")), fargate, true, ecrLines(repoBase+"app", ex), nil},
		{"ECR other-account registry in another region", ctr("c", "999988887777.dkr.ecr.eu-west-1.amazonaws.com/base:3"), fargate, true,
			ecrLines("arn:aws:ecr:eu-west-1:999988887777:repository/base", ex), nil},
		{"ECR China partition", ctr("c", "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/app:1"), fargate, true,
			ecrLines("arn:aws-cn:ecr:cn-north-1:111122223333:repository/app", ex), nil},
		{"ECR pull-through cache", ctr("c", ecrImg("docker-hub/library/nginx:latest")), fargate, true,
			append(ecrLines(repoBase+"docker-hub/library/nginx", ex), "ecr-pull ecr:BatchImportUpstreamImage "+repoBase+"docker-hub/library/nginx "+ex), nil},
		{"ECR on EC2 without execution role: instance role", ctr("c", ecrImg("app:1")), ec2, false, ecrLines(repoBase+"app", "instance-role"), nil},
		{"Docker Hub image needs nothing", ctr("c", "nginx:1.27"), fargate, true, nil, nil},
		{"ECR Public needs nothing", ctr("c", "public.ecr.aws/nginx/nginx:1"), fargate, true, nil, nil},
		{"registry host with port is not ECR", ctr("c", "registry.example.com:5000/app:1"), fargate, true, nil, nil},
		{"awslogs with prefix", ctr("c", "nginx", withLogs("/ecs/app", "web")), fargate, true, []string{
			"awslogs logs:CreateLogStream arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:web/c/" + placeholderTaskID + " " + ex,
			"awslogs logs:PutLogEvents arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:web/c/" + placeholderTaskID + " " + ex,
		}, []string{"containerDefinitions[0].logConfiguration.options.awslogs-group"}},
		{"awslogs other region, no prefix, create-group", func() inventory.ContainerDefinition {
			c := ctr("c", "nginx")
			c.LogConfiguration = &inventory.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "g", "awslogs-region": "eu-west-1", "awslogs-create-group": "true"}}
			return c
		}(), ec2, true, []string{
			"awslogs logs:CreateLogGroup arn:aws:logs:eu-west-1:111122223333:log-group:g " + ex,
			"awslogs logs:CreateLogStream arn:aws:logs:eu-west-1:111122223333:log-group:g:log-stream:" + placeholderContainerID + " " + ex,
			"awslogs logs:PutLogEvents arn:aws:logs:eu-west-1:111122223333:log-group:g:log-stream:" + placeholderContainerID + " " + ex,
		}, nil},
		{"Secrets Manager full ARN", ctr("c", "nginx", withSecret("X", smBase+"db-AbCdEf")), fargate, true,
			[]string{"secrets-manager-secret secretsmanager:GetSecretValue " + smBase + "db-AbCdEf " + ex}, []string{"containerDefinitions[0].secrets[0].valueFrom"}},
		{"Secrets Manager partial ARN", ctr("c", "nginx", withSecret("X", smBase+"db")), fargate, true,
			[]string{"secrets-manager-secret secretsmanager:GetSecretValue " + smBase + "db-" + placeholderSecretSuffix + " " + ex}, nil},
		{"Secrets Manager json-key:version-stage:version-id", ctr("c", "nginx", withSecret("X", smBase+"db-AbCdEf:password:AWSCURRENT:")), fargate, true,
			[]string{"secrets-manager-secret secretsmanager:GetSecretValue " + smBase + "db-AbCdEf " + ex}, nil},
		{"Secrets Manager in another account and region", ctr("c", "nginx", withSecret("X", "arn:aws:secretsmanager:eu-west-1:999988887777:secret:shared-AbCdEf")), fargate, true,
			[]string{"secrets-manager-secret secretsmanager:GetSecretValue arn:aws:secretsmanager:eu-west-1:999988887777:secret:shared-AbCdEf " + ex}, nil},
		{"SSM flat name", ctr("c", "nginx", withSecret("X", "db_password")), ec2, true,
			[]string{"ssm-parameter ssm:GetParameters " + ssmBase + "db_password " + ex}, nil},
		{"SSM hierarchical name (one leading slash stripped)", ctr("c", "nginx", withSecret("X", "/app/prod/db")), ec2, false,
			[]string{"ssm-parameter ssm:GetParameters " + ssmBase + "app/prod/db " + ex}, nil},
		{"SSM ARN in another region", ctr("c", "nginx", withSecret("X", "arn:aws:ssm:eu-west-1:111122223333:parameter/app/db")), ec2, true,
			[]string{"ssm-parameter ssm:GetParameters arn:aws:ssm:eu-west-1:111122223333:parameter/app/db " + ex}, nil},
		{"SSM reference to a Secrets Manager secret", ctr("c", "nginx", withSecret("X", "/aws/reference/secretsmanager/db")), fargate, true, []string{
			"secrets-manager-secret secretsmanager:GetSecretValue " + smBase + "db-" + placeholderSecretSuffix + " " + ex,
			"ssm-parameter ssm:GetParameters " + ssmBase + "aws/reference/secretsmanager/db " + ex,
		}, nil},
		{"secretOptions", func() inventory.ContainerDefinition {
			c := ctr("c", "nginx")
			c.LogConfiguration = &inventory.LogConfiguration{LogDriver: "splunk", SecretOptions: []inventory.SecretRef{{Name: "splunk-token", ValueFrom: smBase + "splunk-AbCdEf"}}}
			return c
		}(), fargate, true, []string{"secrets-manager-secret secretsmanager:GetSecretValue " + smBase + "splunk-AbCdEf " + ex},
			[]string{"containerDefinitions[0].logConfiguration.secretOptions[0].valueFrom"}},
		{"repositoryCredentials by name", func() inventory.ContainerDefinition {
			c := ctr("c", "vendor/app:1")
			c.RepositoryCredentials = &inventory.RepositoryCredentials{CredentialsParameter: "hub-creds"}
			return c
		}(), fargate, true, []string{"private-registry-auth secretsmanager:GetSecretValue " + smBase + "hub-creds-" + placeholderSecretSuffix + " " + ex},
			[]string{"containerDefinitions[0].repositoryCredentials.credentialsParameter"}},
		{"repositoryCredentials by ARN", func() inventory.ContainerDefinition {
			c := ctr("c", "vendor/app:1")
			c.RepositoryCredentials = &inventory.RepositoryCredentials{CredentialsParameter: smBase + "hub-Zz9Yy8"}
			return c
		}(), ec2, true, []string{"private-registry-auth secretsmanager:GetSecretValue " + smBase + "hub-Zz9Yy8 " + ex}, nil},
		{"environmentFiles", func() inventory.ContainerDefinition {
			c := ctr("c", "nginx")
			c.EnvironmentFiles = []inventory.EnvironmentFile{{Value: "arn:aws:s3:::cfg-bucket/env/app.env", Type: "s3"}}
			return c
		}(), fargate, true, []string{
			"environment-file s3:GetBucketLocation arn:aws:s3:::cfg-bucket " + ex,
			"environment-file s3:GetObject arn:aws:s3:::cfg-bucket/env/app.env " + ex,
		}, []string{"containerDefinitions[0].environmentFiles[0].value"}},
		{"FireLens config from S3", func() inventory.ContainerDefinition {
			c := ctr("c", "fluent")
			c.FirelensConfiguration = &inventory.FirelensConfiguration{Type: "fluentbit", Options: map[string]string{"config-file-type": "s3", "config-file-value": "arn:aws:s3:::b/fb.conf"}}
			return c
		}(), ec2, true, []string{
			"firelens-s3-config s3:GetBucketLocation arn:aws:s3:::b " + ex,
			"firelens-s3-config s3:GetObject arn:aws:s3:::b/fb.conf " + ex,
		}, nil},
		{"FireLens config from a file needs nothing", func() inventory.ContainerDefinition {
			c := ctr("c", "fluent")
			c.FirelensConfiguration = &inventory.FirelensConfiguration{Type: "fluentbit", Options: map[string]string{"config-file-type": "file", "config-file-value": "/x.conf"}}
			return c
		}(), fargate, true, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			td := &inventory.TaskDefinition{ARN: "arn:aws:ecs:us-east-1:111122223333:task-definition/t:1", Family: "t", Revision: 1,
				ContainerDefinitions: []inventory.ContainerDefinition{c.c}}
			if c.exec {
				td.ExecutionRoleARN = "arn:aws:iam::111122223333:role/exec"
			}
			got := derive(td, c.host, nil)
			want := append([]string(nil), c.want...)
			sort.Strings(want)
			if g := needLines(got); strings.Join(g, "\n") != strings.Join(want, "\n") {
				t.Fatalf("needs:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
			}
			for i, p := range c.paths {
				if got[i].FieldPath != p {
					t.Errorf("field path %q, want %q", got[i].FieldPath, p)
				}
			}
		})
	}
}

// kms:Decrypt is needed when the key is known to be customer managed (§1.9).
func TestDeriveKMSNeeds(t *testing.T) {
	key := "arn:aws:kms:us-east-1:111122223333:key/k-1"
	inv := &inventory.Inventory{Partition: "aws", Accounts: []*inventory.Account{{ID: tAcct, Regions: []*inventory.Region{{
		Name: tRegion,
		Secrets: []*inventory.Secret{
			{ARN: smBase + "cmk-AbCdEf", Name: "cmk", KMSKeyID: key},
			{ARN: smBase + "awskey-AbCdEf", Name: "awskey"},
		},
		Parameters: []*inventory.Parameter{
			{Name: "/p/cmk", ARN: ssmBase + "p/cmk", Type: "SecureString", KeyID: "alias/mine"},
			{Name: "/p/aws", ARN: ssmBase + "p/aws", Type: "SecureString", KeyID: "alias/aws/ssm"},
			// The AWS managed key named by its alias ARN is the AWS managed key too.
			{Name: "/p/awsarn", ARN: ssmBase + "p/awsarn", Type: "SecureString", KeyID: "arn:aws:kms:us-east-1:111122223333:alias/aws/ssm"},
		},
		KMSKeys: []*inventory.KMSKey{{ARN: key, KeyID: "k-1", Manager: "CUSTOMER", Aliases: []string{"alias/mine"}}},
	}}}}}
	res := indexResources(inv)
	td := &inventory.TaskDefinition{ContainerDefinitions: []inventory.ContainerDefinition{
		ctr("c", "nginx", withSecret("A", smBase+"cmk"), withSecret("B", smBase+"awskey-AbCdEf"), withSecret("C", "/p/cmk"), withSecret("D", "/p/aws"), withSecret("E", "/p/awsarn")),
	}, ExecutionRoleARN: "x"}
	got := needLines(derive(td, fargate, res))
	want := []string{
		"kms-decrypt kms:Decrypt " + key + " execution-role",
		"kms-decrypt kms:Decrypt " + key + " execution-role",
		"secrets-manager-secret secretsmanager:GetSecretValue " + smBase + "awskey-AbCdEf execution-role",
		"secrets-manager-secret secretsmanager:GetSecretValue " + smBase + "cmk-AbCdEf execution-role", // the partial ARN resolved
		"ssm-parameter ssm:GetParameters " + ssmBase + "p/aws execution-role",
		"ssm-parameter ssm:GetParameters " + ssmBase + "p/awsarn execution-role",
		"ssm-parameter ssm:GetParameters " + ssmBase + "p/cmk execution-role",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("needs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseECRImage(t *testing.T) {
	for _, c := range []struct {
		in, repo, region string
		ok               bool
	}{
		{"111122223333.dkr.ecr.us-east-1.amazonaws.com/a/b:c", "a/b", "us-east-1", true},
		{"111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com/a", "a", "us-gov-west-1", true},
		{"111122223333.dkr.ecr.us-east-1.amazonaws.com/", "", "", false},
		{"111122223333.dkr-ecr.eu-west-1.on.aws/team/app:1", "team/app", "eu-west-1", true},
		{"111122223333.dkr.ecr.us-east-1.amazonaws.com", "", "", false},
		{"localhost:5000/a", "", "", false},
		{"", "", "", false},
	} {
		img, ok := parseECRImage(c.in)
		if ok != c.ok || img.repository != c.repo || img.region != c.region {
			t.Errorf("parseECRImage(%q) = %+v, %v", c.in, img, ok)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
		ok   bool
	}{
		{"1.9.0", "1.16.0", -1, true}, {"1.16.0", "1.16.0", 0, true}, {"v1.70.1", "1.39.0", 1, true},
		{"1.21.9-beta", "1.22.0", -1, true}, {"1.4", "1.4.0", 0, true}, {"", "1.0.0", 0, false}, {"LATEST", "1.4.0", 0, false},
		{"1.2.3.4", "1.0.0", 0, false}, {"1.", "1.0.0", 0, false}, {"1..2", "1.0.0", 0, false}, {".1", "1.0.0", 0, false},
		{"1.-2", "1.0.0", 0, false}, {"+1.2", "1.2.0", 0, false}, {"2", "1.99.99", 1, true}, {" v1.2.3+build ", "1.2.3", 0, true},
	} {
		got, ok := compareVersions(c.a, c.b)
		if got != c.want || ok != c.ok {
			t.Errorf("compareVersions(%q,%q) = %d,%v", c.a, c.b, got, ok)
		}
	}
}

func TestLeastPrivilege(t *testing.T) {
	td := &inventory.TaskDefinition{ExecutionRoleARN: "x", ContainerDefinitions: []inventory.ContainerDefinition{
		ctr("c", ecrImg("app:1"), withLogs("/ecs/app", "web"), withSecret("A", smBase+"db"), withSecret("B", "/p/x")),
	}}
	doc := string(leastPrivilege(publicNeeds(derive(td, fargate, nil))))
	for _, want := range []string{
		`"Sid": "EcrAuthorizationToken"`, `"Resource": "*"`,
		`"arn:aws:ecr:us-east-1:111122223333:repository/app"`,
		`"arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:web/c/*"`,
		`"arn:aws:secretsmanager:us-east-1:111122223333:secret:db-??????"`,
		`"arn:aws:ssm:us-east-1:111122223333:parameter/p/x"`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("least-privilege policy lacks %s:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, placeholderTaskID) || strings.Contains(doc, placeholderContainerID) {
		t.Errorf("placeholders leaked into the policy:\n%s", doc)
	}
}

// FSx for Windows File Server credentials are read with the execution role (§1.10).
func TestDeriveFSxNeeds(t *testing.T) {
	td := &inventory.TaskDefinition{ExecutionRoleARN: "x", ContainerDefinitions: []inventory.ContainerDefinition{ctr("c", "mcr.microsoft.com/windows/servercore:ltsc2022")},
		Volumes: []inventory.Volume{{Name: "share", FSxWindowsFileServerVolumeConfiguration: &inventory.FSxWindowsFileServerVolumeConf{
			FileSystemID: "fs-1", AuthorizationConfig: &inventory.FSxAuthorizationConfig{CredentialsParameter: smBase + "fsx-AbCdEf", Domain: "corp"}}}}}
	got := derive(td, ec2, nil)
	if len(got) != 1 || got[0].Feature != FeatureFSxCredentials || got[0].Action != "secretsmanager:GetSecretValue" ||
		got[0].FieldPath != "volumes[0].fsxWindowsFileServerVolumeConfiguration.authorizationConfig.credentialsParameter" {
		t.Fatalf("FSx needs: %+v", got)
	}
}
