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
	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
	"github.com/ecs-audit/audit/report"
	"github.com/ecs-audit/audit/scanner"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// scanFlags are the flags of `audit scan` (and, in part, `audit demo`).
type scanFlags struct {
	snapshot     string
	formats      string
	out          string
	failOn       string
	saveSnapshot string
	sarifCat     string
	evidenceDir  string

	profile         string
	region          string
	org             bool
	ous             []string
	accounts        []string
	excludeAccounts []string
	regions         []string
	roleName        string
	externalID      string
	allRevisions    bool
	noResolve       bool
	accountConc     int
	regionConc      int
	maxAttempts     int

	quiet     bool
	logLevel  string
	logFormat string
}

func init() {
	subcommands = append(subcommands, func(a *app) *cobra.Command {
		f := &scanFlags{}
		cmd := &cobra.Command{
			Use:   "scan",
			Short: "Scan AWS (or analyse a saved snapshot) and write reports",
			Long: `scan collects ECS and IAM data from AWS (the caller's account, the accounts
given with --accounts, or the whole Organization with --org), evaluates every
task definition's execution role, and writes reports to --out.

With --snapshot FILE it analyses a saved inventory instead of calling AWS.

Exit codes: 0 no finding at or above --fail-on; 1 findings at or above
--fail-on; 2 nothing was scanned and no report written: an invalid flag
(named), a malformed snapshot, or a scan that could not start (no
credentials, endpoint unreachable, credentials rejected, organization not
readable; one line says why and what to do); 3 the scan is incomplete
(collection errors, coverage gaps, interrupted; the reports are still
written and list what was not collected).`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return a.runScan(cmd.Context(), f, cmd.Flags().Changed)
			},
		}
		fl := cmd.Flags()
		fl.StringVar(&f.snapshot, "snapshot", "", "analyse this inventory snapshot instead of scanning AWS")
		fl.StringVar(&f.formats, "format", "json", "report formats, comma-separated: json, sarif, html, xlsx, markdown, csv, or all")
		fl.StringVar(&f.out, "out", "out", "directory for the reports")
		fl.StringVar(&f.failOn, "fail-on", "none", "exit 1 when a finding is at or above this severity: critical, high, medium, low, info or none")
		fl.StringVar(&f.saveSnapshot, "save-snapshot", "", "also write the collected inventory to this file")
		fl.StringVar(&f.sarifCat, "sarif-category", "", "SARIF automationDetails.id category (default audit/ecs-execution-role)")
		fl.StringVar(&f.evidenceDir, "evidence-dir", "", "write evidence files (redacted task definitions, role policies) at the paths SARIF results point to")
		addLiveFlags(fl, f)
		return cmd
	})
}

func addLiveFlags(fl interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
	StringSliceVar(*[]string, string, []string, string)
	IntVar(*int, string, int, string)
}, f *scanFlags) {
	fl.StringVar(&f.profile, "profile", "", "AWS shared config profile (default: the SDK's default credential chain)")
	fl.StringVar(&f.region, "region", "", "home region for global calls (default from the AWS config, else us-east-1)")
	fl.BoolVar(&f.org, "org", false, "scan every ACTIVE account of the AWS Organization (management account or delegated administrator)")
	fl.StringSliceVar(&f.ous, "ou", nil, "with --org: only accounts under these OUs (recursive)")
	fl.StringSliceVar(&f.accounts, "accounts", nil, "only these account IDs")
	fl.StringSliceVar(&f.excludeAccounts, "exclude-accounts", nil, "skip these account IDs")
	fl.StringSliceVar(&f.regions, "regions", []string{"all"}, "regions to scan, or all (the regions enabled in each account)")
	fl.StringVar(&f.roleName, "role-name", "OrganizationAccountAccessRole", "role to assume in each account")
	fl.StringVar(&f.externalID, "external-id", "", "external ID for AssumeRole")
	fl.BoolVar(&f.allRevisions, "all-revisions", false, "evaluate every ACTIVE task definition revision, not only those in use and the latest of each family")
	fl.BoolVar(&f.noResolve, "no-resolve-resources", false, "do not look up what task definitions reference (secrets, parameters, KMS keys, ECR repositories and images, log groups, S3 objects) or its resource policies")
	fl.IntVar(&f.accountConc, "account-concurrency", 0, "accounts scanned at once (0 = default)")
	fl.IntVar(&f.regionConc, "region-concurrency", 0, "account×region pairs scanned at once (0 = default)")
	fl.IntVar(&f.maxAttempts, "max-attempts", 0, "SDK attempts per call, with adaptive retries (0 = default)")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress bar and no summary on stderr")
	fl.StringVar(&f.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
}

func (f *scanFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: expected debug, info, warn or error", f.logLevel)
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
		return 0, fmt.Errorf("--fail-on %q: expected critical, high, medium, low, info or none", s)
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

func (a *app) runScan(ctx context.Context, f *scanFlags, changed func(string) bool) error {
	formats, err := report.ParseFormats(f.formats)
	if err != nil {
		return usageErr(fmt.Errorf("--format: %w", err))
	}
	failRank, err := failOnRank(f.failOn)
	if err != nil {
		return usageErr(err)
	}
	logger, err := f.logger(a.stderr)
	if err != nil {
		return usageErr(err)
	}
	var inv *inventory.Inventory
	if f.snapshot != "" {
		for _, name := range []string{"org", "ou", "accounts", "exclude-accounts", "regions", "profile", "role-name", "external-id", "all-revisions"} {
			if changed(name) {
				return usageErr(fmt.Errorf("--%s cannot be used with --snapshot (the snapshot is analysed as it was collected)", name))
			}
		}
		inv, err = inventory.LoadWith(f.snapshot, inventory.Options{PolicyCheck: checkOrgPolicy})
		if err != nil {
			return usageErr(err)
		}
	} else {
		cfg := f.scannerConfig(logger)
		// Every check of the configuration, before any AWS call.
		if err := cfg.Validate(); err != nil {
			return usageErr(flagErrors(err))
		}
		bar := a.newProgress(f.quiet)
		cfg.Progress = bar.update
		inv, err = scanner.Collect(ctx, cfg)
		bar.finish()
		if err != nil {
			if inv == nil {
				return collectFailed(err)
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
	written, err := report.Write(res, inv, report.Options{Formats: formats, OutDir: f.out, SARIFCategory: f.sarifCat, EvidenceDir: f.evidenceDir, Stderr: a.stderr})
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
	if !res.Coverage.Complete || failed {
		return withCode(ExitIncomplete, nil)
	}
	if failRank > 0 {
		for _, fd := range res.Findings {
			if fd.Severity.Rank() >= failRank {
				return withCode(ExitFindings, nil)
			}
		}
	}
	return nil
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
	if !res.Coverage.Complete {
		fmt.Fprintf(w, "scan INCOMPLETE: %d collection errors, %d gaps (see coverage in the reports)\n", len(res.Coverage.Errors), len(res.Coverage.Gaps))
	}
	for _, p := range written {
		fmt.Fprintf(w, "wrote %s\n", report.Reveal(p))
	}
}

func (f *scanFlags) scannerConfig(logger *slog.Logger) scanner.Config {
	return scanner.Config{
		Profile: f.profile, Region: f.region, Org: f.org, OUs: f.ous, Accounts: f.accounts, ExcludeAccounts: f.excludeAccounts,
		Regions: f.regions, RoleName: f.roleName, ExternalID: f.externalID, AllRevisions: f.allRevisions,
		AccountConcurrency: f.accountConc, RegionConcurrency: f.regionConc, MaxAttempts: f.maxAttempts,
		Logger: logger, ResolveResources: !f.noResolve,
	}
}

// configFlags names the flag of each scanner.Config field a user sets.
var configFlags = map[string]string{
	"Profile": "--profile", "Region": "--region", "Org": "--org", "OUs": "--ou", "Accounts": "--accounts",
	"ExcludeAccounts": "--exclude-accounts", "Regions": "--regions", "RoleName": "--role-name", "ExternalID": "--external-id",
	"AccountConcurrency": "--account-concurrency", "RegionConcurrency": "--region-concurrency", "MaxAttempts": "--max-attempts",
}

func flagName(field string) string {
	if f, ok := configFlags[field]; ok {
		return f
	}
	return "the scanner setting " + field
}

// flagErrors renders the scanner's configuration errors with the flags
// that set the fields, one line each.
func flagErrors(err error) error {
	ces := scanner.ConfigErrors(err)
	if len(ces) == 0 {
		return err
	}
	lines := make([]string, 0, len(ces))
	for _, ce := range ces {
		s := flagName(ce.Field)
		if ce.Value != "" {
			s += fmt.Sprintf(" %q", ce.Value)
		}
		s += ": " + ce.Reason
		if ce.Needs != "" {
			s += " (needs " + flagName(ce.Needs) + ")"
		}
		lines = append(lines, s)
	}
	return errors.New(strings.Join(lines, "\naudit: "))
}

// collectFailed maps a scan that produced nothing to its exit code: 2 for
// a configuration the scanner refused or a scan that could not start (one
// line: the cause and what to do), 3 for one interrupted before it began.
func collectFailed(err error) error {
	if len(scanner.ConfigErrors(err)) > 0 {
		return usageErr(flagErrors(err))
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
