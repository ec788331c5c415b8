package policy

import (
	"encoding/base64"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// KeyState says what a Context knows about one condition key.
type KeyState uint8

const (
	// KeyUnknown: the key was not set; its presence and value are unknown.
	KeyUnknown KeyState = iota
	// KeyPresent: the key is present with the values given.
	KeyPresent
	// KeyAbsent: the key is known to be absent from the request context.
	KeyAbsent
	// KeyPrefix: the key is present, with one value known only to start
	// with a prefix.
	KeyPrefix
)

func (s KeyState) String() string {
	switch s {
	case KeyPresent:
		return "present"
	case KeyAbsent:
		return "absent"
	case KeyPrefix:
		return "prefix"
	}
	return "unknown"
}

// Value is what a Context holds for one key.
type Value struct {
	State  KeyState
	Values []string // for KeyPresent
	Prefix string   // for KeyPrefix
}

// Context is the request context: the condition keys of one request and what
// is known about them. Keys are case-insensitive. A key that was never set is
// unknown, and conditions on it evaluate to unknown (ecs-facts §5.4; DESIGN:
// "indeterminate, never a silent pass").
//
// Build a Context once and evaluate many requests with it; lookups do not
// allocate. A Context must not be modified while Evaluate uses it; reading it
// from several goroutines at once is safe.
type Context struct {
	m map[string]*ctxEntry
	// absentPrefixes (lower-case): keys starting with one of them that were
	// not set are absent (a known-complete family such as the role's tags).
	absentPrefixes []string
}

// absentEntry is what lookup returns for a key covered by SetAbsentPrefix.
var absentEntry = &ctxEntry{state: KeyAbsent}

type ctxEntry struct {
	written string
	state   KeyState
	strings []string
	vals    []ctxVal
	prefix  string
}

// ctxVal is one context value. Its typed forms (number, date, IP address,
// boolean, binary) are parsed on first use by a numeric, date, IP, Bool or
// Binary operator, once, whoever asks first: most values are only ever
// compared as strings, and a date tried against every layout is costly.
type ctxVal struct {
	s     string
	once  sync.Once
	typed typedVal
}

// typedVal holds the typed forms of a context value.
type typedVal struct {
	num   float64
	t     time.Time
	ip    netip.Addr
	bin   []byte
	b     bool
	numOK bool
	tOK   bool
	bOK   bool
	binOK bool
}

// typedForms returns v's typed forms, parsing them on first use. Safe for
// concurrent use (Evaluate may read one Context from several goroutines).
func (v *ctxVal) typedForms() *typedVal {
	v.once.Do(v.parse)
	return &v.typed
}

func (v *ctxVal) parse() { v.typed = parseTyped(v.s) }

// NewContext returns an empty context: every key unknown.
func NewContext() *Context {
	return &Context{m: make(map[string]*ctxEntry)}
}

// Set records that key is present with the given values (several values for
// a multi-valued key such as aws:TagKeys). Set with no values records the key
// as absent: an empty multi-valued key behaves like an absent one under
// every operator (ForAllValues true, ForAnyValue false, IfExists true).
func (c *Context) Set(key string, values ...string) *Context {
	if len(values) == 0 {
		return c.SetAbsent(key)
	}
	e := &ctxEntry{written: key, state: KeyPresent, strings: append([]string(nil), values...)}
	e.vals = make([]ctxVal, len(values))
	for i, v := range values {
		e.vals[i].s = v
	}
	c.put(key, e)
	return c
}

func (c *Context) put(key string, e *ctxEntry) {
	if c.m == nil {
		c.m = make(map[string]*ctxEntry)
	}
	c.m[strings.ToLower(key)] = e
}

// SetAbsent records that key is known to be absent from the request.
func (c *Context) SetAbsent(key string) *Context {
	c.put(key, &ctxEntry{written: key, state: KeyAbsent})
	return c
}

// SetPrefix records that key is present with one value that is unknown but
// known to start with prefix (for example aws:SourceArn of an ECS task whose
// ID is not known). String and ARN operators decide where they can; the
// others evaluate to unknown.
func (c *Context) SetPrefix(key, prefix string) *Context {
	c.put(key, &ctxEntry{written: key, state: KeyPrefix, prefix: prefix})
	return c
}

// SetAbsentPrefix records that every key starting with prefix
// (case-insensitive) that is not set explicitly is absent — for a family of
// keys known completely, such as "aws:PrincipalTag/" when the role's tags are
// all known. Keys set with Set, SetPrefix or SetAbsent keep their state.
func (c *Context) SetAbsentPrefix(prefix string) *Context {
	c.absentPrefixes = append(c.absentPrefixes, strings.ToLower(prefix))
	return c
}

// Unset makes key unknown again.
func (c *Context) Unset(key string) *Context {
	delete(c.m, strings.ToLower(key))
	return c
}

// Get returns what the context knows about key (case-insensitive).
func (c *Context) Get(key string) Value {
	e := c.lookup(strings.ToLower(key))
	if e == nil {
		return Value{State: KeyUnknown}
	}
	return Value{State: e.state, Values: append([]string(nil), e.strings...), Prefix: e.prefix}
}

// Keys returns the keys that were set, as first written, sorted
// case-insensitively.
func (c *Context) Keys() []string {
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.m))
	for _, e := range c.m {
		out = append(out, e.written)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}

// Clone returns a copy that can be changed without affecting c.
func (c *Context) Clone() *Context {
	n := NewContext()
	if c != nil {
		for k, e := range c.m {
			n.m[k] = e // entries are immutable once stored
		}
		n.absentPrefixes = append([]string(nil), c.absentPrefixes...)
	}
	return n
}

// lookup takes a lower-case key. A nil context knows nothing.
func (c *Context) lookup(lowerKey string) *ctxEntry {
	if c == nil {
		return nil
	}
	if e := c.m[lowerKey]; e != nil {
		return e
	}
	for _, p := range c.absentPrefixes {
		if strings.HasPrefix(lowerKey, p) {
			return absentEntry
		}
	}
	return nil
}

func parseTyped(s string) typedVal {
	var v typedVal
	v.num, v.numOK = parseNumber(s)
	v.t, v.tOK = parseDate(s)
	if a, err := netip.ParseAddr(s); err == nil {
		v.ip = a.Unmap()
	}
	v.b, v.bOK = parseBool(s)
	v.bin, v.binOK = parseBinary(s)
	return v
}

// parseNumber accepts decimal numbers: optional sign, digits, optional
// fraction and exponent. Not hex, inf or nan.
func parseNumber(s string) (float64, bool) {
	if !isDecimal(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		ed := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			ed++
		}
		if ed == 0 {
			return false
		}
	}
	return i == len(s)
}

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
	"20060102T150405Z",
	"20060102T150405Z07:00",
	"20060102",
}

// parseDate accepts ISO 8601 / RFC 3339 dates and times (no zone means UTC)
// and epoch seconds (ecs-facts §5.4 Date operators).
func parseDate(s string) (time.Time, bool) {
	// Every form starts with a digit (a year, epoch seconds) or, for epoch
	// seconds, a sign or a decimal point: anything else (an ARN, a name)
	// is not a date, without trying each layout.
	if s == "" || !(s[0] >= '0' && s[0] <= '9' || s[0] == '-' || s[0] == '+' || s[0] == '.') {
		return time.Time{}, false
	}
	if isDecimal(s) && !strings.ContainsAny(s, "eE") && len(s) != 8 {
		// Epoch seconds, possibly fractional. (An 8-digit string is a
		// basic-format date, 20060102.)
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f > 1e12 || f < -1e12 {
			return time.Time{}, false
		}
		sec := int64(f)
		nsec := int64((f - float64(sec)) * 1e9)
		return time.Unix(sec, nsec).UTC(), true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

func parseBinary(s string) ([]byte, bool) {
	if s == "" {
		return nil, false
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	return nil, false
}
