package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"

	"github.com/ecs-audit/audit/findings"
)

// withWindow sets htmlWindow for the test.
func withWindow(t testing.TB, n int) {
	old := htmlWindow
	htmlWindow = n
	t.Cleanup(func() { htmlWindow = old })
}

// htmlBlock is the data block, decoded.
type htmlBlock struct {
	S []string          `json:"s"`
	N [][]int           `json:"n"`
	O []json.RawMessage `json:"o"`
	F [][]any           `json:"f"`
	R [][]any           `json:"r"`
	T [][]any           `json:"t"`
}

// resolve gives the block's rows with every index replaced by what it
// stands for: what the page reads, whatever the indexes.
func (b *htmlBlock) resolve(t *testing.T) (f, r, td []any) {
	t.Helper()
	num := func(x any) int {
		n, ok := x.(float64)
		if !ok {
			t.Fatalf("%v is not a number", x)
		}
		return int(n)
	}
	str := func(x any) any { return b.S[num(x)] }
	obj := func(x any) any {
		if i := num(x); i >= 0 {
			return string(b.O[i])
		}
		return nil
	}
	list := func(x any, one func(any) any) any {
		var out []any
		for _, e := range x.([]any) {
			out = append(out, one(e))
		}
		return out
	}
	need := func(x any) any {
		i := num(x)
		if i < 0 {
			return nil
		}
		var out []any
		for k, v := range b.N[i] {
			if k == 6 {
				out = append(out, v)
			} else {
				out = append(out, b.S[v])
			}
		}
		return out
	}
	for _, row := range b.F {
		var out []any
		for i := range 19 {
			out = append(out, str(row[i]))
		}
		out = append(out, need(row[19]))
		for i := 20; i < 24; i++ {
			out = append(out, obj(row[i]))
		}
		out = append(out, list(row[24], func(x any) any {
			e := x.([]any)
			return []any{need(e[0]), str(e[1]), obj(e[2])}
		}))
		for i := 25; i < 30; i++ {
			out = append(out, obj(row[i]))
		}
		out = append(out, list(row[30], func(x any) any { return list(x, str) }))
		if fix, ok := row[31].([]any); ok {
			target := any(nil)
			if tg, ok := fix[1].([]any); ok {
				target = append(list(tg[:6], str).([]any), obj(tg[6]))
			}
			out = append(out, []any{list(fix[0], str), target, str(fix[2]), str(fix[3]), fix[4]})
		} else {
			out = append(out, row[31])
		}
		out = append(out, obj(row[32]), obj(row[33]), row[34])
		if len(row) != 35 {
			t.Fatalf("finding row of %d entries", len(row))
		}
		f = append(f, out)
	}
	for _, row := range b.R {
		r = append(r, []any{str(row[0]), str(row[1]), row[2], list(row[3], str), row[4], str(row[5]), row[6]})
	}
	for _, row := range b.T {
		td = append(td, []any{str(row[0]), str(row[1]), str(row[2]), str(row[3]), row[4], list(row[5], str), str(row[6]), row[7], str(row[8]), row[9], row[10]})
	}
	return f, r, td
}

func htmlBlockOf(t *testing.T, res *findings.Result) *htmlBlock {
	t.Helper()
	data, err := newView(res).htmlData()
	if err != nil {
		t.Fatal(err)
	}
	var b htmlBlock
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatalf("data block is not JSON: %v", err)
	}
	return &b
}

// With a window smaller than the findings' strings, strings, needs and
// evidence parts met again after it are written again: the page reads the
// same rows, and the fields it compares by index (severity, rule, account,
// region) still have one index per value.
func TestHTMLWindow(t *testing.T) {
	withCatalog(t)
	wantF, wantR, wantT := htmlBlockOf(t, bigResult(2000)).resolve(t)
	full := htmlBlockOf(t, bigResult(2000))
	for _, window := range []int{1, 7, 64, 1000} {
		t.Run(fmt.Sprint(window), func(t *testing.T) {
			withWindow(t, window)
			b := htmlBlockOf(t, bigResult(2000))
			if len(b.S) <= len(full.S) || len(b.O) < len(full.O) || len(b.N) < len(full.N) {
				t.Errorf("window %d: %d strings, %d evidence parts, %d needs; all of them %d, %d, %d: no string written again",
					window, len(b.S), len(b.O), len(b.N), len(full.S), len(full.O), len(full.N))
			}
			f, r, td := b.resolve(t)
			if !reflect.DeepEqual(f, wantF) {
				for i := range min(len(f), len(wantF)) {
					if !reflect.DeepEqual(f[i], wantF[i]) {
						t.Fatalf("finding %d:\n got %v\nwant %v", i, f[i], wantF[i])
					}
				}
				t.Fatalf("%d findings, want %d", len(f), len(wantF))
			}
			if !reflect.DeepEqual(r, wantR) || !reflect.DeepEqual(td, wantT) {
				t.Fatal("roles or task definitions differ")
			}
			for _, k := range []int{0, 1, 3, 5} {
				ids := map[string]int{}
				for _, row := range b.F {
					i := int(row[k].(float64))
					if j, ok := ids[b.S[i]]; ok && j != i {
						t.Fatalf("field %d: %q has indexes %d and %d", k, b.S[i], j, i)
					}
					ids[b.S[i]] = i
				}
			}
		})
	}
	// A window wider than the strings gives what it always gave.
	t.Run("wide", func(t *testing.T) {
		withWindow(t, 1<<20)
		if b := htmlBlockOf(t, bigResult(2000)); !reflect.DeepEqual(b, full) {
			t.Error("a window wider than every string changes the block")
		}
	})
}

// idWindow remembers at least the last htmlWindow keys and holds at most
// twice as many.
func TestIDWindow(t *testing.T) {
	withWindow(t, 10)
	w := newIDWindow[int](1)
	for i := range 1000 {
		if _, ok := w.get(i); ok {
			t.Fatalf("key %d found before it was put", i)
		}
		w.put(i, int32(i))
		for k := max(0, i-9); k <= i; k++ {
			if id, ok := w.get(k); !ok || id != int32(k) {
				t.Fatalf("after %d: key %d gives %d, %v", i, k, id, ok)
			}
		}
		if w.len() > 20 {
			t.Fatalf("after %d: %d keys held", i, w.len())
		}
	}
}

// brokenRoles is a Source whose roles cannot be read.
type brokenRoles struct{ findings.Source }

func (b brokenRoles) EachAccountRoles(func(string, []*findings.RoleReport) error) error {
	return errSourceBroke
}

// An error reading the Source (a spool on a full disk) is the page's
// error, its temporary files removed: never a panic.
func TestHTMLSourceError(t *testing.T) {
	withCatalog(t)
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	v, err := newSourceView(brokenRoles{findings.ResultSource(bigResult(300))})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := v.writeHTML(&b); !errors.Is(err, errSourceBroke) {
		t.Fatalf("error %v, want the Source's", err)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("%d temporary files left in %s, first %s", len(left), dir, left[0].Name())
	}
}
