package report

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/findings"
)

func TestParseFormats(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "json", want: []string{"json"}},
		{in: "sarif,json", want: []string{"json", "sarif"}},
		{in: " HTML , xlsx,md ", want: []string{"html", "xlsx", "markdown"}},
		{in: "all", want: AllFormats},
		{in: "csv,all", want: AllFormats},
		{in: "json,json", want: []string{"json"}},
		{in: "json,pdf", wantErr: `"pdf"`},
		{in: "json,", wantErr: `""`},
		{in: "", wantErr: `""`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormats(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseFormats(%q) error = %v, want one naming %s", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseFormats(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFileName(t *testing.T) {
	tests := map[string]string{
		"json": "findings.json", "sarif": "findings.sarif", "html": "report.html", "xlsx": "findings.xlsx",
		"markdown": "summary.md", "csv": "findings.csv", "pdf": "",
	}
	for in, want := range tests {
		if got := FileName(in); got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGolden(t *testing.T) {
	withCatalog(t)
	tests := []struct {
		name  string
		write func(*bytes.Buffer, *findings.Result) error
	}{
		{"findings.json.golden", func(b *bytes.Buffer, r *findings.Result) error { return WriteJSON(b, r) }},
		{"findings.sarif.golden", func(b *bytes.Buffer, r *findings.Result) error { return WriteSARIF(b, r, Options{}) }},
		{"summary.md.golden", func(b *bytes.Buffer, r *findings.Result) error { return WriteMarkdown(b, r) }},
		{"findings.csv.golden", func(b *bytes.Buffer, r *findings.Result) error { return WriteCSV(b, r) }},
		{"malicious.md.golden", func(b *bytes.Buffer, _ *findings.Result) error { return WriteMarkdown(b, maliciousResult()) }},
		{"malicious.csv.golden", func(b *bytes.Buffer, _ *findings.Result) error { return WriteCSV(b, maliciousResult()) }},
		{"hostile.md.golden", func(b *bytes.Buffer, _ *findings.Result) error { return WriteMarkdown(b, hostileResult()) }},
		{"hostile.csv.golden", func(b *bytes.Buffer, _ *findings.Result) error { return WriteCSV(b, hostileResult()) }},
		// Suppressions and a baseline applied (see sampleSuppressions).
		{"triaged.json.golden", func(b *bytes.Buffer, _ *findings.Result) error { return WriteJSON(b, triagedResult()) }},
		{"triaged.sarif.golden", func(b *bytes.Buffer, _ *findings.Result) error { return WriteSARIF(b, triagedResult(), Options{}) }},
		{"triaged.md.golden", func(b *bytes.Buffer, _ *findings.Result) error { return WriteMarkdown(b, triagedResult()) }},
		{"triaged.csv.golden", func(b *bytes.Buffer, _ *findings.Result) error { return WriteCSV(b, triagedResult()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b, sampleResult()); err != nil {
				t.Fatal(err)
			}
			switch {
			case strings.HasSuffix(tt.name, ".json.golden"):
				validateFindingsJSON(t, tt.name, b.Bytes())
			case strings.HasSuffix(tt.name, ".sarif.golden"):
				validateSARIF(t, b.Bytes())
			}
			golden(t, tt.name, b.Bytes())
		})
	}
}

func TestJSONOrderAndRoundTrip(t *testing.T) {
	withCatalog(t)
	res := sampleResult()
	orig := sampleResult()
	var b bytes.Buffer
	if err := WriteJSON(&b, res); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res, orig) {
		t.Fatal("WriteJSON modified the Result")
	}
	validateFindingsJSON(t, "findings.json", b.Bytes())
	var back findings.Result
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Findings) != len(res.Findings) {
		t.Fatalf("%d findings, want %d", len(back.Findings), len(res.Findings))
	}
	var ids []string
	for _, f := range back.Findings {
		ids = append(ids, f.ID)
	}
	want := []string{"f-secret-1", "f-secret-2", "f-agent-1", "f-values-1", "f-excess-1", "f-policy-1", "f-indet-1", "f-platform-1"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("order = %v, want %v", ids, want)
	}
	// Writing twice gives the same bytes.
	var b2 bytes.Buffer
	shuffled := sampleResult()
	slices.Reverse(shuffled.Findings)
	slices.Reverse(shuffled.Coverage.Errors)
	if err := WriteJSON(&b2, shuffled); err != nil {
		t.Fatal(err)
	}
	if b.String() != b2.String() {
		t.Error("JSON depends on the input order")
	}
}

func TestFitCell(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantLen int // in UTF-16 units
		cut     bool
	}{
		{"short", "abc", 3, false},
		{"exact", strings.Repeat("a", maxCellChars), maxCellChars, false},
		{"long", strings.Repeat("a", maxCellChars+1), maxCellChars, true},
		{"astral", strings.Repeat("😀", maxCellChars/2+10), maxCellChars, true},
	}
	for _, tt := range tests {
		got := fitCell(tt.in)
		if n := utf16Len(got); n > maxCellChars || (!tt.cut && got != tt.in) || (tt.cut && !strings.HasSuffix(got, truncatedMark)) {
			t.Errorf("%s: fitCell gave %d units (cut=%v)", tt.name, n, strings.HasSuffix(got, truncatedMark))
		}
		if tt.cut && utf16Len(got) < maxCellChars-2-utf16Len(truncatedMark) {
			t.Errorf("%s: cut too much: %d", tt.name, utf16Len(got))
		}
	}
}

func TestCSVNeutralisedAndParsable(t *testing.T) {
	withCatalog(t)
	res := maliciousResult()
	var b bytes.Buffer
	if err := WriteCSV(&b, res); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(res.Findings)+1 {
		t.Fatalf("%d rows, want %d", len(rows), len(res.Findings)+1)
	}
	if !reflect.DeepEqual(rows[0], findingColumns) {
		t.Errorf("header = %v", rows[0])
	}
	found := 0
	for _, row := range rows[1:] {
		if len(row) != len(findingColumns) {
			t.Fatalf("row has %d cells", len(row))
		}
		for _, c := range row {
			if c == "" {
				continue
			}
			if strings.ContainsRune("=+-@\t\r", rune(strings.TrimLeft(c, " ")[0])) {
				t.Errorf("cell %q starts with a formula trigger", c)
			}
			if strings.HasPrefix(c, "'=") || strings.HasPrefix(c, "'+") || strings.HasPrefix(c, "'@") {
				found++
			}
		}
	}
	if found == 0 {
		t.Error("no neutralised cell: the fixture lost its payloads")
	}
}

func TestMarkdownEscaping(t *testing.T) {
	withCatalog(t)
	var b bytes.Buffer
	if err := WriteMarkdown(&b, maliciousResult()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"\u2028", "\u2029", "@org/team"} {
		if strings.Contains(stripCodeSpans(out), bad) {
			t.Errorf("summary.md contains %q outside code spans", bad)
		}
	}
	// Outside code spans, every character Markdown could read as markup is
	// escaped.
	unescaped := regexp.MustCompile(`(^|[^\\])[<>\[\]*_~&]`)
	for _, line := range strings.Split(stripCodeSpans(out), "\n") {
		// Our own markup: bold, the alert block.
		line = strings.NewReplacer("[!WARNING]", "", "**", "").Replace(strings.TrimPrefix(line, "> "))
		if m := unescaped.FindString(line); m != "" {
			t.Errorf("unescaped %q in %q", m, line)
		}
	}
	// Every row of every table has as many cells as its header: no payload
	// broke out of its cell.
	cellSep := regexp.MustCompile(`(^|[^\\])\|`)
	want, tables := 0, 0
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") {
			want = 0
			continue
		}
		n := len(cellSep.FindAllString(line, -1))
		if want == 0 {
			want = n
			tables++
			continue
		}
		if n != want {
			t.Errorf("table row has %d separators, want %d: %s", n, want, line)
		}
	}
	if tables < 3 {
		t.Errorf("%d tables: the fixture lost its triage", tables)
	}
}

// stripCodeSpans removes code spans (which Markdown shows verbatim).
func stripCodeSpans(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '`' {
			b.WriteByte(s[i])
			i++
			continue
		}
		n := 0
		for i+n < len(s) && s[i+n] == '`' {
			n++
		}
		fence := strings.Repeat("`", n)
		end := strings.Index(s[i+n:], fence)
		if end < 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteString("CODE")
		i += n + end + n
	}
	return b.String()
}

func TestMdCode(t *testing.T) {
	tests := []struct {
		in      string
		inTable bool
		want    string
	}{
		{"abc", false, "`abc`"},
		{"a`b", false, "``a`b``"},
		{"`a", false, "`` `a ``"},
		{"a|b", true, "`a\\|b`"},
		{"a|b", false, "`a|b`"},
		{"a\nb", false, "`a b`"},
		{"", false, "—"},
	}
	for _, tt := range tests {
		if got := mdCode(tt.in, tt.inTable); got != tt.want {
			t.Errorf("mdCode(%q, %v) = %q, want %q", tt.in, tt.inTable, got, tt.want)
		}
	}
}

func TestWrite(t *testing.T) {
	withCatalog(t)
	dir := t.TempDir()
	var stderr bytes.Buffer
	written, err := Write(sampleResult(), Options{Formats: AllFormats, OutDir: filepath.Join(dir, "out"), Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range AllFormats {
		want = append(want, filepath.Join(dir, "out", FileName(f)))
	}
	slices.Sort(want)
	if !reflect.DeepEqual(written, want) {
		t.Errorf("written = %v, want %v", written, want)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "out"))
	if len(entries) != len(AllFormats) {
		t.Errorf("%d files in the output directory (temporary files left?)", len(entries))
	}
	// Render writes the same bytes to a stream (--out -), every format,
	// the workbook included: the output does not depend on the run.
	for _, f := range Formats() {
		var b bytes.Buffer
		if err := Render(&b, sampleResult(), f.Name, Options{}); err != nil {
			t.Fatalf("Render %s: %v", f.Name, err)
		}
		file, err := os.ReadFile(filepath.Join(dir, "out", f.File))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), file) {
			t.Errorf("Render(%s) differs from the %s that Write wrote", f.Name, f.File)
		}
		if f.Name == FormatJSON {
			validateFindingsJSON(t, f.File, file)
		}
	}
	if err := Render(io.Discard, sampleResult(), "pdf", Options{}); err == nil {
		t.Error("Render accepted an unknown format")
	}
	for _, p := range written {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
		// No output carries a credential from the inventory.
		for _, content := range fileContents(t, p) {
			if strings.Contains(content, leakedToken) {
				t.Errorf("%s contains a credential", p)
			}
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("unexpected warnings: %s", stderr.String())
	}

	if _, err := Write(sampleResult(), Options{Formats: []string{"pdf"}, OutDir: dir}); err == nil {
		t.Error("unknown format accepted")
	}
	if _, err := Write(nil, Options{Formats: []string{"json"}, OutDir: dir}); err == nil {
		t.Error("nil result accepted")
	}
	// An unwritable output directory fails the formats, not the process.
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(sampleResult(), Options{Formats: []string{"json", "csv"}, OutDir: blocker}); err == nil ||
		!strings.Contains(err.Error(), "findings.json") || !strings.Contains(err.Error(), "findings.csv") {
		t.Errorf("error = %v, want one naming both files", err)
	}
}

// fileContents returns a file's text, or each member's text for a zip
// archive (XLSX).
func fileContents(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return []string{string(b)}
	}
	var out []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(data))
	}
	return out
}

func TestPathSegment(t *testing.T) {
	safe := regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)
	tests := []struct {
		in   string
		same bool
	}{
		{"web", true},
		{"my-role_1.2", true},
		{"..", false},
		{".", false},
		{".hidden", false},
		{"", false},
		{"a/b", false},
		{"a:b", false},
		{`..\..\etc`, false},
		{"role+=,@", false},
		{"ünïcode", false},
		{"https://evil", false},
		{strings.Repeat("x", 300), false},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		got := pathSegment(tt.in)
		if !safe.MatchString(got) {
			t.Errorf("pathSegment(%q) = %q: not a safe segment", tt.in, got)
		}
		if (got == tt.in) != tt.same {
			t.Errorf("pathSegment(%q) = %q, unchanged = %v, want %v", tt.in, got, got == tt.in, tt.same)
		}
		if len(got) > maxSegment+9 {
			t.Errorf("pathSegment(%q) is %d bytes", tt.in, len(got))
		}
		if prev, dup := seen[got]; dup {
			t.Errorf("%q and %q share the segment %q", prev, tt.in, got)
		}
		seen[got] = tt.in
	}
	if pathSegment("a:b") == pathSegment("a_b") {
		t.Error("a:b and a_b collide")
	}
}

func TestArtifactPath(t *testing.T) {
	tests := []struct {
		name string
		f    findings.Finding
		want string
	}{
		{"task definition", findings.Finding{AccountID: acctA, Region: "eu-west-1", ResourceType: findings.ResourceTaskDefinition,
			ResourceARN: tdARN(acctA, "eu-west-1", "web", 3)}, "aws/111111111111/eu-west-1/ecs/task-definition/web/3.json"},
		{"role with path", findings.Finding{AccountID: acctA, ResourceType: findings.ResourceRole,
			ResourceARN: "arn:aws:iam::111111111111:role/service/app-exec"}, "aws/111111111111/iam/role/app-exec.json"},
		{"service", findings.Finding{AccountID: acctB, Region: "us-east-1", ResourceType: findings.ResourceService,
			ResourceARN: "arn:aws:ecs:us-east-1:222222222222:service/main/api"}, "aws/222222222222/us-east-1/ecs/cluster/main/service/api.json"},
		{"old service ARN", findings.Finding{AccountID: acctB, Region: "us-east-1", ResourceType: findings.ResourceService,
			ResourceARN: "arn:aws:ecs:us-east-1:222222222222:service/api"}, "aws/222222222222/us-east-1/ecs/service/api.json"},
		{"container instance", findings.Finding{AccountID: acctB, Region: "us-east-1", ResourceType: findings.ResourceContainerInstance,
			ResourceARN: "arn:aws:ecs:us-east-1:222222222222:container-instance/main/abc"}, "aws/222222222222/us-east-1/ecs/cluster/main/container-instance/abc.json"},
		{"policy", findings.Finding{AccountID: acctA, ResourceType: findings.ResourcePolicy,
			ResourceARN: "arn:aws:iam::111111111111:policy/boundary"}, "aws/111111111111/iam/policy/boundary.json"},
		{"account from ARN", findings.Finding{ResourceType: findings.ResourceTaskDefinition,
			ResourceARN: tdARN(acctC, "us-west-2", "x", 1)}, "aws/333333333333/us-west-2/ecs/task-definition/x/1.json"},
		{"unknown type", findings.Finding{AccountID: acctA, ResourceType: "cluster",
			ResourceARN: "arn:aws:ecs:us-east-1:111111111111:cluster/main"}, "aws/111111111111/us-east-1/cluster/main.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := artifactPath(&tt.f); got != tt.want {
				t.Errorf("artifactPath = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEvidenceFiles(t *testing.T) {
	withCatalog(t)
	dir := t.TempDir()
	ev := filepath.Join(dir, "evidence")
	res := sampleResult()
	written, err := writeWithEvidence(res, sampleInventory(), Options{Formats: []string{"sarif"}, OutDir: dir}, ev)
	if err != nil {
		t.Fatal(err)
	}
	sarif, err := os.ReadFile(filepath.Join(dir, "findings.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	uris := sarifURIs(t, sarif)
	if len(uris) == 0 {
		t.Fatal("no artifact URI")
	}
	for _, u := range uris {
		p := filepath.Join(ev, filepath.FromSlash(u))
		if !slices.Contains(written, p) {
			t.Errorf("evidence for %s not written", u)
		}
	}
	read := func(rel string) map[string]any {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(ev, rel))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), `"value"`) || strings.Contains(string(b), leakedToken) {
			t.Errorf("%s has a value field or a credential", rel)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m["comment"].(string), "values redacted") {
			t.Errorf("%s: comment = %v", rel, m["comment"])
		}
		return m
	}
	td := read("aws/111111111111/eu-west-1/ecs/task-definition/web/3.json")
	if td["collected"] != true {
		t.Errorf("task definition not collected: %v", td)
	}
	env := td["resource"].(map[string]any)["containerDefinitions"].([]any)[0].(map[string]any)["environment"].([]any)[0].(map[string]any)
	if env["name"] != "API_TOKEN" || len(env) != 3 {
		t.Errorf("environment = %v", env)
	}
	logOpts := td["resource"].(map[string]any)["containerDefinitions"].([]any)[0].(map[string]any)["logConfiguration"].(map[string]any)["options"].(map[string]any)
	if logOpts["splunk-token"] != "[REDACTED]" || logOpts["splunk-url"] != "https://splunk.example:8088" {
		t.Errorf("log options = %v", logOpts)
	}
	role := read("aws/111111111111/iam/role/app-exec.json")["resource"].(map[string]any)
	for _, k := range []string{"trustPolicy", "inlinePolicies", "attachedPolicies", "permissionsBoundary"} {
		if role[k] == nil {
			t.Errorf("role evidence lacks %s", k)
		}
	}
	if role["permissionsBoundary"].(map[string]any)["note"] != "policy document not collected" {
		t.Errorf("boundary = %v", role["permissionsBoundary"])
	}
	pay := read("aws/222222222222/eu-west-1/ecs/task-definition/pay/12.json")
	if pay["collected"] != false || len(pay["findings"].([]any)) != 2 {
		t.Errorf("pay evidence = %v", pay)
	}
	// Without an inventory every file still exists, with the findings.
	ev2 := filepath.Join(dir, "ev2")
	if _, err := WriteEvidence(res, nil, ev2); err != nil {
		t.Fatal(err)
	}
	for _, u := range uris {
		if _, err := os.Stat(filepath.Join(ev2, filepath.FromSlash(u))); err != nil {
			t.Error(err)
		}
	}
}

func TestEvidencePathsStayInside(t *testing.T) {
	withCatalog(t)
	dir := t.TempDir()
	ev := filepath.Join(dir, "ev")
	written, err := WriteEvidence(maliciousResult(), nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) == 0 {
		t.Fatal("nothing written")
	}
	for _, p := range written {
		rel, err := filepath.Rel(ev, p)
		if err != nil || !filepath.IsLocal(rel) {
			t.Errorf("%s is outside %s", p, ev)
		}
	}
}

// SummaryLine counts root causes and the distinct resources they affect,
// most first.
func TestSummaryLine(t *testing.T) {
	withCatalog(t)
	if got, want := SummaryLine(sampleResult()), "8 root causes affecting 4 task definitions, 2 services, 1 container instance, 1 role (12 items)"; got != want {
		t.Errorf("SummaryLine = %q, want %q", got, want)
	}
	if got := SummaryLine(&findings.Result{}); got != "0 root causes" {
		t.Errorf("SummaryLine of no finding = %q", got)
	}
	// The demo organization: its counts, as findings.Evaluate counts them.
	demo := demoResult(t)
	want := itoa(len(demo.Findings)) + " root causes affecting " + countResources(demo.Summary.Affected) + " (" + itoa(demo.Summary.Items) + " items)"
	if got := SummaryLine(demo); got != want || !strings.Contains(got, " container instances") {
		t.Errorf("demo: SummaryLine = %q, want %q", got, want)
	}
}
