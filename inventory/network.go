package inventory

// The network path of awsvpc tasks (snapshot version 2, optional): the
// subnets that any service, task, rule or schedule of the region places a
// task in, their VPCs' route tables, VPC endpoints (with their policies),
// NAT gateways and internet gateways. Only what a rule reads is kept.

// Network is what was collected about the network path in one region.
// A region without Network has no network facts: not collected (a
// snapshot written before they existed).
type Network struct {
	// Status is CollectedComplete when the network was collected (each
	// subnet and VPC then says what is known of it) or CollectedSkipped
	// when the scan was asked not to (--no-resolve-resources).
	Status string `json:"status"`
	// Subnets has one entry per subnet referenced by a launch of the
	// region (collected, not found, or not collected).
	Subnets []*Subnet `json:"subnets,omitempty"`
	// VPCs has one entry per VPC of a collected subnet, with what is known
	// of its route tables, endpoints and gateways.
	VPCs             []*VPC             `json:"vpcs,omitempty"`
	RouteTables      []*RouteTable      `json:"routeTables,omitempty"`
	VPCEndpoints     []*VPCEndpoint     `json:"vpcEndpoints,omitempty"`
	NATGateways      []*NATGateway      `json:"natGateways,omitempty"`
	InternetGateways []*InternetGateway `json:"internetGateways,omitempty"`
	// NetworkInterfacesStatus says whether the public IPs of the running
	// tasks' ENIs were looked up (CollectedComplete, CollectedPartial,
	// CollectedNone); the result is in each task's network.assignPublicIp.
	NetworkInterfacesStatus string `json:"networkInterfacesStatus,omitempty"`
}

// Subnet statuses (besides CollectedComplete and CollectedNone).
const (
	// SubnetNotFound: DescribeSubnets answered without it: the subnet does
	// not exist (or is not visible to the account).
	SubnetNotFound = "not-found"
)

// Subnet is a subnet a launch names.
type Subnet struct {
	ID string `json:"id"`
	// Status is CollectedComplete, SubnetNotFound or CollectedNone; the
	// other fields are set only when collected.
	Status           string `json:"status"`
	VPCID            string `json:"vpcId,omitempty"`
	OwnerID          string `json:"ownerId,omitempty"`
	AvailabilityZone string `json:"availabilityZone,omitempty"`
	// MapPublicIPOnLaunch is the subnet's default for EC2 instances; ECS
	// tasks take assignPublicIp from their own configuration instead.
	MapPublicIPOnLaunch bool `json:"mapPublicIpOnLaunch,omitempty"`
}

// VPC says what is known of one VPC's network path. Each status is
// CollectedComplete (the list below holds everything of that kind in the
// VPC) or CollectedNone (the call failed: unknown). OwnerID is the owner of
// the VPC's subnets as DescribeSubnets reported it; a VPC shared from
// another account has route tables, gateways and endpoints that the
// scanning account may not see, so its statuses are CollectedNone and
// OtherOwner is set.
type VPC struct {
	ID                     string `json:"id"`
	OwnerID                string `json:"ownerId,omitempty"`
	OtherOwner             bool   `json:"otherOwner,omitempty"`
	RouteTablesStatus      string `json:"routeTablesStatus"`
	VPCEndpointsStatus     string `json:"vpcEndpointsStatus"`
	NATGatewaysStatus      string `json:"natGatewaysStatus"`
	InternetGatewaysStatus string `json:"internetGatewaysStatus"`
}

// RouteTable is a VPC route table.
type RouteTable struct {
	ID    string `json:"id"`
	VPCID string `json:"vpcId"`
	// Main is true for the VPC's main route table: it applies to every
	// subnet of the VPC without an explicit association.
	Main bool `json:"main,omitempty"`
	// Subnets are the subnets explicitly associated with the table.
	Subnets []string `json:"subnets,omitempty"`
	Routes  []Route  `json:"routes,omitempty"`
}

// Route is one route of a route table. Exactly one target is usually set.
type Route struct {
	DestinationCIDR         string `json:"destinationCidrBlock,omitempty"`
	DestinationIPv6CIDR     string `json:"destinationIpv6CidrBlock,omitempty"`
	DestinationPrefixListID string `json:"destinationPrefixListId,omitempty"`
	// GatewayID is "local", an internet gateway (igw-…), a virtual private
	// gateway (vgw-…) or a gateway VPC endpoint (vpce-…).
	GatewayID                   string `json:"gatewayId,omitempty"`
	NATGatewayID                string `json:"natGatewayId,omitempty"`
	TransitGatewayID            string `json:"transitGatewayId,omitempty"`
	VPCPeeringConnectionID      string `json:"vpcPeeringConnectionId,omitempty"`
	NetworkInterfaceID          string `json:"networkInterfaceId,omitempty"`
	InstanceID                  string `json:"instanceId,omitempty"`
	EgressOnlyInternetGatewayID string `json:"egressOnlyInternetGatewayId,omitempty"`
	// State is active or blackhole (the target is gone).
	State string `json:"state,omitempty"`
}

// VPCEndpoint is an interface or gateway VPC endpoint.
type VPCEndpoint struct {
	ID    string `json:"id"`
	VPCID string `json:"vpcId"`
	// Type is Interface, Gateway, GatewayLoadBalancer, …
	Type string `json:"type"`
	// ServiceName is e.g. com.amazonaws.us-east-1.ecr.dkr.
	ServiceName       string   `json:"serviceName"`
	State             string   `json:"state,omitempty"`
	PrivateDNSEnabled bool     `json:"privateDnsEnabled,omitempty"`
	Subnets           []string `json:"subnets,omitempty"`
	RouteTables       []string `json:"routeTables,omitempty"`
	// Policy is the endpoint policy when PolicyStatus is PolicyCollected.
	// PolicyNone: the endpoint has no policy document (an endpoint type
	// without policy support): it restricts nothing.
	Policy       string `json:"policy,omitempty"`
	PolicyStatus string `json:"policyStatus"`
}

// NATGateway is a NAT gateway.
type NATGateway struct {
	ID       string `json:"id"`
	VPCID    string `json:"vpcId"`
	SubnetID string `json:"subnetId,omitempty"`
	// State is pending, available, deleting, deleted or failed.
	State string `json:"state,omitempty"`
	// ConnectivityType is public or private (a private NAT gateway gives no
	// internet access).
	ConnectivityType string `json:"connectivityType,omitempty"`
}

// InternetGateway is an internet gateway attached to a VPC in scope.
type InternetGateway struct {
	ID          string                    `json:"id"`
	Attachments []InternetGatewayAttached `json:"attachments,omitempty"`
}

// InternetGatewayAttached is one attachment of an internet gateway.
type InternetGatewayAttached struct {
	VPCID string `json:"vpcId"`
	// State is attaching, available (attached), detaching or detached.
	State string `json:"state,omitempty"`
}
