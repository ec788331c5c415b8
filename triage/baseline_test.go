package triage

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A findings.json of schema version 1, as the report package first wrote
// it (report/testdata/findings.json.golden of commit bdbb02c).
func TestParseBaselineVersion1(t *testing.T) {
	b, err := ParseBaseline(readFile(t, "testdata/findings-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if b.SchemaVersion != 1 || b.ToolVersion != "1.2.3" || !b.GeneratedAt.Equal(time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)) || len(b.Findings) != 6 {
		t.Fatalf("%+v", b)
	}
	want := findings.PastFinding{ID: "f-secret-1", RuleID: "T001", Severity: findings.Critical, Title: "Execution role cannot read a secret",
		Message: "web:3 container web cannot read secret db", AccountID: "111111111111", AccountName: "web-prod", Region: "eu-west-1",
		ResourceType: findings.ResourceTaskDefinition, ResourceARN: "arn:aws:ecs:eu-west-1:111111111111:task-definition/web:3",
		TaskDefinitionARN: "arn:aws:ecs:eu-west-1:111111111111:task-definition/web:3", RoleARN: "arn:aws:iam::111111111111:role/app-exec"}
	if !reflect.DeepEqual(b.Findings[0], want) {
		t.Errorf("got  %+v\nwant %+v", b.Findings[0], want)
	}
	if got := b.roleUse["arn:aws:iam::222222222222:role/pay-exec"]; !reflect.DeepEqual(got, []string{"arn:aws:ecs:eu-west-1:222222222222:task-definition/pay:12"}) {
		t.Errorf("role use %v", got)
	}
	// The report package's current findings.json golden reads too.
	if _, err := ParseBaseline(readFile(t, "../report/testdata/findings.json.golden")); err != nil {
		t.Error(err)
	}
}

func TestParseBaselineErrors(t *testing.T) {
	v1 := string(readFile(t, "testdata/findings-v1.json"))
	edit := func(old, new string) []byte {
		if !strings.Contains(v1, old) {
			t.Fatalf("fixture has no %q", old)
		}
		return []byte(strings.Replace(v1, old, new, 1))
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "the file is empty: expected a findings.json written by audit"},
		{"blank", []byte(" \n"), "the file is empty: expected a findings.json written by audit"},
		{"a list (expected-findings.json)", readFile(t, "../testdata/demo/expected-findings.json"),
			"the file is a JSON list, not a findings.json (an object with schemaVersion, tool and findings, as audit --format json writes it)"},
		{"a snapshot", readFile(t, demoSnapshot), "format: this is an inventory snapshot, not a findings.json: use the findings.json of the scan (audit --format json)"},
		{"a SARIF log", readFile(t, "../report/testdata/findings.sarif.golden"),
			"this is a SARIF log, not a findings.json: use the findings.json of the scan (audit --format json)"},
		{"YAML", []byte("findings: []\n"), "not JSON: expected a findings.json written by audit"},
		{"syntax", []byte(`{"schemaVersion": 1,}`), "not valid JSON: invalid character '}' looking for beginning of object key string (byte offset 21)"},
		{"truncated", []byte(v1[:200]), "not valid JSON: unexpected end of JSON input (byte offset 200)"},
		{"no version", edit(`"schemaVersion": 1,`, ""), "schemaVersion: missing: not a findings.json written by audit"},
		{"newer version", edit(`"schemaVersion": 1,`, `"schemaVersion": 99,`), "schemaVersion: version 99 is not one this build reads (1 to " + itoa(findings.ResultSchemaVersion) + "): it was written by a newer audit"},
		{"version 0", edit(`"schemaVersion": 1,`, `"schemaVersion": 0,`), "schemaVersion: version 0 is not one this build reads (1 to " + itoa(findings.ResultSchemaVersion) + ")"},
		{"version as text", edit(`"schemaVersion": 1,`, `"schemaVersion": "1",`), `schemaVersion: "1" is not a version number`},
		{"another tool", edit(`"name": "audit"`, `"name": "prowler"`), `tool.name: "prowler": not a findings.json written by audit`},
		{"no tool", edit(`"tool": {`, `"tool2": {`), `tool.name: "": not a findings.json written by audit`},
		{"no findings", edit(`"findings": [`, `"results": [`), "findings: missing: not a findings.json written by audit"},
		{"no time", edit(`"generatedAt"`, `"generated"`), "generatedAt: missing: not a findings.json written by audit"},
		{"bad time", edit(`"generatedAt": "2025-03-14T09:26:53Z"`, `"generatedAt": "yesterday"`), `generatedAt: "yesterday" is not an RFC 3339 time`},
		{"finding without ID", edit(`"id": "f-agent-1",`, `"id": "",`), "findings[2].id: missing or empty: every finding has a fingerprint"},
		{"bad severity", edit(`"severity": "high"`, `"severity": "severe"`), `findings[2].severity: "severe" is not a severity`},
		{"wrong type", edit(`"id": "f-agent-1"`, `"id": 7`), "findings.id: a JSON number where a findings.json has a string (byte offset " +
			itoa(strings.Index(v1, `"id": "f-agent-1"`)+len(`"id": 7`)) + ")"},
		{"findings not a list", []byte(`{"schemaVersion": 1, "findings": {}}`), "findings: a JSON object where a findings.json has a list (byte offset 34)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := ParseBaseline(c.data)
			if err == nil {
				t.Fatalf("no error: %+v", b)
			}
			// The streaming reader gives the same error.
			if _, serr := ReadBaseline(bytes.NewReader(c.data), int64(len(c.data))); serr == nil || serr.Error() != err.Error() {
				t.Errorf("ReadBaseline: %v", serr)
			}
			var be *BaselineError
			if !errors.As(err, &be) {
				t.Fatalf("%T %v", err, err)
			}
			if err.Error() != c.want {
				t.Errorf("error\n  %s\nwant\n  %s", err, c.want)
			}
		})
	}
	// A byte order mark is not an error.
	if _, err := ParseBaseline(append([]byte("\xef\xbb\xbf"), v1...)); err != nil {
		t.Error(err)
	}
}

func FuzzParseBaseline(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":1,"tool":{"name":"audit"},"generatedAt":"2025-01-01T00:00:00Z","findings":[{"id":"x","severity":"low","memberIds":["y"]}],"roles":[{"roleArn":"r","usedBy":["t"]}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"format":"audit-inventory"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBaseline(data)
		if err != nil {
			if !errors.As(err, new(*BaselineError)) {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		for _, p := range b.Findings {
			if p.ID == "" {
				t.Fatal("a finding without an ID")
			}
		}
		// Whatever it holds, a comparison works.
		res := Compare(&findings.Result{Findings: []findings.Finding{{ID: "x"}}}, b)
		c := res.Triage.Baseline.Counts
		if c.New+c.Unchanged != 1 || c.Fixed+c.Unknown > len(b.Findings) {
			t.Fatalf("counts %+v", c)
		}
	})
}

// Two scans of a changing organization: between them a task definition was
// deregistered, a new one with a problem was registered, and a region of
// one account failed to be collected.
func TestCompareChangingOrganization(t *testing.T) {
	const (
		removed  = "arn:aws:ecs:us-east-1:222222222222:task-definition/payments-no-exec:1"
		added    = "arn:aws:ecs:us-east-1:222222222222:task-definition/payments-batch:1"
		failedAc = "333333333333"
		failedRg = "eu-west-1"
	)
	first := demoResult(t)

	inv := loadDemo(t)
	for _, a := range inv.Accounts {
		for _, r := range a.Regions {
			switch {
			case a.ID == failedAc && r.Name == failedRg:
				*r = inventory.Region{Name: r.Name, Status: inventory.RegionFailed}
				inv.Errors = append(inv.Errors, inventory.CollectionError{AccountID: a.ID, Region: r.Name, Service: "ecs",
					Operation: "ListClusters", Code: "RequestTimeout", Message: "timed out"})
			case a.ID == "222222222222" && r.Name == "us-east-1":
				var keep []*inventory.TaskDefinition
				for _, td := range r.TaskDefinitions {
					if td.ARN != removed {
						keep = append(keep, td)
						continue
					}
					nu := *td
					nu.ARN, nu.Family, nu.Revision = added, "payments-batch", 1
					keep = append(keep, &nu)
				}
				if len(keep) != len(r.TaskDefinitions) {
					t.Fatal("the demo has no " + removed)
				}
				r.TaskDefinitions = keep
			}
		}
	}
	second := findings.Evaluate(inv, findings.Options{ToolVersion: "test"})

	data, err := json.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	base, err := ParseBaseline(data)
	if err != nil {
		t.Fatal(err)
	}
	base.Source = "scans/2026-12-03/findings.json"
	got := Compare(second, base)

	// What each finding should be, from the two results.
	before := map[string]findings.Finding{}
	for _, f := range first.Findings {
		before[f.ID] = f
	}
	after := map[string]bool{}
	var wantNew []string
	for _, f := range second.Findings {
		after[f.ID] = true
		if _, ok := before[f.ID]; !ok {
			wantNew = append(wantNew, f.ID)
			if f.ResourceARN != added {
				t.Errorf("unexpected new finding %s %s on %s", f.RuleID, f.ID, f.ResourceARN)
			}
		}
	}
	var wantFixed, wantUnknown []string
	for id, f := range before {
		switch {
		case after[id]:
		case f.AccountID == failedAc:
			wantUnknown = append(wantUnknown, id)
		case f.ResourceARN == removed:
			wantFixed = append(wantFixed, id)
		default:
			t.Errorf("finding %s %s on %s disappeared for no reason", f.RuleID, id, f.ResourceARN)
		}
	}
	// The scenario exercises each case, global findings of the failed
	// region's account included.
	rules := func(ids []string) string {
		var r []string
		for _, id := range ids {
			r = append(r, before[id].RuleID)
		}
		sort.Strings(r)
		return strings.Join(r, ",")
	}
	if len(wantNew) == 0 || len(wantFixed) == 0 || !strings.Contains(rules(wantFixed), "ER001") ||
		!strings.Contains(rules(wantUnknown), "ER006") || !strings.Contains(rules(wantUnknown), "ER001") {
		t.Fatalf("scenario: new %v, fixed %s, unknown %s", wantNew, rules(wantFixed), rules(wantUnknown))
	}

	var gotNew []string
	unchanged := 0
	for _, f := range got.Findings {
		switch f.Change {
		case findings.ChangeNew:
			gotNew = append(gotNew, f.ID)
		case findings.ChangeUnchanged:
			unchanged++
		default:
			t.Errorf("finding %s: change %q", f.ID, f.Change)
		}
	}
	ids := func(ps []findings.PastFinding) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		sort.Strings(out)
		return out
	}
	sort.Strings(wantNew)
	sort.Strings(gotNew)
	sort.Strings(wantFixed)
	sort.Strings(wantUnknown)
	rep := got.Triage.Baseline
	t.Logf("fixed %s; unknown %s; counts %+v", rules(wantFixed), rules(wantUnknown), rep.Counts)
	if !reflect.DeepEqual(gotNew, wantNew) {
		t.Errorf("new %v, want %v", gotNew, wantNew)
	}
	if !reflect.DeepEqual(ids(rep.Fixed), wantFixed) {
		t.Errorf("fixed %v, want %v", ids(rep.Fixed), wantFixed)
	}
	if !reflect.DeepEqual(ids(rep.Unknown), wantUnknown) {
		t.Errorf("unknown %v, want %v", ids(rep.Unknown), wantUnknown)
	}
	wantCounts := findings.BaselineCounts{New: len(wantNew), Unchanged: len(second.Findings) - len(wantNew), Fixed: len(wantFixed), Unknown: len(wantUnknown)}
	if rep.Counts != wantCounts || unchanged != wantCounts.Unchanged {
		t.Errorf("counts %+v, want %+v", rep.Counts, wantCounts)
	}
	for _, p := range rep.Unknown {
		if !strings.Contains(p.Reason, "account 333333333333 region eu-west-1 was not collected by this scan") {
			t.Errorf("unknown %s %s: reason %q", p.RuleID, p.ID, p.Reason)
		}
		if p.Region == "" && !strings.Contains(p.Reason, "where the baseline saw "+p.RoleARN+" used") {
			t.Errorf("global %s: reason %q", p.ID, p.Reason)
		}
	}
	for _, p := range rep.Fixed {
		if p.Reason != "" || p.Message == "" || p.Title == "" {
			t.Errorf("fixed %+v", p)
		}
	}
	if rep.Source != base.Source || rep.SchemaVersion != findings.ResultSchemaVersion || !rep.GeneratedAt.Equal(first.GeneratedAt) || rep.ToolVersion != "test" {
		t.Errorf("report %+v", rep)
	}
	if second.Findings[0].Change != "" || second.Triage != nil {
		t.Error("Compare modified its input")
	}
	roundTrip(t, got)

	// New findings first, the rest in their order.
	ordered := append([]findings.Finding(nil), got.Findings...)
	findings.SortNewFirst(ordered)
	for i, f := range ordered {
		if (i < len(wantNew)) != (f.Change == findings.ChangeNew) {
			t.Fatalf("position %d: %s %s", i, f.Change, f.ID)
		}
	}
	var rest []string
	for _, f := range got.Findings {
		if f.Change != findings.ChangeNew {
			rest = append(rest, f.ID)
		}
	}
	for i, id := range rest {
		if ordered[len(wantNew)+i].ID != id {
			t.Fatal("the order of unchanged findings changed")
		}
	}

	// The same scan against itself: nothing new, nothing gone.
	self := Compare(second, mustBaseline(t, second))
	if c := self.Triage.Baseline.Counts; c != (findings.BaselineCounts{Unchanged: len(second.Findings)}) {
		t.Errorf("self: %+v", c)
	}
	if w := Warnings(got); len(w) != 1 || !strings.HasPrefix(w[0], itoa(len(wantUnknown))+" finding(s) of the baseline") {
		t.Errorf("warnings %q", w)
	}
}

func mustBaseline(t *testing.T, res *findings.Result) *Baseline {
	t.Helper()
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBaseline(data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Whether a baseline finding that is gone is fixed or unknown, by what the
// current scan collected.
func TestCompareCoverage(t *testing.T) {
	const (
		acct  = "222222222222"
		other = "999999999999"
		role  = "arn:aws:iam::222222222222:role/app-exec"
		xrole = "arn:aws:iam::999999999999:role/shared-exec"
		td    = "arn:aws:ecs:eu-west-1:222222222222:task-definition/app:1"
	)
	regional := findings.PastFinding{ID: "r", RuleID: "ER004", Severity: findings.High, AccountID: acct, Region: "eu-west-1", RoleARN: role}
	agent := findings.PastFinding{ID: "g", RuleID: "AG001", Severity: findings.High, AccountID: acct, Region: "eu-west-1"}
	global := findings.PastFinding{ID: "x", RuleID: "ER006", Severity: findings.Medium, AccountID: acct, RoleARN: role}
	crossAccount := findings.PastFinding{ID: "c", RuleID: "ER004", Severity: findings.High, AccountID: acct, Region: "eu-west-1", RoleARN: xrole}
	full := []findings.AccountRegion{{AccountID: acct}, {AccountID: acct, Region: "eu-west-1"}, {AccountID: acct, Region: "us-east-1"}, {AccountID: other}}
	without := func(drop findings.AccountRegion) []findings.AccountRegion {
		var out []findings.AccountRegion
		for _, ar := range full {
			if ar != drop {
				out = append(out, ar)
			}
		}
		return out
	}
	withErrors := func(at findings.AccountRegion, n int) []findings.AccountRegion {
		out := append([]findings.AccountRegion(nil), full...)
		for i := range out {
			if out[i] == at {
				out[i].Errors = n
			}
		}
		return out
	}
	used := map[string][]string{role: {td}}
	for _, c := range []struct {
		name      string
		past      findings.PastFinding
		collected []findings.AccountRegion
		complete  bool
		roleUse   map[string][]string
		reason    string // "" = fixed
	}{
		{"regional, all collected", regional, full, true, used, ""},
		{"regional, region not collected", regional, without(findings.AccountRegion{AccountID: acct, Region: "eu-west-1"}), false, used,
			"account 222222222222 region eu-west-1 was not collected by this scan"},
		{"regional, region collected with errors", regional, withErrors(findings.AccountRegion{AccountID: acct, Region: "eu-west-1"}, 2), false, used,
			"account 222222222222 region eu-west-1 was collected with 2 collection error(s)"},
		{"regional, another region failed", regional, without(findings.AccountRegion{AccountID: acct, Region: "us-east-1"}), false, used, ""},
		{"regional, IAM not collected", regional, without(findings.AccountRegion{AccountID: acct}), false, used,
			"the IAM of account 222222222222 was not collected by this scan"},
		{"agent, IAM not collected", agent, without(findings.AccountRegion{AccountID: acct}), false, used,
			"the IAM of account 222222222222 was not collected by this scan"},
		{"account not scanned", regional, []findings.AccountRegion{{AccountID: other}}, false, used,
			"account 222222222222 region eu-west-1 was not collected by this scan"},
		{"nothing collected", regional, nil, false, used, "account 222222222222 region eu-west-1 was not collected by this scan"},
		{"role in another account", crossAccount, full, true, used, ""},
		{"role in another account not collected", crossAccount, without(findings.AccountRegion{AccountID: other}), false, used,
			"the IAM of account 999999999999 was not collected by this scan"},
		{"global, IAM and where the role was used collected", global, full, true, used, ""},
		{"global, IAM with errors", global, withErrors(findings.AccountRegion{AccountID: acct}, 1), false, used,
			"the IAM of account 222222222222 was collected with 1 collection error(s)"},
		{"global, where the role was used not collected", global, without(findings.AccountRegion{AccountID: acct, Region: "eu-west-1"}), false, used,
			"account 222222222222 region eu-west-1 was not collected by this scan (where the baseline saw arn:aws:iam::222222222222:role/app-exec used)"},
		{"global, elsewhere not collected", global, without(findings.AccountRegion{AccountID: acct, Region: "us-east-1"}), false, used, ""},
		{"global, use unknown, scan complete", global, full, true, nil, ""},
		{"global, use unknown, scan incomplete", global, full, false, nil,
			"the baseline does not say where this was used, and this scan is not complete"},
		{"no account", findings.PastFinding{ID: "n", RuleID: "ER001"}, full, true, nil, "the finding names no account"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := &findings.Result{Coverage: findings.Coverage{Complete: c.complete, Collected: c.collected}}
			b := &Baseline{Findings: []findings.PastFinding{c.past}, roleUse: c.roleUse}
			rep := Compare(res, b).Triage.Baseline
			switch {
			case c.reason == "" && (len(rep.Fixed) != 1 || len(rep.Unknown) != 0):
				t.Errorf("not fixed: %+v", rep)
			case c.reason != "" && (len(rep.Unknown) != 1 || rep.Unknown[0].Reason != c.reason):
				t.Errorf("got %+v, want unknown: %s", rep, c.reason)
			}
		})
	}
}

// A finding that replaces others (grouped by root cause) carries their
// fingerprints in MemberIDs, and the comparison sees them as the same.
func TestCompareMemberIDs(t *testing.T) {
	const acct = "222222222222"
	cov := findings.Coverage{Complete: true, Collected: []findings.AccountRegion{{AccountID: acct}, {AccountID: acct, Region: "us-east-1"}}}
	past := func(id string) findings.PastFinding {
		return findings.PastFinding{ID: id, RuleID: "ER004", Severity: findings.High, AccountID: acct, Region: "us-east-1"}
	}
	cur := func(id string, prev ...string) findings.Finding {
		return findings.Finding{ID: id, RuleID: "ER004", Severity: findings.High, AccountID: acct, Region: "us-east-1", MemberIDs: prev}
	}
	// An ungrouped baseline, a grouped scan: g replaces a and b; c is fixed;
	// n is new.
	res := &findings.Result{Coverage: cov, Findings: []findings.Finding{cur("g", "a", "b"), cur("n")}}
	b := &Baseline{Findings: []findings.PastFinding{past("a"), past("b"), past("c")}}
	out := Compare(res, b)
	if out.Findings[0].Change != findings.ChangeUnchanged || out.Findings[1].Change != findings.ChangeNew {
		t.Errorf("changes %q %q", out.Findings[0].Change, out.Findings[1].Change)
	}
	if rep := out.Triage.Baseline; len(rep.Fixed) != 1 || rep.Fixed[0].ID != "c" || len(rep.Unknown) != 0 ||
		rep.Counts != (findings.BaselineCounts{New: 1, Unchanged: 1, Fixed: 1}) {
		t.Errorf("report %+v", rep)
	}
	// A grouped baseline read from its findings.json, an ungrouped scan.
	data := `{"schemaVersion": 1, "tool": {"name": "audit"}, "generatedAt": "2026-12-01T00:00:00Z", "findings": [
		{"id": "g", "ruleId": "ER004", "severity": "high", "accountId": "222222222222", "region": "us-east-1", "memberIds": ["a", "b"]},
		{"id": "h", "ruleId": "ER004", "severity": "high", "accountId": "222222222222", "region": "us-east-1", "memberIds": ["d"]}]}`
	gb, err := ParseBaseline([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	res = &findings.Result{Coverage: cov, Findings: []findings.Finding{cur("a"), cur("b"), cur("n")}}
	out = Compare(res, gb)
	if c := out.Triage.Baseline.Counts; c != (findings.BaselineCounts{New: 1, Unchanged: 2, Fixed: 1}) || out.Triage.Baseline.Fixed[0].ID != "h" {
		t.Errorf("grouped baseline: %+v", out.Triage.Baseline)
	}
	// Without MemberIDs the fingerprints alone decide (the hook is a no-op).
	res = &findings.Result{Coverage: cov, Findings: []findings.Finding{cur("a"), cur("n")}}
	out = Compare(res, &Baseline{Findings: []findings.PastFinding{past("a"), past("b")}})
	if c := out.Triage.Baseline.Counts; c != (findings.BaselineCounts{New: 1, Unchanged: 1, Fixed: 1}) {
		t.Errorf("plain: %+v", c)
	}
}

// Comparing again replaces the annotations; nil removes them and keeps
// the suppressions.
func TestCompareAgain(t *testing.T) {
	res := Apply(&findings.Result{Findings: []findings.Finding{fTaskDef}}, mustParse(t, "- {rule: ER004, justification: j, expires: 2027-01-01}\n", now), now)
	once := Compare(res, &Baseline{})
	if once.Findings[0].Change != findings.ChangeNew || once.Triage.Suppressions == nil {
		t.Fatalf("%+v", once.Triage)
	}
	twice := Compare(once, &Baseline{Findings: []findings.PastFinding{{ID: "a"}}})
	if twice.Findings[0].Change != findings.ChangeUnchanged || twice.Triage.Baseline.Counts.New != 0 {
		t.Errorf("%+v", twice.Triage.Baseline)
	}
	none := Compare(twice, nil)
	if none.Findings[0].Change != "" || none.Triage.Baseline != nil || none.Triage.Suppressions == nil || none.Findings[0].Suppression == nil {
		t.Errorf("%+v", none.Triage)
	}
	if Compare(&findings.Result{}, nil).Triage != nil {
		t.Error("nil baseline leaves a Triage")
	}
}
