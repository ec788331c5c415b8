package report

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// neutralizeCell defends spreadsheet cells (XLSX and CSV) against formula
// injection ("CSV injection"). A spreadsheet program may evaluate a cell
// whose text starts with '=', '+', '-' or '@' as a formula, and strips a
// leading tab or carriage return before looking. Any such cell gets a
// leading apostrophe, so the program shows the text as typed and never
// evaluates it:
//
//	=HYPERLINK("http://x")   →   '=HYPERLINK("http://x")
//
// The trigger characters are checked after leading spaces too (" =1+1"),
// and their full-width forms (＝ ＋ － ＠) are included because some
// programs normalise them. The apostrophe is visible in the cell; it is the
// method OWASP recommends and it survives a round trip through CSV, unlike a
// cell style. Text that does not start with a trigger is returned unchanged.
//
// In XLSX the cell is also always written as a string (never as a formula
// or a number), see xlsx.go.
func neutralizeCell(s string) string {
	t := strings.TrimLeft(s, " ")
	if t == "" {
		return s
	}
	switch t[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n':
		return "'" + s
	}
	r, _ := utf8.DecodeRuneInString(t)
	switch r {
	case '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20':
		return "'" + s
	}
	return s
}

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

// sheetCell is neutralizeCell, then fitCell: the text of every string cell
// of the workbook.
func sheetCell(s string) string { return fitCell(neutralizeCell(s)) }

func itoa(n int) string { return strconv.Itoa(n) }
