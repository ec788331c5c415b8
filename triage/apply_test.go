package triage

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

const demoSnapshot = "../testdata/demo/snapshot.json"

func loadDemo(t *testing.T) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.Load(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func demoResult(t *testing.T) *findings.Result {
	t.Helper()
	return findings.Evaluate(loadDemo(t), findings.Options{ToolVersion: "test"})
}

func mustParse(t *testing.T, src string, at time.Time) *Suppressions {
	t.Helper()
	s, err := ParseSuppressions("accepted.yaml", []byte(src), Options{Now: at})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Hand-made findings with the evidence each rule gives.
var (
	fTaskDef = findings.Finding{ID: "a", RuleID: "ER004", Severity: findings.Critical, AccountID: "222222222222", Region: "us-east-1",
		ResourceType: findings.ResourceTaskDefinition, ResourceARN: "arn:aws:ecs:us-east-1:222222222222:task-definition/payments-api:3",
		TaskDefinitionARN: "arn:aws:ecs:us-east-1:222222222222:task-definition/payments-api:3", RoleARN: "arn:aws:iam::222222222222:role/svc/payments-api-exec",
		Evidence: findings.Evidence{
			Need: &findings.Need{Action: "logs:PutLogEvents", FieldPath: "containerDefinitions[0].logConfiguration.options.awslogs-group"},
			Decision: &policy.Result{Decision: policy.ExplicitDeny, Statements: []policy.StatementRef{
				{Layer: policy.LayerSCP, Level: 1, Policy: "deny-regions (p-123)", Sid: "DenyOutside", Index: 0, Effect: "Deny"}}},
			Facts: map[string]string{"fieldPath": "containerDefinitions[0].logConfiguration.options.awslogs-group"}}}
	fRole = findings.Finding{ID: "b", RuleID: "ER006", Severity: findings.Medium, AccountID: "222222222222",
		ResourceType: findings.ResourceRole, ResourceARN: "arn:aws:iam::222222222222:role/payments-ledger-exec", RoleARN: "arn:aws:iam::222222222222:role/payments-ledger-exec",
		Evidence: findings.Evidence{Excess: []findings.ExcessGrant{
			{Policy: "inline:legacy", Statement: "AllowAll", Action: "s3:*"},
			{Policy: "inline:legacy", Statement: "#1", Action: "logs:CreateLogGroup"}}}}
	fPolicy = findings.Finding{ID: "c", RuleID: "PL001", Severity: findings.Low, AccountID: "333333333333",
		ResourceType: findings.ResourceRole, ResourceARN: "arn:aws:iam::333333333333:role/analytics-exec", RoleARN: "arn:aws:iam::333333333333:role/analytics-exec",
		Evidence: findings.Evidence{Facts: map[string]string{"policy": "inline:typo"}}}
	fNoRole = findings.Finding{ID: "d", RuleID: "ER001", Severity: findings.Critical, AccountID: "222222222222", Region: "eu-west-1",
		ResourceType: findings.ResourceTaskDefinition, ResourceARN: "arn:aws:ecs:eu-west-1:222222222222:task-definition/payments-api:4",
		Evidence: findings.Evidence{Need: &findings.Need{Action: "ecr:GetAuthorizationToken", FieldPath: "containerDefinitions[0].image"}}}
)

// Each selector and condition, alone and together.
func TestMatching(t *testing.T) {
	all := []findings.Finding{fTaskDef, fRole, fPolicy, fNoRole}
	for _, c := range []struct {
		name, entry string
		want        string // IDs of the suppressed findings
	}{
		{"rule", "rule: ER004", "a"},
		{"any rule in an account", "{rule: '*', account: '222222222222'}", "abd"},
		{"account glob", "{rule: '*', account: '3*'}", "c"},
		{"region", "{rule: '*', region: us-east-1}", "a"},
		{"region list", "{rule: '*', region: [us-east-1, eu-west-1]}", "ad"},
		{"region * includes global findings", "{rule: '*', region: '*', account: '222222222222'}", "abd"},
		{"region ?", "{rule: '*', region: '??-west-1'}", "d"},
		{"family", "{rule: '*', family: payments-*}", "ad"},
		{"family exact", "{rule: '*', family: payments-api}", "ad"},
		{"family of another", "{rule: '*', family: payments-ap}", ""},
		{"role name, under a path", "{rule: '*', role: payments-*-exec}", "ab"},
		{"role ARN", "{rule: '*', role: 'arn:aws:iam::*:role/svc/*'}", "a"},
		{"role by name or ARN", "{rule: '*', role: [analytics-exec, 'arn:aws:iam::*:role/payments-ledger-*']}", "bc"},
		{"resource", "{rule: '*', resource: 'arn:aws:iam::*:role/*'}", "bc"},
		{"selectors combine with AND", "{rule: '*', account: '222222222222', region: eu-west-1, family: payments-*}", "d"},
		{"AND with no match", "{rule: ER004, region: eu-west-1}", ""},
		{"statement", "{rule: '*', account: '*', when: {statement: DenyOutside}}", "a"},
		{"policy with a space", "{rule: '*', account: '*', when: {policy: 'deny-regions (p-*)'}}", "a"},
		{"action matches without case", "{rule: '*', account: '*', when: {action: LOGS:PUT*}}", "a"},
		{"field path", "{rule: '*', account: '*', when: {fieldPath: 'containerDefinitions[*].logConfiguration.*'}}", "a"},
		{"field path of a need", "{rule: '*', account: '*', when: {fieldPath: '*.image'}}", "d"},
		{"every excess grant must match", "{rule: ER006, when: {action: 'logs:*'}}", ""},
		{"every excess grant matches", "{rule: ER006, when: {action: ['logs:*', 's3:*']}}", "b"},
		{"statements of the grants", "{rule: ER006, when: {statement: [AllowAll, '#1']}}", "b"},
		{"policy of the grants", "{rule: ER006, when: {policy: inline:legacy}}", "b"},
		{"PL001 names its policy", "{rule: PL001, when: {policy: 'inline:*'}}", "c"},
		{"a condition on absent evidence never matches", "{rule: '*', account: '*', when: {statement: '*'}}", "ab"},
		{"conditions combine with AND", "{rule: '*', account: '*', when: {statement: DenyOutside, action: 'ssm:*'}}", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := "- " + c.entry + "\n"
			if strings.HasPrefix(c.entry, "{") {
				src = "- " + strings.TrimSuffix(c.entry, "}") + ", justification: j, expires: 2027-01-01}\n"
			} else {
				src += "  justification: j\n  expires: 2027-01-01\n"
			}
			res := Apply(&findings.Result{Findings: all}, mustParse(t, src, now), now)
			got := ""
			for _, f := range res.Findings {
				if f.Suppression != nil {
					got += f.ID
				}
			}
			if got != c.want {
				t.Errorf("suppressed %q, want %q", got, c.want)
			}
		})
	}
}

// A finding grouped by root cause lists every need it covers: a condition
// must hold for each of them, not only for the first (Evidence.Need).
func TestMatchingGroupedFinding(t *testing.T) {
	deny := &policy.Result{Decision: policy.ExplicitDeny, Statements: []policy.StatementRef{
		{Layer: policy.LayerSCP, Level: 1, Policy: "deny-regions (p-123)", Sid: "DenyOutside", Effect: "Deny"}}}
	other := &policy.Result{Decision: policy.ImplicitDeny, Statements: []policy.StatementRef{
		{Layer: policy.LayerIdentity, Policy: "inline:app", Index: 2, Effect: "Allow"}}}
	logs := findings.Need{Action: "logs:PutLogEvents", FieldPath: "containerDefinitions[0].logConfiguration.options.awslogs-group"}
	ssm := findings.Need{Action: "ssm:GetParameters", FieldPath: "containerDefinitions[0].secrets[0].valueFrom"}
	grouped := fTaskDef
	grouped.ID = "g"
	grouped.Evidence = findings.Evidence{Need: &logs, Decision: deny, Needs: []findings.NeedEvidence{
		{Need: logs, Severity: findings.Critical, Decision: deny},
		{Need: ssm, Severity: findings.Critical, Decision: other}}}
	for _, c := range []struct {
		name, when string
		want       bool
	}{
		{"the first need's action only", "{action: 'logs:*'}", false},
		{"every need's action", "{action: ['logs:*', 'ssm:GetParameters']}", true},
		{"the first need's statement only", "{statement: DenyOutside}", false},
		{"every deciding statement", "{statement: [DenyOutside, '#2']}", true},
		{"the first need's field path only", "{fieldPath: '*.logConfiguration.*'}", false},
		{"every field path", "{fieldPath: 'containerDefinitions[0].*'}", true},
		{"every policy", "{policy: ['deny-regions (p-*)', 'inline:*']}", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := "- {rule: ER004, when: " + c.when + ", justification: j, expires: 2027-01-01}\n"
			res := Apply(&findings.Result{Findings: []findings.Finding{grouped}}, mustParse(t, src, now), now)
			if got := res.Findings[0].Suppression != nil; got != c.want {
				t.Errorf("suppressed %v, want %v", got, c.want)
			}
		})
	}
}

// The life of a suppression over successive scans: active, then expiring
// soon, then expired (the finding counts again and says until when it was
// accepted), and stale once the finding is gone.
func TestSuppressionLifecycle(t *testing.T) {
	res := demoResult(t)
	const ledger = "arn:aws:iam::222222222222:role/payments-ledger-exec"
	src := `suppressions:
  - rule: ER006
    role: payments-ledger-exec
    justification: Ledger reads every secret of its prefix until PAY-77 splits them.
    owner: payments@example.com
    expires: 2027-06-30
  - rule: ER004
    account: "222222222222"
    family: payments-audit-shipper
    when:
      statement: DenyOutsideApprovedRegions
    justification: The shipper is being moved to us-east-1.
    owner: platform@example.com
    expires: 2027-11-30
  - rule: TD001
    family: no-such-family
    justification: Left over from a deleted service.
    expires: 2027-01-31
`
	set := mustParse(t, src, now)
	base := res.Failing(findings.Medium)
	find := func(r *findings.Result, rule, role string) *findings.Finding {
		for i := range r.Findings {
			if f := &r.Findings[i]; f.RuleID == rule && f.RoleARN == role {
				return f
			}
		}
		t.Fatalf("no %s finding for %s", rule, role)
		return nil
	}
	stage := func(name string, at time.Time, r *findings.Result, want findings.SuppressionReport, ledgerWant, ledgerExpired *findings.Suppression, failing int) *findings.Result {
		t.Helper()
		out := Apply(r, set, at)
		got := *out.Triage.Suppressions
		got.Entries = nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: counts %+v, want %+v", name, got, want)
		}
		if ledgerWant != nil || ledgerExpired != nil {
			f := find(out, "ER006", ledger)
			if !reflect.DeepEqual(f.Suppression, ledgerWant) || !reflect.DeepEqual(f.SuppressionExpired, ledgerExpired) {
				t.Errorf("%s: ledger finding suppression %+v, expired %+v", name, f.Suppression, f.SuppressionExpired)
			}
		}
		if n := out.Failing(findings.Medium); n != failing {
			t.Errorf("%s: %d failing at medium, want %d", name, n, failing)
		}
		roundTrip(t, out)
		return out
	}
	ledgerActive := &findings.Suppression{Justification: "Ledger reads every secret of its prefix until PAY-77 splits them.",
		Owner: "payments@example.com", Expires: "2027-06-30", Source: "accepted.yaml:2"}

	// 1. Active: two findings suppressed (the ledger role, and the shipper's
	// denied log calls, one root cause); the TD001 entry matches nothing
	// from the start.
	out := stage("active", now, res, findings.SuppressionReport{Suppressed: 2, Active: 2, Stale: 1}, ledgerActive, nil, base-2)
	e := out.Triage.Suppressions.Entries
	if len(e) != 3 || e[0].Matched != 1 || e[1].Matched != 1 || e[2].Matched != 0 || !e[2].Stale ||
		e[0].Status != findings.SuppressionActive || e[0].Source != "accepted.yaml:2" || e[1].Source != "accepted.yaml:7" {
		t.Errorf("entries %+v", e)
	}
	if w := Warnings(out); !reflect.DeepEqual(w, []string{"suppression at accepted.yaml:15 (rule TD001) matches no finding: it is stale, remove it"}) {
		t.Errorf("warnings %q", w)
	}
	if res.Findings[0].Suppression != nil || res.Triage != nil {
		t.Error("Apply modified its input")
	}

	// 2. Expiring: within 30 days of the end of 2027-06-30.
	soon := *ledgerActive
	soon.ExpiresSoon = true
	out = stage("expiring", time.Date(2027, 6, 1, 0, 0, 1, 0, time.UTC), res,
		findings.SuppressionReport{Suppressed: 2, Active: 2, ExpiringSoon: 1, Stale: 1}, &soon, nil, base-2)
	if !out.Triage.Suppressions.Entries[0].ExpiresSoon || out.Triage.Suppressions.Entries[1].ExpiresSoon {
		t.Errorf("entries %+v", out.Triage.Suppressions.Entries)
	}
	if w, want := Warnings(out), []string{
		"suppression at accepted.yaml:2 (rule ER006) expires on 2027-06-30",
		"suppression at accepted.yaml:15 (rule TD001) expired on 2027-01-31 and matches no finding: remove it",
	}; !reflect.DeepEqual(w, want) {
		t.Errorf("warnings %q", w)
	}
	// The last second of the expiry day still suppresses.
	stage("last second", time.Date(2027, 6, 30, 23, 59, 59, 0, time.UTC), res,
		findings.SuppressionReport{Suppressed: 2, Active: 2, ExpiringSoon: 1, Stale: 1}, &soon, nil, base-2)

	// 3. Expired: the finding is back and says until when it was accepted.
	out = stage("expired", time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC), res,
		findings.SuppressionReport{Suppressed: 1, Reopened: 1, Active: 1, Expired: 1, Stale: 1}, nil, ledgerActive, base-1)
	if e := out.Triage.Suppressions.Entries[0]; e.Status != findings.SuppressionExpired || e.Matched != 1 || e.Stale {
		t.Errorf("expired entry %+v", e)
	}
	if w := Warnings(out); len(w) != 2 || w[0] != "suppression at accepted.yaml:2 (rule ER006) expired on 2027-06-30: its 1 finding(s) count again" {
		t.Errorf("warnings %q", w)
	}

	// 4. Stale: a later scan no longer has the finding (the role was fixed).
	fixed := *res
	fixed.Findings = nil
	for _, f := range res.Findings {
		if !(f.RuleID == "ER006" && f.RoleARN == ledger) {
			fixed.Findings = append(fixed.Findings, f)
		}
	}
	out = stage("stale", time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC), &fixed,
		findings.SuppressionReport{Suppressed: 1, Active: 1, Stale: 2}, nil, nil, base-2)
	if e := out.Triage.Suppressions.Entries[0]; e.Status != findings.SuppressionExpired || !e.Stale || e.Matched != 0 {
		t.Errorf("stale entry %+v", e)
	}
	w := Warnings(out)
	want := []string{
		"suppression at accepted.yaml:2 (rule ER006) expired on 2027-06-30 and matches no finding: remove it",
		"suppression at accepted.yaml:15 (rule TD001) expired on 2027-01-31 and matches no finding: remove it",
	}
	if !reflect.DeepEqual(w, want) {
		t.Errorf("warnings %q", w)
	}
}

// A finding matched by several suppressions reads as the one that lasts.
func TestOverlappingSuppressions(t *testing.T) {
	src := `- {rule: ER004, justification: old, expires: 2026-11-30}
- {rule: ER004, justification: older, expires: 2026-10-31}
- {rule: '*', account: '222222222222', justification: short, expires: 2026-12-31}
- {rule: ER004, region: us-east-1, justification: long, expires: 2027-06-30}
- {rule: ER004, region: us-east-1, justification: tie, expires: 2027-06-30}
`
	set := mustParse(t, src, now)
	res := Apply(&findings.Result{Findings: []findings.Finding{fTaskDef, fNoRole}}, set, now)
	a, d := res.Findings[0], res.Findings[1]
	if a.Suppression == nil || a.Suppression.Justification != "long" || a.SuppressionExpired != nil {
		t.Errorf("active and expired: %+v %+v", a.Suppression, a.SuppressionExpired)
	}
	if d.Suppression == nil || d.Suppression.Justification != "short" || !d.Suppression.ExpiresSoon {
		t.Errorf("ER001: %+v", d.Suppression)
	}
	got := []int{}
	for _, e := range res.Triage.Suppressions.Entries {
		got = append(got, e.Matched)
	}
	if !reflect.DeepEqual(got, []int{1, 1, 2, 1, 1}) {
		t.Errorf("matched %v", got)
	}
	// Only expired ones: the latest expiry is shown.
	res = Apply(&findings.Result{Findings: []findings.Finding{fTaskDef}}, &Suppressions{List: set.List[:2]}, now)
	if f := res.Findings[0]; f.Suppression != nil || f.SuppressionExpired == nil || f.SuppressionExpired.Justification != "old" {
		t.Errorf("expired only: %+v", f.SuppressionExpired)
	}
	if c := res.Triage.Suppressions; c.Reopened != 1 || c.Expired != 2 || c.Suppressed != 0 {
		t.Errorf("counts %+v", c)
	}
}

// Applying again replaces the annotations; nil removes them.
func TestApplyAgain(t *testing.T) {
	res := &findings.Result{Findings: []findings.Finding{fTaskDef}}
	once := Apply(res, mustParse(t, "- {rule: ER004, justification: j, expires: 2027-01-01}\n", now), now)
	twice := Apply(once, mustParse(t, "- {rule: ER006, justification: j, expires: 2027-01-01}\n", now), now)
	if twice.Findings[0].Suppression != nil || twice.Triage.Suppressions.Stale != 1 {
		t.Errorf("%+v %+v", twice.Findings[0].Suppression, twice.Triage.Suppressions)
	}
	none := Apply(once, nil, now)
	if none.Findings[0].Suppression != nil || none.Triage != nil {
		t.Errorf("%+v %+v", none.Findings[0].Suppression, none.Triage)
	}
	empty := Apply(res, &Suppressions{}, now)
	if empty.Triage == nil || empty.Triage.Suppressions.Entries == nil || len(empty.Triage.Suppressions.Entries) != 0 {
		t.Errorf("%+v", empty.Triage)
	}
}

// --fail-on ignores suppressed findings; --fail-on-new counts only new ones.
func TestFailing(t *testing.T) {
	res := &findings.Result{Findings: []findings.Finding{fTaskDef, fRole, fPolicy, fNoRole}}
	for _, c := range []struct {
		min  findings.Severity
		want int
	}{{findings.Critical, 2}, {findings.High, 2}, {findings.Medium, 3}, {findings.Low, 4}, {findings.Info, 4}, {"", 0}, {"bogus", 0}} {
		if got := res.Failing(c.min); got != c.want {
			t.Errorf("Failing(%q) = %d, want %d", c.min, got, c.want)
		}
	}
	sup := Apply(res, mustParse(t, "- {rule: ER001, justification: j, expires: 2027-01-01}\n", now), now)
	if got := sup.Failing(findings.Critical); got != 1 {
		t.Errorf("suppressed: %d", got)
	}
	if got := sup.FailingNew(findings.Low); got != 0 {
		t.Errorf("no baseline: %d new", got)
	}
	// Against a baseline holding a (ER004) and c (PL001): b and d are new,
	// d is suppressed.
	b := &Baseline{Findings: []findings.PastFinding{{ID: "a"}, {ID: "c"}}}
	cmp := Compare(sup, b)
	for _, c := range []struct {
		min  findings.Severity
		want int
	}{{findings.Critical, 0}, {findings.Medium, 1}, {findings.Info, 1}} {
		if got := cmp.FailingNew(c.min); got != c.want {
			t.Errorf("FailingNew(%q) = %d, want %d", c.min, got, c.want)
		}
	}
	// With an empty baseline every finding is new.
	if got := Compare(res, &Baseline{}).FailingNew(findings.Info); got != 4 {
		t.Errorf("empty baseline: %d", got)
	}
}

// roundTrip checks that the annotated Result survives findings.json: what
// is written reads back to the same Result, and is a valid baseline.
func roundTrip(t *testing.T, res *findings.Result) {
	t.Helper()
	b1, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back findings.Result
	if err := json.Unmarshal(b1, &back); err != nil {
		t.Fatal(err)
	}
	b2, err := json.Marshal(&back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1, b2) {
		t.Errorf("findings.json does not round-trip:\n%s\n%s", b1, b2)
	}
	if !reflect.DeepEqual(back.Triage, res.Triage) {
		t.Errorf("triage %+v, read back %+v", res.Triage, back.Triage)
	}
	for i := range res.Findings {
		a, z := res.Findings[i], back.Findings[i]
		if !reflect.DeepEqual(a.Suppression, z.Suppression) || !reflect.DeepEqual(a.SuppressionExpired, z.SuppressionExpired) ||
			a.Change != z.Change || !reflect.DeepEqual(a.MemberIDs, z.MemberIDs) {
			t.Fatalf("finding %s read back as %+v", a.ID, z)
		}
	}
	if _, err := ParseBaseline(b1); err != nil {
		t.Errorf("an annotated findings.json is not a baseline: %v", err)
	}
}

// Without triage, findings.json has none of its fields: consumers of the
// format see no change. (memberIds is not one of them: every finding
// grouped by root cause lists the version 1 IDs it replaces, triage or
// not; Compare matches baselines with it.)
func TestNoTriageNoFields(t *testing.T) {
	res := demoResult(t)
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"triage"`, `"suppression"`, `"suppressionExpired"`, `"change"`, `"expiresSoon"`} {
		if bytes.Contains(b, []byte(k)) {
			t.Errorf("findings.json without triage has %s", k)
		}
	}
	// Applying nothing and comparing with nothing leaves the same bytes.
	again, err := json.Marshal(Compare(Apply(res, nil, now), nil))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, b) {
		t.Error("Apply(nil) and Compare(nil) changed findings.json")
	}
}
