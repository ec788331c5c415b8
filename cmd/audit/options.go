package main

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/ecs-audit/audit/internal/config"
	"github.com/ecs-audit/audit/report"
	"github.com/ecs-audit/audit/scanner"
	"github.com/ecs-audit/audit/triage"
)

// scanOptions is the one definition of the options of `audit scan`. Each
// entry feeds the flag --NAME, the variable AUDIT_NAME, the key NAME of
// audit.yaml, the help, `audit config print`, the README's flag table and
// the checks of its value; `audit demo` takes a few of them. Adding an
// option is one entry here (and the variable that holds it). The options
// of a live scan are bound to the scanner's own Config fields, so that the
// scanner's configuration errors name the option (and where it was set)
// without a second table.
func scanOptions(f *scanFlags) *config.Set {
	live := &f.live
	return &config.Set{
		EnvPrefix:   "AUDIT_",
		FileFlag:    "config",
		DefaultFile: "audit.yaml",
		Options: []*config.Option{
			// What to scan: refused with a snapshot, which is analysed as
			// it was collected.
			{Name: "org", Value: config.Bool(&live.Org, false), Snapshot: config.SnapshotRefused,
				Help: "scan every ACTIVE account of the AWS Organization (management account or delegated administrator)"},
			{Name: "ou", Value: config.List(&live.OUs, nil), Meta: "IDS", Snapshot: config.SnapshotRefused,
				Help: "with --org: only accounts under these OUs (recursive)",
				Doc:  "with `--org`: only accounts under these OUs, recursively"},
			{Name: "accounts", Value: config.List(&live.Accounts, nil), Meta: "IDS", Snapshot: config.SnapshotRefused,
				Help: "only these account IDs",
				Doc:  "only these account IDs (without `--org`, the role is assumed in each of them)"},
			{Name: "exclude-accounts", Value: config.List(&live.ExcludeAccounts, nil), Meta: "IDS", Snapshot: config.SnapshotRefused,
				Help: "skip these account IDs"},
			{Name: "regions", Value: config.List(&live.Regions, []string{"all"}), Meta: "LIST", Snapshot: config.SnapshotRefused,
				Help: "regions to scan, or all (the regions enabled in each account)",
				Doc:  "regions to scan, or `all`: the regions enabled in each account (disabled opt-in regions are listed in coverage)"},
			{Name: "role-name", Value: config.String(&live.RoleName, scanner.DefaultRoleName), Meta: "NAME", Snapshot: config.SnapshotRefused,
				Help: "role to assume in each account",
				Doc:  "role to assume in each account (may include a path); the caller's own account uses the caller's credentials"},
			{Name: "external-id", Value: config.String(&live.ExternalID, ""), Meta: "ID", Snapshot: config.SnapshotRefused, Sensitive: true,
				Help: "external ID for AssumeRole",
				Doc:  "external ID for AssumeRole; never printed, not even by `audit config print`"},
			{Name: "profile", Value: config.String(&live.Profile, ""), Meta: "NAME", Snapshot: config.SnapshotRefused,
				Help: "AWS shared config profile (default: the SDK's default credential chain)"},
			{Name: "shard", Value: config.String(&f.shard, ""), Meta: "K/N", Snapshot: config.SnapshotRefused,
				Help:  "scan only shard K of N of the accounts in scope (K 0-based); auto/N takes K from JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX; audit merge combines the shards",
				Doc:   "scan only shard `K` of `N` (`K` 0-based, 0 to N-1) of the accounts in scope, chosen by a stable hash of the account ID; `auto/N` takes `K` from `JOB_COMPLETION_INDEX` (Kubernetes Indexed Job) or `AWS_BATCH_JOB_ARRAY_INDEX` (AWS Batch array job); `audit merge` combines the shards' results (see [Sharded scans](#sharded-scans))",
				Check: func() error { _, _, err := parseShard(f.shard); return err }},
			{Name: "all-revisions", Value: config.Bool(&live.AllRevisions, false), Snapshot: config.SnapshotRefused,
				Help: "evaluate every ACTIVE task definition revision, not only those in use and the latest of each family"},

			// How to scan: no effect on a snapshot.
			{Name: "region", Value: config.String(&live.Region, ""), Meta: "REGION", Snapshot: config.SnapshotIgnored,
				Help: "home region for global calls (default from the AWS config, else us-east-1)",
				Doc:  "home region for global calls (empty: from the AWS config, else `us-east-1`)"},
			{Name: "no-resolve-resources", Value: config.Bool(&f.noResolve, false), Snapshot: config.SnapshotIgnored,
				Help: "do not look up what task definitions reference (secrets, parameters, KMS keys, ECR repositories and images, log groups, S3 objects) or its resource policies, nor the network path of awsvpc launches",
				Doc:  "fast mode: do not look up what task definitions reference (secrets, parameters, KMS keys, ECR repositories and images, log groups, S3 objects, and their resource policies), nor the network path (subnets, route tables, VPC endpoints, NAT and internet gateways) of awsvpc launches; the snapshot records both as skipped. Tasks, EventBridge rules and Scheduler schedules are always collected"},
			{Name: "account-concurrency", Value: config.Int(&live.AccountConcurrency, scanner.DefaultAccountConcurrency), Meta: "N", Snapshot: config.SnapshotIgnored,
				Help: "accounts scanned at once (0 keeps the default)"},
			{Name: "region-concurrency", Value: config.Int(&live.RegionConcurrency, scanner.DefaultRegionConcurrency), Meta: "N", Snapshot: config.SnapshotIgnored,
				Help: "account×region pairs scanned at once (0 keeps the default)"},
			{Name: "spool-dir", Value: config.String(&live.SpoolDir, ""), Meta: "DIR",
				Help: "directory for the scan's temporary spool files: each account's collected data and findings, kept on disk until evaluated and written (default: the system's temporary directory)",
				Doc:  "directory for the scan's temporary spool files (removed when the scan ends): what each account collected, compressed, from the end of its scan until it is evaluated (live scans), and each account's findings until the reports are written, so that memory does not grow with the Organization; empty: `$TMPDIR`, else `/tmp`"},
			{Name: "max-attempts", Value: config.Int(&live.MaxAttempts, scanner.DefaultMaxAttempts), Meta: "N", Snapshot: config.SnapshotIgnored,
				Help: "SDK attempts per call, the first included, with retries (0 keeps the default)"},

			// What to analyse, and the reports.
			{Name: "snapshot", Value: config.String(&f.snapshot, ""), Meta: "FILE",
				Help: "analyse this inventory snapshot instead of scanning AWS"},
			{Name: "format", Value: config.List(&f.formats, []string{"json"}), Meta: "LIST",
				Help:  "report formats, comma-separated: " + report.FormatList() + ", or all",
				Doc:   "report formats: `" + strings.Join(report.AllFormats, "`, `") + "`, or `all` (see [Reports](#reports))",
				Check: func() error { _, err := report.ParseFormats(strings.Join(f.formats, ",")); return err }},
			{Name: "out", Value: config.String(&f.out, "out"), Meta: "DEST",
				Help:  "directory for the reports, s3://bucket/prefix/ (dated keys and latest/), or - for standard output (one format)",
				Doc:   "directory for the reports; `s3://bucket/prefix/` writes them under a dated key and then `latest/` (see [Reports on S3](#reports-on-s3)); `-` writes the one format `--format` names to standard output; with `--shard`, `{shard}` in it stands for the shard's index",
				Check: func() error { return checkOut(f.out) }},
			{Name: "out-kms-key", Value: config.String(&f.outKMSKey, ""), Meta: "KEY",
				Help:  "with --out s3://: encrypt the reports with SSE-KMS under this key (default SSE-S3)",
				Doc:   "with `--out s3://…`: encrypt every object with SSE-KMS under this key (key ID, key ARN, `alias/NAME` or alias ARN); empty: SSE-S3",
				Check: func() error { return checkKMSKey(f.outKMSKey) }},
			{Name: "fail-on", Value: config.String(&f.failOn, "none"), Meta: "SEVERITY",
				Help:  "exit 1 when a finding no suppression accepts is at or above this severity: critical, high, medium, low, info or none",
				Doc:   "exit 1 when a finding that no suppression accepts is at or above this severity: `critical`, `high`, `medium`, `low`, `info` or `none`",
				Check: func() error { _, err := parseFailOn(f.failOn); return err }},
			{Name: "fail-on-new", Value: config.String(&f.failOnNew, "none"), Meta: "SEVERITY",
				Help:  "with --baseline: exit 1 when a new finding (not suppressed) is at or above this severity",
				Doc:   "with `--baseline`: exit 1 when a finding that is new since the baseline (and not suppressed) is at or above this severity; `none` never",
				Check: func() error { _, err := parseFailOn(f.failOnNew); return err }},
			{Name: "save-snapshot", Value: config.String(&f.saveSnapshot, ""), Meta: "FILE",
				Help: "also write the collected inventory to this file (with --out s3://, an object of the run)",
				Doc:  "also write the collected inventory to this file; with `--out s3://…` a name such as `inventory.json`, stored with the reports"},
			{Name: "sarif-category", Value: config.String(&f.sarifCat, ""), Meta: "ID",
				Help: "SARIF automationDetails.id category (default audit/ecs-execution-role)",
				Doc:  "SARIF `automationDetails.id` category (empty: `audit/ecs-execution-role`)"},
			{Name: "evidence-dir", Value: config.String(&f.evidenceDir, ""), Meta: "DIR",
				Help: "write evidence files (redacted task definitions, role policies) at the paths SARIF results point to",
				Doc:  "write evidence files (redacted task definitions, role policies) at the paths SARIF results point to; with `--out s3://…` a name such as `evidence`, stored with the reports"},

			// Triage: accepted risks, and what changed since an earlier scan.
			{Name: "baseline", Value: config.String(&f.baseline, ""), Meta: "FILE",
				Help:  "the findings.json of an earlier scan (a path or s3://bucket/key): mark findings new or unchanged, list the fixed ones",
				Doc:   "the `findings.json` of an earlier scan, a path or `s3://bucket/key`: findings are marked new or unchanged and the baseline's gone ones listed as fixed (or unknown where this scan did not collect); a baseline that does not exist yet makes every finding new (see [What changed](#what-changed-baselines))",
				Check: func() error { return checkBaseline(f.baseline) }},
			{Name: "suppressions-file", Value: config.List(&f.suppressionFiles, nil), Meta: "FILES",
				Help:  "YAML files of accepted risks (suppressions), besides the suppressions: section of the configuration file",
				Doc:   "YAML files of accepted risks, besides the `suppressions:` section of the configuration file (see [Accepted risks](#accepted-risks-suppressions))",
				Check: func() error { return checkFiles(f.suppressionFiles) }},
			{Name: "max-suppression-days", Value: config.Int(&f.maxSuppressionDays, int(triage.DefaultMaxHorizon/(24*time.Hour))), Meta: "DAYS",
				Help:  "how far ahead a suppression's expiry date may lie",
				Doc:   "how far ahead a suppression's expiry date may lie, in days (1 to 3650)",
				Check: func() error { return checkMaxDays(f.maxSuppressionDays) }},

			// The terminal.
			{Name: "quiet", Value: config.Bool(&f.quiet, false),
				Help: "no progress bar and no summary on stderr",
				Doc:  "no progress bar (shown on a terminal) and no summary on stderr"},
			{Name: "log-level", Value: config.String(&f.logLevel, "warn"), Meta: "LEVEL",
				Help:  "log level: debug, info, warn, error",
				Doc:   "log level: `debug`, `info`, `warn` or `error`",
				Check: func() error { _, err := parseLogLevel(f.logLevel); return err }},
			{Name: "log-format", Value: config.String(&f.logFormat, "text"), Meta: "FORMAT",
				Help:  "log format: text or json (log/slog, on stderr)",
				Doc:   "log format: `text` or `json` (`log/slog`, on stderr)",
				Check: func() error { return checkLogFormat(f.logFormat) }},
		},
		// The accepted risks written in the configuration file itself; the
		// block is decoded (with the final max-suppression-days) by
		// package triage once every source is applied.
		Sections: []*config.Section{
			{Name: "suppressions", Help: "accepted risks: findings muted with a justification, an owner and an expiry date",
				Decode: func(file string, n *yaml.Node) error {
					f.suppressionsSec = &section{file: file, node: n}
					return nil
				}},
		},
	}
}

// newScanFlags returns the variables of the scan options, bound to their
// definitions.
func newScanFlags() *scanFlags {
	f := &scanFlags{}
	f.opts = scanOptions(f)
	return f
}

// load resolves the options from audit.yaml, the environment and the
// parsed flags (exit 2 on any error, each on its own line).
func (f *scanFlags) load(flags *pflag.FlagSet, lookupEnv func(string) (string, bool)) error {
	r, err := f.opts.Load(flags, lookupEnv)
	if err != nil {
		return usageErr(errorLines(err))
	}
	f.cfg = r
	return nil
}

// errorLines makes each line of a multi-line error a line of its own on
// stderr ("audit: " before each).
func errorLines(err error) error {
	return errors.New(strings.ReplaceAll(err.Error(), "\n", "\naudit: "))
}

// optionOfField returns the option bound to the scanner.Config field named
// field, or nil.
func (f *scanFlags) optionOfField(field string) *config.Option {
	v := reflect.ValueOf(&f.live).Elem().FieldByName(field)
	if !v.IsValid() || !v.CanAddr() || !v.Addr().CanInterface() {
		return nil
	}
	p := v.Addr().Interface()
	for _, o := range f.opts.Options {
		if o.Value.Target() == p {
			return o
		}
	}
	return nil
}

// problem renders one scanner configuration error with the option that
// set the field, and where: "--regions \"x\": ...", "AUDIT_REGIONS
// \"x\": ..." or "audit.yaml:4: regions \"x\": ...".
func (f *scanFlags) problem(ce *scanner.ConfigError) string {
	reason := ce.Reason
	if ce.Needs != "" {
		needs := "the scanner setting " + ce.Needs
		if o := f.optionOfField(ce.Needs); o != nil {
			needs = "--" + o.Name
		}
		reason += " (needs " + needs + ")"
	}
	o := f.optionOfField(ce.Field)
	if o == nil {
		s := "the scanner setting " + ce.Field
		if ce.Value != "" {
			s += fmt.Sprintf(" %q", ce.Value)
		}
		return s + ": " + reason
	}
	if f.cfg == nil {
		if ce.Value == "" || o.Sensitive {
			return "--" + o.Name + ": " + reason
		}
		return fmt.Sprintf("--%s %q: %s", o.Name, ce.Value, reason)
	}
	return f.cfg.Problem(o, ce.Value, reason).Error()
}

// snapshotConflicts refuses, with a snapshot, every option that says what
// to collect, whatever set it (flag, environment or file): the snapshot is
// analysed as it was collected.
func (f *scanFlags) snapshotConflicts() error {
	if f.snapshot == "" || f.cfg == nil {
		return nil
	}
	snap := f.opts.Lookup("snapshot")
	with := "--snapshot"
	switch src := f.cfg.Source(snap); src.Kind {
	case config.FromEnv:
		with = src.Var
	case config.FromFile:
		with = "snapshot (" + src.String() + ")"
	}
	var lines []string
	fromFile := false
	for _, o := range f.opts.Options {
		if src := f.cfg.Source(o); o.Snapshot == config.SnapshotRefused && src.Kind != config.FromDefault {
			lines = append(lines, fmt.Sprintf("%s cannot be used with %s (the snapshot is analysed as it was collected)", f.cfg.Where(o), with))
			fromFile = fromFile || src.Kind == config.FromFile
		}
	}
	if len(lines) == 0 {
		return nil
	}
	if fromFile {
		lines = append(lines, fmt.Sprintf("%s says what to scan; to analyse a snapshot without it: --%s ''", f.cfg.File, f.opts.FileFlag))
	}
	return usageErr(errors.New(strings.Join(lines, "\naudit: ")))
}
