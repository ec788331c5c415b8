package findings

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// The network path of a task (docs/facts.md §1.11).
//
// On Fargate from platform version 1.4.0 (Linux), the calls the execution
// role makes — ECR, CloudWatch Logs, Secrets Manager, Systems Manager, S3 —
// leave through the task's own network interface, so the task's subnet
// decides the way: an interface endpoint of the VPC with private DNS (its
// DNS name resolves VPC-wide), an S3 gateway endpoint on the subnet's route
// table for S3, else the route table's default route to a NAT gateway, else
// an internet gateway route for a task with a public IP. A subnet without
// an explicit route table association uses the VPC's main route table.
//
// Where the way is proved, the request context knows it: through endpoint
// E of VPC V, aws:SourceVpce is E and aws:SourceVpc is V, and E's policy is
// one more layer (policy.LayerVPCEndpoint); through NAT or the internet the
// two keys are known to be absent. ecr:GetAuthorizationToken leaves through
// an interface Fargate owns, so on Fargate it never carries them.
//
// Where the way cannot be proved the keys stay unknown, as without network
// facts: on EC2 and External instances (the agent and Docker make these
// calls from the instance, through the instance's network, which is not
// collected; derived from where the agent runs), on Fargate before 1.4.0
// and on Windows (not established here), for a subnet, route table,
// endpoint list or gateway that was not collected, and behind a default
// route to a transit gateway, a peering connection, a private NAT gateway
// or an appliance. A task definition run in several subnets (or by several
// launches) is decided on every path, and the decision must hold on each:
// a denial on one path is a denial (the tasks placed there fail), an
// unconfirmed path makes the decision unconfirmed.
//
// Which ECR endpoint carries ecr:BatchGetImage and GetDownloadUrlForLayer
// is not confirmed (§1.11): both ecr.dkr and ecr.api are tried, and when
// they decide differently the decision is Indeterminate with a
// network-path unknown.
//
// The network was not collected (a snapshot without network facts) or
// skipped (--no-resolve-resources): one coverage gap per account and region
// that has a Fargate launch says so; NW001 is not evaluated and the keys
// stay unknown. A subnet or VPC whose facts were not collected (the calls
// failed, see the collection errors) gets a gap of its own, and its paths
// are unknown.

// netState is the network facts of the inventory and the path a need is
// being decided on.
type netState struct {
	regions map[string]*netRegion // account|region
	// placements of each task definition and override unit, computed once.
	placements map[*tdInfo][]*placement
	// cur is the path decide is evaluating (nil: none known).
	cur *netPath
	// endpoints by ID, for naming an endpoint policy's statements.
	endpoints map[string]*inventory.VPCEndpoint
	gapped    map[string]bool
}

// netRegion indexes one account × region's network facts.
type netRegion struct {
	account, region string
	net             *inventory.Network
	subnets         map[string]*inventory.Subnet
	vpcs            map[string]*inventory.VPC
	tables          map[string][]*inventory.RouteTable // by VPC
	endpoints       map[string][]*inventory.VPCEndpoint
	nats            map[string]*inventory.NATGateway
	igws            map[string][]*inventory.InternetGateway // by attached VPC
}

// placement is where one launch puts a task: one subnet (or, when the
// path cannot be proved, why not).
type placement struct {
	launches []ResourceRef
	labels   []string
	known    bool
	why      string // when not known
	region   string
	subnet   *inventory.Subnet
	vpc      *inventory.VPC
	table    *inventory.RouteTable
	mainRT   bool
	public   string // ENABLED, DISABLED or "" (unknown)
	nr       *netRegion
	// fargate: the launch runs on Fargate (known or not, its
	// ecr:GetAuthorizationToken leaves through Fargate's own interface).
	fargate bool
}

// key identifies placements that share every network fact.
func (p *placement) key() string {
	if !p.known {
		return fmt.Sprintf("unknown|%v", p.fargate)
	}
	return p.subnet.ID + "|" + p.public
}

// routeKind is how a call leaves the subnet.
type routeKind int

const (
	routeUnknown routeKind = iota
	routeEndpoint
	routeInternet
	routeNone
	routeFargateENI // Fargate's own interface (ecr:GetAuthorizationToken)
)

// route is the way of one call from one placement.
type route struct {
	kind routeKind
	ep   *inventory.VPCEndpoint
	// via says it in words: "NAT gateway nat-…", "internet gateway igw-…
	// (the task's public IP)"; why says, for routeNone and routeUnknown,
	// what is missing or not known.
	via, why string
	// noPublicIP: the default route goes to an internet gateway, and the
	// task gets no public IP.
	noPublicIP bool
}

// netPath is one path a need is decided on: a placement and the route of
// the call from it.
type netPath struct {
	p       *placement
	r       route
	service string // the endpoint service name tried (ecr.dkr, logs…)
}

func (e *evaluation) indexNetwork() {
	e.net = &netState{regions: map[string]*netRegion{}, placements: map[*tdInfo][]*placement{},
		endpoints: map[string]*inventory.VPCEndpoint{}, gapped: map[string]bool{}}
	for _, a := range e.inv.Accounts {
		for _, reg := range a.Regions {
			nr := &netRegion{account: a.ID, region: reg.Name, net: reg.Network, subnets: map[string]*inventory.Subnet{},
				vpcs: map[string]*inventory.VPC{}, tables: map[string][]*inventory.RouteTable{}, endpoints: map[string][]*inventory.VPCEndpoint{},
				nats: map[string]*inventory.NATGateway{}, igws: map[string][]*inventory.InternetGateway{}}
			e.net.regions[a.ID+"|"+reg.Name] = nr
			n := reg.Network
			if n == nil {
				continue
			}
			for _, s := range n.Subnets {
				nr.subnets[s.ID] = s
			}
			for _, v := range n.VPCs {
				nr.vpcs[v.ID] = v
			}
			for _, rt := range n.RouteTables {
				nr.tables[rt.VPCID] = append(nr.tables[rt.VPCID], rt)
			}
			for _, ep := range n.VPCEndpoints {
				nr.endpoints[ep.VPCID] = append(nr.endpoints[ep.VPCID], ep)
				e.net.endpoints[ep.ID] = ep
			}
			for _, g := range n.NATGateways {
				nr.nats[g.ID] = g
			}
			for _, g := range n.InternetGateways {
				for _, at := range g.Attachments {
					if st := strings.ToLower(at.State); st == "" || st == "available" || st == "attached" {
						nr.igws[at.VPCID] = append(nr.igws[at.VPCID], g)
					}
				}
			}
		}
	}
	for _, t := range e.roleUsers() {
		e.net.placements[t] = e.placementsOf(t)
	}
}

// launchSource is one launch of a task definition as network.go reads it.
type launchSource struct {
	ref            ResourceRef
	label          string
	host           hosting
	pv, platFamily string
	network        *inventory.AwsvpcConfiguration
}

func (e *evaluation) launchSources(t *tdInfo) []launchSource {
	var out []launchSource
	for _, u := range t.uses {
		n := u.service.Network
		if u.deployID != "" {
			for _, d := range u.service.Deployments {
				if d.ID == u.deployID && d.Network != nil {
					n = d.Network
				}
			}
		}
		out = append(out, launchSource{ref: ResourceRef{Type: ResourceService, ARN: u.service.ARN, Name: u.service.Name},
			label: "service " + u.service.Name, host: u.host, pv: u.pv, platFamily: u.service.PlatformFamily, network: n})
	}
	for _, l := range t.launches {
		out = append(out, launchSource{ref: l.ref, label: launchLabel(l), host: l.host, pv: l.pv, platFamily: l.platformFamily, network: l.network})
	}
	return out
}

// placementsOf lists where the task definition's launches put tasks,
// merged by subnet and public IP.
func (e *evaluation) placementsOf(t *tdInfo) []*placement {
	nr := e.net.regions[t.account.ID+"|"+t.region]
	var out []*placement
	byKey := map[string]*placement{}
	put := func(p *placement, src launchSource) {
		if q := byKey[p.key()]; q != nil {
			p = q
		} else {
			byKey[p.key()] = p
			out = append(out, p)
		}
		if !slices.Contains(p.launches, src.ref) {
			p.launches = append(p.launches, src.ref)
			p.labels = append(p.labels, src.label)
		}
	}
	unknown := func(src launchSource, fargate bool, why string) {
		put(&placement{why: why, region: t.region, fargate: fargate}, src)
	}
	for _, src := range e.launchSources(t) {
		if src.host.EC2 || src.host.External {
			unknown(src, false, "on EC2 and External instances the agent makes these calls from the instance, through the instance's network, which is not collected")
		}
		if !src.host.Fargate {
			continue
		}
		win := t.windows() || strings.HasPrefix(strings.ToUpper(src.platFamily), "WINDOWS")
		pv := fargatePlatformVersion(src.pv, win)
		if c, ok := compareVersions(pv, "1.4.0"); win || !ok || c < 0 {
			unknown(src, true, "which interface Fargate platform version "+pv+" ("+osName(win)+") sends these calls through is not established here")
			continue
		}
		switch {
		case nr == nil || nr.net == nil:
			e.netGap(t.account.ID, t.region, "", "the network path was not collected (the snapshot has no network facts)")
			unknown(src, true, "the network path was not collected")
			continue
		case nr.net.Status == inventory.CollectedSkipped:
			e.netGap(t.account.ID, t.region, "", "the network path was not checked (--no-resolve-resources)")
			unknown(src, true, "the network path was not checked (--no-resolve-resources)")
			continue
		case src.network == nil || len(src.network.Subnets) == 0:
			e.netGap(t.account.ID, t.region, src.ref.ARN, src.label+" runs on Fargate, but its network configuration was not recorded")
			unknown(src, true, "the launch's network configuration was not recorded")
			continue
		}
		for _, id := range src.network.Subnets {
			p := &placement{region: t.region, nr: nr, public: strings.ToUpper(src.network.AssignPublicIP), fargate: true}
			s := nr.subnets[id]
			switch {
			case s == nil || s.Status == inventory.CollectedNone:
				e.netGap(t.account.ID, t.region, id, "subnet "+id+" was not collected, so the network path of the tasks in it is not known")
				p.why = "subnet " + id + " was not collected"
				unknown(src, true, p.why)
				continue
			case s.Status == inventory.SubnetNotFound:
				// The subnet does not exist (or is not visible): no task
				// is placed there, so there is no path to check.
				p.why = "subnet " + id + " was not found"
				unknown(src, true, p.why)
				continue
			}
			v := nr.vpcs[s.VPCID]
			if v == nil {
				p.why = "VPC " + s.VPCID + " of subnet " + id + " was not collected"
				unknown(src, true, p.why)
				continue
			}
			p.known, p.subnet, p.vpc = true, s, v
			if v.RouteTablesStatus == inventory.CollectedComplete {
				p.table, p.mainRT = routeTableOf(nr.tables[v.ID], id)
			}
			if miss := vpcMissing(v); miss != "" {
				e.netGap(t.account.ID, t.region, v.ID, "the "+miss+" of VPC "+v.ID+" were not collected, so the network path of the tasks in its subnets may be unknown")
			}
			put(p, src)
		}
	}
	return out
}

// vpcMissing names the kinds of a VPC's network facts that were not
// collected ("" when all were).
func vpcMissing(v *inventory.VPC) string {
	var out []string
	for _, k := range []struct{ status, noun string }{
		{v.RouteTablesStatus, "route tables"}, {v.VPCEndpointsStatus, "VPC endpoints"},
		{v.NATGatewaysStatus, "NAT gateways"}, {v.InternetGatewaysStatus, "internet gateways"},
	} {
		if k.status != inventory.CollectedComplete {
			out = append(out, k.noun)
		}
	}
	return listAnd(out)
}

// routeTableOf is the subnet's route table: its explicit association, else
// the VPC's main table.
func routeTableOf(tables []*inventory.RouteTable, subnet string) (*inventory.RouteTable, bool) {
	for _, rt := range tables {
		if slices.Contains(rt.Subnets, subnet) {
			return rt, false
		}
	}
	for _, rt := range tables {
		if rt.Main {
			return rt, true
		}
	}
	return nil, false
}

// netGap records a coverage gap once per subject.
func (e *evaluation) netGap(account, region, subject, text string) {
	k := account + "|" + region + "|" + subject + "|" + text
	if e.net.gapped[k] {
		return
	}
	e.net.gapped[k] = true
	e.gaps = append(e.gaps, fmt.Sprintf("%s: %s; NW001 was not evaluated there, and aws:SourceVpc and aws:SourceVpce stay unknown", where(account, region), text))
}

// endpointService is the full service name of an endpoint:
// com.amazonaws.<region>.<short>.
func endpointService(region, short string) string {
	return "com.amazonaws." + region + "." + short
}

// usable: an endpoint in a state that serves requests.
func usable(ep *inventory.VPCEndpoint) bool {
	st := strings.ToLower(ep.State)
	return st == "" || st == "available"
}

// route is the way a call to service (an endpoint service's short name:
// ecr.dkr, logs, s3…) in region takes from the placement.
func (p *placement) route(service, region string) route {
	if !p.known {
		return route{kind: routeUnknown, why: p.why}
	}
	if region == p.region {
		if p.vpc.VPCEndpointsStatus != inventory.CollectedComplete {
			return route{kind: routeUnknown, why: "the VPC endpoints of " + p.vpc.ID + " were not collected"}
		}
		name := endpointService(region, service)
		eps := slices.Clone(p.nr.endpoints[p.vpc.ID])
		slices.SortFunc(eps, func(a, b *inventory.VPCEndpoint) int { return strings.Compare(a.ID, b.ID) })
		if service == "s3" {
			if p.table == nil {
				return route{kind: routeUnknown, why: "the route tables of " + p.vpc.ID + " were not collected"}
			}
			for _, ep := range eps {
				if strings.EqualFold(ep.Type, "Gateway") && strings.EqualFold(ep.ServiceName, name) && usable(ep) &&
					(slices.Contains(ep.RouteTables, p.table.ID) || routesTo(p.table, ep.ID)) {
					return route{kind: routeEndpoint, ep: ep, via: "S3 gateway endpoint " + ep.ID + " on route table " + p.table.ID}
				}
			}
		}
		for _, ep := range eps {
			if strings.EqualFold(ep.Type, "Interface") && strings.EqualFold(ep.ServiceName, name) && ep.PrivateDNSEnabled && usable(ep) {
				return route{kind: routeEndpoint, ep: ep, via: "interface endpoint " + ep.ID + " (" + ep.ServiceName + ", private DNS) of " + p.vpc.ID}
			}
		}
	}
	return p.internet()
}

// routesTo says whether a route of the table targets the gateway.
func routesTo(rt *inventory.RouteTable, target string) bool {
	for _, r := range rt.Routes {
		if r.GatewayID == target && !strings.EqualFold(r.State, "blackhole") {
			return true
		}
	}
	return false
}

// internet is the way to a service's public endpoint: the default route.
func (p *placement) internet() route {
	rt := p.table
	if rt == nil {
		return route{kind: routeUnknown, why: "the route tables of " + p.vpc.ID + " were not collected"}
	}
	var def *inventory.Route
	other := ""
	for i := range rt.Routes {
		r := &rt.Routes[i]
		switch {
		case strings.EqualFold(r.State, "blackhole"), r.GatewayID == "local", r.DestinationIPv6CIDR != "" && r.DestinationCIDR == "":
		case r.DestinationPrefixListID != "" && strings.HasPrefix(r.GatewayID, "vpce-"):
		case r.DestinationCIDR == "0.0.0.0/0":
			def = r
		default:
			other = routeTarget(r)
		}
	}
	if def == nil {
		if other != "" {
			return route{kind: routeUnknown, why: "route table " + rt.ID + " has no default route, and whether its route to " + other + " leads to the service is not known"}
		}
		return route{kind: routeNone, why: "route table " + rt.ID + " has no default route (neither to a NAT gateway nor to an internet gateway)"}
	}
	switch {
	case def.NATGatewayID != "":
		if p.vpc.NATGatewaysStatus != inventory.CollectedComplete {
			return route{kind: routeUnknown, why: "the NAT gateways of " + p.vpc.ID + " were not collected"}
		}
		nat := p.nr.nats[def.NATGatewayID]
		if nat == nil {
			return route{kind: routeNone, why: "the default route of route table " + rt.ID + " points to NAT gateway " + def.NATGatewayID + ", which does not exist"}
		}
		switch strings.ToLower(nat.State) {
		case "", "available":
		case "pending":
			return route{kind: routeUnknown, why: "NAT gateway " + nat.ID + " is still pending"}
		default:
			return route{kind: routeNone, why: "the default route of route table " + rt.ID + " points to NAT gateway " + nat.ID + ", which is " + strings.ToLower(nat.State)}
		}
		if strings.EqualFold(nat.ConnectivityType, "private") {
			return route{kind: routeUnknown, why: "the default route of route table " + rt.ID + " points to private NAT gateway " + nat.ID + ", and what lies beyond it is not collected"}
		}
		return route{kind: routeInternet, via: "NAT gateway " + nat.ID + " (the default route of route table " + rt.ID + ")"}
	case strings.HasPrefix(def.GatewayID, "igw-"):
		if p.vpc.InternetGatewaysStatus != inventory.CollectedComplete {
			return route{kind: routeUnknown, why: "the internet gateways of " + p.vpc.ID + " were not collected"}
		}
		if !slices.ContainsFunc(p.nr.igws[p.vpc.ID], func(g *inventory.InternetGateway) bool { return g.ID == def.GatewayID }) {
			return route{kind: routeNone, why: "the default route of route table " + rt.ID + " points to internet gateway " + def.GatewayID + ", which is not attached to " + p.vpc.ID}
		}
		switch p.public {
		case "ENABLED":
			return route{kind: routeInternet, via: "internet gateway " + def.GatewayID + " with the task's public IP (the default route of route table " + rt.ID + ")"}
		case "DISABLED":
			return route{kind: routeNone, noPublicIP: true, why: "the default route of route table " + rt.ID + " goes to internet gateway " + def.GatewayID + ", but the task gets no public IP (assignPublicIp DISABLED)"}
		}
		return route{kind: routeUnknown, why: "whether the task gets a public IP is not known"}
	}
	return route{kind: routeUnknown, why: "the default route of route table " + rt.ID + " goes to " + routeTarget(def) + ", and what lies beyond it is not collected"}
}

// routeTarget names a route's target.
func routeTarget(r *inventory.Route) string {
	for _, t := range []struct{ noun, id string }{
		{"transit gateway", r.TransitGatewayID}, {"peering connection", r.VPCPeeringConnectionID}, {"NAT gateway", r.NATGatewayID},
		{"network interface", r.NetworkInterfaceID}, {"instance", r.InstanceID}, {"egress-only internet gateway", r.EgressOnlyInternetGatewayID},
		{"gateway", r.GatewayID},
	} {
		if t.id != "" {
			return t.noun + " " + t.id
		}
	}
	return "an unnamed target"
}

// needEndpoints is what a need's call goes to: the endpoint services it
// may take (alternatives: ecr.dkr or ecr.api, not confirmed which), or
// fargateENI for ecr:GetAuthorizationToken, or nothing for a call that does
// not leave through the task (kms:Decrypt, which Secrets Manager or SSM
// make on the role's behalf).
func needEndpoints(action string) (services []string, fargateENI bool) {
	svc, name, _ := strings.Cut(action, ":")
	if strings.EqualFold(svc, "ecr") {
		if strings.EqualFold(name, "getauthorizationtoken") {
			return nil, true
		}
		return ecrEndpoints, false
	}
	for _, s := range singleEndpoints {
		if strings.EqualFold(svc, s[0]) {
			return s, false
		}
	}
	return nil, false
}

// The endpoints of needEndpoints, shared (callers do not change them).
var (
	ecrEndpoints    = []string{"ecr.dkr", "ecr.api"}
	singleEndpoints = [][]string{{"logs"}, {"secretsmanager"}, {"ssm"}, {"s3"}}
)

// needRegion is the region the need's call goes to.
func needRegion(t *tdInfo, n *derivedNeed) string {
	if n.resourceRegion != "" {
		return n.resourceRegion
	}
	return t.region
}

// pathsOf lists, for a need, the paths to decide it on: one group per
// placement, each with the routes the call may take from there (several
// when which endpoint carries it is not confirmed). A route that leads
// nowhere is left out (NW001 reports it); nil when no path is known.
func (e *evaluation) pathsOf(t *tdInfo, n *derivedNeed) [][]netPath {
	services, fargateENI := needEndpoints(n.Action)
	var out [][]netPath
	seen := map[string]bool{}
	for _, p := range e.net.placements[t] {
		var group []netPath
		switch {
		case fargateENI && p.fargate:
			group = []netPath{{p: p, r: route{kind: routeFargateENI, via: "Fargate's own network interface"}}}
		case !p.known || len(services) == 0:
			group = []netPath{{p: p, r: route{kind: routeUnknown, why: p.why}}}
		default:
			for _, s := range services {
				r := p.route(s, needRegion(t, n))
				if r.kind != routeNone {
					group = append(group, netPath{p: p, r: r, service: s})
				}
			}
		}
		if len(group) == 0 {
			continue
		}
		var sig []string
		for _, np := range group {
			id := ""
			if np.r.ep != nil {
				id = np.r.ep.ID
			}
			vpc := ""
			if np.p.vpc != nil {
				vpc = np.p.vpc.ID
			}
			sig = append(sig, fmt.Sprintf("%d|%s|%s", np.r.kind, id, vpc))
		}
		k := strings.Join(sig, ",")
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, group)
	}
	return out
}

// decideOnPaths decides a need on every path its call may take, and
// combines: a denial on any placement denies (the tasks placed there
// fail), else an unconfirmed one makes it unconfirmed; the routes of one
// placement that are not confirmed (ecr.dkr or ecr.api) must agree.
func (e *evaluation) decideOnPaths(t *tdInfo, n *derivedNeed) verdict {
	groups := e.pathsOf(t, n)
	if len(groups) == 0 {
		return e.decide(t, n)
	}
	var per []verdict
	for _, g := range groups {
		var alts []verdict
		for i := range g {
			e.net.cur = &g[i]
			alts = append(alts, e.decide(t, n))
			e.net.cur = nil
		}
		per = append(per, combineAlternatives(n, g, alts))
	}
	return combinePlacements(per)
}

// rank orders decisions from the task's point of view.
func decisionRank(d policy.Decision) int {
	switch d {
	case policy.Allowed:
		return 2
	case policy.Indeterminate:
		return 1
	}
	return 0
}

// combinePlacements keeps the worst decision, the first of its rank; the
// unknowns of every unconfirmed placement are listed.
func combinePlacements(per []verdict) verdict {
	best := 0
	for i := range per {
		if decisionRank(per[i].Decision) < decisionRank(per[best].Decision) {
			best = i
		}
	}
	v := per[best]
	if v.Decision == policy.Indeterminate {
		for i := range per {
			if i != best && per[i].Decision == policy.Indeterminate {
				v.unknowns = mergeUnknowns(v.unknowns, per[i].unknowns)
			}
		}
	}
	return v
}

// combineAlternatives combines the decisions on the routes one call may
// take from one placement: when they agree, the first; otherwise the
// decision is not confirmed, and what it hangs on is which endpoint
// carries the call.
func combineAlternatives(n *derivedNeed, g []netPath, alts []verdict) verdict {
	same := true
	for i := range alts {
		if alts[i].Decision != alts[0].Decision {
			same = false
		}
	}
	if same {
		if alts[0].Decision == policy.Indeterminate {
			v := alts[0]
			for i := 1; i < len(alts); i++ {
				v.unknowns = mergeUnknowns(v.unknowns, alts[i].unknowns)
			}
			return v
		}
		return alts[0]
	}
	worst, best := 0, 0
	for i := range alts {
		if decisionRank(alts[i].Decision) < decisionRank(alts[worst].Decision) {
			worst = i
		}
		if decisionRank(alts[i].Decision) > decisionRank(alts[best].Decision) {
			best = i
		}
	}
	var ways, subjects []string
	for i, np := range g {
		ways = append(ways, "through "+np.describe()+" it is "+string(alts[i].Decision))
		subjects = append(subjects, np.service)
	}
	v := alts[worst]
	u := Unknown{Kind: UnknownNetworkPath, Subject: strings.Join(subjects, " or "),
		Description: "which of " + listAnd(subjects) + " carries " + n.Action + " is not confirmed (docs/facts.md §1.11), and the decision differs: " + strings.Join(ways, "; "),
		Settle:      "Let the call through on every one of them: allow it in each endpoint's policy, and where a policy conditions it on aws:SourceVpce, list every one of these endpoints (or use aws:SourceVpc)."}
	v.Result = policy.Result{Decision: policy.Indeterminate, DecidingLayer: alts[worst].DecidingLayer, Level: alts[worst].Level,
		Reason:     "the decision depends on the network path: " + strings.Join(ways, "; "),
		Statements: alts[worst].Statements,
		Outcomes:   &policy.Outcomes{BestCase: alts[best].Decision, WorstCase: alts[worst].Decision}}
	if alts[best].Decision == policy.Indeterminate && alts[best].Outcomes != nil {
		v.Outcomes.BestCase = alts[best].Outcomes.BestCase
	}
	var us []Unknown
	for i := range alts {
		if alts[i].Decision == policy.Indeterminate {
			us = mergeUnknowns(us, alts[i].unknowns)
		}
	}
	v.unknowns = mergeUnknowns(us, []Unknown{u})
	v.path = nil // no one path decided
	return v
}

// describe says the path in words: "interface endpoint vpce-… (…) of
// vpc-…", "NAT gateway nat-… (…)".
func (np *netPath) describe() string {
	switch np.r.kind {
	case routeEndpoint, routeInternet, routeFargateENI:
		return np.r.via
	}
	return "an unknown path (" + np.r.why + ")"
}

// pathKeys is what the path tells of the request: through an endpoint
// aws:SourceVpce and aws:SourceVpc, through NAT, the internet or Fargate's
// own interface their absence. Without a known path, only Fargate's
// ecr:GetAuthorizationToken is known (absent). It is comparable:
// requestContext caches contexts on it.
type pathKeys struct {
	state     uint8 // pathKeysUnknown, pathKeysEndpoint, pathKeysAbsent
	vpce, vpc string
}

const (
	pathKeysUnknown = iota
	pathKeysEndpoint
	pathKeysAbsent
)

func (e *evaluation) pathKeysOf(t *tdInfo, n *derivedNeed) pathKeys {
	np := e.net.cur
	if np == nil {
		// On Fargate GetAuthorizationToken leaves through an ENI Fargate
		// owns, not the task's, so it never arrives through the task's VPC
		// endpoint (ecs-facts §1.3). For every other call the route is not
		// known.
		if n.Action == "ecr:GetAuthorizationToken" && t.host.Fargate && !t.host.EC2 && !t.host.External {
			return pathKeys{state: pathKeysAbsent}
		}
		return pathKeys{state: pathKeysUnknown}
	}
	switch np.r.kind {
	case routeEndpoint:
		return pathKeys{state: pathKeysEndpoint, vpce: np.r.ep.ID, vpc: np.r.ep.VPCID}
	case routeInternet, routeFargateENI:
		return pathKeys{state: pathKeysAbsent}
	}
	return pathKeys{state: pathKeysUnknown}
}

func (p pathKeys) apply(c *policy.Context) {
	switch p.state {
	case pathKeysEndpoint:
		c.Set("aws:SourceVpce", p.vpce)
		c.Set("aws:SourceVpc", p.vpc)
	case pathKeysAbsent:
		c.SetAbsent("aws:SourceVpce")
		c.SetAbsent("aws:SourceVpc")
	}
}

// endpointPolicyName is the name an endpoint's policy is evaluated under.
func endpointPolicyName(id string) string { return "vpc-endpoint-policy:" + id }

// pathEndpoint gives the engine the policy of the endpoint the call goes
// through; a policy that does not parse is not collected (a gap), which
// pathEndpointUnknown reports.
func (e *evaluation) pathEndpoint(in *policy.Input) {
	np := e.net.cur
	if np == nil || np.r.kind != routeEndpoint || np.r.ep.PolicyStatus != inventory.PolicyCollected {
		return
	}
	in.VPCEndpointPolicy = e.resourcePolicy(endpointPolicyName(np.r.ep.ID), np.r.ep.Policy, "the policy of VPC endpoint "+np.r.ep.ID)
}

// pathEndpointUnknown: the call goes through an endpoint whose policy could
// not be read, so an allow is not confirmed.
func (e *evaluation) pathEndpointUnknown(v *verdict) {
	np := e.net.cur
	if np == nil || np.r.kind != routeEndpoint || np.r.ep.PolicyStatus != inventory.PolicyCollected || v.in.VPCEndpointPolicy != nil {
		return
	}
	if v.Decision != policy.Allowed && v.Decision != policy.Indeterminate {
		return
	}
	u := Unknown{Kind: UnknownResourcePolicy, Subject: np.r.ep.ID,
		Description: "the call goes through VPC endpoint " + np.r.ep.ID + ", whose policy could not be parsed and may not let it through",
		Settle:      "Correct the policy of VPC endpoint " + np.r.ep.ID + " so that it parses (the coverage gaps say what is wrong), and run the audit again."}
	if v.Decision == policy.Allowed {
		v.Result = policy.Result{Decision: policy.Indeterminate, DecidingLayer: policy.LayerVPCEndpoint,
			Reason:     "the other policies allow it (" + v.Reason + "), but " + u.Description,
			Statements: v.Statements, Outcomes: &policy.Outcomes{BestCase: policy.Allowed, WorstCase: policy.ImplicitDeny}}
	}
	v.unknowns = mergeUnknowns(v.unknowns, []Unknown{u})
}

// endpointSource names an endpoint policy's statements.
func (e *evaluation) endpointSource(name string) policySource {
	id := strings.TrimPrefix(name, "vpc-endpoint-policy:")
	return policySource{kind: sourceEndpoint, phrase: "the policy of " + endpointPhrase(e.net.endpoints[id], id), arn: id}
}

// sourceEndpoint is the kind of an endpoint policy's policySource (beyond
// the kinds of roles.go).
const sourceEndpoint sourceKind = 100

// endpointPhrase names an endpoint: "VPC endpoint vpce-… (com.amazonaws.…)".
func endpointPhrase(ep *inventory.VPCEndpoint, id string) string {
	if ep == nil {
		return "VPC endpoint " + id
	}
	return "VPC endpoint " + ep.ID + " (" + ep.ServiceName + ")"
}

// pathSentence says what the path of a decided call was, when it was
// proved: "The call goes through VPC endpoint … of subnet …, so …".
func pathSentence(np *netPath) string {
	if np == nil || np.p == nil || !np.p.known {
		return ""
	}
	where := "subnet " + np.p.subnet.ID
	switch np.r.kind {
	case routeEndpoint:
		return fmt.Sprintf(" From %s the call goes through %s, so aws:SourceVpce is %s and aws:SourceVpc is %s, and the endpoint's policy applies too.",
			where, endpointPhrase(np.r.ep, np.r.ep.ID), np.r.ep.ID, np.r.ep.VPCID)
	case routeInternet:
		return fmt.Sprintf(" From %s the call leaves through %s, so it carries no aws:SourceVpce or aws:SourceVpc.", where, np.r.via)
	}
	return ""
}

// UnknownNetworkPath: which way a call takes is not confirmed, and the
// policies decide differently on each (Subject: the endpoint services, as
// "ecr.dkr or ecr.api").
const UnknownNetworkPath UnknownKind = "network-path"

// Where network fixes are made (FixLayer) and what they change
// (FixTarget.Type), beyond those of result.go.
const (
	FixVPCEndpoint    FixLayer = "vpc-endpoint" // a VPC endpoint's policy
	FixNetwork        FixLayer = "network"      // a route table, endpoints of the VPC, or the launch's subnets
	TargetVPCEndpoint          = "vpc-endpoint" // by ID
	TargetRouteTable           = "route-table"  // by ID
)

// pathSentences says the proved paths of the needs a finding lists, each
// once, where the path could change the decision (pathMatters).
func pathSentences(items []needItem) string {
	var out []string
	for _, it := range items {
		if it.v == nil || it.v.in == nil || !pathMatters(it.v.in) {
			continue
		}
		if s := pathSentence(it.v.path); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, "")
}

// endpointDenialClause says why a need is denied by an endpoint policy
// that does not allow it.
func endpointDenialClause(d denial, it string) string {
	if d.ep == nil {
		return "the VPC endpoint policy the call goes through does not allow " + it
	}
	return "the call goes through " + endpointPhrase(d.ep, d.ep.ID) + " of " + d.ep.VPCID + ", whose policy does not allow " + it +
		"; a request through an endpoint must be allowed by its policy as well as by the role's"
}

// endpointDenialFix: add to the endpoint's policy a statement that allows
// the role exactly the needs, proved by the engine.
func (e *evaluation) endpointDenialFix(t *tdInfo, d denial, items []needItem) Fix {
	ri := t.exec
	needs := needsOf(items)
	id := ""
	if d.ep != nil {
		id = d.ep.ID
	}
	phrase := "the policy of " + endpointPhrase(d.ep, id)
	doc := resourcePolicyStatement(ri.arn(), needs, styleResources)
	fix := Fix{Layer: FixVPCEndpoint, Target: &FixTarget{Type: TargetVPCEndpoint, ID: id},
		Summary:         "Add the suggested statement to " + phrase + ": it lets role " + ri.arn() + " through the endpoint for exactly " + actionsOn(needs) + ".",
		SuggestedPolicy: doc, SuggestedPolicyLayer: FixVPCEndpoint, SuggestedPolicyTarget: phrase + " (add this statement)"}
	fix.Steps = e.reevaluate(t, items, addEndpointStatements(doc))
	return fix
}

// addEndpointStatements adds suggested statements to the endpoint policy.
func addEndpointStatements(doc []byte) func(in *policy.Input) {
	p := parseSuggested("suggested-endpoint-policy", doc)
	return func(in *policy.Input) {
		merged := &policy.Policy{Name: p.Name, Version: p.Version, Statements: p.Statements}
		if old := in.VPCEndpointPolicy; old != nil && old.Policy != nil {
			merged = &policy.Policy{Name: old.Policy.Name, Version: old.Policy.Version,
				Statements: append(slices.Clone(old.Policy.Statements), p.Statements...)}
		}
		in.VPCEndpointPolicy = &policy.NamedPolicy{Name: merged.Name, Policy: merged}
	}
}

// endpointFacts adds the endpoint that decided to a finding's facts.
func endpointFacts(facts map[string]string, ep *inventory.VPCEndpoint) {
	if ep == nil {
		return
	}
	facts["endpoint"] = ep.ID
	facts["endpointService"] = ep.ServiceName
	facts["vpc"] = ep.VPCID
	if ep.PolicyStatus == inventory.PolicyCollected {
		facts["endpointPolicy"] = compactJSON(ep.Policy)
	}
}

// pathMatters says whether the path could change a decision on in: an
// endpoint policy applied, or a policy conditions on aws:SourceVpc or
// aws:SourceVpce.
func pathMatters(in *policy.Input) bool {
	if in.VPCEndpointPolicy != nil {
		return true
	}
	pols := slices.Concat(in.Identity, in.Boundary)
	for _, l := range in.SCPLevels {
		pols = append(pols, l...)
	}
	for _, l := range in.RCPLevels {
		pols = append(pols, l...)
	}
	if in.ResourcePolicy != nil {
		pols = append(pols, *in.ResourcePolicy)
	}
	for _, np := range pols {
		if np.Policy == nil {
			continue
		}
		for _, s := range np.Policy.Statements {
			for _, k := range s.ConditionKeys() {
				if strings.EqualFold(k, "aws:SourceVpc") || strings.EqualFold(k, "aws:SourceVpce") {
					return true
				}
			}
		}
	}
	return false
}
