package report

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ecs-audit/audit/findings"
)

// XLSX workbook (findings.xlsx), for compliance evidence and triage.
//
// Sheets: Summary, Findings, Task definitions, Roles, Coverage, Rules.
// Every sheet is written with excelize's StreamWriter, which keeps rows in a
// temporary file instead of memory, so 100,000 findings fit comfortably.
// Table sheets have a bold header row, a frozen header (the pane is split
// below row 1), an autofilter over the whole table and column widths.
//
// Every text cell is written as a string cell (an inline string, t="inlineStr",
// never a formula or a number) and passed through sheetCell: Reveal shows
// hidden characters (bidi controls, invisible and control characters) as
// "<U+202E>", neutralizeCell puts an apostrophe before text whose first
// visible character is '=', '+', '-', '@' or a control character (see
// escape.go), and text longer than a cell holds (32,767 characters) is cut
// with a note. Excel and LibreOffice never evaluate a string cell when they
// open a workbook; the apostrophe is for what happens next: a person who
// edits the cell and presses Enter, or who saves the sheet as CSV, gets
// text, not a formula. Only counts are numeric cells.
//
// Document properties: title, subject, creator "audit", keywords, and the
// created/modified time = Result.GeneratedAt.

// Sheet names.
const (
	sheetSummary  = "Summary"
	sheetFindings = "Findings"
	sheetTaskDefs = "Task definitions"
	sheetRoles    = "Roles"
	sheetCoverage = "Coverage"
	sheetRules    = "Rules"
)

// WriteXLSX writes findings.xlsx to w.
func WriteXLSX(w io.Writer, res *findings.Result) error {
	return newView(res).writeXLSX(w)
}

type xlsxStyles struct {
	header, title, bold, wrap, mono int
	sev                             map[string]int
}

var sevFill = map[string][2]string{ // fill, font
	string(findings.Critical): {"#7A0019", "#FFFFFF"},
	string(findings.High):     {"#C62828", "#FFFFFF"},
	string(findings.Medium):   {"#F0A030", "#000000"},
	string(findings.Low):      {"#F2E27A", "#000000"},
	string(findings.Info):     {"#D5DCE4", "#000000"},
}

func newXLSXStyles(f *excelize.File) (*xlsxStyles, error) {
	s := &xlsxStyles{sev: map[string]int{}}
	var err error
	mk := func(st *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(st)
		return id
	}
	s.header = mk(&excelize.Style{
		Font:      &excelize.Font{Bold: true, Color: "#FFFFFF"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#14213D"}},
		Alignment: &excelize.Alignment{Vertical: "center"},
	})
	s.title = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	s.bold = mk(&excelize.Style{Font: &excelize.Font{Bold: true}})
	s.wrap = mk(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	s.mono = mk(&excelize.Style{Font: &excelize.Font{Family: "Consolas", Size: 9}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	for _, sev := range findings.Severities {
		c := sevFill[string(sev)]
		s.sev[string(sev)] = mk(&excelize.Style{
			Font: &excelize.Font{Bold: true, Color: c[1]},
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c[0]}},
		})
	}
	return s, err
}

// str is a string cell, neutralised and fitted.
func str(s string) excelize.Cell { return excelize.Cell{Value: sheetCell(s)} }

func styled(s string, style int) excelize.Cell {
	return excelize.Cell{Value: sheetCell(s), StyleID: style}
}

// table is one sheet with a header row, frozen and filtered.
type table struct {
	f      *excelize.File
	sw     *excelize.StreamWriter
	row    int
	styles *xlsxStyles
}

func newTable(f *excelize.File, st *xlsxStyles, sheet string, header []string, widths []float64, rows int) (*table, error) {
	if _, err := f.NewSheet(sheet); err != nil {
		return nil, err
	}
	last, err := excelize.CoordinatesToCellName(len(header), rows+1)
	if err != nil {
		return nil, err
	}
	// The autofilter is set on the worksheet before streaming; the stream
	// writer writes it out with the sheet.
	if err := f.AutoFilter(sheet, "A1:"+last, nil); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return nil, err
	}
	if err := setColWidths(sw, widths); err != nil {
		return nil, err
	}
	t := &table{f: f, sw: sw, styles: st}
	cells := make([]any, len(header))
	for i, h := range header {
		cells[i] = styled(h, st.header)
	}
	if err := t.add(cells, excelize.RowOpts{Height: 20}); err != nil {
		return nil, err
	}
	return t, nil
}

// setColWidths sets the width of each column. They are set from the last
// to the first because excelize keeps the last one set first, and <col>
// elements must be in ascending order.
func setColWidths(sw *excelize.StreamWriter, widths []float64) error {
	for i := len(widths) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, widths[i]); err != nil {
			return err
		}
	}
	return nil
}

func (t *table) add(cells []any, opts ...excelize.RowOpts) error {
	t.row++
	cell, _ := excelize.CoordinatesToCellName(1, t.row)
	return t.sw.SetRow(cell, cells, opts...)
}

func (v *view) writeXLSX(w io.Writer) (err error) {
	f := excelize.NewFile()
	// The parts of the package in one order every time, so that the same
	// Result gives the same bytes (excelize writes streamed sheets in map
	// order).
	f.SetZipWriter(newOrderedZip)
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	st, err := newXLSXStyles(f)
	if err != nil {
		return err
	}
	created := v.res.GeneratedAt.UTC().Format(time.RFC3339)
	if v.res.GeneratedAt.IsZero() {
		created = ""
	}
	if err := f.SetDocProps(&excelize.DocProperties{
		Title:          "audit findings — ECS task execution roles",
		Subject:        "ECS task execution role audit of " + Reveal(orgLabel(v.res)),
		Creator:        "audit",
		LastModifiedBy: "audit",
		Created:        created,
		Modified:       created,
		Keywords:       "audit; ECS; IAM; task execution role; least privilege; findings",
		Description:    fmt.Sprintf("%d findings; %s", len(v.findings), Reveal(v.coverageLine())),
		Category:       "Security audit",
		Version:        Reveal(v.res.Tool.Version),
	}); err != nil {
		return err
	}
	if err := f.SetSheetName("Sheet1", sheetSummary); err != nil {
		return err
	}
	steps := []func(*excelize.File, *xlsxStyles) error{
		v.xlsxSummary, v.xlsxFindings, v.xlsxTaskDefs, v.xlsxRoles, v.xlsxCoverage, v.xlsxRules,
	}
	for _, step := range steps {
		if err := step(f, st); err != nil {
			return err
		}
	}
	// Summary, the first sheet, is the active one. (SetActiveSheet would
	// parse every streamed sheet back into memory.)
	return f.Write(w)
}

func orgLabel(res *findings.Result) string {
	if res.Scope.OrganizationID != "" {
		return "organization " + res.Scope.OrganizationID
	}
	return fmt.Sprintf("%d account(s)", len(res.Scope.Accounts))
}

func (v *view) xlsxSummary(f *excelize.File, st *xlsxStyles) error {
	sw, err := f.NewStreamWriter(sheetSummary)
	if err != nil {
		return err
	}
	if err := setColWidths(sw, []float64{34, 48, 14}); err != nil {
		return err
	}
	t := &table{f: f, sw: sw, styles: st}
	res := v.res
	kv := func(k string, val any) error {
		if s, ok := val.(string); ok {
			return t.add([]any{styled(k, st.bold), str(s)})
		}
		return t.add([]any{styled(k, st.bold), val})
	}
	blank := func() error { t.row++; return nil }
	heading := func(s string) error { return t.add([]any{styled(s, st.title)}) }
	tm := func(x time.Time) string {
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format(time.RFC3339)
	}
	steps := []func() error{
		func() error { return heading("audit — ECS task execution role audit") },
		blank,
		func() error { return kv("Organization", res.Scope.OrganizationID) },
		func() error { return kv("Partition", res.Scope.Partition) },
		func() error { return kv("Source", res.Scope.Source) },
		func() error { return kv("Collected at", tm(res.Scope.CollectedAt)) },
		func() error { return kv("Generated at", tm(res.GeneratedAt)) },
		func() error { return kv("Tool", strings.TrimSpace(res.Tool.Name+" "+res.Tool.Version)) },
		func() error { return kv("Accounts", len(v.accounts)) },
		func() error { return kv("Regions", strings.Join(v.regions, ", ")) },
		func() error { return kv("Task definitions", len(v.taskDefs)) },
		func() error { return kv("Execution roles", len(v.roles)) },
		func() error { return kv("Findings", len(v.findings)) },
		blank,
		func() error { return heading("Coverage") },
		func() error { return kv("Coverage", v.coverageLine()) },
		func() error { return kv("Complete", fmt.Sprint(!v.incomplete())) },
		func() error { return kv("Accounts scanned", res.Coverage.AccountsScanned) },
		func() error { return kv("Accounts total", res.Coverage.AccountsTotal) },
		func() error { return kv("Account-regions scanned", res.Coverage.RegionsScanned) },
		func() error { return kv("Regions not enabled", res.Coverage.RegionsNotEnabled) },
		func() error { return kv("Regions failed", res.Coverage.RegionsFailed) },
		func() error { return kv("Collection errors", len(v.errors)) },
		func() error { return kv("Interrupted", res.Coverage.Interrupted) },
	}
	for _, g := range v.gaps {
		steps = append(steps, func() error { return kv("Gap", g) })
	}
	steps = append(steps, blank,
		func() error { return heading("Findings by severity") },
		func() error {
			return t.add([]any{styled("Severity", st.header), styled("", st.header), styled("Findings", st.header)})
		})
	for _, c := range v.bySeverity {
		steps = append(steps, func() error {
			style := st.sev[c.Key]
			return t.add([]any{styled(c.Label, style), nil, c.Count})
		})
	}
	steps = append(steps, blank,
		func() error { return heading("Findings by rule") },
		func() error {
			return t.add([]any{styled("Rule", st.header), styled("Title", st.header), styled("Findings", st.header)})
		})
	for _, c := range v.byRule {
		steps = append(steps, func() error { return t.add([]any{str(c.Key), str(c.Label), c.Count}) })
	}
	steps = append(steps, blank,
		func() error { return heading("Findings by account") },
		func() error {
			return t.add([]any{styled("Account ID", st.header), styled("Account name", st.header), styled("Findings", st.header)})
		})
	for _, c := range v.byAccount {
		steps = append(steps, func() error { return t.add([]any{str(c.Key), str(c.Label), c.Count}) })
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return sw.Flush()
}

func (v *view) xlsxFindings(f *excelize.File, st *xlsxStyles) error {
	widths := []float64{10, 9, 36, 14, 22, 14, 17, 60, 50, 16, 50, 80, 60, 26}
	t, err := newTable(f, st, sheetFindings, findingColumns, widths, len(v.findings))
	if err != nil {
		return err
	}
	cells := make([]any, len(findingColumns))
	for _, fd := range v.findings {
		for i, c := range v.findingRow(fd) {
			cells[i] = str(c)
		}
		if id, ok := st.sev[string(fd.Severity)]; ok {
			cells[0] = styled(string(fd.Severity), id)
		}
		if err := t.add(cells); err != nil {
			return err
		}
	}
	return t.sw.Flush()
}

func (v *view) xlsxTaskDefs(f *excelize.File, st *xlsxStyles) error {
	header := []string{"Family", "Revision", "Account ID", "Account name", "Region", "Launch types", "Execution role",
		"Needs", "Needs summary", "Services", "Findings", "Task definition ARN"}
	widths := []float64{30, 9, 14, 22, 14, 16, 55, 8, 50, 9, 9, 70}
	t, err := newTable(f, st, sheetTaskDefs, header, widths, len(v.taskDefs))
	if err != nil {
		return err
	}
	for _, td := range v.taskDefs {
		if err := t.add([]any{str(td.Family), int(td.Revision), str(td.AccountID), str(v.accountNames[td.AccountID]),
			str(td.Region), str(strings.Join(td.LaunchTypes, ", ")), str(td.ExecutionRoleARN), len(td.Needs), str(needsSummary(td.Needs)),
			len(td.UsedByServices), td.Findings, str(td.ARN)}); err != nil {
			return err
		}
	}
	return t.sw.Flush()
}

func (v *view) xlsxRoles(f *excelize.File, st *xlsxStyles) error {
	header := []string{"Role ARN", "Account ID", "Account name", "Exists", "Used by", "Needs", "Least-privilege policy", "Findings"}
	widths := []float64{60, 14, 22, 8, 70, 8, 80, 9}
	t, err := newTable(f, st, sheetRoles, header, widths, len(v.roles))
	if err != nil {
		return err
	}
	for _, r := range v.roles {
		exists := "no"
		if r.Exists {
			exists = "yes"
		}
		if err := t.add([]any{str(r.RoleARN), str(r.AccountID), str(v.accountNames[r.AccountID]), str(exists),
			styled(strings.Join(r.UsedBy, "\n"), st.wrap), len(r.Needs), styled(prettyPolicy(r.LeastPrivilegePolicy), st.mono), r.Findings}); err != nil {
			return err
		}
	}
	return t.sw.Flush()
}

func (v *view) xlsxCoverage(f *excelize.File, st *xlsxStyles) error {
	header := []string{"Account ID", "Account name", "Region", "Service", "Operation", "Resource", "Code", "Message"}
	widths := []float64{14, 22, 14, 16, 30, 50, 24, 90}
	t, err := newTable(f, st, sheetCoverage, header, widths, len(v.errors))
	if err != nil {
		return err
	}
	for _, e := range v.errors {
		region := e.Region
		if region == "" {
			region = "global"
		}
		if err := t.add([]any{str(e.AccountID), str(v.accountNames[e.AccountID]), str(region), str(e.Service), str(e.Operation),
			str(e.Resource), str(e.Code), str(e.Message)}); err != nil {
			return err
		}
	}
	return t.sw.Flush()
}

func (v *view) xlsxRules(f *excelize.File, st *xlsxStyles) error {
	header := []string{"Rule", "Title", "Severity", "Description", "Why", "Remediation", "References", "Tags", "Precision", "Findings"}
	widths := []float64{9, 40, 10, 60, 60, 60, 60, 30, 10, 9}
	t, err := newTable(f, st, sheetRules, header, widths, len(v.rules))
	if err != nil {
		return err
	}
	fired := map[string]int{}
	for _, c := range v.byRule {
		fired[c.Key] = c.Count
	}
	for _, r := range v.rules {
		sev := str(string(r.Severity))
		if id, ok := st.sev[string(r.Severity)]; ok {
			sev = styled(string(r.Severity), id)
		}
		if err := t.add([]any{str(r.ID), str(r.Title), sev, styled(r.Description, st.wrap), styled(r.Why, st.wrap),
			styled(r.Remediation, st.wrap), styled(strings.Join(r.Docs, "\n"), st.wrap), str(strings.Join(r.Tags, ", ")),
			str(r.Precision), fired[r.ID]}); err != nil {
			return err
		}
	}
	return t.sw.Flush()
}
