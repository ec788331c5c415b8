package findings

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

// withFanIn sets spoolFanIn for the test.
func withFanIn(t *testing.T, n int) {
	t.Helper()
	old := spoolFanIn
	spoolFanIn = n
	t.Cleanup(func() { spoolFanIn = old })
}

// The demo organization through a spool whose merges read two or three
// runs at once: its findings are merged into runs of several levels as
// the parts come, and the Result read back is MergeAccounts'.
func TestSpoolFanInDemo(t *testing.T) {
	inv, err := inventory.Load(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Accounts) < 4 {
		t.Fatalf("the demo has %d accounts: too few to merge in levels", len(inv.Accounts))
	}
	for _, fanIn := range []int{2, 3} {
		t.Run(fmt.Sprint(fanIn), func(t *testing.T) {
			withFanIn(t, fanIn)
			requireSpoolEqual(t, inv, Options{ToolVersion: "test"})
		})
	}
}

// tiedParts makes n parts whose findings, roles and task definitions
// compare equal across parts (and within a part), told apart by their
// message (policy ARN for roles, family for task definitions), which
// names the part and the element's place in it. Some parts are empty.
func tiedParts(n int, seed uint64) []*Result {
	rnd := rand.New(rand.NewPCG(seed, 3))
	sevs := []Severity{Critical, High, Low}
	parts := make([]*Result, n)
	for i := range parts {
		p := &Result{SchemaVersion: ResultSchemaVersion, Scope: Scope{Accounts: []AccountRef{{ID: fmt.Sprintf("%012d", i)}}}}
		parts[i] = p
		if i%7 == 3 {
			continue
		}
		for k := range rnd.IntN(12) {
			// Few distinct keys: many ties, across parts and within one.
			p.Findings = append(p.Findings, Finding{ID: fmt.Sprintf("id-%d", rnd.IntN(3)), RuleID: fmt.Sprintf("ER00%d", rnd.IntN(2)),
				Severity: sevs[rnd.IntN(len(sevs))], AccountID: fmt.Sprintf("%012d", rnd.IntN(3)), Region: "us-east-1",
				Message: fmt.Sprintf("part %d element %d", i, k)})
		}
		for k := range rnd.IntN(4) {
			p.Roles = append(p.Roles, RoleReport{RoleARN: fmt.Sprintf("arn:aws:iam::%012d:role/r%d", i, rnd.IntN(2)), AccountID: fmt.Sprintf("%012d", i),
				UsedBy: []string{fmt.Sprintf("part %d role %d", i, k)}})
		}
		for k := range rnd.IntN(4) {
			p.TaskDefinitions = append(p.TaskDefinitions, TaskDefReport{ARN: fmt.Sprintf("arn:aws:ecs:us-east-1:%012d:task-definition/f:%d", i, rnd.IntN(2)),
				AccountID: fmt.Sprintf("%012d", i), Family: fmt.Sprintf("part %d task definition %d", i, k)})
		}
	}
	return parts
}

// stableMerge is what a spool must give: each list of the parts appended
// in index order, stably sorted.
func stableMerge(parts []*Result) ([]Finding, []RoleReport, []TaskDefReport) {
	var fs []Finding
	var rs []RoleReport
	var ts []TaskDefReport
	for _, p := range parts {
		// A part's lists as Add sorts them.
		pf := slices.Clone(p.Findings)
		slices.SortStableFunc(pf, func(a, b Finding) int { return CompareFindings(&a, &b) })
		fs = append(fs, pf...)
		pr := slices.Clone(p.Roles)
		slices.SortStableFunc(pr, func(a, b RoleReport) int { return compareRoles(&a, &b) })
		rs = append(rs, pr...)
		pt := slices.Clone(p.TaskDefinitions)
		slices.SortStableFunc(pt, func(a, b TaskDefReport) int { return compareTaskDefs(&a, &b) })
		ts = append(ts, pt...)
	}
	slices.SortStableFunc(fs, func(a, b Finding) int { return CompareFindings(&a, &b) })
	slices.SortStableFunc(rs, func(a, b RoleReport) int { return compareRoles(&a, &b) })
	slices.SortStableFunc(ts, func(a, b TaskDefReport) int { return compareTaskDefs(&a, &b) })
	return fs, rs, ts
}

// Elements that compare equal come in the order of their parts' indexes
// (and, in one part, in their order), however many levels of runs they
// were merged through and in whatever order the parts were added: the
// order of a stable sort.
func TestSpoolFanInKeepsTies(t *testing.T) {
	for _, tc := range []struct{ parts, fanIn int }{{1, 2}, {5, 2}, {40, 2}, {40, 3}, {100, 4}, {64, 64}, {65, 64}, {200, 7}} {
		t.Run(fmt.Sprintf("%d parts fan-in %d", tc.parts, tc.fanIn), func(t *testing.T) {
			withFanIn(t, tc.fanIn)
			parts := tiedParts(tc.parts, uint64(tc.parts*100+tc.fanIn))
			wantF, wantR, wantT := stableMerge(parts)
			s := spoolParts(t, parts, uint64(tc.fanIn))
			got, err := s.Result()
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Findings) != len(wantF) {
				t.Fatalf("%d findings, want %d", len(got.Findings), len(wantF))
			}
			for i := range wantF {
				if got.Findings[i].Message != wantF[i].Message {
					t.Fatalf("finding %d: %q, want %q", i, got.Findings[i].Message, wantF[i].Message)
				}
			}
			if len(got.Roles) != len(wantR) || len(got.TaskDefinitions) != len(wantT) {
				t.Fatalf("%d roles and %d task definitions, want %d and %d", len(got.Roles), len(got.TaskDefinitions), len(wantR), len(wantT))
			}
			for i := range wantR {
				if got.Roles[i].UsedBy[0] != wantR[i].UsedBy[0] {
					t.Fatalf("role %d: %q, want %q", i, got.Roles[i].UsedBy[0], wantR[i].UsedBy[0])
				}
			}
			for i := range wantT {
				if got.TaskDefinitions[i].Family != wantT[i].Family {
					t.Fatalf("task definition %d: %q, want %q", i, got.TaskDefinitions[i].Family, wantT[i].Family)
				}
			}
			// No pass over the findings reads more than fanIn runs.
			if n := len(s.findingRuns()); n > tc.fanIn {
				t.Errorf("%d findings runs left to merge, more than %d", n, tc.fanIn)
			}
			// Every pass gives the same.
			i := 0
			if err := s.EachFinding(func(f *Finding) error {
				if f.Message != wantF[i].Message {
					return fmt.Errorf("second pass, finding %d: %q, want %q", i, f.Message, wantF[i].Message)
				}
				i++
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A damaged run, a part's that was not merged yet or a merged one, gives
// an error, never a shorter list.
func TestSpoolFanInDamaged(t *testing.T) {
	// Add empties the parts: each test has its own.
	parts := func() []*Result { return tiedParts(30, 9) }
	total := 0
	for _, p := range parts() {
		total += len(p.Findings)
	}
	damage := func(t *testing.T, s *Spool, at int64) {
		t.Helper()
		f, err := os.OpenFile(s.Path(), os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b := make([]byte, 1)
		if _, err := f.ReadAt(b, at); err != nil {
			t.Fatal(err)
		}
		b[0] ^= 0x5a
		if _, err := f.WriteAt(b, at); err != nil {
			t.Fatal(err)
		}
	}
	check := func(t *testing.T, s *Spool) {
		t.Helper()
		n := 0
		err := s.EachFinding(func(*Finding) error { n++; return nil })
		if err == nil {
			t.Fatalf("a damaged spool read %d of %d findings without an error", n, total)
		}
		if !strings.Contains(err.Error(), "findings spool") {
			t.Errorf("error does not say it is the spool's: %v", err)
		}
		if _, err := s.Result(); err == nil {
			t.Errorf("Result of a damaged spool without an error")
		}
	}
	t.Run("merged run", func(t *testing.T) {
		withFanIn(t, 3)
		s := spoolParts(t, parts(), 1)
		runs := s.findingRuns()
		var merged *spoolRun
		for i := range runs {
			if runs[i].run.tagged {
				merged = &runs[i].run
				break
			}
		}
		if merged == nil {
			t.Fatal("no merged run")
		}
		damage(t, s, merged.off+merged.size/2)
		check(t, s)
	})
	t.Run("part before its merge", func(t *testing.T) {
		// No merge while the parts come; Header merges them.
		withFanIn(t, 1000)
		s := spoolParts(t, parts(), 2)
		spoolFanIn = 3
		// The first part's findings, read by the first merge.
		var r *spoolRun
		for _, p := range s.parts {
			if p.runs[runFindings].count > 0 {
				r = &p.runs[runFindings]
				break
			}
		}
		damage(t, s, r.off+r.size-1)
		check(t, s)
	})
	t.Run("truncated", func(t *testing.T) {
		withFanIn(t, 3)
		s := spoolParts(t, parts(), 3)
		fi, err := os.Stat(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(s.Path(), fi.Size()/2); err != nil {
			t.Fatal(err)
		}
		check(t, s)
	})
}

// Close while runs are merged stops the merge and removes the file; a
// spool whose merge failed fails every read, and no part can be added.
func TestSpoolFanInClose(t *testing.T) {
	withFanIn(t, 2)
	parts := tiedParts(50, 4)
	s, err := NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for i := g; i < len(parts); i += 2 {
				s.Add(i, parts[i])
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path()); !os.IsNotExist(err) {
		t.Fatalf("spool file still there after Close: %v", err)
	}
	if err := s.EachFinding(func(*Finding) error { return nil }); err == nil {
		t.Errorf("EachFinding after Close did not fail")
	}
}

// A part's index is what a merged run tags its elements with: one out of
// range is refused.
func TestSpoolPartIndexRange(t *testing.T) {
	s, err := NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, i := range []int{-1, 1 << 40} {
		if err := s.Add(i, &Result{Findings: []Finding{{ID: "a"}}}); err == nil {
			t.Errorf("part %d added", i)
		}
	}
	if err := s.Add(0, &Result{Findings: []Finding{{ID: "a"}}}); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for i := range 3 {
		errs = append(errs, s.EachFinding(func(f *Finding) error {
			if f.ID != "a" {
				return fmt.Errorf("pass %d: finding %q", i, f.ID)
			}
			return nil
		}))
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// key decodes the fields the order reads as the whole element's decoding
// does, for elements with every field set (or left empty).
func TestSpoolKey(t *testing.T) {
	t.Run("finding", testKey(func(a, b *Finding) bool {
		return a.ID == b.ID && a.RuleID == b.RuleID && a.Severity == b.Severity && a.Title == b.Title && a.Message == b.Message &&
			a.AccountID == b.AccountID && a.AccountName == b.AccountName && a.Region == b.Region && a.ResourceType == b.ResourceType &&
			a.ResourceARN == b.ResourceARN && CompareFindings(a, b) == 0
	}))
	t.Run("role", testKey(func(a, b *RoleReport) bool { return a.RoleARN == b.RoleARN }))
	t.Run("task definition", testKey(func(a, b *TaskDefReport) bool { return a.ARN == b.ARN }))
}

func testKey[T any](same func(a, b *T) bool) func(*testing.T) {
	return func(t *testing.T) {
		for seed := range uint64(20) {
			x := new(T)
			(&filler{rng: rand.New(rand.NewPCG(seed, 7)), full: seed%2 == 0}).fill(reflect.ValueOf(x).Elem(), 0)
			e := newSpoolEncoder()
			e.elem(x)
			b := e.appendTo(nil)
			_, k := uvarintDecode(b)
			b = b[k:]
			var d spoolDecoder
			whole := new(T)
			d.start(b)
			d.elem(whole)
			if err := d.finish(); err != nil {
				t.Fatal(err)
			}
			key := new(T)
			d.key(b, key)
			if d.err != nil {
				t.Fatalf("seed %d: %v", seed, d.err)
			}
			if !same(key, whole) {
				t.Errorf("seed %d: key %+v, element %+v", seed, key, whole)
			}
			// Cut short: an error or a key, never a panic.
			for n := range len(b) {
				d.key(b[:n], new(T))
			}
		}
	}
}
