package findings

import "fmt"

var ruleFG001 = register(&rule{RuleMeta: RuleMeta{
	ID:            "FG001",
	Title:         "Fargate platform version older than the minimum of a feature in use",
	Severity:      High,
	SeverityRange: SeverityRange{Min: High, Max: Critical},
	Description: "A Fargate service runs a task definition on a platform version that predates a feature it uses (Linux: private registry " +
		"authentication 1.2.0; secrets, secretOptions and FireLens 1.3.0; Secrets Manager JSON keys and environment files 1.4.0), or uses " +
		"a feature Fargate does not support at all (FireLens configuration from S3; environment files on Windows).",
	Why:         "Fargate cannot serve the feature on that platform version: tasks stop at start with ResourceInitializationError or are rejected.",
	Remediation: "Update the service to platform version LATEST (1.4.0 on Linux) or a version at or above the minimum; for FireLens on Fargate use config-file-type \"file\" with the configuration baked into the log router image.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-linux-fargate.html",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-taskdef.html",
	},
	Tags:      []string{"availability", "ecs", "fargate"},
	Precision: "high",
}, check: checkFG001})

func checkFG001(e *evaluation, r *rule) {
	for _, t := range e.tds {
		if !t.host.Fargate {
			continue
		}
		win := t.windows()
		feats := tdFeatures(t)
		// Features Fargate does not support at all: one finding on the task
		// definition, whatever the platform version.
		for _, fu := range feats {
			min := minPV(features[fu.feature], win)
			if min != "-" {
				continue
			}
			r.emit(e, Finding{
				Severity: Critical,
				Message: fmt.Sprintf("Task definition %s in %s runs on Fargate and uses %s (%s), which Fargate does not support on %s.",
					tdLabel(t), where(t.account.ID, t.region), features[fu.feature].title, fu.fieldPath, osName(win)),
				AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
				TaskDefinitionARN: t.td.ARN,
				Evidence:          Evidence{Facts: map[string]string{"feature": features[fu.feature].title, "fieldPath": fu.fieldPath, "os": osName(win), "source": features[fu.feature].source}},
			}, fu.feature)
		}
		for _, u := range t.uses {
			if !u.host.Fargate {
				continue
			}
			pv := fargatePlatformVersion(u.pv, win)
			for _, fu := range feats {
				min := minPV(features[fu.feature], win)
				if min == "" || min == "-" {
					continue
				}
				cmp, ok := compareVersions(pv, min)
				if !ok || cmp >= 0 {
					continue
				}
				r.emit(e, Finding{
					Message: fmt.Sprintf("Service %s in %s runs task definition %s on Fargate platform version %s, older than %s which %s needs.",
						u.service.Name, where(t.account.ID, t.region), tdLabel(t), pv, min, features[fu.feature].title),
					AccountID: t.account.ID, Region: t.region, ResourceType: ResourceService, ResourceARN: u.service.ARN,
					TaskDefinitionARN: t.td.ARN,
					Evidence: Evidence{Facts: map[string]string{"platformVersion": pv, "minimum": min, "feature": features[fu.feature].title,
						"fieldPath": fu.fieldPath, "os": osName(win), "cluster": u.cluster.ARN, "deployment": u.deployID, "source": features[fu.feature].source}},
				}, fu.feature+"|"+t.td.ARN+"|"+u.deployID)
			}
		}
	}
}

func minPV(f featureInfo, windows bool) string {
	if windows {
		return f.fargateWindows
	}
	return f.fargateLinux
}

func osName(windows bool) string {
	if windows {
		return "Windows"
	}
	return "Linux"
}
