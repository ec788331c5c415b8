package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/internal/fakeaws"
	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// scaleSpec is make bench's generated Organization (internal/fakeaws) cut
// to 6 accounts: every shape of the 200-account world (Fargate and EC2,
// launches, network paths, resources, an SCP tree) at a size a test
// affords.
var scaleSpec = fakeaws.WorldSpec{Accounts: 6, Regions: []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"},
	TaskDefsPerRegion: 30, ServicesPerRegion: 20, InstancesPerCluster: 10, ClustersPerRegion: 3, Seed: 1}

// TestScaleWorldReports: the generated world, saved as a snapshot and
// loaded back as audit scan --snapshot does, gives the same findings and
// the same bytes in every format as when the golden hashes were recorded
// (testdata/scale-world.sha256). Faster loading, evaluation and streaming
// writers must not change a byte; a deliberate change of findings or of a
// format refreshes the hashes with -update, and the review reads the diff
// of the other goldens.
func TestScaleWorldReports(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates and renders a generated 6-account Organization")
	}
	world := fakeaws.GenerateWorld(scaleSpec)
	data, err := json.MarshalIndent(world, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.DecodeWith(data, "scale.json", inventory.Options{PolicyCheck: func(doc string) error {
		_, err := policy.ParseString("scp", doc)
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Evaluated one account at a time, as audit scan does: the hashes are
	// those of the whole evaluation, which they were recorded with.
	// Into a spool first, as audit scan does: every format written from it
	// has the bytes of the format written from the Result.
	spool := spoolOf(t, inv, findings.Options{ToolVersion: "scale-test"})
	res := findings.EvaluateAccounts(inv, findings.Options{ToolVersion: "scale-test"}, findings.AccountsOptions{Workers: 2, Release: true})
	requireSameReports(t, res, spool)
	if len(res.Findings) < 500 {
		t.Fatalf("%d findings: the generated world has lost its problems", len(res.Findings))
	}
	var lines []string
	lines = append(lines, fmt.Sprintf("findings %d", len(res.Findings)))
	for _, format := range AllFormats {
		var buf bytes.Buffer
		if err := Render(&buf, res, format, Options{}); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		sum := sha256.Sum256(buf.Bytes())
		lines = append(lines, fmt.Sprintf("%s %s %d", format, hex.EncodeToString(sum[:]), buf.Len()))
	}
	golden(t, "scale-world.sha256", []byte(strings.Join(lines, "\n")+"\n"))
}
