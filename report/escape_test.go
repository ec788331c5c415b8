package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// noHidden fails the test when s holds a hidden character or invalid UTF-8.
func noHidden(t *testing.T, where, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s: invalid UTF-8 in %q", where, s)
		return
	}
	for _, r := range s {
		if hidden(r) {
			t.Errorf("%s: hidden character %U in %q", where, r, s)
			return
		}
	}
}

func TestReveal(t *testing.T) {
	const same = "\x00same" // want: the input unchanged
	tests := []struct{ class, in, want string }{
		// Bidirectional controls: embeddings, overrides, isolates, marks.
		{"LRE", "a\u202Ab", "a<U+202A>b"},
		{"RLE", "a\u202Bb", "a<U+202B>b"},
		{"PDF", "a\u202Cb", "a<U+202C>b"},
		{"LRO", "a\u202Db", "a<U+202D>b"},
		{"RLO", "evil\u202Egnp.exe", "evil<U+202E>gnp.exe"},
		{"LRI", "\u2066x", "<U+2066>x"},
		{"RLI", "\u2067x", "<U+2067>x"},
		{"FSI", "\u2068x", "<U+2068>x"},
		{"PDI", "x\u2069", "x<U+2069>"},
		{"LRM RLM ALM", "a\u200Eb\u200Fc\u061Cd", "a<U+200E>b<U+200F>c<U+061C>d"},
		// Other invisible format characters.
		{"zero width", "ad\u200Bm\u200Ci\u200Dn\u2060", "ad<U+200B>m<U+200C>i<U+200D>n<U+2060>"},
		{"byte order mark", "\uFEFFprod", "<U+FEFF>prod"},
		{"soft hyphen", "ad\u00ADmin", "ad<U+00AD>min"},
		{"invisible operators", "a\u2061\u2064b", "a<U+2061><U+2064>b"},
		{"tag characters", "x\U000E0041\U000E007F", "x<U+E0041><U+E007F>"},
		// Control characters; TAB and LF are layout and stay.
		{"NUL", "\x00=1+2", "<U+0000>=1+2"},
		{"C0 and DEL", "\x01\x1b[2J\x7f", "<U+0001><U+001B>[2J<U+007F>"},
		{"CR", "ok\rEVIL", "ok<U+000D>EVIL"},
		{"C1", "\u0085\u009b31m", "<U+0085><U+009B>31m"},
		{"TAB and LF", "a\tb\nc", same},
		// Separators and spaces that are not U+0020.
		{"line and paragraph separators", "a\u2028b\u2029", "a<U+2028>b<U+2029>"},
		{"no-break space", "web\u00A0prod", "web<U+00A0>prod"},
		{"typographic spaces", "\u2007\u202F\u205F\u3000", "<U+2007><U+202F><U+205F><U+3000>"},
		// Characters that render as nothing or as blank.
		{"variation selectors", "v\uFE0F\U000E0100", "v<U+FE0F><U+E0100>"},
		{"combining grapheme joiner", "a\u034Fb", "a<U+034F>b"},
		{"Hangul fillers", "\u115F\u1160\u3164\uFFA0", "<U+115F><U+1160><U+3164><U+FFA0>"},
		{"Khmer inherent vowels", "\u17B4\u17B5", "<U+17B4><U+17B5>"},
		{"Braille blank", "\u2800", "<U+2800>"},
		{"private use", "\uE000\U000F0000", "<U+E000><U+F0000>"},
		{"noncharacters", "\uFDD0\uFFFE\uFFFF\U0001FFFE", "<U+FDD0><U+FFFE><U+FFFF><U+1FFFE>"},
		{"invalid UTF-8", "a\xffb\xc3", "a<0xFF>b<0xC3>"},
		// Left alone.
		{"ASCII", "arn:aws:iam::111111111111:role/a-b=c@d", same},
		{"formula", "=1+2", same},
		{"accents", "Société Générale", same},
		{"right-to-left letters", "שלום مرحبا", same},
		{"CJK", "東京", same},
		{"emoji", "🚀", same},
		{"combining accent", "e\u0301", same},
		{"replacement character", "\uFFFD", same},
		{"already revealed", "<U+202E>", same},
		{"empty", "", same},
	}
	for _, tt := range tests {
		t.Run(tt.class, func(t *testing.T) {
			want := tt.want
			if want == same {
				want = tt.in
			}
			got := Reveal(tt.in)
			if got != want {
				t.Fatalf("Reveal(%q) = %q, want %q", tt.in, got, want)
			}
			if Reveal(got) != got {
				t.Errorf("Reveal is not idempotent on %q", got)
			}
			noHidden(t, "Reveal", got)
		})
	}
}

// TestHiddenCoversBidi checks the classes the issue names, code point by
// code point, and that no letter, digit, mark or symbol is hidden.
func TestHiddenCoversBidi(t *testing.T) {
	for _, r := range []rune{0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069} {
		if !hidden(r) {
			t.Errorf("%U is not hidden", r)
		}
	}
	for r := rune(0); r < 0x20; r++ {
		if hidden(r) == (r == '\t' || r == '\n') {
			t.Errorf("control %U: hidden = %v", r, hidden(r))
		}
	}
	blank := map[rune]bool{0x115F: true, 0x1160: true, 0x3164: true, 0xFFA0: true, 0x17B4: true, 0x17B5: true, 0x2800: true, 0x034F: true}
	for r := rune(0x20); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		visible := unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S, unicode.M) && !unicode.Is(unicode.Variation_Selector, r)
		if visible && hidden(r) && !blank[r] {
			t.Errorf("%U (a letter, digit, mark, punctuation or symbol) is hidden", r)
		}
	}
}

func TestNeutralizeCell(t *testing.T) {
	const same = "\x00same"
	tests := []struct{ class, in, want string }{
		{"equals", "=1+1", "'=1+1"},
		{"plus", "+1", "'+1"},
		{"minus", "-1", "'-1"},
		{"at", "@SUM(A1)", "'@SUM(A1)"},
		{"full-width", "＝1", "'＝1"},
		{"full-width plus minus at", "＋1－＠", "'＋1－＠"},
		{"spaces then trigger", "  =1", "'  =1"},
		// Any control character first, whatever follows.
		{"TAB", "\t=1", "'\t=1"},
		{"CR", "\r=1", "'\r=1"},
		{"LF", "\n=1", "'\n=1"},
		{"TAB alone", "\t", "'\t"},
		{"NUL then formula", "\x00=1+2", "'\x00=1+2"},
		{"NUL then text", "\x00abc", "'\x00abc"},
		{"SOH", "\x01x", "'\x01x"},
		{"ESC", "\x1b[2J", "'\x1b[2J"},
		{"DEL", "\x7fx", "'\x7fx"},
		{"C1", "\u0085x", "'\u0085x"},
		{"invalid UTF-8", "\xff=1", "'\xff=1"},
		// Blanks and invisible characters before a trigger.
		{"no-break space", "\u00A0=1", "'\u00A0=1"},
		{"ideographic space", "\u3000@x", "'\u3000@x"},
		{"figure space", "\u2007+1", "'\u2007+1"},
		{"zero-width space", "\u200B=1", "'\u200B=1"},
		{"byte order mark", "\uFEFF=1", "'\uFEFF=1"},
		{"right-to-left override", "\u202E=1", "'\u202E=1"},
		{"mixed", " \u200B -1", "' \u200B -1"},
		// Left alone: the first visible character is not a trigger.
		{"ARN", "arn:aws:iam::1:role/x", same},
		{"trigger later", "a=b", same},
		{"minus later", "1-2", same},
		{"control later", "x\x00=1", same},
		{"revealed control", "<U+0000>=1", same},
		{"empty", "", same},
		{"spaces only", "   ", same},
		{"invisible only", "\u200B\u00A0", same},
		{"apostrophe", "'quoted", same},
		{"number", "12", same},
	}
	for _, tt := range tests {
		t.Run(tt.class, func(t *testing.T) {
			want := tt.want
			if want == same {
				want = tt.in
			}
			if got := neutralizeCell(tt.in); got != want {
				t.Errorf("neutralizeCell(%q) = %q, want %q", tt.in, got, want)
			}
		})
	}
}

// TestTextCell: the cell text of each spoof payload is revealed, and
// neutralised when a spreadsheet could read it as a formula.
func TestTextCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\x00=1+2", "<U+0000>=1+2"},
		{"\u00A0@SUM(1,2)", "<U+00A0>@SUM(1,2)"},
		{"\u200B=1", "<U+200B>=1"},
		{" \u200B=1", " <U+200B>=1"},
		{"\t-1+2", "'\t-1+2"},
		{"\n+1", "'\n+1"},
		{"\r=1", "<U+000D>=1"},
		{"=1", "'=1"},
		{"evil\u202Egnp.exe", "evil<U+202E>gnp.exe"},
		{"plain", "plain"},
	}
	for _, tt := range tests {
		if got := textCell(tt.in); got != tt.want {
			t.Errorf("textCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := sheetCell(tt.in); got != tt.want {
			t.Errorf("sheetCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapeHiddenJSON(t *testing.T) {
	type doc struct {
		Z    string            `json:"z"`
		A    []string          `json:"a"`
		M    map[string]string `json:"m"`
		Keep string            `json:"keep"`
	}
	in := doc{Z: "evil\u202Egnp", A: append([]string{"\x7f", "<&>"}, spoofPayloads...),
		M: map[string]string{"k\u2066": "v\U000E0041"}, Keep: "Société 東京 🚀"}
	b, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got := EscapeHiddenJSON(b)
	var back doc
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("%v\n%s", err, got)
	}
	if !reflect.DeepEqual(back, in) {
		t.Errorf("value changed:\n got %+v\nwant %+v", back, in)
	}
	noHidden(t, "escaped JSON", string(got))
	for _, want := range []string{`evil\u202egnp`, `"k\u2066"`, `v\udb40\udc41`, `"\u007f"`, `Société 東京 🚀`} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("escaped JSON lacks %s:\n%s", want, got)
		}
	}
	plain := []byte(`{"a": "Société"}`)
	if out := EscapeHiddenJSON(plain); &out[0] != &plain[0] {
		t.Error("JSON without hidden characters was copied")
	}
}

func TestRevealJSONStrings(t *testing.T) {
	type doc struct {
		Z string            `json:"z"`
		A []any             `json:"a"`
		M map[string]string `json:"m"`
	}
	in := doc{Z: "<b>\u202E</b>", A: []any{"x\x00", 1.5, true, nil, "é\n\"q\\"}, M: map[string]string{"k\u2066": "\u200Bv"}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := revealJSONStrings(b)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"z":"\u003cb\u003e<U+202E>\u003c/b\u003e","a":["x<U+0000>",1.5,true,null,"é\n\"q\\"],"m":{"k<U+2066>":"<U+200B>v"}}`
	// Reveal's '<' and '>' are HTML-escaped like every other, so the block
	// stays safe inside <script>.
	want = strings.NewReplacer("<", `\u003c`, ">", `\u003e`).Replace(want)
	if string(got) != want {
		t.Errorf("revealJSONStrings =\n%s\nwant\n%s", got, want)
	}
	plain := []byte(`{"a":"b","c":[1,"d\n"]}`)
	if out, err := revealJSONStrings(plain); err != nil || string(out) != string(plain) {
		t.Errorf("plain JSON changed: %s, %v", out, err)
	}
	// Escapes of hidden characters are read; other escapes are kept as
	// they are.
	for in, want := range map[string]string{
		`["\r","\b","\f","\u0000","\u001f","\u2028","\u2029","\u202e","\ud83d\ude80","\udb40\udc41","\u00ad"]`: `["<U+000D>","<U+0008>","<U+000C>","<U+0000>","<U+001F>","<U+2028>","<U+2029>","<U+202E>","\ud83d\ude80","<U+E0041>","<U+00AD>"]`,
		`["\u003c\u003e\u0026","\"\\\/\n\t","\ufffd","\u00e9"]`:                                                `["\u003c\u003e\u0026","\"\\\/\n\t","\ufffd","\u00e9"]`,
	} {
		want = strings.NewReplacer("<", `\u003c`, ">", `\u003e`).Replace(want)
		if out, err := revealJSONStrings([]byte(in)); err != nil || string(out) != want {
			t.Errorf("revealJSONStrings(%s) = %s (%v), want %s", in, out, err, want)
		}
	}
	// writeRevealedJSON writes what revealJSONStrings returns.
	for _, in := range []string{string(b), `{"a":"b`, `["\u202e","x","é\u2028",1]`, `{}`} {
		want, wantErr := revealJSONStrings([]byte(in))
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		err := writeRevealedJSON(w, in)
		w.Flush()
		if (err != nil) != (wantErr != nil) || err == nil && out.String() != string(want) {
			t.Errorf("writeRevealedJSON(%s) = %s (%v), want %s (%v)", in, out.String(), err, want, wantErr)
		}
	}
	if _, err := revealJSONStrings([]byte(`{"a":"b`)); err == nil {
		t.Error("unterminated string accepted")
	}
}

// FuzzEscape checks the escaping functions on any string (run it with
// go test ./report -run '^$' -fuzz '^FuzzEscape$' -fuzztime 5m):
//
//   - Reveal's output is valid UTF-8 without hidden characters, Reveal is
//     idempotent, and text without hidden characters is unchanged;
//   - textCell's output never starts (after blanks) with a formula
//     trigger or a control character unless it starts with the apostrophe;
//   - EscapeHiddenJSON keeps the JSON value and leaves no hidden character;
//   - revealJSONStrings turns a JSON string into the JSON of its Reveal.
func FuzzEscape(f *testing.F) {
	for _, s := range append(append([]string{"", "plain", "a\xffb", "\xed\xa0\x80", "'=1"}, spoofPayloads...), payloads...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := Reveal(s)
		noHidden(t, "Reveal", r)
		if Reveal(r) != r {
			t.Fatalf("Reveal not idempotent on %q", s)
		}
		clean := utf8.ValidString(s)
		for _, c := range s {
			if hidden(c) {
				clean = false
			}
		}
		if clean && r != s {
			t.Fatalf("Reveal changed %q into %q", s, r)
		}

		c := textCell(s)
		if !strings.HasPrefix(c, "'") {
			for _, x := range c {
				if x == ' ' || unicode.IsSpace(x) && x != '\t' && x != '\n' {
					continue
				}
				if strings.ContainsRune("=+-@\t\n＝＋－＠", x) {
					t.Fatalf("textCell(%q) = %q starts with a trigger", s, c)
				}
				break
			}
		}

		b, _ := json.Marshal(s)
		var want string
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		e := EscapeHiddenJSON(b)
		var got string
		if err := json.Unmarshal(e, &got); err != nil || got != want {
			t.Fatalf("EscapeHiddenJSON(%s) = %s: %q, %v", b, e, got, err)
		}
		noHidden(t, "EscapeHiddenJSON", string(e))

		rj, err := revealJSONStrings(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(rj, &got); err != nil || got != Reveal(want) {
			t.Fatalf("revealJSONStrings(%s) = %s: %q, %v", b, rj, got, err)
		}
	})
}
