package report

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

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
	// Everything but the three long lists (findings, roles, task
	// definitions) is encoded in one go; the lists are streamed one element
	// at a time in place of their empty lists, so that memory stays
	// proportional to one element, not to the whole file.
	out.Findings = []findings.Finding{}
	out.Roles = []findings.RoleReport{}
	out.TaskDefinitions = []findings.TaskDefReport{}
	// A list is a list, empty or not, never null (docs/findings.schema.json);
	// a field that does not apply is left out (omitempty). These are copies:
	// the caller's Result is not modified.
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
	je := newJSONEncoder()
	head, err := je.indent(&out, "", "  ")
	if err != nil {
		return err
	}
	// Kept: the encoder's buffer is reused for the elements.
	head = bytes.Clone(head)
	lists := []jsonList{
		{"findings", v.nFindings, func(yield func(any, string) bool) error {
			return v.eachFinding(func(f *findings.Finding) error {
				if f.Impact.Resources == nil {
					c := *f
					c.Impact.Resources = map[string]int{}
					f = &c
				}
				if !yield(f, "finding "+f.ID) {
					return errStop
				}
				return nil
			})
		}},
		{"roles", v.nRoles, func(yield func(any, string) bool) error {
			return v.eachRole(func(x *findings.RoleReport) error {
				r := *x
				r.UsedBy = nonNil(r.UsedBy)
				r.Needs = nonNil(r.Needs)
				if !yield(&r, "role "+r.RoleARN) {
					return errStop
				}
				return nil
			})
		}},
		{"taskDefinitions", v.nTaskDefs, func(yield func(any, string) bool) error {
			return v.eachTaskDef(func(x *findings.TaskDefReport) error {
				t := *x
				t.LaunchTypes = nonNil(t.LaunchTypes)
				t.Needs = nonNil(t.Needs)
				if !yield(&t, "task definition "+t.ARN) {
					return errStop
				}
				return nil
			})
		}},
	}
	// The lists in the order of the file. A top-level field is the only
	// place where its empty list can occur unescaped at this indentation.
	type span struct {
		jsonList
		at int // where its empty list is in head
	}
	var order []span
	for _, l := range lists {
		if i := bytes.Index(head, []byte("\n  \""+l.name+"\": []")); i >= 0 {
			order = append(order, span{l, i})
		}
	}
	slices.SortFunc(order, func(a, b span) int { return a.at - b.at })
	// The elements are encoded in a goroutine of their own, ahead of the
	// indenting and writing here.
	lane := newCompactLane(func(yield func(any, string) bool) error {
		for _, l := range order {
			n, over, stopped := 0, false, false
			err := l.each(func(x any, label string) bool {
				if n == l.n {
					over = true
					return false
				}
				n++
				stopped = !yield(x, label)
				return !stopped
			})
			if stopped {
				return nil
			}
			if err != nil && err != errStop {
				return err
			}
			if over || n != l.n {
				return fmt.Errorf("%s: %d read, %d counted", l.name, n, l.n)
			}
		}
		return nil
	})
	defer lane.stop()
	bw := bufio.NewWriterSize(w, 256<<10)
	var ind []byte
	last := 0 // head[last:] is not written yet
	for _, l := range order {
		marker := "\n  \"" + l.name + "\": []"
		if l.n == 0 {
			bw.Write(head[last : l.at+len(marker)])
			last = l.at + len(marker)
			continue
		}
		bw.Write(head[last:l.at])
		last = l.at + len(marker)
		bw.WriteString("\n  \"" + l.name + "\": [")
		for i := range l.n {
			b, err := lane.next()
			if err != nil {
				return err
			}
			// Elements are indented for their place: inside a top-level
			// list.
			ind = appendIndentJSON(ind[:0], b, "    ", "  ")
			lane.done(b)
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString("\n    ")
			bw.Write(ind)
		}
		bw.WriteString("\n  ]")
	}
	bw.Write(head[last:])
	bw.WriteByte('\n')
	return bw.Flush()
}

// jsonList is a top-level list of findings.json written element by element:
// each yields the n elements to encode, each with a label ("finding ID")
// that an error names.
type jsonList struct {
	name string
	n    int
	each func(yield func(any, string) bool) error
}

// errStop stops a visit early, when the consumer is done.
var errStop = errors.New("stop")

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
