package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/findings"
)

const (
	// sampleV1 is findings.json.golden as the writer of schema version 1
	// wrote it (before the rule catalog), kept as it was.
	sampleV1 = "testdata/sample-v1.json"
	// demoV1 is the findings.json of the demo organization as written by
	// audit scan --snapshot testdata/demo/snapshot.json with schema
	// version 1.
	demoV1 = "../testdata/demo/findings-v1.json"
)

// renderAll renders every format of res into memory.
func renderAll(t *testing.T, res *findings.Result) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range Formats() {
		var b bytes.Buffer
		if err := Render(&b, res, f.Name, Options{}); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = b.Bytes()
	}
	// Every findings.json a test renders follows the published schema.
	validateFindingsJSON(t, "findings.json", out[FormatJSON])
	return out
}

// A findings.json read back renders every format exactly as the Result it
// was written from.
func TestReadResultRoundTrip(t *testing.T) {
	cases := map[string]func(testing.TB) *findings.Result{
		"sample":    func(testing.TB) *findings.Result { return sampleResult() },
		"malicious": func(testing.TB) *findings.Result { return maliciousResult() },
		"hostile":   func(testing.TB) *findings.Result { return hostileResult() },
		"demo":      demoResult,
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			if name != "demo" {
				withCatalog(t)
			}
			res := mk(t)
			want := renderAll(t, res)
			back, info, err := ReadResult(want[FormatJSON], "findings.json")
			if err != nil {
				t.Fatal(err)
			}
			if info.Version != findings.ResultSchemaVersion || len(info.Notes) != 0 {
				t.Errorf("info = %+v", info)
			}
			got := renderAll(t, back)
			for _, f := range AllFormats {
				if !bytes.Equal(got[f], want[f]) {
					t.Errorf("%s rendered from the findings.json read back differs from the original", f)
				}
			}
		})
	}
}

// The catalog a Result carries is the one its reports describe, not this
// build's: a findings.json renders the same rules after the catalog
// changed.
func TestResultCatalogWins(t *testing.T) {
	withCatalog(t)
	res := sampleResult()
	res.Rules = testCatalog()[:2]
	res.Rules[0].Title = "A title from an older build"
	var b bytes.Buffer
	if err := WriteSARIF(&b, res, Options{}); err != nil {
		t.Fatal(err)
	}
	var sarif struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID               string
						ShortDescription struct{ Text string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &sarif); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range sarif.Runs[0].Tool.Driver.Rules {
		ids = append(ids, r.ID)
		if r.ID == "T001" && r.ShortDescription.Text != "A title from an older build" {
			t.Errorf("T001 described as %q, not as the Result's catalog says", r.ShortDescription.Text)
		}
	}
	// The Result's two rules, and the rules its findings name that they
	// lack; not T006, which only the build's catalog knows.
	if want := []string{"T001", "T002", "T003", "T004", "T005", "T007", "T008"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("SARIF rules = %v, want %v", ids, want)
	}
	var j bytes.Buffer
	if err := WriteJSON(&j, res); err != nil {
		t.Fatal(err)
	}
	validateFindingsJSON(t, "findings.json", j.Bytes())
	back, _, err := ReadResult(j.Bytes(), "findings.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Rules) != 2 || back.Rules[0].Title != "A title from an older build" {
		t.Errorf("rules read back = %+v", back.Rules)
	}
}

// A version 1 findings.json (no rule catalog, one finding per item, some
// empty lists as null) is read with this build's catalog and two notes,
// and every format renders; the findings.json written from it is a valid
// version 2 file.
//
// What the upgrade may change: nothing of what the file says. Every field
// of a version 1 finding is in the version 2 finding with its value; the
// version 2 finding adds exactly what version 2 requires, derived from the
// finding alone (upgrade.go): memberIds (its own ID), impact (its resource,
// its excess grants), fix (its remediation, no layer), and an empty kind
// on each excess grant.
func TestReadResultVersion1(t *testing.T) {
	for _, path := range []string{sampleV1, demoV1} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			withCatalog(t)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(data, []byte(`"schemaVersion": 1,`)) || bytes.Contains(data, []byte(`"rules"`)) {
				t.Fatalf("%s is not a version 1 findings.json", path)
			}
			res, info, err := LoadResult(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Version != 1 || len(info.Notes) != 2 || !strings.Contains(info.Notes[0], "no rule catalog") ||
				!strings.Contains(info.Notes[1], "one finding per item") {
				t.Errorf("info = %+v", info)
			}
			if res.SchemaVersion != findings.ResultSchemaVersion || !reflect.DeepEqual(res.Rules, testCatalog()) {
				t.Errorf("version %d, %d rules", res.SchemaVersion, len(res.Rules))
			}
			var v1 struct{ Findings []json.RawMessage }
			json.Unmarshal(data, &v1)
			if len(res.Findings) == 0 || len(res.Findings) != len(v1.Findings) {
				t.Fatalf("%d findings read, %d in the file", len(res.Findings), len(v1.Findings))
			}
			out := renderAll(t, res)
			for _, f := range AllFormats {
				if len(out[f]) == 0 {
					t.Errorf("%s: empty", f)
				}
			}
			validateFindingsJSON(t, "findings.json from "+path, out[FormatJSON])
			var v2 struct {
				Summary  findings.Summary
				Findings []json.RawMessage
			}
			json.Unmarshal(out[FormatJSON], &v2)
			items := 0
			for i := range v1.Findings {
				var a, b map[string]any
				if err := json.Unmarshal(v1.Findings[i], &a); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(v2.Findings[i], &b); err != nil {
					t.Fatal(err)
				}
				excess, _ := a["evidence"].(map[string]any)["excess"].([]any)
				wantItems := max(1, len(excess))
				items += wantItems
				wantFix := map[string]any{"layer": "", "summary": a["remediation"]}
				im, _ := b["impact"].(map[string]any)
				if !reflect.DeepEqual(b["memberIds"], []any{a["id"]}) || !reflect.DeepEqual(b["fix"], wantFix) ||
					!reflect.DeepEqual(im["resources"], map[string]any{a["resourceType"].(string): 1.0}) || im["items"] != float64(wantItems) {
					t.Errorf("finding %d: memberIds %v, fix %v, impact %v", i, b["memberIds"], b["fix"], im)
				}
				delete(b, "memberIds")
				delete(b, "fix")
				delete(b, "impact")
				bx, _ := b["evidence"].(map[string]any)["excess"].([]any)
				for _, x := range bx {
					g := x.(map[string]any)
					if k, ok := g["kind"]; !ok || k != "" {
						t.Errorf("finding %d: excess kind %v, want empty (version 1 did not record it)", i, k)
					}
					delete(g, "kind")
				}
				if !reflect.DeepEqual(a, b) {
					t.Errorf("finding %d changed:\n v1: %s\n v2: %s", i, v1.Findings[i], v2.Findings[i])
					break
				}
			}
			if v2.Summary.Items != items || len(v2.Summary.Affected) == 0 {
				t.Errorf("summary: %d items (want %d), affected %v", v2.Summary.Items, items, v2.Summary.Affected)
			}
		})
	}
}

// Bad input is an error naming the file, the JSON path and what is wrong.
func TestReadResultErrors(t *testing.T) {
	withCatalog(t)
	var good bytes.Buffer
	if err := WriteJSON(&good, sampleResult()); err != nil {
		t.Fatal(err)
	}
	g := good.String()
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal(good.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.MarshalIndent(m, "", "  ")
		return string(b)
	}
	snapshot, err := os.ReadFile("../testdata/demo/snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	sarif, err := os.ReadFile("testdata/findings.sarif.golden")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in   string
		path, want string // want: in the message; path "*": any
	}{
		{"empty", " \n", "", "file is empty"},
		{"truncated", g[:len(g)/2], "*", "ends early"}, // the path is where it ends
		{"malformed", strings.Replace(g, `"tool": {`, `"tool": {,`, 1), "tool", "malformed JSON"},
		{"not an object", `[1, 2]`, "", "is a list; expected an object"},
		{"trailing data", g + "{}", "", "more data after"},
		{"unknown field", edit(func(m map[string]any) { finding(m, 2)["evidence"].(map[string]any)["extra"] = 1 }),
			"findings[2].evidence.extra", "unknown field (this build reads findings.json versions 1 to 2)"},
		{"duplicate key", strings.Replace(g, `"partition": "aws",`, `"partition": "aws", "partition": "aws-cn",`, 1),
			"scope.partition", "duplicate key"},
		{"wrong type", edit(func(m map[string]any) { finding(m, 1)["message"] = 3 }), "findings[1].message", "is a number; expected a string"},
		{"severity", edit(func(m map[string]any) { finding(m, 1)["severity"] = "urgent" }), "findings[1].severity",
			`is "urgent"; expected a severity (critical, high, medium, low, info)`},
		{"excess severity", edit(func(m map[string]any) {
			finding(m, 3)["evidence"].(map[string]any)["excess"] = []any{map[string]any{"policy": "p", "statement": "s", "action": "a", "resource": "r", "reason": "x", "severity": 2}}
		}), "findings[3].evidence.excess[0].severity", "is a number; expected a severity"},
		{"null object", edit(func(m map[string]any) { m["tool"] = nil }), "tool", "is null; expected an object"},
		{"null need", edit(func(m map[string]any) { finding(m, 0)["evidence"].(map[string]any)["need"] = nil }),
			"findings[0].evidence.need", "is null"},
		{"missing", edit(func(m map[string]any) { delete(finding(m, 4), "message") }), "findings[4].message", "missing"},
		{"missing rules", edit(func(m map[string]any) { delete(m, "rules") }), "rules", "missing (required from findings.json version 2)"},
		{"missing version", edit(func(m map[string]any) { delete(m, "schemaVersion") }), "schemaVersion", "missing"},
		{"newer version", edit(func(m map[string]any) { m["schemaVersion"] = 99 }), "schemaVersion",
			"version 99 is not supported by this build (it reads versions 1 to 2)"},
		{"version 0", edit(func(m map[string]any) { m["schemaVersion"] = 0 }), "schemaVersion", "version 0 is not supported"},
		{"fractional", edit(func(m map[string]any) { m["summary"].(map[string]any)["total"] = 1.5 }), "summary.total", "expected a whole number"},
		{"out of range", edit(func(m map[string]any) { m["taskDefinitions"].([]any)[0].(map[string]any)["revision"] = 1e10 }),
			"taskDefinitions[0].revision", "from -2147483648 to 2147483647"},
		{"time", edit(func(m map[string]any) { m["scope"].(map[string]any)["collectedAt"] = "yesterday" }), "scope.collectedAt", "RFC 3339"},
		{"map value", edit(func(m map[string]any) { m["summary"].(map[string]any)["byRule"].(map[string]any)["T001"] = "two" }),
			`summary.byRule["T001"]`, "expected a whole number"},
		{"policy document", edit(func(m map[string]any) { m["roles"].([]any)[0].(map[string]any)["leastPrivilegePolicy"] = "allow all" }),
			"roles[0].leastPrivilegePolicy", "is a string; expected an object"},
		{"snapshot", string(snapshot), "format", "inventory snapshot, not a findings.json"},
		{"sarif", string(sarif), "$schema", "SARIF file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ReadResult([]byte(tt.in), "dir/findings.json")
			// The streaming reader rejects it with the same error.
			if _, _, serr := readStreamed([]byte(tt.in), "dir/findings.json"); serr == nil || serr.Error() != err.Error() {
				t.Errorf("ScanResult: %v\nReadResult: %v", serr, err)
			}
			var re *ReadError
			if !errors.As(err, &re) {
				t.Fatalf("error = %v, want a *ReadError", err)
			}
			if re.File != "dir/findings.json" || (re.Path != tt.path && tt.path != "*") || !strings.Contains(re.Msg, tt.want) {
				t.Errorf("error = %q (path %q), want path %q and %q", err, re.Path, tt.path, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "findings file dir/findings.json") {
				t.Errorf("error %q does not name the file first", err)
			}
			if re.Offset >= 0 && int(re.Offset) > len(tt.in) {
				t.Errorf("offset %d beyond the %d bytes", re.Offset, len(tt.in))
			}
		})
	}
	// The offset points at the value at fault.
	in := edit(func(m map[string]any) { finding(m, 1)["severity"] = "urgent" })
	_, _, err = ReadResult([]byte(in), "f")
	var re *ReadError
	if errors.As(err, &re) && !strings.HasPrefix(in[re.Offset:], `"urgent"`) {
		t.Errorf("offset %d points at %.20q", re.Offset, in[re.Offset:])
	}
	// Accepted: a byte order mark, and null for a list (version 1 wrote
	// some empty lists so).
	for name, in := range map[string]string{
		"bom":       "\uFEFF" + g,
		"null list": edit(func(m map[string]any) { m["taskDefinitions"].([]any)[0].(map[string]any)["needs"] = nil }),
	} {
		if _, _, err := ReadResult([]byte(in), name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if _, _, err := readStreamed([]byte(in), name); err != nil {
			t.Errorf("%s: ScanResult: %v", name, err)
		}
	}
	if _, _, err := LoadResult(filepath.Join(t.TempDir(), "nope.json")); err == nil || !strings.Contains(err.Error(), "nope.json") {
		t.Errorf("missing file: %v", err)
	}
}

// ReadResult never panics, and what it accepts it writes back in a form
// that reads back to the same file.
func FuzzReadResult(f *testing.F) {
	withCatalog(f)
	var good bytes.Buffer
	if err := WriteJSON(&good, sampleResult()); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	if b, err := os.ReadFile(sampleV1); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"schemaVersion": 1, "tool": {"name": "audit", "version": "x"}}`))
	f.Add([]byte(`{"schemaVersion": 2, "findings": [{"severity": "high"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, _, err := ReadResult(data, "fuzz.json")
		if err != nil {
			var re *ReadError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *ReadError", err)
			}
			return
		}
		var once bytes.Buffer
		if err := WriteJSON(&once, res); err != nil {
			t.Fatal(err)
		}
		again, _, err := ReadResult(once.Bytes(), "once.json")
		if err != nil {
			t.Fatalf("the findings.json written from accepted input does not read back: %v\n%s", err, once.Bytes())
		}
		var twice bytes.Buffer
		if err := WriteJSON(&twice, again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("not stable:\n%s\n%s", once.Bytes(), twice.Bytes())
		}
	})
}
