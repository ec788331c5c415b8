package inventory

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// decodeWalked decodes data into v (a pointer) as json.Unmarshal would,
// when data is a value the walk (walk.go) already checked: the snapshot's
// accounts, read again once the whole file was walked. It reads the bytes
// once, where json.Unmarshal reads them twice (a check of the syntax, then
// the decoding), and knows the shapes of the types ahead. Whatever it does
// not handle as json.Unmarshal does, or any doubt about the bytes (they
// should not be in doubt, having been walked), and json.Unmarshal decodes
// the value instead: the value and the error are json.Unmarshal's.
func decodeWalked(data []byte, v any) error {
	if decodeWalkedFast(data, v) {
		return nil
	}
	return json.Unmarshal(data, v)
}

// decodeWalkedFast is decodeWalked's own decoding: false (and v set to its
// zero value) when it leaves the value to json.Unmarshal.
func decodeWalkedFast(data []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false
	}
	d := walkedDecoder{data: data}
	d.ws()
	if d.value(rv.Elem(), planOf(rv.Elem().Type())) {
		d.ws()
		if d.pos == len(d.data) {
			return true
		}
	}
	// Start again from a zero value.
	rv.Elem().SetZero()
	return false
}

// decodePlan is how a type is decoded.
type decodePlan struct {
	kind   reflect.Kind
	typ    reflect.Type
	elem   *decodePlan           // pointer, slice, map values
	fields map[string]*fieldPlan // struct
	// custom: the type (or a pointer to it) has its own UnmarshalJSON,
	// which gets the value's bytes.
	custom bool
	// form: the type is jsonFormed, decoded from this form.
	form *decodePlan
	// unsupported: decodeWalked leaves the value to json.Unmarshal.
	unsupported bool
}

type fieldPlan struct {
	index int
	plan  *decodePlan
}

var stringMapType = reflect.TypeFor[map[string]string]()

var (
	decodePlans  sync.Map // reflect.Type -> *decodePlan, complete
	planBuilding sync.Mutex
)

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	jsonFormedType      = reflect.TypeFor[jsonFormed]()
	textUnmarshalerType = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()
)

func planOf(t reflect.Type) *decodePlan {
	if p, ok := decodePlans.Load(t); ok {
		return p.(*decodePlan)
	}
	planBuilding.Lock()
	defer planBuilding.Unlock()
	building := map[reflect.Type]*decodePlan{}
	p := buildPlan(t, building)
	// Published once every plan they lead to is complete.
	for t, q := range building {
		decodePlans.Store(t, q)
	}
	return p
}

func buildPlan(t reflect.Type, building map[reflect.Type]*decodePlan) *decodePlan {
	if p, ok := decodePlans.Load(t); ok {
		return p.(*decodePlan)
	}
	if p := building[t]; p != nil {
		return p
	}
	p := &decodePlan{kind: t.Kind(), typ: t}
	building[t] = p
	switch {
	case t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(jsonFormedType):
		p.form = buildPlan(reflect.TypeOf(reflect.New(t).Interface().(jsonFormed).jsonForm()).Elem(), building)
	case t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(unmarshalerType):
		p.custom = true
	case t.Kind() == reflect.Pointer:
		p.elem = buildPlan(t.Elem(), building)
	case t.Kind() == reflect.Struct:
		p.fields = map[string]*fieldPlan{}
		if t.NumField() > 64 {
			p.unsupported = true // more than the bit set of decoded fields
		}
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous || opts != "" && opts != "omitempty" {
				// Embedded fields and options such as string: as
				// encoding/json does them.
				p.unsupported = true
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			p.fields[name] = &fieldPlan{index: i, plan: buildPlan(f.Type, building)}
		}
	case t.Kind() == reflect.Slice:
		p.elem = buildPlan(t.Elem(), building)
	case t.Kind() == reflect.Map:
		if t.Key().Kind() != reflect.String || reflect.PointerTo(t.Key()).Implements(textUnmarshalerType) {
			p.unsupported = true
		}
		p.elem = buildPlan(t.Elem(), building)
	case t.Kind() == reflect.String, t.Kind() == reflect.Bool,
		t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
	default:
		p.unsupported = true
	}
	return p
}

// walkedDecoder reads one value. Every method returns false when the
// bytes are not what it expects, or the value not one it decodes as
// json.Unmarshal does.
type walkedDecoder struct {
	data []byte
	pos  int
	// short holds the short strings decoded so far, so that one that
	// occurs again (attribute names and values, regions, statuses) is
	// the same string: an account's strings repeat a lot.
	short map[string]string
}

// walkedShort is the length up to which a string is looked up in
// walkedDecoder.short.
const walkedShort = 48

func (d *walkedDecoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// value decodes the value at pos into v (settable, zero).
func (d *walkedDecoder) value(v reflect.Value, p *decodePlan) bool {
	if p.unsupported || d.pos >= len(d.data) {
		return false
	}
	c := d.data[d.pos]
	if p.form != nil {
		if c != '{' {
			return false
		}
		x := v.Addr().Interface().(jsonFormed)
		form := x.jsonForm()
		if !d.value(reflect.ValueOf(form).Elem(), p.form) {
			return false
		}
		x.fromJSONForm(form)
		return true
	}
	if p.custom {
		start := d.pos
		if !d.skip() {
			return false
		}
		u, ok := v.Addr().Interface().(json.Unmarshaler)
		return ok && u.UnmarshalJSON(d.data[start:d.pos]) == nil
	}
	if c == 'n' {
		if !d.literal("null") {
			return false
		}
		// As json.Unmarshal: nil for what can be nil, nothing else
		// changes (a custom type was handled above).
		switch p.kind {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			v.SetZero()
		}
		return true
	}
	switch p.kind {
	case reflect.Pointer:
		e := reflect.New(p.typ.Elem())
		if !d.value(e.Elem(), p.elem) {
			return false
		}
		v.Set(e)
		return true
	case reflect.Struct:
		return c == '{' && d.object(v, p)
	case reflect.Slice:
		return c == '[' && d.slice(v, p)
	case reflect.Map:
		return c == '{' && d.mapValue(v, p)
	case reflect.String:
		s, ok := d.str()
		if !ok {
			return false
		}
		v.SetString(s)
		return true
	case reflect.Bool:
		switch {
		case d.literal("true"):
			v.SetBool(true)
			return true
		case d.literal("false"):
			return true
		}
		return false
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		start := d.pos
		for d.pos < len(d.data) && (d.data[d.pos] == '-' || d.data[d.pos] >= '0' && d.data[d.pos] <= '9') {
			d.pos++
		}
		if d.pos < len(d.data) && (d.data[d.pos] == '.' || d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
			return false
		}
		n, err := strconv.ParseInt(string(d.data[start:d.pos]), 10, 64)
		if err != nil || v.OverflowInt(n) || !validInt(d.data[start:d.pos]) {
			return false
		}
		v.SetInt(n)
		return true
	}
	return false
}

// validInt says whether b is a JSON integer (no leading zeros, no plus).
func validInt(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	return len(b) > 0 && (b[0] != '0' || len(b) == 1)
}

func (d *walkedDecoder) literal(s string) bool {
	if !strings.HasPrefix(string(d.data[d.pos:min(len(d.data), d.pos+len(s))]), s) {
		return false
	}
	d.pos += len(s)
	return true
}

// object decodes a JSON object into a struct.
func (d *walkedDecoder) object(v reflect.Value, p *decodePlan) bool {
	d.pos++ // {
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return true
	}
	var seen uint64
	for {
		key, ok := d.rawKey()
		if !ok {
			return false
		}
		f := p.fields[string(key)]
		if f == nil || seen&(1<<f.index) != 0 {
			// Unknown to the type, a name that differs in case only, or
			// a member given twice: json.Unmarshal's rules.
			return false
		}
		seen |= 1 << f.index
		d.ws()
		if !d.value(v.Field(f.index), f.plan) {
			return false
		}
		if more, ok := d.next('}'); !more {
			return ok
		}
	}
}

// rawKey reads a key and its colon; the key is returned as it is in the
// bytes (a key with escapes or other than ASCII is left to
// json.Unmarshal).
func (d *walkedDecoder) rawKey() ([]byte, bool) {
	d.ws()
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return nil, false
	}
	start := d.pos + 1
	end := start
	for end < len(d.data) && d.data[end] != '"' {
		if d.data[end] == '\\' || d.data[end] < 0x20 || d.data[end] >= utf8.RuneSelf {
			return nil, false
		}
		end++
	}
	if end >= len(d.data) {
		return nil, false
	}
	d.pos = end + 1
	d.ws()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		return nil, false
	}
	d.pos++
	return d.data[start:end], true
}

// next reads what follows a member or an element: a comma (more) or the
// closing byte (ok); anything else is neither.
func (d *walkedDecoder) next(close byte) (more, ok bool) {
	d.ws()
	if d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ',':
			d.pos++
			return true, true
		case close:
			d.pos++
			return false, true
		}
	}
	return false, false
}

// slice decodes a JSON array into a slice (an empty one, not nil, for
// [], as json.Unmarshal gives), growing v itself as json.Unmarshal does.
func (d *walkedDecoder) slice(v reflect.Value, p *decodePlan) bool {
	d.pos++ // [
	d.ws()
	v.Set(reflect.MakeSlice(p.typ, 0, 0))
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return true
	}
	for i := 0; ; i++ {
		if i == v.Cap() {
			v.Grow(max(4, i))
		}
		v.SetLen(i + 1)
		d.ws()
		if !d.value(v.Index(i), p.elem) {
			return false
		}
		more, ok := d.next(']')
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

// mapValue decodes a JSON object into a map with string keys.
func (d *walkedDecoder) mapValue(v reflect.Value, p *decodePlan) bool {
	d.pos++ // {
	d.ws()
	m := reflect.MakeMap(p.typ)
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		v.Set(m)
		return true
	}
	if p.typ == stringMapType {
		sm := make(map[string]string)
		for {
			d.ws()
			k, ok := d.str()
			if !ok {
				return false
			}
			d.ws()
			if d.pos >= len(d.data) || d.data[d.pos] != ':' {
				return false
			}
			d.pos++
			d.ws()
			if _, dup := sm[k]; dup || d.pos >= len(d.data) || d.data[d.pos] != '"' {
				return false // a key given twice, or null: json.Unmarshal's rules
			}
			e, ok := d.str()
			if !ok {
				return false
			}
			sm[k] = e
			more, ok := d.next('}')
			if !ok {
				return false
			}
			if !more {
				break
			}
		}
		v.Set(reflect.ValueOf(sm))
		return true
	}
	kt, et := p.typ.Key(), p.typ.Elem()
	for {
		d.ws()
		k, ok := d.str()
		if !ok {
			return false
		}
		d.ws()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return false
		}
		d.pos++
		d.ws()
		kv := reflect.New(kt).Elem()
		kv.SetString(k)
		if m.MapIndex(kv).IsValid() {
			return false // a key given twice: json.Unmarshal's rules
		}
		e := reflect.New(et).Elem()
		if !d.value(e, p.elem) {
			return false
		}
		m.SetMapIndex(kv, e)
		more, ok := d.next('}')
		if !ok {
			return false
		}
		if !more {
			break
		}
	}
	v.Set(m)
	return true
}

// str reads a JSON string. One without escapes, control characters or
// invalid UTF-8 is copied as it is, as json.Unmarshal does; any other is
// unquoted by json.Unmarshal.
func (d *walkedDecoder) str() (string, bool) {
	start := d.pos
	plain, ok := d.skipString()
	if !ok {
		return "", false
	}
	raw := d.data[start+1 : d.pos-1]
	if plain || utf8.Valid(raw) && !containsByte(raw, '\\') {
		if len(raw) > walkedShort {
			return string(raw), true
		}
		if s, ok := d.short[string(raw)]; ok {
			return s, true
		}
		if d.short == nil {
			d.short = make(map[string]string, 256)
		}
		s := string(raw)
		d.short[s] = s
		return s, true
	}
	var s string
	if err := json.Unmarshal(d.data[start:d.pos], &s); err != nil {
		return "", false
	}
	return s, true
}

// skipString moves past a string; plain says it is ASCII without escapes.
func (d *walkedDecoder) skipString() (plain, ok bool) {
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return false, false
	}
	plain = true
	for i := d.pos + 1; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			return plain, true
		case c == '\\':
			plain = false
			i++
		case c < 0x20:
			return false, false
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return false, false
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// skip moves past one value.
func (d *walkedDecoder) skip() bool {
	if d.pos >= len(d.data) {
		return false
	}
	switch c := d.data[d.pos]; {
	case c == '"':
		_, ok := d.skipString()
		return ok
	case c == '{' || c == '[':
		depth := 0
		for d.pos < len(d.data) {
			switch d.data[d.pos] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					d.pos++
					return true
				}
			case '"':
				if _, ok := d.skipString(); !ok {
					return false
				}
				continue
			}
			d.pos++
		}
		return false
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	default:
		start := d.pos
		for d.pos < len(d.data) && strings.IndexByte("+-0123456789.eE", d.data[d.pos]) >= 0 {
			d.pos++
		}
		return d.pos > start
	}
}
