// Package report renders a findings.Result in every output format audit
// writes: JSON, SARIF 2.1.0, a self-contained HTML report, an XLSX workbook,
// a Markdown summary and CSV.
//
// A finding is one root cause (package findings, group.go): every format
// counts root causes, shows what each affects (its impact and affected
// resources) and its fix, and lists its items (needs, constraints,
// features, values, policy problems, excess grants) where it has room:
// the HTML evidence panel, the workbook's Affected items sheet, SARIF
// properties, findings.json. What package triage added is rendered too:
// suppressed findings (SARIF suppressions, the "Accepted risks" view and
// sheet, counts in Markdown and CSV), expired and stale suppressions, and
// the comparison with a baseline (new findings first in HTML, the
// "Changes" sheet, baselineState in SARIF, counts everywhere).
//
// All formats are built from one view model (see view.go), so that they
// agree on the order of findings, on severity ranks and on counts. The
// formats are listed in one table (formats.go) and rendered from the
// findings.Result alone, rule catalog included (Write, Render), so that
// `audit report` renders a saved findings.json (ReadResult) into the same
// files as the scan that wrote it. Evidence files (WriteEvidence) are not a
// format: they are copies of collected resources, read from the inventory.
//
// Every string that comes from AWS (account names, role names, ARNs, policy
// Sids, messages that quote them) is treated as attacker-controlled:
//
//   - HTML is produced with html/template; the findings are embedded as
//     HTML-safe JSON in a <script type="application/json"> block and
//     rendered by the page's own script with textContent only.
//   - XLSX and CSV cells that a spreadsheet could read as a formula are
//     neutralised (see neutralizeCell), whatever blank, invisible or
//     control character precedes the trigger.
//   - Characters that can hide, reorder or fake text (bidi controls such as
//     U+202E, zero-width and other invisible characters, control
//     characters) are shown as "<U+202E>" by Reveal in everything people
//     read: HTML, Markdown, CSV, XLSX, SARIF message text and audit's
//     terminal output. JSON, SARIF data and evidence files keep the exact
//     text, with these characters as \u escapes (see escape.go).
//   - Markdown puts identifiers in code spans and escapes everything else
//     (see markdown.go).
//   - SARIF artifact locations are relative paths built from sanitised
//     segments (see sarifpath.go), never ARNs or URIs with a scheme.
//
// Reports never contain environment variable values or secret values: the
// Result and the inventory do not hold them, and nothing here adds them.
// Output files are written atomically with inventory.WriteFileAtomic.
package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
)

// DefaultSARIFCategory is the SARIF automationDetails category used when
// Options.SARIFCategory is empty.
const DefaultSARIFCategory = "audit/ecs-execution-role"

// Options control Write and Render.
type Options struct {
	// Formats to write (see AllFormats). Empty means none.
	Formats []string
	// OutDir is the directory the report files are written to; it is
	// created when missing.
	OutDir string
	// SARIFCategory becomes automationDetails.id ("<category>/"); default
	// DefaultSARIFCategory.
	SARIFCategory string
	// Stderr receives warnings (SARIF truncation). nil discards them.
	Stderr io.Writer
}

// Write renders res in every format of opts.Formats into opts.OutDir. The
// Result is the only input: a findings.json read back with ReadResult
// renders the same files as the scan that wrote it. Each file is written
// atomically. A failing format does not stop the others: every file that
// could be written is written, and the errors are joined. written lists the
// paths written, sorted.
func Write(res *findings.Result, opts Options) (written []string, err error) {
	if res == nil {
		return nil, errors.New("report: no result to write")
	}
	return WriteSource(findings.ResultSource(res), opts)
}

// WriteSource is Write for a Result read from a findings.Source (a
// findings.Spool: the findings are read from it for each format, never
// held all at once).
func WriteSource(src findings.Source, opts Options) (written []string, err error) {
	if src == nil || src.Header() == nil {
		return nil, errors.New("report: no result to write")
	}
	formats, err := lookupAll(opts.Formats)
	if err != nil || len(formats) == 0 {
		return nil, err
	}
	v, err := newSourceView(src)
	if err != nil {
		return nil, err
	}
	// The formats are written at once, each by a writer of its own. What
	// a writer holds is its own file's (the HTML's data, the workbook's
	// parts), not the findings: they are read from src, the k-th pass of
	// every writer over them shared with the others' (see fanout), so
	// that each finding of a spool is read and decoded once for every
	// format.
	var uniq []Format
	done := map[string]bool{}
	for _, f := range formats {
		if !done[f.Name] {
			done[f.Name] = true
			uniq = append(uniq, f)
		}
	}
	errs := make([]error, len(uniq))
	ok := make([]bool, len(uniq))
	shared := newFanout(src)
	// Every writer's reader is made before any writer starts: the first
	// pass waits for the readers that have not started it, and a reader
	// made after the pass went on reads a pass of its own.
	readers := make([]*fanReader, len(uniq))
	for i := range uniq {
		readers[i] = shared.reader()
	}
	var wg sync.WaitGroup
	for i, f := range uniq {
		fv := *v
		r := readers[i]
		fv.src = r
		wg.Go(func() {
			defer r.close()
			path := filepath.Join(opts.OutDir, f.File)
			werr := inventory.WriteFileAtomic(path, func(w io.Writer) error {
				if file, ok := w.(*os.File); ok {
					w = &scratchFile{file} // the temporary file, the format's own
				}
				return f.write(&fv, w, opts)
			})
			if werr != nil {
				errs[i] = fmt.Errorf("report: writing %s: %w", path, werr)
				return
			}
			ok[i] = true
		})
	}
	wg.Wait()
	for i, f := range uniq {
		if ok[i] {
			written = append(written, filepath.Join(opts.OutDir, f.File))
		}
	}
	sort.Strings(written)
	return written, errors.Join(errs...)
}

// Render writes res in one format to w (standard output for --out -).
// opts.Formats and opts.OutDir are not used.
func Render(w io.Writer, res *findings.Result, format string, opts Options) error {
	if res == nil {
		return errors.New("report: no result to write")
	}
	return RenderSource(w, findings.ResultSource(res), format, opts)
}

// RenderSource is Render for a Result read from a findings.Source.
func RenderSource(w io.Writer, src findings.Source, format string, opts Options) error {
	if src == nil || src.Header() == nil {
		return errors.New("report: no result to write")
	}
	f, err := lookupAll([]string{format})
	if err != nil {
		return err
	}
	v, err := newSourceView(src)
	if err != nil {
		return err
	}
	return f[0].write(v, w, opts)
}

// SourceSummaryLine is SummaryLine for a Result read from a
// findings.Source.
func SourceSummaryLine(src findings.Source) (string, error) {
	v, err := newSourceView(src)
	if err != nil {
		return "", err
	}
	return v.summaryLine(), nil
}

func lookupAll(names []string) ([]Format, error) {
	out := make([]Format, 0, len(names))
	for _, name := range names {
		f, ok := LookupFormat(name)
		if !ok || f.Name != name {
			return nil, fmt.Errorf("report: unknown format %q", name)
		}
		out = append(out, f)
	}
	return out, nil
}

func stderrOr(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
