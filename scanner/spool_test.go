package scanner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/internal/demo"
	"github.com/ecs-audit/audit/internal/fakeaws"
	"github.com/ecs-audit/audit/inventory"
)

// generatedWorld is a small world of the bench's shape: a shared registry
// in the management account that every account pulls from, secrets,
// parameters, keys, log groups and S3 objects.
func generatedWorld() *inventory.Inventory {
	return fakeaws.GenerateWorld(fakeaws.WorldSpec{Accounts: 6, Regions: []string{"us-east-1", "eu-west-1"},
		TaskDefsPerRegion: 30, ServicesPerRegion: 10, InstancesPerCluster: 2, ClustersPerRegion: 2, Seed: 12})
}

// TestCollectEachEqualsCollect scans the same organization with Collect
// (every account in memory) and with CollectEach (each account spooled to
// a file as its scan ends, read back whole): the inventories must be the
// same, and so must the findings evaluated account by account as the
// Collection hands the accounts over.
func TestCollectEachEqualsCollect(t *testing.T) {
	if testing.Short() {
		t.Skip("two scans per world skipped in -short mode")
	}
	isolateEnv(t)
	cases := []struct {
		name  string
		world func() *inventory.Inventory
		shard Shard
	}{
		{"demo", demo.World, Shard{}},
		{"generated", generatedWorld, Shard{}},
		{"generated shard 1 of 2", generatedWorld, Shard{Index: 1, Count: 2}},
	}
	opts := findings.Options{ToolVersion: "test", Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, cfg := fakeServer(t, tc.world(), fakeaws.Options{})
			cfg.Org, cfg.ResolveResources, cfg.Shard = true, true, tc.shard
			whole, err := Collect(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}

			_, cfg = fakeServer(t, tc.world(), fakeaws.Options{})
			cfg.Org, cfg.ResolveResources, cfg.Shard = true, true, tc.shard
			cfg.SpoolDir = t.TempDir()
			col, err := CollectEach(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(cfg.SpoolDir, "audit-spool-*"))
			if len(files) != 1 {
				t.Fatalf("spool files: %v", files)
			}
			fi, err := os.Stat(files[0])
			if err != nil || fi.Size() == 0 || fi.Mode().Perm()&0o077 != 0 {
				t.Fatalf("spool file %v: %v (want a non-empty file only its owner reads)", fi, err)
			}
			// The Index holds no account's IAM, clusters or task
			// definitions: they are in the spool.
			for _, a := range col.Index.Accounts {
				if a.IAM != nil {
					t.Errorf("Index account %s holds its IAM", a.ID)
				}
				for _, r := range a.Regions {
					if len(r.TaskDefinitions)+len(r.Clusters) > 0 {
						t.Errorf("Index account %s region %s holds ECS resources", a.ID, r.Name)
					}
				}
			}

			// Each account's own resources went to the spool with it: the
			// Index holds only what task definitions reference in another
			// account.
			checkIndexCrossAccount(t, col.Index, whole)

			// Account by account, evaluated as the Collection hands them
			// over: the findings of the whole inventory.
			byAccount, err := findings.EvaluateEach(col.Index, opts, 2, col.Accounts, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := findings.Evaluate(whole, opts)
			findings.RestrictToShard(want, whole.Shard)
			findings.RestrictToShard(byAccount, col.Index.Shard)
			if len(want.Findings) == 0 {
				t.Fatal("no findings to compare")
			}
			if a, b := resultJSON(t, byAccount), resultJSON(t, want); !bytes.Equal(a, b) {
				t.Errorf("findings differ:\n%s", firstDiff(a, b))
			}

			// The snapshot written account by account from the spool is
			// the one Save writes of the whole inventory.
			col.Index.CollectedAt = whole.CollectedAt
			if col.Index.Shard != nil {
				col.Index.Shard.StartedAt = whole.Shard.StartedAt
			}
			whole.FillPolicyStatuses()
			col.Index.FillPolicyStatuses()
			var saved, each bytes.Buffer
			if err := inventory.Write(&saved, whole); err != nil {
				t.Fatal(err)
			}
			err = inventory.WriteEach(&each, col.Index, func(visit func(*inventory.Account) error) error {
				return col.Accounts(func(_ int, a *inventory.Account) error { return visit(a) })
			})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(each.Bytes(), saved.Bytes()) {
				t.Errorf("snapshot written from the spool differs:\n%s", firstDiff(each.Bytes(), saved.Bytes()))
			}
			if _, err := inventory.Decode(each.Bytes(), "spooled.json"); err != nil {
				t.Errorf("snapshot written from the spool: %v", err)
			}

			got, err := col.Inventory()
			if err != nil {
				t.Fatal(err)
			}
			if err := col.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(files[0]); !os.IsNotExist(err) {
				t.Errorf("spool file left behind: %v", err)
			}
			if a, b := inventoryJSON(t, got), inventoryJSON(t, whole); !bytes.Equal(a, b) {
				t.Errorf("inventories differ:\n%s", firstDiff(a, b))
			}
		})
	}
}

func resultJSON(t *testing.T, r *findings.Result) []byte {
	t.Helper()
	r.GeneratedAt, r.Scope.CollectedAt = time.Time{}, time.Time{}
	if r.Shard != nil {
		r.Shard.StartedAt = time.Time{}
	}
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func inventoryJSON(t *testing.T, inv *inventory.Inventory) []byte {
	t.Helper()
	c := *inv
	c.CollectedAt = time.Time{}
	if c.Shard != nil {
		sh := *c.Shard
		sh.StartedAt = time.Time{}
		c.Shard = &sh
	}
	b, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSpoolFailsClosed: a spool file that changed or cannot be read makes
// Accounts fail, naming the account, instead of handing over fewer
// accounts; one that cannot be written keeps the records in memory.
func TestSpoolFailsClosed(t *testing.T) {
	c := &collector{log: slog.New(slog.DiscardHandler), awsPolMu: new(sync.Mutex), awsPolicies: map[awsPolicyKey]*inventory.ManagedPolicy{}}
	shared := &inventory.ManagedPolicy{ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess", Name: "ReadOnlyAccess", DefaultVersionID: "v9",
		AWSManaged: true, Document: `{"Version":"2012-10-17","Statement":[]}`}
	c.awsPolicies[awsPolicyKey{shared.ARN, shared.DefaultVersionID}] = shared
	rec := func(n int) *spoolRecord {
		return &spoolRecord{IAM: &inventory.IAM{ManagedPolicies: []*inventory.ManagedPolicy{shared}},
			Regions: []*inventory.Region{{Name: "us-east-1", Status: inventory.RegionScanned,
				TaskDefinitions: []*inventory.TaskDefinition{{ARN: strings.Repeat("x", n)}}}}}
	}
	index := func() *inventory.Inventory {
		return &inventory.Inventory{Accounts: []*inventory.Account{
			{ID: "111111111111", Regions: []*inventory.Region{{Name: "us-east-1", Status: inventory.RegionScanned,
				Secrets: []*inventory.Secret{{ARN: "arn:aws:secretsmanager:us-east-1:111111111111:secret:s-abcdef"}}}}},
			{ID: "222222222222"},
		}}
	}

	t.Run("read back whole", func(t *testing.T) {
		sp, err := newFileSpool(c, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer sp.close()
		sp.put("111111111111", rec(10))
		col := &Collection{Index: index(), spool: sp}
		inv, err := col.Inventory()
		if err != nil {
			t.Fatal(err)
		}
		a := inv.Accounts[0]
		if a.IAM == nil || len(a.IAM.ManagedPolicies) != 1 || a.IAM.ManagedPolicies[0] != shared {
			t.Errorf("the AWS managed policy is not the shared entry: %+v", a.IAM)
		}
		if len(a.Regions) != 1 || len(a.Regions[0].TaskDefinitions) != 1 || len(a.Regions[0].Secrets) != 1 {
			t.Errorf("region not read back with its resources: %+v", a.Regions)
		}
		if b := inv.Accounts[1]; b.ID != "222222222222" || b.IAM != nil || b.Regions != nil {
			t.Errorf("an account never spooled is not its Index entry")
		}
	})

	t.Run("changed", func(t *testing.T) {
		sp, err := newFileSpool(c, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer sp.close()
		sp.put("111111111111", rec(10))
		if _, err := sp.file.WriteAt([]byte{0xff}, 3); err != nil {
			t.Fatal(err)
		}
		n := 0
		err = (&Collection{Index: index(), spool: sp}).Accounts(func(int, *inventory.Account) error { n++; return nil })
		if err == nil || !strings.Contains(err.Error(), "111111111111") || !strings.Contains(err.Error(), "changed") {
			t.Errorf("err = %v, want the account named and the file changed", err)
		}
		if n != 0 {
			t.Errorf("%d accounts handed over before the error", n)
		}
	})

	t.Run("unreadable", func(t *testing.T) {
		sp, err := newFileSpool(c, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		sp.put("111111111111", rec(10))
		sp.file.Close()
		defer os.Remove(sp.file.Name())
		err = (&Collection{Index: index(), spool: sp}).Accounts(func(int, *inventory.Account) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "111111111111") {
			t.Errorf("err = %v, want an error naming the account", err)
		}
	})

	t.Run("unwritable", func(t *testing.T) {
		sp, err := newFileSpool(c, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		sp.file.Close()
		defer os.Remove(sp.file.Name())
		r := rec(10)
		sp.put("111111111111", r)
		got, err := sp.get("111111111111")
		if err != nil || got != r {
			t.Errorf("get = %v, %v; want the record kept in memory", got, err)
		}
	})

	t.Run("unknown shared policy", func(t *testing.T) {
		sp, err := newFileSpool(c, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer sp.close()
		sp.put("111111111111", rec(10))
		c.awsPolMu.Lock()
		delete(c.awsPolicies, awsPolicyKey{shared.ARN, shared.DefaultVersionID})
		c.awsPolMu.Unlock()
		defer func() { c.awsPolicies[awsPolicyKey{shared.ARN, shared.DefaultVersionID}] = shared }()
		if _, err := sp.get("111111111111"); err == nil || !strings.Contains(err.Error(), "ReadOnlyAccess") {
			t.Errorf("err = %v, want the policy named", err)
		}
	})
}

// TestCollectEachWithoutTemporaryDirectory: when the system's temporary
// directory cannot take the spool file (a read-only root file system), the
// scan still runs, holding the accounts in memory, and says so in the log;
// a --spool-dir that cannot take it is a configuration error before any
// call.
func TestCollectEachWithoutTemporaryDirectory(t *testing.T) {
	isolateEnv(t)
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	srv, cfg := fakeServer(t, demo.World(), fakeaws.Options{})
	cfg.Org = true
	var log bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	col, err := CollectEach(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer col.Close()
	if _, ok := col.spool.(*memSpool); !ok {
		t.Errorf("spool %T, want the accounts in memory", col.spool)
	}
	if !strings.Contains(log.String(), "cannot create the scan's spool file") {
		t.Errorf("no warning in the log:\n%s", log.String())
	}
	inv, err := col.Inventory()
	if err != nil || len(inv.Accounts) == 0 || inv.Accounts[0].IAM == nil {
		t.Fatalf("inventory %v, %v", inv, err)
	}

	calls := srv.Calls()
	cfg.SpoolDir = filepath.Join(t.TempDir(), "missing")
	_, err = CollectEach(context.Background(), cfg)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Field != "SpoolDir" {
		t.Fatalf("err = %v, want a ConfigError for SpoolDir", err)
	}
	after := srv.Calls()
	for op, n := range after {
		if calls[op] != n {
			t.Errorf("%s called %d more times after the spool directory was refused", op, n-calls[op])
		}
	}
}

// checkIndexCrossAccount checks that the repositories an Index holds are
// ones that task definitions of another account pull from, and that it
// holds fewer resources than the whole inventory.
func checkIndexCrossAccount(t *testing.T, index, whole *inventory.Inventory) {
	t.Helper()
	cross := map[string]bool{}
	for _, a := range whole.Accounts {
		for _, r := range a.Regions {
			for _, td := range r.TaskDefinitions {
				for _, cd := range td.ContainerDefinitions {
					if ref, ok := inventory.ParseECRImage(cd.Image); ok && ref.Registry != a.ID {
						cross[ref.Registry+"|"+ref.Region+"|"+ref.Repository] = true
					}
				}
			}
		}
	}
	count := func(inv *inventory.Inventory) int {
		n := 0
		for _, a := range inv.Accounts {
			for _, r := range a.Regions {
				n += len(r.Secrets) + len(r.Parameters) + len(r.KMSKeys) + len(r.ECRRepositories) + len(r.LogGroups) +
					len(r.MissingSecrets) + len(r.MissingParameters)
			}
		}
		return n
	}
	for _, a := range index.Accounts {
		for _, r := range a.Regions {
			for _, repo := range r.ECRRepositories {
				if !cross[a.ID+"|"+r.Name+"|"+repo.Name] {
					t.Errorf("the Index holds repository %s of account %s, %s, which no other account pulls from", repo.Name, a.ID, r.Name)
				}
			}
		}
	}
	if n, all := count(index), count(whole); n >= all {
		t.Errorf("the Index holds %d resources, the whole inventory %d", n, all)
	}
}
