package inventory_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

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

// BenchmarkLoadLarge loads the scanner benchmark's organization (200
// accounts, 4 regions, 30 task definitions, 20 services and 3 clusters of 10
// instances per region) as a snapshot.
func BenchmarkLoadLarge(b *testing.B) {
	w := fakeaws.GenerateWorld(fakeaws.WorldSpec{Accounts: 200, Regions: []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"},
		TaskDefsPerRegion: 30, ServicesPerRegion: 20, InstancesPerCluster: 10, ClustersPerRegion: 3, Seed: 1})
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(w); err != nil {
		b.Fatal(err)
	}
	benchDecode(b, buf.Bytes())
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
