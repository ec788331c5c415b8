package triage

import (
	"strings"
	"unicode/utf8"
)

// A glob is a pattern in which '*' matches any run of characters (including
// none, and including '/' and ':') and '?' matches exactly one character.
// Every other character stands for itself; '{', '}', '\' and (except in a
// field path, where they are part of the name) '[' and ']' are refused
// when the suppression is read, so that nobody mistakes them for
// alternatives, escapes or character classes.
type glob struct {
	pat  string
	fold bool // compare case-insensitively (IAM actions)
}

// reserved are the characters a glob may not contain.
const reserved = "[]{}\\"

// match reports whether s matches the glob. The matcher backtracks only to
// the last '*', so it runs in O(len(pattern) × len(s)) at worst.
func (g glob) match(s string) bool {
	p := g.pat
	if g.fold {
		s = strings.ToLower(s)
	}
	px, sx := 0, 0
	starPx, starSx := -1, -1
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starPx, starSx = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					_, n := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += n
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		// Mismatch: let the last '*' take one more character, if any.
		if starPx >= 0 && starSx < len(s) {
			_, n := utf8.DecodeRuneInString(s[starSx:])
			starSx += n
			px, sx = starPx+1, starSx
			continue
		}
		return false
	}
	return true
}

// globs is a list of patterns of which any may match.
type globs []glob

func (gs globs) any(s string) bool {
	for _, g := range gs {
		if g.match(s) {
			return true
		}
	}
	return false
}

// all reports whether vals is not empty and every value matches one of
// the patterns.
func (gs globs) all(vals []string) bool {
	if len(vals) == 0 {
		return false
	}
	for _, v := range vals {
		if !gs.any(v) {
			return false
		}
	}
	return true
}
