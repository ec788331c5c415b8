package scanner

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-audit/audit/inventory"
)

func envKV(name, value string) ecstypes.KeyValuePair {
	return ecstypes.KeyValuePair{Name: aws.String(name), Value: aws.String(value)}
}

func TestConvertTaskDefinition(t *testing.T) {
	in := &ecstypes.TaskDefinition{
		TaskDefinitionArn:       aws.String("arn:aws:ecs:eu-west-1:111111111111:task-definition/web:7"),
		Family:                  aws.String("web"),
		Revision:                7,
		Status:                  ecstypes.TaskDefinitionStatusActive,
		ExecutionRoleArn:        aws.String("arn:aws:iam::111111111111:role/exec"),
		TaskRoleArn:             aws.String("app"),
		NetworkMode:             ecstypes.NetworkModeAwsvpc,
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Compatibilities:         []ecstypes.Compatibility{ecstypes.CompatibilityEc2, ecstypes.CompatibilityFargate},
		RequiresAttributes: []ecstypes.Attribute{
			{Name: aws.String("ecs.capability.execution-role-awslogs")},
			{Name: aws.String("com.amazonaws.ecs.capability.ecr-auth")},
		},
		RuntimePlatform: &ecstypes.RuntimePlatform{OperatingSystemFamily: ecstypes.OSFamilyLinux, CpuArchitecture: ecstypes.CPUArchitectureArm64},
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("111111111111.dkr.ecr.eu-west-1.amazonaws.com/app:1"), Essential: aws.Bool(false),
			RepositoryCredentials: &ecstypes.RepositoryCredentials{CredentialsParameter: aws.String("arn:aws:secretsmanager:eu-west-1:111111111111:secret:reg-AbCdEf")},
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwsfirelens,
				Options:       map[string]string{"Name": "splunk", "splunk_token": "abcd", "region": "eu-west-1"},
				SecretOptions: []ecstypes.Secret{{Name: aws.String("tok"), ValueFrom: aws.String("/splunk/token")}}},
			Secrets: []ecstypes.Secret{{Name: aws.String("DB"), ValueFrom: aws.String("arn:aws:ssm:eu-west-1:111111111111:parameter/db")}},
			Environment: []ecstypes.KeyValuePair{
				envKV("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"), envKV("MODE", "prod"),
			},
			EnvironmentFiles:      []ecstypes.EnvironmentFile{{Type: ecstypes.EnvironmentFileTypeS3, Value: aws.String("arn:aws:s3:::bucket/app.env")}},
			FirelensConfiguration: &ecstypes.FirelensConfiguration{Type: ecstypes.FirelensConfigurationTypeFluentbit, Options: map[string]string{"config-file-type": "s3", "config-file-value": "arn:aws:s3:::b/f.conf", "api_key": "k"}},
		}, {Name: aws.String("sidecar"), Image: aws.String("public.ecr.aws/x/y:latest")}},
		Volumes: []ecstypes.Volume{
			{Name: aws.String("data")},
			{Name: aws.String("fsx"), FsxWindowsFileServerVolumeConfiguration: &ecstypes.FSxWindowsFileServerVolumeConfiguration{
				FileSystemId: aws.String("fs-1"), RootDirectory: aws.String(`\share`),
				AuthorizationConfig: &ecstypes.FSxWindowsFileServerAuthorizationConfig{CredentialsParameter: aws.String("arn:aws:ssm:eu-west-1:111111111111:parameter/fsx"), Domain: aws.String("corp")},
			}},
		},
	}
	f := false
	want := &inventory.TaskDefinition{
		ARN: "arn:aws:ecs:eu-west-1:111111111111:task-definition/web:7", Family: "web", Revision: 7, Status: "ACTIVE",
		ExecutionRoleARN: "arn:aws:iam::111111111111:role/exec", TaskRoleARN: "app", NetworkMode: "awsvpc",
		RequiresCompatibilities: []string{"FARGATE"}, Compatibilities: []string{"EC2", "FARGATE"},
		RequiresAttributes: []inventory.Attribute{{Name: "com.amazonaws.ecs.capability.ecr-auth"}, {Name: "ecs.capability.execution-role-awslogs"}},
		RuntimePlatform:    &inventory.RuntimePlatform{OperatingSystemFamily: "LINUX", CPUArchitecture: "ARM64"},
		ContainerDefinitions: []inventory.ContainerDefinition{{
			Name: "app", Image: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/app:1", Essential: &f,
			RepositoryCredentials: &inventory.RepositoryCredentials{CredentialsParameter: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:reg-AbCdEf"},
			LogConfiguration: &inventory.LogConfiguration{LogDriver: "awsfirelens",
				Options:       map[string]string{"Name": "splunk", "splunk_token": inventory.Redacted, "region": "eu-west-1"},
				SecretOptions: []inventory.SecretRef{{Name: "tok", ValueFrom: "/splunk/token"}}},
			Secrets:               []inventory.SecretRef{{Name: "DB", ValueFrom: "arn:aws:ssm:eu-west-1:111111111111:parameter/db"}},
			Environment:           []inventory.EnvVar{{Name: "AWS_ACCESS_KEY_ID", ValueClass: inventory.ValueAWSAccessKey, ValueLength: 20}, {Name: "MODE", ValueLength: 4}},
			EnvironmentFiles:      []inventory.EnvironmentFile{{Type: "s3", Value: "arn:aws:s3:::bucket/app.env"}},
			FirelensConfiguration: &inventory.FirelensConfiguration{Type: "fluentbit", Options: map[string]string{"config-file-type": "s3", "config-file-value": "arn:aws:s3:::b/f.conf", "api_key": inventory.Redacted}},
		}, {Name: "sidecar", Image: "public.ecr.aws/x/y:latest"}},
		Volumes: []inventory.Volume{{Name: "data"}, {Name: "fsx", FSxWindowsFileServerVolumeConfiguration: &inventory.FSxWindowsFileServerVolumeConf{
			FileSystemID: "fs-1", RootDirectory: `\share`,
			AuthorizationConfig: &inventory.FSxAuthorizationConfig{CredentialsParameter: "arn:aws:ssm:eu-west-1:111111111111:parameter/fsx", Domain: "corp"}}}},
	}
	got := convertTaskDefinition(in)
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("got\n%s\nwant\n%s", g, w)
	}
	// The mapping must not alias the SDK's memory.
	*in.ContainerDefinitions[0].Essential = true
	if *got.ContainerDefinitions[0].Essential {
		t.Errorf("Essential aliases the SDK value")
	}
}

func TestConvertTaskDefinitionFillsFamilyFromARN(t *testing.T) {
	got := convertTaskDefinition(&ecstypes.TaskDefinition{TaskDefinitionArn: aws.String("arn:aws:ecs:us-east-1:111111111111:task-definition/x:4")})
	if got.Family != "x" || got.Revision != 4 || got.ContainerDefinitions == nil {
		t.Errorf("%+v", got)
	}
}

func TestConvertService(t *testing.T) {
	in := ecstypes.Service{
		ServiceArn: aws.String("arn:s"), ServiceName: aws.String("s"), Status: aws.String("ACTIVE"),
		CapacityProviderStrategy: []ecstypes.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE_SPOT")}, {CapacityProvider: aws.String("FARGATE")}},
		PlatformVersion:          aws.String("1.4.0"), PlatformFamily: aws.String("Linux"), TaskDefinition: aws.String("arn:td:2"),
		DesiredCount: 3, RunningCount: 2,
		Deployments: []ecstypes.Deployment{
			{Id: aws.String("ecs-svc/2"), Status: aws.String("PRIMARY"), TaskDefinition: aws.String("arn:td:2"), LaunchType: ecstypes.LaunchTypeFargate, PlatformVersion: aws.String("LATEST")},
			{Id: aws.String("ecs-svc/1"), Status: aws.String("ACTIVE"), TaskDefinition: aws.String("arn:td:1")},
		},
		TaskSets: []ecstypes.TaskSet{{Id: aws.String("ecs-svc/0"), Status: aws.String("ACTIVE"), TaskDefinition: aws.String("arn:td:0"), LaunchType: ecstypes.LaunchTypeExternal}},
	}
	got := convertService(in)
	want := &inventory.Service{ARN: "arn:s", Name: "s", Status: "ACTIVE", CapacityProviders: []string{"FARGATE_SPOT", "FARGATE"},
		PlatformVersion: "1.4.0", PlatformFamily: "Linux", TaskDefinition: "arn:td:2", DesiredCount: 3, RunningCount: 2,
		Deployments: []inventory.Deployment{
			{ID: "ecs-svc/0", Status: "ACTIVE", TaskDefinition: "arn:td:0", LaunchType: "EXTERNAL"},
			{ID: "ecs-svc/1", Status: "ACTIVE", TaskDefinition: "arn:td:1"},
			{ID: "ecs-svc/2", Status: "PRIMARY", TaskDefinition: "arn:td:2", LaunchType: "FARGATE", PlatformVersion: "LATEST"},
		}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestConvertInstance(t *testing.T) {
	in := ecstypes.ContainerInstance{
		ContainerInstanceArn: aws.String("arn:ci"), Ec2InstanceId: aws.String("i-1"), Status: aws.String("DRAINING"), AgentConnected: false,
		VersionInfo: &ecstypes.VersionInfo{AgentVersion: aws.String("1.16.0"), AgentHash: aws.String("h"), DockerVersion: aws.String("DockerVersion: 20.10")},
		Attributes:  []ecstypes.Attribute{{Name: aws.String("b")}, {Name: aws.String("a"), Value: aws.String("2")}, {Name: aws.String("a"), Value: aws.String("1")}, {Name: aws.String("b")}},
	}
	got := convertInstance(in)
	want := &inventory.ContainerInstance{ARN: "arn:ci", EC2InstanceID: "i-1", Status: "DRAINING", AgentVersion: "1.16.0", AgentHash: "h", DockerVersion: "DockerVersion: 20.10",
		Attributes: []inventory.Attribute{{Name: "a", Value: "1"}, {Name: "a", Value: "2"}, {Name: "b"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}
