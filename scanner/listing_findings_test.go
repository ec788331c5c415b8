package scanner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/internal/demo"
	"github.com/ecs-audit/audit/internal/fakeaws"
	"github.com/ecs-audit/audit/inventory"
)

// TestListingFindingsUnchanged scans the demo organization and a generated
// one (the bench's shape, fewer accounts) through fakeaws twice: resolving
// secrets and parameters with the listings (ListSecrets name filters,
// DescribeParameters of up to 50 names), and one by one as the scanner did
// before (DescribeSecret per secret, ten names per DescribeParameters). The
// findings — IDs, messages, coverage, summary: the whole findings.json but
// its times — must be the same, and the listings must have saved calls.
func TestListingFindingsUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("two scans per world skipped in -short mode")
	}
	isolateEnv(t)
	worlds := []struct {
		name  string
		world func() *inventory.Inventory
	}{
		{"demo", demo.World},
		{"generated", generatedWorld},
	}
	for _, w := range worlds {
		t.Run(w.name, func(t *testing.T) {
			scan := func(describeEach bool) ([]byte, *findings.Result, map[string]int64) {
				srv, cfg := fakeServer(t, w.world(), fakeaws.Options{Seed: 12})
				cfg.Org, cfg.ResolveResources, cfg.describeEach = true, true, describeEach
				inv, err := Collect(context.Background(), cfg)
				if err != nil {
					t.Fatalf("describeEach=%v: Collect: %v", describeEach, err)
				}
				if !inv.Complete {
					t.Fatalf("describeEach=%v: incomplete: %s", describeEach, inv.Interrupted)
				}
				opts := findings.Options{ToolVersion: "test", Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
				res := findings.Evaluate(inv, opts)
				res.GeneratedAt, res.Scope.CollectedAt = time.Time{}, time.Time{} // when, not what
				b, err := json.MarshalIndent(res, "", " ")
				if err != nil {
					t.Fatal(err)
				}
				// One account at a time (as audit scan evaluates), the
				// findings are the same.
				byAccount := findings.EvaluateAccounts(inv, opts, findings.AccountsOptions{Workers: 2, Release: true})
				byAccount.GeneratedAt, byAccount.Scope.CollectedAt = time.Time{}, time.Time{}
				if ba, _ := json.MarshalIndent(byAccount, "", " "); !bytes.Equal(ba, b) {
					t.Errorf("describeEach=%v: evaluated one account at a time, the findings differ:\n%s", describeEach, firstDiff(ba, b))
				}
				return b, res, srv.Calls()
			}
			eachJSON, each, eachCalls := scan(true)
			listJSON, listed, listCalls := scan(false)
			if len(each.Findings) == 0 || len(each.Coverage.Collected) == 0 {
				t.Fatalf("nothing to compare: %d findings, %d collected", len(each.Findings), len(each.Coverage.Collected))
			}
			if !bytes.Equal(listJSON, eachJSON) {
				t.Errorf("the findings differ:\n%s", firstDiff(listJSON, eachJSON))
				ids := func(r *findings.Result) map[string]bool {
					m := map[string]bool{}
					for _, f := range r.Findings {
						m[f.ID] = true
					}
					return m
				}
				li, ei := ids(listed), ids(each)
				for id := range li {
					if !ei[id] {
						t.Errorf("only with the listings: %s", id)
					}
				}
				for id := range ei {
					if !li[id] {
						t.Errorf("only one by one: %s", id)
					}
				}
			}
			// The listings replaced the per-secret lookups and the smaller
			// parameter batches.
			if eachCalls["secretsmanager:DescribeSecret"] == 0 || eachCalls["secretsmanager:ListSecrets"] != 0 {
				t.Errorf("one by one: %d DescribeSecret, %d ListSecrets calls", eachCalls["secretsmanager:DescribeSecret"], eachCalls["secretsmanager:ListSecrets"])
			}
			if listCalls["secretsmanager:ListSecrets"] == 0 ||
				listCalls["secretsmanager:ListSecrets"]+listCalls["secretsmanager:DescribeSecret"] >= eachCalls["secretsmanager:DescribeSecret"] {
				t.Errorf("listed: %d ListSecrets and %d DescribeSecret calls for %d DescribeSecret calls one by one",
					listCalls["secretsmanager:ListSecrets"], listCalls["secretsmanager:DescribeSecret"], eachCalls["secretsmanager:DescribeSecret"])
			}
			if listCalls["ssm:DescribeParameters"] > eachCalls["ssm:DescribeParameters"] {
				t.Errorf("listed: %d DescribeParameters calls, one by one %d", listCalls["ssm:DescribeParameters"], eachCalls["ssm:DescribeParameters"])
			}
			t.Logf("secretsmanager calls: listed %d+%d (List+Describe), one by one %d; DescribeParameters: %d and %d",
				listCalls["secretsmanager:ListSecrets"], listCalls["secretsmanager:DescribeSecret"], eachCalls["secretsmanager:DescribeSecret"],
				listCalls["ssm:DescribeParameters"], eachCalls["ssm:DescribeParameters"])
		})
	}
}

// firstDiff shows where two texts first differ, with some context.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-300)
	return fmt.Sprintf("at byte %d:\n--- listed\n%s\n--- one by one\n%s", i, a[from:min(len(a), i+300)], b[from:min(len(b), i+300)])
}
