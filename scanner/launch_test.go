package scanner

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/ecs-audit/audit/inventory"
)

const (
	lwRegion   = "us-east-1"
	lwEndpolS3 = `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"}]}`
)

// launchWorld fills one account×region with every launch path and its
// network: a cluster whose Fargate service runs fam000:1 in subnet-a; a
// running task of fam001:1 with an overriding execution role in subnet-b
// (its ENI has a public IP) and a stopped task of fam001:2; a scheduled
// rule on the default bus and an event-pattern rule on a custom bus that run
// fam002:1 and fam002:2 in subnet-c (the second with an input transformer);
// a Scheduler schedule that runs fam003:1 in subnet-a and one that sends to
// SQS; VPC vpc-1 with subnets a (main route table: NAT), b and c (explicit
// table: internet gateway and an S3 gateway endpoint), interface endpoints
// for ecr.dkr (private DNS) and logs (no private DNS); subnet-gone does not
// exist.
func launchWorld(be *fakeBackend, acct string) *fakeRegion {
	fr := be.region(acct, lwRegion)
	fr.ecs = ecsWorld(acct, lwRegion, 1, 1, 0, 4, 2)
	carn := aws.ToString(fr.ecs.clusters[0].ClusterArn)
	td := func(fam string, rev int) string {
		return fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", lwRegion, acct, fam, rev)
	}
	svc := &fr.ecs.services[carn][0]
	svc.NetworkConfiguration = &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
		Subnets: []string{"subnet-a", "subnet-gone"}, SecurityGroups: []string{"sg-1"}}}
	taskARN := func(id string) string { return fmt.Sprintf("arn:aws:ecs:%s:%s:task/c000/%s", lwRegion, acct, id) }
	eniAttachment := func(subnet, eni string) []ecstypes.Attachment {
		return []ecstypes.Attachment{{Type: aws.String("ElasticNetworkInterface"), Details: []ecstypes.KeyValuePair{
			{Name: aws.String("subnetId"), Value: aws.String(subnet)}, {Name: aws.String("networkInterfaceId"), Value: aws.String(eni)},
			{Name: aws.String("privateIPv4Address"), Value: aws.String("10.0.1.5")}}}}
	}
	fr.ecs.tasks = map[string][]ecstypes.Task{carn: {
		{TaskArn: aws.String(taskARN("t-run")), TaskDefinitionArn: aws.String(td("fam001", 1)), DesiredStatus: aws.String("RUNNING"), LastStatus: aws.String("RUNNING"),
			LaunchType: ecstypes.LaunchTypeFargate, PlatformVersion: aws.String("1.4.0"), PlatformFamily: aws.String("Linux"), Group: aws.String("family:fam001"),
			StartedBy:   aws.String("deploy-bot"),
			Overrides:   &ecstypes.TaskOverride{ExecutionRoleArn: aws.String("arn:aws:iam::" + acct + ":role/override-exec")},
			Attachments: eniAttachment("subnet-b", "eni-run")},
		{TaskArn: aws.String(taskARN("t-stop")), TaskDefinitionArn: aws.String(td("fam001", 2)), DesiredStatus: aws.String("STOPPED"), LastStatus: aws.String("STOPPED"),
			CapacityProviderName: aws.String("FARGATE_SPOT"), StopCode: ecstypes.TaskStopCodeTaskFailedToStart,
			StoppedReason: aws.String("ResourceInitializationError: unable to pull secrets\n"),
			Attachments:   eniAttachment("subnet-b", "eni-stop")},
	}}
	ecsTarget := func(id, fam string, rev int, extra func(*ebtypes.Target)) ebtypes.Target {
		t := ebtypes.Target{Id: aws.String(id), Arn: aws.String(carn), RoleArn: aws.String("arn:aws:iam::" + acct + ":role/events-run"),
			EcsParameters: &ebtypes.EcsParameters{TaskDefinitionArn: aws.String(td(fam, rev)), TaskCount: aws.Int32(1), LaunchType: ebtypes.LaunchTypeFargate,
				PlatformVersion: aws.String("LATEST"), NetworkConfiguration: &ebtypes.NetworkConfiguration{AwsvpcConfiguration: &ebtypes.AwsVpcConfiguration{
					Subnets: []string{"subnet-c"}, SecurityGroups: []string{"sg-2"}, AssignPublicIp: ebtypes.AssignPublicIpEnabled}}}}
		if extra != nil {
			extra(&t)
		}
		return t
	}
	fr.events = &fakeEvents{buses: []string{"orders"}, rules: map[string]map[string]*fakeRule{
		"default": {
			"nightly": {arn: "arn:aws:events:" + lwRegion + ":" + acct + ":rule/nightly", state: "ENABLED", schedule: "cron(0 3 * * ? *)", targets: []ebtypes.Target{
				{Id: aws.String("sqs"), Arn: aws.String("arn:aws:sqs:" + lwRegion + ":" + acct + ":q")},
				ecsTarget("batch", "fam002", 1, func(t *ebtypes.Target) {
					t.Input = aws.String(`{"executionRoleArn":"arn:aws:iam::` + acct + `:role/rule-exec","containerOverrides":[{"name":"app","environment":[{"name":"TOKEN","value":"do-not-copy"}]}]}`)
				}),
			}},
			"unrelated": {arn: "arn:aws:events:" + lwRegion + ":" + acct + ":rule/unrelated", state: "ENABLED", targets: []ebtypes.Target{
				{Id: aws.String("lambda"), Arn: aws.String("arn:aws:lambda:" + lwRegion + ":" + acct + ":function:f")}}},
		},
		"orders": {
			"on-order": {arn: "arn:aws:events:" + lwRegion + ":" + acct + ":rule/orders/on-order", state: "DISABLED", pattern: `{"source":["shop"]}`, targets: []ebtypes.Target{
				ecsTarget("worker", "fam002", 2, func(t *ebtypes.Target) {
					t.InputTransformer = &ebtypes.InputTransformer{InputTemplate: aws.String(`{"containerOverrides":[]}`)}
				}),
			}},
		},
	}}
	fr.scheduler = &fakeScheduler{schedules: []*scheduler.GetScheduleOutput{
		{Name: aws.String("hourly"), GroupName: aws.String("default"), Arn: aws.String("arn:aws:scheduler:" + lwRegion + ":" + acct + ":schedule/default/hourly"),
			State: schedtypes.ScheduleStateEnabled, ScheduleExpression: aws.String("rate(1 hour)"),
			Target: &schedtypes.Target{Arn: aws.String(carn), RoleArn: aws.String("arn:aws:iam::" + acct + ":role/scheduler-run"),
				EcsParameters: &schedtypes.EcsParameters{TaskDefinitionArn: aws.String(td("fam003", 1)),
					CapacityProviderStrategy: []schedtypes.CapacityProviderStrategyItem{{CapacityProvider: aws.String("FARGATE")}},
					NetworkConfiguration: &schedtypes.NetworkConfiguration{AwsvpcConfiguration: &schedtypes.AwsVpcConfiguration{
						Subnets: []string{"subnet-a"}}}}}},
		{Name: aws.String("to-sqs"), GroupName: aws.String("default"), State: schedtypes.ScheduleStateEnabled,
			Target: &schedtypes.Target{Arn: aws.String("arn:aws:sqs:" + lwRegion + ":" + acct + ":q")}},
	}}
	subnet := func(id, az string) ec2types.Subnet {
		return ec2types.Subnet{SubnetId: aws.String(id), VpcId: aws.String("vpc-1"), OwnerId: aws.String(acct), AvailabilityZone: aws.String(az)}
	}
	fr.ec2 = &fakeEC2{
		subnets: []ec2types.Subnet{subnet("subnet-a", "us-east-1a"), subnet("subnet-b", "us-east-1b"), subnet("subnet-c", "us-east-1c"),
			{SubnetId: aws.String("subnet-other"), VpcId: aws.String("vpc-2")}},
		routeTables: []ec2types.RouteTable{
			{RouteTableId: aws.String("rtb-main"), VpcId: aws.String("vpc-1"), Associations: []ec2types.RouteTableAssociation{{Main: aws.Bool(true)}},
				Routes: []ec2types.Route{{DestinationCidrBlock: aws.String("10.0.0.0/16"), GatewayId: aws.String("local"), State: ec2types.RouteStateActive},
					{DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String("nat-1"), State: ec2types.RouteStateActive}}},
			{RouteTableId: aws.String("rtb-pub"), VpcId: aws.String("vpc-1"), Associations: []ec2types.RouteTableAssociation{{SubnetId: aws.String("subnet-c")},
				{SubnetId: aws.String("subnet-x"), AssociationState: &ec2types.RouteTableAssociationState{State: ec2types.RouteTableAssociationStateCodeDisassociating}}},
				Routes: []ec2types.Route{{DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String("igw-1"), State: ec2types.RouteStateActive},
					{DestinationPrefixListId: aws.String("pl-63a5400a"), GatewayId: aws.String("vpce-s3"), State: ec2types.RouteStateActive}}},
			{RouteTableId: aws.String("rtb-other"), VpcId: aws.String("vpc-2")},
		},
		endpoints: []ec2types.VpcEndpoint{
			{VpcEndpointId: aws.String("vpce-s3"), VpcId: aws.String("vpc-1"), VpcEndpointType: ec2types.VpcEndpointTypeGateway, ServiceName: aws.String("com.amazonaws.us-east-1.s3"),
				State: ec2types.StateAvailable, RouteTableIds: []string{"rtb-pub"}, PolicyDocument: aws.String(lwEndpolS3)},
			{VpcEndpointId: aws.String("vpce-dkr"), VpcId: aws.String("vpc-1"), VpcEndpointType: ec2types.VpcEndpointTypeInterface, ServiceName: aws.String("com.amazonaws.us-east-1.ecr.dkr"),
				State: ec2types.StateAvailable, PrivateDnsEnabled: aws.Bool(true), SubnetIds: []string{"subnet-a"},
				PolicyDocument: aws.String("%7B%22Statement%22%3A%5B%5D%7D")},
			{VpcEndpointId: aws.String("vpce-logs"), VpcId: aws.String("vpc-1"), VpcEndpointType: ec2types.VpcEndpointTypeInterface, ServiceName: aws.String("com.amazonaws.us-east-1.logs"),
				State: ec2types.StateAvailable, PrivateDnsEnabled: aws.Bool(false), SubnetIds: []string{"subnet-b"}},
		},
		nats: []ec2types.NatGateway{{NatGatewayId: aws.String("nat-1"), VpcId: aws.String("vpc-1"), SubnetId: aws.String("subnet-c"), State: ec2types.NatGatewayStateAvailable,
			ConnectivityType: ec2types.ConnectivityTypePublic}},
		igws: []ec2types.InternetGateway{{InternetGatewayId: aws.String("igw-1"), Attachments: []ec2types.InternetGatewayAttachment{{VpcId: aws.String("vpc-1"), State: ec2types.AttachmentStatus("available")}}}},
		enis: []ec2types.NetworkInterface{{NetworkInterfaceId: aws.String("eni-run"), Association: &ec2types.NetworkInterfaceAssociation{PublicIp: aws.String("203.0.113.7")}}},
	}
	return fr
}

func TestLaunchPathsAndNetwork(t *testing.T) {
	a := callerAcct
	be := newFakeBackend(a)
	fr := launchWorld(be, a)
	res := run(t, context.Background(), be, Config{Regions: []string{lwRegion}, ResolveResources: true})
	if res.err != nil {
		t.Fatal(res.err)
	}
	for _, e := range res.inv.Errors {
		t.Errorf("unexpected collection error: %+v", e)
	}
	if err := res.inv.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	r := res.inv.Accounts[0].Regions[0]
	cl := r.Clusters[0]

	// Tasks.
	if cl.TasksStatus != inventory.CollectedComplete || len(cl.Tasks) != 2 {
		t.Fatalf("tasks %s %+v", cl.TasksStatus, cl.Tasks)
	}
	run, stop := cl.Tasks[0], cl.Tasks[1]
	if run.ExecutionRoleOverride != "arn:aws:iam::"+a+":role/override-exec" || run.LaunchType != "FARGATE" || run.PlatformVersion != "1.4.0" ||
		run.Group != "family:fam001" || run.StartedBy != "deploy-bot" || run.NetworkInterfaceID != "eni-run" ||
		run.Network == nil || !slices.Equal(run.Network.Subnets, []string{"subnet-b"}) || run.Network.AssignPublicIP != "ENABLED" {
		t.Errorf("running task = %+v network %+v", run, run.Network)
	}
	if stop.DesiredStatus != "STOPPED" || stop.CapacityProvider != "FARGATE_SPOT" || stop.StopCode != "TaskFailedToStart" ||
		stop.StoppedReason != "ResourceInitializationError: unable to pull secrets" || stop.Network == nil || stop.Network.AssignPublicIP != "" {
		t.Errorf("stopped task = %+v network %+v", stop, stop.Network)
	}

	// Service network.
	svc := cl.Services[0]
	if svc.Network == nil || !slices.Equal(svc.Network.Subnets, []string{"subnet-a", "subnet-gone"}) || svc.Network.AssignPublicIP != "DISABLED" ||
		!slices.Equal(svc.Network.SecurityGroups, []string{"sg-1"}) {
		t.Errorf("service network = %+v", svc.Network)
	}

	// Rules: the two that target the cluster, not the unrelated one.
	if cl.EventRulesStatus != inventory.CollectedComplete || len(r.EventRules) != 2 {
		t.Fatalf("rules %s %+v", cl.EventRulesStatus, r.EventRules)
	}
	nightly, onOrder := r.EventRules[0], r.EventRules[1]
	if nightly.Name != "nightly" || nightly.EventBusName != "default" || nightly.State != "ENABLED" || nightly.ScheduleExpression != "cron(0 3 * * ? *)" ||
		nightly.HasEventPattern || nightly.DescribeStatus != inventory.CollectedComplete || nightly.TargetsStatus != inventory.CollectedComplete || len(nightly.Targets) != 1 {
		t.Fatalf("nightly = %+v", nightly)
	}
	l := nightly.Targets[0].Launch
	if nightly.Targets[0].ID != "batch" || l.TaskDefinition != fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/fam002:1", lwRegion, a) || l.TaskCount != 1 ||
		l.LaunchType != "FARGATE" || l.PlatformVersion != "LATEST" || l.RoleARN != "arn:aws:iam::"+a+":role/events-run" ||
		l.ExecutionRoleOverride != "arn:aws:iam::"+a+":role/rule-exec" || l.OverridesUnknown ||
		l.Network == nil || !slices.Equal(l.Network.Subnets, []string{"subnet-c"}) || l.Network.AssignPublicIP != "ENABLED" {
		t.Errorf("nightly target = %+v", l)
	}
	if onOrder.EventBusName != "orders" || onOrder.State != "DISABLED" || !onOrder.HasEventPattern || len(onOrder.Targets) != 1 ||
		!onOrder.Targets[0].Launch.OverridesUnknown || onOrder.Targets[0].Launch.ExecutionRoleOverride != "" {
		t.Errorf("on-order = %+v", onOrder)
	}

	// Schedules: only the ECS one is read.
	if r.SchedulesStatus != inventory.CollectedComplete || len(r.Schedules) != 1 {
		t.Fatalf("schedules %s %+v", r.SchedulesStatus, r.Schedules)
	}
	s := r.Schedules[0]
	if s.Name != "hourly" || s.GroupName != "default" || s.Status != inventory.CollectedComplete || s.ScheduleExpression != "rate(1 hour)" || s.Launch == nil ||
		s.Launch.TaskDefinition != fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/fam003:1", lwRegion, a) ||
		!slices.Equal(s.Launch.CapacityProviders, []string{"FARGATE"}) || s.Launch.RoleARN != "arn:aws:iam::"+a+":role/scheduler-run" ||
		s.Launch.Network == nil || s.Launch.Network.AssignPublicIP != "DISABLED" {
		t.Errorf("schedule = %+v launch %+v", s, s.Launch)
	}

	// Task definitions: the latest of each family, the service's, and
	// every revision a task, rule or schedule runs.
	var tds []string
	for _, td := range r.TaskDefinitions {
		tds = append(tds, fmt.Sprintf("%s:%d", td.Family, td.Revision))
	}
	if want := []string{"fam000:1", "fam000:2", "fam001:1", "fam001:2", "fam002:1", "fam002:2", "fam003:1", "fam003:2"}; !slices.Equal(tds, want) {
		t.Errorf("task definitions %v, want %v", tds, want)
	}

	// Network.
	n := r.Network
	if n == nil || n.Status != inventory.CollectedComplete || n.NetworkInterfacesStatus != inventory.CollectedComplete {
		t.Fatalf("network = %+v", n)
	}
	var subnets []string
	for _, sn := range n.Subnets {
		subnets = append(subnets, sn.ID+"="+sn.Status+"/"+sn.VPCID)
	}
	if want := []string{"subnet-a=collected/vpc-1", "subnet-b=collected/vpc-1", "subnet-c=collected/vpc-1", "subnet-gone=not-found/"}; !slices.Equal(subnets, want) {
		t.Errorf("subnets %v, want %v", subnets, want)
	}
	if len(n.VPCs) != 1 || *n.VPCs[0] != (inventory.VPC{ID: "vpc-1", OwnerID: a, RouteTablesStatus: "collected", VPCEndpointsStatus: "collected",
		NATGatewaysStatus: "collected", InternetGatewaysStatus: "collected"}) {
		t.Errorf("vpcs = %+v", n.VPCs)
	}
	if len(n.RouteTables) != 2 || n.RouteTables[0].ID != "rtb-main" || !n.RouteTables[0].Main || len(n.RouteTables[0].Subnets) != 0 ||
		n.RouteTables[0].Routes[1].NATGatewayID != "nat-1" ||
		n.RouteTables[1].ID != "rtb-pub" || n.RouteTables[1].Main || !slices.Equal(n.RouteTables[1].Subnets, []string{"subnet-c"}) ||
		n.RouteTables[1].Routes[1].GatewayID != "vpce-s3" || n.RouteTables[1].Routes[1].DestinationPrefixListID != "pl-63a5400a" {
		t.Errorf("route tables = %+v", n.RouteTables)
	}
	var eps []string
	for _, e := range n.VPCEndpoints {
		eps = append(eps, fmt.Sprintf("%s %s %s dns=%v %s %v %v", e.ID, e.Type, e.ServiceName, e.PrivateDNSEnabled, e.PolicyStatus, e.Subnets, e.RouteTables))
	}
	if want := []string{
		"vpce-dkr Interface com.amazonaws.us-east-1.ecr.dkr dns=true collected [subnet-a] []",
		"vpce-logs Interface com.amazonaws.us-east-1.logs dns=false none [subnet-b] []",
		"vpce-s3 Gateway com.amazonaws.us-east-1.s3 dns=false collected [] [rtb-pub]",
	}; !slices.Equal(eps, want) {
		t.Errorf("endpoints\n%s\nwant\n%s", strings.Join(eps, "\n"), strings.Join(want, "\n"))
	}
	if n.VPCEndpoints[0].Policy != `{"Statement":[]}` || n.VPCEndpoints[2].Policy != lwEndpolS3 {
		t.Errorf("endpoint policies %q %q", n.VPCEndpoints[0].Policy, n.VPCEndpoints[2].Policy)
	}
	if len(n.NATGateways) != 1 || *n.NATGateways[0] != (inventory.NATGateway{ID: "nat-1", VPCID: "vpc-1", SubnetID: "subnet-c", State: "available", ConnectivityType: "public"}) {
		t.Errorf("NAT gateways = %+v", n.NATGateways)
	}
	if len(n.InternetGateways) != 1 || n.InternetGateways[0].ID != "igw-1" || len(n.InternetGateways[0].Attachments) != 1 {
		t.Errorf("internet gateways = %+v", n.InternetGateways)
	}

	// Bounded calls: one paged call per list, describes only what is
	// referenced.
	for _, c := range []struct {
		op   string
		got  int
		want int
	}{
		{"ecs:ListTasks", fr.ecs.n("ListTasks"), 2},
		{"ecs:DescribeTasks", fr.ecs.n("DescribeTasks"), 2},
		{"events:ListEventBuses", fr.events.n("ListEventBuses"), 1},
		{"events:ListRuleNamesByTarget", fr.events.n("ListRuleNamesByTarget"), 2}, // 2 buses × 1 cluster
		{"events:ListTargetsByRule", fr.events.n("ListTargetsByRule"), 2},         // one page per rule
		{"events:DescribeRule", fr.events.n("DescribeRule"), 2},
		{"scheduler:ListSchedules", fr.scheduler.n("ListSchedules"), 2}, // one schedule per page
		{"scheduler:GetSchedule", fr.scheduler.n("GetSchedule"), 1},
		{"ec2:DescribeSubnets", fr.ec2.n("DescribeSubnets"), 3}, // 3 found, one per page
		{"ec2:DescribeRouteTables", fr.ec2.n("DescribeRouteTables"), 2},
		{"ec2:DescribeVpcEndpoints", fr.ec2.n("DescribeVpcEndpoints"), 3},
		{"ec2:DescribeNatGateways", fr.ec2.n("DescribeNatGateways"), 1},
		{"ec2:DescribeInternetGateways", fr.ec2.n("DescribeInternetGateways"), 1},
		{"ec2:DescribeNetworkInterfaces", fr.ec2.n("DescribeNetworkInterfaces"), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s called %d times, want %d", c.op, c.got, c.want)
		}
	}
	if got := fr.ec2.keyCounts("DescribeNetworkInterfaces"); len(got) != 1 || got["eni-run"] != 1 {
		t.Errorf("DescribeNetworkInterfaces asked for %v; only the running task's ENI", got)
	}
	if got := fr.ec2.keyCounts("DescribeRouteTables"); got["vpc-1"] == 0 || len(got) != 1 {
		t.Errorf("DescribeRouteTables filters %v, want vpc-1 only", got)
	}

	// The rule's input held an environment value: never stored.
	b, _ := json.Marshal(res.inv)
	if strings.Contains(string(b), "do-not-copy") {
		t.Error("a value from a target's input reached the inventory")
	}
	// The snapshot round-trips through the loader.
	path := filepath.Join(t.TempDir(), "inv.json")
	if err := inventory.Save(path, res.inv); err != nil {
		t.Fatal(err)
	}
	back, err := inventory.Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if bb, _ := json.Marshal(back); string(bb) != string(b) {
		t.Error("the loaded snapshot differs from the saved inventory")
	}
}

// Every new call, denied in turn, becomes a collection error naming the
// account, region, service, operation and resource; the scan goes on, and
// what it could not collect is marked as such, never as "none".
func TestLaunchPathsDenied(t *testing.T) {
	a := callerAcct
	carn := fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/c000", lwRegion, a)
	deny := apiErr("AccessDeniedException", "not allowed")
	tests := []struct {
		svc, op string
		errs    []string // resources of the expected errors
		check   func(t *testing.T, r *inventory.Region)
	}{
		{"ecs", "ListTasks", []string{carn + " desiredStatus=RUNNING", carn + " desiredStatus=STOPPED"}, func(t *testing.T, r *inventory.Region) {
			if c := r.Clusters[0]; c.TasksStatus != inventory.CollectedNone || len(c.Tasks) != 0 {
				t.Errorf("tasks %s %d", c.TasksStatus, len(c.Tasks))
			}
		}},
		{"ecs", "DescribeTasks", []string{carn + " " + fmt.Sprintf("arn:aws:ecs:%s:%s:task/c000/t-run", lwRegion, a), carn + " " + fmt.Sprintf("arn:aws:ecs:%s:%s:task/c000/t-stop", lwRegion, a)}, func(t *testing.T, r *inventory.Region) {
			if c := r.Clusters[0]; c.TasksStatus != inventory.CollectedNone || len(c.Tasks) != 0 {
				t.Errorf("tasks %s %d", c.TasksStatus, len(c.Tasks))
			}
		}},
		{"events", "ListEventBuses", []string{""}, func(t *testing.T, r *inventory.Region) {
			// The default bus is still searched.
			if c := r.Clusters[0]; c.EventRulesStatus != inventory.CollectedPartial || len(r.EventRules) != 1 || r.EventRules[0].Name != "nightly" {
				t.Errorf("rules %s %+v", c.EventRulesStatus, r.EventRules)
			}
		}},
		{"events", "ListRuleNamesByTarget", []string{carn + " bus default", carn + " bus orders"}, func(t *testing.T, r *inventory.Region) {
			if c := r.Clusters[0]; c.EventRulesStatus != inventory.CollectedNone || len(r.EventRules) != 0 {
				t.Errorf("rules %s %+v", c.EventRulesStatus, r.EventRules)
			}
		}},
		{"events", "ListTargetsByRule", []string{"default/nightly", "orders/on-order"}, func(t *testing.T, r *inventory.Region) {
			if len(r.EventRules) != 2 || r.EventRules[0].TargetsStatus != inventory.CollectedNone || len(r.EventRules[0].Targets) != 0 ||
				r.EventRules[0].DescribeStatus != inventory.CollectedComplete {
				t.Errorf("rules %+v", r.EventRules)
			}
		}},
		{"events", "DescribeRule", []string{"default/nightly", "orders/on-order"}, func(t *testing.T, r *inventory.Region) {
			if len(r.EventRules) != 2 || r.EventRules[0].DescribeStatus != inventory.CollectedNone || r.EventRules[0].State != "" ||
				len(r.EventRules[0].Targets) != 1 {
				t.Errorf("rules %+v", r.EventRules)
			}
		}},
		{"scheduler", "ListSchedules", []string{""}, func(t *testing.T, r *inventory.Region) {
			if r.SchedulesStatus != inventory.CollectedNone || len(r.Schedules) != 0 {
				t.Errorf("schedules %s %+v", r.SchedulesStatus, r.Schedules)
			}
		}},
		{"scheduler", "GetSchedule", []string{"default/hourly"}, func(t *testing.T, r *inventory.Region) {
			if r.SchedulesStatus != inventory.CollectedComplete || len(r.Schedules) != 1 || r.Schedules[0].Status != inventory.CollectedNone || r.Schedules[0].Launch != nil {
				t.Errorf("schedules %s %+v", r.SchedulesStatus, r.Schedules)
			}
		}},
		{"ec2", "DescribeSubnets", []string{"subnet-id subnet-a (+3 more)"}, func(t *testing.T, r *inventory.Region) {
			for _, s := range r.Network.Subnets {
				if s.Status != inventory.CollectedNone {
					t.Errorf("subnet %+v", s)
				}
			}
			if len(r.Network.Subnets) != 4 || len(r.Network.VPCs) != 0 {
				t.Errorf("network %+v", r.Network)
			}
		}},
		{"ec2", "DescribeRouteTables", []string{"vpc-id vpc-1"}, func(t *testing.T, r *inventory.Region) {
			if v := r.Network.VPCs[0]; v.RouteTablesStatus != inventory.CollectedNone || v.VPCEndpointsStatus != inventory.CollectedComplete || len(r.Network.RouteTables) != 0 {
				t.Errorf("vpc %+v", v)
			}
		}},
		{"ec2", "DescribeVpcEndpoints", []string{"vpc-id vpc-1"}, func(t *testing.T, r *inventory.Region) {
			if v := r.Network.VPCs[0]; v.VPCEndpointsStatus != inventory.CollectedNone || v.RouteTablesStatus != inventory.CollectedComplete || len(r.Network.VPCEndpoints) != 0 {
				t.Errorf("vpc %+v", v)
			}
		}},
		{"ec2", "DescribeNatGateways", []string{"vpc-id vpc-1"}, func(t *testing.T, r *inventory.Region) {
			if v := r.Network.VPCs[0]; v.NATGatewaysStatus != inventory.CollectedNone || len(r.Network.NATGateways) != 0 {
				t.Errorf("vpc %+v", v)
			}
		}},
		{"ec2", "DescribeInternetGateways", []string{"vpc-id vpc-1"}, func(t *testing.T, r *inventory.Region) {
			if v := r.Network.VPCs[0]; v.InternetGatewaysStatus != inventory.CollectedNone || len(r.Network.InternetGateways) != 0 {
				t.Errorf("vpc %+v", v)
			}
		}},
		{"ec2", "DescribeNetworkInterfaces", []string{"network-interface-id eni-run"}, func(t *testing.T, r *inventory.Region) {
			if r.Network.NetworkInterfacesStatus != inventory.CollectedNone || r.Clusters[0].Tasks[0].Network.AssignPublicIP != "" {
				t.Errorf("ENIs %s task network %+v", r.Network.NetworkInterfacesStatus, r.Clusters[0].Tasks[0].Network)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.svc+":"+tt.op, func(t *testing.T) {
			be := newFakeBackend(a)
			fr := launchWorld(be, a)
			fail := failOp(tt.op, deny)
			switch tt.svc {
			case "ecs":
				fr.ecs.fail = fail
			case "events":
				fr.events.fail = fail
			case "scheduler":
				fr.scheduler.fail = fail
			case "ec2":
				fr.ec2.fail = fail
			}
			res := run(t, context.Background(), be, Config{Regions: []string{lwRegion}, ResolveResources: true})
			if res.err != nil {
				t.Fatalf("the scan failed: %v", res.err)
			}
			if err := res.inv.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			var got []string
			for _, e := range res.inv.Errors {
				if e.AccountID != a || e.Region != lwRegion || e.Service != tt.svc || e.Operation != tt.op || e.Code != "AccessDeniedException" {
					t.Errorf("unexpected error %+v", e)
					continue
				}
				got = append(got, e.Resource)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.errs) {
				t.Errorf("errors about %q, want %q", got, tt.errs)
			}
			r := res.inv.Accounts[0].Regions[0]
			if r.Status != inventory.RegionScanned || len(r.Clusters) != 1 || len(r.Clusters[0].Services) != 1 {
				t.Fatalf("region %s clusters %+v", r.Status, r.Clusters)
			}
			tt.check(t, r)
		})
	}
}

// --no-resolve-resources turns the network collection off, and says so;
// launch paths are collected all the same.
func TestNoResolveResourcesSkipsNetwork(t *testing.T) {
	be := newFakeBackend(callerAcct)
	fr := launchWorld(be, callerAcct)
	res := run(t, context.Background(), be, Config{Regions: []string{lwRegion}})
	if res.err != nil || len(res.inv.Errors) != 0 {
		t.Fatalf("err %v, errors %+v", res.err, res.inv.Errors)
	}
	r := res.inv.Accounts[0].Regions[0]
	if r.Network == nil || r.Network.Status != inventory.CollectedSkipped || len(r.Network.Subnets) != 0 {
		t.Errorf("network = %+v, want skipped", r.Network)
	}
	if n := len(fr.ec2.calls); n != 0 {
		t.Errorf("%d EC2 calls in fast mode: %v", n, fr.ec2.calls)
	}
	if len(r.Clusters[0].Tasks) != 2 || len(r.EventRules) != 2 || len(r.Schedules) != 1 || r.Clusters[0].Services[0].Network == nil {
		t.Errorf("launch paths not collected in fast mode: tasks %d rules %d schedules %d", len(r.Clusters[0].Tasks), len(r.EventRules), len(r.Schedules))
	}
	if err := res.inv.Validate(); err != nil {
		t.Fatal(err)
	}
}
