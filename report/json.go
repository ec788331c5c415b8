package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
)

// WriteJSON writes findings.json: the Result, indented, with its lists in
// the view model's deterministic order (findings by severity, rule,
// account, region, resource, ID; roles and task definitions by account and
// name; collection errors by account, region, service, operation). Map keys
// are sorted by encoding/json. The caller's Result is not modified.
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
	// Everything but the findings is encoded in one go; the findings are
	// streamed one by one in place of the empty list, so that memory stays
	// proportional to one finding, not to the whole file.
	out.Findings = []findings.Finding{}
	out.Roles = make([]findings.RoleReport, len(v.roles))
	for i, r := range v.roles {
		out.Roles[i] = *r
	}
	out.TaskDefinitions = make([]findings.TaskDefReport, len(v.taskDefs))
	for i, t := range v.taskDefs {
		out.TaskDefinitions[i] = *t
	}
	out.Coverage.Errors = v.errors
	if out.Coverage.Errors == nil {
		out.Coverage.Errors = []inventory.CollectionError{}
	}
	out.Coverage.Gaps = v.gaps
	out.Scope.Accounts = v.accounts
	out.Scope.Regions = v.regions
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
