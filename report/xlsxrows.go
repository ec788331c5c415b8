package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Rows of the workbook's tables, written as excelize's StreamWriter writes
// them.
//
// excelize's StreamWriter spends most of a large workbook's time per cell:
// each string goes through encoding/xml's escaper into a new string, a
// ReplaceAll and a regular expression; the rows are buffered, spilled to a
// temporary file, and copied into the package at the end. For the bench
// snapshot (109,000 rows of affected items) that was most of the
// workbook's time and a gigabyte of garbage. So for every table sheet
// (newTable) excelize writes the sheet around the rows: namespaces, panes,
// column widths, the header row and the autofilter. When excelize has
// written the table's part (or the parts of its sheets, when it does not
// fit in one) into the package, orderedZip has the table's function
// (table.stream) write the other rows in their place, straight into the
// compressor. The rows are the bytes excelize's SetRow writes for the same
// cells (cell references, styles, inline strings with the same escaping,
// numbers); TestXLSXRowsAsExcelize compares the two on every sheet and on
// any string.

// rowWriter writes <row> elements of a sheet's sheetData.
type rowWriter struct {
	w    *bufio.Writer
	buf  []byte // the row being written
	text []byte // scratch for escaped text
}

func newRowWriter(w io.Writer) *rowWriter {
	return &rowWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

func (rw *rowWriter) flush() error { return rw.w.Flush() }

// row writes row r (1-based) with cells from column A, as excelize's
// StreamWriter.SetRow(A<r>, values of cells) writes it without row
// options: the zero cell is left out, a string is an inline string, a
// number a value.
func (rw *rowWriter) row(r int, cells []cell) error {
	b := append(rw.buf[:0], `<row r="`...)
	b = strconv.AppendInt(b, int64(r), 10)
	b = append(b, `">`...)
	for i := range cells {
		c := &cells[i]
		if c.kind == cellNone {
			continue
		}
		b = append(b, `<c r="`...)
		b = append(b, columnName(i+1)...)
		b = strconv.AppendInt(b, int64(r), 10)
		b = append(b, '"')
		if c.style > 0 {
			b = append(b, ` s="`...)
			b = strconv.AppendInt(b, int64(c.style), 10)
			b = append(b, '"')
		}
		switch c.kind {
		case cellText:
			var preserve bool
			rw.text, preserve = appendCellText(rw.text[:0], c.text)
			b = append(b, ` t="inlineStr"><is><t`...)
			if preserve {
				b = append(b, ` xml:space="preserve"`...)
			}
			b = append(b, '>')
			b = append(b, rw.text...)
			b = append(b, `</t></is></c>`...)
		case cellNumber:
			b = append(b, `><v>`...)
			b = strconv.AppendInt(b, int64(c.num), 10)
			b = append(b, `</v></c>`...)
		default:
			return fmt.Errorf("xlsx: row %d: a cell of kind %d", r, c.kind)
		}
	}
	b = append(b, `</row>`...)
	rw.buf = b
	_, err := rw.w.Write(b)
	return err
}

// columnNames caches columnName for the columns of the widest table.
var columnNames = func() []string {
	out := make([]string, 64)
	for i := 1; i < len(out); i++ {
		out[i], _ = excelize.ColumnNumberToName(i)
	}
	return out
}()

// columnName is the name of column n (1 "A", 27 "AA").
func columnName(n int) string {
	if n < len(columnNames) {
		return columnNames[n]
	}
	name, _ := excelize.ColumnNumberToName(n)
	return name
}

// maxSheetCellUnits is excelize's TotalCellChars: the UTF-16 code units a
// cell holds.
const maxSheetCellUnits = 32767

// appendCellText appends s to dst as the text of an inline string cell, as
// excelize writes a string (trimCellValue): cut to maxSheetCellUnits,
// escaped as encoding/xml's EscapeText escapes text except for newlines,
// which stay as they are, and with excelize's escape of "_xHHHH_"
// (bstrMarshal). preserve says whether the text begins or ends with
// white space (tab, newline, carriage return, space), for which excelize
// adds xml:space="preserve".
func appendCellText(dst []byte, s string) (out []byte, preserve bool) {
	if len(s) > maxSheetCellUnits {
		units := 0
		for i, r := range s {
			if units += utf16.RuneLen(r); units > maxSheetCellUnits {
				s = s[:i]
				break
			}
		}
	}
	if s == "" {
		return dst, false
	}
	switch s[0] {
	case '\t', '\n', '\r', ' ':
		preserve = true
	}
	switch s[len(s)-1] {
	case '\t', '\n', '\r', ' ':
		preserve = true
	}
	start := len(dst)
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		width := 1
		switch {
		case c == '"':
			esc = "&#34;"
		case c == '\'':
			esc = "&#39;"
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '\t':
			esc = "&#x9;"
		case c == '\r':
			esc = "&#xD;"
		case c == '\n':
			i++
			continue
		case c < 0x20:
			esc = "\uFFFD"
		case c < utf8.RuneSelf:
			i++
			continue
		default:
			var r rune
			r, width = utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && width == 1 || !xmlCharacter(r) {
				esc = "\uFFFD"
			} else {
				i += width
				continue
			}
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		i += width
		last = i
	}
	dst = append(dst, s[last:]...)
	if bytes.Contains(dst[start:], []byte("_x")) {
		esc := excelizeBstr(string(dst[start:]))
		dst = append(dst[:start], esc...)
	}
	return dst, preserve
}

// xmlCharacter reports whether r may occur in XML text (encoding/xml's
// isInCharacterRange); r is not ASCII here.
func xmlCharacter(r rune) bool {
	return r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

var (
	bstrPattern       = regexp.MustCompile(`_x[a-fA-F\d]{4}_`)
	bstrEscapePattern = regexp.MustCompile(`x[a-fA-F\d]{4}_`)
)

// excelizeBstr is excelize's bstrMarshal: text that reads as an escaped
// character ("_x0041_") gets its underscore escaped ("_x005F_x0041_"), so
// that a spreadsheet program shows it as written. Its quirks are kept (a
// "_xHHHH_" that is not a character, such as a surrogate, is dropped), so
// that the cells are the ones excelize writes.
func excelizeBstr(s string) string {
	var b strings.Builder
	cursor := 0
	for _, m := range bstrPattern.FindAllStringIndex(s, -1) {
		b.WriteString(s[cursor:m[0]])
		sub := s[m[0]:m[1]]
		cursor = m[1]
		if sub == "_x005F_" {
			if m[1]+6 <= len(s) && bstrEscapePattern.MatchString(s[m[1]:m[1]+6]) {
				if _, err := strconv.Unquote(`"\u` + s[m[1]+1:m[1]+5] + `"`); err == nil {
					b.WriteString(sub + "x005F" + sub)
					continue
				}
			}
			b.WriteString(sub + "x005F_")
			continue
		}
		if _, err := strconv.Unquote(`"\u` + s[m[0]+2:m[1]-1] + `"`); err == nil {
			b.WriteString("_x005F" + sub)
		}
	}
	b.WriteString(s[cursor:])
	return b.String()
}
