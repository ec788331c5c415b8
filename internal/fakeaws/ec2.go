package fakeaws

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// EC2 (the ec2Query protocol: form requests, XML answers without a Result
// element): the Describe calls of the network path, filtered, paged, over
// the world's network (inventory.Network) and the ENIs of its running
// tasks.

func ec2Ops() map[string]opFunc {
	return map[string]opFunc{
		"DescribeSubnets":           (*Server).ec2DescribeSubnets,
		"DescribeRouteTables":       (*Server).ec2DescribeRouteTables,
		"DescribeVpcEndpoints":      (*Server).ec2DescribeVpcEndpoints,
		"DescribeNatGateways":       (*Server).ec2DescribeNatGateways,
		"DescribeInternetGateways":  (*Server).ec2DescribeInternetGateways,
		"DescribeNetworkInterfaces": (*Server).ec2DescribeNetworkInterfaces,
	}
}

// encodeEC2Members writes the XML members of out without an enclosing
// element.
func encodeEC2Members(buf *bytes.Buffer, out any) error {
	var b bytes.Buffer
	if err := xml.NewEncoder(&b).EncodeElement(out, xml.StartElement{Name: xml.Name{Local: "r"}}); err != nil {
		return err
	}
	s := strings.TrimSuffix(strings.TrimPrefix(b.String(), "<r>"), "</r>")
	buf.WriteString(s)
	return nil
}

// ec2MaxFilterValues is the documented limit of values in one filter.
const ec2MaxFilterValues = 200

// ec2Filters reads Filter.N.Name / Filter.N.Value.M; allowed lists the
// filter names the operation accepts.
func (c *call) ec2Filters(allowed ...string) (map[string][]string, error) {
	out := map[string][]string{}
	for i := 1; ; i++ {
		name := c.form.Get("Filter." + strconv.Itoa(i) + ".Name")
		if name == "" {
			break
		}
		if !slices.Contains(allowed, name) {
			return nil, clientErr("InvalidParameterValue", "The filter '%s' is invalid", name)
		}
		var vals []string
		for j := 1; ; j++ {
			v, ok := c.form["Filter."+strconv.Itoa(i)+".Value."+strconv.Itoa(j)]
			if !ok {
				break
			}
			vals = append(vals, v...)
		}
		if len(vals) > ec2MaxFilterValues {
			return nil, clientErr("FilterLimitExceeded", "The maximum number of filter values specified on a single call is %d", ec2MaxFilterValues)
		}
		out[name] = append(out[name], vals...)
	}
	return out, nil
}

// match says whether an item passes every filter (values of one filter
// are alternatives).
func match(f map[string][]string, attrs map[string][]string) bool {
	for name, vals := range f {
		if !slices.ContainsFunc(attrs[name], func(v string) bool { return slices.Contains(vals, v) }) {
			return false
		}
	}
	return true
}

// ec2Page pages n items; EC2's MaxResults is 5 to top.
func (s *Server) ec2Page(c *call, top, n int) (int, int, string, error) {
	mr, has, err := c.formInt("MaxResults")
	if err != nil {
		return 0, 0, "", err
	}
	if has && (mr < 5 || mr > top) {
		return 0, 0, "", clientErr("InvalidParameterValue", "Value ( %d ) for parameter maxResults is invalid. Expecting a value between 5 and %d.", mr, top)
	}
	// The token is bound to the request's other parameters.
	var keys []string
	for k := range c.form {
		if k != "NextToken" && k != "MaxResults" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	scope := c.op + "|" + c.caller.account + "|" + c.region
	for _, k := range keys {
		scope += "|" + k + "=" + strings.Join(c.form[k], ",")
	}
	return s.paginate(c, pageSpec{scope: scope, token: c.form.Get("NextToken"), max: mr, hasMax: has, def: top, top: top, maxName: "maxResults"}, n)
}

func network(c *call) *inventory.Network {
	if n := launchOf(c).network; n != nil {
		return n
	}
	return &inventory.Network{}
}

type ec2Subnet struct {
	SubnetID            string `xml:"subnetId"`
	SubnetArn           string `xml:"subnetArn"`
	State               string `xml:"state"`
	VpcID               string `xml:"vpcId"`
	OwnerID             string `xml:"ownerId"`
	CidrBlock           string `xml:"cidrBlock"`
	AvailabilityZone    string `xml:"availabilityZone,omitempty"`
	MapPublicIPOnLaunch bool   `xml:"mapPublicIpOnLaunch"`
	DefaultForAz        bool   `xml:"defaultForAz"`
}

func (s *Server) ec2DescribeSubnets(c *call) (any, error) {
	f, err := c.ec2Filters("subnet-id", "vpc-id")
	if err != nil {
		return nil, err
	}
	var items []ec2Subnet
	for i, sn := range network(c).Subnets {
		if sn.Status != inventory.CollectedComplete || !match(f, map[string][]string{"subnet-id": {sn.ID}, "vpc-id": {sn.VPCID}}) {
			continue
		}
		owner := sn.OwnerID
		if owner == "" {
			owner = c.caller.account
		}
		items = append(items, ec2Subnet{SubnetID: sn.ID, State: "available", VpcID: sn.VPCID, OwnerID: owner,
			SubnetArn:        "arn:" + s.w.partition + ":ec2:" + c.region + ":" + owner + ":subnet/" + sn.ID,
			CidrBlock:        fmt.Sprintf("10.0.%d.0/24", i%256),
			AvailabilityZone: sn.AvailabilityZone, MapPublicIPOnLaunch: sn.MapPublicIPOnLaunch})
	}
	lo, hi, next, err := s.ec2Page(c, 1000, len(items))
	if err != nil {
		return nil, err
	}
	return struct {
		Items []ec2Subnet `xml:"subnetSet>item"`
		Next  string      `xml:"nextToken,omitempty"`
	}{items[lo:hi], next}, nil
}

type ec2Assoc struct {
	ID     string `xml:"routeTableAssociationId"`
	Table  string `xml:"routeTableId"`
	Main   bool   `xml:"main"`
	Subnet string `xml:"subnetId,omitempty"`
	State  string `xml:"associationState>state"`
}

type ec2Route struct {
	DestinationCidrBlock        string `xml:"destinationCidrBlock,omitempty"`
	DestinationIpv6CidrBlock    string `xml:"destinationIpv6CidrBlock,omitempty"`
	DestinationPrefixListID     string `xml:"destinationPrefixListId,omitempty"`
	GatewayID                   string `xml:"gatewayId,omitempty"`
	NatGatewayID                string `xml:"natGatewayId,omitempty"`
	TransitGatewayID            string `xml:"transitGatewayId,omitempty"`
	VpcPeeringConnectionID      string `xml:"vpcPeeringConnectionId,omitempty"`
	NetworkInterfaceID          string `xml:"networkInterfaceId,omitempty"`
	InstanceID                  string `xml:"instanceId,omitempty"`
	EgressOnlyInternetGatewayID string `xml:"egressOnlyInternetGatewayId,omitempty"`
	State                       string `xml:"state"`
	Origin                      string `xml:"origin"`
}

type ec2RouteTable struct {
	ID           string     `xml:"routeTableId"`
	VpcID        string     `xml:"vpcId"`
	OwnerID      string     `xml:"ownerId"`
	Associations []ec2Assoc `xml:"associationSet>item"`
	Routes       []ec2Route `xml:"routeSet>item"`
}

func (s *Server) ec2DescribeRouteTables(c *call) (any, error) {
	f, err := c.ec2Filters("vpc-id", "route-table-id", "association.subnet-id", "association.main")
	if err != nil {
		return nil, err
	}
	var items []ec2RouteTable
	for _, rt := range network(c).RouteTables {
		main := "false"
		if rt.Main {
			main = "true"
		}
		if !match(f, map[string][]string{"vpc-id": {rt.VPCID}, "route-table-id": {rt.ID}, "association.subnet-id": rt.Subnets, "association.main": {main}}) {
			continue
		}
		t := ec2RouteTable{ID: rt.ID, VpcID: rt.VPCID, OwnerID: c.caller.account}
		if rt.Main {
			t.Associations = append(t.Associations, ec2Assoc{ID: "rtbassoc-main" + strings.TrimPrefix(rt.ID, "rtb"), Table: rt.ID, Main: true, State: "associated"})
		}
		for _, sn := range rt.Subnets {
			t.Associations = append(t.Associations, ec2Assoc{ID: "rtbassoc-" + strings.TrimPrefix(sn, "subnet-"), Table: rt.ID, Subnet: sn, State: "associated"})
		}
		for _, r := range rt.Routes {
			origin := "CreateRoute"
			if r.GatewayID == "local" {
				origin = "CreateRouteTable"
			}
			t.Routes = append(t.Routes, ec2Route{DestinationCidrBlock: r.DestinationCIDR, DestinationIpv6CidrBlock: r.DestinationIPv6CIDR,
				DestinationPrefixListID: r.DestinationPrefixListID, GatewayID: r.GatewayID, NatGatewayID: r.NATGatewayID,
				TransitGatewayID: r.TransitGatewayID, VpcPeeringConnectionID: r.VPCPeeringConnectionID, NetworkInterfaceID: r.NetworkInterfaceID,
				InstanceID: r.InstanceID, EgressOnlyInternetGatewayID: r.EgressOnlyInternetGatewayID, State: statusOr(r.State, "active"), Origin: origin})
		}
		items = append(items, t)
	}
	lo, hi, next, err := s.ec2Page(c, 100, len(items))
	if err != nil {
		return nil, err
	}
	return struct {
		Items []ec2RouteTable `xml:"routeTableSet>item"`
		Next  string          `xml:"nextToken,omitempty"`
	}{items[lo:hi], next}, nil
}

type ec2Endpoint struct {
	ID                string   `xml:"vpcEndpointId"`
	Type              string   `xml:"vpcEndpointType"`
	VpcID             string   `xml:"vpcId"`
	ServiceName       string   `xml:"serviceName"`
	State             string   `xml:"state"`
	PolicyDocument    string   `xml:"policyDocument,omitempty"`
	RouteTableIDs     []string `xml:"routeTableIdSet>item"`
	SubnetIDs         []string `xml:"subnetIdSet>item"`
	PrivateDNSEnabled bool     `xml:"privateDnsEnabled"`
	RequesterManaged  bool     `xml:"requesterManaged"`
	OwnerID           string   `xml:"ownerId"`
}

func (s *Server) ec2DescribeVpcEndpoints(c *call) (any, error) {
	f, err := c.ec2Filters("vpc-id", "vpc-endpoint-id", "service-name", "vpc-endpoint-type")
	if err != nil {
		return nil, err
	}
	var items []ec2Endpoint
	for _, e := range network(c).VPCEndpoints {
		if !match(f, map[string][]string{"vpc-id": {e.VPCID}, "vpc-endpoint-id": {e.ID}, "service-name": {e.ServiceName}, "vpc-endpoint-type": {e.Type}}) {
			continue
		}
		items = append(items, ec2Endpoint{ID: e.ID, Type: e.Type, VpcID: e.VPCID, ServiceName: e.ServiceName, State: statusOr(e.State, "available"),
			PolicyDocument: e.Policy, RouteTableIDs: e.RouteTables, SubnetIDs: e.Subnets, PrivateDNSEnabled: e.PrivateDNSEnabled, OwnerID: c.caller.account})
	}
	lo, hi, next, err := s.ec2Page(c, 1000, len(items))
	if err != nil {
		return nil, err
	}
	return struct {
		Items []ec2Endpoint `xml:"vpcEndpointSet>item"`
		Next  string        `xml:"nextToken,omitempty"`
	}{items[lo:hi], next}, nil
}

type ec2NAT struct {
	ID               string `xml:"natGatewayId"`
	VpcID            string `xml:"vpcId"`
	SubnetID         string `xml:"subnetId"`
	State            string `xml:"state"`
	ConnectivityType string `xml:"connectivityType"`
}

func (s *Server) ec2DescribeNatGateways(c *call) (any, error) {
	f, err := c.ec2Filters("vpc-id", "subnet-id", "nat-gateway-id", "state")
	if err != nil {
		return nil, err
	}
	var items []ec2NAT
	for _, g := range network(c).NATGateways {
		st := statusOr(g.State, "available")
		if !match(f, map[string][]string{"vpc-id": {g.VPCID}, "subnet-id": {g.SubnetID}, "nat-gateway-id": {g.ID}, "state": {st}}) {
			continue
		}
		items = append(items, ec2NAT{ID: g.ID, VpcID: g.VPCID, SubnetID: g.SubnetID, State: st, ConnectivityType: statusOr(g.ConnectivityType, "public")})
	}
	lo, hi, next, err := s.ec2Page(c, 1000, len(items))
	if err != nil {
		return nil, err
	}
	return struct {
		Items []ec2NAT `xml:"natGatewaySet>item"`
		Next  string   `xml:"nextToken,omitempty"`
	}{items[lo:hi], next}, nil
}

type ec2IGWAttachment struct {
	VpcID string `xml:"vpcId"`
	State string `xml:"state"`
}

type ec2IGW struct {
	ID          string             `xml:"internetGatewayId"`
	OwnerID     string             `xml:"ownerId"`
	Attachments []ec2IGWAttachment `xml:"attachmentSet>item"`
}

func (s *Server) ec2DescribeInternetGateways(c *call) (any, error) {
	f, err := c.ec2Filters("attachment.vpc-id", "internet-gateway-id", "attachment.state")
	if err != nil {
		return nil, err
	}
	var items []ec2IGW
	for _, g := range network(c).InternetGateways {
		attrs := map[string][]string{"internet-gateway-id": {g.ID}}
		ig := ec2IGW{ID: g.ID, OwnerID: c.caller.account}
		for _, a := range g.Attachments {
			st := statusOr(a.State, "available")
			attrs["attachment.vpc-id"] = append(attrs["attachment.vpc-id"], a.VPCID)
			attrs["attachment.state"] = append(attrs["attachment.state"], st)
			ig.Attachments = append(ig.Attachments, ec2IGWAttachment{VpcID: a.VPCID, State: st})
		}
		if match(f, attrs) {
			items = append(items, ig)
		}
	}
	lo, hi, next, err := s.ec2Page(c, 1000, len(items))
	if err != nil {
		return nil, err
	}
	return struct {
		Items []ec2IGW `xml:"internetGatewaySet>item"`
		Next  string   `xml:"nextToken,omitempty"`
	}{items[lo:hi], next}, nil
}

type ec2ENI struct {
	ID            string `xml:"networkInterfaceId"`
	SubnetID      string `xml:"subnetId,omitempty"`
	VpcID         string `xml:"vpcId,omitempty"`
	InterfaceType string `xml:"interfaceType"`
	Status        string `xml:"status"`
	PublicIP      string `xml:"association>publicIp,omitempty"`
	PrivateIP     string `xml:"privateIpAddress"`
	OwnerID       string `xml:"ownerId"`
}

func (s *Server) ec2DescribeNetworkInterfaces(c *call) (any, error) {
	f, err := c.ec2Filters("network-interface-id", "subnet-id", "vpc-id")
	if err != nil {
		return nil, err
	}
	var items []ec2ENI
	for i, e := range launchOf(c).enis {
		if !match(f, map[string][]string{"network-interface-id": {e.id}, "subnet-id": {e.subnet}, "vpc-id": {e.vpc}}) {
			continue
		}
		n := ec2ENI{ID: e.id, SubnetID: e.subnet, VpcID: e.vpc, InterfaceType: "interface", Status: "in-use",
			PrivateIP: fmt.Sprintf("10.0.%d.%d", (i/250)%256, 4+i%250), OwnerID: c.caller.account}
		if e.public {
			h := hashStrings(s.w.seed, "eni-public-ip", e.id)
			n.PublicIP = fmt.Sprintf("198.51.100.%d", 1+h%254)
		}
		items = append(items, n)
	}
	lo, hi, next, err := s.ec2Page(c, 1000, len(items))
	if err != nil {
		return nil, err
	}
	return struct {
		Items []ec2ENI `xml:"networkInterfaceSet>item"`
		Next  string   `xml:"nextToken,omitempty"`
	}{items[lo:hi], next}, nil
}
