package fakeaws

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-audit/audit/inventory"
)

func ecsOps() map[string]opFunc {
	return map[string]opFunc{
		"ListClusters":               (*Server).ecsListClusters,
		"DescribeClusters":           (*Server).ecsDescribeClusters,
		"ListServices":               (*Server).ecsListServices,
		"DescribeServices":           (*Server).ecsDescribeServices,
		"ListContainerInstances":     (*Server).ecsListContainerInstances,
		"DescribeContainerInstances": (*Server).ecsDescribeContainerInstances,
		"ListTaskDefinitionFamilies": (*Server).ecsListTaskDefinitionFamilies,
		"ListTaskDefinitions":        (*Server).ecsListTaskDefinitions,
		"DescribeTaskDefinition":     (*Server).ecsDescribeTaskDefinition,
		"ListAttributes":             (*Server).ecsListAttributes,
		"ListTasks":                  (*Server).ecsListTasks,
		"DescribeTasks":              (*Server).ecsDescribeTasks,
		"ListTagsForResource":        (*Server).ecsListTagsForResource,
	}
}

// ---- wire shapes ----

type ecsFailure struct {
	Arn    string `json:"arn"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

type ecsCluster struct {
	ClusterArn                        string   `json:"clusterArn"`
	ClusterName                       string   `json:"clusterName"`
	Status                            string   `json:"status"`
	RegisteredContainerInstancesCount int      `json:"registeredContainerInstancesCount"`
	RunningTasksCount                 int32    `json:"runningTasksCount"`
	PendingTasksCount                 int      `json:"pendingTasksCount"`
	ActiveServicesCount               int      `json:"activeServicesCount"`
	Statistics                        []any    `json:"statistics"`
	Tags                              []any    `json:"tags"`
	Settings                          []ecsKV  `json:"settings"`
	CapacityProviders                 []string `json:"capacityProviders"`
	DefaultCapacityProviderStrategy   []any    `json:"defaultCapacityProviderStrategy"`
}

type ecsKV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type ecsStrategyItem struct {
	CapacityProvider string `json:"capacityProvider"`
	Weight           int    `json:"weight"`
	Base             int    `json:"base"`
}

type ecsDeployment struct {
	ID                       string            `json:"id,omitempty"`
	Status                   string            `json:"status,omitempty"`
	TaskDefinition           string            `json:"taskDefinition"`
	DesiredCount             int32             `json:"desiredCount"`
	PendingCount             int32             `json:"pendingCount"`
	RunningCount             int32             `json:"runningCount"`
	FailedTasks              int32             `json:"failedTasks"`
	CreatedAt                float64           `json:"createdAt"`
	UpdatedAt                float64           `json:"updatedAt"`
	CapacityProviderStrategy []ecsStrategyItem `json:"capacityProviderStrategy,omitempty"`
	LaunchType               string            `json:"launchType,omitempty"`
	PlatformVersion          string            `json:"platformVersion,omitempty"`
	PlatformFamily           string            `json:"platformFamily,omitempty"`
	RolloutState             string            `json:"rolloutState,omitempty"`
	NetworkConfiguration     *ecsNetworkConfig `json:"networkConfiguration,omitempty"`
}

// ecsNetworkConfig is ECS's networkConfiguration.
type ecsNetworkConfig struct {
	AwsvpcConfiguration ecsAwsvpc `json:"awsvpcConfiguration"`
}

type ecsAwsvpc struct {
	Subnets        []string `json:"subnets"`
	SecurityGroups []string `json:"securityGroups,omitempty"`
	AssignPublicIP string   `json:"assignPublicIp,omitempty"`
}

func networkShape(n *inventory.AwsvpcConfiguration) *ecsNetworkConfig {
	if n == nil {
		return nil
	}
	return &ecsNetworkConfig{AwsvpcConfiguration: ecsAwsvpc{Subnets: n.Subnets, SecurityGroups: n.SecurityGroups, AssignPublicIP: n.AssignPublicIP}}
}

type ecsTaskSet struct {
	ID                       string            `json:"id"`
	TaskSetArn               string            `json:"taskSetArn"`
	ServiceArn               string            `json:"serviceArn"`
	ClusterArn               string            `json:"clusterArn"`
	Status                   string            `json:"status,omitempty"`
	TaskDefinition           string            `json:"taskDefinition"`
	ComputedDesiredCount     int32             `json:"computedDesiredCount"`
	PendingCount             int32             `json:"pendingCount"`
	RunningCount             int32             `json:"runningCount"`
	CreatedAt                float64           `json:"createdAt"`
	UpdatedAt                float64           `json:"updatedAt"`
	LaunchType               string            `json:"launchType,omitempty"`
	CapacityProviderStrategy []ecsStrategyItem `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion          string            `json:"platformVersion,omitempty"`
	StabilityStatus          string            `json:"stabilityStatus"`
	NetworkConfiguration     *ecsNetworkConfig `json:"networkConfiguration,omitempty"`
}

type ecsService struct {
	ServiceArn               string            `json:"serviceArn"`
	ServiceName              string            `json:"serviceName"`
	ClusterArn               string            `json:"clusterArn"`
	LoadBalancers            []any             `json:"loadBalancers"`
	ServiceRegistries        []any             `json:"serviceRegistries"`
	Status                   string            `json:"status"`
	DesiredCount             int32             `json:"desiredCount"`
	RunningCount             int32             `json:"runningCount"`
	PendingCount             int32             `json:"pendingCount"`
	LaunchType               string            `json:"launchType,omitempty"`
	CapacityProviderStrategy []ecsStrategyItem `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion          string            `json:"platformVersion,omitempty"`
	PlatformFamily           string            `json:"platformFamily,omitempty"`
	TaskDefinition           string            `json:"taskDefinition,omitempty"`
	TaskSets                 []ecsTaskSet      `json:"taskSets,omitempty"`
	Deployments              []ecsDeployment   `json:"deployments"`
	Events                   []any             `json:"events"`
	CreatedAt                float64           `json:"createdAt"`
	PlacementConstraints     []any             `json:"placementConstraints"`
	PlacementStrategy        []any             `json:"placementStrategy"`
	SchedulingStrategy       string            `json:"schedulingStrategy"`
	DeploymentController     map[string]string `json:"deploymentController"`
	Tags                     []any             `json:"tags,omitempty"`
	EnableECSManagedTags     bool              `json:"enableECSManagedTags"`
	PropagateTags            string            `json:"propagateTags"`
	EnableExecuteCommand     bool              `json:"enableExecuteCommand"`
	NetworkConfiguration     *ecsNetworkConfig `json:"networkConfiguration,omitempty"`
}

type ecsVersionInfo struct {
	AgentVersion  string `json:"agentVersion,omitempty"`
	AgentHash     string `json:"agentHash,omitempty"`
	DockerVersion string `json:"dockerVersion,omitempty"`
}

type ecsAttribute struct {
	Name       string `json:"name"`
	Value      string `json:"value,omitempty"`
	TargetType string `json:"targetType,omitempty"`
	TargetID   string `json:"targetId,omitempty"`
}

type ecsContainerInstance struct {
	ContainerInstanceArn string         `json:"containerInstanceArn"`
	Ec2InstanceID        string         `json:"ec2InstanceId,omitempty"`
	Version              int64          `json:"version"`
	VersionInfo          ecsVersionInfo `json:"versionInfo"`
	RemainingResources   []any          `json:"remainingResources"`
	RegisteredResources  []any          `json:"registeredResources"`
	Status               string         `json:"status"`
	AgentConnected       bool           `json:"agentConnected"`
	RunningTasksCount    int            `json:"runningTasksCount"`
	PendingTasksCount    int            `json:"pendingTasksCount"`
	Attributes           []ecsAttribute `json:"attributes"`
	RegisteredAt         float64        `json:"registeredAt"`
	Attachments          []any          `json:"attachments"`
	Tags                 []any          `json:"tags"`
}

type ecsNameValueFrom struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

type ecsLogConfiguration struct {
	LogDriver     string             `json:"logDriver"`
	Options       map[string]string  `json:"options,omitempty"`
	SecretOptions []ecsNameValueFrom `json:"secretOptions,omitempty"`
}

type ecsTypeValue struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

type ecsFirelens struct {
	Type    string            `json:"type"`
	Options map[string]string `json:"options,omitempty"`
}

type ecsRepoCreds struct {
	CredentialsParameter string `json:"credentialsParameter"`
}

type ecsContainerDefinition struct {
	Name                  string               `json:"name"`
	Image                 string               `json:"image"`
	RepositoryCredentials *ecsRepoCreds        `json:"repositoryCredentials,omitempty"`
	CPU                   int                  `json:"cpu"`
	PortMappings          []any                `json:"portMappings"`
	Essential             bool                 `json:"essential"`
	Environment           []ecsKV              `json:"environment"`
	EnvironmentFiles      []ecsTypeValue       `json:"environmentFiles,omitempty"`
	MountPoints           []any                `json:"mountPoints"`
	VolumesFrom           []any                `json:"volumesFrom"`
	Secrets               []ecsNameValueFrom   `json:"secrets,omitempty"`
	LogConfiguration      *ecsLogConfiguration `json:"logConfiguration,omitempty"`
	SystemControls        []any                `json:"systemControls"`
	FirelensConfiguration *ecsFirelens         `json:"firelensConfiguration,omitempty"`
}

type ecsFSxAuth struct {
	CredentialsParameter string `json:"credentialsParameter"`
	Domain               string `json:"domain,omitempty"`
}

type ecsFSx struct {
	FileSystemID        string      `json:"fileSystemId,omitempty"`
	RootDirectory       string      `json:"rootDirectory,omitempty"`
	AuthorizationConfig *ecsFSxAuth `json:"authorizationConfig,omitempty"`
}

type ecsVolume struct {
	Name                                    string    `json:"name"`
	Host                                    *struct{} `json:"host,omitempty"`
	FsxWindowsFileServerVolumeConfiguration *ecsFSx   `json:"fsxWindowsFileServerVolumeConfiguration,omitempty"`
}

type ecsRuntimePlatform struct {
	CPUArchitecture       string `json:"cpuArchitecture,omitempty"`
	OperatingSystemFamily string `json:"operatingSystemFamily,omitempty"`
}

type ecsTaskDefinition struct {
	TaskDefinitionArn       string                   `json:"taskDefinitionArn"`
	ContainerDefinitions    []ecsContainerDefinition `json:"containerDefinitions"`
	Family                  string                   `json:"family"`
	TaskRoleArn             string                   `json:"taskRoleArn,omitempty"`
	ExecutionRoleArn        string                   `json:"executionRoleArn,omitempty"`
	NetworkMode             string                   `json:"networkMode,omitempty"`
	Revision                int32                    `json:"revision"`
	Volumes                 []ecsVolume              `json:"volumes"`
	Status                  string                   `json:"status"`
	RequiresAttributes      []ecsAttribute           `json:"requiresAttributes,omitempty"`
	PlacementConstraints    []any                    `json:"placementConstraints"`
	Compatibilities         []string                 `json:"compatibilities,omitempty"`
	RuntimePlatform         *ecsRuntimePlatform      `json:"runtimePlatform,omitempty"`
	RequiresCompatibilities []string                 `json:"requiresCompatibilities,omitempty"`
	RegisteredAt            float64                  `json:"registeredAt"`
	DeregisteredAt          *float64                 `json:"deregisteredAt,omitempty"`
}

// ---- helpers ----

func ecsInvalid(format string, args ...any) error {
	return clientErr("InvalidParameterException", format, args...)
}

func clusterNotFound() error { return clientErr("ClusterNotFoundException", "Cluster not found.") }

func (s *Server) ecsPage(c *call, scope, token string, maxResults *int32, def int, n int) (int, int, string, error) {
	mr, has := optInt(maxResults)
	return s.paginate(c, pageSpec{
		scope: c.op + "|" + c.caller.account + "|" + c.region + "|" + scope, token: token,
		max: mr, hasMax: has, def: def, top: 100, maxName: "maxResults",
	}, n)
}

// cluster resolves a cluster name or ARN ("" = default) in the caller's region.
func (s *Server) cluster(c *call, key string) (*clusterIndex, error) {
	if key == "" {
		key = "default"
	}
	if c.reg == nil {
		return nil, clusterNotFound()
	}
	ci := c.reg.clusterByKey[key]
	if ci == nil {
		return nil, clusterNotFound()
	}
	return ci, nil
}

func statusOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func strategy(providers []string) []ecsStrategyItem {
	var out []ecsStrategyItem
	for _, p := range providers {
		out = append(out, ecsStrategyItem{CapacityProvider: p, Weight: 1})
	}
	return out
}

// ---- clusters ----

func (s *Server) ecsListClusters(c *call) (any, error) {
	var in struct {
		NextToken  string `json:"nextToken"`
		MaxResults *int32 `json:"maxResults"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	var clusters []*clusterIndex
	if c.reg != nil {
		clusters = c.reg.clusters
	}
	lo, hi, next, err := s.ecsPage(c, "", in.NextToken, in.MaxResults, 100, len(clusters))
	if err != nil {
		return nil, err
	}
	arns := make([]string, 0, hi-lo)
	for _, ci := range clusters[lo:hi] {
		arns = append(arns, ci.c.ARN)
	}
	return pageOut("clusterArns", arns, "nextToken", next), nil
}

func (s *Server) clusterShape(ci *clusterIndex) ecsCluster {
	out := ecsCluster{
		ClusterArn: ci.c.ARN, ClusterName: ci.name, Status: statusOr(ci.c.Status, "ACTIVE"),
		Statistics: []any{}, Tags: []any{}, Settings: []ecsKV{{Name: "containerInsights", Value: "disabled"}},
		CapacityProviders: []string{}, DefaultCapacityProviderStrategy: []any{},
	}
	for _, inst := range ci.c.ContainerInstances {
		if statusOr(inst.Status, "ACTIVE") != "INACTIVE" {
			out.RegisteredContainerInstancesCount++
		}
	}
	providers := map[string]bool{}
	for _, svc := range ci.c.Services {
		if statusOr(svc.Status, "ACTIVE") == "ACTIVE" {
			out.ActiveServicesCount++
			out.RunningTasksCount += svc.RunningCount
		}
		for _, p := range svc.CapacityProviders {
			if !providers[p] {
				providers[p] = true
				out.CapacityProviders = append(out.CapacityProviders, p)
			}
		}
	}
	return out
}

func (s *Server) ecsDescribeClusters(c *call) (any, error) {
	var in struct {
		Clusters []string `json:"clusters"`
		Include  []string `json:"include"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if len(in.Clusters) > 100 {
		return nil, ecsInvalid("clusters can have at most 100 items.")
	}
	if len(in.Clusters) == 0 {
		in.Clusters = []string{"default"}
	}
	clusters := []ecsCluster{}
	failures := []ecsFailure{}
	for _, key := range in.Clusters {
		var ci *clusterIndex
		if c.reg != nil {
			ci = c.reg.clusterByKey[key]
		}
		if ci == nil {
			failures = append(failures, ecsFailure{Arn: s.ecsARN(c, "cluster", key), Reason: "MISSING"})
			continue
		}
		clusters = append(clusters, s.clusterShape(ci))
	}
	return map[string]any{"clusters": clusters, "failures": failures}, nil
}

// ecsARN builds an ARN for a name in the caller's account and region (used
// in failures), leaving ARNs as given.
func (s *Server) ecsARN(c *call, kind, key string) string {
	if strings.HasPrefix(key, "arn:") {
		return key
	}
	return "arn:" + s.w.partition + ":ecs:" + c.region + ":" + c.caller.account + ":" + kind + "/" + key
}

// ---- services ----

func (s *Server) ecsListServices(c *call) (any, error) {
	var in struct {
		Cluster            string `json:"cluster"`
		NextToken          string `json:"nextToken"`
		MaxResults         *int32 `json:"maxResults"`
		LaunchType         string `json:"launchType"`
		SchedulingStrategy string `json:"schedulingStrategy"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	ci, err := s.cluster(c, in.Cluster)
	if err != nil {
		return nil, err
	}
	switch in.LaunchType {
	case "", inventory.LaunchEC2, inventory.LaunchFargate, inventory.LaunchExternal:
	default:
		return nil, ecsInvalid("launchType %q is not valid.", in.LaunchType)
	}
	switch in.SchedulingStrategy {
	case "", "REPLICA", "DAEMON":
	default:
		return nil, ecsInvalid("schedulingStrategy %q is not valid.", in.SchedulingStrategy)
	}
	var arns []string
	for _, svc := range ci.c.Services {
		if statusOr(svc.Status, "ACTIVE") == "INACTIVE" {
			continue
		}
		if in.LaunchType != "" && svc.LaunchType != in.LaunchType {
			continue
		}
		if in.SchedulingStrategy == "DAEMON" {
			continue
		}
		arns = append(arns, svc.ARN)
	}
	lo, hi, next, err := s.ecsPage(c, ci.c.ARN+"|"+in.LaunchType+"|"+in.SchedulingStrategy, in.NextToken, in.MaxResults, 10, len(arns))
	if err != nil {
		return nil, err
	}
	return pageOut("serviceArns", append([]string{}, arns[lo:hi]...), "nextToken", next), nil
}

// isTaskSet says whether a world deployment is served as a task set: the
// inventory keeps both in Deployments, and task sets are recognised by an
// ID starting with "ts-" or the task-set-only status DRAINING.
func isTaskSet(d inventory.Deployment) bool {
	return strings.HasPrefix(d.ID, "ts-") || d.Status == "DRAINING"
}

func (s *Server) serviceShape(c *call, ci *clusterIndex, svc *inventory.Service, tags bool) ecsService {
	created := epoch(s.w.base.Add(-90 * 24 * time.Hour))
	out := ecsService{
		ServiceArn: svc.ARN, ServiceName: serviceName(svc), ClusterArn: ci.c.ARN,
		LoadBalancers: []any{}, ServiceRegistries: []any{}, Status: statusOr(svc.Status, "ACTIVE"),
		DesiredCount: svc.DesiredCount, RunningCount: svc.RunningCount,
		LaunchType: svc.LaunchType, CapacityProviderStrategy: strategy(svc.CapacityProviders),
		PlatformVersion: svc.PlatformVersion, PlatformFamily: svc.PlatformFamily,
		TaskDefinition: svc.TaskDefinition, Deployments: []ecsDeployment{}, Events: []any{},
		CreatedAt: created, PlacementConstraints: []any{}, PlacementStrategy: []any{},
		SchedulingStrategy: "REPLICA", DeploymentController: map[string]string{"type": "ECS"},
		PropagateTags: "NONE", NetworkConfiguration: networkShape(svc.Network),
	}
	if tags {
		out.Tags = []any{}
	}
	for i, d := range svc.Deployments {
		if isTaskSet(d) {
			out.DeploymentController["type"] = "EXTERNAL"
			id := d.ID
			if id == "" {
				id = fmt.Sprintf("ts-%d", i+1)
			}
			out.TaskSets = append(out.TaskSets, ecsTaskSet{
				ID: id, TaskSetArn: s.taskSetARN(svc, ci, id), ServiceArn: svc.ARN, ClusterArn: ci.c.ARN,
				Status: d.Status, TaskDefinition: d.TaskDefinition, CreatedAt: created, UpdatedAt: created,
				LaunchType: d.LaunchType, CapacityProviderStrategy: strategy(d.CapacityProviders),
				PlatformVersion: d.PlatformVersion, StabilityStatus: "STEADY_STATE", NetworkConfiguration: networkShape(d.Network),
			})
			continue
		}
		dep := ecsDeployment{
			ID: d.ID, Status: d.Status, TaskDefinition: d.TaskDefinition, CreatedAt: created, UpdatedAt: created,
			LaunchType: d.LaunchType, CapacityProviderStrategy: strategy(d.CapacityProviders),
			PlatformVersion: d.PlatformVersion, RolloutState: "COMPLETED", NetworkConfiguration: networkShape(d.Network),
		}
		if d.Status == "PRIMARY" {
			dep.DesiredCount, dep.RunningCount = svc.DesiredCount, svc.RunningCount
		}
		if d.Status != "PRIMARY" && d.Status != "" {
			dep.RolloutState = "IN_PROGRESS"
		}
		if d.PlatformVersion != "" {
			dep.PlatformFamily = svc.PlatformFamily
		}
		out.Deployments = append(out.Deployments, dep)
	}
	return out
}

func (s *Server) taskSetARN(svc *inventory.Service, ci *clusterIndex, id string) string {
	prefix, _, ok := strings.Cut(svc.ARN, ":service/")
	if !ok {
		return svc.ARN + "/task-set/" + id
	}
	return prefix + ":task-set/" + ci.name + "/" + serviceName(svc) + "/" + id
}

func (s *Server) ecsDescribeServices(c *call) (any, error) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
		Include  []string `json:"include"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if len(in.Services) == 0 {
		return nil, ecsInvalid("Services cannot be empty.")
	}
	if len(in.Services) > 10 {
		return nil, ecsInvalid("service names can have at most 10 items.")
	}
	ci, err := s.cluster(c, in.Cluster)
	if err != nil {
		return nil, err
	}
	tags := contains(in.Include, "TAGS")
	services := []ecsService{}
	failures := []ecsFailure{}
	for _, key := range in.Services {
		svc := ci.svcByKey[key]
		if svc == nil {
			failures = append(failures, ecsFailure{Arn: s.ecsARN(c, "service", ci.name+"/"+key), Reason: "MISSING"})
			continue
		}
		services = append(services, s.serviceShape(c, ci, svc, tags))
	}
	return map[string]any{"services": services, "failures": failures}, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// ---- container instances ----

var instanceStatuses = map[string]bool{"ACTIVE": true, "DRAINING": true, "REGISTERING": true, "DEREGISTERING": true, "REGISTRATION_FAILED": true}

func (s *Server) ecsListContainerInstances(c *call) (any, error) {
	var in struct {
		Cluster    string `json:"cluster"`
		Filter     string `json:"filter"`
		NextToken  string `json:"nextToken"`
		MaxResults *int32 `json:"maxResults"`
		Status     string `json:"status"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	ci, err := s.cluster(c, in.Cluster)
	if err != nil {
		return nil, err
	}
	if in.Filter != "" {
		return nil, ecsInvalid("fakeaws does not evaluate cluster query language filters; list without filter and filter on the client.")
	}
	if in.Status != "" && !instanceStatuses[in.Status] {
		return nil, ecsInvalid("status %q is not valid.", in.Status)
	}
	var arns []string
	for _, inst := range ci.c.ContainerInstances {
		st := statusOr(inst.Status, "ACTIVE")
		if (in.Status == "" && st != "INACTIVE") || st == in.Status {
			arns = append(arns, inst.ARN)
		}
	}
	lo, hi, next, err := s.ecsPage(c, ci.c.ARN+"|"+in.Status, in.NextToken, in.MaxResults, 100, len(arns))
	if err != nil {
		return nil, err
	}
	return pageOut("containerInstanceArns", append([]string{}, arns[lo:hi]...), "nextToken", next), nil
}

func (s *Server) instanceShape(inst *inventory.ContainerInstance) ecsContainerInstance {
	out := ecsContainerInstance{
		ContainerInstanceArn: inst.ARN, Ec2InstanceID: inst.EC2InstanceID, Version: 1,
		VersionInfo:        ecsVersionInfo{AgentVersion: inst.AgentVersion, AgentHash: inst.AgentHash, DockerVersion: inst.DockerVersion},
		RemainingResources: []any{}, RegisteredResources: []any{}, Status: statusOr(inst.Status, "ACTIVE"),
		AgentConnected: inst.AgentConnected, Attributes: []ecsAttribute{},
		RegisteredAt: epoch(s.w.base.Add(-30 * 24 * time.Hour)), Attachments: []any{}, Tags: []any{},
	}
	for _, a := range inst.Attributes {
		out.Attributes = append(out.Attributes, ecsAttribute{Name: a.Name, Value: a.Value})
	}
	return out
}

func (s *Server) ecsDescribeContainerInstances(c *call) (any, error) {
	var in struct {
		Cluster            string   `json:"cluster"`
		ContainerInstances []string `json:"containerInstances"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if len(in.ContainerInstances) == 0 {
		return nil, ecsInvalid("instanceIds can not be empty.")
	}
	if len(in.ContainerInstances) > 100 {
		return nil, ecsInvalid("instanceIds can have at most 100 items.")
	}
	ci, err := s.cluster(c, in.Cluster)
	if err != nil {
		return nil, err
	}
	insts := []ecsContainerInstance{}
	failures := []ecsFailure{}
	for _, key := range in.ContainerInstances {
		inst := ci.ciByKey[key]
		if inst == nil {
			failures = append(failures, ecsFailure{Arn: s.ecsARN(c, "container-instance", ci.name+"/"+key), Reason: "MISSING"})
			continue
		}
		insts = append(insts, s.instanceShape(inst))
	}
	return map[string]any{"containerInstances": insts, "failures": failures}, nil
}

func (s *Server) ecsListAttributes(c *call) (any, error) {
	var in struct {
		Cluster        string `json:"cluster"`
		TargetType     string `json:"targetType"`
		AttributeName  string `json:"attributeName"`
		AttributeValue string `json:"attributeValue"`
		NextToken      string `json:"nextToken"`
		MaxResults     *int32 `json:"maxResults"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if in.TargetType != "container-instance" {
		return nil, ecsInvalid("targetType must be container-instance.")
	}
	if in.AttributeValue != "" && in.AttributeName == "" {
		return nil, ecsInvalid("attributeValue requires attributeName.")
	}
	ci, err := s.cluster(c, in.Cluster)
	if err != nil {
		return nil, err
	}
	var list []ecsAttribute
	for _, inst := range ci.c.ContainerInstances {
		for _, a := range inst.Attributes {
			if (in.AttributeName == "" || a.Name == in.AttributeName) && (in.AttributeValue == "" || a.Value == in.AttributeValue) {
				list = append(list, ecsAttribute{Name: a.Name, Value: a.Value, TargetType: "container-instance", TargetID: inst.ARN})
			}
		}
	}
	lo, hi, next, err := s.ecsPage(c, ci.c.ARN+"|"+in.AttributeName+"|"+in.AttributeValue, in.NextToken, in.MaxResults, 100, len(list))
	if err != nil {
		return nil, err
	}
	return pageOut("attributes", append([]ecsAttribute{}, list[lo:hi]...), "nextToken", next), nil
}

// ListTasks and DescribeTasks serve the world's tasks (inventory.Task) of
// each cluster.
func (s *Server) ecsListTasks(c *call) (any, error) {
	var in struct {
		Cluster           string `json:"cluster"`
		ContainerInstance string `json:"containerInstance"`
		Family            string `json:"family"`
		StartedBy         string `json:"startedBy"`
		ServiceName       string `json:"serviceName"`
		DesiredStatus     string `json:"desiredStatus"`
		LaunchType        string `json:"launchType"`
		NextToken         string `json:"nextToken"`
		MaxResults        *int32 `json:"maxResults"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	ci, err := s.cluster(c, in.Cluster)
	if err != nil {
		return nil, err
	}
	switch in.DesiredStatus {
	case "":
		in.DesiredStatus = "RUNNING"
	case "RUNNING", "PENDING", "STOPPED":
	default:
		return nil, ecsInvalid("desiredStatus %q is not valid.", in.DesiredStatus)
	}
	var arns []string
	for _, t := range launchOf(c).tasks[ci] {
		if statusOr(t.DesiredStatus, "RUNNING") != in.DesiredStatus {
			continue
		}
		if (in.ContainerInstance != "" && t.ContainerInstanceARN != in.ContainerInstance && lastSegment(t.ContainerInstanceARN) != in.ContainerInstance) ||
			(in.StartedBy != "" && t.StartedBy != in.StartedBy) || (in.LaunchType != "" && t.LaunchType != in.LaunchType) ||
			(in.ServiceName != "" && t.Group != "service:"+in.ServiceName) ||
			(in.Family != "" && !strings.Contains(t.TaskDefinition, "task-definition/"+in.Family+":")) {
			continue
		}
		arns = append(arns, t.ARN)
	}
	lo, hi, next, err := s.ecsPage(c, ci.c.ARN+"|"+in.DesiredStatus+"|"+in.Family+"|"+in.StartedBy+"|"+in.ServiceName+"|"+in.LaunchType+"|"+in.ContainerInstance,
		in.NextToken, in.MaxResults, 100, len(arns))
	if err != nil {
		return nil, err
	}
	return pageOut("taskArns", append([]string{}, arns[lo:hi]...), "nextToken", next), nil
}

type ecsTaskShape struct {
	TaskArn              string           `json:"taskArn"`
	ClusterArn           string           `json:"clusterArn"`
	TaskDefinitionArn    string           `json:"taskDefinitionArn"`
	LastStatus           string           `json:"lastStatus"`
	DesiredStatus        string           `json:"desiredStatus"`
	LaunchType           string           `json:"launchType,omitempty"`
	CapacityProviderName string           `json:"capacityProviderName,omitempty"`
	PlatformVersion      string           `json:"platformVersion,omitempty"`
	PlatformFamily       string           `json:"platformFamily,omitempty"`
	Group                string           `json:"group,omitempty"`
	StartedBy            string           `json:"startedBy,omitempty"`
	ContainerInstanceArn string           `json:"containerInstanceArn,omitempty"`
	StopCode             string           `json:"stopCode,omitempty"`
	StoppedReason        string           `json:"stoppedReason,omitempty"`
	Overrides            map[string]any   `json:"overrides"`
	Attachments          []map[string]any `json:"attachments"`
	Containers           []any            `json:"containers"`
	CreatedAt            float64          `json:"createdAt"`
	Version              int              `json:"version"`
}

func (s *Server) taskShape(ci *clusterIndex, t *inventory.Task) ecsTaskShape {
	out := ecsTaskShape{
		TaskArn: t.ARN, ClusterArn: ci.c.ARN, TaskDefinitionArn: t.TaskDefinition,
		LastStatus: statusOr(t.LastStatus, statusOr(t.DesiredStatus, "RUNNING")), DesiredStatus: statusOr(t.DesiredStatus, "RUNNING"),
		LaunchType: t.LaunchType, CapacityProviderName: t.CapacityProvider, PlatformVersion: t.PlatformVersion, PlatformFamily: t.PlatformFamily,
		Group: t.Group, StartedBy: t.StartedBy, ContainerInstanceArn: t.ContainerInstanceARN, StopCode: t.StopCode, StoppedReason: t.StoppedReason,
		Overrides:   map[string]any{"containerOverrides": []any{}, "inferenceAcceleratorOverrides": []any{}},
		Attachments: []map[string]any{}, Containers: []any{}, CreatedAt: epoch(s.w.base.Add(-2 * time.Hour)), Version: 3,
	}
	if t.ExecutionRoleOverride != "" {
		out.Overrides["executionRoleArn"] = t.ExecutionRoleOverride
	}
	if n := t.Network; n != nil || t.NetworkInterfaceID != "" {
		var details []map[string]string
		if n != nil && len(n.Subnets) > 0 {
			details = append(details, map[string]string{"name": "subnetId", "value": n.Subnets[0]})
		}
		if t.NetworkInterfaceID != "" {
			details = append(details, map[string]string{"name": "networkInterfaceId", "value": t.NetworkInterfaceID})
		}
		details = append(details, map[string]string{"name": "privateIPv4Address", "value": "10.0.0.10"})
		status := "ATTACHED"
		if out.LastStatus == "STOPPED" {
			status = "DELETED"
		}
		out.Attachments = append(out.Attachments, map[string]any{"id": lastSegment(t.ARN) + "-eni", "type": "ElasticNetworkInterface",
			"status": status, "details": details})
	}
	return out
}

func (s *Server) ecsDescribeTasks(c *call) (any, error) {
	var in struct {
		Cluster string   `json:"cluster"`
		Tasks   []string `json:"tasks"`
		Include []string `json:"include"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 {
		return nil, ecsInvalid("Tasks cannot be empty.")
	}
	if len(in.Tasks) > 100 {
		return nil, ecsInvalid("tasks can have at most 100 items.")
	}
	ci, err := s.cluster(c, in.Cluster)
	if err != nil {
		return nil, err
	}
	tasks := []ecsTaskShape{}
	failures := []ecsFailure{}
	list := launchOf(c).tasks[ci]
	for _, key := range in.Tasks {
		i := slices.IndexFunc(list, func(t *inventory.Task) bool { return t.ARN == key || lastSegment(t.ARN) == key })
		if i < 0 {
			failures = append(failures, ecsFailure{Arn: s.ecsARN(c, "task", ci.name+"/"+key), Reason: "MISSING"})
			continue
		}
		tasks = append(tasks, s.taskShape(ci, list[i]))
	}
	return map[string]any{"tasks": tasks, "failures": failures}, nil
}

func (s *Server) ecsListTagsForResource(c *call) (any, error) {
	var in struct {
		ResourceArn string `json:"resourceArn"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(in.ResourceArn, "arn:") {
		return nil, ecsInvalid("The ARN provided is invalid.")
	}
	return map[string]any{"tags": []any{}}, nil
}

// ---- task definitions ----

func tdStatus(td *inventory.TaskDefinition) string { return statusOr(td.Status, "ACTIVE") }

func (s *Server) ecsListTaskDefinitionFamilies(c *call) (any, error) {
	var in struct {
		FamilyPrefix string `json:"familyPrefix"`
		Status       string `json:"status"`
		NextToken    string `json:"nextToken"`
		MaxResults   *int32 `json:"maxResults"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	switch in.Status {
	case "":
		in.Status = "ALL"
	case "ACTIVE", "INACTIVE", "ALL":
	default:
		return nil, ecsInvalid("status %q is not valid.", in.Status)
	}
	var fams []string
	if c.reg != nil {
		for _, fam := range c.reg.families {
			if !strings.HasPrefix(fam, in.FamilyPrefix) {
				continue
			}
			active := false
			for _, td := range c.reg.familyTDs[fam] {
				if tdStatus(td) == "ACTIVE" {
					active = true
				}
			}
			if in.Status == "ALL" || (in.Status == "ACTIVE") == active {
				fams = append(fams, fam)
			}
		}
	}
	lo, hi, next, err := s.ecsPage(c, in.FamilyPrefix+"|"+in.Status, in.NextToken, in.MaxResults, 100, len(fams))
	if err != nil {
		return nil, err
	}
	return pageOut("families", append([]string{}, fams[lo:hi]...), "nextToken", next), nil
}

func (s *Server) ecsListTaskDefinitions(c *call) (any, error) {
	var in struct {
		FamilyPrefix string `json:"familyPrefix"`
		Status       string `json:"status"`
		Sort         string `json:"sort"`
		NextToken    string `json:"nextToken"`
		MaxResults   *int32 `json:"maxResults"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	switch in.Status {
	case "":
		in.Status = "ACTIVE"
	case "ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS":
	default:
		return nil, ecsInvalid("status %q is not valid.", in.Status)
	}
	switch in.Sort {
	case "":
		in.Sort = "ASC"
	case "ASC", "DESC":
	default:
		return nil, ecsInvalid("sort %q is not valid.", in.Sort)
	}
	var arns []string
	if c.reg != nil {
		for _, td := range c.reg.tds {
			if (in.FamilyPrefix == "" || td.Family == in.FamilyPrefix) && tdStatus(td) == in.Status {
				arns = append(arns, td.ARN)
			}
		}
	}
	if in.Sort == "DESC" {
		for i, j := 0, len(arns)-1; i < j; i, j = i+1, j-1 {
			arns[i], arns[j] = arns[j], arns[i]
		}
	}
	lo, hi, next, err := s.ecsPage(c, in.FamilyPrefix+"|"+in.Status+"|"+in.Sort, in.NextToken, in.MaxResults, 100, len(arns))
	if err != nil {
		return nil, err
	}
	return pageOut("taskDefinitionArns", append([]string{}, arns[lo:hi]...), "nextToken", next), nil
}

// findTaskDefinition resolves an ARN, family:revision or family (latest ACTIVE).
func (s *Server) findTaskDefinition(c *call, key string) *inventory.TaskDefinition {
	if c.reg == nil || key == "" {
		return nil
	}
	if strings.HasPrefix(key, "arn:") {
		return c.reg.tdByARN[key]
	}
	if fam, rev, ok := strings.Cut(key, ":"); ok {
		if n, err := strconv.Atoi(rev); err != nil || n <= 0 || fam == "" {
			return nil
		}
		return c.reg.tdByFamRev[key]
	}
	list := c.reg.familyTDs[key]
	for i := len(list) - 1; i >= 0; i-- {
		if tdStatus(list[i]) == "ACTIVE" {
			return list[i]
		}
	}
	return nil
}

func (s *Server) ecsDescribeTaskDefinition(c *call) (any, error) {
	var in struct {
		TaskDefinition string   `json:"taskDefinition"`
		Include        []string `json:"include"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if in.TaskDefinition == "" {
		return nil, ecsInvalid("taskDefinition can not be blank.")
	}
	td := s.findTaskDefinition(c, in.TaskDefinition)
	if td == nil {
		return nil, clientErr("ClientException", "Unable to describe task definition.")
	}
	out := map[string]any{"taskDefinition": s.taskDefinitionShape(c.reg, td)}
	if contains(in.Include, "TAGS") {
		out["tags"] = []any{}
	}
	return out, nil
}

func (s *Server) taskDefinitionShape(reg *regionIndex, td *inventory.TaskDefinition) ecsTaskDefinition {
	out := ecsTaskDefinition{
		TaskDefinitionArn: td.ARN, Family: td.Family, Revision: td.Revision,
		TaskRoleArn: td.TaskRoleARN, ExecutionRoleArn: td.ExecutionRoleARN, NetworkMode: td.NetworkMode,
		Status: tdStatus(td), PlacementConstraints: []any{}, Volumes: []ecsVolume{},
		Compatibilities: td.Compatibilities, RequiresCompatibilities: td.RequiresCompatibilities,
		ContainerDefinitions: []ecsContainerDefinition{},
		RegisteredAt:         epoch(s.w.base.Add(-time.Duration(1000-min(int(td.Revision), 999)) * time.Hour)),
	}
	if out.Status != "ACTIVE" {
		d := epoch(s.w.base.Add(-time.Hour))
		out.DeregisteredAt = &d
	}
	for _, a := range td.RequiresAttributes {
		out.RequiresAttributes = append(out.RequiresAttributes, ecsAttribute{Name: a.Name, Value: a.Value})
	}
	if rp := td.RuntimePlatform; rp != nil {
		out.RuntimePlatform = &ecsRuntimePlatform{CPUArchitecture: rp.CPUArchitecture, OperatingSystemFamily: rp.OperatingSystemFamily}
	}
	for _, v := range td.Volumes {
		vol := ecsVolume{Name: v.Name}
		if f := v.FSxWindowsFileServerVolumeConfiguration; f != nil {
			vol.FsxWindowsFileServerVolumeConfiguration = &ecsFSx{FileSystemID: f.FileSystemID, RootDirectory: f.RootDirectory}
			if a := f.AuthorizationConfig; a != nil {
				vol.FsxWindowsFileServerVolumeConfiguration.AuthorizationConfig = &ecsFSxAuth{CredentialsParameter: a.CredentialsParameter, Domain: a.Domain}
			}
		} else {
			vol.Host = &struct{}{}
		}
		out.Volumes = append(out.Volumes, vol)
	}
	for _, cd := range td.ContainerDefinitions {
		out.ContainerDefinitions = append(out.ContainerDefinitions, s.containerShape(reg, td, cd))
	}
	return out
}

func (s *Server) containerShape(reg *regionIndex, td *inventory.TaskDefinition, cd inventory.ContainerDefinition) ecsContainerDefinition {
	out := ecsContainerDefinition{
		Name: cd.Name, Image: cd.Image, Essential: cd.Essential == nil || *cd.Essential,
		PortMappings: []any{}, Environment: []ecsKV{}, MountPoints: []any{}, VolumesFrom: []any{}, SystemControls: []any{},
	}
	if rc := cd.RepositoryCredentials; rc != nil {
		out.RepositoryCredentials = &ecsRepoCreds{CredentialsParameter: rc.CredentialsParameter}
	}
	for _, e := range cd.Environment {
		out.Environment = append(out.Environment, ecsKV{Name: e.Name, Value: s.envValue(reg, td, cd.Name, e)})
	}
	for _, f := range cd.EnvironmentFiles {
		out.EnvironmentFiles = append(out.EnvironmentFiles, ecsTypeValue{Value: f.Value, Type: f.Type})
	}
	for _, sr := range cd.Secrets {
		out.Secrets = append(out.Secrets, ecsNameValueFrom{Name: sr.Name, ValueFrom: sr.ValueFrom})
	}
	if lc := cd.LogConfiguration; lc != nil {
		l := &ecsLogConfiguration{LogDriver: lc.LogDriver, Options: lc.Options}
		for _, sr := range lc.SecretOptions {
			l.SecretOptions = append(l.SecretOptions, ecsNameValueFrom{Name: sr.Name, ValueFrom: sr.ValueFrom})
		}
		out.LogConfiguration = l
	}
	if fc := cd.FirelensConfiguration; fc != nil {
		out.FirelensConfiguration = &ecsFirelens{Type: fc.Type, Options: fc.Options}
	}
	return out
}

// envValue is the synthetic value of an environment variable, cached: the
// world does not change, and generating checks the classification.
func (s *Server) envValue(reg *regionIndex, td *inventory.TaskDefinition, container string, e inventory.EnvVar) string {
	seed := hashStrings(s.w.seed, "env", reg.account, reg.name, td.ARN, container, e.Name, e.ValueClass, strconv.Itoa(e.ValueLength))
	if v, ok := s.envCache.Load(seed); ok {
		return v.(string)
	}
	v := syntheticValue(e.ValueClass, e.ValueLength, seed)
	s.envCache.Store(seed, v)
	return v
}
