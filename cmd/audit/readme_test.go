package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/internal/config"
	"github.com/ecs-audit/audit/report"
)

// readmeSection returns the lines of README.md from the heading to the next
// heading of the same or a higher level.
func readmeSection(t *testing.T, heading string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	level := strings.Index(heading, " ")
	var out []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "#") {
			l := strings.Index(line, " ")
			if in && l > 0 && l <= level {
				break
			}
			if line == heading {
				in = true
				continue
			}
		}
		if in {
			out = append(out, line)
		}
	}
	if !in {
		t.Fatalf("README.md has no section %q", heading)
	}
	return out
}

// markdownTable returns the first table of lines whose header row has a
// first cell equal to firstHeader: the header cells and the body rows.
func markdownTable(lines []string, firstHeader string) (header []string, rows [][]string) {
	for _, line := range lines {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if header != nil {
				break
			}
			continue
		}
		cells := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case header == nil && cells[0] == firstHeader:
			header = cells
		case header == nil:
		case strings.Trim(strings.Join(cells, ""), "-: ") == "": // |---|---|
		default:
			rows = append(rows, cells)
		}
	}
	return header, rows
}

// readmeSeverity is a rule's cell in the README's severity column: the
// range of severities the rule can take (RuleMeta.SeverityRange).
func readmeSeverity(m findings.RuleMeta) string { return m.SeverityRange.String() }

// readmeSeverityHeader is the header of the README's severity column.
const readmeSeverityHeader = "severity"

// TestREADMERules keeps the README's rule table equal to the catalog: the
// same rule IDs in the same order, each with its severity and its title.
func TestREADMERules(t *testing.T) {
	header, rows := markdownTable(readmeSection(t, "## Rules"), "ID")
	want := []string{"ID", readmeSeverityHeader, "finding"}
	if !slices.Equal(header, want) {
		t.Fatalf("README.md rule table header = %q, want %q", header, want)
	}
	var expected strings.Builder
	fmt.Fprintf(&expected, "| %s |\n|%s\n", strings.Join(want, " | "), strings.Repeat("---|", len(want)))
	catalog := findings.Catalog()
	for _, m := range catalog {
		fmt.Fprintf(&expected, "| %s | %s | %s |\n", m.ID, readmeSeverity(m), m.Title)
	}
	byID := map[string][]string{}
	var ids []string
	for _, r := range rows {
		if len(r) != len(want) {
			t.Errorf("README.md rule table row %q has %d cells, want %d", strings.Join(r, " | "), len(r), len(want))
			continue
		}
		ids = append(ids, r[0])
		byID[r[0]] = r
	}
	var catIDs []string
	for _, m := range catalog {
		catIDs = append(catIDs, m.ID)
		r, ok := byID[m.ID]
		if !ok {
			t.Errorf("README.md rule table has no row for %s", m.ID)
			continue
		}
		if got, want := r[1], readmeSeverity(m); got != want {
			t.Errorf("README.md rule table, %s: severity %q, catalog %q", m.ID, got, want)
		}
		if got, want := r[2], m.Title; got != want {
			t.Errorf("README.md rule table, %s: finding %q, catalog title %q", m.ID, got, want)
		}
	}
	for _, id := range ids {
		if _, ok := findings.Rule(id); !ok {
			t.Errorf("README.md rule table lists %s, which is not in the catalog", id)
		}
	}
	if !slices.Equal(ids, catIDs) && len(ids) == len(catIDs) {
		t.Errorf("README.md rule table order %v, catalog order %v", ids, catIDs)
	}
	if t.Failed() {
		t.Logf("the catalog's table for README.md:\n%s", expected.String())
	}
}

// scanFlagTable renders the README's flag table from the option
// definitions: the configuration file, then every option in order.
func scanFlagTable() string {
	s := newScanFlags().opts
	var b strings.Builder
	b.WriteString("| flag | environment | default | with `--snapshot` | meaning |\n|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| `--%s FILE` | `%s` | `%s` if it exists | yes | the configuration file (see [Configuration](#configuration)); `''` for none |\n",
		s.FileFlag, s.FileEnvVar(), s.DefaultFile)
	for _, o := range s.Options {
		flag := "--" + o.Name
		if o.Meta != "" {
			flag += " " + o.Meta
		}
		def := config.Text(o.Value.Kind(), o.Value.Default())
		if def == "" || o.Value.Kind() == config.KindBool && def == "false" {
			def = ""
		} else {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s |\n", flag, s.EnvVar(o.Name), def, o.Snapshot, o.Description())
	}
	return b.String()
}

// TestREADMEScanFlags: the README's flag table under "## Scanning AWS" is
// the option definitions, and audit scan has exactly those flags.
func TestREADMEScanFlags(t *testing.T) {
	var table []string
	for _, line := range readmeSection(t, "## Scanning AWS") {
		if strings.HasPrefix(line, "| flag |") || len(table) > 0 && strings.HasPrefix(line, "|") {
			table = append(table, line)
		} else if len(table) > 0 {
			break
		}
	}
	if want := scanFlagTable(); strings.Join(table, "\n")+"\n" != want {
		t.Errorf("README.md: the flag table under \"## Scanning AWS\" differs from the option definitions (cmd/audit/options.go); it should be:\n%s", want)
	}

	a := &app{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}}
	scan, _, err := a.rootCmd().Find([]string{"scan"})
	if err != nil || scan.Name() != "scan" {
		t.Fatalf("no scan command: %v", err)
	}
	opts := newScanFlags().opts
	have := map[string]bool{}
	scan.LocalFlags().VisitAll(func(f *pflag.Flag) {
		have[f.Name] = true
		if f.Name != "help" && f.Name != opts.FileFlag && opts.Lookup(f.Name) == nil {
			t.Errorf("audit scan --%s is not defined in scanOptions", f.Name)
		}
	})
	for _, o := range opts.Options {
		if !have[o.Name] {
			t.Errorf("option %s is not a flag of audit scan", o.Name)
		}
	}
}

// The option definitions are well formed (names, bindings, one-line help).
func TestScanOptionDefinitions(t *testing.T) {
	if err := newScanFlags().opts.Validate(); err != nil {
		t.Fatal(err)
	}
}

// readmeFormatRow is a format's row in the README's table of formats.
func readmeFormatRow(f report.Format) []string {
	name := "`" + f.Name + "`"
	for _, a := range f.Aliases {
		name += " (`" + a + "`)"
	}
	stdout := "yes"
	if f.Binary {
		stdout = "when not a terminal"
	}
	return []string{name, "`" + f.File + "`", "`" + f.ContentType + "`", stdout, f.Description}
}

// TestREADMEFormats keeps the README's table of formats equal to the table
// of formats in package report, row for row.
func TestREADMEFormats(t *testing.T) {
	header, rows := markdownTable(readmeSection(t, "## Reports"), "format")
	want := []string{"format", "file", "content type", "to standard output", "what it is"}
	if !slices.Equal(header, want) {
		t.Fatalf("README.md formats table header = %q, want %q", header, want)
	}
	var expected strings.Builder
	fmt.Fprintf(&expected, "| %s |\n|%s\n", strings.Join(want, " | "), strings.Repeat("---|", len(want)))
	formats := report.Formats()
	for _, f := range formats {
		fmt.Fprintf(&expected, "| %s |\n", strings.Join(readmeFormatRow(f), " | "))
	}
	if len(rows) != len(formats) {
		t.Errorf("README.md formats table has %d rows, the table of formats %d", len(rows), len(formats))
	}
	for i := range min(len(rows), len(formats)) {
		if w := readmeFormatRow(formats[i]); !slices.Equal(rows[i], w) {
			t.Errorf("README.md formats table row %d = %q, want %q", i+1, rows[i], w)
		}
	}
	if t.Failed() {
		t.Logf("the table of formats for README.md:\n%s", expected.String())
	}
}

// TestREADMEReportFlags: every flag of `audit report` is in the README's
// flag table for it, and the table names no flag it does not have.
func TestREADMEReportFlags(t *testing.T) {
	header, rows := markdownTable(readmeSection(t, "### Rendering a saved findings.json: `audit report`"), "flag")
	if header == nil {
		t.Fatal("README.md: no flag table for audit report")
	}
	a := &app{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}}
	cmd, _, err := a.rootCmd().Find([]string{"report"})
	if err != nil || cmd.Name() != "report" {
		t.Fatalf("no report command: %v", err)
	}
	flagRE := regexp.MustCompile(`--[a-z][a-z0-9-]*`)
	documented := map[string]bool{}
	for _, r := range rows {
		for _, f := range flagRE.FindAllString(r[0], -1) {
			documented[strings.TrimPrefix(f, "--")] = true
		}
	}
	have := map[string]bool{}
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			return
		}
		have[f.Name] = true
		if !documented[f.Name] {
			t.Errorf("audit report --%s (%s) is not in the README's flag table for audit report", f.Name, f.Usage)
		}
	})
	for name := range documented {
		if !have[name] {
			t.Errorf("the README's flag table for audit report names --%s, which audit report does not have", name)
		}
	}
}
