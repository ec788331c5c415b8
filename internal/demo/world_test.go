package demo

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

// testdata/demo/snapshot.json is the demo world as written by `make generate`.
func TestSnapshotUpToDate(t *testing.T) {
	want, err := json.MarshalIndent(World(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../testdata/demo/snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Fatal("testdata/demo/snapshot.json is stale: run make generate")
	}
	if _, err := inventory.Decode(got, "snapshot.json"); err != nil {
		t.Fatal(err)
	}
}

func TestWorldShape(t *testing.T) {
	w := World()
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	tds := 0
	for _, a := range w.Accounts {
		for _, r := range a.Regions {
			tds += len(r.TaskDefinitions)
		}
	}
	if len(w.Accounts) < 3 || tds < 30 {
		t.Fatalf("%d accounts, %d task definitions", len(w.Accounts), tds)
	}
}
