package report

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
)

// countingSource counts the passes over its findings, and fails the pass
// numbered failPass (from 1) after failAfter findings.
type countingSource struct {
	findings.Source
	passes              atomic.Int32
	failPass, failAfter int
}

var errSourceBroke = errors.New("the source broke")

func (c *countingSource) EachFinding(fn func(*findings.Finding) error) error {
	pass := int(c.passes.Add(1))
	n := 0
	return c.Source.EachFinding(func(f *findings.Finding) error {
		if pass == c.failPass && n == c.failAfter {
			return errSourceBroke
		}
		n++
		return fn(f)
	})
}

// TestFanout: writers that read the findings once, twice, in part or
// not at all, at their own pace and at once, each get every finding of
// each pass in the Source's order, and the Source is read once for each
// pass number, not once for each writer's pass.
func TestFanout(t *testing.T) {
	res := bigResult(3000) // a dozen batches, more than the window
	var want []string
	if err := findings.ResultSource(res).EachFinding(func(f *findings.Finding) error {
		want = append(want, f.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	errStop := errors.New("stop")
	type plan struct {
		passes int // whole passes
		stopAt int // then a pass stopped after this many findings (-1: none)
	}
	plans := []plan{{1, -1}, {2, -1}, {1, -1}, {0, 100}, {0, -1}, {1, 2000}}
	for round := range 5 {
		src := &countingSource{Source: findings.ResultSource(res)}
		f := newFanout(src)
		var wg sync.WaitGroup
		errs := make([]error, len(plans))
		readers := make([]*fanReader, len(plans))
		for i := range plans {
			readers[i] = f.reader() // all of them before any starts, as WriteSource does
		}
		for i, p := range plans {
			r := readers[i]
			rng := rand.New(rand.NewPCG(uint64(round), uint64(i)))
			wg.Go(func() {
				defer r.close()
				for pass := range p.passes {
					var got []string
					err := r.EachFinding(func(x *findings.Finding) error {
						got = append(got, x.ID)
						if rng.IntN(500) == 0 {
							time.Sleep(time.Millisecond)
						}
						return nil
					})
					if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
						errs[i] = fmt.Errorf("pass %d: %d findings (error %v), want the %d of the Source in order", pass, len(got), err, len(want))
						return
					}
				}
				if p.stopAt >= 0 {
					n := 0
					err := r.EachFinding(func(x *findings.Finding) error {
						if x.ID != want[n] {
							return fmt.Errorf("finding %d is %s, want %s", n, x.ID, want[n])
						}
						n++
						if n == p.stopAt {
							return errStop
						}
						return nil
					})
					if err != errStop {
						errs[i] = fmt.Errorf("stopped pass: error %v, want the writer's own", err)
					}
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, writer %d: %v", round, i, err)
			}
		}
		// Pass 1: writers 0, 1, 2, 3 (stopped), 5, once; pass 2: writer
		// 1 and writer 5 (stopped), once, or each its own when one starts
		// it after the other has gone on.
		if got := src.passes.Load(); got < 2 || got > 3 {
			t.Errorf("round %d: the Source was read %d times, want 2 or 3", round, got)
		}
	}
}

// TestFanoutError: an error of the Source in a pass reaches every writer
// reading it; a writer that starts a pass while it reads another gets an
// error instead of waiting for itself.
func TestFanoutError(t *testing.T) {
	res := bigResult(2000)
	src := &countingSource{Source: findings.ResultSource(res), failPass: 1, failAfter: 1500}
	f := newFanout(src)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	readers := []*fanReader{f.reader(), f.reader(), f.reader()}
	for i := range errs {
		r := readers[i]
		wg.Go(func() {
			defer r.close()
			errs[i] = r.EachFinding(func(*findings.Finding) error { return nil })
		})
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, errSourceBroke) {
			t.Errorf("writer %d: error %v, want the Source's", i, err)
		}
	}

	f = newFanout(findings.ResultSource(res))
	r := f.reader()
	defer r.close()
	err := r.EachFinding(func(*findings.Finding) error {
		return r.EachFinding(func(*findings.Finding) error { return nil })
	})
	if err == nil {
		t.Fatal("a pass started inside another: no error")
	}
}

// TestFanoutLateReader: a writer that starts a later pass once another
// writer has read past its first batch reads a pass of its own, whole.
func TestFanoutLateReader(t *testing.T) {
	res := bigResult(3000)
	src := &countingSource{Source: findings.ResultSource(res)}
	f := newFanout(src)
	a, b := f.reader(), f.reader()
	count := func(r *fanReader) int {
		n := 0
		if err := r.EachFinding(func(*findings.Finding) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer a.close()
		count(a)
		count(a) // the second pass, without b
	}()
	if n := count(b); n != 3000 {
		t.Fatalf("first pass: %d findings", n)
	}
	<-done
	if n := count(b); n != 3000 {
		t.Fatalf("second pass, started late: %d findings", n)
	}
	b.close()
	if got := src.passes.Load(); got != 3 {
		t.Errorf("the Source was read %d times, want 3 (the first pass shared)", got)
	}
}

// TestWriteSourceReadsFindingsOnce: writing every format reads the
// findings of the Source twice: once for the view's counts, once for
// every format, the workbook's tables of findings included (Findings,
// Affected items, and after triage Accepted risks and Changes, read at
// once, each in one reading however many sheets it spans). The HTML
// report after a comparison reads them once more (the new findings
// first), on its own. The workbook alone reads them once after the
// view's counts.
func TestWriteSourceReadsFindingsOnce(t *testing.T) {
	withCatalog(t)
	for _, tt := range []struct {
		name    string
		res     *findings.Result
		maxRows int // 0: Excel's
		formats []string
		want    int32
	}{
		{"every format", bigResult(2000), 0, AllFormats, 2},
		{"every format, tables split", bigResult(2000), 500, AllFormats, 2},
		{"every format, triaged", bigTriagedResult(2000), 0, AllFormats, 3},
		{"every format but HTML, triaged, tables split", bigTriagedResult(2000), 300,
			[]string{FormatJSON, FormatSARIF, FormatXLSX, FormatMarkdown, FormatCSV}, 2},
		{"the workbook, triaged, tables split", bigTriagedResult(2000), 300, []string{FormatXLSX}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.maxRows > 0 {
				withMaxSheetRows(t, tt.maxRows)
			}
			src := &countingSource{Source: findings.ResultSource(tt.res)}
			written, err := WriteSource(src, Options{Formats: tt.formats, OutDir: t.TempDir(), Stderr: io.Discard})
			if err != nil || len(written) != len(tt.formats) {
				t.Fatalf("wrote %v: %v", written, err)
			}
			if got := src.passes.Load(); got != tt.want {
				t.Errorf("the findings were read %d times, want %d", got, tt.want)
			}
			if len(tt.formats) == 1 {
				src := &countingSource{Source: findings.ResultSource(tt.res)}
				if err := RenderSource(io.Discard, src, tt.formats[0], Options{}); err != nil {
					t.Fatal(err)
				}
				if got := src.passes.Load(); got != tt.want {
					t.Errorf("rendered alone, the findings were read %d times, want %d", got, tt.want)
				}
			}
		})
	}
}
