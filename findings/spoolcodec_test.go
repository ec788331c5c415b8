package findings

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// filler sets the exported fields of a value from a seeded source:
// with full, every field, list, map and pointer is set and non-empty;
// otherwise each may also be empty, zero, nil, or a pointer to a zero
// value, and strings repeat, as they do in a finding.
type filler struct {
	rng  *rand.Rand
	full bool
	seen []string
}

func (f *filler) str() string {
	if len(f.seen) > 0 && f.rng.IntN(3) == 0 {
		return f.seen[f.rng.IntN(len(f.seen))]
	}
	if !f.full && f.rng.IntN(5) == 0 {
		return ""
	}
	s := fmt.Sprintf("s%d-%s", f.rng.Int64(), strings.Repeat("é\u202e", f.rng.IntN(3)))
	f.seen = append(f.seen, s)
	return s
}

func (f *filler) fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(f.str())
	case reflect.Bool:
		v.SetBool(f.full || f.rng.IntN(2) == 0)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n := f.rng.Int64N(1<<40) - 1<<39
		if v.Kind() == reflect.Int32 {
			n = int64(int32(n))
		}
		if n == 0 || !f.full && f.rng.IntN(4) == 0 {
			n = int64(f.rng.IntN(2))
		}
		v.SetInt(n)
	case reflect.Pointer:
		if !f.full && (depth > 6 || f.rng.IntN(3) == 0) {
			return
		}
		p := reflect.New(v.Type().Elem())
		if f.full || f.rng.IntN(4) != 0 {
			f.fill(p.Elem(), depth+1)
		}
		v.Set(p)
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			switch {
			case f.full || f.rng.IntN(2) == 0:
				v.SetBytes([]byte(fmt.Sprintf(`{"Version":"2012-10-17","n":%d}`, f.rng.IntN(1000))))
			case f.rng.IntN(2) == 0:
				v.SetBytes([]byte{})
			}
			return
		}
		n := 1 + f.rng.IntN(3)
		if !f.full {
			n = f.rng.IntN(4)
			if depth > 6 {
				n = 0
			}
		}
		if n == 0 && f.rng.IntN(2) == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 0, 0)) // empty, not nil
			return
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			f.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		n := 1 + f.rng.IntN(3)
		if !f.full {
			n = f.rng.IntN(4)
		}
		if n == 0 && f.rng.IntN(2) == 0 {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), n)
		for range n {
			k := reflect.New(v.Type().Key()).Elem()
			f.fill(k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i), depth+1)
			}
		}
	default:
		panic(fmt.Sprintf("filler: no value for %s: give the spool's encoding and this test the new kind", v.Type()))
	}
}

// codecRoundTrip encodes x with the spool's encoding and decodes it.
func codecRoundTrip[T any](t *testing.T, x *T) *T {
	t.Helper()
	e := newSpoolEncoder()
	if !e.elem(x) {
		t.Fatalf("no encoding for %T", x)
	}
	b := e.appendTo(nil)
	n, k := uvarintDecode(b)
	if k <= 0 || int(n) != len(b)-k {
		t.Fatalf("element length %d (%d bytes) for %d bytes", n, k, len(b))
	}
	var d spoolDecoder
	d.start(b[k:])
	out := new(T)
	d.elem(out)
	if err := d.finish(); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	return out
}

func uvarintDecode(b []byte) (uint64, int) {
	var x uint64
	for i, c := range b {
		if i == 10 {
			return 0, -1
		}
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return x, i + 1
		}
	}
	return 0, 0
}

// gobRoundTrip is what the spool gave before its own encoding.
func gobRoundTrip[T any](t *testing.T, x *T) *T {
	t.Helper()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(x); err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := gob.NewDecoder(&buf).Decode(out); err != nil {
		t.Fatal(err)
	}
	return out
}

func testCodec[T any](t *testing.T) {
	for seed := range uint64(300) {
		f := &filler{rng: rand.New(rand.NewPCG(seed, 7)), full: seed%3 == 0}
		x := new(T)
		f.fill(reflect.ValueOf(x).Elem(), 0)
		got := codecRoundTrip(t, x)
		if want := gobRoundTrip(t, x); !reflect.DeepEqual(got, want) {
			t.Fatalf("seed %d: the spool's encoding gives\n%s\nencoding/gob gives\n%s", seed, dump(got), dump(want))
		}
		if f.full && !reflect.DeepEqual(got, x) {
			// Every field is set: one the encoding leaves out differs.
			t.Fatalf("seed %d: a field is lost:\n%s\nwant\n%s", seed, dump(got), dump(x))
		}
	}
}

// dump shows a value with what its pointers point to, nil and empty
// lists told apart.
func dump(x any) string {
	var b strings.Builder
	var walk func(v reflect.Value, ind string)
	walk = func(v reflect.Value, ind string) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				b.WriteString("nil")
				return
			}
			b.WriteString("&")
			walk(v.Elem(), ind)
		case reflect.Struct:
			b.WriteString("{\n")
			for i := range v.NumField() {
				if !v.Type().Field(i).IsExported() {
					continue
				}
				fmt.Fprintf(&b, "%s  %s: ", ind, v.Type().Field(i).Name)
				walk(v.Field(i), ind+"  ")
				b.WriteString("\n")
			}
			b.WriteString(ind + "}")
		case reflect.Slice:
			if v.IsNil() {
				b.WriteString("nil")
				return
			}
			if v.Type().Elem().Kind() == reflect.Uint8 {
				fmt.Fprintf(&b, "%q", v.Bytes())
				return
			}
			b.WriteString("[")
			for i := range v.Len() {
				walk(v.Index(i), ind+"  ")
				b.WriteString(", ")
			}
			b.WriteString("]")
		case reflect.Map:
			if v.IsNil() {
				b.WriteString("nil")
				return
			}
			fmt.Fprintf(&b, "%v", v.Interface())
		default:
			fmt.Fprintf(&b, "%q", fmt.Sprint(v.Interface()))
		}
	}
	walk(reflect.ValueOf(x), "")
	return b.String()
}

// TestSpoolCodec: the spool's encoding gives back what encoding/gob gives
// back for findings, roles and task definitions with any field set, empty
// or nil, and loses no field.
func TestSpoolCodec(t *testing.T) {
	t.Run("finding", testCodec[Finding])
	t.Run("role", testCodec[RoleReport])
	t.Run("task definition", testCodec[TaskDefReport])
}

// TestSpoolCodecStrings: a string that occurs several times in an element
// is written once.
func TestSpoolCodecStrings(t *testing.T) {
	arn := "arn:aws:ecs:us-east-1:111111111111:task-definition/web:3"
	f := &Finding{ID: "x", ResourceARN: arn, TaskDefinitionARN: arn, Affected: []ResourceRef{{ARN: arn}, {ARN: arn}}}
	e := newSpoolEncoder()
	e.elem(f)
	if got := strings.Count(string(e.strs), arn); got != 1 {
		t.Errorf("the ARN is written %d times", got)
	}
	if got := codecRoundTrip(t, f); !reflect.DeepEqual(got, f) {
		t.Errorf("got %+v", got)
	}
}

// FuzzSpoolDecode: bytes that are not an element give an error, never a
// panic.
func FuzzSpoolDecode(f *testing.F) {
	for seed := range uint64(4) {
		fl := &filler{rng: rand.New(rand.NewPCG(seed, 1)), full: seed == 0}
		x := new(Finding)
		fl.fill(reflect.ValueOf(x).Elem(), 0)
		e := newSpoolEncoder()
		e.elem(x)
		b := e.appendTo(nil)
		_, k := uvarintDecode(b)
		f.Add(b[k:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, x := range []any{new(Finding), new(RoleReport), new(TaskDefReport)} {
			var d spoolDecoder
			d.start(b)
			d.elem(x)
			_ = d.finish()
		}
	})
}
