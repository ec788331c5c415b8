package triage

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-audit/audit/findings"
)

// matcher is a suppression's selectors, compiled.
type matcher struct {
	account, region, family, roleName, roleARN, resource globs
	policy, statement, action, fieldPath                 globs
}

func compileAll(pats []string, fold bool) globs {
	var out globs
	for _, p := range pats {
		if fold {
			p = strings.ToLower(p)
		}
		out = append(out, glob{pat: p, fold: fold})
	}
	return out
}

func compile(s *Suppression) matcher {
	m := matcher{
		account:   compileAll(s.Account, false),
		region:    compileAll(s.Region, false),
		family:    compileAll(s.Family, false),
		resource:  compileAll(s.Resource, false),
		policy:    compileAll(s.When.Policy, false),
		statement: compileAll(s.When.Statement, false),
		action:    compileAll(s.When.Action, true),
		fieldPath: compileAll(s.When.FieldPath, false),
	}
	for _, r := range s.Role {
		if strings.HasPrefix(r, "arn:") {
			m.roleARN = append(m.roleARN, glob{pat: r})
		} else {
			m.roleName = append(m.roleName, glob{pat: r})
		}
	}
	return m
}

// matches says whether the selectors cover the finding, rule aside. ev
// caches the finding's evidence values across suppressions.
func (m *matcher) matches(f *findings.Finding, ev **evidence) bool {
	if m.account != nil && !m.account.any(f.AccountID) ||
		m.region != nil && !m.region.any(f.Region) ||
		m.family != nil && !m.family.any(familyOf(f)) ||
		m.resource != nil && !m.resource.any(f.ResourceARN) {
		return false
	}
	if m.roleName != nil || m.roleARN != nil {
		name := ""
		if f.RoleARN != "" {
			name = f.RoleARN[strings.LastIndexByte(f.RoleARN, '/')+1:]
		}
		if !m.roleName.any(name) && !m.roleARN.any(f.RoleARN) {
			return false
		}
	}
	if m.policy == nil && m.statement == nil && m.action == nil && m.fieldPath == nil {
		return true
	}
	if *ev == nil {
		e := evidenceOf(f)
		*ev = &e
	}
	e := *ev
	return (m.policy == nil || m.policy.all(e.policies)) &&
		(m.statement == nil || m.statement.all(e.statements)) &&
		(m.action == nil || m.action.all(e.actions)) &&
		(m.fieldPath == nil || m.fieldPath.all(e.fieldPaths))
}

// familyOf is the family of the finding's task definition, or "".
func familyOf(f *findings.Finding) string {
	arn := f.TaskDefinitionARN
	if arn == "" && f.ResourceType == findings.ResourceTaskDefinition {
		arn = f.ResourceARN
	}
	const marker = ":task-definition/"
	i := strings.Index(arn, marker)
	if i < 0 {
		return ""
	}
	fam := arn[i+len(marker):]
	if j := strings.LastIndexByte(fam, ':'); j >= 0 {
		fam = fam[:j]
	}
	return fam
}

// evidence are the values a Condition is matched against.
type evidence struct {
	policies, statements, actions, fieldPaths []string
}

func evidenceOf(f *findings.Finding) evidence {
	var ev evidence
	add := func(list *[]string, v string) {
		if v == "" {
			return
		}
		for _, x := range *list {
			if x == v {
				return
			}
		}
		*list = append(*list, v)
	}
	e := &f.Evidence
	if e.Decision != nil {
		for _, st := range e.Decision.Statements {
			add(&ev.policies, st.Policy)
			add(&ev.statements, statementRef(st.Sid, st.Index))
		}
	}
	for _, x := range e.Excess {
		add(&ev.policies, x.Policy)
		add(&ev.statements, x.Statement)
		add(&ev.actions, x.Action)
	}
	if e.Need != nil {
		add(&ev.actions, e.Need.Action)
		add(&ev.fieldPaths, e.Need.FieldPath)
	}
	// A finding grouped by root cause lists every item it covers; a
	// condition must hold for each of them, not only for the first.
	for _, n := range e.Needs {
		add(&ev.actions, n.Action)
		add(&ev.fieldPaths, n.FieldPath)
		if n.Decision != nil {
			for _, st := range n.Decision.Statements {
				add(&ev.policies, st.Policy)
				add(&ev.statements, statementRef(st.Sid, st.Index))
			}
		}
	}
	for _, v := range e.Values {
		add(&ev.fieldPaths, v.FieldPath)
	}
	for _, g := range e.Features {
		add(&ev.fieldPaths, g.FieldPath)
	}
	for _, c := range e.Constraints {
		add(&ev.fieldPaths, c.FieldPath)
	}
	add(&ev.fieldPaths, e.Facts["fieldPath"])
	if f.RuleID == "PL001" {
		add(&ev.policies, e.Facts["policy"])
	}
	return ev
}

// statementRef names a statement as the findings do: its Sid, or "#index".
func statementRef(sid string, index int) string {
	if sid != "" {
		return sid
	}
	return "#" + itoa(index)
}

func itoa(i int) string { return strconv.Itoa(i) }

// Apply annotates every finding that a suppression matches and returns the
// annotated Result; res itself is not modified (the new Result shares
// everything but its findings and its Triage with res). Findings are never
// dropped.
//
//   - A finding matched by an active suppression (now is before the end of
//     its expiry day) carries Suppression. With several, the one that
//     expires last applies (the first written on a tie).
//   - A finding matched only by expired suppressions carries
//     SuppressionExpired (the one that expired last): it was accepted until
//     that day and counts again. A finding matched by an active and an
//     expired one reads as suppressed by the active one; the expired one
//     still counts as having matched it.
//   - A suppression that matched no finding is stale.
//
// Result.Triage.Suppressions counts and lists all of it. A nil set removes
// every suppression annotation.
func Apply(res *findings.Result, set *Suppressions, now time.Time) *findings.Result {
	out := *res
	out.Findings = make([]findings.Finding, len(res.Findings))
	copy(out.Findings, res.Findings)
	out.Triage = cloneTriage(res.Triage)
	m := newSuppressionMatcher(set, now)
	for i := range out.Findings {
		m.annotate(&out.Findings[i], true)
	}
	out.Triage = m.report(out.Triage)
	return &out
}

// suppressionMatcher applies a set of suppressions to findings one at a
// time, counting what it did for the SuppressionReport.
type suppressionMatcher struct {
	set                 *Suppressions
	list                []Suppression
	active, soon        []bool
	ms                  []matcher
	byRule              map[string][]int
	matched             []int
	suppressed, reopens int
}

func newSuppressionMatcher(set *Suppressions, now time.Time) *suppressionMatcher {
	m := &suppressionMatcher{set: set}
	if set == nil {
		return m
	}
	window := set.ExpiringWithin
	if window == 0 {
		window = DefaultExpiringWithin
	}
	list := set.List
	m.list = list
	m.active = make([]bool, len(list))
	m.soon = make([]bool, len(list))
	m.matched = make([]int, len(list))
	m.ms = make([]matcher, len(list))
	m.byRule = map[string][]int{}
	for i := range list {
		s := &list[i]
		m.ms[i] = compile(s)
		end := s.End()
		m.active[i] = now.Before(end)
		m.soon[i] = m.active[i] && end.Sub(now) <= window
		m.byRule[s.Rule] = append(m.byRule[s.Rule], i)
	}
	return m
}

// annotate sets the finding's Suppression or SuppressionExpired (and
// clears them when no suppression matches); count counts it for the
// report.
func (m *suppressionMatcher) annotate(f *findings.Finding, count bool) {
	f.Suppression, f.SuppressionExpired = nil, nil
	if m.set == nil {
		return
	}
	list := m.list
	better := func(cur, cand int) bool {
		return cur < 0 || list[cand].Expires.After(list[cur].Expires) ||
			list[cand].Expires.Equal(list[cur].Expires) && cand < cur
	}
	bestActive, bestExpired := -1, -1
	var ev *evidence
	own := m.byRule[f.RuleID]
	if f.RuleID == "*" {
		own = nil // not a rule ID; "*" entries are visited next
	}
	for _, ids := range [2][]int{own, m.byRule["*"]} {
		for _, i := range ids {
			if !m.ms[i].matches(f, &ev) {
				continue
			}
			if count {
				m.matched[i]++
			}
			if m.active[i] {
				if better(bestActive, i) {
					bestActive = i
				}
			} else if better(bestExpired, i) {
				bestExpired = i
			}
		}
	}
	switch {
	case bestActive >= 0:
		f.Suppression = annotation(&list[bestActive], m.soon[bestActive])
		if count {
			m.suppressed++
		}
	case bestExpired >= 0:
		f.SuppressionExpired = annotation(&list[bestExpired], false)
		if count {
			m.reopens++
		}
	}
}

// report sets t.Suppressions from what annotate counted, and returns t
// (nil when it holds nothing).
func (m *suppressionMatcher) report(t *findings.Triage) *findings.Triage {
	if m.set == nil {
		if t != nil {
			t.Suppressions = nil
		}
		return trimTriage(t)
	}
	list := m.list
	rep := &findings.SuppressionReport{Suppressed: m.suppressed, Reopened: m.reopens, Entries: make([]findings.SuppressionEntry, 0, len(list))}
	for i := range list {
		s := &list[i]
		e := findings.SuppressionEntry{Source: s.Source, Rule: s.Rule, Justification: s.Justification, Owner: s.Owner,
			Expires: s.ExpiresOn(), Status: findings.SuppressionActive, ExpiresSoon: m.soon[i], Matched: m.matched[i], Stale: m.matched[i] == 0}
		if !m.active[i] {
			e.Status = findings.SuppressionExpired
		}
		switch {
		case e.Stale:
			rep.Stale++
		case m.active[i]:
			rep.Active++
			if m.soon[i] {
				rep.ExpiringSoon++
			}
		default:
			rep.Expired++
		}
		rep.Entries = append(rep.Entries, e)
	}
	if t == nil {
		t = &findings.Triage{}
	}
	t.Suppressions = rep
	return t
}

func annotation(s *Suppression, soon bool) *findings.Suppression {
	return &findings.Suppression{Justification: s.Justification, Owner: s.Owner, Expires: s.ExpiresOn(), Source: s.Source, ExpiresSoon: soon}
}

func cloneTriage(t *findings.Triage) *findings.Triage {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

func trimTriage(t *findings.Triage) *findings.Triage {
	if t == nil || t.Suppressions == nil && t.Baseline == nil {
		return nil
	}
	return t
}

// Warnings are the lines a scan prints on stderr after triage: stale and
// expired suppressions, suppressions about to expire, and baseline
// findings whose state is unknown. They hold only sources (file:line),
// rule IDs, dates and counts.
func Warnings(res *findings.Result) []string {
	if res.Triage == nil {
		return nil
	}
	var out []string
	if s := res.Triage.Suppressions; s != nil {
		for _, e := range s.Entries {
			switch {
			case e.Stale && e.Status == findings.SuppressionExpired:
				out = append(out, "suppression at "+e.Source+" (rule "+e.Rule+") expired on "+e.Expires+" and matches no finding: remove it")
			case e.Stale:
				out = append(out, "suppression at "+e.Source+" (rule "+e.Rule+") matches no finding: it is stale, remove it")
			case e.Status == findings.SuppressionExpired:
				out = append(out, "suppression at "+e.Source+" (rule "+e.Rule+") expired on "+e.Expires+": its "+itoa(e.Matched)+" finding(s) count again")
			case e.ExpiresSoon:
				out = append(out, "suppression at "+e.Source+" (rule "+e.Rule+") expires on "+e.Expires)
			}
		}
	}
	if b := res.Triage.Baseline; b != nil && b.Counts.Unknown > 0 {
		out = append(out, itoa(b.Counts.Unknown)+" finding(s) of the baseline are in accounts or regions this scan did not fully collect: their state is unknown")
	}
	return out
}

// sortPast orders past findings like findings.Result: most severe first,
// then rule, account, region, resource, ID.
func sortPast(ps []findings.PastFinding) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		for _, p := range [][2]string{{a.RuleID, b.RuleID}, {a.AccountID, b.AccountID}, {a.Region, b.Region}, {a.ResourceARN, b.ResourceARN}, {a.ID, b.ID}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return false
	})
}
