package report

import (
	"bytes"
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/findings"
)

// tag is one start tag found by scanTags.
type tag struct {
	name  string
	attrs map[string]string
	// text is the raw content of a <script> or <style> element.
	text string
}

// scanTags is a small HTML tokenizer for the tests: it returns every start
// tag with its attributes, skips comments, doctype and end tags, and takes
// the content of raw-text elements (script, style) up to their end tag the
// way a browser does. It is enough to see which elements and attributes a
// browser would create.
func scanTags(t *testing.T, doc string) []tag {
	t.Helper()
	var out []tag
	i := 0
	for {
		j := strings.IndexByte(doc[i:], '<')
		if j < 0 {
			return out
		}
		i += j
		switch {
		case strings.HasPrefix(doc[i:], "<!--"):
			end := strings.Index(doc[i+4:], "-->")
			if end < 0 {
				t.Fatalf("unterminated comment at %d", i)
			}
			i += 4 + end + 3
			continue
		case strings.HasPrefix(doc[i:], "<!"), strings.HasPrefix(doc[i:], "</"):
			end := strings.IndexByte(doc[i:], '>')
			if end < 0 {
				t.Fatalf("unterminated tag at %d", i)
			}
			i += end + 1
			continue
		}
		// A start tag: '<' followed by a letter; anything else is text.
		if i+1 >= len(doc) || !isLetter(doc[i+1]) {
			i++
			continue
		}
		k := i + 1
		for k < len(doc) && !isSpace(doc[k]) && doc[k] != '>' && doc[k] != '/' {
			k++
		}
		tg := tag{name: strings.ToLower(doc[i+1 : k]), attrs: map[string]string{}}
		for {
			for k < len(doc) && (isSpace(doc[k]) || doc[k] == '/') {
				k++
			}
			if k >= len(doc) {
				t.Fatalf("unterminated tag %s", tg.name)
			}
			if doc[k] == '>' {
				k++
				break
			}
			n := k
			for k < len(doc) && !isSpace(doc[k]) && !strings.ContainsRune("=>/", rune(doc[k])) {
				k++
			}
			name := strings.ToLower(doc[n:k])
			val := ""
			if k < len(doc) && doc[k] == '=' {
				k++
				if q := doc[k]; q == '"' || q == '\'' {
					end := strings.IndexByte(doc[k+1:], q)
					if end < 0 {
						t.Fatalf("unterminated attribute %s", name)
					}
					val = doc[k+1 : k+1+end]
					k += end + 2
				} else {
					n := k
					for k < len(doc) && !isSpace(doc[k]) && doc[k] != '>' {
						k++
					}
					val = doc[n:k]
				}
			}
			if _, dup := tg.attrs[name]; dup {
				t.Errorf("<%s> has attribute %s twice", tg.name, name)
			}
			tg.attrs[name] = val
		}
		if tg.name == "script" || tg.name == "style" || tg.name == "textarea" || tg.name == "title" {
			end := strings.Index(strings.ToLower(doc[k:]), "</"+tg.name)
			if end < 0 {
				t.Fatalf("unterminated <%s>", tg.name)
			}
			tg.text = doc[k : k+end]
			k += end
		}
		out = append(out, tg)
		i = k
	}
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isSpace(c byte) bool  { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func writeHTMLString(t *testing.T, res *findings.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, res); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// allowedTags are the elements the template writes.
var allowedTags = map[string]bool{
	"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true, "header": true, "div": true,
	"h1": true, "h2": true, "h3": true, "p": true, "dl": true, "dt": true, "dd": true, "nav": true, "a": true, "main": true,
	"section": true, "details": true, "summary": true, "code": true, "table": true, "thead": true, "tbody": true, "tr": true,
	"th": true, "td": true, "span": true, "figure": true, "figcaption": true, "svg": true, "rect": true, "ul": true, "li": true,
	"br": true, "noscript": true, "label": true, "select": true, "option": true, "input": true, "button": true, "article": true,
	"strong": true, "footer": true, "pre": true, "script": true,
}

// checkHTML checks what every report.html must be: the only scripts are
// ours, nothing is loaded from outside, no event handler attributes, and
// the data block round-trips to the view's data.
func checkHTML(t *testing.T, res *findings.Result, doc string) {
	t.Helper()
	tags := scanTags(t, doc)
	var scripts []tag
	var csp string
	for _, tg := range tags {
		if !allowedTags[tg.name] {
			t.Errorf("unexpected element <%s> %v", tg.name, tg.attrs)
		}
		for a, v := range tg.attrs {
			if strings.HasPrefix(a, "on") || a == "src" || a == "srcdoc" || a == "formaction" || a == "style" {
				t.Errorf("<%s> has attribute %s=%q", tg.name, a, v)
			}
			if a == "href" && !strings.HasPrefix(v, "#") && !strings.HasPrefix(v, "https://") {
				t.Errorf("<%s> href=%q", tg.name, v)
			}
		}
		if tg.name == "a" && strings.HasPrefix(tg.attrs["href"], "https://") && tg.attrs["rel"] != "noopener noreferrer" {
			t.Errorf("external link without rel: %v", tg.attrs)
		}
		if tg.name == "script" {
			scripts = append(scripts, tg)
		}
		if tg.name == "meta" && tg.attrs["http-equiv"] == "Content-Security-Policy" {
			csp = tg.attrs["content"]
		}
		if tg.name == "style" && tg.text != htmlCSS {
			t.Error("the <style> element is not exactly the embedded CSS")
		}
	}
	if len(scripts) != 2 {
		t.Fatalf("%d <script> elements, want 2 (data and code)", len(scripts))
	}
	data, code := scripts[0], scripts[1]
	if data.attrs["type"] != "application/json" || data.attrs["id"] != "audit-data" || len(data.attrs) != 2 {
		t.Errorf("first script is %v", data.attrs)
	}
	if len(code.attrs) != 0 || code.text != htmlJS {
		t.Error("second script is not exactly the embedded code")
	}
	wantCSP := "default-src 'none'; script-src " + cspScriptHash + "; style-src " + cspStyleHash +
		"; img-src data:; base-uri 'none'; form-action 'none'"
	if html.UnescapeString(csp) != wantCSP {
		t.Errorf("CSP = %q, want %q", html.UnescapeString(csp), wantCSP)
	}
	for _, bad := range []string{"<", ">", "&", "\u2028", "\u2029"} {
		if strings.Contains(data.text, bad) {
			t.Errorf("data block contains a raw %q", bad)
		}
	}
	var got, want any
	if err := json.Unmarshal([]byte(data.text), &got); err != nil {
		t.Fatalf("data block is not JSON: %v", err)
	}
	wantJSON, err := newView(res).htmlData()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(wantJSON, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("data block does not round-trip to the view's data")
	}
	if n := len(got.(map[string]any)["f"].([]any)); n != len(res.Findings) {
		t.Errorf("data block has %d findings, want %d", n, len(res.Findings))
	}
	// Self-contained: nothing that fetches.
	low := strings.ToLower(doc)
	for _, bad := range []string{"<link", "@import", "url(", "<iframe", "<img", "<object", "<embed", "fetch(", "xmlhttprequest", "innerhtml", "document.write", "eval("} {
		if strings.Contains(strings.ToLower(htmlJS+htmlCSS), bad) {
			t.Errorf("embedded code uses %q", bad)
		}
		if bad == "<img" || bad == "<link" || bad == "<iframe" {
			if strings.Contains(stripScripts(low), bad) {
				t.Errorf("page contains %q", bad)
			}
		}
	}
}

// stripScripts removes the content of script elements.
func stripScripts(doc string) string {
	re := regexp.MustCompile(`(?s)<script[^>]*>.*?</script>`)
	return re.ReplaceAllString(doc, "<script></script>")
}

func TestHTML(t *testing.T) {
	withCatalog(t)
	tests := []struct {
		name string
		res  *findings.Result
	}{
		{"sample", sampleResult()},
		{"empty", &findings.Result{GeneratedAt: fixedTime}},
		{"big", bigResult(3000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := writeHTMLString(t, tt.res)
			checkHTML(t, tt.res, doc)
		})
	}
}

func TestHTMLInjection(t *testing.T) {
	withCatalog(t)
	res := maliciousResult()
	doc := writeHTMLString(t, res)
	checkHTML(t, res, doc)
	// The payloads reached the page (as data), so the checks above saw them.
	var data struct{ S []string }
	tags := scanTags(t, doc)
	for _, tg := range tags {
		if tg.attrs["id"] == "audit-data" {
			if err := json.Unmarshal([]byte(tg.text), &data); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range payloads[:4] {
		found := false
		for _, s := range data.S {
			if strings.Contains(s, Reveal(p)) {
				found = true
			}
		}
		if !found {
			t.Errorf("payload %q not in the data block", p)
		}
	}
	// Server-rendered text is escaped.
	outside := stripScripts(doc)
	for _, bad := range []string{"<script>alert", "<img src=x", `"><img`, "</script><script>"} {
		if strings.Contains(outside, bad) {
			t.Errorf("page contains %q outside the script elements", bad)
		}
	}
	if !strings.Contains(outside, "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("escaped payload not found: did the fixture change?")
	}
	if !strings.Contains(outside, "{{.}}") {
		t.Error("template syntax in data was not kept as text")
	}
}

func TestHTMLDataSize(t *testing.T) {
	withCatalog(t)
	// Strings and evidence parts are shared: the data block of 3000
	// findings stays well under 1 KiB per finding.
	res := bigResult(3000)
	b, err := newView(res).htmlData()
	if err != nil {
		t.Fatal(err)
	}
	if per := len(b) / len(res.Findings); per > 1024 {
		t.Errorf("%d bytes per finding in the data block", per)
	}
}

// TestHTMLSpill: the data block's parts go through temporary files in
// os.TempDir(), all removed when the page is written; where none can be
// made the page is the same, from memory.
func TestHTMLSpill(t *testing.T) {
	withCatalog(t)
	res := bigResult(300)
	want := writeHTMLString(t, res)
	tests := []struct {
		name  string
		tmp   func(t *testing.T) string
		files bool
	}{
		{"temporary files", func(t *testing.T) string { return t.TempDir() }, true},
		{"no temporary directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.tmp(t)
			t.Setenv("TMPDIR", dir)
			d, err := newView(res).buildHTMLData()
			if err != nil {
				t.Fatal(err)
			}
			if got := d.rows.f != nil; got != tt.files {
				t.Errorf("rows in a temporary file: %v, want %v", got, tt.files)
			}
			d.close()
			if got := writeHTMLString(t, res); got != want {
				t.Errorf("page differs:\n%s", firstDiff(want, got))
			}
			if left, _ := os.ReadDir(dir); len(left) > 0 {
				t.Errorf("%d temporary files left in %s, first %s", len(left), dir, left[0].Name())
			}
		})
	}
}

// TestHTMLSpillShort: a temporary file that lost bytes is an error, not a
// shorter page.
func TestHTMLSpillShort(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	s := newHTMLSpill()
	defer s.close()
	if s.f == nil {
		t.Fatal("no temporary file")
	}
	s.WriteString(strings.Repeat("x", 1000))
	if err := s.w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.f.Truncate(10); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := s.copyTo(&out, 0, s.n); err == nil {
		t.Errorf("copied %d of %d bytes without an error", out.Len(), s.n)
	}
}
