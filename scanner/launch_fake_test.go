package scanner

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
)

// In-memory fakes of the EventBridge, Scheduler and EC2 read surfaces,
// with the page sizes and filter limits the APIs document.

// ---- EventBridge

type fakeRule struct {
	arn, state, schedule, pattern string
	targets                       []ebtypes.Target
}

type fakeEvents struct {
	counter
	fail faults
	// buses are the custom event buses ("default" always exists).
	buses []string
	rules map[string]map[string]*fakeRule // bus → name → rule
}

func (f *fakeEvents) bus(name *string) string {
	if n := aws.ToString(name); n != "" {
		return n
	}
	return "default"
}

func (f *fakeEvents) ListEventBuses(ctx context.Context, in *eventbridge.ListEventBusesInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListEventBusesOutput, error) {
	f.hit("ListEventBuses", -1, "")
	if err := f.fail.check("ListEventBuses", in); err != nil {
		return nil, err
	}
	all := []ebtypes.EventBus{{Name: aws.String("default")}}
	for _, b := range f.buses {
		all = append(all, ebtypes.EventBus{Name: aws.String(b)})
	}
	items, next, err := fakePage(all, in.NextToken, pageSize(in.Limit, 100, 100), false)
	if err != nil {
		return nil, err
	}
	return &eventbridge.ListEventBusesOutput{EventBuses: items, NextToken: next}, nil
}

func (f *fakeEvents) ListRuleNamesByTarget(ctx context.Context, in *eventbridge.ListRuleNamesByTargetInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListRuleNamesByTargetOutput, error) {
	bus := f.bus(in.EventBusName)
	f.hit("ListRuleNamesByTarget", -1, bus+" "+aws.ToString(in.TargetArn))
	if err := f.fail.check("ListRuleNamesByTarget", in); err != nil {
		return nil, err
	}
	if aws.ToString(in.TargetArn) == "" {
		return nil, apiErr("ValidationException", "Parameter TargetArn is required.")
	}
	var names []string
	for name, r := range f.rules[bus] {
		if slices.ContainsFunc(r.targets, func(t ebtypes.Target) bool { return aws.ToString(t.Arn) == aws.ToString(in.TargetArn) }) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	items, next, err := fakePage(names, in.NextToken, pageSize(in.Limit, 100, 100), false)
	if err != nil {
		return nil, err
	}
	return &eventbridge.ListRuleNamesByTargetOutput{RuleNames: items, NextToken: next}, nil
}

func (f *fakeEvents) ListTargetsByRule(ctx context.Context, in *eventbridge.ListTargetsByRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error) {
	bus := f.bus(in.EventBusName)
	f.hit("ListTargetsByRule", -1, bus+"/"+aws.ToString(in.Rule))
	if err := f.fail.check("ListTargetsByRule", in); err != nil {
		return nil, err
	}
	r := f.rules[bus][aws.ToString(in.Rule)]
	if r == nil {
		return nil, apiErr("ResourceNotFoundException", "Rule does not exist.")
	}
	// Two targets per page, to exercise paging.
	items, next, err := fakePage(r.targets, in.NextToken, min(pageSize(in.Limit, 100, 100), 2), false)
	if err != nil {
		return nil, err
	}
	return &eventbridge.ListTargetsByRuleOutput{Targets: items, NextToken: next}, nil
}

func (f *fakeEvents) DescribeRule(ctx context.Context, in *eventbridge.DescribeRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error) {
	bus := f.bus(in.EventBusName)
	f.hit("DescribeRule", -1, bus+"/"+aws.ToString(in.Name))
	if err := f.fail.check("DescribeRule", in); err != nil {
		return nil, err
	}
	r := f.rules[bus][aws.ToString(in.Name)]
	if r == nil {
		return nil, apiErr("ResourceNotFoundException", "Rule does not exist.")
	}
	out := &eventbridge.DescribeRuleOutput{Name: in.Name, Arn: aws.String(r.arn), EventBusName: aws.String(bus), State: ebtypes.RuleState(r.state)}
	if r.schedule != "" {
		out.ScheduleExpression = aws.String(r.schedule)
	}
	if r.pattern != "" {
		out.EventPattern = aws.String(r.pattern)
	}
	return out, nil
}

// ---- Scheduler

type fakeScheduler struct {
	counter
	fail      faults
	schedules []*scheduler.GetScheduleOutput
}

func (f *fakeScheduler) ListSchedules(ctx context.Context, in *scheduler.ListSchedulesInput, _ ...func(*scheduler.Options)) (*scheduler.ListSchedulesOutput, error) {
	f.hit("ListSchedules", -1, "")
	if err := f.fail.check("ListSchedules", in); err != nil {
		return nil, err
	}
	var sums []schedtypes.ScheduleSummary
	for _, s := range f.schedules {
		sums = append(sums, schedtypes.ScheduleSummary{Name: s.Name, GroupName: s.GroupName, Arn: s.Arn, State: s.State,
			Target: &schedtypes.TargetSummary{Arn: s.Target.Arn}})
	}
	// One schedule per page, to exercise paging.
	items, next, err := fakePage(sums, in.NextToken, 1, false)
	if err != nil {
		return nil, err
	}
	return &scheduler.ListSchedulesOutput{Schedules: items, NextToken: next}, nil
}

func (f *fakeScheduler) GetSchedule(ctx context.Context, in *scheduler.GetScheduleInput, _ ...func(*scheduler.Options)) (*scheduler.GetScheduleOutput, error) {
	group := aws.ToString(in.GroupName)
	if group == "" {
		group = "default"
	}
	f.hit("GetSchedule", -1, group+"/"+aws.ToString(in.Name))
	if err := f.fail.check("GetSchedule", in); err != nil {
		return nil, err
	}
	for _, s := range f.schedules {
		if aws.ToString(s.Name) == aws.ToString(in.Name) && aws.ToString(s.GroupName) == group {
			return s, nil
		}
	}
	return nil, apiErr("ResourceNotFoundException", "Schedule not found.")
}

// ---- EC2

type fakeEC2 struct {
	counter
	fail        faults
	subnets     []ec2types.Subnet
	routeTables []ec2types.RouteTable
	endpoints   []ec2types.VpcEndpoint
	nats        []ec2types.NatGateway
	igws        []ec2types.InternetGateway
	enis        []ec2types.NetworkInterface
}

// filterValues checks that a request has exactly one filter, named name,
// with 1 to 200 values, and returns them.
func filterValues(filters []ec2types.Filter, name string) ([]string, error) {
	if len(filters) != 1 || aws.ToString(filters[0].Name) != name {
		return nil, apiErr("InvalidParameterValue", "the fake expects one "+name+" filter")
	}
	if n := len(filters[0].Values); n == 0 || n > 200 {
		return nil, apiErr("InvalidParameterValue", "a filter takes 1 to 200 values")
	}
	return filters[0].Values, nil
}

func ec2Describe[T any](f *fakeEC2, op string, in any, filters []ec2types.Filter, name string, all []T, key func(T) string,
	token *string) ([]T, *string, error) {
	vals, err := filterValues(filters, name)
	f.hit(op, len(vals), strings.Join(vals, ","))
	if err != nil {
		return nil, nil, err
	}
	if err := f.fail.check(op, in); err != nil {
		return nil, nil, err
	}
	var out []T
	for _, it := range all {
		if slices.Contains(vals, key(it)) {
			out = append(out, it)
		}
	}
	// One item per page, to exercise paging.
	return fakePage(out, token, 1, false)
}

func (f *fakeEC2) DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	items, next, err := ec2Describe(f, "DescribeSubnets", in, in.Filters, "subnet-id", f.subnets,
		func(s ec2types.Subnet) string { return aws.ToString(s.SubnetId) }, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &ec2.DescribeSubnetsOutput{Subnets: items, NextToken: next}, nil
}

func (f *fakeEC2) DescribeRouteTables(ctx context.Context, in *ec2.DescribeRouteTablesInput, _ ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	items, next, err := ec2Describe(f, "DescribeRouteTables", in, in.Filters, "vpc-id", f.routeTables,
		func(r ec2types.RouteTable) string { return aws.ToString(r.VpcId) }, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &ec2.DescribeRouteTablesOutput{RouteTables: items, NextToken: next}, nil
}

func (f *fakeEC2) DescribeVpcEndpoints(ctx context.Context, in *ec2.DescribeVpcEndpointsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error) {
	items, next, err := ec2Describe(f, "DescribeVpcEndpoints", in, in.Filters, "vpc-id", f.endpoints,
		func(e ec2types.VpcEndpoint) string { return aws.ToString(e.VpcId) }, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &ec2.DescribeVpcEndpointsOutput{VpcEndpoints: items, NextToken: next}, nil
}

func (f *fakeEC2) DescribeNatGateways(ctx context.Context, in *ec2.DescribeNatGatewaysInput, _ ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error) {
	items, next, err := ec2Describe(f, "DescribeNatGateways", in, in.Filter, "vpc-id", f.nats,
		func(g ec2types.NatGateway) string { return aws.ToString(g.VpcId) }, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &ec2.DescribeNatGatewaysOutput{NatGateways: items, NextToken: next}, nil
}

func (f *fakeEC2) DescribeInternetGateways(ctx context.Context, in *ec2.DescribeInternetGatewaysInput, _ ...func(*ec2.Options)) (*ec2.DescribeInternetGatewaysOutput, error) {
	vals, err := filterValues(in.Filters, "attachment.vpc-id")
	f.hit("DescribeInternetGateways", len(vals), strings.Join(vals, ","))
	if err != nil {
		return nil, err
	}
	if err := f.fail.check("DescribeInternetGateways", in); err != nil {
		return nil, err
	}
	var out []ec2types.InternetGateway
	for _, g := range f.igws {
		if slices.ContainsFunc(g.Attachments, func(a ec2types.InternetGatewayAttachment) bool { return slices.Contains(vals, aws.ToString(a.VpcId)) }) {
			out = append(out, g)
		}
	}
	items, next, err := fakePage(out, in.NextToken, 1, false)
	if err != nil {
		return nil, err
	}
	return &ec2.DescribeInternetGatewaysOutput{InternetGateways: items, NextToken: next}, nil
}

func (f *fakeEC2) DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, _ ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	items, next, err := ec2Describe(f, "DescribeNetworkInterfaces", in, in.Filters, "network-interface-id", f.enis,
		func(n ec2types.NetworkInterface) string { return aws.ToString(n.NetworkInterfaceId) }, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &ec2.DescribeNetworkInterfacesOutput{NetworkInterfaces: items, NextToken: next}, nil
}
