package triage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ecs-audit/audit/findings"
)

// OldestBaselineVersion is the oldest findings.json schema version
// ParseBaseline reads; the newest is findings.ResultSchemaVersion.
const OldestBaselineVersion = 1

// Baseline is the findings of an earlier scan, read from its findings.json.
type Baseline struct {
	// Source names the baseline in the Result (a file name or URL); the
	// caller sets it.
	Source        string
	SchemaVersion int
	GeneratedAt   time.Time
	ToolVersion   string
	// Findings are the baseline's findings, as it described them.
	Findings []findings.PastFinding
	// previous are the MemberIDs of each finding, by index.
	previous [][]string
	// roleUse maps a role ARN to the task definitions that used it.
	roleUse map[string][]string
}

// BaselineError is a findings.json that cannot serve as a baseline: the
// field (a JSON path such as findings[3].id, or "" for the whole file) and
// what is wrong. The caller prefixes the file name.
type BaselineError struct {
	Field string
	// Offset is the byte offset in the file, when known (-1 otherwise).
	Offset int64
	Msg    string
}

func (e *BaselineError) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " (byte offset %d)", e.Offset)
	}
	return b.String()
}

func baselineErr(field, format string, args ...any) *BaselineError {
	return &BaselineError{Field: field, Offset: -1, Msg: fmt.Sprintf(format, args...)}
}

// baselineDoc is what ParseBaseline reads of a findings.json; the other
// fields are skipped.
type baselineDoc struct {
	SchemaVersion json.RawMessage `json:"schemaVersion"`
	Format        json.RawMessage `json:"format"`  // an inventory snapshot has it
	Runs          json.RawMessage `json:"runs"`    // a SARIF log has it
	Version       json.RawMessage `json:"version"` // a SARIF log has it
	Tool          *baselineTool   `json:"tool"`
	GeneratedAt   *string         `json:"generatedAt"`
	Findings      *[]pastFinding  `json:"findings"`
	Roles         []baselineRole  `json:"roles"`
}

type baselineTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type baselineRole struct {
	RoleARN string   `json:"roleArn"`
	UsedBy  []string `json:"usedBy"`
}

// pastFinding is what is read of each finding.
type pastFinding struct {
	ID                string            `json:"id"`
	RuleID            string            `json:"ruleId"`
	Severity          findings.Severity `json:"severity"`
	Title             string            `json:"title"`
	Message           string            `json:"message"`
	AccountID         string            `json:"accountId"`
	AccountName       string            `json:"accountName"`
	Region            string            `json:"region"`
	ResourceType      string            `json:"resourceType"`
	ResourceARN       string            `json:"resourceArn"`
	TaskDefinitionARN string            `json:"taskDefinitionArn"`
	RoleARN           string            `json:"roleArn"`
	MemberIDs         []string          `json:"memberIds"`
}

// ParseBaseline reads a findings.json written by audit (schema versions
// OldestBaselineVersion to findings.ResultSchemaVersion) to compare a scan
// with. Other JSON files get an error saying what they look like (an
// inventory snapshot, a SARIF log, a list). Only the fields a comparison
// needs are read. The error is a *BaselineError.
func ParseBaseline(data []byte) (*Baseline, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil, baselineErr("", "the file is empty: expected a findings.json written by audit")
	case trimmed[0] == '[':
		return nil, baselineErr("", "the file is a JSON list, not a findings.json (an object with schemaVersion, tool and findings, as audit --format json writes it)")
	case trimmed[0] != '{':
		return nil, baselineErr("", "not JSON: expected a findings.json written by audit")
	}
	var doc baselineDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, jsonError(err)
	}
	return doc.baseline()
}

// baseline checks what was read of a findings.json and makes the
// Baseline of it.
func (doc *baselineDoc) baseline() (*Baseline, error) {
	switch {
	case doc.Format != nil:
		return nil, baselineErr("format", "this is an inventory snapshot, not a findings.json: use the findings.json of the scan (audit --format json)")
	case doc.Runs != nil && doc.Version != nil:
		return nil, baselineErr("", "this is a SARIF log, not a findings.json: use the findings.json of the scan (audit --format json)")
	case doc.SchemaVersion == nil:
		return nil, baselineErr("schemaVersion", "missing: not a findings.json written by audit")
	}
	var version int
	if err := json.Unmarshal(doc.SchemaVersion, &version); err != nil {
		return nil, baselineErr("schemaVersion", "%s is not a version number", clip(string(doc.SchemaVersion)))
	}
	if version < OldestBaselineVersion || version > findings.ResultSchemaVersion {
		return nil, baselineErr("schemaVersion", "version %d is not one this build reads (%d to %d)%s", version,
			OldestBaselineVersion, findings.ResultSchemaVersion, newer(version))
	}
	if doc.Tool == nil || doc.Tool.Name != findings.ToolName {
		name := ""
		if doc.Tool != nil {
			name = doc.Tool.Name
		}
		return nil, baselineErr("tool.name", "%q: not a findings.json written by %s", clip(name), findings.ToolName)
	}
	if doc.Findings == nil {
		return nil, baselineErr("findings", "missing: not a findings.json written by audit")
	}
	b := &Baseline{SchemaVersion: version, ToolVersion: doc.Tool.Version, roleUse: map[string][]string{}}
	if doc.GeneratedAt == nil {
		return nil, baselineErr("generatedAt", "missing: not a findings.json written by audit")
	}
	t, err := time.Parse(time.RFC3339Nano, *doc.GeneratedAt)
	if err != nil {
		return nil, baselineErr("generatedAt", "%q is not an RFC 3339 time", clip(*doc.GeneratedAt))
	}
	b.GeneratedAt = t.UTC()
	b.Findings = make([]findings.PastFinding, 0, len(*doc.Findings))
	b.previous = make([][]string, 0, len(*doc.Findings))
	for i, f := range *doc.Findings {
		if f.ID == "" {
			return nil, baselineErr(fmt.Sprintf("findings[%d].id", i), "missing or empty: every finding has a fingerprint")
		}
		if _, ok := findings.ParseSeverity(string(f.Severity)); !ok {
			return nil, baselineErr(fmt.Sprintf("findings[%d].severity", i), "%q is not a severity", clip(string(f.Severity)))
		}
		b.Findings = append(b.Findings, findings.PastFinding{ID: f.ID, RuleID: f.RuleID, Severity: f.Severity, Title: f.Title,
			Message: f.Message, AccountID: f.AccountID, AccountName: f.AccountName, Region: f.Region, ResourceType: f.ResourceType,
			ResourceARN: f.ResourceARN, TaskDefinitionARN: f.TaskDefinitionARN, RoleARN: f.RoleARN})
		b.previous = append(b.previous, f.MemberIDs)
	}
	for _, r := range doc.Roles {
		b.roleUse[r.RoleARN] = append(b.roleUse[r.RoleARN], r.UsedBy...)
	}
	return b, nil
}

func newer(v int) string {
	if v > findings.ResultSchemaVersion {
		return ": it was written by a newer audit"
	}
	return ""
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// jsonError names the field and offset of a decoding error.
func jsonError(err error) *BaselineError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &BaselineError{Offset: se.Offset, Msg: "not valid JSON: " + se.Error()}
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(top level)"
		}
		return &BaselineError{Field: field, Offset: te.Offset, Msg: fmt.Sprintf("a JSON %s where a findings.json has a %s", te.Value, typeName(te.Type.Kind().String()))}
	}
	return &BaselineError{Offset: -1, Msg: "not valid JSON: " + err.Error()}
}

func typeName(kind string) string {
	switch kind {
	case "slice":
		return "list"
	case "struct", "map", "ptr":
		return "object"
	case "int", "int64":
		return "number"
	}
	return kind
}

// Compare marks every finding of res as new or unchanged against the
// baseline and lists the baseline findings that are gone as fixed or
// unknown, in Result.Triage.Baseline. res itself is not modified (the new
// Result shares everything but its findings and Triage with res).
//
// Two findings are the same when their fingerprints meet: the ID of one,
// or one of its MemberIDs, is the ID or a MemberID of the other. So a
// finding that groups others by root cause and lists their IDs in
// MemberIDs is unchanged against a baseline that had them one by one,
// and the baseline's findings are not fixed.
//
// A baseline finding that is gone is fixed only where this scan collected
// what would report it, fully (Coverage.Collected, with no collection
// errors there): its account × region and its account's IAM (and the IAM
// of the account of its role); for a global finding (no region, such as a
// role's) its account's IAM and every account × region where the
// baseline says the role was used (when the baseline does not say, the
// scan must be complete). Otherwise it is unknown, with the reason. A nil
// baseline removes every comparison annotation; an empty Baseline makes
// every finding new.
func Compare(res *findings.Result, b *Baseline) *findings.Result {
	out := *res
	out.Findings = make([]findings.Finding, len(res.Findings))
	copy(out.Findings, res.Findings)
	out.Triage = cloneTriage(res.Triage)
	m := newBaselineMatcher(b)
	for i := range out.Findings {
		m.annotate(&out.Findings[i], true)
	}
	out.Triage = m.report(out.Triage, &res.Coverage)
	return &out
}

// baselineMatcher compares findings with a baseline one at a time,
// marking the baseline findings that are still there.
type baselineMatcher struct {
	b *Baseline
	// keys maps every fingerprint of the baseline (a finding's ID and the
	// IDs it had before grouping) to the baseline findings that have it.
	keys             map[string][]int
	present          []bool
	newN, unchangedN int
}

func newBaselineMatcher(b *Baseline) *baselineMatcher {
	m := &baselineMatcher{b: b}
	if b == nil {
		return m
	}
	m.keys = map[string][]int{}
	m.present = make([]bool, len(b.Findings))
	for i, p := range b.Findings {
		m.keys[p.ID] = append(m.keys[p.ID], i)
		if i < len(b.previous) {
			for _, id := range b.previous[i] {
				m.keys[id] = append(m.keys[id], i)
			}
		}
	}
	return m
}

// annotate sets the finding's Change (clears it without a baseline);
// count counts it and marks the baseline findings it is.
func (m *baselineMatcher) annotate(f *findings.Finding, count bool) {
	f.Change = ""
	if m.b == nil {
		return
	}
	same := false
	for _, id := range append([]string{f.ID}, f.MemberIDs...) {
		ids, ok := m.keys[id]
		if !ok {
			continue
		}
		same = true
		if !count {
			break
		}
		for _, i := range ids {
			m.present[i] = true
		}
	}
	if same {
		f.Change = findings.ChangeUnchanged
		if count {
			m.unchangedN++
		}
	} else {
		f.Change = findings.ChangeNew
		if count {
			m.newN++
		}
	}
}

// report sets t.Baseline from what annotate counted and marked, and
// returns t (nil when it holds nothing). c is the coverage of the scan.
func (m *baselineMatcher) report(t *findings.Triage, c *findings.Coverage) *findings.Triage {
	b := m.b
	if b == nil {
		if t != nil {
			t.Baseline = nil
		}
		return trimTriage(t)
	}
	rep := &findings.BaselineReport{Source: b.Source, GeneratedAt: b.GeneratedAt, SchemaVersion: b.SchemaVersion,
		ToolVersion: b.ToolVersion, Fixed: []findings.PastFinding{}, Unknown: []findings.PastFinding{}}
	rep.Counts.New, rep.Counts.Unchanged = m.newN, m.unchangedN
	cov := newCoverage(c)
	seen := map[string]bool{}
	for i, p := range b.Findings {
		if seen[p.ID] {
			continue // a baseline listing a fingerprint twice lists one finding
		}
		seen[p.ID] = true
		// Gone: none of its fingerprints is a current finding's.
		if m.present[i] {
			continue
		}
		if why := cov.missing(&p, b.roleUse); why != "" {
			p.Reason = why
			rep.Unknown = append(rep.Unknown, p)
		} else {
			rep.Fixed = append(rep.Fixed, p)
		}
	}
	sortPast(rep.Fixed)
	sortPast(rep.Unknown)
	rep.Counts.Fixed, rep.Counts.Unknown = len(rep.Fixed), len(rep.Unknown)
	if t == nil {
		t = &findings.Triage{}
	}
	t.Baseline = rep
	return t
}

// coverage answers whether the current scan collected a part of the
// organization fully.
type coverage struct {
	pairs    map[findings.AccountRegion]int // → collection errors
	complete bool
}

func newCoverage(c *findings.Coverage) *coverage {
	cv := &coverage{pairs: map[findings.AccountRegion]int{}, complete: c.Complete}
	for _, ar := range c.Collected {
		cv.pairs[findings.AccountRegion{AccountID: ar.AccountID, Region: ar.Region}] += ar.Errors
	}
	return cv
}

// need says why account × region was not fully collected, or "".
func (c *coverage) need(account, region string) string {
	what := "account " + account + " region " + region
	if region == "" {
		what = "the IAM of account " + account
	}
	if account == "" {
		return "the finding names no account"
	}
	n, ok := c.pairs[findings.AccountRegion{AccountID: account, Region: region}]
	switch {
	case !ok:
		return what + " was not collected by this scan"
	case n > 0:
		return what + " was collected with " + itoa(n) + " collection error(s)"
	}
	return ""
}

// missing says what this scan did not fully collect that could report the
// baseline finding p, or "" when it collected all of it.
func (c *coverage) missing(p *findings.PastFinding, roleUse map[string][]string) string {
	if p.Region != "" {
		if why := c.need(p.AccountID, p.Region); why != "" {
			return why
		}
	}
	if why := c.need(p.AccountID, ""); why != "" {
		return why
	}
	if p.RoleARN != "" {
		if acct := arnAccount(p.RoleARN); acct != "" && acct != p.AccountID {
			if why := c.need(acct, ""); why != "" {
				return why
			}
		}
	}
	if p.Region != "" {
		return ""
	}
	// A global finding is reported only for a role some task definition
	// uses: the regions of those task definitions must be collected too.
	used, known := roleUse[p.RoleARN]
	if p.RoleARN == "" || !known {
		if !c.complete {
			return "the baseline does not say where this was used, and this scan is not complete"
		}
		return ""
	}
	for _, td := range used {
		acct, region := arnAccount(td), arnRegion(td)
		if acct == "" || region == "" {
			continue
		}
		if why := c.need(acct, region); why != "" {
			return why + " (where the baseline saw " + p.RoleARN + " used)"
		}
	}
	return ""
}

// arnAccount and arnRegion read the fields of arn:partition:service:region:account:resource.
func arnAccount(arn string) string { return arnField(arn, 4) }
func arnRegion(arn string) string  { return arnField(arn, 3) }

func arnField(arn string, i int) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[i]
}
