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
	if err := WriteXLSX(&b, res, sampleInventory()); err != nil {
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

	wantSheets := []string{sheetSummary, sheetFindings, sheetTaskDefs, sheetRoles, sheetCoverage, sheetRules}
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

	tests := []struct {
		sheet string
		rows  int // without the header
		cols  int
	}{
		{sheetFindings, len(res.Findings), len(findingColumns)},
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
	for i, fd := range v.findings {
		row := rows[i+1]
		if row[0] != string(fd.Severity) || row[1] != fd.RuleID || row[len(row)-1] != neutralizeCell(fd.ID) {
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

// TestLibreOffice converts the workbook's Findings sheet to CSV with
// LibreOffice (Debian package libreoffice-calc-nogui) and checks the rows:
// the file opens in a second spreadsheet program, and neutralised cells
// stay text there.
func TestLibreOffice(t *testing.T) {
	soffice := ""
	for _, name := range []string{"soffice", "libreoffice"} {
		if p, err := exec.LookPath(name); err == nil {
			soffice = p
			break
		}
	}
	if soffice == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("LibreOffice not found; CI must install the Debian package libreoffice-calc-nogui")
		}
		t.Skip("LibreOffice not found (apt-get install libreoffice-calc-nogui)")
	}
	withCatalog(t)
	dir := t.TempDir()
	res := maliciousResult()
	path := writeXLSXFile(t, res, dir)
	out := filepath.Join(dir, "out")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Filter options: comma, double quote, UTF-8, first line 1, no column
	// formats, language, quoted as text, detect special numbers, save as
	// shown, export formulas, remove space, sheet 2 (Findings).
	cmd := exec.CommandContext(ctx, soffice, "--headless", "--norestore", "--nolockcheck",
		"-env:UserInstallation=file://"+filepath.Join(dir, "lo-profile"),
		"--convert-to", `csv:Text - txt - csv (StarCalc):44,34,76,1,,0,true,true,true,false,false,2`,
		"--outdir", out, path)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("libreoffice: %v\n%s", err, stderr.String())
	}
	matches, _ := filepath.Glob(filepath.Join(out, "*.csv"))
	if len(matches) != 1 {
		t.Fatalf("converted files %v\n%s", matches, stderr.String())
	}
	b, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if len(rows) != len(res.Findings)+1 || strings.Join(rows[0], "|") != strings.Join(findingColumns, "|") {
		t.Fatalf("LibreOffice CSV has %d rows, header %v", len(rows), rows[0])
	}
	v := newView(res)
	for i, fd := range v.findings {
		row := rows[i+1]
		if row[0] != string(fd.Severity) || row[1] != fd.RuleID || row[3] != fd.AccountID {
			t.Errorf("row %d = %v, want finding %s", i+2, row[:4], fd.ID)
		}
		// LibreOffice computed nothing: the message is the text we wrote.
		if want := neutralizeCell(fd.Message); row[11] != strings.ReplaceAll(want, "\r", "\n") && row[11] != want {
			t.Errorf("row %d message = %q, want %q", i+2, row[11], want)
		}
	}
	if regexp.MustCompile(`(?m)^#(NAME|VALUE|REF)`).Match(b) || bytes.Contains(b, []byte("Err:")) {
		t.Error("LibreOffice evaluated a cell")
	}
}
