package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/report"
	"github.com/ecs-audit/audit/store"
	"github.com/ecs-audit/audit/triage"
	"github.com/spf13/cobra"
)

// reportFlags are the flags of `audit report`.
type reportFlags struct {
	formats            string
	out                string
	failOn             string
	failOnNew          string
	baseline           string
	suppressionFiles   []string
	maxSuppressionDays int
	sarifCat           string
	quiet              bool
}

const reportLong = `report renders a findings.json that audit scan wrote, in any format, without
AWS and without the snapshot: the compliance workbook, the HTML report or the
SARIF of a scan archived months ago. The files are the ones the scan itself
would have written, byte for byte: findings.json carries everything the
formats show, the rule catalog included. It reads this version's findings.json
and older ones; a version 1 file carries no rule catalog, so the rules are
described as this build's catalog describes them (a note on stderr says so).
The input is never written over: with --out its own directory, that
findings.json is left as it was. Evidence files (--evidence-dir) need what was collected and come only from
audit scan.

A stored result can be triaged later: --suppressions-file applies accepted
risks as of today (replacing those the scan applied), --baseline compares it
with the findings.json of an earlier scan (a path or s3://bucket/key), and
--fail-on-new fails on the new findings only.

`

const reportExit = `

Exit codes, as for audit scan, so that CI can gate on a stored result: 0 no
finding at or above --fail-on (suppressed findings do not count) and no new
finding at or above --fail-on-new; 1 otherwise; 2 an invalid flag, an
invalid suppression, or a findings.json or baseline that cannot be read (the
error names the file, the field and the byte); 3 the findings.json records an incomplete scan (collection
errors, coverage gaps, interrupted), or a report could not be written. 3 wins
over 1; the reports are written in either case.`

func init() {
	subcommands = append(subcommands, func(a *app) *cobra.Command {
		f := &reportFlags{}
		cmd := &cobra.Command{
			Use:   "report FINDINGS.json",
			Short: "Render a saved findings.json in any format, without AWS",
			Long:  reportLong + report.FormatHelp() + reportExit,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.runReport(cmd.Context(), args[0], f)
			},
		}
		fl := cmd.Flags()
		fl.StringVar(&f.formats, "format", "all", "report formats, comma-separated: "+report.FormatList()+", or all")
		fl.StringVar(&f.out, "out", "out", "directory for the reports, or - for standard output (one format)")
		fl.StringVar(&f.failOn, "fail-on", "none", "exit 1 when a finding no suppression accepts is at or above this severity: critical, high, medium, low, info or none")
		fl.StringVar(&f.failOnNew, "fail-on-new", "none", "with --baseline: exit 1 when a new finding (not suppressed) is at or above this severity")
		fl.StringVar(&f.baseline, "baseline", "", "the findings.json of an earlier scan (a path or s3://bucket/key) to compare with")
		fl.StringSliceVar(&f.suppressionFiles, "suppressions-file", nil, "YAML files of accepted risks to apply as of today")
		fl.IntVar(&f.maxSuppressionDays, "max-suppression-days", int(triage.DefaultMaxHorizon/(24*time.Hour)), "how far ahead a suppression's expiry date may lie")
		fl.StringVar(&f.sarifCat, "sarif-category", "", "SARIF automationDetails.id category (default audit/ecs-execution-role)")
		fl.BoolVar(&f.quiet, "quiet", false, "no summary on stderr")
		return cmd
	})
}

func (a *app) runReport(ctx context.Context, path string, f *reportFlags) error {
	formats, err := report.ParseFormats(f.formats)
	if err != nil {
		return usageErr(fmt.Errorf("--format: %w", err))
	}
	failOn, err := parseFailOn(f.failOn)
	if err != nil {
		return usageErr(fmt.Errorf("--fail-on %q: %w", f.failOn, err))
	}
	failOnNew, err := parseFailOn(f.failOnNew)
	if err != nil {
		return usageErr(fmt.Errorf("--fail-on-new %q: %w", f.failOnNew, err))
	}
	if failOnNew != "" && f.baseline == "" {
		return usageErr(fmt.Errorf("--fail-on-new %q: needs --baseline, the findings.json of an earlier scan, to know what is new", f.failOnNew))
	}
	if err := checkMaxDays(f.maxSuppressionDays); err != nil {
		return usageErr(fmt.Errorf("--max-suppression-days %d: %w", f.maxSuppressionDays, err))
	}
	if err := checkBaseline(f.baseline); err != nil {
		return usageErr(fmt.Errorf("--baseline %q: %w", f.baseline, err))
	}
	if err := checkFiles(f.suppressionFiles); err != nil {
		return usageErr(fmt.Errorf("--suppressions-file: %w", err))
	}
	if store.IsS3URL(f.out) {
		return usageErr(fmt.Errorf("--out %q: audit report writes to a local directory or -; to store a saved result's reports on S3, analyse its snapshot with audit scan --snapshot FILE --out s3://…", f.out))
	}
	if err := checkStdout(f.out, formats, a.stdout); err != nil {
		return usageErr(err)
	}
	in, info, done, err := a.readResultSource(path)
	if err != nil {
		return usageErr(err)
	}
	defer done()
	for _, note := range info.Notes {
		fmt.Fprintf(a.stderr, "audit: note: %s: %s\n", report.Reveal(path), note)
	}
	now := time.Now()
	supp, err := loadSuppressions(nil, f.suppressionFiles, triage.Options{Now: now, MaxHorizon: time.Duration(f.maxSuppressionDays) * 24 * time.Hour},
		func(string) string { return "--suppressions-file" })
	if err != nil {
		return usageErr(errorLines(err))
	}
	var base *triage.Baseline
	if f.baseline != "" {
		var note string
		base, note, err = readBaseline(ctx, f.baseline, store.AWS{})
		if err != nil {
			return usageErr(fmt.Errorf("--baseline %q: %w", f.baseline, err))
		}
		if note != "" {
			fmt.Fprintf(a.stderr, "audit: note: %s\n", report.Reveal(note))
		}
	}
	src, err := a.applyTriage(in, supp, base, now)
	if err != nil {
		return withCode(ExitIncomplete, err)
	}
	// The input is never written over (an archived version 1 file stays
	// as it was): its findings.json is left out.
	if f.out != "-" && slices.Contains(formats, report.FormatJSON) && sameFile(path, filepath.Join(f.out, report.FileName(report.FormatJSON))) {
		formats = slices.DeleteFunc(formats, func(s string) bool { return s == report.FormatJSON })
		fmt.Fprintf(a.stderr, "audit: note: %s is the input; it is left as it is\n", report.Reveal(path))
		if len(formats) == 0 {
			return outcome(src, failOn, failOnNew)
		}
	}
	o := output{formats: formats, out: f.out, sarifCategory: f.sarifCat}
	written, err := a.writeReports(src, o)
	if err != nil {
		fmt.Fprintf(a.stderr, "audit: writing reports: %s\n", report.Reveal(err.Error()))
		return withCode(ExitIncomplete, nil)
	}
	if !f.quiet {
		printSummary(a.stderr, src.Header(), written)
	}
	return outcome(src, failOn, failOnNew)
}

// readResultSource reads the findings.json at path as a stream into a
// spool file in the system's temporary directory, which done removes: the
// Source of its Result, which is not held in memory. Where no spool file
// can be made, the Result is read into memory.
func (a *app) readResultSource(path string) (src findings.Source, info *report.ReadInfo, done func(), err error) {
	rs, fl, err := report.OpenResult(path)
	if err != nil {
		return nil, nil, nil, err
	}
	defer fl.Close()
	spool, err := findings.NewSpool("")
	if err != nil {
		fmt.Fprintf(a.stderr, "audit: note: %s; the findings are held in memory (give a writable directory with TMPDIR)\n", report.Reveal(err.Error()))
		r := *rs.Header
		err := rs.Lists(report.ListVisitor{
			Finding:        func(f *findings.Finding) error { r.Findings = append(r.Findings, *f); return nil },
			Role:           func(x *findings.RoleReport) error { r.Roles = append(r.Roles, *x); return nil },
			TaskDefinition: func(x *findings.TaskDefReport) error { r.TaskDefinitions = append(r.TaskDefinitions, *x); return nil },
		})
		if err != nil {
			return nil, nil, nil, err
		}
		r.Summary = rs.Header.Summary
		return findings.ResultSource(&r), rs.Info, func() {}, nil
	}
	l := findings.NewListSpool(spool, mergeChunk, false)
	err = rs.Lists(report.ListVisitor{Finding: l.AddFinding, Role: l.AddRole, TaskDefinition: l.AddTaskDefinition})
	if err == nil {
		err = l.Flush()
	}
	if err != nil {
		spool.Close()
		return nil, nil, nil, err
	}
	return findings.SpooledSource(rs.Header, spool), rs.Info, func() { spool.Close() }, nil
}

// sameFile says whether a and b name one existing file.
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// output says where and how the reports go.
type output struct {
	formats       []string
	out           string // a directory, or "-" for standard output
	sarifCategory string
}

// checkStdout checks an --out - request before anything runs: standard
// output takes one format, and a binary one only when it is not a terminal.
func checkStdout(out string, formats []string, stdout io.Writer) error {
	if out != "-" {
		return nil
	}
	if len(formats) != 1 {
		return fmt.Errorf("--out - writes one format to standard output, and --format names %d (%s): name one, or give --out a directory",
			len(formats), strings.Join(formats, ", "))
	}
	if f, ok := report.LookupFormat(formats[0]); ok && f.Binary && isTerminal(stdout) {
		return fmt.Errorf("--out -: %s is a binary format and standard output is a terminal; redirect it to a file or give --out a directory", f.Name)
	}
	return nil
}

// writeReports writes the reports of res: each format to its file in the
// output directory, or the one format to standard output. It returns what
// was written, for the summary.
func (a *app) writeReports(src findings.Source, o output) ([]string, error) {
	opts := report.Options{Formats: o.formats, OutDir: o.out, SARIFCategory: o.sarifCategory, Stderr: a.stderr}
	if o.out == "-" {
		if err := report.RenderSource(a.stdout, src, o.formats[0], opts); err != nil {
			return nil, fmt.Errorf("%s to standard output: %w", o.formats[0], err)
		}
		return []string{o.formats[0] + " to standard output"}, nil
	}
	return report.WriteSource(src, opts)
}

// incomplete says whether the Result records a scan that missed
// something.
func incomplete(res *findings.Result) bool {
	c := res.Coverage
	return !c.Complete || c.Interrupted != "" || len(c.Errors) > 0
}
