package report

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/findings"
)

// withZipSpillAt makes the workbook's parts spill to temporary files in a
// directory of the test's own past n bytes, and returns the directory.
func withZipSpillAt(t *testing.T, n int) string {
	t.Helper()
	old := zipSpillAt
	zipSpillAt = n
	t.Cleanup(func() { zipSpillAt = old })
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	return dir
}

// spillFiles lists the workbook's temporary files in dir (excelize's
// streamed sheets have temporary files of their own there too).
func spillFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "audit-xlsx-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// spillWatcher records, at its first write (when Close begins to write
// the package, every part written), the workbook's temporary files.
type spillWatcher struct {
	bytes.Buffer
	t     *testing.T
	dir   string
	files int // -1 before the first write
}

func (w *spillWatcher) Write(p []byte) (int, error) {
	if w.files < 0 {
		w.files = len(spillFiles(w.t, w.dir))
	}
	return w.Buffer.Write(p)
}

// TestXLSXSpill: with parts spilling to temporary files past a few bytes
// (every table's part, written by its run's goroutine, and excelize's
// parts), the workbook is byte for byte the one whose parts stay in
// memory, and the files are gone once it is written.
func TestXLSXSpill(t *testing.T) {
	withCatalog(t)
	tests := []struct {
		name  string
		res   *findings.Result
		rows  int // rows per sheet; 0: Excel's
		at    int
		spill bool // some part spills
	}{
		{name: "sample, every part", res: sampleResult(), at: 0, spill: true},
		{name: "big, large parts", res: bigResult(3000), at: 64 << 10, spill: true},
		{name: "big, at a block", res: bigResult(3000), at: blockMin, spill: true},
		{name: "split triaged big", res: bigTriagedResult(3000), rows: 700, at: 100, spill: true},
		{name: "empty, none", res: &findings.Result{}, at: 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rows > 0 {
				withMaxSheetRows(t, tt.rows)
			}
			var want bytes.Buffer
			if err := WriteXLSX(&want, tt.res); err != nil {
				t.Fatal(err)
			}
			dir := withZipSpillAt(t, tt.at)
			got := &spillWatcher{t: t, dir: dir, files: -1}
			if err := WriteXLSX(got, tt.res); err != nil {
				t.Fatal(err)
			}
			if (got.files > 0) != tt.spill {
				t.Errorf("%d temporary files when the package was written, want some: %v", got.files, tt.spill)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("the workbook differs when its parts spill (%d bytes, want %d)", got.Len(), want.Len())
			}
			if left := spillFiles(t, dir); len(left) > 0 {
				t.Errorf("temporary files left: %q", left)
			}
		})
	}
}

// TestOrderedZipSpill: a part past zipSpillAt goes to a temporary file of
// its own (excelize's, and a run's, written by its goroutine), a part
// below stays in memory, and the package is the same; an error writing or
// reading a file is returned naming it; and whether the package is
// written, fails, or is never written (end), no file is left.
func TestOrderedZipSpill(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for range 20000 {
		fmt.Fprintf(&b, "<row>%x</row>", rnd.Uint64())
	}
	big := b.String()
	// build writes the package up to its Close; broken, when not nil, is
	// called with big.xml once it is in its temporary file, before the
	// rest of it is written.
	build := func(t *testing.T, z *orderedZip, broken func(m *zipMember)) error {
		t.Helper()
		if err := z.addRows([]string{"rows.xml"}, func(next func() (io.Writer, error)) error {
			w, err := next()
			if err != nil {
				return err
			}
			_, err = io.WriteString(w, big)
			return err
		}, nil); err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct{ name, text string }{
			{"rows.xml", "<sheetData></sheetData>"}, {"small.xml", "small"}, {"big.xml", big}, {"last.xml", "last"},
		} {
			w, err := z.Create(p.name)
			if err != nil {
				return err
			}
			if _, err := io.WriteString(w, p.text); err != nil {
				return err
			}
			if p.name == "big.xml" && broken != nil {
				broken(z.open)
				if _, err := io.WriteString(w, big); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var want bytes.Buffer
	z := newOrderedZip(&want)
	if err := build(t, z, func(*zipMember) {}); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		write func(f *os.File) // on big.xml's file, while it is written
		read  func(f *os.File) // on big.xml's file, before Close
		close bool             // Close, or end without Close
		err   string           // build's or Close's
	}{
		{name: "written", close: true},
		{name: "not written", close: false},
		{name: "file not writable", close: true, err: "file already closed", write: func(f *os.File) { f.Close() }},
		{name: "file cut short", close: true, err: "read 10 bytes", read: func(f *os.File) {
			if err := f.Truncate(10); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "file not readable", close: true, err: "file already closed", read: func(f *os.File) { f.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := withZipSpillAt(t, 4096)
			var out bytes.Buffer
			z := newOrderedZip(&out)
			var file *os.File
			err := build(t, z, func(m *zipMember) {
				if file = m.data.f; file == nil {
					t.Fatal("big.xml is not in a temporary file")
				}
				if tt.write != nil {
					tt.write(file)
				}
			})
			if err == nil {
				if err := z.settle(false); err != nil {
					t.Fatal(err)
				}
				for _, m := range z.members {
					want := m.name == "big.xml" || m.name == "rows.xml"
					if got := m.data.f != nil; got != want {
						t.Errorf("%s in a temporary file: %v, want %v", m.name, got, want)
					}
				}
				if tt.read != nil {
					tt.read(file)
				}
				if tt.close {
					err = z.Close()
					if left := spillFiles(t, dir); len(left) > 0 {
						t.Errorf("temporary files left after Close: %q", left)
					}
				} else if n := len(spillFiles(t, dir)); n != 2 {
					t.Errorf("%d temporary files before end, want 2", n)
				}
			}
			z.end()
			switch {
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), file.Name())):
				t.Fatalf("error %v, want one with %q naming %s", err, tt.err, file.Name())
			}
			if tt.err == "" && tt.close && !bytes.Equal(out.Bytes(), want.Bytes()) {
				t.Error("the package differs when its parts spill")
			}
			if left := spillFiles(t, dir); len(left) > 0 {
				t.Errorf("temporary files left: %q", left)
			}
		})
	}
}
