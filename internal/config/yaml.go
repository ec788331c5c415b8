package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// parseYAML parses a configuration file into the node of its top-level
// value (nil for an empty file). Errors name the file and the line:
// "audit.yaml:3: did not find expected key".
func parseYAML(path string, data []byte) (*yaml.Node, error) {
	if line, what := badText(data); line > 0 {
		return nil, fmt.Errorf("%s:%d: %s", path, line, what)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, syntaxError(path, data, err)
	}
	// Further documents: only empty ones (a trailing "---") are allowed.
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntaxError(path, data, err)
		}
		if len(next.Content) == 0 {
			continue
		}
		if c := deref(next.Content[0]); c.Kind == yaml.ScalarNode && c.ShortTag() == "!!null" && c.Value == "" {
			continue
		}
		return nil, fmt.Errorf("%s:%d: a second YAML document; the configuration is one document", path, min(max(next.Content[0].Line, 1), lineCount(data)))
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := deref(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, nil
	}
	return root, nil
}

// badText finds the first line that is not UTF-8 or holds a character YAML
// does not allow (control characters other than tab, LF and CR), so that
// such an error has a line too (the YAML reader's errors have none).
func badText(data []byte) (line int, what string) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return lineAt(data, i), "not UTF-8 text"
		case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffe || r == 0xffff:
			return lineAt(data, i), fmt.Sprintf("control character %U is not allowed in YAML", r)
		}
		i += size
	}
	return 0, ""
}

// lineAt is the line (from 1) of the byte at offset, with the line breaks
// of YAML: LF, CR, CR LF, and U+0085, U+2028 and U+2029.
func lineAt(data []byte, offset int) int {
	line := 1
	for i := 0; i < offset && i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch r {
		case '\r':
			if i+1 < len(data) && data[i+1] == '\n' {
				size = 2
			}
			line++
		case '\n', 0x85, 0x2028, 0x2029:
			line++
		}
		i += size
	}
	return line
}

// lineCount is the number of lines of data (an empty last line counts).
func lineCount(data []byte) int { return lineAt(data, len(data)) }

var (
	yamlLineRE   = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)
	yamlAnchorRE = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// parserProblems are the messages of the YAML parser (not the scanner):
// go.yaml.in/yaml/v3 reports their line counted from 0, and none at all on
// the first line, where the scanner's are counted from 1.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// syntaxError renders a YAML error as "FILE:LINE: message", with the line
// counted from 1.
func syntaxError(path string, data []byte, err error) error {
	msg := err.Error()
	lines := lineCount(data)
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		if parserProblems[m[2]] {
			n++
		}
		return fmt.Errorf("%s:%d: %s", path, min(max(n, 1), lines), m[2])
	}
	if m := yamlAnchorRE.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%d: unknown anchor %q referenced", path, aliasLine(data, m[1]), m[1])
	}
	// Without a line: the problem is on the first line.
	return fmt.Errorf("%s:1: %s", path, strings.TrimPrefix(msg, "yaml: "))
}

// aliasLine is the line of the first alias *name in data (1 if not found).
func aliasLine(data []byte, name string) int {
	re, err := regexp.Compile(`\*` + regexp.QuoteMeta(name) + `(?:[\s,\]}]|$)`)
	if err != nil {
		return 1
	}
	loc := re.FindIndex(data)
	if loc == nil {
		return 1
	}
	return lineAt(data, loc[0])
}
