package mototest

// The network-path and launch-path cases of the findings, built in moto
// through the SDK for cmd/audit's integration test (write calls: test
// setup, never the scanner).

import (
	"context"
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
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// NetworkCases is what BuildNetworkCases built in LaunchRegion of moto's
// default account (Management).
type NetworkCases struct {
	CoreVPC, PrivateVPC                                            string
	AppSubnet, BatchSubnet, IsolatedSubnet                         string
	PrivateSubnet                                                  string
	MainRouteTable, BatchRouteTable, NATGateway                    string
	OwnS3Endpoint, ECRDkrEndpoint, ECRAPIEndpoint, SecretsEndpoint string
	// Task definition ARNs of each case.
	Reconcile, BatchImport, NATPull, Private, Partner, Refund string
	// Launches.
	Rule, Schedule         string // names
	OverrideRole, GoneRole string // ARNs passed in RunTask overrides
	OverrideTask, GoneTask string // task ARNs
}

// BuildNetworkCases builds two VPCs and the launches of the network and
// launch-path cases in moto:
//
//   - the core VPC: an isolated subnet on the main route table (local
//     route only), run by an EventBridge rule (NW001, no path); an app
//     subnet whose table routes to a NAT gateway, with a service whose role
//     allows ECR pulls only through the ECR endpoints (ER004: through NAT
//     aws:SourceVpce is absent); a batch subnet whose table also has an S3
//     gateway endpoint that knows only one bucket, run by a Scheduler
//     schedule (NW001: the image layers cannot come through);
//   - the private VPC: interface endpoints with private DNS for ecr.dkr,
//     ecr.api and secretsmanager (whose policy lets only payments/* secrets
//     through) and an S3 gateway endpoint that lets the layers through; one
//     service pulls through the ECR endpoints its role's condition names
//     (allowed), one reads a secret the endpoint policy leaves out (ER004 in
//     the vpc-endpoint layer);
//   - two standalone tasks of a task definition whose own role is fine:
//     one passes an override role that lacks the secret (ER004 keyed by that
//     role), one a role that does not exist (ER002). moto 5.2.1's RunTask
//     fails for awsvpc task definitions, so these run a bridge-mode
//     revision with launch type FARGATE and have no ENI: the findings say
//     their network configuration was not recorded (a coverage gap).
func BuildNetworkCases(t *testing.T, ctx context.Context) *NetworkCases {
	t.Helper()
	cfg := must[aws.Config](t, "load config")(config.LoadDefaultConfig(ctx, config.WithRegion(LaunchRegion),
		config.WithHTTPClient(TaskNumbersFix(awshttp.NewBuildableClient()))))
	acct := Management
	arn := func(svc, res string) string { return "arn:aws:" + svc + ":" + LaunchRegion + ":" + acct + ":" + res }
	n := &NetworkCases{}

	// Secrets.
	sm := secretsmanager.NewFromConfig(cfg)
	secret := func(name string) string {
		out := must[*secretsmanager.CreateSecretOutput](t, "CreateSecret")(sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String(name), SecretString: aws.String("not-a-real-value")}))
		return aws.ToString(out.ARN)
	}
	dbSecret, partnerSecret := secret("payments/db"), secret("partner/api")

	// Roles.
	im := iam.NewFromConfig(cfg)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole",` +
		`"Condition":{"StringEquals":{"aws:SourceAccount":"` + acct + `"},"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*:` + acct + `:*"}}}]}`
	role := func(name, policy string) string {
		out := must[*iam.CreateRoleOutput](t, "CreateRole")(im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}))
		must[*iam.PutRolePolicyOutput](t, "PutRolePolicy")(im.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name),
			PolicyName: aws.String("exec"), PolicyDocument: aws.String(policy)}))
		return aws.ToString(out.Role.Arn)
	}
	ecrAll := `{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Resource":"*"}`
	doc := func(stmts string) string { return `{"Version":"2012-10-17","Statement":[` + stmts + `]}` }
	appExec := role("app-exec", doc(ecrAll+`,{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"`+dbSecret+`"}`))
	partnerExec := role("partner-exec", doc(ecrAll+`,{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"`+partnerSecret+`"}`))
	n.OverrideRole = role("refund-override-exec", doc(ecrAll))
	n.GoneRole = "arn:aws:iam::" + acct + ":role/refund-legacy-exec"

	// The network.
	e := ec2.NewFromConfig(cfg)
	vpc := func(cidr string) (string, string) {
		v := must[*ec2.CreateVpcOutput](t, "CreateVpc")(e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr)}))
		id := aws.ToString(v.Vpc.VpcId)
		mains := must[*ec2.DescribeRouteTablesOutput](t, "DescribeRouteTables")(e.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{id}}, {Name: aws.String("association.main"), Values: []string{"true"}}}}))
		if len(mains.RouteTables) != 1 {
			t.Fatalf("moto setup: %d main route tables for %s", len(mains.RouteTables), id)
		}
		return id, aws.ToString(mains.RouteTables[0].RouteTableId)
	}
	subnet := func(vpc, cidr string) string {
		out := must[*ec2.CreateSubnetOutput](t, "CreateSubnet")(e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(cidr),
			AvailabilityZone: aws.String(LaunchRegion + "a")}))
		return aws.ToString(out.Subnet.SubnetId)
	}
	table := func(vpc, subnet string) string {
		rt := must[*ec2.CreateRouteTableOutput](t, "CreateRouteTable")(e.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc)}))
		id := aws.ToString(rt.RouteTable.RouteTableId)
		must[*ec2.AssociateRouteTableOutput](t, "AssociateRouteTable")(e.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{
			RouteTableId: aws.String(id), SubnetId: aws.String(subnet)}))
		return id
	}
	sgOf := func(vpc string) string {
		sg := must[*ec2.CreateSecurityGroupOutput](t, "CreateSecurityGroup")(e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName: aws.String("tasks-" + vpc), Description: aws.String("tasks"), VpcId: aws.String(vpc)}))
		return aws.ToString(sg.GroupId)
	}
	endpoint := func(in *ec2.CreateVpcEndpointInput) string {
		out := must[*ec2.CreateVpcEndpointOutput](t, "CreateVpcEndpoint")(e.CreateVpcEndpoint(ctx, in))
		return aws.ToString(out.VpcEndpoint.VpcEndpointId)
	}

	// The core VPC.
	n.CoreVPC, n.MainRouteTable = vpc("10.40.0.0/16")
	coreSG := sgOf(n.CoreVPC)
	public := subnet(n.CoreVPC, "10.40.0.0/24")
	n.AppSubnet, n.BatchSubnet, n.IsolatedSubnet = subnet(n.CoreVPC, "10.40.1.0/24"), subnet(n.CoreVPC, "10.40.2.0/24"), subnet(n.CoreVPC, "10.40.3.0/24")
	igw := must[*ec2.CreateInternetGatewayOutput](t, "CreateInternetGateway")(e.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{}))
	must[*ec2.AttachInternetGatewayOutput](t, "AttachInternetGateway")(e.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{
		InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: aws.String(n.CoreVPC)}))
	pubRT := table(n.CoreVPC, public)
	must[*ec2.CreateRouteOutput](t, "CreateRoute IGW")(e.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(pubRT),
		DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId}))
	eip := must[*ec2.AllocateAddressOutput](t, "AllocateAddress")(e.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc}))
	nat := must[*ec2.CreateNatGatewayOutput](t, "CreateNatGateway")(e.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{
		SubnetId: aws.String(public), AllocationId: eip.AllocationId}))
	n.NATGateway = aws.ToString(nat.NatGateway.NatGatewayId)
	appRT := table(n.CoreVPC, n.AppSubnet)
	n.BatchRouteTable = table(n.CoreVPC, n.BatchSubnet)
	for _, rt := range []string{appRT, n.BatchRouteTable} {
		must[*ec2.CreateRouteOutput](t, "CreateRoute NAT")(e.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(rt),
			DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String(n.NATGateway)}))
	}
	n.OwnS3Endpoint = endpoint(&ec2.CreateVpcEndpointInput{VpcId: aws.String(n.CoreVPC), ServiceName: aws.String("com.amazonaws." + LaunchRegion + ".s3"),
		VpcEndpointType: ec2types.VpcEndpointTypeGateway, RouteTableIds: []string{n.BatchRouteTable},
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"ConfigBucketOnly","Effect":"Allow","Principal":"*","Action":"s3:*",` +
			`"Resource":["arn:aws:s3:::payments-config","arn:aws:s3:::payments-config/*"]}]}`)})

	// The private VPC.
	var privMain string
	n.PrivateVPC, privMain = vpc("10.41.0.0/16")
	privSG := sgOf(n.PrivateVPC)
	n.PrivateSubnet = subnet(n.PrivateVPC, "10.41.1.0/24")
	iface := func(service, policy string) string {
		in := &ec2.CreateVpcEndpointInput{VpcId: aws.String(n.PrivateVPC), ServiceName: aws.String("com.amazonaws." + LaunchRegion + "." + service),
			VpcEndpointType: ec2types.VpcEndpointTypeInterface, SubnetIds: []string{n.PrivateSubnet}, SecurityGroupIds: []string{privSG},
			PrivateDnsEnabled: aws.Bool(true)}
		if policy != "" {
			in.PolicyDocument = aws.String(policy)
		}
		return endpoint(in)
	}
	n.ECRDkrEndpoint, n.ECRAPIEndpoint = iface("ecr.dkr", ""), iface("ecr.api", "")
	n.SecretsEndpoint = iface("secretsmanager", `{"Version":"2012-10-17","Statement":[{"Sid":"PaymentsSecretsOnly","Effect":"Allow","Principal":"*",`+
		`"Action":"secretsmanager:GetSecretValue","Resource":"`+arn("secretsmanager", "secret:payments/*")+`"}]}`)
	endpoint(&ec2.CreateVpcEndpointInput{VpcId: aws.String(n.PrivateVPC), ServiceName: aws.String("com.amazonaws." + LaunchRegion + ".s3"),
		VpcEndpointType: ec2types.VpcEndpointTypeGateway, RouteTableIds: []string{privMain},
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"EcrImageLayers","Effect":"Allow","Principal":"*","Action":"s3:GetObject",` +
			`"Resource":"arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"}]}`)})
	vpceExec := role("vpce-exec", doc(`{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Resource":"*",`+
		`"Condition":{"StringEquals":{"aws:SourceVpce":["`+n.ECRDkrEndpoint+`","`+n.ECRAPIEndpoint+`"]}}}`))

	// ECS.
	c := ecs.NewFromConfig(cfg)
	cl := must[*ecs.CreateClusterOutput](t, "CreateCluster")(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("payments")}))
	cluster := aws.ToString(cl.Cluster.ClusterArn)
	register := func(family, exec string, awsvpc bool, secret string) string {
		mode, compat := ecstypes.NetworkModeAwsvpc, ecstypes.CompatibilityFargate
		if !awsvpc {
			mode, compat = ecstypes.NetworkModeBridge, ecstypes.CompatibilityEc2
		}
		cd := ecstypes.ContainerDefinition{Name: aws.String("app"), Image: aws.String(acct + ".dkr.ecr." + LaunchRegion + ".amazonaws.com/payments-" + family + ":1"),
			Memory: aws.Int32(512)}
		if secret != "" {
			cd.Secrets = []ecstypes.Secret{{Name: aws.String("SECRET"), ValueFrom: aws.String(secret)}}
		}
		out := must[*ecs.RegisterTaskDefinitionOutput](t, "RegisterTaskDefinition")(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(family), NetworkMode: mode, RequiresCompatibilities: []ecstypes.Compatibility{compat},
			Cpu: aws.String("256"), Memory: aws.String("512"), ExecutionRoleArn: aws.String(exec), ContainerDefinitions: []ecstypes.ContainerDefinition{cd}}))
		return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	}
	n.Reconcile = register("reconcile", appExec, true, "")
	n.BatchImport = register("batch-import", appExec, true, "")
	n.NATPull = register("nat-pull", vpceExec, true, "")
	n.Private = register("private", vpceExec, true, "")
	n.Partner = register("partner-sync", partnerExec, true, partnerSecret)
	n.Refund = register("refund", appExec, false, dbSecret)
	service := func(name, td, subnet, sg string) {
		must[*ecs.CreateServiceOutput](t, "CreateService")(c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster),
			ServiceName: aws.String(name), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(0), LaunchType: ecstypes.LaunchTypeFargate,
			NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
				Subnets: []string{subnet}, SecurityGroups: []string{sg}, AssignPublicIp: ecstypes.AssignPublicIpDisabled}}}))
	}
	service("nat-pull", n.NATPull, n.AppSubnet, coreSG)
	service("private", n.Private, n.PrivateSubnet, privSG)
	service("partner-sync", n.Partner, n.PrivateSubnet, privSG)
	run := func(override string) string {
		out := must[*ecs.RunTaskOutput](t, "RunTask")(c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String(cluster), TaskDefinition: aws.String(n.Refund),
			LaunchType: ecstypes.LaunchTypeFargate, PlatformVersion: aws.String("1.4.0"), StartedBy: aws.String("refund-runner"),
			Overrides: &ecstypes.TaskOverride{ExecutionRoleArn: aws.String(override)}}))
		if len(out.Tasks) != 1 {
			t.Fatalf("moto setup: RunTask started %d tasks (failures %+v)", len(out.Tasks), out.Failures)
		}
		return aws.ToString(out.Tasks[0].TaskArn)
	}
	n.OverrideTask, n.GoneTask = run(n.OverrideRole), run(n.GoneRole)

	// An EventBridge rule runs reconcile in the isolated subnet.
	ev := eventbridge.NewFromConfig(cfg)
	n.Rule = "nightly-reconcile"
	must[*eventbridge.PutRuleOutput](t, "PutRule")(ev.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(n.Rule), ScheduleExpression: aws.String("cron(30 1 * * ? *)")}))
	must[*eventbridge.PutTargetsOutput](t, "PutTargets")(ev.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(n.Rule), Targets: []ebtypes.Target{
		{Id: aws.String("reconcile"), Arn: aws.String(cluster), RoleArn: aws.String("arn:aws:iam::" + acct + ":role/events-run-task"),
			EcsParameters: &ebtypes.EcsParameters{TaskDefinitionArn: aws.String(n.Reconcile), TaskCount: aws.Int32(1), LaunchType: ebtypes.LaunchTypeFargate,
				NetworkConfiguration: &ebtypes.NetworkConfiguration{AwsvpcConfiguration: &ebtypes.AwsVpcConfiguration{
					Subnets: []string{n.IsolatedSubnet}, SecurityGroups: []string{coreSG}, AssignPublicIp: ebtypes.AssignPublicIpDisabled}}}},
	}}))

	// A Scheduler schedule runs batch-import in the batch subnet.
	sc := scheduler.NewFromConfig(cfg)
	n.Schedule = "batch-import"
	must[*scheduler.CreateScheduleOutput](t, "CreateSchedule")(sc.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String(n.Schedule),
		ScheduleExpression: aws.String("cron(0 4 * * ? *)"), FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target: &schedtypes.Target{Arn: aws.String(cluster), RoleArn: aws.String("arn:aws:iam::" + acct + ":role/scheduler-run-task"),
			EcsParameters: &schedtypes.EcsParameters{TaskDefinitionArn: aws.String(n.BatchImport), LaunchType: schedtypes.LaunchTypeFargate,
				PlatformVersion: aws.String("1.4.0"),
				NetworkConfiguration: &schedtypes.NetworkConfiguration{AwsvpcConfiguration: &schedtypes.AwsVpcConfiguration{
					Subnets: []string{n.BatchSubnet}, SecurityGroups: []string{coreSG}, AssignPublicIp: schedtypes.AssignPublicIpDisabled}}}}}))
	return n
}

// HTTPClient is the SDK's HTTP client with TaskNumbersFix, for a scan of
// moto that reads tasks.
func HTTPClient() aws.HTTPClient { return TaskNumbersFix(awshttp.NewBuildableClient()) }
