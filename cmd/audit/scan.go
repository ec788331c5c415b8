package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/internal/config"
	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
	"github.com/ecs-audit/audit/report"
	"github.com/ecs-audit/audit/scanner"
	"github.com/ecs-audit/audit/triage"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// scanFlags holds the options of `audit scan` (and, in part, `audit demo`),
// defined once in scanOptions.
type scanFlags struct {
	snapshot     string
	formats      []string
	out          string
	outKMSKey    string
	failOn       string
	failOnNew    string
	saveSnapshot string
	sarifCat     string
	evidenceDir  string

	// Triage: the baseline, the suppressions files and the suppressions:
	// section of the configuration file (kept as read, decoded by
	// validate).
	baseline           string
	suppressionFiles   []string
	maxSuppressionDays int
	suppressionsSec    *section
	configSuppressions *triage.Suppressions

	// live holds the options of a live scan in the scanner's own fields.
	live      scanner.Config
	noResolve bool
	// shard is --shard as given: "", K/N or auto/N.
	shard string

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

Accepted risks (suppressions) come from the suppressions: section of the
configuration file and from --suppressions-file; a suppressed finding is
still reported, with its justification, owner and expiry, and --fail-on
ignores it. --baseline marks every finding new or unchanged against the
findings.json of an earlier scan (a path or s3://bucket/key) and lists the
fixed ones; --fail-on-new fails only on new findings.

--out s3://bucket/prefix/ writes the reports (and --save-snapshot and
--evidence-dir, given as names) under prefix/<UTC time>/, encrypted
(SSE-S3, or SSE-KMS with --out-kms-key), then copies them to prefix/latest/
once every one was written and the scan is complete; the next run's
--baseline is s3://bucket/prefix/latest/findings.json.

Exit codes: 0 no finding at or above --fail-on (suppressed findings do not
count) and no new finding at or above --fail-on-new; 1 otherwise; 2 nothing
was scanned and no report written: an invalid option (named with its flag,
variable, or file and line), an invalid suppression (file, line and key), a
baseline or snapshot that cannot be read, an output location that cannot be
opened, or a scan that could not start (no credentials, endpoint
unreachable, credentials rejected, organization not readable; one line says
why and what to do); 3 the scan is incomplete (collection errors, coverage
gaps, interrupted) or a report could not be written; the reports are still
written and list what was not collected. 3 wins over 1.

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

// parseFailOn reads a --fail-on or --fail-on-new severity: "" for none
// (never fail).
func parseFailOn(s string) (findings.Severity, error) {
	if strings.EqualFold(s, "none") || s == "" {
		return "", nil
	}
	sev, ok := findings.ParseSeverity(s)
	if !ok {
		return "", errors.New("expected critical, high, medium, low, info or none")
	}
	return sev, nil
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
// its configuration; the options that go together (checkTogether); and the
// suppressions: section of the configuration file, checked against now.
// Errors name where each value was set.
func (f *scanFlags) validate(now time.Time) error {
	if f.snapshot != "" {
		if err := f.snapshotConflicts(); err != nil {
			return err
		}
	} else if err := f.scannerConfig(nil).Validate(); err != nil {
		return usageErr(f.configErrors(err))
	}
	if err := f.checkTogether(); err != nil {
		return usageErr(errorLines(err))
	}
	return f.decodeSection(now)
}

// outputPlan is what scan and merge deliver, from the flags: the formats,
// the failure thresholds, and whether standard output can take them.
func (f *scanFlags) outputPlan(now time.Time, stdout io.Writer) (plan, error) {
	formats, err := report.ParseFormats(strings.Join(f.formats, ","))
	if err != nil {
		return plan{}, usageErr(fmt.Errorf("--format: %w", err))
	}
	p := plan{formats: formats, now: now}
	if p.failOn, err = parseFailOn(f.failOn); err != nil {
		return plan{}, usageErr(fmt.Errorf("--fail-on %q: %w", f.failOn, err))
	}
	if p.failOnNew, err = parseFailOn(f.failOnNew); err != nil {
		return plan{}, usageErr(fmt.Errorf("--fail-on-new %q: %w", f.failOnNew, err))
	}
	if err := checkStdout(f.out, formats, stdout); err != nil {
		return plan{}, usageErr(err)
	}
	return p, nil
}

func (a *app) runScan(ctx context.Context, f *scanFlags) error {
	now := time.Now()
	if err := f.validate(now); err != nil {
		return err
	}
	p, err := f.outputPlan(now, a.stdout)
	if err != nil {
		return err
	}
	logger, err := f.logger(a.stderr)
	if err != nil {
		return usageErr(err)
	}
	if memoryLimitNote != "" {
		logger.Info(memoryLimitNote)
	}
	// Everything local is read before the first AWS call: the accepted
	// risks, and the snapshot.
	if p.suppressions, err = f.readSuppressions(now); err != nil {
		return usageErr(errorLines(err))
	}
	var inv *inventory.Inventory
	var stream accountSource
	if f.snapshot != "" {
		// Offline, little is live and much is allocated: see heapfloor.go.
		defer offlineHeapFloor()()
		lopts := inventory.Options{PolicyCheck: checkOrgPolicy}
		if f.saveSnapshot == "" && f.evidenceDir == "" {
			// Read account by account as the evaluation goes (see
			// analyseAndWrite): the header and what accounts may reference
			// in each other are read and checked now.
			st, err := inventory.OpenStream(f.snapshot, lopts)
			if err != nil {
				return usageErr(err)
			}
			defer st.Close()
			inv, stream = st.Index, snapshotSource{st, f.snapshot}
		} else if inv, err = inventory.LoadWith(f.snapshot, lopts); err != nil {
			// Saved again or copied into evidence files: read whole.
			return usageErr(err)
		}
	}
	// The shard, and {shard} in --out.
	shard, err := f.resolveShard(a.lookupEnv)
	if err != nil {
		return usageErr(err)
	}
	if strings.Contains(f.out, shardPlaceholder) {
		if !shard.Enabled() {
			return usageErr(fmt.Errorf("--out %q: %s stands for the shard's index, and --shard is not set", f.out, shardPlaceholder))
		}
		f.out = strings.ReplaceAll(f.out, shardPlaceholder, strconv.Itoa(shard.Index))
	}
	// Then where the reports go and the baseline, so that a wrong bucket,
	// region or credentials fail in seconds rather than after the scan.
	if p.sink, err = f.openSink(ctx, now); err != nil {
		return usageErr(err)
	}
	if f.baseline != "" {
		var note string
		p.baseline, note, err = readBaseline(ctx, f.baseline, f.storeAWS())
		if err != nil {
			return usageErr(f.optionError("baseline", f.baseline, err))
		}
		if note != "" {
			fmt.Fprintf(a.stderr, "audit: note: %s\n", report.Reveal(note))
		}
	}
	if f.snapshot == "" {
		cfg := f.scannerConfig(logger)
		cfg.Shard = shard
		bar := a.newProgress(f.quiet)
		cfg.Progress = bar.update
		if f.evidenceDir != "" {
			// The evidence files copy what was collected: held whole.
			inv, err = scanner.Collect(ctx, cfg)
		} else {
			// Each account's collected data waits in a spool file
			// until it is evaluated (see analyseAndWrite).
			var col *scanner.Collection
			if col, err = scanner.CollectEach(ctx, cfg); col != nil {
				defer col.Close()
				inv, stream = col.Index, col
			}
		}
		bar.finish()
		if err != nil {
			if inv == nil {
				return f.collectFailed(err)
			}
			fmt.Fprintf(a.stderr, "audit: %s\n", report.Reveal(err.Error()))
		}
		inv.ToolVersion = toolVersion()
	}
	return a.analyseAndWrite(ctx, inv, stream, f, p)
}

// interruptedWriteTimeout bounds the writing of the reports of an
// interrupted scan (uploads to S3).
const interruptedWriteTimeout = 2 * time.Minute

// plan is what a run does after collecting: the reports, the triage and
// the exit code's thresholds.
type plan struct {
	formats []string
	// failOn and failOnNew are the thresholds ("" never fails).
	failOn, failOnNew findings.Severity
	// suppressions and baseline are nil when not given.
	suppressions *triage.Suppressions
	baseline     *triage.Baseline
	// sink is where the files go; nil means the local --out directory.
	sink *sink
	// now is the run's time: suppressions expire against it, and it names
	// the dated key of an S3 destination.
	now time.Time
}

// accountSource hands over the accounts of an inventory one at a time, in
// the order of its Index: a snapshot read account by account, or a live
// scan's spool.
type accountSource interface {
	Accounts(visit func(i int, a *inventory.Account) error) error
	// Close releases what the source holds (its file, its Index); it may
	// be called more than once.
	Close() error
}

// snapshotSource is a snapshot read account by account: an error is bad
// input (exit 2), named with the file.
type snapshotSource struct {
	st   *inventory.Stream
	path string
}

// Close closes the file and lets the Index go.
func (s snapshotSource) Close() error {
	err := s.st.Close()
	s.st.Index = nil
	return err
}

func (s snapshotSource) Accounts(visit func(int, *inventory.Account) error) error {
	err := s.st.Accounts(visit)
	var le *inventory.LoadError
	if err != nil && !errors.As(err, &le) {
		err = fmt.Errorf("%s: %w", s.path, err)
	}
	if err != nil {
		return usageErr(err)
	}
	return nil
}

// analyseAndWrite evaluates the inventory, applies the triage, writes the
// reports (and the snapshot and evidence) and maps the outcome to an exit
// code.
//
// With stream (a snapshot read account by account, or a live scan's
// spool), inv is its Index and the accounts are read and evaluated one at
// a time; a snapshot that turns out to be invalid in an account exits 2,
// naming the file, the JSON path and the byte offset, before any report is
// written.
func (a *app) analyseAndWrite(ctx context.Context, inv *inventory.Inventory, stream accountSource, f *scanFlags, p plan) error {
	out := p.sink
	if out == nil {
		out = &sink{dir: f.out}
	}
	if ctx.Err() != nil {
		// Interrupted (Ctrl-C, a deadline): what was collected is still
		// written, to S3 too, for a bounded time.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), interruptedWriteTimeout)
		defer cancel()
	}
	failed := false
	var written []string
	if f.saveSnapshot != "" {
		loc, err := out.snapshot(ctx, f.saveSnapshot, inv, stream)
		if err != nil {
			fmt.Fprintf(a.stderr, "audit: writing snapshot: %s\n", report.Reveal(err.Error()))
			failed = true // the reports are still written
		} else {
			written = append(written, loc)
		}
	}
	// A live scan is evaluated as of now; a snapshot as of its collection
	// time, so that re-analysing it gives the same answer every time.
	evalNow := p.now
	if f.snapshot != "" {
		evalNow = time.Time{}
	}
	// Each account is evaluated on its own, on every core, and, unless the
	// evidence files need it later, released as soon as it is done.
	opts := findings.Options{ToolVersion: toolVersion(), Now: evalNow}
	// Each account's Result goes to a spool file as it is done, so that
	// the findings are not all held until the reports are written: each
	// report reads them back from it. The evidence files are written from
	// the whole Result, and where no spool file can be made (a read-only
	// file system) the Result is held in memory, as before.
	var spool *findings.Spool
	if f.evidenceDir == "" {
		var err error
		if spool, err = findings.NewSpool(f.live.SpoolDir); err != nil {
			fmt.Fprintf(a.stderr, "audit: note: %s; the findings are held in memory (give a writable directory with --spool-dir or TMPDIR)\n", report.Reveal(err.Error()))
		}
	}
	if spool == nil {
		var res *findings.Result
		if stream != nil {
			var err error
			if res, err = findings.EvaluateEach(inv, opts, 0, stream.Accounts, nil); err != nil {
				return err
			}
		} else {
			res = findings.EvaluateAccounts(inv, opts, findings.AccountsOptions{Release: f.evidenceDir == ""})
		}
		findings.RestrictToShard(res, inv.Shard)
		return a.deliver(ctx, out, findings.ResultSource(res), res, inv, f, p, failed, written)
	}
	defer spool.Close()
	add := func(i int, r *findings.Result) error {
		if err := spool.Add(i, r); err != nil {
			return withCode(ExitIncomplete, err) // the disk, not the input
		}
		return nil
	}
	if stream != nil {
		if err := findings.EvaluateEachTo(inv, opts, 0, stream.Accounts, nil, add); err != nil {
			return err
		}
	} else if err := findings.EvaluateAccountsTo(inv, opts, findings.AccountsOptions{Release: true}, add); err != nil {
		return err
	}
	shard := inv.Shard
	if stream != nil {
		// Nothing reads the accounts or the Index again: what they hold
		// (every account's stub and resources) is free for the reports.
		if err := stream.Close(); err != nil {
			fmt.Fprintf(a.stderr, "audit: warning: %s\n", report.Reveal(err.Error()))
		}
		inv = nil
	}
	findings.RestrictToShard(spool.Header(), shard)
	return a.deliver(ctx, out, spool, nil, inv, f, p, failed, written)
}

// deliver applies the triage to src, writes the reports (and, with inv
// and whole, the evidence), commits an S3 run, prints the summary and maps
// the outcome to an exit code; failed and written carry what was already
// attempted (the snapshot). audit scan and audit merge end here. whole is
// the Result src reads, when it is held (the evidence files need it).
func (a *app) deliver(ctx context.Context, out *sink, src findings.Source, whole *findings.Result, inv *inventory.Inventory, f *scanFlags, p plan, failed bool, written []string) error {
	src, err := a.applyTriage(src, p.suppressions, p.baseline, p.now)
	if err != nil {
		fmt.Fprintf(a.stderr, "audit: %s\n", report.Reveal(err.Error()))
		return withCode(ExitIncomplete, nil)
	}
	res := src.Header()
	if f.evidenceDir == "" {
		// Nothing reads the inventory again: the memory it holds is free
		// for the reports.
		inv = nil
	}
	reports, err := out.reports(ctx, a, src, output{formats: p.formats, out: f.out, sarifCategory: f.sarifCat})
	written = append(written, reports...)
	if f.evidenceDir != "" && inv != nil && whole != nil {
		// Evidence files are copies of what was collected, so they come
		// from the inventory, not from the Result.
		ev, everr := out.evidence(ctx, whole, inv, f.evidenceDir)
		written = append(written, ev...)
		err = errors.Join(err, everr)
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "audit: writing reports: %s\n", report.Reveal(err.Error()))
		failed = true
	}
	var latest string
	news := false
	if out.dest != nil {
		var commitFailed bool
		latest, news, commitFailed = out.commit(ctx, res, failed)
		failed = failed || commitFailed
	}
	if !f.quiet {
		printSummary(a.stderr, res, written)
	}
	if latest != "" && (news || !f.quiet) {
		fmt.Fprintf(a.stderr, "audit: %s\n", report.Reveal(latest))
	}
	if failed {
		return withCode(ExitIncomplete, nil)
	}
	return outcome(src, p.failOn, p.failOnNew)
}

// printSummary writes the end-of-scan summary to the terminal: what was
// evaluated; the root causes by severity and the resources they affect;
// what the suppressions did and what changed since the baseline, when
// triage ran; what is missing; where the files went. Counts are ours;
// every string is passed through report.Reveal, so that a control or bidi
// character (from a path, a baseline's name, or from AWS) cannot move the
// cursor, send a terminal escape sequence or reorder the line.
func printSummary(w io.Writer, res *findings.Result, written []string) {
	fmt.Fprintf(w, "%d task definitions, %d execution roles, %d accounts: %s (", res.Summary.TaskDefinitions, res.Summary.Roles,
		len(res.Scope.Accounts), plural(res.Summary.Total, "root cause", "root causes"))
	for i, s := range findings.Severities {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%d %s", res.Summary.BySeverity[string(s)], report.Reveal(string(s)))
	}
	fmt.Fprint(w, ")")
	if aff := affectedText(res.Summary.Affected); aff != "" {
		fmt.Fprintf(w, " affecting %s", aff)
	}
	fmt.Fprintln(w)
	if t := res.Triage; t != nil {
		if s := t.Suppressions; s != nil {
			fmt.Fprintf(w, "accepted risks: %s suppressed, %s reopened (suppressions: %d active, %d expiring soon, %d expired, %d stale)\n",
				plural(s.Suppressed, "finding", "findings"), plural(s.Reopened, "finding", "findings"), s.Active, s.ExpiringSoon, s.Expired, s.Stale)
		}
		if b := t.Baseline; b != nil {
			since := "an empty baseline"
			if b.Source != "" {
				since = report.Reveal(b.Source)
			}
			if !b.GeneratedAt.IsZero() {
				since += " of " + b.GeneratedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "since %s: %d new, %d unchanged, %d fixed, %d unknown (not collected by this scan)\n",
				since, b.Counts.New, b.Counts.Unchanged, b.Counts.Fixed, b.Counts.Unknown)
		}
	}
	if incomplete(res) {
		fmt.Fprintf(w, "scan INCOMPLETE: %d collection errors, %d gaps (see coverage in the reports)\n", len(res.Coverage.Errors), len(res.Coverage.Gaps))
	}
	for _, p := range written {
		fmt.Fprintf(w, "wrote %s\n", report.Reveal(p))
	}
}

// affectedKinds orders the resource types of Summary.Affected in the
// summary line.
var affectedKinds = []string{findings.ResourceTaskDefinition, findings.ResourceService, findings.ResourceTask,
	findings.ResourceEventRule, findings.ResourceSchedule, findings.ResourceRole, findings.ResourceContainerInstance,
	findings.ResourcePolicy}

// affectedText reads "22 task definitions, 11 services, 7 roles, 3
// container instances"; types it does not know come last, by name.
func affectedText(m map[string]int) string {
	var parts []string
	known := map[string]bool{}
	for _, typ := range affectedKinds {
		known[typ] = true
		if n := m[typ]; n > 0 {
			one, many := findings.ResourceNoun(typ)
			parts = append(parts, plural(n, one, many))
		}
	}
	var other []string
	for typ, n := range m {
		if !known[typ] && n > 0 {
			other = append(other, fmt.Sprintf("%d %s", n, report.Reveal(typ)))
		}
	}
	sort.Strings(other)
	return strings.Join(append(parts, other...), ", ")
}

// plural is "1 finding" or "3 findings".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
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
