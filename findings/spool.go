package findings

import (
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/bits"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/ecs-audit/audit/inventory"
)

// Spool holds the per-account Results of an evaluation (EvaluateAccount)
// on disk instead of in memory, and reads them back as the one Result
// MergeAccounts makes of them: its Header, and its findings, roles and
// task definitions one at a time, in MergeAccounts' order, by a k-way
// merge of the parts' sorted lists.
//
// Each part's three lists are written to one temporary file as the part
// is added (Add, from any goroutine, in any order) and dropped; what stays
// in memory is small: every part's scope accounts and coverage, the
// summary's counts, the rule catalog and tool of one part. A merge holds
// one element and a small buffer per run it reads, and reads at most
// spoolFanIn runs: the parts' findings are merged into longer runs as they
// come (spoolmerge.go).
//
// The parts are encoded element by element (spoolcodec.go), one run per
// list of a part, each with its length, element count and CRC-32 (a spool
// file is only read by the process that wrote it): a spool file that is
// cut short or damaged gives an error, never a shorter list (package
// findings does no other I/O: the spool is its only file, a temporary
// one, removed by Close).
type Spool struct {
	mu     sync.Mutex
	f      *os.File
	path   string
	off    int64
	err    error // the first write error: every later call returns it
	parts  []*spoolPart
	header *Result

	// The summary, counted as parts arrive.
	sum      Summary
	affected *DistinctCounter
	// rolesMixed, tdsMixed: a part holds roles (task definitions) of more
	// than one account (EachAccountRoles cannot take the parts one at a
	// time).
	rolesMixed, tdsMixed bool
	// annotated: a part's finding carries what triage adds.
	annotated bool

	// The findings' runs, merged into longer ones as parts are added, so
	// that a merge never reads more than spoolFanIn runs at once
	// (spoolmerge.go): by level (0: the parts' own lists; a run merged
	// from runs of level l is of level l+1), those not merged yet.
	levels [][]runRef
	// merging: a goroutine merges runs (mergeFindings); cond tells when it
	// ends. sealed: Header was called, no part comes any more.
	merging, sealed bool
	cond            *sync.Cond
	closing         atomic.Bool
}

// Unannotated says whether no finding added carries what triage adds
// (Suppression, SuppressionExpired, Change), as EvaluateAccount gives
// them: Failing is then counted from the summary.
func (s *Spool) Unannotated() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.annotated
}

// spoolPart is what a part leaves in memory.
type spoolPart struct {
	index int
	head  *Result // the part without its lists (and without its rules, but for the first part)
	runs  [3]spoolRun
	// roleAccount, tdAccount: the account of the part's roles (task
	// definitions), when they are of one account.
	roleAccount, tdAccount string
}

// The lists of a part.
const (
	runFindings = iota
	runRoles
	runTaskDefs
)

var runNames = [3]string{"findings", "roles", "task definitions"}

// spoolRun is where one list of a part is in the file.
type spoolRun struct {
	off, size int64
	count     int
	crc       uint32
	// tagged: each element is preceded by its part's index (uvarint), in a
	// run merged from several parts' lists (spoolmerge.go).
	tagged bool
}

// NewSpool creates a spool file in dir (os.TempDir() when empty).
func NewSpool(dir string) (*Spool, error) {
	f, err := os.CreateTemp(dir, "audit-spool-*")
	if err != nil {
		return nil, fmt.Errorf("findings spool: %w", err)
	}
	s := &Spool{f: f, path: f.Name(), affected: NewDistinctCounter(dir),
		sum: Summary{BySeverity: map[string]int{}, ByRule: map[string]int{}, ByAccount: map[string]int{}, Affected: map[string]int{}}}
	s.cond = sync.NewCond(&s.mu)
	return s, nil
}

// Path is the spool file's path.
func (s *Spool) Path() string { return s.path }

// Close removes the spool file, once a merge of runs under way stopped.
func (s *Spool) Close() error {
	s.closing.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.merging {
		s.cond.Wait()
	}
	if s.affected != nil {
		s.affected.Close()
		s.affected = nil
	}
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	if rerr := os.Remove(s.path); err == nil {
		err = rerr
	}
	s.f = nil
	return err
}

// Add writes the part at position index (the account's position in the
// inventory; the part of the errors no account owns comes last, as in
// EvaluateEach) to the spool and empties its lists. Parts may be added in
// any order from several goroutines, but not after Header or an Each
// method was called. Lists that are not in MergeAccounts' order are sorted
// first.
func (s *Spool) Add(index int, p *Result) error {
	if p == nil {
		return nil
	}
	if index < 0 || index > math.MaxInt32 {
		return fmt.Errorf("findings spool: part index %d out of range", index)
	}
	if !slices.IsSortedFunc(p.Findings, func(a, b Finding) int { return CompareFindings(&a, &b) }) {
		sortFindings(p.Findings)
	}
	if !slices.IsSortedFunc(p.Roles, func(a, b RoleReport) int { return compareRoles(&a, &b) }) {
		sort.SliceStable(p.Roles, func(i, j int) bool { return p.Roles[i].RoleARN < p.Roles[j].RoleARN })
	}
	if !slices.IsSortedFunc(p.TaskDefinitions, func(a, b TaskDefReport) int { return compareTaskDefs(&a, &b) }) {
		sort.SliceStable(p.TaskDefinitions, func(i, j int) bool { return p.TaskDefinitions[i].ARN < p.TaskDefinitions[j].ARN })
	}
	// The three lists, one after the other, in one buffer: ends[k] is
	// where list k ends.
	enc := spoolEncoders.Get().(*spoolEncoder)
	defer spoolEncoders.Put(enc)
	var ends [3]int
	var counts [3]int
	var err error
	b := enc.buf[:0]
	b, err = encodeRun(enc, b, p.Findings)
	ends[runFindings], counts[runFindings] = len(b), len(p.Findings)
	if err == nil {
		b, err = encodeRun(enc, b, p.Roles)
		ends[runRoles], counts[runRoles] = len(b), len(p.Roles)
	}
	if err == nil {
		b, err = encodeRun(enc, b, p.TaskDefinitions)
		ends[runTaskDefs], counts[runTaskDefs] = len(b), len(p.TaskDefinitions)
	}
	enc.buf = b
	if err != nil {
		return fmt.Errorf("findings spool: part %d: %w", index, err)
	}
	var crcs [3]uint32
	for k := range 3 {
		crcs[k] = crc32.ChecksumIEEE(b[runStart(ends, k):ends[k]])
	}
	part := &spoolPart{index: index}
	roleAccount, rolesMixed := oneAccount(p.Roles, func(r *RoleReport) string { return r.AccountID })
	tdAccount, tdsMixed := oneAccount(p.TaskDefinitions, func(t *TaskDefReport) string { return t.AccountID })
	part.roleAccount, part.tdAccount = roleAccount, tdAccount
	// The part's summary: counted here, outside the lock, but for the
	// resources it affects, which are counted once over every part.
	sev, rule, acct := map[string]int{}, map[string]int{}, map[string]int{}
	items := 0
	var keys [][16]byte
	var types []string
	var buf []byte
	annotated := false
	for i := range p.Findings {
		f := &p.Findings[i]
		annotated = annotated || f.Suppression != nil || f.SuppressionExpired != nil || f.Change != ""
		sev[string(f.Severity)]++
		rule[f.RuleID]++
		acct[f.AccountID]++
		items += f.Impact.Items
		for _, ref := range append([]ResourceRef{{Type: f.ResourceType, ARN: f.ResourceARN}}, f.Affected...) {
			// A SHA-256 prefix: an ARN an attacker chose cannot make two
			// resources count as one.
			var k [16]byte
			k, buf = DistinctKey(buf, ref.Type, ref.ARN)
			keys = append(keys, k)
			types = append(types, ref.Type)
		}
	}
	nf, nr, nt := len(p.Findings), len(p.Roles), len(p.TaskDefinitions)
	head := *p
	head.Findings, head.Roles, head.TaskDefinitions = nil, nil, nil
	part.head = &head
	p.Findings, p.Roles, p.TaskDefinitions = nil, nil, nil

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.f == nil {
		return errors.New("findings spool: closed")
	}
	if s.sealed {
		return errors.New("findings spool: part added after the spool was read")
	}
	if _, err := s.f.WriteAt(b, s.off); err != nil {
		s.err = fmt.Errorf("findings spool: writing %s: %w", s.f.Name(), err)
		return s.err
	}
	for k := range 3 {
		start := runStart(ends, k)
		part.runs[k] = spoolRun{off: s.off + int64(start), size: int64(ends[k] - start), count: counts[k], crc: crcs[k]}
	}
	s.off += int64(len(b))
	s.annotated = s.annotated || annotated
	s.rolesMixed = s.rolesMixed || rolesMixed
	s.tdsMixed = s.tdsMixed || tdsMixed
	s.parts = append(s.parts, part)
	if nf > 0 {
		s.addRun(runRef{order: index, run: part.runs[runFindings]}, 0)
	}
	s.sum.Total += nf
	s.sum.Roles += nr
	s.sum.TaskDefinitions += nt
	s.sum.Items += items
	for k, n := range sev {
		s.sum.BySeverity[k] += n
	}
	for k, n := range rule {
		s.sum.ByRule[k] += n
	}
	for k, n := range acct {
		s.sum.ByAccount[k] += n
	}
	for i, k := range keys {
		s.affected.AddKey(types[i], k)
	}
	return nil
}

// oneAccount is the account of every element, and whether there is more
// than one.
func oneAccount[T any](list []T, account func(*T) string) (string, bool) {
	if len(list) == 0 {
		return "", false
	}
	a := account(&list[0])
	for i := range list {
		if account(&list[i]) != a {
			return "", true
		}
	}
	return a, false
}

// Header is the Result MergeAccounts gives for the parts added, without
// its findings, roles and task definitions (nil; the summary counts them):
// read them with the Each methods. It is built once, on the first call,
// and no part can be added after it; the caller may change it (triage,
// RestrictToShard), and later calls return it as changed.
func (s *Spool) Header() *Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.header != nil {
		return s.header
	}
	// The findings' runs merged until a merge reads no more than
	// spoolFanIn (an error is kept in s.err, which every read returns).
	s.sealed = true
	s.startMerging()
	for s.merging {
		s.cond.Wait()
	}
	if s.header != nil {
		return s.header
	}
	slices.SortFunc(s.parts, func(a, b *spoolPart) int { return cmp.Compare(a.index, b.index) })
	if len(s.parts) == 0 {
		s.header = &Result{SchemaVersion: ResultSchemaVersion, Scope: Scope{Accounts: []AccountRef{}, Regions: []string{}},
			Coverage: Coverage{Complete: true, Errors: []inventory.CollectionError{}, Gaps: []string{}}}
		s.header.Summary = Summary{BySeverity: map[string]int{}, ByRule: map[string]int{}, ByAccount: map[string]int{}, Affected: map[string]int{}}
		for _, sv := range Severities {
			s.header.Summary.BySeverity[string(sv)] = 0
		}
		return s.header
	}
	first := s.parts[0].head
	r := &Result{SchemaVersion: first.SchemaVersion, Tool: first.Tool, GeneratedAt: first.GeneratedAt, Rules: first.Rules,
		Scope: Scope{Source: first.Scope.Source, CollectedAt: first.Scope.CollectedAt, Partition: first.Scope.Partition,
			OrganizationID: first.Scope.OrganizationID, Accounts: []AccountRef{}}}
	c := &r.Coverage
	c.Complete = true
	c.Errors = []inventory.CollectionError{}
	for _, p := range s.parts {
		r.Scope.Accounts = append(r.Scope.Accounts, p.head.Scope.Accounts...)
		c.add(p.head.Coverage)
		p.head = nil
	}
	finishParts(r)
	r.Summary = s.sum
	for _, sv := range Severities {
		r.Summary.BySeverity[string(sv)] += 0
	}
	if s.affected == nil {
		// Closed: every read says so.
		if s.err == nil {
			s.err = errors.New("findings spool: closed")
		}
	} else if counts, err := s.affected.Counts(); err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("findings spool: %w", err)
		}
	} else {
		r.Summary.Affected = counts
	}
	if s.affected != nil {
		if err := s.affected.Close(); err != nil && s.err == nil {
			s.err = fmt.Errorf("findings spool: %w", err)
		}
	}
	s.affected = nil
	s.header = r
	return r
}

// Len counts the findings, roles and task definitions of every part.
func (s *Spool) Len() (int, int, int) {
	s.Header()
	return s.sum.Total, s.sum.Roles, s.sum.TaskDefinitions
}

// Result reads the whole Result back into memory: the Header with every
// list. It equals MergeAccounts' Result of the parts.
func (s *Spool) Result() (*Result, error) {
	h := *s.Header()
	r := &h
	r.Findings = make([]Finding, 0, r.Summary.Total)
	r.Roles = make([]RoleReport, 0, r.Summary.Roles)
	r.TaskDefinitions = make([]TaskDefReport, 0, r.Summary.TaskDefinitions)
	if err := s.EachFinding(func(f *Finding) error { r.Findings = append(r.Findings, *f); return nil }); err != nil {
		return nil, err
	}
	if err := s.EachRole(func(x *RoleReport) error { r.Roles = append(r.Roles, *x); return nil }); err != nil {
		return nil, err
	}
	if err := s.EachTaskDefinition(func(x *TaskDefReport) error { r.TaskDefinitions = append(r.TaskDefinitions, *x); return nil }); err != nil {
		return nil, err
	}
	return r, nil
}

// EachFinding visits every part's findings in MergeAccounts' order. They
// are read and merged in a goroutine of their own, a batch ahead of fn.
func (s *Spool) EachFinding(fn func(*Finding) error) error {
	return ahead(func(yield func(*Finding) error) error {
		return mergeRefs(s, runFindings, s.findingRuns(), CompareFindings, yield)
	}, fn)
}

// aheadBatch is how many elements ahead reads before handing them over,
// and aheadBatches how many batches it reads ahead: small, as every pass
// over a spool holds them (see report's fanoutBatch).
const (
	aheadBatch   = 64
	aheadBatches = 2
)

// ahead calls fn with each element each visits, each running in a
// goroutine of its own so that reading the next elements (decoding them)
// and what fn does with the last ones overlap. The first error of either
// is returned.
func ahead[T any](each func(yield func(*T) error) error, fn func(*T) error) error {
	batches := make(chan []*T, aheadBatches)
	stop := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(batches)
		batch := make([]*T, 0, aheadBatch)
		send := func() bool {
			select {
			case batches <- batch:
				batch = make([]*T, 0, aheadBatch)
				return true
			case <-stop:
				return false
			}
		}
		err := each(func(x *T) error {
			batch = append(batch, x)
			if len(batch) == aheadBatch && !send() {
				return errAheadStopped
			}
			return nil
		})
		if err == nil && len(batch) > 0 {
			send()
		}
		errc <- err
	}()
	var ferr error
	for b := range batches {
		if ferr != nil {
			continue
		}
		for _, x := range b {
			if ferr = fn(x); ferr != nil {
				close(stop)
				break
			}
		}
	}
	err := <-errc
	if ferr != nil {
		return ferr
	}
	return err
}

var errAheadStopped = errors.New("findings spool: reading stopped")

// EachRole visits every part's roles in MergeAccounts' order (by ARN).
func (s *Spool) EachRole(fn func(*RoleReport) error) error {
	return mergeRuns(s, runRoles, s.readParts(), compareRoles, fn)
}

// EachTaskDefinition visits every part's task definitions in
// MergeAccounts' order (by ARN).
func (s *Spool) EachTaskDefinition(fn func(*TaskDefReport) error) error {
	return mergeRuns(s, runTaskDefs, s.readParts(), compareTaskDefs, fn)
}

// EachAccountRoles visits the roles account by account (see Source): the
// parts of one account at a time when each part's roles are of one
// account (as EvaluateAccount's are).
func (s *Spool) EachAccountRoles(fn func(string, []*RoleReport) error) error {
	return eachAccountRuns(s, runRoles, s.rolesMixed, func(p *spoolPart) string { return p.roleAccount },
		compareRoles, func(r *RoleReport) string { return r.AccountID }, fn)
}

// EachAccountTaskDefinitions visits the task definitions account by
// account, like EachAccountRoles.
func (s *Spool) EachAccountTaskDefinitions(fn func(string, []*TaskDefReport) error) error {
	return eachAccountRuns(s, runTaskDefs, s.tdsMixed, func(p *spoolPart) string { return p.tdAccount },
		compareTaskDefs, func(t *TaskDefReport) string { return t.AccountID }, fn)
}

// readParts makes sure the header is built (no part is added any more)
// and returns the parts, by index.
func (s *Spool) readParts() []*spoolPart {
	s.Header()
	return s.parts
}

func eachAccountRuns[T any](s *Spool, run int, mixed bool, partAccount func(*spoolPart) string,
	compare func(a, b *T) int, account func(*T) string, fn func(string, []*T) error) error {
	parts := s.readParts()
	if mixed {
		// A part of several accounts: the merged list, sorted by account.
		var all []*T
		if err := mergeRuns(s, run, parts, compare, func(x *T) error { all = append(all, x); return nil }); err != nil {
			return err
		}
		return eachAccount(all, account, fn)
	}
	var with []*spoolPart
	for _, p := range parts {
		if p.runs[run].count > 0 {
			with = append(with, p)
		}
	}
	slices.SortStableFunc(with, func(a, b *spoolPart) int { return cmp.Compare(partAccount(a), partAccount(b)) })
	for len(with) > 0 {
		a := partAccount(with[0])
		n := 1
		for n < len(with) && partAccount(with[n]) == a {
			n++
		}
		group := slices.Clone(with[:n])
		slices.SortFunc(group, func(x, y *spoolPart) int { return cmp.Compare(x.index, y.index) })
		var list []*T
		if err := mergeRuns(s, run, group, compare, func(x *T) error { list = append(list, x); return nil }); err != nil {
			return err
		}
		if err := fn(a, list); err != nil {
			return err
		}
		with = with[n:]
	}
	return nil
}

// mergeRuns visits the elements of list run of the parts (sorted by
// index) in compare's order, elements that compare equal in the order of
// their parts: the order of a stable sort of the parts' lists appended in
// index order. It reads at most spoolFanIn runs at once: more parts' lists
// are first merged into longer runs (mergeRunsTo).
func mergeRuns[T any](s *Spool, run int, parts []*spoolPart, compare func(a, b *T) int, fn func(*T) error) error {
	var refs []runRef
	for _, p := range parts {
		if p.runs[run].count > 0 {
			refs = append(refs, runRef{order: p.index, run: p.runs[run]})
		}
	}
	return mergeRefs(s, run, refs, compare, fn)
}

// mergeRefs visits the elements of the runs in compare's order, elements
// that compare equal in the order of their parts' indexes, first merging
// runs into longer ones while there are more than spoolFanIn.
func mergeRefs[T any](s *Spool, run int, refs []runRef, compare func(a, b *T) int, fn func(*T) error) error {
	f, err := s.file()
	if err != nil {
		return err
	}
	// The runs merged here are this merge's own: their space is freed
	// when it ends.
	var own []spoolRun
	defer func() {
		for _, r := range own {
			freeRun(f, r)
		}
	}()
	for len(refs) > spoolFanIn {
		var next []runRef
		for len(refs) > 0 {
			n := min(len(refs), spoolFanIn)
			out, err := mergeRunsTo(s, run, refs[:n], compare)
			if err != nil {
				return err
			}
			next = append(next, out)
			own = append(own, out.run)
			refs = refs[n:]
		}
		refs = next
	}
	var buf []byte // one element's bytes, for every cursor of the merge
	h := &runHeap[T]{compare: compare}
	size := readBufferSize(len(refs))
	for i, r := range refs {
		c := &runCursor[T]{seq: i, order: r.order, run: r.run, name: runNames[run], path: s.path, buf: &buf}
		c.open(f, size)
		if err := c.next(); err != nil {
			return err
		}
		h.cs = append(h.cs, c)
	}
	heap.Init(h)
	for len(h.cs) > 0 {
		c := h.cs[0]
		x := c.cur
		if err := c.next(); err != nil {
			return err
		}
		if c.cur == nil {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
		if err := fn(x); err != nil {
			return err
		}
	}
	return nil
}

// file is the spool's file, or the error that stops every read.
func (s *Spool) file() (*os.File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	if s.f == nil {
		return nil, errors.New("findings spool: closed")
	}
	return s.f, nil
}

// readBufferSize is the size of each read buffer of a merge of n runs: a
// power of two (the buffers are kept by size), rounded down to stay within
// the budget.
func readBufferSize(n int) int {
	return 1 << (bits.Len(uint(min(max(spoolReadBudget/max(n, 1), spoolMinBuffer), spoolMaxBuffer))) - 1)
}

// runCursor reads one list of one part, or one merged run, an element at
// a time.
type runCursor[T any] struct {
	seq        int // the cursor's place in the merge: the last tie-break
	order      int // the part's index of the current element
	run        spoolRun
	name, path string
	left       int
	rd         runReader
	buf        *[]byte // the merge's, for an element the read buffer does not hold whole
	dec        spoolDecoder
	cur        *T
	// keyOnly: decode only what the order reads (the merge copies the
	// element's bytes, raw, valid until the next call).
	keyOnly bool
	raw     []byte
}

func (c *runCursor[T]) open(f *os.File, size int) {
	c.left = c.run.count
	c.rd = runReader{f: f, off: c.run.off, end: c.run.off + c.run.size, buf: getReadBuffer(int(min(int64(size), c.run.size)))}
}

// next reads the next element into cur (nil after the last, once the
// list's length and checksum are checked).
func (c *runCursor[T]) next() error {
	if c.left == 0 {
		c.cur = nil
		if err := c.rd.close(); err != nil {
			return c.fail(err)
		}
		if c.rd.crc != c.run.crc {
			return c.fail(errors.New("checksum mismatch"))
		}
		return nil
	}
	var err error
	if c.run.tagged {
		// The element's part.
		var tag uint64
		if tag, err = binary.ReadUvarint(&c.rd); err == nil {
			if tag > math.MaxInt32 {
				err = errSpoolElement
			} else {
				c.order = int(tag)
			}
		}
	}
	var n uint64
	if err == nil {
		n, err = binary.ReadUvarint(&c.rd)
	}
	if err == nil && n > uint64(c.run.size) {
		err = errSpoolElement
	}
	var b []byte
	if err == nil {
		b, err = c.rd.next(int(n), c.buf)
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return c.fail(err)
	}
	x := new(T)
	if c.keyOnly {
		c.dec.key(b, x)
		c.raw = b
		if c.dec.err != nil {
			return c.fail(c.dec.err)
		}
	} else {
		c.dec.start(b)
		c.dec.elem(x)
		if err := c.dec.finish(); err != nil {
			return c.fail(err)
		}
	}
	c.left--
	c.cur = x
	return nil
}

// runReader reads a run of the spool file through a buffer, and sums
// what it read (CRC-32, IEEE).
type runReader struct {
	f        *os.File
	off, end int64 // what is left to read into buf
	buf      []byte
	r, w     int // buf[r:w] is read and not yet used
	crc      uint32
}

// fill reads the next part of the run into buf, keeping what is not yet
// used.
func (r *runReader) fill() error {
	if r.off >= r.end {
		return io.EOF
	}
	n := copy(r.buf, r.buf[r.r:r.w])
	r.r, r.w = 0, n
	m := int(min(int64(len(r.buf)-n), r.end-r.off))
	k, err := r.f.ReadAt(r.buf[n:n+m], r.off)
	if k < m {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	r.crc = crc32.Update(r.crc, crc32.IEEETable, r.buf[n:n+m])
	r.off += int64(m)
	r.w += m
	return nil
}

func (r *runReader) ReadByte() (byte, error) {
	if r.r == r.w {
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	r.r++
	return r.buf[r.r-1], nil
}

// next returns the next n bytes of the run: in the read buffer when it
// holds them, else in *spare (grown as needed). They are valid until the
// next call.
func (r *runReader) next(n int, spare *[]byte) ([]byte, error) {
	if r.w-r.r < n && n <= len(r.buf) {
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
	if r.w-r.r >= n {
		r.r += n
		return r.buf[r.r-n : r.r], nil
	}
	if cap(*spare) < n {
		*spare = make([]byte, n)
	}
	b := (*spare)[:n]
	got := copy(b, r.buf[r.r:r.w])
	r.r = r.w
	for got < n {
		if err := r.fill(); err != nil {
			return nil, err
		}
		k := copy(b[got:], r.buf[r.r:r.w])
		r.r += k
		got += k
	}
	return b, nil
}

// close checks that the run was read to its end and gives the read
// buffer back.
func (r *runReader) close() error {
	if r.r != r.w || r.off != r.end {
		return fmt.Errorf("%w: %d bytes after the last element", errSpoolElement, int64(r.w-r.r)+r.end-r.off)
	}
	putReadBuffer(r.buf)
	r.buf = nil
	return nil
}

// Read buffers are kept for the merges to come, by size (a power of two
// from spoolMinBuffer to spoolMaxBuffer).
var readBuffers [32]sync.Pool

// getReadBuffer returns a buffer of at least size bytes (within
// [spoolMinBuffer, spoolMaxBuffer]).
func getReadBuffer(size int) []byte {
	size = min(max(size, spoolMinBuffer), spoolMaxBuffer)
	k := bits.Len(uint(size - 1)) // the power of two at or above size
	if b, ok := readBuffers[k].Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 1<<k)
}

func putReadBuffer(b []byte) {
	if len(b) < spoolMinBuffer || len(b) > spoolMaxBuffer || len(b)&(len(b)-1) != 0 {
		return
	}
	readBuffers[bits.Len(uint(len(b)-1))].Put(&b)
}

func (c *runCursor[T]) fail(err error) error {
	what := fmt.Sprintf("part %d", c.order)
	if c.run.tagged {
		what = fmt.Sprintf("merged run at byte %d", c.run.off)
	}
	return fmt.Errorf("findings spool %s: %s: %s: element %d of %d: %w", c.path, what, c.name, c.run.count-c.left+1, c.run.count, err)
}

type runHeap[T any] struct {
	cs      []*runCursor[T]
	compare func(a, b *T) int
}

func (h *runHeap[T]) Len() int { return len(h.cs) }
func (h *runHeap[T]) Less(i, j int) bool {
	if c := h.compare(h.cs[i].cur, h.cs[j].cur); c != 0 {
		return c < 0
	}
	if a, b := h.cs[i].order, h.cs[j].order; a != b {
		return a < b
	}
	return h.cs[i].seq < h.cs[j].seq
}
func (h *runHeap[T]) Swap(i, j int) { h.cs[i], h.cs[j] = h.cs[j], h.cs[i] }
func (h *runHeap[T]) Push(x any)    { h.cs = append(h.cs, x.(*runCursor[T])) }
func (h *runHeap[T]) Pop() any {
	x := h.cs[len(h.cs)-1]
	h.cs = h.cs[:len(h.cs)-1]
	return x
}

var _ Source = (*Spool)(nil)

// runStart is where list k starts in a part's buffer.
func runStart(ends [3]int, k int) int {
	if k == 0 {
		return 0
	}
	return ends[k-1]
}

// spoolEncoders keeps encoders, with their buffers, for the parts to come.
var spoolEncoders = sync.Pool{New: func() any { return newSpoolEncoder() }}

// encodeRun appends a list to b, element by element (spoolcodec.go).
func encodeRun[T any](e *spoolEncoder, b []byte, list []T) ([]byte, error) {
	for i := range list {
		e.reset()
		if !e.elem(&list[i]) {
			return b, fmt.Errorf("no encoding for %T", &list[i])
		}
		b = e.appendTo(b)
	}
	return b, nil
}

// spoolReadBudget bounds the read buffers of a merge, which reads every
// part's list at once: each has spoolReadBudget divided by the number of
// parts, within [spoolMinBuffer, spoolMaxBuffer], rounded down to a power
// of two, or less for a shorter list.
const (
	spoolReadBudget = 8 << 20
	spoolMinBuffer  = 4 << 10
	spoolMaxBuffer  = 256 << 10
)
