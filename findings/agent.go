package findings

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// featureUse is a feature a task definition uses, with where.
type featureUse struct {
	feature   string
	fieldPath string
}

// tdFeatures lists the features of ecs-facts §2.1 a task definition uses,
// sorted by feature key.
func tdFeatures(t *tdInfo) []featureUse {
	seen := map[string]string{}
	if t.td.ExecutionRoleARN != "" {
		seen[featExecRole] = "executionRoleArn"
	}
	for _, n := range t.needs {
		if n.minFeature == "" {
			continue
		}
		if (n.minFeature == featECRExec || n.minFeature == featAwslogsExec) && n.ServedBy != ServedByExecutionRole {
			continue
		}
		if _, ok := seen[n.minFeature]; !ok {
			seen[n.minFeature] = n.FieldPath
		}
	}
	for i, c := range t.td.ContainerDefinitions {
		if c.FirelensConfiguration != nil {
			if _, ok := seen[featFirelens]; !ok {
				seen[featFirelens] = "containerDefinitions[" + strconv.Itoa(i) + "].firelensConfiguration"
			}
		}
	}
	out := make([]featureUse, 0, len(seen))
	for f, p := range seen {
		out = append(out, featureUse{f, p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].feature < out[j].feature })
	return out
}

// requiredAttrs are the attributes a container instance must have to take
// the task: requiresAttributes when ECS recorded them, else derived from the
// task definition (ecs-facts §2.2). source says which.
func requiredAttrs(t *tdInfo) (attrs []inventory.Attribute, source string) {
	if len(t.td.RequiresAttributes) > 0 {
		return t.td.RequiresAttributes, "requiresAttributes"
	}
	set := map[string]bool{}
	for _, n := range t.needs {
		if n.minFeature == "" || n.ServedBy != ServedByExecutionRole {
			continue
		}
		for _, c := range features[n.minFeature].capabilities {
			set[c] = true
		}
		if n.minFeature == featSecretOptions {
			provider := "ssm"
			if n.Feature == FeatureSecretsManager {
				provider = "secretsmanager"
			}
			set[secretOptionCapabilities[provider]] = true
		}
	}
	for _, c := range t.td.ContainerDefinitions {
		if f := c.FirelensConfiguration; f != nil && f.Type != "" {
			set["ecs.capability.firelens."+strings.ToLower(f.Type)] = true
		}
	}
	for name := range set {
		attrs = append(attrs, inventory.Attribute{Name: name})
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Name < attrs[j].Name })
	return attrs, "derived from the task definition"
}

// activeInstances are the instances that can take new tasks.
func activeInstances(c *inventory.Cluster) []*inventory.ContainerInstance {
	var out []*inventory.ContainerInstance
	for _, ci := range c.ContainerInstances {
		if ci.Status == "" || strings.EqualFold(ci.Status, "ACTIVE") {
			out = append(out, ci)
		}
	}
	return out
}

func hasAttr(ci *inventory.ContainerInstance, want inventory.Attribute) bool {
	for _, a := range ci.Attributes {
		if a.Name == want.Name && (want.Value == "" || a.Value == want.Value) {
			return true
		}
	}
	return false
}

func instanceID(ci *inventory.ContainerInstance) string {
	if ci.EC2InstanceID != "" {
		return ci.EC2InstanceID
	}
	s := ci.ARN
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// unmet is a constraint a container instance does not meet, with its rule
// and its schema version 1 ID.
type unmet struct {
	Constraint
	rule   *rule
	member string
	// agent is the agent version that serves the constraint ("" when an
	// update cannot: a custom attribute, or one only configuration turns
	// on).
	agent string
}

// checkContainerInstances reports, for every active container instance,
// the agent constraints of the task definitions placed on its cluster that
// it does not meet (AG001, AG002, AG003): one finding per instance.
func checkContainerInstances(e *evaluation, _ *rule) {
	for _, c := range e.clusters {
		var execUsers []string
		type attrReq struct {
			attr   inventory.Attribute
			source string
			tds    []string
		}
		var attrs grouped[attrReq]
		type featReq struct {
			path string
			tds  []string
		}
		var feats grouped[featReq]
		placed := map[string]*tdInfo{}
		for _, t := range c.placed {
			placed[tdLabel(t)] = t
			if t.td.ExecutionRoleARN != "" {
				execUsers = append(execUsers, tdLabel(t))
			}
			list, source := requiredAttrs(t)
			for _, a := range list {
				r := attrs.get(a.Name+"="+a.Value, func() *attrReq { return &attrReq{attr: a, source: source} })
				r.tds = append(r.tds, tdLabel(t))
			}
			for _, fu := range tdFeatures(t) {
				if features[fu.feature].agent == features[featExecRole].agent {
					continue // AG001
				}
				r := feats.get(fu.feature, func() *featReq { return &featReq{path: fu.fieldPath} })
				r.tds = append(r.tds, tdLabel(t))
			}
		}
		for _, ci := range activeInstances(c.cluster) {
			var cons []unmet
			older := func(min string) bool {
				cmp, ok := compareVersions(ci.AgentVersion, min)
				return ok && cmp < 0
			}
			legacy := func(r *rule, detail string) string {
				return Fingerprint(r.ID, c.account.ID, c.region, ci.ARN, detail)
			}
			if min := features[featExecRole].agent; len(execUsers) > 0 && older(min) {
				cons = append(cons, unmet{Constraint: Constraint{RuleID: ruleAG001.ID, Feature: features[featExecRole].title, Minimum: min,
					FieldPath: "executionRoleArn", Source: features[featExecRole].source, TaskDefinitions: sortedCopy(execUsers), Severity: ruleAG001.Severity},
					rule: ruleAG001, member: legacy(ruleAG001, ""), agent: min})
			}
			for _, k := range feats.keys() {
				info, r := features[k], feats.m[k]
				if older(info.agent) {
					cons = append(cons, unmet{Constraint: Constraint{RuleID: ruleAG003.ID, Feature: info.title, Minimum: info.agent, FieldPath: r.path,
						Source: info.source, TaskDefinitions: sortedCopy(r.tds), Severity: ruleAG003.Severity},
						rule: ruleAG003, member: legacy(ruleAG003, k), agent: info.agent})
				}
			}
			for _, k := range attrs.keys() {
				r := attrs.m[k]
				if hasAttr(ci, r.attr) {
					continue
				}
				cons = append(cons, unmet{Constraint: Constraint{RuleID: ruleAG002.ID, Attribute: r.attr.Name, Value: r.attr.Value, Source: r.source,
					TaskDefinitions: sortedCopy(r.tds), Severity: ruleAG002.Severity},
					rule: ruleAG002, member: legacy(ruleAG002, k), agent: capabilityAgent(r.attr.Name)})
			}
			if len(cons) == 0 {
				continue
			}
			e.emitInstance(c, ci, cons, placed)
		}
	}
}

// emitInstance emits one container instance's finding.
func (e *evaluation) emitInstance(c *clusterInfo, ci *inventory.ContainerInstance, cons []unmet, placed map[string]*tdInfo) {
	slices.SortStableFunc(cons, func(a, b unmet) int { return constraintRank(b.Constraint) - constraintRank(a.Constraint) })
	worst := cons[0]
	f := Finding{
		Severity: worst.Severity, AccountID: c.account.ID, Region: c.region,
		ResourceType: ResourceContainerInstance, ResourceARN: ci.ARN,
		Evidence: Evidence{Facts: map[string]string{"agentVersion": ci.AgentVersion, "cluster": c.cluster.ARN}},
	}
	var members, versions, missing []string
	rules := map[string]bool{}
	tds := map[string]bool{}
	for _, u := range cons {
		f.Evidence.Constraints = append(f.Evidence.Constraints, u.Constraint)
		members = append(members, u.member)
		rules[u.RuleID] = true
		for _, l := range u.TaskDefinitions {
			if !tds[l] {
				tds[l] = true
				if t := placed[l]; t != nil {
					f.Affected = append(f.Affected, tdRef(t))
				}
			}
		}
		if u.Attribute != "" {
			missing = append(missing, u.Attribute)
		}
	}
	byVersion := slices.Clone(cons)
	slices.SortStableFunc(byVersion, func(a, b unmet) int {
		c, _ := compareVersions(a.Minimum, b.Minimum)
		return c
	})
	for _, u := range byVersion {
		if u.Attribute == "" {
			versions = append(versions, u.Minimum+" ("+u.Feature+")")
		}
	}
	f.Title = worst.rule.Title
	if len(rules) > 1 {
		f.Title = "Container instance does not meet the agent constraints of the task definitions placed on its cluster"
	}
	var why []string
	if len(versions) > 0 {
		why = append(why, "its agent "+ci.AgentVersion+" is older than "+listAnd(versions))
	}
	if len(missing) > 0 {
		why = append(why, "it lacks "+plural(len(missing), "attribute ", "attributes ")+listAnd(missing))
	}
	tdList := sortedCopy(slices.Collect(maps.Keys(tds)))
	f.Message = fmt.Sprintf("Container instance %s in cluster %s (%s) cannot take the tasks of %s placed on its cluster (%s): %s.",
		instanceID(ci), c.cluster.Name, where(c.account.ID, c.region), count(len(tdList), "task definition", "task definitions"),
		strings.Join(tdList, ", "), strings.Join(why, ", and "))
	if slices.Contains(missing, awslogsOverrideCapability) {
		f.Message += " The agent advertises " + awslogsOverrideCapability + " only with ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE=true."
	}
	f.Fix = instanceFix(ci, cons)
	worst.rule.emit(e, f, "", members...)
}

// awslogsOverrideCapability is the capability an agent advertises only
// with ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE=true (ecs-facts §2.3).
const awslogsOverrideCapability = "ecs.capability.execution-role-awslogs"

// instanceFix: the agent version that serves every constraint an update
// can serve, the setting to turn on, and what neither can fix.
func instanceFix(ci *inventory.ContainerInstance, cons []unmet) Fix {
	fix := Fix{Layer: FixContainerInstance, Target: &FixTarget{Type: ResourceContainerInstance, ARN: ci.ARN, Name: instanceID(ci)}}
	target := ""
	var override bool
	var configure, custom []string
	for _, u := range cons {
		switch {
		case u.Attribute == awslogsOverrideCapability:
			override = true
		case u.agent == "":
			custom = append(custom, u.Attribute)
		default:
			if cmp, ok := compareVersions(ci.AgentVersion, u.agent); ok && cmp >= 0 {
				configure = append(configure, u.Attribute) // the version serves it; the agent does not advertise it
				continue
			}
			if cmp, ok := compareVersions(u.agent, target); target == "" || (ok && cmp > 0) {
				target = u.agent
			}
		}
	}
	var summary []string
	if target != "" {
		summary = append(summary, "update the container agent to "+target+" or later")
		fix.Steps = append(fix.Steps, "Update the container agent on "+instanceID(ci)+" from "+ci.AgentVersion+" to "+target+
			" or later (UpdateContainerAgent, or replace the instance with one from a current ECS-optimized AMI).")
	}
	if override {
		summary = append(summary, "set ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE=true")
		step := "Set ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE=true in /etc/ecs/ecs.config (on Windows, as a machine environment variable) and restart the agent; ECS-optimized AMIs with ecs-init 1.16.0-1 or later set it."
		if target != "" {
			step = "Then set ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE=true in /etc/ecs/ecs.config (on Windows, as a machine environment variable) and restart the agent; ECS-optimized AMIs with ecs-init 1.16.0-1 or later set it."
		}
		fix.Steps = append(fix.Steps, step)
	}
	if len(configure) > 0 {
		summary = append(summary, "find why the agent does not advertise "+listAnd(configure))
		fix.Steps = append(fix.Steps, "Agent "+ci.AgentVersion+" supports "+listAnd(configure)+" but does not advertise "+plural(len(configure), "it", "them")+
			": check the agent's configuration in /etc/ecs/ecs.config and restart it.")
	}
	if len(custom) > 0 {
		summary = append(summary, "add "+listAnd(custom))
		fix.Steps = append(fix.Steps, "Add "+plural(len(custom), "attribute ", "attributes ")+listAnd(custom)+" to the instance (aws ecs put-attributes) if it provides what "+
			plural(len(custom), "it stands", "they stand")+" for, or register the task definitions without requiring "+plural(len(custom), "it", "them")+".")
	}
	s := listAnd(summary)
	fix.Summary = "On container instance " + instanceID(ci) + ", " + s + "."
	return fix
}

// capabilityAgent is the agent version that first advertises a capability
// (ecs-facts §2.1, §2.2), "" for one the documentation does not tie to a
// version (a custom attribute, or one only configuration turns on).
func capabilityAgent(name string) string {
	if name == awslogsOverrideCapability {
		return ""
	}
	best := ""
	consider := func(v string) {
		if best == "" {
			best = v
		} else if cmp, ok := compareVersions(v, best); ok && cmp > 0 {
			best = v
		}
	}
	for _, info := range features {
		if slices.Contains(info.capabilities, name) {
			consider(info.agent)
		}
	}
	for _, c := range secretOptionCapabilities {
		if c == name {
			consider(features[featSecretOptions].agent)
		}
	}
	if strings.HasPrefix(name, "ecs.capability.firelens.") {
		consider(features[featFirelens].agent)
	}
	return best
}

func sortedCopy(s []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(s)))
}
