package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
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

// Format is one output format. The table of formats (Formats) is the one
// place that knows them: --format parsing, the help text of `audit scan`
// and `audit report`, the README's list of formats (a test keeps them
// equal) and Write all read it.
type Format struct {
	// Name is what --format takes.
	Name string
	// Aliases are further names --format takes ("md").
	Aliases []string
	// File is the file name the format is written to in the output
	// directory.
	File string
	// ContentType is the media type of the file.
	ContentType string
	// Binary formats are written to standard output (--out -) only when it
	// is not a terminal; text formats always can be.
	Binary bool
	// Description says what the file is for, in a few words (it is shown
	// in the help text and in the README).
	Description string

	write func(v *view, w io.Writer, opts Options) error
}

// formatTable lists every format in the order Write produces them.
var formatTable = []Format{
	{Name: FormatJSON, File: "findings.json", ContentType: "application/json",
		Description: "findings with evidence, coverage, rule catalog; read by audit report",
		write:       func(v *view, w io.Writer, _ Options) error { return v.writeJSON(w) }},
	{Name: FormatSARIF, File: "findings.sarif", ContentType: "application/sarif+json",
		Description: "SARIF 2.1.0 for GitHub code scanning",
		write:       func(v *view, w io.Writer, opts Options) error { return v.writeSARIF(w, opts) }},
	{Name: FormatHTML, File: "report.html", ContentType: "text/html; charset=utf-8",
		Description: "a self-contained report that works offline",
		write:       func(v *view, w io.Writer, _ Options) error { return v.writeHTML(w) }},
	{Name: FormatXLSX, File: "findings.xlsx", ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Binary: true,
		Description: "a workbook for compliance evidence",
		write:       func(v *view, w io.Writer, _ Options) error { return v.writeXLSX(w) }},
	{Name: FormatMarkdown, Aliases: []string{"md"}, File: "summary.md", ContentType: "text/markdown; charset=utf-8",
		Description: "a summary for a pull request or a CI job",
		write:       func(v *view, w io.Writer, _ Options) error { return v.writeMarkdown(w) }},
	{Name: FormatCSV, File: "findings.csv", ContentType: "text/csv; charset=utf-8",
		Description: "one row per root cause, with its impact, fix and triage",
		write:       func(v *view, w io.Writer, _ Options) error { return v.writeCSV(w) }},
}

// AllFormats lists the name of every format in the order Write produces
// them.
var AllFormats = func() []string {
	out := make([]string, len(formatTable))
	for i, f := range formatTable {
		out[i] = f.Name
	}
	return out
}()

// Formats returns the table of formats, in the order Write produces them.
func Formats() []Format { return slices.Clone(formatTable) }

// LookupFormat returns the format named name (a name or an alias, any
// case).
func LookupFormat(name string) (Format, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, f := range formatTable {
		if f.Name == name || slices.Contains(f.Aliases, name) {
			return f, true
		}
	}
	return Format{}, false
}

// FileName is the file name of a format's report, or "" for an unknown format.
func FileName(format string) string {
	if f, ok := LookupFormat(format); ok && f.Name == format {
		return f.File
	}
	return ""
}

// FormatList is the list of format names for a flag's usage line:
// "json, sarif, html, xlsx, markdown, csv".
func FormatList() string { return strings.Join(AllFormats, ", ") }

// FormatHelp describes every format in a few lines, for the help text of
// the commands that write reports.
func FormatHelp() string {
	var b strings.Builder
	b.WriteString("Formats (--format, comma-separated, or all) and the files they are written to:\n\n")
	for _, f := range formatTable {
		name := f.Name
		if len(f.Aliases) > 0 {
			name += " (" + strings.Join(f.Aliases, ", ") + ")"
		}
		fmt.Fprintf(&b, "  %-15s %-15s %s\n", name, f.File, f.Description)
	}
	b.WriteString("\nWith --out - one format is written to standard output (a binary one, xlsx,\nonly when standard output is not a terminal); the summary goes to stderr.")
	return b.String()
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
		if name == "all" {
			for _, f := range AllFormats {
				seen[f] = true
			}
			continue
		}
		if f, ok := LookupFormat(name); ok && name != "" {
			seen[f.Name] = true
			continue
		}
		if name == "" {
			unknown = append(unknown, `""`)
		} else {
			unknown = append(unknown, fmt.Sprintf("%q", strings.TrimSpace(part)))
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown report format %s (valid: %s, all)", strings.Join(unknown, ", "), FormatList())
	}
	var out []string
	for _, f := range AllFormats {
		if seen[f] {
			out = append(out, f)
		}
	}
	return out, nil
}
