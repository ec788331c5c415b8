package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unicode"

	"github.com/ecs-audit/audit/findings"
)

// Reading findings.json as a stream (audit report, audit merge), for a file
// too large to hold: a findings.json of a few thousand accounts is
// gigabytes, and ReadResult holds it about three times over.
//
// ScanResult reads the file a first time and checks it exactly as
// ReadResult does, with the same walk (read.go), so that it rejects what
// ReadResult rejects with the same error; meanwhile it records every
// top-level field but the three long lists (findings, roles, task
// definitions), which it only checks: the ResultStream's Header. Lists
// reads the file a second time and hands over the elements of the lists
// one at a time, decoded as ReadResult decodes them. Neither pass holds
// more than one element of a list; the top-level fields may come in any
// order.

// ResultStream is a findings.json that ScanResult read and checked: its
// Header, and its lists to read with Lists.
type ResultStream struct {
	// Header is the Result without its findings, roles and task
	// definitions (nil), in this build's version, as ReadResult gives it.
	// Of a version 1 file, Lists sets Summary.Affected and Summary.Items
	// once it has read the findings (ReadResult counts them from the
	// findings).
	Header *findings.Result
	Info   *ReadInfo
	name   string
	r      io.ReaderAt
	size   int64
	base   int64 // the byte order mark's length, if there is one
}

// streamedList says whether a top-level field is one of the lists Lists
// reads.
func streamedList(key string) bool {
	return key == "findings" || key == "roles" || key == "taskDefinitions"
}

// streamBuffer is the size of the read buffers of a stream.
var streamBuffer = 256 << 10

// OpenResult opens the findings.json at path and reads it with
// ScanResult; the file stays open for Lists until the caller closes it.
// Its errors are LoadResult's.
func OpenResult(path string) (*ResultStream, io.Closer, error) {
	fl, err := os.Open(path)
	if err != nil {
		return nil, nil, &ReadError{File: path, Offset: -1, Msg: strings.TrimPrefix(err.Error(), "open "+path+": ")}
	}
	st, err := fl.Stat()
	if err == nil && st.IsDir() {
		err = &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	}
	if err != nil {
		fl.Close()
		return nil, nil, &ReadError{File: path, Offset: -1, Msg: err.Error()}
	}
	s, err := ScanResult(fl, st.Size(), path)
	if err != nil {
		fl.Close()
		return nil, nil, err
	}
	return s, fl, nil
}

// ScanResult reads and checks the findings.json of size bytes in r (a
// file, held open for Lists) as ReadResult does, without holding it; name
// is the file name used in errors. An error is a *ReadError.
func ScanResult(r io.ReaderAt, size int64, name string) (*ResultStream, error) {
	s := &ResultStream{name: name, r: r, size: size}
	hs, err := s.scan()
	if err != nil {
		err.File = name
		return nil, err
	}
	s.Header = hs
	return s, nil
}

func (s *ResultStream) scan() (*findings.Result, *ReadError) {
	br := bufio.NewReaderSize(io.NewSectionReader(s.r, 0, s.size), streamBuffer)
	if b, _ := br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
		s.base = int64(len(utf8BOM))
	}
	// Empty: nothing but white space (bytes.TrimSpace's).
	empty := true
	for {
		c, _, err := br.ReadRune()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return nil, &ReadError{Offset: -1, Msg: err.Error()}
			}
			break
		}
		if !unicode.IsSpace(c) {
			empty = false
			break
		}
	}
	if empty {
		return nil, &ReadError{Offset: -1, Msg: "file is empty"}
	}
	in := &streamInput{br: bufio.NewReaderSize(io.NewSectionReader(s.r, s.base, s.size-s.base), streamBuffer), n: s.size - s.base}
	r := newResultReader(in, in, s.base)
	r.head = &headRecorder{b: []byte{'{'}}
	if err := r.check(); err != nil {
		return nil, err
	}
	r.head.b = append(r.head.b, '}')
	h := new(findings.Result)
	if err := json.Unmarshal(r.head.b, h); err != nil {
		// The walk accepted the fields, so this is not expected.
		return nil, &ReadError{Offset: -1, Msg: "cannot be decoded: " + trimJSON(err)}
	}
	s.Info = readInfo(r.version)
	if r.version < 2 {
		h.Rules = catalog()
	}
	h.SchemaVersion = findings.ResultSchemaVersion
	return h, nil
}

func trimJSON(err error) string {
	s := err.Error()
	if len(s) > 6 && s[:6] == "json: " {
		return s[6:]
	}
	return s
}

// ListVisitor takes the elements of the lists of a findings.json, one at
// a time, in the file's order. A nil func skips its list. Each element is
// the func's own.
type ListVisitor struct {
	Finding        func(*findings.Finding) error
	Role           func(*findings.RoleReport) error
	TaskDefinition func(*findings.TaskDefReport) error
}

// Lists reads the file again and gives v every element of its findings,
// roles and task definitions, in the file's order, as ReadResult decodes
// them (a version 1 finding upgraded as ReadResult upgrades it). The
// first error of v is returned; the file changed since ScanResult is an
// error too (a *ReadError).
func (s *ResultStream) Lists(v ListVisitor) error {
	dec := json.NewDecoder(bufio.NewReaderSize(io.NewSectionReader(s.r, s.base, s.size-s.base), streamBuffer))
	var affected *affectedCounter
	if s.Info.Version < 2 {
		affected = newAffectedCounter()
		defer affected.close()
	}
	changed := func(err error) error {
		return &ReadError{File: s.name, Offset: -1, Msg: "the file changed while it was read: " + trimJSON(err)}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return changed(fmt.Errorf("expected an object, found %v (%v)", tok, err))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return changed(err)
		}
		key, _ := tok.(string)
		var err2 error
		switch key {
		case "findings":
			err2 = eachElement(dec, func(f *findings.Finding) error {
				if affected != nil {
					upgradeV1Finding(f)
					affected.add(f)
				}
				if v.Finding == nil {
					return nil
				}
				return v.Finding(f)
			})
		case "roles":
			err2 = eachElement(dec, v.Role)
		case "taskDefinitions":
			err2 = eachElement(dec, v.TaskDefinition)
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return changed(err)
			}
			continue
		}
		if err2 != nil {
			var de decodeError
			if errors.As(err2, &de) {
				return changed(de.err)
			}
			return err2
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return changed(fmt.Errorf("expected the end of the object, found %v (%v)", tok, err))
	}
	if affected != nil {
		var err error
		if s.Header.Summary.Affected, s.Header.Summary.Items, err = affected.counts(); err != nil {
			return &ReadError{File: s.name, Offset: -1, Msg: err.Error()}
		}
	}
	return nil
}

// decodeError is an error of the decoder in Lists, told apart from the
// visitor's.
type decodeError struct{ err error }

func (e decodeError) Error() string { return e.err.Error() }

// eachElement decodes the list that comes next in dec (null is an empty
// list) and gives fn each element.
func eachElement[T any](dec *json.Decoder, fn func(*T) error) error {
	tok, err := dec.Token()
	if err != nil {
		return decodeError{err}
	}
	if tok == nil {
		return nil
	}
	if tok != json.Delim('[') {
		return decodeError{fmt.Errorf("expected a list, found %v", tok)}
	}
	for dec.More() {
		x := new(T)
		if err := dec.Decode(x); err != nil {
			return decodeError{err}
		}
		if fn != nil {
			if err := fn(x); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return decodeError{err}
	}
	return nil
}

// streamInput is the input of the walk of ScanResult: the decoder reads
// it (Read), and next looks past the decoder's buffer for the next token
// without holding what it passes. White space and separators it looks
// past are taken out of br and kept as runs of one byte (pending), which
// Read gives the decoder first: white space as spaces (the same to the
// decoder between tokens), a separator as itself. Between two tokens of a
// JSON document there are at most three runs; past maxPending runs next
// stops, so that an offset differs from ReadResult's only for data after
// the document that begins with more than a thousand runs of separators
// and white space larger than the read buffers.
type streamInput struct {
	br      *bufio.Reader
	n       int64 // the input's length
	pending []pendingRun
}

// pendingRun is n times the byte c.
type pendingRun struct {
	c byte
	n int64
}

func (in *streamInput) size() int64 { return in.n }

func (in *streamInput) Read(p []byte) (int, error) {
	// At most a buffer at a time (the tests make it small, so that next
	// often looks past the decoder's buffer).
	p = p[:min(len(p), streamBuffer)]
	if len(in.pending) == 0 {
		return in.br.Read(p)
	}
	run := &in.pending[0]
	k := int(min(run.n, int64(len(p))))
	for i := range k {
		p[i] = run.c
	}
	run.n -= int64(k)
	if run.n == 0 {
		in.pending = in.pending[1:]
	}
	return k, nil
}

func (in *streamInput) next(dec *json.Decoder) int64 {
	off := dec.InputOffset()
	if rd, ok := dec.Buffered().(io.ByteReader); ok {
		for {
			c, err := rd.ReadByte()
			if err != nil {
				break
			}
			if !skippable(c) {
				return off
			}
			off++
		}
	}
	for _, p := range in.pending {
		off += p.n
	}
	for {
		if _, err := in.br.Peek(1); err != nil {
			return off // the end (or an error the decoder meets)
		}
		b, _ := in.br.Peek(in.br.Buffered())
		i := 0
		for ; i < len(b); i++ {
			c := b[i]
			if !skippable(c) {
				in.br.Discard(i)
				return off
			}
			if c != ',' && c != ':' {
				c = ' '
			}
			if k := len(in.pending); k > 0 && in.pending[k-1].c == c {
				in.pending[k-1].n++
			} else if k < maxPending {
				in.pending = append(in.pending, pendingRun{c: c, n: 1})
			} else {
				// More runs than any JSON has between two tokens (one
				// separator): malformed, or data after the document.
				// The decoder meets what is wrong with its own offset;
				// only an error about data after the document would
				// name this one.
				in.br.Discard(i)
				return off
			}
			off++
		}
		in.br.Discard(i)
	}
}

// maxPending bounds the runs next keeps.
const maxPending = 1024

// headRecorder writes the top-level fields of a findings.json but its
// lists back as JSON, from the walk's tokens, for encoding/json to decode
// as it decodes them in the file: the same values, in the same order.
type headRecorder struct {
	b      []byte
	on     bool // record the walk's tokens
	fields int
	// stack holds, for each open object or list, whether it is an object
	// and how many keys and values it has so far.
	stack []headLevel
}

type headLevel struct {
	object bool
	n      int
}

// key starts a top-level field.
func (h *headRecorder) key(k string) {
	if h.fields > 0 {
		h.b = append(h.b, ',')
	}
	h.fields++
	h.b = appendJSONString(h.b, k)
	h.b = append(h.b, ':')
}

func (h *headRecorder) token(tok json.Token) {
	if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
		h.b = append(h.b, byte(d))
		h.stack = h.stack[:len(h.stack)-1]
		h.counted()
		return
	}
	if k := len(h.stack); k > 0 {
		l := h.stack[k-1]
		switch {
		case l.object && l.n%2 == 1:
			h.b = append(h.b, ':')
		case l.n > 0:
			h.b = append(h.b, ',')
		}
	}
	switch t := tok.(type) {
	case json.Delim:
		h.b = append(h.b, byte(t))
		h.stack = append(h.stack, headLevel{object: t == '{'})
		return
	case string:
		h.b = appendJSONString(h.b, t)
	case json.Number:
		h.b = append(h.b, t...)
	case bool:
		h.b = strconv.AppendBool(h.b, t)
	case nil:
		h.b = append(h.b, "null"...)
	}
	h.counted()
}

// counted counts a key or value of the innermost object or list.
func (h *headRecorder) counted() {
	if k := len(h.stack); k > 0 {
		h.stack[k-1].n++
	}
}

// appendJSONString appends s (valid UTF-8, as the decoder gives strings)
// as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
