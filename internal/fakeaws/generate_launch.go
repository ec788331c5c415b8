package fakeaws

import "github.com/ecs-audit/audit/inventory"

// launchPaths gives a generated region a realistic share of the launch
// paths besides services and the network they run in: Fargate services in
// awsvpc mode in two private subnets (the VPC's main route table, a NAT
// route), one task per service, a standalone task (every third with an
// execution role override and a public IP) and a stopped task of an older
// revision in each cluster, a scheduled EventBridge rule on the default bus
// (and in every third account an event-pattern rule on a custom bus) and a
// Scheduler schedule, and a VPC with ecr.api, ecr.dkr and logs interface
// endpoints with private DNS, an S3 gateway endpoint with a policy, a NAT
// gateway and an internet gateway. It draws from its own random stream,
// so the rest of the world is as before. Every status is what a complete
// scan records.
func (g *gen) launchPaths(i int, acct, region string, r *inventory.Region, fams []family, latest, previous []string) {
	// What a complete scan records even where there is nothing to find.
	r.SchedulesStatus = inventory.CollectedComplete
	r.Network = &inventory.Network{Status: inventory.CollectedComplete}
	for _, c := range r.Clusters {
		c.TasksStatus, c.EventRulesStatus = inventory.CollectedComplete, inventory.CollectedComplete
	}
	if len(r.Clusters) == 0 || len(fams) == 0 {
		return
	}
	lr := rng{h: hashStrings(uint64(g.spec.Seed), "launch", acct, region)}
	hex := func(n int) string { return lr.pick("0123456789abcdef", n) }
	arnp := func(svc, res string) string { return "arn:aws:" + svc + ":" + region + ":" + acct + ":" + res }
	vpc := "vpc-" + hex(17)
	privA, privB, pubA := "subnet-"+hex(17), "subnet-"+hex(17), "subnet-"+hex(17)
	sg := "sg-" + hex(17)
	private := func() *inventory.AwsvpcConfiguration {
		return &inventory.AwsvpcConfiguration{Subnets: []string{privA, privB}, SecurityGroups: []string{sg}, AssignPublicIP: "DISABLED"}
	}
	fargateRev := func(prev bool) string {
		for j, f := range fams {
			if !f.fargate {
				continue
			}
			if prev && previous[j] != "" {
				return previous[j]
			}
			return latest[j]
		}
		return ""
	}

	// Services in awsvpc mode, one task each.
	running := 0
	for _, c := range r.Clusters {
		for _, svc := range c.Services {
			if svc.LaunchType == inventory.LaunchEC2 {
				continue
			}
			svc.Network = private()
			for d := range svc.Deployments {
				svc.Deployments[d].Network = private()
			}
			eni := "eni-" + hex(17)
			c.Tasks = append(c.Tasks, &inventory.Task{
				ARN: arnp("ecs", "task/"+c.Name+"/"+hex(32)), TaskDefinition: svc.TaskDefinition,
				LastStatus: "RUNNING", DesiredStatus: "RUNNING", LaunchType: svc.LaunchType, PlatformVersion: "1.4.0", PlatformFamily: "Linux",
				Group: "service:" + svc.Name, StartedBy: svc.Deployments[0].ID, NetworkInterfaceID: eni,
				Network: &inventory.AwsvpcConfiguration{Subnets: []string{privA}, AssignPublicIP: "DISABLED"},
			})
			if len(svc.CapacityProviders) > 0 {
				t := c.Tasks[len(c.Tasks)-1]
				t.LaunchType, t.CapacityProvider = "", svc.CapacityProviders[0]
			}
			running++
		}
		// A standalone task and a stopped one.
		if td := fargateRev(false); td != "" {
			t := &inventory.Task{
				ARN: arnp("ecs", "task/"+c.Name+"/"+hex(32)), TaskDefinition: td, LastStatus: "RUNNING", DesiredStatus: "RUNNING",
				LaunchType: inventory.LaunchFargate, PlatformVersion: "1.4.0", PlatformFamily: "Linux", Group: "family:batch",
				StartedBy: "ci-pipeline", NetworkInterfaceID: "eni-" + hex(17),
				Network: &inventory.AwsvpcConfiguration{Subnets: []string{privB}, AssignPublicIP: "DISABLED"},
			}
			if i%3 == 1 {
				t.ExecutionRoleOverride = roleARN(acct, "ecs-exec-bounded")
				t.Network = &inventory.AwsvpcConfiguration{Subnets: []string{pubA}, AssignPublicIP: "ENABLED"}
			}
			c.Tasks = append(c.Tasks, t)
			running++
		}
		if td := fargateRev(true); td != "" {
			c.Tasks = append(c.Tasks, &inventory.Task{
				ARN: arnp("ecs", "task/"+c.Name+"/"+hex(32)), TaskDefinition: td, LastStatus: "STOPPED", DesiredStatus: "STOPPED",
				LaunchType: inventory.LaunchFargate, PlatformVersion: "1.4.0", PlatformFamily: "Linux", Group: "family:batch",
				StartedBy: "ci-pipeline", StopCode: "TaskFailedToStart",
				StoppedReason:      "ResourceInitializationError: unable to pull secrets or registry auth",
				NetworkInterfaceID: "eni-" + hex(17),
				Network:            &inventory.AwsvpcConfiguration{Subnets: []string{privA}},
			})
		}
	}

	// Rules and schedules on the first cluster.
	cl := r.Clusters[0]
	if td := fargateRev(true); td != "" {
		r.EventRules = append(r.EventRules, &inventory.EventRule{
			Name: "nightly-batch", ARN: arnp("events", "rule/nightly-batch"), EventBusName: "default", State: "ENABLED",
			ScheduleExpression: "cron(0 3 * * ? *)", DescribeStatus: inventory.CollectedComplete, TargetsStatus: inventory.CollectedComplete,
			Targets: []inventory.RuleTarget{{ID: "batch", Launch: inventory.ECSLaunch{
				ClusterARN: cl.ARN, TaskDefinition: td, TaskCount: 1, LaunchType: inventory.LaunchFargate, PlatformVersion: "LATEST",
				Network: &inventory.AwsvpcConfiguration{Subnets: []string{pubA}, SecurityGroups: []string{sg}, AssignPublicIP: "ENABLED"},
				RoleARN: roleARN(acct, "ecsEventsRole"),
			}}},
		})
		if i%3 == 0 {
			r.EventRules = append(r.EventRules, &inventory.EventRule{
				Name: "on-order", ARN: arnp("events", "rule/orders/on-order"), EventBusName: "orders", State: "ENABLED", HasEventPattern: true,
				DescribeStatus: inventory.CollectedComplete, TargetsStatus: inventory.CollectedComplete,
				Targets: []inventory.RuleTarget{{ID: "worker", Launch: inventory.ECSLaunch{
					ClusterARN: cl.ARN, TaskDefinition: td, TaskCount: 1, CapacityProviders: []string{"FARGATE_SPOT"},
					Network: private(), RoleARN: roleARN(acct, "ecsEventsRole"), ExecutionRoleOverride: roleARN(acct, "ecs-exec-bounded"),
				}}},
			})
		}
	}
	if td := fargateRev(false); td != "" {
		r.Schedules = append(r.Schedules, &inventory.Schedule{
			Name: "hourly-report", GroupName: "default", ARN: arnp("scheduler", "schedule/default/hourly-report"), State: "ENABLED",
			TargetARN: cl.ARN, ScheduleExpression: "rate(1 hour)", Status: inventory.CollectedComplete,
			Launch: &inventory.ECSLaunch{ClusterARN: cl.ARN, TaskDefinition: td, TaskCount: 1, LaunchType: inventory.LaunchFargate,
				PlatformVersion: "1.4.0", Network: &inventory.AwsvpcConfiguration{Subnets: []string{privB}, SecurityGroups: []string{sg}, AssignPublicIP: "DISABLED"},
				RoleARN: roleARN(acct, "scheduler-run")},
		})
	}

	// The network.
	natID, igwID, s3ID := "nat-"+hex(17), "igw-"+hex(17), "vpce-"+hex(17)
	n := &inventory.Network{Status: inventory.CollectedComplete}
	for k, s := range []string{privA, privB, pubA} {
		n.Subnets = append(n.Subnets, &inventory.Subnet{ID: s, Status: inventory.CollectedComplete, VPCID: vpc, OwnerID: acct,
			AvailabilityZone: region + string(rune('a'+k%2)), MapPublicIPOnLaunch: s == pubA})
	}
	n.VPCs = []*inventory.VPC{{ID: vpc, OwnerID: acct, RouteTablesStatus: inventory.CollectedComplete, VPCEndpointsStatus: inventory.CollectedComplete,
		NATGatewaysStatus: inventory.CollectedComplete, InternetGatewaysStatus: inventory.CollectedComplete}}
	pubRT := "rtb-" + hex(17)
	n.RouteTables = []*inventory.RouteTable{
		{ID: "rtb-" + hex(17), VPCID: vpc, Main: true, Routes: []inventory.Route{
			{DestinationCIDR: "10.0.0.0/16", GatewayID: "local", State: "active"},
			{DestinationCIDR: "0.0.0.0/0", NATGatewayID: natID, State: "active"},
		}},
		{ID: pubRT, VPCID: vpc, Subnets: []string{pubA}, Routes: []inventory.Route{
			{DestinationCIDR: "10.0.0.0/16", GatewayID: "local", State: "active"},
			{DestinationCIDR: "0.0.0.0/0", GatewayID: igwID, State: "active"},
			{DestinationPrefixListID: "pl-63a5400a", GatewayID: s3ID, State: "active"},
		}},
	}
	endpointPolicy := policyDoc(stmt{Effect: "Allow", Principal: "*", Action: "*", Resource: "*"})
	for _, svc := range []string{"ecr.api", "ecr.dkr", "logs"} {
		n.VPCEndpoints = append(n.VPCEndpoints, &inventory.VPCEndpoint{ID: "vpce-" + hex(17), VPCID: vpc, Type: "Interface",
			ServiceName: "com.amazonaws." + region + "." + svc, State: "available", PrivateDNSEnabled: true, Subnets: []string{privA, privB},
			Policy: endpointPolicy, PolicyStatus: inventory.PolicyCollected})
	}
	s3Policy := endpointPolicy
	if i%4 == 2 {
		// A gateway endpoint whose policy leaves out ECR's layer bucket.
		s3Policy = policyDoc(stmt{Effect: "Allow", Principal: "*", Action: []string{"s3:GetObject"}, Resource: "arn:aws:s3:::config-" + acct + "/*"})
	}
	n.VPCEndpoints = append(n.VPCEndpoints, &inventory.VPCEndpoint{ID: s3ID, VPCID: vpc, Type: "Gateway", ServiceName: "com.amazonaws." + region + ".s3",
		State: "available", RouteTables: []string{pubRT}, Policy: s3Policy, PolicyStatus: inventory.PolicyCollected})
	n.NATGateways = []*inventory.NATGateway{{ID: natID, VPCID: vpc, SubnetID: pubA, State: "available", ConnectivityType: "public"}}
	n.InternetGateways = []*inventory.InternetGateway{{ID: igwID, Attachments: []inventory.InternetGatewayAttached{{VPCID: vpc, State: "available"}}}}
	if running > 0 {
		n.NetworkInterfacesStatus = inventory.CollectedComplete
	}
	r.Network = n
}
