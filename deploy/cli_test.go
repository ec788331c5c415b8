package deploy

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// kitCommands are the audit command lines of the deployment kit: the
// scheduled task's command (scanner.yaml) and the workflow's.
func kitCommands(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	r := resolved(t, scannerTemplate, scannerParams(ecrImage, ecrRepo), scannerAccount)
	cd := r.properties(t, "TaskDefinition")["ContainerDefinitions"].([]any)[0].(map[string]any)
	out["scanner.yaml task"] = strs(cd["Command"])
	for _, job := range loadWorkflow(t).Jobs {
		for _, s := range job.Steps {
			for i, args := range auditCommands(s.Run) {
				out["workflow step "+s.Name+" #"+string(rune('1'+i))] = args
			}
		}
	}
	return out
}

// workflowValues stands in for the workflow's variables: the shell sees
// them set from the repository variables.
var workflowValues = strings.NewReplacer(`"`, "", "${BUCKET}", "audit-scanner-reportbucket-example", "$EXTERNAL_ID", externalID)

// Every flag the kit passes exists in `audit scan`, and audit accepts the
// kit's whole command line as it checks options before any AWS call (every
// value: the formats, the S3 locations, the severities, the baseline with
// --fail-on-new), so that a renamed flag or a value audit refuses cannot
// break the scheduled scan silently.
func TestKitUsesExistingFlags(t *testing.T) {
	bin := auditBinary(t)
	help := run(t, time.Minute, nil, bin, "scan", "--help")
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)`).FindAllStringSubmatch(help, -1) {
		known[m[1]] = true
	}
	if !known["--org"] || !known["--out"] || !known["--baseline"] || !known["--fail-on-new"] {
		t.Fatalf("could not read the flags of audit scan --help:\n%s", help)
	}
	cmds := kitCommands(t)
	if len(cmds) < 3 {
		t.Fatalf("found %d audit commands in the kit, want the task's and the workflow's two", len(cmds))
	}
	// audit config print checks the options as scan does, without AWS, in a
	// directory without audit.yaml and an environment without AUDIT_*.
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AUDIT_") {
			env = append(env, k+"=")
		}
	}
	for where, args := range cmds {
		if len(args) == 0 || args[0] != "scan" {
			t.Errorf("%s: %v is not audit scan", where, args)
			continue
		}
		var check []string
		for i := 1; i < len(args); i++ {
			a := workflowValues.Replace(args[i])
			if !strings.HasPrefix(a, "--") {
				check = append(check, a)
				continue
			}
			name, _, _ := strings.Cut(a, "=")
			if !known[name] {
				t.Errorf("%s: audit scan has no flag %s", where, name)
			}
			// config print's own --format is its output: the formats are
			// checked here.
			if name == "--format" {
				if f, ok := flagValue(args, "--format"); ok {
					for _, v := range strings.Split(f, ",") {
						if !slices.Contains([]string{"json", "sarif", "html", "xlsx", "markdown", "md", "csv", "all"}, v) {
							t.Errorf("%s: --format %s", where, v)
						}
					}
				}
				i++
				continue
			}
			check = append(check, a)
		}
		out, err := runIn(dir, time.Minute, env, bin, append([]string{"config", "print", "--config", ""}, check...)...)
		if err != nil {
			t.Errorf("%s: audit refuses the kit's options: %v\n%s", where, err, out)
		}
	}
}
