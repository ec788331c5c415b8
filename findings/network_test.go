package findings

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// Network builders for the test world: one VPC per call, subnets on
// explicit or main route tables, endpoints, gateways.

// net returns the region's network, collected.
func (w *tw) net() *inventory.Network {
	if w.reg.Network == nil {
		w.reg.Network = &inventory.Network{Status: inventory.CollectedComplete}
	}
	return w.reg.Network
}

// vpc adds a VPC whose network facts were all collected, with a main route
// table holding only the local route.
func (w *tw) vpc(id string) *inventory.VPC {
	n := w.net()
	v := &inventory.VPC{ID: id, OwnerID: tAcct, RouteTablesStatus: inventory.CollectedComplete, VPCEndpointsStatus: inventory.CollectedComplete,
		NATGatewaysStatus: inventory.CollectedComplete, InternetGatewaysStatus: inventory.CollectedComplete}
	n.VPCs = append(n.VPCs, v)
	n.RouteTables = append(n.RouteTables, &inventory.RouteTable{ID: "rtb-main-" + id, VPCID: id, Main: true,
		Routes: []inventory.Route{{DestinationCIDR: "10.0.0.0/16", GatewayID: "local", State: "active"}}})
	return v
}

// mainTable is the VPC's main route table.
func (w *tw) mainTable(vpc string) *inventory.RouteTable {
	for _, rt := range w.net().RouteTables {
		if rt.VPCID == vpc && rt.Main {
			return rt
		}
	}
	return nil
}

// subnet adds a subnet of the VPC; with table "", it uses the main table.
func (w *tw) subnet(id, vpc, table string) {
	n := w.net()
	n.Subnets = append(n.Subnets, &inventory.Subnet{ID: id, Status: inventory.CollectedComplete, VPCID: vpc, OwnerID: tAcct})
	if table == "" {
		return
	}
	for _, rt := range n.RouteTables {
		if rt.ID == table {
			rt.Subnets = append(rt.Subnets, id)
			return
		}
	}
	n.RouteTables = append(n.RouteTables, &inventory.RouteTable{ID: table, VPCID: vpc, Subnets: []string{id},
		Routes: []inventory.Route{{DestinationCIDR: "10.0.0.0/16", GatewayID: "local", State: "active"}}})
}

// table finds a route table.
func (w *tw) table(id string) *inventory.RouteTable {
	for _, rt := range w.net().RouteTables {
		if rt.ID == id {
			return rt
		}
	}
	return nil
}

// natRoute gives a table a default route to a new public NAT gateway.
func (w *tw) natRoute(rt *inventory.RouteTable, nat string) {
	n := w.net()
	n.NATGateways = append(n.NATGateways, &inventory.NATGateway{ID: nat, VPCID: rt.VPCID, State: "available", ConnectivityType: "public"})
	rt.Routes = append(rt.Routes, inventory.Route{DestinationCIDR: "0.0.0.0/0", NATGatewayID: nat, State: "active"})
}

// igwRoute gives a table a default route to a new attached internet gateway.
func (w *tw) igwRoute(rt *inventory.RouteTable, igw string) {
	n := w.net()
	n.InternetGateways = append(n.InternetGateways, &inventory.InternetGateway{ID: igw, Attachments: []inventory.InternetGatewayAttached{{VPCID: rt.VPCID, State: "available"}}})
	rt.Routes = append(rt.Routes, inventory.Route{DestinationCIDR: "0.0.0.0/0", GatewayID: igw, State: "active"})
}

// endpoint adds an interface endpoint (private DNS as given) or, for
// service s3 with tables, a gateway endpoint on those route tables. An
// empty policy is no policy document.
func (w *tw) endpoint(id, vpc, service string, privateDNS bool, policy string, tables ...string) *inventory.VPCEndpoint {
	ep := &inventory.VPCEndpoint{ID: id, VPCID: vpc, Type: "Interface", ServiceName: "com.amazonaws." + tRegion + "." + service, State: "available",
		PrivateDNSEnabled: privateDNS, PolicyStatus: inventory.PolicyNone}
	if len(tables) > 0 {
		ep.Type, ep.PrivateDNSEnabled, ep.RouteTables = "Gateway", false, tables
		for _, id := range tables {
			if rt := w.table(id); rt != nil {
				rt.Routes = append(rt.Routes, inventory.Route{DestinationPrefixListID: "pl-63a5400a", GatewayID: ep.ID, State: "active"})
			}
		}
	}
	if policy != "" {
		ep.Policy, ep.PolicyStatus = policy, inventory.PolicyCollected
	}
	w.net().VPCEndpoints = append(w.net().VPCEndpoints, ep)
	return ep
}

// privateEndpoints adds interface endpoints with private DNS and no policy
// for the services.
func (w *tw) privateEndpoints(vpc string, services ...string) {
	for _, s := range services {
		w.endpoint("vpce-"+strings.ReplaceAll(s, ".", "")+"-"+vpc, vpc, s, true, "")
	}
}

// fargate adds a Fargate service in the subnets.
func (w *tw) fargate(c *inventory.Cluster, name string, t *inventory.TaskDefinition, public string, subnets ...string) *inventory.Service {
	s := w.service(c, name, "FARGATE", "LATEST", t)
	s.Network = &inventory.AwsvpcConfiguration{Subnets: subnets, AssignPublicIP: public}
	return s
}

const (
	tLayers     = "arn:aws:s3:::prod-us-east-1-starport-layer-bucket"
	epPolicyAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
	vpceCond    = `{"Version":"2012-10-17","Statement":[{"Sid":"EcrViaEndpoint","Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Resource":"*",` +
		`"Condition":{"StringEquals":{"aws:sourceVpce":%s}}},{"Sid":"Rest","Effect":"Allow","Action":["ecr:GetAuthorizationToken","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`
)

// wantFinding fails unless exactly want findings of rule exist; the first
// must contain every substring (message, then facts).
func wantFinding(t *testing.T, r *Result, rule string, want int, sev Severity, contains ...string) *Finding {
	t.Helper()
	check(t, r, rule, want, sev)
	if want == 0 {
		return nil
	}
	f := &byRule(r, rule)[0]
	text := f.Message + " " + f.Fix.text()
	for k, v := range f.Evidence.Facts {
		text += " " + k + "=" + v
	}
	for _, c := range contains {
		if !strings.Contains(text, c) {
			t.Errorf("%s: %q lacks %q", rule, text, c)
		}
	}
	return f
}

func gapsContain(t *testing.T, r *Result, want ...string) {
	t.Helper()
	all := strings.Join(r.Coverage.Gaps, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("coverage gaps lack %q:\n%s", w, all)
		}
	}
}

// NW001: no path, with and without NAT, the main route table, the public
// IP, the S3 gateway endpoint's policy and the image layers.
func TestNW001(t *testing.T) {
	layersOnlyOwn := `{"Version":"2012-10-17","Statement":[{"Sid":"OwnBuckets","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::config","arn:aws:s3:::config/*"]}]}`
	layersAllowed := `{"Version":"2012-10-17","Statement":[{"Sid":"Layers","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + tLayers + `/*"}]}`
	layersByAccount := `{"Version":"2012-10-17","Statement":[{"Sid":"Ours","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}]}`
	setup := func(w *tw) (*inventory.TaskDefinition, *inventory.Cluster) {
		exec := w.role("exec", ecsTrust, true)
		return w.td("app", exec, "FARGATE", ctr("app", ecrImg("app:1"), withLogs("/ecs/app", "app"))), w.cluster("c")
	}
	cases := []struct {
		name     string
		setup    func(w *tw)
		want     int
		sev      Severity
		contains []string
	}{
		{"private subnet without NAT and without endpoints (main route table)", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-iso", "vpc-1", "")
			w.fargate(c, "svc", td, "DISABLED", "subnet-iso")
		}, 1, Critical, []string{"subnet subnet-iso (route table rtb-main-vpc-1, the main route table of vpc-1", "no explicit association",
			"com.amazonaws.us-east-1.ecr.dkr", "com.amazonaws.us-east-1.logs", "prod-us-east-1-starport-layer-bucket",
			"has no default route", "service svc", "routeTableAssociation=main", "a default route (0.0.0.0/0) to a NAT gateway", "S3 gateway endpoint on route table"}},
		{"private subnet with NAT on an explicit table", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-app", "vpc-1", "rtb-nat")
			w.natRoute(w.table("rtb-nat"), "nat-1")
			w.fargate(c, "svc", td, "DISABLED", "subnet-app")
		}, 0, "", nil},
		{"subnet inheriting a main route table with NAT", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.natRoute(w.mainTable("vpc-1"), "nat-1")
			w.subnet("subnet-a", "vpc-1", "")
			w.fargate(c, "svc", td, "DISABLED", "subnet-a")
		}, 0, "", nil},
		{"explicit table without NAT beside a main table with NAT", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.natRoute(w.mainTable("vpc-1"), "nat-1")
			w.subnet("subnet-a", "vpc-1", "rtb-private")
			w.fargate(c, "svc", td, "DISABLED", "subnet-a")
		}, 1, Critical, []string{"route table rtb-private of vpc-1", "routeTableAssociation=explicit"}},
		{"public subnet with a public IP", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-pub", "vpc-1", "rtb-pub")
			w.igwRoute(w.table("rtb-pub"), "igw-1")
			w.fargate(c, "svc", td, "ENABLED", "subnet-pub")
		}, 0, "", nil},
		{"public subnet without a public IP", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-pub", "vpc-1", "rtb-pub")
			w.igwRoute(w.table("rtb-pub"), "igw-1")
			w.fargate(c, "svc", td, "DISABLED", "subnet-pub")
		}, 1, Critical, []string{"assignPublicIp DISABLED", "run the tasks with assignPublicIp ENABLED in service svc"}},
		{"every endpoint with private DNS: no NAT needed", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-priv", "vpc-1", "rtb-priv")
			w.privateEndpoints("vpc-1", "ecr.dkr", "ecr.api", "logs")
			w.endpoint("vpce-s3", "vpc-1", "s3", false, layersAllowed, "rtb-priv")
			w.fargate(c, "svc", td, "DISABLED", "subnet-priv")
		}, 0, "", nil},
		{"endpoint interfaces in another subnet still serve (private DNS is VPC-wide)", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-priv", "vpc-1", "rtb-priv")
			w.privateEndpoints("vpc-1", "ecr.dkr", "ecr.api", "logs")
			for _, ep := range w.net().VPCEndpoints {
				ep.Subnets = []string{"subnet-other"}
			}
			w.endpoint("vpce-s3", "vpc-1", "s3", false, "", "rtb-priv")
			w.fargate(c, "svc", td, "DISABLED", "subnet-priv")
		}, 0, "", nil},
		{"S3 gateway endpoint policy without the layer bucket", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-app", "vpc-1", "rtb-nat")
			w.natRoute(w.table("rtb-nat"), "nat-1")
			w.endpoint("vpce-s3own", "vpc-1", "s3", false, layersOnlyOwn, "rtb-nat")
			w.fargate(c, "svc", td, "DISABLED", "subnet-app")
		}, 1, Critical, []string{"S3 gateway endpoint vpce-s3own", "does not let s3:GetObject on " + tLayers + "/* through",
			"no grant to it helps", "endpoint=vpce-s3own", "endpointPolicy={", "OwnBuckets", "Add the suggested statement to the policy of S3 gateway endpoint vpce-s3own"}},
		{"S3 gateway endpoint policy conditioned on the signer's account: not confirmed", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-app", "vpc-1", "rtb-nat")
			w.natRoute(w.table("rtb-nat"), "nat-1")
			w.endpoint("vpce-s3acct", "vpc-1", "s3", false, layersByAccount, "rtb-nat")
			w.fargate(c, "svc", td, "DISABLED", "subnet-app")
		}, 1, Medium, []string{"may not let", "aws:PrincipalAccount"}},
		{"S3 gateway endpoint on another route table does not apply", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-app", "vpc-1", "rtb-nat")
			w.natRoute(w.table("rtb-nat"), "nat-1")
			w.subnet("subnet-b", "vpc-1", "rtb-b")
			w.endpoint("vpce-s3own", "vpc-1", "s3", false, layersOnlyOwn, "rtb-b")
			w.fargate(c, "svc", td, "DISABLED", "subnet-app")
		}, 0, "", nil},
		{"ecr.dkr without ecr.api: what the guides disagree on is medium", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-priv", "vpc-1", "rtb-priv")
			w.privateEndpoints("vpc-1", "ecr.dkr", "logs")
			w.endpoint("vpce-s3", "vpc-1", "s3", false, "", "rtb-priv")
			w.fargate(c, "svc", td, "DISABLED", "subnet-priv")
		}, 1, Medium, []string{"com.amazonaws.us-east-1.ecr.api", "the guides disagree"}},
		{"an endpoint without private DNS does not serve the default name", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-priv", "vpc-1", "rtb-priv")
			w.privateEndpoints("vpc-1", "ecr.dkr", "ecr.api")
			w.endpoint("vpce-logs-nodns", "vpc-1", "logs", false, "")
			w.endpoint("vpce-s3", "vpc-1", "s3", false, "", "rtb-priv")
			w.fargate(c, "svc", td, "DISABLED", "subnet-priv")
		}, 1, Critical, []string{"cannot reach com.amazonaws.us-east-1.logs"}},
		{"a public image needs the internet even with every endpoint", func(w *tw) {
			w.td("web", w.role("exec", ecsTrust, true), "FARGATE", ctr("web", "nginx:1.27"))
			c := w.cluster("c")
			w.vpc("vpc-1")
			w.subnet("subnet-priv", "vpc-1", "rtb-priv")
			w.privateEndpoints("vpc-1", "ecr.dkr", "ecr.api", "logs")
			w.fargate(c, "svc", w.reg.TaskDefinitions[0], "DISABLED", "subnet-priv")
		}, 1, Critical, []string{"Docker Hub on the internet", "publicImages=nginx:1.27", "needs the NAT gateway"}},
		{"secrets through their endpoint, parameters without one", func(w *tw) {
			exec := w.role("exec", ecsTrust, true, "s", allowDoc(`["secretsmanager:GetSecretValue","ssm:GetParameters"]`, `"*"`))
			td := w.td("app", exec, "FARGATE", ctr("app", "public.ecr.aws/x/y:1",
				withSecret("A", "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf"), withSecret("B", "/app/b")))
			w.vpc("vpc-1")
			w.subnet("subnet-priv", "vpc-1", "rtb-priv")
			w.privateEndpoints("vpc-1", "secretsmanager")
			w.fargate(w.cluster("c"), "svc", td, "DISABLED", "subnet-priv")
		}, 1, Critical, []string{"com.amazonaws.us-east-1.ssm", "ECR Public on the internet"}},
		{"EC2 launches are not judged: the agent uses the instance's network", func(w *tw) {
			td, c := setup(w)
			w.instance(c, "i-1", "1.90.0")
			w.vpc("vpc-1")
			w.subnet("subnet-iso", "vpc-1", "")
			s := w.service(c, "svc", "EC2", "", td)
			s.Network = &inventory.AwsvpcConfiguration{Subnets: []string{"subnet-iso"}, AssignPublicIP: "DISABLED"}
		}, 0, "", nil},
		{"platform version 1.3.0 is not judged", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-iso", "vpc-1", "")
			w.fargate(c, "svc", td, "DISABLED", "subnet-iso").PlatformVersion = "1.3.0"
		}, 0, "", nil},
		{"a default route to a transit gateway cannot be proved closed", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-a", "vpc-1", "rtb-tgw")
			rt := w.table("rtb-tgw")
			rt.Routes = append(rt.Routes, inventory.Route{DestinationCIDR: "0.0.0.0/0", TransitGatewayID: "tgw-1", State: "active"})
			w.fargate(c, "svc", td, "DISABLED", "subnet-a")
		}, 0, "", nil},
		{"a blackhole NAT route is no route", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-a", "vpc-1", "rtb-a")
			w.table("rtb-a").Routes = append(w.table("rtb-a").Routes, inventory.Route{DestinationCIDR: "0.0.0.0/0", NATGatewayID: "nat-gone", State: "blackhole"})
			w.fargate(c, "svc", td, "DISABLED", "subnet-a")
		}, 1, Critical, []string{"has no default route"}},
		{"the subnet that is closed, beside one that is open", func(w *tw) {
			td, c := setup(w)
			w.vpc("vpc-1")
			w.subnet("subnet-app", "vpc-1", "rtb-nat")
			w.natRoute(w.table("rtb-nat"), "nat-1")
			w.subnet("subnet-iso", "vpc-1", "")
			w.fargate(c, "svc", td, "DISABLED", "subnet-app", "subnet-iso")
		}, 1, Critical, []string{"subnet subnet-iso", "subnets=subnet-iso"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newTW()
			c.setup(w)
			r := w.eval(t)
			f := wantFinding(t, r, "NW001", c.want, c.sev, c.contains...)
			if f != nil {
				if f.Fix.Layer == "" || f.Fix.Target == nil || f.Fix.Target.ID == "" {
					t.Errorf("fix without a target: %+v", f.Fix)
				}
				if len(f.Affected) == 0 {
					t.Error("no launch in Affected")
				}
			}
			// The test worlds do not record existence (RS001): that gap is
			// expected; any other is not.
			for _, g := range r.Coverage.Gaps {
				if !strings.Contains(g, "no scope.resources") {
					t.Errorf("coverage gap: %s", g)
				}
			}
		})
	}
}

// The suggested statement for the layer bucket is proved by the engine:
// with it added to the endpoint's policy, the download is allowed.
func TestNW001FixProved(t *testing.T) {
	w := newTW()
	td := w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("app", ecrImg("app:1")))
	w.vpc("vpc-1")
	w.subnet("subnet-app", "vpc-1", "rtb-nat")
	w.natRoute(w.table("rtb-nat"), "nat-1")
	own := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::config/*"}]}`
	w.endpoint("vpce-s3own", "vpc-1", "s3", false, own, "rtb-nat")
	w.fargate(w.cluster("c"), "svc", td, "DISABLED", "subnet-app")
	r := w.eval(t)
	f := wantFinding(t, r, "NW001", 1, Critical)
	if len(f.Fix.SuggestedPolicy) == 0 || f.Fix.Layer != FixVPCEndpoint || len(f.Fix.Steps) != 0 {
		t.Fatalf("fix %+v", f.Fix)
	}
	var a, b struct {
		Version   string
		Statement []json.RawMessage
	}
	if err := json.Unmarshal([]byte(own), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(f.Fix.SuggestedPolicy, &b); err != nil {
		t.Fatal(err)
	}
	a.Statement = append(a.Statement, b.Statement...)
	merged, _ := json.Marshal(a)
	p, err := policy.Parse("merged", merged)
	if err != nil {
		t.Fatalf("%v: %s", err, merged)
	}
	e := &evaluation{inv: w.inv, now: w.inv.CollectedAt}
	got := policy.EvaluateEndpointPolicy(&policy.NamedPolicy{Name: "merged", Policy: p}, e.layersRequest(w.net().VPCEndpoints[0], tRegion))
	if got.Decision != policy.Allowed {
		t.Errorf("with the suggested statement: %s (%s)", got.Decision, got.Reason)
	}
}

// The network was not collected, was skipped, or in part: never NW001,
// never a silent pass: a coverage gap, and aws:SourceVpce stays unknown.
func TestNetworkNotKnown(t *testing.T) {
	cases := []struct {
		name string
		set  func(w *tw)
		gaps []string
	}{
		{"no network facts", func(w *tw) { w.reg.Network = nil }, []string{"the network path was not collected"}},
		{"skipped", func(w *tw) { w.reg.Network = &inventory.Network{Status: inventory.CollectedSkipped} }, []string{"--no-resolve-resources"}},
		{"subnet not collected", func(w *tw) {
			n := w.net()
			n.Subnets[0].Status, n.Subnets[0].VPCID, n.Subnets[0].OwnerID = inventory.CollectedNone, "", ""
		}, []string{"subnet subnet-iso was not collected"}},
		{"endpoints not collected", func(w *tw) { w.net().VPCs[0].VPCEndpointsStatus = inventory.CollectedNone },
			[]string{"the VPC endpoints of VPC vpc-1 were not collected"}},
		{"route tables not collected", func(w *tw) {
			w.net().VPCs[0].RouteTablesStatus = inventory.CollectedNone
			w.net().RouteTables = nil
		}, []string{"the route tables of VPC vpc-1 were not collected"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newTW()
			td := w.td("app", w.role("exec", ecsTrust, false, "p", strings.Replace(vpceCond, "%s", `"vpce-dkr"`, 1)), "FARGATE", ctr("app", ecrImg("app:1")))
			w.vpc("vpc-1")
			w.subnet("subnet-iso", "vpc-1", "")
			w.fargate(w.cluster("c"), "svc", td, "DISABLED", "subnet-iso")
			c.set(w)
			r := w.eval(t)
			check(t, r, "NW001", 0, "")
			wantFinding(t, r, "ER005", 1, Medium, "aws:sourceVpce")
			gapsContain(t, r, c.gaps...)
			if r.Coverage.Complete {
				t.Error("coverage complete")
			}
		})
	}
}

// aws:SourceVpce and aws:SourceVpc decided both ways: through the endpoint
// known, through NAT or an endpoint without private DNS known absent.
func TestSourceVpceDecided(t *testing.T) {
	both := `["vpce-ecrdkr-vpc-1","vpce-ecrapi-vpc-1"]`
	cases := []struct {
		name    string
		ids     string
		setup   func(w *tw) []string // subnets
		er004   int
		er005   int
		contain []string // of the ER004 or ER005 message
	}{
		{"through the endpoints: allowed", both, func(w *tw) []string {
			w.subnet("subnet-priv", "vpc-1", "rtb-priv")
			w.privateEndpoints("vpc-1", "ecr.dkr", "ecr.api")
			w.endpoint("vpce-s3", "vpc-1", "s3", false, "", "rtb-priv")
			return []string{"subnet-priv"}
		}, 0, 0, nil},
		{"through NAT: known absent, denied", both, func(w *tw) []string {
			w.subnet("subnet-app", "vpc-1", "rtb-nat")
			w.natRoute(w.table("rtb-nat"), "nat-1")
			return []string{"subnet-app"}
		}, 1, 0, []string{"no identity policy of the role allows them", "leaves through NAT gateway nat-1", "carries no aws:SourceVpce or aws:SourceVpc"}},
		{"endpoints without private DNS: through NAT, known absent", both, func(w *tw) []string {
			w.subnet("subnet-app", "vpc-1", "rtb-nat")
			w.natRoute(w.table("rtb-nat"), "nat-1")
			w.endpoint("vpce-ecrdkr-vpc-1", "vpc-1", "ecr.dkr", false, "")
			w.endpoint("vpce-ecrapi-vpc-1", "vpc-1", "ecr.api", false, "")
			return []string{"subnet-app"}
		}, 1, 0, []string{"NAT gateway nat-1"}},
		{"one subnet through the endpoints, one through NAT: the NAT one fails", both, func(w *tw) []string {
			w.vpc("vpc-2")
			w.subnet("subnet-priv", "vpc-1", "rtb-priv")
			w.privateEndpoints("vpc-1", "ecr.dkr", "ecr.api")
			w.endpoint("vpce-s3", "vpc-1", "s3", false, "", "rtb-priv")
			w.subnet("subnet-app", "vpc-2", "rtb-nat")
			w.natRoute(w.table("rtb-nat"), "nat-1")
			return []string{"subnet-priv", "subnet-app"}
		}, 1, 0, []string{"From subnet subnet-app"}},
		{"the condition names ecr.dkr only: which ECR endpoint carries it is not confirmed", `"vpce-ecrdkr-vpc-1"`, func(w *tw) []string {
			w.subnet("subnet-priv", "vpc-1", "rtb-priv")
			w.privateEndpoints("vpc-1", "ecr.dkr", "ecr.api")
			w.endpoint("vpce-s3", "vpc-1", "s3", false, "", "rtb-priv")
			return []string{"subnet-priv"}
		}, 0, 1, []string{"which of ecr.dkr and ecr.api carries ecr:BatchGetImage is not confirmed", "vpce-ecrdkr-vpc-1"}},
		{"aws:SourceVpc decides for both endpoints", "", func(w *tw) []string {
			w.subnet("subnet-priv", "vpc-1", "rtb-priv")
			w.privateEndpoints("vpc-1", "ecr.dkr", "ecr.api")
			w.endpoint("vpce-s3", "vpc-1", "s3", false, "", "rtb-priv")
			return []string{"subnet-priv"}
		}, 0, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newTW()
			doc := strings.Replace(vpceCond, "%s", c.ids, 1)
			if c.ids == "" {
				doc = strings.Replace(strings.Replace(vpceCond, "aws:sourceVpce", "aws:sourceVpc", 1), "%s", `"vpc-1"`, 1)
			}
			td := w.td("app", w.role("exec", ecsTrust, false, "p", doc), "FARGATE", ctr("app", ecrImg("app:1")))
			w.vpc("vpc-1")
			subnets := c.setup(w)
			w.fargate(w.cluster("c"), "svc", td, "DISABLED", subnets...)
			r := w.eval(t)
			wantFinding(t, r, "ER004", c.er004, "", c.contain...)
			if c.er004 == 0 {
				wantFinding(t, r, "ER005", c.er005, Medium, c.contain...)
			} else {
				check(t, r, "ER005", c.er005, "")
			}
			check(t, r, "NW001", 0, "")
		})
	}
}

// ecr:GetAuthorizationToken leaves through Fargate's own interface: even
// when the task's subnet has the endpoint, the keys are absent.
func TestGetAuthorizationTokenNeverThroughTheEndpoint(t *testing.T) {
	w := newTW()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Resource":"*",` +
		`"Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}}]}`
	td := w.td("app", w.role("exec", ecsTrust, false, "p", doc), "FARGATE", ctr("app", ecrImg("app:1")))
	w.vpc("vpc-1")
	w.subnet("subnet-priv", "vpc-1", "rtb-priv")
	w.privateEndpoints("vpc-1", "ecr.dkr", "ecr.api")
	w.endpoint("vpce-s3", "vpc-1", "s3", false, "", "rtb-priv")
	w.fargate(w.cluster("c"), "svc", td, "DISABLED", "subnet-priv")
	r := w.eval(t)
	f := wantFinding(t, r, "ER004", 1, Critical, "ecr:GetAuthorizationToken")
	if len(f.Evidence.Needs) != 1 {
		t.Errorf("needs %+v: only GetAuthorizationToken is denied", f.Evidence.Needs)
	}
	check(t, r, "ER005", 0, "")
}

// An interface endpoint's policy is a layer: a denial there is ER004 with
// the endpoint in the evidence and a fix in its policy, proved.
func TestEndpointPolicyDenial(t *testing.T) {
	secret := "arn:aws:secretsmanager:us-east-1:111122223333:secret:partner-AbCdEf"
	onlyDB := `{"Version":"2012-10-17","Statement":[{"Sid":"OnlyDb","Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:db-*"}]}`
	denyPartner := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},` +
		`{"Sid":"NoPartner","Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:partner-*"}]}`
	cases := []struct {
		name      string
		policy    string
		deny      bool
		suggested bool
	}{
		{"no statement allows the role", onlyDB, false, true},
		{"a statement denies", denyPartner, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newTW()
			exec := w.role("exec", ecsTrust, true, "s", allowDoc(`"secretsmanager:GetSecretValue"`, `"*"`))
			td := w.td("app", exec, "FARGATE", ctr("app", ecrImg("app:1"), withSecret("P", secret)))
			w.vpc("vpc-1")
			w.subnet("subnet-priv", "vpc-1", "rtb-priv")
			w.privateEndpoints("vpc-1", "ecr.dkr", "ecr.api")
			w.endpoint("vpce-sm", "vpc-1", "secretsmanager", true, c.policy)
			w.endpoint("vpce-s3", "vpc-1", "s3", false, "", "rtb-priv")
			w.fargate(w.cluster("c"), "svc", td, "DISABLED", "subnet-priv")
			r := w.eval(t)
			f := wantFinding(t, r, "ER004", 1, Critical, "VPC endpoint vpce-sm (com.amazonaws.us-east-1.secretsmanager)", "endpoint=vpce-sm", "endpointService=com.amazonaws.us-east-1.secretsmanager")
			if f.Evidence.Decision == nil || f.Evidence.Decision.DecidingLayer != policy.LayerVPCEndpoint {
				t.Fatalf("decision %+v", f.Evidence.Decision)
			}
			if f.Fix.Layer != FixVPCEndpoint || f.Fix.Target == nil || f.Fix.Target.Type != TargetVPCEndpoint || f.Fix.Target.ID != "vpce-sm" {
				t.Errorf("fix %+v", f.Fix)
			}
			if c.deny {
				if f.Evidence.Decision.Decision != policy.ExplicitDeny || f.Fix.Target.Statement != "NoPartner" || !strings.Contains(f.Title, "denies") {
					t.Errorf("explicit deny: %+v, title %q", f.Fix, f.Title)
				}
			}
			if c.suggested {
				if len(f.Fix.SuggestedPolicy) == 0 || len(f.Fix.Steps) != 0 || !strings.Contains(string(f.Fix.SuggestedPolicy), exec) {
					t.Errorf("suggested %s, steps %v", f.Fix.SuggestedPolicy, f.Fix.Steps)
				}
			}
			check(t, r, "NW001", 0, "")
		})
	}
}
