package findings

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

var ruleAG002 = register(&rule{RuleMeta: RuleMeta{
	ID:            "AG002",
	Title:         "Container instance lacks a capability its cluster's task definitions require",
	Severity:      High,
	SeverityRange: SeverityRange{Min: High, Max: High},
	Description: "An ACTIVE container instance does not advertise an attribute that task definitions placed on its cluster require " +
		"(their requiresAttributes, or the capabilities derived from the task definition when ECS recorded none). In particular " +
		"ecs.capability.execution-role-awslogs is only advertised when the agent runs with ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE=true.",
	Why: "ECS places a task only on instances that have every required attribute. Without it placement fails with 'missing an attribute " +
		"required by your task', and services on the cluster stay below their desired count.",
	Remediation: "For ecs.capability.execution-role-awslogs set ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE=true in /etc/ecs/ecs.config (Windows: as a machine environment variable) and restart the agent; ECS-optimized AMIs with ecs-init 1.16.0-1 or later set it. For other capabilities update the agent.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-agent-config.html",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement-constraints.html",
	},
	Tags:      []string{"availability", "ecs", "container-agent", "placement"},
	Precision: "high",
}, check: checkAG002})

func checkAG002(e *evaluation, rl *rule) {
	for _, c := range e.clusters {
		type req struct {
			attr   inventory.Attribute
			tds    []string
			source string
		}
		reqs := map[string]*req{}
		for _, t := range c.placed {
			attrs, source := requiredAttrs(t)
			for _, a := range attrs {
				k := a.Name + "=" + a.Value
				r := reqs[k]
				if r == nil {
					r = &req{attr: a, source: source}
					reqs[k] = r
				}
				r.tds = append(r.tds, tdLabel(t))
			}
		}
		for _, ci := range activeInstances(c.cluster) {
			for _, k := range sortedKeys(reqs) {
				r := reqs[k]
				if hasAttr(ci, r.attr) {
					continue
				}
				sort.Strings(r.tds)
				msg := fmt.Sprintf("Container instance %s in cluster %s (%s) lacks attribute %s, required by %s; ECS cannot place their tasks on it.",
					instanceID(ci), c.cluster.Name, where(c.account.ID, c.region), r.attr.Name, strings.Join(r.tds, ", "))
				if r.attr.Name == "ecs.capability.execution-role-awslogs" {
					msg += " The agent advertises it only with ECS_ENABLE_AWSLOGS_EXECUTIONROLE_OVERRIDE=true."
				}
				facts := map[string]string{"attribute": r.attr.Name, "source": r.source, "cluster": c.cluster.ARN,
					"agentVersion": ci.AgentVersion, "taskDefinitions": strings.Join(r.tds, ", ")}
				if r.attr.Value != "" {
					facts["value"] = r.attr.Value
				}
				rl.emit(e, Finding{
					Message:   msg,
					AccountID: c.account.ID, Region: c.region, ResourceType: ResourceContainerInstance, ResourceARN: ci.ARN,
					Evidence: Evidence{Facts: facts},
				}, k)
			}
		}
	}
}
