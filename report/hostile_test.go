package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/ecs-audit/audit/findings"
)

// cellIsText reports whether a spreadsheet reads c as text: it starts with
// the apostrophe, or its first character after spaces is neither a formula
// trigger nor a control character.
func cellIsText(c string) bool {
	if strings.HasPrefix(c, "'") {
		return true
	}
	for _, r := range c {
		switch {
		case r == ' ' || unicode.IsSpace(r) && r > 0x7f || unicode.Is(unicode.Cf, r):
			continue
		case strings.ContainsRune("=+-@＝＋－＠", r), r < 0x20, r >= 0x7f && r <= 0x9f, r == utf8.RuneError:
			return false
		}
		return true
	}
	return true
}

// walkJSON calls fn on every string of a decoded JSON value, keys included.
func walkJSON(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case []any:
		for _, e := range x {
			walkJSON(e, fn)
		}
	case map[string]any:
		for k, e := range x {
			fn(k)
			walkJSON(e, fn)
		}
	}
}

// htmlDataBlock returns the decoded JSON data block of a report.html.
func htmlDataBlock(t *testing.T, doc string) map[string]any {
	t.Helper()
	for _, tg := range scanTags(t, doc) {
		if tg.attrs["id"] == "audit-data" {
			var m map[string]any
			if err := json.Unmarshal([]byte(tg.text), &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatal("no data block")
	return nil
}

// TestHostileEveryWriter sends the spoof payloads (bidi controls, invisible
// and control characters, formula triggers behind them) through every
// writer and the evidence files, and checks each output:
//
//   - people's formats (HTML, Markdown, CSV, XLSX) hold no hidden
//     character, in the file or in the HTML data block once decoded;
//   - CSV and XLSX cells are all read as text by a spreadsheet;
//   - JSON, SARIF and evidence files hold no raw hidden character, and
//     decode to the exact strings of the Result.
func TestHostileEveryWriter(t *testing.T) {
	withCatalog(t)
	res := hostileResult()
	dir := t.TempDir()
	out, ev := filepath.Join(dir, "out"), filepath.Join(dir, "evidence")
	written, err := writeWithEvidence(res, sampleInventory(), Options{Formats: AllFormats, OutDir: out}, ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) <= len(AllFormats) {
		t.Fatalf("written = %v: no evidence files", written)
	}
	// No raw hidden character in any file (XLSX: in any member). The
	// Markdown writer's own WORD JOINER after '@' (which keeps GitHub from
	// reading a mention) is the one exception.
	for _, p := range written {
		for _, content := range fileContents(t, p) {
			if filepath.Base(p) == FileName(FormatMarkdown) {
				content = strings.ReplaceAll(content, "@\u2060", "@")
			}
			noHidden(t, p, content)
		}
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	byID := map[string]*findings.Finding{}
	for i := range res.Findings {
		byID[res.Findings[i].ID] = &res.Findings[i]
	}

	t.Run("json exact", func(t *testing.T) {
		validateFindingsJSON(t, "findings.json", read("findings.json"))
		back, _, err := ReadResult(read("findings.json"), "findings.json")
		if err != nil {
			t.Fatal(err)
		}
		if len(back.Findings) != len(res.Findings) {
			t.Fatalf("%d findings", len(back.Findings))
		}
		for _, f := range back.Findings {
			want := byID[f.ID]
			if want == nil {
				t.Fatalf("finding ID %q changed", f.ID)
			}
			if f.Message != want.Message || f.AccountName != want.AccountName || f.ResourceARN != want.ResourceARN ||
				f.RoleARN != want.RoleARN || f.Container != want.Container || f.Evidence.Decision.Reason != want.Evidence.Decision.Reason {
				t.Errorf("finding %q does not round-trip", f.ID)
			}
		}
		if back.Scope.OrganizationID != res.Scope.OrganizationID || back.Coverage.Gaps[0] == "" {
			t.Error("scope or coverage does not round-trip")
		}
	})

	t.Run("sarif exact data, revealed text", func(t *testing.T) {
		var doc struct {
			Runs []struct {
				Invocations []struct {
					Notifications []struct {
						Message struct{ Text string } `json:"message"`
					} `json:"toolExecutionNotifications"`
				} `json:"invocations"`
				Results []struct {
					Message             struct{ Text string } `json:"message"`
					PartialFingerprints map[string]string     `json:"partialFingerprints"`
					Properties          struct {
						AccountName string `json:"accountName"`
						ResourceARN string `json:"resourceArn"`
					} `json:"properties"`
					Locations []struct {
						LogicalLocations []struct {
							FullyQualifiedName string `json:"fullyQualifiedName"`
						} `json:"logicalLocations"`
					} `json:"locations"`
				} `json:"results"`
			} `json:"runs"`
		}
		b := read("findings.sarif")
		validateSARIF(t, b)
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		v := newView(res)
		past := map[string]*findings.PastFinding{}
		for i := range res.Triage.Baseline.Unknown {
			past[res.Triage.Baseline.Unknown[i].ID] = &res.Triage.Baseline.Unknown[i]
		}
		for _, r := range doc.Runs[0].Results {
			noHidden(t, "SARIF message", r.Message.Text)
			if p := past[r.PartialFingerprints[FingerprintKey]]; p != nil {
				if r.Properties.ResourceARN != p.ResourceARN {
					t.Errorf("baseline finding %q: properties are not exact", p.ID)
				}
				continue
			}
			f := byID[r.PartialFingerprints[FingerprintKey]]
			if f == nil {
				t.Fatalf("fingerprint %q changed", r.PartialFingerprints[FingerprintKey])
			}
			if r.Properties.AccountName != v.accountName(f) || r.Properties.ResourceARN != f.ResourceARN ||
				r.Locations[0].LogicalLocations[0].FullyQualifiedName != f.ResourceARN {
				t.Errorf("result %q: properties are not exact", f.ID)
			}
			if r.Message.Text != Reveal(v.sarifMessage(f)) {
				t.Errorf("result %q: message %q", f.ID, r.Message.Text)
			}
			noHidden(t, "SARIF message", r.Message.Text)
		}
		for _, n := range doc.Runs[0].Invocations[0].Notifications {
			noHidden(t, "SARIF notification", n.Message.Text)
		}
	})

	t.Run("evidence exact", func(t *testing.T) {
		n := 0
		for _, p := range written {
			if !strings.HasPrefix(p, ev) {
				continue
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var e evidenceFile
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatal(err)
			}
			for _, ef := range e.Findings {
				if f := byID[ef.ID]; f == nil || f.Message != ef.Message {
					t.Errorf("%s: finding %q does not round-trip", p, ef.ID)
				}
				n++
			}
		}
		if n != len(res.Findings) {
			t.Errorf("%d findings in the evidence files, want %d", n, len(res.Findings))
		}
	})

	t.Run("html", func(t *testing.T) {
		doc := string(read("report.html"))
		checkHTML(t, res, doc)
		n := 0
		walkJSON(any(htmlDataBlock(t, doc)), func(s string) { noHidden(t, "HTML data block", s); n++ })
		if n == 0 {
			t.Fatal("empty data block")
		}
		data := htmlDataBlock(t, doc)
		strs := data["s"].([]any)
		for i, r := range newView(res).allRoles() {
			row := data["r"].([]any)[i].([]any)
			samePolicy(t, strs[int(row[5].(float64))].(string), r.LeastPrivilegePolicy)
		}
		// The server-rendered parts show the revealed forms.
		text := html.UnescapeString(stripScripts(doc))
		for _, want := range []string{"evil<U+202E>gnp.exe", "<U+2066>admin<U+2069>-role", "prod<U+200B><U+200C><U+200D><U+2060><U+FEFF>"} {
			if !strings.Contains(text, want) {
				t.Errorf("page text lacks %q", want)
			}
		}
	})

	t.Run("csv", func(t *testing.T) {
		rows, err := csv.NewReader(bytes.NewReader(read("findings.csv"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		neutralised := 0
		for _, row := range rows {
			for _, c := range row {
				if !cellIsText(c) {
					t.Errorf("CSV cell %q can be read as a formula", c)
				}
				if strings.HasPrefix(c, "'") {
					neutralised++
				}
			}
		}
		if neutralised == 0 {
			t.Error("no neutralised cell: the fixture lost its payloads")
		}
	})

	t.Run("xlsx", func(t *testing.T) {
		f, err := excelize.OpenFile(filepath.Join(out, "findings.xlsx"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, sheet := range f.GetSheetList() {
			rows, err := f.GetRows(sheet)
			if err != nil {
				t.Fatal(err)
			}
			for r, row := range rows {
				for c, v := range row {
					noHidden(t, sheet, v)
					if !cellIsText(v) {
						t.Errorf("%s!R%dC%d = %q can be read as a formula", sheet, r+1, c+1, v)
					}
				}
			}
		}
		// Counts stay numbers (a cell without a type is a number), beside
		// text cells that are inline strings.
		for _, c := range []struct{ sheet, cell string }{
			{sheetTaskDefs, "B2"}, {sheetTaskDefs, "H2"}, {sheetTaskDefs, "K2"}, {sheetRoles, "F2"}, {sheetRoles, "H2"}, {sheetRules, "J2"},
		} {
			typ, err := f.GetCellType(c.sheet, c.cell)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := f.GetCellValue(c.sheet, c.cell)
			if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber || v == "" || strings.Trim(v, "0123456789") != "" {
				t.Errorf("%s!%s = %q of type %v, want a number", c.sheet, c.cell, v, typ)
			}
		}
		if typ, _ := f.GetCellType(sheetTaskDefs, "A2"); typ != excelize.CellTypeInlineString {
			t.Errorf("%s!A2 is of type %v, want an inline string", sheetTaskDefs, typ)
		}
		// The least-privilege policy is the exact policy, hidden
		// characters as \u escapes: copied into IAM it is what audit
		// computed.
		roles, err := f.GetRows(sheetRoles)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range newView(res).allRoles() {
			samePolicy(t, roles[i+1][6], r.LeastPrivilegePolicy)
		}
		props, err := f.GetDocProps()
		if err != nil {
			t.Fatal(err)
		}
		noHidden(t, "document properties", props.Subject+props.Description)
	})

	t.Run("markdown", func(t *testing.T) {
		md := string(read("summary.md"))
		if !strings.Contains(md, `evil\<U+202E\>gnp.exe`) {
			t.Error("summary.md lacks the revealed override")
		}
	})
}

// samePolicy checks that text is the policy want, as JSON, with no hidden
// character.
func samePolicy(t *testing.T, text string, want json.RawMessage) {
	t.Helper()
	noHidden(t, "policy text", text)
	var got, w any
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatalf("policy text is not JSON: %v\n%s", err, text)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("policy text %s is not the policy %s", text, want)
	}
	if !strings.Contains(text, `\`) {
		t.Errorf("policy text %s shows no escape: the fixture lost its payloads", text)
	}
}

func TestPrettyPolicyExact(t *testing.T) {
	for _, p := range spoofPayloads {
		b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Sid": "S", "Effect": "Allow",
			"Action": "secretsmanager:GetSecretValue", "Resource": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:" + p}}})
		samePolicy(t, prettyPolicy(b), b)
	}
}

// spoofClasses are the classes of hostile text, with how each output shows
// them: shown is the text people read (HTML, SARIF message text), cell the
// CSV/XLSX cell, md the Markdown text. JSON, SARIF data and evidence keep
// the input exactly.
var spoofClasses = []struct {
	class, in, shown, cell, md string
}{
	{"bidi override", "evil\u202Egnp.exe", "evil<U+202E>gnp.exe", "evil<U+202E>gnp.exe", `evil\<U+202E\>gnp.exe`},
	{"bidi isolates and marks", "\u2066admin\u2069\u200F", "<U+2066>admin<U+2069><U+200F>", "<U+2066>admin<U+2069><U+200F>", `\<U+2066\>admin\<U+2069\>\<U+200F\>`},
	{"invisible characters", "ad\u200Bmin\uFEFF", "ad<U+200B>min<U+FEFF>", "ad<U+200B>min<U+FEFF>", `ad\<U+200B\>min\<U+FEFF\>`},
	{"tag characters", "ok\U000E0041", "ok<U+E0041>", "ok<U+E0041>", `ok\<U+E0041\>`},
	{"NUL then formula", "\x00=1+2", "<U+0000>=1+2", "<U+0000>=1+2", `\<U+0000\>=1+2`},
	{"terminal escape", "\x1b[31mred", "<U+001B>[31mred", "<U+001B>[31mred", `\<U+001B\>\[31mred`},
	{"carriage return", "ok\rEVIL", "ok<U+000D>EVIL", "ok<U+000D>EVIL", `ok\<U+000D\>EVIL`},
	{"formula", `=HYPERLINK("http://x")`, `=HYPERLINK("http://x")`, `'=HYPERLINK("http://x")`, `=HYPERLINK("http://x")`},
	{"formula after spaces", "  -1+2", "  -1+2", "'  -1+2", "  -1+2"},
	{"formula after no-break space", "\u00A0@SUM(1,2)", "<U+00A0>@SUM(1,2)", "<U+00A0>@SUM(1,2)", `\<U+00A0\>@` + "\u2060" + `SUM(1,2)`},
	{"formula after tab", "\t-1+2", "\t-1+2", "'\t-1+2", " -1+2"},
	{"formula after line feed", "\n+1", "\n+1", "'\n+1", " +1"},
	{"legitimate", "arn:aws:iam::111111111111:role/a-b=c@d 1-2 Société שלום", "arn:aws:iam::111111111111:role/a-b=c@d 1-2 Société שלום",
		"arn:aws:iam::111111111111:role/a-b=c@d 1-2 Société שלום", "arn:aws:iam::111111111111:role/a-b=c@\u2060d 1-2 Société שלום"},
}

// TestEscapingPerClassAndFormat renders one finding whose message and
// account name hold each class of hostile text, in every format, and reads
// the field back from each.
func TestEscapingPerClassAndFormat(t *testing.T) {
	withCatalog(t)
	for _, tt := range spoofClasses {
		t.Run(tt.class, func(t *testing.T) {
			res := sampleResult()
			res.Findings = res.Findings[1:2]
			f := &res.Findings[0]
			f.Message, f.AccountName = tt.in, tt.in
			res.Scope.Accounts = []findings.AccountRef{{ID: f.AccountID, Name: tt.in}}
			res.Summary = summarize(res)
			dir := t.TempDir()
			ev := filepath.Join(dir, "evidence")
			if _, err := writeWithEvidence(res, nil, Options{Formats: AllFormats, OutDir: dir}, ev); err != nil {
				t.Fatal(err)
			}
			read := func(name string) []byte {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}

			t.Run("csv", func(t *testing.T) {
				rows, err := csv.NewReader(bytes.NewReader(read("findings.csv"))).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if got := rows[1][11]; got != tt.cell {
					t.Errorf("message cell = %q, want %q", got, tt.cell)
				}
				if got := rows[1][4]; got != tt.cell {
					t.Errorf("account name cell = %q, want %q", got, tt.cell)
				}
			})
			t.Run("xlsx", func(t *testing.T) {
				x, err := excelize.OpenFile(filepath.Join(dir, "findings.xlsx"))
				if err != nil {
					t.Fatal(err)
				}
				defer x.Close()
				rows, err := x.GetRows(sheetFindings)
				if err != nil {
					t.Fatal(err)
				}
				if got := rows[1][11]; got != tt.cell {
					t.Errorf("message cell = %q, want %q", got, tt.cell)
				}
				if typ, _ := x.GetCellType(sheetFindings, "L2"); typ != excelize.CellTypeInlineString {
					t.Errorf("message cell type %v, want an inline string", typ)
				}
			})
			t.Run("html", func(t *testing.T) {
				doc := string(read("report.html"))
				data := htmlDataBlock(t, doc)
				strs := data["s"].([]any)
				row := data["f"].([]any)[0].([]any)
				if got := strs[int(row[11].(float64))]; got != tt.shown {
					t.Errorf("message in the data block = %q, want %q", got, tt.shown)
				}
				// The account name is rendered by the template too.
				if text := html.UnescapeString(stripScripts(doc)); !strings.Contains(text, "<td>"+tt.shown+"</td>") &&
					!strings.Contains(text, "<td>"+strings.TrimSpace(tt.shown)+"</td>") {
					t.Errorf("account name %q not in the page text", tt.shown)
				}
			})
			t.Run("markdown", func(t *testing.T) {
				md := string(read("summary.md"))
				if !strings.Contains(md, "| "+tt.md+" |") {
					t.Errorf("summary.md has no message cell %q:\n%s", tt.md, md)
				}
			})
			t.Run("json", func(t *testing.T) {
				validateFindingsJSON(t, "findings.json", read("findings.json"))
				back, _, err := ReadResult(read("findings.json"), "findings.json")
				if err != nil {
					t.Fatal(err)
				}
				if back.Findings[0].Message != tt.in || back.Scope.Accounts[0].Name != tt.in {
					t.Errorf("message %q, account %q; want %q", back.Findings[0].Message, back.Scope.Accounts[0].Name, tt.in)
				}
			})
			t.Run("sarif", func(t *testing.T) {
				var doc struct {
					Runs []struct {
						Results []struct {
							Message    struct{ Text string }        `json:"message"`
							Properties struct{ AccountName string } `json:"properties"`
						} `json:"results"`
					} `json:"runs"`
				}
				if err := json.Unmarshal(read("findings.sarif"), &doc); err != nil {
					t.Fatal(err)
				}
				r := doc.Runs[0].Results[0]
				if !strings.HasPrefix(r.Message.Text, tt.shown+" [account "+tt.shown+" (") {
					t.Errorf("message text = %q, want it to start with %q", r.Message.Text, tt.shown)
				}
				if r.Properties.AccountName != tt.in {
					t.Errorf("accountName = %q, want %q", r.Properties.AccountName, tt.in)
				}
			})
			t.Run("evidence", func(t *testing.T) {
				b, err := os.ReadFile(filepath.Join(ev, filepath.FromSlash(artifactPath(f))))
				if err != nil {
					t.Fatal(err)
				}
				var e evidenceFile
				if err := json.Unmarshal(b, &e); err != nil {
					t.Fatal(err)
				}
				if e.Findings[0].Message != tt.in {
					t.Errorf("message = %q, want %q", e.Findings[0].Message, tt.in)
				}
			})
		})
	}
}
