package report

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ecs-audit/audit/findings"
)

func writeXLSXFile(t *testing.T, res *findings.Result, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "findings.xlsx")
	var b bytes.Buffer
	if err := WriteXLSX(&b, res); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sheetXML returns the raw XML of a worksheet of the workbook.
func sheetXML(t *testing.T, path string, f *excelize.File, sheet string) string {
	t.Helper()
	idx, err := f.GetSheetIndex(sheet)
	if err != nil || idx < 0 {
		t.Fatalf("sheet %s: %v", sheet, err)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	// excelize names sheets sheet1.xml... in creation order.
	name := "xl/worksheets/sheet" + itoa(idx+1) + ".xml"
	for _, zf := range zr.File {
		if zf.Name == name {
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatalf("%s not in the workbook", name)
	return ""
}

func TestXLSX(t *testing.T) {
	withCatalog(t)
	dir := t.TempDir()
	res := maliciousResult()
	path := writeXLSXFile(t, res, dir)
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	wantSheets := []string{sheetSummary, sheetFindings, sheetItems, sheetAccepted, sheetSuppressions, sheetChanges,
		sheetTaskDefs, sheetRoles, sheetCoverage, sheetRules}
	if got := f.GetSheetList(); strings.Join(got, "|") != strings.Join(wantSheets, "|") {
		t.Fatalf("sheets = %v, want %v", got, wantSheets)
	}
	props, err := f.GetDocProps()
	if err != nil {
		t.Fatal(err)
	}
	if props.Creator != "audit" || props.Created != "2025-03-14T09:26:53Z" || props.Title == "" || props.Subject == "" || props.Keywords == "" {
		t.Errorf("document properties = %+v", props)
	}

	items, accepted := 0, 0
	for i := range res.Findings {
		items += len(findingItems(&res.Findings[i]))
		if res.Findings[i].Suppression != nil || res.Findings[i].SuppressionExpired != nil {
			accepted++
		}
	}
	tests := []struct {
		sheet string
		rows  int // without the header
		cols  int
	}{
		{sheetFindings, len(res.Findings), len(findingColumns)},
		{sheetItems, items, len(itemColumns)},
		{sheetAccepted, accepted, len(acceptedColumns)},
		{sheetSuppressions, len(res.Triage.Suppressions.Entries), len(suppressionColumns)},
		{sheetChanges, 1 + len(res.Triage.Baseline.Fixed) + len(res.Triage.Baseline.Unknown), len(changeColumns)},
		{sheetTaskDefs, len(res.TaskDefinitions), 12},
		{sheetRoles, len(res.Roles), 8},
		{sheetCoverage, len(res.Coverage.Errors), 8},
		{sheetRules, len(testCatalog()), 10},
	}
	for _, tt := range tests {
		t.Run(tt.sheet, func(t *testing.T) {
			rows, err := f.GetRows(tt.sheet)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != tt.rows+1 {
				t.Fatalf("%d rows, want %d", len(rows), tt.rows+1)
			}
			panes, err := f.GetPanes(tt.sheet)
			if err != nil {
				t.Fatal(err)
			}
			if !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
				t.Errorf("panes = %+v, want the header row frozen", panes)
			}
			last, _ := excelize.CoordinatesToCellName(tt.cols, tt.rows+1, true)
			xml := sheetXML(t, path, f, tt.sheet)
			if !strings.Contains(xml, `<autoFilter ref="$A$1:`+last+`"`) {
				t.Errorf("no autofilter A1:%s in %s", last, tt.sheet)
			}
			// Column widths, in ascending order as Excel requires.
			cols := regexp.MustCompile(`<col min="(\d+)"[^>]*customWidth="1"`).FindAllStringSubmatch(xml, -1)
			if len(cols) != tt.cols {
				t.Errorf("%d column widths in %s, want %d", len(cols), tt.sheet, tt.cols)
			}
			for i, c := range cols {
				if c[1] != itoa(i+1) {
					t.Errorf("column widths out of order in %s: %v", tt.sheet, cols)
					break
				}
			}
			// No cell is a formula.
			if strings.Contains(xml, "<f>") || strings.Contains(xml, "<f ") {
				t.Errorf("%s has a formula cell", tt.sheet)
			}
		})
	}

	// Every text cell of every sheet is neutralised.
	neutralised := 0
	for _, sheet := range wantSheets {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for r, row := range rows {
			for c, cell := range row {
				if cell == "" {
					continue
				}
				if first := strings.TrimLeft(cell, " "); first != "" && strings.ContainsRune("=+-@\t\r", rune(first[0])) {
					t.Errorf("%s!%d,%d = %q starts with a formula trigger", sheet, r+1, c+1, cell)
				}
				if strings.HasPrefix(cell, "'=") || strings.HasPrefix(cell, "'+") || strings.HasPrefix(cell, "'@") || strings.HasPrefix(cell, "'-") {
					neutralised++
					name, _ := excelize.CoordinatesToCellName(c+1, r+1)
					if typ, _ := f.GetCellType(sheet, name); typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
						t.Errorf("%s!%s is of type %v, want a string", sheet, name, typ)
					}
				}
			}
		}
	}
	if neutralised == 0 {
		t.Error("no neutralised cell found: the fixture lost its payloads")
	}

	// The Findings sheet: header, order, content and severity fill.
	rows, _ := f.GetRows(sheetFindings)
	if strings.Join(rows[0], "|") != strings.Join(findingColumns, "|") {
		t.Errorf("header = %v", rows[0])
	}
	v := newView(res)
	for i, fd := range v.allFindings() {
		row := rows[i+1]
		if row[0] != string(fd.Severity) || row[1] != fd.RuleID || row[len(row)-1] != textCell(fd.ID) {
			t.Errorf("row %d = %v, want finding %s", i+2, row, fd.ID)
		}
	}
	style, err := f.GetCellStyle(sheetFindings, "A2")
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(style)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Fill.Color) == 0 || !strings.EqualFold("#"+strings.TrimPrefix(st.Fill.Color[0], "#"), sevFill["critical"][0]) {
		t.Errorf("critical cell fill = %+v", st.Fill)
	}
	// The Summary sheet counts.
	summary, _ := f.GetRows(sheetSummary)
	var sawCritical bool
	for _, row := range summary {
		if len(row) >= 3 && row[0] == "critical" && row[2] == "2" {
			sawCritical = true
		}
	}
	if !sawCritical {
		t.Error("Summary sheet lacks the critical count")
	}
}

func TestXLSXLongCell(t *testing.T) {
	withCatalog(t)
	res := sampleResult()
	res.Findings[0].Message = "=" + strings.Repeat("x", 40000)
	path := writeXLSXFile(t, res, t.TempDir())
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows(sheetFindings)
	for _, row := range rows {
		for _, c := range row {
			if utf16Len(c) > maxCellChars {
				t.Fatalf("cell of %d characters", utf16Len(c))
			}
			if strings.HasPrefix(c, "'=xxx") && !strings.HasSuffix(c, truncatedMark) {
				t.Error("long cell cut without the mark")
			}
		}
	}
}

// sofficePath returns LibreOffice's program, or skips the test (fails in
// CI) when it is not installed.
func sofficePath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"soffice", "libreoffice"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("LibreOffice not found; CI must install the Debian package libreoffice-calc-nogui")
	}
	t.Skip("LibreOffice not found (apt-get install libreoffice-calc-nogui)")
	return ""
}

// libreOfficeCSV converts each input file to CSV with LibreOffice, in one
// run, and returns the rows of each output, by input path. convertTo is
// the export filter; infilter, when set, the import filter.
func libreOfficeCSV(t *testing.T, dir, convertTo, infilter string, inputs ...string) map[string][][]string {
	t.Helper()
	soffice := sofficePath(t)
	out := filepath.Join(dir, "lo-out")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{"--headless", "--norestore", "--nolockcheck",
		"-env:UserInstallation=file://" + filepath.Join(dir, "lo-profile"), "--convert-to", convertTo}
	if infilter != "" {
		args = append(args, "--infilter="+infilter)
	}
	args = append(append(args, "--outdir", out), inputs...)
	cmd := exec.CommandContext(ctx, soffice, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("libreoffice: %v\n%s", err, stderr.String())
	}
	got := map[string][][]string{}
	for _, in := range inputs {
		base := strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
		// One sheet is written as <base>.csv or <base>-<sheet>.csv.
		matches, _ := filepath.Glob(filepath.Join(out, base+"*.csv"))
		if len(matches) != 1 {
			t.Fatalf("%s: converted files %v\n%s", in, matches, stderr.String())
		}
		b, err := os.ReadFile(matches[0])
		if err != nil {
			t.Fatal(err)
		}
		if regexp.MustCompile(`(?m)(^|,)"?(#NAME|#VALUE|#REF|Err:)`).Match(b) {
			t.Errorf("%s: LibreOffice evaluated a cell:\n%s", in, b)
		}
		r := csv.NewReader(bytes.NewReader(b))
		r.FieldsPerRecord = -1
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%s: %v\n%s", in, err, b)
		}
		got[in] = rows
	}
	return got
}

// TestLibreOffice converts the workbook's Findings sheet to CSV with
// LibreOffice (Debian package libreoffice-calc-nogui) and checks every cell
// of every finding: the file opens in a second spreadsheet program, and
// the cells stay the text we wrote (nothing is computed), for the
// injection payloads and the spoof payloads. A control workbook shows what
// the check would catch: a formula cell comes out computed, while a string
// cell holding "=1+2" (as excelize writes every text cell: an inline
// string) stays text even without the apostrophe.
func TestLibreOffice(t *testing.T) {
	sofficePath(t)
	withCatalog(t)
	dir := t.TempDir()
	fixtures := map[string]*findings.Result{
		"malicious": maliciousResult(),
		"hostile":   hostileResult(),
	}
	var inputs []string
	for name, res := range fixtures {
		sub := filepath.Join(dir, name)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name+".xlsx")
		if err := os.Rename(writeXLSXFile(t, res, sub), p); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, p)
	}
	control := filepath.Join(dir, "control.xlsx")
	{
		f := excelize.NewFile()
		if _, err := f.NewSheet(sheetFindings); err != nil {
			t.Fatal(err)
		}
		sw, err := f.NewStreamWriter(sheetFindings)
		if err != nil {
			t.Fatal(err)
		}
		if err := sw.SetRow("A1", []any{excelize.Cell{Formula: "1+2"}, "=1+2", "'=1+2", "@SUM(1,2)"}); err != nil {
			t.Fatal(err)
		}
		if err := sw.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.SaveAs(control); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	inputs = append(inputs, control)
	// Filter options: comma, double quote, UTF-8, first line 1, no column
	// formats, language, quoted as text, detect special numbers, save as
	// shown, export formulas, remove space, sheet 2 (Findings).
	got := libreOfficeCSV(t, dir, `csv:Text - txt - csv (StarCalc):44,34,76,1,,0,true,true,true,false,false,2`, "", inputs...)

	if want := []string{"3", "=1+2", "'=1+2", "@SUM(1,2)"}; !reflect.DeepEqual(got[control], [][]string{want}) {
		t.Errorf("control workbook = %q, want %q", got[control], want)
	}
	for name, res := range fixtures {
		rows := got[filepath.Join(dir, name+".xlsx")]
		if len(rows) != len(res.Findings)+1 || strings.Join(rows[0], "|") != strings.Join(findingColumns, "|") {
			t.Fatalf("%s: LibreOffice CSV has %d rows, header %v", name, len(rows), rows[0])
		}
		v := newView(res)
		for i, fd := range v.allFindings() {
			for j, c := range v.findingRow(fd) {
				if want := textCell(c); rows[i+1][j] != want {
					t.Errorf("%s: row %d column %s = %q, want %q", name, i+2, findingColumns[j], rows[i+1][j], want)
				}
			}
		}
	}
}

// TestLibreOfficeCSV opens findings.csv in LibreOffice with formula
// evaluation on (the import option "Evaluate formulas"), as a person
// double-clicking the file would, and checks that every cell comes out as
// the text we wrote. A control file written without escaping shows that
// the check can fail: LibreOffice computes "=1+2" and also "\x00=1+3"
// (it drops the leading NUL).
func TestLibreOfficeCSV(t *testing.T) {
	sofficePath(t)
	withCatalog(t)
	dir := t.TempDir()
	fixtures := map[string]*findings.Result{
		"malicious": maliciousResult(),
		"hostile":   hostileResult(),
	}
	var inputs []string
	want := map[string][][]string{}
	for name, res := range fixtures {
		var b bytes.Buffer
		if err := WriteCSV(&b, res); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name+".csv")
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, p)
		want[p] = rows
	}
	// The control: the same cells, raw and through textCell.
	raw := []string{"=1+2", "\x00=1+3", "+1+4", "ok"}
	control := filepath.Join(dir, "control.csv")
	var cb bytes.Buffer
	cw := csv.NewWriter(&cb)
	_ = cw.Write(raw)
	escaped := make([]string, len(raw))
	for i, c := range raw {
		escaped[i] = textCell(c)
	}
	_ = cw.Write(escaped)
	cw.Flush()
	if err := os.WriteFile(control, cb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs = append(inputs, control)
	// Import: comma, double quote, UTF-8, from line 1, no column formats,
	// language, quoted fields as text off, detect special numbers off, -,
	// -, remove spaces off, all sheets, evaluate formulas on. Export: the
	// same separators, values (not formulas).
	got := libreOfficeCSV(t, dir, `csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,false,false,false,false`,
		`CSV:44,34,76,1,,0,false,false,false,false,false,-1,true`, inputs...)

	if c := got[control]; len(c) != 2 || c[0][0] != "3" || c[0][1] != "4" {
		t.Errorf("control row = %q: LibreOffice did not evaluate the raw formulas, so this test cannot see an evaluation", c)
	} else if !reflect.DeepEqual(c[1], escaped) {
		t.Errorf("escaped control row = %q, want %q", c[1], escaped)
	}
	for _, p := range inputs[:len(inputs)-1] {
		if !reflect.DeepEqual(got[p], want[p]) {
			for i := range want[p] {
				if i < len(got[p]) && !reflect.DeepEqual(got[p][i], want[p][i]) {
					t.Errorf("%s row %d:\n got %q\nwant %q", filepath.Base(p), i+1, got[p][i], want[p][i])
				}
			}
			if len(got[p]) != len(want[p]) {
				t.Errorf("%s: %d rows, want %d", filepath.Base(p), len(got[p]), len(want[p]))
			}
		}
	}
}
