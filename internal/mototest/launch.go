package mototest

// Launch paths and their network, built in moto through the SDK for the
// scanner's integration test. Write calls are fine here: this is test
// setup against moto, never the scanner.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
)

// LaunchRegion is where BuildLaunchPaths builds.
const LaunchRegion = "us-east-1"

// Launch is what BuildLaunchPaths built in the caller's account.
type Launch struct {
	VPC, PrivateSubnet, PublicSubnet, SecurityGroup string
	MainRouteTable, PublicRouteTable                string
	InternetGateway, NATGateway                     string
	ECRDkrEndpoint, S3Endpoint                      string
	EndpointPolicy                                  string
	Cluster                                         string // ARN
	TaskDefinition, RuleTaskDefinition              string // ARNs (web:1, batch:1)
	ScheduleTaskDefinition                          string // ARN (report:1)
	TaskTaskDefinition                              string // ARN (job:1, bridge mode: see BuildLaunchPaths)
	OverrideRole                                    string
	RunningTask, StoppedTask                        string // ARNs
	Service                                         string // ARN
	Rule, Schedule                                  string // names
}

// BuildLaunchPaths builds, in LaunchRegion of the caller's account: a VPC
// with a private subnet (on the main route table, whose default route goes
// to a NAT gateway) and a public subnet (its own route table, default route
// to an internet gateway); an ecr.dkr interface endpoint with private DNS
// and an S3 gateway endpoint on the main route table, both with policies;
// a cluster with an awsvpc Fargate service, a running task whose overrides
// name another execution role and a stopped task (in bridge mode: moto
// cannot run awsvpc tasks); an EventBridge rule and a
// Scheduler schedule that run tasks in the cluster.
func BuildLaunchPaths(t *testing.T, ctx context.Context) *Launch {
	t.Helper()
	cfg := must[aws.Config](t, "load config")(config.LoadDefaultConfig(ctx, config.WithRegion(LaunchRegion),
		config.WithHTTPClient(TaskNumbersFix(awshttp.NewBuildableClient()))))
	e := ec2.NewFromConfig(cfg)
	l := &Launch{OverrideRole: "arn:aws:iam::" + Management + ":role/override-exec"}

	vpc := must[*ec2.CreateVpcOutput](t, "CreateVpc")(e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16")}))
	l.VPC = aws.ToString(vpc.Vpc.VpcId)
	subnet := func(cidr string) string {
		out := must[*ec2.CreateSubnetOutput](t, "CreateSubnet")(e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(l.VPC), CidrBlock: aws.String(cidr),
			AvailabilityZone: aws.String(LaunchRegion + "a")}))
		return aws.ToString(out.Subnet.SubnetId)
	}
	l.PrivateSubnet, l.PublicSubnet = subnet("10.20.1.0/24"), subnet("10.20.2.0/24")
	sg := must[*ec2.CreateSecurityGroupOutput](t, "CreateSecurityGroup")(e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String("tasks"), Description: aws.String("tasks"), VpcId: aws.String(l.VPC)}))
	l.SecurityGroup = aws.ToString(sg.GroupId)

	igw := must[*ec2.CreateInternetGatewayOutput](t, "CreateInternetGateway")(e.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{}))
	l.InternetGateway = aws.ToString(igw.InternetGateway.InternetGatewayId)
	must[*ec2.AttachInternetGatewayOutput](t, "AttachInternetGateway")(e.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{
		InternetGatewayId: aws.String(l.InternetGateway), VpcId: aws.String(l.VPC)}))
	eip := must[*ec2.AllocateAddressOutput](t, "AllocateAddress")(e.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc}))
	nat := must[*ec2.CreateNatGatewayOutput](t, "CreateNatGateway")(e.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{
		SubnetId: aws.String(l.PublicSubnet), AllocationId: eip.AllocationId}))
	l.NATGateway = aws.ToString(nat.NatGateway.NatGatewayId)

	mains := must[*ec2.DescribeRouteTablesOutput](t, "DescribeRouteTables")(e.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{l.VPC}}, {Name: aws.String("association.main"), Values: []string{"true"}}}}))
	if len(mains.RouteTables) != 1 {
		t.Fatalf("moto setup: %d main route tables for %s", len(mains.RouteTables), l.VPC)
	}
	l.MainRouteTable = aws.ToString(mains.RouteTables[0].RouteTableId)
	must[*ec2.CreateRouteOutput](t, "CreateRoute NAT")(e.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(l.MainRouteTable),
		DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String(l.NATGateway)}))
	pub := must[*ec2.CreateRouteTableOutput](t, "CreateRouteTable")(e.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(l.VPC)}))
	l.PublicRouteTable = aws.ToString(pub.RouteTable.RouteTableId)
	must[*ec2.CreateRouteOutput](t, "CreateRoute IGW")(e.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(l.PublicRouteTable),
		DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(l.InternetGateway)}))
	must[*ec2.AssociateRouteTableOutput](t, "AssociateRouteTable")(e.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{
		RouteTableId: aws.String(l.PublicRouteTable), SubnetId: aws.String(l.PublicSubnet)}))

	l.EndpointPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"}]}`
	s3 := must[*ec2.CreateVpcEndpointOutput](t, "CreateVpcEndpoint s3")(e.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
		VpcId: aws.String(l.VPC), ServiceName: aws.String("com.amazonaws." + LaunchRegion + ".s3"), VpcEndpointType: ec2types.VpcEndpointTypeGateway,
		RouteTableIds: []string{l.MainRouteTable}, PolicyDocument: aws.String(l.EndpointPolicy)}))
	l.S3Endpoint = aws.ToString(s3.VpcEndpoint.VpcEndpointId)
	dkr := must[*ec2.CreateVpcEndpointOutput](t, "CreateVpcEndpoint ecr.dkr")(e.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{
		VpcId: aws.String(l.VPC), ServiceName: aws.String("com.amazonaws." + LaunchRegion + ".ecr.dkr"), VpcEndpointType: ec2types.VpcEndpointTypeInterface,
		SubnetIds: []string{l.PrivateSubnet}, SecurityGroupIds: []string{l.SecurityGroup}, PrivateDnsEnabled: aws.Bool(true),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"` + Management + `"}}}]}`)}))
	l.ECRDkrEndpoint = aws.ToString(dkr.VpcEndpoint.VpcEndpointId)

	// ECS.
	c := ecs.NewFromConfig(cfg)
	cl := must[*ecs.CreateClusterOutput](t, "CreateCluster")(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("launch")}))
	l.Cluster = aws.ToString(cl.Cluster.ClusterArn)
	register := func(family string) string {
		// moto 5.2.1's RunTask fails for awsvpc task definitions (its ENI
		// has no private_dns_name): the standalone tasks run a bridge-mode
		// family, so their ENI attachment cannot be tested here.
		// (moto makes every task definition that allows FARGATE awsvpc.)
		mode, compat := ecstypes.NetworkModeAwsvpc, ecstypes.CompatibilityFargate
		if family == "job" {
			mode, compat = ecstypes.NetworkModeBridge, ecstypes.CompatibilityEc2
		}
		out := must[*ecs.RegisterTaskDefinitionOutput](t, "RegisterTaskDefinition")(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(family), NetworkMode: mode, RequiresCompatibilities: []ecstypes.Compatibility{compat},
			Cpu: aws.String("256"), Memory: aws.String("512"), ExecutionRoleArn: aws.String("arn:aws:iam::" + Management + ":role/ecsTaskExecutionRole"),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(Management + ".dkr.ecr.us-east-1.amazonaws.com/" + family + ":1"), Memory: aws.Int32(512)}},
		}))
		return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	}
	l.TaskDefinition, l.RuleTaskDefinition, l.ScheduleTaskDefinition = register("web"), register("batch"), register("report")
	l.TaskTaskDefinition = register("job")
	// A later revision of each, so that what the launches run is not just
	// the latest of its family.
	register("job")
	register("web")
	register("batch")
	register("report")
	awsvpc := &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
		Subnets: []string{l.PrivateSubnet}, SecurityGroups: []string{l.SecurityGroup}, AssignPublicIp: ecstypes.AssignPublicIpDisabled}}
	svc := must[*ecs.CreateServiceOutput](t, "CreateService")(c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(l.Cluster),
		ServiceName: aws.String("web"), TaskDefinition: aws.String(l.TaskDefinition), DesiredCount: aws.Int32(0), LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: awsvpc}))
	l.Service = aws.ToString(svc.Service.ServiceArn)
	run := func(overrides *ecstypes.TaskOverride) string {
		out := must[*ecs.RunTaskOutput](t, "RunTask")(c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(l.Cluster), TaskDefinition: aws.String(l.TaskTaskDefinition),
			LaunchType: ecstypes.LaunchTypeFargate, PlatformVersion: aws.String("1.4.0"), Overrides: overrides,
			StartedBy: aws.String("ci")}))
		if len(out.Tasks) != 1 {
			t.Fatalf("moto setup: RunTask started %d tasks (failures %+v)", len(out.Tasks), out.Failures)
		}
		return aws.ToString(out.Tasks[0].TaskArn)
	}
	l.RunningTask = run(&ecstypes.TaskOverride{ExecutionRoleArn: aws.String(l.OverrideRole)})
	l.StoppedTask = run(nil)
	must[*ecs.StopTaskOutput](t, "StopTask")(c.StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(l.Cluster), Task: aws.String(l.StoppedTask)}))

	// EventBridge: a scheduled rule with an ECS target (and an SQS one).
	ev := eventbridge.NewFromConfig(cfg)
	l.Rule = "nightly-batch"
	must[*eventbridge.PutRuleOutput](t, "PutRule")(ev.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(l.Rule), ScheduleExpression: aws.String("cron(0 3 * * ? *)")}))
	must[*eventbridge.PutTargetsOutput](t, "PutTargets")(ev.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(l.Rule), Targets: []ebtypes.Target{
		{Id: aws.String("batch"), Arn: aws.String(l.Cluster), RoleArn: aws.String("arn:aws:iam::" + Management + ":role/ecsEventsRole"),
			Input: aws.String(`{"executionRoleArn":"` + l.OverrideRole + `"}`),
			EcsParameters: &ebtypes.EcsParameters{TaskDefinitionArn: aws.String(l.RuleTaskDefinition), TaskCount: aws.Int32(1), LaunchType: ebtypes.LaunchTypeFargate,
				NetworkConfiguration: &ebtypes.NetworkConfiguration{AwsvpcConfiguration: &ebtypes.AwsVpcConfiguration{
					Subnets: []string{l.PublicSubnet}, SecurityGroups: []string{l.SecurityGroup}, AssignPublicIp: ebtypes.AssignPublicIpEnabled}}}},
		{Id: aws.String("queue"), Arn: aws.String("arn:aws:sqs:" + LaunchRegion + ":" + Management + ":q")},
	}}))

	// Scheduler: a schedule that runs a task.
	sc := scheduler.NewFromConfig(cfg)
	l.Schedule = "hourly-report"
	must[*scheduler.CreateScheduleOutput](t, "CreateSchedule")(sc.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String(l.Schedule),
		ScheduleExpression: aws.String("rate(1 hour)"), FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target: &schedtypes.Target{Arn: aws.String(l.Cluster), RoleArn: aws.String("arn:aws:iam::" + Management + ":role/scheduler-run"),
			EcsParameters: &schedtypes.EcsParameters{TaskDefinitionArn: aws.String(l.ScheduleTaskDefinition), LaunchType: schedtypes.LaunchTypeFargate,
				NetworkConfiguration: &schedtypes.NetworkConfiguration{AwsvpcConfiguration: &schedtypes.AwsVpcConfiguration{
					Subnets: []string{l.PrivateSubnet}, SecurityGroups: []string{l.SecurityGroup}}}}}}))
	return l
}

// TaskNumbersFix wraps an HTTP client for moto: moto 5.2.1 answers ECS
// RunTask, StopTask and DescribeTasks with tasks[].containers[].cpu and
// .memory as JSON numbers, where the API (and so the SDK's deserializer)
// has strings, so the SDK rejects the whole answer. The wrapper turns those
// two numbers into strings and changes nothing else.
func TaskNumbersFix(next aws.HTTPClient) aws.HTTPClient { return taskNumbersFix{next} }

type taskNumbersFix struct{ next aws.HTTPClient }

func (f taskNumbersFix) Do(req *http.Request) (*http.Response, error) {
	resp, err := f.next.Do(req)
	target := req.Header.Get("X-Amz-Target")
	if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(target, "AmazonEC2ContainerServiceV20141113.") {
		return resp, err
	}
	switch strings.TrimPrefix(target, "AmazonEC2ContainerServiceV20141113.") {
	case "RunTask", "StopTask", "DescribeTasks":
	default:
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if json.Unmarshal(body, &doc) == nil {
		var tasks []any
		switch v := doc["tasks"].(type) {
		case []any:
			tasks = v
		}
		if t, ok := doc["task"]; ok {
			tasks = append(tasks, t)
		}
		for _, t := range tasks {
			tm, _ := t.(map[string]any)
			cs, _ := tm["containers"].([]any)
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				for _, k := range []string{"cpu", "memory", "memoryReservation"} {
					if n, ok := cm[k].(float64); ok {
						cm[k] = strconv.FormatFloat(n, 'f', -1, 64)
					}
				}
			}
		}
		if b, err := json.Marshal(doc); err == nil {
			body = b
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}
