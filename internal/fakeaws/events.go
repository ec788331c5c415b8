package fakeaws

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// EventBridge (JSON 1.1, X-Amz-Target AWSEvents.*): the world's rules with
// ECS targets (inventory.EventRule), on the default bus and custom buses.

func eventsOps() map[string]opFunc {
	return map[string]opFunc{
		"ListEventBuses":        (*Server).eventsListEventBuses,
		"ListRuleNamesByTarget": (*Server).eventsListRuleNamesByTarget,
		"ListTargetsByRule":     (*Server).eventsListTargetsByRule,
		"DescribeRule":          (*Server).eventsDescribeRule,
		"ListRules":             (*Server).eventsListRules,
	}
}

// launchIndex is a region's launch paths and network, as the handlers of
// events.go, scheduler.go and ec2.go look them up.
type launchIndex struct {
	buses     []string                                   // sorted, "default" first
	rules     map[string]map[string]*inventory.EventRule // bus → name → rule
	ruleNames map[string][]string                        // bus → sorted names
	schedules []*inventory.Schedule                      // by group, then name
	network   *inventory.Network
	enis      []worldENI
	tasks     map[*clusterIndex][]*inventory.Task
}

// worldENI is a task ENI served by DescribeNetworkInterfaces.
type worldENI struct {
	id, subnet, vpc string
	public          bool
}

// indexLaunchPaths indexes a region's tasks, rules, schedules and network,
// checking what the handlers rely on.
func indexLaunchPaths(ri *regionIndex, r *inventory.Region, f string) error {
	li := &launchIndex{rules: map[string]map[string]*inventory.EventRule{}, ruleNames: map[string][]string{},
		network: r.Network, tasks: map[*clusterIndex][]*inventory.Task{}}
	ri.launch = li
	vpcOf := map[string]string{}
	if r.Network != nil {
		for _, s := range r.Network.Subnets {
			if s.Status == inventory.CollectedComplete {
				vpcOf[s.ID] = s.VPCID
			}
		}
	}
	seenENI := map[string]bool{}
	for k, c := range r.Clusters {
		ci := ri.clusterByKey[c.ARN]
		seen := map[string]bool{}
		for l, t := range c.Tasks {
			if seen[t.ARN] {
				return worldError(fmt.Sprintf("%s.clusters[%d].tasks[%d].arn", f, k, l), "task %q is listed twice", t.ARN)
			}
			seen[t.ARN] = true
			li.tasks[ci] = append(li.tasks[ci], t)
			if t.NetworkInterfaceID != "" && !seenENI[t.NetworkInterfaceID] && t.DesiredStatus != "STOPPED" && t.Network != nil {
				seenENI[t.NetworkInterfaceID] = true
				e := worldENI{id: t.NetworkInterfaceID, public: t.Network.AssignPublicIP == "ENABLED"}
				if len(t.Network.Subnets) > 0 {
					e.subnet = t.Network.Subnets[0]
					e.vpc = vpcOf[e.subnet]
				}
				li.enis = append(li.enis, e)
			}
		}
	}
	sort.Slice(li.enis, func(i, j int) bool { return li.enis[i].id < li.enis[j].id })
	for k, er := range r.EventRules {
		bus := er.EventBusName
		if bus == "" {
			bus = "default"
		}
		if li.rules[bus] == nil {
			li.rules[bus] = map[string]*inventory.EventRule{}
			li.buses = append(li.buses, bus)
		}
		if li.rules[bus][er.Name] != nil {
			return worldError(fmt.Sprintf("%s.eventRules[%d].name", f, k), "rule %q of bus %q is listed twice", er.Name, bus)
		}
		li.rules[bus][er.Name] = er
		li.ruleNames[bus] = append(li.ruleNames[bus], er.Name)
	}
	if li.rules["default"] == nil {
		li.buses = append(li.buses, "default")
	}
	sort.Slice(li.buses, func(i, j int) bool {
		if (li.buses[i] == "default") != (li.buses[j] == "default") {
			return li.buses[i] == "default"
		}
		return li.buses[i] < li.buses[j]
	})
	for _, names := range li.ruleNames {
		sort.Strings(names)
	}
	li.schedules = append(li.schedules, r.Schedules...)
	sort.SliceStable(li.schedules, func(i, j int) bool {
		a, b := li.schedules[i], li.schedules[j]
		if schedGroup(a) != schedGroup(b) {
			return schedGroup(a) < schedGroup(b)
		}
		return a.Name < b.Name
	})
	for i := 1; i < len(li.schedules); i++ {
		if a, b := li.schedules[i-1], li.schedules[i]; schedGroup(a) == schedGroup(b) && a.Name == b.Name {
			return worldError(f+".schedules", "schedule %q of group %q is listed twice", a.Name, schedGroup(a))
		}
	}
	return nil
}

func schedGroup(s *inventory.Schedule) string {
	if s.GroupName == "" {
		return "default"
	}
	return s.GroupName
}

// launchOf returns the caller region's launch index (empty for a region
// the world does not have).
func launchOf(c *call) *launchIndex {
	if c.reg == nil || c.reg.launch == nil {
		return &launchIndex{buses: []string{"default"}}
	}
	return c.reg.launch
}

// busName resolves an EventBusName parameter (a name or an ARN; "" is the
// default bus).
func busName(v string) string {
	if v == "" {
		return "default"
	}
	if strings.HasPrefix(v, "arn:") {
		if i := strings.Index(v, ":event-bus/"); i >= 0 {
			return v[i+len(":event-bus/"):]
		}
	}
	return v
}

func (s *Server) eventsPage(c *call, scope, token string, limit *int32, n int) (int, int, string, error) {
	mr, has := optInt(limit)
	return s.paginate(c, pageSpec{
		scope: c.op + "|" + c.caller.account + "|" + c.region + "|" + scope, token: token,
		max: mr, hasMax: has, def: 100, top: 100, maxName: "limit",
	}, n)
}

func (s *Server) busARN(c *call, bus string) string {
	return "arn:" + s.w.partition + ":events:" + c.region + ":" + c.caller.account + ":event-bus/" + bus
}

func (s *Server) eventsListEventBuses(c *call) (any, error) {
	var in struct {
		NamePrefix string
		NextToken  string
		Limit      *int32
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	var buses []map[string]any
	for _, b := range launchOf(c).buses {
		if strings.HasPrefix(b, in.NamePrefix) {
			buses = append(buses, map[string]any{"Name": b, "Arn": s.busARN(c, b)})
		}
	}
	lo, hi, next, err := s.eventsPage(c, in.NamePrefix, in.NextToken, in.Limit, len(buses))
	if err != nil {
		return nil, err
	}
	return pageOut("EventBuses", append([]map[string]any{}, buses[lo:hi]...), "NextToken", next), nil
}

func (s *Server) eventsListRuleNamesByTarget(c *call) (any, error) {
	var in struct {
		TargetArn    string
		EventBusName string
		NextToken    string
		Limit        *int32
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if in.TargetArn == "" {
		return nil, clientErr("ValidationException", "1 validation error detected: Value null at 'targetArn' failed to satisfy constraint: Member must not be null")
	}
	li := launchOf(c)
	bus := busName(in.EventBusName)
	if li.rules[bus] == nil && bus != "default" {
		return nil, clientErr("ResourceNotFoundException", "Event bus %s does not exist.", bus)
	}
	names := []string{}
	for _, n := range li.ruleNames[bus] {
		for _, t := range li.rules[bus][n].Targets {
			if t.Launch.ClusterARN == in.TargetArn {
				names = append(names, n)
				break
			}
		}
	}
	lo, hi, next, err := s.eventsPage(c, bus+"|"+in.TargetArn, in.NextToken, in.Limit, len(names))
	if err != nil {
		return nil, err
	}
	return pageOut("RuleNames", append([]string{}, names[lo:hi]...), "NextToken", next), nil
}

func (s *Server) rule(c *call, bus, name string) (*inventory.EventRule, error) {
	if name == "" {
		return nil, clientErr("ValidationException", "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	}
	r := launchOf(c).rules[bus][name]
	if r == nil {
		return nil, clientErr("ResourceNotFoundException", "Rule %s does not exist on EventBus %s.", name, bus)
	}
	return r, nil
}

// ebTarget is an EventBridge Target with EcsParameters.
type ebTarget struct {
	Id               string
	Arn              string
	RoleArn          string         `json:",omitempty"`
	Input            string         `json:",omitempty"`
	InputTransformer map[string]any `json:",omitempty"`
	EcsParameters    map[string]any `json:",omitempty"`
}

// ecsParametersShape is EcsParameters as EventBridge and Scheduler send
// them: PascalCase members, camelCase inside NetworkConfiguration and the
// capacity provider strategy.
func ecsParametersShape(l inventory.ECSLaunch) map[string]any {
	p := map[string]any{"TaskDefinitionArn": l.TaskDefinition}
	if l.TaskCount > 0 {
		p["TaskCount"] = l.TaskCount
	}
	if l.LaunchType != "" {
		p["LaunchType"] = l.LaunchType
	}
	if l.PlatformVersion != "" {
		p["PlatformVersion"] = l.PlatformVersion
	}
	if l.Group != "" {
		p["Group"] = l.Group
	}
	if len(l.CapacityProviders) > 0 {
		var items []map[string]any
		for _, cp := range l.CapacityProviders {
			items = append(items, map[string]any{"capacityProvider": cp, "weight": 1})
		}
		p["CapacityProviderStrategy"] = items
	}
	if n := l.Network; n != nil {
		vpc := map[string]any{"Subnets": n.Subnets}
		if len(n.SecurityGroups) > 0 {
			vpc["SecurityGroups"] = n.SecurityGroups
		}
		if n.AssignPublicIP != "" {
			vpc["AssignPublicIp"] = n.AssignPublicIP
		}
		p["NetworkConfiguration"] = map[string]any{"awsvpcConfiguration": vpc}
	}
	return p
}

// overridesInput is the constant input that carries an execution role
// override (what the world records), or "" when there is none.
func overridesInput(l inventory.ECSLaunch) string {
	if l.ExecutionRoleOverride == "" {
		return ""
	}
	b, _ := json.Marshal(map[string]string{"executionRoleArn": l.ExecutionRoleOverride})
	return string(b)
}

func (s *Server) eventsListTargetsByRule(c *call) (any, error) {
	var in struct {
		Rule         string
		EventBusName string
		NextToken    string
		Limit        *int32
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	bus := busName(in.EventBusName)
	r, err := s.rule(c, bus, in.Rule)
	if err != nil {
		return nil, err
	}
	lo, hi, next, err := s.eventsPage(c, bus+"|"+in.Rule, in.NextToken, in.Limit, len(r.Targets))
	if err != nil {
		return nil, err
	}
	targets := []ebTarget{}
	for _, t := range r.Targets[lo:hi] {
		et := ebTarget{Id: t.ID, Arn: t.Launch.ClusterARN, RoleArn: t.Launch.RoleARN, EcsParameters: ecsParametersShape(t.Launch),
			Input: overridesInput(t.Launch)}
		if t.Launch.OverridesUnknown {
			et.Input = ""
			et.InputTransformer = map[string]any{"InputPathsMap": map[string]string{"role": "$.detail.role"},
				"InputTemplate": `{"executionRoleArn": <role>}`}
		}
		targets = append(targets, et)
	}
	return pageOut("Targets", targets, "NextToken", next), nil
}

func (s *Server) ruleARN(c *call, bus, name string) string {
	if bus == "default" {
		return "arn:" + s.w.partition + ":events:" + c.region + ":" + c.caller.account + ":rule/" + name
	}
	return "arn:" + s.w.partition + ":events:" + c.region + ":" + c.caller.account + ":rule/" + bus + "/" + name
}

func (s *Server) ruleShape(c *call, bus string, r *inventory.EventRule) map[string]any {
	out := map[string]any{"Name": r.Name, "Arn": r.ARN, "EventBusName": bus, "State": statusOr(r.State, "ENABLED")}
	if r.ARN == "" {
		out["Arn"] = s.ruleARN(c, bus, r.Name)
	}
	if r.ScheduleExpression != "" {
		out["ScheduleExpression"] = r.ScheduleExpression
	}
	if r.HasEventPattern || r.ScheduleExpression == "" {
		out["EventPattern"] = `{"source":["aws.events"]}`
	}
	return out
}

func (s *Server) eventsDescribeRule(c *call) (any, error) {
	var in struct {
		Name         string
		EventBusName string
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	bus := busName(in.EventBusName)
	r, err := s.rule(c, bus, in.Name)
	if err != nil {
		return nil, err
	}
	out := s.ruleShape(c, bus, r)
	out["CreatedBy"] = c.caller.account
	return out, nil
}

func (s *Server) eventsListRules(c *call) (any, error) {
	var in struct {
		NamePrefix   string
		EventBusName string
		NextToken    string
		Limit        *int32
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	li := launchOf(c)
	bus := busName(in.EventBusName)
	var rules []map[string]any
	for _, n := range li.ruleNames[bus] {
		if strings.HasPrefix(n, in.NamePrefix) {
			rules = append(rules, s.ruleShape(c, bus, li.rules[bus][n]))
		}
	}
	lo, hi, next, err := s.eventsPage(c, bus+"|"+in.NamePrefix, in.NextToken, in.Limit, len(rules))
	if err != nil {
		return nil, err
	}
	return pageOut("Rules", append([]map[string]any{}, rules[lo:hi]...), "NextToken", next), nil
}

// notFound is a REST 404.
func notFound(format string, args ...any) *apiError {
	return newErr(http.StatusNotFound, "ResourceNotFoundException", format, args...)
}
