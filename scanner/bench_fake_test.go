package scanner

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ecs-audit/audit/internal/fakeaws"
)

// envBenchFake, when set in the environment of this test binary, makes it
// the benchmark's fake endpoint process instead of running tests: it holds
// the JSON of a benchFakeSpec. BenchmarkOrgScan starts it with
// BENCH_FAKE=process, so that the scan's memory and CPU figures are the
// client's alone.
const envBenchFake = "AUDIT_BENCH_FAKE_PROCESS"

// benchFakePrefix starts the child's answer lines on its standard output
// (the test binary may print other lines).
const benchFakePrefix = "BENCHFAKE "

// benchFakeSpec is what the child serves.
type benchFakeSpec struct {
	World       fakeaws.WorldSpec
	Latency     time.Duration
	ThrottleECS bool
	Seed        int64
}

// benchFakeStats are the child's counters, and its CPU time and peak RSS.
type benchFakeStats struct {
	Calls     map[string]int64
	Throttled int64
	CPU       time.Duration
	VmHWMKiB  int64
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(envBenchFake); spec != "" {
		os.Exit(serveBenchFake(spec, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// serveBenchFake generates the world, starts fakeaws and answers commands
// read line by line from in ("stats", "reset") until in ends. The first
// answer is the endpoint: {"URL","AccessKeyID","SecretAccessKey"}.
func serveBenchFake(specJSON string, in io.Reader, out io.Writer) int {
	var spec benchFakeSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "bench fake:", err)
		return 2
	}
	srv, err := fakeaws.New(fakeaws.GenerateWorld(spec.World), fakeaws.Options{Latency: spec.Latency, ThrottleECS: spec.ThrottleECS, Seed: spec.Seed})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench fake:", err)
		return 2
	}
	url, err := srv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench fake:", err)
		return 2
	}
	defer srv.Close()
	ak, sk := srv.CallerCredentials()
	answer := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(out, "%s%s\n", benchFakePrefix, b)
	}
	answer(map[string]string{"URL": url, "AccessKeyID": ak, "SecretAccessKey": sk})
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		switch sc.Text() {
		case "reset":
			srv.ResetCounters()
			answer("ok")
		case "stats":
			answer(benchFakeStats{Calls: srv.Calls(), Throttled: srv.ThrottledCalls(), CPU: cpuTime(), VmHWMKiB: vmHWM()})
		default:
			answer("unknown command")
		}
	}
	return 0
}

// benchFake is the benchmark's endpoint: a server in this process, or a
// child process running serveBenchFake.
type benchFake struct {
	srv *fakeaws.Server // in this process

	cmd *exec.Cmd // the child
	in  io.WriteCloser
	out *bufio.Scanner
}

// startBenchFake starts the endpoint and returns it with a Config that
// points the scanner at it.
func startBenchFake(b *testing.B, spec benchFakeSpec, process bool) (*benchFake, Config) {
	b.Helper()
	if !process {
		srv, cfg := fakeServer(b, fakeaws.GenerateWorld(spec.World), fakeaws.Options{Latency: spec.Latency, ThrottleECS: spec.ThrottleECS, Seed: spec.Seed})
		return &benchFake{srv: srv}, cfg
	}
	js, err := json.Marshal(spec)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), envBenchFake+"="+string(js))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	f := &benchFake{cmd: cmd, in: in, out: bufio.NewScanner(outPipe)}
	f.out.Buffer(make([]byte, 1<<16), 1<<24)
	b.Cleanup(f.close)
	var ep struct{ URL, AccessKeyID, SecretAccessKey string }
	if err := f.read(&ep); err != nil {
		b.Fatalf("bench fake process: %v", err)
	}
	return f, Config{
		BaseEndpoint: ep.URL,
		Credentials:  credentials.NewStaticCredentialsProvider(ep.AccessKeyID, ep.SecretAccessKey, ""),
		Region:       "us-east-1",
	}
}

// read decodes the child's next answer.
func (f *benchFake) read(v any) error {
	for f.out.Scan() {
		if rest, ok := strings.CutPrefix(f.out.Text(), benchFakePrefix); ok {
			return json.Unmarshal([]byte(rest), v)
		}
	}
	if err := f.out.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}

func (f *benchFake) command(b *testing.B, cmd string, v any) {
	b.Helper()
	if _, err := fmt.Fprintln(f.in, cmd); err != nil {
		b.Fatalf("bench fake process: %v", err)
	}
	if err := f.read(v); err != nil {
		b.Fatalf("bench fake process: %s: %v", cmd, err)
	}
}

func (f *benchFake) reset(b *testing.B) {
	if f.srv != nil {
		f.srv.ResetCounters()
		return
	}
	var ok string
	f.command(b, "reset", &ok)
}

// stats are the counters; CPU and VmHWMKiB are the child's (zero in
// process).
func (f *benchFake) stats(b *testing.B) benchFakeStats {
	if f.srv != nil {
		return benchFakeStats{Calls: f.srv.Calls(), Throttled: f.srv.ThrottledCalls()}
	}
	var st benchFakeStats
	f.command(b, "stats", &st)
	return st
}

func (f *benchFake) close() {
	if f.cmd == nil {
		return
	}
	_ = f.in.Close()
	done := make(chan struct{})
	go func() { _ = f.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = f.cmd.Process.Kill()
		<-done
	}
	f.cmd = nil
}
