package deploy

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// pendingFlags are flags the kit uses that `audit scan` does not have yet:
// they arrive with issue 10's §3 (baseline) and §4 (S3 output). When one
// lands, this test fails until it is removed from here (and the kit's use
// of it is tested for real).
var pendingFlags = map[string]string{
	"--baseline":    "issue 10 §3/§4: --baseline PREVIOUS.json, also s3://…/latest/findings.json",
	"--fail-on-new": "issue 10 §3: exit 1 only for new findings at or above it",
}

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

// Every flag the kit passes exists in today's `audit scan` (or is listed as
// pending above), so that a renamed flag cannot break the scheduled scan
// silently.
func TestKitUsesExistingFlags(t *testing.T) {
	bin := auditBinary(t)
	help := run(t, time.Minute, nil, bin, "scan", "--help")
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)`).FindAllStringSubmatch(help, -1) {
		known[m[1]] = true
	}
	if !known["--org"] || !known["--out"] {
		t.Fatalf("could not read the flags of audit scan --help:\n%s", help)
	}
	for flag, why := range pendingFlags {
		if known[flag] {
			t.Errorf("%s exists now (%s): remove it from pendingFlags and test the kit's use of it", flag, why)
		}
	}
	cmds := kitCommands(t)
	if len(cmds) < 3 {
		t.Fatalf("found %d audit commands in the kit, want the task's and the workflow's two", len(cmds))
	}
	for where, args := range cmds {
		if len(args) == 0 || args[0] != "scan" {
			t.Errorf("%s: %v is not audit scan", where, args)
			continue
		}
		for _, a := range args[1:] {
			if !strings.HasPrefix(a, "--") {
				continue
			}
			name, _, _ := strings.Cut(a, "=")
			switch {
			case known[name]:
			case pendingFlags[name] != "":
				t.Logf("%s: %s is pending (%s)", where, name, pendingFlags[name])
			default:
				t.Errorf("%s: audit scan has no flag %s", where, name)
			}
		}
		// Values the CLI checks today.
		if f, ok := flagValue(args, "--format"); ok {
			for _, v := range strings.Split(f, ",") {
				if !slices.Contains([]string{"json", "sarif", "html", "xlsx", "markdown", "csv", "all"}, v) {
					t.Errorf("%s: --format %s", where, v)
				}
			}
		}
	}
}
