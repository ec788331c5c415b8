package inventory

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// withLaunchPaths is minimal() with a task, a rule, a schedule, a service in
// awsvpc mode and the network they run in.
func withLaunchPaths() *Inventory {
	inv := minimal()
	r := inv.Accounts[0].Regions[0]
	td := r.TaskDefinitions[0].ARN
	net := &AwsvpcConfiguration{Subnets: []string{"subnet-a"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: "DISABLED"}
	r.Clusters = []*Cluster{{ARN: "arn:aws:ecs:us-east-1:111122223333:cluster/c", Name: "c",
		Services: []*Service{{ARN: "arn:aws:ecs:us-east-1:111122223333:service/c/s", Name: "s", TaskDefinition: td, Network: net,
			Deployments: []Deployment{{ID: "d", TaskDefinition: td, Network: net}}}},
		Tasks: []*Task{{ARN: "arn:aws:ecs:us-east-1:111122223333:task/c/1", TaskDefinition: td, DesiredStatus: "RUNNING",
			ExecutionRoleOverride: "arn:aws:iam::111122223333:role/x", NetworkInterfaceID: "eni-1",
			Network: &AwsvpcConfiguration{Subnets: []string{"subnet-a"}, AssignPublicIP: "ENABLED"}}},
		TasksStatus: CollectedComplete, EventRulesStatus: CollectedComplete}}
	launch := ECSLaunch{ClusterARN: r.Clusters[0].ARN, TaskDefinition: td, Network: net}
	r.EventRules = []*EventRule{{Name: "nightly", EventBusName: "default", State: "ENABLED", DescribeStatus: CollectedComplete,
		TargetsStatus: CollectedComplete, Targets: []RuleTarget{{ID: "t", Launch: launch}}}}
	r.Schedules = []*Schedule{{Name: "hourly", GroupName: "default", TargetARN: launch.ClusterARN, Status: CollectedComplete, Launch: &launch}}
	r.SchedulesStatus = CollectedComplete
	r.Network = &Network{Status: CollectedComplete, NetworkInterfacesStatus: CollectedComplete,
		Subnets: []*Subnet{{ID: "subnet-a", Status: CollectedComplete, VPCID: "vpc-1"}, {ID: "subnet-gone", Status: SubnetNotFound}},
		VPCs: []*VPC{{ID: "vpc-1", RouteTablesStatus: CollectedComplete, VPCEndpointsStatus: CollectedNone,
			NATGatewaysStatus: CollectedComplete, InternetGatewaysStatus: CollectedComplete}},
		RouteTables:      []*RouteTable{{ID: "rtb-1", VPCID: "vpc-1", Main: true, Routes: []Route{{DestinationCIDR: "0.0.0.0/0", NATGatewayID: "nat-1"}}}},
		VPCEndpoints:     []*VPCEndpoint{{ID: "vpce-1", VPCID: "vpc-1", Type: "Gateway", ServiceName: "com.amazonaws.us-east-1.s3", Policy: `{"Statement":[]}`, PolicyStatus: PolicyCollected}},
		NATGateways:      []*NATGateway{{ID: "nat-1", VPCID: "vpc-1", SubnetID: "subnet-a"}},
		InternetGateways: []*InternetGateway{{ID: "igw-1", Attachments: []InternetGatewayAttached{{VPCID: "vpc-1"}}}},
	}
	return inv
}

func TestLaunchPathsRoundTrip(t *testing.T) {
	good, err := json.Marshal(withLaunchPaths())
	if err != nil {
		t.Fatal(err)
	}
	inv, err := decodeBoth(t, good, "x.json")
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	again, _ := json.Marshal(inv)
	if string(again) != string(good) {
		t.Errorf("not stable across a round trip:\n%s\n%s", good, again)
	}
}

// Every check of the new fields names the field.
func TestLaunchPathsValidation(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(inv *Inventory)
		field string
		msg   string
	}{
		{"unknown task status", func(inv *Inventory) { inv.Accounts[0].Regions[0].Clusters[0].TasksStatus = "maybe" }, "clusters[0].tasksStatus", `is "maybe"`},
		{"tasks without a status", func(inv *Inventory) { inv.Accounts[0].Regions[0].Clusters[0].TasksStatus = "" }, "clusters[0].tasksStatus", "missing while tasks are listed"},
		{"task twice", func(inv *Inventory) {
			c := inv.Accounts[0].Regions[0].Clusters[0]
			c.Tasks = append(c.Tasks, c.Tasks[0])
		}, "clusters[0].tasks[1].arn", "listed twice"},
		{"task without ARN", func(inv *Inventory) { inv.Accounts[0].Regions[0].Clusters[0].Tasks[0].ARN = "t" }, "tasks[0].arn", "not a task ARN"},
		{"bad assignPublicIp", func(inv *Inventory) {
			inv.Accounts[0].Regions[0].Clusters[0].Services[0].Deployments[0].Network = &AwsvpcConfiguration{AssignPublicIP: "yes"}
		}, "deployments[0].network.assignPublicIp", `is "yes"`},
		{"empty subnet", func(inv *Inventory) { inv.Accounts[0].Regions[0].Clusters[0].Tasks[0].Network.Subnets[0] = "" }, "tasks[0].network.subnets[0]", "empty"},
		{"rule without describe status", func(inv *Inventory) { inv.Accounts[0].Regions[0].EventRules[0].DescribeStatus = "" }, "eventRules[0].describeStatus", "missing"},
		{"rule target without cluster", func(inv *Inventory) { inv.Accounts[0].Regions[0].EventRules[0].Targets[0].Launch.ClusterARN = "" }, "eventRules[0].targets[0].launch.clusterArn", "missing"},
		{"rule twice", func(inv *Inventory) {
			r := inv.Accounts[0].Regions[0]
			r.EventRules = append(r.EventRules, r.EventRules[0])
		}, "eventRules[1].name", "listed twice"},
		{"collected schedule without launch", func(inv *Inventory) { inv.Accounts[0].Regions[0].Schedules[0].Launch = nil }, "schedules[0].launch", "missing while status"},
		{"uncollected schedule with launch", func(inv *Inventory) { inv.Accounts[0].Regions[0].Schedules[0].Status = CollectedNone }, "schedules[0].launch", "is given but status"},
		{"schedules without status", func(inv *Inventory) { inv.Accounts[0].Regions[0].SchedulesStatus = "" }, "schedulesStatus", "missing while schedules"},
		{"skipped network with facts", func(inv *Inventory) { inv.Accounts[0].Regions[0].Network.Status = CollectedSkipped }, "network.status", "network facts are given"},
		{"subnet VPC not listed", func(inv *Inventory) { inv.Accounts[0].Regions[0].Network.VPCs[0].ID = "vpc-2" }, "network.subnets[0].vpcId", "not in"},
		{"collected subnet without VPC", func(inv *Inventory) { inv.Accounts[0].Regions[0].Network.Subnets[0].VPCID = "" }, "network.subnets[0].vpcId", "missing"},
		{"missing subnet with a VPC", func(inv *Inventory) { inv.Accounts[0].Regions[0].Network.Subnets[1].VPCID = "vpc-1" }, "network.subnets[1].vpcId", "is given but status"},
		{"VPC status missing", func(inv *Inventory) { inv.Accounts[0].Regions[0].Network.VPCs[0].VPCEndpointsStatus = "" }, "network.vpcs[0].vpcEndpointsStatus", "missing"},
		{"route table of another VPC", func(inv *Inventory) { inv.Accounts[0].Regions[0].Network.RouteTables[0].VPCID = "vpc-9" }, "network.routeTables[0].vpcId", "not in"},
		{"endpoint policy contradicts its status", func(inv *Inventory) { inv.Accounts[0].Regions[0].Network.VPCEndpoints[0].PolicyStatus = PolicyNone }, "network.vpcEndpoints[0].policy", "is given but"},
		{"endpoint collected without policy", func(inv *Inventory) { inv.Accounts[0].Regions[0].Network.VPCEndpoints[0].Policy = "" }, "network.vpcEndpoints[0].policy", "is empty"},
		{"endpoint policy not collected is not a status", func(inv *Inventory) {
			e := inv.Accounts[0].Regions[0].Network.VPCEndpoints[0]
			e.Policy, e.PolicyStatus = "", PolicyNotCollected
		}, "network.vpcEndpoints[0].policyStatus", `is "not-collected"`},
		{"NAT gateway twice", func(inv *Inventory) {
			n := inv.Accounts[0].Regions[0].Network
			n.NATGateways = append(n.NATGateways, n.NATGateways[0])
		}, "network.natGateways[1].id", "listed twice"},
		{"internet gateway attachment without VPC", func(inv *Inventory) {
			inv.Accounts[0].Regions[0].Network.InternetGateways[0].Attachments[0].VPCID = ""
		}, "network.internetGateways[0].attachments[0].vpcId", "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := withLaunchPaths()
			tt.edit(inv)
			b, err := json.Marshal(inv)
			if err != nil {
				t.Fatal(err)
			}
			_, err = decodeBoth(t, b, "x.json")
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Decode: %v, want a load error", err)
			}
			if !strings.HasSuffix(le.Field, tt.field) || !strings.Contains(le.Msg, tt.msg) {
				t.Errorf("error %v; want field …%s and %q", err, tt.field, tt.msg)
			}
			if le.Offset < 0 {
				t.Errorf("no offset: %v", err)
			}
		})
	}
}

// A version 1 snapshot cannot have the version 2 fields.
func TestLaunchPathsNotInVersion1(t *testing.T) {
	b, _ := json.Marshal(withLaunchPaths())
	doc := strings.Replace(string(b), `"schemaVersion":2`, `"schemaVersion":1`, 1)
	_, err := decodeBoth(t, []byte(doc), "x.json")
	if err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("Decode: %v, want an unknown field", err)
	}
}
