package inventory_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/ecs-audit/audit/internal/fakeaws"
	"github.com/ecs-audit/audit/inventory"
)

// BenchmarkLoadDemo loads testdata/demo/snapshot.json.
func BenchmarkLoadDemo(b *testing.B) {
	data, err := os.ReadFile("../testdata/demo/snapshot.json")
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, data)
}

// largeWorld is the scanner benchmark's organization (200 accounts, 4
// regions, 30 task definitions, 20 services and 3 clusters of 10
// instances per region) as a snapshot.
func largeWorld(b *testing.B) []byte {
	w := fakeaws.GenerateWorld(fakeaws.WorldSpec{Accounts: 200, Regions: []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"},
		TaskDefsPerRegion: 30, ServicesPerRegion: 20, InstancesPerCluster: 10, ClustersPerRegion: 3, Seed: 1})
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(w); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkLoadLarge loads largeWorld from memory.
func BenchmarkLoadLarge(b *testing.B) {
	benchDecode(b, largeWorld(b))
}

func benchDecode(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := inventory.Decode(data, "bench.json"); err != nil {
			b.Fatal(err)
		}
	}
}

// The file benchmarks read AUDIT_BENCH_SNAPSHOT when it is set (such as
// the file make bench writes, bin/bench-snapshot.json), else largeWorld
// written to a file. They report the peak of the live heap and of the
// memory the runtime holds, sampled every millisecond (the second counts
// what the runtime kept from generating the large world: it means
// something with AUDIT_BENCH_SNAPSHOT, and one benchmark per process).

// BenchmarkLoadFile is Load of the file.
func BenchmarkLoadFile(b *testing.B) {
	path := benchFile(b)
	benchPeak(b, path, func() {
		if _, err := inventory.Load(path); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkStream is OpenStream and Accounts over the file, visiting
// every account and doing nothing with it.
func BenchmarkStream(b *testing.B) {
	path := benchFile(b)
	benchPeak(b, path, func() {
		s, err := inventory.OpenStream(path, inventory.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		if err := s.Accounts(func(int, *inventory.Account) error { return nil }); err != nil {
			b.Fatal(err)
		}
	})
}

func benchFile(b *testing.B) string {
	if p := os.Getenv("AUDIT_BENCH_SNAPSHOT"); p != "" {
		return p
	}
	p := filepath.Join(b.TempDir(), "bench.json")
	if err := os.WriteFile(p, largeWorld(b), 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

// benchPeak runs read of the file at path in the benchmark loop and
// reports the peak heap.
func benchPeak(b *testing.B, path string, read func()) {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	// Twice: the first moves what sync.Pools hold (encoding/json's buffer
	// from writing the large world) to their victim caches, the second
	// frees it.
	runtime.GC()
	runtime.GC()
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	var live, total uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(samples)
			live = max(live, samples[0].Value.Uint64())
			total = max(total, samples[1].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	for b.Loop() {
		read()
	}
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(live)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(total)/(1<<20), "peak-runtime-MiB")
}
