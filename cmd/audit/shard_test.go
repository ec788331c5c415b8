package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/internal/demo"
	"github.com/ecs-audit/audit/inventory"
)

// comparableResult is a findings.json without its times and shard record.
func comparableResult(t *testing.T, path string) string {
	t.Helper()
	r := readResult(t, path)
	r.GeneratedAt, r.Scope.CollectedAt, r.Shard = time.Time{}, time.Time{}, nil
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Three shard scans of the demo organization, served by the fake AWS
// endpoint (shard 1 takes its index from JOB_COMPLETION_INDEX, shard 2
// from AWS_BATCH_JOB_ARRAY_INDEX), merged, give the findings.json of the
// unsharded scan apart from the times: finding IDs and evidence, coverage,
// summary, roles, task definitions, rules. The demo's analytics account
// pulls images from the shared-services registry, which falls in another
// shard. Then the refusals of audit merge, on copies of those files.
func TestShardedScanMergesToUnsharded(t *testing.T) {
	if testing.Short() {
		t.Skip("four live scans")
	}
	if _, err := findingsSchema(); err != nil {
		t.Fatal(err)
	}
	dir := configEnv(t, "", nil)
	serveWorld(t, demo.World())
	whole := filepath.Join(dir, "whole")
	if code, _, stderr := run(t, "", "scan", "--org", "--out", whole, "--quiet"); code != ExitOK {
		t.Fatalf("unsharded scan: exit %d:\n%s", code, stderr)
	}
	shardDir := func(k int) string { return filepath.Join(dir, "shard-"+string(rune('0'+k))) }
	for k, shard := range []string{"0/3", "auto/3", "auto/3"} {
		switch k {
		case 1:
			t.Setenv("JOB_COMPLETION_INDEX", "1")
		case 2:
			t.Setenv("JOB_COMPLETION_INDEX", "")
			t.Setenv("AWS_BATCH_JOB_ARRAY_INDEX", "2")
		}
		if code, _, stderr := run(t, "", "scan", "--org", "--shard", shard, "--out", shardDir(k), "--save-snapshot", filepath.Join(shardDir(k), "inventory.json"), "--quiet"); code != ExitOK {
			t.Fatalf("shard %d: exit %d:\n%s", k, code, stderr)
		}
	}
	t.Setenv("AWS_BATCH_JOB_ARRAY_INDEX", "")
	// Each shard records itself in its findings.json and its snapshot.
	all := readResult(t, filepath.Join(whole, "findings.json"))
	var union []string
	referenced := false
	for k := range 3 {
		r := readResult(t, filepath.Join(shardDir(k), "findings.json"))
		inv, err := inventory.Load(filepath.Join(shardDir(k), "inventory.json"))
		if err != nil {
			t.Fatal(err)
		}
		sh := r.Shard
		if sh == nil || inv.Shard == nil || sh.Index != k || sh.Count != 3 || sh.OrganizationID != all.Scope.OrganizationID || sh.OrganizationID == "" ||
			!sh.Scope.Org || sh.AccountsInScope != len(all.Scope.Accounts) || sh.StartedAt.IsZero() || inv.Shard.Index != k {
			t.Fatalf("shard %d: record %+v, snapshot's %+v", k, sh, inv.Shard)
		}
		var ids []string
		for _, a := range r.Scope.Accounts {
			ids = append(ids, a.ID)
		}
		if !slices.Equal(ids, sh.Accounts) {
			t.Errorf("shard %d: scope %v, shard accounts %v", k, ids, sh.Accounts)
		}
		union = append(union, ids...)
		referenced = referenced || len(sh.ReferencedAccounts) > 0
	}
	slices.Sort(union)
	var want []string
	for _, a := range all.Scope.Accounts {
		want = append(want, a.ID)
	}
	if !slices.Equal(union, want) {
		t.Fatalf("the shards scanned %v, the whole scan %v", union, want)
	}
	if !referenced {
		t.Error("no shard looked up a resource in another shard's account: the test does not exercise it")
	}

	merged := filepath.Join(dir, "merged")
	code, _, stderr := run(t, "", "merge", shardDir(2), filepath.Join(shardDir(0), "findings.json"), shardDir(1), "--out", merged, "--quiet")
	if code != ExitOK {
		t.Fatalf("merge: exit %d:\n%s", code, stderr)
	}
	if got, want := comparableResult(t, filepath.Join(merged, "findings.json")), comparableResult(t, filepath.Join(whole, "findings.json")); got != want {
		t.Errorf("merged findings.json differs from the unsharded one:\n%s", firstDifference(got, want))
	}

	// Refusals: each names the files.
	part := func(k int) string { return filepath.Join(shardDir(k), "findings.json") }
	edited := func(name string, k int, edit func(r *findings.Result)) string {
		r := readResult(t, part(k))
		edit(r)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	otherN := edited("other-n.json", 1, func(r *findings.Result) { r.Shard.Count = 4 })
	otherOrg := edited("other-org.json", 1, func(r *findings.Result) { r.Shard.OrganizationID = "o-otherorg123" })
	otherScope := edited("other-scope.json", 1, func(r *findings.Result) { r.Shard.Scope.Regions = []string{"eu-west-1"} })
	moved := edited("moved.json", 1, func(r *findings.Result) { r.Shard.Accounts = append(r.Shard.Accounts, part0Account(t, part(0))) })
	unsharded := filepath.Join(whole, "findings.json")
	for _, c := range []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"missing shard", []string{part(0), part(2)}, ExitUsage, []string{"shard 1 of 3 missing", part(0), part(2), "--allow-partial"}},
		{"duplicate", []string{part(0), part(1), part(1), part(2)}, ExitUsage, []string{"shard 1 of 3 is given twice", part(1)}},
		{"other N", []string{part(0), otherN, part(2)}, ExitUsage, []string{otherN, "shard 1 of 4", part(0), "of 3"}},
		{"other organization", []string{part(0), otherOrg, part(2)}, ExitUsage, []string{otherOrg, `"o-otherorg123"`, part(0)}},
		{"other scope", []string{part(0), otherScope, part(2)}, ExitUsage, []string{otherScope, "another scope", "--regions eu-west-1", part(0)}},
		{"account of another shard", []string{part(0), moved, part(2)}, ExitUsage, []string{moved, "which belongs to shard 0"}},
		{"not a shard", []string{unsharded}, ExitUsage, []string{unsharded, "not the result of a shard"}},
		{"no such part", []string{filepath.Join(dir, "nope")}, ExitUsage, []string{filepath.Join(dir, "nope")}},
		{"allow partial", []string{part(0), part(2), "--allow-partial"}, ExitIncomplete, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(c.name, " ", "-"))
			code, _, stderr := run(t, "", append([]string{"merge", "--out", out, "--quiet"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", code, c.code, stderr)
			}
			for _, w := range c.wants {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if c.code == ExitUsage {
				if _, err := os.Stat(filepath.Join(out, "findings.json")); err == nil {
					t.Error("a refused merge wrote findings.json")
				}
				return
			}
			r := readResult(t, filepath.Join(out, "findings.json"))
			if r.Coverage.Complete || !slices.Contains(r.Coverage.Gaps, "shard 1 of 3 (0-based) is missing from the merge: its accounts were not scanned") ||
				r.Coverage.AccountsTotal != len(all.Scope.Accounts) || r.Coverage.AccountsScanned >= len(all.Scope.Accounts) {
				t.Errorf("partial merge coverage: %+v", r.Coverage)
			}
		})
	}
}

func part0Account(t *testing.T, path string) string {
	t.Helper()
	r := readResult(t, path)
	if len(r.Shard.Accounts) == 0 {
		t.Fatal("shard 0 has no account")
	}
	return r.Shard.Accounts[0]
}

func firstDifference(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			lo := max(0, i-5)
			return "merged:\n" + strings.Join(la[lo:min(len(la), i+5)], "\n") + "\nunsharded:\n" + strings.Join(lb[lo:min(len(lb), i+5)], "\n")
		}
	}
	return "lengths differ"
}

// --shard: K/N, auto/N from the job index variables, and every bad value
// refused (exit 2) naming the option, before any AWS call.
func TestShardOption(t *testing.T) {
	snap, err := filepath.Abs(demoSnapshot) // before the tests change directory
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		val, env, envVal, want string
	}{
		{"3/3", "", "", `--shard "3/3": the shard index K is 0-based: a whole number from 0 to 2, or auto`},
		{"-1/3", "", "", "K is 0-based"},
		{"1", "", "", "expected K/N"},
		{"0/0", "", "", "the shard count N must be a whole number from 1 to 10000"},
		{"a/b", "", "", "N must be"},
		{"auto/3", "", "", "neither is set"},
		{"auto/3", "JOB_COMPLETION_INDEX", "3", `JOB_COMPLETION_INDEX is "3"; with 3 shards it must be a whole number from 0 to 2`},
		{"auto/3", "AWS_BATCH_JOB_ARRAY_INDEX", "x", `AWS_BATCH_JOB_ARRAY_INDEX is "x"`},
	} {
		t.Run(c.val+c.env, func(t *testing.T) {
			configEnv(t, "", nil)
			t.Setenv("JOB_COMPLETION_INDEX", "")
			t.Setenv("AWS_BATCH_JOB_ARRAY_INDEX", "")
			if c.env != "" {
				t.Setenv(c.env, c.envVal)
			}
			// No endpoint: a valid option would fail on the credentials.
			t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
			code, _, stderr := run(t, "", "scan", "--org", "--shard", c.val, "--quiet")
			if code != ExitUsage || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, c.want)
			}
		})
	}
	// From the environment and the file too, named there.
	configEnv(t, "org: true\nshard: 5/2\n", nil)
	if code, _, stderr := run(t, "", "scan", "--quiet"); code != ExitUsage || !strings.Contains(stderr, "audit.yaml:2: shard") {
		t.Errorf("file: exit %d, %q", code, stderr)
	}
	// {shard} in --out needs --shard; nothing is written.
	dir := configEnv(t, "", nil)
	out := filepath.Join(dir, "reports-{shard}")
	if code, _, stderr := run(t, "", "scan", "--snapshot", snap, "--out", out, "--quiet"); code != ExitUsage || !strings.Contains(stderr, "{shard} stands for the shard's index, and --shard is not set") {
		t.Errorf("{shard} without --shard: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s was created: %v", out, err)
	}
	// A snapshot is analysed whole.
	configEnv(t, "", nil)
	if code, _, stderr := run(t, "", "scan", "--snapshot", "x.json", "--shard", "0/2"); code != ExitUsage || !strings.Contains(stderr, "--shard cannot be used with --snapshot") {
		t.Errorf("snapshot: exit %d, %q", code, stderr)
	}
}
