package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const demoSnapshot = "../../testdata/demo/snapshot.json"

func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestScanSnapshotExitCodes(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"default fail-on none", []string{"scan", "--snapshot", demoSnapshot, "--out", dir, "--quiet"}, ExitOK},
		{"fail on critical", []string{"scan", "--snapshot", demoSnapshot, "--out", dir, "--fail-on", "critical", "--quiet"}, ExitFindings},
		{"bad fail-on", []string{"scan", "--snapshot", demoSnapshot, "--out", dir, "--fail-on", "severe"}, ExitUsage},
		{"bad format", []string{"scan", "--snapshot", demoSnapshot, "--out", dir, "--format", "pdf"}, ExitUsage},
		{"live flag with snapshot", []string{"scan", "--snapshot", demoSnapshot, "--org"}, ExitUsage},
		{"missing snapshot", []string{"scan", "--snapshot", filepath.Join(dir, "nope.json")}, ExitUsage},
		{"unknown flag", []string{"scan", "--bogus"}, ExitUsage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := run(t, "", c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, c.code, stderr)
			}
		})
	}
}

func TestScanSnapshotWritesJSON(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := run(t, "", "scan", "--snapshot", demoSnapshot, "--out", dir)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		SchemaVersion int `json:"schemaVersion"`
		Tool          struct{ Name, Version string }
		Summary       struct{ Total int }
		Coverage      struct{ Complete bool }
		Findings      []struct {
			ID, RuleID, Severity, Title, Message, AccountID, Region, ResourceType, ResourceArn, TaskDefinitionArn, RoleArn, Container, Remediation string
			Evidence                                                                                                                               json.RawMessage
		}
		Roles []struct {
			RoleArn              string
			LeastPrivilegePolicy json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.SchemaVersion != 1 || res.Tool.Name != "audit" || res.Summary.Total == 0 || len(res.Findings) != res.Summary.Total || len(res.Roles) == 0 || !res.Coverage.Complete {
		t.Fatalf("unexpected findings.json: %+v", res)
	}
	for _, f := range res.Findings {
		if f.ID == "" || f.RuleID == "" || f.Severity == "" || f.Message == "" || f.Remediation == "" || f.ResourceArn == "" {
			t.Fatalf("finding lacks a field: %+v", f)
		}
	}
	if !strings.Contains(stderr, "findings (") {
		t.Errorf("no summary on stderr: %s", stderr)
	}
}

// A truncated or malformed snapshot exits 2 naming the file and field.
func TestScanBadSnapshot(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"truncated.json": string(good[:len(good)/2]),
		"typed.json":     strings.Replace(string(good), `"revision": 7`, `"revision": "seven"`, 1),
		"version.json":   strings.Replace(string(good), `"schemaVersion": 1`, `"schemaVersion": 99`, 1),
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		code, _, stderr := run(t, "", "scan", "--snapshot", p, "--out", dir)
		if code != ExitUsage || !strings.Contains(stderr, name) {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr)
		}
	}
}

func TestRulesAndVersion(t *testing.T) {
	code, out, _ := run(t, "", "rules")
	if code != 0 || !strings.Contains(out, "ER004") || !strings.Contains(out, "AG002") {
		t.Fatalf("rules: %d %s", code, out)
	}
	code, out, _ = run(t, "", "rules", "--format", "json")
	var cat []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &cat) != nil || len(cat) < 14 {
		t.Fatalf("rules json: %d %s", code, out)
	}
	code, out, _ = run(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "audit ") {
		t.Fatalf("version: %d %s", code, out)
	}
}
