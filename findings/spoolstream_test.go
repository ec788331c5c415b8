package findings

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

// sourceResult reads a Source back into one Result: its header with its
// lists, and the account groups of EachAccountRoles and
// EachAccountTaskDefinitions.
func sourceResult(t *testing.T, src Source) (*Result, string) {
	t.Helper()
	r := *src.Header()
	r.Findings, r.Roles, r.TaskDefinitions = []Finding{}, []RoleReport{}, []TaskDefReport{}
	if err := src.EachFinding(func(f *Finding) error { r.Findings = append(r.Findings, *f); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := src.EachRole(func(x *RoleReport) error { r.Roles = append(r.Roles, *x); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := src.EachTaskDefinition(func(x *TaskDefReport) error { r.TaskDefinitions = append(r.TaskDefinitions, *x); return nil }); err != nil {
		t.Fatal(err)
	}
	groups := ""
	if err := src.EachAccountRoles(func(a string, rs []*RoleReport) error {
		for _, x := range rs {
			groups += a + " " + x.RoleARN + "\n"
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := src.EachAccountTaskDefinitions(func(a string, ts []*TaskDefReport) error {
		for _, x := range ts {
			groups += a + " " + x.ARN + "\n"
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if f, ro, td := src.Len(); f != len(r.Findings) || ro != len(r.Roles) || td != len(r.TaskDefinitions) {
		t.Errorf("Len = %d, %d, %d; read %d, %d, %d", f, ro, td, len(r.Findings), len(r.Roles), len(r.TaskDefinitions))
	}
	return &r, groups
}

// marshal is r in JSON, with an empty list written as null: the spool
// gives an empty list as nil, and the report writers write both as [].
func marshal(t *testing.T, r *Result) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var null func(v any) any
	null = func(v any) any {
		switch x := v.(type) {
		case []any:
			if len(x) == 0 {
				return nil
			}
			for i := range x {
				x[i] = null(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = null(x[k])
			}
		}
		return v
	}
	if b, err = json.MarshalIndent(null(v), "", " "); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// spoolLists adds the lists of r to l, one element at a time, in r's
// order.
func spoolLists(t *testing.T, l *ListSpool, r *Result) {
	t.Helper()
	for i := range r.Findings {
		f := r.Findings[i]
		if err := l.AddFinding(&f); err != nil {
			t.Fatal(err)
		}
	}
	for i := range r.Roles {
		if err := l.AddRole(&r.Roles[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range r.TaskDefinitions {
		if err := l.AddTaskDefinition(&r.TaskDefinitions[i]); err != nil {
			t.Fatal(err)
		}
	}
}

// The shards' Results, given as headers with their lists added to a Spool
// element by element in chunks of any size, merge into the Result Merge
// gives: the same header (summary counted again, coverage added up, triage
// of the shards' findings stripped) and lists, the same account groups.
func TestMergeSpooledEqualsMerge(t *testing.T) {
	inv, _ := demoResult(t)
	ids := []string{}
	for _, a := range inv.Accounts {
		ids = append(ids, a.ID)
	}
	const n = 3
	var parts []*Result
	for k := range n {
		si := shardInventory(inv, k, n, func(id string) bool { return slices.Index(ids, id)%n == k })
		r := Evaluate(si, Options{ToolVersion: "test"})
		RestrictToShard(r, si.Shard)
		// What triage added to a shard's findings does not carry over.
		for i := range r.Findings {
			if i%2 == 0 {
				r.Findings[i].Change = ChangeNew
			}
		}
		parts = append(parts, r)
	}
	opts := MergeOptions{Count: n + 1, Missing: []int{n}, AccountsInScope: len(ids) + 2}
	want := Merge(parts, opts)
	wantJSON := marshal(t, want)
	_, wantGroups := sourceResult(t, ResultSource(want))
	if want.Summary.Total < 5 || len(want.Roles) < 3 || len(want.TaskDefinitions) < 3 {
		t.Fatalf("too few elements to test chunks: %+v", want.Summary)
	}
	for _, chunk := range []int{1, 2, 3, 7, 1 << 20} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			s, err := NewSpool(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			l := NewListSpool(s, chunk, true)
			var heads []*Result
			for _, p := range parts {
				h := *p
				h.Findings, h.Roles, h.TaskDefinitions = nil, nil, nil
				heads = append(heads, &h)
				spoolLists(t, l, p)
			}
			if err := l.Flush(); err != nil {
				t.Fatal(err)
			}
			if chunk == 1 && len(s.parts) != want.Summary.Total+len(want.Roles)+len(want.TaskDefinitions) {
				t.Errorf("%d parts for chunks of one element", len(s.parts))
			}
			if s.rolesMixed || s.tdsMixed {
				t.Error("a part holds roles or task definitions of several accounts")
			}
			got, groups := sourceResult(t, MergeSpooled(heads, opts, s))
			if g := marshal(t, got); g != wantJSON {
				t.Errorf("differs from Merge:\n%s", firstDiff(g, wantJSON))
			}
			if groups != wantGroups {
				t.Errorf("account groups differ:\n%s\nwant:\n%s", groups, wantGroups)
			}
		})
	}
}

// A Result's lists spooled in chunks read back as ResultSource reads
// them, under the header given (its summary is the header's own).
func TestSpooledSource(t *testing.T) {
	_, res := demoResult(t)
	res.Findings[0].Change = ChangeNew // kept: no strip
	res.Summary.Total = 12345          // the header's, not counted again
	want, wantGroups := sourceResult(t, ResultSource(res))
	for _, chunk := range []int{1, 4, 1 << 20} {
		s, err := NewSpool(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		l := NewListSpool(s, chunk, false)
		spoolLists(t, l, res)
		if err := l.Flush(); err != nil {
			t.Fatal(err)
		}
		h := *res
		h.Findings, h.Roles, h.TaskDefinitions = nil, nil, nil
		got, groups := sourceResult(t, SpooledSource(&h, s))
		if a, b := marshal(t, got), marshal(t, want); a != b {
			t.Errorf("chunk %d: differs:\n%s", chunk, firstDiff(a, b))
		}
		if groups != wantGroups {
			t.Errorf("chunk %d: account groups differ", chunk)
		}
		s.Close()
	}
}
