package findings

import (
	"fmt"
	"maps"
	"slices"
)

var ruleFG001 = &rule{RuleMeta: RuleMeta{
	ID:            "FG001",
	Title:         "Fargate cannot serve a feature the task definition uses",
	Severity:      High,
	SeverityRange: SeverityRange{Min: High, Max: Critical},
	Description: "A Fargate service runs a task definition on a platform version that predates a feature it uses (Linux: private registry " +
		"authentication 1.2.0; secrets, secretOptions and FireLens 1.3.0; Secrets Manager JSON keys and environment files 1.4.0), or uses " +
		"a feature Fargate does not support at all (FireLens configuration from S3; environment files on Windows). One finding per task definition " +
		"for the features Fargate does not support, and one per service and task definition for the platform version.",
	Why:         "Fargate cannot serve the feature on that platform version: tasks stop at start with ResourceInitializationError or are rejected.",
	Remediation: "Update the service to a platform version at or above the highest minimum of the features it uses (LATEST is 1.4.0 on Linux), or replace a feature Fargate does not support as the finding's fix says.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-linux-fargate.html",
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-taskdef.html",
	},
	Tags:      []string{"availability", "ecs", "fargate"},
	Precision: "high",
}, check: checkFG001}

func init() { register(ruleFG001) }

func checkFG001(e *evaluation, r *rule) {
	for _, t := range e.tds {
		if !t.host.Fargate {
			continue
		}
		win := t.windows()
		feats := tdFeatures(t)
		// Features Fargate does not support at all: one finding on the task
		// definition, whatever the platform version.
		var gaps []FeatureGap
		var members, keys []string
		for _, fu := range feats {
			if minPV(features[fu.feature], win) != "-" {
				continue
			}
			info := features[fu.feature]
			gaps = append(gaps, FeatureGap{Feature: info.title, FieldPath: fu.fieldPath, OS: osName(win), Unsupported: true, Source: info.source, Severity: Critical})
			members = append(members, Fingerprint(r.ID, t.account.ID, t.region, t.td.ARN, fu.feature))
			keys = append(keys, fu.feature)
		}
		if len(gaps) > 0 {
			var what []string
			for _, g := range gaps {
				what = append(what, g.Feature+" ("+g.FieldPath+")")
			}
			r.emit(e, Finding{
				Severity: Critical, Title: "Fargate does not support a feature the task definition uses",
				Message: fmt.Sprintf("Task definition %s in %s runs on Fargate and uses %s, which Fargate does not support on %s.",
					tdLabel(t), where(t.account.ID, t.region), listAnd(what), osName(win)),
				AccountID: t.account.ID, Region: t.region, ResourceType: ResourceTaskDefinition, ResourceARN: t.td.ARN,
				TaskDefinitionARN: t.td.ARN, Affected: serviceRefs(t),
				Evidence: Evidence{Features: gaps, Facts: map[string]string{"os": osName(win)}},
				Fix:      unsupportedFix(t, keys, win),
			}, fargateUnsupported, members...)
		}
		// Platform versions below a feature's minimum: one finding per
		// service (its deployments of this task definition together).
		type use struct {
			u       serviceRef
			pv      string
			members []string
			gaps    map[string]FeatureGap
		}
		var uses grouped[use]
		for _, u := range t.uses {
			if !u.host.Fargate {
				continue
			}
			pv := fargatePlatformVersion(u.pv, win)
			for _, fu := range feats {
				info := features[fu.feature]
				min := minPV(info, win)
				if min == "" || min == "-" {
					continue
				}
				if cmp, ok := compareVersions(pv, min); !ok || cmp >= 0 {
					continue
				}
				g := uses.get(u.service.ARN, func() *use { return &use{u: u, pv: pv, gaps: map[string]FeatureGap{}} })
				if cmp, ok := compareVersions(pv, g.pv); ok && cmp < 0 {
					g.pv = pv
				}
				g.members = append(g.members, Fingerprint(r.ID, t.account.ID, t.region, u.service.ARN, fu.feature+"|"+t.td.ARN+"|"+u.deployID))
				g.gaps[fu.feature] = FeatureGap{Feature: info.title, FieldPath: fu.fieldPath, OS: osName(win), PlatformVersion: pv, Minimum: min, Source: info.source, Severity: High}
			}
		}
		for _, arn := range uses.keys() {
			g := uses.m[arn]
			var gaps []FeatureGap
			need := ""
			for _, k := range slices.Sorted(maps.Keys(g.gaps)) {
				fg := g.gaps[k]
				gaps = append(gaps, fg)
				if cmp, ok := compareVersions(fg.Minimum, need); need == "" || (ok && cmp > 0) {
					need = fg.Minimum
				}
			}
			var what []string
			for _, fg := range gaps {
				what = append(what, fg.Minimum+", which "+fg.Feature+" needs")
			}
			facts := map[string]string{"platformVersion": g.pv, "minimum": need, "os": osName(win), "cluster": g.u.cluster.ARN}
			r.emit(e, Finding{
				Title: "Fargate platform version older than the minimum of a feature in use",
				Message: fmt.Sprintf("Service %s in %s runs task definition %s on Fargate platform version %s, older than %s.",
					g.u.service.Name, where(t.account.ID, t.region), tdLabel(t), g.pv, listAnd(what)),
				AccountID: t.account.ID, Region: t.region, ResourceType: ResourceService, ResourceARN: arn,
				TaskDefinitionARN: t.td.ARN, Affected: []ResourceRef{tdRef(t)},
				Evidence: Evidence{Features: gaps, Facts: facts},
				Fix: Fix{Layer: FixService, Target: &FixTarget{Type: ResourceService, ARN: arn, Name: g.u.service.Name},
					Summary: fmt.Sprintf("Update service %s to Fargate platform version %s or later (LATEST is %s on %s) and force a new deployment.",
						g.u.service.Name, need, fargatePlatformVersion("LATEST", win), osName(win))},
			}, t.td.ARN, g.members...)
		}
		e.launchPlatformVersions(r, t, feats, win)
	}
}

// unsupportedFix: for each feature Fargate does not support, the
// alternative.
func unsupportedFix(t *tdInfo, keys []string, win bool) Fix {
	fix := Fix{Layer: FixTaskDefinition, Target: &FixTarget{Type: ResourceTaskDefinition, ARN: t.td.ARN, Name: tdLabel(t)}}
	var titles []string
	for _, k := range keys {
		titles = append(titles, features[k].title)
		switch k {
		case featFirelensS3:
			fix.Steps = append(fix.Steps, "FireLens configuration from S3 is not supported on Fargate: bake the configuration file into the log router image and set config-file-type to \"file\" with its path in the image.")
		case featEnvFiles:
			fix.Steps = append(fix.Steps, "Environment files are not supported on Fargate on "+osName(win)+": set the variables in environment[] or, for sensitive values, secrets[]; or run the task on EC2.")
		default:
			fix.Steps = append(fix.Steps, features[k].title+" is not supported on Fargate on "+osName(win)+": run the task on EC2, or do without it.")
		}
	}
	fix.Summary = "Register a new task definition revision without " + listAnd(titles) + ", which Fargate does not support on " + osName(win) + "."
	return fix
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
