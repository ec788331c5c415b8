package fakeaws

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/ecs-audit/audit/inventory"
)

// launchWorld is a generated account with launch paths and a VPC.
func launchWorld(t *testing.T) (*inventory.Inventory, *inventory.Region) {
	t.Helper()
	w := GenerateWorld(WorldSpec{Accounts: 2, Regions: []string{"us-east-1"}, TaskDefsPerRegion: 6, ServicesPerRegion: 4, ClustersPerRegion: 1, Seed: 3})
	r := w.Accounts[1].Regions[0]
	if len(r.Clusters[0].Tasks) == 0 || len(r.EventRules) == 0 || len(r.Schedules) == 0 || r.Network == nil || len(r.Network.VPCEndpoints) == 0 {
		t.Fatalf("the generated region has no launch paths: %+v", r)
	}
	return w, r
}

// The new operations over the SDK: paging, filters, and the shapes the
// SDK reads.
func TestLaunchPathOperations(t *testing.T) {
	w, r := launchWorld(t)
	acct := w.Accounts[1].ID
	ts := startServer(t, w, Options{})
	cfg := ts.assumeCfg(t, acct, "us-east-1")
	ctx := context.Background()
	cl := r.Clusters[0]

	t.Run("ecs tasks", func(t *testing.T) {
		api := ecs.NewFromConfig(cfg)
		var running []string
		var token *string
		for pages := 0; ; pages++ {
			out, err := api.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cl.ARN), MaxResults: aws.Int32(1), NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			running = append(running, out.TaskArns...)
			if token = out.NextToken; token == nil {
				break
			}
		}
		stopped, err := api.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cl.Name), DesiredStatus: ecstypes.DesiredStatusStopped})
		if err != nil {
			t.Fatal(err)
		}
		var wantRun, wantStop []string
		for _, tk := range cl.Tasks {
			if tk.DesiredStatus == "STOPPED" {
				wantStop = append(wantStop, tk.ARN)
			} else {
				wantRun = append(wantRun, tk.ARN)
			}
		}
		if !slices.Equal(running, wantRun) || !slices.Equal(stopped.TaskArns, wantStop) {
			t.Fatalf("running %v stopped %v, want %v %v", running, stopped.TaskArns, wantRun, wantStop)
		}
		out, err := api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cl.ARN), Tasks: append(slices.Clone(wantRun), "nope")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tasks) != len(wantRun) || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
			t.Fatalf("tasks %d failures %+v", len(out.Tasks), out.Failures)
		}
		got := out.Tasks[0]
		if aws.ToString(got.TaskDefinitionArn) != cl.Tasks[0].TaskDefinition || len(got.Attachments) != 1 ||
			aws.ToString(got.Attachments[0].Type) != "ElasticNetworkInterface" {
			t.Errorf("task %+v", got)
		}
		_, err = api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cl.ARN), Tasks: make([]string, 101)})
		wantCode(t, err, "InvalidParameterException")
	})

	t.Run("eventbridge", func(t *testing.T) {
		api := eventbridge.NewFromConfig(cfg)
		buses, err := api.ListEventBuses(ctx, &eventbridge.ListEventBusesInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(buses.EventBuses) == 0 || aws.ToString(buses.EventBuses[0].Name) != "default" {
			t.Fatalf("buses %+v", buses.EventBuses)
		}
		names, err := api.ListRuleNamesByTarget(ctx, &eventbridge.ListRuleNamesByTargetInput{TargetArn: aws.String(cl.ARN)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names.RuleNames, []string{"nightly-batch"}) {
			t.Fatalf("rule names %v", names.RuleNames)
		}
		targets, err := api.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("nightly-batch")})
		if err != nil {
			t.Fatal(err)
		}
		want := r.EventRules[0].Targets[0].Launch
		p := targets.Targets[0].EcsParameters
		if len(targets.Targets) != 1 || p == nil || aws.ToString(p.TaskDefinitionArn) != want.TaskDefinition || aws.ToInt32(p.TaskCount) != 1 ||
			p.NetworkConfiguration == nil || !slices.Equal(p.NetworkConfiguration.AwsvpcConfiguration.Subnets, want.Network.Subnets) ||
			string(p.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp) != want.Network.AssignPublicIP {
			t.Fatalf("targets %+v", targets.Targets)
		}
		d, err := api.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("nightly-batch")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(d.ScheduleExpression) != "cron(0 3 * * ? *)" || d.State != "ENABLED" {
			t.Errorf("rule %+v", d)
		}
		_, err = api.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("nope")})
		wantCode(t, err, "ResourceNotFoundException")
	})

	t.Run("scheduler", func(t *testing.T) {
		api := scheduler.NewFromConfig(cfg)
		list, err := api.ListSchedules(ctx, &scheduler.ListSchedulesInput{MaxResults: aws.Int32(100)})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Schedules) != 1 || aws.ToString(list.Schedules[0].Target.Arn) != cl.ARN {
			t.Fatalf("schedules %+v", list.Schedules)
		}
		got, err := api.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: list.Schedules[0].Name, GroupName: aws.String("default")})
		if err != nil {
			t.Fatal(err)
		}
		p := got.Target.EcsParameters
		if p == nil || aws.ToString(p.TaskDefinitionArn) != r.Schedules[0].Launch.TaskDefinition || aws.ToString(got.ScheduleExpression) != "rate(1 hour)" ||
			p.NetworkConfiguration == nil || len(p.NetworkConfiguration.AwsvpcConfiguration.Subnets) != 1 {
			t.Fatalf("schedule %+v", got)
		}
		_, err = api.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String("nope")})
		wantCode(t, err, "ResourceNotFoundException")
		// A write is refused and recorded.
		_, err = api.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String("x"), ScheduleExpression: aws.String("rate(1 day)"),
			FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
			Target:             &schedtypes.Target{Arn: aws.String(cl.ARN), RoleArn: aws.String("arn:aws:iam::" + acct + ":role/r")}})
		wantCode(t, err, "AccessDeniedException")
		if m := ts.MutatingCalls(); !slices.Contains(m, "scheduler:CreateSchedule") {
			t.Errorf("mutating calls %v", m)
		}
	})

	t.Run("ec2", func(t *testing.T) {
		api := ec2.NewFromConfig(cfg)
		n := r.Network
		var ids []string
		for _, s := range n.Subnets {
			ids = append(ids, s.ID)
		}
		var got []string
		var token *string
		for {
			out, err := api.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: append(ids, "subnet-nope")}},
				MaxResults: aws.Int32(5), NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range out.Subnets {
				got = append(got, aws.ToString(s.SubnetId)+"/"+aws.ToString(s.VpcId))
			}
			if token = out.NextToken; token == nil {
				break
			}
		}
		if len(got) != len(ids) {
			t.Fatalf("subnets %v", got)
		}
		vpc := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{n.VPCs[0].ID}}}
		rts, err := api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: vpc})
		if err != nil {
			t.Fatal(err)
		}
		if len(rts.RouteTables) != 2 || !aws.ToBool(rts.RouteTables[0].Associations[0].Main) || aws.ToString(rts.RouteTables[0].Routes[1].NatGatewayId) == "" {
			t.Fatalf("route tables %+v", rts.RouteTables)
		}
		eps, err := api.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: vpc})
		if err != nil {
			t.Fatal(err)
		}
		if len(eps.VpcEndpoints) != len(n.VPCEndpoints) || aws.ToString(eps.VpcEndpoints[0].PolicyDocument) != n.VPCEndpoints[0].Policy ||
			!aws.ToBool(eps.VpcEndpoints[0].PrivateDnsEnabled) || len(eps.VpcEndpoints[0].SubnetIds) != 2 {
			t.Fatalf("endpoints %+v", eps.VpcEndpoints)
		}
		nats, err := api.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{Filter: vpc})
		if err != nil || len(nats.NatGateways) != 1 || nats.NatGateways[0].ConnectivityType != "public" {
			t.Fatalf("NAT %+v %v", nats, err)
		}
		igws, err := api.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []ec2types.Filter{{Name: aws.String("attachment.vpc-id"), Values: []string{n.VPCs[0].ID}}}})
		if err != nil || len(igws.InternetGateways) != 1 || aws.ToString(igws.InternetGateways[0].Attachments[0].VpcId) != n.VPCs[0].ID {
			t.Fatalf("IGW %+v %v", igws, err)
		}
		enis, err := api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{{Name: aws.String("network-interface-id"), Values: []string{cl.Tasks[0].NetworkInterfaceID}}}})
		if err != nil || len(enis.NetworkInterfaces) != 1 {
			t.Fatalf("ENIs %+v %v", enis, err)
		}
		// Limits and errors in EC2's format.
		many := make([]string, 201)
		for i := range many {
			many[i] = fmt.Sprintf("subnet-%d", i)
		}
		_, err = api.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: many}}})
		wantCode(t, err, "FilterLimitExceeded")
		_, err = api.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{"x"}}}})
		wantCode(t, err, "InvalidParameterValue")
		_, err = api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: vpc, MaxResults: aws.Int32(101)})
		wantCode(t, err, "InvalidParameterValue")
		_, err = api.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: vpc, NextToken: aws.String("bogus")})
		wantCode(t, err, "InvalidNextToken")
	})
}

// Faults on the new services answer in each service's own protocol.
func TestLaunchPathFaults(t *testing.T) {
	w, r := launchWorld(t)
	acct := w.Accounts[1].ID
	ts := startServer(t, w, Options{Faults: []Fault{
		{Service: "ec2", Operation: "DescribeVpcEndpoints", Code: FaultAccessDenied},
		{Service: "events", Code: FaultThrottling},
		{Service: "scheduler", Code: FaultAccessDenied},
		{Service: "ecs", Operation: "ListTasks", Code: FaultInternalError},
	}})
	cfg := ts.assumeCfg(t, acct, "us-east-1")
	ctx := context.Background()
	_, err := ec2.NewFromConfig(cfg).DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{})
	wantCode(t, err, "UnauthorizedOperation")
	_, err = eventbridge.NewFromConfig(cfg).ListEventBuses(ctx, &eventbridge.ListEventBusesInput{})
	wantCode(t, err, "ThrottlingException")
	_, err = scheduler.NewFromConfig(cfg).ListSchedules(ctx, &scheduler.ListSchedulesInput{})
	wantCode(t, err, "AccessDeniedException")
	_, err = ecs.NewFromConfig(cfg).ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(r.Clusters[0].ARN)})
	wantCode(t, err, "ServerException")
	// Only the faulted operation: the rest of EC2 answers.
	if _, err := ec2.NewFromConfig(cfg).DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{}); err != nil {
		t.Errorf("DescribeSubnets: %v", err)
	}
}
