package findings

import (
	"fmt"

	"github.com/ecs-audit/audit/inventory"
)

var ruleTD001 = register(&rule{RuleMeta: RuleMeta{
	ID:            "TD001",
	Title:         "Environment variable looks like a plaintext secret",
	Severity:      High,
	SeverityRange: SeverityRange{Min: Medium, Max: Critical},
	Description: "A container's environment variable has a name that suggests a credential (PASSWORD, SECRET, TOKEN, API_KEY…) or a value " +
		"shaped like one (an AWS access key, a private key, a GitHub or Slack token, a JWT, a URL with a password, a high-entropy string), " +
		"or a log driver option holds a credential in plain text. The value is never written to any report.",
	Why: "Environment values are stored in the task definition in plain text: anyone with ecs:DescribeTaskDefinition in the account can read " +
		"them, and they appear in CloudTrail and in infrastructure code. The secrets and secretOptions fields exist for this.",
	Remediation: "Move the value to Secrets Manager or SSM Parameter Store (SecureString), reference it from secrets[] (or logConfiguration.secretOptions[]), grant the execution role read access to exactly that secret, and rotate the exposed credential.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html",
	},
	Tags:      []string{"security", "secrets"},
	Precision: "medium",
}, check: checkTD001})

func checkTD001(e *evaluation, r *rule) {
	for _, t := range e.tds {
		for ci, c := range t.td.ContainerDefinitions {
			for vi, v := range c.Environment {
				sev, why := Medium, ""
				switch {
				case v.ValueClass != "":
					sev, why = High, "its value looks like a "+v.ValueClass
					if v.ValueClass == inventory.ValueAWSAccessKey || v.ValueClass == inventory.ValuePrivateKey || v.ValueClass == inventory.ValueAWSSecretKey {
						sev = Critical
					}
				case inventory.NameLooksSecret(v.Name):
					why = "its name suggests a credential"
				default:
					continue
				}
				path := fmt.Sprintf("containerDefinitions[%d].environment[%d]", ci, vi)
				r.emit(e, Finding{
					Severity: sev,
					Message: fmt.Sprintf("Container %q of task definition %s in %s sets environment variable %s in plain text; %s (value not shown).",
						c.Name, tdLabel(t), where(t.account.ID, t.region), v.Name, why),
					AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
					TaskDefinitionARN: t.td.ARN, Container: c.Name,
					Evidence: Evidence{Facts: map[string]string{"variable": v.Name, "valueClass": v.ValueClass, "fieldPath": path, "value": "[not recorded]"}},
				}, c.Name+"|"+v.Name)
			}
			if lc := c.LogConfiguration; lc != nil {
				for _, k := range sortedKeys(lc.Options) {
					if lc.Options[k] != inventory.Redacted {
						continue
					}
					r.emit(e, Finding{
						Message: fmt.Sprintf("Container %q of task definition %s in %s passes log option %s in plain text; it looks like a credential (value not shown). Use logConfiguration.secretOptions.",
							c.Name, tdLabel(t), where(t.account.ID, t.region), k),
						AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
						TaskDefinitionARN: t.td.ARN, Container: c.Name,
						Evidence: Evidence{Facts: map[string]string{"option": k, "fieldPath": fmt.Sprintf("containerDefinitions[%d].logConfiguration.options.%s", ci, k), "value": "[not recorded]"}},
					}, c.Name+"|log-option|"+k)
				}
			}
		}
	}
}
