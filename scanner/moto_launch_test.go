package scanner

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/ecs-audit/audit/internal/mototest"
	"github.com/ecs-audit/audit/inventory"
)

// TestMotoLaunchPathsAndNetwork builds every launch path and a VPC in moto
// through the SDK (mototest.BuildLaunchPaths) and scans it through
// AWS_ENDPOINT_URL: the inventory must hold the tasks (the override role,
// the stopped task), the service's awsvpc configuration, the EventBridge
// rule's ECS target, the Scheduler schedule, and the subnets, route tables
// (the private subnet on the main table), NAT and internet gateways and
// both endpoints with their policies.
func TestMotoLaunchPathsAndNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("moto integration test skipped in -short mode")
	}
	srv := mototest.Start(t)
	mototest.Env(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l := mototest.BuildLaunchPaths(t, ctx)

	// moto answers DescribeTasks with numbers where the API has strings:
	// mototest.TaskNumbersFix mends exactly those.
	wire := newOpCounter(mototest.TaskNumbersFix(awshttp.NewBuildableClient()))
	inv, err := Collect(ctx, Config{Regions: []string{mototest.LaunchRegion}, ResolveResources: true, HTTPClient: wire})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if path := os.Getenv("AUDIT_MOTO_DUMP"); path != "" {
		_ = inventory.Save(path, inv)
	}
	if err := inv.Validate(); err != nil {
		t.Errorf("the inventory does not validate: %v", err)
	}
	for _, e := range inv.Errors {
		t.Errorf("unexpected collection error: %+v", e)
	}
	r := inv.Accounts[0].Regions[0]
	var cl *inventory.Cluster
	for _, c := range r.Clusters {
		if c.ARN == l.Cluster {
			cl = c
		}
	}
	if cl == nil {
		t.Fatalf("cluster %s not collected: %+v", l.Cluster, r.Clusters)
	}

	// Tasks.
	if cl.TasksStatus != inventory.CollectedComplete {
		t.Errorf("tasks status %s", cl.TasksStatus)
	}
	tasks := map[string]*inventory.Task{}
	for _, tk := range cl.Tasks {
		tasks[tk.ARN] = tk
	}
	run, stop := tasks[l.RunningTask], tasks[l.StoppedTask]
	if run == nil || stop == nil {
		t.Fatalf("tasks %+v, want %s and %s", cl.Tasks, l.RunningTask, l.StoppedTask)
	}
	// moto cannot run awsvpc tasks (see mototest.BuildLaunchPaths): these
	// have no ENI, so the task's subnet and public IP are tested against
	// fakeaws only (TestFakeAWSRoundTrip).
	if run.ExecutionRoleOverride != l.OverrideRole || run.TaskDefinition != l.TaskTaskDefinition || run.LaunchType != "FARGATE" ||
		run.DesiredStatus != "RUNNING" || run.StartedBy != "ci" {
		t.Errorf("running task = %+v", run)
	}
	if stop.DesiredStatus != "STOPPED" || stop.ExecutionRoleOverride != "" {
		t.Errorf("stopped task = %+v", stop)
	}

	// The service's network configuration.
	if len(cl.Services) != 1 || cl.Services[0].Network == nil || !slices.Equal(cl.Services[0].Network.Subnets, []string{l.PrivateSubnet}) ||
		!slices.Equal(cl.Services[0].Network.SecurityGroups, []string{l.SecurityGroup}) {
		t.Errorf("services = %+v", cl.Services)
	}

	// The rule: its ECS target only.
	if cl.EventRulesStatus != inventory.CollectedComplete || len(r.EventRules) != 1 {
		t.Fatalf("rules %s %+v", cl.EventRulesStatus, r.EventRules)
	}
	rule := r.EventRules[0]
	if rule.Name != l.Rule || rule.State != "ENABLED" || rule.ScheduleExpression != "cron(0 3 * * ? *)" || len(rule.Targets) != 1 {
		t.Fatalf("rule = %+v", rule)
	}
	if rl := rule.Targets[0].Launch; rl.TaskDefinition != l.RuleTaskDefinition || rl.ExecutionRoleOverride != l.OverrideRole ||
		rl.Network == nil || !slices.Equal(rl.Network.Subnets, []string{l.PublicSubnet}) || rl.Network.AssignPublicIP != "ENABLED" {
		t.Errorf("rule target = %+v", rl)
	}

	// The schedule.
	if r.SchedulesStatus != inventory.CollectedComplete || len(r.Schedules) != 1 {
		t.Fatalf("schedules %s %+v", r.SchedulesStatus, r.Schedules)
	}
	if s := r.Schedules[0]; s.Name != l.Schedule || s.Status != inventory.CollectedComplete || s.Launch == nil ||
		s.Launch.TaskDefinition != l.ScheduleTaskDefinition || s.Launch.Network == nil || !slices.Equal(s.Launch.Network.Subnets, []string{l.PrivateSubnet}) {
		t.Errorf("schedule = %+v", s)
	}

	// The revisions those launches run are described, not only the latest.
	tds := map[string]bool{}
	for _, td := range r.TaskDefinitions {
		tds[td.ARN] = true
	}
	for _, want := range []string{l.TaskDefinition, l.RuleTaskDefinition, l.ScheduleTaskDefinition, l.TaskTaskDefinition} {
		if !tds[want] {
			t.Errorf("task definition %s not collected (have %v)", want, tds)
		}
	}

	// The network.
	n := r.Network
	if n == nil || n.Status != inventory.CollectedComplete {
		t.Fatalf("network = %+v", n)
	}
	subnets := map[string]*inventory.Subnet{}
	for _, s := range n.Subnets {
		subnets[s.ID] = s
	}
	for _, id := range []string{l.PrivateSubnet, l.PublicSubnet} {
		if s := subnets[id]; s == nil || s.Status != inventory.CollectedComplete || s.VPCID != l.VPC {
			t.Errorf("subnet %s = %+v", id, s)
		}
	}
	if len(n.VPCs) != 1 || n.VPCs[0].ID != l.VPC || n.VPCs[0].RouteTablesStatus != inventory.CollectedComplete ||
		n.VPCs[0].VPCEndpointsStatus != inventory.CollectedComplete || n.VPCs[0].NATGatewaysStatus != inventory.CollectedComplete ||
		n.VPCs[0].InternetGatewaysStatus != inventory.CollectedComplete {
		t.Errorf("vpcs = %+v", n.VPCs)
	}
	tables := map[string]*inventory.RouteTable{}
	for _, rt := range n.RouteTables {
		tables[rt.ID] = rt
	}
	routesTo := func(rt *inventory.RouteTable, target string) bool {
		return rt != nil && slices.ContainsFunc(rt.Routes, func(r inventory.Route) bool { return r.GatewayID == target || r.NATGatewayID == target })
	}
	if main := tables[l.MainRouteTable]; main == nil || !main.Main || slices.Contains(main.Subnets, l.PrivateSubnet) || !routesTo(main, l.NATGateway) {
		t.Errorf("main route table = %+v (the private subnet inherits it, with a NAT route)", main)
	}
	if pub := tables[l.PublicRouteTable]; pub == nil || pub.Main || !slices.Equal(pub.Subnets, []string{l.PublicSubnet}) || !routesTo(pub, l.InternetGateway) {
		t.Errorf("public route table = %+v", pub)
	}
	eps := map[string]*inventory.VPCEndpoint{}
	for _, e := range n.VPCEndpoints {
		eps[e.ID] = e
	}
	if e := eps[l.S3Endpoint]; e == nil || e.Type != "Gateway" || !slices.Contains(e.RouteTables, l.MainRouteTable) || e.PolicyStatus != inventory.PolicyCollected ||
		!strings.Contains(e.Policy, "starport-layer-bucket") {
		t.Errorf("S3 endpoint = %+v", e)
	}
	if e := eps[l.ECRDkrEndpoint]; e == nil || e.Type != "Interface" || !e.PrivateDNSEnabled || !slices.Equal(e.Subnets, []string{l.PrivateSubnet}) ||
		e.PolicyStatus != inventory.PolicyCollected || !strings.Contains(e.Policy, "aws:PrincipalAccount") {
		t.Errorf("ecr.dkr endpoint = %+v", e)
	}
	if len(n.NATGateways) != 1 || n.NATGateways[0].ID != l.NATGateway || n.NATGateways[0].SubnetID != l.PublicSubnet {
		t.Errorf("NAT gateways = %+v", n.NATGateways)
	}
	if len(n.InternetGateways) != 1 || n.InternetGateways[0].ID != l.InternetGateway {
		t.Errorf("internet gateways = %+v", n.InternetGateways)
	}

	// Reads only, and one call per kind.
	for _, k := range wire.keys() {
		if op := k[strings.Index(k, ":")+1:]; !readOnlyOperation(op) {
			t.Errorf("the scanner sent %s, which is not a read operation", k)
		}
	}
	for _, op := range []string{"ec2:DescribeSubnets", "ec2:DescribeRouteTables", "ec2:DescribeVpcEndpoints", "ec2:DescribeNatGateways",
		"ec2:DescribeInternetGateways", "events:ListEventBuses", "events:ListTargetsByRule", "events:DescribeRule",
		"scheduler:rest:GET /schedules", "scheduler:rest:GET /schedules/" + l.Schedule} {
		if got := wire.count(op); got != 1 {
			t.Errorf("%s sent %d times, want 1", op, got)
		}
	}
}
