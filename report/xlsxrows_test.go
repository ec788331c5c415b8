package report

import (
	"archive/zip"
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ecs-audit/audit/findings"
)

// TestXLSXRowsAsExcelize: the workbook whose table rows rowWriter writes is
// byte for byte the workbook whose rows excelize's StreamWriter writes,
// on every fixture (every sheet, triage, injection and spoof payloads, a
// cell cut to fit, many rows, tables split across sheets).
func TestXLSXRowsAsExcelize(t *testing.T) {
	withCatalog(t)
	long := sampleResult()
	long.Findings[0].Message = "=" + strings.Repeat("é_x0041_", 6000)
	fixtures := map[string]*findings.Result{
		"sample": sampleResult(), "triaged": triagedResult(), "malicious": maliciousResult(),
		"hostile": hostileResult(), "long": long, "big": bigResult(3000), "empty": {},
		"split": triagedResult(), "split big": bigResult(3000),
	}
	for name, res := range fixtures {
		t.Run(name, func(t *testing.T) {
			switch name {
			case "split":
				withMaxSheetRows(t, 3)
			case "split big":
				withMaxSheetRows(t, 1000)
			}
			var ours, theirs bytes.Buffer
			if err := WriteXLSX(&ours, res); err != nil {
				t.Fatal(err)
			}
			xlsxRowsByExcelize = true
			t.Cleanup(func() { xlsxRowsByExcelize = false })
			if err := WriteXLSX(&theirs, res); err != nil {
				t.Fatal(err)
			}
			xlsxRowsByExcelize = false
			if bytes.Equal(ours.Bytes(), theirs.Bytes()) {
				return
			}
			a, b := zipParts(t, ours.Bytes()), zipParts(t, theirs.Bytes())
			for part, want := range b {
				if got := a[part]; got != want {
					t.Errorf("%s differs from excelize's:\n%s", part, firstDiff(got, want))
				}
			}
			if len(a) != len(b) {
				t.Errorf("%d parts, excelize's workbook has %d", len(a), len(b))
			}
		})
	}
}

// zipParts returns the uncompressed parts of a ZIP file by name.
func zipParts(t testing.TB, b []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[zf.Name] = string(data)
	}
	return out
}

// excelizeRow is the XML excelize's StreamWriter writes for row 2 with
// cells, and rowXML rowWriter's.
func excelizeRow(t testing.TB, cells []cell) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	values := make([]any, len(cells))
	for i, c := range cells {
		values[i] = c.value()
	}
	if err := sw.SetRow("A2", values); err != nil {
		t.Fatal(err)
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	sheet := zipParts(t, b.Bytes())["xl/worksheets/sheet1.xml"]
	start, end := strings.Index(sheet, "<sheetData>"), strings.LastIndex(sheet, "</sheetData>")
	if start < 0 || end < start {
		t.Fatalf("no sheetData in %s", sheet)
	}
	return sheet[start+len("<sheetData>") : end]
}

func rowXML(t testing.TB, cells []cell) string {
	t.Helper()
	var b bytes.Buffer
	rw := newRowWriter(&b)
	if err := rw.row(2, cells); err != nil {
		t.Fatal(err)
	}
	if err := rw.flush(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// text is a string cell of s as it is (str neutralises and fits it).
func text(s string, style int) cell { return cell{text: s, style: style, kind: cellText} }

func TestRowWriter(t *testing.T) {
	texts := append([]string{"", " ", "plain", " lead", "trail\t", "\nboth\r", "a\"b'c&d<e>f", "tab\there", "line\nbreak",
		"cr\rhere", "nul\x00bel\x07del\x7f", "bad\xffutf8\xed\xa0\x80", "\uFFFE\uFFFF\uFFFD", "Société 東京 🚀 \u202e",
		"_x0041_", "_x005F_", "_x005F_x0041_", "_x005F_xD800_", "_xD800_", "a_x00e9_b_X0041__x12G4_", "&#xA;",
		strings.Repeat("🚀", 20000), strings.Repeat("x", 40000)}, spoofPayloads...)
	texts = append(texts, payloads...)
	for _, s := range texts {
		for _, style := range []int{0, 7} {
			cells := []cell{{}, text(s, style), num(42), {num: -7, style: 3, kind: cellNumber}, text("", 2), {}}
			if got, want := rowXML(t, cells), excelizeRow(t, cells); got != want {
				t.Errorf("row with %q:\n got %.300q\nwant %.300q", s, got, want)
			}
		}
	}
	// Columns beyond the cached names.
	wide := make([]cell, 80)
	for i := range wide {
		wide[i] = num(i)
	}
	if got, want := rowXML(t, wide), excelizeRow(t, wide); got != want {
		t.Errorf("wide row:\n got %q\nwant %q", got, want)
	}
	// A cell rowWriter does not know is an error, not a different cell.
	var b bytes.Buffer
	if err := newRowWriter(&b).row(2, []cell{{kind: 9}}); err == nil {
		t.Error("rowWriter wrote a cell of an unknown kind")
	}
}

// FuzzRowWriter compares rowWriter's text cells with excelize's on any
// string (go test ./report -run '^$' -fuzz '^FuzzRowWriter$').
func FuzzRowWriter(f *testing.F) {
	for _, s := range []string{"", " x ", "_x0041_", "_x005F_x0041_", "a\x00\xff\n\r\t<&>\"'", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cells := []cell{text(s, 1)}
		if got, want := rowXML(t, cells), excelizeRow(t, cells); got != want {
			t.Fatalf("row with %q:\n got %q\nwant %q", s, got, want)
		}
	})
}

// TestItemCount: itemCount counts the rows findingItems gives.
func TestItemCount(t *testing.T) {
	for name, res := range map[string]*findings.Result{"sample": sampleResult(), "triaged": triagedResult(),
		"hostile": hostileResult(), "big": bigResult(500)} {
		for i := range res.Findings {
			fd := &res.Findings[i]
			if got, want := itemCount(fd), len(findingItems(fd)); got != want {
				t.Errorf("%s: finding %s: itemCount = %d, findingItems has %d", name, fd.ID, got, want)
			}
		}
	}
	v1 := findings.Finding{Evidence: findings.Evidence{Need: &findings.Need{Action: "s3:GetObject"}}}
	if got := itemCount(&v1); got != 1 || len(findingItems(&v1)) != 1 {
		t.Errorf("a version 1 finding: itemCount = %d", got)
	}
}

// TestOrderedZipRun: the rows of a run of parts (a table's sheets) are
// written once excelize has written every part of the run, into each
// part in the run's order whatever the order excelize wrote them in, and
// the parts written in between are left as they are. A function that
// begins fewer or more parts than the run has, or a part excelize never
// writes, is an error, not a workbook with rows missing.
func TestOrderedZipRun(t *testing.T) {
	run := []string{"s2.xml", "s1.xml", "s3.xml"}
	tests := []struct {
		name    string
		created []string // the parts, in the order excelize writes them
		parts   int      // the parts the rows function begins
		want    map[string]string
		err     string
	}{
		{name: "in order", created: []string{"s2.xml", "s1.xml", "s3.xml"}, parts: 3,
			want: map[string]string{"s2.xml": "<sheetData><row>1</row></sheetData>s2.xml", "s1.xml": "<sheetData><row>2</row></sheetData>s1.xml", "s3.xml": "<sheetData><row>3</row></sheetData>s3.xml"}},
		{name: "any order, others between", created: []string{"s3.xml", "other.xml", "s1.xml", "s2.xml", "last.xml"}, parts: 3,
			want: map[string]string{"s2.xml": "<sheetData><row>1</row></sheetData>s2.xml", "s1.xml": "<sheetData><row>2</row></sheetData>s1.xml", "s3.xml": "<sheetData><row>3</row></sheetData>s3.xml",
				"other.xml": "<sheetData></sheetData>other.xml", "last.xml": "<sheetData></sheetData>last.xml"}},
		{name: "a part without its rows", created: run, parts: 2, err: "the rows of s3.xml were not written"},
		{name: "rows after the last part", created: run, parts: 4, err: "rows after the last part of s2.xml, s1.xml, s3.xml"},
		{name: "a part not written", created: run[:2], parts: 3, err: "the rows of s3.xml were not written: excelize did not write the part"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			z := newOrderedZip(&out)
			err := z.addRows(run, func(next func() (io.Writer, error)) error {
				for i := range tt.parts {
					w, err := next()
					if err != nil {
						return err
					}
					if _, err := io.WriteString(w, "<row>"+itoa(i+1)+"</row>"); err != nil {
						return err
					}
				}
				return nil
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range tt.created {
				w, err := z.Create(name)
				if err == nil {
					_, err = io.WriteString(w, "<sheetData></sheetData>"+name)
				}
				if err != nil {
					break
				}
			}
			if err == nil {
				err = z.Close()
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := zipParts(t, out.Bytes()); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parts = %q, want %q", got, tt.want)
			}
		})
	}
	z := newOrderedZip(io.Discard)
	noop := func(func() (io.Writer, error)) error { return nil }
	if err := z.addRows([]string{"a.xml"}, noop, nil); err != nil {
		t.Fatal(err)
	}
	if err := z.addRows([]string{"b.xml", "a.xml"}, noop, nil); err == nil {
		t.Error("the rows of a part were given twice")
	}
}
