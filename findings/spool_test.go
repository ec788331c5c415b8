package findings

import (
	"errors"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

// evaluateParts evaluates each account of inv on its own: the parts
// EvaluateEach merges, the last one for the errors no account owns.
func evaluateParts(inv *inventory.Inventory, opts Options) []*Result {
	x := NewIndex(inv)
	byAccount, rest := SplitErrors(inv)
	parts := make([]*Result, len(inv.Accounts)+1)
	for i, a := range inv.Accounts {
		parts[i] = x.EvaluateAccount(a, byAccount[a.ID], opts)
	}
	parts[len(inv.Accounts)] = x.EvaluateAccount(nil, rest, opts)
	return parts
}

// spoolParts adds the parts to a new spool in a shuffled order, from two
// goroutines.
func spoolParts(t *testing.T, parts []*Result, seed uint64) *Spool {
	t.Helper()
	s, err := NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// The affected resources counted a few at a time in memory, the rest
	// in runs merged two at a time: the summary equals MergeAccounts' all
	// the same.
	s.affected.memMax, s.affected.fanIn = 3, 2
	order := rand.New(rand.NewPCG(seed, 1)).Perm(len(parts))
	var wg sync.WaitGroup
	errs := make([]error, len(order))
	for g := range 2 {
		wg.Go(func() {
			for k := g; k < len(order); k += 2 {
				errs[k] = s.Add(order[k], parts[order[k]])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return s
}

// requireSpoolEqual fails the test unless the Result a spool reads back
// equals MergeAccounts' Result of the same parts, added in a shuffled
// order.
func requireSpoolEqual(t *testing.T, inv *inventory.Inventory, opts Options) {
	t.Helper()
	want := MergeAccounts(evaluateParts(inv, opts))
	s := spoolParts(t, evaluateParts(inv, opts), uint64(len(inv.Accounts)))
	got, err := s.Result()
	if err != nil {
		t.Fatal(err)
	}
	// What a spool cannot keep, and no reader of a Result sees: the
	// evaluation's own readings of a need's resource, and nil for an
	// empty list (gob writes neither).
	for _, sev := range append([]Severity{""}, Severities...) {
		f, fn, err := SourceFailing(s, sev, sev)
		if err != nil {
			t.Fatal(err)
		}
		if f != want.Failing(sev) || fn != want.FailingNew(sev) {
			t.Errorf("at %q: failing %d, new %d from the spool; %d, %d from the Result", sev, f, fn, want.Failing(sev), want.FailingNew(sev))
		}
	}
	canonical(reflect.ValueOf(want))
	canonical(reflect.ValueOf(got))
	requireSameResult(t, want, got)
	// The lists grouped by account are the lists sorted by account.
	var roles []*RoleReport
	if err := s.EachAccountRoles(func(a string, rs []*RoleReport) error {
		for _, r := range rs {
			if r.AccountID != a {
				t.Errorf("role %s of account %s given with account %s", r.RoleARN, r.AccountID, a)
			}
		}
		roles = append(roles, rs...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var wantRoles []*RoleReport
	if err := ResultSource(want).EachAccountRoles(func(_ string, rs []*RoleReport) error { wantRoles = append(wantRoles, rs...); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(roles, wantRoles) {
		t.Errorf("roles by account differ")
	}
	var tds, wantTDs []*TaskDefReport
	if err := s.EachAccountTaskDefinitions(func(_ string, ts []*TaskDefReport) error { tds = append(tds, ts...); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := ResultSource(want).EachAccountTaskDefinitions(func(_ string, ts []*TaskDefReport) error { wantTDs = append(wantTDs, ts...); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tds, wantTDs) {
		t.Errorf("task definitions by account differ")
	}
}

var needType = reflect.TypeFor[Need]()

// canonical clears what gob does not carry: the unexported readings of
// every Need, and the difference between a nil and an empty slice.
func canonical(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			canonical(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == needType && v.CanAddr() {
			n := v.Addr().Interface().(*Need)
			n.req, n.alt = nil, nil
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				canonical(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if !v.IsNil() && v.CanSet() {
				v.Set(reflect.Zero(v.Type()))
			}
			return
		}
		for i := range v.Len() {
			canonical(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			canonical(e)
			v.SetMapIndex(k, e)
		}
	}
}

// The demo organization through a spool.
func TestSpoolDemo(t *testing.T) {
	inv, err := inventory.Load(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	requireSpoolEqual(t, inv, Options{ToolVersion: "test"})
}

// A spool file cut short, or with a byte changed, gives an error, never a
// shorter list.
func TestSpoolDamaged(t *testing.T) {
	inv, err := inventory.Load(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{ToolVersion: "test"}
	for _, damage := range []string{"truncate", "flip", "remove"} {
		t.Run(damage, func(t *testing.T) {
			s := spoolParts(t, evaluateParts(inv, opts), 7)
			total := s.Header().Summary.Total
			fi, err := os.Stat(s.Path())
			if err != nil {
				t.Fatal(err)
			}
			switch damage {
			case "truncate":
				err = os.Truncate(s.Path(), fi.Size()/2)
			case "flip":
				// A byte in the middle of the longest list of findings (the
				// middle of the file may be in a list of roles, which
				// EachFinding does not read: the parts are written in the
				// order they come).
				var at int64
				var longest int64
				for _, r := range s.findingRuns() {
					if r.run.size > longest {
						longest, at = r.run.size, r.run.off+r.run.size/2
					}
				}
				var f *os.File
				if f, err = os.OpenFile(s.Path(), os.O_RDWR, 0); err == nil {
					b := make([]byte, 1)
					f.ReadAt(b, at)
					b[0] ^= 0x5a
					_, err = f.WriteAt(b, at)
					f.Close()
				}
			case "remove":
				err = s.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			ferr := s.EachFinding(func(*Finding) error { n++; return nil })
			_, rerr := s.Result()
			if ferr == nil || rerr == nil {
				t.Fatalf("a damaged spool read %d of %d findings without an error (EachFinding: %v, Result: %v)", n, total, ferr, rerr)
			}
			if damage != "remove" && !strings.Contains(ferr.Error(), "findings spool") {
				t.Errorf("error does not say it is the spool's: %v", ferr)
			}
		})
	}
}

// Close removes the file.
func TestSpoolClose(t *testing.T) {
	s, err := NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(0, &Result{Findings: []Finding{{ID: "a", RuleID: "ER001", Severity: High}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path()); !os.IsNotExist(err) {
		t.Fatalf("spool file still there after Close: %v", err)
	}
	if err := s.Add(1, &Result{}); err == nil {
		t.Errorf("Add after Close did not fail")
	}
}

// CompareFindings, the order every report writes (and the spool merges)
// findings in, is sortFindings' order.
func TestCompareFindingsIsSortFindings(t *testing.T) {
	inv, err := inventory.Load(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	res := Evaluate(inv, Options{ToolVersion: "test"})
	fs := res.Findings
	// Ties too: every finding twice, one of each pair told apart by
	// nothing CompareFindings reads.
	for i := range fs {
		c := fs[i]
		c.Message += " (copy)"
		fs = append(fs, c)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
	a := slices.Clone(fs)
	sortFindings(a)
	b := slices.Clone(fs)
	slices.SortStableFunc(b, func(x, y Finding) int { return CompareFindings(&x, &y) })
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Message != b[i].Message {
			t.Fatalf("at %d: sortFindings gives %s %q, CompareFindings %s %q", i, a[i].ID, a[i].Message, b[i].ID, b[i].Message)
		}
	}
}

// An error of add (a spool that cannot write: a full disk) stops the
// evaluation and is returned: never a Result without the account.
func TestEvaluateEachToAddError(t *testing.T) {
	inv, err := inventory.Load(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	full := errors.New("no space left on device")
	var mu sync.Mutex
	n := 0
	err = EvaluateAccountsTo(inv, Options{ToolVersion: "test"}, AccountsOptions{Workers: 2}, func(i int, r *Result) error {
		mu.Lock()
		defer mu.Unlock()
		if n++; n == 2 {
			return full
		}
		return nil
	})
	if !errors.Is(err, full) {
		t.Fatalf("error %v, want %v", err, full)
	}
}
