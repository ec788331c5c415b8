package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/internal/mototest"
)

// The acceptance scenario of the live scan against an independent AWS
// emulator: AWS_ENDPOINT_URL=<moto> audit scan --org --regions us-east-1
// --out DIR writes DIR/findings.json with findings for every member account.
func TestScanOrgAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	srv := mototest.Start(t) // skips locally without moto_server; fails in CI
	mototest.Env(t, srv.URL)
	org := mototest.BuildOrg(t, context.Background())

	dir := t.TempDir()
	code, _, stderr := run(t, "", "scan", "--org", "--regions", "us-east-1", "--out", dir, "--format", "json,sarif", "--quiet")
	if code != ExitOK {
		t.Fatalf("audit scan exit %d:\n%s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "findings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Coverage struct {
			Complete bool
			Errors   []json.RawMessage
		}
		Findings []struct {
			RuleID, AccountID, Message string
		}
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if !res.Coverage.Complete || len(res.Coverage.Errors) != 0 {
		t.Errorf("coverage: %+v", res.Coverage)
	}
	for _, acct := range org.Members {
		rules := map[string]bool{}
		for _, f := range res.Findings {
			if f.AccountID == acct {
				rules[f.RuleID] = true
				if strings.Contains(f.Message, "wJalrXUtnFEMI") || strings.Contains(f.Message, "do-not-copy") {
					t.Fatalf("a secret value leaked into a finding: %s", f.Message)
				}
			}
		}
		// Each member's web task definition sets AWS_SECRET_ACCESS_KEY in plain
		// text, and its execution role's trust policy has no conditions.
		for _, want := range []string{"TD001", "ER008"} {
			if !rules[want] {
				t.Errorf("account %s: no %s finding (rules found: %v)", acct, want, rules)
			}
		}
	}
	for _, f := range []string{"findings.json", "findings.sarif"} {
		out, _ := os.ReadFile(filepath.Join(dir, f))
		if strings.Contains(string(out), "do-not-copy") || strings.Contains(string(out), "wJalrXUtnFEMI") {
			t.Errorf("%s contains a secret value", f)
		}
	}
}
