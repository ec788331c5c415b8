package findings

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// Every launch path is in scope (docs/snapshot.md, "Launch paths and the
// network path"). A task definition revision reaches tasks through
// services (serviceRef, evaluate.go) and through:
//
//   - standalone tasks (RunTask, running or recently stopped);
//   - EventBridge rule targets (EcsParameters);
//   - EventBridge Scheduler schedules.
//
// Each counts as "in use" like a service: where it runs (launch type,
// capacity provider, platform version) feeds the task definition's
// hosting, an EC2 launch places the revision on its cluster's container
// instances, and its subnets are network paths (network.go). Findings name
// these launches in Affected and, when there are any, in the message.
//
// A launch may pass overrides.executionRoleArn: for that task the role
// replaces the task definition's execution role. The task definition is
// then evaluated a second time with the overriding role (an override
// unit: a tdInfo whose override field is set), so that what that role
// lacks is its own root cause, keyed by the role (ER002 when it does not
// exist, ER003–ER005 on its policies). A rule or schedule whose overrides
// come from the event (an input path or transformer) or hold a template
// cannot be read statically: ECS uses the task definition's role unless
// the event names another, so the task definition's role is what is
// evaluated, and every message naming the launch says that an override
// from the event was not evaluated. No finding is made of it: a role the
// event might name is not knowable, and most input transformers pass
// container overrides only.

// Resource types of launches (ResourceRef.Type in Affected).
const (
	ResourceTask      = "task"
	ResourceEventRule = "eventbridge-rule"
	ResourceSchedule  = "scheduler-schedule"
)

// launchKind is what a launchUse is.
type launchKind int

const (
	launchTask launchKind = iota
	launchRule
	launchSchedule
)

// launchUse is one launch of a task definition that is not a service.
type launchUse struct {
	kind    launchKind
	ref     ResourceRef
	cluster *inventory.Cluster
	host    hosting
	// pv and platformFamily as the launch names them ("" when it does not).
	pv, platformFamily string
	// network is the awsvpc configuration: a task's actual subnet, a rule's
	// or schedule's configured subnets; nil when there is none.
	network *inventory.AwsvpcConfiguration
	// override is the execution role the launch passes in its overrides;
	// overridesUnknown: its overrides cannot be read statically.
	override         string
	overridesUnknown bool
	// stopped: a task that has stopped (evidence of use, not running).
	stopped bool
}

// overrideInfo ties an override unit to its task definition and to the
// launches that pass the role.
type overrideInfo struct {
	base     *tdInfo
	launches []*launchUse
}

// collectLaunches adds the region's tasks, rule targets and schedules to
// the task definitions they run. local finds the region's task
// definitions by ARN and by family:revision.
func (e *evaluation) collectLaunches(a *inventory.Account, reg *inventory.Region, local map[string]*tdInfo) {
	clusters := map[string]*clusterInfo{}
	for _, ci := range e.clusters {
		if ci.account == a && ci.region == reg.Name {
			clusters[ci.cluster.ARN] = ci
		}
	}
	rules := map[string]bool{}
	for _, r := range reg.EventRules {
		rules[r.Name] = true
	}
	add := func(ref string, l *launchUse, what string) {
		t := e.findTaskDefinition(local, ref)
		if t == nil {
			e.gaps = append(e.gaps, fmt.Sprintf("%s runs task definition %s, which was not collected; it was not evaluated", what, ref))
			return
		}
		t.launches = append(t.launches, l)
		if ci := clusters[l.cluster.ARN]; ci != nil && (l.host.EC2 || l.host.External) && !slices.Contains(ci.placed, t) {
			ci.placed = append(ci.placed, t)
		}
	}
	for _, c := range reg.Clusters {
		hasInst := len(c.ContainerInstances) > 0
		for _, tk := range c.Tasks {
			// A service's tasks are the service's; a rule's are the rule's
			// when the rule was collected.
			if strings.HasPrefix(tk.Group, "service:") || strings.HasPrefix(tk.StartedBy, "ecs-svc/") {
				continue
			}
			if name, ok := strings.CutPrefix(tk.StartedBy, "events-rule/"); ok && rules[name] {
				continue
			}
			var cps []string
			if tk.CapacityProvider != "" {
				cps = []string{tk.CapacityProvider}
			}
			l := &launchUse{kind: launchTask, cluster: c, host: serviceHosting(tk.LaunchType, cps, hasInst && tk.ContainerInstanceARN != ""),
				pv: tk.PlatformVersion, platformFamily: tk.PlatformFamily, network: tk.Network,
				override: strings.TrimSpace(tk.ExecutionRoleOverride),
				stopped:  strings.EqualFold(tk.DesiredStatus, "STOPPED") || strings.EqualFold(tk.LastStatus, "STOPPED"),
				ref:      ResourceRef{Type: ResourceTask, ARN: tk.ARN, Name: taskID(tk.ARN)}}
			if tk.LaunchType == "" && len(cps) == 0 && tk.ContainerInstanceARN == "" {
				l.host = hosting{Fargate: true} // no instance: Fargate
			}
			add(tk.TaskDefinition, l, "task "+tk.ARN)
		}
	}
	cluster := func(arn string) *inventory.Cluster {
		for _, c := range reg.Clusters {
			if c.ARN == arn {
				return c
			}
		}
		return &inventory.Cluster{ARN: arn, Name: arn[strings.LastIndex(arn, "/")+1:]}
	}
	fromECS := func(kind launchKind, ref ResourceRef, ln *inventory.ECSLaunch, what string) {
		c := cluster(ln.ClusterARN)
		l := &launchUse{kind: kind, ref: ref, cluster: c, host: serviceHosting(ln.LaunchType, ln.CapacityProviders, len(c.ContainerInstances) > 0),
			pv: ln.PlatformVersion, network: ln.Network, overridesUnknown: ln.OverridesUnknown}
		if o := strings.TrimSpace(ln.ExecutionRoleOverride); o != "" {
			if templated(o) {
				l.overridesUnknown = true
			} else {
				l.override = o
			}
		}
		add(ln.TaskDefinition, l, what)
	}
	for _, r := range reg.EventRules {
		arn := r.ARN
		if arn == "" {
			arn = fmt.Sprintf("arn:%s:events:%s:%s:rule/%s", e.inv.Partition, reg.Name, a.ID, r.Name)
		}
		for _, tg := range r.Targets {
			if tg.Launch.TaskDefinition == "" {
				continue
			}
			fromECS(launchRule, ResourceRef{Type: ResourceEventRule, ARN: arn, Name: r.Name}, &tg.Launch, "EventBridge rule "+r.Name)
		}
	}
	for _, s := range reg.Schedules {
		if s.Launch == nil || s.Launch.TaskDefinition == "" {
			continue
		}
		arn := s.ARN
		if arn == "" {
			arn = fmt.Sprintf("arn:%s:scheduler:%s:%s:schedule/%s/%s", e.inv.Partition, reg.Name, a.ID, scheduleGroup(s), s.Name)
		}
		fromECS(launchSchedule, ResourceRef{Type: ResourceSchedule, ARN: arn, Name: scheduleLabel(s)}, s.Launch, "Scheduler schedule "+scheduleLabel(s))
	}
}

// findTaskDefinition finds the task definition a launch names: by ARN, by
// family:revision, or by family alone (then ECS runs the latest ACTIVE
// revision).
func (e *evaluation) findTaskDefinition(local map[string]*tdInfo, ref string) *tdInfo {
	ref = strings.TrimSpace(ref)
	if t := local[ref]; t != nil {
		return t
	}
	if t := e.tdByARN[ref]; t != nil {
		return t
	}
	short := tdShortRef(ref)
	if t := local[short]; t != nil {
		return t
	}
	if strings.Contains(short, ":") {
		return nil
	}
	var best *tdInfo
	for _, t := range local {
		if t.td.Family != short {
			continue
		}
		active := !strings.EqualFold(t.td.Status, "INACTIVE")
		if best == nil || (active && strings.EqualFold(best.td.Status, "INACTIVE")) ||
			(active == !strings.EqualFold(best.td.Status, "INACTIVE") && t.td.Revision > best.td.Revision) {
			best = t
		}
	}
	return best
}

// templated says whether an override is a template rather than a role:
// Scheduler context attributes (<aws.scheduler.…>) or placeholders.
func templated(s string) bool {
	return strings.ContainsAny(s, "<>$")
}

// scheduleGroup is a schedule's group ("default" when none is named).
func scheduleGroup(s *inventory.Schedule) string {
	if s.GroupName == "" {
		return "default"
	}
	return s.GroupName
}

// scheduleLabel is the schedule's name, with its group when not the
// default one.
func scheduleLabel(s *inventory.Schedule) string {
	if g := scheduleGroup(s); g != "default" {
		return g + "/" + s.Name
	}
	return s.Name
}

// taskID is the task's ID, the last part of its ARN.
func taskID(arn string) string {
	return arn[strings.LastIndex(arn, "/")+1:]
}

// collectOverrides makes an override unit for every task definition and
// execution role that launches pass in their overrides, when the role is
// not the task definition's own.
func (e *evaluation) collectOverrides() {
	for _, t := range e.tds {
		var order []string
		by := map[string][]*launchUse{}
		for _, l := range t.launches {
			if l.override == "" {
				continue
			}
			if t.td.ExecutionRoleARN != "" && sameRole(l.override, t.td.ExecutionRoleARN, t.account.ID, e.inv.Partition) {
				continue
			}
			k := strings.ToLower(l.override)
			if _, ok := by[k]; !ok {
				order = append(order, k)
			}
			by[k] = append(by[k], l)
		}
		slices.Sort(order)
		for _, k := range order {
			ls := by[k]
			u := &tdInfo{account: t.account, region: t.region, td: t.td, launches: ls, override: &overrideInfo{base: t, launches: ls}}
			for _, l := range ls {
				u.host.EC2 = u.host.EC2 || l.host.EC2
				u.host.Fargate = u.host.Fargate || l.host.Fargate
				u.host.External = u.host.External || l.host.External
			}
			e.resolveRoleRef(u, ls[0].override)
			u.needs = deriveNeeds(tdInput{td: t.td, partition: e.inv.Partition, account: t.account.ID, region: t.region, host: u.host, res: e.res})
			u.decs = make([]*verdict, len(u.needs))
			if u.exec != nil {
				u.exec.usedBy = append(u.exec.usedBy, u)
			}
			e.overrides = append(e.overrides, u)
		}
	}
}

// roleUsers are the task definitions and override units whose execution
// role is evaluated.
func (e *evaluation) roleUsers() []*tdInfo {
	return append(slices.Clone(e.tds), e.overrides...)
}

// launchLabel names a launch in a sentence.
func launchLabel(l *launchUse) string {
	var s string
	switch l.kind {
	case launchTask:
		s = "standalone task " + l.ref.Name
		if l.stopped {
			s += " (stopped)"
		}
	case launchRule:
		s = "EventBridge rule " + l.ref.Name
	case launchSchedule:
		s = "Scheduler schedule " + l.ref.Name
	}
	if l.overridesUnknown {
		s += " (its overrides come from the event or a template: an execution role they may name was not evaluated)"
	}
	return s
}

// launchLabels names launches, tasks counted when there are many.
func launchLabels(ls []*launchUse) []string {
	var out, tasks []string
	for _, l := range ls {
		if l.kind == launchTask && !l.overridesUnknown {
			tasks = append(tasks, launchLabel(l))
			continue
		}
		out = append(out, launchLabel(l))
	}
	slices.Sort(tasks)
	tasks = slices.Compact(tasks)
	if len(tasks) > 3 {
		tasks = append(tasks[:2], strconv.Itoa(len(tasks)-2)+" more standalone tasks")
	}
	slices.Sort(out)
	return append(slices.Compact(out), tasks...)
}

// launchedBy is a sentence naming what launches the task definition, for
// a task definition that has launches besides services ("" otherwise:
// services alone are named in Affected, as they always were).
func launchedBy(t *tdInfo) string {
	if t.override != nil || len(ownLaunches(t)) == 0 {
		return ""
	}
	var names []string
	seen := map[string]bool{}
	for _, u := range t.uses {
		if !seen[u.service.ARN] {
			seen[u.service.ARN] = true
			names = append(names, "service "+u.service.Name)
		}
	}
	slices.Sort(names)
	names = append(names, launchLabels(ownLaunches(t))...)
	return " It is launched by " + listAnd(names) + "."
}

// ownLaunches are the launches that run the task definition with its own
// execution role: not those that pass another in their overrides (their
// override unit names them).
func ownLaunches(t *tdInfo) []*launchUse {
	var out []*launchUse
	for _, l := range t.launches {
		if l.override == "" || (t.td.ExecutionRoleARN != "" && sameRole(l.override, t.td.ExecutionRoleARN, t.account.ID, "")) {
			out = append(out, l)
		}
	}
	return out
}

// roleSubject names the execution role a finding is about: the task
// definition's own, or the role that launches pass in their overrides.
func roleSubject(t *tdInfo) string {
	if t.override != nil {
		return fmt.Sprintf("Execution role %s, which %s %s in its overrides in place of the execution role of task definition %s in %s,",
			t.execARN, listAnd(launchLabels(t.override.launches)), plural(len(t.override.launches), "passes", "pass"), tdLabel(t), where(t.account.ID, t.region))
	}
	return fmt.Sprintf("Execution role %s of task definition %s in %s", t.execARN, tdLabel(t), where(t.account.ID, t.region))
}

// causePrefix keeps an override unit's causes apart from the task
// definition's own: they are keyed by the overriding role.
func causePrefix(t *tdInfo) string {
	if t.override == nil {
		return ""
	}
	return "override|" + strings.ToLower(t.execARN) + "|"
}

// launchRefs are the launches of a task definition other than services
// that run it with its own execution role, or an override unit's launches.
func launchRefs(t *tdInfo) []ResourceRef {
	ls := ownLaunches(t)
	if t.override != nil {
		ls = t.override.launches
	}
	var out []ResourceRef
	for _, l := range ls {
		out = append(out, l.ref)
	}
	return out
}

// lowerFirst lower-cases the first letter of a sentence that begins with
// a word such as "Execution".
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// overrideRoleMissing is ER002 for an override unit: the role a launch
// passes in its overrides does not exist, or is in another account.
func (e *evaluation) overrideRoleMissing(r *rule, t *tdInfo) {
	launches := listAnd(launchLabels(t.override.launches))
	var msg string
	switch t.execKind {
	case execMissing:
		msg = fmt.Sprintf("%s %s execution role %s in its overrides for task definition %s in %s, and that role does not exist in account %s: those tasks cannot start.",
			upperFirst(launches), plural(len(t.override.launches), "passes", "pass"), t.execARN, tdLabel(t), where(t.account.ID, t.region), t.account.ID)
	case execOtherAccount:
		msg = fmt.Sprintf("%s %s execution role %s in its overrides for task definition %s in %s; the role is in another account, and ECS passes only roles of the task's own account.",
			upperFirst(launches), plural(len(t.override.launches), "passes", "pass"), t.execARN, tdLabel(t), where(t.account.ID, t.region))
	default:
		return
	}
	fix := Fix{Layer: FixLaunch, Target: launchTarget(t.override.launches[0]),
		Summary: "Pass an existing execution role of account " + t.account.ID + " in the overrides of " + launches + ", or leave executionRoleArn out of them so that the task definition's own role is used."}
	if t.execKind == execMissing {
		fix.Steps = []string{"Or recreate role " + roleName(t.execARN) + " in account " + t.account.ID +
			", trusted by ecs-tasks.amazonaws.com and with the permissions task definition " + tdLabel(t) + " needs."}
	}
	key := causePrefix(t) + t.execARN
	r.emit(e, Finding{
		Message:   msg,
		AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
		TaskDefinitionARN: t.td.ARN, RoleARN: t.execARN, Affected: serviceRefs(t),
		Evidence: Evidence{Facts: map[string]string{"executionRoleOverride": t.execARN, "fieldPath": "overrides.executionRoleArn",
			"taskDefinitionExecutionRoleArn": t.td.ExecutionRoleARN}},
		Fix: fix,
	}, key, Fingerprint(r.ID, t.account.ID, t.region, t.td.ARN, key))
}

// upperFirst capitalises a sentence's first letter.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// FixLaunch: the fix is made in what launches the task (a standalone
// task's RunTask call, a rule's target, a schedule's target).
const FixLaunch FixLayer = "launch"

// launchTarget names the launch a fix changes.
func launchTarget(l *launchUse) *FixTarget {
	return &FixTarget{Type: l.ref.Type, ARN: l.ref.ARN, Name: l.ref.Name}
}

// launchPlatformVersions is FG001 for launches besides services: a
// standalone task, rule or schedule that runs the task definition on a
// Fargate platform version older than a feature in use needs, one finding
// per launch.
func (e *evaluation) launchPlatformVersions(r *rule, t *tdInfo, feats []featureUse, win bool) {
	for _, l := range t.launches {
		if !l.host.Fargate {
			continue
		}
		pv := fargatePlatformVersion(l.pv, win)
		gaps := map[string]FeatureGap{}
		var members []string
		need := ""
		for _, fu := range feats {
			info := features[fu.feature]
			min := minPV(info, win)
			if min == "" || min == "-" {
				continue
			}
			if cmp, ok := compareVersions(pv, min); !ok || cmp >= 0 {
				continue
			}
			gaps[fu.feature] = FeatureGap{Feature: info.title, FieldPath: fu.fieldPath, OS: osName(win), PlatformVersion: pv, Minimum: min, Source: info.source, Severity: High}
			members = append(members, Fingerprint(r.ID, t.account.ID, t.region, l.ref.ARN, fu.feature+"|"+t.td.ARN))
			if cmp, ok := compareVersions(min, need); need == "" || (ok && cmp > 0) {
				need = min
			}
		}
		if len(gaps) == 0 {
			continue
		}
		var list []FeatureGap
		var what []string
		for _, k := range slices.Sorted(maps.Keys(gaps)) {
			list = append(list, gaps[k])
			what = append(what, gaps[k].Minimum+", which "+gaps[k].Feature+" needs")
		}
		label := launchLabel(l)
		r.emit(e, Finding{
			Title: "Fargate platform version older than the minimum of a feature in use",
			Message: fmt.Sprintf("%s in %s runs task definition %s on Fargate platform version %s, older than %s.",
				upperFirst(label), where(t.account.ID, t.region), tdLabel(t), pv, listAnd(what)),
			AccountID: t.account.ID, Region: t.region, ResourceType: l.ref.Type, ResourceARN: l.ref.ARN,
			TaskDefinitionARN: t.td.ARN, Affected: []ResourceRef{tdRef(t)},
			Evidence: Evidence{Features: list, Facts: map[string]string{"platformVersion": pv, "minimum": need, "os": osName(win), "cluster": l.cluster.ARN}},
			Fix: Fix{Layer: FixLaunch, Target: launchTarget(l),
				Summary: fmt.Sprintf("Run %s with Fargate platform version %s or later (LATEST is %s on %s).", label, need, fargatePlatformVersion("LATEST", win), osName(win))},
		}, t.td.ARN, members...)
	}
}
