package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecs-audit/audit/internal/fakeaws"
	"github.com/ecs-audit/audit/inventory"
)

// Ctrl-C (a cancelled context) stops the scan, and what was collected is
// still written, marked incomplete, with exit code 3.
func TestScanInterruptedWritesPartialResults(t *testing.T) {
	world := fakeaws.GenerateWorld(fakeaws.WorldSpec{Accounts: 12, Regions: []string{"us-east-1", "eu-west-1"}, TaskDefsPerRegion: 6,
		ServicesPerRegion: 3, ClustersPerRegion: 1, InstancesPerCluster: 2, Seed: 3})
	srv, err := fakeaws.New(world, fakeaws.Options{Seed: 3, Latency: 40 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ak, sk := srv.CallerCredentials()
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk, "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"),
		"AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	out := filepath.Join(dir, "out")
	snap := filepath.Join(dir, "partial.json")
	var stdout, stderr bytes.Buffer
	code := Run(ctx, []string{"scan", "--org", "--out", out, "--save-snapshot", snap, "--account-concurrency", "2", "--region-concurrency", "2"},
		strings.NewReader(""), &stdout, &stderr)
	if code != ExitIncomplete {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitIncomplete, stderr.String())
	}
	inv, err := inventory.Load(snap)
	if err != nil {
		t.Fatalf("partial snapshot: %v", err)
	}
	if inv.Complete || inv.Interrupted == "" {
		t.Errorf("snapshot not marked incomplete: complete=%v interrupted=%q", inv.Complete, inv.Interrupted)
	}
	b, err := os.ReadFile(filepath.Join(out, "findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Coverage struct {
			Complete bool
			Errors   []inventory.CollectionError
		}
	}
	if err := json.Unmarshal(b, &res); err != nil || res.Coverage.Complete {
		t.Errorf("findings.json coverage says complete (err %v)", err)
	}
	// The coverage lists exactly what was not collected: every account
	// without IAM, every region without data, and nothing but interrupted
	// calls.
	listed := map[string]bool{}
	for _, e := range res.Coverage.Errors {
		if e.Code != "Interrupted" {
			t.Errorf("coverage error %+v, want only Interrupted", e)
		}
		listed[e.AccountID] = true
		listed[e.AccountID+"/"+e.Region] = true
	}
	if len(res.Coverage.Errors) != len(inv.Errors) || len(inv.Errors) == 0 {
		t.Errorf("coverage lists %d errors, the snapshot %d", len(res.Coverage.Errors), len(inv.Errors))
	}
	for _, a := range inv.Accounts {
		if a.IAM == nil && !listed[a.ID] {
			t.Errorf("account %s: IAM not collected and nothing says why", a.ID)
		}
		for _, r := range a.Regions {
			if r.Status == inventory.RegionFailed && !listed[a.ID+"/"+r.Name] {
				t.Errorf("account %s region %s: not collected and nothing says why", a.ID, r.Name)
			}
		}
	}
}
