package inventory_test

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/ecs-audit/audit/internal/fakeaws"
	"github.com/ecs-audit/audit/inventory"
)

// generated saves a generated Organization as a snapshot file.
func generated(t *testing.T, accounts int) string {
	t.Helper()
	w := fakeaws.GenerateWorld(fakeaws.WorldSpec{Accounts: accounts, Regions: []string{"us-east-1", "eu-west-1"},
		TaskDefsPerRegion: 6, ServicesPerRegion: 4, InstancesPerCluster: 3, ClustersPerRegion: 2, Seed: 7})
	path := filepath.Join(t.TempDir(), "world.json")
	if err := inventory.Save(path, w); err != nil {
		t.Fatal(err)
	}
	return path
}

// On a generated Organization, the accounts a Stream visits are Load's,
// and its Index is Load's inventory without the bulk of the accounts.
func TestStreamOnAGeneratedOrganization(t *testing.T) {
	path := generated(t, 30)
	want, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := inventory.OpenStream(path, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	top, idx := *want, *s.Index
	top.Accounts, idx.Accounts = nil, nil
	if !reflect.DeepEqual(top, idx) {
		t.Fatal("the Index's top-level fields differ from Load's")
	}
	if len(s.Index.Accounts) != len(want.Accounts) {
		t.Fatalf("Index has %d accounts, Load %d", len(s.Index.Accounts), len(want.Accounts))
	}
	shared := map[*inventory.ManagedPolicy]int{}
	for k, p := range want.AWSManagedPolicies {
		shared[p] = k
	}
	linked, visited := 0, 0
	err = s.Accounts(func(i int, a *inventory.Account) error {
		visited++
		w := want.Accounts[i]
		if !reflect.DeepEqual(a, w) {
			t.Errorf("accounts[%d] differs from Load's", i)
		}
		x := s.Index.Accounts[i]
		if x.ID != w.ID || x.Name != w.Name || x.Email != w.Email || x.Status != w.Status || !reflect.DeepEqual(x.Path, w.Path) || x.IAM != nil ||
			len(x.Regions) != len(w.Regions) {
			t.Fatalf("Index accounts[%d]: %s", i, mustJSON(x))
		}
		for j, r := range w.Regions {
			want := inventory.Region{Name: r.Name, Status: r.Status, Secrets: r.Secrets, Parameters: r.Parameters, KMSKeys: r.KMSKeys,
				MissingSecrets: r.MissingSecrets, MissingParameters: r.MissingParameters, ECRRepositories: r.ECRRepositories,
				ECRRegistry: r.ECRRegistry, LogGroups: r.LogGroups}
			if !reflect.DeepEqual(*x.Regions[j], want) {
				t.Errorf("Index accounts[%d].regions[%d] differs", i, j)
			}
		}
		for j, p := range w.IAM.ManagedPolicies {
			if k, ok := shared[p]; ok {
				linked++
				if a.IAM.ManagedPolicies[j] != s.Index.AWSManagedPolicies[k] {
					t.Errorf("accounts[%d].iam.managedPolicies[%d] is not linked to awsManagedPolicies[%d]", i, j, k)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if visited != len(want.Accounts) || linked == 0 {
		t.Fatalf("visited %d accounts, %d linked policies", visited, linked)
	}
}

// A Stream keeps no account it has visited: the live heap while it visits
// the last accounts is larger than while it visits the first ones by less
// than the accounts in between take (the accounts decoded ahead make it
// vary by a few).
func TestStreamKeepsNoVisitedAccount(t *testing.T) {
	const n = 60
	path := generated(t, n)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	perAccount := (heap() - before) / n
	runtime.KeepAlive(inv)
	inv = nil

	s, err := inventory.OpenStream(path, inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var early, late uint64
	err = s.Accounts(func(i int, a *inventory.Account) error {
		switch i {
		case 5:
			early = heap()
		case n - 5:
			late = heap()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if late > early && late-early > 20*perAccount {
		t.Fatalf("the heap grew by %d bytes from account 5 to account %d (an account takes about %d)", late-early, n-5, perAccount)
	}
	t.Logf("heap at account 5: %d, at account %d: %d; an account takes about %d bytes", early, n-5, late, perAccount)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
