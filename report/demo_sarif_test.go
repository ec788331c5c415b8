package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
)

// The SARIF of the demo organization's scan: valid against the 2.1.0
// schema, one run, no artifact URI with a scheme, a security-severity on
// every rule, and the same fingerprints on a second, independent run.
func TestDemoSARIF(t *testing.T) {
	inv, err := inventory.Load("../testdata/demo/snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	write := func() []byte {
		res := findings.Evaluate(inv, findings.Options{ToolVersion: "test"})
		var b bytes.Buffer
		if err := WriteSARIF(&b, res, Options{}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	first, second := write(), write()
	validateSARIF(t, first)
	var doc struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID         string         `json:"id"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	fingerprints := func(b []byte) []string {
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		var fp []string
		for _, r := range doc.Runs[0].Results {
			fp = append(fp, r.RuleID+"="+r.PartialFingerprints["auditFingerprint/v1"])
		}
		return fp
	}
	fp2 := fingerprints(second)
	fp1 := fingerprints(first)
	if len(doc.Runs) != 1 {
		t.Fatalf("%d runs", len(doc.Runs))
	}
	if strings.Join(fp1, ",") != strings.Join(fp2, ",") || len(fp1) == 0 {
		t.Fatal("fingerprints differ between two runs of the same scan")
	}
	if got, want := len(doc.Runs[0].Tool.Driver.Rules), len(findings.Catalog()); got != want {
		t.Errorf("%d rules in the driver, %d in the catalog", got, want)
	}
	for _, r := range doc.Runs[0].Tool.Driver.Rules {
		if s, _ := r.Properties["security-severity"].(string); s == "" {
			t.Errorf("rule %s has no security-severity", r.ID)
		}
	}
	for _, r := range doc.Runs[0].Results {
		for _, l := range r.Locations {
			u := l.PhysicalLocation.ArtifactLocation.URI
			if u == "" || strings.Contains(u, "://") || strings.HasPrefix(u, "arn:") || strings.Contains(u, ":") {
				t.Errorf("artifact URI %q has a scheme or is empty", u)
			}
		}
	}
}
