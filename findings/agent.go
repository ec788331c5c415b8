package findings

import (
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
