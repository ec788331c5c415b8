package deploy

// A small CloudFormation reader for the tests: the YAML templates with their
// short-form intrinsic tags (!Ref, !Sub, !GetAtt, !If, …) turned into the
// long form, and a resolver that evaluates the intrinsics for given
// parameters and resource values. It is strict: a reference to a parameter,
// resource, condition or attribute that the template does not define is an
// error, so a typo in a template fails the tests instead of deploying.

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// template is a parsed CloudFormation template.
type template struct {
	path string
	body map[string]any
}

func loadTemplate(t *testing.T, path string) *template {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	v, err := fromNode(&doc)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: not a mapping", path)
	}
	return &template{path: path, body: m}
}

// fromNode converts YAML to plain values, intrinsic tags to their long form.
func fromNode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		return fromNode(n.Content[0])
	case yaml.AliasNode:
		return nil, fmt.Errorf("line %d: YAML aliases are not supported by CloudFormation", n.Line)
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if k == "<<" {
				return nil, fmt.Errorf("line %d: YAML merge keys are not supported by CloudFormation", n.Content[i].Line)
			}
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", n.Content[i].Line, k)
			}
			val, err := fromNode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k] = val
		}
		v = m
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			val, err := fromNode(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!!") || n.Tag == "" {
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("line %d: %v", n.Line, err)
			}
			return v, nil
		}
		v = n.Value
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return v, nil
	}
	name := n.Tag[1:]
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, s)
			}
			v = []any{res, attr}
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	case "Sub", "If", "Join", "Select", "Split", "Equals", "Not", "And", "Or", "FindInMap", "Base64", "GetAZs", "ImportValue", "Cidr":
		return map[string]any{"Fn::" + name: v}, nil
	}
	return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
}

func (tp *template) section(name string) map[string]any {
	m, _ := tp.body[name].(map[string]any)
	return m
}

// resource returns a resource's definition.
func (tp *template) resource(t *testing.T, id string) map[string]any {
	t.Helper()
	r, ok := tp.section("Resources")[id].(map[string]any)
	if !ok {
		t.Fatalf("%s: no resource %s", tp.path, id)
	}
	return r
}

// resourcesOfType lists the logical IDs of a type, sorted.
func (tp *template) resourcesOfType(typ string) []string {
	var ids []string
	for id, r := range tp.section("Resources") {
		if m, ok := r.(map[string]any); ok && m["Type"] == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// noValue is AWS::NoValue: removed from the list or mapping holding it.
type noValueT struct{}

var noValue = noValueT{}

// resolver evaluates intrinsic functions.
type resolver struct {
	tp     *template
	params map[string]any // string or []string
	// refs and attrs are the values of resources: Ref, and "Logical.Attr".
	refs   map[string]string
	attrs  map[string]string
	pseudo map[string]string
	conds  map[string]bool
}

// newResolver takes parameter values (defaults fill the rest) and the
// pseudo parameters AWS::AccountId, AWS::Region, AWS::StackName (partition
// aws). Resource values come from refs and attrs, which the caller fills,
// from a deployment or synthesised.
func newResolver(t *testing.T, tp *template, given map[string]string, pseudo map[string]string) *resolver {
	t.Helper()
	r := &resolver{tp: tp, params: map[string]any{}, refs: map[string]string{}, attrs: map[string]string{},
		pseudo: map[string]string{"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}, conds: map[string]bool{}}
	for k, v := range pseudo {
		r.pseudo[k] = v
	}
	for name, def := range tp.section("Parameters") {
		d, _ := def.(map[string]any)
		typ, _ := d["Type"].(string)
		val, ok := given[name]
		if !ok {
			dv, has := d["Default"]
			if !has {
				t.Fatalf("%s: parameter %s has no default and no value was given", tp.path, name)
			}
			val = fmt.Sprint(dv)
		}
		if pat, ok := d["AllowedPattern"].(string); ok && !strings.HasPrefix(typ, "List<") && typ != "CommaDelimitedList" {
			if !regexp.MustCompile(`^(?:` + pat + `)$`).MatchString(val) {
				t.Fatalf("%s: parameter %s=%q does not match its AllowedPattern %s", tp.path, name, val, pat)
			}
		}
		if av, ok := d["AllowedValues"].([]any); ok {
			found := false
			for _, a := range av {
				found = found || fmt.Sprint(a) == val
			}
			if !found {
				t.Fatalf("%s: parameter %s=%q is not one of %v", tp.path, name, val, av)
			}
		}
		if typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<") {
			r.params[name] = strings.Split(val, ",")
		} else {
			r.params[name] = val
		}
	}
	for name := range given {
		if _, ok := r.params[name]; !ok {
			t.Fatalf("%s: no parameter %s", tp.path, name)
		}
	}
	for name, c := range tp.section("Conditions") {
		v, err := r.resolve(c)
		if err != nil {
			t.Fatalf("%s: condition %s: %v", tp.path, name, err)
		}
		b, ok := v.(bool)
		if !ok {
			t.Fatalf("%s: condition %s is not a boolean", tp.path, name)
		}
		r.conds[name] = b
	}
	return r
}

// enabled says whether a resource's or output's Condition holds.
func (r *resolver) enabled(def map[string]any) bool {
	c, ok := def["Condition"].(string)
	return !ok || r.conds[c]
}

func (r *resolver) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue, nil
	}
	if v, ok := r.pseudo[name]; ok {
		return v, nil
	}
	if v, ok := r.params[name]; ok {
		return v, nil
	}
	if _, ok := r.tp.section("Resources")[name]; ok {
		if v, ok := r.refs[name]; ok {
			return v, nil
		}
		return nil, fmt.Errorf("resource %s has no value yet", name)
	}
	return nil, fmt.Errorf("Ref to undefined %s", name)
}

func (r *resolver) getAtt(res, attr string) (string, error) {
	if _, ok := r.tp.section("Resources")[res]; !ok {
		return "", fmt.Errorf("GetAtt of undefined resource %s", res)
	}
	if v, ok := r.attrs[res+"."+attr]; ok {
		return v, nil
	}
	return "", fmt.Errorf("GetAtt %s.%s has no value", res, attr)
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (r *resolver) sub(s string, vars map[string]any) (string, error) {
	var err error
	out := subVar.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		if v, ok := vars[name]; ok {
			return fmt.Sprint(v)
		}
		var v any
		var e error
		if res, attr, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
			v, e = r.getAtt(res, attr)
		} else {
			v, e = r.ref(name)
		}
		if e != nil {
			err = e
			return ""
		}
		if _, isList := v.([]string); isList {
			err = fmt.Errorf("Fn::Sub of list parameter %s", name)
		}
		return fmt.Sprint(v)
	})
	return out, err
}

// resolve evaluates every intrinsic in v.
func (r *resolver) resolve(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := []any{}
		for _, e := range x {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			if rv == noValue {
				continue
			}
			out = append(out, rv)
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if fn, ok := r.intrinsic(k, arg); ok {
					return fn()
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if rv == noValue {
				continue
			}
			out[k] = rv
		}
		return out, nil
	}
	return v, nil
}

func (r *resolver) intrinsic(name string, arg any) (func() (any, error), bool) {
	switch name {
	case "Ref":
		return func() (any, error) {
			s, ok := arg.(string)
			if !ok {
				return nil, fmt.Errorf("Ref of %v", arg)
			}
			v, err := r.ref(s)
			if l, ok := v.([]string); ok {
				out := []any{}
				for _, e := range l {
					out = append(out, e)
				}
				return out, err
			}
			return v, err
		}, true
	case "Condition":
		return func() (any, error) {
			s, _ := arg.(string)
			b, ok := r.conds[s]
			if !ok {
				return nil, fmt.Errorf("undefined condition %v", arg)
			}
			return b, nil
		}, true
	case "Fn::GetAtt":
		return func() (any, error) {
			l, ok := arg.([]any)
			if !ok || len(l) != 2 {
				return nil, fmt.Errorf("Fn::GetAtt of %v", arg)
			}
			return r.getAtt(fmt.Sprint(l[0]), fmt.Sprint(l[1]))
		}, true
	case "Fn::Sub":
		return func() (any, error) {
			switch a := arg.(type) {
			case string:
				return r.sub(a, nil)
			case []any:
				if len(a) != 2 {
					return nil, fmt.Errorf("Fn::Sub of %v", arg)
				}
				vars, err := r.resolve(a[1])
				if err != nil {
					return nil, err
				}
				vm, _ := vars.(map[string]any)
				return r.sub(fmt.Sprint(a[0]), vm)
			}
			return nil, fmt.Errorf("Fn::Sub of %v", arg)
		}, true
	case "Fn::If":
		return func() (any, error) {
			l, ok := arg.([]any)
			if !ok || len(l) != 3 {
				return nil, fmt.Errorf("Fn::If of %v", arg)
			}
			b, ok := r.conds[fmt.Sprint(l[0])]
			if !ok {
				return nil, fmt.Errorf("Fn::If: undefined condition %v", l[0])
			}
			if b {
				return r.resolve(l[1])
			}
			return r.resolve(l[2])
		}, true
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		return func() (any, error) {
			rv, err := r.resolve(arg)
			if err != nil {
				return nil, err
			}
			l, ok := rv.([]any)
			if !ok {
				return nil, fmt.Errorf("%s of %v", name, arg)
			}
			switch name {
			case "Fn::Equals":
				if len(l) != 2 {
					return nil, fmt.Errorf("Fn::Equals of %v", arg)
				}
				return fmt.Sprint(l[0]) == fmt.Sprint(l[1]), nil
			case "Fn::Not":
				b, ok := l[0].(bool)
				if len(l) != 1 || !ok {
					return nil, fmt.Errorf("Fn::Not of %v", arg)
				}
				return !b, nil
			}
			all, any := true, false
			for _, e := range l {
				b, ok := e.(bool)
				if !ok {
					return nil, fmt.Errorf("%s of %v", name, arg)
				}
				all, any = all && b, any || b
			}
			if name == "Fn::And" {
				return all, nil
			}
			return any, nil
		}, true
	case "Fn::Join":
		return func() (any, error) {
			rv, err := r.resolve(arg)
			if err != nil {
				return nil, err
			}
			l, ok := rv.([]any)
			if !ok || len(l) != 2 {
				return nil, fmt.Errorf("Fn::Join of %v", arg)
			}
			parts, _ := l[1].([]any)
			var s []string
			for _, p := range parts {
				s = append(s, fmt.Sprint(p))
			}
			return strings.Join(s, fmt.Sprint(l[0])), nil
		}, true
	case "Fn::Select":
		return func() (any, error) {
			rv, err := r.resolve(arg)
			if err != nil {
				return nil, err
			}
			l, ok := rv.([]any)
			if !ok || len(l) != 2 {
				return nil, fmt.Errorf("Fn::Select of %v", arg)
			}
			i, err := strconv.Atoi(fmt.Sprint(l[0]))
			list, _ := l[1].([]any)
			if err != nil || i < 0 || i >= len(list) {
				return nil, fmt.Errorf("Fn::Select index %v of %v", l[0], l[1])
			}
			return list[i], nil
		}, true
	case "Fn::Split":
		return func() (any, error) {
			rv, err := r.resolve(arg)
			if err != nil {
				return nil, err
			}
			l, ok := rv.([]any)
			if !ok || len(l) != 2 {
				return nil, fmt.Errorf("Fn::Split of %v", arg)
			}
			out := []any{}
			for _, p := range strings.Split(fmt.Sprint(l[1]), fmt.Sprint(l[0])) {
				out = append(out, p)
			}
			return out, nil
		}, true
	}
	if strings.HasPrefix(name, "Fn::") {
		return func() (any, error) { return nil, fmt.Errorf("%s is not supported by these tests", name) }, true
	}
	return nil, false
}

// properties resolves a resource's Properties.
func (r *resolver) properties(t *testing.T, id string) map[string]any {
	t.Helper()
	def := r.tp.resource(t, id)
	v, err := r.resolve(def["Properties"])
	if err != nil {
		t.Fatalf("%s: %s: %v", r.tp.path, id, err)
	}
	m, _ := v.(map[string]any)
	return m
}

// synthesize fills refs and attrs as CloudFormation would for the resource
// types these templates use, in account/region, resolving the properties
// that names depend on. It is for tests that do not deploy.
func (r *resolver) synthesize(t *testing.T) {
	t.Helper()
	acct, region, stack := r.pseudo["AWS::AccountId"], r.pseudo["AWS::Region"], r.pseudo["AWS::StackName"]
	res := r.tp.section("Resources")
	ids := make([]string, 0, len(res))
	for id := range res {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	// Names first (they depend only on parameters), then ARNs that need them.
	str := func(id, prop, def string) string {
		p, _ := res[id].(map[string]any)["Properties"].(map[string]any)
		if p == nil || p[prop] == nil {
			return def
		}
		v, err := r.resolve(p[prop])
		if err != nil {
			t.Fatalf("%s: %s.%s: %v", r.tp.path, id, prop, err)
		}
		return fmt.Sprint(v)
	}
	for _, id := range ids {
		typ := res[id].(map[string]any)["Type"]
		gen := strings.ToLower(stack + "-" + id + "-abc123")
		switch typ {
		case "AWS::IAM::Role":
			name := str(id, "RoleName", gen)
			r.refs[id] = name
			r.attrs[id+".Arn"] = "arn:aws:iam::" + acct + ":role/" + name
		case "AWS::S3::Bucket":
			name := str(id, "BucketName", gen)
			r.refs[id] = name
			r.attrs[id+".Arn"] = "arn:aws:s3:::" + name
		case "AWS::Logs::LogGroup":
			name := str(id, "LogGroupName", gen)
			r.refs[id] = name
			r.attrs[id+".Arn"] = "arn:aws:logs:" + region + ":" + acct + ":log-group:" + name + ":*"
		case "AWS::ECS::Cluster":
			name := str(id, "ClusterName", gen)
			r.refs[id] = name
			r.attrs[id+".Arn"] = "arn:aws:ecs:" + region + ":" + acct + ":cluster/" + name
		case "AWS::Events::Rule":
			name := str(id, "Name", gen)
			r.refs[id] = name
			r.attrs[id+".Arn"] = "arn:aws:events:" + region + ":" + acct + ":rule/" + name
		case "AWS::S3::BucketPolicy":
			r.refs[id] = gen
		}
	}
	for _, id := range ids {
		if res[id].(map[string]any)["Type"] == "AWS::ECS::TaskDefinition" {
			family := str(id, "Family", strings.ToLower(stack+"-"+id+"-abc123"))
			r.refs[id] = "arn:aws:ecs:" + region + ":" + acct + ":task-definition/" + family + ":1"
		}
	}
}
