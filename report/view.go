package report

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
)

// view is the shared view model of every format: the Result's header, its
// lists read one element at a time from a findings.Source in the order
// every format writes them, the rule catalog completed with any rule a
// finding names, and the counts, made in one first pass over the
// findings. It never modifies the Result it was built from.
type view struct {
	res *findings.Result
	src findings.Source
	// nFindings, nRoles and nTaskDefs count the lists.
	nFindings, nRoles, nTaskDefs int
	// catalog is the rule catalog of the Result (Result.Rules), or this
	// build's catalog for a Result that has none; findings.json carries it.
	catalog []findings.RuleMeta
	// rules is the catalog plus a minimal entry for every rule ID that a
	// finding names but the catalog does not know, sorted by ID.
	rules     []findings.RuleMeta
	ruleIndex map[string]int

	bySeverity []count // every severity, most severe first, zeros included (then unknown severities)
	byRule     []count // most findings first, then ID
	byAccount  []count // most findings first, then ID; Label is the account name

	// affected counts the distinct resources the findings affect, by type;
	// items the items they cover (affectedCounts).
	affected map[string]int
	items    int
	// triage holds what triage added, counted from the findings so that
	// every format agrees.
	triage triageView
	// itemRows counts the rows of the workbook's Affected items table (one
	// sheet, or several past a sheet's row limit).
	itemRows int
	// accepted counts the findings a suppression covers or covered.
	accepted int
	// newHigh are the first shortMaxNew new findings at high or above
	// that no suppression covers, newHighCount counts them all.
	newHigh      []*findings.Finding
	newHighCount int
	// top are the first markdownTop findings in the summary's order
	// (actionable).
	top []*findings.Finding

	accountNames map[string]string
	errors       []inventory.CollectionError
	gaps         []string
	regions      []string
	accounts     []findings.AccountRef
}

// catalog is the rule catalog the writers describe when the Result carries
// none (a Result built by hand; ReadResult gives a version 1 findings.json
// this build's catalog); tests replace it with a fixed one so that golden
// files do not change with the rules' wording.
var catalog = findings.Catalog

// count is one line of a summary.
type count struct {
	Key   string
	Label string
	Count int
}

// newView is the view of a Result held in memory.
func newView(res *findings.Result) *view {
	// Reading a Result in memory cannot fail.
	v, _ := newSourceView(findings.ResultSource(res))
	return v
}

// newSourceView reads the findings of src once, for the counts.
func newSourceView(src findings.Source) (*view, error) {
	res := src.Header()
	v := &view{res: res, src: src, accountNames: map[string]string{}}
	v.nFindings, v.nRoles, v.nTaskDefs = src.Len()

	for _, a := range res.Scope.Accounts {
		if a.Name != "" {
			v.accountNames[a.ID] = a.Name
		}
	}
	// Rules: the Result's catalog, then any rule a finding names that it
	// lacks.
	if len(res.Rules) > 0 {
		v.catalog = slices.Clone(res.Rules)
	} else {
		v.catalog = catalog()
	}
	slices.SortStableFunc(v.catalog, func(a, b findings.RuleMeta) int { return cmp.Compare(a.ID, b.ID) })
	v.rules = slices.Clone(v.catalog)
	known := map[string]bool{}
	for _, r := range v.rules {
		known[r.ID] = true
	}

	// Counts, from the findings themselves so every format agrees.
	sev := map[string]int{}
	rule := map[string]int{}
	acct := map[string]*int{}
	v.triage = triageView{newBySeverity: map[findings.Severity]int{}, suppressedBySeverity: map[findings.Severity]int{},
		newAllBySeverity: map[findings.Severity]int{}}
	ac := newAffectedCounter()
	defer ac.close()
	// The summary's order: not accepted before accepted, new before the
	// others, then the view's order; the first markdownTop of each.
	var buckets [4][]*findings.Finding
	n := 0
	err := src.EachFinding(func(f *findings.Finding) error {
		n++
		// Strings kept past the finding are copied: the strings of a
		// finding read from a spool share one allocation, which a map key
		// or value taken from it would keep whole (at 2,000 accounts,
		// about 35 MB of findings held for their account IDs).
		if f.AccountName != "" && v.accountNames[f.AccountID] == "" {
			v.accountNames[strings.Clone(f.AccountID)] = strings.Clone(f.AccountName)
		}
		if !known[f.RuleID] {
			known[f.RuleID] = true
			v.rules = append(v.rules, findings.RuleMeta{ID: f.RuleID, Title: f.Title, Severity: f.Severity, Remediation: f.Remediation})
		}
		sev[string(f.Severity)]++
		rule[f.RuleID]++
		// acct[f.AccountID]++ would store the finding's string as the key
		// each time.
		if p := acct[f.AccountID]; p != nil {
			*p++
		} else {
			one := 1
			acct[strings.Clone(f.AccountID)] = &one
		}
		ac.add(f)
		v.triage.count(f)
		v.itemRows += itemCount(f)
		if f.Suppression != nil || f.SuppressionExpired != nil {
			v.accepted++
		}
		if f.Change == findings.ChangeNew && f.Suppression == nil && f.Severity.Rank() >= findings.High.Rank() {
			if len(v.newHigh) < shortMaxNew {
				v.newHigh = append(v.newHigh, f)
			}
			v.newHighCount++
		}
		b := 2*b2i(f.Suppression != nil) + b2i(f.Change != findings.ChangeNew)
		if len(buckets[b]) < markdownTop {
			buckets[b] = append(buckets[b], f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n != v.nFindings {
		return nil, fmt.Errorf("report: %d findings read, %d counted", n, v.nFindings)
	}
	for _, b := range buckets {
		v.top = append(v.top, b...)
	}
	v.top = v.top[:min(len(v.top), markdownTop)]
	if v.affected, v.items, err = ac.counts(); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	// The SARIF writer writes the baseline's findings of unknown state as
	// results too: their rules are described as well.
	if res.Triage != nil && res.Triage.Baseline != nil {
		for _, p := range res.Triage.Baseline.Unknown {
			if !known[p.RuleID] {
				known[p.RuleID] = true
				v.rules = append(v.rules, findings.RuleMeta{ID: p.RuleID, Title: p.Title, Severity: p.Severity})
			}
		}
	}
	sort.SliceStable(v.rules, func(i, j int) bool { return v.rules[i].ID < v.rules[j].ID })
	v.ruleIndex = make(map[string]int, len(v.rules))
	for i, r := range v.rules {
		v.ruleIndex[r.ID] = i
	}
	for _, s := range findings.Severities {
		v.bySeverity = append(v.bySeverity, count{Key: string(s), Label: string(s), Count: sev[string(s)]})
		delete(sev, string(s))
	}
	for _, k := range sortedKeys(sev) { // unknown severities, if any
		v.bySeverity = append(v.bySeverity, count{Key: k, Label: k, Count: sev[k]})
	}
	for k, n := range rule {
		label := k
		if i, ok := v.ruleIndex[k]; ok && v.rules[i].Title != "" {
			label = v.rules[i].Title
		}
		v.byRule = append(v.byRule, count{Key: k, Label: label, Count: n})
	}
	for k, n := range acct {
		v.byAccount = append(v.byAccount, count{Key: k, Label: v.accountNames[k], Count: *n})
	}
	sortCounts(v.byRule)
	sortCounts(v.byAccount)
	v.triage.finish(res)

	v.errors = slices.Clone(res.Coverage.Errors)
	slices.SortStableFunc(v.errors, compareErrors)
	v.gaps = slices.Clone(res.Coverage.Gaps)
	sort.Strings(v.gaps)
	v.regions = slices.Clone(res.Scope.Regions)
	sort.Strings(v.regions)
	v.accounts = slices.Clone(res.Scope.Accounts)
	slices.SortStableFunc(v.accounts, func(a, b findings.AccountRef) int { return cmp.Compare(a.ID, b.ID) })
	return v, nil
}

// forked is the view for a part of a writer that reads the findings at
// the same time as other parts (the workbook's tables, see
// table.streamFindings): with fork, it reads them from a fork of the
// writer's reader, so that every part reads the pass the other writers
// read (see fanout); without, from the writer's reader itself, for the
// first such part. done says the part reads no more, or never will: until
// then its reader holds back the first pass. A view whose findings are not
// shared is its own.
func (v *view) forked(fork bool) (fv *view, done func()) {
	r, ok := v.src.(*fanReader)
	if !ok {
		return v, func() {}
	}
	if !fork {
		return v, r.leave
	}
	k := r.fork()
	w := *v
	w.src = k
	return &w, k.leave
}

// eachFinding visits the findings in the order of every format
// (findings.CompareFindings).
func (v *view) eachFinding(fn func(*findings.Finding) error) error {
	return v.src.EachFinding(fn)
}

// eachRole visits the roles by account, then ARN.
func (v *view) eachRole(fn func(*findings.RoleReport) error) error {
	return v.src.EachAccountRoles(func(_ string, rs []*findings.RoleReport) error {
		slices.SortStableFunc(rs, func(a, b *findings.RoleReport) int { return cmp.Compare(a.RoleARN, b.RoleARN) })
		for _, r := range rs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// eachTaskDef visits the task definitions by account, region, family,
// revision and ARN.
func (v *view) eachTaskDef(fn func(*findings.TaskDefReport) error) error {
	return v.src.EachAccountTaskDefinitions(func(_ string, ts []*findings.TaskDefReport) error {
		slices.SortStableFunc(ts, func(a, b *findings.TaskDefReport) int {
			return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Family, b.Family), cmp.Compare(a.Revision, b.Revision), cmp.Compare(a.ARN, b.ARN))
		})
		for _, t := range ts {
			if err := fn(t); err != nil {
				return err
			}
		}
		return nil
	})
}

// triageView is what triage added to the Result (suppressions applied, the
// comparison with a baseline), counted from the findings.
type triageView struct {
	// suppressions is Result.Triage.Suppressions; nil when no suppression
	// was applied.
	suppressions *findings.SuppressionReport
	// baseline is Result.Triage.Baseline; nil without a comparison.
	baseline *findings.BaselineReport
	// Findings by what triage says of them.
	suppressed, reopened, expiringSoon int
	new, unchanged                     int
	// newBySeverity counts the new findings that no suppression covers,
	// newAllBySeverity every new finding.
	newBySeverity, newAllBySeverity map[findings.Severity]int
	// suppressedBySeverity counts the suppressed findings.
	suppressedBySeverity map[findings.Severity]int
	// stale lists the suppressions that matched nothing.
	stale []findings.SuppressionEntry
}

// count counts one finding.
func (t *triageView) count(f *findings.Finding) {
	switch {
	case f.Suppression != nil:
		t.suppressed++
		t.suppressedBySeverity[f.Severity]++
		if f.Suppression.ExpiresSoon {
			t.expiringSoon++
		}
	case f.SuppressionExpired != nil:
		t.reopened++
	}
	switch f.Change {
	case findings.ChangeNew:
		t.new++
		t.newAllBySeverity[f.Severity]++
		if f.Suppression == nil {
			t.newBySeverity[f.Severity]++
		}
	case findings.ChangeUnchanged:
		t.unchanged++
	}
}

// finish takes what the Result says of triage.
func (t *triageView) finish(res *findings.Result) {
	if res.Triage != nil {
		t.suppressions, t.baseline = res.Triage.Suppressions, res.Triage.Baseline
	}
	if t.suppressions != nil {
		for _, e := range t.suppressions.Entries {
			if e.Stale {
				t.stale = append(t.stale, e)
			}
		}
	}
}

// hasSuppressions says whether suppressions were applied (or a finding
// carries one).
func (t *triageView) hasSuppressions() bool {
	return t.suppressions != nil || t.suppressed > 0 || t.reopened > 0
}

// hasBaseline says whether the findings were compared with a baseline.
func (t *triageView) hasBaseline() bool {
	return t.baseline != nil || t.new > 0 || t.unchanged > 0
}

// fixed and unknown are the baseline findings that are gone.
func (t *triageView) fixed() []findings.PastFinding {
	if t.baseline == nil {
		return nil
	}
	return t.baseline.Fixed
}

func (t *triageView) unknown() []findings.PastFinding {
	if t.baseline == nil {
		return nil
	}
	return t.baseline.Unknown
}

// eachNewFirst visits the findings with the new ones first, each part in
// the view's order: the order of the HTML report after a comparison (as
// findings.SortNewFirst orders a []Finding).
func (v *view) eachNewFirst(fn func(*findings.Finding) error) error {
	if v.triage.new == 0 {
		return v.eachFinding(fn)
	}
	for _, isNew := range []bool{true, false} {
		err := v.eachFinding(func(f *findings.Finding) error {
			if (f.Change == findings.ChangeNew) != isNew {
				return nil
			}
			return fn(f)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rootCauseLine is "35 root causes affecting 22 task definitions, 11
// services, 7 roles, 3 container instances".
func (v *view) rootCauseLine() string {
	s := countOf(v.nFindings, "root cause", "root causes")
	if a := countResources(v.affected); a != "" {
		s += " affecting " + a
	}
	return s
}

// SummaryLine counts a Result's findings as root causes and what they
// affect, in the words every report uses: "35 root causes affecting 22
// task definitions, 11 services, 7 roles, 3 container instances (66
// items)", or "0 root causes". It holds only counts and nouns (no text from
// AWS), for a terminal summary.
func SummaryLine(res *findings.Result) string {
	return newView(res).summaryLine()
}

func (v *view) summaryLine() string {
	if v.nFindings == 0 {
		return v.rootCauseLine()
	}
	return v.rootCauseLine() + " (" + countOf(v.items, "item", "items") + ")"
}

// acceptance is how a finding's risk acceptance reads in a cell:
// "accepted", "accepted, expires soon", "expired" or "".
func acceptance(f *findings.Finding) (state string, s *findings.Suppression) {
	switch {
	case f.Suppression != nil && f.Suppression.ExpiresSoon:
		return "accepted, expires soon", f.Suppression
	case f.Suppression != nil:
		return "accepted", f.Suppression
	case f.SuppressionExpired != nil:
		return "expired", f.SuppressionExpired
	}
	return "", nil
}

func compareErrors(a, b inventory.CollectionError) int {
	return cmp.Or(
		cmp.Compare(a.AccountID, b.AccountID),
		cmp.Compare(a.Region, b.Region),
		cmp.Compare(a.Service, b.Service),
		cmp.Compare(a.Operation, b.Operation),
		cmp.Compare(a.Resource, b.Resource),
		cmp.Compare(a.Code, b.Code),
		cmp.Compare(a.Message, b.Message),
	)
}

func sortCounts(c []count) {
	slices.SortStableFunc(c, func(a, b count) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key))
	})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// accountLabel is "Name (ID)" or the ID.
func (v *view) accountLabel(id string) string {
	if n := v.accountNames[id]; n != "" {
		return n + " (" + id + ")"
	}
	return id
}

// accountName is the name of an account, from the finding or the scope.
func (v *view) accountName(f *findings.Finding) string {
	if f.AccountName != "" {
		return f.AccountName
	}
	return v.accountNames[f.AccountID]
}

// incomplete reports whether the scan missed something.
func (v *view) incomplete() bool {
	c := v.res.Coverage
	return !c.Complete || c.Interrupted != "" || len(c.Errors) > 0
}

// coverageLine is one sentence about what was scanned.
func (v *view) coverageLine() string {
	c := v.res.Coverage
	var b strings.Builder
	b.WriteString(itoa(c.AccountsScanned) + " of " + itoa(c.AccountsTotal) + " accounts scanned, " +
		itoa(c.RegionsScanned) + " account-regions collected")
	if c.RegionsNotEnabled > 0 {
		b.WriteString(", " + itoa(c.RegionsNotEnabled) + " not enabled")
	}
	if c.RegionsFailed > 0 {
		b.WriteString(", " + itoa(c.RegionsFailed) + " failed")
	}
	b.WriteString(", " + itoa(len(c.Errors)) + " collection error" + plural(len(c.Errors)))
	if c.Interrupted != "" {
		b.WriteString("; scan interrupted (" + c.Interrupted + ")")
	}
	if v.incomplete() {
		b.WriteString(" — coverage INCOMPLETE")
	} else {
		b.WriteString(" — coverage complete")
	}
	return b.String()
}

// resourceName is the last part of an ARN's resource ("role/path/name" →
// "name"), or the ARN itself when it has no resource part.
func resourceName(arn string) string {
	res := arnResource(arn)
	if i := strings.LastIndexByte(res, '/'); i >= 0 {
		return res[i+1:]
	}
	return res
}

// arnResource returns the resource part of an ARN (after the fifth colon),
// or s itself when it is not an ARN.
func arnResource(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 {
		return s
	}
	return parts[5]
}

// arnField returns field i (0 "arn", 1 partition, 2 service, 3 region,
// 4 account) of an ARN, or "".
func arnField(s string, i int) string {
	if !strings.HasPrefix(s, "arn:") {
		return ""
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 || i >= 5 {
		return ""
	}
	return parts[i]
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
