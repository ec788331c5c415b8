package triage

import (
	"fmt"
	"strings"
)

// Error is one invalid suppression: the file, the line and column of the
// offending YAML node, the key path (suppressions[2].expires) and what is
// wrong. The caller maps it to exit code 2.
type Error struct {
	File   string
	Line   int // 1-based; 0 when the error has no place (an unreadable file)
	Column int
	Key    string
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors are every problem found in one file, in the order of the file.
// Its Error is one problem per line.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}
