package archtest

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// factsHeading is a numbered heading of docs/facts.md: "## 5. …", "### 5.4 …".
var factsHeading = regexp.MustCompile(`^#{2,6} (\d+(?:\.\d+)*)\.?\s`)

// factsCitation is a citation of a section, "§5.4", or of a range,
// "§1.3–1.9". Code writes it after "ecs-facts" (the fact base it was written
// from) or "docs/facts.md"; both name the sections of docs/facts.md.
var factsCitation = regexp.MustCompile(`§\s?(\d+(?:\.\d+)*)(?:\s?[–-]\s?§?(\d+(?:\.\d+)*))?`)

// otherDocuments are names that, right before a "§", say that it cites a
// section of another document.
var otherDocuments = []string{"RFC", "SARIF"}

// TestFactCitations: every "§x.y" in the repository's Go files and Markdown
// documents is a numbered heading of docs/facts.md.
func TestFactCitations(t *testing.T) {
	root := goList(t).root
	sections, err := factsSections(filepath.Join(root, "docs", "facts.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sections) == 0 {
		t.Fatal("docs/facts.md has no numbered headings")
	}
	cited := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "bin", "out", "dist", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".go" && ext != ".md" {
			return nil
		}
		name, _ := filepath.Rel(root, path)
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
		for line := 1; sc.Scan(); line++ {
			text := sc.Text()
			for _, m := range factsCitation.FindAllStringSubmatchIndex(text, -1) {
				if citesOtherDocument(text[:m[0]]) {
					continue
				}
				for _, g := range []int{2, 4} {
					if m[g] < 0 {
						continue
					}
					cited++
					if n := text[m[g]:m[g+1]]; !sections[n] {
						t.Errorf("%s:%d cites §%s, which is not a numbered heading of docs/facts.md", filepath.ToSlash(name), line, n)
					}
				}
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if cited == 0 {
		t.Fatal("found no § citation in the repository; is the walk looking in the right place?")
	}
}

// citesOtherDocument reports whether the text before a "§" ends with the
// name of another document ("RFC 3986 §2.1", "SARIF §3.27").
func citesOtherDocument(before string) bool {
	fields := strings.Fields(before)
	for i := len(fields) - 1; i >= 0 && i >= len(fields)-2; i-- {
		for _, doc := range otherDocuments {
			if strings.HasPrefix(strings.TrimLeft(fields[i], "\"'(`["), doc) {
				return true
			}
		}
	}
	return false
}

// factsSections returns the section numbers of the numbered headings of the
// facts file.
func factsSections(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sections := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if m := factsHeading.FindStringSubmatch(line); m != nil {
			sections[m[1]] = true
		}
	}
	return sections, nil
}

// TestFactsHeadings: the numbered headings of docs/facts.md are unique and in
// order, so that a citation has one place to point at.
func TestFactsHeadings(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(goList(t).root, "docs", "facts.md"))
	if err != nil {
		t.Fatal(err)
	}
	var prev []int
	seen := map[string]bool{}
	inFence := false
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		m := factsHeading.FindStringSubmatch(line)
		if m == nil || inFence {
			continue
		}
		if seen[m[1]] {
			t.Errorf("docs/facts.md:%d: section %s appears twice", i+1, m[1])
		}
		seen[m[1]] = true
		cur := parseSection(m[1])
		if prev != nil && !sectionLess(prev, cur) {
			t.Errorf("docs/facts.md:%d: section %s comes after %s", i+1, m[1], formatSection(prev))
		}
		prev = cur
	}
}

func parseSection(s string) []int {
	var out []int
	for _, p := range strings.Split(s, ".") {
		n, _ := strconv.Atoi(p) // the heading pattern admits digits only
		out = append(out, n)
	}
	return out
}

func sectionLess(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

func formatSection(s []int) string {
	parts := make([]string, len(s))
	for i, n := range s {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ".")
}
