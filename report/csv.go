package report

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"io"
	"strings"

	"github.com/ecs-audit/audit/findings"
)

// findingColumns are the columns of one finding (one root cause), shared
// by CSV and XLSX.
var findingColumns = []string{
	"Severity", "Rule", "Title", "Account ID", "Account name", "Region",
	"Resource type", "Resource ARN", "Task definition", "Container", "Role",
	"Message", "Impact", "Items", "Affected resources", "Fix layer", "Fix", "Remediation",
	"Change", "Risk acceptance", "Accepted until", "Accepted by", "Justification", "Finding ID",
}

// Positions in findingColumns that the XLSX writer formats.
const (
	colItems    = 13
	colAffected = 14
	colFixLayer = 15
)

// findingRow returns the cells of one finding, in findingColumns order,
// before any spreadsheet escaping.
func (v *view) findingRow(f *findings.Finding) []string {
	state, sup := acceptance(f)
	var until, by, why string
	if sup != nil {
		until, by, why = sup.Expires, sup.Owner, sup.Justification
	}
	return []string{
		string(f.Severity), f.RuleID, f.Title, f.AccountID, v.accountName(f), f.Region,
		f.ResourceType, f.ResourceARN, f.TaskDefinitionARN, f.Container, f.RoleARN,
		f.Message, f.Impact.Summary, itoa(max(f.Impact.Items, 1)), affectedNames(f), string(f.Fix.Layer), f.Fix.Summary, f.Remediation,
		f.Change, state, until, by, why, f.ID,
	}
}

// affectedNames lists the resources a finding affects besides its own, by
// name (the ARN when there is none): "payments-api:3, payments-api".
func affectedNames(f *findings.Finding) string {
	names := make([]string, len(f.Affected))
	for i, a := range f.Affected {
		names[i] = cmp.Or(a.Name, a.ARN)
	}
	return strings.Join(names, ", ")
}

// WriteCSV writes findings.csv: a header and one row per finding (one root
// cause, with its impact, fix, change against a baseline and risk
// acceptance; the items are in findings.json and the workbook's "Affected
// items" sheet), in the view's order, RFC 4180 quoting, every cell with its hidden characters
// shown (see Reveal) and neutralised against formula injection (see
// neutralizeCell).
func WriteCSV(w io.Writer, res *findings.Result) error {
	return newView(res).writeCSV(w)
}

func (v *view) writeCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	if err := cw.Write(findingColumns); err != nil {
		return err
	}
	row := make([]string, len(findingColumns))
	err := v.eachFinding(func(f *findings.Finding) error {
		for i, c := range v.findingRow(f) {
			row[i] = textCell(c)
		}
		return cw.Write(row)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
