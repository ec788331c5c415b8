// Package report renders a findings.Result in every output format audit
// writes: JSON, SARIF 2.1.0, a self-contained HTML report, an XLSX workbook,
// a Markdown summary and CSV.
//
// All formats are built from one view model (see view.go), so that they
// agree on the order of findings, on severity ranks and on counts.
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
	"path/filepath"
	"sort"
	"strings"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
)

// Format names accepted by ParseFormats and Options.Formats.
const (
	FormatJSON     = "json"
	FormatSARIF    = "sarif"
	FormatHTML     = "html"
	FormatXLSX     = "xlsx"
	FormatMarkdown = "markdown"
	FormatCSV      = "csv"
)

// AllFormats lists every format in the order Write produces them.
var AllFormats = []string{FormatJSON, FormatSARIF, FormatHTML, FormatXLSX, FormatMarkdown, FormatCSV}

// DefaultSARIFCategory is the SARIF automationDetails category used when
// Options.SARIFCategory is empty.
const DefaultSARIFCategory = "audit/ecs-execution-role"

// Options control Write.
type Options struct {
	// Formats to write (see AllFormats). Empty means none.
	Formats []string
	// OutDir is the directory the report files are written to; it is
	// created when missing.
	OutDir string
	// SARIFCategory becomes automationDetails.id ("<category>/"); default
	// DefaultSARIFCategory.
	SARIFCategory string
	// EvidenceDir, when set, receives one evidence file per SARIF artifact
	// location (the task definition, role, service... each finding is
	// about), at the same relative path.
	EvidenceDir string
	// Stderr receives warnings (SARIF truncation). nil discards them.
	Stderr io.Writer
}

// FileName is the file name of a format's report, or "" for an unknown format.
func FileName(format string) string {
	switch format {
	case FormatJSON:
		return "findings.json"
	case FormatSARIF:
		return "findings.sarif"
	case FormatHTML:
		return "report.html"
	case FormatXLSX:
		return "findings.xlsx"
	case FormatMarkdown:
		return "summary.md"
	case FormatCSV:
		return "findings.csv"
	}
	return ""
}

// ParseFormats parses a comma-separated list of formats ("json,sarif") or
// "all". Names are case-insensitive, blanks around commas are ignored, and
// duplicates are dropped; the result follows the order of AllFormats. An
// unknown or empty name is an error that names it.
func ParseFormats(s string) ([]string, error) {
	seen := map[string]bool{}
	var unknown []string
	for _, part := range strings.Split(s, ",") {
		name := strings.ToLower(strings.TrimSpace(part))
		switch {
		case name == "all":
			for _, f := range AllFormats {
				seen[f] = true
			}
		case name == "md":
			seen[FormatMarkdown] = true
		case FileName(name) != "":
			seen[name] = true
		case name == "":
			unknown = append(unknown, `""`)
		default:
			unknown = append(unknown, fmt.Sprintf("%q", strings.TrimSpace(part)))
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown report format %s (valid: %s, all)", strings.Join(unknown, ", "), strings.Join(AllFormats, ", "))
	}
	var out []string
	for _, f := range AllFormats {
		if seen[f] {
			out = append(out, f)
		}
	}
	return out, nil
}

// Write renders res in every format of opts.Formats into opts.OutDir, and
// the evidence files into opts.EvidenceDir when it is set. Each file is
// written atomically. A failing format does not stop the others: every file
// that could be written is written, and the errors are joined. written lists
// the paths written, sorted.
//
// inv may be nil; the XLSX workbook and the evidence files then carry less
// detail about task definitions and roles.
func Write(res *findings.Result, inv *inventory.Inventory, opts Options) (written []string, err error) {
	if res == nil {
		return nil, errors.New("report: no result to write")
	}
	if len(opts.Formats) == 0 && opts.EvidenceDir == "" {
		return nil, nil
	}
	for _, f := range opts.Formats {
		if FileName(f) == "" {
			return nil, fmt.Errorf("report: unknown format %q", f)
		}
	}
	v := newView(res)
	var errs []error
	done := map[string]bool{}
	for _, format := range opts.Formats {
		if done[format] {
			continue
		}
		done[format] = true
		path := filepath.Join(opts.OutDir, FileName(format))
		werr := inventory.WriteFileAtomic(path, func(w io.Writer) error {
			return v.write(format, w, inv, opts)
		})
		if werr != nil {
			errs = append(errs, fmt.Errorf("report: writing %s: %w", path, werr))
			continue
		}
		written = append(written, path)
	}
	if opts.EvidenceDir != "" {
		ev, everr := writeEvidence(v, inv, opts.EvidenceDir)
		written = append(written, ev...)
		if everr != nil {
			errs = append(errs, everr)
		}
	}
	sort.Strings(written)
	return written, errors.Join(errs...)
}

func (v *view) write(format string, w io.Writer, inv *inventory.Inventory, opts Options) error {
	switch format {
	case FormatJSON:
		return v.writeJSON(w)
	case FormatSARIF:
		return v.writeSARIF(w, opts)
	case FormatHTML:
		return v.writeHTML(w)
	case FormatXLSX:
		return v.writeXLSX(w, inv)
	case FormatMarkdown:
		return v.writeMarkdown(w)
	case FormatCSV:
		return v.writeCSV(w)
	}
	return fmt.Errorf("unknown format %q", format)
}

func stderrOr(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
