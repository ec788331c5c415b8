package triage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/ecs-audit/audit/findings"
	"go.yaml.in/yaml/v3"
)

// DefaultMaxHorizon is how far ahead an expiry date may lie unless
// Options.MaxHorizon says otherwise.
const DefaultMaxHorizon = 365 * 24 * time.Hour

// DefaultExpiringWithin is the window in which an active suppression is
// marked as expiring soon unless Options.ExpiringWithin says otherwise.
const DefaultExpiringWithin = 30 * 24 * time.Hour

// Suppression is one accepted risk as written in a suppressions file.
//
// A finding matches when its rule is Rule (or Rule is "*"), and every
// selector that is given matches (AND across selectors; within one
// selector a list of globs matches when any of them does). A selector that
// is not given matches everything.
type Suppression struct {
	// Rule is a rule ID of findings.Catalog(), or "*".
	Rule string
	// Resource selectors, as globs: the finding's account ID, its region
	// ("" for a global finding such as an IAM role's, which only "*"
	// matches), the family of its task definition, its execution role
	// (by name, or by ARN when the glob starts with "arn:"), and its
	// resource ARN. A finding without a task definition or a role has ""
	// for them.
	Account, Region, Family, Role, Resource []string
	// When narrows the suppression to findings with some evidence.
	When Condition
	// Justification (required) says why the risk is accepted.
	Justification string
	Owner         string
	// Expires is the last day the suppression applies (00:00 UTC of that
	// day); it stops applying at the end of that day, UTC.
	Expires time.Time
	// Source is where it is written: file:line.
	Source string
}

// Condition narrows a suppression to findings by their evidence. Each key
// that is given lists globs; the finding must have at least one value for
// that key and every one of its values must match one of the globs, so
// that a suppression never covers evidence it does not name (a role
// excess finding listing two grants is suppressed by an action condition
// only when both actions match).
type Condition struct {
	// Policy: the policies of the deciding statements (the decision's
	// statements, each excess grant's policy, the policy a PL001 finding
	// names).
	Policy []string
	// Statement: the deciding statements, by Sid or "#index" when they
	// have none.
	Statement []string
	// Action: the action of the need or of each excess grant, matched
	// without regard to case.
	Action []string
	// FieldPath: the task definition field that creates the need, e.g.
	// containerDefinitions[0].secrets[*].valueFrom.
	FieldPath []string
}

// End is the instant the suppression stops applying: the end of its
// expiry day, UTC.
func (s *Suppression) End() time.Time { return s.Expires.AddDate(0, 0, 1) }

// ExpiresOn is the expiry day as YYYY-MM-DD.
func (s *Suppression) ExpiresOn() string { return s.Expires.Format(dateLayout) }

// Suppressions is a list of suppressions read from one or more sources.
type Suppressions struct {
	List []Suppression
	// ExpiringWithin is the window in which an active suppression is marked
	// as expiring soon.
	ExpiringWithin time.Duration
}

// Merge returns the suppressions of every set, in order (for example the
// config file's, then those of each --suppressions-file). The window is the
// largest of theirs.
func Merge(sets ...*Suppressions) *Suppressions {
	out := &Suppressions{}
	for _, s := range sets {
		if s == nil {
			continue
		}
		out.List = append(out.List, s.List...)
		out.ExpiringWithin = max(out.ExpiringWithin, s.ExpiringWithin)
	}
	return out
}

// Options govern how suppressions are checked when they are read.
type Options struct {
	// Now is the time expiry dates are checked against. Required.
	Now time.Time
	// MaxHorizon is how far after Now an expiry date may lie; zero means
	// DefaultMaxHorizon. The last allowed day is the UTC date of Now +
	// MaxHorizon.
	MaxHorizon time.Duration
	// ExpiringWithin is the warning window for suppressions about to
	// expire; zero means DefaultExpiringWithin.
	ExpiringWithin time.Duration
	// RejectExpired makes an expiry date already past an error. A scan
	// leaves it false: an expired suppression then stops suppressing and
	// its findings say until when they were accepted, and the report lists
	// it. A review of the file (a pull request check) sets it, so that no
	// expired entry is added or kept.
	RejectExpired bool
	// Rules are the rule IDs a suppression may name; nil means the IDs of
	// findings.Catalog().
	Rules []string
}

const dateLayout = "2006-01-02"

// ParseSuppressions reads a suppressions file: a YAML document whose top
// level is either a mapping with the single key "suppressions" (the same
// text as the suppressions: section of audit.yaml) or the list itself. An
// empty document holds no suppressions. name is the file name used in
// errors and in each suppression's Source. Every problem is reported: the
// error is an Errors listing each with its line and key.
func ParseSuppressions(name string, data []byte, opts Options) (*Suppressions, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return opts.empty(), nil
		}
		return nil, Errors{yamlError(name, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, Errors{yamlError(name, err)}
		}
		return nil, Errors{{File: name, Line: extra.Line, Column: extra.Column, Msg: "a second YAML document: a suppressions file holds one"}}
	}
	d := newDecoder(name, opts)
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	switch {
	case d.alias(root, ""):
	case root.Kind == yaml.MappingNode:
		var list *yaml.Node
		d.mapping(root, "", func(key string, k, v *yaml.Node) {
			if key != "suppressions" {
				d.errorf(k, key, "unknown key: a suppressions file holds one key, suppressions")
				return
			}
			list = v
		})
		if list != nil {
			d.list(list, "suppressions")
		}
	case root.Kind == yaml.SequenceNode:
		d.list(root, "suppressions")
	case isNull(root):
	default:
		d.errorf(root, "", "expected a list of suppressions or a mapping with the key suppressions, found %s", kindName(root))
	}
	return d.result()
}

// DecodeSuppressions reads the value of a suppressions: key, for example
// from audit.yaml, whose loader has decoded the file into a yaml.Node:
// node is the list (or a null value, meaning none). name is the file
// name used in errors and sources. Errors are as for ParseSuppressions.
func DecodeSuppressions(name string, node *yaml.Node, opts Options) (*Suppressions, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	d := newDecoder(name, opts)
	if node != nil && node.Kind == yaml.DocumentNode && len(node.Content) == 1 {
		node = node.Content[0]
	}
	if node != nil && !d.alias(node, "suppressions") {
		d.list(node, "suppressions")
	}
	return d.result()
}

func (o *Options) check() error {
	if o.Now.IsZero() {
		return errors.New("triage: Options.Now is required to check expiry dates")
	}
	if o.MaxHorizon < 0 || o.ExpiringWithin < 0 {
		return errors.New("triage: Options.MaxHorizon and Options.ExpiringWithin cannot be negative")
	}
	if o.MaxHorizon == 0 {
		o.MaxHorizon = DefaultMaxHorizon
	}
	if o.ExpiringWithin == 0 {
		o.ExpiringWithin = DefaultExpiringWithin
	}
	return nil
}

func (o *Options) empty() *Suppressions {
	return &Suppressions{List: []Suppression{}, ExpiringWithin: o.ExpiringWithin}
}

// yamlError turns a syntax error of the YAML library ("yaml: line 3: …")
// into an Error with the line.
func yamlError(name string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{File: name, Msg: msg}
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		e.Line = line
		e.Msg = strings.TrimSpace(msg[strings.IndexByte(msg, ':')+1:])
	}
	return e
}

type decoder struct {
	name  string
	opts  Options
	rules map[string]bool
	out   []Suppression
	errs  Errors
	// last is the last day an expiry may name.
	last time.Time
}

func newDecoder(name string, opts Options) *decoder {
	d := &decoder{name: name, opts: opts, rules: map[string]bool{}, out: []Suppression{}}
	if opts.Rules == nil {
		for _, r := range findings.Catalog() {
			d.rules[r.ID] = true
		}
	} else {
		for _, r := range opts.Rules {
			d.rules[r] = true
		}
	}
	d.last = utcDay(opts.Now.Add(opts.MaxHorizon))
	return d
}

func utcDay(t time.Time) time.Time {
	y, m, dd := t.UTC().Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
}

func (d *decoder) result() (*Suppressions, error) {
	if len(d.errs) > 0 {
		sort.SliceStable(d.errs, func(i, j int) bool { return d.errs[i].Line < d.errs[j].Line })
		return nil, d.errs
	}
	return &Suppressions{List: d.out, ExpiringWithin: d.opts.ExpiringWithin}, nil
}

func (d *decoder) errorf(n *yaml.Node, key, format string, args ...any) {
	e := &Error{File: d.name, Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// alias refuses anchors' aliases and merge keys: each suppression is
// written out in full so that a review sees what it accepts.
func (d *decoder) alias(n *yaml.Node, key string) bool {
	if n.Kind == yaml.AliasNode {
		d.errorf(n, key, "YAML aliases are not accepted here: write the value out so that a review sees it")
		return true
	}
	return false
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if isNull(n) {
			return "an empty value"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// mapping walks a mapping's keys in order, refusing duplicates, merge keys
// and keys that are not plain strings.
func (d *decoder) mapping(n *yaml.Node, path string, each func(key string, k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kp := join(path, k.Value)
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			d.errorf(k, path, "keys must be plain names (no merge keys or complex keys)")
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.errorf(k, kp, "duplicate key (first on line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		if d.alias(v, kp) {
			continue
		}
		each(k.Value, k, v)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// list reads the list of suppressions.
func (d *decoder) list(n *yaml.Node, path string) {
	switch {
	case isNull(n):
		return
	case n.Kind != yaml.SequenceNode:
		d.errorf(n, path, "expected a list of suppressions, found %s", kindName(n))
		return
	}
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		if d.alias(item, p) {
			continue
		}
		if item.Kind != yaml.MappingNode {
			d.errorf(item, p, "expected a suppression (a mapping with rule, justification, expires…), found %s", kindName(item))
			continue
		}
		if s, ok := d.suppression(item, p); ok {
			d.out = append(d.out, s)
		}
	}
}

// Keys of a suppression, in the order the documentation lists them.
var suppressionKeys = []string{"rule", "account", "region", "family", "role", "resource", "when", "justification", "owner", "expires"}

var conditionKeys = []string{"policy", "statement", "action", "fieldPath"}

// suppression reads one entry; ok is false when it has an error.
func (d *decoder) suppression(n *yaml.Node, path string) (Suppression, bool) {
	before := len(d.errs)
	s := Suppression{Source: fmt.Sprintf("%s:%d", d.name, n.Line)}
	var ruleNode *yaml.Node
	got := map[string]bool{}
	d.mapping(n, path, func(key string, k, v *yaml.Node) {
		kp := join(path, key)
		got[key] = true
		switch key {
		case "rule":
			if r, ok := d.scalar(v, kp); ok {
				ruleNode = v
				s.Rule = r
				d.rule(v, kp, r)
			}
		case "account":
			s.Account = d.globs(v, kp, accountChars, false)
		case "region":
			s.Region = d.globs(v, kp, regionChars, false)
		case "family":
			s.Family = d.globs(v, kp, familyChars, false)
		case "role":
			s.Role = d.globs(v, kp, roleChars, false)
		case "resource":
			s.Resource = d.globs(v, kp, arnChars, true)
		case "when":
			s.When = d.condition(v, kp)
		case "justification":
			if j, ok := d.scalar(v, kp); ok {
				s.Justification = strings.TrimSpace(j)
				if s.Justification == "" {
					d.errorf(v, kp, "is empty: say why the risk is accepted")
				}
			}
		case "owner":
			if o, ok := d.scalar(v, kp); ok {
				s.Owner = strings.TrimSpace(o)
			}
		case "expires":
			if e, ok := d.scalar(v, kp); ok {
				s.Expires, _ = d.expiry(v, kp, e)
			}
		default:
			d.errorf(k, join(path, key), "unknown key (known: %s)", strings.Join(suppressionKeys, ", "))
		}
	})
	for _, req := range []struct{ key, why string }{
		{"rule", "a rule ID such as ER006, or *"},
		{"justification", "why the risk is accepted"},
		{"expires", "the last day it applies, YYYY-MM-DD"},
	} {
		if !got[req.key] {
			d.errorf(n, join(path, req.key), "is required: %s", req.why)
		}
	}
	if ruleNode != nil && s.Rule == "*" && len(s.Account)+len(s.Region)+len(s.Family)+len(s.Role)+len(s.Resource) == 0 {
		d.errorf(ruleNode, join(path, "rule"), "* with no account, region, family, role or resource would accept every finding: name the resources")
	}
	if len(d.errs) > before {
		return Suppression{}, false
	}
	return s, true
}

// scalar reads a single value; anything but a non-empty scalar is an error.
func (d *decoder) scalar(v *yaml.Node, path string) (string, bool) {
	if v.Kind != yaml.ScalarNode || isNull(v) {
		d.errorf(v, path, "expected a single value, found %s", kindName(v))
		return "", false
	}
	return v.Value, true
}

func (d *decoder) rule(v *yaml.Node, path, r string) {
	if r == "*" || d.rules[r] {
		return
	}
	for id := range d.rules {
		if strings.EqualFold(id, r) {
			d.errorf(v, path, "unknown rule %q (did you mean %s?)", r, id)
			return
		}
	}
	known := make([]string, 0, len(d.rules))
	for id := range d.rules {
		known = append(known, id)
	}
	sort.Strings(known)
	d.errorf(v, path, "unknown rule %q (known: %s, or *)", r, strings.Join(known, ", "))
}

func (d *decoder) expiry(v *yaml.Node, path, val string) (time.Time, bool) {
	t, err := time.Parse(dateLayout, val)
	if err != nil || len(val) != len(dateLayout) {
		d.errorf(v, path, "%q is not a date: write YYYY-MM-DD (the last day the suppression applies, UTC)", val)
		return time.Time{}, false
	}
	if t.After(d.last) {
		days := int(d.opts.MaxHorizon.Hours() / 24)
		d.errorf(v, path, "%s is beyond the maximum of %d days ahead (the last day allowed is %s): review the risk sooner", val, days, d.last.Format(dateLayout))
		return t, false
	}
	if d.opts.RejectExpired && !d.opts.Now.Before(t.AddDate(0, 0, 1)) {
		d.errorf(v, path, "%s is past: the suppression has expired; renew it with a new date or remove it", val)
		return t, false
	}
	return t, true
}

// Characters each selector may hold, besides '*' and '?'.
var (
	accountChars = charset{name: "an account ID (12 digits)", ok: func(r rune) bool { return '0' <= r && r <= '9' },
		exact: func(s string) bool { return len(s) == 12 }}
	regionChars = charset{name: "a region name", ok: func(r rune) bool { return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' }}
	familyChars = charset{name: "a task definition family (letters, digits, - and _)", ok: func(r rune) bool {
		return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_')
	}}
	roleChars      = printable("a role name or ARN")
	arnChars       = printable("an ARN")
	policyChars    = charset{name: "a policy name", ok: func(r rune) bool { return r < unicode.MaxASCII && unicode.IsGraphic(r) }}
	statementChars = printable("a statement Sid")
	actionChars    = printable("an action")
)

// printable allows the visible ASCII characters.
func printable(name string) charset {
	return charset{name: name, ok: func(r rune) bool { return r < unicode.MaxASCII && unicode.IsGraphic(r) && r != ' ' }}
}

// pathChars are those of a JSON path in a task definition; there '[' and
// ']' stand for themselves.
var pathChars = charset{name: "a field path", brackets: true, ok: printable("").ok}

type charset struct {
	name     string
	ok       func(rune) bool
	brackets bool // '[' and ']' are literal characters
	// exact checks a value without wildcards, when set.
	exact func(string) bool
}

// globs reads one glob or a list of globs.
func (d *decoder) globs(v *yaml.Node, path string, cs charset, arn bool) []string {
	var items []*yaml.Node
	switch {
	case v.Kind == yaml.SequenceNode:
		if len(v.Content) == 0 {
			d.errorf(v, path, "is an empty list: leave the key out to match everything")
			return nil
		}
		items = v.Content
	case v.Kind == yaml.ScalarNode && !isNull(v):
		items = []*yaml.Node{v}
	default:
		d.errorf(v, path, "expected a glob or a list of globs, found %s", kindName(v))
		return nil
	}
	var out []string
	for i, it := range items {
		p := path
		if v.Kind == yaml.SequenceNode {
			p = fmt.Sprintf("%s[%d]", path, i)
		}
		if d.alias(it, p) {
			continue
		}
		if it.Kind != yaml.ScalarNode || isNull(it) {
			d.errorf(it, p, "expected a glob, found %s", kindName(it))
			continue
		}
		if msg := checkGlob(it.Value, cs, arn); msg != "" {
			d.errorf(it, p, "bad glob %q: %s", it.Value, msg)
			continue
		}
		out = append(out, it.Value)
	}
	return out
}

// checkGlob says what is wrong with a glob, or "".
func checkGlob(g string, cs charset, arn bool) string {
	if g == "" {
		return "empty"
	}
	res := reserved
	if cs.brackets {
		res = strings.NewReplacer("[", "", "]", "").Replace(res)
	}
	if i := strings.IndexAny(g, res); i >= 0 {
		return fmt.Sprintf("%q is not supported: only * (any characters) and ? (one character) are special", g[i])
	}
	for _, r := range g {
		if r == '*' || r == '?' {
			continue
		}
		if !cs.ok(r) {
			return fmt.Sprintf("%q cannot appear in %s", r, cs.name)
		}
	}
	if cs.exact != nil && !strings.ContainsAny(g, "*?") && !cs.exact(g) {
		return "not " + cs.name
	}
	if arn && g != "*" && !strings.HasPrefix(g, "arn:") && !strings.HasPrefix(g, "*") {
		return "a resource glob starts with arn: (or *)"
	}
	return ""
}

func (d *decoder) condition(v *yaml.Node, path string) Condition {
	var c Condition
	if v.Kind != yaml.MappingNode {
		d.errorf(v, path, "expected a mapping of %s, found %s", strings.Join(conditionKeys, ", "), kindName(v))
		return c
	}
	if len(v.Content) == 0 {
		d.errorf(v, path, "is empty: leave it out, or name %s", strings.Join(conditionKeys, ", "))
	}
	d.mapping(v, path, func(key string, k, val *yaml.Node) {
		kp := join(path, key)
		switch key {
		case "policy":
			c.Policy = d.globs(val, kp, policyChars, false)
		case "statement":
			c.Statement = d.globs(val, kp, statementChars, false)
		case "action":
			c.Action = d.globs(val, kp, actionChars, false)
		case "fieldPath":
			c.FieldPath = d.globs(val, kp, pathChars, false)
		default:
			d.errorf(k, kp, "unknown key (known: %s)", strings.Join(conditionKeys, ", "))
		}
	})
	return c
}
