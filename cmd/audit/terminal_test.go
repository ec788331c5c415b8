package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/ecs-audit/audit/findings"
)

// rawControl returns the first character of s that a terminal would act on
// or that hides or reorders text (a control other than LF and TAB, or a
// format character such as a bidi override), or -1.
func rawControl(s string) rune {
	for _, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return r
		}
	}
	return -1
}

// The terminal shows AWS-supplied and snapshot-supplied strings through
// report.Reveal: in the end-of-scan summary and in error messages, a bidi
// control, an invisible character or a terminal escape sequence is shown
// as <U+XXXX>, never sent to the terminal.
func TestTerminalOutputReveals(t *testing.T) {
	tests := []struct{ class, in, want string }{
		{"bidi override", "evil\u202Egnp", "evil<U+202E>gnp"},
		{"bidi isolates and marks", "\u2066a\u2069\u200Fb", "<U+2066>a<U+2069><U+200F>b"},
		{"invisible characters", "ad\u200Bmin\uFEFF", "ad<U+200B>min<U+FEFF>"},
		{"terminal escape sequences", "\x1b]0;pwned\x07\x1b[2J", "<U+001B>]0;pwned<U+0007><U+001B>[2J"},
		{"carriage return", "ok\rEVIL", "ok<U+000D>EVIL"},
		{"C1 control", "a\u009bb", "a<U+009B>b"},
		{"plain", "web-prod_1", "web-prod_1"},
	}
	for _, tt := range tests {
		t.Run(tt.class, func(t *testing.T) {
			var b bytes.Buffer
			res := &findings.Result{Summary: findings.Summary{BySeverity: map[string]int{}}}
			printSummary(&b, res, []string{"out/" + tt.in + ".json"})
			if out := b.String(); !strings.Contains(out, "wrote out/"+tt.want+".json\n") || rawControl(out) >= 0 {
				t.Errorf("summary = %q, want the path shown as %q", out, tt.want)
			}

			// An error message that quotes the string (here the path of a
			// snapshot that does not exist).
			code, _, stderr := run(t, "", "scan", "--snapshot", filepath.Join(t.TempDir(), tt.in+".json"), "--quiet")
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d: %q", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tt.want+".json") {
				t.Errorf("stderr = %q, want the path shown as %q", stderr, tt.want)
			}
			if r := rawControl(stderr); r >= 0 {
				t.Errorf("stderr holds %U: %q", r, stderr)
			}
		})
	}
}

// Log records may quote AWS strings: in both log formats a hidden character
// reaches the terminal escaped, and a JSON record still decodes to the
// exact string.
func TestLogsEscapeHidden(t *testing.T) {
	const in = "evil\u202Egnp\u2066\x1b[2J\r"
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			l, err := (&scanFlags{logLevel: "info", logFormat: format}).logger(&b)
			if err != nil {
				t.Fatal(err)
			}
			l.Warn("collection error", "resource", in)
			out := b.String()
			if r := rawControl(out); r >= 0 {
				t.Errorf("log holds %U: %q", r, out)
			}
			if format == "json" {
				var rec struct{ Resource string }
				if err := json.Unmarshal(b.Bytes(), &rec); err != nil || rec.Resource != in {
					t.Errorf("record %q decodes to %q, %v", out, rec.Resource, err)
				}
				if !strings.Contains(out, `evil\u202egnp\u2066`) {
					t.Errorf("record = %q", out)
				}
			}
		})
	}
}
