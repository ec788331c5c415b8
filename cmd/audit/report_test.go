package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ecs-audit/audit/report"
)

const (
	findingsSchemaPath = "../../docs/findings.schema.json"
	// demoV1 is the demo's findings.json as schema version 1 wrote it.
	demoV1 = "../../testdata/demo/findings-v1.json"
)

var findingsSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(findingsSchemaPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	abs, _ := filepath.Abs(findingsSchemaPath)
	if err := c.AddResource(abs, doc); err != nil {
		return nil, err
	}
	return c.Compile(abs)
})

// validateFindingsFile validates a findings.json that a command wrote
// against docs/findings.schema.json.
func validateFindingsFile(t *testing.T, path string) {
	t.Helper()
	s, err := findingsSchema()
	if err != nil {
		t.Fatalf("%s: %v", findingsSchemaPath, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s does not follow %s:\n%v", path, findingsSchemaPath, err)
	}
}

// scanDemo runs audit scan on the demo snapshot, every format, into dir.
func scanDemo(t *testing.T, dir string) {
	t.Helper()
	code, _, stderr := run(t, "", "scan", "--snapshot", demoSnapshot, "--format", "all", "--out", dir, "--quiet")
	if code != ExitOK {
		t.Fatalf("scan: exit %d: %s", code, stderr)
	}
}

// The golden round trip: `audit report` on the findings.json of a scan
// writes every format exactly as the scan wrote it, byte for byte.
func TestReportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	scanned, rendered := filepath.Join(dir, "scan"), filepath.Join(dir, "report")
	scanDemo(t, scanned)
	code, stdout, stderr := run(t, "", "report", filepath.Join(scanned, "findings.json"), "--format", "all", "--out", rendered)
	if code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("report wrote to stdout: %q", stdout)
	}
	if strings.Contains(stderr, "note:") {
		t.Errorf("a current findings.json gets a note: %s", stderr)
	}
	var files []string
	for _, f := range report.Formats() {
		files = append(files, f.File)
		want, err := os.ReadFile(filepath.Join(scanned, f.File))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(rendered, f.File))
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("%s rendered by audit report differs from the scan's (%d vs %d bytes)", f.File, len(got), len(want))
		}
		if !strings.Contains(stderr, "wrote "+filepath.Join(rendered, f.File)) {
			t.Errorf("the summary does not list %s: %s", f.File, stderr)
		}
	}
	entries, _ := os.ReadDir(rendered)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(files)
	if !slices.Equal(names, files) {
		t.Errorf("audit report wrote %v, want the files of every format %v", names, files)
	}
	validateFindingsFile(t, filepath.Join(scanned, "findings.json"))
	validateFindingsFile(t, filepath.Join(rendered, "findings.json"))
}

// A findings.json of schema version 1, as an earlier release wrote it,
// renders in every format with this build's catalog and a note; the
// findings are those of the file.
func TestReportVersion1(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := run(t, "", "report", demoV1, "--format", "all", "--out", out)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "audit: note: "+demoV1+": findings.json version 1 carries no rule catalog") {
		t.Errorf("no note about the missing catalog: %s", stderr)
	}
	for _, f := range report.Formats() {
		if st, err := os.Stat(filepath.Join(out, f.File)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f.File, err)
		}
	}
	validateFindingsFile(t, filepath.Join(out, "findings.json"))
	type doc struct {
		SchemaVersion int
		Findings      []json.RawMessage
		Rules         []struct{ ID string }
	}
	read := func(p string) doc {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var d doc
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	v1, v2 := read(demoV1), read(filepath.Join(out, "findings.json"))
	if v1.SchemaVersion != 1 || v2.SchemaVersion != 2 || len(v1.Rules) != 0 || len(v2.Rules) == 0 {
		t.Errorf("versions %d → %d, rules %d → %d", v1.SchemaVersion, v2.SchemaVersion, len(v1.Rules), len(v2.Rules))
	}
	if len(v1.Findings) == 0 || len(v1.Findings) != len(v2.Findings) {
		t.Fatalf("%d findings in the file, %d written", len(v1.Findings), len(v2.Findings))
	}
	// Each version 1 finding is read as a root cause of its own: every
	// field it has is kept; impact, fix and memberIds, which version 1
	// did not fill, are derived from it.
	for i := range v1.Findings {
		var a, b map[string]any
		json.Unmarshal(v1.Findings[i], &a)
		json.Unmarshal(v2.Findings[i], &b)
		for k, va := range a {
			if k == "impact" || k == "fix" {
				continue
			}
			if !jsonSubset(va, b[k]) {
				t.Fatalf("finding %d: %s changed:\n%s\n%s", i, k, v1.Findings[i], v2.Findings[i])
			}
		}
		if ids, _ := b["memberIds"].([]any); len(ids) != 1 || ids[0] != a["id"] {
			t.Errorf("finding %d: memberIds %v, want its own ID %v", i, b["memberIds"], a["id"])
		}
		if fix, _ := b["fix"].(map[string]any); fix == nil || fix["summary"] == "" {
			t.Errorf("finding %d: no fix derived from its remediation: %v", i, b["fix"])
		}
	}
}

// jsonSubset reports whether b holds everything a holds: the same values,
// objects with at least a's keys, arrays of the same length, element by
// element.
func jsonSubset(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range x {
			if !jsonSubset(v, y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonSubset(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return jsonDeepEqual(a, b)
}

func jsonDeepEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// The input findings.json is never written over, even when --out is its
// directory: an archived version 1 file stays as it was.
func TestReportLeavesItsInputAlone(t *testing.T) {
	dir := t.TempDir()
	orig, err := os.ReadFile(demoV1)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "findings.json")
	if err := os.WriteFile(in, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "", "report", in, "--out", dir)
	if code != ExitOK || !strings.Contains(stderr, in+" is the input; it is left as it is") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got, _ := os.ReadFile(in); !bytes.Equal(got, orig) {
		t.Error("the input findings.json was written over")
	}
	for _, f := range report.Formats() {
		if _, err := os.Stat(filepath.Join(dir, f.File)); err != nil {
			t.Error(err)
		}
	}
	code, _, stderr = run(t, "", "report", in, "--out", dir, "--format", "json", "--fail-on", "critical")
	if code != ExitFindings {
		t.Errorf("only the input asked for: exit %d, want %d: %s", code, ExitFindings, stderr)
	}
}

// Exit codes of audit report: --fail-on as for scan, 3 for a findings.json
// that records an incomplete scan, 2 for bad flags and bad files (naming
// the file and the field), with no report written.
func TestReportExitCodes(t *testing.T) {
	dir := t.TempDir()
	scanDemo(t, filepath.Join(dir, "scan"))
	good := filepath.Join(dir, "scan", "findings.json")
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	incompleteFile := write("incomplete.json", strings.Replace(string(data), `"complete": true`, `"complete": false`, 1))
	badSeverity := write("bad.json", strings.Replace(string(data), `"severity": "critical"`, `"severity": "urgent"`, 1))
	newer := write("newer.json", strings.Replace(string(data), `"schemaVersion": 2`, `"schemaVersion": 3`, 1))
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr []string
		writes bool
	}{
		{"clean", []string{good, "--format", "json"}, ExitOK, nil, true},
		{"fail on critical", []string{good, "--fail-on", "critical", "--format", "csv"}, ExitFindings, nil, true},
		{"fail-on none", []string{good, "--fail-on", "none", "--format", "csv"}, ExitOK, nil, true},
		{"incomplete", []string{incompleteFile, "--format", "markdown"}, ExitIncomplete, []string{"scan INCOMPLETE"}, true},
		{"incomplete wins over findings", []string{incompleteFile, "--fail-on", "info", "--format", "markdown"}, ExitIncomplete, nil, true},
		{"bad severity", []string{badSeverity}, ExitUsage, []string{"bad.json", "findings[0].severity", `"urgent"`}, false},
		{"newer version", []string{newer}, ExitUsage, []string{"newer.json", "schemaVersion", "version 3 is not supported"}, false},
		{"missing file", []string{filepath.Join(dir, "nope.json")}, ExitUsage, []string{"nope.json"}, false},
		{"a snapshot", []string{demoSnapshot}, ExitUsage, []string{"inventory snapshot, not a findings.json"}, false},
		{"bad format", []string{good, "--format", "pdf"}, ExitUsage, []string{`"pdf"`}, false},
		{"bad fail-on", []string{good, "--fail-on", "severe"}, ExitUsage, []string{"--fail-on"}, false},
		{"no file", nil, ExitUsage, []string{"accepts 1 arg"}, false},
		{"two files", []string{good, good}, ExitUsage, []string{"accepts 1 arg"}, false},
		{"two formats to stdout", []string{good, "--format", "json,csv", "--out", "-"}, ExitUsage, []string{"--out - writes one format"}, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, "out", string(rune('a'+i)))
			args := append([]string{"report"}, c.args...)
			if !slices.Contains(c.args, "--out") {
				args = append(args, "--out", out)
			}
			code, _, stderr := run(t, "", args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, c.code, stderr)
			}
			for _, w := range c.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			entries, _ := os.ReadDir(out)
			if c.writes != (len(entries) > 0) {
				t.Errorf("%d files written, want some: %v", len(entries), c.writes)
			}
		})
	}
}

// --out - writes the one requested format to stdout, the same bytes as the
// file, for scan and report; the summary goes to stderr; more than one
// format is a usage error before anything runs.
func TestOutStdout(t *testing.T) {
	dir := t.TempDir()
	scanDemo(t, filepath.Join(dir, "scan"))
	file := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, "scan", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, f := range report.Formats() {
		t.Run("scan "+f.Name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", "scan", "--snapshot", demoSnapshot, "--format", f.Name, "--out", "-")
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if stdout != file(f.File) {
				t.Errorf("stdout (%d bytes) is not the %s the scan writes (%d bytes)", len(stdout), f.File, len(file(f.File)))
			}
			if !strings.Contains(stderr, "root causes (") || !strings.Contains(stderr, "wrote "+f.Name+" to standard output") {
				t.Errorf("no summary on stderr: %q", stderr)
			}
		})
		t.Run("report "+f.Name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", "report", filepath.Join(dir, "scan", "findings.json"), "--format", f.Name, "--out", "-", "--quiet")
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if stdout != file(f.File) || stderr != "" {
				t.Errorf("stdout (%d bytes) is not %s (%d bytes); stderr %q", len(stdout), f.File, len(file(f.File)), stderr)
			}
		})
	}
	for _, args := range [][]string{
		{"scan", "--snapshot", demoSnapshot, "--format", "all", "--out", "-"},
		{"scan", "--snapshot", demoSnapshot, "--format", "json,sarif", "--out", "-"},
		{"report", filepath.Join(dir, "scan", "findings.json"), "--out", "-"},
		{"demo", "--out", "-"},
	} {
		code, stdout, stderr := run(t, "", args...)
		if code != ExitUsage || stdout != "" || !strings.Contains(stderr, "--out -") {
			t.Errorf("%v: exit %d, stdout %d bytes, stderr %q", args, code, len(stdout), stderr)
		}
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error(`a directory or file named "-" was created`)
		os.RemoveAll("-")
	}
}
