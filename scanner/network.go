package scanner

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/sync/errgroup"

	"github.com/ecs-audit/audit/inventory"
)

// EC2 filter and page sizes: at most ec2FilterValues values in one filter
// (the documented limit is 200), pages of ec2PageSize (Describe* accept up
// to 1000; DescribeRouteTables up to 100).
const (
	ec2FilterValues    = 200
	ec2PageSize        = 1000
	ec2RouteTablesPage = 100
)

// networkRefs are the subnets and task ENIs a region's launches name.
type networkRefs struct {
	subnets map[string]bool
	enis    map[string][]*inventory.Task // running tasks by ENI
}

// gatherNetworkRefs collects the subnets of every awsvpc launch of the
// region (services and their deployments, tasks, rule targets, schedules)
// and the ENIs of running tasks.
func gatherNetworkRefs(r *inventory.Region) networkRefs {
	refs := networkRefs{subnets: map[string]bool{}, enis: map[string][]*inventory.Task{}}
	add := func(n *inventory.AwsvpcConfiguration) {
		if n == nil {
			return
		}
		for _, s := range n.Subnets {
			if s != "" {
				refs.subnets[s] = true
			}
		}
	}
	for _, cl := range r.Clusters {
		for _, s := range cl.Services {
			add(s.Network)
			for _, d := range s.Deployments {
				add(d.Network)
			}
		}
		for _, t := range cl.Tasks {
			add(t.Network)
			if t.NetworkInterfaceID != "" && t.Network != nil && t.DesiredStatus != "STOPPED" && t.LastStatus != "STOPPED" {
				refs.enis[t.NetworkInterfaceID] = append(refs.enis[t.NetworkInterfaceID], t)
			}
		}
	}
	for _, er := range r.EventRules {
		for _, t := range er.Targets {
			add(t.Launch.Network)
		}
	}
	for _, s := range r.Schedules {
		if s.Launch != nil {
			add(s.Launch.Network)
		}
	}
	return refs
}

// network collects the network path of the region's awsvpc launches: the
// subnets they name (DescribeSubnets), then for the subnets' VPCs one
// filtered, paged call per kind (route tables, VPC endpoints, NAT gateways,
// internet gateways), and the public IPs of the running tasks' ENIs
// (DescribeNetworkInterfaces). Each subnet and VPC records what is known
// of it.
func (c *collector) network(ctx context.Context, w where, api ec2API, r *inventory.Region) *inventory.Network {
	n := &inventory.Network{Status: inventory.CollectedComplete}
	refs := gatherNetworkRefs(r)
	if len(refs.subnets) == 0 && len(refs.enis) == 0 {
		return n
	}
	if api == nil {
		// No EC2 client (a test backend): nothing is known.
		for _, id := range slices.Sorted(maps.Keys(refs.subnets)) {
			n.Subnets = append(n.Subnets, &inventory.Subnet{ID: id, Status: inventory.CollectedNone})
		}
		return n
	}
	b := c.newBucket(ec2Rate, ec2Burst, resourceInFlight)

	// Subnets.
	ids := slices.Sorted(maps.Keys(refs.subnets))
	var mu sync.Mutex
	found := map[string]*inventory.Subnet{}
	failed := map[string]bool{}
	var g errgroup.Group
	for chunk := range slices.Chunk(ids, ec2FilterValues) {
		g.Go(func() error {
			got, err := paginate(ctx, c, listing{w: w, b: b, svc: "ec2", op: "DescribeSubnets", resource: "subnet-id " + batchResource(chunk)}, nil,
				func(ctx context.Context, token *string) ([]ec2types.Subnet, *string, error) {
					out, err := api.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{
						Filters:    []ec2types.Filter{{Name: aws.String("subnet-id"), Values: chunk}},
						MaxResults: aws.Int32(ec2PageSize), NextToken: token,
					})
					if err != nil {
						return nil, nil, err
					}
					return out.Subnets, out.NextToken, nil
				})
			mu.Lock()
			defer mu.Unlock()
			for _, s := range got {
				id := aws.ToString(s.SubnetId)
				if !slices.Contains(chunk, id) || aws.ToString(s.VpcId) == "" {
					continue
				}
				found[id] = &inventory.Subnet{ID: id, Status: inventory.CollectedComplete, VPCID: aws.ToString(s.VpcId),
					OwnerID: aws.ToString(s.OwnerId), AvailabilityZone: aws.ToString(s.AvailabilityZone),
					MapPublicIPOnLaunch: aws.ToBool(s.MapPublicIpOnLaunch)}
			}
			if err != nil {
				for _, id := range chunk {
					failed[id] = true
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	vpcs := map[string]*inventory.VPC{}
	for _, id := range ids {
		s := found[id]
		switch {
		case s != nil:
		case failed[id]:
			s = &inventory.Subnet{ID: id, Status: inventory.CollectedNone}
		default:
			s = &inventory.Subnet{ID: id, Status: inventory.SubnetNotFound}
		}
		n.Subnets = append(n.Subnets, s)
		if s.Status != inventory.CollectedComplete {
			continue
		}
		v := vpcs[s.VPCID]
		if v == nil {
			v = &inventory.VPC{ID: s.VPCID, OwnerID: s.OwnerID,
				RouteTablesStatus: inventory.CollectedNone, VPCEndpointsStatus: inventory.CollectedNone,
				NATGatewaysStatus: inventory.CollectedNone, InternetGatewaysStatus: inventory.CollectedNone}
			vpcs[s.VPCID] = v
		}
		if s.OwnerID != "" && s.OwnerID != w.account {
			// A VPC shared from another account: its route tables,
			// gateways and endpoints belong to the owner.
			v.OtherOwner = true
		}
	}
	vpcIDs := slices.Sorted(maps.Keys(vpcs))
	for _, id := range vpcIDs {
		n.VPCs = append(n.VPCs, vpcs[id])
	}

	// One filtered, paged call per kind for the VPCs; the ENIs of running
	// tasks alongside.
	done := func(chunk []string, set func(v *inventory.VPC)) {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range chunk {
			if v := vpcs[id]; v != nil && !v.OtherOwner {
				set(v)
			}
		}
	}
	inScope := func(vpc string) bool { return vpcs[vpc] != nil }
	var kinds errgroup.Group
	for chunk := range slices.Chunk(vpcIDs, ec2FilterValues) {
		filter := []ec2types.Filter{{Name: aws.String("vpc-id"), Values: chunk}}
		res := "vpc-id " + batchResource(chunk)
		kinds.Go(func() error {
			got, err := paginate(ctx, c, listing{w: w, b: b, svc: "ec2", op: "DescribeRouteTables", resource: res}, nil,
				func(ctx context.Context, token *string) ([]ec2types.RouteTable, *string, error) {
					out, err := api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: filter, MaxResults: aws.Int32(ec2RouteTablesPage), NextToken: token})
					if err != nil {
						return nil, nil, err
					}
					return out.RouteTables, out.NextToken, nil
				})
			mu.Lock()
			for _, rt := range got {
				if t := convertRouteTable(rt); t.ID != "" && inScope(t.VPCID) {
					n.RouteTables = append(n.RouteTables, t)
				}
			}
			mu.Unlock()
			if err == nil {
				done(chunk, func(v *inventory.VPC) { v.RouteTablesStatus = inventory.CollectedComplete })
			}
			return nil
		})
		kinds.Go(func() error {
			got, err := paginate(ctx, c, listing{w: w, b: b, svc: "ec2", op: "DescribeVpcEndpoints", resource: res}, nil,
				func(ctx context.Context, token *string) ([]ec2types.VpcEndpoint, *string, error) {
					out, err := api.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: filter, MaxResults: aws.Int32(ec2PageSize), NextToken: token})
					if err != nil {
						return nil, nil, err
					}
					return out.VpcEndpoints, out.NextToken, nil
				})
			mu.Lock()
			for _, e := range got {
				if ep := convertEndpoint(e); ep.ID != "" && ep.ServiceName != "" && inScope(ep.VPCID) {
					n.VPCEndpoints = append(n.VPCEndpoints, ep)
				}
			}
			mu.Unlock()
			if err == nil {
				done(chunk, func(v *inventory.VPC) { v.VPCEndpointsStatus = inventory.CollectedComplete })
			}
			return nil
		})
		kinds.Go(func() error {
			got, err := paginate(ctx, c, listing{w: w, b: b, svc: "ec2", op: "DescribeNatGateways", resource: res}, nil,
				func(ctx context.Context, token *string) ([]ec2types.NatGateway, *string, error) {
					out, err := api.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{Filter: filter, MaxResults: aws.Int32(ec2PageSize), NextToken: token})
					if err != nil {
						return nil, nil, err
					}
					return out.NatGateways, out.NextToken, nil
				})
			mu.Lock()
			for _, g := range got {
				ng := &inventory.NATGateway{ID: aws.ToString(g.NatGatewayId), VPCID: aws.ToString(g.VpcId), SubnetID: aws.ToString(g.SubnetId),
					State: string(g.State), ConnectivityType: string(g.ConnectivityType)}
				if ng.ID != "" && inScope(ng.VPCID) {
					n.NATGateways = append(n.NATGateways, ng)
				}
			}
			mu.Unlock()
			if err == nil {
				done(chunk, func(v *inventory.VPC) { v.NATGatewaysStatus = inventory.CollectedComplete })
			}
			return nil
		})
		kinds.Go(func() error {
			igwFilter := []ec2types.Filter{{Name: aws.String("attachment.vpc-id"), Values: chunk}}
			got, err := paginate(ctx, c, listing{w: w, b: b, svc: "ec2", op: "DescribeInternetGateways", resource: res}, nil,
				func(ctx context.Context, token *string) ([]ec2types.InternetGateway, *string, error) {
					out, err := api.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: igwFilter, MaxResults: aws.Int32(ec2PageSize), NextToken: token})
					if err != nil {
						return nil, nil, err
					}
					return out.InternetGateways, out.NextToken, nil
				})
			mu.Lock()
			for _, g := range got {
				ig := &inventory.InternetGateway{ID: aws.ToString(g.InternetGatewayId)}
				for _, a := range g.Attachments {
					if v := aws.ToString(a.VpcId); v != "" {
						ig.Attachments = append(ig.Attachments, inventory.InternetGatewayAttached{VPCID: v, State: string(a.State)})
					}
				}
				if ig.ID != "" && !slices.ContainsFunc(n.InternetGateways, func(x *inventory.InternetGateway) bool { return x.ID == ig.ID }) {
					n.InternetGateways = append(n.InternetGateways, ig)
				}
			}
			mu.Unlock()
			if err == nil {
				done(chunk, func(v *inventory.VPC) { v.InternetGatewaysStatus = inventory.CollectedComplete })
			}
			return nil
		})
	}
	if len(refs.enis) > 0 {
		kinds.Go(func() error {
			n.NetworkInterfacesStatus = c.taskPublicIPs(ctx, w, api, b, refs.enis)
			return nil
		})
	}
	_ = kinds.Wait()
	return n
}

// taskPublicIPs looks up the running tasks' ENIs and records on each task
// whether its ENI has a public IP. An ENI that is gone (the task stopped
// meanwhile) leaves the answer unknown.
func (c *collector) taskPublicIPs(ctx context.Context, w where, api ec2API, b *bucket, enis map[string][]*inventory.Task) string {
	ids := slices.Sorted(maps.Keys(enis))
	var mu sync.Mutex
	ok, failed := 0, 0
	var g errgroup.Group
	for chunk := range slices.Chunk(ids, ec2FilterValues) {
		g.Go(func() error {
			got, err := paginate(ctx, c, listing{w: w, b: b, svc: "ec2", op: "DescribeNetworkInterfaces", resource: "network-interface-id " + batchResource(chunk)}, nil,
				func(ctx context.Context, token *string) ([]ec2types.NetworkInterface, *string, error) {
					out, err := api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
						Filters:    []ec2types.Filter{{Name: aws.String("network-interface-id"), Values: chunk}},
						MaxResults: aws.Int32(ec2PageSize), NextToken: token,
					})
					if err != nil {
						return nil, nil, err
					}
					return out.NetworkInterfaces, out.NextToken, nil
				})
			mu.Lock()
			defer mu.Unlock()
			for _, ni := range got {
				id := aws.ToString(ni.NetworkInterfaceId)
				if !slices.Contains(chunk, id) {
					continue
				}
				assign := "DISABLED"
				if ni.Association != nil && aws.ToString(ni.Association.PublicIp) != "" {
					assign = "ENABLED"
				}
				for _, t := range enis[id] {
					t.Network.AssignPublicIP = assign
				}
			}
			if err != nil {
				failed++
			} else {
				ok++
			}
			return nil
		})
	}
	_ = g.Wait()
	switch {
	case ok == 0:
		return inventory.CollectedNone
	case failed > 0:
		return inventory.CollectedPartial
	}
	return inventory.CollectedComplete
}

func convertRouteTable(rt ec2types.RouteTable) *inventory.RouteTable {
	t := &inventory.RouteTable{ID: aws.ToString(rt.RouteTableId), VPCID: aws.ToString(rt.VpcId)}
	for _, a := range rt.Associations {
		if a.AssociationState != nil && a.AssociationState.State != "" && a.AssociationState.State != ec2types.RouteTableAssociationStateCodeAssociated {
			continue // being removed, or failed
		}
		if aws.ToBool(a.Main) {
			t.Main = true
		}
		if s := aws.ToString(a.SubnetId); s != "" {
			t.Subnets = append(t.Subnets, s)
		}
	}
	slices.Sort(t.Subnets)
	t.Subnets = slices.Compact(t.Subnets)
	for _, r := range rt.Routes {
		t.Routes = append(t.Routes, inventory.Route{
			DestinationCIDR:             aws.ToString(r.DestinationCidrBlock),
			DestinationIPv6CIDR:         aws.ToString(r.DestinationIpv6CidrBlock),
			DestinationPrefixListID:     aws.ToString(r.DestinationPrefixListId),
			GatewayID:                   aws.ToString(r.GatewayId),
			NATGatewayID:                aws.ToString(r.NatGatewayId),
			TransitGatewayID:            aws.ToString(r.TransitGatewayId),
			VPCPeeringConnectionID:      aws.ToString(r.VpcPeeringConnectionId),
			NetworkInterfaceID:          aws.ToString(r.NetworkInterfaceId),
			InstanceID:                  aws.ToString(r.InstanceId),
			EgressOnlyInternetGatewayID: aws.ToString(r.EgressOnlyInternetGatewayId),
			State:                       string(r.State),
		})
	}
	return t
}

// convertEndpoint maps a VPC endpoint. A missing policy document is
// recorded as none (an endpoint type without policies restricts nothing).
func convertEndpoint(e ec2types.VpcEndpoint) *inventory.VPCEndpoint {
	ep := &inventory.VPCEndpoint{
		ID: aws.ToString(e.VpcEndpointId), VPCID: aws.ToString(e.VpcId), Type: string(e.VpcEndpointType),
		ServiceName: aws.ToString(e.ServiceName), State: string(e.State), PrivateDNSEnabled: aws.ToBool(e.PrivateDnsEnabled),
		Subnets: slices.Clone(e.SubnetIds), RouteTables: slices.Clone(e.RouteTableIds),
		PolicyStatus: inventory.PolicyNone,
	}
	if p := strings.TrimSpace(aws.ToString(e.PolicyDocument)); p != "" && p != "null" {
		// EC2 returns the document as JSON; a URL-encoded one is decoded
		// as IAM's are, and one that is neither is kept as received for
		// the policy parser to report.
		doc, _ := decodeDocument(p)
		ep.Policy, ep.PolicyStatus = doc, inventory.PolicyCollected
	}
	return ep
}
