package report

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
		"triaged big": bigTriagedResult(3000), "split triaged big": bigTriagedResult(3000),
	}
	for name, res := range fixtures {
		t.Run(name, func(t *testing.T) {
			switch name {
			case "split":
				withMaxSheetRows(t, 3)
			case "split big":
				withMaxSheetRows(t, 1000)
			case "split triaged big":
				withMaxSheetRows(t, 700)
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

// bigTriagedResult is bigResult(n) as triage leaves it: a third of the
// findings accepted (some expiring soon), a seventh with an expired
// acceptance, half new, the others unchanged; every table of findings of
// the workbook (Findings, Affected items, Accepted risks, Changes) has
// many batches of fanout's rows.
func bigTriagedResult(n int) *findings.Result {
	res := bigResult(n)
	for i := range res.Findings {
		f := &res.Findings[i]
		s := &findings.Suppression{Justification: "accepted " + itoa(i), Owner: "team-" + itoa(i%7) + "@example.com",
			Expires: "2030-01-01", Source: "accepted.yaml:" + itoa(i%40+1), ExpiresSoon: i%6 == 0}
		switch {
		case i%3 == 0:
			f.Suppression = s
		case i%7 == 0:
			f.SuppressionExpired = s
		}
		f.Change = findings.ChangeUnchanged
		if i%2 == 0 {
			f.Change = findings.ChangeNew
		}
	}
	return res
}

// TestXLSXSourceBreaks: when the findings cannot be read while the
// workbook's tables are written (all at once, from one pass), the
// workbook, alone or with the other formats, ends with the Source's
// error, at whatever point of the pass it breaks, tables split or not: no
// table waits for another for ever, and no goroutine is left running.
// (The HTML report is left out: its writer panics on an error of the
// Source, buildHTMLData closing the document it set to nil.)
func TestXLSXSourceBreaks(t *testing.T) {
	withCatalog(t)
	res := bigTriagedResult(2000)
	for _, tt := range []struct {
		name      string
		failAfter int
		maxRows   int
		all       bool
	}{
		{"at once", 0, 0, false},
		{"in the middle", 1000, 0, false},
		{"in the middle, split", 1000, 300, false},
		{"near the end, split", 1990, 300, false},
		{"every format", 700, 0, true},
		{"every format, split", 1500, 300, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.maxRows > 0 {
				withMaxSheetRows(t, tt.maxRows)
			}
			before := runtime.NumGoroutine()
			// Pass 1 is the view's counts; pass 2 the one the tables read.
			src := &countingSource{Source: findings.ResultSource(res), failPass: 2, failAfter: tt.failAfter}
			errc := make(chan error, 1)
			go func() {
				if tt.all {
					formats := slices.DeleteFunc(slices.Clone(AllFormats), func(f string) bool { return f == FormatHTML })
					_, err := WriteSource(src, Options{Formats: formats, OutDir: t.TempDir(), Stderr: io.Discard})
					errc <- err
					return
				}
				errc <- RenderSource(io.Discard, src, FormatXLSX, Options{})
			}()
			select {
			case err := <-errc:
				if !errors.Is(err, errSourceBroke) {
					t.Fatalf("error %v, want the Source's", err)
				}
			case <-time.After(2 * time.Minute):
				t.Fatal("the workbook is still being written: a table waits for one that will not read")
			}
			for range 200 {
				if runtime.NumGoroutine() <= before {
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Errorf("%d goroutines left running", runtime.NumGoroutine()-before)
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

// TestOrderedZipRunsAtOnce: the runs of a workbook are written at once,
// each in its own goroutine: two tables reading the findings, one from the
// writer's reader and one from a fork of it, read one pass of the Source
// together, whichever part excelize writes first, and each part holds
// every finding in order; both readers are let go of.
func TestOrderedZipRunsAtOnce(t *testing.T) {
	res := bigResult(3000) // more batches than fanout's window
	var want strings.Builder
	if err := findings.ResultSource(res).EachFinding(func(f *findings.Finding) error {
		want.WriteString("<row>" + f.ID + "</row>")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, order := range [][]string{{"a.xml", "b.xml"}, {"b.xml", "a.xml"}} {
		src := &countingSource{Source: findings.ResultSource(res)}
		r := newFanout(src).reader()
		k := r.fork()
		var out bytes.Buffer
		z := newOrderedZip(&out)
		var left atomic.Int32
		for _, tt := range []struct {
			part string
			r    *fanReader
		}{{"a.xml", r}, {"b.xml", k}} {
			err := z.addRows([]string{tt.part}, func(next func() (io.Writer, error)) error {
				w, err := next()
				if err != nil {
					return err
				}
				return tt.r.EachFinding(func(f *findings.Finding) error {
					_, err := io.WriteString(w, "<row>"+f.ID+"</row>")
					return err
				})
			}, func() { left.Add(1); tt.r.leave() })
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range order {
			w, err := z.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, "<sheetData></sheetData>")
		}
		if err := z.Close(); err != nil {
			t.Fatal(err)
		}
		r.close()
		wantPart := "<sheetData>" + want.String() + "</sheetData>"
		for name, got := range zipParts(t, out.Bytes()) {
			if got != wantPart {
				t.Errorf("%v: %s holds %d bytes, want every finding in order (%d)", order, name, len(got), len(wantPart))
			}
		}
		if n := src.passes.Load(); n != 1 {
			t.Errorf("%v: the Source was read %d times, want once", order, n)
		}
		if n := left.Load(); n != 2 {
			t.Errorf("%v: %d readers let go of, want 2", order, n)
		}
	}
}

// TestOrderedZipStop: a run that fails stops the others, and its error,
// not theirs, is Close's; when the workbook is not written (excelize
// failed before writing a table's part), end lets go of the reader of the
// run that never started, stops the run that waits for it in the shared
// pass, and waits for it: nothing waits for ever, no goroutine is left.
func TestOrderedZipStop(t *testing.T) {
	before := runtime.NumGoroutine()
	errBad := errors.New("bad row")
	var out bytes.Buffer
	z := newOrderedZip(&out)
	var done atomic.Int32
	if err := z.addRows([]string{"a.xml"}, func(next func() (io.Writer, error)) error {
		for !z.stopped() {
			time.Sleep(time.Millisecond)
		}
		return errRowsStopped
	}, func() { done.Add(1) }); err != nil {
		t.Fatal(err)
	}
	if err := z.addRows([]string{"b.xml"}, func(next func() (io.Writer, error)) error {
		return errBad
	}, func() { done.Add(1) }); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.xml", "b.xml"} {
		if _, err := z.Create(name); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan error, 1)
	go func() { closed <- z.Close() }()
	select {
	case err := <-closed:
		if err != errBad {
			t.Errorf("Close: %v, want the failed run's error", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Close waits for a run that was not stopped")
	}
	if n := done.Load(); n != 2 {
		t.Errorf("done called %d times, want 2", n)
	}

	// Two tables of findings; excelize writes the first one's part and
	// fails.
	src := &countingSource{Source: findings.ResultSource(bigResult(3000))}
	r := newFanout(src).reader()
	k := r.fork()
	z = newOrderedZip(io.Discard)
	var read atomic.Int32
	errs := make(chan error, 1)
	for _, tt := range []struct {
		part string
		r    *fanReader
	}{{"a.xml", r}, {"b.xml", k}} {
		err := z.addRows([]string{tt.part}, func(next func() (io.Writer, error)) (err error) {
			defer func() { errs <- err }()
			if _, err := next(); err != nil {
				return err
			}
			return tt.r.EachFinding(func(*findings.Finding) error {
				if z.stopped() {
					return errRowsStopped
				}
				read.Add(1)
				return nil
			})
		}, func() { done.Add(1); tt.r.leave() })
		if err != nil {
			t.Fatal(err)
		}
	}
	done.Store(0)
	if w, err := z.Create("a.xml"); err != nil {
		t.Fatal(err)
	} else {
		io.WriteString(w, "<sheetData></sheetData>")
	}
	if _, err := z.Create("other.xml"); err != nil { // a.xml is done: its run starts
		t.Fatal(err)
	}
	// a.xml's run reads a few batches, then waits for b.xml's reader.
	time.Sleep(50 * time.Millisecond)
	if n := read.Load(); n >= 3000 {
		t.Fatalf("the first run read %d findings without the second reader", n)
	}
	ended := make(chan struct{})
	go func() { z.end(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(time.Minute):
		t.Fatal("end waits for a run that waits for a reader that will not read")
	}
	r.close()
	select {
	case err := <-errs:
		if err != errRowsStopped && err != nil {
			t.Errorf("the first run ended with %v", err)
		}
	default:
		t.Error("the first run was not written")
	}
	if n := done.Load(); n != 2 {
		t.Errorf("done called %d times, want 2 (the run written and the one never started)", n)
	}
	for range 200 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d goroutines left running", runtime.NumGoroutine()-before)
}
