package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
)

// Benchmarks of writing 100,000 synthetic findings (bigResult: 200
// accounts, 6 regions, every severity, needs, decisions, excess grants and
// facts) in each format.
//
//	go test ./report -run '^$' -bench Write -benchtime 1x
//
// TestBenchMemory measures time and peak memory of each format in a
// process of its own (peak RSS from /proc/self/status VmHWM), and fails
// beyond 10 s or 1 GiB. It is slow, so it runs only with AUDIT_BENCH=1:
//
//	AUDIT_BENCH=1 go test ./report -run TestBenchMemory -v

const benchFindings = 100000

var (
	benchOnce sync.Once
	benchRes  *findings.Result
)

// benchResult builds the benchmark's Result once per process.
func benchResult() *findings.Result {
	benchOnce.Do(func() { benchRes = bigResult(benchFindings) })
	return benchRes
}

func BenchmarkWrite(b *testing.B) {
	withCatalog(b)
	res := benchResult()
	for _, f := range Formats() {
		format := f.Name
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var cw countingWriter
				if err := f.write(newView(res), &cw, Options{Stderr: io.Discard}); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(cw.n)/1e6, "MB")
			}
		})
	}
}

// benchMeasurement is one child process's report.
type benchMeasurement struct {
	Format       string  `json:"format"`
	Seconds      float64 `json:"seconds"`
	CPUSeconds   float64 `json:"cpuSeconds"` // user + system, all threads
	Bytes        int64   `json:"bytes"`
	BaselineMiB  float64 `json:"baselineMiB"`  // VmHWM after building the Result
	PeakMiB      float64 `json:"peakMiB"`      // VmHWM after writing
	TotalAllocMB float64 `json:"totalAllocMB"` // allocated while writing
}

func TestBenchMemory(t *testing.T) {
	if format := os.Getenv("AUDIT_BENCH_CHILD"); format != "" {
		benchChild(t, format)
		return
	}
	if os.Getenv("AUDIT_BENCH") != "1" {
		t.Skip("set AUDIT_BENCH=1 to measure time and memory of 100,000 findings per format")
	}
	var rows []string
	for _, format := range AllFormats {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBenchMemory$", "-test.v")
		cmd.Env = append(os.Environ(), "AUDIT_BENCH_CHILD="+format, "AUDIT_BENCH_DIR="+t.TempDir())
		// AUDIT_BENCH_SPOOL=1 (passed on) writes from a findings.Spool.
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", format, err, out)
		}
		var m benchMeasurement
		for _, line := range strings.Split(string(out), "\n") {
			if i := strings.Index(line, "BENCH "); i >= 0 {
				if err := json.Unmarshal([]byte(line[i+6:]), &m); err != nil {
					t.Fatal(err)
				}
			}
		}
		if m.Format != format {
			t.Fatalf("%s: no measurement in\n%s", format, out)
		}
		rows = append(rows, fmt.Sprintf("%-8s %6.2f s (CPU %6.2f s) %8.1f MB  peak RSS %7.1f MiB (baseline %6.1f MiB)  allocated %8.1f MB",
			format, m.Seconds, m.CPUSeconds, float64(m.Bytes)/1e6, m.PeakMiB, m.BaselineMiB, m.TotalAllocMB))
		// The target is on CPU time: wall time on a shared machine says
		// more about the load than about the writer.
		if m.CPUSeconds > 10 {
			t.Errorf("%s used %.1f s of CPU for %d findings, want under 10 s", format, m.CPUSeconds, benchFindings)
		}
		if m.PeakMiB > 1024 {
			t.Errorf("%s peaked at %.0f MiB for %d findings, want under 1 GiB", format, m.PeakMiB, benchFindings)
		}
	}
	t.Logf("%d findings:\n%s", benchFindings, strings.Join(rows, "\n"))
}

// benchChild runs in the child process: build the Result, then write one
// format to a file through Write (atomic write included) and report.
func benchChild(t *testing.T, format string) {
	withCatalog(t)
	res := bigResult(benchFindings)
	src := findings.ResultSource(res)
	if os.Getenv("AUDIT_BENCH_SPOOL") == "1" {
		// As audit scan writes them: from a spool of the accounts' parts,
		// the Result no longer held, the peak counted from here.
		s := spoolByAccount(t, res)
		res, src = nil, s
		runtime.GC()
		debug.FreeOSMemory()
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			t.Skip("cannot reset the peak RSS: ", err)
		}
	}
	runtime.GC()
	base := vmHWM(t)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	dir := os.Getenv("AUDIT_BENCH_DIR")
	cpu0 := cpuTime()
	start := time.Now()
	written, err := WriteSource(src, Options{Formats: []string{format}, OutDir: dir, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	st, err := os.Stat(filepath.Join(dir, FileName(format)))
	if err != nil || len(written) != 1 {
		t.Fatal(err, written)
	}
	m := benchMeasurement{Format: format, Seconds: elapsed.Seconds(), CPUSeconds: cpu.Seconds(), Bytes: st.Size(), BaselineMiB: base, PeakMiB: vmHWM(t),
		TotalAllocMB: float64(after.TotalAlloc-before.TotalAlloc) / 1e6}
	b, _ := json.Marshal(m)
	fmt.Printf("BENCH %s\n", b)
}

// cpuTime is the CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM is the peak resident set size of this process, in MiB.
func vmHWM(t *testing.T) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return float64(kb) / 1024
		}
	}
	t.Fatal("VmHWM not found")
	return 0
}

// spoolByAccount spools res as the parts of its accounts (the findings,
// roles and task definitions of each), as EvaluateAccount would give them.
func spoolByAccount(t *testing.T, res *findings.Result) *findings.Spool {
	s, err := findings.NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	parts := map[string]*findings.Result{}
	var order []string
	part := func(account string) *findings.Result {
		p := parts[account]
		if p == nil {
			h := *res
			h.Findings, h.Roles, h.TaskDefinitions = nil, nil, nil
			h.Scope.Accounts = nil
			for _, a := range res.Scope.Accounts {
				if a.ID == account {
					h.Scope.Accounts = []findings.AccountRef{a}
				}
			}
			p = &h
			parts[account] = p
			order = append(order, account)
		}
		return p
	}
	for _, f := range res.Findings {
		p := part(f.AccountID)
		p.Findings = append(p.Findings, f)
	}
	for _, r := range res.Roles {
		p := part(r.AccountID)
		p.Roles = append(p.Roles, r)
	}
	for _, td := range res.TaskDefinitions {
		p := part(td.AccountID)
		p.TaskDefinitions = append(p.TaskDefinitions, td)
	}
	for i, a := range order {
		if i > 0 {
			// The coverage is the first part's.
			parts[a].Coverage = findings.Coverage{Complete: true}
		}
		if err := s.Add(i, parts[a]); err != nil {
			t.Fatal(err)
		}
		delete(parts, a)
	}
	return s
}
