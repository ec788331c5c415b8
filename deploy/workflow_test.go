package deploy

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v3"
)

const workflowPath = "github/audit.yml"

// TestWorkflowLint runs actionlint (as a library) over the workflow: syntax,
// expressions, the inputs of the actions it knows, cron schedules,
// permissions. shellcheck is not run (not a dependency here).
func TestWorkflowLint(t *testing.T) {
	b, err := os.ReadFile(workflowPath)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{WorkingDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.Lint(workflowPath, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("actionlint: %s:%d:%d: %s [%s]", workflowPath, e.Line, e.Column, e.Message, e.Kind)
	}
}

// The linter is live: a broken workflow is reported.
func TestWorkflowLintCatchesMistakes(t *testing.T) {
	good, err := os.ReadFile(workflowPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string][2]string{
		"misspelled input":      {"role-to-assume:", "role-to-asume:"},
		"bad cron":              {`cron: "17 5 * * *"`, `cron: "17 25 * * *"`},
		"bad permission":        {"id-token: write", "id-token: admin"},
		"undefined step output": {"steps.scan.outputs.exit-code != '0'", "steps.scna.outputs.exit-code != '0'"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(string(good), edit[0], edit[1], 1)
			if bad == string(good) {
				t.Fatalf("%q not found in the workflow", edit[0])
			}
			l, err := actionlint.NewLinter(&bytes.Buffer{}, &actionlint.LinterOptions{WorkingDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			errs, err := l.Lint(workflowPath, []byte(bad), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(errs) == 0 {
				t.Errorf("actionlint found nothing wrong after replacing %q with %q", edit[0], edit[1])
			}
		})
	}
}

type workflow struct {
	On          map[string]any    `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]struct {
		Env   map[string]string `yaml:"env"`
		Steps []struct {
			ID   string            `yaml:"id"`
			Name string            `yaml:"name"`
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			If   string            `yaml:"if"`
			With map[string]string `yaml:"with"`
			Env  map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

func loadWorkflow(t *testing.T) workflow {
	t.Helper()
	b, err := os.ReadFile(workflowPath)
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatalf("%s: %v", workflowPath, err)
	}
	return w
}

// auditCommands extracts the audit command lines of a shell script, with
// backslash continuations joined.
func auditCommands(script string) [][]string {
	var out [][]string
	joined := strings.ReplaceAll(script, "\\\n", " ")
	for _, line := range strings.Split(joined, "\n") {
		f := strings.Fields(strings.TrimSpace(line))
		if len(f) > 0 && f[0] == "audit" {
			out = append(out, f[1:])
		}
	}
	return out
}

func flagValue(args []string, flag string) (string, bool) {
	i := slices.Index(args, flag)
	if i < 0 || i+1 >= len(args) {
		return "", false
	}
	return strings.Trim(args[i+1], `"`), true
}

// What the issue asks of the workflow: scheduled; OIDC; the scan with
// --org, SARIF and HTML, a baseline; SARIF to code scanning; the HTML kept.
func TestWorkflowDoesWhatItSays(t *testing.T) {
	w := loadWorkflow(t)
	if _, ok := w.On["schedule"]; !ok {
		t.Errorf("on: %v has no schedule", w.On)
	}
	wantPerms := map[string]string{"id-token": "write", "security-events": "write", "contents": "read"}
	if len(w.Permissions) != len(wantPerms) {
		t.Errorf("permissions %v, want exactly %v", w.Permissions, wantPerms)
	}
	for k, v := range wantPerms {
		if w.Permissions[k] != v {
			t.Errorf("permissions %s: %q, want %q", k, w.Permissions[k], v)
		}
	}
	if len(w.Jobs) != 1 {
		t.Fatalf("%d jobs, want 1", len(w.Jobs))
	}
	injection := regexp.MustCompile(`\$\{\{`)
	var creds, sarif, artifact, scanned bool
	var outDir, sarifFile string
	for _, job := range w.Jobs {
		for _, s := range job.Steps {
			if injection.MatchString(s.Run) {
				t.Errorf("step %q expands ${{ }} inside its script; pass values through env", s.Name)
			}
			switch {
			case strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@"):
				creds = true
				if s.With["role-to-assume"] == "" {
					t.Errorf("configure-aws-credentials without role-to-assume")
				}
				for k := range s.With {
					if strings.Contains(k, "access-key") || strings.Contains(k, "session-token") {
						t.Errorf("configure-aws-credentials with %s: the role is assumed through OIDC, no keys", k)
					}
				}
			case strings.HasPrefix(s.Uses, "github/codeql-action/upload-sarif@"):
				sarif = true
				sarifFile = s.With["sarif_file"]
			case strings.HasPrefix(s.Uses, "actions/upload-artifact@"):
				artifact = strings.Contains(s.With["path"], "out/report.html")
			}
			for _, args := range auditCommands(s.Run) {
				if len(args) == 0 || args[0] != "scan" || !slices.Contains(args, "--org") {
					continue
				}
				scanned = true
				formats, _ := flagValue(args, "--format")
				for _, f := range []string{"sarif", "html"} {
					if !slices.Contains(strings.Split(formats, ","), f) {
						t.Errorf("audit scan --format %q lacks %s", formats, f)
					}
				}
				if b, ok := flagValue(args, "--baseline"); !ok || !strings.HasSuffix(b, "/latest/findings.json") {
					t.Errorf("audit scan without --baseline …/latest/findings.json: %v", args)
				}
				outDir, _ = flagValue(args, "--out")
			}
		}
	}
	if !creds || !sarif || !artifact || !scanned {
		t.Errorf("OIDC credentials %v, SARIF upload %v, HTML artifact %v, audit scan --org %v: want all", creds, sarif, artifact, scanned)
	}
	if sarifFile != outDir+"/findings.sarif" {
		t.Errorf("upload-sarif sarif_file %q, but the scan writes %s/findings.sarif", sarifFile, outDir)
	}
}
