package report

import (
	"bufio"
	"encoding/csv"
	"io"

	"github.com/ecs-audit/audit/findings"
)

// findingColumns are the columns of one finding, shared by CSV and XLSX.
var findingColumns = []string{
	"Severity", "Rule", "Title", "Account ID", "Account name", "Region",
	"Resource type", "Resource ARN", "Task definition", "Container", "Role",
	"Message", "Remediation", "Finding ID",
}

// findingRow returns the cells of one finding, in findingColumns order,
// before any spreadsheet escaping.
func (v *view) findingRow(f *findings.Finding) []string {
	return []string{
		string(f.Severity), f.RuleID, f.Title, f.AccountID, v.accountName(f), f.Region,
		f.ResourceType, f.ResourceARN, f.TaskDefinitionARN, f.Container, f.RoleARN,
		f.Message, f.Remediation, f.ID,
	}
}

// WriteCSV writes findings.csv: a header and one row per finding, in the
// view's order, RFC 4180 quoting, every cell with its hidden characters
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
	for _, f := range v.findings {
		for i, c := range v.findingRow(f) {
			row[i] = textCell(c)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
