package report

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
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
			checkTableSheet(t, path, f, tt.sheet, tt.cols, tt.rows)
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
	// The Summary sheet counts, and its dimension.
	summary, _ := f.GetRows(sheetSummary)
	if dim, err := f.GetSheetDimension(sheetSummary); err != nil || dim != "A1:C"+itoa(len(summary)) {
		t.Errorf("Summary: dimension %q (%v), want A1:C%d", dim, err, len(summary))
	}
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

// checkTableSheet checks what every sheet of a table has: the header row
// frozen, its dimension (the range it uses), an autofilter over the
// sheet's rows (with its defined name),
// a width for every column, in ascending order, and no formula cell.
// rows is the number of rows after the header.
func checkTableSheet(t *testing.T, path string, f *excelize.File, sheet string, cols, rows int) {
	t.Helper()
	panes, err := f.GetPanes(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
		t.Errorf("%s: panes = %+v, want the header row frozen", sheet, panes)
	}
	last, _ := excelize.CoordinatesToCellName(cols, rows+1, true)
	if dim, err := f.GetSheetDimension(sheet); err != nil || dim != "A1:"+strings.ReplaceAll(last, "$", "") {
		t.Errorf("%s: dimension %q (%v), want A1:%s", sheet, dim, err, strings.ReplaceAll(last, "$", ""))
	}
	xml := sheetXML(t, path, f, sheet)
	if !strings.Contains(xml, `<autoFilter ref="$A$1:`+last+`"`) {
		t.Errorf("no autofilter A1:%s in %s", last, sheet)
	}
	names := f.GetDefinedName()
	filter := "'" + sheet + "'!$A$1:" + last
	if !slices.ContainsFunc(names, func(d excelize.DefinedName) bool {
		return d.Name == "_xlnm._FilterDatabase" && d.Scope == sheet && d.RefersTo == filter
	}) {
		t.Errorf("%s: no filter database %s among the defined names %+v", sheet, filter, names)
	}
	// Column widths, in ascending order as Excel requires.
	widths := regexp.MustCompile(`<col min="(\d+)"[^>]*customWidth="1"`).FindAllStringSubmatch(xml, -1)
	if len(widths) != cols {
		t.Errorf("%d column widths in %s, want %d", len(widths), sheet, cols)
	}
	for i, c := range widths {
		if c[1] != itoa(i+1) {
			t.Errorf("column widths out of order in %s: %v", sheet, widths)
			break
		}
	}
	// No cell is a formula.
	if strings.Contains(xml, "<f>") || strings.Contains(xml, "<f ") {
		t.Errorf("%s has a formula cell", sheet)
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
	out, log := libreOffice(t, dir, convertTo, infilter, inputs...)
	got := map[string][][]string{}
	for _, in := range inputs {
		base := strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
		// One sheet is written as <base>.csv or <base>-<sheet>.csv.
		matches, _ := filepath.Glob(filepath.Join(out, base+"*.csv"))
		if len(matches) != 1 {
			t.Fatalf("%s: converted files %v\n%s", in, matches, log)
		}
		got[in] = readLibreOfficeCSV(t, matches[0])
	}
	return got
}

// libreOffice converts the input files with LibreOffice, in one run, and
// returns the directory of the converted files and LibreOffice's output.
func libreOffice(t *testing.T, dir, convertTo, infilter string, inputs ...string) (out, log string) {
	t.Helper()
	soffice := sofficePath(t)
	out = filepath.Join(dir, "lo-out")
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
	return out, stderr.String()
}

// readLibreOfficeCSV reads a CSV file LibreOffice wrote, and fails the
// test if a cell was evaluated.
func readLibreOfficeCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`(?m)(^|,)"?(#NAME|#VALUE|#REF|Err:)`).Match(b) {
		t.Errorf("%s: LibreOffice evaluated a cell:\n%s", path, b)
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	return rows
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

// TestLibreOfficeSplit converts every sheet of a workbook whose tables
// continue in further sheets (sheets of 5 rows) to CSV with LibreOffice:
// it opens, the continuation sheets are there under their names, and the
// findings, read from "Findings" then "Findings (2)", are every finding's
// cells once, in order, after each sheet's header row; so are the rows
// of the Affected items sheets.
func TestLibreOfficeSplit(t *testing.T) {
	sofficePath(t)
	withCatalog(t)
	withMaxSheetRows(t, 5)
	dir := t.TempDir()
	res := maliciousResult()
	in := filepath.Join(dir, "split.xlsx")
	if err := os.Rename(writeXLSXFile(t, res, t.TempDir()), in); err != nil {
		t.Fatal(err)
	}
	_, wb := openXLSX(t, res)
	// Filter options as in TestLibreOffice, for every sheet (-1): one file
	// a sheet, split-<sheet>.csv.
	out, log := libreOffice(t, dir, `csv:Text - txt - csv (StarCalc):44,34,76,1,,0,true,true,true,false,false,-1`, "", in)
	tables := map[string][]string{sheetFindings: nil, sheetItems: nil}
	var want []string
	for _, s := range wb.GetSheetList() {
		want = append(want, "split-"+s+".csv")
		for table := range tables {
			if s == table || strings.HasPrefix(s, table+" (") {
				tables[table] = append(tables[table], s)
			}
		}
	}
	if len(tables[sheetFindings]) != 2 || len(tables[sheetItems]) < 3 {
		t.Fatalf("the sheets of the tables are %q: the fixture no longer splits them", tables)
	}
	var files []string
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		files = append(files, e.Name())
	}
	slices.Sort(want)
	if !slices.Equal(files, want) {
		t.Fatalf("LibreOffice wrote %q, want %q\n%s", files, want, log)
	}
	rows := map[string][][]string{}
	for table, sheets := range tables {
		for _, sheet := range sheets {
			sheetRows := readLibreOfficeCSV(t, filepath.Join(out, "split-"+sheet+".csv"))
			if len(sheetRows) < 2 || len(sheetRows) > 5 || !slices.Equal(sheetRows[0], getRows(t, wb, table)[0]) {
				t.Fatalf("%s: %d rows, header %q", sheet, len(sheetRows), sheetRows[0])
			}
			rows[table] = append(rows[table], sheetRows[1:]...)
		}
	}
	v := newView(res)
	all := v.allFindings()
	if len(rows[sheetFindings]) != len(all) {
		t.Fatalf("%d findings in the Findings sheets, want %d", len(rows[sheetFindings]), len(all))
	}
	for i, fd := range all {
		for j, c := range v.findingRow(fd) {
			if want := textCell(c); rows[sheetFindings][i][j] != want {
				t.Errorf("finding %d column %s = %q, want %q", i+1, findingColumns[j], rows[sheetFindings][i][j], want)
			}
		}
	}
	var items []string
	for _, fd := range all {
		for range findingItems(fd) {
			items = append(items, textCell(fd.ID))
		}
	}
	var gotItems []string
	for _, r := range rows[sheetItems] {
		gotItems = append(gotItems, r[0])
	}
	if !slices.Equal(gotItems, items) {
		t.Errorf("the Affected items sheets hold the items of the findings %q, want %q", gotItems, items)
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

// withMaxSheetRows makes a sheet hold n rows, its header row included,
// for the test.
func withMaxSheetRows(t testing.TB, n int) {
	t.Helper()
	old := maxSheetRows
	maxSheetRows = n
	t.Cleanup(func() { maxSheetRows = old })
}

// openXLSX writes res's workbook in a directory of its own and opens it.
func openXLSX(t *testing.T, res *findings.Result) (string, *excelize.File) {
	t.Helper()
	path := writeXLSXFile(t, res, t.TempDir())
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return path, f
}

func getRows(t *testing.T, f *excelize.File, sheet string) [][]string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// sheetSection is the part of a sheet's XML from <open to </close>.
func sheetSection(xml, open, close string) string {
	i, j := strings.Index(xml, "<"+open), strings.Index(xml, "</"+close+">")
	if i < 0 || j < i {
		return ""
	}
	return xml[i : j+len(close)+3]
}

// splitNote is the Summary's section on the tables that continue in
// further sheets, as the test expects it: each table with its rows
// (header left out) and its sheets.
func splitNote(limit int, tables []splitTable) [][]string {
	if len(tables) == 0 {
		return nil
	}
	out := [][]string{nil, {"Tables continued in further sheets"},
		{"Why", fmt.Sprintf("A sheet holds at most %d rows, its header row included. These tables continue, in order, "+
			"in the sheets named after them, each with the same header row; no row is left out.", limit)}}
	for _, tb := range tables {
		out = append(out, []string{tb.sheets[0], fmt.Sprintf("%d rows in %d sheets: \"%s\"", tb.rows, len(tb.sheets),
			strings.Join(tb.sheets, `", "`))})
	}
	return out
}

// withSplitNote is the rows of an unsplit workbook's Summary with the
// note on split tables after the first block (its first blank row after
// the heading).
func withSplitNote(summary, note [][]string) [][]string {
	at := slices.IndexFunc(summary[2:], func(r []string) bool { return len(r) == 0 }) + 2
	out := slices.Clone(summary[:at])
	out = append(out, note...)
	return append(out, summary[at:]...)
}

// TestXLSXSplit writes workbooks with sheets of 5 rows: every table longer
// than 4 rows continues in sheets named after it, right after it, each
// with the table's header row, frozen pane, autofilter over its own rows,
// filter database and column widths; the rows of the sheets, one after
// the other, are the rows of the table in the unsplit workbook, each once
// and in order; the Summary names the split tables and their sheets, and
// is otherwise the unsplit workbook's.
func TestXLSXSplit(t *testing.T) {
	withCatalog(t)
	const limit = 5
	fixtures := map[string]*findings.Result{"triaged": triagedResult(), "malicious": maliciousResult(), "big": bigResult(60)}
	for name, res := range fixtures {
		t.Run(name, func(t *testing.T) {
			_, whole := openXLSX(t, res)
			withMaxSheetRows(t, limit)
			path, f := openXLSX(t, res)

			wantSheets := []string{sheetSummary}
			var split []splitTable
			tables := map[string][]string{}
			for _, table := range whole.GetSheetList()[1:] {
				n := max(1, (len(getRows(t, whole, table))-1+limit-2)/(limit-1))
				names := []string{table}
				for k := 2; k <= n; k++ {
					names = append(names, fmt.Sprintf("%s (%d)", table, k))
				}
				if n > 1 {
					split = append(split, splitTable{rows: len(getRows(t, whole, table)) - 1, sheets: names})
				}
				tables[table] = names
				wantSheets = append(wantSheets, names...)
			}
			if len(split) < 3 {
				t.Fatalf("only %d tables split: the fixture is too small to test", len(split))
			}
			if got := f.GetSheetList(); !slices.Equal(got, wantSheets) {
				t.Fatalf("sheets =\n%q\nwant\n%q", got, wantSheets)
			}
			for table, sheets := range tables {
				want := getRows(t, whole, table)
				baseXML := sheetXML(t, path, f, table)
				var got [][]string
				for i, sheet := range sheets {
					rows := getRows(t, f, sheet)
					if len(rows) == 0 || !slices.Equal(rows[0], want[0]) {
						t.Fatalf("%s: header %q, want %q", sheet, rows, want[0])
					}
					n := len(rows) - 1
					if n > limit-1 || i < len(sheets)-1 && n != limit-1 || i > 0 && n == 0 {
						t.Errorf("%s: %d rows after the header (the limit is %d with it)", sheet, n, limit)
					}
					got = append(got, rows[1:]...)
					checkTableSheet(t, path, f, sheet, len(want[0]), n)
					xml := sheetXML(t, path, f, sheet)
					for _, sec := range [][2]string{{"sheetViews", "sheetViews"}, {"cols", "cols"}, {"row r=\"1\"", "row"}} {
						if a, b := sheetSection(xml, sec[0], sec[1]), sheetSection(baseXML, sec[0], sec[1]); a == "" || a != b {
							t.Errorf("%s: <%s> is %q, %s's is %q", sheet, sec[0], a, table, b)
						}
					}
				}
				if !reflect.DeepEqual(got, want[1:]) {
					for i := range min(len(got), len(want)-1) {
						if !slices.Equal(got[i], want[i+1]) {
							t.Errorf("%s: row %d of the split table is %q, want %q", table, i+1, got[i], want[i+1])
							break
						}
					}
					t.Fatalf("%s: %d rows in its sheets %q, want %d", table, len(got), sheets, len(want)-1)
				}
			}
			wantSummary := withSplitNote(getRows(t, whole, sheetSummary), splitNote(limit, split))
			if got := getRows(t, f, sheetSummary); !reflect.DeepEqual(got, wantSummary) {
				t.Errorf("Summary =\n%q\nwant\n%q", got, wantSummary)
			}
		})
	}
}

// TestXLSXSplitBoundary: a table of collection errors at the edge of a
// sheet of 5 rows: 4 and 5 rows (the header's included) fit in one sheet,
// 6 rows continue in a second sheet of 2 (its header and the last row);
// two full sheets make no third.
func TestXLSXSplitBoundary(t *testing.T) {
	withCatalog(t)
	const limit = 5
	withMaxSheetRows(t, limit)
	tests := []struct {
		name   string
		errors int   // rows after the header
		sheets []int // rows after the header, by sheet
	}{
		{"empty", 0, []int{0}},
		{"limit-1", limit - 2, []int{limit - 2}},
		{"limit", limit - 1, []int{limit - 1}},
		{"limit+1", limit, []int{limit - 1, 1}},
		{"two full sheets", 2 * (limit - 1), []int{limit - 1, limit - 1}},
		{"two full sheets and a row", 2*(limit-1) + 1, []int{limit - 1, limit - 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := sampleResult()
			res.Coverage.Errors = nil
			for i := range tt.errors {
				res.Coverage.Errors = append(res.Coverage.Errors, inventory.CollectionError{AccountID: acctA, Region: "us-east-1",
					Service: "ecs", Operation: fmt.Sprintf("Op%03d", i), Code: "AccessDenied", Message: fmt.Sprintf("error %d", i)})
			}
			path, f := openXLSX(t, res)
			var names []string
			for k := range tt.sheets {
				names = append(names, sheetCoverage)
				if k > 0 {
					names[k] = fmt.Sprintf("%s (%d)", sheetCoverage, k+1)
				}
			}
			list := f.GetSheetList()
			at := slices.Index(list, sheetCoverage)
			if at < 0 || !slices.Equal(list[at:at+len(names)], names) || list[at+len(names)] != sheetRules {
				t.Fatalf("sheets = %q, want %q between %s and %s", list, names, sheetRoles, sheetRules)
			}
			seen := 0
			for k, sheet := range names {
				rows := getRows(t, f, sheet)
				if len(rows) != tt.sheets[k]+1 || rows[0][0] != "Account ID" {
					t.Fatalf("%s: %d rows, header %q; want %d rows", sheet, len(rows), rows[0], tt.sheets[k]+1)
				}
				for _, row := range rows[1:] {
					if want := fmt.Sprintf("error %d", seen); row[7] != want {
						t.Errorf("%s: row %q, want the message %q", sheet, row, want)
					}
					seen++
				}
				checkTableSheet(t, path, f, sheet, 8, tt.sheets[k])
			}
			if seen != tt.errors {
				t.Errorf("%d rows in %q, want %d", seen, names, tt.errors)
			}
			// The Summary's note names the sheets when there are more than one.
			var note, want [][]string
			for _, row := range getRows(t, f, sheetSummary) {
				if len(row) == 2 && row[0] == sheetCoverage && strings.Contains(row[1], " sheets: ") {
					note = append(note, row)
				}
			}
			if len(names) > 1 {
				want = splitNote(limit, []splitTable{{rows: tt.errors, sheets: names}})[3:]
			}
			if !reflect.DeepEqual(note, want) {
				t.Errorf("the Summary's note on %s is %q, want %q", sheetCoverage, note, want)
			}
		})
	}
}

// TestXLSXSheetNames: continuation sheets are named "<table> (k)", cut to
// Excel's 31 characters (UTF-16 code units) before the number; no name
// of a sheet of one table is the name of another table's sheet, whatever
// the number of sheets; and a name that exists, in any case, is an error,
// not the sheet that exists.
func TestXLSXSheetNames(t *testing.T) {
	for _, tt := range []struct {
		name string
		k    int
		want string
	}{
		{sheetItems, 2, "Affected items (2)"},
		{sheetTaskDefs, 12, "Task definitions (12)"},
		{strings.Repeat("x", 31), 2, strings.Repeat("x", 27) + " (2)"},
		{strings.Repeat("x", 26) + " yyyy", 100, strings.Repeat("x", 25) + " (100)"},
		{strings.Repeat("x", 25) + "🚀🚀", 2, strings.Repeat("x", 25) + "🚀 (2)"},
	} {
		got := continuationName(tt.name, tt.k)
		if got != tt.want || utf16Len(got) > excelize.MaxSheetNameLength {
			t.Errorf("continuationName(%q, %d) = %q, want %q", tt.name, tt.k, got, tt.want)
		}
		f := excelize.NewFile()
		if _, err := f.NewSheet(got); err != nil {
			t.Errorf("excelize refuses the sheet name %q: %v", got, err)
		}
		f.Close()
	}
	tables := []string{sheetSummary, sheetFindings, sheetItems, sheetAccepted, sheetSuppressions, sheetChanges,
		sheetTaskDefs, sheetRoles, sheetCoverage, sheetRules}
	seen := map[string]string{}
	for _, table := range tables {
		seen[strings.ToLower(table)] = table
	}
	for _, table := range tables {
		for _, k := range []int{2, 3, 9, 10, 99, 100, 1000, 1 << 20} {
			name := strings.ToLower(continuationName(table, k))
			if other, ok := seen[name]; ok {
				t.Errorf("sheet %d of %s and %s are both named %q", k, table, other, name)
			}
			seen[name] = table
		}
	}

	withMaxSheetRows(t, 1)
	if _, err := tableSheetNames(sheetItems, 1); err == nil {
		t.Error("a sheet of one row made room for rows")
	}
	f := excelize.NewFile()
	defer f.Close()
	wb := &workbook{f: f}
	if err := wb.newSheet(sheetItems); err != nil {
		t.Fatal(err)
	}
	if err := wb.newSheet(strings.ToUpper(sheetItems)); err == nil {
		t.Errorf("a second sheet named %q was made", sheetItems)
	}
}

// TestXLSXSplitAtExcelLimit writes a table one row longer than an Excel
// sheet holds (1,048,576 rows, the header's included): the first sheet
// ends at row 1,048,576, the second holds the header and the last row.
// Before tables were split, this was the error "row number exceeds maximum
// limit" and no workbook.
func TestXLSXSplitAtExcelLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a table of 1,048,576 rows")
	}
	withCatalog(t)
	if maxSheetRows != excelize.TotalRows {
		t.Fatalf("maxSheetRows = %d, want Excel's %d", maxSheetRows, excelize.TotalRows)
	}
	res := sampleResult()
	n := excelize.TotalRows // rows after the header: one more than fit
	res.Coverage.Errors = make([]inventory.CollectionError, n)
	for i := range res.Coverage.Errors {
		res.Coverage.Errors[i] = inventory.CollectionError{AccountID: acctA, Service: "ecs", Operation: "DescribeServices",
			Resource: fmt.Sprintf("r%07d", i), Code: "AccessDenied"}
	}
	var b bytes.Buffer
	if err := WriteXLSX(&b, res); err != nil {
		t.Fatal(err)
	}
	res.Coverage.Errors = nil
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	// The sheets' parts, by name, from the workbook and its relationships.
	parts := map[string]string{}
	for _, zf := range zr.File {
		if zf.Name == "xl/workbook.xml" || zf.Name == "xl/_rels/workbook.xml.rels" {
			parts[zf.Name] = readZipFile(t, zf)
		}
	}
	rels := map[string]string{}
	for _, m := range regexp.MustCompile(`Id="(rId\d+)" Target="(worksheets/sheet\d+\.xml)"`).FindAllStringSubmatch(parts["xl/_rels/workbook.xml.rels"], -1) {
		rels[m[1]] = "xl/" + m[2]
	}
	sheetParts := map[string]string{}
	var names []string
	for _, m := range regexp.MustCompile(`<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"`).FindAllStringSubmatch(parts["xl/workbook.xml"], -1) {
		names = append(names, m[1])
		sheetParts[m[1]] = rels[m[2]]
	}
	want := []string{sheetSummary, sheetFindings, sheetItems, sheetTaskDefs, sheetRoles, sheetCoverage, sheetCoverage + " (2)", sheetRules}
	if !slices.Equal(names, want) {
		t.Fatalf("sheets = %q, want %q", names, want)
	}
	for _, tt := range []struct {
		sheet      string
		rows, last int // rows (with the header) and the last row's Resource
	}{
		{sheetCoverage, excelize.TotalRows, n - 2},
		{sheetCoverage + " (2)", 2, n - 1},
	} {
		// The part is read a row at a time (it is 200 MB).
		var rows int
		var lastRow, end string
		for _, zf := range zr.File {
			if zf.Name != sheetParts[tt.sheet] {
				continue
			}
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(rc)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
				if i := bytes.Index(data, []byte("</row>")); i >= 0 {
					return i + len("</row>"), data[:i+len("</row>")], nil
				}
				if atEOF && len(data) > 0 {
					return len(data), data, nil
				}
				return 0, nil, nil
			})
			for sc.Scan() {
				tok := sc.Text()
				if i := strings.Index(tok, "<row "); i >= 0 {
					rows++
					lastRow = tok[i:]
				} else {
					end = tok
				}
			}
			rc.Close()
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
		}
		if rows != tt.rows || !strings.HasPrefix(lastRow, `<row r="`+itoa(tt.rows)+`"`) {
			t.Errorf("%s: %d rows, the last %.40s; want %d", tt.sheet, rows, lastRow, tt.rows)
		}
		if !strings.Contains(end, `<autoFilter ref="$A$1:$H$`+itoa(tt.rows)+`"`) {
			t.Errorf("%s: no autofilter A1:H%d", tt.sheet, tt.rows)
		}
		if want := fmt.Sprintf("r%07d", tt.last); !strings.Contains(lastRow, ">"+want+"<") {
			t.Errorf("%s: the last row is %.300s, want the resource %s", tt.sheet, lastRow, want)
		}
	}
}

func readZipFile(t *testing.T, zf *zip.File) string {
	t.Helper()
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
