package findings

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// policyStatement and policyDocument render IAM JSON with a fixed key order.
type policyStatement struct {
	Sid      string `json:"Sid"`
	Effect   string `json:"Effect"`
	Action   any    `json:"Action"`
	Resource any    `json:"Resource"`
}

type policyDocument struct {
	Version   string            `json:"Version"`
	Statement []policyStatement `json:"Statement"`
}

var featureSids = map[string]string{
	FeatureECRPull:          "EcrPull",
	FeatureAwslogs:          "Logs",
	FeatureSecretsManager:   "SecretsManager",
	FeatureSSMParameter:     "SsmParameters",
	FeaturePrivateRegistry:  "PrivateRegistryCredentials",
	FeatureEnvironmentFile:  "EnvironmentFiles",
	FeatureFirelensS3Config: "FirelensConfig",
	FeatureKMSDecrypt:       "KmsDecrypt",
	FeatureFSxCredentials:   "FsxCredentials",
}

// policyResources are the resources a least-privilege policy names for a
// need: its ARN, or, when the ARN is known only in part, the narrowest
// pattern that covers every value of the unknown run (NAME-?????? for a
// secret's suffix, * for a task or container ID). An ambiguous resource
// (a secret name that may be a partial ARN) gets both readings.
func policyResources(n Need) []string {
	out := []string{readingPattern(n.req, n.Resource)}
	if n.alt != nil {
		out = append(out, readingPattern(n.alt, ""))
	}
	return out
}

func readingPattern(r *reading, resource string) string {
	if r == nil {
		return resource
	}
	u := r.unknown
	if u.MinLength == u.MaxLength && u.MaxLength <= 8 {
		return r.prefix + strings.Repeat("?", u.MaxLength) + u.Tail
	}
	return r.prefix + "*" + u.Tail
}

// leastPrivilege builds the minimal identity policy that grants every need
// served by the execution role: one statement per feature and set of
// actions, resources scoped to exact ARNs (or the narrowest pattern when the
// exact name is only known at run time).
func leastPrivilege(needs []Need) json.RawMessage {
	type key struct{ feature, action string }
	res := map[key]map[string]bool{}
	for _, n := range needs {
		if n.ServedBy != ServedByExecutionRole || n.Invalid {
			continue
		}
		k := key{n.Feature, n.Action}
		if res[k] == nil {
			res[k] = map[string]bool{}
		}
		for _, r := range policyResources(n) {
			res[k][r] = true
		}
	}
	// Group actions of a feature that share the same resources.
	type group struct {
		feature   string
		actions   []string
		resources []string
	}
	byFeature := map[string]map[string]*group{}
	for k, set := range res {
		rs := make([]string, 0, len(set))
		for r := range set {
			rs = append(rs, r)
		}
		sort.Strings(rs)
		sig := strings.Join(rs, "\x00")
		if byFeature[k.feature] == nil {
			byFeature[k.feature] = map[string]*group{}
		}
		g := byFeature[k.feature][sig]
		if g == nil {
			g = &group{feature: k.feature, resources: rs}
			byFeature[k.feature][sig] = g
		}
		g.actions = append(g.actions, k.action)
	}
	var groups []*group
	for _, m := range byFeature {
		for _, g := range m {
			sort.Strings(g.actions)
			groups = append(groups, g)
		}
	}
	sort.Slice(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		if a.feature != b.feature {
			return a.feature < b.feature
		}
		if x, y := strings.Join(a.actions, ","), strings.Join(b.actions, ","); x != y {
			return x < y
		}
		return strings.Join(a.resources, ",") < strings.Join(b.resources, ",")
	})
	doc := policyDocument{Version: "2012-10-17", Statement: []policyStatement{}}
	used := map[string]int{}
	for _, g := range groups {
		sid := featureSids[g.feature]
		if len(g.actions) == 1 && g.actions[0] == "ecr:GetAuthorizationToken" {
			sid = "EcrAuthorizationToken"
		}
		if g.feature == FeatureAwslogs && len(g.actions) == 1 && g.actions[0] == "logs:CreateLogGroup" {
			sid = "LogsCreateGroup"
		}
		if strings.HasPrefix(g.feature, "ecr") && slices.Contains(g.actions, "ecr:BatchImportUpstreamImage") {
			sid = "EcrPullThroughCache"
		}
		used[sid]++
		if used[sid] > 1 {
			sid = fmt.Sprintf("%s%d", sid, used[sid])
		}
		doc.Statement = append(doc.Statement, policyStatement{Sid: sid, Effect: "Allow", Action: oneOrMany(g.actions), Resource: oneOrMany(g.resources)})
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // plain strings and slices cannot fail to marshal
	}
	return b
}

func oneOrMany(s []string) any {
	if len(s) == 1 {
		return s[0]
	}
	return s
}
