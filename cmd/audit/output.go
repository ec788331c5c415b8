package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/report"
	"github.com/ecs-audit/audit/store"
)

// sink is where the files of one run go: a local directory (the reports
// in --out, or one format on standard output; the snapshot and the
// evidence at their own paths), or an S3 destination of package store,
// where every file is an object of the run under its dated key.
type sink struct {
	dir  string             // --out, when dest is nil
	dest *store.Destination // --out s3://bucket/prefix/
}

// openSink opens an S3 destination (nil for a local one): the AWS
// configuration is loaded and the bucket checked now, before the scan.
func (f *scanFlags) openSink(ctx context.Context, now time.Time) (*sink, error) {
	if !store.IsS3URL(f.out) {
		return nil, nil
	}
	d, err := store.Open(ctx, f.out, store.Options{Time: now, KMSKeyID: f.outKMSKey, AWS: f.storeAWS()})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.where("out", ""), err)
	}
	return &sink{dir: f.out, dest: d}, nil
}

// snapshot writes the inventory (to the file name, or as the object name
// of the run) and returns where it went. With src, inv is its Index and the
// accounts are written one at a time as src hands them over.
func (s *sink) snapshot(ctx context.Context, name string, inv *inventory.Inventory, src accountSource) (string, error) {
	// As inventory.Save writes a snapshot file.
	inv.FillPolicyStatuses()
	write := func(w io.Writer) error { return inventory.Write(w, inv) }
	if src != nil {
		write = func(w io.Writer) error {
			return inventory.WriteEach(w, inv, func(visit func(*inventory.Account) error) error {
				return src.Accounts(func(_ int, a *inventory.Account) error { return visit(a) })
			})
		}
	}
	if s.dest == nil {
		if err := inventory.WriteFileAtomic(name, write); err != nil {
			return "", err
		}
		return name, nil
	}
	o, err := s.dest.Put(ctx, name, write)
	return o.URL, err
}

// reports writes src in every format of o and returns where each went.
func (s *sink) reports(ctx context.Context, a *app, src findings.Source, o output) ([]string, error) {
	if s.dest == nil {
		return a.writeReports(src, o)
	}
	opts := report.Options{SARIFCategory: o.sarifCategory, Stderr: a.stderr}
	var written []string
	var errs []error
	done := map[string]bool{}
	for _, format := range o.formats {
		name := report.FileName(format)
		if done[name] {
			continue
		}
		done[name] = true
		obj, err := s.dest.Put(ctx, name, func(w io.Writer) error {
			return report.RenderSource(w, src, format, opts)
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		written = append(written, obj.URL)
	}
	return written, errors.Join(errs...)
}

// evidenceUploads is how many evidence files are uploaded at once.
const evidenceUploads = 8

// evidence writes the evidence files below dir (a directory, or on S3 a
// name prefix of the run's objects) and returns where they went.
func (s *sink) evidence(ctx context.Context, res *findings.Result, inv *inventory.Inventory, dir string) ([]string, error) {
	if s.dest == nil {
		return report.WriteEvidence(res, inv, dir)
	}
	// The evidence writer writes files: write them to a temporary
	// directory, then upload each as dir/<its path>.
	tmp, err := os.MkdirTemp("", "audit-evidence-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	files, werr := report.WriteEvidence(res, inv, tmp)
	var (
		mu      sync.Mutex
		written []string
		errs    = []error{werr}
		wg      sync.WaitGroup
		slots   = make(chan struct{}, evidenceUploads)
	)
	for _, file := range files {
		rel, err := filepath.Rel(tmp, file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		name := path.Join(dir, filepath.ToSlash(rel))
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			o, err := s.dest.Put(ctx, name, func(w io.Writer) error {
				r, err := os.Open(file)
				if err != nil {
					return err
				}
				defer r.Close()
				_, err = io.Copy(w, r)
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			written = append(written, o.URL)
		}()
	}
	wg.Wait()
	sort.Strings(written)
	return written, errors.Join(errs...)
}

// commit moves latest/ of an S3 destination to this run when the run wrote
// everything and the scan is complete: latest/findings.json is the next
// run's baseline, and an incomplete scan would make what it missed look new
// next time. It returns the line to show, whether it is news (anything but
// a success) and whether the run failed (latest/ could not be updated).
func (s *sink) commit(ctx context.Context, res *findings.Result, failed bool) (line string, news, commitFailed bool) {
	latest := s.dest.LatestURL()
	switch {
	case failed:
		return fmt.Sprintf("note: %s left as it was: a file of this run could not be written (what was written is under %s)", latest, s.dest.RunURL()), true, false
	case incomplete(res):
		return fmt.Sprintf("note: %s left at the last complete run: this scan is incomplete (it is under %s)", latest, s.dest.RunURL()), true, false
	}
	err := s.dest.Commit(ctx)
	var ce *store.CommitError
	switch {
	case err == nil:
		return fmt.Sprintf("%s now holds this run (%s)", latest, s.dest.RunURL()), false, false
	case errors.As(err, &ce) && ce.Committed:
		// latest/ names this run; only objects of the previous run that
		// this one did not write could not be removed.
		return "warning: " + err.Error(), true, false
	}
	return err.Error(), true, true
}
