package findings

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

// evaluate evaluates inv whole and one account at a time (with one and
// with two workers, releasing the accounts as they are done), and fails
// the test unless the Results are equal. The test worlds of every rule
// test go through it.
func evaluate(t *testing.T, inv *inventory.Inventory, opts Options) *Result {
	t.Helper()
	whole := Evaluate(inv, opts)
	for _, workers := range []int{1, 2} {
		byAccount := EvaluateAccounts(inv, opts, AccountsOptions{Workers: workers})
		requireSameResult(t, whole, byAccount)
	}
	requireSpoolEqual(t, inv, opts)
	requireOwnLayerEqual(t, inv, opts, whole)
	return whole
}

// requireOwnLayerEqual evaluates each account with an Index that does not
// hold that account's own resources (a live scan's Index holds only what
// accounts reference across accounts): the account brings them, and the
// Result must be the whole evaluation's.
func requireOwnLayerEqual(t *testing.T, inv *inventory.Inventory, opts Options, whole *Result) {
	t.Helper()
	byAccount, rest := SplitErrors(inv)
	parts := make([]*Result, len(inv.Accounts)+1)
	parts[len(inv.Accounts)] = NewIndex(inv).EvaluateAccount(nil, rest, opts)
	for i, a := range inv.Accounts {
		index := *inv
		index.Accounts = make([]*inventory.Account, len(inv.Accounts))
		for j, b := range inv.Accounts {
			if j != i {
				index.Accounts[j] = b
				continue
			}
			stub := &inventory.Account{ID: b.ID, Name: b.Name, Email: b.Email, Status: b.Status, Path: b.Path}
			for _, r := range b.Regions {
				stub.Regions = append(stub.Regions, &inventory.Region{Name: r.Name, Status: r.Status})
			}
			index.Accounts[j] = stub
		}
		parts[i] = NewIndex(&index).EvaluateAccount(a, byAccount[a.ID], opts)
	}
	requireResultAs(t, "with its own resources only in the account (not in the Index)", "layered", whole, MergeAccounts(parts))
}

func requireSameResult(t *testing.T, want, got *Result) {
	t.Helper()
	requireResultAs(t, "evaluated one account at a time", "by account", want, got)
}

// requireResultAs fails the test unless got, the Result evaluated as how
// says, equals want, Evaluate's, showing the first JSON line that differs.
func requireResultAs(t *testing.T, how, label string, want, got *Result) {
	t.Helper()
	if reflect.DeepEqual(want, got) {
		return
	}
	w, _ := json.MarshalIndent(want, "", " ")
	g, _ := json.MarshalIndent(got, "", " ")
	if string(w) == string(g) {
		t.Fatalf("%s, the Result has the same JSON as Evaluate's but differs in memory (nil and empty lists?)", how)
	}
	wl, gl := splitLines(string(w)), splitLines(string(g))
	for i := 0; i < len(wl) && i < len(gl); i++ {
		if wl[i] != gl[i] {
			lo := max(0, i-8)
			t.Fatalf("%s, the Result differs from Evaluate's at line %d:\nwhole:\n%s\n%s:\n%s", how, i+1,
				joinLines(wl[lo:min(len(wl), i+4)]), label, joinLines(gl[lo:min(len(gl), i+4)]))
		}
	}
	t.Fatalf("%s, the Result has %d lines of JSON, Evaluate's %d", how, len(gl), len(wl))
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func joinLines(ls []string) string {
	out := ""
	for _, l := range ls {
		out += l + "\n"
	}
	return out
}

// Releasing the accounts leaves the same Result and an inventory that
// holds only the accounts' IDs, names and paths.
func TestEvaluateAccountsRelease(t *testing.T) {
	inv, err := inventory.Load(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	whole := Evaluate(inv, Options{ToolVersion: "test"})
	got := EvaluateAccounts(inv, Options{ToolVersion: "test"}, AccountsOptions{Workers: 2, Release: true})
	requireSameResult(t, whole, got)
	for _, a := range inv.Accounts {
		if a.IAM != nil || a.Regions != nil {
			t.Errorf("account %s was not released", a.ID)
		}
		if a.ID == "" {
			t.Errorf("a released account lost its ID")
		}
	}
}

// An error that no account of the inventory owns (the organization's, or
// an account outside it) is kept once, and makes the coverage
// incomplete, as in the whole evaluation.
func TestEvaluateAccountsOrgErrors(t *testing.T) {
	inv, err := inventory.Load(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	inv.Errors = append(inv.Errors,
		inventory.CollectionError{Service: "organizations", Operation: "ListPoliciesForTarget", Code: "AccessDenied", Message: "no"},
		inventory.CollectionError{AccountID: "999999999999", Region: "us-east-1", Service: "secretsmanager", Operation: "DescribeSecret", Code: "AccessDenied", Message: "b"},
		inventory.CollectionError{AccountID: "999999999999", Region: "us-east-1", Service: "secretsmanager", Operation: "DescribeSecret", Code: "AccessDenied", Message: "a"},
		inventory.CollectionError{AccountID: inv.Accounts[0].ID, Service: "iam", Operation: "ListRoles", Code: "Throttling", Message: "z"},
		inventory.CollectionError{AccountID: inv.Accounts[0].ID, Service: "iam", Operation: "ListRoles", Code: "Throttling", Message: "z"},
	)
	res := evaluate(t, inv, Options{ToolVersion: "test"})
	if res.Coverage.Complete {
		t.Error("coverage is complete with collection errors")
	}
}

// EvaluateEach never gives a Result without an account of the index: one
// not handed over, handed over at another position, or an error of the
// source fails it.
func TestEvaluateEachFailsClosed(t *testing.T) {
	inv, err := inventory.Load(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Accounts) < 2 {
		t.Fatal("the demo has fewer than two accounts")
	}
	boom := errors.New("read failed")
	for _, tc := range []struct {
		name string
		each func(visit func(int, *inventory.Account) error) error
		want string
	}{
		{"all, in order", func(visit func(int, *inventory.Account) error) error {
			for i, a := range inv.Accounts {
				if err := visit(i, a); err != nil {
					return err
				}
			}
			return nil
		}, ""},
		{"the last left out", func(visit func(int, *inventory.Account) error) error {
			for i, a := range inv.Accounts[:len(inv.Accounts)-1] {
				if err := visit(i, a); err != nil {
					return err
				}
			}
			return nil
		}, "was not evaluated"},
		{"two swapped", func(visit func(int, *inventory.Account) error) error {
			return visit(0, inv.Accounts[1])
		}, "is not the account the index lists there"},
		{"out of range", func(visit func(int, *inventory.Account) error) error {
			return visit(len(inv.Accounts), inv.Accounts[0])
		}, "is not the account the index lists there"},
		{"the source fails", func(visit func(int, *inventory.Account) error) error {
			if err := visit(0, inv.Accounts[0]); err != nil {
				return err
			}
			return boom
		}, boom.Error()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := EvaluateEach(inv, Options{ToolVersion: "test"}, 2, tc.each, nil)
			if tc.want == "" {
				if err != nil || res == nil {
					t.Fatalf("err %v, result %v", err, res != nil)
				}
				requireSameResult(t, Evaluate(inv, Options{ToolVersion: "test"}), res)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || res != nil {
				t.Fatalf("err %v (want %q), result %v", err, tc.want, res != nil)
			}
		})
	}
}
