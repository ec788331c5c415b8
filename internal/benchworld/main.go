// Command benchworld writes the snapshot that make bench analyses offline
// and measures audit analysing it.
//
// The snapshot is a live Organization scan (scanner.Collect through the AWS
// SDK) of internal/fakeaws's generated Organization, served on a loopback
// port without latency or throttling. With the default size (make bench's:
// 200 accounts, 198 of them active, × 4 regions × 30 task definitions) the
// scan keeps 11,088 task definitions, the ones in scope (the latest
// revision of each family and those services and launches use). The world
// is generated from a fixed seed, so two runs write the same inventory
// apart from the collection times. An existing file is kept unless -new.
//
// With -audit BIN, it then runs `BIN scan --snapshot FILE --format all`
// -runs times, each in its own process, and prints each run's wall time,
// CPU time and peak RSS (on Linux the child's VmHWM, watched while it runs:
// its getrusage maximum would include this process's own, see
// rss_linux.go);
// with -memlimit SIZE, as many runs again under GOMEMLIMIT=SIZE.
//
// With -live N,M,… and -audit BIN, it measures the live scan end to end
// for each size: it serves the generated Organization of N accounts from
// this process and runs `BIN scan --org --format all` against it in a
// process of its own, and prints the scan's wall time, CPU time, peak RSS
// (its own, as above: the reports are written in that process, so the
// figure is the whole scan's) and the reports' size.
//
//	go run ./internal/benchworld -out bin/bench-snapshot.json -audit bin/audit
//	go run ./internal/benchworld -audit bin/audit -live 200,2000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/ecs-audit/audit/internal/fakeaws"
	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/scanner"
)

func main() {
	out := flag.String("out", "", "snapshot file to write (required)")
	accounts := flag.Int("accounts", 200, "accounts in the generated Organization")
	fresh := flag.Bool("new", false, "write the snapshot even when the file exists")
	bin := flag.String("audit", "", "audit binary to measure on the snapshot (none: only write it)")
	runs := flag.Int("runs", 3, "measured runs of -audit")
	memLimit := flag.String("memlimit", "", "also measure -runs runs with GOMEMLIMIT set to this (e.g. 350MiB)")
	live := flag.String("live", "", "comma-separated sizes (accounts): measure -audit's live scan of each generated Organization, end to end")
	flag.Parse()
	sizes, serr := parseSizes(*live)
	if serr != nil || (*out == "" && *live == "") || (*live != "" && *bin == "") || flag.NArg() != 0 || *runs < 1 {
		if serr != nil {
			fmt.Fprintln(os.Stderr, "benchworld: -live:", serr)
		}
		fmt.Fprintln(os.Stderr, "usage: benchworld -out FILE [-accounts N] [-new] [-audit BIN [-runs N] [-memlimit SIZE]]\n       benchworld -audit BIN -live N,M,...")
		os.Exit(2)
	}
	if *live != "" {
		for _, n := range sizes {
			if err := measureLive(*bin, n); err != nil {
				fmt.Fprintln(os.Stderr, "benchworld:", err)
				os.Exit(1)
			}
		}
		if *out == "" {
			return
		}
	}
	_, err := os.Stat(*out)
	switch {
	case err == nil && !*fresh:
		fmt.Fprintf(os.Stderr, "benchworld: %s exists (-new writes it again)\n", *out)
	case err == nil || errors.Is(err, fs.ErrNotExist):
		err = write(*out, *accounts)
	}
	if err == nil && *bin != "" {
		err = measure(*bin, *out, *runs, "")
	}
	if err == nil && *bin != "" && *memLimit != "" {
		err = measure(*bin, *out, *runs, *memLimit)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchworld:", err)
		os.Exit(1)
	}
}

// Spec is make bench's generated Organization with n accounts.
func spec(n int) fakeaws.WorldSpec {
	return fakeaws.WorldSpec{Accounts: n, Regions: []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"},
		TaskDefsPerRegion: 30, ServicesPerRegion: 20, InstancesPerCluster: 10, ClustersPerRegion: 3, Seed: 1}
}

// serve serves the generated Organization of n accounts on a loopback
// port; close the server when done.
func serve(n int) (*fakeaws.Server, string, error) {
	srv, err := fakeaws.New(fakeaws.GenerateWorld(spec(n)), fakeaws.Options{Seed: 1})
	if err != nil {
		return nil, "", fmt.Errorf("generated world: %w", err)
	}
	url, err := srv.Start()
	if err != nil {
		return nil, "", fmt.Errorf("starting the fake AWS endpoint: %w", err)
	}
	return srv, url, nil
}

func write(out string, accounts int) error {
	start := time.Now()
	srv, url, err := serve(accounts)
	if err != nil {
		return err
	}
	defer srv.Close()
	ak, sk := srv.CallerCredentials()
	inv, err := scanner.Collect(context.Background(), scanner.Config{
		Org: true, Region: "us-east-1", BaseEndpoint: url, Credentials: scanner.StaticCredentials(ak, sk),
		ResolveResources: true, ToolVersion: "benchworld",
	})
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	if len(inv.Errors) != 0 || !inv.Complete {
		return fmt.Errorf("scan incomplete: %d collection errors", len(inv.Errors))
	}
	inv.Scope.Source = "benchworld"
	var tds int
	for _, a := range inv.Accounts {
		for _, r := range a.Regions {
			tds += len(r.TaskDefinitions)
		}
	}
	if err := inventory.Save(out, inv); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "benchworld: %s: %d accounts, %d task definitions (%s)\n", out, len(inv.Accounts), tds, time.Since(start).Round(time.Millisecond))
	return nil
}

// measure runs audit on the snapshot, each run in its own process, and
// prints wall time, CPU time and peak RSS; with memLimit, under that
// GOMEMLIMIT (Go's soft memory limit).
func measure(bin, snapshot string, runs int, memLimit string) error {
	dir, err := os.MkdirTemp("", "benchworld-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := os.Stat(snapshot)
	if err != nil {
		return err
	}
	limit := ""
	if memLimit != "" {
		limit = ", GOMEMLIMIT=" + memLimit
	}
	fmt.Printf("offline analysis: audit scan --snapshot %s (%.0f MB) --format all%s, %d runs, %d CPUs, load average %s\n",
		snapshot, float64(st.Size())/1e6, limit, runs, runtime.NumCPU(), loadAverage())
	for i := range runs {
		out := filepath.Join(dir, fmt.Sprintf("run%d", i))
		cmd := exec.Command(bin, "scan", "--snapshot", snapshot, "--format", "all", "--out", out, "--quiet")
		cmd.Stderr = os.Stderr
		cmd.Env = os.Environ()
		if memLimit != "" {
			cmd.Env = append(cmd.Env, "GOMEMLIMIT="+memLimit)
		}
		m, err := run(cmd, out)
		if err != nil {
			return fmt.Errorf("%s: %w", bin, err)
		}
		fmt.Printf("run %d: %s\n", i+1, m)
		os.RemoveAll(out)
	}
	fmt.Printf("load average after: %s\n", loadAverage())
	return nil
}

// loadAverage is /proc/loadavg's first three fields, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	var a, b5, c string
	if n, _ := fmt.Sscan(string(b), &a, &b5, &c); n != 3 {
		return "unknown"
	}
	return a + " " + b5 + " " + c
}

// measured is what run measured of one audit process.
type measured struct {
	wall  time.Duration
	ps    *os.ProcessState
	peak  int64 // bytes
	bytes int64 // the reports written
}

func (m measured) String() string {
	return fmt.Sprintf("wall %.2f s, CPU %.2f s (user %.2f s, system %.2f s), peak RSS %d MiB, reports %.0f MB",
		m.wall.Seconds(), (m.ps.UserTime() + m.ps.SystemTime()).Seconds(), m.ps.UserTime().Seconds(), m.ps.SystemTime().Seconds(),
		m.peak>>20, float64(m.bytes)/1e6)
}

// run runs cmd, which writes its reports to the directory out, watching
// its peak RSS. Exit codes 0 and 1 (findings at or above --fail-on) are a
// complete run; anything else is an error.
func run(cmd *exec.Cmd, out string) (measured, error) {
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return measured{}, err
	}
	stop := watchPeak(cmd.Process.Pid)
	err := cmd.Wait()
	m := measured{wall: time.Since(start), ps: cmd.ProcessState}
	m.peak = stop(cmd.ProcessState)
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return m, err
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return m, fmt.Errorf("the reports: %w", err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			m.bytes += info.Size()
		}
	}
	return m, nil
}
