package fakeaws

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// EventBridge Scheduler (REST-JSON): GET /schedules (ListSchedules) and
// GET /schedules/{Name}?groupName= (GetSchedule) over the world's
// schedules (inventory.Schedule). The other routes are recognised so that
// writes are refused and recorded like every mutating call.

func schedulerOps() map[string]opFunc {
	return map[string]opFunc{
		"ListSchedules": (*Server).schedulerListSchedules,
		"GetSchedule":   (*Server).schedulerGetSchedule,
	}
}

// schedulerRoute maps a Scheduler request to its operation.
func schedulerRoute(r *http.Request) (string, map[string]string) {
	path := r.URL.Path
	one := func(prefix string) (string, bool) {
		rest, ok := strings.CutPrefix(path, prefix)
		if !ok || rest == "" || strings.Contains(rest, "/") {
			return "", false
		}
		name, err := url.PathUnescape(rest)
		return name, err == nil
	}
	switch {
	case path == "/schedules":
		if r.Method == http.MethodGet {
			return "ListSchedules", nil
		}
	case path == "/schedule-groups":
		if r.Method == http.MethodGet {
			return "ListScheduleGroups", nil
		}
	case strings.HasPrefix(path, "/tags/"):
		arn, _ := url.PathUnescape(strings.TrimPrefix(path, "/tags/"))
		switch r.Method {
		case http.MethodGet:
			return "ListTagsForResource", map[string]string{"ResourceArn": arn}
		case http.MethodPost:
			return "TagResource", map[string]string{"ResourceArn": arn}
		case http.MethodDelete:
			return "UntagResource", map[string]string{"ResourceArn": arn}
		}
	}
	if name, ok := one("/schedules/"); ok {
		p := map[string]string{"Name": name}
		switch r.Method {
		case http.MethodGet:
			return "GetSchedule", p
		case http.MethodPost:
			return "CreateSchedule", p
		case http.MethodPut:
			return "UpdateSchedule", p
		case http.MethodDelete:
			return "DeleteSchedule", p
		}
	}
	if name, ok := one("/schedule-groups/"); ok {
		p := map[string]string{"Name": name}
		switch r.Method {
		case http.MethodGet:
			return "GetScheduleGroup", p
		case http.MethodPost:
			return "CreateScheduleGroup", p
		case http.MethodDelete:
			return "DeleteScheduleGroup", p
		}
	}
	return "", nil
}

func (s *Server) scheduleARN(c *call, sch *inventory.Schedule) string {
	if sch.ARN != "" {
		return sch.ARN
	}
	return "arn:" + s.w.partition + ":scheduler:" + c.region + ":" + c.caller.account + ":schedule/" + schedGroup(sch) + "/" + sch.Name
}

func (s *Server) schedulerListSchedules(c *call) (any, error) {
	q := c.r.URL.Query()
	var limit *int32
	if v := q.Get("MaxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, clientErr("ValidationException", "MaxResults must be a number.")
		}
		n32 := int32(n)
		limit = &n32
	}
	group, prefix, state := q.Get("ScheduleGroup"), q.Get("NamePrefix"), q.Get("State")
	switch state {
	case "", "ENABLED", "DISABLED":
	default:
		return nil, clientErr("ValidationException", "State %q is not valid.", state)
	}
	var list []map[string]any
	for _, sch := range launchOf(c).schedules {
		if (group != "" && schedGroup(sch) != group) || !strings.HasPrefix(sch.Name, prefix) || (state != "" && statusOr(sch.State, "ENABLED") != state) {
			continue
		}
		list = append(list, map[string]any{
			"Arn": s.scheduleARN(c, sch), "GroupName": schedGroup(sch), "Name": sch.Name, "State": statusOr(sch.State, "ENABLED"),
			"Target": map[string]string{"Arn": sch.TargetARN},
		})
	}
	mr, has := optInt(limit)
	lo, hi, next, err := s.paginate(c, pageSpec{
		scope: c.op + "|" + c.caller.account + "|" + c.region + "|" + group + "|" + prefix + "|" + state, token: q.Get("NextToken"),
		max: mr, hasMax: has, def: 100, top: 100, maxName: "MaxResults",
	}, len(list))
	if err != nil {
		return nil, err
	}
	return pageOut("Schedules", append([]map[string]any{}, list[lo:hi]...), "NextToken", next), nil
}

func (s *Server) schedulerGetSchedule(c *call) (any, error) {
	name := c.params["Name"]
	group := c.r.URL.Query().Get("groupName")
	if group == "" {
		group = "default"
	}
	for _, sch := range launchOf(c).schedules {
		if sch.Name != name || schedGroup(sch) != group {
			continue
		}
		target := map[string]any{"Arn": sch.TargetARN, "RoleArn": "arn:" + s.w.partition + ":iam::" + c.caller.account + ":role/scheduler"}
		out := map[string]any{
			"Arn": s.scheduleARN(c, sch), "GroupName": group, "Name": sch.Name, "State": statusOr(sch.State, "ENABLED"),
			"ScheduleExpression": sch.ScheduleExpression, "FlexibleTimeWindow": map[string]string{"Mode": "OFF"}, "Target": target,
		}
		if sch.ScheduleExpression == "" {
			out["ScheduleExpression"] = "rate(1 day)"
		}
		if l := sch.Launch; l != nil {
			if l.RoleARN != "" {
				target["RoleArn"] = l.RoleARN
			}
			if sch.Universal {
				target["Input"] = runTaskInput(*l)
			} else {
				target["EcsParameters"] = ecsParametersShape(*l)
				if in := overridesInput(*l); in != "" {
					target["Input"] = in
				}
				if l.OverridesUnknown {
					// Not JSON: the overrides cannot be read statically.
					target["Input"] = "<aws.scheduler.execution-id>"
				}
			}
		}
		return out, nil
	}
	return nil, notFound("Schedule %s does not exist.", name)
}

// runTaskInput is the ecs:RunTask request of a universal target, in the
// ECS API's JSON.
func runTaskInput(l inventory.ECSLaunch) string {
	req := map[string]any{"cluster": l.ClusterARN, "taskDefinition": l.TaskDefinition}
	if l.LaunchType != "" {
		req["launchType"] = l.LaunchType
	}
	if l.PlatformVersion != "" {
		req["platformVersion"] = l.PlatformVersion
	}
	if n := l.Network; n != nil {
		req["networkConfiguration"] = map[string]any{"awsvpcConfiguration": map[string]any{
			"subnets": n.Subnets, "securityGroups": n.SecurityGroups, "assignPublicIp": n.AssignPublicIP}}
	}
	if l.ExecutionRoleOverride != "" {
		req["overrides"] = map[string]string{"executionRoleArn": l.ExecutionRoleOverride}
	}
	b, _ := json.Marshal(req)
	return string(b)
}
