package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/internal/demo"
	"github.com/ecs-audit/audit/internal/fakeaws"
	"github.com/ecs-audit/audit/inventory"
)

// serveWorld starts the fake AWS endpoint on world, with faults, and points
// the SDK (through the environment) at it with the management account's
// keys.
func serveWorld(t *testing.T, world *inventory.Inventory, faults ...fakeaws.Fault) {
	t.Helper()
	srv, err := fakeaws.New(world, fakeaws.Options{Seed: 1, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n := len(srv.MutatingCalls()); n != 0 {
			t.Errorf("%d mutating calls: %v", n, srv.MutatingCalls())
		}
		srv.Close()
	})
	ak, sk := srv.CallerCredentials()
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk, "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none,
		"AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
}

// Two live scans of a changing organization, served by the fake AWS
// endpoint: between them a task definition that needed an execution role
// was deregistered and one with the same problem registered under another
// family, and every ECS call in one account's eu-west-1 is refused. The
// second scan against the first's findings.json marks the new finding new
// and the rest unchanged, lists the deregistered one as fixed, and the
// findings of the failed region (and of the roles used there) as unknown,
// never fixed. --fail-on-new fails on the new finding only when it is at
// or above the threshold and not accepted; an incomplete scan exits 3
// whatever the findings.
func TestBaselineOfAChangingOrganization(t *testing.T) {
	if testing.Short() {
		t.Skip("four live scans")
	}
	const (
		removed  = "arn:aws:ecs:us-east-1:222222222222:task-definition/payments-no-exec:1"
		added    = "arn:aws:ecs:us-east-1:222222222222:task-definition/payments-batch:1"
		failedAc = demo.Analytics
		failedRg = "eu-west-1"
	)
	if _, err := findingsSchema(); err != nil {
		t.Fatal(err)
	}
	dir := configEnv(t, "", nil)

	// Scan 1: the demo organization as it is.
	serveWorld(t, demo.World())
	first := filepath.Join(dir, "first")
	if code, _, stderr := run(t, "", "scan", "--org", "--out", first, "--quiet"); code != ExitOK {
		t.Fatalf("first scan: exit %d:\n%s", code, stderr)
	}
	before := readResult(t, filepath.Join(first, "findings.json"))

	// The organization changes.
	changed := demo.World()
	n := 0
	for _, a := range changed.Accounts {
		for _, r := range a.Regions {
			for i, td := range r.TaskDefinitions {
				if td.ARN == removed {
					nu := *td
					nu.ARN, nu.Family = added, "payments-batch"
					r.TaskDefinitions[i] = &nu
					n++
				}
			}
		}
	}
	if n != 1 {
		t.Fatalf("the demo world has %d %s", n, removed)
	}
	baseline := filepath.Join(first, "findings.json")
	refused := fakeaws.Fault{Account: failedAc, Region: failedRg, Service: "ecs", Code: fakeaws.FaultAccessDenied}

	// Scan 2: the changed organization, with a region that fails.
	serveWorld(t, changed, refused)
	second := filepath.Join(dir, "second")
	code, _, stderr := run(t, "", "scan", "--org", "--out", second, "--baseline", baseline, "--fail-on-new", "critical")
	if code != ExitIncomplete {
		t.Fatalf("second scan: exit %d, want %d (incomplete wins over a new critical finding):\n%s", code, ExitIncomplete, stderr)
	}
	after := readResult(t, filepath.Join(second, "findings.json"))

	// What each finding should be, from the two results.
	was := map[string]findings.Finding{}
	for _, f := range before.Findings {
		was[f.ID] = f
	}
	is := map[string]bool{}
	var wantNew []string
	for _, f := range after.Findings {
		is[f.ID] = true
		if _, ok := was[f.ID]; !ok {
			wantNew = append(wantNew, f.ID)
			if f.ResourceARN != added {
				t.Errorf("a new finding that is not the registered task definition's: %s on %s", f.RuleID, f.ResourceARN)
			}
		}
	}
	var wantFixed, wantUnknown []string
	for id, f := range was {
		switch {
		case is[id]:
		case f.AccountID == failedAc:
			wantUnknown = append(wantUnknown, id)
		case f.ResourceARN == removed:
			wantFixed = append(wantFixed, id)
		default:
			t.Errorf("finding %s %s on %s disappeared for no reason", f.RuleID, id, f.ResourceARN)
		}
	}
	global := 0
	for _, id := range wantUnknown {
		if was[id].Region == "" {
			global++
		}
	}
	if len(wantNew) != 1 || len(wantFixed) != 1 || len(wantUnknown) < 3 || global == 0 {
		t.Fatalf("the scenario: %d new, %d fixed, %d unknown (%d global): want 1, 1, several with a role's", len(wantNew), len(wantFixed), len(wantUnknown), global)
	}

	t.Logf("%d findings before, %d after: 1 new, 1 fixed, %d unknown (%d of them a role's)", len(before.Findings), len(after.Findings), len(wantUnknown), global)
	var gotNew []string
	unchanged := 0
	for _, f := range after.Findings {
		switch f.Change {
		case findings.ChangeNew:
			gotNew = append(gotNew, f.ID)
		case findings.ChangeUnchanged:
			unchanged++
		default:
			t.Errorf("finding %s: change %q", f.ID, f.Change)
		}
	}
	ids := func(ps []findings.PastFinding) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		slices.Sort(out)
		return out
	}
	for _, s := range [][]string{wantNew, gotNew, wantFixed, wantUnknown} {
		slices.Sort(s)
	}
	b := after.Triage.Baseline
	if !slices.Equal(gotNew, wantNew) {
		t.Errorf("new %v, want %v", gotNew, wantNew)
	}
	if got := ids(b.Fixed); !slices.Equal(got, wantFixed) {
		t.Errorf("fixed %v, want %v", got, wantFixed)
	}
	if got := ids(b.Unknown); !slices.Equal(got, wantUnknown) {
		t.Errorf("unknown %v, want %v", got, wantUnknown)
	}
	wantCounts := findings.BaselineCounts{New: 1, Unchanged: len(after.Findings) - 1, Fixed: 1, Unknown: len(wantUnknown)}
	if b.Counts != wantCounts || unchanged != wantCounts.Unchanged {
		t.Errorf("counts %+v, want %+v", b.Counts, wantCounts)
	}
	for _, p := range b.Unknown {
		if !strings.Contains(p.Reason, "account "+failedAc+" region "+failedRg) {
			t.Errorf("unknown %s %s: reason %q", p.RuleID, p.ID, p.Reason)
		}
	}
	if b.Source != baseline || !b.GeneratedAt.Equal(before.GeneratedAt) {
		t.Errorf("baseline %s of %s, want %s of %s", b.Source, b.GeneratedAt, baseline, before.GeneratedAt)
	}
	for _, want := range []string{
		fmt.Sprintf("since %s of %s: 1 new, %d unchanged, 1 fixed, %d unknown (not collected by this scan)\n",
			baseline, before.GeneratedAt.UTC().Format(time.RFC3339), wantCounts.Unchanged, wantCounts.Unknown),
		fmt.Sprintf("audit: warning: %d finding(s) of the baseline are in accounts or regions this scan did not fully collect: their state is unknown\n", wantCounts.Unknown),
		"scan INCOMPLETE: ",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	// Scan 3 onwards: the changed organization, every region answering.
	// Only the new finding (ER001, critical) is new.
	serveWorld(t, changed)
	accept := filepath.Join(dir, "accept.yaml")
	if err := os.WriteFile(accept, []byte("- {rule: ER001, family: payments-batch, justification: a batch job being retired, expires: "+
		time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	third := filepath.Join(dir, "third", "findings.json")
	for _, c := range []struct {
		name, out, baseline string
		args                []string
		code                int
	}{
		{"a new critical", "a", baseline, []string{"--fail-on-new", "critical"}, ExitFindings},
		{"the new critical accepted", "b", baseline, []string{"--fail-on-new", "critical", "--suppressions-file", accept}, ExitOK},
		{"no threshold", "third", baseline, nil, ExitOK},
		{"against the third scan", "fourth", third, []string{"--fail-on-new", "info"}, ExitOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.out)
			args := append([]string{"scan", "--org", "--out", out, "--baseline", c.baseline, "--quiet"}, c.args...)
			if code, _, stderr := run(t, "", args...); code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", code, c.code, stderr)
			}
			res := readResult(t, filepath.Join(out, "findings.json"))
			if !res.Coverage.Complete {
				t.Error("incomplete")
			}
			counts := res.Triage.Baseline.Counts
			want := findings.BaselineCounts{New: 1, Unchanged: len(res.Findings) - 1, Fixed: 1}
			if c.baseline == third {
				want = findings.BaselineCounts{Unchanged: len(res.Findings)}
			}
			if counts != want {
				t.Errorf("counts %+v, want %+v", counts, want)
			}
		})
	}
}
