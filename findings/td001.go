package findings

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

var ruleTD001 = &rule{RuleMeta: RuleMeta{
	ID:            "TD001",
	Title:         "Task definition holds what looks like a credential in plain text",
	Severity:      High,
	SeverityRange: SeverityRange{Min: Medium, Max: Critical},
	Description: "A container's environment variable has a name that suggests a credential (PASSWORD, SECRET, TOKEN, API_KEY…) or a value " +
		"shaped like one (an AWS access key, a private key, a GitHub or Slack token, a JWT, a URL with a password, a high-entropy string), " +
		"or a log driver or FireLens option holds a credential in plain text. One finding per task definition lists every such value. The value is never written to any report.",
	Why: "Environment values are stored in the task definition in plain text: anyone with ecs:DescribeTaskDefinition in the account can read " +
		"them, and they appear in CloudTrail and in infrastructure code. The secrets and secretOptions fields exist for this.",
	Remediation: "Move the value to Secrets Manager or SSM Parameter Store (SecureString), reference it from secrets[] (a log option from logConfiguration.secretOptions[]), grant the execution role read access to exactly that secret, and rotate the exposed credential.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html",
	},
	Tags:      []string{"security", "secrets"},
	Precision: "medium",
}, check: checkTD001}

func init() { register(ruleTD001) }

func checkTD001(e *evaluation, r *rule) {
	for _, t := range e.tds {
		var values []PlaintextValue
		var members []string
		for ci, c := range t.td.ContainerDefinitions {
			for vi, v := range c.Environment {
				sev, why := Medium, ""
				switch {
				case v.ValueClass != "":
					sev, why = High, "its value looks like "+valueClassNoun(v.ValueClass)
					if v.ValueClass == inventory.ValueAWSAccessKey || v.ValueClass == inventory.ValuePrivateKey || v.ValueClass == inventory.ValueAWSSecretKey {
						sev = Critical
					}
				case inventory.NameLooksSecret(v.Name):
					why = "its name suggests a credential"
				default:
					continue
				}
				values = append(values, PlaintextValue{Container: c.Name, Kind: ValueEnvironmentVariable, Name: v.Name, ValueClass: v.ValueClass,
					Why: why, FieldPath: fmt.Sprintf("containerDefinitions[%d].environment[%d]", ci, vi), Severity: sev})
				members = append(members, Fingerprint(r.ID, t.account.ID, t.region, t.td.ARN, c.Name+"|"+v.Name))
			}
			if lc := c.LogConfiguration; lc != nil {
				for _, k := range slices.Sorted(maps.Keys(lc.Options)) {
					if lc.Options[k] != inventory.Redacted {
						continue
					}
					values = append(values, PlaintextValue{Container: c.Name, Kind: ValueLogOption, Name: k, Why: "it looks like a credential",
						FieldPath: fmt.Sprintf("containerDefinitions[%d].logConfiguration.options.%s", ci, k), Severity: High})
					members = append(members, Fingerprint(r.ID, t.account.ID, t.region, t.td.ARN, c.Name+"|log-option|"+k))
				}
			}
			if fc := c.FirelensConfiguration; fc != nil {
				for _, k := range slices.Sorted(maps.Keys(fc.Options)) {
					if fc.Options[k] != inventory.Redacted {
						continue
					}
					values = append(values, PlaintextValue{Container: c.Name, Kind: ValueFirelensOption, Name: k, Why: "it looks like a credential",
						FieldPath: fmt.Sprintf("containerDefinitions[%d].firelensConfiguration.options.%s", ci, k), Severity: High})
					members = append(members, Fingerprint(r.ID, t.account.ID, t.region, t.td.ARN, c.Name+"|firelens-option|"+k))
				}
			}
		}
		if len(values) == 0 {
			continue
		}
		slices.SortStableFunc(values, func(a, b PlaintextValue) int { return b.Severity.Rank() - a.Severity.Rank() })
		f := Finding{
			Severity: values[0].Severity, Title: plaintextTitle(values),
			Message: fmt.Sprintf("Task definition %s in %s holds %s in plain text: %s. %s not shown.",
				tdLabel(t), where(t.account.ID, t.region), count(len(values), "value that looks like a credential", "values that look like credentials"),
				plaintextList(values), plural(len(values), "The value is", "The values are")),
			AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
			TaskDefinitionARN: t.td.ARN, Affected: serviceRefs(t),
			Evidence: Evidence{Values: values, Facts: map[string]string{"value": "[not recorded]"}},
			Fix:      plaintextFix(t, values),
		}
		if containers := containersOf(values); len(containers) == 1 {
			f.Container = containers[0]
		}
		r.emit(e, f, "", members...)
	}
}

// plaintextTitle fits the values' subject: environment variables, log
// options, FireLens options, or several.
func plaintextTitle(values []PlaintextValue) string {
	kinds := map[ValueKind]bool{}
	for _, v := range values {
		kinds[v.Kind] = true
	}
	if len(kinds) > 1 {
		return "Task definition holds credentials in plain text"
	}
	many := len(values) > 1
	switch values[0].Kind {
	case ValueLogOption:
		if many {
			return "Log options hold credentials in plain text"
		}
		return "Log option holds a credential in plain text"
	case ValueFirelensOption:
		if many {
			return "FireLens options hold credentials in plain text"
		}
		return "FireLens option holds a credential in plain text"
	}
	if many {
		return "Environment variables look like plaintext secrets"
	}
	return "Environment variable looks like a plaintext secret"
}

// plaintextList: `environment variable DB_PASSWORD of container "app" (its
// name suggests a credential)`, ….
func plaintextList(values []PlaintextValue) string {
	var parts []string
	for _, v := range values {
		noun := "environment variable"
		switch v.Kind {
		case ValueLogOption:
			noun = "log option"
		case ValueFirelensOption:
			noun = "FireLens option"
		}
		parts = append(parts, fmt.Sprintf("%s %s of container %q (%s)", noun, v.Name, v.Container, v.Why))
	}
	return strings.Join(parts, "; ")
}

func containersOf(values []PlaintextValue) []string {
	var out []string
	for _, v := range values {
		out = append(out, v.Container)
	}
	return sortedCopy(out)
}

// plaintextFix: where each kind of value belongs instead.
func plaintextFix(t *tdInfo, values []PlaintextValue) Fix {
	fix := Fix{Layer: FixTaskDefinition, Target: &FixTarget{Type: ResourceTaskDefinition, ARN: t.td.ARN, Name: tdLabel(t)},
		Summary: "Store each value in Secrets Manager or SSM Parameter Store (SecureString), reference it from the task definition instead, and rotate it: it is exposed to anyone who can describe the task definition."}
	kinds := map[ValueKind]bool{}
	for _, v := range values {
		kinds[v.Kind] = true
	}
	if kinds[ValueEnvironmentVariable] {
		fix.Steps = append(fix.Steps, "Environment variables: move each to secrets[] (name and valueFrom, the secret's or parameter's ARN) in a new task definition revision.")
	}
	if kinds[ValueLogOption] {
		fix.Steps = append(fix.Steps, "Log options: move each to logConfiguration.secretOptions[] (name and valueFrom) in a new task definition revision.")
	}
	if kinds[ValueFirelensOption] {
		fix.Steps = append(fix.Steps, "FireLens options: pass the credential to the log router as a secret (secrets[] of the router container) and read it from the environment in its configuration.")
	}
	fix.Steps = append(fix.Steps, "Grant the execution role read access to exactly those secrets or parameters.")
	return fix
}
