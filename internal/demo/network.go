package demo

import (
	"fmt"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// Launch paths and the network path of the demo organization: every
// Fargate service runs in a VPC, and payments gains the cases of the
// network rules and of launches besides services:
//
//   - VPC vpc-0pay1core0000001 (payments core): the app subnets route to a
//     NAT gateway (the services that were already there, and
//     payments-nat-pull, whose role allows ECR pulls only through an
//     endpoint: through NAT aws:SourceVpce is known to be absent, ER004);
//     the batch subnet also has an S3 gateway endpoint whose policy knows
//     only the payments buckets (payments-batch-import, run by a Scheduler
//     schedule: NW001, the image layers cannot come through); the
//     isolated subnet has no association, so it uses the main route table,
//     which has only the local route (payments-reconcile, run by an
//     EventBridge rule: NW001, no path at all);
//   - VPC vpc-0pay2priv000002 (payments private): interface endpoints with
//     private DNS for ecr.dkr, ecr.api, logs and secretsmanager, and an S3
//     gateway endpoint that lets the layers through, no NAT
//     (payments-private-subnet: its pulls through the ECR endpoints are
//     allowed; payments-partner-api: the secretsmanager endpoint's policy
//     does not allow its secret, ER004 in the vpc-endpoint layer);
//   - payments-refund runs as standalone tasks only, one passing an
//     execution role override that lacks its secret (ER004 keyed by that
//     role), one (stopped) passing a role that does not exist (ER002).
//
// Every region and cluster records what a complete scan records (the
// statuses of tasks, rules, schedules and network), as `audit demo`
// collects them through the fake endpoint.

const (
	payCoreVPC     = "vpc-0pay1core0000001"
	payPrivVPC     = "vpc-0pay2priv000002"
	payAppA        = "subnet-0pay1app0000a1"
	payAppB        = "subnet-0pay1app0000b1"
	payBatch       = "subnet-0pay1batch0001"
	payIsolated    = "subnet-0pay1iso000001"
	payPrivA       = "subnet-0pay2priv000a2"
	payPrivB       = "subnet-0pay2priv000b2"
	payECRDkr      = "vpce-0a1b2c3d4e5f67890" // the endpoint payments-vpce-exec names
	payECRAPI      = "vpce-0pay2ecrapi00002"
	paySecretsVPCE = "vpce-0pay2secrets0002"
	paySG          = "sg-0pay1tasks0000001"
)

// endpointPolicy is a VPC endpoint policy document.
func endpointPolicy(stmts ...stmt) string { return doc(stmts...) }

// netBuilder accumulates one region's network.
type netBuilder struct {
	account, region string
	n               *inventory.Network
}

func newNet(account, region string) *netBuilder {
	return &netBuilder{account: account, region: region, n: &inventory.Network{Status: inventory.CollectedComplete}}
}

// vpc adds a VPC (everything about it collected) with its main route
// table; nat adds a NAT gateway and a default route to it on the main
// table when true.
func (nb *netBuilder) vpc(id, mainRT string) {
	nb.n.VPCs = append(nb.n.VPCs, &inventory.VPC{ID: id, OwnerID: nb.account, RouteTablesStatus: inventory.CollectedComplete,
		VPCEndpointsStatus: inventory.CollectedComplete, NATGatewaysStatus: inventory.CollectedComplete, InternetGatewaysStatus: inventory.CollectedComplete})
	nb.n.RouteTables = append(nb.n.RouteTables, &inventory.RouteTable{ID: mainRT, VPCID: id, Main: true,
		Routes: []inventory.Route{{DestinationCIDR: "10.0.0.0/16", GatewayID: "local", State: "active"}}})
}

func (nb *netBuilder) table(id string) *inventory.RouteTable {
	for _, rt := range nb.n.RouteTables {
		if rt.ID == id {
			return rt
		}
	}
	panic("demo: no route table " + id)
}

// routeTable adds an explicit route table of the VPC associated with the
// subnets (which need not be referenced by a launch).
func (nb *netBuilder) routeTable(id, vpc string, subnets []string, routes ...inventory.Route) {
	nb.n.RouteTables = append(nb.n.RouteTables, &inventory.RouteTable{ID: id, VPCID: vpc, Subnets: subnets,
		Routes: append([]inventory.Route{{DestinationCIDR: "10.0.0.0/16", GatewayID: "local", State: "active"}}, routes...)})
}

// subnet adds a subnet a launch names.
func (nb *netBuilder) subnet(id, vpc, az string, public bool) {
	nb.n.Subnets = append(nb.n.Subnets, &inventory.Subnet{ID: id, Status: inventory.CollectedComplete, VPCID: vpc, OwnerID: nb.account,
		AvailabilityZone: nb.region + az, MapPublicIPOnLaunch: public})
}

// gateways adds an internet gateway and, with a public route table for
// the subnet it lives in, a NAT gateway.
func (nb *netBuilder) gateways(vpc, igw, nat, natSubnet, publicRT string) {
	nb.n.InternetGateways = append(nb.n.InternetGateways, &inventory.InternetGateway{ID: igw,
		Attachments: []inventory.InternetGatewayAttached{{VPCID: vpc, State: "available"}}})
	nb.routeTable(publicRT, vpc, []string{natSubnet}, inventory.Route{DestinationCIDR: "0.0.0.0/0", GatewayID: igw, State: "active"})
	if nat != "" {
		nb.n.NATGateways = append(nb.n.NATGateways, &inventory.NATGateway{ID: nat, VPCID: vpc, SubnetID: natSubnet, State: "available", ConnectivityType: "public"})
	}
}

func natRoute(nat string) inventory.Route {
	return inventory.Route{DestinationCIDR: "0.0.0.0/0", NATGatewayID: nat, State: "active"}
}

// interfaceEndpoint adds an interface endpoint with private DNS.
func (nb *netBuilder) interfaceEndpoint(id, vpc, service, policy string, subnets ...string) {
	ep := &inventory.VPCEndpoint{ID: id, VPCID: vpc, Type: "Interface", ServiceName: "com.amazonaws." + nb.region + "." + service,
		State: "available", PrivateDNSEnabled: true, Subnets: subnets, PolicyStatus: inventory.PolicyNone}
	if policy != "" {
		ep.Policy, ep.PolicyStatus = policy, inventory.PolicyCollected
	}
	nb.n.VPCEndpoints = append(nb.n.VPCEndpoints, ep)
}

// s3Gateway adds an S3 gateway endpoint on route tables, with its routes.
func (nb *netBuilder) s3Gateway(id, vpc, policy string, tables ...string) {
	nb.n.VPCEndpoints = append(nb.n.VPCEndpoints, &inventory.VPCEndpoint{ID: id, VPCID: vpc, Type: "Gateway",
		ServiceName: "com.amazonaws." + nb.region + ".s3", State: "available", RouteTables: tables, Policy: policy, PolicyStatus: inventory.PolicyCollected})
	for _, t := range tables {
		rt := nb.table(t)
		rt.Routes = append(rt.Routes, inventory.Route{DestinationPrefixListID: "pl-63a5400a", GatewayID: id, State: "active"})
	}
}

func awsvpc(public bool, subnets ...string) *inventory.AwsvpcConfiguration {
	ip := "DISABLED"
	if public {
		ip = "ENABLED"
	}
	return &inventory.AwsvpcConfiguration{Subnets: subnets, SecurityGroups: []string{paySG}, AssignPublicIP: ip}
}

// place puts a service (and its deployments) in the subnets.
func place(s *inventory.Service, n *inventory.AwsvpcConfiguration) {
	s.Network = n
	for i := range s.Deployments {
		s.Deployments[i].Network = n
	}
}

// launchPathsAndNetwork adds the network and the launch-path cases.
func (b *builder) launchPathsAndNetwork() {
	for _, a := range b.inv.Accounts {
		for _, r := range a.Regions {
			if r.Status != inventory.RegionScanned {
				continue
			}
			// What a complete scan records, even where there is nothing.
			r.SchedulesStatus = inventory.CollectedComplete
			r.Network = &inventory.Network{Status: inventory.CollectedComplete}
			for _, c := range r.Clusters {
				c.TasksStatus, c.EventRulesStatus = inventory.CollectedComplete, inventory.CollectedComplete
			}
		}
	}
	b.paymentsNetwork(b.accounts[Payments])
	b.simpleNetwork(b.accounts[Analytics], "eu-west-1", "vpc-0ana1000000000003", false)
	b.simpleNetwork(b.accounts[Management], "us-east-1", "vpc-0mgmt00000000004", true)
	b.simpleNetwork(b.accounts[Shared], "eu-west-1", "vpc-0shr100000000005", false)
}

// simpleNetwork puts the region's Fargate services in one subnet of a
// VPC: private behind a NAT gateway, or public with a public IP.
func (b *builder) simpleNetwork(a *inventory.Account, region, vpc string, public bool) {
	r := b.region(a, region, inventory.RegionScanned)
	tag := strings.TrimPrefix(vpc, "vpc-0")[:4]
	nb := newNet(a.ID, region)
	nb.vpc(vpc, "rtb-0"+tag+"main0000001")
	app := "subnet-0" + tag + "app00000001"
	pub := "subnet-0" + tag + "pub00000001"
	if public {
		nb.gateways(vpc, "igw-0"+tag+"igw00000001", "", app, "rtb-0"+tag+"pub00000001")
		nb.subnet(app, vpc, "a", true)
	} else {
		nb.gateways(vpc, "igw-0"+tag+"igw00000001", "nat-0"+tag+"nat00000001", pub, "rtb-0"+tag+"pub00000001")
		nb.routeTable("rtb-0"+tag+"app00000001", vpc, []string{app}, natRoute("nat-0"+tag+"nat00000001"))
		nb.subnet(app, vpc, "a", false)
	}
	for _, c := range r.Clusters {
		for _, s := range c.Services {
			if s.LaunchType == inventory.LaunchFargate {
				place(s, awsvpc(public, app))
			}
		}
	}
	r.Network = nb.n
}

// paymentsNetwork builds payments' two VPCs in us-east-1 and the cases
// that run in them.
func (b *builder) paymentsNetwork(a *inventory.Account) {
	const region = "us-east-1"
	r := b.region(a, region, inventory.RegionScanned)
	nb := newNet(a.ID, region)

	// The core VPC: NAT for the app subnets, an S3 gateway endpoint that
	// knows only the payments buckets on the batch subnet's table, and
	// an isolated subnet on the main table (local route only).
	nb.vpc(payCoreVPC, "rtb-0pay1main0000001")
	nb.gateways(payCoreVPC, "igw-0pay1igw0000001", "nat-0pay1nat0000001", "subnet-0pay1pub000001", "rtb-0pay1pub0000001")
	nb.routeTable("rtb-0pay1nat0000001", payCoreVPC, []string{payAppA, payAppB}, natRoute("nat-0pay1nat0000001"))
	nb.routeTable("rtb-0pay1batch000001", payCoreVPC, []string{payBatch}, natRoute("nat-0pay1nat0000001"))
	nb.s3Gateway("vpce-0pay1s3own00001", payCoreVPC, endpointPolicy(
		stmt{Sid: "PaymentsBucketsOnly", Effect: "Allow", Principal: "*", Action: acts("s3:GetObject", "s3:GetBucketLocation", "s3:ListBucket"),
			Resource: []string{"arn:aws:s3:::payments-config-prod", "arn:aws:s3:::payments-config-prod/*"}}), "rtb-0pay1batch000001")
	nb.subnet(payAppA, payCoreVPC, "a", false)
	nb.subnet(payAppB, payCoreVPC, "b", false)
	nb.subnet(payBatch, payCoreVPC, "a", false)
	nb.subnet(payIsolated, payCoreVPC, "b", false)

	// The private VPC: interface endpoints with private DNS, and an S3
	// gateway endpoint that lets the image layers through; no NAT.
	nb.vpc(payPrivVPC, "rtb-0pay2main0000002")
	nb.s3Gateway("vpce-0pay2s3layers002", payPrivVPC, endpointPolicy(
		stmt{Sid: "EcrImageLayers", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"},
		stmt{Sid: "PaymentsConfig", Effect: "Allow", Principal: "*", Action: acts("s3:GetObject", "s3:GetBucketLocation"),
			Resource: []string{"arn:aws:s3:::payments-config-prod", "arn:aws:s3:::payments-config-prod/*"}}), "rtb-0pay2main0000002")
	nb.interfaceEndpoint(payECRDkr, payPrivVPC, "ecr.dkr", "", payPrivA, payPrivB)
	nb.interfaceEndpoint(payECRAPI, payPrivVPC, "ecr.api", "", payPrivA, payPrivB)
	nb.interfaceEndpoint("vpce-0pay2logs000002", payPrivVPC, "logs", "", payPrivA, payPrivB)
	nb.interfaceEndpoint(paySecretsVPCE, payPrivVPC, "secretsmanager", endpointPolicy(
		stmt{Sid: "PaymentsSecretsOnly", Effect: "Allow", Principal: "*", Action: "secretsmanager:GetSecretValue",
			Resource: "arn:aws:secretsmanager:us-east-1:222222222222:secret:payments/*"}), payPrivA, payPrivB)
	nb.subnet(payPrivA, payPrivVPC, "a", false)
	nb.subnet(payPrivB, payPrivVPC, "b", false)

	var fg *inventory.Cluster
	for _, c := range r.Clusters {
		if c.Name == "payments-fargate" {
			fg = c
		}
		for _, s := range c.Services {
			switch {
			case s.LaunchType != inventory.LaunchFargate:
			case s.Name == "payments-private-subnet":
				place(s, awsvpc(false, payPrivA))
			default:
				place(s, awsvpc(false, payAppA, payAppB))
			}
		}
	}

	p := "arn:aws:secretsmanager:us-east-1:222222222222:secret:"
	img := func(repo string) string { return ecrImage(Payments, region, repo) }
	apiExec := "arn:aws:iam::222222222222:role/payments-api-exec"

	// ER004, known absent: the role allows ECR pulls only through the ECR
	// endpoints (the policy of payments-vpce-exec), and this service's
	// subnet leaves through NAT.
	natExec := role(a, "payments-nat-pull-exec", trustHardened(Payments), map[string]string{
		"ecr-through-endpoint": doc(stmt{Sid: "EcrViaEndpoint", Effect: "Allow",
			Action:    acts("ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"),
			Resource:  "*",
			Condition: map[string]any{"StringEquals": map[string]any{"aws:SourceVpce": []string{payECRDkr, payECRAPI}}}},
			allow("Logs", acts("logs:CreateLogStream", "logs:PutLogEvents"), "arn:aws:logs:us-east-1:222222222222:log-group:/ecs/payments-*:*")),
	}, nil, "")
	natPull := b.td(a, region, "payments-nat-pull", 1, natExec, "FARGATE",
		ctr("app", img("payments/nat-pull:1.0.0"), logs("/ecs/payments-nat-pull", region, "app", false)))
	place(service(fg, "payments-nat-pull", inventory.LaunchFargate, "LATEST", natPull), awsvpc(false, payAppA))

	// ER004 in the vpc-endpoint layer: the role may read the partner
	// secret, the secretsmanager endpoint's policy lets only payments/*
	// through.
	partnerExec := role(a, "payments-partner-api-exec", trustHardened(Payments), map[string]string{
		"partner": doc(allow("PartnerSecret", acts("secretsmanager:GetSecretValue"), p+"partner/api-??????")),
	}, []string{execManaged}, "")
	partner := b.td(a, region, "payments-partner-api", 1, partnerExec, "FARGATE",
		ctr("sync", img("payments/partner-api:2.1.0"), logs("/ecs/payments-partner-api", region, "sync", false),
			secret("PARTNER_API", p+"partner/api-Rt5Yu6")))
	place(service(fg, "payments-partner-api", inventory.LaunchFargate, "LATEST", partner), awsvpc(false, payPrivB))

	// NW001, no path: run nightly by an EventBridge rule in the isolated
	// subnet, which uses the main route table (local route only).
	reconcile := b.td(a, region, "payments-reconcile", 2, apiExec, "FARGATE",
		ctr("reconcile", img("payments/reconcile:2.0.0"), logs("/ecs/payments-reconcile", region, "reconcile", false),
			secret("DB_PASSWORD", p+"payments/db-AbCdEf")))
	r.EventRules = append(r.EventRules, &inventory.EventRule{Name: "payments-nightly-reconcile",
		ARN: "arn:aws:events:us-east-1:222222222222:rule/payments-nightly-reconcile", EventBusName: "default", State: "ENABLED",
		ScheduleExpression: "cron(30 1 * * ? *)", DescribeStatus: inventory.CollectedComplete, TargetsStatus: inventory.CollectedComplete,
		Targets: []inventory.RuleTarget{{ID: "reconcile", Launch: inventory.ECSLaunch{ClusterARN: fg.ARN, TaskDefinition: reconcile.ARN, TaskCount: 1,
			LaunchType: inventory.LaunchFargate, PlatformVersion: "LATEST", Network: awsvpc(false, payIsolated),
			RoleARN: "arn:aws:iam::222222222222:role/payments-events-run-task"}}}})

	// NW001, the layers closed: a scheduled-task revision in the batch
	// subnet, whose S3 gateway endpoint knows only the payments buckets.
	batch := b.td(a, region, "payments-batch-import", 3, apiExec, "FARGATE",
		ctr("import", img("payments/batch-import:3.0.2"), logs("/ecs/payments-batch", region, "import", false),
			envFile("arn:aws:s3:::payments-config-prod/env/batch.env")))
	r.Schedules = append(r.Schedules, &inventory.Schedule{Name: "payments-batch-import", GroupName: "payments",
		ARN: "arn:aws:scheduler:us-east-1:222222222222:schedule/payments/payments-batch-import", State: "ENABLED",
		TargetARN: fg.ARN, ScheduleExpression: "cron(0 4 * * ? *)", Status: inventory.CollectedComplete,
		Launch: &inventory.ECSLaunch{ClusterARN: fg.ARN, TaskDefinition: batch.ARN, TaskCount: 1, LaunchType: inventory.LaunchFargate,
			PlatformVersion: "1.4.0", Network: awsvpc(false, payBatch), RoleARN: "arn:aws:iam::222222222222:role/payments-scheduler-run-task"}})

	// Standalone tasks only: one passes an override role that lacks the
	// secret (ER004 keyed by that role), one (stopped) a role that does
	// not exist (ER002).
	overrideExec := role(a, "payments-refund-override-exec", trustHardened(Payments), nil, []string{execManaged}, "")
	refund := b.td(a, region, "payments-refund", 4, apiExec, "FARGATE",
		ctr("refund", img("payments/refund:4.0.0"), logs("/ecs/payments-refund", region, "refund", false),
			secret("DB_PASSWORD", p+"payments/db-AbCdEf")))
	task := func(id, override, status string, n *inventory.AwsvpcConfiguration) *inventory.Task {
		t := &inventory.Task{ARN: "arn:aws:ecs:us-east-1:222222222222:task/payments-fargate/" + id, TaskDefinition: refund.ARN,
			ExecutionRoleOverride: override, LastStatus: status, DesiredStatus: status, LaunchType: inventory.LaunchFargate,
			PlatformVersion: "1.4.0", PlatformFamily: "Linux", Group: "family:payments-refund", StartedBy: "refund-runner",
			NetworkInterfaceID: fmt.Sprintf("eni-0pay1%s", id[:12]), Network: n}
		fg.Tasks = append(fg.Tasks, t)
		return t
	}
	// A task records its subnet, and its public IP only while it runs
	// (the ENI of a stopped task is gone); never its security groups.
	task("5c0e3d9a8b7f4e21a0c1d2e3f4a5b6c7", overrideExec, "RUNNING", &inventory.AwsvpcConfiguration{Subnets: []string{payAppA}, AssignPublicIP: "DISABLED"})
	stopped := task("9f8e7d6c5b4a49382716a5b4c3d2e1f0", "arn:aws:iam::222222222222:role/payments-refund-legacy-exec", "STOPPED",
		&inventory.AwsvpcConfiguration{Subnets: []string{payAppA}})
	stopped.StopCode, stopped.StoppedReason = "TaskFailedToStart", "ECS was unable to assume the role 'arn:aws:iam::222222222222:role/payments-refund-legacy-exec'"

	nb.n.NetworkInterfacesStatus = inventory.CollectedComplete
	r.Network = nb.n
}
