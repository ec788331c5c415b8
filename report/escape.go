package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Escaping of attacker-controlled text for people and spreadsheets.
//
// Two defences live here, and every writer uses them:
//
//   - Reveal shows characters that can hide, reorder or fake text (bidi
//     controls, zero-width and other invisible characters, control
//     characters) as a visible "<U+202E>". HTML, Markdown, CSV, XLSX, SARIF
//     message text and the terminal (cmd/audit) show Reveal's output; JSON,
//     SARIF data and evidence files keep the exact text and write these
//     characters as \u escapes (EscapeHiddenJSON), so that a viewer of the
//     file sees the escape rather than the effect.
//   - neutralizeCell keeps spreadsheet programs from reading a cell as a
//     formula (CSV and XLSX).

// hidden reports whether r is a character Reveal shows as <U+XXXX>: one
// that a reader cannot see, or that changes how the text around it is
// laid out, so that a name holding it could pass for another name.
//
//   - Control characters (C0, DEL, C1), except TAB and LF, which are kept
//     as layout (multi-line messages, indented policies). CR is revealed:
//     on a terminal it moves back to the start of the line.
//   - Format characters (Unicode category Cf). These include every
//     bidirectional control: the embeddings and overrides U+202A–U+202E,
//     the isolates U+2066–U+2069, and the marks U+200E LRM, U+200F RLM and
//     U+061C ALM; the zero-width space, joiners and word joiner
//     (U+200B–U+200D, U+2060), the byte order mark U+FEFF, the soft hyphen
//     U+00AD, invisible operators (U+2061–U+2064) and the tag characters
//     U+E0000–U+E007F, which carry hidden ASCII.
//   - The line and paragraph separators U+2028 and U+2029.
//   - Spaces other than U+0020 (category Zs: no-break space, en/em and
//     other typographic spaces, ideographic space), which look like a
//     space but are not one.
//   - Characters that render as nothing or as blank: variation selectors
//     (U+FE00–U+FE0F, U+E0100–U+E01EF), the combining grapheme joiner
//     U+034F, the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), the
//     Khmer inherent vowels U+17B4 and U+17B5, and the Braille blank U+2800.
//   - Private-use characters (shown by a font, not by Unicode) and
//     noncharacters (U+FDD0–U+FDEF and U+xFFFE/U+xFFFF, which XML forbids).
//
// Letters of every script, including right-to-left ones, accents and
// combining marks are left alone: AWS identifiers are ASCII, and free text
// in another language must stay readable. Look-alike letters (Cyrillic "а"
// for Latin "a") are not escaped; the ARNs and account IDs beside a name
// are ASCII and tell names apart.
func hidden(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case r < 0x20 || r == 0x7f:
		return true
	case r < 0x7f:
		return false
	case r <= 0x9f: // C1 controls
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	case r == 0x034f, r == 0x115f, r == 0x1160, r == 0x17b4, r == 0x17b5, r == 0x2800, r == 0x3164, r == 0xffa0:
		return true
	case r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe:
		return true
	}
	return unicode.In(r, unicode.Cf, unicode.Zs, unicode.Co, unicode.Variation_Selector)
}

// Reveal returns s with every hidden character (see hidden) replaced by its
// code point in a visible form, "<U+202E>", and every byte that is not
// valid UTF-8 by "<0xFF>". Text without such characters is returned as is.
// Reveal is idempotent: its output has no hidden character.
//
// It is the one function every human-facing output uses for strings that
// come from AWS or from a snapshot: the HTML report, the Markdown summary,
// CSV and XLSX cells, SARIF message text, and audit's terminal output.
func Reveal(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
				break
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || hidden(r) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "<0x%02X>", s[i])
		case hidden(r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// EscapeHiddenJSON rewrites JSON produced by encoding/json so that every
// hidden character that encoding/json left as is (it escapes only C0
// controls, U+2028 and U+2029 and HTML characters) is written as a \u
// escape (a surrogate pair above U+FFFF). The JSON value is unchanged:
// the data stay exact, and a person reading the file sees "\u202e" where a
// right-to-left override would otherwise reorder the line. In valid JSON
// such characters can only occur inside strings, so the rewrite never
// touches the structure. b must hold whole JSON values (or whole lines of
// JSON), never a value cut in the middle of a character.
func EscapeHiddenJSON(b []byte) []byte {
	i := 0
	for i < len(b) {
		if b[i] < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError && hidden(r) {
			break
		}
		i += size
	}
	if i == len(b) {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	out = append(out, b[:i]...)
	for i < len(b) {
		c := b[i]
		if c < 0x7f {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 || !hidden(r) {
			out = append(out, b[i:i+size]...)
			i += size
			continue
		}
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += size
	}
	return out
}

// revealJSONStrings applies Reveal to every string (keys included) of a JSON
// document produced by encoding/json, keeping everything else byte for
// byte, the order of keys included. Strings are re-encoded by
// encoding/json, with HTML escaping, so the result is as safe to embed in a
// <script> element as the input. It is used for the data block of the HTML
// report, which the page's script shows with textContent.
func revealJSONStrings(b []byte) ([]byte, error) {
	var out []byte // nil until a string changes
	last := 0      // b[last:] is not copied to out yet
	err := revealJSON(b, func(start, end int, enc []byte) {
		out = append(out, b[last:start]...)
		out = append(out, enc...)
		last = end
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return b, nil
	}
	return append(out, b[last:]...), nil
}

// writeRevealedJSON writes b to w as revealJSONStrings rewrites it, without
// a copy of b.
func writeRevealedJSON(w *bufio.Writer, b string) error {
	last := 0
	err := revealJSON(b, func(start, end int, enc []byte) {
		w.WriteString(b[last:start])
		w.Write(enc)
		last = end
	})
	if err != nil {
		return err
	}
	_, err = w.WriteString(b[last:])
	return err
}

// revealJSON finds the strings of the JSON b that Reveal changes, and
// calls put with where each is in b and its new encoding.
func revealJSON[T string | []byte](b T, put func(start, end int, enc []byte)) error {
	for i := 0; i < len(b); i++ {
		if b[i] != '"' {
			continue
		}
		// A string literal: find its end, note whether it may need Reveal
		// (a byte outside printable ASCII, or an escape that may stand for
		// a hidden character).
		start, suspect := i, false
		for i++; i < len(b) && b[i] != '"'; i++ {
			switch c := b[i]; {
			case c == '\\':
				suspect = suspect || hiddenEscape(b[i+1:])
				i++
			case c >= 0x7f:
				suspect = true
			}
		}
		if i >= len(b) {
			return fmt.Errorf("unterminated string at byte %d", start)
		}
		if !suspect {
			continue
		}
		var s string
		if err := json.Unmarshal([]byte(b[start:i+1]), &s); err != nil {
			return fmt.Errorf("string at byte %d: %w", start, err)
		}
		r := Reveal(s)
		if r == s {
			continue
		}
		enc, err := json.Marshal(r)
		if err != nil {
			return err
		}
		put(start, i+1, enc)
	}
	return nil
}

// hiddenEscape reports whether the JSON escape after a backslash, at the
// start of e, may stand for a hidden character: \b, \f, \r, or a \u
// escape of a hidden character or of a surrogate (or one that cannot be
// read). \", \\, \/, \n and \t, and the \u escapes encoding/json writes
// for '<', '>' and '&', stand for characters Reveal keeps.
func hiddenEscape[T string | []byte](e T) bool {
	if len(e) == 0 {
		return true
	}
	switch e[0] {
	case '"', '\\', '/', 'n', 't':
		return false
	case 'u':
		if len(e) < 5 {
			return true
		}
		r, err := strconv.ParseUint(string(e[1:5]), 16, 32)
		return err != nil || hidden(rune(r)) || r >= 0xd800 && r <= 0xdfff
	}
	return true
}

// neutralizeCell defends spreadsheet cells (XLSX and CSV) against formula
// injection ("CSV injection"). A spreadsheet program may evaluate a cell
// whose text starts with '=', '+', '-' or '@' as a formula; it may skip
// leading blanks before looking, and it drops a leading NUL, tab, CR or
// other control character and then evaluates the rest (LibreOffice reads
// "\x00=1+2" as 3 when it imports a CSV with formulas evaluated). A cell
// gets a leading apostrophe when its first character, after any leading
// blanks and invisible characters (Unicode spaces, format characters, see
// hidden), is
//
//   - '=', '+', '-' or '@', or their full-width forms (＝ ＋ － ＠), which
//     some programs normalise;
//   - any control character: TAB, CR, LF, NUL, every other C0 and C1
//     control and DEL; or a byte that is not valid UTF-8.
//
// For example
//
//	=HYPERLINK("http://x")   →   '=HYPERLINK("http://x")
//	"\u00a0@SUM(A1)"         →   "'\u00a0@SUM(A1)"
//
// The program then shows the text as typed and never evaluates it. The
// apostrophe is visible in the cell; it is the method OWASP recommends and
// it survives a round trip through CSV, unlike a cell style. Text whose
// first visible character is anything else is returned unchanged, whatever
// it holds further on ("a=b", "arn:…", "1-2").
//
// The writers call neutralizeCell on Reveal's output (see textCell), so that
// the decision is made on the text the program will read; it is safe on
// any text on its own too. In XLSX the cell is also always written as a
// string (never as a formula or a number), see xlsx.go.
func neutralizeCell(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '=', r == '+', r == '-', r == '@',
			r == '\uFF1D', r == '\uFF0B', r == '\uFF0D', r == '\uFF20':
			return "'" + s
		case r < 0x20, r >= 0x7f && r <= 0x9f, r == utf8.RuneError && size == 1:
			return "'" + s
		case r == ' ', unicode.IsSpace(r), hidden(r):
			i += size
		default:
			return s
		}
	}
	return s
}

// textCell is the text of a CSV cell: revealed, then neutralised.
func textCell(s string) string { return neutralizeCell(Reveal(s)) }

// maxCellChars is the most characters an XLSX cell holds.
const maxCellChars = 32767

// truncatedMark ends a cell whose text was cut to fit maxCellChars.
const truncatedMark = " … [truncated: see findings.json]"

// fitCell cuts s so that it fits in one spreadsheet cell (counted in UTF-16
// code units, as Excel does), marking the cut.
func fitCell(s string) string {
	// A UTF-8 string never has more UTF-16 code units than bytes.
	if len(s) <= maxCellChars || utf16Len(s) <= maxCellChars {
		return s
	}
	units := 0
	limit := maxCellChars - utf16Len(truncatedMark)
	for i, r := range s {
		n := 1
		if r >= 0x10000 {
			n = 2
		}
		if units+n > limit {
			return s[:i] + truncatedMark
		}
		units += n
	}
	return s
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// sheetCell is textCell, then fitCell: the text of every string cell of the
// workbook.
func sheetCell(s string) string { return fitCell(textCell(s)) }

func itoa(n int) string { return strconv.Itoa(n) }
