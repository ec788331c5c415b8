package report

import (
	"errors"
	"sync"

	"github.com/ecs-audit/audit/findings"
)

// fanout lets the writers of WriteSource, all running at once, read the
// findings of one Source together: the k-th pass of every writer over the
// findings is one pass over the Source (one merge of a spool's parts,
// each finding decoded once), handed to each writer in batches. A pass
// reads at most fanoutWindow batches ahead of the slowest writer that
// reads it (and, for the first pass, that may still start it), so that
// what it holds stays small; the writers share the findings they are
// given and do not change them.
//
// A reader must not start a pass over the findings while it reads another:
// it would wait for itself. A writer that reads the findings in several
// parts at once (the workbook's tables, each over one sheet or several)
// gives each part after the first a fork of its reader (see fork), made
// before it reads; a part that is done, or will not read, leaves. The
// roles and task definitions are read from the Source by each writer on
// its own.
type fanout struct {
	src     findings.Source
	mu      sync.Mutex
	changed sync.Cond // a batch was read, a reader moved on, joined or left
	readers []*fanReader
	passes  []*fanPass
}

// fanoutBatch is how many findings a batch holds, fanoutWindow how many
// batches a pass reads ahead of its slowest reader. Findings in flight are
// what the reports' peak holds (a finding of the bench's is ~13 KB
// decoded, its evidence and affected resources included, and a writer
// that reads the findings again, SARIF's beyond GitHub's limits, reads
// passes of its own beside the shared one): with batches of 256 the live
// scan of 2,000 accounts held ~4,000 findings at its peak, 333–374 MiB
// RSS; with 64, 257 MiB, at the same time (a batch takes ~1 ms to decode,
// far more than handing it over).
const (
	fanoutBatch  = 64
	fanoutWindow = 4
)

// fanPass is one pass over the Source's findings.
type fanPass struct {
	k       int
	base    int // the number of batches[0]
	batches [][]*findings.Finding
	end     bool // every batch was read, or err
	err     error
}

// fanReader is one writer's Source (or one of its forks).
type fanReader struct {
	f       *fanout
	started int      // passes started
	in      *fanPass // the pass being read
	pos     int      // the next batch of in to read
	closed  bool     // the writer is done
	forks   []*fanReader
}

var _ findings.Source = (*fanReader)(nil)

func newFanout(src findings.Source) *fanout {
	f := &fanout{src: src}
	f.changed.L = &f.mu
	return f
}

// reader is a Source for one writer: its passes over the findings are
// shared; close it when the writer is done.
func (f *fanout) reader() *fanReader {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &fanReader{f: f}
	f.readers = append(f.readers, r)
	return r
}

// close says the writer will read no more, nor its forks.
func (r *fanReader) close() {
	f := r.f
	f.mu.Lock()
	defer f.mu.Unlock()
	r.closeLocked()
	f.changed.Broadcast()
}

func (r *fanReader) closeLocked() {
	r.closed, r.in = true, nil
	for _, k := range r.forks {
		k.closeLocked()
	}
}

// leave says this reader will read no more, while its forks may: a part
// of the writer that is done with the findings, or will never read them
// (its reader holds back the first pass until it starts it or leaves). It
// must not be called while the reader reads a pass.
func (r *fanReader) leave() {
	f := r.f
	f.mu.Lock()
	defer f.mu.Unlock()
	r.closed, r.in = true, nil
	f.changed.Broadcast()
}

// fork is a further reader for the same writer, whose passes are counted
// on their own: a part of the writer that reads the findings at the same
// time as another (the workbook's tables) reads them from a fork. A fork
// made before the writer's first pass is let go of its first batch reads
// that pass with the others. Leaving or closing the fork, or closing the
// writer's reader, says it will read no more.
func (r *fanReader) fork() *fanReader {
	f := r.f
	f.mu.Lock()
	defer f.mu.Unlock()
	k := &fanReader{f: f, closed: r.closed}
	f.readers = append(f.readers, k)
	r.forks = append(r.forks, k)
	return k
}

func (r *fanReader) Header() *findings.Result { return r.f.src.Header() }
func (r *fanReader) Len() (int, int, int)     { return r.f.src.Len() }
func (r *fanReader) EachRole(fn func(*findings.RoleReport) error) error {
	return r.f.src.EachRole(fn)
}
func (r *fanReader) EachTaskDefinition(fn func(*findings.TaskDefReport) error) error {
	return r.f.src.EachTaskDefinition(fn)
}
func (r *fanReader) EachAccountRoles(fn func(string, []*findings.RoleReport) error) error {
	return r.f.src.EachAccountRoles(fn)
}
func (r *fanReader) EachAccountTaskDefinitions(fn func(string, []*findings.TaskDefReport) error) error {
	return r.f.src.EachAccountTaskDefinitions(fn)
}

// EachFinding reads the writer's next pass, shared with the other
// writers' pass of the same number.
func (r *fanReader) EachFinding(fn func(*findings.Finding) error) error {
	f := r.f
	f.mu.Lock()
	if r.closed || r.in != nil {
		f.mu.Unlock()
		return errors.New("report: a pass over the findings started while another was read")
	}
	k := r.started
	r.started++
	for len(f.passes) <= k {
		f.passes = append(f.passes, nil)
	}
	p := f.passes[k]
	if p == nil {
		p = &fanPass{k: k}
		f.passes[k] = p
		go f.read(p)
	}
	if p.base > 0 {
		// A later pass that went on without this reader (see lowest): it
		// reads its own.
		f.mu.Unlock()
		return f.src.EachFinding(fn)
	}
	r.in, r.pos = p, p.base
	f.changed.Broadcast()
	defer func() {
		r.in = nil
		f.changed.Broadcast()
		f.mu.Unlock()
	}()
	for {
		for r.pos >= p.base+len(p.batches) && !p.end {
			f.changed.Wait()
		}
		if r.pos >= p.base+len(p.batches) {
			return p.err
		}
		b := p.batches[r.pos-p.base]
		f.mu.Unlock()
		var err error
		for _, x := range b {
			if err = fn(x); err != nil {
				break
			}
		}
		f.mu.Lock()
		if err != nil {
			return err
		}
		r.pos++
		f.changed.Broadcast()
	}
}

// errFanoutDone stops a pass no writer reads any more.
var errFanoutDone = errors.New("report: no writer reads the pass")

// read reads pass p from the Source, a batch at a time, as the writers
// let it.
func (f *fanout) read(p *fanPass) {
	batch := make([]*findings.Finding, 0, fanoutBatch)
	publish := func() error {
		f.mu.Lock()
		defer f.mu.Unlock()
		for {
			low, wanted := f.lowest(p)
			if !wanted {
				return errFanoutDone
			}
			// Let go of what every reader has read.
			if drop := low - p.base; drop > 0 {
				clear(p.batches[:drop])
				p.batches = p.batches[drop:]
				p.base = low
			}
			if p.base+len(p.batches)-low < fanoutWindow {
				break
			}
			f.changed.Wait()
		}
		p.batches = append(p.batches, batch)
		f.changed.Broadcast()
		return nil
	}
	err := f.src.EachFinding(func(x *findings.Finding) error {
		batch = append(batch, x)
		if len(batch) < fanoutBatch {
			return nil
		}
		err := publish()
		batch = make([]*findings.Finding, 0, fanoutBatch)
		return err
	})
	if err == nil && len(batch) > 0 {
		err = publish()
	}
	if err == errFanoutDone {
		err = nil
	}
	f.mu.Lock()
	p.end, p.err = true, err
	f.changed.Broadcast()
	f.mu.Unlock()
}

// lowest is the first batch of p a reader still needs: the position of
// the slowest reader of p, or, for the first pass, the first batch while
// a writer may still start it (every writer starts at once, and most
// begin with the findings). A later pass does not wait for writers that
// have not started it: one that does once its first batch is let go reads
// a pass of its own. wanted is false when no writer reads p or may start
// it. f.mu is held.
func (f *fanout) lowest(p *fanPass) (low int, wanted bool) {
	for _, r := range f.readers {
		var at int
		switch {
		case r.in == p:
			at = r.pos
		case p.k == 0 && !r.closed && r.started == 0:
			at = 0 // it may still start p
		default:
			continue
		}
		if !wanted || at < low {
			low, wanted = at, true
		}
	}
	return low, wanted
}
