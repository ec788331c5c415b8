package deploy

// The README is the contract for the scanning permissions: its JSON policy
// ("The scanning role") and the caller's list below it. The templates and
// the scanner's own API surface are checked against it.

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

const readmePath = "../README.md"

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readmeMemberActions is the Action list of the JSON policy under "### The
// scanning role".
func readmeMemberActions(t *testing.T) []string {
	t.Helper()
	s := readme(t)
	_, sec, ok := strings.Cut(s, "### The scanning role")
	if !ok {
		t.Fatal("README: no section \"The scanning role\"")
	}
	_, block, ok := strings.Cut(sec, "```json\n")
	if !ok {
		t.Fatal("README: no JSON block in \"The scanning role\"")
	}
	block, _, _ = strings.Cut(block, "```")
	var doc struct {
		Statement []struct {
			Effect   string
			Action   []string
			Resource string
		}
	}
	if err := json.Unmarshal([]byte(block), &doc); err != nil {
		t.Fatalf("README: the scanning role's policy: %v", err)
	}
	if len(doc.Statement) != 1 || doc.Statement[0].Effect != "Allow" || doc.Statement[0].Resource != "*" {
		t.Fatalf("README: expected one Allow statement on \"*\", got %+v", doc.Statement)
	}
	return doc.Statement[0].Action
}

// readmeCallerActions is the caller's list: sts:AssumeRole and the
// organizations: actions of the paragraph "The caller (…) additionally
// needs".
func readmeCallerActions(t *testing.T) []string {
	t.Helper()
	s := readme(t)
	_, para, ok := strings.Cut(s, "The caller (management account or delegated administrator) additionally needs")
	if !ok {
		t.Fatal("README: no paragraph on the caller's permissions")
	}
	para, _, _ = strings.Cut(para, "\n\n")
	para, _, _ = strings.Cut(para, "when it scans its own account")
	var out []string
	if strings.Contains(para, "`sts:AssumeRole` on `arn:aws:iam::*:role/<role-name>`") {
		out = append(out, "sts:AssumeRole")
	}
	for _, m := range regexp.MustCompile("`(?:organizations:)?([A-Z][A-Za-z]+)`").FindAllStringSubmatch(para, -1) {
		out = append(out, "organizations:"+m[1])
	}
	return out
}

// scannerCalls lists the operations the scanner's read interfaces
// (scanner/api.go) declare, as IAM actions, split into those made with the
// caller's credentials only (Organizations, sts:AssumeRole) and those made in
// every scanned account.
func scannerCalls(t *testing.T) (caller, member []string) {
	t.Helper()
	fs := token.NewFileSet()
	f, err := parser.ParseFile(fs, "../scanner/api.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	// SDK package → IAM service prefix.
	prefix := map[string]string{"ecs": "ecs", "iam": "iam", "organizations": "organizations", "sts": "sts",
		"account": "account", "secretsmanager": "secretsmanager", "ssm": "ssm", "kms": "kms",
		"ecr": "ecr", "s3": "s3", "cloudwatchlogs": "logs",
		"eventbridge": "events", "scheduler": "scheduler", "ec2": "ec2"}
	// S3 operations whose IAM action has another name.
	actionOf := map[string]string{"s3:ListBuckets": "s3:ListAllMyBuckets", "s3:ListObjectsV2": "s3:ListBucket"}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, sp := range gd.Specs {
			ts, ok := sp.(*ast.TypeSpec)
			if !ok {
				continue
			}
			it, ok := ts.Type.(*ast.InterfaceType)
			if !ok {
				continue
			}
			for _, m := range it.Methods.List {
				ft, ok := m.Type.(*ast.FuncType)
				if !ok || len(m.Names) != 1 || ft.Params == nil || len(ft.Params.List) < 2 {
					continue
				}
				star, ok := ft.Params.List[1].Type.(*ast.StarExpr)
				if !ok {
					continue
				}
				sel, ok := star.X.(*ast.SelectorExpr)
				if !ok {
					continue
				}
				pkg := sel.X.(*ast.Ident).Name
				svc, ok := prefix[pkg]
				op := m.Names[0].Name
				if !ok || sel.Sel.Name != op+"Input" {
					t.Fatalf("scanner/api.go: %s.%s: unknown SDK package %q (add its IAM prefix here)", ts.Name.Name, op, pkg)
				}
				action := svc + ":" + op
				if a, ok := actionOf[action]; ok {
					action = a
				}
				if svc == "organizations" || action == "sts:AssumeRole" {
					caller = append(caller, action)
				} else {
					member = append(member, action)
				}
			}
		}
	}
	sort.Strings(caller)
	sort.Strings(member)
	if len(caller) == 0 || len(member) == 0 {
		t.Fatalf("scanner/api.go: no interface methods found (caller %v, member %v)", caller, member)
	}
	return caller, member
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func duplicates(s []string) []string {
	seen := map[string]bool{}
	var d []string
	for _, x := range s {
		if seen[x] {
			d = append(d, x)
		}
		seen[x] = true
	}
	return d
}

// missing returns the elements of want not in have.
func missing(want, have []string) []string {
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	var out []string
	for _, w := range want {
		if !set[w] {
			out = append(out, w)
		}
	}
	return out
}

// notCalledButListed are README actions the scanner does not call today,
// with the reason they stay.
var notCalledButListed = map[string]string{
	"ecs:ListTaskDefinitionFamilies":                 "in the README's published policy since the first release; read-only; kept so that deployed roles stay as documented",
	"organizations:ListOrganizationalUnitsForParent": "in the README's caller list since the first release; read-only; kept so that deployed roles stay as documented",
}

// The README's lists and the scanner's interfaces describe the same calls:
// every call the scanner can make is granted, and nothing else is listed
// (apart from notCalledButListed).
func TestREADMEPermissionsMatchScannerCalls(t *testing.T) {
	caller, member := scannerCalls(t)
	rm, rc := readmeMemberActions(t), readmeCallerActions(t)
	if d := duplicates(rm); d != nil {
		t.Errorf("README member list has duplicates: %v", d)
	}
	if d := duplicates(rc); d != nil {
		t.Errorf("README caller list has duplicates: %v", d)
	}
	if m := missing(member, rm); m != nil {
		t.Errorf("the scanner calls %v in every account, but the README's scanning role does not grant them", m)
	}
	if m := missing(caller, rc); m != nil {
		t.Errorf("the scanner calls %v with the caller's credentials, but the README's caller list does not have them", m)
	}
	for _, a := range missing(rm, member) {
		if _, ok := notCalledButListed[a]; !ok {
			t.Errorf("the README's scanning role grants %s, which the scanner never calls", a)
		}
	}
	for _, a := range missing(rc, caller) {
		if _, ok := notCalledButListed[a]; !ok {
			t.Errorf("the README's caller list has %s, which the scanner never calls", a)
		}
	}
	for a := range notCalledButListed {
		if len(missing([]string{a}, append(member, caller...))) == 0 {
			t.Errorf("%s is called now: remove it from notCalledButListed", a)
		}
	}
}

// The README's deployment commands name the templates' real parameters and
// outputs, and give every parameter that has no default.
func TestREADMEDeployCommands(t *testing.T) {
	_, sec, ok := strings.Cut(readme(t), "## Run it on a schedule")
	if !ok {
		t.Fatal("README: no section \"Run it on a schedule\"")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	joined := strings.ReplaceAll(sec, "\\\n", " ")
	var deployCmd, stackSetCmd string
	for _, block := range strings.Split(joined, "```") {
		for _, line := range strings.Split(block, "\n") {
			switch {
			case strings.HasPrefix(line, "aws cloudformation deploy "):
				deployCmd = line
			case strings.HasPrefix(line, "aws cloudformation create-stack-set "):
				stackSetCmd = block
			}
		}
	}
	if deployCmd == "" || stackSetCmd == "" {
		t.Fatalf("README: the aws cloudformation deploy / create-stack-set commands are missing")
	}
	check := func(file string, given []string) {
		tp := loadTemplate(t, file)
		params := tp.section("Parameters")
		for _, g := range given {
			if _, ok := params[g]; !ok {
				t.Errorf("README gives %s parameter %s, which it does not have", file, g)
			}
		}
		for name, def := range params {
			if _, hasDefault := def.(map[string]any)["Default"]; !hasDefault && !slices.Contains(given, name) {
				t.Errorf("README does not give %s's required parameter %s", file, name)
			}
		}
		if !strings.Contains(sec, "deploy/"+file) {
			t.Errorf("README does not name deploy/%s", file)
		}
	}
	_, overrides, _ := strings.Cut(deployCmd, "--parameter-overrides")
	var given []string
	for _, m := range regexp.MustCompile(`(?:^|\s)([A-Z][A-Za-z]+)=`).FindAllStringSubmatch(overrides, -1) {
		given = append(given, m[1])
	}
	check(scannerTemplate, given)
	given = nil
	for _, m := range regexp.MustCompile(`"ParameterKey":"(\w+)"`).FindAllStringSubmatch(stackSetCmd, -1) {
		given = append(given, m[1])
	}
	check(memberTemplate, given)
	// Every CamelCase name in backquotes is a parameter, a parameter's
	// default or an output.
	names := map[string]bool{}
	for _, file := range []string{scannerTemplate, memberTemplate} {
		tp := loadTemplate(t, file)
		for k := range tp.section("Outputs") {
			names[k] = true
		}
		for k, def := range tp.section("Parameters") {
			names[k] = true
			names[fmt.Sprint(def.(map[string]any)["Default"])] = true
		}
	}
	for _, m := range regexp.MustCompile("`([A-Z][a-z]+[A-Z][A-Za-z]+)[=`]").FindAllStringSubmatch(sec, -1) {
		if !names[m[1]] {
			t.Errorf("README names %s, which is neither a parameter, a default nor an output of the templates", m[1])
		}
	}
	mk, err := os.ReadFile("../Makefile")
	if err != nil || !regexp.MustCompile(`(?m)^image:`).Match(mk) {
		t.Errorf("the README's make image has no Makefile target (%v)", err)
	}
}

// The README says which command the scheduled task runs: exactly
// scanner.yaml's, with BUCKET for the report bucket and … for the external
// ID.
func TestREADMEScheduledCommand(t *testing.T) {
	_, sec, ok := strings.Cut(readme(t), "## Run it on a schedule")
	if !ok {
		t.Fatal("README: no section \"Run it on a schedule\"")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var shown []string
	for _, block := range strings.Split(strings.ReplaceAll(sec, "\\\n", " "), "```sh\n") {
		block, _, _ = strings.Cut(block, "```")
		for _, line := range strings.Split(block, "\n") {
			if f := strings.Fields(line); len(f) > 2 && f[0] == "audit" && f[1] == "scan" {
				shown = f[1:]
			}
		}
	}
	if shown == nil {
		t.Fatal("README: the scheduled task's audit scan command is not shown")
	}
	r := resolved(t, scannerTemplate, scannerParams(ecrImage, ecrRepo), scannerAccount)
	cd := r.properties(t, "TaskDefinition")["ContainerDefinitions"].([]any)[0].(map[string]any)
	var want []string
	for _, a := range strs(cd["Command"]) {
		a = strings.ReplaceAll(a, r.refs["ReportBucket"], "BUCKET")
		if a == externalID {
			a = "…"
		}
		want = append(want, a)
	}
	if !slices.Equal(shown, want) {
		t.Errorf("README shows the task running\n  audit %s\nscanner.yaml runs\n  audit %s", strings.Join(shown, " "), strings.Join(want, " "))
	}
}
