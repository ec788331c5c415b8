package findings

import (
	"slices"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

// Launch builders: a standalone task, an EventBridge rule target and a
// Scheduler schedule.

func (w *tw) task(c *inventory.Cluster, id string, t *inventory.TaskDefinition, launch, override string, subnets ...string) *inventory.Task {
	tk := &inventory.Task{ARN: strings.Replace(c.ARN, ":cluster/", ":task/", 1) + "/" + id, TaskDefinition: t.ARN, ExecutionRoleOverride: override,
		LastStatus: "RUNNING", DesiredStatus: "RUNNING", LaunchType: launch, PlatformVersion: "1.4.0", Group: "family:" + t.Family, StartedBy: "ci"}
	if len(subnets) > 0 {
		tk.Network = &inventory.AwsvpcConfiguration{Subnets: subnets, AssignPublicIP: "DISABLED"}
	}
	c.Tasks = append(c.Tasks, tk)
	c.TasksStatus = inventory.CollectedComplete
	return tk
}

func ecsLaunch(c *inventory.Cluster, taskDef, launch string, subnets ...string) inventory.ECSLaunch {
	l := inventory.ECSLaunch{ClusterARN: c.ARN, TaskDefinition: taskDef, TaskCount: 1, LaunchType: launch, RoleARN: "arn:aws:iam::111122223333:role/events"}
	if len(subnets) > 0 {
		l.Network = &inventory.AwsvpcConfiguration{Subnets: subnets, AssignPublicIP: "DISABLED"}
	}
	return l
}

func (w *tw) rule(name string, l inventory.ECSLaunch) *inventory.EventRule {
	r := &inventory.EventRule{Name: name, ARN: "arn:aws:events:us-east-1:111122223333:rule/" + name, State: "ENABLED", ScheduleExpression: "rate(1 hour)",
		DescribeStatus: inventory.CollectedComplete, TargetsStatus: inventory.CollectedComplete, Targets: []inventory.RuleTarget{{ID: "1", Launch: l}}}
	w.reg.EventRules = append(w.reg.EventRules, r)
	return r
}

func (w *tw) schedule(name string, l inventory.ECSLaunch) *inventory.Schedule {
	s := &inventory.Schedule{Name: name, ARN: "arn:aws:scheduler:us-east-1:111122223333:schedule/default/" + name, State: "ENABLED",
		TargetARN: l.ClusterARN, ScheduleExpression: "cron(0 2 * * ? *)", Launch: &l, Status: inventory.CollectedComplete}
	w.reg.Schedules = append(w.reg.Schedules, s)
	w.reg.SchedulesStatus = inventory.CollectedComplete
	return s
}

func affectedTypes(f *Finding) []string {
	var out []string
	for _, a := range f.Affected {
		out = append(out, a.Type+":"+a.Name)
	}
	return out
}

// A task's overrides.executionRoleArn replaces the task definition's role
// for that task: the overriding role is evaluated for the task
// definition's needs, as a root cause of its own.
func TestOverrideRole(t *testing.T) {
	secret := "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf"
	setup := func(w *tw) (*inventory.TaskDefinition, *inventory.Cluster) {
		own := w.role("own", ecsTrust, true, "s", allowDoc(`"secretsmanager:GetSecretValue"`, `"*"`))
		return w.td("app", own, "FARGATE", ctr("app", ecrImg("app:1"), withSecret("DB", secret))), w.cluster("c")
	}
	t.Run("the overriding role lacks a grant", func(t *testing.T) {
		w := newTW()
		td, c := setup(w)
		w.role("override", ecsTrust, true)
		w.task(c, "0a1b", td, "FARGATE", "arn:aws:iam::111122223333:role/override")
		r := w.eval(t)
		f := wantFinding(t, r, "ER004", 1, Critical, "Execution role arn:aws:iam::111122223333:role/override, which standalone task 0a1b passes in its overrides in place of the execution role of task definition app:1",
			"secretsmanager:GetSecretValue")
		if f.RoleARN != "arn:aws:iam::111122223333:role/override" || f.ResourceARN != td.ARN || !slices.Contains(affectedTypes(f), "task:0a1b") {
			t.Errorf("finding %+v", f)
		}
		if f.Fix.Target == nil || f.Fix.Target.ARN != "arn:aws:iam::111122223333:role/override" || len(f.Fix.Steps) != 0 {
			t.Errorf("fix %+v: a grant to the overriding role, proved", f.Fix)
		}
		// The role report counts the task definition among the override
		// role's users, with its needs.
		for _, rr := range r.Roles {
			if strings.HasSuffix(rr.RoleARN, "/override") && (!slices.Contains(rr.UsedBy, td.ARN) || len(rr.Needs) == 0) {
				t.Errorf("role report %+v", rr)
			}
		}
	})
	t.Run("the same cause on the task definition's own role is another root cause", func(t *testing.T) {
		w := newTW()
		own := w.role("own", ecsTrust, true)
		td := w.td("app", own, "FARGATE", ctr("app", ecrImg("app:1"), withSecret("DB", secret)))
		w.role("override", ecsTrust, true)
		w.task(w.cluster("c"), "0a1b", td, "FARGATE", "override")
		r := w.eval(t)
		got := byRule(r, "ER004")
		if len(got) != 2 || got[0].ID == got[1].ID || got[0].RoleARN == got[1].RoleARN {
			t.Fatalf("want two root causes keyed by role, got %+v", got)
		}
		members := map[string]bool{}
		for _, f := range got {
			for _, m := range f.MemberIDs {
				if members[m] {
					t.Errorf("member %s in two findings", m)
				}
				members[m] = true
			}
		}
	})
	t.Run("the overriding role does not exist", func(t *testing.T) {
		w := newTW()
		td, c := setup(w)
		w.task(c, "0a1b", td, "FARGATE", "arn:aws:iam::111122223333:role/gone")
		r := w.eval(t)
		f := wantFinding(t, r, "ER002", 1, Critical, "Standalone task 0a1b passes execution role arn:aws:iam::111122223333:role/gone in its overrides for task definition app:1", "does not exist")
		if f.Fix.Layer != FixLaunch || f.Fix.Target.Type != ResourceTask {
			t.Errorf("fix %+v", f.Fix)
		}
		check(t, r, "ER004", 0, "")
	})
	t.Run("the overriding role is the task definition's own", func(t *testing.T) {
		w := newTW()
		td, c := setup(w)
		w.task(c, "0a1b", td, "FARGATE", "own")
		r := w.eval(t)
		if len(r.Findings) != 0 && len(byRule(r, "ER004")) != 0 {
			t.Errorf("findings %+v", r.Findings)
		}
	})
	t.Run("an EventBridge rule's constant overrides", func(t *testing.T) {
		w := newTW()
		td, c := setup(w)
		l := ecsLaunch(c, td.ARN, "FARGATE")
		l.ExecutionRoleOverride = "arn:aws:iam::111122223333:role/gone"
		w.rule("nightly", l)
		r := w.eval(t)
		wantFinding(t, r, "ER002", 1, Critical, "EventBridge rule nightly passes execution role")
	})
	t.Run("a rule whose overrides come from the event is stated, not judged", func(t *testing.T) {
		w := newTW()
		own := w.role("own", ecsTrust, true)
		td := w.td("app", own, "FARGATE", ctr("app", ecrImg("app:1"), withSecret("DB", secret)))
		l := ecsLaunch(w.cluster("c"), td.ARN, "FARGATE")
		l.OverridesUnknown = true
		w.rule("on-upload", l)
		r := w.eval(t)
		wantFinding(t, r, "ER004", 1, Critical, "It is launched by EventBridge rule on-upload (its overrides come from the event or a template: an execution role they may name was not evaluated).")
		check(t, r, "ER002", 0, "")
	})
	t.Run("a templated override is not a role", func(t *testing.T) {
		w := newTW()
		td, c := setup(w)
		l := ecsLaunch(c, td.ARN, "FARGATE")
		l.ExecutionRoleOverride = "<aws.scheduler.execution-role>"
		w.schedule("tmpl", l)
		r := w.eval(t)
		check(t, r, "ER002", 0, "")
		check(t, r, "ER004", 0, "")
	})
}

// Revisions that only a schedule, a rule or a standalone task runs count
// as in use: their hosting comes from the launch, and findings name it.
func TestLaunchPathsInUse(t *testing.T) {
	t.Run("a scheduled-task revision", func(t *testing.T) {
		w := newTW()
		// No requiresCompatibilities: only the schedule says it runs on Fargate.
		td := w.td("report", "", "", ctr("app", ecrImg("report:3")))
		w.schedule("nightly-report", ecsLaunch(w.cluster("c"), "arn:aws:ecs:us-east-1:111122223333:task-definition/report:1", "FARGATE"))
		r := w.eval(t)
		f := wantFinding(t, r, "ER001", 1, Critical, "FARGATE", "It is launched by Scheduler schedule nightly-report.")
		if !slices.Contains(affectedTypes(f), "scheduler-schedule:nightly-report") {
			t.Errorf("affected %v", affectedTypes(f))
		}
		var tr *TaskDefReport
		for i := range r.TaskDefinitions {
			if r.TaskDefinitions[i].ARN == td.ARN {
				tr = &r.TaskDefinitions[i]
			}
		}
		if tr == nil || !slices.Equal(tr.LaunchTypes, []string{"FARGATE"}) {
			t.Errorf("task definition report %+v", tr)
		}
	})
	t.Run("a rule names its task definition by family: the latest active revision", func(t *testing.T) {
		w := newTW()
		exec := w.role("exec", ecsTrust, false)
		old := w.td("batch", exec, "FARGATE", ctr("app", ecrImg("batch:1")))
		newer := w.td("batch", exec, "FARGATE", ctr("app", ecrImg("batch:2")))
		newer.Revision, newer.ARN = 2, strings.Replace(newer.ARN, ":1", ":2", 1)
		w.rule("hourly", ecsLaunch(w.cluster("c"), "batch", "FARGATE"))
		r := w.eval(t)
		for _, f := range byRule(r, "ER004") {
			if f.ResourceARN == old.ARN && slices.Contains(affectedTypes(&f), "eventbridge-rule:hourly") {
				t.Errorf("the rule was tied to revision 1: %s", f.Message)
			}
		}
		f := wantFinding(t, r, "ER004", 2, Critical)
		_ = f
		found := false
		for _, f := range byRule(r, "ER004") {
			if f.ResourceARN == newer.ARN {
				found = slices.Contains(affectedTypes(&f), "eventbridge-rule:hourly") && strings.Contains(f.Message, "It is launched by EventBridge rule hourly.")
			}
		}
		if !found {
			t.Error("revision 2's finding does not name the rule")
		}
	})
	t.Run("a standalone task on EC2 places the revision on the cluster's instances", func(t *testing.T) {
		w := newTW()
		exec := w.role("exec", ecsTrust, true)
		td := w.td("job", exec, "", ctr("app", ecrImg("job:1"), withLogs("/ecs/job", "job")))
		c := w.cluster("c")
		w.instance(c, "i-old", "1.15.0")
		tk := w.task(c, "0c0d", td, "EC2", "")
		tk.ContainerInstanceARN = c.ContainerInstances[0].ARN
		r := w.eval(t)
		check(t, r, "AG001", 1, "")
	})
	t.Run("a service's tasks are the service's", func(t *testing.T) {
		w := newTW()
		td := w.td("web", "", "FARGATE", ctr("app", ecrImg("web:1")))
		c := w.cluster("c")
		w.service(c, "web", "FARGATE", "LATEST", td)
		tk := w.task(c, "0e0f", td, "FARGATE", "")
		tk.Group = "service:web"
		r := w.eval(t)
		f := wantFinding(t, r, "ER001", 1, Critical)
		if slices.ContainsFunc(f.Affected, func(a ResourceRef) bool { return a.Type == ResourceTask }) || strings.Contains(f.Message, "launched by") {
			t.Errorf("the service's task is named: %+v %s", f.Affected, f.Message)
		}
	})
	t.Run("a schedule's platform version below a feature's minimum", func(t *testing.T) {
		w := newTW()
		exec := w.role("exec", ecsTrust, true, "s", allowDoc(`["s3:GetObject","s3:GetBucketLocation"]`, `"*"`))
		td := w.td("report", exec, "FARGATE", ctr("app", "public.ecr.aws/x/y:1", func(c *inventory.ContainerDefinition) {
			c.EnvironmentFiles = []inventory.EnvironmentFile{{Value: "arn:aws:s3:::cfg/app.env", Type: "s3"}}
		}))
		l := ecsLaunch(w.cluster("c"), td.ARN, "FARGATE")
		l.PlatformVersion = "1.3.0"
		s := w.schedule("nightly-report", l)
		r := w.eval(t)
		f := wantFinding(t, r, "FG001", 1, High, "Scheduler schedule nightly-report in account 111122223333, us-east-1 runs task definition report:1 on Fargate platform version 1.3.0, older than 1.4.0")
		if f.ResourceType != ResourceSchedule || f.ResourceARN != s.ARN || f.Fix.Layer != FixLaunch {
			t.Errorf("finding on %s %s, fix %s", f.ResourceType, f.ResourceARN, f.Fix.Layer)
		}
	})
	t.Run("a rule's revision that was not collected is a coverage gap", func(t *testing.T) {
		w := newTW()
		w.rule("orphan", ecsLaunch(w.cluster("c"), "arn:aws:ecs:us-east-1:111122223333:task-definition/gone:4", "FARGATE"))
		r := w.eval(t)
		gapsContain(t, r, "EventBridge rule orphan runs task definition arn:aws:ecs:us-east-1:111122223333:task-definition/gone:4, which was not collected")
	})
}
