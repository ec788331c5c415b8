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
// request comment: scope, coverage, counts by severity, the most severe
// findings as a table, and the coverage gaps.
//
// Escaping. Every string first has its hidden characters (bidi controls,
// invisible and control characters) shown as "<U+202E>" by Reveal, so that
// a name cannot reorder or hide text to pass for another. Identifiers from AWS (accounts, regions, ARNs, rule IDs) are
// written as code spans (mdCode): nothing inside a code span is read as
// Markdown or HTML, nor as an @mention or a link. Free text (messages,
// account names, errors) is written with mdText: line breaks become spaces,
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

// WriteMarkdown writes summary.md.
func WriteMarkdown(w io.Writer, res *findings.Result) error {
	return newView(res).writeMarkdown(w)
}

func (v *view) writeMarkdown(w io.Writer) error {
	b := bufio.NewWriter(w)
	res := v.res
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }

	p("## audit — ECS task execution roles\n\n")
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

	p("| Severity | Findings |\n|:--|--:|\n")
	for _, c := range v.bySeverity {
		p("| %s | %d |\n", mdText(c.Label), c.Count)
	}
	p("| **Total** | **%d** |\n\n", len(v.findings))

	if len(v.findings) == 0 {
		p("No findings.\n\n")
	} else {
		n := min(markdownTop, len(v.findings))
		if n < len(v.findings) {
			p("### Top %d of %d findings\n\n", n, len(v.findings))
		} else {
			p("### Findings\n\n")
		}
		p("| Severity | Rule | Account | Region | Resource | Message |\n|:--|:--|:--|:--|:--|:--|\n")
		for _, f := range v.findings[:n] {
			account := mdCode(f.AccountID, true)
			if name := v.accountName(f); name != "" {
				account = mdText(name) + " " + account
			}
			p("| %s | %s | %s | %s | %s | %s |\n",
				mdText(string(f.Severity)), mdCode(f.RuleID, true), account,
				mdCode(f.Region, true), mdCode(f.ResourceARN, true), mdText(f.Message))
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
