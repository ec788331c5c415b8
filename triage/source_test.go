package triage

import (
	"reflect"
	"testing"

	"github.com/ecs-audit/audit/findings"
)

// Annotate, reading a Source once and annotating its findings as they are
// read, gives what Apply then Compare give the Result: the same findings
// with the same Suppression, SuppressionExpired and Change, the same
// Triage, and the same failing counts.
func TestAnnotateSource(t *testing.T) {
	res := demoResult(t)
	set := mustParse(t, `suppressions:
  - rule: ER006
    role: payments-ledger-exec
    justification: Ledger reads every secret of its prefix until PAY-77 splits them.
    owner: payments@example.com
    expires: 2027-06-30
  - rule: "*"
    account: "222222222222"
    justification: Everything in the sandbox.
    expires: 2020-01-31
  - rule: TD001
    family: no-such-family
    justification: Left over from a deleted service.
    expires: 2027-01-31
`, now)
	// A baseline with every other finding of the Result, and one that is
	// gone.
	old := *res
	old.Findings = nil
	for i := range res.Findings {
		if i%2 == 0 {
			old.Findings = append(old.Findings, res.Findings[i])
		}
	}
	gone := res.Findings[0]
	gone.ID, gone.MemberIDs = "gone-finding", nil
	old.Findings = append(old.Findings, gone)
	base := mustBaseline(t, &old)

	for _, c := range []struct {
		name string
		set  *Suppressions
		b    *Baseline
	}{{"suppressions", set, nil}, {"baseline", nil, base}, {"both", set, base}, {"neither", nil, nil}} {
		t.Run(c.name, func(t *testing.T) {
			want := res
			if c.set != nil {
				want = Apply(want, c.set, now)
			}
			if c.b != nil {
				want = Compare(want, c.b)
			}
			src, err := Annotate(findings.ResultSource(res), c.set, c.b, now)
			if err != nil {
				t.Fatal(err)
			}
			got := *src.Header()
			got.Findings = nil
			if err := src.EachFinding(func(f *findings.Finding) error { got.Findings = append(got.Findings, *f); return nil }); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Triage, want.Triage) {
				t.Errorf("Triage %+v, want %+v", got.Triage, want.Triage)
			}
			if len(got.Findings) != len(want.Findings) {
				t.Fatalf("%d findings, want %d", len(got.Findings), len(want.Findings))
			}
			for i := range got.Findings {
				if !reflect.DeepEqual(got.Findings[i], want.Findings[i]) {
					t.Fatalf("finding %d (%s) differs:\n%+v\nwant\n%+v", i, want.Findings[i].ID, got.Findings[i], want.Findings[i])
				}
			}
			for _, sev := range []findings.Severity{findings.Critical, findings.Medium, findings.Info} {
				f, fn, err := findings.SourceFailing(src, sev, sev)
				if err != nil {
					t.Fatal(err)
				}
				if f != want.Failing(sev) || fn != want.FailingNew(sev) {
					t.Errorf("at %s: failing %d, new %d; want %d, %d", sev, f, fn, want.Failing(sev), want.FailingNew(sev))
				}
			}
			// The Result read is not modified.
			for i := range res.Findings {
				if f := &res.Findings[i]; f.Suppression != nil || f.SuppressionExpired != nil || f.Change != "" {
					t.Fatalf("Annotate modified finding %s of its Source", f.ID)
				}
			}
		})
	}
}
