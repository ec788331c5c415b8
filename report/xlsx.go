package report

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/policy"
)

// XLSX workbook (findings.xlsx), for compliance evidence and triage.
//
// Sheets: Summary, Findings (one row per root cause, with its impact,
// affected resources, fix, change against a baseline and risk acceptance),
// Affected items (one row per item of a finding's evidence, keyed by
// finding ID, so that a filter on a container, a field path, an action or
// a resource finds every root cause it is part of), then, when
// suppressions were applied, Accepted risks (the findings a suppression
// covers or covered, with the expiry) and Suppressions (every suppression
// with its status and how many findings it matched; stale ones flagged),
// when a baseline was compared, Changes (new findings, and the baseline's
// fixed and unknown ones with the reason), and Task definitions, Roles,
// Coverage, Rules.
// Every sheet is streamed: excelize's StreamWriter writes the Summary sheet
// and each table's header row, and the rows of the tables are written by
// rowWriter (xlsxrows.go) straight into the compressed part when the
// package is written, so that no sheet is held in memory or on disk.
// Table sheets have a bold header row, a frozen header (the pane is split
// below row 1), an autofilter over the whole table and column widths.
// A table with more rows than a sheet holds (1,048,576 with the header)
// continues in further sheets, "Affected items (2)" and so on, right after
// it, each with the same header row, pane, column widths and an
// autofilter over its own rows; every row is written once, in order, and
// the Summary names the tables that were split and their sheets.
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
	sheetSummary      = "Summary"
	sheetFindings     = "Findings"
	sheetItems        = "Affected items"
	sheetAccepted     = "Accepted risks"
	sheetSuppressions = "Suppressions"
	sheetChanges      = "Changes"
	sheetTaskDefs     = "Task definitions"
	sheetRoles        = "Roles"
	sheetCoverage     = "Coverage"
	sheetRules        = "Rules"
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

// cell is a cell of a row: a string, a number, or no cell at all (the
// zero cell), with a style. Rows are written by rowWriter (xlsxrows.go)
// or, for the Summary sheet and the header rows, by excelize (value).
type cell struct {
	text  string
	num   int
	style int
	kind  cellKind
}

type cellKind uint8

const (
	cellNone cellKind = iota
	cellText
	cellNumber
)

// value is the cell as excelize's StreamWriter.SetRow takes it.
func (c cell) value() any {
	switch c.kind {
	case cellText:
		return excelize.Cell{Value: c.text, StyleID: c.style}
	case cellNumber:
		return excelize.Cell{Value: c.num, StyleID: c.style}
	}
	return nil
}

// str is a string cell, neutralised and fitted.
func str(s string) cell { return cell{text: sheetCell(s), kind: cellText} }

// strOrNil is str, or no cell at all for an empty string: the large
// sheets leave empty cells out rather than write empty strings.
func strOrNil(s string) cell {
	if s == "" {
		return cell{}
	}
	return str(s)
}

func styled(s string, style int) cell {
	return cell{text: sheetCell(s), style: style, kind: cellText}
}

// num is a number cell.
func num(n int) cell { return cell{num: n, kind: cellNumber} }

// workbook is what the functions writing the sheets share: the file, its
// styles, the ZIP writer that writes the rows of the tables, and the
// tables that continue in further sheets, for the Summary.
type workbook struct {
	f     *excelize.File
	st    *xlsxStyles
	parts *orderedZip
	split []splitTable
	// readsFindings says a table reads the findings already: the tables
	// after it read them from forks (see table.streamFindings).
	readsFindings bool
}

// splitTable is a table with more rows than a sheet holds: its rows (the
// header's left out) and the names of its sheets, in order.
type splitTable struct {
	rows   int
	sheets []string
}

// maxSheetRows is the number of rows a worksheet holds, its header row
// included: Excel's limit, 1,048,576 (excelize.TotalRows). A table with
// more rows continues in further sheets named after it ("Affected items
// (2)", ...), each with the header row, the frozen pane, an autofilter
// and the column widths; the rows are written once, in order. Tests set
// it small.
var maxSheetRows = excelize.TotalRows

// tableSheetNames names the sheets of a table of rows rows (the header's
// left out): the table's name, then continuationName for each sheet after
// the first. There is always one sheet, even an empty one.
func tableSheetNames(name string, rows int) ([]string, error) {
	per := maxSheetRows - 1
	if per < 1 {
		return nil, fmt.Errorf("xlsx: a sheet of %d rows holds no row after the header", maxSheetRows)
	}
	n := max(1, (rows+per-1)/per)
	names := make([]string, n)
	names[0] = name
	for k := 2; k <= n; k++ {
		names[k-1] = continuationName(name, k)
	}
	return names, nil
}

// continuationName is the name of the k-th sheet of a table: "Affected
// items (2)". A sheet's name holds at most 31 characters (UTF-16 code
// units, as Excel and excelize count them); a longer name is cut before
// the number.
func continuationName(name string, k int) string {
	suffix := " (" + itoa(k) + ")"
	room := excelize.MaxSheetNameLength - len(suffix)
	units := 0
	for i, r := range name {
		if units += utf16.RuneLen(r); units > room {
			name = strings.TrimRight(name[:i], " ")
			break
		}
	}
	return name + suffix
}

// newSheet adds a sheet, and fails rather than reuse a sheet of the same
// name (excelize's NewSheet returns the sheet that exists; Excel compares
// names without case).
func (wb *workbook) newSheet(name string) error {
	for _, s := range wb.f.GetSheetList() {
		if strings.EqualFold(s, name) {
			return fmt.Errorf("xlsx: a sheet named %q already exists", s)
		}
	}
	_, err := wb.f.NewSheet(name)
	return err
}

// table is a table with a header row, frozen and filtered, in one sheet
// or, when its rows do not fit in one, in several (see maxSheetRows).
type table struct {
	styles *xlsxStyles
	sheets []tableSheet
	sheet  int // the sheet rows are written to
	row    int // the last row written in that sheet (1 is the header)
	// written counts the rows written after the header rows, and want is
	// the number the sheets' autofilters were made for.
	written, want int
	// The rows after the header are written by rows when the workbook is
	// written (see stream and xlsxrows.go); next ends the sheet's part and
	// begins the next sheet's.
	parts *orderedZip
	rows  *rowWriter
	next  func() (io.Writer, error)
}

// tableSheet is one sheet of a table.
type tableSheet struct {
	name string
	sw   *excelize.StreamWriter
	part string
	rows int // after the header
}

// body writes the rows after the header, and checks there are as many as
// the table was made for.
func (t *table) body(rows func() error) error {
	if err := rows(); err != nil {
		return err
	}
	if t.written != t.want || t.sheet != len(t.sheets)-1 {
		return fmt.Errorf("xlsx: %s: %d rows written, %d expected", t.sheets[0].name, t.written, t.want)
	}
	return nil
}

func newTable(wb *workbook, name string, header []string, widths []float64, rows int) (*table, error) {
	f, st := wb.f, wb.st
	names, err := tableSheetNames(name, rows)
	if err != nil {
		return nil, err
	}
	headerRow := make([]any, len(header))
	for i, h := range header {
		headerRow[i] = styled(h, st.header).value()
	}
	t := &table{styles: st, parts: wb.parts, want: rows, row: 1}
	left := rows
	for _, sheet := range names {
		n := min(left, maxSheetRows-1)
		left -= n
		if err := wb.newSheet(sheet); err != nil {
			return nil, err
		}
		last, err := excelize.CoordinatesToCellName(len(header), n+1)
		if err != nil {
			return nil, err
		}
		// The autofilter and the dimension (the range the sheet uses) are
		// set on the worksheet before streaming; the stream writer writes
		// them out with the sheet.
		if err := f.AutoFilter(sheet, "A1:"+last, nil); err != nil {
			return nil, err
		}
		if err := f.SetSheetDimension(sheet, "A1:"+last); err != nil {
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
		if err := sw.SetRow("A1", headerRow, excelize.RowOpts{Height: 20}); err != nil {
			return nil, err
		}
		part, err := sheetPart(f, sheet)
		if err != nil {
			return nil, err
		}
		t.sheets = append(t.sheets, tableSheet{name: sheet, sw: sw, part: part, rows: n})
	}
	if len(names) > 1 {
		wb.split = append(wb.split, splitTable{rows: rows, sheets: names})
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

// add writes the next row; when the sheet is full, in the next sheet,
// after its header row.
func (t *table) add(cells []cell) error {
	if t.row > t.sheets[t.sheet].rows && t.sheet+1 < len(t.sheets) {
		if err := t.nextSheet(); err != nil {
			return err
		}
	}
	t.row++
	t.written++
	if t.rows != nil && !xlsxRowsByExcelize {
		if t.parts.stopped() {
			return errRowsStopped
		}
		return t.rows.row(t.row, cells)
	}
	values := make([]any, len(cells))
	for i, c := range cells {
		values[i] = c.value()
	}
	ref, _ := excelize.CoordinatesToCellName(1, t.row)
	return t.sheets[t.sheet].sw.SetRow(ref, values)
}

// nextSheet goes on to the next sheet of the table.
func (t *table) nextSheet() error {
	t.sheet++
	t.row = 1
	if t.next == nil {
		return nil
	}
	if err := t.rows.flush(); err != nil {
		return err
	}
	w, err := t.next()
	if err != nil {
		return err
	}
	t.rows = newRowWriter(w)
	return nil
}

// stream ends the sheets excelize writes (the header rows), and has body
// add the other rows when the workbook is written, into the sheets'
// parts, in order, in a goroutine of their own (see orderedZip).
func (t *table) stream(body func() error) error {
	return t.streamDone(body, nil)
}

// streamFindings is stream for a table whose rows are read from the
// findings: body is given the view to read them from, a fork of the
// writer's reader for every table but the first (see view.forked), so
// that the tables, written at once, read the one pass over the findings
// every format shares. However many sheets the table spans, its rows come
// from one reading.
func (t *table) streamFindings(wb *workbook, v *view, body func(v *view) error) error {
	if xlsxRowsByExcelize {
		// Every table reads the findings in turn, before the package is
		// written.
		return t.stream(func() error { return body(v) })
	}
	fv, done := v.forked(wb.readsFindings)
	wb.readsFindings = true
	return t.streamDone(func() error { return body(fv) }, done)
}

// streamDone is stream; done is called once the rows are written, or when
// they will not be.
func (t *table) streamDone(body func() error, done func()) error {
	if xlsxRowsByExcelize {
		// The reference the rows are compared with (TestXLSXRowsAsExcelize).
		if err := t.body(body); err != nil {
			return err
		}
		for _, s := range t.sheets {
			if err := s.sw.Flush(); err != nil {
				return err
			}
		}
		return nil
	}
	parts := make([]string, len(t.sheets))
	for i, s := range t.sheets {
		if err := s.sw.Flush(); err != nil {
			if done != nil {
				done()
			}
			return err
		}
		parts[i] = s.part
	}
	err := t.parts.addRows(parts, func(next func() (io.Writer, error)) error {
		w, err := next()
		if err != nil {
			return err
		}
		t.rows, t.next = newRowWriter(w), next
		defer func() { t.rows, t.next = nil, nil }()
		if err := t.body(body); err != nil {
			return err
		}
		return t.rows.flush()
	}, done)
	if err != nil && done != nil {
		done()
	}
	return err
}

// xlsxRowsByExcelize has excelize's StreamWriter write every row, as it
// did before xlsxrows.go; tests compare the two.
var xlsxRowsByExcelize = false

// sheetPart is the name of a sheet's part in the package: excelize names
// the part of a sheet after its sheetId.
func sheetPart(f *excelize.File, sheet string) (string, error) {
	for id, name := range f.GetSheetMap() {
		if name == sheet {
			return "xl/worksheets/sheet" + itoa(id) + ".xml", nil
		}
	}
	return "", fmt.Errorf("xlsx: no sheet %q", sheet)
}

func (v *view) writeXLSX(w io.Writer) (err error) {
	if _, shared := v.src.(*fanReader); !shared && !xlsxRowsByExcelize {
		// Written on its own (WriteXLSX, RenderSource), not by
		// WriteSource: the tables share one pass over the findings all
		// the same.
		r := newFanout(v.src).reader()
		defer r.close()
		fv := *v
		fv.src = r
		v = &fv
	}
	f := excelize.NewFile()
	// The parts of the package in one order every time, so that the same
	// Result gives the same bytes (excelize writes streamed sheets in map
	// order).
	parts := newOrderedZip(w)
	f.SetZipWriter(parts.zipWriter)
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	// The rows of the tables are written in goroutines (see orderedZip):
	// none is left running, nor holding a reader of the findings, when the
	// workbook could not be written.
	defer parts.end()
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
		Description:    Reveal(v.rootCauseLine() + "; " + v.coverageLine()),
		Category:       "Security audit",
		Version:        Reveal(v.res.Tool.Version),
	}); err != nil {
		return err
	}
	if err := f.SetSheetName("Sheet1", sheetSummary); err != nil {
		return err
	}
	wb := &workbook{f: f, st: st, parts: parts}
	steps := []func(*workbook) error{v.xlsxFindings, v.xlsxItems}
	if v.triage.hasSuppressions() {
		steps = append(steps, v.xlsxAccepted, v.xlsxSuppressions)
	}
	if v.triage.hasBaseline() {
		steps = append(steps, v.xlsxChanges)
	}
	// The Summary, the first sheet, is written last: it names the tables
	// that continue in further sheets.
	steps = append(steps, v.xlsxTaskDefs, v.xlsxRoles, v.xlsxCoverage, v.xlsxRules, v.xlsxSummary)
	for _, step := range steps {
		if err := step(wb); err != nil {
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
	return countOf(len(res.Scope.Accounts), "account", "accounts")
}

func (v *view) xlsxSummary(wb *workbook) error {
	f, st := wb.f, wb.st
	// The sheet's stream is opened once the rows are known (its dimension
	// is written first).
	t := &table{styles: st, sheets: []tableSheet{{name: sheetSummary}}}
	res := v.res
	kv := func(k string, val any) error {
		switch x := val.(type) {
		case string:
			return t.add([]cell{styled(k, st.bold), str(x)})
		case int:
			return t.add([]cell{styled(k, st.bold), num(x)})
		}
		return fmt.Errorf("xlsx: summary %s: a value of type %T", k, val)
	}
	blank := func() error { t.row++; return nil }
	heading := func(s string) error { return t.add([]cell{styled(s, st.title)}) }
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
		func() error { return kv("Task definitions", v.nTaskDefs) },
		func() error { return kv("Execution roles", v.nRoles) },
		func() error { return kv("Root causes (findings)", v.nFindings) },
		func() error { return kv("Items they cover", v.items) },
		func() error { return kv("Resources affected", countResources(v.affected)) },
	}
	if len(wb.split) > 0 {
		steps = append(steps, blank,
			func() error { return heading("Tables continued in further sheets") },
			func() error {
				return kv("Why", "A sheet holds at most "+itoa(maxSheetRows)+" rows, its header row included. "+
					"These tables continue, in order, in the sheets named after them, each with the same header row; no row is left out.")
			})
		for _, sp := range wb.split {
			steps = append(steps, func() error {
				return kv(sp.sheets[0], countOf(sp.rows, "row", "rows")+" in "+itoa(len(sp.sheets))+" sheets: \""+
					strings.Join(sp.sheets, "\", \"")+"\"")
			})
		}
	}
	steps = append(steps, blank,
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
	)
	for _, g := range v.gaps {
		steps = append(steps, func() error { return kv("Gap", g) })
	}
	if tr := &v.triage; tr.hasSuppressions() {
		steps = append(steps, blank,
			func() error { return heading("Accepted risks") },
			func() error { return kv("Findings accepted", tr.suppressed) },
			func() error { return kv("Accepted, expiring soon", tr.expiringSoon) },
			func() error { return kv("Acceptance expired (counted again)", tr.reopened) },
			func() error { return kv("Stale suppressions (match nothing)", len(tr.stale)) })
	}
	if tr := &v.triage; tr.hasBaseline() {
		steps = append(steps, blank, func() error { return heading("Since the baseline") })
		if b := tr.baseline; b != nil {
			steps = append(steps,
				func() error { return kv("Baseline", b.Source) },
				func() error { return kv("Baseline generated at", tm(b.GeneratedAt)) })
		}
		steps = append(steps,
			func() error { return kv("New", tr.new) },
			func() error { return kv("Unchanged", tr.unchanged) },
			func() error { return kv("Fixed", len(tr.fixed())) },
			func() error { return kv("Unknown (not collected)", len(tr.unknown())) })
	}
	steps = append(steps, blank,
		func() error { return heading("Root causes by severity") },
		func() error {
			return t.add([]cell{styled("Severity", st.header), styled("", st.header), styled("Root causes", st.header)})
		})
	for _, c := range v.bySeverity {
		steps = append(steps, func() error {
			style := st.sev[c.Key]
			return t.add([]cell{styled(c.Label, style), {}, num(c.Count)})
		})
	}
	steps = append(steps, blank,
		func() error { return heading("Root causes by rule") },
		func() error {
			return t.add([]cell{styled("Rule", st.header), styled("Title", st.header), styled("Root causes", st.header)})
		})
	for _, c := range v.byRule {
		steps = append(steps, func() error { return t.add([]cell{str(c.Key), str(c.Label), num(c.Count)}) })
	}
	steps = append(steps, blank,
		func() error { return heading("Root causes by account") },
		func() error {
			return t.add([]cell{styled("Account ID", st.header), styled("Account name", st.header), styled("Root causes", st.header)})
		})
	for _, c := range v.byAccount {
		steps = append(steps, func() error { return t.add([]cell{str(c.Key), str(c.Label), num(c.Count)}) })
	}
	// Every step writes one row, or leaves one blank; the widest rows
	// have three cells.
	if err := f.SetSheetDimension(sheetSummary, "A1:C"+itoa(len(steps))); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheetSummary)
	if err != nil {
		return err
	}
	if err := setColWidths(sw, []float64{34, 48, 14}); err != nil {
		return err
	}
	t.sheets[0].sw = sw
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	if t.row != len(steps) {
		return fmt.Errorf("xlsx: the Summary has %d rows, %d expected", t.row, len(steps))
	}
	return sw.Flush()
}

func (v *view) xlsxFindings(wb *workbook) error {
	st := wb.st
	widths := []float64{10, 9, 36, 14, 22, 14, 17, 60, 50, 16, 50, 80, 40, 7, 40, 16, 60, 80, 10, 16, 13, 26, 50, 34}
	t, err := newTable(wb, sheetFindings, findingColumns, widths, v.nFindings)
	if err != nil {
		return err
	}
	return t.streamFindings(wb, v, func(v *view) error {
		cells := make([]cell, len(findingColumns))
		return v.eachFinding(func(fd *findings.Finding) error {
			for i, c := range v.findingRow(fd) {
				cells[i] = strOrNil(c)
			}
			if id, ok := st.sev[string(fd.Severity)]; ok {
				cells[0] = styled(string(fd.Severity), id)
			}
			cells[colItems] = num(max(fd.Impact.Items, 1))
			if a := affectedNames(fd); a != "" {
				cells[colAffected] = styled(a, st.wrap)
			}
			return t.add(cells)
		})
	})
}

// itemColumns are the columns of the Affected items sheet.
var itemColumns = []string{"Finding ID", "Rule", "Finding severity", "Account ID", "Region", "Resource ARN",
	"Item kind", "Item severity", "Item", "Container", "Field path", "Decision", "Deciding layer", "Statement", "Detail"}

// itemRow is one row of the Affected items sheet, from Item kind on.
type itemRow struct {
	kind, severity, item, container, fieldPath, decision, layer, statement, detail string
}

// findingItems lists the items of a finding's evidence (its needs, the
// unknowns they hang on, constraints, features, values, policy problems,
// excess grants) as rows of the Affected items sheet. The affected
// resources are a column of the Findings sheet.
func findingItems(fd *findings.Finding) []itemRow {
	var out []itemRow
	ev := &fd.Evidence
	needRow := func(n *findings.Need, sev findings.Severity, d *policy.Result) itemRow {
		r := itemRow{kind: findings.ItemNeed, severity: string(sev), item: n.Action + " on " + n.Resource, container: n.Container,
			fieldPath: n.FieldPath, detail: n.Note}
		if d != nil {
			r.decision, r.layer = string(d.Decision), string(d.DecidingLayer)
			if len(d.Statements) > 0 {
				r.statement = stmtLabel(d.Statements[0])
			}
			r.detail = strings.TrimPrefix(strings.Join(nonEmpty(n.Note, d.Reason), "; "), "; ")
		}
		if n.Invalid {
			r.decision = "invalid reference"
		}
		return r
	}
	switch {
	case len(ev.Needs) > 0:
		for i := range ev.Needs {
			ne := &ev.Needs[i]
			out = append(out, needRow(&ne.Need, ne.Severity, ne.Decision))
		}
	case ev.Need != nil: // a finding read from version 1
		out = append(out, needRow(ev.Need, fd.Severity, ev.Decision))
	}
	for _, u := range ev.Unknowns {
		out = append(out, itemRow{kind: "unknown", item: u.Subject, decision: string(u.Kind), detail: joinSentences(u.Description, "To settle it: "+u.Settle)})
	}
	for _, c := range ev.Constraints {
		item := c.RuleID + ": "
		switch {
		case c.Attribute != "" && c.Value != "":
			item += "attribute " + c.Attribute + " = " + c.Value
		case c.Attribute != "":
			item += "attribute " + c.Attribute
		default:
			item += c.Feature + " (agent " + c.Minimum + " or later)"
		}
		out = append(out, itemRow{kind: findings.ItemConstraint, severity: string(c.Severity), item: item, fieldPath: c.FieldPath,
			detail: joinSentences(c.Source, "Task definitions: "+strings.Join(c.TaskDefinitions, ", "))})
	}
	for _, g := range ev.Features {
		detail := "not supported on Fargate (" + g.OS + ")"
		if !g.Unsupported {
			detail = "platform version " + g.PlatformVersion + "; needs " + g.Minimum + " or later (" + g.OS + ")"
		}
		out = append(out, itemRow{kind: findings.ItemFeature, severity: string(g.Severity), item: g.Feature, fieldPath: g.FieldPath,
			detail: joinSentences(detail, g.Source)})
	}
	for _, x := range ev.Values {
		detail := x.Why
		if x.ValueClass != "" {
			detail = joinSentences(detail, "The value looks like: "+x.ValueClass)
		}
		out = append(out, itemRow{kind: findings.ItemValue, severity: string(x.Severity), item: string(x.Kind) + " " + x.Name,
			container: x.Container, fieldPath: x.FieldPath, detail: detail})
	}
	for _, p := range ev.Problems {
		out = append(out, itemRow{kind: findings.ItemProblem, severity: string(p.Severity), item: p.Kind, detail: p.Detail})
	}
	for _, x := range ev.Excess {
		out = append(out, itemRow{kind: findings.ItemGrant, severity: string(x.Severity), item: x.Action + " on " + x.Resource,
			statement: x.Policy + " " + x.Statement, decision: string(x.Kind), detail: x.Reason})
	}
	return out
}

// itemCount is len(findingItems(fd)), counted without building the rows.
func itemCount(fd *findings.Finding) int {
	ev := &fd.Evidence
	n := len(ev.Needs)
	if n == 0 && ev.Need != nil {
		n = 1
	}
	return n + len(ev.Unknowns) + len(ev.Constraints) + len(ev.Features) + len(ev.Values) + len(ev.Problems) + len(ev.Excess)
}

// stmtLabel names a statement: "deny-secrets (p-123) DenySecrets", or
// with "#index" when it has no Sid.
func stmtLabel(s policy.StatementRef) string {
	id := s.Sid
	if id == "" {
		id = "#" + itoa(s.Index)
	}
	return strings.TrimSpace(string(s.Layer) + " " + s.Policy + " " + id)
}

func nonEmpty(list ...string) []string {
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// joinSentences joins the non-empty parts as sentences.
func joinSentences(parts ...string) string {
	var out []string
	for _, p := range nonEmpty(parts...) {
		out = append(out, endSentence(p))
	}
	return strings.Join(out, " ")
}

func (v *view) xlsxItems(wb *workbook) error {
	st := wb.st
	rows := v.itemRows
	widths := []float64{34, 9, 10, 14, 14, 60, 16, 10, 70, 16, 50, 14, 16, 40, 80}
	t, err := newTable(wb, sheetItems, itemColumns, widths, rows)
	if err != nil {
		return err
	}
	return t.streamFindings(wb, v, func(v *view) error {
		cells := make([]cell, len(itemColumns))
		return v.eachFinding(func(fd *findings.Finding) error {
			for _, it := range findingItems(fd) {
				for i, c := range []string{fd.ID, fd.RuleID, string(fd.Severity), fd.AccountID, fd.Region, fd.ResourceARN,
					it.kind, it.severity, it.item, it.container, it.fieldPath, it.decision, it.layer, it.statement, it.detail} {
					cells[i] = strOrNil(c)
				}
				if id, ok := st.sev[string(fd.Severity)]; ok {
					cells[2] = styled(string(fd.Severity), id)
				}
				if id, ok := st.sev[it.severity]; ok {
					cells[7] = styled(it.severity, id)
				}
				if err := t.add(cells); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// acceptedColumns are the columns of the Accepted risks sheet.
var acceptedColumns = []string{"Finding ID", "Severity", "Rule", "Account ID", "Account name", "Region", "Resource ARN", "Title",
	"Status", "Accepted until", "Owner", "Justification", "Suppression"}

func (v *view) xlsxAccepted(wb *workbook) error {
	st := wb.st
	widths := []float64{34, 10, 9, 14, 22, 14, 60, 50, 22, 14, 30, 80, 24}
	t, err := newTable(wb, sheetAccepted, acceptedColumns, widths, v.accepted)
	if err != nil {
		return err
	}
	return t.streamFindings(wb, v, func(v *view) error {
		if v.accepted == 0 {
			return nil
		}
		return v.eachFinding(func(fd *findings.Finding) error {
			if fd.Suppression == nil && fd.SuppressionExpired == nil {
				return nil
			}
			state, s := acceptance(fd)
			sev := str(string(fd.Severity))
			if id, ok := st.sev[string(fd.Severity)]; ok {
				sev = styled(string(fd.Severity), id)
			}
			if err := t.add([]cell{str(fd.ID), sev, str(fd.RuleID), str(fd.AccountID), str(v.accountName(fd)), str(fd.Region),
				str(fd.ResourceARN), str(fd.Title), str(state), str(s.Expires), str(s.Owner), styled(s.Justification, st.wrap), str(s.Source)}); err != nil {
				return err
			}
			return nil
		})
	})
}

// suppressionColumns are the columns of the Suppressions sheet.
var suppressionColumns = []string{"Suppression", "Rule", "Status", "Expires", "Expires soon", "Owner", "Justification", "Matched", "Stale"}

func (v *view) xlsxSuppressions(wb *workbook) error {
	st := wb.st
	var entries []findings.SuppressionEntry
	if r := v.triage.suppressions; r != nil {
		entries = r.Entries
	}
	widths := []float64{24, 9, 10, 12, 12, 30, 80, 9, 8}
	t, err := newTable(wb, sheetSuppressions, suppressionColumns, widths, len(entries))
	if err != nil {
		return err
	}
	return t.stream(func() error {
		yes := func(b bool) cell {
			if b {
				return str("yes")
			}
			return str("")
		}
		for _, e := range entries {
			if err := t.add([]cell{str(e.Source), str(e.Rule), str(e.Status), str(e.Expires), yes(e.ExpiresSoon), str(e.Owner),
				styled(e.Justification, st.wrap), num(e.Matched), yes(e.Stale)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// changeColumns are the columns of the Changes sheet.
var changeColumns = []string{"Change", "Finding ID", "Severity", "Rule", "Account ID", "Account name", "Region", "Resource type",
	"Resource ARN", "Title", "Message", "Reason"}

func (v *view) xlsxChanges(wb *workbook) error {
	st := wb.st
	type row struct {
		change string
		p      findings.PastFinding
	}
	// The new findings (read from the findings when the rows are
	// written), then the fixed and unknown ones of the baseline.
	var rows []row
	for _, p := range v.triage.fixed() {
		rows = append(rows, row{"fixed", p})
	}
	for _, p := range v.triage.unknown() {
		rows = append(rows, row{"unknown", p})
	}
	widths := []float64{10, 34, 10, 9, 14, 22, 14, 17, 60, 40, 80, 70}
	t, err := newTable(wb, sheetChanges, changeColumns, widths, v.triage.new+len(rows))
	if err != nil {
		return err
	}
	return t.streamFindings(wb, v, func(v *view) error {
		add := func(r row) error {
			p := r.p
			name := p.AccountName
			if name == "" {
				name = v.accountNames[p.AccountID]
			}
			sev := str(string(p.Severity))
			if id, ok := st.sev[string(p.Severity)]; ok {
				sev = styled(string(p.Severity), id)
			}
			return t.add([]cell{str(r.change), str(p.ID), sev, str(p.RuleID), str(p.AccountID), str(name), str(p.Region),
				str(p.ResourceType), str(p.ResourceARN), str(p.Title), styled(p.Message, st.wrap), str(p.Reason)})
		}
		if v.triage.new > 0 {
			err := v.eachFinding(func(fd *findings.Finding) error {
				if fd.Change != findings.ChangeNew {
					return nil
				}
				return add(row{findings.ChangeNew, findings.PastFinding{ID: fd.ID, RuleID: fd.RuleID, Severity: fd.Severity,
					Title: fd.Title, Message: fd.Message, AccountID: fd.AccountID, AccountName: v.accountName(fd), Region: fd.Region,
					ResourceType: fd.ResourceType, ResourceARN: fd.ResourceARN}})
			})
			if err != nil {
				return err
			}
		}
		for _, r := range rows {
			if err := add(r); err != nil {
				return err
			}
		}
		return nil
	})
}

func (v *view) xlsxTaskDefs(wb *workbook) error {
	header := []string{"Family", "Revision", "Account ID", "Account name", "Region", "Launch types", "Execution role",
		"Needs", "Needs summary", "Services", "Findings", "Task definition ARN"}
	widths := []float64{30, 9, 14, 22, 14, 16, 55, 8, 50, 9, 9, 70}
	t, err := newTable(wb, sheetTaskDefs, header, widths, v.nTaskDefs)
	if err != nil {
		return err
	}
	return t.stream(func() error {
		return v.eachTaskDef(func(td *findings.TaskDefReport) error {
			return t.add([]cell{str(td.Family), num(int(td.Revision)), str(td.AccountID), str(v.accountNames[td.AccountID]),
				str(td.Region), str(strings.Join(td.LaunchTypes, ", ")), str(td.ExecutionRoleARN), num(len(td.Needs)), str(needsSummary(td.Needs)),
				num(len(td.UsedByServices)), num(td.Findings), str(td.ARN)})
		})
	})
}

func (v *view) xlsxRoles(wb *workbook) error {
	st := wb.st
	header := []string{"Role ARN", "Account ID", "Account name", "Exists", "Used by", "Needs", "Least-privilege policy", "Findings"}
	widths := []float64{60, 14, 22, 8, 70, 8, 80, 9}
	t, err := newTable(wb, sheetRoles, header, widths, v.nRoles)
	if err != nil {
		return err
	}
	return t.stream(func() error {
		return v.eachRole(func(r *findings.RoleReport) error {
			exists := "no"
			if r.Exists {
				exists = "yes"
			}
			if err := t.add([]cell{str(r.RoleARN), str(r.AccountID), str(v.accountNames[r.AccountID]), str(exists),
				styled(strings.Join(r.UsedBy, "\n"), st.wrap), num(len(r.Needs)), styled(prettyPolicy(r.LeastPrivilegePolicy), st.mono), num(r.Findings)}); err != nil {
				return err
			}
			return nil
		})
	})
}

func (v *view) xlsxCoverage(wb *workbook) error {
	header := []string{"Account ID", "Account name", "Region", "Service", "Operation", "Resource", "Code", "Message"}
	widths := []float64{14, 22, 14, 16, 30, 50, 24, 90}
	t, err := newTable(wb, sheetCoverage, header, widths, len(v.errors))
	if err != nil {
		return err
	}
	return t.stream(func() error {
		for _, e := range v.errors {
			region := e.Region
			if region == "" {
				region = "global"
			}
			if err := t.add([]cell{str(e.AccountID), str(v.accountNames[e.AccountID]), str(region), str(e.Service), str(e.Operation),
				str(e.Resource), str(e.Code), str(e.Message)}); err != nil {
				return err
			}
		}
		return nil
	})
}

func (v *view) xlsxRules(wb *workbook) error {
	st := wb.st
	header := []string{"Rule", "Title", "Severity", "Description", "Why", "Remediation", "References", "Tags", "Precision", "Findings"}
	widths := []float64{9, 40, 10, 60, 60, 60, 60, 30, 10, 9}
	t, err := newTable(wb, sheetRules, header, widths, len(v.rules))
	if err != nil {
		return err
	}
	return t.stream(func() error {
		fired := map[string]int{}
		for _, c := range v.byRule {
			fired[c.Key] = c.Count
		}
		for _, r := range v.rules {
			sev := str(string(r.Severity))
			if id, ok := st.sev[string(r.Severity)]; ok {
				sev = styled(string(r.Severity), id)
			}
			if err := t.add([]cell{str(r.ID), str(r.Title), sev, styled(r.Description, st.wrap), styled(r.Why, st.wrap),
				styled(r.Remediation, st.wrap), styled(strings.Join(r.Docs, "\n"), st.wrap), str(strings.Join(r.Tags, ", ")),
				str(r.Precision), num(fired[r.ID])}); err != nil {
				return err
			}
		}
		return nil
	})
}
