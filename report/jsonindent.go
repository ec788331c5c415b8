package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Indenting JSON without encoding/json's scanner.
//
// findings.json and findings.sarif are indented, and their hidden
// characters written as \u escapes. json.MarshalIndent and an Encoder with
// SetIndent run every byte of the encoded value through encoding/json's
// validating scanner, a state machine called per byte, and EscapeHiddenJSON
// then reads the result once more: for a findings.json of 250 MB most of the
// writer's time went there. The JSON these writers indent is always what
// encoding/json has just produced, compact and valid, so indenting it needs
// to know only where strings are: appendIndentJSON does that, and escapes
// hidden characters inside the strings in the same pass. Its output is
// byte for byte what json.MarshalIndent followed by EscapeHiddenJSON gives
// (a test compares the two).

// jsonEncoder encodes values compactly into a buffer it reuses, and
// indents them into a second one.
type jsonEncoder struct {
	compact  bytes.Buffer
	enc      *json.Encoder
	indented []byte
}

func newJSONEncoder() *jsonEncoder {
	e := &jsonEncoder{}
	e.enc = json.NewEncoder(&e.compact)
	return e
}

// indent encodes x as json.MarshalIndent(x, prefix, indent) would, with
// hidden characters escaped (EscapeHiddenJSON). The result is valid until
// the next call.
func (e *jsonEncoder) indent(x any, prefix, indent string) ([]byte, error) {
	e.compact.Reset()
	// Encode writes what Marshal returns, and a newline.
	if err := e.enc.Encode(x); err != nil {
		return nil, err
	}
	b := e.compact.Bytes()
	b = b[:len(b)-1]
	e.indented = appendIndentJSON(e.indented[:0], b, prefix, indent)
	return e.indented, nil
}

// appendIndentJSON appends to dst the compact JSON value src indented as
// json.Indent(dst, src, prefix, indent) does ({} and [] stay empty, a
// newline, prefix and one indent per level before every element, ": "
// after a key), with every hidden character inside a string (see hidden)
// written as a \u escape, as EscapeHiddenJSON writes it. src must be valid
// JSON without whitespace outside strings, as encoding/json writes it.
func appendIndentJSON(dst, src []byte, prefix, indent string) []byte {
	depth := 0
	needIndent := false
	// lines holds a newline, prefix and indents for the levels seen so far.
	lines := make([]byte, 0, 1+len(prefix)+8*len(indent))
	lines = append(append(lines, '\n'), prefix...)
	newline := func() {
		n := 1 + len(prefix) + depth*len(indent)
		for len(lines) < n {
			lines = append(lines, indent...)
		}
		dst = append(dst, lines[:n]...)
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if needIndent && c != '}' && c != ']' {
			needIndent = false
			depth++
			newline()
		}
		switch c {
		case '"':
			// A string, copied up to its closing quote; only hidden
			// characters (all outside ASCII, or DEL) are rewritten.
			j := i + 1
			for j < len(src) {
				for j < len(src) && !jsonStringStop[src[j]] {
					j++
				}
				if j == len(src) {
					break
				}
				b := src[j]
				if b == '"' {
					break
				}
				if b == '\\' {
					j += 2
					continue
				}
				r, size := utf8.DecodeRune(src[j:])
				if r == utf8.RuneError && size == 1 || !hidden(r) {
					j += size
					continue
				}
				dst = append(dst, src[i:j]...)
				dst = appendHiddenEscape(dst, r)
				j += size
				i = j
			}
			end := min(j+1, len(src))
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			// The newline waits for the next byte: an empty object or
			// array stays {} or [].
			needIndent = true
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, c, ' ')
		case '}', ']':
			if needIndent {
				needIndent = false
			} else {
				depth--
				newline()
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// jsonStringStop marks the bytes that end a run of plain bytes in a JSON
// string: the closing quote, a backslash, and the bytes that may begin a
// hidden character (DEL and every byte outside ASCII).
var jsonStringStop = func() (t [256]bool) {
	t['"'], t['\\'] = true, true
	for c := 0x7f; c < 256; c++ {
		t[c] = true
	}
	return t
}()

// appendHiddenEscape appends r as EscapeHiddenJSON writes a hidden
// character: \uXXXX, or a surrogate pair above U+FFFF.
func appendHiddenEscape(dst []byte, r rune) []byte {
	if r >= 0x10000 {
		hi, lo := utf16.EncodeRune(r)
		return appendU4(appendU4(dst, hi), lo)
	}
	return appendU4(dst, r)
}

func appendU4(dst []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

// compactLane encodes values compactly (as json.Marshal does) in a
// goroutine of its own, ahead of the caller, which takes them in order with
// next and gives each buffer back with done once it has used it. A value
// that cannot be encoded ends the lane: next returns its error.
type compactLane struct {
	out  chan compactValue
	free chan []byte
	quit chan struct{}
	over chan struct{}
}

type compactValue struct {
	b   []byte
	err error
}

// newCompactLane starts encoding the values values yields, each with a
// label that an encoding error names. An error values returns is the
// lane's last value.
func newCompactLane(values func(yield func(x any, label string) bool) error) *compactLane {
	l := &compactLane{out: make(chan compactValue, 64), free: make(chan []byte, 72),
		quit: make(chan struct{}), over: make(chan struct{})}
	go func() {
		defer close(l.over)
		defer close(l.out)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		err := values(func(x any, label string) bool {
			buf.Reset()
			v := compactValue{}
			if v.err = enc.Encode(x); v.err != nil {
				v.err = fmt.Errorf("%s: %w", label, v.err)
			} else {
				select {
				case v.b = <-l.free:
				default:
				}
				// Encode ends the value with a newline.
				v.b = append(v.b[:0], buf.Bytes()[:buf.Len()-1]...)
			}
			select {
			case l.out <- v:
				return v.err == nil
			case <-l.quit:
				return false
			}
		})
		if err != nil {
			select {
			case l.out <- compactValue{err: err}:
			case <-l.quit:
			}
		}
	}()
	return l
}

// next returns the next value encoded.
func (l *compactLane) next() ([]byte, error) {
	v, ok := <-l.out
	if !ok {
		return nil, errors.New("no more values")
	}
	return v.b, v.err
}

// done gives back the buffer of a value next returned.
func (l *compactLane) done(b []byte) {
	select {
	case l.free <- b:
	default:
	}
}

// stop ends the lane and waits for its goroutine.
func (l *compactLane) stop() {
	select {
	case <-l.quit:
	default:
		close(l.quit)
	}
	<-l.over
}
