package scanner

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ecs-audit/audit/internal/fakeaws"
	"github.com/ecs-audit/audit/inventory"
)

// deadEndpointRun is one scan of an account with 200 task definitions
// (every revision described) whose endpoint dies mid-scan: fakeaws is closed
// once killAfter DescribeTaskDefinition calls have been made.
type deadEndpointRun struct {
	world, inv *inventory.Inventory
	endpoint   string
	err        error
	// afterDeath is the time from the endpoint's death to Collect's return.
	afterDeath time.Duration
	// described is how many DescribeTaskDefinition calls the server saw.
	described int64
}

func deadEndpointScan(t testing.TB, killAfter int64) deadEndpointRun {
	t.Helper()
	world := fakeaws.GenerateWorld(fakeaws.WorldSpec{Accounts: 1, Regions: []string{"us-east-1"},
		TaskDefsPerRegion: 200, ServicesPerRegion: 10, ClustersPerRegion: 1, InstancesPerCluster: 2, Seed: 8})
	srv, cfg := fakeServer(t, world, fakeaws.Options{Seed: 8, Latency: 20 * time.Millisecond, ThrottleECS: true})
	cfg.Regions = []string{"us-east-1"}
	cfg.AllRevisions, cfg.ResolveResources = true, true

	died := make(chan time.Time, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if srv.Calls()["ecs:DescribeTaskDefinition"] >= killAfter {
				_ = srv.Close()
				died <- time.Now()
				return
			}
		}
	}()
	// A generous bound, so that a regression fails instead of hanging.
	sctx, scancel := context.WithTimeout(ctx, 5*time.Minute)
	defer scancel()
	inv, err := Collect(sctx, cfg)
	end := time.Now()
	run := deadEndpointRun{world: world, inv: inv, endpoint: strings.TrimPrefix(cfg.BaseEndpoint, "http://"), err: err,
		described: srv.Calls()["ecs:DescribeTaskDefinition"]}
	select {
	case d := <-died:
		run.afterDeath = end.Sub(d)
	default:
		t.Fatalf("the scan finished before the endpoint died (%d task definitions described)", run.described)
	}
	return run
}

// TestDeadEndpointMidScan: when the endpoint stops answering mid-scan, the
// scan finishes (it does not retry every queued call ten times), and every
// task definition it did not collect is listed in the errors, naming the
// endpoint and saying what happened to it (not "credentials").
func TestDeadEndpointMidScan(t *testing.T) {
	if testing.Short() {
		t.Skip("starts fakeaws")
	}
	isolateEnv(t)
	r := deadEndpointScan(t, 60)
	if r.err != nil {
		t.Fatalf("Collect: %v", r.err)
	}
	t.Logf("endpoint died after %d DescribeTaskDefinition calls; the scan finished %s later with %d errors",
		r.described, r.afterDeath.Round(time.Millisecond), len(r.inv.Errors))
	if r.inv.Interrupted != "" {
		t.Fatalf("the scan ran into its deadline (%q) instead of giving up on the dead endpoint", r.inv.Interrupted)
	}
	got := map[string]bool{}
	for _, a := range r.inv.Accounts {
		for _, reg := range a.Regions {
			for _, td := range reg.TaskDefinitions {
				got[td.ARN] = true
			}
		}
	}
	listed := map[string]bool{}
	for _, e := range r.inv.Errors {
		if e.Code == CodeEndpointUnreachable && !strings.Contains(e.Message, r.endpoint) {
			t.Errorf("error does not name the endpoint %s: %+v", r.endpoint, e)
		}
		if strings.Contains(e.Message, "credentials") {
			t.Errorf("a dead endpoint reported as a credentials problem: %+v", e)
		}
		if e.Operation == "DescribeTaskDefinition" {
			listed[e.Resource] = true
		}
	}
	missing := 0
	for _, reg := range r.world.Accounts[0].Regions {
		for _, td := range reg.TaskDefinitions {
			if td.Status != "ACTIVE" || got[td.ARN] {
				continue
			}
			missing++
			if !listed[td.ARN] {
				t.Errorf("task definition %s was neither collected nor listed as not collected", td.ARN)
			}
		}
	}
	if missing == 0 {
		t.Errorf("every task definition was collected: the endpoint did not die mid-scan")
	}
	if len(got) == 0 {
		t.Errorf("nothing collected before the endpoint died")
	}
}

// BenchmarkDeadEndpoint measures the time from the endpoint's death to the
// end of the scan (the README's time-to-fail figure):
//
//	go test ./scanner -run '^$' -bench BenchmarkDeadEndpoint -benchtime 3x
func BenchmarkDeadEndpoint(b *testing.B) {
	if testing.Short() {
		b.Skip("starts fakeaws")
	}
	var total time.Duration
	for range b.N {
		r := deadEndpointScan(b, 60)
		if r.err != nil {
			b.Fatal(r.err)
		}
		total += r.afterDeath
		b.Logf("died after %d DescribeTaskDefinition calls; finished %s later, %d errors",
			r.described, r.afterDeath.Round(time.Millisecond), len(r.inv.Errors))
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-after-death")
}
