package findings

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/ecs-audit/audit/inventory"
)

// shardInventory is what a sharded scan of inv collects for the accounts
// in own: those accounts, and in every other account only the resources
// that task definitions reference (the scanner looks them up there), the
// errors of its own accounts and the global buckets.
func shardInventory(inv *inventory.Inventory, k, n int, own func(id string) bool) *inventory.Inventory {
	out := *inv
	out.Accounts = nil
	out.Errors = nil
	out.Shard = &inventory.Shard{Index: k, Count: n, AccountsInScope: len(inv.Accounts)}
	for _, a := range inv.Accounts {
		if own(a.ID) {
			out.Accounts = append(out.Accounts, a)
			out.Shard.Accounts = append(out.Shard.Accounts, a.ID)
			continue
		}
		ref := &inventory.Account{ID: a.ID, Name: a.Name}
		for _, r := range a.Regions {
			if r.Status != inventory.RegionScanned {
				continue
			}
			ref.Regions = append(ref.Regions, &inventory.Region{Name: r.Name, Status: r.Status, Secrets: r.Secrets, Parameters: r.Parameters,
				KMSKeys: r.KMSKeys, MissingSecrets: r.MissingSecrets, MissingParameters: r.MissingParameters,
				ECRRepositories: r.ECRRepositories, ECRRegistry: r.ECRRegistry, LogGroups: r.LogGroups})
		}
		out.Accounts = append(out.Accounts, ref)
		out.Shard.ReferencedAccounts = append(out.Shard.ReferencedAccounts, a.ID)
	}
	for _, e := range inv.Errors {
		if own(e.AccountID) || (e.AccountID == "" && k == 0) {
			out.Errors = append(out.Errors, e)
		}
	}
	return &out
}

func comparable(t *testing.T, r *Result) string {
	t.Helper()
	c := *r
	c.GeneratedAt, c.Scope.CollectedAt, c.Shard = time.Time{}, time.Time{}, nil
	b, err := json.MarshalIndent(&c, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The shards' Results of the demo organization, each restricted to its
// accounts, merge into the unsharded Result: findings (IDs, evidence,
// messages), roles, task definitions, coverage and summary.
func TestMergeOfShardsEqualsUnsharded(t *testing.T) {
	inv, whole := demoResult(t)
	if whole.Summary.Total == 0 {
		t.Fatal("no findings")
	}
	// summarize counts as result() does.
	again := *whole
	again.summarize()
	if a, b := comparable(t, &again), comparable(t, whole); a != b {
		t.Fatalf("summarize differs from result()")
	}
	ids := []string{}
	for _, a := range inv.Accounts {
		ids = append(ids, a.ID)
	}
	for n := 1; n <= len(ids)+1; n++ {
		var parts []*Result
		for k := range n {
			own := func(id string) bool { return slices.Index(ids, id)%n == k }
			si := shardInventory(inv, k, n, own)
			r := Evaluate(si, Options{ToolVersion: "test"})
			RestrictToShard(r, si.Shard)
			if r.Coverage.Complete != whole.Coverage.Complete || r.Shard == nil {
				t.Errorf("n=%d shard %d: complete %v, whole %v; gaps %q", n, k, r.Coverage.Complete, whole.Coverage.Complete, r.Coverage.Gaps)
			}
			for _, ref := range si.Shard.ReferencedAccounts {
				if r.Summary.ByAccount[ref] != 0 || slices.ContainsFunc(r.Scope.Accounts, func(a AccountRef) bool { return a.ID == ref }) {
					t.Errorf("n=%d shard %d: account %s of another shard in its result", n, k, ref)
				}
			}
			parts = append(parts, r)
		}
		// In any order.
		slices.Reverse(parts)
		merged := Merge(parts, MergeOptions{Count: n})
		if a, b := comparable(t, merged), comparable(t, whole); a != b {
			t.Errorf("n=%d: merged result differs from the unsharded one:\n%s", n, firstDiff(a, b))
		}
	}
}

// A missing shard is a coverage gap, and the accounts in scope count.
func TestMergeMissingShard(t *testing.T) {
	inv, whole := demoResult(t)
	si := shardInventory(inv, 0, 2, func(id string) bool { return id == inv.Accounts[0].ID })
	r := Evaluate(si, Options{ToolVersion: "test"})
	RestrictToShard(r, si.Shard)
	m := Merge([]*Result{r}, MergeOptions{Missing: []int{1}, Count: 2, AccountsInScope: len(inv.Accounts)})
	if m.Coverage.Complete || m.Coverage.AccountsTotal != whole.Coverage.AccountsTotal || m.Coverage.AccountsScanned != 1 ||
		!slices.Contains(m.Coverage.Gaps, "shard 1 of 2 (0-based) is missing from the merge: its accounts were not scanned") {
		t.Errorf("coverage %+v", m.Coverage)
	}
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-300)
	return "merged: …" + a[lo:min(len(a), i+300)] + "\nwhole:  …" + b[lo:min(len(b), i+300)]
}
