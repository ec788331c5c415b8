package scanner

import (
	"hash/maphash"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/ecs-audit/audit/inventory"
)

// The SDK decodes the strings of a response into shared blocks of up to
// 4 KiB (smithy-go's string arena): one string kept from a response keeps
// its whole block alive, with every other string of the block. Everything
// the scanner keeps in the inventory is therefore detached from the
// response first: each string is copied, short ones (names, statuses,
// versions, account IDs: values that repeat across resources) through the
// scan's interner so that equal strings share one copy, and each
// attribute list (a container instance's attributes, a task definition's
// requiresAttributes) is shared with the equal lists already seen, since
// the instances of a cluster usually advertise the same ones.
//
// Longer strings (ARNs, images, documents) are mostly unique across the
// scan, but repeat within one account×region (a task definition's ARN in
// its services, deployments and tasks; the execution role of every
// revision): they are shared within one call of detach, which the scanner
// makes per account×region, per account's IAM and per resolved resource
// list.
//
// detach walks a value by reflection, so that a field added to the
// inventory types later is detached too.

// internMaxLen is the longest string the interner shares for the whole
// scan; longer ones are shared within one call of detach.
const internMaxLen = 32

// interner holds one scan's shared strings and attribute lists. It is safe
// for concurrent use.
type interner struct {
	strs sync.Map // string → string

	mu    sync.Mutex
	seed  maphash.Seed
	attrs map[uint64][][]inventory.Attribute
}

func newInterner() *interner {
	return &interner{seed: maphash.MakeSeed(), attrs: map[uint64][][]inventory.Attribute{}}
}

// str returns a copy of s that shares no memory with s, the scan's shared
// copy for a short string.
func (in *interner) str(s string) string {
	if in == nil {
		return s
	}
	if s == "" {
		return ""
	}
	if len(s) > internMaxLen {
		return strings.Clone(s)
	}
	if v, ok := in.strs.Load(s); ok {
		return v.(string)
	}
	c := strings.Clone(s)
	v, _ := in.strs.LoadOrStore(c, c)
	return v.(string)
}

// attributes returns the scan's shared list equal to attrs (whose strings
// are detached already), storing attrs when it is the first of its kind.
// A shared list must not be modified.
func (in *interner) attributes(attrs []inventory.Attribute) []inventory.Attribute {
	if len(attrs) == 0 {
		return attrs
	}
	var h maphash.Hash
	h.SetSeed(in.seed)
	for _, a := range attrs {
		h.WriteString(a.Name)
		h.WriteByte(0)
		h.WriteString(a.Value)
		h.WriteByte(0)
	}
	key := h.Sum64()
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, l := range in.attrs[key] {
		if slices.Equal(l, attrs) {
			return l
		}
	}
	attrs = slices.Clip(attrs)
	in.attrs[key] = append(in.attrs[key], attrs)
	return attrs
}

var attributeListType = reflect.TypeFor[[]inventory.Attribute]()

// detach replaces, in place, every string reachable from ptr (a pointer to
// inventory data) with a detached copy, and every attribute list with the
// shared equal one. Maps are rebuilt. Values reachable twice are detached
// twice (harmlessly); fields the inventory types do not export are left
// alone.
func (in *interner) detach(ptr any) {
	if in == nil {
		return // a test's collector without one
	}
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	d := &detacher{in: in, long: map[string]string{}}
	d.value(v.Elem())
}

// detacher is one call of detach.
type detacher struct {
	in   *interner
	long map[string]string // the copies of long strings made in this call
}

func (d *detacher) str(s string) string {
	if len(s) <= internMaxLen {
		return d.in.str(s)
	}
	if c, ok := d.long[s]; ok {
		return c
	}
	c := strings.Clone(s)
	d.long[c] = c
	return c
}

func (d *detacher) value(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(d.str(v.String()))
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			d.value(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				d.value(f)
			}
		}
	case reflect.Slice:
		if v.IsNil() {
			return
		}
		for i := range v.Len() {
			d.value(v.Index(i))
		}
		if v.Type() == attributeListType && v.CanSet() {
			v.Set(reflect.ValueOf(d.in.attributes(v.Interface().([]inventory.Attribute))))
		}
	case reflect.Array:
		for i := range v.Len() {
			d.value(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() || !v.CanSet() {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			k := reflect.New(v.Type().Key()).Elem()
			k.Set(it.Key())
			d.value(k)
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			d.value(e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	}
}
