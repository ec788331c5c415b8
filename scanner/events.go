package scanner

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"golang.org/x/sync/errgroup"

	"github.com/ecs-audit/audit/inventory"
)

// EventBridge and Scheduler page sizes (the API maximums).
const (
	eventsPageLimit    = 100
	schedulerPageLimit = 100
)

// defaultEventBus is the bus ListRuleNamesByTarget reads without a name.
const defaultEventBus = "default"

// launchState is the part of a regionScan that finds rules and schedules.
type launchState struct {
	events    eventsAPI
	scheduler schedulerAPI
	eventsB   *bucket
	schedB    *bucket

	busesOnce onceCache[string, busList]
	ruleMu    sync.Mutex
	rules     map[string]*inventory.EventRule // bus|name → rule (nil while being read)
	schedules []*inventory.Schedule
	schedSt   string
}

// busList is the result of ListEventBuses: the bus names and whether the
// listing was complete.
type busList struct {
	names    []string
	complete bool
}

// eventBuses lists the region's event buses once. When the listing fails,
// the default bus is still searched (ListRuleNamesByTarget without a bus
// name) and the result is incomplete.
func (rs *regionScan) eventBuses(ctx context.Context) busList {
	l, _ := rs.ls.busesOnce.get(ctx, "", func() (busList, error) {
		names, err := paginate(ctx, rs.c, listing{w: rs.w, b: rs.ls.eventsB, svc: "events", op: "ListEventBuses"}, nil,
			func(ctx context.Context, token *string) ([]string, *string, error) {
				out, err := rs.ls.events.ListEventBuses(ctx, &eventbridge.ListEventBusesInput{Limit: aws.Int32(eventsPageLimit), NextToken: token})
				if err != nil {
					return nil, nil, err
				}
				var names []string
				for _, b := range out.EventBuses {
					if n := aws.ToString(b.Name); n != "" {
						names = append(names, n)
					}
				}
				return names, out.NextToken, nil
			})
		if !slices.Contains(names, defaultEventBus) {
			names = append(names, defaultEventBus)
		}
		slices.Sort(names)
		return busList{names: slices.Compact(names), complete: err == nil}, nil
	})
	return l
}

// rulesForCluster finds the EventBridge rules that target a cluster
// (ListRuleNamesByTarget on each event bus, with the cluster's ARN) and
// reads each such rule once (ListTargetsByRule, DescribeRule). It never
// lists every rule's targets.
func (rs *regionScan) rulesForCluster(ctx context.Context, cl *inventory.Cluster) {
	if rs.ls.events == nil {
		return
	}
	buses := rs.eventBuses(ctx)
	var mu sync.Mutex
	ok, failed := 0, 0
	var g errgroup.Group
	for _, bus := range buses.names {
		g.Go(func() error {
			in := func(token *string) *eventbridge.ListRuleNamesByTargetInput {
				return &eventbridge.ListRuleNamesByTargetInput{TargetArn: aws.String(cl.ARN), EventBusName: aws.String(bus),
					Limit: aws.Int32(eventsPageLimit), NextToken: token}
			}
			names, err := paginate(ctx, rs.c, listing{w: rs.w, b: rs.ls.eventsB, svc: "events", op: "ListRuleNamesByTarget", resource: cl.ARN + " bus " + bus}, nil,
				func(ctx context.Context, token *string) ([]string, *string, error) {
					out, err := rs.ls.events.ListRuleNamesByTarget(ctx, in(token))
					if err != nil {
						return nil, nil, err
					}
					return out.RuleNames, out.NextToken, nil
				})
			mu.Lock()
			if err != nil {
				failed++
			} else {
				ok++
			}
			mu.Unlock()
			for _, n := range names {
				if n != "" {
					rs.wantRule(ctx, bus, n)
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	st := inventory.CollectedComplete
	switch {
	case ok == 0:
		st = inventory.CollectedNone
	case failed > 0 || !buses.complete:
		st = inventory.CollectedPartial
	}
	rs.mu.Lock()
	cl.EventRulesStatus = st
	rs.mu.Unlock()
}

// wantRule reads a rule once: its ECS targets and its state and schedule.
func (rs *regionScan) wantRule(ctx context.Context, bus, name string) {
	key := bus + "|" + name
	rs.ls.ruleMu.Lock()
	if _, dup := rs.ls.rules[key]; dup {
		rs.ls.ruleMu.Unlock()
		return
	}
	rs.ls.rules[key] = nil
	rs.ls.ruleMu.Unlock()
	rs.g.Go(func() error {
		rule := &inventory.EventRule{Name: name, EventBusName: bus}
		var g errgroup.Group
		g.Go(func() error {
			out, err := call(ctx, rs.c, rs.w, rs.ls.eventsB, "events", "DescribeRule", bus+"/"+name, func(ctx context.Context) (*eventbridge.DescribeRuleOutput, error) {
				return rs.ls.events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name), EventBusName: aws.String(bus)})
			})
			rule.DescribeStatus = inventory.CollectedNone
			if err == nil {
				rule.DescribeStatus = inventory.CollectedComplete
				rule.ARN = aws.ToString(out.Arn)
				rule.State = string(out.State)
				rule.ScheduleExpression = aws.ToString(out.ScheduleExpression)
				rule.HasEventPattern = aws.ToString(out.EventPattern) != ""
			}
			return nil
		})
		g.Go(func() error {
			targets, err := paginate(ctx, rs.c, listing{w: rs.w, b: rs.ls.eventsB, svc: "events", op: "ListTargetsByRule", resource: bus + "/" + name}, nil,
				func(ctx context.Context, token *string) ([]ebtypes.Target, *string, error) {
					out, err := rs.ls.events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name), EventBusName: aws.String(bus),
						Limit: aws.Int32(eventsPageLimit), NextToken: token})
					if err != nil {
						return nil, nil, err
					}
					return out.Targets, out.NextToken, nil
				})
			switch {
			case err == nil:
				rule.TargetsStatus = inventory.CollectedComplete
			case len(targets) > 0:
				rule.TargetsStatus = inventory.CollectedPartial
			default:
				rule.TargetsStatus = inventory.CollectedNone
			}
			seen := map[string]bool{}
			for _, t := range targets {
				rt, ok := convertRuleTarget(t)
				if !ok || seen[rt.ID] {
					continue
				}
				seen[rt.ID] = true
				rule.Targets = append(rule.Targets, rt)
				rs.wantTaskDefinition(ctx, rt.Launch.TaskDefinition)
			}
			return nil
		})
		_ = g.Wait()
		rs.ls.ruleMu.Lock()
		rs.ls.rules[key] = rule
		rs.ls.ruleMu.Unlock()
		return nil
	})
}

// isECSClusterARN reports whether a target ARN names an ECS cluster.
func isECSClusterARN(s string) bool {
	a, ok := parseARN(s)
	return ok && a.service == "ecs" && strings.HasPrefix(a.resource, "cluster/")
}

// isUniversalRunTask reports whether a Scheduler target is the universal
// target for ecs:RunTask (arn:<partition>:scheduler:::aws-sdk:ecs:runTask).
func isUniversalRunTask(s string) bool {
	p := strings.SplitN(s, ":", 6)
	return len(p) == 6 && p[0] == "arn" && p[2] == "scheduler" && strings.EqualFold(p[5], "aws-sdk:ecs:runTask")
}

// convertRuleTarget maps an ECS target of a rule (its ARN is a cluster);
// other targets are not launch paths.
func convertRuleTarget(t ebtypes.Target) (inventory.RuleTarget, bool) {
	arn := aws.ToString(t.Arn)
	if arn == "" || aws.ToString(t.Id) == "" || (!isECSClusterARN(arn) && t.EcsParameters == nil) {
		return inventory.RuleTarget{}, false
	}
	l := inventory.ECSLaunch{ClusterARN: arn, RoleARN: aws.ToString(t.RoleArn)}
	if p := t.EcsParameters; p != nil {
		l.TaskDefinition = aws.ToString(p.TaskDefinitionArn)
		l.TaskCount = aws.ToInt32(p.TaskCount)
		l.LaunchType = string(p.LaunchType)
		l.PlatformVersion = aws.ToString(p.PlatformVersion)
		l.Group = aws.ToString(p.Group)
		for _, it := range p.CapacityProviderStrategy {
			if n := aws.ToString(it.CapacityProvider); n != "" {
				l.CapacityProviders = append(l.CapacityProviders, n)
			}
		}
		if n := p.NetworkConfiguration; n != nil && n.AwsvpcConfiguration != nil {
			c := n.AwsvpcConfiguration
			l.Network = awsvpcConf(c.Subnets, c.SecurityGroups, string(c.AssignPublicIp))
		}
	}
	switch {
	case aws.ToString(t.InputPath) != "" || t.InputTransformer != nil:
		// The overrides come from the event at run time.
		l.OverridesUnknown = true
	case aws.ToString(t.Input) != "":
		l.ExecutionRoleOverride, l.OverridesUnknown = overrideRole(aws.ToString(t.Input))
	}
	return inventory.RuleTarget{ID: aws.ToString(t.Id), Launch: l}, true
}

// awsvpcConf builds an awsvpc configuration from untrusted values: empty
// subnet and security group entries are dropped, and assignPublicIp is
// ENABLED or DISABLED (ECS's default for a missing value), or empty
// (unknown) for anything else.
func awsvpcConf(subnets, groups []string, assign string) *inventory.AwsvpcConfiguration {
	keep := func(in []string) []string {
		var out []string
		for _, v := range in {
			if strings.TrimSpace(v) != "" {
				out = append(out, v)
			}
		}
		return out
	}
	c := &inventory.AwsvpcConfiguration{Subnets: keep(subnets), SecurityGroups: keep(groups)}
	switch strings.ToUpper(assign) {
	case "", "DISABLED":
		c.AssignPublicIP = "DISABLED"
	case "ENABLED":
		c.AssignPublicIP = "ENABLED"
	}
	return c
}

// overrideRole reads the executionRoleArn of a constant target input, which
// EventBridge passes to RunTask as the task overrides. Only that field is
// kept: the input may hold environment overrides. unknown is true when the
// input is not a JSON object.
func overrideRole(input string) (role string, unknown bool) {
	var o struct {
		ExecutionRoleArn *string `json:"executionRoleArn"`
	}
	if err := json.Unmarshal([]byte(input), &o); err != nil {
		return "", true
	}
	return aws.ToString(o.ExecutionRoleArn), false
}

// schedules lists the region's Scheduler schedules (one paged call) and
// reads those whose target runs an ECS task (GetSchedule).
func (rs *regionScan) schedules(ctx context.Context) {
	if rs.ls.scheduler == nil {
		return
	}
	api := rs.ls.scheduler
	sums, err := paginate(ctx, rs.c, listing{w: rs.w, b: rs.ls.schedB, svc: "scheduler", op: "ListSchedules"}, nil,
		func(ctx context.Context, token *string) ([]schedtypes.ScheduleSummary, *string, error) {
			out, err := api.ListSchedules(ctx, &scheduler.ListSchedulesInput{MaxResults: aws.Int32(schedulerPageLimit), NextToken: token})
			if err != nil {
				return nil, nil, err
			}
			return out.Schedules, out.NextToken, nil
		})
	st := inventory.CollectedComplete
	switch {
	case err != nil && len(sums) == 0:
		st = inventory.CollectedNone
	case err != nil:
		st = inventory.CollectedPartial
	}
	var mu sync.Mutex
	var out []*inventory.Schedule
	seen := map[string]bool{}
	var g errgroup.Group
	for _, s := range sums {
		target := ""
		if s.Target != nil {
			target = aws.ToString(s.Target.Arn)
		}
		if !isECSClusterARN(target) && !isUniversalRunTask(target) {
			continue
		}
		name, group := aws.ToString(s.Name), aws.ToString(s.GroupName)
		if name == "" || seen[group+"|"+name] {
			continue
		}
		seen[group+"|"+name] = true
		sch := &inventory.Schedule{Name: name, GroupName: group, ARN: aws.ToString(s.Arn), State: string(s.State),
			TargetARN: target, Universal: isUniversalRunTask(target), Status: inventory.CollectedNone}
		g.Go(func() error {
			in := &scheduler.GetScheduleInput{Name: aws.String(name)}
			if group != "" {
				in.GroupName = aws.String(group)
			}
			res, err := call(ctx, rs.c, rs.w, rs.ls.schedB, "scheduler", "GetSchedule", group+"/"+name, func(ctx context.Context) (*scheduler.GetScheduleOutput, error) {
				return api.GetSchedule(ctx, in)
			})
			if err == nil {
				sch.Status = inventory.CollectedComplete
				sch.State = string(res.State)
				sch.ScheduleExpression = aws.ToString(res.ScheduleExpression)
				sch.Launch = scheduleLaunch(res.Target, sch)
				rs.wantTaskDefinition(ctx, sch.Launch.TaskDefinition)
			}
			mu.Lock()
			out = append(out, sch)
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	rs.ls.schedules, rs.ls.schedSt = out, st
}

// scheduleLaunch maps a schedule's target: EcsParameters for a templated
// ECS target, the RunTask request in the input for the universal target.
func scheduleLaunch(t *schedtypes.Target, sch *inventory.Schedule) *inventory.ECSLaunch {
	l := &inventory.ECSLaunch{ClusterARN: sch.TargetARN}
	if t == nil {
		return l
	}
	l.RoleARN = aws.ToString(t.RoleArn)
	if sch.Universal {
		universalLaunch(aws.ToString(t.Input), l)
		return l
	}
	if p := t.EcsParameters; p != nil {
		l.TaskDefinition = aws.ToString(p.TaskDefinitionArn)
		l.TaskCount = aws.ToInt32(p.TaskCount)
		l.LaunchType = string(p.LaunchType)
		l.PlatformVersion = aws.ToString(p.PlatformVersion)
		l.Group = aws.ToString(p.Group)
		for _, it := range p.CapacityProviderStrategy {
			if n := aws.ToString(it.CapacityProvider); n != "" {
				l.CapacityProviders = append(l.CapacityProviders, n)
			}
		}
		if n := p.NetworkConfiguration; n != nil && n.AwsvpcConfiguration != nil {
			c := n.AwsvpcConfiguration
			l.Network = awsvpcConf(c.Subnets, c.SecurityGroups, string(c.AssignPublicIp))
		}
	}
	if in := aws.ToString(t.Input); in != "" {
		l.ExecutionRoleOverride, l.OverridesUnknown = overrideRole(in)
	}
	return l
}

// universalLaunch reads the ecs:RunTask request a universal target sends
// (field names matched without regard to case, as the API's JSON and the
// SDKs' spellings differ). Only the fields a launch needs are kept.
func universalLaunch(input string, l *inventory.ECSLaunch) {
	var req struct {
		Cluster                  string
		TaskDefinition           string
		Count                    int32
		LaunchType               string
		PlatformVersion          string
		Group                    string
		CapacityProviderStrategy []struct{ CapacityProvider string }
		NetworkConfiguration     *struct {
			AwsvpcConfiguration *struct {
				Subnets        []string
				SecurityGroups []string
				AssignPublicIp string
			}
		}
		Overrides *struct{ ExecutionRoleArn string }
	}
	if err := json.Unmarshal([]byte(input), &req); err != nil {
		l.OverridesUnknown = true
		l.ClusterARN = "default"
		return
	}
	l.ClusterARN = req.Cluster
	if l.ClusterARN == "" {
		l.ClusterARN = "default"
	}
	l.TaskDefinition, l.TaskCount, l.LaunchType = req.TaskDefinition, req.Count, req.LaunchType
	l.PlatformVersion, l.Group = req.PlatformVersion, req.Group
	for _, it := range req.CapacityProviderStrategy {
		if it.CapacityProvider != "" {
			l.CapacityProviders = append(l.CapacityProviders, it.CapacityProvider)
		}
	}
	if n := req.NetworkConfiguration; n != nil && n.AwsvpcConfiguration != nil {
		c := n.AwsvpcConfiguration
		l.Network = awsvpcConf(c.Subnets, c.SecurityGroups, c.AssignPublicIp)
	}
	if req.Overrides != nil {
		l.ExecutionRoleOverride = req.Overrides.ExecutionRoleArn
	}
}

// finishLaunchPaths stores the rules and schedules found in the region and
// collects the network path of its awsvpc launches (or records that it was
// skipped). It runs after every launch of the region is known.
func (rs *regionScan) finishLaunchPaths(ctx context.Context, region *inventory.Region, ec2 ec2API) {
	for _, r := range rs.ls.rules {
		if r != nil {
			region.EventRules = append(region.EventRules, r)
		}
	}
	region.Schedules, region.SchedulesStatus = rs.ls.schedules, rs.ls.schedSt
	if region.Status != inventory.RegionScanned {
		return
	}
	if !rs.c.cfg.ResolveResources {
		region.Network = &inventory.Network{Status: inventory.CollectedSkipped}
		return
	}
	region.Network = rs.c.network(ctx, rs.w, ec2, region)
}
