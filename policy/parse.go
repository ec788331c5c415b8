package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Error returns the whole message, e.g.
//
//	policy "inline:app": statement 2 (Sid "Logs"): Condition.StringEquals: key "x" is not a condition key (expected service:name)
func (e *ParseError) Error() string {
	return "policy " + quote(e.Policy) + ": " + e.Detail()
}

// Detail is the message without the policy name, for callers that name the
// policy their own way.
func (e *ParseError) Detail() string {
	var b strings.Builder
	if e.Statement >= 0 {
		b.WriteString("statement ")
		b.WriteString(strconv.Itoa(e.Statement))
		if e.Sid != "" {
			b.WriteString(" (Sid ")
			b.WriteString(quote(e.Sid))
			b.WriteString(")")
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// quote is strconv.Quote, named for brevity.
func quote(s string) string { return strconv.Quote(s) }

// ParseString is Parse for a string document.
func ParseString(name, doc string) (*Policy, error) {
	return Parse(name, []byte(doc))
}

// Parse parses and validates one policy document and compiles its matchers.
// doc is plain JSON, or URL-encoded JSON as IAM returns it (when the trimmed
// text does not start with "{" it is URL-decoded, leaving "+" alone,
// ecs-facts §5.6). The parser is strict: unknown or duplicate keys, wrong
// types, unknown condition operators, malformed condition keys, an Effect
// other than Allow/Deny, and both or neither of Action/NotAction are errors
// (*ParseError). Problems that do not make the document invalid are listed
// in Policy.Warnings. Parse does not know which layer the policy belongs to:
// Principal is accepted in every document and ignored by Evaluate in the
// identity, boundary and SCP layers.
func Parse(name string, doc []byte) (*Policy, error) {
	p := &parser{name: name}
	pol, err := p.parse(doc)
	if err != nil {
		return nil, err
	}
	return pol, nil
}

type parser struct {
	name     string
	stmt     int
	sid      string
	warnings []string
	vars     bool
}

func (p *parser) errorf(field, format string, args ...any) *ParseError {
	return &ParseError{Policy: p.name, Statement: p.stmt, Sid: p.sid, Field: field, Message: fmt.Sprintf(format, args...)}
}

func (p *parser) warn(field, msg string) {
	var b strings.Builder
	if p.stmt >= 0 {
		b.WriteString("statement ")
		b.WriteString(strconv.Itoa(p.stmt))
		if p.sid != "" {
			b.WriteString(" (Sid " + quote(p.sid) + ")")
		}
		b.WriteString(": ")
	}
	if field != "" {
		b.WriteString(field + ": ")
	}
	b.WriteString(msg)
	p.warnings = append(p.warnings, b.String())
}

func (p *parser) parse(doc []byte) (*Policy, error) {
	p.stmt = -1
	text := bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(doc), []byte("\ufeff")))
	if len(text) == 0 {
		return nil, p.errorf("", "empty policy document")
	}
	if text[0] != '{' {
		dec, err := url.PathUnescape(string(text))
		if err != nil {
			return nil, p.errorf("", "policy document is neither JSON nor URL-encoded JSON: %v", err)
		}
		text = bytes.TrimSpace([]byte(dec))
		if len(text) == 0 || text[0] != '{' {
			return nil, p.errorf("", "policy document is not a JSON object")
		}
	}
	root, err := readJSON(text)
	if err != nil {
		return nil, p.errorf("", "%v", err)
	}
	return p.document(root)
}

// ---- a small JSON tree that keeps duplicate keys and member order ----

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

func (k jkind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

type jmember struct {
	key string
	val *jval
}

type jval struct {
	kind jkind
	s    string // string, number text, "true"/"false"
	arr  []*jval
	obj  []jmember
	dup  string // first key that occurs twice in this object
}

func (v *jval) get(key string) *jval {
	for _, m := range v.obj {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// readJSON reads a policy document (readJSONFast, else readJSONTokens).
func readJSON(text []byte) (*jval, error) {
	if v, ok := readJSONFast(text); ok {
		return v, nil
	}
	return readJSONTokens(text)
}

// readJSONTokens reads a policy document with encoding/json's tokens: its
// errors name the offset of the problem.
func readJSONTokens(text []byte) (*jval, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	v, err := readValue(dec)
	if err != nil {
		return nil, jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the policy document")
	}
	return v, nil
}

func jsonErr(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at offset %d: %v", se.Offset, se)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("invalid JSON: unexpected end of document")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

func readValue(dec *json.Decoder) (*jval, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &jval{kind: jObject}
			var seen map[string]bool
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, errors.New("invalid JSON: object key is not a string")
				}
				if v.dup == "" {
					if seen == nil {
						seen = make(map[string]bool)
					}
					if seen[key] {
						v.dup = key
					}
					seen[key] = true
				}
				mv, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				v.obj = append(v.obj, jmember{key, mv})
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return v, nil
		case '[':
			v := &jval{kind: jArray}
			for dec.More() {
				ev, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				v.arr = append(v.arr, ev)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return v, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case string:
		return &jval{kind: jString, s: t}, nil
	case json.Number:
		return &jval{kind: jNumber, s: t.String()}, nil
	case bool:
		return &jval{kind: jBool, s: strconv.FormatBool(t)}, nil
	case nil:
		return &jval{kind: jNull}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// ---- document validation ----

func (p *parser) checkObject(v *jval, field string) error {
	if v.kind != jObject {
		return p.errorf(field, "must be an object, not %v", v.kind)
	}
	if v.dup != "" {
		return p.errorf(field, "duplicate key %q", v.dup)
	}
	return nil
}

func (p *parser) document(root *jval) (*Policy, error) {
	if err := p.checkObject(root, ""); err != nil {
		return nil, err
	}
	pol := &Policy{Name: p.name}
	var stmts *jval
	for _, m := range root.obj {
		switch m.key {
		case "Version":
			if m.val.kind != jString {
				return nil, p.errorf("Version", "must be a string, not %v", m.val.kind)
			}
			if m.val.s != "2012-10-17" && m.val.s != "2008-10-17" {
				return nil, p.errorf("Version", "%q is not a policy language version (2012-10-17 or 2008-10-17)", m.val.s)
			}
			pol.Version = m.val.s
		case "Id":
			if m.val.kind != jString {
				return nil, p.errorf("Id", "must be a string, not %v", m.val.kind)
			}
			pol.ID = m.val.s
		case "Statement":
			stmts = m.val
		default:
			return nil, p.errorf("", "unknown element %q (expected Version, Id, Statement)", m.key)
		}
	}
	if stmts == nil {
		return nil, p.errorf("", "missing Statement")
	}
	p.vars = pol.Version == "2012-10-17"
	var list []*jval
	switch stmts.kind {
	case jObject:
		list = []*jval{stmts}
	case jArray:
		list = stmts.arr
	default:
		return nil, p.errorf("Statement", "must be an object or an array of objects, not %v", stmts.kind)
	}
	for i, sv := range list {
		p.stmt, p.sid = i, ""
		st, err := p.statement(i, sv)
		if err != nil {
			return nil, err
		}
		pol.Statements = append(pol.Statements, st)
	}
	p.stmt, p.sid = -1, ""
	if len(list) == 0 {
		p.warn("Statement", "no statements; the policy grants and denies nothing")
	}
	pol.Warnings = p.warnings
	pol.index = buildIndex(pol.Statements)
	return pol, nil
}

func (p *parser) statement(i int, sv *jval) (*Statement, error) {
	if sv.kind == jObject {
		if sid := sv.get("Sid"); sid != nil && sid.kind == jString {
			p.sid = sid.s
		}
	}
	if err := p.checkObject(sv, ""); err != nil {
		return nil, err
	}
	st := &Statement{Index: i, Sid: p.sid}
	var actionV, notActionV, resV, notResV, princV, notPrincV, condV, effectV *jval
	for _, m := range sv.obj {
		switch m.key {
		case "Sid":
			if m.val.kind != jString {
				return nil, p.errorf("Sid", "must be a string, not %v", m.val.kind)
			}
		case "Effect":
			effectV = m.val
		case "Action":
			actionV = m.val
		case "NotAction":
			notActionV = m.val
		case "Resource":
			resV = m.val
		case "NotResource":
			notResV = m.val
		case "Principal":
			princV = m.val
		case "NotPrincipal":
			notPrincV = m.val
		case "Condition":
			condV = m.val
		default:
			return nil, p.errorf("", "unknown element %q (expected Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition)", m.key)
		}
	}
	if effectV == nil {
		return nil, p.errorf("", "missing Effect")
	}
	if effectV.kind != jString || (effectV.s != "Allow" && effectV.s != "Deny") {
		return nil, p.errorf("Effect", "must be \"Allow\" or \"Deny\", not %s", describe(effectV))
	}
	st.Effect = effectV.s
	c := &st.compiled
	c.deny = st.Effect == "Deny"
	c.vars = p.vars

	// Action / NotAction.
	switch {
	case actionV != nil && notActionV != nil:
		return nil, p.errorf("", "has both Action and NotAction")
	case actionV == nil && notActionV == nil:
		return nil, p.errorf("", "has neither Action nor NotAction")
	}
	field, av := "Action", actionV
	if av == nil {
		field, av, c.notAction = "NotAction", notActionV, true
	}
	acts, err := p.stringList(field, av)
	if err != nil {
		return nil, err
	}
	for j, a := range acts {
		f := field + "[" + strconv.Itoa(j) + "]"
		if a == "" {
			return nil, p.errorf(f, "empty action")
		}
		if a != "*" {
			if k := strings.IndexByte(a, ':'); k <= 0 || k == len(a)-1 {
				p.warn(f, "action "+quote(a)+" is not of the form service:action; it matches only itself")
			}
		}
		c.actions = append(c.actions, compileAction(a))
	}
	if c.notAction {
		st.NotActions = acts
	} else {
		st.Actions = acts
		c.services = literalServices(c.actions)
	}

	// Resource / NotResource.
	switch {
	case resV != nil && notResV != nil:
		return nil, p.errorf("", "has both Resource and NotResource")
	case resV == nil && notResV == nil:
		c.anyResource = true
	default:
		field, rv := "Resource", resV
		if rv == nil {
			field, rv, c.notResource = "NotResource", notResV, true
		}
		res, err := p.stringList(field, rv)
		if err != nil {
			return nil, err
		}
		for j, r := range res {
			f := field + "[" + strconv.Itoa(j) + "]"
			if r == "" {
				return nil, p.errorf(f, "empty resource")
			}
			rp := compileResourceLiteral(r)
			if rp.n == 6 && hasWildcard(rp.parts[2]) {
				p.warn(f, "wildcard in the service segment of "+quote(r)+" (not allowed by IAM)")
			}
			if p.vars {
				rp.tmpl = parseTemplate(r, func(msg string) { p.warn(f, msg) })
			} else if strings.Contains(r, "${") {
				p.warn(f, "policy variables are literal text unless Version is 2012-10-17")
			}
			c.resources = append(c.resources, rp)
		}
		if c.notResource {
			st.NotResources = res
		} else {
			st.Resources = res
		}
	}

	// Principal / NotPrincipal.
	if princV != nil && notPrincV != nil {
		return nil, p.errorf("", "has both Principal and NotPrincipal")
	}
	if princV != nil {
		if st.Principal, err = p.principal("Principal", princV); err != nil {
			return nil, err
		}
		c.principal = compilePrincipal(st.Principal)
	}
	if notPrincV != nil {
		if st.NotPrincipal, err = p.principal("NotPrincipal", notPrincV); err != nil {
			return nil, err
		}
		c.notPrincipal = compilePrincipal(st.NotPrincipal)
		if !c.deny {
			p.warn("NotPrincipal", "NotPrincipal with Allow grants to every principal but the listed ones")
		}
	}

	// Condition.
	if condV != nil {
		if err := p.condition(st, condV); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func describe(v *jval) string {
	if v.kind == jString {
		return quote(v.s)
	}
	return v.kind.String()
}

// stringList reads a string or a non-empty array of strings.
func (p *parser) stringList(field string, v *jval) ([]string, error) {
	switch v.kind {
	case jString:
		return []string{v.s}, nil
	case jArray:
		if len(v.arr) == 0 {
			return nil, p.errorf(field, "empty list")
		}
		out := make([]string, len(v.arr))
		for i, e := range v.arr {
			if e.kind != jString {
				return nil, p.errorf(field+"["+strconv.Itoa(i)+"]", "must be a string, not %v", e.kind)
			}
			out[i] = e.s
		}
		return out, nil
	}
	return nil, p.errorf(field, "must be a string or an array of strings, not %v", v.kind)
}

func (p *parser) principal(field string, v *jval) (*Principal, error) {
	if v.kind == jString {
		if v.s != "*" {
			return nil, p.errorf(field, "must be \"*\" or an object with AWS, Service, Federated or CanonicalUser, not %q", v.s)
		}
		return &Principal{Wildcard: true}, nil
	}
	if err := p.checkObject(v, field); err != nil {
		return nil, err
	}
	if len(v.obj) == 0 {
		return nil, p.errorf(field, "empty principal object")
	}
	pr := &Principal{Values: map[string][]string{}}
	for _, m := range v.obj {
		switch m.key {
		case "AWS", "Service", "Federated", "CanonicalUser":
		default:
			return nil, p.errorf(field, "unknown principal type %q (expected AWS, Service, Federated, CanonicalUser)", m.key)
		}
		vals, err := p.stringList(field+"."+m.key, m.val)
		if err != nil {
			return nil, err
		}
		for j, s := range vals {
			if s == "" {
				return nil, p.errorf(field+"."+m.key+"["+strconv.Itoa(j)+"]", "empty principal")
			}
		}
		pr.Values[m.key] = vals
	}
	return pr, nil
}

func (p *parser) condition(st *Statement, v *jval) error {
	if err := p.checkObject(v, "Condition"); err != nil {
		return err
	}
	c := &st.compiled
	for _, om := range v.obj {
		field := "Condition." + om.key
		op, msg := parseOperator(om.key)
		if msg != "" {
			return p.errorf("Condition", "%s", msg)
		}
		if op.canonical != om.key {
			p.warn(field, "operator spelled "+quote(om.key)+"; the documented spelling is "+quote(op.canonical))
		}
		if err := p.checkObject(om.val, field); err != nil {
			return err
		}
		if len(om.val.obj) == 0 {
			p.warn(field, "no condition keys; the operator is always true")
		}
		for _, km := range om.val.obj {
			if !validConditionKey(km.key) {
				return p.errorf(field, "key %q is not a condition key (expected service:name)", km.key)
			}
			vals, err := p.condValues(field+"."+km.key, km.val)
			if err != nil {
				return err
			}
			if len(vals) == 0 {
				p.warn(field+"."+km.key, "empty value list")
			}
			if !p.vars && (op.fam == famString || op.fam == famARN) {
				for _, s := range vals {
					if strings.Contains(s, "${") {
						p.warn(field+"."+km.key, "policy variables are literal text unless Version is 2012-10-17")
						break
					}
				}
			}
			st.Conditions = append(st.Conditions, Condition{Operator: om.key, Key: km.key, Values: vals})
			f := field + "." + km.key
			c.conds = append(c.conds, compileCondition(op, km.key, vals, p.vars, func(msg string) { p.warn(f, msg) }))
		}
	}
	return nil
}

func (p *parser) condValues(field string, v *jval) ([]string, error) {
	scalar := func(e *jval, f string) (string, error) {
		switch e.kind {
		case jString, jNumber, jBool:
			return e.s, nil
		}
		return "", p.errorf(f, "condition value must be a string, number or boolean, not %v", e.kind)
	}
	if v.kind == jArray {
		out := make([]string, 0, len(v.arr))
		for i, e := range v.arr {
			s, err := scalar(e, field+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := scalar(v, field)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

// ConditionKeys returns the condition keys the statement's Condition block
// names, as first written, without duplicates (case-insensitive), sorted
// case-insensitively.
func (s *Statement) ConditionKeys() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range s.Conditions {
		lk := strings.ToLower(c.Key)
		if !seen[lk] {
			seen[lk] = true
			out = append(out, c.Key)
		}
	}
	sortFold(out)
	return out
}

// VariableKeys returns the keys the statement uses as policy variables in
// Resource/NotResource and in String/ARN condition values (Version
// 2012-10-17 only), without duplicates, sorted case-insensitively.
func (s *Statement) VariableKeys() []string {
	seen := map[string]bool{}
	var out []string
	add := func(k string) {
		if lk := strings.ToLower(k); !seen[lk] {
			seen[lk] = true
			out = append(out, k)
		}
	}
	for i := range s.compiled.resources {
		if t := s.compiled.resources[i].tmpl; t != nil {
			for _, k := range t.keys() {
				add(k)
			}
		}
	}
	for i := range s.compiled.conds {
		for j := range s.compiled.conds[i].vals {
			if t := s.compiled.conds[i].vals[j].tmpl; t != nil {
				for _, k := range t.keys() {
					add(k)
				}
			}
		}
	}
	sortFold(out)
	return out
}

func sortFold(s []string) {
	sort.SliceStable(s, func(i, j int) bool { return strings.ToLower(s[i]) < strings.ToLower(s[j]) })
}

// literalServices returns the distinct services of the patterns, or nil when
// some pattern has no literal service ("*", "s3*:Get", "nocolon").
func literalServices(acts []actionPattern) []string {
	var out []string
	for i := range acts {
		svc := acts[i].service
		if svc == "" {
			return nil
		}
		dup := false
		for _, s := range out {
			if s == svc {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, svc)
		}
	}
	return out
}
