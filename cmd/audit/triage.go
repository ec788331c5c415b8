package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/report"
	"github.com/ecs-audit/audit/store"
	"github.com/ecs-audit/audit/triage"
)

// section is a block of the configuration file kept as read, for a decoder
// that needs the final value of other options.
type section struct {
	file string
	node *yaml.Node
}

// maxSuppressionDaysLimit bounds --max-suppression-days: ten years.
const maxSuppressionDaysLimit = 3650

// triageOptions are the checks of suppressions for a run at now. A scan
// accepts expired entries (they stop suppressing and the report says so).
func (f *scanFlags) triageOptions(now time.Time) triage.Options {
	return triage.Options{Now: now, MaxHorizon: time.Duration(f.maxSuppressionDays) * 24 * time.Hour}
}

// decodeSection checks the suppressions: section of the configuration file
// (every problem with its file, line and key) and keeps what it holds.
func (f *scanFlags) decodeSection(now time.Time) error {
	f.configSuppressions = nil
	if f.suppressionsSec == nil {
		return nil
	}
	s, err := triage.DecodeSuppressions(f.suppressionsSec.file, f.suppressionsSec.node, f.triageOptions(now))
	if err != nil {
		return usageErr(errorLines(err))
	}
	f.configSuppressions = s
	return nil
}

// readSuppressions reads the files of --suppressions-file and merges them
// after the configuration file's section; nil when there are none at all.
// Every problem of every file is reported.
func (f *scanFlags) readSuppressions(now time.Time) (*triage.Suppressions, error) {
	return loadSuppressions(f.configSuppressions, f.suppressionFiles, f.triageOptions(now), func(file string) string {
		return f.where("suppressions-file", file)
	})
}

// loadSuppressions reads files and merges them after fromConfig (nil when
// neither gives any). where names a file's source for an error that it
// cannot be read.
func loadSuppressions(fromConfig *triage.Suppressions, files []string, opts triage.Options, where func(string) string) (*triage.Suppressions, error) {
	if fromConfig == nil && len(files) == 0 {
		return nil, nil
	}
	sets := []*triage.Suppressions{fromConfig}
	var errs []error
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %s", where(file), file, fileReason(err)))
			continue
		}
		s, err := triage.ParseSuppressions(file, data, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sets = append(sets, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return triage.Merge(sets...), nil
}

// fileReason says in a few words why a file cannot be read.
func fileReason(err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.As(err, &pe):
		return "cannot read it: " + pe.Err.Error()
	}
	return err.Error()
}

// where names where the option name was set, to begin an error: its flag,
// its variable, or the file, line and key (of the item, for a list).
func (f *scanFlags) where(name, item string) string {
	o := f.opts.Lookup(name)
	if f.cfg == nil || o == nil {
		return "--" + name
	}
	if item != "" {
		return f.cfg.WhereItem(o, item)
	}
	return f.cfg.Where(o)
}

// optionError is an error about the value of the option name: where it
// was set, the value and the reason.
func (f *scanFlags) optionError(name, value string, err error) error {
	o := f.opts.Lookup(name)
	if f.cfg == nil || o == nil {
		return fmt.Errorf("--%s %q: %w", name, value, err)
	}
	return fmt.Errorf("%w", f.cfg.Problem(o, value, err.Error()))
}

// checkTogether checks the options that depend on each other, every
// problem on its line.
func (f *scanFlags) checkTogether() error {
	var errs []error
	s3 := store.IsS3URL(f.out)
	if f.outKMSKey != "" && !s3 {
		errs = append(errs, fmt.Errorf("%s: applies to --out s3://bucket/prefix/ only; the reports go to %q", f.where("out-kms-key", ""), f.out))
	}
	if sev, _ := parseFailOn(f.failOnNew); sev != "" && f.baseline == "" {
		errs = append(errs, fmt.Errorf("%s %q: needs --baseline, the findings.json of an earlier scan, to know what is new", f.where("fail-on-new", ""), f.failOnNew))
	}
	if s3 {
		// With an S3 destination the snapshot and the evidence are
		// objects of the run, named like the reports.
		for _, o := range []struct{ name, value, example string }{
			{"save-snapshot", f.saveSnapshot, "inventory.json"},
			{"evidence-dir", f.evidenceDir, "evidence"},
		} {
			if o.value == "" {
				continue
			}
			if err := store.CheckName(o.value); err != nil {
				why := strings.TrimPrefix(err.Error(), fmt.Sprintf("object name %q ", o.value))
				errs = append(errs, f.optionError(o.name, o.value, fmt.Errorf("with --out s3://… it is stored with the reports, so give a name such as %s (this one %s)", o.example, why)))
			}
		}
	}
	return errors.Join(errs...)
}

// checkOut checks an --out value: an S3 destination is parsed strictly;
// a local directory (or -) is taken as given.
func checkOut(out string) error {
	if out == "" {
		return errors.New("empty: give a directory, s3://bucket/prefix/ or -")
	}
	if store.IsS3URL(out) || strings.HasPrefix(strings.ToLower(out), "s3:") {
		_, err := store.ParseDestination(out)
		return unquoted(err)
	}
	return nil
}

// unquoted drops the store's quoting of the value from its error (the
// caller quotes the value once, with its source).
func unquoted(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if strings.HasPrefix(msg, `"`) {
		if i := strings.Index(msg, `": `); i > 0 {
			return errors.New(msg[i+3:])
		}
	}
	return err
}

// checkKMSKey checks the form of an --out-kms-key value (KMS says whether
// the key exists).
func checkKMSKey(key string) error {
	if key == "" {
		return nil
	}
	if len(key) > 2048 {
		return errors.New("longer than 2048 characters")
	}
	for _, c := range key {
		if c > unicode.MaxASCII || !unicode.IsPrint(c) || c == ' ' {
			return errors.New("expected a key ID, key ARN, alias/NAME or alias ARN")
		}
	}
	return nil
}

// checkBaseline checks the form of a --baseline value.
func checkBaseline(s string) error {
	if s == "" {
		return nil
	}
	_, err := store.ParseObject(s)
	return unquoted(err)
}

// checkFiles checks a list of file names: none empty.
func checkFiles(files []string) error {
	for _, f := range files {
		if strings.TrimSpace(f) == "" {
			return errors.New("an empty file name in the list")
		}
	}
	return nil
}

// checkMaxDays checks --max-suppression-days.
func checkMaxDays(n int) error {
	if n < 1 || n > maxSuppressionDaysLimit {
		return fmt.Errorf("expected a number of days from 1 to %d", maxSuppressionDaysLimit)
	}
	return nil
}

// storeAWS says how package store reaches S3: with the scan's profile,
// the rest from the SDK's default chain (the region, AWS_ENDPOINT_URL);
// store follows a bucket to its region.
func (f *scanFlags) storeAWS() store.AWS {
	return store.AWS{Profile: f.live.Profile}
}

// readBaseline reads and parses the baseline at src (a local path or
// s3://bucket/key). A baseline that does not exist yet (the first run of a
// schedule) is not an error: it is an empty baseline, every finding is
// new, and note says so. What counts as "does not exist": a missing local
// file; on S3, NoSuchKey, or an access denied that a listing of the key's
// prefix shows to be a missing object (S3 answers a read of a missing key
// with access denied when the caller may not list it). Any other failure,
// and a file that is not a findings.json, is an error.
func readBaseline(ctx context.Context, src string, a store.AWS) (b *triage.Baseline, note string, err error) {
	rc, err := store.Read(ctx, src, a)
	if err != nil {
		missing := errors.Is(err, fs.ErrNotExist)
		if !missing && errors.Is(err, fs.ErrPermission) && store.IsS3URL(src) {
			missing = listedAsMissing(ctx, src, a)
		}
		if !missing {
			return nil, "", unwrapPath(err)
		}
		// An empty findings.json of this version: no time, no findings.
		empty := &triage.Baseline{Source: src, SchemaVersion: findings.ResultSchemaVersion}
		return empty, "baseline " + src + " does not exist yet (a first run): every finding is new", nil
	}
	defer rc.Close()
	// Read as a stream (triage.ReadBaseline): the file itself, or a copy
	// of the S3 object in a temporary file.
	var in *partInput
	if fl, ok := rc.(*os.File); ok {
		if st, err := fl.Stat(); err == nil && st.Mode().IsRegular() {
			in = &partInput{ReaderAt: fl, Closer: fl, size: st.Size()}
		}
	}
	if in == nil {
		if in, err = localCopy(rc, ""); err != nil {
			return nil, "", err
		}
		defer in.Close()
	}
	b, err = triage.ReadBaseline(in, in.size)
	if err != nil {
		return nil, "", err
	}
	b.Source = src
	return b, "", nil
}

// listedAsMissing lists the prefix of the S3 object src and says whether
// the listing succeeded and holds no such object.
func listedAsMissing(ctx context.Context, src string, a store.AWS) bool {
	dir, name := path.Split(strings.TrimPrefix(src, store.Scheme))
	if name == "" || !strings.Contains(dir, "/") {
		return false
	}
	objs, err := store.List(ctx, store.Scheme+dir, a)
	if err != nil {
		return false
	}
	for _, o := range objs {
		if o.Name == name {
			return false
		}
	}
	return true
}

// unwrapPath shortens a local file error: the caller names the file.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return errors.New(fileReason(err))
	}
	return err
}

// applyTriage applies the suppressions and the baseline (either may be
// nil) to src's findings as they are read, and prints what needs
// attention (stale and expired suppressions, ones about to expire,
// baseline findings of unknown state) on stderr.
func (a *app) applyTriage(src findings.Source, s *triage.Suppressions, b *triage.Baseline, now time.Time) (findings.Source, error) {
	if s != nil || b != nil {
		var err error
		if src, err = triage.Annotate(src, s, b, now); err != nil {
			return nil, err
		}
	}
	for _, w := range triage.Warnings(src.Header()) {
		fmt.Fprintf(a.stderr, "audit: warning: %s\n", report.Reveal(w))
	}
	return src, nil
}

// outcome maps a Result to the exit code: 3 when the scan is incomplete
// (it wins over 1, so that a partial scan never looks clean), 1 when a
// finding no suppression accepts is at or above failOn, or a new one at or
// above failOnNew ("" never fails), else 0. The findings are counted as
// src gives them, annotated by triage, as the reports and the summary
// read them.
func outcome(src findings.Source, failOn, failOnNew findings.Severity) error {
	if incomplete(src.Header()) {
		return withCode(ExitIncomplete, nil)
	}
	failing, failingNew, err := findings.SourceFailing(src, failOn, failOnNew)
	if err != nil {
		return withCode(ExitIncomplete, err)
	}
	if failing > 0 || failingNew > 0 {
		return withCode(ExitFindings, nil)
	}
	return nil
}
