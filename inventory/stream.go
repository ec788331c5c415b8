package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// A Stream reads a snapshot for analysis account by account, so that
// neither the whole file nor the whole inventory is ever in memory: what it
// holds is the Index (everything but the bulk of the accounts) and, while
// they are read, a few accounts.
//
// OpenStream reads the file twice, never whole: a structural pass
// (streamscan.go) finds where each top-level value and each account
// starts and ends; then each is read by its offsets and walked as Load
// walks the whole document (walk.go), the accounts on every core, and the
// Index decoded from the parts it needs. It checks everything Load checks
// that does not need the bulk of an account: the header, the strict walk of
// the whole file, the validation of the Index (which covers every check
// across accounts: account IDs, paths and their policies, the collection
// errors documents may point to) and the policy check of the SCPs and
// RCPs. Accounts reads each account a third time, checks that its bytes
// are those that were walked, decodes it and runs the rest of the
// validation on it. Every error is the one Load gives for the same file
// (file, JSON path and byte offset); when a file has several problems, a
// Stream may report a different one of them first (one in the Index before
// one in the bulk of an earlier account): the errors of the header and of
// the walk, which come first in both, are the same.
//
// A version 1 snapshot, and a file that is not a regular file (a pipe), is
// read whole, as Load reads it, and its accounts served from memory. A
// Stream is not for use by several goroutines at once.
type Stream struct {
	// Index is the snapshot without the bulk of its accounts: every
	// top-level field, and in Accounts, for every account (in file order),
	// ID, Name, Email, Status, Path, no IAM, and Regions with Name, Status
	// and only the resources other accounts' task definitions may
	// reference (Secrets, Parameters, KMSKeys, MissingSecrets,
	// MissingParameters, ECRRepositories, ECRRegistry, LogGroups).
	Index *Inventory

	name     string
	src      io.ReaderAt
	closer   io.Closer
	closed   bool
	size     int64
	version  int
	scan     *scanResult
	accounts []span   // the elements of "accounts"
	sums     []uint32 // their CRC-32C, as walked
	checks   *validation

	whole *Inventory // read whole (version 1, not a regular file)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// OpenStream reads a snapshot for analysis account by account. It reports
// every problem of the file that is not inside the bulk of an account, as
// Load would.
func OpenStream(path string, opts Options) (*Stream, error) {
	fail := func(msg string) error { return &LoadError{File: path, Offset: -1, Msg: msg} }
	f, err := os.Open(path)
	if err != nil {
		return nil, fail(err.Error())
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fail(err.Error())
	}
	if !fi.Mode().IsRegular() {
		// A pipe cannot be read twice: read it whole.
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fail(err.Error())
		}
		s := &Stream{name: path}
		if lerr := s.readWhole(data, opts); lerr != nil {
			lerr.File = path
			return nil, lerr
		}
		return s, nil
	}
	s, lerr := newStream(f, fi.Size(), path, opts)
	if lerr != nil {
		f.Close()
		return nil, lerr
	}
	if s.whole != nil {
		f.Close() // read whole
	} else {
		s.closer = f
	}
	return s, nil
}

// newStream opens a Stream on size bytes of src; name is used in errors.
func newStream(src io.ReaderAt, size int64, name string, opts Options) (*Stream, *LoadError) {
	s := &Stream{name: name, src: src, size: size}
	if lerr := s.open(opts); lerr != nil {
		lerr.File = name
		return nil, lerr
	}
	return s, nil
}

// Close releases the file.
func (s *Stream) Close() error {
	s.closed = true
	if s.closer == nil {
		return nil
	}
	err := s.closer.Close()
	s.closer = nil
	return err
}

// Accounts calls visit with each account in full, as Load gives it (IAM
// with AWS managed policies linked to Index.AWSManagedPolicies, regions
// with everything), in file order, one at a time. The Stream keeps no
// account after visit returns (only the AWS managed policy entries that
// later accounts' entries are linked to, as Load links them); it decodes
// the next few while visit runs. An error from visit stops the reading
// and is returned as it is; an error in an account (a *LoadError naming
// the file, the JSON path and the byte offset, as Load's would) is
// returned before that account is visited. Accounts may be called again to
// read the accounts again.
func (s *Stream) Accounts(visit func(i int, a *Account) error) error {
	if s.closed {
		return &LoadError{File: s.name, Offset: -1, Msg: "the stream is closed"}
	}
	if s.whole != nil {
		for i, a := range s.whole.Accounts {
			if err := visit(i, a); err != nil {
				return err
			}
		}
		return nil
	}
	// Up to ahead accounts are being decoded or visited at once: the one
	// visited and those decoded while it is.
	ahead := min(runtime.GOMAXPROCS(0), 8) + 1
	type result struct {
		a   *Account
		err *LoadError
	}
	done := make(chan struct{})
	slots := make(chan struct{}, ahead)
	queue := make(chan chan result, ahead)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(queue)
		for i := range s.accounts {
			select {
			case slots <- struct{}{}:
			case <-done:
				return
			}
			ch := make(chan result, 1)
			queue <- ch // never blocks: at most ahead are queued
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, err := s.decodeAccount(i)
				ch <- result{a, err}
			}()
		}
	}()
	defer func() {
		close(done)
		wg.Wait()
	}()
	shared := newPolicySharer(s.Index.AWSManagedPolicies)
	i := 0
	for ch := range queue {
		r := <-ch
		if r.err != nil {
			r.err.File = s.name
			return r.err
		}
		shared.account(r.a)
		if err := s.checks.account(i, r.a, checkBulk); err != nil {
			return s.loadError(err)
		}
		if err := visit(i, r.a); err != nil {
			return err
		}
		<-slots
		i++
	}
	return nil
}

// open does the work of OpenStream.
func (s *Stream) open(opts Options) *LoadError {
	sc, err := scanSnapshot(io.NewSectionReader(s.src, 0, s.size), s.size)
	if err != nil {
		return &LoadError{Offset: -1, Msg: err.Error()}
	}
	s.scan = sc
	if sc.empty {
		return &LoadError{Offset: -1, Msg: "file is empty"}
	}
	h, err := sc.header(func(sp span) ([]byte, error) { return s.read(sp.start, sp.end) })
	if err != nil {
		return &LoadError{Offset: -1, Msg: err.Error()}
	}
	version, lerr := checkHeaderOf(h, sc.base)
	if lerr != nil {
		return lerr
	}
	if version < 2 {
		// Version 1 means what it says only across accounts (resource
		// policy statuses follow the collection errors): read it whole.
		data, err := s.read(0, s.size)
		if err != nil {
			return &LoadError{Offset: -1, Msg: err.Error()}
		}
		return s.readWhole(data, opts)
	}
	s.version = version
	top, lerr := s.walk()
	if lerr != nil {
		return lerr
	}
	if err := json.Unmarshal(top, s.Index); err != nil {
		return &LoadError{Offset: -1, Msg: "cannot be decoded: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	return s.validateIndex(opts)
}

// readWhole decodes the whole file, as Load does, and serves its accounts
// from memory.
func (s *Stream) readWhole(data []byte, opts Options) *LoadError {
	inv, lerr := decode(data, opts)
	if lerr != nil {
		return lerr
	}
	s.whole = inv
	idx := *inv
	idx.Accounts = nil
	if inv.Accounts != nil {
		idx.Accounts = make([]*Account, len(inv.Accounts))
		for i, a := range inv.Accounts {
			idx.Accounts[i] = indexOf(a)
		}
	}
	s.Index = &idx
	return nil
}

// indexOf is an account's entry in a Stream's Index.
func indexOf(a *Account) *Account {
	if a == nil {
		return nil
	}
	x := &Account{ID: a.ID, Name: a.Name, Email: a.Email, Status: a.Status, Path: a.Path}
	if a.Regions != nil {
		x.Regions = make([]*Region, len(a.Regions))
		for i, r := range a.Regions {
			if r == nil {
				continue
			}
			x.Regions[i] = &Region{Name: r.Name, Status: r.Status, Secrets: r.Secrets, Parameters: r.Parameters, KMSKeys: r.KMSKeys,
				MissingSecrets: r.MissingSecrets, MissingParameters: r.MissingParameters, ECRRepositories: r.ECRRepositories,
				ECRRegistry: r.ECRRegistry, LogGroups: r.LogGroups}
		}
	}
	return x
}

// read reads [start, end) of the file.
func (s *Stream) read(start, end int64) ([]byte, error) {
	var b []byte
	return s.readInto(&b, start, end)
}

// readInto reads [start, end) of the file into *buf (grown as needed).
func (s *Stream) readInto(buf *[]byte, start, end int64) ([]byte, error) {
	if int64(cap(*buf)) < end-start {
		*buf = make([]byte, end-start)
	}
	b := (*buf)[:end-start]
	if m, err := s.src.ReadAt(b, start); err != nil && m < len(b) {
		if err == io.EOF {
			err = fmt.Errorf("the file is shorter than when it was opened")
		}
		return nil, err
	}
	return b, nil
}

// walkAt runs step on the file from start, as a walker with the given path
// over the bytes from there (at least want of them) would. The walker is
// given more of the file while it stops for want of bytes before the end of
// the file.
func (s *Stream) walkAt(start, want int64, path string, buf *[]byte, step func(*walker) bool) (*walker, *LoadError) {
	n := min(max(want, 1), s.size-start)
	for {
		if int64(cap(*buf)) < n {
			*buf = make([]byte, n)
		}
		b := (*buf)[:n]
		if m, err := s.src.ReadAt(b, start); err != nil && m < len(b) {
			if err == io.EOF {
				err = fmt.Errorf("the file is shorter than when it was opened")
			}
			return nil, &LoadError{Offset: -1, Msg: err.Error()}
		}
		w := &walker{data: b, base: start, version: s.version, path: []byte(path)}
		if step(w) {
			return w, nil
		}
		if w.short && start+n < s.size {
			n = min(2*n, s.size-start)
			continue
		}
		return w, w.err
	}
}

// walkValue walks the value at sp with schema sch and returns its bytes
// (in *buf, reused).
func (s *Stream) walkValue(sp span, sch *schema, path string, buf *[]byte) ([]byte, *LoadError) {
	// One byte more than the value: the walk of a number looks at the
	// byte after it.
	w, lerr := s.walkAt(sp.start, sp.end-sp.start+1, path, buf, func(w *walker) bool { return w.value(sch) })
	if lerr != nil {
		return nil, lerr
	}
	if sp.start+int64(w.pos) != sp.end {
		return nil, &LoadError{Field: path, Offset: sp.start, Msg: "the file changed while it was being read"}
	}
	return w.data[:w.pos], nil
}

// walkBreak runs the step of the walk that fails where the structural pass
// stopped, and returns its error.
func (s *Stream) walkBreak(b *scanBreak, path string, buf *[]byte, step func(*walker) bool) *LoadError {
	// The walk fails by failAt (a few bytes on at most), mostly far
	// sooner: it reads from at in parts that double, so that a value left
	// open to the end of a large file is not read whole to report it.
	_, lerr := s.walkAt(b.at, min(b.failAt-b.at+8, 64<<10), path, buf, step)
	if lerr == nil {
		// The pass and the walk disagree (the file changed between them).
		return &LoadError{Field: path, Offset: b.failAt, Msg: "the file changed while it was being read"}
	}
	return lerr
}

// walk walks the file part by part, in file order, as walker.document walks
// it whole, and decodes the accounts' entries of the Index. It returns the
// top-level members other than the accounts as a JSON object.
func (s *Stream) walk() ([]byte, *LoadError) {
	sc := s.scan
	root := snapshotSchema()
	brk := sc.brk
	var buf []byte
	if brk != nil && brk.kind == breakRoot {
		return nil, s.walkBreak(brk, "", &buf, func(w *walker) bool { return w.value(root) })
	}
	s.Index = &Inventory{}
	var top bytes.Buffer
	top.WriteByte('{')
	var seen fieldSet
	for mi, m := range sc.members {
		w := walker{base: m.keyAt, version: s.version, path: []byte(m.key)}
		f, ok := w.field(root, m.key, 0, &seen)
		if !ok {
			return nil, w.err
		}
		if brk != nil && brk.kind == breakValue && brk.member == mi {
			return nil, s.walkBreak(brk, m.key, &buf, func(w *walker) bool { return w.value(f.s) })
		}
		if m.key == "accounts" && m.list {
			if lerr := s.walkAccounts(m, f.s.elem); lerr != nil {
				return nil, lerr
			}
			if brk != nil && brk.member == mi {
				switch brk.kind {
				case breakElem:
					path := fmt.Sprintf("accounts[%d]", brk.elem)
					return nil, s.walkBreak(brk, path, &buf, func(w *walker) bool { return w.value(f.s.elem) })
				case breakElemNext:
					return nil, s.walkBreak(brk, "accounts", &buf, func(w *walker) bool {
						_, ok := w.next(']', "a list element")
						return ok
					})
				}
			}
			continue
		}
		data, lerr := s.walkValue(m.val, f.s, m.key, &buf)
		if lerr != nil {
			return nil, lerr
		}
		if m.key == "accounts" {
			continue // null: no accounts
		}
		if top.Len() > 1 {
			top.WriteByte(',')
		}
		top.WriteString(strconv.Quote(m.key))
		top.WriteByte(':')
		top.Write(data)
	}
	if brk != nil {
		switch brk.kind {
		case breakKey:
			return nil, s.walkBreak(brk, "", &buf, func(w *walker) bool {
				_, _, ok := w.key()
				return ok
			})
		case breakNext:
			return nil, s.walkBreak(brk, "", &buf, func(w *walker) bool {
				_, ok := w.next('}', "an object member")
				return ok
			})
		}
	}
	if sc.trailing >= 0 {
		w := walker{base: sc.trailing}
		w.trailing(0)
		return nil, w.err
	}
	top.WriteByte('}')
	return top.Bytes(), nil
}

// walkAccounts walks the elements of "accounts" on every core, and
// decodes their entries in the Index. The error is the first account's in
// file order.
func (s *Stream) walkAccounts(m scanMember, elem *schema) *LoadError {
	n := len(m.elems)
	index := make([]*Account, n)
	sums := make([]uint32, n)
	errs := make([]*LoadError, n)
	var next atomic.Int64
	failed := atomic.Int64{}
	failed.Store(math.MaxInt64)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			var proj bytes.Buffer
			for {
				i := int(next.Add(1) - 1)
				if i >= n || int64(i) > failed.Load() {
					return
				}
				fail := func(err *LoadError) {
					errs[i] = err
					for {
						f := failed.Load()
						if int64(i) >= f || failed.CompareAndSwap(f, int64(i)) {
							return
						}
					}
				}
				data, lerr := s.walkAccount(m.elems[i], elem, fmt.Sprintf("accounts[%d]", i), &buf, &proj)
				if lerr != nil {
					fail(lerr)
					continue
				}
				sums[i] = crc32.Checksum(data, castagnoli)
				a := new(Account)
				if err := decodeWalked(proj.Bytes(), a); err != nil {
					fail(&LoadError{Field: fmt.Sprintf("accounts[%d]", i), Offset: -1, Msg: "cannot be decoded: " + strings.TrimPrefix(err.Error(), "json: ")})
					continue
				}
				index[i] = a
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f != math.MaxInt64 {
		return errs[f]
	}
	s.accounts, s.sums = m.elems, sums
	s.Index.Accounts = index
	return nil
}

// accountBuffers keeps the buffers accounts are read into: an account's
// bytes are not kept once it is decoded (the decoded strings are copies).
var accountBuffers sync.Pool

// decodeAccount reads and decodes accounts[i].
func (s *Stream) decodeAccount(i int) (*Account, *LoadError) {
	sp := s.accounts[i]
	field := fmt.Sprintf("accounts[%d]", i)
	buf, _ := accountBuffers.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	defer accountBuffers.Put(buf)
	data, err := s.readInto(buf, sp.start, sp.end)
	if err != nil {
		return nil, &LoadError{Field: field, Offset: -1, Msg: err.Error()}
	}
	if crc32.Checksum(data, castagnoli) != s.sums[i] {
		return nil, &LoadError{Field: field, Offset: sp.start, Msg: "changed since the snapshot was opened (read it again)"}
	}
	a := new(Account)
	if err := decodeWalked(data, a); err != nil {
		return nil, &LoadError{Field: field, Offset: -1, Msg: "cannot be decoded: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	return a, nil
}

// validateIndex runs on the Index the checks of validate that do not need
// the bulk of the accounts, then the policy check.
func (s *Stream) validateIndex(opts Options) *LoadError {
	inv := s.Index
	v, err := inv.validateHead(true, true)
	if err != nil {
		return s.loadError(err)
	}
	for i, a := range inv.Accounts {
		if err := v.account(i, a, checkIndex); err != nil {
			return s.loadError(err)
		}
	}
	if err := v.tail(); err != nil {
		return s.loadError(err)
	}
	s.checks = v
	if opts.PolicyCheck != nil && inv.Organization != nil {
		for _, id := range slices.Sorted(maps.Keys(inv.Organization.Policies)) {
			if err := opts.PolicyCheck(inv.Organization.Policies[id].Document); err != nil {
				f := fmt.Sprintf("organization.policies[%q].document", id)
				return &LoadError{Field: f, Offset: s.locate(f), Msg: "is not a valid policy document: " + err.Error()}
			}
		}
	}
	return nil
}

// loadError gives a validation error its offset and the file.
func (s *Stream) loadError(err error) *LoadError {
	le, ok := err.(*LoadError)
	if !ok {
		le = &LoadError{Msg: err.Error()}
	}
	le.Offset = s.locate(le.Field)
	le.File = s.name
	return le
}

// locate is locate (walk.go) on the file, reading only the part the field
// is in.
func (s *Stream) locate(field string) int64 {
	root := snapshotSchema()
	top := field
	if i := strings.IndexAny(field, ".["); i >= 0 {
		top = field[:i]
	}
	var m *scanMember
	for k := range s.scan.members {
		if s.scan.members[k].key == top {
			m = &s.scan.members[k]
		}
	}
	if m == nil {
		return s.scan.rootAt
	}
	sp, sch, prefix := m.val, root.fields[top].s, top
	if rest, ok := strings.CutPrefix(field, "accounts["); ok && top == "accounts" {
		n, _, _ := strings.Cut(rest, "]")
		if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < len(s.accounts) {
			sp, sch, prefix = s.accounts[i], sch.elem, fmt.Sprintf("accounts[%d]", i)
		}
	}
	data, err := s.read(sp.start, sp.end)
	if err != nil {
		return -1
	}
	w := walker{data: data, base: sp.start, version: s.version, path: []byte(prefix), target: []byte(field), found: -1}
	w.value(sch)
	return w.found
}

// walkAccount walks the account at sp (schema acct) as walkValue does,
// and writes its entry in the Index, as JSON, to proj.
func (s *Stream) walkAccount(sp span, acct *schema, path string, buf *[]byte, proj *bytes.Buffer) ([]byte, *LoadError) {
	w, lerr := s.walkAt(sp.start, sp.end-sp.start+1, path, buf, func(w *walker) bool {
		proj.Reset()
		return walkIndexAccount(w, acct, proj)
	})
	if lerr != nil {
		return nil, lerr
	}
	if sp.start+int64(w.pos) != sp.end {
		return nil, &LoadError{Field: path, Offset: sp.start, Msg: "the file changed while it was being read"}
	}
	return w.data[:w.pos], nil
}

// walkIndexAccount walks an account as w.value(acct) does, writing to proj
// the members its entry in the Index keeps.
func walkIndexAccount(w *walker, acct *schema, proj *bytes.Buffer) bool {
	w.ws()
	if w.pos >= len(w.data) || w.data[w.pos] != '{' {
		return w.value(acct)
	}
	regions := acct.fields["regions"].s
	proj.WriteByte('{')
	defer proj.WriteByte('}')
	return w.members(acct, func(k string, f *sfield) bool {
		w.ws()
		start := w.pos
		if k == "regions" && start < len(w.data) && w.data[start] == '[' {
			member(proj, k)
			proj.WriteByte('[')
			defer proj.WriteByte(']')
			return w.elements(regions, func(i int) bool {
				if i > 0 {
					proj.WriteByte(',')
				}
				return walkIndexRegion(w, regions.elem, proj)
			})
		}
		if !w.value(f.s) {
			return false
		}
		switch k {
		case "id", "name", "email", "status", "path", "regions":
			member(proj, k)
			proj.Write(w.data[start:w.pos])
		}
		return true
	})
}

// walkIndexRegion walks a region as w.value(region) does, writing to proj
// the members its entry in the Index keeps: those other accounts' task
// definitions may reference.
func walkIndexRegion(w *walker, region *schema, proj *bytes.Buffer) bool {
	w.ws()
	if w.pos >= len(w.data) || w.data[w.pos] != '{' {
		return w.value(region)
	}
	proj.WriteByte('{')
	defer proj.WriteByte('}')
	return w.members(region, func(k string, f *sfield) bool {
		w.ws()
		start := w.pos
		if !w.value(f.s) {
			return false
		}
		switch k {
		case "name", "status", "secrets", "parameters", "kmsKeys", "missingSecrets", "missingParameters",
			"ecrRepositories", "ecrRegistry", "logGroups":
			member(proj, k)
			proj.Write(w.data[start:w.pos])
		}
		return true
	})
}

// member writes the key of a member of the object being written to b.
func member(b *bytes.Buffer, k string) {
	if b.Bytes()[b.Len()-1] != '{' {
		b.WriteByte(',')
	}
	b.WriteString(strconv.Quote(k))
	b.WriteByte(':')
}
