package triage

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/findings"
)

// bigResult is n findings spread over 50 accounts, 4 regions and 5
// rules, with evidence like the real rules give.
func bigResult(n int) *findings.Result {
	res := &findings.Result{SchemaVersion: findings.ResultSchemaVersion, Tool: findings.Tool{Name: findings.ToolName, Version: "bench"},
		Coverage: findings.Coverage{Complete: true}}
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"}
	for a := 0; a < 50; a++ {
		acct := fmt.Sprintf("%012d", 100000000000+a)
		res.Coverage.Collected = append(res.Coverage.Collected, findings.AccountRegion{AccountID: acct})
		for _, r := range regions {
			res.Coverage.Collected = append(res.Coverage.Collected, findings.AccountRegion{AccountID: acct, Region: r})
		}
	}
	for i := 0; i < n; i++ {
		f := fTaskDef
		f.ID = fmt.Sprintf("%032x", i)
		f.RuleID = []string{"ER004", "ER005", "AG002", "TD001", "ER006"}[i%5]
		f.AccountID = fmt.Sprintf("%012d", 100000000000+i%50)
		f.Region = regions[i%4]
		fam := fmt.Sprintf("family-%d", i%700)
		f.TaskDefinitionARN = "arn:aws:ecs:" + f.Region + ":" + f.AccountID + ":task-definition/" + fam + ":1"
		f.ResourceARN = f.TaskDefinitionARN
		f.RoleARN = "arn:aws:iam::" + f.AccountID + ":role/payments-api-exec"
		f.Message = strings.Repeat("m", 200)
		res.Findings = append(res.Findings, f)
	}
	return res
}

// 200 suppressions: globs on account, family, role and evidence.
func bigSuppressions(b *testing.B) *Suppressions {
	var src strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&src, "- rule: '%s'\n  account: '1000000000%02d'\n  family: [family-%d*, other-*]\n  role: 'payments-*'\n  when: {action: 'logs:*', fieldPath: '*.awslogs-group'}\n  justification: j\n  expires: 2027-01-01\n",
			[]string{"ER004", "ER005", "AG002", "TD001", "*"}[i%5], i%50, i)
	}
	s, err := ParseSuppressions("big.yaml", []byte(src.String()), Options{Now: now})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkApply100k(b *testing.B) {
	res := bigResult(100_000)
	set := bigSuppressions(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := Apply(res, set, now)
		if out.Triage.Suppressions.Suppressed == 0 {
			b.Fatal("nothing suppressed")
		}
	}
}

func BenchmarkParseBaseline100k(b *testing.B) {
	data, err := json.Marshal(bigResult(100_000))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ParseBaseline(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompare100k(b *testing.B) {
	prev := bigResult(100_000)
	data, err := json.Marshal(prev)
	if err != nil {
		b.Fatal(err)
	}
	base, err := ParseBaseline(data)
	if err != nil {
		b.Fatal(err)
	}
	cur := bigResult(110_000)
	cur.Findings = cur.Findings[10_000:] // 10,000 gone, 10,000 new
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := Compare(cur, base)
		if c := out.Triage.Baseline.Counts; c.New != 10_000 || c.Fixed != 10_000 {
			b.Fatalf("%+v", c)
		}
	}
}
