package scanner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecs-audit/audit/internal/fakeaws"
	"github.com/ecs-audit/audit/inventory"
)

// BenchmarkOrgScan scans an organization of 200 accounts × 4 regions × 30
// task definitions (with services and container instances) served by
// fakeaws with 20 ms of latency per call and ECS's token buckets. Like every
// benchmark it runs only with -bench; it is long, so use one iteration:
//
//	go test ./scanner -run '^$' -bench BenchmarkOrgScan -benchtime 1x
//
// It reports the wall time, the calls per operation (per scanned
// account×region, next to the minimum for the world: see minimumCalls),
// the peak heap and RSS, a lower bound on the wall time implied by the
// latency, the call dependency chain, the concurrency limits and the rate
// limits (see scanBound), and the ratio of the two.
//
// BENCH_FAKE=process serves the world from a child process (this test
// binary, see serveBenchFake), so that the peak RSS, the heap and the CPU
// time per call are the client's alone; by default the fake shares the
// process. BENCH_HEAPPROFILE=FILE writes a heap profile taken after the scan
// while the inventory is live (inuse_space shows what it retains).
// BENCH_RESOLVE=0 leaves out the resolution of secrets, parameters and
// keys; BENCH_DESCRIBE_EACH=1 resolves secrets and parameters as the
// scanner did before it listed them (DescribeSecret one by one, ten names
// per DescribeParameters), for a before/after comparison; BENCH_ACCOUNTS, BENCH_ACCOUNT_CONCURRENCY and
// BENCH_REGION_CONCURRENCY override the sizes.
func BenchmarkOrgScan(b *testing.B) {
	if testing.Short() {
		b.Skip("long benchmark")
	}
	profile := os.Getenv("BENCH_HEAPPROFILE")
	if profile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	spec := fakeaws.WorldSpec{Accounts: envInt("BENCH_ACCOUNTS", 200),
		Regions:           []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"},
		TaskDefsPerRegion: 30, ServicesPerRegion: 20, InstancesPerCluster: 10, ClustersPerRegion: 3, Seed: 1}
	latency := time.Duration(envInt("BENCH_LATENCY_MS", 20)) * time.Millisecond
	separate := os.Getenv("BENCH_FAKE") == "process"
	srv, cfg := startBenchFake(b, benchFakeSpec{World: spec, Latency: latency, ThrottleECS: true, Seed: 1}, separate)
	cfg.Org = true
	cfg.ResolveResources = os.Getenv("BENCH_RESOLVE") != "0"
	cfg.describeEach = os.Getenv("BENCH_DESCRIBE_EACH") == "1"
	cfg.AccountConcurrency = envInt("BENCH_ACCOUNT_CONCURRENCY", 0)
	cfg.RegionConcurrency = envInt("BENCH_REGION_CONCURRENCY", 0)
	if m := os.Getenv("BENCH_RETRY_MODE"); m != "" {
		cfg.RetryMode = m
	}
	if path := os.Getenv("BENCH_LOG"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		cfg.Logger = slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	norm, err := cfg.normalize()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		srv.reset(b)
		// When the last account's regions are done (before the resource
		// phase and the remaining Organizations lookups).
		var accountsDone time.Duration
		mid := os.Getenv("BENCH_HEAPPROFILE_SCANNED")
		cfg.Progress = func(p Progress) {
			if accountsDone == 0 && p.AccountsTotal > 0 && p.AccountsDone == p.AccountsTotal {
				accountsDone = p.Elapsed
				if mid != "" {
					// What is held when every account is scanned, before
					// resolution.
					runtime.GC()
					writeHeapProfile(b, mid)
				}
			}
		}
		fake0 := srv.stats(b)
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		stop := sampleMemory()
		cpu0 := cpuTime()
		start := time.Now()
		// As audit scan collects: each account spooled as its scan ends
		// (BENCH_SPOOL=0: every account held in memory, as Collect does).
		var inv *inventory.Inventory
		var col *Collection
		if os.Getenv("BENCH_SPOOL") == "0" {
			inv, err = Collect(context.Background(), cfg)
		} else {
			cfg.SpoolDir = b.TempDir()
			col, err = CollectEach(context.Background(), cfg)
		}
		wall := time.Since(start)
		cpu := cpuTime() - cpu0
		heap, sys := stop()
		hwm := vmHWM()
		if err != nil {
			b.Fatal(err)
		}
		if col != nil {
			// What the scan holds when it ends: the Index (stubs and
			// resolved resources). Then the inventory is read back whole
			// for the figures below, after the peak was taken.
			runtime.GC()
			var held runtime.MemStats
			runtime.ReadMemStats(&held)
			b.ReportMetric(float64(held.HeapInuse-min(held.HeapInuse, base.HeapInuse))/(1<<20), "index-live-MiB")
			if profile != "" {
				writeHeapProfile(b, profile) // what the scan holds at its end
				profile = ""
			}
			if inv, err = col.Inventory(); err != nil {
				b.Fatal(err)
			}
			_ = col.Close()
		}
		if len(inv.Errors) != 0 || !inv.Complete {
			b.Fatalf("%d collection errors, e.g. %+v", len(inv.Errors), inv.Errors[0])
		}
		fake := srv.stats(b)
		calls := fake.Calls
		var total int64
		for _, n := range calls {
			total += n
		}
		bound, why := scanBound(inv, norm, latency, calls)
		// In process, the fake server shares the process and the machine:
		// the CPU time both used, spread over the cores, is a second lower
		// bound. In a separate process, the two are apart.
		fakeCPU := fake.CPU - fake0.CPU
		cpuBound := (cpu + fakeCPU) / time.Duration(runtime.GOMAXPROCS(0))
		who := "client and fake server"
		if separate {
			who = "client alone"
		}
		b.ReportMetric(cpu.Seconds(), "cpu-s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(max(total, 1)), "cpu-µs/call")
		b.ReportMetric(wall.Seconds()/max(bound, cpuBound).Seconds(), "actual/max(bound,cpu)")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(bound.Seconds(), "bound-s")
		b.ReportMetric(wall.Seconds()/bound.Seconds(), "actual/bound")
		b.ReportMetric(float64(total), "calls")
		b.ReportMetric(float64(fake.Throttled), "throttled")
		b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(heap-min(heap, base.HeapInuse))/(1<<20), "scan-heap-MiB")
		b.ReportMetric(float64(sys)/(1<<20), "peak-sys-MiB")
		b.ReportMetric(float64(hwm)/(1<<10), "VmHWM-MiB")
		b.Logf("wall %s, bound %s (%s), ratio %.2f; CPU %s (%s per call, %s), CPU bound %s; %d calls, %d throttled; accounts %d, concurrency %d/%d, resources %v",
			wall.Round(time.Millisecond), bound.Round(time.Millisecond), why, wall.Seconds()/bound.Seconds(),
			cpu.Round(time.Millisecond), (cpu / time.Duration(max(total, 1))).Round(time.Microsecond), who, cpuBound.Round(time.Millisecond), total,
			fake.Throttled, len(inv.Accounts), norm.AccountConcurrency, norm.RegionConcurrency, cfg.ResolveResources)
		if separate {
			b.Logf("fake server process: CPU %s (%s per call), peak RSS %d MiB", fakeCPU.Round(time.Millisecond),
				(fakeCPU / time.Duration(max(total, 1))).Round(time.Microsecond), fake.VmHWMKiB>>10)
		}
		keys := make([]string, 0, len(calls))
		for k := range calls {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var sb strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&sb, "  %-45s %7d\n", k, calls[k])
		}
		// What resolving what tasks need costs: the calls per scanned
		// account×region of each resource operation.
		acctRegions := 0
		for _, a := range inv.Accounts {
			for _, r := range a.Regions {
				if r.Status == inventory.RegionScanned {
					acctRegions++
				}
			}
		}
		fmt.Fprintf(&sb, "resource calls per account×region (%d account×regions):\n", acctRegions)
		for _, k := range keys {
			if svc, op, _ := strings.Cut(k, ":"); resourceService[svc] {
				per := float64(calls[k]) / float64(max(acctRegions, 1))
				b.ReportMetric(per, svc+"."+op+"/acct-region")
				fmt.Fprintf(&sb, "  %-45s %7.2f\n", k, per)
			}
		}
		// b.Logf output is cut after a few lines: print the table.
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if profile != "" {
			writeHeapProfile(b, profile)
		}
		b.ReportMetric(float64(after.HeapInuse-min(after.HeapInuse, base.HeapInuse))/(1<<20), "inventory-live-MiB")
		b.ReportMetric(float64(after.HeapAlloc-min(after.HeapAlloc, base.HeapAlloc))/(1<<20), "inventory-objects-MiB")
		js, _ := json.Marshal(inv)
		b.Logf("inventory: %d MiB of JSON, %d MiB live on the heap after the scan (spans in use), %d MiB of it in objects",
			len(js)>>20, (after.HeapInuse-min(after.HeapInuse, base.HeapInuse))>>20, (after.HeapAlloc-min(after.HeapAlloc, base.HeapAlloc))>>20)
		minimum := minimumCalls(inv)
		var minTotal, callTotal int64
		for op, mn := range minimum {
			minTotal += mn
			callTotal += calls[op]
		}
		b.ReportMetric(float64(callTotal)/float64(max(minTotal, 1)), "calls/minimum")
		runtime.KeepAlive(inv)
		accBound := time.Duration(3+(len(inv.Accounts)+19)/20)*latency +
			time.Duration((len(inv.Accounts)+norm.AccountConcurrency-1)/norm.AccountConcurrency)*7*latency
		b.Logf("accounts and regions done after %s; their chain bound %s; ratio %.2f; heap before the scan %d MiB (world and fake server when in process), peak %d MiB",
			accountsDone.Round(time.Millisecond), accBound, accountsDone.Seconds()/accBound.Seconds(), base.HeapInuse>>20, heap>>20)
		fmt.Fprintf(os.Stderr, "calls per operation:\n%s", sb.String())
		fmt.Fprint(os.Stderr, callsTable(calls, minimum, acctRegions))
		fmt.Fprint(os.Stderr, launchPathCalls(inv, calls))
	}
}

// writeHeapProfile writes the heap profile (after a collection) to path.
func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

// resourceService are the services the resource resolution calls.
var resourceService = map[string]bool{"secretsmanager": true, "ssm": true, "kms": true, "ecr": true, "logs": true, "s3": true}

// launchPathCalls is the table of the calls the launch paths and the
// network path add, per scanned account×region.
func launchPathCalls(inv *inventory.Inventory, calls map[string]int64) string {
	pairs := 0
	for _, a := range inv.Accounts {
		for _, r := range a.Regions {
			if r.Status == inventory.RegionScanned {
				pairs++
			}
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "launch paths and network, per scanned account×region (%d):\n", pairs)
	var total int64
	for _, op := range []string{"ecs:ListTasks", "ecs:DescribeTasks", "events:ListEventBuses", "events:ListRuleNamesByTarget",
		"events:ListTargetsByRule", "events:DescribeRule", "scheduler:ListSchedules", "scheduler:GetSchedule",
		"ec2:DescribeSubnets", "ec2:DescribeRouteTables", "ec2:DescribeVpcEndpoints", "ec2:DescribeNatGateways",
		"ec2:DescribeInternetGateways", "ec2:DescribeNetworkInterfaces"} {
		total += calls[op]
		fmt.Fprintf(&sb, "  %-45s %7d  %6.2f\n", op, calls[op], float64(calls[op])/float64(max(pairs, 1)))
	}
	fmt.Fprintf(&sb, "  %-45s %7d  %6.2f\n", "total", total, float64(total)/float64(max(pairs, 1)))
	return sb.String()
}

// scanBound is a lower bound on the wall time of a scan of inv with cfg when
// every call takes latency. It is the larger of:
//
//   - the chain bound: the setup chain (GetCallerIdentity, DescribeOrganization,
//     ListRoots, the ListAccounts pages), then the accounts in waves of
//     AccountConcurrency, each wave lasting at least one account's
//     critical path: AssumeRole → ListRegions → the region chain
//     (ListClusters → DescribeClusters → ListServices → DescribeServices →
//     DescribeTaskDefinition, each link one round trip; the other branches
//     are shorter), then the resource chain (DescribeSecret →
//     GetResourcePolicy, then DescribeKey → GetKeyPolicy; the region's one
//     paged ListAliases runs beside them);
//   - the region-slot bound: account×regions × the region chain /
//     RegionConcurrency;
//   - the rate bounds: per account×region ECS bucket, the calls above the
//     burst at the refill rate (all accounts' buckets fill in parallel, so
//     the largest one counts); for Organizations, whose calls all share one
//     client-side bucket, the calls made above its burst at its rate;
//   - the resource phase: account×regions in waves of RegionConcurrency,
//     each at least DescribeSecret → GetResourcePolicy → DescribeKey →
//     GetKeyPolicy.
//
// It ignores CPU time, which the benchmark machine also spends on the fake
// server.
func scanBound(inv *inventory.Inventory, cfg Config, latency time.Duration, calls map[string]int64) (time.Duration, string) {
	pages := (len(inv.Accounts) + 19) / 20
	setup := time.Duration(3+pages) * latency
	regionChain := 5 * latency
	account := 2*latency + regionChain
	waves := (len(inv.Accounts) + cfg.AccountConcurrency - 1) / cfg.AccountConcurrency

	regions := 0
	worstTD := 0
	for _, a := range inv.Accounts {
		for _, r := range a.Regions {
			if r.Status == inventory.RegionScanned {
				regions++
				worstTD = max(worstTD, len(r.TaskDefinitions)+1)
			}
		}
	}
	resources := time.Duration(0)
	if cfg.ResolveResources {
		resWaves := (regions + cfg.RegionConcurrency - 1) / cfg.RegionConcurrency
		resources = time.Duration(resWaves) * 4 * latency
	}
	chain := setup + time.Duration(waves)*account + resources
	slots := setup + time.Duration(float64(regions)*float64(regionChain)/float64(cfg.RegionConcurrency)) + resources
	rateWait := time.Duration(0)
	if worstTD > int(ecsTaskDefBurst) {
		rateWait = time.Duration(float64(worstTD-int(ecsTaskDefBurst)) / ecsRate * float64(time.Second))
	}
	ecsRateBound := setup + account + rateWait + resources
	var org int64
	for op, n := range calls {
		if strings.HasPrefix(op, "organizations:") {
			org += n
		}
	}
	orgBound := time.Duration(max(float64(org-orgBurst), 0) / orgRate * float64(time.Second))

	bound, why := chain, fmt.Sprintf("chain: setup %s + %d account waves × %s + resources %s", setup, waves, account, resources)
	if slots > bound {
		bound, why = slots, fmt.Sprintf("region slots: %d regions × %s / %d + resources %s", regions, regionChain, cfg.RegionConcurrency, resources)
	}
	if ecsRateBound > bound {
		bound, why = ecsRateBound, "ECS task definition bucket"
	}
	if orgBound > bound {
		bound, why = orgBound, fmt.Sprintf("Organizations bucket: %d calls at %d/s after a burst of %d", org, orgRate, orgBurst)
	}
	return bound, why
}

// sampleMemory samples the heap every 20 ms until the returned function is
// called, which returns the peaks of HeapInuse and Sys.
func sampleMemory() func() (heap, sys uint64) {
	var mu sync.Mutex
	var heap, sys uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		heap, sys = max(heap, ms.HeapInuse), max(sys, ms.Sys)
		mu.Unlock()
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				sample()
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		return heap, sys
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM is the process's peak resident set in KiB (Linux), 0 elsewhere.
// It includes the fake server and the world, which share the process.
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}
