package report

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ecs-audit/audit/findings"
)

// sarifSchemaPath finds the official SARIF 2.1.0 schema (OASIS, errata 01):
// $SARIF_SCHEMA, else the copy kept in testdata/.
func sarifSchemaPath() string {
	if p := os.Getenv("SARIF_SCHEMA"); p != "" {
		return p
	}
	return "testdata/sarif-schema-2.1.0.json"
}

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// validateSARIF validates a SARIF document against the official schema.
// Without the schema the test is skipped locally and fails in CI.
func validateSARIF(t *testing.T, doc []byte) {
	t.Helper()
	schemaOnce.Do(func() {
		path := sarifSchemaPath()
		if path == "" {
			return
		}
		f, err := os.Open(path)
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		s, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		abs, _ := filepath.Abs(path)
		if err := c.AddResource(abs, s); err != nil {
			schemaErr = err
			return
		}
		schema, schemaErr = c.Compile(abs)
	})
	if schemaErr != nil {
		t.Fatalf("SARIF schema: %v", schemaErr)
	}
	if schema == nil {
		t.Fatal("SARIF schema not loaded")
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("SARIF is not JSON: %v", err)
	}
	if err := schema.Validate(v); err != nil {
		t.Fatalf("SARIF does not validate against the 2.1.0 schema: %v", err)
	}
}

// sarifDoc is the part of a SARIF log the tests look at.
type sarifDoc struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name  string `json:"name"`
				Rules []struct {
					ID                   string `json:"id"`
					Help                 struct{ Text, Markdown string }
					DefaultConfiguration struct{ Level string } `json:"defaultConfiguration"`
					Properties           map[string]any         `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful        bool `json:"executionSuccessful"`
			ToolExecutionNotifications []struct {
				Level      string
				Message    struct{ Text string }
				Descriptor struct{ ID string }
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		AutomationDetails struct{ ID string } `json:"automationDetails"`
		Results           []sarifResultDoc    `json:"results"`
	} `json:"runs"`
}

func parseSARIF(t *testing.T, b []byte) sarifDoc {
	t.Helper()
	var d sarifDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(d.Runs))
	}
	return d
}

func sarifURIs(t *testing.T, b []byte) []string {
	var out []string
	for _, r := range parseSARIF(t, b).Runs[0].Results {
		for _, l := range r.Locations {
			out = append(out, l.PhysicalLocation.ArtifactLocation.URI)
		}
	}
	return out
}

func writeSARIF(t *testing.T, res *findings.Result, opts Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteSARIF(&b, res, opts); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, b.Bytes())
	return b.Bytes()
}

func TestSARIFValidates(t *testing.T) {
	empty := &findings.Result{GeneratedAt: fixedTime, Coverage: findings.Coverage{Complete: true}}
	tests := []struct {
		name    string
		res     *findings.Result
		catalog bool // use the test catalog instead of the real one
	}{
		{"sample", sampleResult(), true},
		{"triaged", triagedResult(), true},
		{"malicious", maliciousResult(), true},
		{"hostile", hostileResult(), true},
		{"empty", empty, true},
		{"real catalog", sampleResult(), false},
		{"empty with real catalog", empty, false},
		{"big", bigResult(2000), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.catalog {
				withCatalog(t)
			}
			doc := writeSARIF(t, tt.res, Options{})
			checkSARIF(t, tt.res, doc)
		})
	}
}

// checkSARIF checks the properties every SARIF file must have.
func checkSARIF(t *testing.T, res *findings.Result, doc []byte) {
	t.Helper()
	d := parseSARIF(t, doc)
	run := d.Runs[0]
	if d.Version != "2.1.0" || run.Tool.Driver.Name != "audit" {
		t.Errorf("version %q, driver %q", d.Version, run.Tool.Driver.Name)
	}
	rules := run.Tool.Driver.Rules
	cat := catalog()
	ids := map[string]int{}
	for i, r := range rules {
		ids[r.ID] = i
		ss, ok := r.Properties["security-severity"].(string)
		if !ok || ss == "" {
			t.Errorf("rule %s has no security-severity", r.ID)
		}
		if tags, _ := r.Properties["tags"].([]any); len(tags) == 0 || tags[0] != "security" || len(tags) > 20 {
			t.Errorf("rule %s tags = %v", r.ID, r.Properties["tags"])
		}
		if r.Help.Text == "" || r.Help.Markdown == "" {
			t.Errorf("rule %s has no help", r.ID)
		}
		if p := r.Properties["precision"]; p != "very-high" && p != "high" && p != "medium" && p != "low" {
			t.Errorf("rule %s precision %v", r.ID, p)
		}
	}
	for _, c := range cat {
		if _, ok := ids[c.ID]; !ok {
			t.Errorf("catalog rule %s missing from tool.driver.rules", c.ID)
		}
	}
	// One result per finding, and one per baseline finding whose state is
	// unknown.
	byID := map[string]*findings.Finding{}
	for i := range res.Findings {
		byID[res.Findings[i].ID] = &res.Findings[i]
	}
	past := map[string]*findings.PastFinding{}
	var notes int
	if res.Triage != nil && res.Triage.Baseline != nil {
		for i := range res.Triage.Baseline.Unknown {
			past[res.Triage.Baseline.Unknown[i].ID] = &res.Triage.Baseline.Unknown[i]
		}
		if len(past) > 0 {
			notes++
		}
	}
	if res.Triage != nil && res.Triage.Suppressions != nil {
		for _, e := range res.Triage.Suppressions.Entries {
			if e.Stale || e.Status == findings.SuppressionExpired || e.ExpiresSoon {
				notes++
			}
		}
	}
	if len(run.Results) != len(res.Findings)+len(past) {
		t.Errorf("%d results, want %d", len(run.Results), len(res.Findings)+len(past))
	}
	for _, r := range run.Results {
		if i, ok := ids[r.RuleID]; !ok || i != r.RuleIndex {
			t.Errorf("result %s: ruleIndex %d, rule at %d (%v)", r.RuleID, r.RuleIndex, i, ok)
		}
		if len(r.Locations) == 0 {
			t.Fatalf("result without location")
		}
		fp := r.PartialFingerprints[FingerprintKey]
		f, p := byID[fp], past[fp]
		if f == nil && p == nil {
			t.Errorf("result %s: fingerprint %q is no finding's", r.RuleID, fp)
			continue
		}
		for _, l := range r.Locations {
			u := l.PhysicalLocation.ArtifactLocation.URI
			if strings.Contains(u, "://") || strings.Contains(u, "arn:") || strings.Contains(u, ":") || !strings.HasPrefix(u, "aws/") ||
				strings.Contains(u, "..") || strings.HasPrefix(u, "/") {
				t.Errorf("artifact URI %q is not a plain relative path", u)
			}
			if len(l.LogicalLocations) == 0 || f != nil && l.LogicalLocations[0].FullyQualifiedName != f.ResourceARN {
				t.Errorf("result %s: logical locations %v", r.RuleID, l.LogicalLocations)
			}
		}
		if p != nil {
			if r.Properties["baseline"] != "unknown" || r.Properties["reason"] != p.Reason || r.BaselineState != "" || len(r.Suppressions) != 0 {
				t.Errorf("baseline finding %s of unknown state: properties %v, baselineState %q", fp, r.Properties, r.BaselineState)
			}
			continue
		}
		for _, k := range []string{"accountId", "severity", "evidence", "impact", "fix"} {
			if _, ok := r.Properties[k]; !ok {
				t.Errorf("result %s lacks property %s", r.RuleID, k)
			}
		}
		if !strings.Contains(r.Message.Text, "Impact: "+Reveal(endSentence(f.Impact.Summary))) || !strings.Contains(r.Message.Text, "Fix: "+Reveal(endSentence(f.Fix.Summary))) {
			t.Errorf("result %s: message %q does not name the impact and the fix", fp, r.Message.Text)
		}
		if r.BaselineState != f.Change {
			t.Errorf("result %s: baselineState %q, change %q", fp, r.BaselineState, f.Change)
		}
		switch {
		case f.Suppression != nil:
			if len(r.Suppressions) != 1 || r.Suppressions[0].Kind != "external" || r.Suppressions[0].Status != "accepted" ||
				r.Suppressions[0].Justification != f.Suppression.Justification || r.Suppressions[0].Properties["expires"] != f.Suppression.Expires {
				t.Errorf("suppressed result %s: suppressions %+v", fp, r.Suppressions)
			}
			if !strings.Contains(r.Message.Text, "Accepted risk until "+f.Suppression.Expires) {
				t.Errorf("suppressed result %s: message %q", fp, r.Message.Text)
			}
		case f.SuppressionExpired != nil:
			if len(r.Suppressions) != 0 || !strings.Contains(r.Message.Text, "accepted as a risk until "+f.SuppressionExpired.Expires) {
				t.Errorf("result %s whose acceptance expired: suppressions %+v, message %q", fp, r.Suppressions, r.Message.Text)
			}
		default:
			if len(r.Suppressions) != 0 {
				t.Errorf("result %s is not suppressed but has suppressions %+v", fp, r.Suppressions)
			}
		}
	}
	if len(run.Invocations) != 1 {
		t.Fatalf("%d invocations", len(run.Invocations))
	}
	complete := res.Coverage.Complete && len(res.Coverage.Errors) == 0 && res.Coverage.Interrupted == ""
	if run.Invocations[0].ExecutionSuccessful != complete {
		t.Errorf("executionSuccessful = %v, want %v", run.Invocations[0].ExecutionSuccessful, complete)
	}
	if n := len(run.Invocations[0].ToolExecutionNotifications); n != len(res.Coverage.Errors)+len(res.Coverage.Gaps)+notes {
		t.Errorf("%d notifications, want %d", n, len(res.Coverage.Errors)+len(res.Coverage.Gaps)+notes)
	}
}

func TestSARIFDetails(t *testing.T) {
	withCatalog(t)
	res := sampleResult()
	a := writeSARIF(t, res, Options{})
	b := writeSARIF(t, sampleResult(), Options{})
	if !bytes.Equal(a, b) {
		t.Fatal("two writes of the same Result differ")
	}
	d := parseSARIF(t, a)
	run := d.Runs[0]
	if run.AutomationDetails.ID != "audit/ecs-execution-role/" {
		t.Errorf("automationDetails.id = %q", run.AutomationDetails.ID)
	}
	fp := map[string]string{}
	for _, r := range run.Results {
		fp[r.PartialFingerprints[FingerprintKey]] = r.RuleID
	}
	for _, f := range res.Findings {
		if fp[f.ID] != f.RuleID {
			t.Errorf("finding %s: fingerprint missing or on rule %q", f.ID, fp[f.ID])
		}
	}
	levels := map[string]string{}
	for _, r := range run.Results {
		levels[r.Properties["severity"].(string)] = r.Level
	}
	wantLevels := map[string]string{"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
	for s, l := range wantLevels {
		if levels[s] != l {
			t.Errorf("severity %s: level %q, want %q", s, levels[s], l)
		}
	}
	wantSS := map[string]string{"T001": "9.5", "T002": "5.5", "T003": "8.0", "T004": "3.0", "T005": "1.0", "T006": "8.0", "T007": "8.0", "T008": "5.5"}
	for _, r := range run.Tool.Driver.Rules {
		if r.Properties["security-severity"] != wantSS[r.ID] {
			t.Errorf("rule %s: security-severity %v, want %s", r.ID, r.Properties["security-severity"], wantSS[r.ID])
		}
	}
	first := run.Results[0]
	if !strings.Contains(first.Message.Text, "web-prod (111111111111)") || !strings.Contains(first.Message.Text, "eu-west-1") ||
		!strings.Contains(first.Message.Text, "task-definition/web:3") {
		t.Errorf("message does not name account, region and resource: %q", first.Message.Text)
	}
	// Custom category; a trailing slash is not doubled.
	c := parseSARIF(t, writeSARIF(t, res, Options{SARIFCategory: "ecs/prod/"}))
	if got := c.Runs[0].AutomationDetails.ID; got != "ecs/prod/" {
		t.Errorf("automationDetails.id = %q", got)
	}
	// A complete scan is successful and has no notifications.
	ok := sampleResult()
	ok.Coverage = findings.Coverage{Complete: true, AccountsScanned: 3, AccountsTotal: 3}
	okd := parseSARIF(t, writeSARIF(t, ok, Options{}))
	if inv := okd.Runs[0].Invocations[0]; !inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != 0 {
		t.Errorf("complete scan: invocation = %+v", inv)
	}
}

func TestSARIFTruncation(t *testing.T) {
	withCatalog(t)
	tests := []struct {
		name       string
		maxResults int
		maxGzip    int
		n          int
		wantKept   func(int) bool
	}{
		{"count", 50, 10_000_000, 200, func(k int) bool { return k == 50 }},
		{"size", 25000, 60_000, 2000, func(k int) bool { return k > 10 && k < 2000 }},
		{"under both", 25000, 10_000_000, 300, func(k int) bool { return k == 300 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldN, oldG, oldH := sarifMaxResults, sarifMaxGzipBytes, sarifGzipHeadroom
			sarifMaxResults, sarifMaxGzipBytes, sarifGzipHeadroom = tt.maxResults, tt.maxGzip, tt.maxGzip/20
			t.Cleanup(func() { sarifMaxResults, sarifMaxGzipBytes, sarifGzipHeadroom = oldN, oldG, oldH })
			res := bigResult(tt.n)
			var stderr bytes.Buffer
			doc := writeSARIF(t, res, Options{Stderr: &stderr})
			if g := gzipSize(doc); g > tt.maxGzip {
				t.Errorf("gzipped SARIF is %d bytes, limit %d", g, tt.maxGzip)
			}
			d := parseSARIF(t, doc)
			kept := len(d.Runs[0].Results)
			if !tt.wantKept(kept) {
				t.Fatalf("kept %d results", kept)
			}
			dropped := tt.n - kept
			var note string
			for _, n := range d.Runs[0].Invocations[0].ToolExecutionNotifications {
				if n.Descriptor.ID == "results-truncated" {
					note = n.Message.Text
				}
			}
			if dropped == 0 {
				if note != "" || stderr.Len() != 0 {
					t.Errorf("nothing dropped but note %q / warning %q", note, stderr.String())
				}
				return
			}
			if !strings.Contains(note, itoa(dropped)+" of "+itoa(tt.n)) {
				t.Errorf("truncation notification = %q, want the count %d", note, dropped)
			}
			if !strings.Contains(stderr.String(), "dropped "+itoa(dropped)) {
				t.Errorf("stderr = %q", stderr.String())
			}
			// The most severe were kept: no kept result is less severe than
			// a dropped one.
			v := newView(res)
			minKept := v.allFindings()[kept-1].Severity.Rank()
			for _, f := range v.allFindings()[kept:] {
				if f.Severity.Rank() > minKept {
					t.Fatalf("dropped a %s finding but kept a less severe one", f.Severity)
				}
			}
			for i, r := range d.Runs[0].Results {
				if r.PartialFingerprints[FingerprintKey] != v.allFindings()[i].ID {
					t.Fatalf("result %d is not the %d-th most severe finding", i, i)
				}
			}
		})
	}
}

// TestSARIFWrittenFromMeasuringPass: the file written from what the
// measuring pass kept (the results it held, or the whole file gzipped) is
// the file written from results encoded again, whether it is small, large
// enough to be gzipped, or cut to fit.
func TestSARIFWrittenFromMeasuringPass(t *testing.T) {
	withCatalog(t)
	tests := []struct {
		name       string
		maxGzip, n int
		from       string
		kept       bool
	}{
		{"small", 10_000_000, 300, "held", true},
		{"gzipped", 200_000, 300, "gzipped", true},
		{"cut", 60_000, 2000, "encoded", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldG, oldH := sarifMaxGzipBytes, sarifGzipHeadroom
			sarifMaxGzipBytes, sarifGzipHeadroom = tt.maxGzip, tt.maxGzip/20
			t.Cleanup(func() { sarifMaxGzipBytes, sarifGzipHeadroom = oldG, oldH })
			res := bigResult(tt.n)
			var reused, encoded bytes.Buffer
			from, err := newView(res).sarifWrite(&reused, Options{Stderr: io.Discard})
			if err != nil || from != tt.from {
				t.Fatalf("written from %q (%v), want %q: the case does not test what it says", from, err, tt.from)
			}
			sarifReuse = false
			t.Cleanup(func() { sarifReuse = true })
			if from, err := newView(res).sarifWrite(&encoded, Options{Stderr: io.Discard}); err != nil || from != "encoded" {
				t.Fatalf("without reuse: written from %q (%v)", from, err)
			}
			if !bytes.Equal(reused.Bytes(), encoded.Bytes()) {
				t.Fatalf("the file differs from the one written from results encoded again:\n%s", firstDiff(reused.String(), encoded.String()))
			}
			// To a file of its own, as WriteSource gives it: written as it
			// is measured, emptied and written again when cut. (Any other
			// file, such as standard output, is written as a buffer is.)
			sarifReuse = true
			f, err := os.Create(filepath.Join(t.TempDir(), "f.sarif"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fileFrom := map[string]string{"held": "held", "gzipped": "written", "encoded": "encoded"}[tt.from]
			if from, err := newView(res).sarifWrite(&scratchFile{f}, Options{Stderr: io.Discard}); err != nil || from != fileFrom {
				t.Fatalf("to a file: written from %q (%v), want %q", from, err, fileFrom)
			}
			if got, err := os.ReadFile(f.Name()); err != nil || !bytes.Equal(got, encoded.Bytes()) {
				t.Fatalf("the file written to a file differs from the one written from results encoded again (%v):\n%s", err, firstDiff(string(got), encoded.String()))
			}
			validateSARIF(t, reused.Bytes())
			if got := len(parseSARIF(t, reused.Bytes()).Runs[0].Results) == tt.n; got != tt.kept {
				t.Errorf("every result kept = %v, want %v", got, tt.kept)
			}
		})
	}
}

// TestSARIFToAFileOfTheCaller: SARIF rendered to a file the caller gave
// (standard output redirected with >>, say) is written after what the
// file holds, never emptied, also when results are dropped.
func TestSARIFToAFileOfTheCaller(t *testing.T) {
	withCatalog(t)
	oldG, oldH := sarifMaxGzipBytes, sarifGzipHeadroom
	sarifMaxGzipBytes, sarifGzipHeadroom = 60_000, 3_000
	t.Cleanup(func() { sarifMaxGzipBytes, sarifGzipHeadroom = oldG, oldH })
	res := bigResult(2000)
	var want bytes.Buffer
	if err := Render(&want, res, FormatSARIF, Options{Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(path, []byte("before\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := Render(f, res, FormatSARIF, Options{Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append([]byte("before\n"), want.Bytes()...)) {
		t.Fatalf("the file is not what it held followed by the SARIF file (%d bytes, want %d)", len(got), len("before\n")+want.Len())
	}
}
