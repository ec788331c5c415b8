package policy

import (
	"encoding/json"
	"unicode/utf8"
)

// readJSONFast reads a policy document into the tree readJSON gives, in
// one pass without encoding/json's tokens (a policy is parsed for every
// role and resource of every account: the tokens were most of the cost).
// It reads only well-formed JSON, and gives up (false) on anything it
// does not read exactly as readJSON does: then readJSON reads it, and its
// answer (the tree, or the error naming the offset) is the one given.
func readJSONFast(text []byte) (*jval, bool) {
	r := jsonReader{data: text}
	v, ok := r.value(0)
	if !ok {
		return nil, false
	}
	r.ws()
	return v, r.pos == len(r.data)
}

// jsonReaderDepth bounds the nesting readJSONFast reads (encoding/json's
// limit is far deeper; a policy is a few levels deep).
const jsonReaderDepth = 64

type jsonReader struct {
	data []byte
	pos  int
}

func (r *jsonReader) ws() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

func (r *jsonReader) value(depth int) (*jval, bool) {
	r.ws()
	if r.pos >= len(r.data) || depth > jsonReaderDepth {
		return nil, false
	}
	switch c := r.data[r.pos]; {
	case c == '{':
		r.pos++
		v := &jval{kind: jObject}
		r.ws()
		if r.pos < len(r.data) && r.data[r.pos] == '}' {
			r.pos++
			return v, true
		}
		for {
			r.ws()
			key, ok := r.str()
			if !ok {
				return nil, false
			}
			r.ws()
			if r.pos >= len(r.data) || r.data[r.pos] != ':' {
				return nil, false
			}
			r.pos++
			mv, ok := r.value(depth + 1)
			if !ok {
				return nil, false
			}
			if v.dup == "" {
				for _, m := range v.obj {
					if m.key == key {
						v.dup = key
						break
					}
				}
			}
			v.obj = append(v.obj, jmember{key, mv})
			more, ok := r.next('}')
			if !ok {
				return nil, false
			}
			if !more {
				return v, true
			}
		}
	case c == '[':
		r.pos++
		v := &jval{kind: jArray}
		r.ws()
		if r.pos < len(r.data) && r.data[r.pos] == ']' {
			r.pos++
			return v, true
		}
		for {
			ev, ok := r.value(depth + 1)
			if !ok {
				return nil, false
			}
			v.arr = append(v.arr, ev)
			more, ok := r.next(']')
			if !ok {
				return nil, false
			}
			if !more {
				return v, true
			}
		}
	case c == '"':
		s, ok := r.str()
		if !ok {
			return nil, false
		}
		return &jval{kind: jString, s: s}, true
	case c == 't':
		return r.literal("true", &jval{kind: jBool, s: "true"})
	case c == 'f':
		return r.literal("false", &jval{kind: jBool, s: "false"})
	case c == 'n':
		return r.literal("null", &jval{kind: jNull})
	case c == '-' || c >= '0' && c <= '9':
		start := r.pos
		if !r.number() {
			return nil, false
		}
		return &jval{kind: jNumber, s: string(r.data[start:r.pos])}, true
	}
	return nil, false
}

func (r *jsonReader) literal(lit string, v *jval) (*jval, bool) {
	if len(r.data)-r.pos < len(lit) || string(r.data[r.pos:r.pos+len(lit)]) != lit {
		return nil, false
	}
	r.pos += len(lit)
	return v, true
}

// next reads what follows a member or an element: a comma (more) or the
// closing byte.
func (r *jsonReader) next(close byte) (more, ok bool) {
	r.ws()
	if r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ',':
			r.pos++
			return true, true
		case close:
			r.pos++
			return false, true
		}
	}
	return false, false
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *jsonReader) number() bool {
	d := r.data
	if r.pos < len(d) && d[r.pos] == '-' {
		r.pos++
	}
	switch {
	case r.pos < len(d) && d[r.pos] == '0':
		r.pos++
	case r.pos < len(d) && d[r.pos] >= '1' && d[r.pos] <= '9':
		r.digits()
	default:
		return false
	}
	if r.pos < len(d) && d[r.pos] == '.' {
		r.pos++
		if !r.digits() {
			return false
		}
	}
	if r.pos < len(d) && (d[r.pos] == 'e' || d[r.pos] == 'E') {
		r.pos++
		if r.pos < len(d) && (d[r.pos] == '+' || d[r.pos] == '-') {
			r.pos++
		}
		if !r.digits() {
			return false
		}
	}
	return true
}

func (r *jsonReader) digits() bool {
	start := r.pos
	for r.pos < len(r.data) && r.data[r.pos] >= '0' && r.data[r.pos] <= '9' {
		r.pos++
	}
	return r.pos > start
}

// str reads a string: one of printable ASCII without escapes as it is;
// any other is unquoted by encoding/json, as readJSON's tokens are.
func (r *jsonReader) str() (string, bool) {
	if r.pos >= len(r.data) || r.data[r.pos] != '"' {
		return "", false
	}
	start := r.pos
	plain := true
	for i := start + 1; i < len(r.data); i++ {
		switch c := r.data[i]; {
		case c == '"':
			r.pos = i + 1
			if plain {
				return string(r.data[start+1 : i]), true
			}
			var s string
			if json.Unmarshal(r.data[start:r.pos], &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			plain = false
			i++
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return "", false
}
