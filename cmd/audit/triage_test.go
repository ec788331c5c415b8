package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
)

const (
	ledgerRole = "arn:aws:iam::222222222222:role/payments-ledger-exec"
	ledgerTD   = "arn:aws:ecs:us-east-1:222222222222:task-definition/payments-ledger:4"
)

// readResult reads a findings.json a command wrote, after checking it
// against the schema.
func readResult(t *testing.T, path string) *findings.Result {
	t.Helper()
	validateFindingsFile(t, path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var res findings.Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &res
}

// findingOf returns the finding of rule about resource, or nil.
func findingOf(res *findings.Result, rule, resource string) *findings.Finding {
	for i := range res.Findings {
		if f := &res.Findings[i]; f.RuleID == rule && f.ResourceARN == resource {
			return f
		}
	}
	return nil
}

// snapshotWithout writes the demo snapshot (at demo) without the task definition
// tdARN (deregistered, its services deleted) to dir and returns its path.
func snapshotWithout(t *testing.T, demo, dir, tdARN string) string {
	t.Helper()
	inv, err := inventory.Load(demo)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range inv.Accounts {
		for _, r := range a.Regions {
			r.TaskDefinitions = slices.DeleteFunc(r.TaskDefinitions, func(td *inventory.TaskDefinition) bool {
				found = found || td.ARN == tdARN
				return td.ARN == tdARN
			})
			for _, c := range r.Clusters {
				c.Services = slices.DeleteFunc(c.Services, func(s *inventory.Service) bool { return s.TaskDefinition == tdARN })
			}
		}
	}
	if !found {
		t.Fatalf("the demo has no %s", tdARN)
	}
	p := filepath.Join(dir, "without.json")
	if err := inventory.Save(p, inv); err != nil {
		t.Fatal(err)
	}
	return p
}

// absDemo is the demo snapshot's absolute path, for tests that change the
// working directory (which call it first).
func absDemo(t *testing.T) string {
	t.Helper()
	// The schema is loaded (once) before a test leaves this directory.
	if _, err := findingsSchema(); err != nil {
		t.Fatal(err)
	}
	p, err := filepath.Abs(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The life of an accepted risk through the command line and findings.json:
// active, then expiring soon (a warning), then expired (the finding counts
// again and says until when it was accepted), and stale once the finding
// is gone. The entry comes from a --suppressions-file, or from the
// suppressions: block of audit.yaml.
func TestSuppressionLifecycleCLI(t *testing.T) {
	demo := absDemo(t)
	dir := configEnv(t, "", nil)
	fixed := snapshotWithout(t, demo, dir, ledgerTD)
	today := time.Now().UTC()
	day := func(d int) string { return today.AddDate(0, 0, d).Format(time.DateOnly) }
	entry := func(expires string) string {
		return fmt.Sprintf(`suppressions:
  - rule: ER006
    role: payments-ledger-exec
    justification: Ledger reads every secret of its prefix until PAY-77 splits them.
    owner: payments@example.com
    expires: %s
`, expires)
	}
	annotation := func(expires, source string, soon bool) *findings.Suppression {
		return &findings.Suppression{Justification: "Ledger reads every secret of its prefix until PAY-77 splits them.",
			Owner: "payments@example.com", Expires: expires, Source: source, ExpiresSoon: soon}
	}
	for _, c := range []struct {
		stage    string
		expires  string
		snapshot string
		inConfig bool // the entry is in audit.yaml, not in a --suppressions-file
		counts   findings.SuppressionReport
		// the ledger role's finding: suppressed by, or accepted until
		suppressed, expired *findings.Suppression
		entry               findings.SuppressionEntry
		warning             string // "" for none
		summary             string
	}{
		{stage: "active", expires: day(200), snapshot: demo,
			counts:     findings.SuppressionReport{Suppressed: 1, Active: 1},
			suppressed: annotation(day(200), "accepted.yaml:2", false),
			entry:      findings.SuppressionEntry{Status: findings.SuppressionActive, Matched: 1},
			summary:    "accepted risks: 1 finding suppressed, 0 findings reopened (suppressions: 1 active, 0 expiring soon, 0 expired, 0 stale)"},
		{stage: "active, in audit.yaml", expires: day(200), snapshot: demo, inConfig: true,
			counts:     findings.SuppressionReport{Suppressed: 1, Active: 1},
			suppressed: annotation(day(200), "audit.yaml:3", false),
			entry:      findings.SuppressionEntry{Status: findings.SuppressionActive, Matched: 1}},
		{stage: "expiring", expires: day(10), snapshot: demo,
			counts:     findings.SuppressionReport{Suppressed: 1, Active: 1, ExpiringSoon: 1},
			suppressed: annotation(day(10), "accepted.yaml:2", true),
			entry:      findings.SuppressionEntry{Status: findings.SuppressionActive, ExpiresSoon: true, Matched: 1},
			warning:    "audit: warning: suppression at accepted.yaml:2 (rule ER006) expires on " + day(10),
			summary:    "accepted risks: 1 finding suppressed, 0 findings reopened (suppressions: 1 active, 1 expiring soon, 0 expired, 0 stale)"},
		{stage: "expired", expires: day(-1), snapshot: demo,
			counts:  findings.SuppressionReport{Reopened: 1, Expired: 1},
			expired: annotation(day(-1), "accepted.yaml:2", false),
			entry:   findings.SuppressionEntry{Status: findings.SuppressionExpired, Matched: 1},
			warning: "audit: warning: suppression at accepted.yaml:2 (rule ER006) expired on " + day(-1) + ": its 1 finding(s) count again",
			summary: "accepted risks: 0 findings suppressed, 1 finding reopened (suppressions: 0 active, 0 expiring soon, 1 expired, 0 stale)"},
		{stage: "stale, expired", expires: day(-1), snapshot: fixed,
			counts:  findings.SuppressionReport{Stale: 1},
			entry:   findings.SuppressionEntry{Status: findings.SuppressionExpired, Stale: true},
			warning: "audit: warning: suppression at accepted.yaml:2 (rule ER006) expired on " + day(-1) + " and matches no finding: remove it"},
		{stage: "stale, still active", expires: day(200), snapshot: fixed,
			counts:  findings.SuppressionReport{Stale: 1},
			entry:   findings.SuppressionEntry{Status: findings.SuppressionActive, Stale: true},
			warning: "audit: warning: suppression at accepted.yaml:2 (rule ER006) matches no finding: it is stale, remove it",
			summary: "accepted risks: 0 findings suppressed, 0 findings reopened (suppressions: 0 active, 0 expiring soon, 0 expired, 1 stale)"},
	} {
		t.Run(c.stage, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(c.stage, " ", "-"))
			args := []string{"scan", "--snapshot", c.snapshot, "--out", out}
			if c.inConfig {
				if err := os.WriteFile("audit.yaml", []byte("fail-on: none\n"+entry(c.expires)), 0o644); err != nil {
					t.Fatal(err)
				}
				defer os.Remove("audit.yaml")
			} else {
				if err := os.WriteFile("accepted.yaml", []byte(entry(c.expires)), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--suppressions-file", "accepted.yaml")
			}
			code, _, stderr := run(t, "", args...)
			if code != ExitOK {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			res := readResult(t, filepath.Join(out, "findings.json"))
			if res.Triage == nil || res.Triage.Suppressions == nil || res.Triage.Baseline != nil {
				t.Fatalf("triage %+v", res.Triage)
			}
			rep := *res.Triage.Suppressions
			entries := rep.Entries
			rep.Entries = nil
			if !reflect.DeepEqual(rep, c.counts) {
				t.Errorf("counts %+v, want %+v", rep, c.counts)
			}
			want := c.entry
			want.Source, want.Rule, want.Owner, want.Expires = "accepted.yaml:2", "ER006", "payments@example.com", c.expires
			want.Justification = "Ledger reads every secret of its prefix until PAY-77 splits them."
			if c.inConfig {
				want.Source = "audit.yaml:3"
			}
			if len(entries) != 1 || !reflect.DeepEqual(entries[0], want) {
				t.Errorf("entries %+v, want [%+v]", entries, want)
			}
			f := findingOf(res, "ER006", ledgerRole)
			switch {
			case c.snapshot == fixed && f != nil:
				t.Fatal("the fixed ledger role still has its finding")
			case c.snapshot != fixed && f == nil:
				t.Fatal("no ER006 finding for the ledger role")
			case f != nil:
				if !reflect.DeepEqual(f.Suppression, c.suppressed) || !reflect.DeepEqual(f.SuppressionExpired, c.expired) {
					t.Errorf("ledger finding: suppression %+v, expired %+v; want %+v, %+v", f.Suppression, f.SuppressionExpired, c.suppressed, c.expired)
				}
			}
			// No other finding is touched.
			for _, g := range res.Findings {
				if (g.Suppression != nil || g.SuppressionExpired != nil) && g.ID != f.ID {
					t.Errorf("%s %s on %s is annotated", g.ID, g.RuleID, g.ResourceARN)
				}
			}
			var warnings []string
			for _, l := range strings.Split(stderr, "\n") {
				if strings.HasPrefix(l, "audit: warning:") {
					warnings = append(warnings, l)
				}
			}
			if c.warning == "" && len(warnings) > 0 || c.warning != "" && !slices.Equal(warnings, []string{c.warning}) {
				t.Errorf("warnings %q, want %q", warnings, c.warning)
			}
			if c.summary != "" && !strings.Contains(stderr, "\n"+c.summary+"\n") {
				t.Errorf("stderr lacks %q:\n%s", c.summary, stderr)
			}
		})
	}

	// An invalid file: exit 2, every problem named by file, line, column
	// and key, nothing written.
	bad := "suppressions:\n  - rule: ER006\n    role: payments-ledger-exec\n    expires: " + day(400) + "\n  - {rule: ER06, justification: j, expires: " + day(1) + "}\n"
	if err := os.WriteFile("bad.yaml", []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "bad")
	code, _, stderr := run(t, "", "scan", "--snapshot", demo, "--out", out, "--suppressions-file", "accepted.yaml,bad.yaml,missing.yaml")
	want := []string{
		"audit: bad.yaml:2:5: suppressions[0].justification: is required: why the risk is accepted",
		"audit: bad.yaml:4:14: suppressions[0].expires: " + day(400) + " is beyond the maximum of 365 days ahead (the last day allowed is " + day(365) + "): review the risk sooner",
		`audit: bad.yaml:5:12: suppressions[1].rule: unknown rule "ER06" (known: AG001, AG002, AG003, ER001, ER002, ER003, ER004, ER005, ER006, ER007, ER008, FG001, NW001, PL001, RS001, TD001, or *)`,
		`audit: --suppressions-file "missing.yaml": no such file`,
	}
	if got := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"); code != ExitUsage || !slices.Equal(got, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", code, stderr, strings.Join(want, "\n"))
	}
	noReports(t, out)
}

// --fail-on ignores accepted risks (an expired one accepts nothing);
// --fail-on-new fails only on new findings at or above it, suppressed ones
// aside; a baseline that does not exist yet makes every finding new.
func TestTriageExitCodes(t *testing.T) {
	demo := absDemo(t)
	dir := configEnv(t, "", nil)
	today := time.Now().UTC()
	day := func(d int) string { return today.AddDate(0, 0, d).Format(time.DateOnly) }
	write := func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	all := write("all.yaml", "- {rule: '*', account: '*', justification: everything, expires: "+day(30)+"}\n")
	allExpired := write("all-expired.yaml", "- {rule: '*', account: '*', justification: everything, expires: "+day(-1)+"}\n")
	ledgerCritical := write("ledger.yaml", "- {rule: ER004, family: payments-ledger, justification: ledger, expires: "+day(30)+"}\n")
	// Baselines: the demo's own findings.json, and one of the demo before
	// the ledger's task definition was registered (its findings, an ER004
	// critical and an ER006 medium, are new against it).
	same := filepath.Join(dir, "same")
	if code, _, stderr := run(t, "", "scan", "--snapshot", demo, "--out", same, "--quiet"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	older := filepath.Join(dir, "older")
	if code, _, stderr := run(t, "", "scan", "--snapshot", snapshotWithout(t, demo, dir, ledgerTD), "--out", older, "--quiet"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sameJSON, olderJSON := filepath.Join(same, "findings.json"), filepath.Join(older, "findings.json")
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"fail-on info", []string{"--fail-on", "info"}, ExitFindings},
		{"fail-on info, every finding accepted", []string{"--fail-on", "info", "--suppressions-file", all}, ExitOK},
		{"fail-on info, the acceptance expired", []string{"--fail-on", "info", "--suppressions-file", allExpired}, ExitFindings},
		{"fail-on-new info, nothing new", []string{"--baseline", sameJSON, "--fail-on-new", "info"}, ExitOK},
		{"fail-on critical still sees unchanged findings", []string{"--baseline", sameJSON, "--fail-on-new", "info", "--fail-on", "critical"}, ExitFindings},
		{"fail-on-new critical, a new critical", []string{"--baseline", olderJSON, "--fail-on-new", "critical"}, ExitFindings},
		{"fail-on-new critical, the new critical accepted", []string{"--baseline", olderJSON, "--fail-on-new", "critical", "--suppressions-file", ledgerCritical}, ExitOK},
		{"fail-on-new medium, a new medium", []string{"--baseline", olderJSON, "--fail-on-new", "medium", "--suppressions-file", ledgerCritical}, ExitFindings},
		{"fail-on-new none", []string{"--baseline", olderJSON, "--fail-on-new", "none"}, ExitOK},
		{"first run: every finding new", []string{"--baseline", filepath.Join(dir, "nothing-yet", "findings.json"), "--fail-on-new", "info"}, ExitFindings},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, "out")
			code, _, stderr := run(t, "", append([]string{"scan", "--snapshot", demo, "--out", out, "--quiet"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", code, c.code, stderr)
			}
			// audit report gives the same answer for the stored result.
			rargs := append([]string{"report", filepath.Join(same, "findings.json"), "--format", "json", "--out", filepath.Join(dir, "report"), "--quiet"}, c.args...)
			if code, _, stderr := run(t, "", rargs...); code != c.code {
				t.Errorf("audit report: exit %d, want %d:\n%s", code, c.code, stderr)
			}
		})
	}

	// What the comparison says, in findings.json and on stderr.
	out := filepath.Join(dir, "compared")
	code, _, stderr := run(t, "", "scan", "--snapshot", demo, "--out", out, "--baseline", olderJSON)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	res := readResult(t, filepath.Join(out, "findings.json"))
	var news []string
	for _, f := range res.Findings {
		if f.Change == findings.ChangeNew {
			news = append(news, f.RuleID+" "+f.ResourceARN)
		} else if f.Change != findings.ChangeUnchanged {
			t.Errorf("%s: change %q", f.ID, f.Change)
		}
	}
	slices.Sort(news)
	if want := []string{"ER004 " + ledgerTD, "ER006 " + ledgerRole}; !slices.Equal(news, want) {
		t.Errorf("new %v, want %v", news, want)
	}
	b := res.Triage.Baseline
	if b.Source != olderJSON || b.Counts != (findings.BaselineCounts{New: 2, Unchanged: len(res.Findings) - 2}) {
		t.Errorf("baseline report %+v", b)
	}
	if want := fmt.Sprintf("since %s of %s: 2 new, %d unchanged, 0 fixed, 0 unknown (not collected by this scan)\n",
		olderJSON, b.GeneratedAt.Format(time.RFC3339), len(res.Findings)-2); !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	// The other way round: the ledger's findings are fixed.
	code, _, stderr = run(t, "", "scan", "--snapshot", snapshotWithout(t, demo, dir, ledgerTD), "--out", out, "--baseline", sameJSON, "--quiet")
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	res = readResult(t, filepath.Join(out, "findings.json"))
	var fixed []string
	for _, p := range res.Triage.Baseline.Fixed {
		fixed = append(fixed, p.RuleID+" "+p.ResourceARN)
	}
	slices.Sort(fixed)
	if want := []string{"ER004 " + ledgerTD, "ER006 " + ledgerRole}; !slices.Equal(fixed, want) || len(res.Triage.Baseline.Unknown) != 0 {
		t.Errorf("fixed %v (want %v), unknown %v", fixed, want, res.Triage.Baseline.Unknown)
	}

	// A first run says so on stderr, and every finding is new.
	missing := filepath.Join(dir, "nothing-yet", "findings.json")
	code, _, stderr = run(t, "", "scan", "--snapshot", demo, "--out", out, "--baseline", missing, "--quiet")
	if code != ExitOK || !strings.Contains(stderr, "audit: note: baseline "+missing+" does not exist yet (a first run): every finding is new\n") {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
	res = readResult(t, filepath.Join(out, "findings.json"))
	if c := res.Triage.Baseline.Counts; c != (findings.BaselineCounts{New: len(res.Findings)}) {
		t.Errorf("first run counts %+v", c)
	}
	// A baseline that is not a findings.json is an error (exit 2) naming it.
	code, _, stderr = run(t, "", "scan", "--snapshot", demo, "--out", filepath.Join(dir, "no"), "--baseline", demo)
	if want := "audit: --baseline \"" + demo + "\": format: this is an inventory snapshot, not a findings.json: use the findings.json of the scan (audit --format json)\n"; code != ExitUsage || stderr != want {
		t.Errorf("exit %d, stderr %q, want %q", code, stderr, want)
	}
	noReports(t, filepath.Join(dir, "no"))
}

// The summary counts root causes and the resources they affect, and, when
// triage ran, what the suppressions did and what changed.
func TestPrintSummary(t *testing.T) {
	res := &findings.Result{
		Scope: findings.Scope{Accounts: []findings.AccountRef{{ID: "1"}, {ID: "2"}}},
		Summary: findings.Summary{Total: 35, TaskDefinitions: 32, Roles: 15,
			BySeverity: map[string]int{"critical": 19, "high": 5, "medium": 8, "low": 2, "info": 1},
			Affected: map[string]int{findings.ResourceTaskDefinition: 22, findings.ResourceService: 11, findings.ResourceRole: 7,
				findings.ResourceContainerInstance: 1, "gateway\u202e": 2}},
		Coverage: findings.Coverage{Complete: true},
	}
	var b bytes.Buffer
	printSummary(&b, res, []string{"out/findings.json"})
	want := "32 task definitions, 15 execution roles, 2 accounts: 35 root causes (19 critical, 5 high, 8 medium, 2 low, 1 info) " +
		"affecting 22 task definitions, 11 services, 7 roles, 1 container instance, 2 gateway<U+202E>\n" +
		"wrote out/findings.json\n"
	if b.String() != want {
		t.Errorf("summary\n%s\nwant\n%s", b.String(), want)
	}

	res.Summary = findings.Summary{Total: 1, BySeverity: map[string]int{"high": 1}}
	res.Triage = &findings.Triage{
		Suppressions: &findings.SuppressionReport{Suppressed: 1, Reopened: 2, Active: 1, ExpiringSoon: 1, Expired: 1, Stale: 3},
		Baseline: &findings.BaselineReport{Source: "s3://b/p/latest/findings.json\u202e", GeneratedAt: time.Date(2026, 12, 3, 5, 0, 4, 0, time.UTC),
			Counts: findings.BaselineCounts{New: 1, Unchanged: 0, Fixed: 4, Unknown: 9}},
	}
	res.Coverage = findings.Coverage{Errors: make([]inventory.CollectionError, 2)}
	b.Reset()
	printSummary(&b, res, nil)
	want = "0 task definitions, 0 execution roles, 2 accounts: 1 root cause (0 critical, 1 high, 0 medium, 0 low, 0 info)\n" +
		"accepted risks: 1 finding suppressed, 2 findings reopened (suppressions: 1 active, 1 expiring soon, 1 expired, 3 stale)\n" +
		"since s3://b/p/latest/findings.json<U+202E> of 2026-12-03T05:00:04Z: 1 new, 0 unchanged, 4 fixed, 9 unknown (not collected by this scan)\n" +
		"scan INCOMPLETE: 2 collection errors, 0 gaps (see coverage in the reports)\n"
	if b.String() != want {
		t.Errorf("summary\n%s\nwant\n%s", b.String(), want)
	}
}

// The accepted risk the README and docs/audit.example.yaml show is one the
// demo organization has: it matches its finding (the shipper's logs denied
// by the region SCP), whether still active or expired by now.
func TestDocumentedSuppressionMatchesTheDemo(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	_, fromReadme, ok := strings.Cut(string(readme), "```yaml\n# accepted-risks.yaml\n")
	fromReadme, _, _ = strings.Cut(fromReadme, "```")
	_, fromExample, ok2 := strings.Cut(string(example), "\nsuppressions:\n")
	fromExample, _, _ = strings.Cut(fromExample, "\n\n")
	if !ok || !ok2 {
		t.Fatal("no suppressions example in README.md (```yaml # accepted-risks.yaml) or in docs/audit.example.yaml (suppressions:)")
	}
	demo := absDemo(t)
	dir := configEnv(t, "", nil)
	for name, text := range map[string]string{"README.md": fromReadme, "audit.example.yaml": "suppressions:\n" + fromExample} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile("accepted.yaml", []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out")
			code, _, stderr := run(t, "", "scan", "--snapshot", demo, "--out", out, "--suppressions-file", "accepted.yaml", "--quiet")
			if code != ExitOK {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			e := readResult(t, filepath.Join(out, "findings.json")).Triage.Suppressions.Entries
			if len(e) != 1 || e[0].Matched != 1 || e[0].Stale {
				t.Errorf("the documented suppression: %+v", e)
			}
		})
	}
}
