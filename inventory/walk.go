package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A snapshot is hostile input. Before encoding/json fills the Go types, one
// pass over the bytes checks the document against the shape of those types
// (derived from them by reflection, so the two cannot drift apart) and stops
// at the first problem with its full JSON path (with array indexes) and byte
// offset: duplicate keys, unknown fields, a field of the wrong JSON type,
// null where an object or a value is required, numbers that are not whole
// or out of range, timestamps that are not RFC 3339, malformed or truncated
// JSON. encoding/json itself accepts duplicate keys (the last wins), matches
// field names case-insensitively and names Go types in its errors; after
// this pass it only has to decode a document that is known to fit.

type skind uint8

const (
	sObject skind = iota + 1 // a struct: known fields only
	sMap                     // string keys, any names
	sList
	sString
	sBool
	sInt
	sTime
)

type schema struct {
	kind     skind
	fields   map[string]*sfield // sObject
	elem     *schema            // sMap, sList
	min, max int64              // sInt
}

type sfield struct {
	s     *schema
	name  string
	since int // the first snapshot version that has the field
	bit   int // position in the duplicate-key bit set
}

// expected names what a schema accepts, for messages (never a Go type).
func (s *schema) expected() string {
	switch s.kind {
	case sObject, sMap:
		return "an object"
	case sList:
		return "a list"
	case sString:
		return "a string"
	case sBool:
		return "true or false"
	case sInt:
		return "a whole number"
	case sTime:
		return "an RFC 3339 time (a string such as \"2026-01-02T15:04:05Z\")"
	}
	return "nothing"
}

var snapshotSchema = sync.OnceValue(func() *schema {
	return schemaOf(reflect.TypeFor[Inventory](), map[reflect.Type]*schema{})
})

func schemaOf(t reflect.Type, seen map[reflect.Type]*schema) *schema {
	if t == reflect.TypeFor[time.Time]() {
		return &schema{kind: sTime}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem(), seen)
	case reflect.Struct:
		if s := seen[t]; s != nil {
			return s
		}
		s := &schema{kind: sObject, fields: map[string]*sfield{}}
		seen[t] = s
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			since := 1
			if v, ok := strings.CutPrefix(f.Tag.Get("snapshot"), "since="); ok {
				n, err := strconv.Atoi(v)
				if err != nil {
					panic("inventory: bad snapshot tag on " + t.Name() + "." + f.Name)
				}
				since = n
			}
			s.fields[name] = &sfield{s: schemaOf(f.Type, seen), name: name, since: since, bit: len(s.fields)}
		}
		if t == reflect.TypeFor[EnvVar]() {
			// A hand-written snapshot may give the value as ECS does; it is
			// classified and dropped (EnvVar.UnmarshalJSON).
			s.fields["value"] = &sfield{s: &schema{kind: sString}, name: "value", since: 1, bit: len(s.fields)}
		}
		return s
	case reflect.Slice:
		return &schema{kind: sList, elem: schemaOf(t.Elem(), seen)}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic("inventory: map without string keys in the snapshot types: " + t.String())
		}
		return &schema{kind: sMap, elem: schemaOf(t.Elem(), seen)}
	case reflect.String:
		return &schema{kind: sString}
	case reflect.Bool:
		return &schema{kind: sBool}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		return &schema{kind: sInt, min: -1 << (bits - 1), max: 1<<(bits-1) - 1}
	}
	panic("inventory: no snapshot schema for " + t.String())
}

// walker checks a document against a schema. In locate mode (target set) it
// only records the offset of the value at target, or of the deepest value
// on the way to it.
type walker struct {
	data    []byte
	pos     int
	base    int64 // offset of data[0] in the file (a byte order mark before it)
	version int
	path    []byte
	err     *LoadError
	// short is set when the walk stopped because the data ended (a
	// truncated file, or a part of a file read too short).
	short bool

	target []byte
	found  int64
	done   bool
}

func (w *walker) off(p int) int64 { return w.base + int64(p) }

func (w *walker) fail(p int, format string, args ...any) bool {
	if w.err == nil {
		w.err = &LoadError{Field: string(w.path), Offset: w.off(p), Msg: fmt.Sprintf(format, args...)}
	}
	return false
}

// syntax reports malformed JSON at p, or a truncated file when the JSON
// ends first.
func (w *walker) syntax(p int, what string) bool {
	if p >= len(w.data) {
		return w.truncated()
	}
	return w.fail(p, "malformed JSON: %s", what)
}

func (w *walker) truncated() bool {
	w.short = true
	if w.err == nil {
		w.err = &LoadError{Field: string(w.path), Offset: w.off(len(w.data)), Msg: "truncated: the JSON ends before the snapshot is complete"}
	}
	return false
}

func (w *walker) ws() {
	for w.pos < len(w.data) {
		switch w.data[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

// document checks the whole input: one object, then only white space.
func (w *walker) document(s *schema) bool {
	if !w.value(s) {
		return false
	}
	w.ws()
	if w.pos < len(w.data) {
		return w.trailing(w.pos)
	}
	return true
}

// trailing reports data at p after the snapshot object.
func (w *walker) trailing(p int) bool {
	w.path = w.path[:0]
	return w.fail(p, "unexpected data after the snapshot object")
}

// mark records, in locate mode, where the value at the current path starts.
func (w *walker) mark(p int) {
	switch {
	case bytes.Equal(w.path, w.target):
		w.found, w.done = w.off(p), true
	case len(w.path) == 0:
		w.found = w.off(p)
	case len(w.path) < len(w.target) && bytes.HasPrefix(w.target, w.path) &&
		(w.target[len(w.path)] == '.' || w.target[len(w.path)] == '['):
		w.found = w.off(p)
	}
}

func (w *walker) value(s *schema) bool {
	w.ws()
	if w.pos >= len(w.data) {
		return w.truncated()
	}
	start := w.pos
	if w.target != nil {
		w.mark(start)
		if w.done {
			return false
		}
	}
	switch c := w.data[start]; c {
	case '{':
		switch s.kind {
		case sObject:
			return w.object(s)
		case sMap:
			return w.mapObject(s)
		}
		return w.fail(start, "is an object; expected %s", s.expected())
	case '[':
		if s.kind == sList {
			return w.list(s)
		}
		return w.fail(start, "is a list; expected %s", s.expected())
	case '"':
		raw, esc, ok := w.str()
		if !ok {
			return false
		}
		switch s.kind {
		case sString:
			return true
		case sTime:
			var t time.Time
			if err := t.UnmarshalJSON(w.data[start:w.pos]); err != nil {
				v := string(raw)
				if esc {
					_ = json.Unmarshal(w.data[start:w.pos], &v)
				}
				if len(v) > 40 {
					v = v[:40] + "…"
				}
				return w.fail(start, "is %q, not an RFC 3339 time (expected a string such as \"2026-01-02T15:04:05Z\")", v)
			}
			return true
		}
		return w.fail(start, "is a string; expected %s", s.expected())
	case 't', 'f':
		lit := "true"
		if c == 'f' {
			lit = "false"
		}
		if !w.literal(lit) {
			return false
		}
		if s.kind == sBool {
			return true
		}
		return w.fail(start, "is %s; expected %s", lit, s.expected())
	case 'n':
		if !w.literal("null") {
			return false
		}
		if s.kind == sList || s.kind == sMap {
			return true // an empty list or map, as encoding/json writes one
		}
		if s.kind == sObject {
			return w.fail(start, "is null; expected an object (leave the field out when there is none)")
		}
		return w.fail(start, "is null; expected %s", s.expected())
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		whole, ok := w.number()
		if !ok {
			return false
		}
		num := string(w.data[start:w.pos])
		if s.kind != sInt {
			return w.fail(start, "is the number %s; expected %s", num, s.expected())
		}
		if !whole {
			return w.fail(start, "is %s; expected a whole number", num)
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n < s.min || n > s.max {
			return w.fail(start, "is %s; expected a whole number from %d to %d", num, s.min, s.max)
		}
		return true
	default:
		return w.syntax(start, fmt.Sprintf("unexpected character %s where a value belongs", quoteByte(c)))
	}
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (w *walker) literal(lit string) bool {
	if w.pos+len(lit) > len(w.data) {
		if bytes.HasPrefix([]byte(lit), w.data[w.pos:]) {
			return w.truncated()
		}
		return w.syntax(w.pos, "invalid literal (expected true, false or null)")
	}
	if string(w.data[w.pos:w.pos+len(lit)]) != lit {
		return w.syntax(w.pos, "invalid literal (expected true, false or null)")
	}
	w.pos += len(lit)
	return true
}

// number scans a JSON number and says whether it is written as a whole
// number (no fraction, no exponent).
func (w *walker) number() (whole, ok bool) {
	d, i := w.data, w.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i >= len(d):
		w.pos = i
		return false, w.truncated()
	case d[i] == '0':
		i++
	case d[i] >= '1' && d[i] <= '9':
		digits()
	default:
		return false, w.syntax(i, "invalid number")
	}
	whole = true
	if i < len(d) && d[i] == '.' {
		i++
		whole = false
		if digits() == 0 {
			return false, w.syntax(i, "invalid number: no digits after the decimal point")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		whole = false
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false, w.syntax(i, "invalid number: no digits in the exponent")
		}
	}
	w.pos = i
	return whole, true
}

// str scans a JSON string at w.pos and returns its raw content (between
// the quotes) and whether it has escapes.
func (w *walker) str() (raw []byte, escaped, ok bool) {
	d := w.data
	i := w.pos + 1
	for {
		if i >= len(d) {
			w.pos = i
			return nil, false, w.truncated()
		}
		c := d[i]
		switch {
		case c == '"':
			raw = d[w.pos+1 : i]
			w.pos = i + 1
			return raw, escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(d) {
				w.pos = i + 1
				return nil, false, w.truncated()
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) {
					w.pos = len(d)
					return nil, false, w.truncated()
				}
				for _, h := range d[i+2 : i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return nil, false, w.syntax(i, "invalid \\u escape in a string")
					}
				}
				i += 6
			default:
				return nil, false, w.syntax(i, "invalid escape in a string")
			}
		case c < 0x20:
			return nil, false, w.syntax(i, "control character inside a string (it must be escaped)")
		default:
			i++
		}
	}
}

// key reads an object key and the colon after it.
func (w *walker) key() (string, int, bool) {
	raw, k, esc, at, ok := w.keyRaw()
	if ok && !esc {
		k = string(raw)
	}
	return k, at, ok
}

// keyRaw is key without making a string of a key that has no escapes:
// such a key is returned as its bytes (raw), one with escapes unescaped
// (k, with esc set).
func (w *walker) keyRaw() (raw []byte, k string, esc bool, at int, ok bool) {
	w.ws()
	if w.pos >= len(w.data) {
		return nil, "", false, 0, w.truncated()
	}
	start := w.pos
	if w.data[start] != '"' {
		return nil, "", false, 0, w.syntax(start, "expected a field name in double quotes")
	}
	raw, esc, ok = w.str()
	if !ok {
		return nil, "", false, 0, false
	}
	if esc {
		var u string // only here: a pointer to k would take it to the heap on every call
		if err := json.Unmarshal(w.data[start:w.pos], &u); err != nil {
			return nil, "", false, 0, w.syntax(start, "invalid field name")
		}
		k, raw = u, nil
	}
	w.ws()
	if w.pos >= len(w.data) {
		return nil, "", false, 0, w.truncated()
	}
	if w.data[w.pos] != ':' {
		return nil, "", false, 0, w.syntax(w.pos, "expected ':' after a field name")
	}
	w.pos++
	return raw, k, esc, start, true
}

// next reads the ',' or the closing byte after a member or element; it
// reports whether another one follows.
func (w *walker) next(closing byte, what string) (more, ok bool) {
	w.ws()
	if w.pos >= len(w.data) {
		return false, w.truncated()
	}
	switch w.data[w.pos] {
	case ',':
		w.pos++
		return true, true
	case closing:
		w.pos++
		return false, true
	}
	return false, w.syntax(w.pos, "expected ',' or '"+string(closing)+"' after "+what)
}

// empty consumes the closing byte of an empty object or list.
func (w *walker) empty(closing byte) bool {
	w.pos++
	w.ws()
	if w.pos < len(w.data) && w.data[w.pos] == closing {
		w.pos++
		return true
	}
	return false
}

func (w *walker) pushField(name string) int {
	n := len(w.path)
	if n > 0 {
		w.path = append(w.path, '.')
	}
	w.path = append(w.path, name...)
	return n
}

func (w *walker) object(s *schema) bool { return w.members(s, nil) }

// members walks an object of schema s from its '{'. With each set, each
// walks every member's value in place of value: it is called with w at the
// value and the path naming the member.
func (w *walker) members(s *schema, each func(k string, f *sfield) bool) bool {
	if w.empty('}') {
		return true
	}
	var seen fieldSet
	for {
		raw, k, esc, at, ok := w.keyRaw()
		if !ok {
			return false
		}
		if !esc {
			// The schema's name of a known field: no string is made.
			if f := s.fields[string(raw)]; f != nil {
				k = f.name
			} else {
				k = string(raw)
			}
		}
		n := w.pushField(k)
		f, ok := w.field(s, k, at, &seen)
		if !ok {
			return false
		}
		if each == nil {
			if !w.value(f.s) {
				return false
			}
		} else if !each(k, f) {
			return false
		}
		w.path = w.path[:n]
		more, ok := w.next('}', "an object member")
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

// fieldSet records which fields of an object have been seen.
type fieldSet struct {
	bits uint64
	big  map[int]bool // more than 64 fields
}

// field looks up the member k, whose key is at at, of an object of schema
// s, and reports it if it is unknown or repeated (the path already names
// it).
func (w *walker) field(s *schema, k string, at int, seen *fieldSet) (*sfield, bool) {
	f := s.fields[k]
	if f == nil || f.since > w.version {
		if w.target != nil {
			return nil, false
		}
		return nil, w.fail(at, "unknown field (not part of snapshot version %d)", w.version)
	}
	dup := false
	if f.bit < 64 {
		dup = seen.bits&(1<<f.bit) != 0
		seen.bits |= 1 << f.bit
	} else {
		if seen.big == nil {
			seen.big = map[int]bool{}
		}
		dup = seen.big[f.bit]
		seen.big[f.bit] = true
	}
	if dup {
		return nil, w.fail(at, "duplicate key: the field appears more than once in the same object")
	}
	return f, true
}

func (w *walker) mapObject(s *schema) bool {
	if w.empty('}') {
		return true
	}
	var seen map[string]bool
	first := ""
	count := 0
	for {
		k, at, ok := w.key()
		if !ok {
			return false
		}
		n := len(w.path)
		w.path = append(w.path, '[')
		w.path = strconv.AppendQuote(w.path, k)
		w.path = append(w.path, ']')
		// Most maps are small: compare with the first key before
		// allocating a set.
		dup := false
		switch count {
		case 0:
			first = k
		case 1:
			dup = k == first
			if !dup {
				seen = map[string]bool{first: true, k: true}
			}
		default:
			dup = seen[k]
			seen[k] = true
		}
		count++
		if dup {
			return w.fail(at, "duplicate key: %s appears more than once in the same object", strconv.Quote(k))
		}
		if !w.value(s.elem) {
			return false
		}
		w.path = w.path[:n]
		more, ok := w.next('}', "an object member")
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

func (w *walker) list(s *schema) bool { return w.elements(s, nil) }

// elements walks a list of schema s from its '['. With each set, each
// walks every element in place of value: it is called with w at the
// element and the path naming it.
func (w *walker) elements(s *schema, each func(i int) bool) bool {
	if w.empty(']') {
		return true
	}
	for i := 0; ; i++ {
		n := len(w.path)
		w.path = append(w.path, '[')
		w.path = strconv.AppendInt(w.path, int64(i), 10)
		w.path = append(w.path, ']')
		if each == nil {
			if !w.value(s.elem) {
				return false
			}
		} else if !each(i) {
			return false
		}
		w.path = w.path[:n]
		more, ok := w.next(']', "a list element")
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

// locate returns the byte offset of the value at path in a document that
// has passed the walk, or of the deepest value on the way to it (the
// enclosing object of a missing field).
func locate(data []byte, base int64, version int, path string) int64 {
	w := walker{data: data, base: base, version: version, target: []byte(path), found: -1}
	w.value(snapshotSchema())
	return w.found
}

// header reads the top-level "format" and "schemaVersion" members without
// checking the rest, so that a file of another format or version gets that
// error first. complete is false when the scan stopped at malformed JSON
// (the full walk then reports it).
type header struct {
	format, version     []byte // raw JSON values, nil when absent
	formatAt, versionAt int
	complete            bool
	rootAt              int // where the top-level object starts
	dupField            string
	dupAt               int
}

func readHeader(data []byte) header {
	var h header
	w := walker{data: data, version: math.MaxInt}
	w.ws()
	h.rootAt = w.pos
	if w.pos >= len(data) || data[w.pos] != '{' {
		return h
	}
	if w.empty('}') {
		h.complete = true
		return h
	}
	for {
		k, at, ok := w.key()
		if !ok {
			return h
		}
		w.ws()
		start := w.pos
		if !skipValue(&w) {
			return h
		}
		switch k {
		case "format":
			if h.format != nil && h.dupField == "" {
				h.dupField, h.dupAt = k, at
			}
			h.format, h.formatAt = data[start:w.pos], start
		case "schemaVersion":
			if h.version != nil && h.dupField == "" {
				h.dupField, h.dupAt = k, at
			}
			h.version, h.versionAt = data[start:w.pos], start
		}
		more, ok := w.next('}', "an object member")
		if !ok {
			return h
		}
		if !more {
			h.complete = true
			return h
		}
	}
}

// skipValue moves past one JSON value, checking only what it must to find
// its end.
func skipValue(w *walker) bool {
	w.ws()
	if w.pos >= len(w.data) {
		return w.truncated()
	}
	switch c := w.data[w.pos]; {
	case c == '"':
		_, _, ok := w.str()
		return ok
	case c == '{' || c == '[':
		depth := 0
		for w.pos < len(w.data) {
			switch w.data[w.pos] {
			case '"':
				if _, _, ok := w.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					w.pos++
					return true
				}
			}
			w.pos++
		}
		return w.truncated()
	case c == 't':
		return w.literal("true")
	case c == 'f':
		return w.literal("false")
	case c == 'n':
		return w.literal("null")
	default:
		_, ok := w.number()
		return ok
	}
}
