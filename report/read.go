package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecs-audit/audit/findings"
)

// Reading findings.json back (audit report).
//
// A findings.json may be years old, edited by hand, or not a findings.json
// at all, so it is read like any untrusted input: before encoding/json
// fills the Go types, one pass over the tokens checks the document against
// the shape of those types (derived from them by reflection, so that the
// two cannot drift apart) and stops at the first problem with its JSON path
// (findings[3].evidence.need.action) and byte offset: malformed or
// truncated JSON, duplicate keys, unknown fields, a value of the wrong JSON
// type, null where a value is required, a missing required field (a field
// without omitempty; one added in a later version than the file's carries
// the tag since:"N"), a severity that is not one, a time that is not
// RFC 3339, a schemaVersion this build does not read. encoding/json itself
// would take the last of duplicate keys, match names case-insensitively and
// name Go types in its errors.
//
// Versions: this build reads findings.ResultSchemaVersion and every older
// version from findings.OldestResultSchemaVersion (docs/findings.md).
// Version 1 has no rule catalog: the Result gets this build's, and a note
// says so. Its findings are one per item: each becomes a root cause of its
// own (upgrade.go), and a second note says so.

// ReadError says what is wrong with a findings.json file.
type ReadError struct {
	File string
	// Path is the JSON path of the value at fault, such as
	// findings[3].severity; "" for the whole document.
	Path string
	// Offset is the byte offset (from 0) of the value, key or enclosing
	// object at fault; -1 when the error has no place in the file.
	Offset int64
	Msg    string
}

func (e *ReadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "findings file %s", e.File)
	if e.Path != "" {
		fmt.Fprintf(&b, ": field %s", e.Path)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " (byte %d)", e.Offset)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// ReadInfo says how a findings.json was read.
type ReadInfo struct {
	// Version is the file's schemaVersion. The Result returned is in this
	// build's version (findings.ResultSchemaVersion).
	Version int
	// Notes are what a person should know about reports rendered from it
	// (a version 1 file has no rule catalog of its own).
	Notes []string
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// LoadResult reads a findings.json file with ReadResult.
func LoadResult(path string) (*findings.Result, *ReadInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, &ReadError{File: path, Offset: -1, Msg: strings.TrimPrefix(err.Error(), "open "+path+": ")}
	}
	return ReadResult(data, path)
}

// ReadResult parses and checks a findings.json held in memory; name is the
// file name used in errors. An error is a *ReadError.
func ReadResult(data []byte, name string) (*findings.Result, *ReadInfo, error) {
	res, info, err := readResult(data)
	if err != nil {
		err.File = name
		return nil, nil, err
	}
	return res, info, nil
}

func readResult(data []byte) (*findings.Result, *ReadInfo, *ReadError) {
	var base int64
	if bytes.HasPrefix(data, utf8BOM) {
		data, base = data[len(utf8BOM):], int64(len(utf8BOM))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, &ReadError{Offset: -1, Msg: "file is empty"}
	}
	r := newResultReader(memInput(data), bytes.NewReader(data), base)
	if err := r.check(); err != nil {
		return nil, nil, err
	}
	res := new(findings.Result)
	if err := json.Unmarshal(data, res); err != nil {
		// The walk accepted the document, so this is not expected; say
		// what encoding/json said.
		return nil, nil, &ReadError{Offset: -1, Msg: "cannot be decoded: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	info := readInfo(r.version)
	if r.version < 2 {
		res.Rules = catalog()
		upgradeV1(res)
	}
	res.SchemaVersion = findings.ResultSchemaVersion
	return res, info, nil
}

// readInfo is the ReadInfo of a file of version v.
func readInfo(v int) *ReadInfo {
	info := &ReadInfo{Version: v}
	if v < 2 {
		info.Notes = append(info.Notes, fmt.Sprintf("findings.json version %d carries no rule catalog: "+
			"the rules are described as this build's catalog describes them", v),
			fmt.Sprintf("findings.json version %d has one finding per item: each is read as a root cause of its own, "+
				"whose fix is its remediation, without the layer where it is made", v))
	}
	return info
}

func newResultReader(in readInput, src io.Reader, base int64) *resultReader {
	r := &resultReader{in: in, base: base, dec: json.NewDecoder(src), missing: map[int]*ReadError{}}
	r.dec.UseNumber()
	return r
}

// check walks the whole document and returns its first problem, if any,
// once the version is known.
func (r *resultReader) check() *ReadError {
	if !r.document() {
		return r.err
	}
	if r.version == 0 {
		return &ReadError{Path: "schemaVersion", Offset: r.base, Msg: "missing"}
	}
	for _, since := range slices.Sorted(maps.Keys(r.missing)) {
		if since <= r.version {
			return r.missing[since]
		}
	}
	return nil
}

// rkind is the JSON shape a Go type takes.
type rkind uint8

const (
	rObject   rkind = iota + 1 // a struct: its fields only
	rMap                       // string keys, any names
	rList                      // a slice
	rString                    // a string
	rSeverity                  // a findings.Severity
	rBool                      // true or false
	rInt                       // a whole number in [min, max]
	rTime                      // an RFC 3339 time
	rDocument                  // a json.RawMessage: a policy document, any object
	rAny                       // anything
)

type rschema struct {
	kind     rkind
	fields   map[string]*rfield // rObject
	order    []*rfield          // rObject, in the type's order
	elem     *rschema           // rMap, rList
	min, max int64              // rInt
}

type rfield struct {
	name     string
	s        *rschema
	required bool
	since    int // the first version that has the field
}

func (s *rschema) expected() string {
	switch s.kind {
	case rObject, rMap, rDocument:
		return "an object"
	case rList:
		return "a list"
	case rString:
		return "a string"
	case rSeverity:
		return "a severity (" + severityList() + ")"
	case rBool:
		return "true or false"
	case rInt:
		return "a whole number"
	case rTime:
		return `an RFC 3339 time (a string such as "2026-01-02T15:04:05Z")`
	}
	return "a value"
}

func severityList() string {
	names := make([]string, len(findings.Severities))
	for i, s := range findings.Severities {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

var resultSchema = sync.OnceValue(func() *rschema {
	return rschemaOf(reflect.TypeFor[findings.Result](), map[reflect.Type]*rschema{})
})

func rschemaOf(t reflect.Type, seen map[reflect.Type]*rschema) *rschema {
	switch t {
	case reflect.TypeFor[time.Time]():
		return &rschema{kind: rTime}
	case reflect.TypeFor[json.RawMessage]():
		return &rschema{kind: rDocument}
	case reflect.TypeFor[findings.Severity]():
		return &rschema{kind: rSeverity}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return rschemaOf(t.Elem(), seen)
	case reflect.String:
		return &rschema{kind: rString}
	case reflect.Bool:
		return &rschema{kind: rBool}
	case reflect.Int, reflect.Int64:
		return &rschema{kind: rInt, min: math.MinInt64, max: math.MaxInt64}
	case reflect.Int32:
		return &rschema{kind: rInt, min: math.MinInt32, max: math.MaxInt32}
	case reflect.Slice:
		return &rschema{kind: rList, elem: rschemaOf(t.Elem(), seen)}
	case reflect.Map:
		if t.Key().Kind() == reflect.String {
			return &rschema{kind: rMap, elem: rschemaOf(t.Elem(), seen)}
		}
	case reflect.Struct:
		if s := seen[t]; s != nil {
			return s
		}
		s := &rschema{kind: rObject, fields: map[string]*rfield{}}
		seen[t] = s
		addFields(s, t, seen)
		return s
	}
	return &rschema{kind: rAny}
}

// addFields adds the JSON fields of struct type t (and of its embedded
// structs) to s.
func addFields(s *rschema, t reflect.Type, seen map[reflect.Type]*rschema) {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, hasTag := sf.Tag.Lookup("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && !hasTag && sf.Type.Kind() == reflect.Struct {
			addFields(s, sf.Type, seen)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f := &rfield{name: name, s: rschemaOf(sf.Type, seen), since: findings.OldestResultSchemaVersion,
			required: !slices.Contains(strings.Split(opts, ","), "omitempty")}
		if v, err := strconv.Atoi(sf.Tag.Get("since")); err == nil {
			f.since = v
		}
		s.fields[name] = f
		s.order = append(s.order, f)
	}
}

// resultReader walks the tokens of a findings.json, held in memory
// (ReadResult) or read as a stream (ScanResult): in encodes the difference.
type resultReader struct {
	in      readInput
	base    int64
	dec     *json.Decoder
	err     *ReadError
	version int
	// missing holds, per version, the first required field of that version
	// that is missing; whether it is an error depends on the file's
	// version, known only at the end.
	missing map[int]*ReadError
	// head, when set, records the top-level fields but the three long
	// lists (ScanResult).
	head *headRecorder
}

// readInput is what the walk needs of its input beyond the decoder.
type readInput interface {
	// next is the offset in the decoder's input of the next token: the
	// first byte from the decoder's offset on that is not white space, a
	// comma or a colon (the input's length at its end).
	next(dec *json.Decoder) int64
	// size is the length of the decoder's input.
	size() int64
}

// memInput is a findings.json held in memory.
type memInput []byte

func (m memInput) next(dec *json.Decoder) int64 {
	off := dec.InputOffset()
	for off < int64(len(m)) && skippable(m[off]) {
		off++
	}
	return off
}

func (m memInput) size() int64 { return int64(len(m)) }

// skippable says whether c is white space or a separator between tokens.
func skippable(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', ':':
		return true
	}
	return false
}

// at is the offset in the file of the next token.
func (r *resultReader) at() int64 {
	return r.base + r.in.next(r.dec)
}

func (r *resultReader) fail(path string, off int64, format string, a ...any) bool {
	if r.err == nil {
		r.err = &ReadError{Path: path, Offset: off, Msg: fmt.Sprintf(format, a...)}
	}
	return false
}

// token reads the next token; at the end of the data or on malformed JSON
// it records the error.
func (r *resultReader) token(path string) (json.Token, int64, bool) {
	off := r.at()
	tok, err := r.dec.Token()
	if err == nil {
		if r.head != nil && r.head.on {
			r.head.token(tok)
		}
		return tok, off, true
	}
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, off, r.fail(path, r.base+r.in.size(), "the file ends early (truncated?)")
	case errors.As(err, &se):
		return nil, off, r.fail(path, r.base+se.Offset, "malformed JSON: %s", strings.TrimPrefix(se.Error(), "json: "))
	}
	return nil, off, r.fail(path, off, "malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func (r *resultReader) document() bool {
	if !r.value(resultSchema(), "") {
		return false
	}
	off := r.at()
	if _, err := r.dec.Token(); err != io.EOF {
		return r.fail("", off, "more data after the findings object")
	}
	return true
}

func describe(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		if t == '{' {
			return "an object"
		}
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return "a value"
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// value checks the next value against s.
func (r *resultReader) value(s *rschema, path string) bool {
	tok, off, ok := r.token(path)
	if !ok {
		return false
	}
	if tok == nil {
		if s.kind == rList || s.kind == rMap || s.kind == rAny {
			return true // an empty list or map (version 1 wrote some as null)
		}
		return r.fail(path, off, "is null; expected %s (a field that does not apply is left out, never null)", s.expected())
	}
	switch s.kind {
	case rAny:
		return r.skip(tok, path)
	case rDocument:
		if tok != json.Delim('{') {
			return r.fail(path, off, "is %s; expected %s", describe(tok), s.expected())
		}
		return r.skip(tok, path)
	case rString:
		if _, ok := tok.(string); !ok {
			return r.fail(path, off, "is %s; expected %s", describe(tok), s.expected())
		}
		return true
	case rSeverity:
		str, ok := tok.(string)
		if !ok || findings.Severity(str).Rank() == 0 {
			if ok {
				return r.fail(path, off, "is %q; expected %s", truncate(str), s.expected())
			}
			return r.fail(path, off, "is %s; expected %s", describe(tok), s.expected())
		}
		return true
	case rTime:
		str, ok := tok.(string)
		if !ok {
			return r.fail(path, off, "is %s; expected %s", describe(tok), s.expected())
		}
		if _, err := time.Parse(time.RFC3339, str); err != nil {
			return r.fail(path, off, "is %q; expected %s", truncate(str), s.expected())
		}
		return true
	case rBool:
		if _, ok := tok.(bool); !ok {
			return r.fail(path, off, "is %s; expected %s", describe(tok), s.expected())
		}
		return true
	case rInt:
		n, ok := tok.(json.Number)
		if !ok {
			return r.fail(path, off, "is %s; expected %s", describe(tok), s.expected())
		}
		v, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || v < s.min || v > s.max {
			return r.fail(path, off, "is %s; expected a whole number from %d to %d", truncate(string(n)), s.min, s.max)
		}
		if path == "schemaVersion" {
			return r.checkVersion(v, off)
		}
		return true
	case rList:
		if tok != json.Delim('[') {
			return r.fail(path, off, "is %s; expected %s", describe(tok), s.expected())
		}
		for i := 0; r.dec.More(); i++ {
			if !r.value(s.elem, fmt.Sprintf("%s[%d]", path, i)) {
				return false
			}
		}
		_, _, ok := r.token(path)
		return ok
	case rMap, rObject:
		if tok != json.Delim('{') {
			return r.fail(path, off, "is %s; expected %s", describe(tok), s.expected())
		}
		return r.object(s, path, off)
	}
	return r.fail(path, off, "cannot be read")
}

// object checks the members of an object whose '{' was just read at off.
func (r *resultReader) object(s *rschema, path string, off int64) bool {
	seen := map[string]bool{}
	// The document's own fields are recorded one by one (the path of
	// every other object is not empty).
	top := r.head != nil && path == ""
	for r.dec.More() {
		tok, koff, ok := r.token(path)
		if !ok {
			return false
		}
		key, _ := tok.(string) // the decoder only returns strings as keys
		if top && !seen[key] && !streamedList(key) {
			r.head.key(key)
			r.head.on = true
		}
		var sub *rschema
		var kpath string
		if s.kind == rMap {
			sub, kpath = s.elem, fmt.Sprintf("%s[%s]", path, strconv.Quote(key))
		} else {
			kpath = join(path, key)
			f := s.fields[key]
			if f == nil {
				return r.fail(kpath, koff, "%s", unknownField(path, key))
			}
			sub = f.s
		}
		if seen[key] {
			return r.fail(kpath, koff, "duplicate key: the field appears more than once in the same object")
		}
		seen[key] = true
		if !r.value(sub, kpath) {
			return false
		}
		if top {
			r.head.on = false
		}
	}
	if _, _, ok := r.token(path); !ok {
		return false
	}
	for _, f := range s.order {
		if !f.required || seen[f.name] {
			continue
		}
		if f.since <= findings.OldestResultSchemaVersion {
			return r.fail(join(path, f.name), off, "missing")
		}
		if r.missing[f.since] == nil {
			r.missing[f.since] = &ReadError{Path: join(path, f.name), Offset: off,
				Msg: fmt.Sprintf("missing (required from findings.json version %d)", f.since)}
		}
	}
	return true
}

// unknownField says what an unknown field means, and for a file that is not
// a findings.json at all, what it is.
func unknownField(path, key string) string {
	if path == "" {
		switch key {
		case "format":
			return "unknown field: this looks like an inventory snapshot, not a findings.json; analyse it with audit scan --snapshot FILE"
		case "$schema", "runs", "version":
			return "unknown field: this looks like a SARIF file, not a findings.json; audit report reads the findings.json a scan writes"
		}
	}
	return fmt.Sprintf("unknown field (this build reads findings.json versions %d to %d)",
		findings.OldestResultSchemaVersion, findings.ResultSchemaVersion)
}

func (r *resultReader) checkVersion(v int64, off int64) bool {
	if v < findings.OldestResultSchemaVersion || v > findings.ResultSchemaVersion {
		return r.fail("schemaVersion", off, "version %d is not supported by this build (it reads versions %d to %d)",
			v, findings.OldestResultSchemaVersion, findings.ResultSchemaVersion)
	}
	r.version = int(v)
	return true
}

// skip consumes the rest of a value whose first token is tok.
func (r *resultReader) skip(tok json.Token, path string) bool {
	d, ok := tok.(json.Delim)
	if !ok || (d != '{' && d != '[') {
		return true
	}
	for depth := 1; depth > 0; {
		t, _, ok := r.token(path)
		if !ok {
			return false
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return true
}

// truncate shortens a quoted value for a message.
func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
