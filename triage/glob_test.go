package triage

import (
	"regexp"
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pat, s string
		fold   bool
		want   bool
	}{
		{"*", "", false, true},
		{"*", "anything/at:all", false, true},
		{"", "", false, true},
		{"", "x", false, false},
		{"us-*", "us-east-1", false, true},
		{"us-*", "eu-west-1", false, false},
		{"us-*", "", false, false},
		{"us-?ast-1", "us-east-1", false, true},
		{"us-?ast-1", "us-eeast-1", false, false},
		{"?", "", false, false},
		{"?", "é", false, true}, // one character, two bytes
		{"??", "é", false, false},
		{"a*b*c", "aXbYbZc", false, true},
		{"a*b*c", "aXbYbZ", false, false},
		{"*a", "banana", false, true},
		{"*ab", "aab", false, true},
		{"*.valueFrom", "containerDefinitions[0].secrets[2].valueFrom", false, true},
		{"containerDefinitions[*].secrets[*].valueFrom", "containerDefinitions[0].secrets[2].valueFrom", false, true},
		{"containerDefinitions[*].secrets[*].valueFrom", "containerDefinitions[0].environmentFiles[0].value", false, false},
		{"arn:aws:iam::*:role/payments-*", "arn:aws:iam::222222222222:role/payments-api-exec", false, true},
		{"arn:aws:iam::*:role/payments-*", "arn:aws:iam::222222222222:role/analytics-exec", false, false},
		{"logs:*", "LOGS:CreateLogGroup", true, true},
		{"logs:*", "LOGS:CreateLogGroup", false, false},
		{"Logs:Create*", "logs:createloggroup", false, false},
		{"*é*", "café au lait", false, true},
	} {
		pat := c.pat
		if c.fold {
			pat = strings.ToLower(pat)
		}
		if got := (glob{pat: pat, fold: c.fold}).match(c.s); got != c.want {
			t.Errorf("%q ~ %q (fold %v) = %v, want %v", c.pat, c.s, c.fold, got, c.want)
		}
	}
}

// The matcher agrees with the regular expression the glob stands for.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{{"a*b?c", "aXXbYc"}, {"*", ""}, {"?é*", "xé"}, {"**a", "ba"}, {"*?*?", "ab"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pat, s string) {
		if len(pat) > 64 || len(s) > 256 {
			return
		}
		var re strings.Builder
		re.WriteString(`(?s)\A`)
		for _, r := range pat {
			switch r {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`\z`)
		rx, err := regexp.Compile(re.String())
		if err != nil {
			t.Fatal(err)
		}
		// Invalid UTF-8 is one character per byte in both.
		if strings.ContainsRune(pat, '\uFFFD') || strings.ContainsRune(s, '\uFFFD') || !isUTF8(pat) || !isUTF8(s) {
			return
		}
		if got, want := (glob{pat: pat}).match(s), rx.MatchString(s); got != want {
			t.Fatalf("%q ~ %q = %v, regexp says %v", pat, s, got, want)
		}
	})
}

func isUTF8(s string) bool { return strings.ToValidUTF8(s, "") == s }
