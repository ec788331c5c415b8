package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/report"
	"github.com/ecs-audit/audit/scanner"
	"github.com/ecs-audit/audit/store"
	"github.com/spf13/cobra"
)

// mergeOptions are the options of scan that merge takes too: the
// reports, the triage and the terminal.
var mergeOptions = []string{"format", "out", "out-kms-key", "fail-on", "fail-on-new", "sarif-category", "baseline",
	"suppressions-file", "max-suppression-days", "quiet", "profile", "spool-dir"}

const mergeLong = `merge combines the findings.json of every shard of a sharded scan (audit scan
--shard K/N) into the reports of the whole scope, as an unsharded scan would
have written them: the same findings (IDs, root causes, evidence), coverage,
summary and rule catalog; only the times differ. Each finding belongs to one
account, and each shard looked up what its task definitions reference in the
other shards' accounts, so the shards' findings are those of the unsharded
scan.

Each PART is a findings.json, a directory holding one, or an s3:// prefix
holding one (the --out of a shard's scan: its findings.json, or that of its
latest/ run). The parts must be the N shards of one scan: one organization,
one N, one scope, one version of audit. A missing shard, a shard given twice,
another N, organization, scope or version is refused with an error naming
the files (exit 2); with --allow-partial, missing shards are recorded as
coverage gaps instead, and merge exits 3.

The reports go to --out as those of audit scan do (a directory, - for one
format on standard output, or s3://bucket/prefix/ with a dated key and
latest/); --suppressions-file, --baseline, --fail-on and --fail-on-new apply
to the merged result as they do to a scan's.

Exit codes: as for audit scan: 0, 1 (a finding at or above --fail-on, or a
new one at or above --fail-on-new), 2 (a part that cannot be read or does
not belong with the others, an invalid option), 3 (a shard recorded an
incomplete scan, a shard is missing with --allow-partial, or a report could
not be written). 3 wins over 1.

`

func init() {
	subcommands = append(subcommands, func(a *app) *cobra.Command {
		fl := newScanFlags()
		allowPartial := false
		cmd := &cobra.Command{
			Use:   "merge PART...",
			Short: "Merge the findings.json of the shards of a sharded scan into the reports of the whole scope",
			Long:  mergeLong + report.FormatHelp(),
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.runMerge(cmd.Context(), args, fl, allowPartial)
			},
		}
		fl.opts.AddFlags(cmd.Flags(), mergeOptions...)
		cmd.Flags().BoolVar(&allowPartial, "allow-partial", false, "merge although shards are missing: they are recorded as coverage gaps (exit 3)")
		return cmd
	})
}

// mergePart is one shard's result and where it was read: its header,
// checked against the others', then its lists, read as a stream.
type mergePart struct {
	src    string
	res    *findings.Result // the header (no lists)
	stream *report.ResultStream
}

// mergeChunk is how many findings (roles, task definitions) of a part
// are held at a time on their way to the spool.
var mergeChunk = 4096

func (a *app) runMerge(ctx context.Context, args []string, f *scanFlags, allowPartial bool) error {
	now := time.Now()
	// The options' own checks (merge reads flags only, not the file or the
	// environment, so Load does not run them).
	for _, name := range mergeOptions {
		if o := f.opts.Lookup(name); o != nil && o.Check != nil {
			if err := o.Check(); err != nil {
				return usageErr(fmt.Errorf("--%s: %w", name, err))
			}
		}
	}
	if err := f.checkTogether(); err != nil {
		return usageErr(errorLines(err))
	}
	p, err := f.outputPlan(now, a.stdout)
	if err != nil {
		return err
	}
	if p.suppressions, err = f.readSuppressions(now); err != nil {
		return usageErr(errorLines(err))
	}
	// Each part is read a first time for its header and checked; the
	// files stay open for the second reading, of their lists.
	var files []io.Closer
	defer func() {
		for _, fl := range files {
			fl.Close()
		}
	}()
	var parts []mergePart
	for _, arg := range args {
		part, fl, err := readPart(ctx, arg, f.storeAWS(), f.live.SpoolDir)
		if fl != nil {
			files = append(files, fl)
		}
		if err != nil {
			return usageErr(err)
		}
		parts = append(parts, part)
	}
	ordered, opts, err := mergeParts(parts, allowPartial)
	if err != nil {
		return usageErr(err)
	}
	src, done, err := a.mergeLists(ordered, opts, f.live.SpoolDir)
	if err != nil {
		return usageErr(err)
	}
	defer done()
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
	out := p.sink
	if out == nil {
		out = &sink{dir: f.out}
	}
	return a.deliver(ctx, out, src, nil, nil, f, p, false, nil)
}

// mergeLists reads the lists of the parts, in order, into a spool in
// dir, and returns the Source of the merged Result and what removes the
// spool. Where no spool file can be made, the parts are merged in memory.
func (a *app) mergeLists(parts []mergePart, opts findings.MergeOptions, dir string) (findings.Source, func(), error) {
	heads := make([]*findings.Result, len(parts))
	for i, p := range parts {
		heads[i] = p.res
	}
	spool, err := findings.NewSpool(dir)
	if err != nil {
		fmt.Fprintf(a.stderr, "audit: note: %s; the findings are held in memory (give a writable directory with --spool-dir or TMPDIR)\n", report.Reveal(err.Error()))
		whole := make([]*findings.Result, len(parts))
		for i, p := range parts {
			r := *p.res
			err := p.stream.Lists(report.ListVisitor{
				Finding:        func(f *findings.Finding) error { r.Findings = append(r.Findings, *f); return nil },
				Role:           func(x *findings.RoleReport) error { r.Roles = append(r.Roles, *x); return nil },
				TaskDefinition: func(x *findings.TaskDefReport) error { r.TaskDefinitions = append(r.TaskDefinitions, *x); return nil },
			})
			if err != nil {
				return nil, nil, err
			}
			whole[i] = &r
		}
		return findings.ResultSource(findings.Merge(whole, opts)), func() {}, nil
	}
	l := findings.NewListSpool(spool, mergeChunk, true)
	for _, p := range parts {
		err := p.stream.Lists(report.ListVisitor{Finding: l.AddFinding, Role: l.AddRole, TaskDefinition: l.AddTaskDefinition})
		if err == nil {
			err = l.Flush()
		}
		if err != nil {
			spool.Close()
			return nil, nil, err
		}
	}
	return findings.MergeSpooled(heads, opts, spool), func() { spool.Close() }, nil
}

// readPart reads and checks the findings.json of one shard (the file, the
// one in the directory, or on S3 the one under the prefix or under its
// latest/) and returns it with its header, and what closes the file it
// reads (nil when nothing is open).
func readPart(ctx context.Context, arg string, aws store.AWS, dir string) (mergePart, io.Closer, error) {
	if store.IsS3URL(arg) {
		cands := []string{arg}
		if !strings.HasSuffix(arg, ".json") {
			base := strings.TrimSuffix(arg, "/") + "/"
			cands = []string{base + "findings.json", base + "latest/findings.json"}
		}
		for _, c := range cands {
			rc, err := store.Read(ctx, c, aws)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return mergePart{}, nil, fmt.Errorf("%s: %w", c, err)
			}
			in, err := localCopy(rc, dir)
			rc.Close()
			if err != nil {
				return mergePart{}, nil, fmt.Errorf("%s: %w", c, err)
			}
			part, err := scanPart(in, c)
			return part, in, err
		}
		return mergePart{}, nil, fmt.Errorf("%s: no findings.json there (looked for %s)", arg, strings.Join(cands, " and "))
	}
	src := arg
	if st, err := os.Stat(arg); err == nil && st.IsDir() {
		src = filepath.Join(arg, report.FileName(report.FormatJSON))
	}
	fl, err := os.Open(src)
	if err != nil {
		return mergePart{}, nil, fmt.Errorf("%s: %w", src, unwrapPath(err))
	}
	in := &partInput{ReaderAt: fl, Closer: fl}
	st, err := fl.Stat()
	if err == nil && st.IsDir() {
		err = &fs.PathError{Op: "read", Path: src, Err: syscall.EISDIR}
	}
	if err != nil {
		fl.Close()
		return mergePart{}, nil, fmt.Errorf("%s: %w", src, unwrapPath(err))
	}
	in.size = st.Size()
	part, err := scanPart(in, src)
	return part, in, err
}

// partInput is a part's findings.json, open.
type partInput struct {
	io.ReaderAt
	io.Closer
	size int64
}

// scanPart reads the header of the part in in (src names it) and checks
// that it is a shard's.
func scanPart(in *partInput, src string) (mergePart, error) {
	rs, err := report.ScanResult(in, in.size, src)
	if err != nil {
		return mergePart{}, err
	}
	if rs.Header.Shard == nil {
		return mergePart{}, fmt.Errorf("%s: not the result of a shard (it has no shard field): audit merge combines the findings.json of audit scan --shard K/N", src)
	}
	return mergePart{src: src, res: rs.Header, stream: rs}, nil
}

// localCopy copies r (an S3 object) to a temporary file in dir (the
// system's when empty), removed as it is made, so that it can be read
// twice without a second download; where no file can be made, into
// memory.
func localCopy(r io.Reader, dir string) (*partInput, error) {
	fl, err := os.CreateTemp(dir, "audit-part-*.json")
	if err != nil {
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		return &partInput{ReaderAt: bytes.NewReader(data), Closer: io.NopCloser(nil), size: int64(len(data))}, nil
	}
	os.Remove(fl.Name())
	n, err := io.Copy(fl, r)
	if err != nil {
		fl.Close()
		return nil, err
	}
	return &partInput{ReaderAt: fl, Closer: fl, size: n}, nil
}

// mergeParts checks that the parts are the shards of one scan (their
// headers tell) and returns them in the order of their shards, with what
// the merge must know of the missing ones. Every refusal names the files.
func mergeParts(parts []mergePart, allowPartial bool) ([]mergePart, findings.MergeOptions, error) {
	first := parts[0]
	fs := first.res.Shard
	byIndex := map[int]mergePart{}
	var errs []error
	for _, p := range parts {
		sh := p.res.Shard
		switch {
		case sh.Count != fs.Count:
			errs = append(errs, fmt.Errorf("%s is shard %d of %d, and %s of %d: the shards of one scan share N", p.src, sh.Index, sh.Count, first.src, fs.Count))
			continue
		case sh.OrganizationID != fs.OrganizationID:
			errs = append(errs, fmt.Errorf("%s is of organization %q, and %s of %q", p.src, sh.OrganizationID, first.src, fs.OrganizationID))
			continue
		case p.res.Scope.Partition != first.res.Scope.Partition:
			errs = append(errs, fmt.Errorf("%s is of partition %q, and %s of %q", p.src, p.res.Scope.Partition, first.src, first.res.Scope.Partition))
			continue
		case !sameScope(sh, fs):
			errs = append(errs, fmt.Errorf("%s scanned another scope (%s) than %s (%s): the shards of one scan share --org, --ou, --accounts, --exclude-accounts and --regions",
				p.src, scopeText(sh), first.src, scopeText(fs)))
			continue
		case p.res.Tool.Version != first.res.Tool.Version:
			errs = append(errs, fmt.Errorf("%s was written by audit %s, and %s by audit %s: run every shard with one version", p.src, p.res.Tool.Version, first.src, first.res.Tool.Version))
			continue
		}
		if q, dup := byIndex[sh.Index]; dup {
			errs = append(errs, fmt.Errorf("shard %d of %d is given twice: %s and %s", sh.Index, sh.Count, q.src, p.src))
			continue
		}
		for _, id := range sh.Accounts {
			if k := scanner.ShardOf(id, sh.Count); k != sh.Index {
				errs = append(errs, fmt.Errorf("%s, shard %d of %d, lists account %s, which belongs to shard %d", p.src, sh.Index, sh.Count, id, k))
				break
			}
		}
		byIndex[sh.Index] = p
	}
	if len(errs) > 0 {
		return nil, findings.MergeOptions{}, errors.Join(errs...)
	}
	var missing []int
	for k := range fs.Count {
		if _, ok := byIndex[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 && !allowPartial {
		var given []string
		for _, k := range slices.Sorted(mapsKeys(byIndex)) {
			given = append(given, fmt.Sprintf("%d (%s)", k, byIndex[k].src))
		}
		return nil, findings.MergeOptions{}, fmt.Errorf("shard %s of %d missing (given: %s); give every shard, or --allow-partial to merge what is there and record the missing shards as coverage gaps",
			joinInts(missing), fs.Count, strings.Join(given, ", "))
	}
	var ordered []mergePart
	for _, k := range slices.Sorted(mapsKeys(byIndex)) {
		ordered = append(ordered, byIndex[k])
	}
	return ordered, findings.MergeOptions{Missing: missing, Count: fs.Count, AccountsInScope: fs.AccountsInScope}, nil
}

func mapsKeys(m map[int]mergePart) iter.Seq[int] {
	return func(yield func(int) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func joinInts(ks []int) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = fmt.Sprint(k)
	}
	return strings.Join(s, ", ")
}

func sameScope(a, b *inventory.Shard) bool {
	x, y := a.Scope, b.Scope
	return x.Org == y.Org && slices.Equal(sorted(x.OUs), sorted(y.OUs)) && slices.Equal(sorted(x.Accounts), sorted(y.Accounts)) &&
		slices.Equal(sorted(x.ExcludeAccounts), sorted(y.ExcludeAccounts)) && slices.Equal(sorted(x.Regions), sorted(y.Regions))
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func scopeText(sh *inventory.Shard) string {
	s := sh.Scope
	var parts []string
	if s.Org {
		parts = append(parts, "--org")
	}
	for _, o := range []struct {
		name string
		v    []string
	}{{"--ou", s.OUs}, {"--accounts", s.Accounts}, {"--exclude-accounts", s.ExcludeAccounts}, {"--regions", s.Regions}} {
		if len(o.v) > 0 {
			parts = append(parts, o.name+" "+strings.Join(o.v, ","))
		}
	}
	return strings.Join(parts, " ")
}
