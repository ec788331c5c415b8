package report

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
)

// allFindings reads the view's findings, in order.
func (v *view) allFindings() []*findings.Finding {
	var out []*findings.Finding
	if err := v.eachFinding(func(f *findings.Finding) error { out = append(out, f); return nil }); err != nil {
		panic(err)
	}
	return out
}

// allRoles reads the view's roles, in order.
func (v *view) allRoles() []*findings.RoleReport {
	var out []*findings.RoleReport
	if err := v.eachRole(func(r *findings.RoleReport) error { out = append(out, r); return nil }); err != nil {
		panic(err)
	}
	return out
}

// spoolOf evaluates inv one account at a time into a spool, as audit scan
// does.
func spoolOf(t *testing.T, inv *inventory.Inventory, opts findings.Options) *findings.Spool {
	t.Helper()
	s, err := findings.NewSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	err = findings.EvaluateEachTo(inv, opts, 2, func(visit func(int, *inventory.Account) error) error {
		for i, a := range inv.Accounts {
			if err := visit(i, a); err != nil {
				return err
			}
		}
		return nil
	}, nil, s.Add)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// requireSameReports renders every format from the spool and from the
// Result and fails unless the bytes are equal.
func requireSameReports(t *testing.T, res *findings.Result, s *findings.Spool) {
	t.Helper()
	for _, format := range AllFormats {
		var want, got bytes.Buffer
		if err := Render(&want, res, format, Options{}); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if err := RenderSource(&got, s, format, Options{}); err != nil {
			t.Fatalf("%s from the spool: %v", format, err)
		}
		if !bytes.Equal(want.Bytes(), got.Bytes()) {
			w, g := want.Bytes(), got.Bytes()
			i := 0
			for i < len(w) && i < len(g) && w[i] == g[i] {
				i++
			}
			t.Errorf("%s: written from the spool, %d bytes differ from the Result's %d at byte %d:\nResult: %q\nspool:  %q",
				format, len(g), len(w), i, w[max(0, i-80):min(len(w), i+80)], g[max(0, i-80):min(len(g), i+80)])
		}
	}
	line, err := SourceSummaryLine(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := SummaryLine(res); line != want {
		t.Errorf("summary line from the spool %q, from the Result %q", line, want)
	}
}

// Every format written from a spool has the bytes of the format written
// from the merged Result: the demo organization.
func TestSpoolReportsDemo(t *testing.T) {
	inv, err := inventory.Load("../testdata/demo/snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	opts := findings.Options{ToolVersion: "test"}
	res := findings.EvaluateAccounts(inv, opts, findings.AccountsOptions{Workers: 2})
	requireSameReports(t, res, spoolOf(t, inv, opts))
}

// A damaged spool makes every format fail, rather than write fewer
// findings.
func TestSpoolReportsDamaged(t *testing.T) {
	inv, err := inventory.Load("../testdata/demo/snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	s := spoolOf(t, inv, findings.Options{ToolVersion: "test"})
	s.Header()
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(s.Path(), fi.Size()/4); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteSource(s, Options{Formats: AllFormats, OutDir: t.TempDir()}); err == nil {
		t.Fatal("reports written from a truncated spool without an error")
	}
	for _, format := range AllFormats {
		// The first pass (the view's counts) or the format's own fails.
		if err := RenderSource(io.Discard, s, format, Options{}); err == nil {
			t.Errorf("%s: written from a truncated spool without an error", format)
		}
	}
}
