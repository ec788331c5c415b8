package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/ecs-audit/audit/findings"
)

// WriteJSON writes findings.json: the Result, indented, with its lists in
// the view model's deterministic order (findings by severity, rule,
// account, region, resource, ID; roles and task definitions by account and
// name; collection errors by account, region, service, operation). Map keys
// are sorted by encoding/json. The caller's Result is not modified.
//
// The file follows docs/findings.schema.json at version
// findings.ResultSchemaVersion: lists are lists (empty, never null), a
// field that does not apply is left out, and "rules" is the Result's rule
// catalog (this build's for a Result without one). ReadResult reads it back.
//
// The data are exact. Hidden characters (bidi controls, invisible
// characters, see hidden in escape.go) are written as \u escapes rather
// than as themselves (EscapeHiddenJSON), which is the same JSON value but
// cannot reorder or hide text when a person reads the file.
func WriteJSON(w io.Writer, res *findings.Result) error {
	return newView(res).writeJSON(w)
}

func (v *view) writeJSON(w io.Writer) error {
	out := *v.res
	// The file is written in this build's shape, whatever the Result says.
	out.SchemaVersion = findings.ResultSchemaVersion
	// Everything but the findings is encoded in one go; the findings are
	// streamed one by one in place of the empty list, so that memory stays
	// proportional to one finding, not to the whole file.
	out.Findings = []findings.Finding{}
	// A list is a list, empty or not, never null (docs/findings.schema.json);
	// a field that does not apply is left out (omitempty). These are copies:
	// the caller's Result is not modified.
	out.Roles = make([]findings.RoleReport, len(v.roles))
	for i, r := range v.roles {
		out.Roles[i] = *r
		out.Roles[i].UsedBy = nonNil(r.UsedBy)
		out.Roles[i].Needs = nonNil(r.Needs)
	}
	out.TaskDefinitions = make([]findings.TaskDefReport, len(v.taskDefs))
	for i, t := range v.taskDefs {
		out.TaskDefinitions[i] = *t
		out.TaskDefinitions[i].LaunchTypes = nonNil(t.LaunchTypes)
		out.TaskDefinitions[i].Needs = nonNil(t.Needs)
	}
	out.Rules = make([]findings.RuleMeta, len(v.catalog))
	for i, r := range v.catalog {
		out.Rules[i] = r
		out.Rules[i].Docs = nonNil(r.Docs)
		out.Rules[i].Tags = nonNil(r.Tags)
	}
	out.Coverage.Errors = nonNil(v.errors)
	out.Coverage.Gaps = v.gaps
	out.Scope.Accounts = nonNil(v.accounts)
	out.Scope.Regions = nonNil(v.regions)
	out.Summary.BySeverity = nonNilMap(out.Summary.BySeverity)
	out.Summary.ByRule = nonNilMap(out.Summary.ByRule)
	out.Summary.ByAccount = nonNilMap(out.Summary.ByAccount)
	out.Summary.Affected = nonNilMap(out.Summary.Affected)
	if t := out.Triage; t != nil {
		c := *t
		if s := c.Suppressions; s != nil {
			sc := *s
			sc.Entries = nonNil(sc.Entries)
			c.Suppressions = &sc
		}
		if b := c.Baseline; b != nil {
			bc := *b
			bc.Fixed, bc.Unknown = nonNil(bc.Fixed), nonNil(bc.Unknown)
			c.Baseline = &bc
		}
		out.Triage = &c
	}
	head, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return err
	}
	head = EscapeHiddenJSON(head)
	// A top-level field is the only place where this text can occur
	// unescaped at this indentation.
	const marker = "\n  \"findings\": []"
	i := bytes.Index(head, []byte(marker))
	if i < 0 || len(v.findings) == 0 {
		_, err := w.Write(append(head, '\n'))
		return err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.Write(head[:i])
	bw.WriteString("\n  \"findings\": [")
	for n, f := range v.findings {
		if f.Impact.Resources == nil {
			c := *f
			c.Impact.Resources = map[string]int{}
			f = &c
		}
		b, err := json.MarshalIndent(f, "    ", "  ")
		if err != nil {
			return fmt.Errorf("finding %s: %w", f.ID, err)
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(EscapeHiddenJSON(b))
	}
	bw.WriteString("\n  ]")
	bw.Write(head[i+len(marker):])
	bw.WriteByte('\n')
	return bw.Flush()
}

// nonNil returns s, or an empty list for nil, so that it is encoded as [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// nonNilMap returns m, or an empty map for nil, so that it is encoded as {}.
func nonNilMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}
