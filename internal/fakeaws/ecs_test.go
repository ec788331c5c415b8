package fakeaws

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-audit/audit/inventory"
)

const eastARN = "arn:aws:ecs:us-east-1:" + prodID

func prodECS(t *testing.T, ts *testServer) *ecs.Client {
	return ecs.NewFromConfig(ts.assumeCfg(t, prodID, "us-east-1"))
}

func TestECSListServicesPagination(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	client := prodECS(t, ts)
	tests := []struct {
		name       string
		maxResults *int32
		launchType types.LaunchType
		pages      int
		total      int
	}{
		{"default page size is 10", nil, "", 3, 25},
		{"page size 100", aws.Int32(100), "", 1, 25},
		{"page size 7", aws.Int32(7), "", 4, 25},
		{"only Fargate", aws.Int32(100), types.LaunchTypeFargate, 1, 12},
		{"only EC2", nil, types.LaunchTypeEc2, 2, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ecs.NewListServicesPaginator(client, &ecs.ListServicesInput{Cluster: aws.String("big"), MaxResults: tt.maxResults, LaunchType: tt.launchType})
			pages, seen := 0, map[string]bool{}
			for p.HasMorePages() {
				out, err := p.NextPage(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, a := range out.ServiceArns {
					if seen[a] {
						t.Errorf("%s listed twice", a)
					}
					seen[a] = true
				}
			}
			if pages != tt.pages || len(seen) != tt.total {
				t.Errorf("pages = %d, services = %d; want %d, %d", pages, len(seen), tt.pages, tt.total)
			}
		})
	}
}

func TestECSErrors(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	client := prodECS(t, ts)
	ctx := context.Background()
	many := func(n int, f string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(f, i)
		}
		return out
	}
	tests := []struct {
		name string
		call func() error
		code string
		msg  string
	}{
		{"11 services", func() error {
			_, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("big"), Services: many(11, "svc-%02d")})
			return err
		}, "InvalidParameterException", "at most 10"},
		{"101 clusters", func() error {
			_, err := client.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: many(101, "c%d")})
			return err
		}, "InvalidParameterException", "at most 100"},
		{"101 container instances", func() error {
			_, err := client.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("big"), ContainerInstances: many(101, "%d")})
			return err
		}, "InvalidParameterException", "at most 100"},
		{"maxResults 101", func() error {
			_, err := client.ListClusters(ctx, &ecs.ListClustersInput{MaxResults: aws.Int32(101)})
			return err
		}, "InvalidParameterException", "between 1 and 100"},
		{"unknown cluster", func() error {
			_, err := client.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("nope")})
			return err
		}, "ClusterNotFoundException", "Cluster not found"},
		{"bad token", func() error {
			_, err := client.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("big"), NextToken: aws.String("garbage")})
			return err
		}, "InvalidParameterException", "nextToken"},
		{"token from another cluster", func() error {
			out, err := client.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("big")})
			if err != nil || out.NextToken == nil {
				return fmt.Errorf("first page: %v", err)
			}
			_, err = client.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("small"), NextToken: out.NextToken})
			return err
		}, "InvalidParameterException", "nextToken"},
		{"unknown task definition", func() error {
			_, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:9")})
			return err
		}, "ClientException", "Unable to describe task definition"},
		{"family without active revision", func() error {
			_, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("old")})
			return err
		}, "ClientException", "Unable to describe task definition"},
		{"filter expressions are not evaluated", func() error {
			_, err := client.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("big"), Filter: aws.String("attribute:ecs.os-type == linux")})
			return err
		}, "InvalidParameterException", "query language"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			wantCode(t, err, tt.code)
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

func TestECSDescribe(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	client := prodECS(t, ts)
	ctx := context.Background()

	cl, err := client.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"big", eastARN + ":cluster/small", "missing"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Clusters) != 2 || len(cl.Failures) != 1 || *cl.Failures[0].Reason != "MISSING" {
		t.Fatalf("clusters %d failures %v", len(cl.Clusters), cl.Failures)
	}
	if c := cl.Clusters[0]; *c.ClusterName != "big" || c.ActiveServicesCount != 25 || c.RegisteredContainerInstancesCount != 120 {
		t.Errorf("cluster big = %s services %d instances %d", *c.ClusterName, c.ActiveServicesCount, c.RegisteredContainerInstancesCount)
	}

	sv, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(eastARN + ":cluster/big"),
		Services: []string{"svc-01", eastARN + ":service/big/svc-02", "svc-03", "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(sv.Services) != 3 || len(sv.Failures) != 1 {
		t.Fatalf("services %d failures %d", len(sv.Services), len(sv.Failures))
	}
	s1, s2, s3 := sv.Services[0], sv.Services[1], sv.Services[2]
	if len(s1.CapacityProviderStrategy) != 2 || *s1.CapacityProviderStrategy[0].CapacityProvider != "FARGATE_SPOT" || s1.LaunchType != "" {
		t.Errorf("svc-01 strategy %v launch type %q", s1.CapacityProviderStrategy, s1.LaunchType)
	}
	if len(s1.Deployments) != 2 || *s1.Deployments[1].TaskDefinition != eastARN+":task-definition/web:2" || *s1.Deployments[1].PlatformVersion != "1.3.0" {
		t.Errorf("svc-01 deployments %+v", s1.Deployments)
	}
	if len(s2.TaskSets) != 2 || len(s2.Deployments) != 0 || *s2.TaskSets[1].TaskDefinition != eastARN+":task-definition/web:1" {
		t.Errorf("svc-02 task sets %d deployments %d", len(s2.TaskSets), len(s2.Deployments))
	}
	if s3.LaunchType != types.LaunchTypeEc2 || *s3.TaskDefinition != eastARN+":task-definition/web:3" {
		t.Errorf("svc-03 = %s %s", s3.LaunchType, *s3.TaskDefinition)
	}
	if s2.PlatformVersion == nil || *s2.PlatformVersion != "1.4.0" || *s2.PlatformFamily != "Linux" {
		t.Errorf("svc-02 platform %v %v", s2.PlatformVersion, s2.PlatformFamily)
	}

	// Container instances: all pages, status filter, describe in batches of 100.
	var arns []string
	p := ecs.NewListContainerInstancesPaginator(client, &ecs.ListContainerInstancesInput{Cluster: aws.String("big"), MaxResults: aws.Int32(50)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, out.ContainerInstanceArns...)
	}
	if len(arns) != 120 {
		t.Fatalf("listed %d instances, want 120", len(arns))
	}
	dr, err := client.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("big"), Status: types.ContainerInstanceStatusDraining})
	if err != nil || len(dr.ContainerInstanceArns) != 12 {
		t.Fatalf("draining: %v %d", err, len(dr.ContainerInstanceArns))
	}
	ci, err := client.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("big"), ContainerInstances: arns[:100]})
	if err != nil {
		t.Fatal(err)
	}
	if len(ci.ContainerInstances) != 100 {
		t.Fatalf("described %d", len(ci.ContainerInstances))
	}
	c7 := ci.ContainerInstances[6]
	if c7.AgentConnected || *c7.VersionInfo.AgentVersion != "1.70.2" || *c7.Ec2InstanceId != fmt.Sprintf("i-%017x", 7) ||
		len(c7.Attributes) != 2 || *c7.Attributes[0].Name != "ecs.capability.execution-role-awslogs" || *c7.Attributes[1].Value != "linux" {
		t.Errorf("instance 7 = connected %v version %v attrs %v", c7.AgentConnected, *c7.VersionInfo.AgentVersion, c7.Attributes)
	}
	byID, err := client.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("big"), ContainerInstances: []string{fmt.Sprintf("%032x", 3)}})
	if err != nil || len(byID.ContainerInstances) != 1 {
		t.Fatalf("describe by ID: %v", err)
	}
	attrs, err := client.ListAttributes(ctx, &ecs.ListAttributesInput{Cluster: aws.String("big"), TargetType: types.TargetTypeContainerInstance, AttributeName: aws.String("ecs.os-type")})
	if err != nil || len(attrs.Attributes) != 100 || attrs.NextToken == nil {
		t.Fatalf("ListAttributes: %v, %d", err, len(attrs.Attributes))
	}
}

func TestECSTaskDefinitionListing(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	client := prodECS(t, ts)
	ctx := context.Background()
	tests := []struct {
		name string
		in   ecs.ListTaskDefinitionsInput
		want []string
	}{
		{"default: active, ascending", ecs.ListTaskDefinitionsInput{}, []string{"api:1", "web:2", "web:3"}},
		{"descending", ecs.ListTaskDefinitionsInput{Sort: types.SortOrderDesc}, []string{"web:3", "web:2", "api:1"}},
		{"one family", ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web")}, []string{"web:2", "web:3"}},
		{"family is exact, not a prefix", ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("we")}, nil},
		{"inactive", ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusInactive}, []string{"old:1", "web:1"}},
		{"pages of one", ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(1)}, []string{"api:1", "web:2", "web:3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			in := tt.in
			p := ecs.NewListTaskDefinitionsPaginator(client, &in)
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range out.TaskDefinitionArns {
					got = append(got, strings.TrimPrefix(a, eastARN+":task-definition/"))
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	famTests := []struct {
		status types.TaskDefinitionFamilyStatus
		prefix string
		want   string
	}{
		{"", "", "api,old,web"},
		{types.TaskDefinitionFamilyStatusActive, "", "api,web"},
		{types.TaskDefinitionFamilyStatusInactive, "", "old"},
		{"", "w", "web"},
	}
	for _, tt := range famTests {
		out, err := client.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{Status: tt.status, FamilyPrefix: aws.String(tt.prefix)})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(out.Families, ","); got != tt.want {
			t.Errorf("families(%q, %q) = %s, want %s", tt.status, tt.prefix, got, tt.want)
		}
	}
}

func TestECSDescribeTaskDefinition(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	client := prodECS(t, ts)
	ctx := context.Background()
	for _, tt := range []struct{ key, wantARN string }{
		{eastARN + ":task-definition/web:1", eastARN + ":task-definition/web:1"},
		{"web:2", eastARN + ":task-definition/web:2"},
		{"web", eastARN + ":task-definition/web:3"},
		{"api", eastARN + ":task-definition/api:1"},
	} {
		out, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(tt.key), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
		if err != nil {
			t.Fatalf("%s: %v", tt.key, err)
		}
		if *out.TaskDefinition.TaskDefinitionArn != tt.wantARN {
			t.Errorf("%s resolved to %s, want %s", tt.key, *out.TaskDefinition.TaskDefinitionArn, tt.wantARN)
		}
		if out.Tags == nil {
			t.Errorf("%s: tags missing with include TAGS", tt.key)
		}
	}

	out, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:3")})
	if err != nil {
		t.Fatal(err)
	}
	td := out.TaskDefinition
	world := testWorld().Accounts[1].Regions[0].TaskDefinitions[2]
	checks := []struct {
		name      string
		got, want any
	}{
		{"executionRoleArn", *td.ExecutionRoleArn, world.ExecutionRoleARN},
		{"taskRoleArn", *td.TaskRoleArn, world.TaskRoleARN},
		{"networkMode", string(td.NetworkMode), "awsvpc"},
		{"status", string(td.Status), "ACTIVE"},
		{"requiresCompatibilities", fmt.Sprint(td.RequiresCompatibilities), "[FARGATE]"},
		{"compatibilities", fmt.Sprint(td.Compatibilities), "[EC2 FARGATE]"},
		{"requiresAttributes", *td.RequiresAttributes[1].Name, "com.amazonaws.ecs.capability.ecr-auth"},
		{"runtimePlatform", string(td.RuntimePlatform.CpuArchitecture) + "/" + string(td.RuntimePlatform.OperatingSystemFamily), "ARM64/LINUX"},
		{"containers", len(td.ContainerDefinitions), 2},
		{"image", *td.ContainerDefinitions[0].Image, world.ContainerDefinitions[0].Image},
		{"essential default", *td.ContainerDefinitions[0].Essential, true},
		{"essential false", *td.ContainerDefinitions[1].Essential, false},
		{"repositoryCredentials", *td.ContainerDefinitions[0].RepositoryCredentials.CredentialsParameter, world.ContainerDefinitions[0].RepositoryCredentials.CredentialsParameter},
		{"logDriver", string(td.ContainerDefinitions[0].LogConfiguration.LogDriver), "splunk"},
		{"log options as stored", td.ContainerDefinitions[0].LogConfiguration.Options["splunk-token"], inventory.Redacted},
		{"secretOptions", *td.ContainerDefinitions[0].LogConfiguration.SecretOptions[0].ValueFrom, "/app/splunk"},
		{"secrets", *td.ContainerDefinitions[0].Secrets[0].ValueFrom, world.ContainerDefinitions[0].Secrets[0].ValueFrom},
		{"environmentFiles", *td.ContainerDefinitions[0].EnvironmentFiles[0].Value + "|" + string(td.ContainerDefinitions[0].EnvironmentFiles[0].Type), "arn:aws:s3:::cfg/web.env|s3"},
		{"firelens", string(td.ContainerDefinitions[1].FirelensConfiguration.Type) + "|" + td.ContainerDefinitions[1].FirelensConfiguration.Options["config-file-value"], "fluentbit|arn:aws:s3:::cfg/fb.conf"},
		{"volumes", len(td.Volumes), 2},
		{"plain volume has host", td.Volumes[0].Host != nil, true},
		{"fsx", *td.Volumes[1].FsxWindowsFileServerVolumeConfiguration.AuthorizationConfig.CredentialsParameter, "arn:aws:ssm:us-east-1:" + prodID + ":parameter/fsx"},
		{"fsx file system", *td.Volumes[1].FsxWindowsFileServerVolumeConfiguration.FileSystemId, "fs-0123456789abcdef0"},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestEnvValueRoundTripSDK: environment values served through the SDK
// classify back to the world's class, with the world's length.
func TestEnvValueRoundTripSDK(t *testing.T) {
	ts := startServer(t, testWorld(), Options{Seed: 3})
	out, err := prodECS(t, ts).DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:3")})
	if err != nil {
		t.Fatal(err)
	}
	want := envForAllClasses()
	got := out.TaskDefinition.ContainerDefinitions[0].Environment
	if len(got) != len(want) {
		t.Fatalf("%d variables, want %d", len(got), len(want))
	}
	for i, e := range want {
		v := *got[i].Value
		if *got[i].Name != e.Name {
			t.Errorf("variable %d is %s, want %s", i, *got[i].Name, e.Name)
		}
		if c := inventory.ClassifyValue(v); c != e.ValueClass {
			t.Errorf("%s: served value classifies as %q, want %q", e.Name, c, e.ValueClass)
		}
		if e.ValueLength > 0 && len(v) != e.ValueLength {
			t.Errorf("%s (%s): length %d, want %d", e.Name, e.ValueClass, len(v), e.ValueLength)
		}
	}
}

func TestECSRegions(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	ctx := context.Background()
	tests := []struct {
		region string
		code   string
		count  int
	}{
		{"us-east-1", "", 2},
		{"us-west-2", "", 0},                            // scanned, empty
		{"eu-central-1", "", 0},                         // not in the world: enabled and empty
		{"ap-east-1", "UnrecognizedClientException", 0}, // opt-in region not enabled
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			out, err := ecs.NewFromConfig(ts.assumeCfg(t, prodID, tt.region)).ListClusters(ctx, &ecs.ListClustersInput{})
			if tt.code != "" {
				wantCode(t, err, tt.code)
				if !strings.Contains(err.Error(), "security token included in the request is invalid") {
					t.Errorf("message: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(out.ClusterArns) != tt.count {
				t.Errorf("%d clusters, want %d", len(out.ClusterArns), tt.count)
			}
		})
	}
}
