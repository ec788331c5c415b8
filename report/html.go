package report

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-audit/audit/findings"
)

// HTML report (report.html).
//
// One self-contained file: html/template for every value, inline CSS and
// JavaScript only (no CDN, no external font), a Content-Security-Policy that
// allows nothing but the page's own script and style (by hash), so that even
// an injected <script> would not run and nothing is loaded from the network.
//
// The summary, coverage, accepted risks, what changed since the baseline
// and the rule appendix are rendered server-side. The findings, roles and
// task definitions are embedded once as JSON in a
// <script type="application/json"> block and rendered page by page by the
// page's script, which builds the DOM with textContent and never uses
// innerHTML with data: that keeps a report of 100,000 findings small enough
// to open and fast to use.
//
// The findings table has one row per root cause, new findings first after
// a comparison with a baseline (with a "new" badge), accepted and expired
// risks marked, and its impact ("1 container instance × 4 task
// definitions; 7 unmet constraints"). A row expands to the evidence: the
// affected resources, the items (needs with their container, field path
// and decision, unknowns, constraints, features, values, policy problems,
// excess grants), the structured fix (layer, summary, steps, target, and
// the suggested policy with where it goes and a copy button) and the risk
// acceptance.
//
// The JSON block is produced by encoding/json, which escapes '<', '>', '&',
// U+2028 and U+2029 as \u003c, \u003e, \u0026, \u2028 and \u2029: the text
// "</script>" or "<!--" cannot appear inside it. Strings are interned in a
// table ("s"), and evidence parts are deduplicated ("o"), see htmlData.
//
// Every string the page shows, rendered by the template or by the script,
// has its hidden characters (bidi controls, invisible and control
// characters) shown as "<U+202E>" by Reveal: the template is given revealed
// copies (htmlShown), and every string of the JSON block is revealed
// (revealJSONStrings), so that a name cannot reorder or hide text to pass
// for another.

//go:embed assets/report.html.tmpl
var htmlTemplateText string

//go:embed assets/report.css
var htmlCSS string

//go:embed assets/report.js
var htmlJS string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"sevclass": sevClass,
	"time":     fmtTime,
	"add":      func(a, b int) int { return a + b },
}).Parse(htmlTemplateText))

// cspHashes are the CSP source expressions of the inline script and style.
var cspScriptHash, cspStyleHash = cspHash(htmlJS), cspHash(htmlCSS)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// sevClass maps a severity to a CSS class from a fixed list.
func sevClass(s string) string {
	switch findings.Severity(s) {
	case findings.Critical, findings.High, findings.Medium, findings.Low, findings.Info:
		return "sev-" + s
	}
	return "sev-unknown"
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// WriteHTML writes report.html.
func WriteHTML(w io.Writer, res *findings.Result) error {
	return newView(res).writeHTML(w)
}

type htmlBar struct {
	Key, Label, Class string
	Count             int
	Width             float64 // of 100
}

type htmlRule struct {
	findings.RuleMeta
	Fired int
	Level string
}

type htmlAccount struct {
	ID, Name string
	Findings int
}

type htmlPage struct {
	Title         string
	CSP           string
	CSS           template.CSS
	JS            template.JS
	Data          template.JS
	Res           *findings.Result
	Accounts      []htmlAccount
	Regions       []string
	Total         int
	Severities    []htmlBar
	Rules         []htmlBar
	AccountBars   []htmlBar
	MoreRules     int
	MoreAccounts  int
	CoverageLine  string
	Incomplete    bool
	Errors        []htmlError
	Gaps          []string
	Catalog       []htmlRule
	RoleCount     int
	TaskDefCount  int
	GeneratedAt   string
	CollectedAt   string
	SeverityOrder []string

	// Root causes.
	RootCauses string // "8 root causes affecting 4 task definitions, …"
	Items      int
	// Triage.
	Suppressions *htmlSuppressions
	Changes      *htmlChanges
}

// htmlSuppressions is the "Accepted risks" section.
type htmlSuppressions struct {
	Suppressed, ExpiringSoon, Reopened, Stale int
	Entries                                   []htmlSuppressionEntry
}

type htmlSuppressionEntry struct {
	Source, Rule, Status, Expires, Owner, Justification string
	ExpiresSoon, Stale                                  bool
	Matched                                             int
}

// htmlChanges is the "What changed" section.
type htmlChanges struct {
	Source, GeneratedAt            string
	New, Unchanged, Fixed, Unknown int
	FixedList, UnknownList         []htmlPast
	MoreFixed, MoreUnknown         int
}

type htmlPast struct {
	ID, RuleID, Severity, Class, AccountID, AccountName, Region, ResourceARN, Message, Reason string
}

// htmlMaxPast is how many fixed and unknown baseline findings the page
// lists; findings.json and findings.xlsx list them all.
const htmlMaxPast = 500

type htmlError struct {
	AccountID, AccountName, Region, Service, Operation, Resource, Code, Message string
}

// htmlTopBars is how many rules and accounts the summary charts show.
const htmlTopBars = 15

// htmlDataMark stands for the data block while the template renders the
// rest of the page; the block is then streamed in its place. A NUL cannot
// come from anywhere else: every string the template is given is revealed
// (NUL shown as "<U+0000>"), and the embedded CSS and script have none.
const htmlDataMark = "\x00audit-data\x00"

func (v *view) writeHTML(w io.Writer) error {
	data, err := v.buildHTMLData()
	if err != nil {
		return err
	}
	defer data.close()
	page := htmlPage{
		Title:        "audit report — ECS task execution roles",
		CSP:          "default-src 'none'; script-src " + cspScriptHash + "; style-src " + cspStyleHash + "; img-src data:; base-uri 'none'; form-action 'none'",
		CSS:          template.CSS(htmlCSS),
		JS:           template.JS(htmlJS),
		Data:         template.JS(htmlDataMark),
		Res:          htmlShown(v.res),
		Regions:      revealAll(v.regions),
		Total:        v.nFindings,
		CoverageLine: Reveal(v.coverageLine()),
		Incomplete:   v.incomplete(),
		Gaps:         revealAll(v.gaps),
		RoleCount:    v.nRoles,
		TaskDefCount: v.nTaskDefs,
		GeneratedAt:  fmtTime(v.res.GeneratedAt),
		CollectedAt:  fmtTime(v.res.Scope.CollectedAt),
		RootCauses:   Reveal(v.rootCauseLine()),
		Items:        v.items,
	}
	page.Suppressions, page.Changes = v.htmlTriage()
	perAccount := map[string]int{}
	for _, c := range v.byAccount {
		perAccount[c.Key] = c.Count
	}
	for _, a := range v.accounts {
		page.Accounts = append(page.Accounts, htmlAccount{ID: Reveal(a.ID), Name: Reveal(v.accountNames[a.ID]), Findings: perAccount[a.ID]})
	}
	maxSev := 0
	for _, c := range v.bySeverity {
		maxSev = max(maxSev, c.Count)
	}
	for _, c := range v.bySeverity {
		page.Severities = append(page.Severities, htmlBar{Key: Reveal(c.Key), Label: Reveal(c.Label), Class: sevClass(c.Key), Count: c.Count, Width: pct(c.Count, maxSev)})
	}
	page.Rules, page.MoreRules = bars(v.byRule, htmlTopBars)
	page.AccountBars, page.MoreAccounts = bars(v.byAccount, htmlTopBars)
	for i := range page.AccountBars {
		b := &page.AccountBars[i]
		if b.Label == "" {
			b.Label = b.Key
		} else {
			b.Label = b.Label + " (" + b.Key + ")"
		}
	}
	for _, e := range v.errors {
		page.Errors = append(page.Errors, htmlError{AccountID: Reveal(e.AccountID), AccountName: Reveal(v.accountNames[e.AccountID]), Region: Reveal(e.Region),
			Service: Reveal(e.Service), Operation: Reveal(e.Operation), Resource: Reveal(e.Resource), Code: Reveal(e.Code), Message: Reveal(e.Message)})
	}
	for _, r := range v.rules {
		r.ID, r.Title, r.Description, r.Why, r.Remediation = Reveal(r.ID), Reveal(r.Title), Reveal(r.Description), Reveal(r.Why), Reveal(r.Remediation)
		page.Catalog = append(page.Catalog, htmlRule{RuleMeta: r, Level: sarifLevel(r.Severity)})
	}
	fired := map[string]int{}
	for _, c := range v.byRule {
		fired[c.Key] = c.Count
	}
	for i, r := range v.rules {
		page.Catalog[i].Fired = fired[r.ID]
	}
	for _, s := range findings.Severities {
		page.SeverityOrder = append(page.SeverityOrder, string(s))
	}
	// The page without its data is small: render it, then write it with
	// the data block streamed where the mark is.
	var pageBuf bytes.Buffer
	if err := htmlTemplate.Execute(&pageBuf, &page); err != nil {
		return err
	}
	rendered := pageBuf.Bytes()
	if n := bytes.Count(rendered, []byte(htmlDataMark)); n != 1 {
		return fmt.Errorf("html: data block mark found %d times, want once", n)
	}
	i := bytes.Index(rendered, []byte(htmlDataMark))
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.Write(rendered[:i])
	if err := data.writeTo(bw); err != nil {
		return err
	}
	bw.Write(rendered[i+len(htmlDataMark):])
	return bw.Flush()
}

// htmlShown is the part of the Result the template reads directly (tool
// and scope), with its strings revealed.
func htmlShown(res *findings.Result) *findings.Result {
	return &findings.Result{
		Tool: findings.Tool{Name: Reveal(res.Tool.Name), Version: Reveal(res.Tool.Version)},
		Scope: findings.Scope{OrganizationID: Reveal(res.Scope.OrganizationID), Partition: Reveal(res.Scope.Partition),
			Source: Reveal(res.Scope.Source)},
	}
}

// revealAll returns Reveal of each string.
func revealAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = Reveal(s)
	}
	return out
}

func bars(c []count, top int) ([]htmlBar, int) {
	maxN := 0
	for _, x := range c {
		maxN = max(maxN, x.Count)
	}
	var out []htmlBar
	for i, x := range c {
		if i == top {
			return out, len(c) - top
		}
		out = append(out, htmlBar{Key: Reveal(x.Key), Label: Reveal(x.Label), Count: x.Count, Width: pct(x.Count, maxN)})
	}
	return out, 0
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	p := float64(n) * 100 / float64(of)
	return float64(int(p*10)) / 10
}

// htmlTriage builds the "Accepted risks" and "What changed" sections, nil
// when triage did not apply them.
func (v *view) htmlTriage() (*htmlSuppressions, *htmlChanges) {
	t := &v.triage
	var sup *htmlSuppressions
	if t.hasSuppressions() {
		sup = &htmlSuppressions{Suppressed: t.suppressed, ExpiringSoon: t.expiringSoon, Reopened: t.reopened, Stale: len(t.stale)}
		if r := t.suppressions; r != nil {
			for _, e := range r.Entries {
				sup.Entries = append(sup.Entries, htmlSuppressionEntry{Source: Reveal(e.Source), Rule: Reveal(e.Rule), Status: Reveal(e.Status),
					Expires: Reveal(e.Expires), Owner: Reveal(e.Owner), Justification: Reveal(e.Justification),
					ExpiresSoon: e.ExpiresSoon, Stale: e.Stale, Matched: e.Matched})
			}
		}
	}
	var ch *htmlChanges
	if t.hasBaseline() {
		ch = &htmlChanges{New: t.new, Unchanged: t.unchanged, Fixed: len(t.fixed()), Unknown: len(t.unknown())}
		if b := t.baseline; b != nil {
			ch.Source = Reveal(b.Source)
			if !b.GeneratedAt.IsZero() {
				ch.GeneratedAt = fmtTime(b.GeneratedAt)
			}
		}
		past := func(list []findings.PastFinding) ([]htmlPast, int) {
			var out []htmlPast
			for i, p := range list {
				if i == htmlMaxPast {
					return out, len(list) - htmlMaxPast
				}
				name := p.AccountName
				if name == "" {
					name = v.accountNames[p.AccountID]
				}
				out = append(out, htmlPast{ID: Reveal(p.ID), RuleID: Reveal(p.RuleID), Severity: Reveal(string(p.Severity)), Class: sevClass(string(p.Severity)),
					AccountID: Reveal(p.AccountID), AccountName: Reveal(name), Region: Reveal(p.Region), ResourceARN: Reveal(p.ResourceARN),
					Message: Reveal(p.Message), Reason: Reveal(p.Reason)})
			}
			return out, 0
		}
		ch.FixedList, ch.MoreFixed = past(t.fixed())
		ch.UnknownList, ch.MoreUnknown = past(t.unknown())
	}
	return sup, ch
}

// htmlData is the JSON embedded in the page:
//
//	{
//	  "v": 2,
//	  "s": ["", "critical", ...],            string table
//	  "n": [[feature, action, resource, container, fieldPath, servedBy,
//	         optional (0/1), note], ...]      deduplicated needs
//	  "o": [{...}, ...],                      deduplicated evidence parts
//	  "f": [[sev, rule, title, accountId, accountName, region, resourceType,
//	         resourceArn, taskDef, container, role, message, remediation
//	         (only for a finding without a fix summary),
//	         id, impact, fixLayer, fixSummary, change, acceptance,
//	         need, decision, excess, facts, suggested,
//	         needs, unknowns, constraints, features, values, problems,
//	         affected, fix, suppression, memberIds, items], ...]
//	  "r": [[roleArn, accountId, exists, usedBy[], needs, policy, findings], ...]
//	  "t": [[arn, accountId, region, family, revision, launchTypes[], role,
//	         needs, needsSummary, findings, services], ...]
//	  "rules": {id: [title, severity]}
//	}
//
// In "f", the first 19 entries are indexes into "s" (acceptance is
// "accepted", "expiring" or "expired"), need is an index into "n" (the
// version 1 need, -1 when the finding lists its needs), needs is a list of
// [need (into "n"), severity (into "s"), decision (into "o")], affected a
// list of [type, arn, name] (into "s"), fix -1 or [steps (into "s"),
// target, suggestedPolicyLayer, suggestedPolicyTarget, legacy (1 when the
// suggested policy is version 1's evidence.suggestedPolicy)] with target
// -1 or [type, arn, id, name, role, statement (into "s"), attachedTo
// (into "o")], and the other parts index "o" (-1 for none); memberIds are
// left out (-1) when they are the finding's own ID; items is a number.
// suppression is the finding's suppression or expired suppression. The
// suggested policy is there as its indented text (prettyPolicy), which the
// page shows and copies as is. In "r" and "t" strings are indexes into "s" too, numbers
// are numbers. Findings are in the view's order, new ones first after a
// comparison with a baseline.
//
// The block is written as encoding/json would encode it whole and
// revealJSONStrings would rewrite it (byte for byte), but in parts, so that
// the memory it takes does not grow with the findings' text: each string
// and evidence part is encoded and revealed once, when it is first seen,
// and written to a temporary file of its table; the rows of "n", "f", "r"
// and "t" hold only numbers and are written encoded to temporary files too
// (htmlSpill). What stays in memory is, per string or evidence part
// of the recent ones (htmlids.go), a 16-byte hash of it and its index.
// htmlDoc.writeTo copies the files into the page in the block's order.
func (v *view) htmlData() ([]byte, error) {
	d, err := v.buildHTMLData()
	if err != nil {
		return nil, err
	}
	defer d.close()
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	if err := d.writeTo(bw); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// htmlDoc is the data block before it is written: its tables, and its
// rows already encoded (numbers only, nothing to escape or reveal).
type htmlDoc struct {
	st    *stringTable
	objs  *objTable
	needs *needTable
	// rows holds the rows of "f", then of "r", then of "t", each list's
	// rows comma-separated, without brackets; fEnd and rEnd are where the
	// lists of "f" and "r" end. hasR and hasT tell an empty list from none
	// (encoded as null, as encoding/json encodes a nil slice).
	rows       *htmlSpill
	fEnd, rEnd int64
	hasR, hasT bool
	rules      map[string][2]string
}

// close removes the document's temporary files.
func (d *htmlDoc) close() {
	for _, s := range []*htmlSpill{d.st.out, d.objs.out, d.needs.out, d.rows} {
		if s != nil {
			s.close()
		}
	}
}

// htmlSpill is a part of the data block written while the findings are
// read and copied into the page at the end: a temporary file in
// os.TempDir(), removed by close, or, where no temporary file can be made
// (a read-only file system), a buffer in memory.
type htmlSpill struct {
	f   *os.File      // nil: the part is in mem
	mem *bytes.Buffer // when f is nil
	w   *bufio.Writer
	n   int64 // bytes written
}

func newHTMLSpill() *htmlSpill {
	s := &htmlSpill{}
	f, err := os.CreateTemp("", "audit-html-*")
	if err != nil {
		s.mem = &bytes.Buffer{}
		s.w = bufio.NewWriterSize(s.mem, 4<<10)
		return s
	}
	s.f = f
	s.w = bufio.NewWriterSize(f, 64<<10)
	return s
}

func (s *htmlSpill) Write(b []byte) (int, error) {
	n, err := s.w.Write(b)
	s.n += int64(n)
	return n, err
}

func (s *htmlSpill) WriteString(b string) (int, error) {
	n, err := s.w.WriteString(b)
	s.n += int64(n)
	return n, err
}

func (s *htmlSpill) WriteByte(c byte) error {
	err := s.w.WriteByte(c)
	if err == nil {
		s.n++
	}
	return err
}

// copyTo writes the bytes from off to end to w, all of them or an error.
func (s *htmlSpill) copyTo(w io.Writer, off, end int64) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("html: temporary file: %w", err)
	}
	if s.f == nil {
		_, err := w.Write(s.mem.Bytes()[off:end])
		return err
	}
	n, err := io.Copy(w, io.NewSectionReader(s.f, off, end-off))
	if err != nil {
		return fmt.Errorf("html: temporary file: %w", err)
	}
	if n != end-off {
		return fmt.Errorf("html: temporary file %s: read %d bytes, want %d", s.f.Name(), n, end-off)
	}
	return nil
}

// close removes the temporary file.
func (s *htmlSpill) close() {
	if s.f != nil {
		s.f.Close()
		os.Remove(s.f.Name())
		s.f = nil
	}
	s.mem = nil
}

// rowEncoder writes rows encoded by encoding/json, comma-separated.
type rowEncoder struct {
	w    *htmlSpill
	buf  bytes.Buffer
	enc  *json.Encoder
	some bool
}

func newRowEncoder(w *htmlSpill) *rowEncoder {
	e := &rowEncoder{w: w}
	e.enc = json.NewEncoder(&e.buf)
	return e
}

func (e *rowEncoder) add(row any) error {
	e.buf.Reset()
	if e.some {
		e.buf.WriteByte(',')
	}
	if err := e.enc.Encode(row); err != nil {
		return err
	}
	e.some = true
	_, err := e.w.Write(e.buf.Bytes()[:e.buf.Len()-1]) // without Encode's newline
	return err
}

func (v *view) buildHTMLData() (d *htmlDoc, err error) {
	// The tables' maps are not sized ahead: a map grows a part at a time,
	// and one sized for the most a finding may add holds room it never
	// uses (measured: 10-15 MiB more at the peak at 100,000 findings).
	doc := &htmlDoc{st: newStringTable(), objs: newObjTable(), needs: newNeedTable(), rows: newHTMLSpill(),
		rules: map[string][2]string{}}
	d = doc
	defer func() {
		// Not d: a return with an error has made it nil.
		if err != nil {
			doc.close()
			d = nil
		}
	}()
	st, objs := d.st, d.objs
	needID := func(n *findings.Need) int {
		opt := 0
		if n.Optional {
			opt = 1
		}
		return d.needs.id([8]int{st.id(n.Feature), st.id(n.Action), st.id(n.Resource), st.id(n.Container), st.id(n.FieldPath), st.id(n.ServedBy), opt, st.id(n.Note)})
	}
	fr := &intRows{w: d.rows}
	err = v.eachNewFirst(func(f *findings.Finding) error {
		fr.row()
		// The remediation is the fix as text (summary and steps), which the
		// page shows from the fix; only a finding without one needs it.
		rem := f.Remediation
		if f.Fix.Summary != "" {
			rem = ""
		}
		// The fields the page compares by index have one each (htmlids.go).
		for i, c := range []string{string(f.Severity), f.RuleID, f.Title, f.AccountID, v.accountName(f), f.Region,
			f.ResourceType, f.ResourceARN, f.TaskDefinitionARN, f.Container, f.RoleARN, f.Message, rem, f.ID} {
			switch i {
			case 0, 1, 3, 5:
				fr.int(st.fixedID(c))
			case 13:
				// A finding's ID is its own: looked up, but not kept, so
				// that it takes no room in the window.
				fr.int(st.onceID(c))
			default:
				fr.int(st.id(c))
			}
		}
		state := ""
		switch {
		case f.Suppression != nil && f.Suppression.ExpiresSoon:
			state = "expiring"
		case f.Suppression != nil:
			state = "accepted"
		case f.SuppressionExpired != nil:
			state = "expired"
		}
		for _, c := range []string{f.Impact.Summary, string(f.Fix.Layer), f.Fix.Summary, f.Change, state} {
			fr.int(st.id(c))
		}
		ev := f.Evidence
		var err error
		add := func(x any, empty bool) {
			if err != nil {
				return
			}
			if empty {
				fr.int(-1)
				return
			}
			var id int
			id, err = objs.id(x)
			fr.int(id)
		}
		if n := ev.Need; n != nil && len(ev.Needs) == 0 {
			fr.int(needID(n))
		} else {
			fr.int(-1)
		}
		// The decision of a finding that lists its needs is theirs.
		add(ev.Decision, ev.Decision == nil || len(ev.Needs) > 0)
		add(ev.Excess, len(ev.Excess) == 0)
		add(ev.Facts, len(ev.Facts) == 0)
		sugg, legacy := f.Fix.SuggestedPolicy, false
		if len(sugg) == 0 && len(ev.SuggestedPolicy) > 0 {
			sugg, legacy = ev.SuggestedPolicy, true
		}
		add(prettyPolicy(sugg), len(sugg) == 0)
		fr.open()
		for i := range ev.Needs {
			ne := &ev.Needs[i]
			dec := -1
			if ne.Decision != nil {
				if dec, err = objs.id(ne.Decision); err != nil {
					return fmt.Errorf("finding %s: evidence: %w", f.ID, err)
				}
			}
			need, sev := needID(&ne.Need), st.id(string(ne.Severity))
			fr.open()
			fr.int(need)
			fr.int(sev)
			fr.int(dec)
			fr.close()
		}
		fr.close()
		add(ev.Unknowns, len(ev.Unknowns) == 0)
		add(ev.Constraints, len(ev.Constraints) == 0)
		add(ev.Features, len(ev.Features) == 0)
		add(ev.Values, len(ev.Values) == 0)
		add(ev.Problems, len(ev.Problems) == 0)
		fr.open()
		for _, a := range f.Affected {
			fr.open()
			fr.int(st.id(a.Type))
			fr.int(st.id(a.ARN))
			fr.int(st.id(a.Name))
			fr.close()
		}
		fr.close()
		if len(f.Fix.Steps) > 0 || f.Fix.Target != nil || f.Fix.SuggestedPolicyLayer != "" || f.Fix.SuggestedPolicyTarget != "" || legacy {
			fr.open()
			fr.open()
			for _, x := range f.Fix.Steps {
				fr.int(st.id(x))
			}
			fr.close()
			if t := f.Fix.Target; t != nil {
				attached := -1
				if t.AttachedTo != nil {
					if attached, err = objs.id(t.AttachedTo); err != nil {
						return fmt.Errorf("finding %s: fix: %w", f.ID, err)
					}
				}
				fr.open()
				for _, x := range []string{t.Type, t.ARN, t.ID, t.Name, t.Role, t.Statement} {
					fr.int(st.id(x))
				}
				fr.int(attached)
				fr.close()
			} else {
				fr.int(-1)
			}
			fr.int(st.id(string(f.Fix.SuggestedPolicyLayer)))
			fr.int(st.id(f.Fix.SuggestedPolicyTarget))
			fr.int(b2i(legacy))
			fr.close()
		} else {
			fr.int(-1)
		}
		sup := f.Suppression
		if sup == nil {
			sup = f.SuppressionExpired
		}
		add(sup, sup == nil)
		// A finding that covers only its own version 1 ID says nothing more.
		add(f.MemberIDs, len(f.MemberIDs) == 0 || len(f.MemberIDs) == 1 && f.MemberIDs[0] == f.ID)
		fr.int(max(f.Impact.Items, 1))
		fr.close()
		if err != nil {
			return fmt.Errorf("finding %s: evidence: %w", f.ID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err = fr.flush(); err != nil {
		return nil, err
	}
	d.fEnd = d.rows.n
	rRows := newRowEncoder(d.rows)
	err = v.eachRole(func(r *findings.RoleReport) error {
		used := make([]int, len(r.UsedBy))
		usedBy := append([]string(nil), r.UsedBy...)
		sort.Strings(usedBy)
		for i, u := range usedBy {
			used[i] = st.id(u)
		}
		if err := rRows.add([]any{st.id(r.RoleARN), st.id(r.AccountID), r.Exists, used, len(r.Needs), st.id(prettyPolicy(r.LeastPrivilegePolicy)), r.Findings}); err != nil {
			return err
		}
		d.hasR = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.rEnd = d.rows.n
	tRows := newRowEncoder(d.rows)
	err = v.eachTaskDef(func(t *findings.TaskDefReport) error {
		lts := make([]int, len(t.LaunchTypes))
		for i, l := range t.LaunchTypes {
			lts[i] = st.id(l)
		}
		if err := tRows.add([]any{st.id(t.ARN), st.id(t.AccountID), st.id(t.Region), st.id(t.Family), t.Revision, lts,
			st.id(t.ExecutionRoleARN), len(t.Needs), st.id(needsSummary(t.Needs)), t.Findings, len(t.UsedByServices)}); err != nil {
			return err
		}
		d.hasT = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if st.err != nil {
		return nil, st.err
	}
	for _, r := range v.rules {
		d.rules[r.ID] = [2]string{r.Title, string(r.Severity)}
	}
	// Only the lists are written; the indexes can go.
	st.ids, st.fixed, objs.ids, d.needs.ids = nil, nil, nil, nil
	return d, nil
}

// intRows writes rows of numbers and lists of numbers as encoding/json
// encodes them ([1,[2,3],-1]), rows comma-separated.
type intRows struct {
	w     io.Writer
	b     []byte // the row being encoded
	first bool   // no comma before the next value
	rows  int
	err   error
}

// row starts a row.
func (r *intRows) row() {
	r.first = r.rows == 0
	r.rows++
	r.open()
}

func (r *intRows) sep() {
	if !r.first {
		r.b = append(r.b, ',')
	}
	r.first = false
}

func (r *intRows) open() {
	r.sep()
	r.b = append(r.b, '[')
	r.first = true
}

// close ends a list, and writes the row it ends.
func (r *intRows) close() {
	r.b = append(r.b, ']')
	r.first = false
	if len(r.b) >= 4<<10 {
		r.flush()
	}
}

func (r *intRows) int(n int) {
	r.sep()
	r.b = strconv.AppendInt(r.b, int64(n), 10)
}

// flush writes what is encoded, and returns the first error of a write.
func (r *intRows) flush() error {
	if len(r.b) > 0 && r.err == nil {
		_, r.err = r.w.Write(r.b)
	}
	r.b = r.b[:0]
	return r.err
}

// writeTo writes the data block as
// {"v":2,"s":[…],"n":[…],"o":[…],"f":[…],"r":[…],"t":[…],"rules":{…}},
// every string encoded by encoding/json (HTML characters escaped, which is
// what makes the block safe inside <script>) and revealed.
func (d *htmlDoc) writeTo(w *bufio.Writer) error {
	list := func(s *htmlSpill, from, to int64, some bool) error {
		if !some {
			w.WriteString("null")
			return nil
		}
		w.WriteByte('[')
		if err := s.copyTo(w, from, to); err != nil {
			return err
		}
		return w.WriteByte(']')
	}
	w.WriteString(`{"v":2,"s":`)
	if err := list(d.st.out, 0, d.st.out.n, true); err != nil {
		return err
	}
	w.WriteString(`,"n":`)
	if err := list(d.needs.out, 0, d.needs.out.n, true); err != nil {
		return err
	}
	w.WriteString(`,"o":`)
	// None: encoding/json writes a nil list as null.
	if err := list(d.objs.out, 0, d.objs.out.n, d.objs.n > 0); err != nil {
		return err
	}
	w.WriteString(`,"f":`)
	if err := list(d.rows, 0, d.fEnd, true); err != nil {
		return err
	}
	w.WriteString(`,"r":`)
	if err := list(d.rows, d.fEnd, d.rEnd, d.hasR); err != nil {
		return err
	}
	w.WriteString(`,"t":`)
	if err := list(d.rows, d.rEnd, d.rows.n, d.hasT); err != nil {
		return err
	}
	w.WriteString(`,"rules":`)
	b, err := json.Marshal(d.rules)
	if err != nil {
		return err
	}
	if b, err = revealJSONStrings(b); err != nil {
		return err
	}
	w.Write(b)
	return w.WriteByte('}')
}

// plainJSONString reports whether s is printable ASCII that encoding/json
// writes as it is (no quote, backslash or HTML character), which Reveal
// leaves as it is too.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// needsSummary counts needs by feature: "ecr-pull ×2, ssm-parameter ×1".
func needsSummary(needs []findings.Need) string {
	c := map[string]int{}
	for _, n := range needs {
		c[n.Feature]++
	}
	var parts []string
	for _, k := range sortedKeys(c) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, c[k]))
	}
	return strings.Join(parts, ", ")
}

// prettyPolicy indents a policy document for display, with hidden
// characters (bidi controls, invisible characters) written as \u escapes
// (EscapeHiddenJSON): the text shows them, and stays the exact policy, so
// that copying it into IAM gives the policy audit computed. Invalid JSON is
// returned as text (and revealed by the writer).
func prettyPolicy(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return string(raw)
	}
	return string(EscapeHiddenJSON(out.Bytes()))
}

// htmlKey is what a table keeps of a string or an encoded evidence part:
// the first 16 bytes of its SHA-256, which no two of them share by chance
// (2^-128 for a pair) nor by design (a second preimage of SHA-256).
type htmlKey [16]byte

func htmlKeyOf(b []byte) htmlKey {
	h := sha256.Sum256(b)
	return htmlKey(h[:16])
}

// stringTable gives each string its index in "s", and writes the string,
// encoded by encoding/json and revealed, to its temporary file when it is
// first seen, or seen again after it left the window (htmlids.go).
type stringTable struct {
	ids *idWindow[htmlKey]
	// fixed: the strings of the fields the page compares by index, each
	// with its one index.
	fixed map[htmlKey]int32
	n     int // strings written
	out   *htmlSpill
	kb    []byte // the string being looked up (hashing a string would copy it)
	sb    bytes.Buffer
	enc   *json.Encoder
	err   error // the first error writing a string
}

func newStringTable() *stringTable {
	t := &stringTable{ids: newIDWindow[htmlKey](2), fixed: map[htmlKey]int32{}, out: newHTMLSpill()}
	t.enc = json.NewEncoder(&t.sb)
	t.id("")
	return t
}

// lookup finds s: among the strings compared by index (fixed) or in the
// window; k is its key either way. The empty string is always index 0
// once written.
func (t *stringTable) lookup(s string) (k htmlKey, id int32, fixed, ok bool) {
	if s == "" && t.n > 0 {
		return k, 0, true, true
	}
	t.kb = append(t.kb[:0], s...)
	k = htmlKeyOf(t.kb)
	if id, ok := t.fixed[k]; ok {
		return k, id, true, true
	}
	id, ok = t.ids.get(k)
	return k, id, false, ok
}

// fixedID is the index of a string the page compares by index: the same
// for every finding.
func (t *stringTable) fixedID(s string) int {
	k, id, fixed, ok := t.lookup(s)
	if fixed {
		return int(id)
	}
	if !ok {
		id = int32(t.write(s))
	}
	t.fixed[k] = id
	return int(id)
}

func (t *stringTable) id(s string) int {
	k, id, _, ok := t.lookup(s)
	if ok {
		return int(id)
	}
	n := t.write(s)
	t.ids.put(k, int32(n))
	return n
}

// onceID is id for a string not expected again (a finding's ID): one in
// the window gives its index, and one that is not is written without
// being kept.
func (t *stringTable) onceID(s string) int {
	if _, id, _, ok := t.lookup(s); ok {
		return int(id)
	}
	return t.write(s)
}

// write adds s to "s" and returns its index.
func (t *stringTable) write(s string) int {
	id := t.n
	t.n++
	if id > 0 {
		t.out.WriteByte(',')
	}
	if plainJSONString(s) {
		// What encoding/json and revealJSONStrings write for it.
		t.out.WriteByte('"')
		t.out.WriteString(s)
		t.out.WriteByte('"')
		return id
	}
	t.sb.Reset()
	err := t.enc.Encode(s)
	var b []byte
	if err == nil {
		b, err = revealJSONStrings(bytes.TrimSuffix(t.sb.Bytes(), []byte("\n")))
	}
	if err == nil {
		_, err = t.out.Write(b)
	}
	if err != nil && t.err == nil {
		t.err = err
	}
	return id
}

// objTable gives each evidence part its index in "o", and writes it,
// encoded as json.Marshal encodes it and revealed, to its temporary file
// when it is first seen, or seen again after it left the window.
type objTable struct {
	ids *idWindow[htmlKey]
	n   int
	out *htmlSpill
	buf bytes.Buffer
	enc *json.Encoder
}

func newObjTable() *objTable {
	t := &objTable{ids: newIDWindow[htmlKey](1), out: newHTMLSpill()}
	t.enc = json.NewEncoder(&t.buf)
	return t
}

func (t *objTable) id(x any) (int, error) {
	t.buf.Reset()
	// Encode writes what json.Marshal returns, and a newline.
	if err := t.enc.Encode(x); err != nil {
		return 0, err
	}
	b := t.buf.Bytes()
	b = b[:len(b)-1]
	k := htmlKeyOf(b)
	if id, ok := t.ids.get(k); ok {
		return int(id), nil
	}
	id := t.n
	t.ids.put(k, int32(id))
	t.n++
	if id > 0 {
		if err := t.out.WriteByte(','); err != nil {
			return 0, err
		}
	}
	rb, err := revealJSONStrings(b)
	if err != nil {
		return 0, err
	}
	if _, err := t.out.Write(rb); err != nil {
		return 0, err
	}
	return id, nil
}

// needTable gives each need (its strings' indexes) its index in "n", and
// writes it encoded to its temporary file when it is first seen, or seen
// again after it left the window.
type needTable struct {
	ids *idWindow[[8]int32]
	n   int
	out *htmlSpill
	b   []byte
}

func newNeedTable() *needTable {
	return &needTable{ids: newIDWindow[[8]int32](1), out: newHTMLSpill()}
}

func (t *needTable) id(need [8]int) int {
	var k [8]int32
	for i, x := range need {
		k[i] = int32(x)
	}
	if id, ok := t.ids.get(k); ok {
		return int(id)
	}
	id := t.n
	t.ids.put(k, int32(id))
	t.n++
	t.b = t.b[:0]
	if id > 0 {
		t.b = append(t.b, ',')
	}
	t.b = append(t.b, '[')
	for i, x := range need {
		if i > 0 {
			t.b = append(t.b, ',')
		}
		t.b = strconv.AppendInt(t.b, int64(x), 10)
	}
	t.b = append(t.b, ']')
	t.out.Write(t.b) // an error stays in the writer, and copyTo returns it
	return id
}
