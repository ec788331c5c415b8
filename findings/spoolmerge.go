package findings

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
)

// A spool's findings are ordered by severity, rule, then account: every
// account's list interleaves with every other's, and a merge of the
// parts' lists would read all of them at once, an element and a read
// buffer each (for every pass over the findings). So that what a merge
// holds does not grow with the number of parts, no merge reads more than
// spoolFanIn runs: as parts are added, every spoolFanIn runs of a level
// are merged, in a goroutine of the spool's, into one run of the next
// level, written to the spool file (an external merge sort, done while
// the parts come, so that little is left to merge when the spool is
// read); Header merges what is left until no more than spoolFanIn runs
// remain, which every pass over the findings then merges.
//
// A merged run is a run of the same elements, each preceded by the index
// of its part (uvarint): runs merged from parts added in any order keep
// the order of a stable sort of the parts' lists in index order, since
// elements that compare equal come by part index, and the elements of one
// part, which are in one run, in their order. Its length, element count
// and CRC-32 are checked like a part's; the runs it was merged from are
// read whole and checked before it is used.
//
// Merging copies the elements' bytes and decodes only what the order
// reads (spoolDecoder.key). The roles and task definitions are read
// account by account, a few parts at a time; a merge of them all
// (EachRole, EachTaskDefinition) merges runs of them into the spool file
// first when there are more than spoolFanIn (mergeRefs).

// spoolFanIn is the most runs a merge reads at once (a variable for the
// tests).
var spoolFanIn = 64

// runRef is a run a merge reads: a part's list (order is the part's
// index) or a merged run (tagged).
type runRef struct {
	order int
	run   spoolRun
}

// addRun adds a findings run of the level, and starts merging when a
// level is full. s.mu is held.
func (s *Spool) addRun(r runRef, level int) {
	for len(s.levels) <= level {
		s.levels = append(s.levels, nil)
	}
	s.levels[level] = append(s.levels[level], r)
	s.startMerging()
}

// startMerging starts mergeFindings unless it runs or there is nothing to
// merge. s.mu is held.
func (s *Spool) startMerging() {
	if s.merging || s.err != nil || s.f == nil {
		return
	}
	if _, level := s.nextMerge(false); level < 0 {
		return
	}
	s.merging = true
	go s.mergeFindings()
}

// nextMerge returns the runs to merge next and their level (-1 for none),
// taking them out of s.levels when take: spoolFanIn runs of the lowest
// level that has them; once the spool is sealed, while there are more
// than spoolFanIn runs, as many of the lowest levels' as bring them down
// to spoolFanIn (at most spoolFanIn). s.mu is held.
func (s *Spool) nextMerge(take bool) ([]runRef, int) {
	for l, rs := range s.levels {
		if len(rs) >= spoolFanIn {
			in := rs[:spoolFanIn:spoolFanIn]
			if take {
				s.levels[l] = rs[spoolFanIn:]
			}
			return in, l
		}
	}
	total := 0
	for _, rs := range s.levels {
		total += len(rs)
	}
	if !s.sealed || total <= spoolFanIn {
		return nil, -1
	}
	n := min(spoolFanIn, total-spoolFanIn+1)
	var in []runRef
	top := 0
	for l := range s.levels {
		k := min(n-len(in), len(s.levels[l]))
		in = append(in, s.levels[l][:k]...)
		if take {
			s.levels[l] = s.levels[l][k:]
		}
		top = l
		if len(in) == n {
			break
		}
	}
	return in, top
}

// mergeFindings merges findings runs while nextMerge gives some: each
// merge's run goes to the next level, which may start another. The first
// error is kept in s.err; Close stops it.
func (s *Spool) mergeFindings() {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.cond.Broadcast()
	for s.err == nil && s.f != nil {
		in, level := s.nextMerge(true)
		if level < 0 {
			break
		}
		s.mu.Unlock()
		out, err := mergeRunsTo(s, runFindings, in, CompareFindings)
		s.mu.Lock()
		if err != nil {
			if s.err == nil {
				s.err = err
			}
			break
		}
		for len(s.levels) <= level+1 {
			s.levels = append(s.levels, nil)
		}
		s.levels[level+1] = append(s.levels[level+1], out)
		// Nothing reads the merged runs any more (a part's findings are
		// read only through s.levels).
		for _, r := range in {
			freeRun(s.f, r.run)
		}
	}
	s.merging = false
}

// findingRuns makes sure the spool is sealed and its findings runs
// merged, and returns them.
func (s *Spool) findingRuns() []runRef {
	s.Header()
	s.mu.Lock()
	defer s.mu.Unlock()
	var refs []runRef
	for _, rs := range s.levels {
		refs = append(refs, rs...)
	}
	return refs
}

var errSpoolClosing = errors.New("findings spool: closed while merging")

// mergeRunsTo merges the runs into one tagged run, written to the spool
// file where it ends when the merge starts. The merged run's length is
// known ahead: its runs' lengths, and the index of each element of a
// part's run (a merged run's elements have theirs).
func mergeRunsTo[T any](s *Spool, run int, in []runRef, compare func(a, b *T) int) (runRef, error) {
	size, count := int64(0), 0
	for _, r := range in {
		size += r.run.size
		count += r.run.count
		if !r.run.tagged {
			size += int64(r.run.count * uvarintLen(r.order))
		}
	}
	s.mu.Lock()
	f, err := s.f, s.err
	off := s.off
	if f == nil && err == nil {
		err = errors.New("findings spool: closed")
	}
	if err == nil {
		s.off += size
	}
	s.mu.Unlock()
	if err != nil {
		return runRef{}, err
	}
	out := runRef{run: spoolRun{off: off, size: size, count: count, tagged: true}}
	w := runWriter{f: f, off: off, buf: getReadBuffer(spoolMaxBuffer)}
	defer func() { putReadBuffer(w.buf) }()
	h := &runHeap[T]{compare: compare}
	bufSize := readBufferSize(len(in))
	for i, r := range in {
		// A spare buffer each: the merge writes an element's bytes after
		// other cursors have read theirs.
		c := &runCursor[T]{seq: i, order: r.order, run: r.run, name: runNames[run], path: s.path, buf: new([]byte), keyOnly: true}
		c.open(f, bufSize)
		if err := c.next(); err != nil {
			return runRef{}, err
		}
		h.cs = append(h.cs, c)
	}
	// heap.Init, Fix and Pop, without their interface calls.
	for i := len(h.cs)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
	var tag [2 * binary.MaxVarintLen64]byte
	for n := 0; len(h.cs) > 0; n++ {
		if n%1024 == 0 && s.closing.Load() {
			return runRef{}, errSpoolClosing
		}
		c := h.cs[0]
		t := binary.AppendUvarint(tag[:0], uint64(c.order))
		t = binary.AppendUvarint(t, uint64(len(c.raw)))
		w.write(t)
		w.write(c.raw)
		if err := c.next(); err != nil {
			return runRef{}, err
		}
		if c.cur == nil {
			last := len(h.cs) - 1
			h.cs[0] = h.cs[last]
			h.cs = h.cs[:last]
		}
		h.down(0)
	}
	if err := w.flush(); err != nil {
		return runRef{}, fmt.Errorf("findings spool: writing %s: %w", s.path, err)
	}
	if w.n != size {
		return runRef{}, fmt.Errorf("findings spool %s: %s: merged %d bytes, want %d", s.path, runNames[run], w.n, size)
	}
	out.run.crc = w.crc
	return out, nil
}

// down moves the cursor at i down the heap to its place.
func (h *runHeap[T]) down(i int) {
	n := len(h.cs)
	for {
		l := 2*i + 1
		if l >= n || l < 0 {
			return
		}
		j := l
		if r := l + 1; r < n && h.Less(r, l) {
			j = r
		}
		if !h.Less(j, i) {
			return
		}
		h.cs[i], h.cs[j] = h.cs[j], h.cs[i]
		i = j
	}
}

// runWriter writes a run to the spool file at off, through buf, and sums
// it (CRC-32, IEEE).
type runWriter struct {
	f   *os.File
	off int64
	buf []byte
	w   int   // buf[:w] is not written yet
	n   int64 // bytes written or buffered
	crc uint32
	err error
}

func (w *runWriter) write(b []byte) {
	w.n += int64(len(b))
	w.crc = crc32.Update(w.crc, crc32.IEEETable, b)
	for len(b) > 0 && w.err == nil {
		k := copy(w.buf[w.w:], b)
		w.w += k
		b = b[k:]
		if w.w == len(w.buf) {
			w.flush()
		}
	}
}

func (w *runWriter) flush() error {
	if w.err == nil && w.w > 0 {
		_, w.err = w.f.WriteAt(w.buf[:w.w], w.off)
		w.off += int64(w.w)
		w.w = 0
	}
	return w.err
}

// key decodes what the order of the element's kind reads (for a finding:
// severity, rule, account, region, resource ARN and ID), which its
// encoding puts first, from the element's bytes b: each of those strings
// copied on its own, not the element's strings (start) nor its raw values.
func (d *spoolDecoder) key(b []byte, x any) {
	*d = spoolDecoder{b: b}
	n := d.count()
	if d.err != nil {
		return
	}
	strs := b[d.pos : d.pos+n]
	d.pos += n
	d.pos += d.count() // the raw values
	str := func() string {
		n := d.uvarint()
		if n == 0 || d.err != nil {
			return ""
		}
		off := d.uvarint()
		if d.err != nil || off > uint64(len(strs)) || n > uint64(len(strs))-off {
			d.fail("string")
			return ""
		}
		return string(strs[off : off+n])
	}
	switch x := x.(type) {
	case *Finding:
		x.ID = str()
		x.RuleID = str()
		x.Severity = Severity(str())
		x.Title = str()
		x.Message = str()
		x.AccountID = str()
		x.AccountName = str()
		x.Region = str()
		x.ResourceType = str()
		x.ResourceARN = str()
	case *RoleReport:
		x.RoleARN = str()
	case *TaskDefReport:
		x.ARN = str()
	default:
		d.fail(fmt.Sprintf("type %T", x))
	}
}
