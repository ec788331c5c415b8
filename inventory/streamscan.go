package inventory

import (
	"encoding/json"
	"io"
	"unicode"
	"unicode/utf8"
)

// The structural pass of a Stream (stream.go): one read of the file through
// a small buffer, which finds where each top-level member's value and each
// element of "accounts" starts and ends, without keeping any of them. It
// checks only what it must to find those ends, by the rules of readHeader
// and skipValue (walk.go), so that it also finds what readHeader would:
// format, schemaVersion, a duplicate of either, and whether the top level
// is complete. The strict walk then reads each part again by its offsets.
//
// Where the structure is not what the walk accepts (malformed JSON at the
// top level or between the elements of "accounts", a truncated file, a
// root that is not an object), the pass records the first such place and
// the step of the walk that fails there (scanBreak), so that the walk of
// the parts before it, and then of that step, gives the error Load gives.

// span is a part of the file, by byte offsets.
type span struct{ start, end int64 }

// scanMember is a member of the snapshot object.
type scanMember struct {
	key   string
	keyAt int64 // the key's opening quote
	val   span  // the value (end is unset when the pass stopped inside it)
	list  bool  // the value is a list: elems are its elements ("accounts" only)
	elems []span
}

// breakKind is the step of the walk that fails at a scanBreak.
type breakKind uint8

const (
	breakRoot     breakKind = iota + 1 // the value at the root (not an object)
	breakKey                           // a member's key and colon
	breakValue                         // the value of members[member]
	breakNext                          // the ',' or '}' after a member
	breakElem                          // element elem of members[member]
	breakElemNext                      // the ',' or ']' after element elem
)

type scanBreak struct {
	kind breakKind
	// at is where the step starts; failAt where the pass failed (the walk
	// fails there or before it).
	at, failAt   int64
	member, elem int
}

// scanResult is what the structural pass found.
type scanResult struct {
	base  int64 // length of a byte order mark at the start
	empty bool  // nothing but white space after it
	// rootAt is where the root value starts; members are the members of
	// the snapshot object, in file order, up to where the pass stopped.
	rootAt  int64
	members []scanMember
	brk     *scanBreak // nil when the structure is whole
	// trailing is where data after the snapshot object starts, or -1.
	trailing int64

	// What readHeader would find.
	format, version       span
	hasFormat, hasVersion bool
	complete              bool
	dupField              string
	dupAt                 int64
}

// header returns the scan's header as readHeader gives it, reading the
// values of format and schemaVersion with read. Positions count from the
// end of a byte order mark, as readHeader's do.
func (sc *scanResult) header(read func(span) ([]byte, error)) (header, error) {
	h := header{complete: sc.complete, rootAt: int(sc.rootAt - sc.base), dupField: sc.dupField}
	if sc.dupField != "" {
		h.dupAt = int(sc.dupAt - sc.base)
	}
	if sc.hasFormat {
		b, err := read(sc.format)
		if err != nil {
			return h, err
		}
		h.format, h.formatAt = b, int(sc.format.start-sc.base)
	}
	if sc.hasVersion {
		b, err := read(sc.version)
		if err != nil {
			return h, err
		}
		h.version, h.versionAt = b, int(sc.version.start-sc.base)
	}
	return h, nil
}

// lexer reads a file forward through a buffer.
type lexer struct {
	r    io.Reader
	buf  []byte
	off  int64 // file offset of buf[0]
	i, n int   // next byte, end of the bytes read
	eof  bool
	err  error
}

func (l *lexer) pos() int64 { return l.off + int64(l.i) }

// more reads more of the file; it reports whether it did.
func (l *lexer) more() bool {
	if l.eof || l.err != nil {
		return false
	}
	if l.i > 0 {
		copy(l.buf, l.buf[l.i:l.n])
		l.off += int64(l.i)
		l.n -= l.i
		l.i = 0
	}
	if l.n == len(l.buf) {
		l.buf = append(l.buf, make([]byte, len(l.buf))...)
	}
	for {
		m, err := l.r.Read(l.buf[l.n:])
		l.n += m
		switch {
		case err == io.EOF:
			l.eof = true
			return m > 0
		case err != nil:
			l.err = err
			return m > 0
		case m > 0:
			return true
		}
	}
}

// ensure reads until k bytes are buffered or the file ends.
func (l *lexer) ensure(k int) {
	for l.n-l.i < k && l.more() {
	}
}

func (l *lexer) peek() (byte, bool) {
	if l.i >= l.n && !l.more() {
		return 0, false
	}
	return l.buf[l.i], true
}

func (l *lexer) ws() {
	for {
		for l.i < l.n {
			switch l.buf[l.i] {
			case ' ', '\t', '\n', '\r':
				l.i++
			default:
				return
			}
		}
		if !l.more() {
			return
		}
	}
}

// str moves past a string (at its opening quote), as walker.str checks
// it; with key set, it appends the string's raw bytes, quotes included.
func (l *lexer) str(key *[]byte) bool {
	if key != nil {
		*key = append(*key, '"')
	}
	l.i++
	for {
		if l.i >= l.n && !l.more() {
			return false
		}
		b := l.buf[l.i:l.n]
		j := 0
		for j < len(b) && b[j] != '"' && b[j] != '\\' && b[j] >= 0x20 {
			j++
		}
		if key != nil {
			*key = append(*key, b[:j]...)
		}
		l.i += j
		if j == len(b) {
			continue
		}
		c := b[j]
		switch {
		case c == '"':
			if key != nil {
				*key = append(*key, c)
			}
			l.i++
			return true
		case c < 0x20:
			return false
		}
		// a backslash
		l.i++
		e, ok := l.peek()
		if !ok {
			return false
		}
		switch e {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			l.i++
			if key != nil {
				*key = append(*key, '\\', e)
			}
		case 'u':
			l.i++
			if key != nil {
				*key = append(*key, '\\', 'u')
			}
			for k := 0; k < 4; k++ {
				h, ok := l.peek()
				if !ok || !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
					return false
				}
				l.i++
				if key != nil {
					*key = append(*key, h)
				}
			}
		default:
			return false
		}
	}
}

// literal moves past lit.
func (l *lexer) literal(lit string) bool {
	for k := 0; k < len(lit); k++ {
		c, ok := l.peek()
		if !ok || c != lit[k] {
			return false
		}
		l.i++
	}
	return true
}

// number moves past a number, as walker.number checks it.
func (l *lexer) number() bool {
	digits := func() int {
		n := 0
		for {
			c, ok := l.peek()
			if !ok || c < '0' || c > '9' {
				return n
			}
			l.i++
			n++
		}
	}
	if c, ok := l.peek(); ok && c == '-' {
		l.i++
	}
	c, ok := l.peek()
	switch {
	case !ok:
		return false
	case c == '0':
		l.i++
	case c >= '1' && c <= '9':
		digits()
	default:
		return false
	}
	if c, ok := l.peek(); ok && c == '.' {
		l.i++
		if digits() == 0 {
			return false
		}
	}
	if c, ok := l.peek(); ok && (c == 'e' || c == 'E') {
		l.i++
		if c, ok := l.peek(); ok && (c == '+' || c == '-') {
			l.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// value moves past one value as skipValue does. When it fails, scalar
// says the failure was in a literal or number at the value's top (which a
// container around it would not have noticed), not in a string or at the
// end of the file.
func (l *lexer) value() (ok, scalar bool) {
	l.ws()
	c, ok := l.peek()
	if !ok {
		return false, false
	}
	switch c {
	case '"':
		return l.str(nil), false
	case '{', '[':
		return l.rest(0), false
	case 't':
		return l.literal("true"), true
	case 'f':
		return l.literal("false"), true
	case 'n':
		return l.literal("null"), true
	}
	return l.number(), true
}

// rest moves past the rest of a container, counting brackets from depth,
// as skipValue does.
func (l *lexer) rest(depth int) bool {
	for {
		if l.i >= l.n && !l.more() {
			return false
		}
		b := l.buf[l.i:l.n]
		j := 0
		for ; j < len(b); j++ {
			c := b[j]
			if c == '"' {
				break
			}
			if c == '{' || c == '[' {
				depth++
			} else if c == '}' || c == ']' {
				depth--
				if depth == 0 {
					l.i += j + 1
					return true
				}
			}
		}
		l.i += j
		if j < len(b) && !l.str(nil) {
			return false
		}
	}
}

// allSpace reports whether the rest of the file is Unicode white space
// (what bytes.TrimSpace removes).
func (l *lexer) allSpace() bool {
	for {
		l.ensure(utf8.UTFMax)
		if l.i >= l.n {
			return true
		}
		r, size := utf8.DecodeRune(l.buf[l.i:l.n])
		if r == utf8.RuneError && size <= 1 || !unicode.IsSpace(r) {
			return false
		}
		l.i += size
	}
}

// scanSnapshot is the structural pass over r, of size bytes. The error is
// a read error.
func scanSnapshot(r io.Reader, size int64) (*scanResult, error) {
	l := &lexer{r: r, buf: make([]byte, min(max(size, 64), 256<<10))}
	sc := &scanResult{trailing: -1}
	done := func() (*scanResult, error) { return sc, l.err }
	l.ensure(len(utf8BOM))
	if l.n >= len(utf8BOM) && string(l.buf[:len(utf8BOM)]) == string(utf8BOM) {
		l.i, sc.base = len(utf8BOM), int64(len(utf8BOM))
	}
	l.ws()
	sc.rootAt = l.pos()
	c, ok := l.peek()
	if !ok {
		sc.empty = true
		return done()
	}
	if c != '{' {
		// The walk fails at the root value; it reads all of it unless it
		// is a list.
		b := &scanBreak{kind: breakRoot, at: sc.rootAt, failAt: sc.rootAt}
		sc.brk = b
		l.ensure(utf8.UTFMax)
		if r, _ := utf8.DecodeRune(l.buf[l.i:l.n]); unicode.IsSpace(r) {
			sc.empty = l.allSpace()
		} else if c != '[' {
			l.value()
			b.failAt = l.pos()
		}
		return done()
	}
	l.i++
	l.ws()
	if c, ok := l.peek(); ok && c == '}' {
		l.i++
		sc.complete = true
		return trailing(l, sc, done)
	}
	stop := func(b *scanBreak) (*scanResult, error) {
		if sc.brk == nil {
			sc.brk = b
		}
		return done()
	}
	var key []byte
	for {
		at := l.pos()
		l.ws()
		if c, ok := l.peek(); !ok || c != '"' {
			return stop(&scanBreak{kind: breakKey, at: at, failAt: l.pos()})
		}
		keyAt := l.pos()
		key = key[:0]
		if !l.str(&key) {
			return stop(&scanBreak{kind: breakKey, at: at, failAt: l.pos()})
		}
		l.ws()
		if c, ok := l.peek(); !ok || c != ':' {
			return stop(&scanBreak{kind: breakKey, at: at, failAt: l.pos()})
		}
		l.i++
		m := scanMember{key: string(key[1 : len(key)-1]), keyAt: keyAt}
		for _, c := range key {
			if c == '\\' {
				_ = json.Unmarshal(key, &m.key) // checked by str
				break
			}
		}
		l.ws()
		m.val.start = l.pos()
		sc.members = append(sc.members, m)
		mi := len(sc.members) - 1
		if c, ok := l.peek(); ok && c == '[' && m.key == "accounts" {
			if !scanList(l, sc, mi) {
				sc.members[mi].val.end = l.pos()
				return done()
			}
		} else if ok, _ := l.value(); !ok {
			return stop(&scanBreak{kind: breakValue, at: m.val.start, failAt: l.pos(), member: mi})
		}
		sc.members[mi].val.end = l.pos()
		switch m.key {
		case "format":
			if sc.hasFormat && sc.dupField == "" {
				sc.dupField, sc.dupAt = m.key, keyAt
			}
			sc.format, sc.hasFormat = sc.members[mi].val, true
		case "schemaVersion":
			if sc.hasVersion && sc.dupField == "" {
				sc.dupField, sc.dupAt = m.key, keyAt
			}
			sc.version, sc.hasVersion = sc.members[mi].val, true
		}
		at = l.pos()
		l.ws()
		c, ok := l.peek()
		switch {
		case ok && c == ',':
			l.i++
		case ok && c == '}':
			l.i++
			sc.complete = true
			return trailing(l, sc, done)
		default:
			return stop(&scanBreak{kind: breakNext, at: at, failAt: l.pos()})
		}
	}
}

// scanList reads the list of members[mi] (at its '[') element by element.
// Where the elements are not well formed, it records the first such place
// and reads on to the end of the list as skipValue does; it returns false
// where skipValue would fail.
func scanList(l *lexer, sc *scanResult, mi int) bool {
	m := &sc.members[mi]
	m.list = true
	m.elems = []span{}
	l.i++
	l.ws()
	if c, ok := l.peek(); ok && c == ']' {
		l.i++
		return true
	}
	broken := func(b *scanBreak) bool {
		if sc.brk == nil {
			sc.brk = b
		}
		return l.rest(1)
	}
	for i := 0; ; i++ {
		at := l.pos()
		l.ws()
		start := l.pos()
		if ok, scalar := l.value(); !ok {
			if sc.brk == nil {
				sc.brk = &scanBreak{kind: breakElem, at: at, failAt: l.pos(), member: mi, elem: i}
			}
			if !scalar {
				return false // in a string, or at the end of the file
			}
			return l.rest(1)
		}
		m.elems = append(m.elems, span{start, l.pos()})
		at = l.pos()
		l.ws()
		c, ok := l.peek()
		switch {
		case ok && c == ',':
			l.i++
		case ok && c == ']':
			l.i++
			return true
		default:
			return broken(&scanBreak{kind: breakElemNext, at: at, failAt: l.pos(), member: mi, elem: i})
		}
	}
}

// trailing records data after the snapshot object.
func trailing(l *lexer, sc *scanResult, done func() (*scanResult, error)) (*scanResult, error) {
	l.ws()
	if _, ok := l.peek(); ok {
		sc.trailing = l.pos()
	}
	return done()
}
