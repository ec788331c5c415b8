package findings

import (
	"fmt"
	"sort"
	"strings"
)

var ruleAG003 = register(&rule{RuleMeta: RuleMeta{
	ID:            "AG003",
	Title:         "Container agent older than the minimum of a feature in use",
	Severity:      High,
	SeverityRange: SeverityRange{Min: High, Max: High},
	Description: "A container instance's agent is older than the minimum version of a feature that task definitions placed on its cluster use: " +
		"private registry authentication 1.19.0, SSM secrets 1.22.0, Secrets Manager secrets 1.23.0, secrets in log configuration 1.27.0, " +
		"FireLens 1.30.0, FireLens configuration from S3 1.31.0, Secrets Manager JSON keys and versions 1.37.0, environment files 1.39.0.",
	Why:         "An agent that predates a feature cannot serve it: the task is not placed on the instance or stops at start.",
	Remediation: "Update the container agent on the instance (UpdateContainerAgent or a current ECS-optimized AMI).",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-agent-update.html",
		"https://github.com/aws/amazon-ecs-agent/blob/master/CHANGELOG.md",
	},
	Tags:      []string{"availability", "ecs", "container-agent"},
	Precision: "high",
}, check: checkAG003})

func checkAG003(e *evaluation, r *rule) {
	for _, c := range e.clusters {
		users := map[string][]string{}
		paths := map[string]string{}
		for _, t := range c.placed {
			for _, fu := range tdFeatures(t) {
				if features[fu.feature].agent == "1.16.0" {
					continue // AG001
				}
				users[fu.feature] = append(users[fu.feature], tdLabel(t))
				if paths[fu.feature] == "" {
					paths[fu.feature] = fu.fieldPath
				}
			}
		}
		for _, ci := range activeInstances(c.cluster) {
			for _, f := range sortedKeys(users) {
				info := features[f]
				cmp, ok := compareVersions(ci.AgentVersion, info.agent)
				if !ok || cmp >= 0 {
					continue
				}
				tds := users[f]
				sort.Strings(tds)
				r.emit(e, Finding{
					Message: fmt.Sprintf("Container instance %s in cluster %s (%s) runs agent %s, older than %s which %s needs; used by %s.",
						instanceID(ci), c.cluster.Name, where(c.account.ID, c.region), ci.AgentVersion, info.agent, info.title, strings.Join(tds, ", ")),
					AccountID: c.account.ID, Region: c.region, ResourceType: ResourceContainerInstance, ResourceARN: ci.ARN,
					Evidence: Evidence{Facts: map[string]string{"agentVersion": ci.AgentVersion, "minimum": info.agent, "feature": info.title,
						"fieldPath": paths[f], "source": info.source, "taskDefinitions": strings.Join(tds, ", "), "cluster": c.cluster.ARN}},
				}, f)
			}
		}
	}
}
