package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/internal/config"
	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
	"github.com/ecs-audit/audit/report"
	"github.com/ecs-audit/audit/scanner"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// scanFlags holds the options of `audit scan` (and, in part, `audit demo`),
// defined once in scanOptions.
type scanFlags struct {
	snapshot     string
	formats      []string
	out          string
	failOn       string
	saveSnapshot string
	sarifCat     string
	evidenceDir  string

	// live holds the options of a live scan in the scanner's own fields.
	live      scanner.Config
	noResolve bool

	quiet     bool
	logLevel  string
	logFormat string

	// opts are the definitions bound to the fields above; cfg says where
	// each value came from (nil when only flags were parsed, as in demo).
	opts *config.Set
	cfg  *config.Resolved
}

func init() {
	subcommands = append(subcommands, func(a *app) *cobra.Command {
		f := newScanFlags()
		cmd := &cobra.Command{
			Use:   "scan",
			Short: "Scan AWS (or analyse a saved snapshot) and write reports",
			Long: `scan collects ECS and IAM data from AWS (the caller's account, the accounts
given with --accounts, or the whole Organization with --org), evaluates every
task definition's execution role, and writes reports to --out.

With --snapshot FILE it analyses a saved inventory instead of calling AWS.

Every option can also be set in a configuration file (./audit.yaml, or the
file named by --config or AUDIT_CONFIG) under its flag's name without the
dashes, and in the environment as AUDIT_<NAME> (upper case, hyphens as
underscores: AUDIT_ROLE_NAME). A flag overrides the environment, which
overrides the file. "audit config print" shows the effective values and
where each came from.

Exit codes: 0 no finding at or above --fail-on; 1 findings at or above
--fail-on; 2 nothing was scanned and no report written: an invalid option
(named with its flag, variable, or file and line), a malformed snapshot, or
a scan that could not start (no credentials, endpoint unreachable,
credentials rejected, organization not readable; one line says why and what
to do); 3 the scan is incomplete (collection errors, coverage gaps,
interrupted; the reports are still written and list what was not
collected).

` + report.FormatHelp() + `

audit report renders the findings.json of a scan again later, in any format.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if err := f.load(cmd.Flags(), a.lookupEnv); err != nil {
					return err
				}
				return a.runScan(cmd.Context(), f)
			},
		}
		f.opts.AddFlags(cmd.Flags())
		f.opts.AddFileFlag(cmd.Flags())
		return cmd
	})
}

// parseLogLevel reads a --log-level.
func parseLogLevel(s string) (slog.Level, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(s)); err != nil {
		return lvl, errors.New("expected debug, info, warn or error")
	}
	return lvl, nil
}

// checkLogFormat checks a --log-format.
func checkLogFormat(s string) error {
	if s != "text" && s != "json" {
		return errors.New("expected text or json")
	}
	return nil
}

func (f *scanFlags) logger(w io.Writer) (*slog.Logger, error) {
	lvl, err := parseLogLevel(f.logLevel)
	if err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", f.logLevel, err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch f.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		// The JSON handler leaves bidi controls and other invisible
		// characters of logged AWS strings as they are (the text handler
		// quotes them): they are written as \u escapes instead, the same
		// JSON value.
		return slog.New(slog.NewJSONHandler(escapingWriter{w}, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: expected text or json", f.logFormat)
}

// escapingWriter writes JSON log records (one per Write, as slog's JSON
// handler writes them) with hidden characters as \u escapes.
type escapingWriter struct{ w io.Writer }

func (e escapingWriter) Write(p []byte) (int, error) {
	if _, err := e.w.Write(report.EscapeHiddenJSON(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// failOnRank returns the rank at or above which findings fail the run; 0 = never.
func failOnRank(s string) (int, error) {
	if strings.EqualFold(s, "none") || s == "" {
		return 0, nil
	}
	sev, ok := findings.ParseSeverity(s)
	if !ok {
		return 0, errors.New("expected critical, high, medium, low, info or none")
	}
	return sev.Rank(), nil
}

// checkOrgPolicy is the snapshot loader's check of every SCP and RCP
// document: one that is not a policy is a load error (exit 2), never a
// policy left out of the evaluation. The inventory package does not know
// the policy language, so the check is passed in from here.
func checkOrgPolicy(doc string) error {
	_, err := policy.ParseString("organization policy", doc)
	var pe *policy.ParseError
	if errors.As(err, &pe) {
		return errors.New(pe.Detail())
	}
	return err
}

// validate is every check of the options beyond their own (Load ran
// those), before anything is read or any AWS call: with a snapshot, no
// option that says what to collect; without, the scanner's validation of
// its configuration. Errors name where each value was set.
func (f *scanFlags) validate() error {
	if f.snapshot != "" {
		return f.snapshotConflicts()
	}
	if err := f.scannerConfig(nil).Validate(); err != nil {
		return usageErr(f.configErrors(err))
	}
	return nil
}

func (a *app) runScan(ctx context.Context, f *scanFlags) error {
	if err := f.validate(); err != nil {
		return err
	}
	formats, err := report.ParseFormats(strings.Join(f.formats, ","))
	if err != nil {
		return usageErr(fmt.Errorf("--format: %w", err))
	}
	failRank, err := failOnRank(f.failOn)
	if err != nil {
		return usageErr(fmt.Errorf("--fail-on %q: %w", f.failOn, err))
	}
	if err := checkStdout(f.out, formats, a.stdout); err != nil {
		return usageErr(err)
	}
	logger, err := f.logger(a.stderr)
	if err != nil {
		return usageErr(err)
	}
	var inv *inventory.Inventory
	if f.snapshot != "" {
		inv, err = inventory.LoadWith(f.snapshot, inventory.Options{PolicyCheck: checkOrgPolicy})
		if err != nil {
			return usageErr(err)
		}
	} else {
		cfg := f.scannerConfig(logger)
		bar := a.newProgress(f.quiet)
		cfg.Progress = bar.update
		inv, err = scanner.Collect(ctx, cfg)
		bar.finish()
		if err != nil {
			if inv == nil {
				return f.collectFailed(err)
			}
			fmt.Fprintf(a.stderr, "audit: %s\n", report.Reveal(err.Error()))
		}
		inv.ToolVersion = toolVersion()
	}
	return a.analyseAndWrite(inv, f, formats, failRank)
}

// analyseAndWrite evaluates the inventory, writes the reports (and the
// snapshot) and maps the outcome to an exit code.
func (a *app) analyseAndWrite(inv *inventory.Inventory, f *scanFlags, formats []string, failRank int) error {
	failed := false
	if f.saveSnapshot != "" {
		if err := inventory.Save(f.saveSnapshot, inv); err != nil {
			fmt.Fprintf(a.stderr, "audit: writing snapshot: %s\n", report.Reveal(err.Error()))
			failed = true // the reports are still written
		}
	}
	// A live scan is evaluated as of now; a snapshot as of its collection
	// time, so that re-analysing it gives the same answer every time.
	now := time.Now()
	if f.snapshot != "" {
		now = time.Time{}
	}
	res := findings.Evaluate(inv, findings.Options{ToolVersion: toolVersion(), Now: now})
	written, err := a.writeReports(res, output{formats: formats, out: f.out, sarifCategory: f.sarifCat})
	if f.evidenceDir != "" {
		// Evidence files are copies of what was collected, so they come
		// from the inventory, not from the Result.
		ev, everr := report.WriteEvidence(res, inv, f.evidenceDir)
		written = append(written, ev...)
		err = errors.Join(err, everr)
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "audit: writing reports: %s\n", report.Reveal(err.Error()))
		return withCode(ExitIncomplete, nil)
	}
	if f.saveSnapshot != "" && !failed {
		written = append(written, f.saveSnapshot)
	}
	if !f.quiet {
		printSummary(a.stderr, res, written)
	}
	if failed {
		return withCode(ExitIncomplete, nil)
	}
	return outcome(res, failRank)
}

// printSummary writes the end-of-scan summary to the terminal. Counts are
// ours; every string is passed through report.Reveal, so that a control or
// bidi character (from a path, or from AWS in the future) cannot move the
// cursor, send a terminal escape sequence or reorder the line.
func printSummary(w io.Writer, res *findings.Result, written []string) {
	fmt.Fprintf(w, "%d task definitions, %d execution roles, %d accounts: %d findings (", res.Summary.TaskDefinitions, res.Summary.Roles, len(res.Scope.Accounts), res.Summary.Total)
	for i, s := range findings.Severities {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%d %s", res.Summary.BySeverity[string(s)], report.Reveal(string(s)))
	}
	fmt.Fprintln(w, ")")
	if incomplete(res) {
		fmt.Fprintf(w, "scan INCOMPLETE: %d collection errors, %d gaps (see coverage in the reports)\n", len(res.Coverage.Errors), len(res.Coverage.Gaps))
	}
	for _, p := range written {
		fmt.Fprintf(w, "wrote %s\n", report.Reveal(p))
	}
}

// scannerConfig is the scanner's configuration from the options.
func (f *scanFlags) scannerConfig(logger *slog.Logger) scanner.Config {
	cfg := f.live
	cfg.Logger = logger
	cfg.ResolveResources = !f.noResolve
	return cfg
}

// configErrors renders the scanner's configuration errors with the option
// that set each field and where it was set, one line each.
func (f *scanFlags) configErrors(err error) error {
	ces := scanner.ConfigErrors(err)
	if len(ces) == 0 {
		return err
	}
	lines := make([]string, 0, len(ces))
	for _, ce := range ces {
		lines = append(lines, f.problem(ce))
	}
	return errors.New(strings.Join(lines, "\naudit: "))
}

// collectFailed maps a scan that produced nothing to its exit code: 2 for
// a configuration the scanner refused or a scan that could not start (one
// line: the cause and what to do), 3 for one interrupted before it began.
func (f *scanFlags) collectFailed(err error) error {
	if len(scanner.ConfigErrors(err)) > 0 {
		return usageErr(f.configErrors(err))
	}
	var se *scanner.StartError
	if errors.As(err, &se) {
		return usageErr(errors.New(se.Cause + "; " + se.Fix))
	}
	return withCode(ExitIncomplete, err)
}

// isTerminal says whether w is a terminal (for the progress bar).
func isTerminal(w io.Writer) bool {
	if f, ok := w.(*os.File); ok {
		return term.IsTerminal(int(f.Fd()))
	}
	return false
}
