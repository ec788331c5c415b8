package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// findingsSchemaPath is the published JSON Schema of findings.json.
const findingsSchemaPath = "../docs/findings.schema.json"

var findingsSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open(findingsSchemaPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	abs, _ := filepath.Abs(findingsSchemaPath)
	if err := c.AddResource(abs, doc); err != nil {
		return nil, err
	}
	return c.Compile(abs)
})

// validateFindingsJSON validates a findings.json against
// docs/findings.schema.json.
func validateFindingsJSON(t testing.TB, name string, doc []byte) {
	t.Helper()
	s, err := findingsSchema()
	if err != nil {
		t.Fatalf("%s: %v", findingsSchemaPath, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("%s: not JSON: %v", name, err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s does not follow %s:\n%v", name, findingsSchemaPath, err)
	}
}

// demoResult evaluates the demo organization's snapshot.
func demoResult(t testing.TB) *findings.Result {
	t.Helper()
	inv, err := inventory.Load("../testdata/demo/snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	return findings.Evaluate(inv, findings.Options{ToolVersion: "test"})
}

// Every findings.json the writer produces follows the published schema:
// the fixtures (hostile text included), a large generated Result, the demo
// organization with the real catalog, and an empty Result.
func TestFindingsJSONFollowsSchema(t *testing.T) {
	cases := map[string]func() *findings.Result{
		"sample":    sampleResult,
		"malicious": maliciousResult,
		"hostile":   hostileResult,
		"big":       func() *findings.Result { return bigResult(500) },
		"empty": func() *findings.Result {
			return &findings.Result{SchemaVersion: findings.ResultSchemaVersion, Tool: findings.Tool{Name: "audit", Version: "test"}}
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			withCatalog(t)
			var b bytes.Buffer
			if err := WriteJSON(&b, mk()); err != nil {
				t.Fatal(err)
			}
			validateFindingsJSON(t, name, b.Bytes())
		})
	}
	t.Run("demo", func(t *testing.T) {
		res := demoResult(t)
		if len(res.Rules) == 0 || len(res.Findings) == 0 {
			t.Fatalf("demo: %d rules, %d findings", len(res.Rules), len(res.Findings))
		}
		var b bytes.Buffer
		if err := WriteJSON(&b, res); err != nil {
			t.Fatal(err)
		}
		validateFindingsJSON(t, "demo findings.json", b.Bytes())
		// The schema lets fix.layer and an excess grant's kind be empty
		// for findings read from version 1 only: a scan fills them.
		for _, f := range res.Findings {
			if f.Fix.Layer == "" {
				t.Errorf("finding %s (%s) has no fix layer", f.ID, f.RuleID)
			}
			for _, x := range f.Evidence.Excess {
				if x.Kind == "" {
					t.Errorf("finding %s: excess grant %s %s has no kind", f.ID, x.Policy, x.Statement)
				}
			}
		}
	})
	// The schema is not a rubber stamp: each of these breaks it.
	var good bytes.Buffer
	withCatalog(t)
	if err := WriteJSON(&good, sampleResult()); err != nil {
		t.Fatal(err)
	}
	s, err := findingsSchema()
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(m map[string]any){
		"severity":        func(m map[string]any) { finding(m, 0)["severity"] = "urgent" },
		"rule ID":         func(m map[string]any) { finding(m, 0)["ruleId"] = "er004" },
		"null list":       func(m map[string]any) { m["roles"] = nil },
		"null need":       func(m map[string]any) { finding(m, 0)["evidence"].(map[string]any)["need"] = nil },
		"empty optional":  func(m map[string]any) { finding(m, 0)["container"] = "" },
		"missing message": func(m map[string]any) { delete(finding(m, 0), "message") },
		"missing rules":   func(m map[string]any) { delete(m, "rules") },
		"version 1":       func(m map[string]any) { m["schemaVersion"] = 1 },
		"account ID":      func(m map[string]any) { finding(m, 0)["accountId"] = "1234" },
		"unknown top":     func(m map[string]any) { m["extra"] = true },
		"unknown in tool": func(m map[string]any) { m["tool"].(map[string]any)["extra"] = true },
		"time":            func(m map[string]any) { m["generatedAt"] = "yesterday" },
	} {
		var m map[string]any
		if err := json.Unmarshal(good.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		b, _ := json.Marshal(m)
		v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if s.Validate(v) == nil {
			t.Errorf("%s: the schema accepts a broken findings.json", name)
		}
	}
	// Findings may gain optional fields (root-cause grouping) without
	// breaking validation.
	var m map[string]any
	json.Unmarshal(good.Bytes(), &m)
	finding(m, 0)["futureField"] = map[string]any{"x": 1}
	m["summary"].(map[string]any)["byCause"] = map[string]any{}
	b, _ := json.Marshal(m)
	validateFindingsJSON(t, "findings.json with new optional fields", b)
}

func finding(m map[string]any, i int) map[string]any {
	return m["findings"].([]any)[i].(map[string]any)
}

// schemaDefs maps each object of docs/findings.schema.json ("" is the root)
// to the Go type it describes.
var schemaDefs = map[string]reflect.Type{
	"":                  reflect.TypeFor[findings.Result](),
	"Tool":              reflect.TypeFor[findings.Tool](),
	"Scope":             reflect.TypeFor[findings.Scope](),
	"AccountRef":        reflect.TypeFor[findings.AccountRef](),
	"Summary":           reflect.TypeFor[findings.Summary](),
	"Coverage":          reflect.TypeFor[findings.Coverage](),
	"CollectionError":   reflect.TypeFor[inventory.CollectionError](),
	"Shard":             reflect.TypeFor[inventory.Shard](),
	"ShardScope":        reflect.TypeFor[inventory.ShardScope](),
	"Finding":           reflect.TypeFor[findings.Finding](),
	"Evidence":          reflect.TypeFor[findings.Evidence](),
	"Need":              reflect.TypeFor[findings.Need](),
	"Decision":          reflect.TypeFor[policy.Result](),
	"StatementRef":      reflect.TypeFor[policy.StatementRef](),
	"UnknownKey":        reflect.TypeFor[policy.UnknownKey](),
	"UnknownResource":   reflect.TypeFor[policy.UnknownResource](),
	"UnknownSegment":    reflect.TypeFor[policy.UnknownSegment](),
	"Outcomes":          reflect.TypeFor[policy.Outcomes](),
	"ExcessGrant":       reflect.TypeFor[findings.ExcessGrant](),
	"RoleReport":        reflect.TypeFor[findings.RoleReport](),
	"TaskDefReport":     reflect.TypeFor[findings.TaskDefReport](),
	"SeverityRange":     reflect.TypeFor[findings.SeverityRange](),
	"RuleMeta":          reflect.TypeFor[findings.RuleMeta](),
	"AccountRegion":     reflect.TypeFor[findings.AccountRegion](),
	"Suppression":       reflect.TypeFor[findings.Suppression](),
	"Triage":            reflect.TypeFor[findings.Triage](),
	"SuppressionReport": reflect.TypeFor[findings.SuppressionReport](),
	"SuppressionEntry":  reflect.TypeFor[findings.SuppressionEntry](),
	"BaselineReport":    reflect.TypeFor[findings.BaselineReport](),
	"PastFinding":       reflect.TypeFor[findings.PastFinding](),
	"BaselineCounts":    reflect.TypeFor[findings.BaselineCounts](),
	"Impact":            reflect.TypeFor[findings.Impact](),
	"ResourceRef":       reflect.TypeFor[findings.ResourceRef](),
	"Fix":               reflect.TypeFor[findings.Fix](),
	"FixTarget":         reflect.TypeFor[findings.FixTarget](),
	"OrgNode":           reflect.TypeFor[findings.OrgNode](),
	"NeedEvidence":      reflect.TypeFor[findings.NeedEvidence](),
	"Unknown":           reflect.TypeFor[findings.Unknown](),
	"Constraint":        reflect.TypeFor[findings.Constraint](),
	"FeatureGap":        reflect.TypeFor[findings.FeatureGap](),
	"PlaintextValue":    reflect.TypeFor[findings.PlaintextValue](),
	"PolicyProblem":     reflect.TypeFor[findings.PolicyProblem](),
}

// TestSchemaMatchesResult keeps docs/findings.schema.json equal to the Go
// types findings.json is encoded from: every JSON field of each type is a
// property of its schema object and the other way round, and the schema's
// required fields are exactly those without omitempty. A field added to a
// type fails here until the schema (and docs/findings.md) describe it.
func TestSchemaMatchesResult(t *testing.T) {
	raw, err := os.ReadFile(findingsSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	type object struct {
		Type       string                     `json:"type"`
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	var doc struct {
		object
		Defs map[string]object `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	defs := map[string]object{"": doc.object}
	for name, d := range doc.Defs {
		if d.Type == "object" && d.Properties != nil {
			defs[name] = d
		}
	}
	for name := range defs {
		if _, ok := schemaDefs[name]; !ok {
			t.Errorf("%s: $defs/%s describes no Go type known to this test (add it to schemaDefs)", findingsSchemaPath, name)
		}
	}
	for name, typ := range schemaDefs {
		where := "the root object"
		if name != "" {
			where = "$defs/" + name
		}
		d, ok := defs[name]
		if !ok {
			t.Errorf("%s has no %s for %s", findingsSchemaPath, where, typ)
			continue
		}
		fields, required := jsonFields(typ)
		for _, f := range fields {
			if _, ok := d.Properties[f]; !ok {
				t.Errorf("%s: %s lacks the property %q of %s: describe it there and in docs/findings.md", findingsSchemaPath, where, f, typ)
			}
		}
		for p := range d.Properties {
			if !slices.Contains(fields, p) {
				t.Errorf("%s: %s has the property %q, which %s does not have", findingsSchemaPath, where, p, typ)
			}
		}
		got := slices.Clone(d.Required)
		sort.Strings(got)
		if !slices.Equal(got, required) {
			t.Errorf("%s: %s requires %v; the fields of %s without omitempty are %v", findingsSchemaPath, where, got, typ, required)
		}
	}
}

// jsonFields returns the JSON names of a struct's fields (those of an
// embedded struct without a JSON name among them, as encoding/json encodes
// them), and, sorted, those without omitempty.
func jsonFields(t reflect.Type) (all, required []string) {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, hasTag := sf.Tag.Lookup("json")
		if tag == "-" {
			continue
		}
		if sf.Anonymous && !hasTag && sf.Type.Kind() == reflect.Struct {
			a, r := jsonFields(sf.Type)
			all, required = append(all, a...), append(required, r...)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		all = append(all, name)
		if !slices.Contains(strings.Split(opts, ","), "omitempty") {
			required = append(required, name)
		}
	}
	sort.Strings(required)
	return all, required
}
