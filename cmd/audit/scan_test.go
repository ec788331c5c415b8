package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/internal/demo"
	"github.com/ecs-audit/audit/inventory"
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
	validateFindingsFile(t, filepath.Join(dir, "findings.json"))
	if res.SchemaVersion != findings.ResultSchemaVersion || res.Tool.Name != "audit" || res.Summary.Total == 0 || len(res.Findings) != res.Summary.Total || len(res.Roles) == 0 || !res.Coverage.Complete {
		t.Fatalf("unexpected findings.json: %+v", res)
	}
	for _, f := range res.Findings {
		if f.ID == "" || f.RuleID == "" || f.Severity == "" || f.Message == "" || f.Remediation == "" || f.ResourceArn == "" {
			t.Fatalf("finding lacks a field: %+v", f)
		}
	}
	if !strings.Contains(stderr, "root causes (") {
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
	version := fmt.Sprintf(`"schemaVersion": %d`, inventory.SchemaVersion)
	for name, c := range map[string]struct{ content, want string }{
		"truncated.json": {string(good[:len(good)/2]), "truncated"},
		"typed.json":     {strings.Replace(string(good), `"revision": 7`, `"revision": "seven"`, 1), "revision (byte "},
		"version.json":   {strings.Replace(string(good), version, `"schemaVersion": 99`, 1), "version 99"},
		"duplicate.json": {strings.Replace(string(good), `"partition": "aws",`, `"partition": "aws", "partition": "aws-cn",`, 1), "field partition (byte "},
		// An SCP that is not a policy is a load error, never a policy
		// dropped from the evaluation.
		"scp.json": {"" /* breakFirstSCP */, `organization.policies[`},
	} {
		content := c.content
		if name == "scp.json" {
			content = breakFirstSCP(t, good)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		code, _, stderr := run(t, "", "scan", "--snapshot", p, "--out", dir)
		if code != ExitUsage || !strings.Contains(stderr, name) || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q (want %q)", name, code, stderr, c.want)
		}
	}
}

// breakFirstSCP replaces the document of the demo's first SCP with one that
// is JSON but not a policy.
func breakFirstSCP(t *testing.T, good []byte) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(good, &doc); err != nil {
		t.Fatal(err)
	}
	pols := doc["organization"].(map[string]any)["policies"].(map[string]any)
	for _, p := range pols {
		p.(map[string]any)["document"] = `{"Version":"2012-10-17","Statement":{"Effect":"Allow"}}`
		break
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A version 1 snapshot still loads, with the meaning version 1 documents.
func TestScanVersion1Snapshot(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(good, &doc); err != nil {
		t.Fatal(err)
	}
	// What version 1 cannot say (whether resources exist, the repository,
	// registry and bucket policies, launches besides services, the network)
	// goes from both; version 2 keeps its
	// policy statuses, which version 1 derives.
	delete(doc, "s3Buckets")
	delete(doc["scope"].(map[string]any), "resources")
	for _, a := range doc["accounts"].([]any) {
		for _, r := range a.(map[string]any)["regions"].([]any) {
			for _, k := range []string{"missingSecrets", "missingParameters", "ecrRepositories", "ecrRegistry", "logGroups",
				"eventRules", "schedules", "schedulesStatus", "network"} {
				delete(r.(map[string]any), k)
			}
			// Nor the launches besides services, nor where tasks run.
			clusters, _ := r.(map[string]any)["clusters"].([]any)
			for _, c := range clusters {
				cm := c.(map[string]any)
				for _, k := range []string{"tasks", "tasksStatus", "eventRulesStatus"} {
					delete(cm, k)
				}
				services, _ := cm["services"].([]any)
				for _, sv := range services {
					sm := sv.(map[string]any)
					delete(sm, "network")
					deps, _ := sm["deployments"].([]any)
					for _, d := range deps {
						delete(d.(map[string]any), "network")
					}
				}
			}
		}
	}
	v2, _ := json.Marshal(doc)
	v2Path := filepath.Join(dir, "v2.json")
	os.WriteFile(v2Path, v2, 0o644)
	doc["schemaVersion"] = 1
	// Version 1 writes every account's AWS managed policies in full.
	shared := map[string]any{}
	for _, p := range doc["awsManagedPolicies"].([]any) {
		m := p.(map[string]any)
		shared[m["arn"].(string)+" "+m["defaultVersionId"].(string)] = m
	}
	delete(doc, "awsManagedPolicies")
	for _, a := range doc["accounts"].([]any) {
		if iam, _ := a.(map[string]any)["iam"].(map[string]any); iam != nil {
			mps, _ := iam["managedPolicies"].([]any)
			for i, p := range mps {
				if m := p.(map[string]any); m["shared"] == true {
					mps[i] = shared[m["arn"].(string)+" "+m["defaultVersionId"].(string)]
				}
			}
		}
		for _, r := range a.(map[string]any)["regions"].([]any) {
			reg := r.(map[string]any)
			for _, list := range []string{"secrets", "parameters", "kmsKeys"} {
				items, _ := reg[list].([]any)
				for _, it := range items {
					delete(it.(map[string]any), "resourcePolicyStatus")
					delete(it.(map[string]any), "policyStatus")
				}
			}
		}
	}
	v1, _ := json.Marshal(doc)
	p := filepath.Join(dir, "v1.json")
	os.WriteFile(p, v1, 0o644)
	code, _, stderr := run(t, "", "scan", "--snapshot", p, "--out", filepath.Join(dir, "v1"), "--format", "json")
	code2, _, _ := run(t, "", "scan", "--snapshot", v2Path, "--out", filepath.Join(dir, "v2"), "--format", "json")
	if code != code2 {
		t.Fatalf("version 1: exit %d (version 2: %d): %s", code, code2, stderr)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "v1", "findings.json"))
	b, _ := os.ReadFile(filepath.Join(dir, "v2", "findings.json"))
	var fa, fb struct{ Findings []map[string]any }
	json.Unmarshal(a, &fa)
	json.Unmarshal(b, &fb)
	if len(fa.Findings) == 0 || fmt.Sprint(fa.Findings) != fmt.Sprint(fb.Findings) {
		t.Errorf("the demo as version 1 gives other findings than as version 2 (%d vs %d)", len(fa.Findings), len(fb.Findings))
	}
}

func TestRulesAndVersion(t *testing.T) {
	code, out, _ := run(t, "", "rules")
	if code != 0 || !strings.Contains(out, "ER004") || !strings.Contains(out, "AG002") {
		t.Fatalf("rules: %d %s", code, out)
	}
	// Each rule's severity range is shown (the README's severity model).
	for _, line := range []string{"ER004  low-critical", "ER005  low-medium", "ER001  critical"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(line), " ")) {
			t.Errorf("rules: no %q in\n%s", line, out)
		}
	}
	code, out, _ = run(t, "", "rules", "--format", "json")
	var cat []struct {
		ID            string
		SeverityRange struct{ Min, Max string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &cat) != nil || len(cat) < 14 {
		t.Fatalf("rules json: %d %s", code, out)
	}
	for _, r := range cat {
		if r.SeverityRange.Min == "" || r.SeverityRange.Max == "" {
			t.Errorf("rules json: %s has no severity range", r.ID)
		}
		if r.ID == "ER005" && (r.SeverityRange.Min != "low" || r.SeverityRange.Max != "medium") {
			t.Errorf("rules json: ER005 range %+v", r.SeverityRange)
		}
	}
	code, out, _ = run(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "audit ") {
		t.Fatalf("version: %d %s", code, out)
	}
}

// A snapshot is analysed account by account as it is read; an account
// found invalid after others were evaluated still exits 2 with the error
// a whole load gives (file, JSON path, byte offset), and no report is
// written.
func TestScanSnapshotInvalidInALaterAccount(t *testing.T) {
	good, err := os.ReadFile(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(good, &doc); err != nil {
		t.Fatal(err)
	}
	accounts := doc["accounts"].([]any)
	last := len(accounts) - 1
	roles := accounts[last].(map[string]any)["iam"].(map[string]any)["roles"].([]any)
	roles[len(roles)-1].(map[string]any)["arn"] = "not-a-role"
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "late.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	field := fmt.Sprintf("accounts[%d].iam.roles[%d].arn", last, len(roles)-1)
	// Streamed (the default), then read whole (--save-snapshot needs the
	// whole inventory): the same error.
	var msgs []string
	for i, extra := range [][]string{nil, {"--save-snapshot", filepath.Join(dir, "again.json")}} {
		out := filepath.Join(dir, fmt.Sprintf("out%d", i))
		code, _, stderr := run(t, "", append([]string{"scan", "--snapshot", p, "--format", "all", "--out", out}, extra...)...)
		if code != ExitUsage || !strings.Contains(stderr, p) || !strings.Contains(stderr, field) || !strings.Contains(stderr, "(byte ") {
			t.Fatalf("%v: exit %d, stderr %q (want exit 2 naming %s and %s with its offset)", extra, code, stderr, p, field)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("%v: the invalid snapshot left %d files in --out", extra, len(entries))
		}
		msgs = append(msgs, stderr)
	}
	if msgs[0] != msgs[1] {
		t.Errorf("read account by account, the error is\n%s\nread whole, it is\n%s", msgs[0], msgs[1])
	}
}

// A live scan spools each account's collected data (--spool-dir) and reads
// it back for the evaluation and the snapshot; with --evidence-dir it
// holds the inventory whole. Both give the same findings.json, the snapshot
// re-analysed gives it too, and the spool file is gone afterwards.
func TestLiveScanSpooled(t *testing.T) {
	if testing.Short() {
		t.Skip("two live scans")
	}
	if _, err := findingsSchema(); err != nil { // read before configEnv changes directory
		t.Fatal(err)
	}
	dir := configEnv(t, "", nil)
	serveWorld(t, demo.World())
	spool := filepath.Join(dir, "spool")
	if err := os.Mkdir(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	spooled, whole, again := filepath.Join(dir, "spooled"), filepath.Join(dir, "whole"), filepath.Join(dir, "again")
	snap := filepath.Join(dir, "inventory.json")
	if code, _, stderr := run(t, "", "scan", "--org", "--spool-dir", spool, "--out", spooled, "--save-snapshot", snap, "--quiet"); code != ExitOK {
		t.Fatalf("spooled scan: exit %d:\n%s", code, stderr)
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("spool directory not empty after the scan: %v", left)
	}
	if code, _, stderr := run(t, "", "scan", "--org", "--out", whole, "--evidence-dir", filepath.Join(dir, "evidence"), "--quiet"); code != ExitOK {
		t.Fatalf("whole scan: exit %d:\n%s", code, stderr)
	}
	if code, _, stderr := run(t, "", "scan", "--snapshot", snap, "--out", again, "--quiet"); code != ExitOK {
		t.Fatalf("snapshot scan: exit %d:\n%s", code, stderr)
	}
	want := comparableResult(t, filepath.Join(whole, "findings.json"))
	if !strings.Contains(want, `"ruleId"`) {
		t.Fatal("no findings to compare")
	}
	if got := comparableResult(t, filepath.Join(spooled, "findings.json")); got != want {
		t.Errorf("spooled scan's findings differ from the whole scan's:\n%s", firstLineDiff(got, want))
	}
	if got := comparableResult(t, filepath.Join(again, "findings.json")); got != want {
		t.Errorf("the spooled scan's snapshot re-analysed gives other findings:\n%s", firstLineDiff(got, want))
	}
	// A spool directory that does not exist: nothing is scanned (exit 2).
	code, _, stderr := run(t, "", "scan", "--org", "--spool-dir", filepath.Join(dir, "missing"), "--out", filepath.Join(dir, "none"), "--quiet")
	if code != ExitUsage || !strings.Contains(stderr, "spool") {
		t.Errorf("missing spool directory: exit %d:\n%s", code, stderr)
	}
}

// firstLineDiff shows the first line where two texts differ.
func firstLineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n  got  %s\n  want %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d lines", len(al), len(bl))
}
