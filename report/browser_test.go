package report

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
)

// The browser test loads report.html in headless Chromium (Debian package
// "chromium") from file://, lets the page's self-test (report.html?selftest=1)
// drive it as a person would — filter by each severity, search, sort, open
// evidence, page — and reads the results from the dumped DOM. Console errors
// and CSP violations are read from Chromium's log on stderr.
//
// Without Chromium the test is skipped, except in CI (CI=true), where it fails.

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found; CI must install the Debian package chromium")
	}
	t.Skip("chromium not found (apt-get install chromium)")
	return ""
}

// selftestResult is what the page's self-test writes into <pre id="selftest">.
type selftestResult struct {
	Done          bool           `json:"done"`
	Errors        []string       `json:"errors"`
	Total         int            `json:"total"`
	Roles         int            `json:"roles"`
	TaskDefs      int            `json:"taskDefs"`
	FirstPageRows int            `json:"firstPageRows"`
	Pages         int            `json:"pages"`
	CountsInData  map[string]int `json:"countsInData"`
	Filtered      map[string]struct {
		Shown    int  `json:"shown"`
		Rows     int  `json:"rows"`
		AllMatch bool `json:"allMatch"`
	} `json:"filtered"`
	AfterReset       int            `json:"afterReset"`
	SearchByID       int            `json:"searchById"`
	SortedFirstIsMin bool           `json:"sortedFirstIsMin"`
	EvidenceOpened   int            `json:"evidenceOpened"`
	SecondPageRows   int            `json:"secondPageRows"`
	SecondPage       int            `json:"secondPage"`
	EvidencePanels   int            `json:"evidencePanels"`
	EvidenceHeadings []string       `json:"evidenceHeadings"`
	FixCopyButtons   int            `json:"fixCopyButtons"`
	NewBadges        int            `json:"newBadges"`
	NewFirst         bool           `json:"newFirst"`
	Status           map[string]int `json:"status"`
	ShowAccepted     int            `json:"showAccepted"`
	AcceptedEntries  int            `json:"acceptedEntries"`
	StaleEntries     int            `json:"staleEntries"`
	FixedRows        int            `json:"fixedRows"`
	UnknownRows      int            `json:"unknownRows"`
	RoleCards        int            `json:"roleCards"`
	CopyButtons      int            `json:"copyButtons"`
	TaskDefRows      int            `json:"taskDefRows"`
	InitMs           int            `json:"initMs"`
	SelftestMs       int            `json:"selftestMs"`
}

var selftestRe = regexp.MustCompile(`(?s)<pre id="selftest"[^>]*>(.*?)</pre>`)

// runSelftest writes res as report.html, loads it in Chromium and returns
// the self-test's result, Chromium's log and the DOM as the page left it
// (the first page of findings, roles and task definitions rendered).
func runSelftest(t *testing.T, chromium string, res *findings.Result, budget time.Duration) (selftestResult, string, string) {
	t.Helper()
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(f, res); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget+90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-dev-shm-usage",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		"--enable-logging=stderr", "--v=0",
		"--virtual-time-budget="+itoa(int(budget/time.Millisecond)),
		"--dump-dom", "file://"+page+"?selftest=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, tail(stderr.String(), 3000))
	}
	elapsed := time.Since(start).Round(time.Millisecond)
	st, _ := os.Stat(page)
	m := selftestRe.FindStringSubmatch(stdout.String())
	if m == nil || strings.TrimSpace(m[1]) == "" {
		t.Fatalf("the page's self-test did not run; chromium log:\n%s", tail(stderr.String(), 3000))
	}
	var r selftestResult
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &r); err != nil {
		t.Fatalf("self-test output: %v: %s", err, m[1])
	}
	t.Logf("%d findings: report.html %.1f MB, chromium ran %v, page script ready in %d ms, self-test %d ms",
		len(res.Findings), float64(st.Size())/1e6, elapsed, r.InitMs, r.SelftestMs)
	return r, stderr.String(), stdout.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// consoleProblems returns the lines of Chromium's log that report a
// JavaScript error, a console message or a CSP violation.
func consoleProblems(log string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "Uncaught") || strings.Contains(line, "CONSOLE") ||
			strings.Contains(line, "Refused to") || strings.Contains(line, "Content Security Policy") {
			out = append(out, line)
		}
	}
	return out
}

func TestBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	withCatalog(t)
	v1, _, err := LoadResult(sampleV1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		res    *findings.Result
		budget time.Duration
		window int // htmlWindow, when not 0
	}{
		{"sample", sampleResult(), 5 * time.Second, 0},
		{"triaged", triagedResult(), 5 * time.Second, 0},
		{"version 1", v1, 5 * time.Second, 0},
		{"demo", demoResult(t), 5 * time.Second, 0},
		{"malicious", maliciousResult(), 5 * time.Second, 0},
		{"hostile", hostileResult(), 5 * time.Second, 0},
		{"empty", &findings.Result{GeneratedAt: fixedTime}, 5 * time.Second, 0},
		{"2500 findings", bigResult(2500), 10 * time.Second, 0},
		// Strings met again after 50 others written again (htmlids.go).
		{"2500 findings, small window", bigResult(2500), 10 * time.Second, 50},
	}
	if !testing.Short() {
		tests = append(tests, struct {
			name   string
			res    *findings.Result
			budget time.Duration
			window int
		}{"100000 findings", bigResult(100000), 15 * time.Second, 0})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.window > 0 {
				withWindow(t, tt.window)
			}
			r, log, dom := runSelftest(t, chromium, tt.res, tt.budget)
			if p := consoleProblems(log); len(p) > 0 {
				t.Errorf("console errors:\n%s", strings.Join(p, "\n"))
			}
			// What the browser shows holds no bidi, invisible or control
			// character: the hostile names appear revealed.
			text := html.UnescapeString(dom)
			noHidden(t, "rendered DOM", text)
			if tt.name == "hostile" {
				for _, want := range []string{"evil<U+202E>gnp.exe", "<U+2066>admin<U+2069>-role", "<U+0000>=1+2"} {
					if !strings.Contains(text, want) {
						t.Errorf("rendered DOM lacks %q", want)
					}
				}
			}
			if !r.Done || len(r.Errors) > 0 {
				t.Fatalf("self-test: done=%v errors=%v", r.Done, r.Errors)
			}
			n := len(tt.res.Findings)
			if r.Total != n || r.FirstPageRows != min(n, 100) || r.AfterReset != n {
				t.Errorf("total %d, first page %d rows, after reset %d; want %d, %d, %d", r.Total, r.FirstPageRows, r.AfterReset, n, min(n, 100), n)
			}
			want := map[string]int{}
			for _, f := range tt.res.Findings {
				want[string(f.Severity)]++
			}
			for _, s := range findings.Severities {
				got := r.Filtered[string(s)]
				if got.Shown != want[string(s)] || got.Rows != min(want[string(s)], 100) || !got.AllMatch {
					t.Errorf("filter severity=%s: %d shown, %d rows, all match %v; want %d shown", s, got.Shown, got.Rows, got.AllMatch, want[string(s)])
				}
			}
			if n > 0 {
				if r.SearchByID != 1 {
					t.Errorf("search by finding ID found %d", r.SearchByID)
				}
				if !r.SortedFirstIsMin {
					t.Error("sorting by resource did not put the smallest first")
				}
				if r.EvidenceOpened != 1 {
					t.Errorf("%d evidence panels opened, want 1", r.EvidenceOpened)
				}
			}
			if n > 100 && (r.SecondPage != 2 || r.SecondPageRows != min(100, n-100) || r.Pages != (n+99)/100) {
				t.Errorf("paging: page %d with %d rows of %d pages", r.SecondPage, r.SecondPageRows, r.Pages)
			}
			checkTriageInBrowser(t, tt.res, r)
			if n > 0 {
				checkEvidenceInBrowser(t, tt.name, tt.res, r)
			}
			if r.Roles != len(tt.res.Roles) || r.RoleCards != min(20, len(tt.res.Roles)) || r.CopyButtons != r.RoleCards {
				t.Errorf("roles %d, cards %d, copy buttons %d", r.Roles, r.RoleCards, r.CopyButtons)
			}
			if r.TaskDefs != len(tt.res.TaskDefinitions) || r.TaskDefRows != min(100, len(tt.res.TaskDefinitions)) {
				t.Errorf("task definitions %d, rows %d", r.TaskDefs, r.TaskDefRows)
			}
		})
	}
}

// checkTriageInBrowser checks what the page shows of triage: new findings
// first with their badge, the status filter, the accepted risks and what
// changed.
func checkTriageInBrowser(t *testing.T, res *findings.Result, r selftestResult) {
	t.Helper()
	want := map[string]int{}
	for _, f := range res.Findings {
		if f.Change == findings.ChangeNew {
			want["new"]++
		}
		if f.Suppression != nil {
			want["accepted"]++
		} else {
			want["open"]++
		}
		if f.SuppressionExpired != nil {
			want["expired"]++
		}
	}
	for _, k := range []string{"new", "open", "accepted", "expired"} {
		if r.Status[k] != want[k] {
			t.Errorf("status filter %s shows %d findings, want %d", k, r.Status[k], want[k])
		}
	}
	if !r.NewFirst {
		t.Error("new findings are not first")
	}
	if r.NewBadges != min(want["new"], 100) {
		t.Errorf("%d new badges on the first page, want %d", r.NewBadges, min(want["new"], 100))
	}
	var entries, stale, fixed, unknown int
	if res.Triage != nil && res.Triage.Suppressions != nil {
		entries = len(res.Triage.Suppressions.Entries)
		for _, e := range res.Triage.Suppressions.Entries {
			if e.Stale {
				stale++
			}
		}
		if r.ShowAccepted != want["accepted"] {
			t.Errorf("the accepted findings button shows %d findings, want %d", r.ShowAccepted, want["accepted"])
		}
	}
	if res.Triage != nil && res.Triage.Baseline != nil {
		fixed, unknown = len(res.Triage.Baseline.Fixed), len(res.Triage.Baseline.Unknown)
	}
	if r.AcceptedEntries != entries || r.StaleEntries != stale || r.FixedRows != fixed || r.UnknownRows != unknown {
		t.Errorf("accepted risks %d rows (%d stale), fixed %d, unknown %d; want %d (%d), %d, %d",
			r.AcceptedEntries, r.StaleEntries, r.FixedRows, r.UnknownRows, entries, stale, fixed, unknown)
	}
}

// checkEvidenceInBrowser checks the evidence panels of the first page:
// every one opens, and the sections the findings call for are there (the
// fix with a copy button for each suggested policy, the affected
// resources, each kind of item list).
func checkEvidenceInBrowser(t *testing.T, name string, res *findings.Result, r selftestResult) {
	t.Helper()
	n := min(len(res.Findings), 100)
	if r.EvidencePanels != n {
		t.Errorf("%d evidence panels opened on the first page, want %d", r.EvidencePanels, n)
	}
	if name != "sample" && name != "triaged" {
		return
	}
	for _, h := range []string{"Finding", "Fix", "Affected resources", "Needs", "Decision", "Statements", "What is not known",
		"Unmet agent constraints", "Features Fargate cannot serve", "Values that look like credentials", "Policy problems",
		"Excess grants", "Facts"} {
		if !slices.Contains(r.EvidenceHeadings, h) {
			t.Errorf("no evidence section %q (sections: %v)", h, r.EvidenceHeadings)
		}
	}
	if name == "triaged" && !slices.Contains(r.EvidenceHeadings, "Accepted risk") {
		t.Errorf("no accepted risk in the evidence (sections: %v)", r.EvidenceHeadings)
	}
	policies := 0
	for _, f := range res.Findings {
		if len(f.Fix.SuggestedPolicy) > 0 {
			policies++
		}
	}
	if r.FixCopyButtons != policies {
		t.Errorf("%d copy buttons in fixes, want %d (one per suggested policy)", r.FixCopyButtons, policies)
	}
}
