package triage

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// now is the scan time of these tests.
var now = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

func day(s string) time.Time {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

const fullExample = `# accepted risks, reviewed in pull requests
suppressions:
  - rule: ER006
    account: "222222222222"
    region: [us-east-1, eu-west-1]
    family: payments-*
    role: payments-*-exec
    resource: arn:aws:iam::222222222222:role/*
    when:
      policy: inline:legacy-*
      statement: AllowLogsAll
      action: logs:*
      fieldPath: containerDefinitions[*].logConfiguration.*
    justification: Shared logging role, narrowed in PAY-1234.
    owner: payments-platform@example.com
    expires: 2027-03-31
  - rule: "*"
    account: 333333333333
    role: arn:aws:iam::333333333333:role/analytics-*
    justification: |
      Analytics sandbox; no production data.
    expires: "2026-12-31"
`

func TestParseSuppressions(t *testing.T) {
	for _, c := range []struct {
		name string
		src  string
		want []Suppression
	}{
		{"full", fullExample, []Suppression{
			{Rule: "ER006", Account: []string{"222222222222"}, Region: []string{"us-east-1", "eu-west-1"}, Family: []string{"payments-*"},
				Role: []string{"payments-*-exec"}, Resource: []string{"arn:aws:iam::222222222222:role/*"},
				When: Condition{Policy: []string{"inline:legacy-*"}, Statement: []string{"AllowLogsAll"}, Action: []string{"logs:*"},
					FieldPath: []string{"containerDefinitions[*].logConfiguration.*"}},
				Justification: "Shared logging role, narrowed in PAY-1234.", Owner: "payments-platform@example.com",
				Expires: day("2027-03-31"), Source: "s.yaml:3"},
			{Rule: "*", Account: []string{"333333333333"}, Role: []string{"arn:aws:iam::333333333333:role/analytics-*"},
				Justification: "Analytics sandbox; no production data.", Expires: day("2026-12-31"), Source: "s.yaml:17"},
		}},
		{"bare list", "- rule: ER007\n  justification: task role equals execution role by design\n  expires: 2027-01-01\n",
			[]Suppression{{Rule: "ER007", Justification: "task role equals execution role by design", Expires: day("2027-01-01"), Source: "s.yaml:1"}}},
		{"empty file", "", []Suppression{}},
		{"only a comment", "# nothing accepted yet\n", []Suppression{}},
		{"empty key", "suppressions:\n", []Suppression{}},
		{"empty list", "suppressions: []\n", []Suppression{}},
		{"expired is kept for the scan", "- {rule: ER007, justification: x, expires: 2026-12-03}\n",
			[]Suppression{{Rule: "ER007", Justification: "x", Expires: day("2026-12-03"), Source: "s.yaml:1"}}},
		{"the last allowed day", "- {rule: ER007, justification: x, expires: 2027-12-04}\n",
			[]Suppression{{Rule: "ER007", Justification: "x", Expires: day("2027-12-04"), Source: "s.yaml:1"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseSuppressions("s.yaml", []byte(c.src), Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.List, c.want) {
				t.Errorf("got  %+v\nwant %+v", got.List, c.want)
			}
			if got.ExpiringWithin != DefaultExpiringWithin {
				t.Errorf("window %v", got.ExpiringWithin)
			}
		})
	}
}

// Every invalid suppression is an error naming the file, line, column
// and key.
func TestParseSuppressionsErrors(t *testing.T) {
	const ok = "    justification: x\n    expires: 2027-01-01\n"
	for _, c := range []struct {
		name string
		src  string
		opts Options
		want []string // each error, in order
	}{
		{"no justification", "suppressions:\n  - rule: ER006\n    expires: 2027-01-01\n", Options{},
			[]string{"s.yaml:2:5: suppressions[0].justification: is required: why the risk is accepted"}},
		{"empty justification", "suppressions:\n  - rule: ER006\n    justification: '  '\n    expires: 2027-01-01\n", Options{},
			[]string{"s.yaml:3:20: suppressions[0].justification: is empty: say why the risk is accepted"}},
		{"null justification", "suppressions:\n  - rule: ER006\n    justification:\n    expires: 2027-01-01\n", Options{},
			[]string{"s.yaml:3:19: suppressions[0].justification: expected a single value, found an empty value"}},
		{"no expiry", "suppressions:\n  - rule: ER006\n    justification: x\n", Options{},
			[]string{"s.yaml:2:5: suppressions[0].expires: is required: the last day it applies, YYYY-MM-DD"}},
		{"no rule", "suppressions:\n  - account: '222222222222'\n" + ok, Options{},
			[]string{"s.yaml:2:5: suppressions[0].rule: is required: a rule ID such as ER006, or *"}},
		{"unknown rule", "suppressions:\n  - rule: ER999\n" + ok, Options{},
			[]string{`s.yaml:2:11: suppressions[0].rule: unknown rule "ER999" (known: AG001, AG002, AG003, ER001, ER002, ER003, ER004, ER005, ER006, ER007, ER008, FG001, NW001, PL001, RS001, TD001, or *)`}},
		{"rule in the wrong case", "suppressions:\n  - rule: er006\n" + ok, Options{},
			[]string{`s.yaml:2:11: suppressions[0].rule: unknown rule "er006" (did you mean ER006?)`}},
		{"rules given", "suppressions:\n  - rule: ER006\n" + ok, Options{Rules: []string{"X1"}},
			[]string{`s.yaml:2:11: suppressions[0].rule: unknown rule "ER006" (known: X1, or *)`}},
		{"star accepts everything", "suppressions:\n  - rule: '*'\n" + ok, Options{},
			[]string{"s.yaml:2:11: suppressions[0].rule: * with no account, region, family, role or resource would accept every finding: name the resources"}},
		{"past expiry when reviewing", "suppressions:\n  - rule: ER006\n    justification: x\n    expires: 2026-12-03\n", Options{RejectExpired: true},
			[]string{"s.yaml:4:14: suppressions[0].expires: 2026-12-03 is past: the suppression has expired; renew it with a new date or remove it"}},
		{"expiry beyond the maximum", "suppressions:\n  - rule: ER006\n    justification: x\n    expires: 2027-12-05\n", Options{},
			[]string{"s.yaml:4:14: suppressions[0].expires: 2027-12-05 is beyond the maximum of 365 days ahead (the last day allowed is 2027-12-04): review the risk sooner"}},
		{"expiry beyond a configured maximum", "suppressions:\n  - rule: ER006\n    justification: x\n    expires: 2027-01-04\n", Options{MaxHorizon: 30 * 24 * time.Hour},
			[]string{"s.yaml:4:14: suppressions[0].expires: 2027-01-04 is beyond the maximum of 30 days ahead (the last day allowed is 2027-01-03): review the risk sooner"}},
		{"not a date", "suppressions:\n  - rule: ER006\n    justification: x\n    expires: 31/12/2026\n", Options{},
			[]string{`s.yaml:4:14: suppressions[0].expires: "31/12/2026" is not a date: write YYYY-MM-DD (the last day the suppression applies, UTC)`}},
		{"a time", "suppressions:\n  - rule: ER006\n    justification: x\n    expires: 2026-12-31T00:00:00Z\n", Options{},
			[]string{`s.yaml:4:14: suppressions[0].expires: "2026-12-31T00:00:00Z" is not a date: write YYYY-MM-DD (the last day the suppression applies, UTC)`}},
		{"no such day", "suppressions:\n  - rule: ER006\n    justification: x\n    expires: 2027-02-30\n", Options{},
			[]string{`s.yaml:4:14: suppressions[0].expires: "2027-02-30" is not a date: write YYYY-MM-DD (the last day the suppression applies, UTC)`}},
		{"bad glob: class", "suppressions:\n  - rule: ER006\n    family: 'pay[0-9]'\n" + ok, Options{},
			[]string{`s.yaml:3:13: suppressions[0].family: bad glob "pay[0-9]": '[' is not supported: only * (any characters) and ? (one character) are special`}},
		{"bad glob: alternatives", "suppressions:\n  - rule: ER006\n    region: '{us,eu}-*'\n" + ok, Options{},
			[]string{`s.yaml:3:13: suppressions[0].region: bad glob "{us,eu}-*": '{' is not supported: only * (any characters) and ? (one character) are special`}},
		{"bad glob: escape", "suppressions:\n  - rule: ER006\n    when: {action: 'logs:\\*'}\n" + ok, Options{},
			[]string{`s.yaml:3:20: suppressions[0].when.action: bad glob "logs:\\*": '\\' is not supported: only * (any characters) and ? (one character) are special`}},
		{"bad glob: empty", "suppressions:\n  - rule: ER006\n    role: ''\n" + ok, Options{},
			[]string{`s.yaml:3:11: suppressions[0].role: bad glob "": empty`}},
		{"bad glob: account", "suppressions:\n  - rule: ER006\n    account: [payments, '2222']\n" + ok, Options{},
			[]string{`s.yaml:3:15: suppressions[0].account[0]: bad glob "payments": 'p' cannot appear in an account ID (12 digits)`,
				`s.yaml:3:25: suppressions[0].account[1]: bad glob "2222": not an account ID (12 digits)`}},
		{"bad glob: region", "suppressions:\n  - rule: ER006\n    region: US-EAST-1\n" + ok, Options{},
			[]string{`s.yaml:3:13: suppressions[0].region: bad glob "US-EAST-1": 'U' cannot appear in a region name`}},
		{"bad glob: resource", "suppressions:\n  - rule: ER006\n    resource: role/payments\n" + ok, Options{},
			[]string{`s.yaml:3:15: suppressions[0].resource: bad glob "role/payments": a resource glob starts with arn: (or *)`}},
		{"bad glob: space", "suppressions:\n  - rule: ER006\n    when: {statement: 'Allow All'}\n" + ok, Options{},
			[]string{`s.yaml:3:23: suppressions[0].when.statement: bad glob "Allow All": ' ' cannot appear in a statement Sid`}},
		{"unknown key", "suppressions:\n  - rule: ER006\n    acount: '222222222222'\n" + ok, Options{},
			[]string{"s.yaml:3:5: suppressions[0].acount: unknown key (known: rule, account, region, family, role, resource, when, justification, owner, expires)"}},
		{"unknown condition", "suppressions:\n  - rule: ER006\n    when:\n      sid: X\n" + ok, Options{},
			[]string{"s.yaml:4:7: suppressions[0].when.sid: unknown key (known: policy, statement, action, fieldPath)"}},
		{"empty condition", "suppressions:\n  - rule: ER006\n    when: {}\n" + ok, Options{},
			[]string{"s.yaml:3:11: suppressions[0].when: is empty: leave it out, or name policy, statement, action, fieldPath"}},
		{"wrong type: rule", "suppressions:\n  - rule: [ER006]\n" + ok, Options{},
			[]string{"s.yaml:2:11: suppressions[0].rule: expected a single value, found a list"}},
		{"wrong type: owner", "suppressions:\n  - rule: ER006\n    owner: {team: x}\n" + ok, Options{},
			[]string{"s.yaml:3:12: suppressions[0].owner: expected a single value, found a mapping"}},
		{"wrong type: when", "suppressions:\n  - rule: ER006\n    when: AllowAll\n" + ok, Options{},
			[]string{`s.yaml:3:11: suppressions[0].when: expected a mapping of policy, statement, action, fieldPath, found "AllowAll"`}},
		{"wrong type: glob list", "suppressions:\n  - rule: ER006\n    region: [[us-east-1]]\n" + ok, Options{},
			[]string{"s.yaml:3:14: suppressions[0].region[0]: expected a glob, found a list"}},
		{"empty glob list", "suppressions:\n  - rule: ER006\n    region: []\n" + ok, Options{},
			[]string{"s.yaml:3:13: suppressions[0].region: is an empty list: leave the key out to match everything"}},
		{"wrong type: entry", "suppressions:\n  - ER006\n", Options{},
			[]string{`s.yaml:2:5: suppressions[0]: expected a suppression (a mapping with rule, justification, expires…), found "ER006"`}},
		{"wrong type: list", "suppressions: ER006\n", Options{},
			[]string{`s.yaml:1:15: suppressions: expected a list of suppressions, found "ER006"`}},
		{"wrong type: top level", "ER006\n", Options{},
			[]string{`s.yaml:1:1: expected a list of suppressions or a mapping with the key suppressions, found "ER006"`}},
		{"unknown top-level key", "suppression:\n  - rule: ER006\n", Options{},
			[]string{"s.yaml:1:1: suppression: unknown key: a suppressions file holds one key, suppressions"}},
		{"duplicate key", "suppressions:\n  - rule: ER006\n    rule: ER007\n" + ok, Options{},
			[]string{"s.yaml:3:5: suppressions[0].rule: duplicate key (first on line 2)"}},
		{"alias", "base: &b {rule: ER006, justification: x, expires: 2027-01-01}\n", Options{},
			[]string{"s.yaml:1:1: base: unknown key: a suppressions file holds one key, suppressions"}},
		{"alias entry", "- &b {rule: ER006, justification: x, expires: 2027-01-01}\n- *b\n", Options{},
			[]string{"s.yaml:2:3: suppressions[1]: YAML aliases are not accepted here: write the value out so that a review sees it"}},
		{"merge key", "- &b {rule: ER006, justification: x, expires: 2027-01-01}\n- <<: *b\n  account: '111111111111'\n", Options{},
			[]string{"s.yaml:2:3: suppressions[1]: keys must be plain names (no merge keys or complex keys)",
				"s.yaml:2:3: suppressions[1].rule: is required: a rule ID such as ER006, or *",
				"s.yaml:2:3: suppressions[1].justification: is required: why the risk is accepted",
				"s.yaml:2:3: suppressions[1].expires: is required: the last day it applies, YYYY-MM-DD"}},
		{"two documents", "- {rule: ER006, justification: x, expires: 2027-01-01}\n---\n- {rule: ER007, justification: x, expires: 2027-01-01}\n", Options{},
			[]string{"s.yaml:2:1: a second YAML document: a suppressions file holds one"}},
		{"syntax", "suppressions:\n  - rule: ER006\n    justification: 'x\n    expires: 2027-01-01\n", Options{},
			[]string{"s.yaml:3: found unexpected end of stream"}},
		{"several together", "suppressions:\n  - rule: ER999\n    justification: x\n    expires: 2027-01-01\n  - rule: ER006\n    expires: 2030-01-01\n    colour: red\n", Options{},
			[]string{`s.yaml:2:11: suppressions[0].rule: unknown rule "ER999" (known: AG001, AG002, AG003, ER001, ER002, ER003, ER004, ER005, ER006, ER007, ER008, FG001, NW001, PL001, RS001, TD001, or *)`,
				"s.yaml:5:5: suppressions[1].justification: is required: why the risk is accepted",
				"s.yaml:6:14: suppressions[1].expires: 2030-01-01 is beyond the maximum of 365 days ahead (the last day allowed is 2027-12-04): review the risk sooner",
				"s.yaml:7:5: suppressions[1].colour: unknown key (known: rule, account, region, family, role, resource, when, justification, owner, expires)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := c.opts
			opts.Now = now
			got, err := ParseSuppressions("s.yaml", []byte(c.src), opts)
			if err == nil {
				t.Fatalf("no error; got %+v", got)
			}
			if got != nil {
				t.Errorf("suppressions returned with an error: %+v", got)
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T %v is not Errors", err, err)
			}
			var lines []string
			for _, e := range es {
				lines = append(lines, e.Error())
				if e.File != "s.yaml" || e.Line == 0 {
					t.Errorf("error without its place: %+v", e)
				}
			}
			if !reflect.DeepEqual(lines, c.want) {
				t.Errorf("errors\n  %s\nwant\n  %s", strings.Join(lines, "\n  "), strings.Join(c.want, "\n  "))
			}
			if err.Error() != strings.Join(lines, "\n") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

// A caller error is not a file error.
func TestParseSuppressionsOptions(t *testing.T) {
	for _, o := range []Options{{}, {Now: now, MaxHorizon: -1}, {Now: now, ExpiringWithin: -1}} {
		if _, err := ParseSuppressions("s.yaml", []byte(fullExample), o); err == nil || errors.As(err, new(Errors)) {
			t.Errorf("%+v: %v", o, err)
		}
		if _, err := DecodeSuppressions("s.yaml", nil, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

// audit.yaml's loader hands over the node of its suppressions: key; the
// result, sources included, is the same as from a separate file.
func TestDecodeSuppressionsFromConfig(t *testing.T) {
	config := "# audit.yaml\nscan:\n  org: true\n" + strings.Replace(fullExample, "# accepted risks, reviewed in pull requests\n", "", 1)
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(config), &doc); err != nil {
		t.Fatal(err)
	}
	var node *yaml.Node
	root := doc.Content[0]
	for i := 0; i < len(root.Content); i += 2 {
		if root.Content[i].Value == "suppressions" {
			node = root.Content[i+1]
		}
	}
	got, err := DecodeSuppressions("audit.yaml", node, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParseSuppressions("audit.yaml", []byte(fullExample), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// The config has three lines before the list where the file has one comment.
	for i := range want.List {
		src := want.List[i].Source
		line, err := strconv.Atoi(src[strings.LastIndexByte(src, ':')+1:])
		if err != nil {
			t.Fatal(err)
		}
		want.List[i].Source = "audit.yaml:" + strconv.Itoa(line+2)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	// Errors name audit.yaml and the line in it.
	bad := "suppressions:\n  - rule: ER006\n    expires: 2027-01-01\n"
	if err := yaml.Unmarshal([]byte(bad), &doc); err != nil {
		t.Fatal(err)
	}
	_, err = DecodeSuppressions("audit.yaml", doc.Content[0].Content[1], Options{Now: now})
	if err == nil || err.Error() != "audit.yaml:2:5: suppressions[0].justification: is required: why the risk is accepted" {
		t.Errorf("error %v", err)
	}
	// A null value holds none; a document node is unwrapped.
	if err := yaml.Unmarshal([]byte("- {rule: ER007, justification: x, expires: 2027-01-01}\n"), &doc); err != nil {
		t.Fatal(err)
	}
	if s, err := DecodeSuppressions("x.yaml", &doc, Options{Now: now}); err != nil || len(s.List) != 1 {
		t.Errorf("document: %v %+v", err, s)
	}
	if s, err := DecodeSuppressions("x.yaml", nil, Options{Now: now}); err != nil || len(s.List) != 0 {
		t.Errorf("nil: %v %+v", err, s)
	}
}

func TestMerge(t *testing.T) {
	a := &Suppressions{List: []Suppression{{Rule: "ER006"}}, ExpiringWithin: time.Hour}
	b := &Suppressions{List: []Suppression{{Rule: "ER007"}}, ExpiringWithin: 2 * time.Hour}
	m := Merge(a, nil, b)
	if len(m.List) != 2 || m.List[0].Rule != "ER006" || m.List[1].Rule != "ER007" || m.ExpiringWithin != 2*time.Hour {
		t.Errorf("%+v", m)
	}
}

// Whatever the bytes, parsing neither panics nor accepts an entry without
// a justification, an expiry within the horizon, or a known rule.
func FuzzParseSuppressions(f *testing.F) {
	f.Add([]byte(fullExample))
	f.Add([]byte("- {rule: ER007, justification: x, expires: 2027-01-01}\n"))
	f.Add([]byte("- &b {rule: ER006}\n- *b\n- <<: *b\n"))
	f.Add([]byte("suppressions: [{rule: '*', account: '1*', when: {action: [a, b]}, justification: j, expires: 2026-12-04}]"))
	rules := map[string]bool{"*": true}
	for _, id := range []string{"AG001", "AG002", "AG003", "ER001", "ER002", "ER003", "ER004", "ER005", "ER006", "ER007", "ER008", "FG001", "PL001", "TD001"} {
		rules[id] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSuppressions("f.yaml", data, Options{Now: now})
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		for _, x := range s.List {
			if strings.TrimSpace(x.Justification) == "" || x.Expires.IsZero() || x.Expires.After(day("2027-12-04")) || !rules[x.Rule] ||
				!strings.HasPrefix(x.Source, "f.yaml:") {
				t.Fatalf("accepted %+v", x)
			}
		}
	})
}
