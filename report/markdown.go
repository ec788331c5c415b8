package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ecs-audit/audit/findings"
)

// Markdown summary (summary.md), for a GitHub step summary or a pull
// request comment.
//
// It opens with a short summary of a few lines that fits a chat message or
// a pull request comment on its own, link-free (shortSummary): the root
// causes by severity and what they affect, and, when triage was used, what
// changed since the baseline, the new findings at high or above, and the
// accepted risks. Then: scope, coverage, root causes by severity (with the
// new and the accepted ones), the accepted risks (every suppression with
// its status), what changed since the baseline (the fixed and unknown
// findings), the most actionable findings as a table (not accepted before
// accepted, new before the others, then most severe first), and the
// coverage gaps.
//
// Escaping. Every string first has its hidden characters (bidi controls,
// invisible and control characters) shown as "<U+202E>" by Reveal, so that
// a name cannot reorder or hide text to pass for another. Identifiers from
// AWS (accounts, regions, ARNs, rule IDs) and from a suppressions file
// (sources) are written as code spans (mdCode): nothing inside a code span
// is read as Markdown or HTML, nor as an @mention or a link. Free text
// (messages, account names, justifications, errors) is written with
// mdText: line breaks become spaces,
// every character that Markdown reads inside a line ('\\', '`', '*', '_',
// '[', ']', '<', '>', '|', '~', '&') is backslash-escaped, so there is no
// emphasis, link, image, HTML tag, entity or table cell break, and '@' is
// followed by a WORD JOINER (U+2060) so that GitHub does not turn
// "@org/team" into a mention that notifies people. Inside tables a '|' is
// escaped as "\|" in code spans too, as GitHub Flavored Markdown requires.
// A bare URL inside free text may still be turned into a link by GitHub's
// autolinking; it cannot run script or change the layout.

// markdownTop is how many findings the summary lists.
const markdownTop = 20

// markdownMaxErrors is how many collection errors the summary lists.
const markdownMaxErrors = 20

// markdownMaxPast is how many fixed and unknown baseline findings, and
// suppressions, the summary lists.
const markdownMaxPast = 20

// shortMaxNew is how many new findings at high or above the short summary
// names.
const shortMaxNew = 3

// WriteMarkdown writes summary.md.
func WriteMarkdown(w io.Writer, res *findings.Result) error {
	return newView(res).writeMarkdown(w)
}

// shortSummary is the opening of summary.md: a few lines, link-free, that
// fit a chat message or a pull request comment.
func (v *view) shortSummary() []string {
	var bySev []string
	for _, c := range v.bySeverity {
		if c.Count > 0 {
			bySev = append(bySev, itoa(c.Count)+" "+mdText(c.Label))
		}
	}
	first := "**audit:** " + countOf(v.nFindings, "root cause", "root causes")
	if len(bySev) > 0 {
		first += " (" + strings.Join(bySev, ", ") + ")"
	}
	if a := countResources(v.affected); a != "" {
		first += " affecting " + a
	}
	if v.incomplete() {
		first += "; coverage incomplete"
	} else {
		first += "; coverage complete"
	}
	lines := []string{first + "."}
	t := &v.triage
	if t.hasBaseline() {
		line := "**Since the baseline"
		if b := t.baseline; b != nil && !b.GeneratedAt.IsZero() {
			line += " of " + b.GeneratedAt.UTC().Format("2006-01-02")
		}
		line += ":** " + itoa(t.new) + " new, " + itoa(t.unchanged) + " unchanged, " + itoa(len(t.fixed())) + " fixed"
		if n := len(t.unknown()); n > 0 {
			line += ", " + itoa(n) + " unknown (not collected)"
		}
		lines = append(lines, line+".")
		high, nHigh := v.newHigh, v.newHighCount
		line = "**New at high or above:** "
		if nHigh == 0 {
			line += "none."
		} else {
			line = "**New at high or above (" + itoa(nHigh) + "):** "
			var named []string
			for _, f := range high[:min(len(high), shortMaxNew)] {
				named = append(named, mdText(string(f.Severity))+" "+mdCode(f.RuleID, false)+" "+mdCode(resourceName(f.ResourceARN), false)+
					" ("+mdCode(f.AccountID, false)+where(f.Region)+")")
			}
			line += strings.Join(named, "; ")
			if nHigh > shortMaxNew {
				line += "; and " + itoa(nHigh-shortMaxNew) + " more"
			}
			line += "."
		}
		lines = append(lines, line)
	}
	if t.hasSuppressions() {
		line := "**Accepted risks:** " + countOf(t.suppressed, "finding", "findings") + " accepted"
		if t.expiringSoon > 0 {
			line += " (" + itoa(t.expiringSoon) + " expiring soon)"
		}
		if t.reopened > 0 {
			line += "; " + countOf(t.reopened, "finding whose acceptance expired counts", "findings whose acceptance expired count") + " again"
		}
		if n := len(t.stale); n > 0 {
			line += "; " + countOf(n, "stale suppression", "stale suppressions")
		}
		lines = append(lines, line+".")
	}
	return lines
}

func where(region string) string {
	if region == "" {
		return ""
	}
	return ", " + mdCode(region, false)
}

// severityCell is a finding's severity with what triage says of it.
func severityCell(f *findings.Finding) string {
	s := mdText(string(f.Severity))
	if f.Change == findings.ChangeNew {
		s += " · **new**"
	}
	switch {
	case f.Suppression != nil:
		s += " · accepted until " + mdText(f.Suppression.Expires)
	case f.SuppressionExpired != nil:
		s += " · acceptance expired " + mdText(f.SuppressionExpired.Expires)
	}
	return s
}

func (v *view) writeMarkdown(w io.Writer) error {
	b := bufio.NewWriter(w)
	res := v.res
	t := &v.triage
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }

	p("## audit — ECS task execution roles\n\n")
	for _, line := range v.shortSummary() {
		p("%s\n\n", line)
	}
	scope := fmt.Sprintf("%d account%s, %d region%s", len(v.accounts), plural(len(v.accounts)), len(v.regions), plural(len(v.regions)))
	if res.Scope.OrganizationID != "" {
		scope = "organization " + mdCode(res.Scope.OrganizationID, false) + ", " + scope
	}
	p("**Scope:** %s", scope)
	if !res.Scope.CollectedAt.IsZero() {
		p(", collected %s", res.Scope.CollectedAt.UTC().Format(time.RFC3339))
	}
	if res.Tool.Version != "" {
		p(", audit %s", mdText(res.Tool.Version))
	}
	p("\n\n")
	if v.incomplete() {
		p("> [!WARNING]\n> **Coverage incomplete:** %s\n\n", mdText(v.coverageLine()))
	} else {
		p("**Coverage:** %s\n\n", mdText(v.coverageLine()))
	}

	// Root causes by severity, with the new and the accepted ones.
	head, rule := "| Severity | Root causes |", "|:--|--:|"
	if t.hasBaseline() {
		head, rule = head+" New |", rule+"--:|"
	}
	if t.hasSuppressions() {
		head, rule = head+" Accepted |", rule+"--:|"
	}
	p("%s\n%s\n", head, rule)
	row := func(label string, n, nNew, nAcc int, bold bool) {
		cell := func(x any) string {
			if bold {
				return fmt.Sprintf("**%v**", x)
			}
			return fmt.Sprint(x)
		}
		line := "| " + cell(label) + " | " + cell(n) + " |"
		if t.hasBaseline() {
			line += " " + cell(nNew) + " |"
		}
		if t.hasSuppressions() {
			line += " " + cell(nAcc) + " |"
		}
		p("%s\n", line)
	}
	for _, c := range v.bySeverity {
		sev := findings.Severity(c.Key)
		row(mdText(c.Label), c.Count, t.newAllBySeverity[sev], t.suppressedBySeverity[sev], false)
	}
	row("Total", v.nFindings, t.new, t.suppressed, true)
	p("\n")
	if v.nFindings > 0 {
		p("%s.\n\n", mdText(v.summaryLine()))
	}

	if t.hasSuppressions() {
		v.markdownAcceptedRisks(p)
	}
	if t.hasBaseline() {
		v.markdownChanges(p)
	}

	if v.nFindings == 0 {
		p("No findings.\n\n")
	} else {
		n := min(markdownTop, v.nFindings)
		if n < v.nFindings {
			p("### Top %d of %d findings\n\n", n, v.nFindings)
		} else {
			p("### Findings\n\n")
		}
		p("| Severity | Rule | Account | Region | Resource | Impact | Message |\n|:--|:--|:--|:--|:--|:--|:--|\n")
		// v.top: not accepted before accepted, new before the others, then
		// the view's order.
		for _, f := range v.top[:n] {
			account := mdCode(f.AccountID, true)
			if name := v.accountName(f); name != "" {
				account = mdText(name) + " " + account
			}
			p("| %s | %s | %s | %s | %s | %s | %s |\n",
				severityCell(f), mdCode(f.RuleID, true), account,
				mdCode(f.Region, true), mdCode(f.ResourceARN, true), mdText(f.Impact.Summary), mdText(f.Message))
		}
		p("\n")
	}

	if len(v.gaps) > 0 || len(v.errors) > 0 || res.Coverage.Interrupted != "" {
		p("### Coverage gaps\n\n")
		if res.Coverage.Interrupted != "" {
			p("- Scan interrupted: %s\n", mdText(res.Coverage.Interrupted))
		}
		for _, g := range v.gaps {
			p("- %s\n", mdText(g))
		}
		for i, e := range v.errors {
			if i == markdownMaxErrors {
				p("- … and %d more collection errors (see report.html or findings.json)\n", len(v.errors)-markdownMaxErrors)
				break
			}
			where := mdCode(orDash(e.AccountID), false)
			if e.Region != "" {
				where += " " + mdCode(e.Region, false)
			}
			p("- %s %s: %s %s\n", mdCode(e.Service+":"+e.Operation, false), where, mdCode(e.Code, false), mdText(e.Message))
		}
		p("\n")
	}
	p("Full details: `report.html`, `findings.json`, `findings.sarif`, `findings.xlsx`.\n")
	return b.Flush()
}

// markdownAcceptedRisks lists every suppression with its status.
func (v *view) markdownAcceptedRisks(p func(string, ...any)) {
	t := &v.triage
	p("### Accepted risks\n\n")
	line := countOf(t.suppressed, "finding", "findings") + " accepted as a risk"
	if t.expiringSoon > 0 {
		line += ", " + itoa(t.expiringSoon) + " of them expiring soon"
	}
	if t.reopened > 0 {
		line += "; " + countOf(t.reopened, "finding whose acceptance expired counts", "findings whose acceptance expired count") + " again"
	}
	if n := len(t.stale); n > 0 {
		line += "; " + countOf(n, "stale suppression", "stale suppressions")
	}
	p("%s.\n\n", line)
	r := t.suppressions
	if r == nil || len(r.Entries) == 0 {
		return
	}
	p("| Suppression | Rule | Status | Expires | Owner | Matched | Justification |\n|:--|:--|:--|:--|:--|--:|:--|\n")
	for i, e := range r.Entries {
		if i == markdownMaxPast {
			p("\n… and %d more suppressions (see findings.json or findings.xlsx).\n", len(r.Entries)-markdownMaxPast)
			break
		}
		status := mdText(e.Status)
		switch {
		case e.Stale:
			status += ", **stale**: matches nothing, remove it"
		case e.ExpiresSoon:
			status += ", expires soon"
		}
		p("| %s | %s | %s | %s | %s | %d | %s |\n", mdCode(e.Source, true), mdCode(e.Rule, true), status, mdText(e.Expires),
			mdText(orDash(e.Owner)), e.Matched, mdText(e.Justification))
	}
	p("\n")
}

// markdownChanges says what changed since the baseline, with the fixed and
// unknown findings.
func (v *view) markdownChanges(p func(string, ...any)) {
	t := &v.triage
	p("### Since the baseline\n\n")
	if b := t.baseline; b != nil {
		from := "The baseline"
		if b.Source != "" {
			from += " " + mdCode(b.Source, false)
		}
		if !b.GeneratedAt.IsZero() {
			from += " of " + b.GeneratedAt.UTC().Format(time.RFC3339)
		}
		p("%s: %d new, %d unchanged, %d fixed, %d unknown.\n\n", from, t.new, t.unchanged, len(b.Fixed), len(b.Unknown))
	}
	list := func(title string, ps []findings.PastFinding, reason bool) {
		if len(ps) == 0 {
			return
		}
		p("%s:\n\n", title)
		for i, pf := range ps {
			if i == markdownMaxPast {
				p("- … and %d more (see findings.json or findings.xlsx)\n", len(ps)-markdownMaxPast)
				break
			}
			line := "- " + mdText(string(pf.Severity)) + " " + mdCode(pf.RuleID, false) + " " + mdCode(orDash(pf.ResourceARN), false) + ": " + mdText(pf.Message)
			if reason && pf.Reason != "" {
				line += " — " + mdText(pf.Reason)
			}
			p("%s\n", line)
		}
		p("\n")
	}
	list("Fixed (gone where this scan collected everything)", t.fixed(), false)
	list("Unknown (gone, but where this scan did not collect everything: they may still be there)", t.unknown(), true)
}

// mdCode writes s as a code span. inTable escapes '|' for GFM tables.
func mdCode(s string, inTable bool) string {
	if s == "" {
		return "—"
	}
	s = oneLine(Reveal(s))
	if inTable {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || (strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ")) {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdText escapes free text (see the comment at the top of the file).
func mdText(s string) string {
	s = oneLine(Reveal(s))
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case r == '@':
			b.WriteString("@\u2060")
		case r < 0x80 && strings.ContainsRune("\\`*_[]<>|~&", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// oneLine replaces line breaks and other control characters by spaces
// (after Reveal, only TAB and LF are left).
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return ' '
		}
		return r
	}, s)
}
