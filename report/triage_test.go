package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/triage"
)

// The suppression lifecycle through every format: one suppression of the
// excess grants of role app-exec (finding f-excess-1), accepted until
// 2025-06-30, applied by triage.Apply at four moments.
//
//	active    2025-03-14  the finding is suppressed
//	expiring  2025-06-15  still suppressed, within the 30-day warning window
//	expired   2025-07-01  no longer suppressed: accepted until 2025-06-30
//	stale     2025-07-01  the role was fixed: the suppression matches nothing
//
// At each stage findings.json follows the schema and reads back; SARIF
// follows the SARIF schema and carries suppressions exactly while the
// suppression is active; the HTML lists the suppression with its state and
// marks the finding (and, with Chromium, the page filters it); the workbook
// read back has it on its Accepted risks and Suppressions sheets; the
// Markdown and CSV say it.
func TestSuppressionLifecycle(t *testing.T) {
	withCatalog(t)
	const id, source = "f-excess-1", "accepted.yaml:2"
	set := &triage.Suppressions{List: []triage.Suppression{{Rule: "T002", Role: []string{"app-exec"},
		Justification: "Legacy S3 access is removed in WEB-42.", Owner: "web-team@example.com",
		Expires: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), Source: source}}}
	fixedRole := sampleResult()
	kept := fixedRole.Findings[:0]
	for _, f := range fixedRole.Findings {
		if f.ID != id {
			kept = append(kept, f)
		}
	}
	fixedRole.Findings = kept
	fixedRole.Summary = summarize(fixedRole)
	stages := []struct {
		name string
		res  *findings.Result
		now  time.Time
		// What the finding and the suppression should say.
		suppressed, soon, expired, stale bool
		status                           string // of the suppression entry
	}{
		{"active", sampleResult(), fixedTime, true, false, false, false, findings.SuppressionActive},
		{"expiring", sampleResult(), time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC), true, true, false, false, findings.SuppressionActive},
		{"expired", sampleResult(), time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), false, false, true, false, findings.SuppressionExpired},
		{"stale", fixedRole, time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), false, false, false, true, findings.SuppressionExpired},
	}
	for _, st := range stages {
		t.Run(st.name, func(t *testing.T) {
			res := triage.Apply(st.res, set, st.now)
			out := renderAll(t, res)

			// JSON: valid, and it reads back with the suppression.
			validateFindingsJSON(t, "findings.json", out[FormatJSON])
			back, _, err := ReadResult(out[FormatJSON], "findings.json")
			if err != nil {
				t.Fatal(err)
			}
			f := findingByID(back, id)
			switch {
			case st.stale:
				if f != nil {
					t.Fatalf("%s is still reported", id)
				}
			case f == nil:
				t.Fatalf("%s is not reported", id)
			case (f.Suppression != nil) != st.suppressed || (f.SuppressionExpired != nil) != st.expired:
				t.Errorf("JSON: suppression %+v, expired %+v", f.Suppression, f.SuppressionExpired)
			case st.suppressed && (f.Suppression.ExpiresSoon != st.soon || f.Suppression.Expires != "2025-06-30" || f.Suppression.Source != source):
				t.Errorf("JSON: suppression %+v", f.Suppression)
			}
			entries := back.Triage.Suppressions.Entries
			if len(entries) != 1 || entries[0].Status != st.status || entries[0].Stale != st.stale || entries[0].ExpiresSoon != st.soon {
				t.Errorf("JSON: entries %+v", entries)
			}

			// SARIF: valid; suppressions exactly while it is active.
			validateSARIF(t, out[FormatSARIF])
			checkSARIF(t, res, out[FormatSARIF])
			d := parseSARIF(t, out[FormatSARIF])
			var result *sarifResultDoc
			for i := range d.Runs[0].Results {
				if d.Runs[0].Results[i].PartialFingerprints[FingerprintKey] == id {
					result = &d.Runs[0].Results[i]
				}
			}
			switch {
			case st.stale:
				if result != nil {
					t.Errorf("SARIF: a result for the fixed finding")
				}
			case result == nil:
				t.Fatal("SARIF: no result for the finding")
			case st.suppressed:
				if len(result.Suppressions) != 1 || result.Suppressions[0].Kind != "external" || result.Suppressions[0].Status != "accepted" ||
					result.Suppressions[0].Justification != "Legacy S3 access is removed in WEB-42." {
					t.Errorf("SARIF: suppressions %+v", result.Suppressions)
				}
			default:
				if len(result.Suppressions) != 0 || !strings.Contains(result.Message.Text, "Was accepted as a risk until 2025-06-30") {
					t.Errorf("SARIF: suppressions %+v, message %q", result.Suppressions, result.Message.Text)
				}
			}
			notes := map[string]bool{}
			for _, n := range d.Runs[0].Invocations[0].ToolExecutionNotifications {
				notes[n.Descriptor.ID] = true
			}
			if notes["suppression-expiring"] != st.soon || notes["suppression-expired"] != st.expired || notes["suppression-stale"] != st.stale {
				t.Errorf("SARIF notifications %v", notes)
			}

			// HTML: the suppression with its state, the finding marked.
			page := string(out[FormatHTML])
			checkHTML(t, res, page)
			row := acceptedRow(t, page, source)
			for want, ok := range map[string]bool{"expires soon": st.soon, ">stale<": st.stale, "<td>expired": st.expired || st.stale, "<td>active": st.suppressed} {
				if strings.Contains(row, want) != ok {
					t.Errorf("HTML: accepted risks row %q: %q present %v, want %v", row, want, !ok, ok)
				}
			}
			wantState := map[bool]string{true: "accepted"}[st.suppressed]
			switch {
			case st.soon:
				wantState = "accepted, expires soon"
			case st.expired:
				wantState = "expired"
			}
			if st.stale {
				if strings.Contains(page, id) {
					t.Error("HTML: the fixed finding is still on the page")
				}
			} else if got, want := htmlState(t, page, id), map[string]string{"accepted": "accepted", "accepted, expires soon": "expiring", "expired": "expired"}[wantState]; got != want {
				t.Errorf("HTML: finding state %q, want %q", got, want)
			}

			// XLSX read back: Accepted risks and Suppressions sheets.
			path := filepath.Join(t.TempDir(), "findings.xlsx")
			if err := os.WriteFile(path, out[FormatXLSX], 0o644); err != nil {
				t.Fatal(err)
			}
			wb, err := excelize.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer wb.Close()
			acc, err := wb.GetRows(sheetAccepted)
			if err != nil {
				t.Fatal(err)
			}
			var accRow []string
			for _, r := range acc[1:] {
				if r[0] == id {
					accRow = r
				}
			}
			if wantState == "" && accRow != nil || wantState != "" && (accRow == nil || accRow[8] != wantState || accRow[9] != "2025-06-30" || accRow[12] != source) {
				t.Errorf("XLSX: Accepted risks row %q, want state %q", accRow, wantState)
			}
			sup, err := wb.GetRows(sheetSuppressions)
			if err != nil {
				t.Fatal(err)
			}
			if len(sup) != 2 || sup[1][0] != source || sup[1][2] != st.status || sup[1][3] != "2025-06-30" ||
				(len(sup[1]) > 8 && sup[1][8] == "yes") != st.stale || sup[1][4] == "yes" != st.soon {
				t.Errorf("XLSX: Suppressions sheet %q", sup)
			}

			// Markdown and CSV say it too.
			md := string(out[FormatMarkdown])
			if !strings.Contains(md, "**Accepted risks:**") || strings.Contains(md, "1 stale suppression") != st.stale ||
				strings.Contains(md, "acceptance expired counts again") != st.expired {
				t.Errorf("Markdown:\n%s", md)
			}
			rows, err := csv.NewReader(bytes.NewReader(out[FormatCSV])).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows[1:] {
				if r[len(r)-1] == id && (r[19] != wantState || r[20] != "2025-06-30" || r[21] != "web-team@example.com") {
					t.Errorf("CSV row %q, want acceptance %q", r, wantState)
				}
			}
		})
	}
	// With Chromium, the page's own filters see the same.
	t.Run("browser", func(t *testing.T) {
		chromium := chromiumPath(t)
		for _, st := range stages {
			r, log, _ := runSelftest(t, chromium, triage.Apply(st.res, set, st.now), 5*time.Second)
			if p := consoleProblems(log); len(p) > 0 || !r.Done || len(r.Errors) > 0 {
				t.Fatalf("%s: console %v, self-test errors %v", st.name, p, r.Errors)
			}
			checkTriageInBrowser(t, triage.Apply(st.res, set, st.now), r)
		}
	})
}

// sarifResultDoc is one result of sarifDoc.
type sarifResultDoc = struct {
	RuleID    string `json:"ruleId"`
	RuleIndex int    `json:"ruleIndex"`
	Level     string `json:"level"`
	Message   struct{ Text string }
	Locations []struct {
		PhysicalLocation struct {
			ArtifactLocation struct{ URI string } `json:"artifactLocation"`
		} `json:"physicalLocation"`
		LogicalLocations []struct {
			FullyQualifiedName string `json:"fullyQualifiedName"`
			Kind               string
		} `json:"logicalLocations"`
	} `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	BaselineState       string            `json:"baselineState"`
	Suppressions        []struct {
		Kind, Status, Justification string
		Properties                  map[string]string
	} `json:"suppressions"`
	Properties map[string]any `json:"properties"`
}

func findingByID(res *findings.Result, id string) *findings.Finding {
	for i := range res.Findings {
		if res.Findings[i].ID == id {
			return &res.Findings[i]
		}
	}
	return nil
}

// acceptedRow returns the HTML of the row of the accepted risks table for
// a suppression.
func acceptedRow(t *testing.T, page, source string) string {
	t.Helper()
	i := strings.Index(page, `id="accepted-table"`)
	if i < 0 {
		t.Fatal("HTML: no accepted risks table")
	}
	j := strings.Index(page[i:], ">"+html.EscapeString(source)+"<")
	if j < 0 {
		t.Fatalf("HTML: no row for %s", source)
	}
	row := page[i+j:]
	return row[:strings.Index(row, "</tr>")]
}

// htmlState returns the acceptance state of a finding in the page's data
// block.
func htmlState(t *testing.T, page, id string) string {
	t.Helper()
	data := htmlDataBlock(t, page)
	strs := data["s"].([]any)
	for _, row := range data["f"].([]any) {
		r := row.([]any)
		if strs[int(r[13].(float64))] == id {
			return strs[int(r[18].(float64))].(string)
		}
	}
	t.Fatalf("HTML: finding %s not in the data block", id)
	return ""
}

// A findings.json with triage renders the same formats once read back: the
// audit report round trip holds for suppressions and baselines too.
func TestReadResultRoundTripTriaged(t *testing.T) {
	withCatalog(t)
	res := triagedResult()
	want := renderAll(t, res)
	back, _, err := ReadResult(want[FormatJSON], "findings.json")
	if err != nil {
		t.Fatal(err)
	}
	got := renderAll(t, back)
	for _, f := range AllFormats {
		if !bytes.Equal(got[f], want[f]) {
			t.Errorf("%s rendered from the findings.json read back differs from the original", f)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(want[FormatJSON], &m); err != nil {
		t.Fatal(err)
	}
	if m["triage"] == nil {
		t.Fatal("findings.json has no triage")
	}
}
