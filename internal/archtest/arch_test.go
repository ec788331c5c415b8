package archtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// module is the module path; the table names packages relative to it.
const module = "github.com/ecs-audit/audit"

// awsSDK stands for every module under github.com/aws/ (aws-sdk-go-v2 and
// its service clients, smithy-go).
const awsSDK = "AWS SDK"

// anyBelow in imports means: any package of the module on a lower floor that
// is not test support.
const anyBelow = "*"

// layer is one row of the import table.
type layer struct {
	pkg string // relative to the module
	// floor orders the packages: an import between packages of the module
	// (outside _test.go files) goes to a strictly lower floor, so the floors
	// scanner → inventory → findings → report are crossed one way only and
	// two packages on the same floor never import each other.
	floor int
	// imports are the module packages it may import besides the standard
	// library; modules the third-party modules (awsSDK for github.com/aws/…).
	imports []string
	modules []string
	// testImports and testModules are allowed in addition in its _test.go
	// files.
	testImports []string
	testModules []string
	// testSupport: only _test.go files may import it, and it may import
	// "testing".
	testSupport bool
	// planned: in DESIGN.md but not written yet; the row holds its place.
	planned bool
}

// table is the import table of DESIGN.md and of the README's package table,
// held once, here. The README's "may import" column is rendered from it.
var table = []layer{
	// inventory: the plain data model and its snapshot; the standard library
	// only. Its load benchmark generates a large world with internal/fakeaws.
	{pkg: "inventory", floor: 0, testImports: []string{"internal/fakeaws"}},
	// policy: the IAM policy language, parse/match/evaluate; the standard library only.
	{pkg: "policy", floor: 0},
	// internal/awsactions: the catalog of IAM service prefixes and actions; a leaf.
	{pkg: "internal/awsactions", floor: 0},
	// internal/config: the option machinery of cmd/audit (one definition
	// per option → flag, AUDIT_* variable, audit.yaml key, printing); knows
	// nothing of AWS or findings.
	{pkg: "internal/config", floor: 0, modules: []string{"github.com/spf13/pflag", "go.yaml.in/yaml/v3"}},
	// internal/archtest: this test; a leaf.
	{pkg: "internal/archtest", floor: 0},
	// internal/mototest: starts moto_server and builds worlds in it through
	// the AWS SDK (with the mutating calls the scanner's interfaces lack), so
	// only tests may import it.
	{pkg: "internal/mototest", floor: 0, modules: []string{awsSDK}, testSupport: true},
	// scanner: collects from AWS into inventory; with store the only importer
	// of the AWS SDK; concurrency from x/sync, rate limits from x/time. Its
	// tests run against internal/fakeaws and moto; one test evaluates the
	// demo's findings to prove that two ways of collecting give the same.
	{pkg: "scanner", floor: 1, imports: []string{"inventory"},
		modules:     []string{awsSDK, "golang.org/x/sync", "golang.org/x/time"},
		testImports: []string{"internal/fakeaws", "internal/mototest", "internal/demo", "findings"}},
	// findings: needs, rules and least-privilege policies from inventory with
	// the policy engine; pure, no AWS SDK, no report.
	{pkg: "findings", floor: 1, imports: []string{"inventory", "policy", "internal/awsactions"},
		testImports: []string{"internal/demo"}},
	// internal/fakeaws: the in-process fake AWS endpoint serving an inventory
	// world (audit demo uses it, so it is not test support). It speaks the
	// wire protocol itself; its tests drive it with the real SDK clients.
	{pkg: "internal/fakeaws", floor: 1, imports: []string{"inventory"}, testModules: []string{awsSDK}},
	// internal/demo: the demo organization, built as an inventory world.
	{pkg: "internal/demo", floor: 1, imports: []string{"inventory"}},
	// store: where reports and snapshots go (local dir, s3://); the only
	// package besides scanner that imports the AWS SDK. Local files are
	// written with inventory's atomic writer; its tests run against moto.
	{pkg: "store", floor: 1, imports: []string{"inventory"}, modules: []string{awsSDK},
		testImports: []string{"internal/mototest"}},
	// report: one writer per format over findings and inventory (and policy
	// types in evidence); excelize for XLSX. Tests validate against JSON
	// Schema, read workbooks back, and annotate Results with triage (the
	// suppression lifecycle through every format).
	{pkg: "report", floor: 2, imports: []string{"findings", "inventory", "policy"},
		modules:     []string{"github.com/xuri/excelize/v2"},
		testImports: []string{"triage", "internal/fakeaws"},
		testModules: []string{"github.com/santhosh-tekuri/jsonschema/v6"}},
	// triage: a findings.Result in, an annotated Result out; pure.
	{pkg: "triage", floor: 2, imports: []string{"findings"}, modules: []string{"go.yaml.in/yaml/v3"},
		testImports: []string{"inventory", "policy"}},
	// deploy: the deployment kit (templates, Containerfile, workflow); no
	// code of its own. Its tests parse and lint the files, check them with
	// the policy engine and the rules, and deploy them into moto_server with
	// the SDK's CloudFormation client.
	{pkg: "deploy", floor: 2,
		testImports: []string{"findings", "inventory", "policy", "internal/awsactions", "internal/mototest"},
		testModules: []string{awsSDK, "github.com/rhysd/actionlint", "go.yaml.in/yaml/v3", "k8s.io/api", "k8s.io/apimachinery", "sigs.k8s.io/yaml"}},
	// internal/benchworld: the program that writes make bench's offline
	// snapshot, a live scan of internal/fakeaws's generated Organization,
	// and measures audit analysing it.
	{pkg: "internal/benchworld", floor: 2, imports: []string{"internal/fakeaws", "inventory", "scanner"}},
	// internal/demo/gen: the go generate program that writes the demo snapshot.
	{pkg: "internal/demo/gen", floor: 2, imports: []string{"internal/demo", "inventory"}},
	// cmd/audit: flags, wiring, exit codes; may import every package below it
	// (never test support, never the AWS SDK directly). Nothing imports it.
	// pflag is cobra's flag set; the YAML library is for a configuration file.
	// Its tests validate the findings.json the commands write against
	// docs/findings.schema.json.
	{pkg: "cmd/audit", floor: 3, imports: []string{anyBelow},
		modules: []string{"github.com/spf13/cobra", "github.com/spf13/pflag", "github.com/schollz/progressbar/v3",
			"golang.org/x/term", "go.yaml.in/yaml/v3"},
		testImports: []string{"internal/mototest"},
		testModules: []string{"github.com/santhosh-tekuri/jsonschema/v6"}},
}

// goPackage is the part of `go list -json` output the test reads.
type goPackage struct {
	ImportPath   string
	Dir          string
	ForTest      string
	Standard     bool
	Module       *struct{ Path string }
	GoFiles      []string
	TestGoFiles  []string
	XTestGoFiles []string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

// listing is the result of go list, run once for all tests.
type listing struct {
	own  map[string]*goPackage // the module's packages, by path relative to it
	all  map[string]*goPackage // every package seen, own and dependency, by import path
	root string                // the module root
}

var (
	listOnce   sync.Once
	listResult *listing
	listErr    error
)

// goList runs `go list -e -deps -test -json ./...` in the module root (once).
func goList(t *testing.T) *listing {
	t.Helper()
	listOnce.Do(func() { listResult, listErr = runGoList() })
	if listErr != nil {
		t.Fatal(listErr)
	}
	return listResult
}

func runGoList() (*listing, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOMOD: %v", err)
	}
	l := &listing{own: map[string]*goPackage{}, all: map[string]*goPackage{}}
	l.root = filepath.Dir(strings.TrimSpace(string(out)))
	cmd := exec.Command("go", "list", "-e", "-deps", "-test", "-json", "./...")
	cmd.Dir = l.root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out, err = cmd.Output(); err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr.Bytes())
	}
	var errs []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := new(goPackage)
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %v", err)
		}
		// Test variants ("p [p.test]") and test mains ("p.test") repeat
		// packages; the plain entry carries the test imports too.
		if p.ForTest != "" || strings.Contains(p.ImportPath, " ") || strings.HasSuffix(p.ImportPath, ".test") {
			continue
		}
		l.all[p.ImportPath] = p
		if p.Module != nil && p.Module.Path == module && !p.Standard {
			if p.Error != nil {
				errs = append(errs, fmt.Sprintf("go list %s: %s", p.ImportPath, p.Error.Err))
			}
			l.own[rel(p.ImportPath)] = p
		}
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	if len(l.own) == 0 {
		return nil, errors.New("go list found no package of the module")
	}
	return l, nil
}

// rel is an import path relative to the module ("" for the module root).
func rel(path string) string {
	if path == module {
		return ""
	}
	return strings.TrimPrefix(path, module+"/")
}

func isOwn(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }

// moduleOf classifies a third-party import by its module: awsSDK for
// github.com/aws/…, else the module path.
func moduleOf(path string, all map[string]*goPackage) string {
	mod := path
	if p := all[path]; p != nil && p.Module != nil {
		mod = p.Module.Path
	}
	if strings.HasPrefix(mod, "github.com/aws/") {
		return awsSDK
	}
	return mod
}

func isStandard(path string, all map[string]*goPackage) bool {
	if p := all[path]; p != nil {
		return p.Standard
	}
	// Not listed (go list -e with an error): standard paths have no dot in
	// their first element.
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// TestImportTable checks every import of every package of the module against
// the table.
func TestImportTable(t *testing.T) {
	list := goList(t)
	own, all := list.own, list.all
	rows := map[string]layer{}
	for _, l := range table {
		if _, dup := rows[l.pkg]; dup {
			t.Fatalf("table: %s has two rows", l.pkg)
		}
		rows[l.pkg] = l
	}

	// Every package has a row, every row that is not planned a package.
	for _, name := range sortedKeys(own) {
		if _, ok := rows[name]; !ok {
			t.Errorf("%s has no row in the import table (internal/archtest/arch_test.go): add one with its floor and what it may import, and a row in the README's package table", name)
		}
	}
	for _, l := range table {
		if _, ok := own[l.pkg]; !ok && !l.planned {
			t.Errorf("table row %s names no package of the module (renamed or removed? mark it planned or drop it)", l.pkg)
		}
		if _, ok := own[l.pkg]; ok && l.planned {
			t.Errorf("table row %s is marked planned but the package exists: unmark it", l.pkg)
		}
	}

	for _, name := range sortedKeys(own) {
		p, l := own[name], rows[name]
		if _, ok := rows[name]; !ok {
			continue
		}
		check := func(kind string, imports []string, files []string) {
			for _, imp := range imports {
				for _, msg := range importViolations(l, rows, all, imp, kind != "") {
					t.Errorf("%s%s imports %s (%s): %s", name, kind, imp, importingFiles(p.Dir, files, imp), msg)
				}
			}
		}
		check("", p.Imports, p.GoFiles)
		check(" (tests)", p.TestImports, p.TestGoFiles)
		var xt []string
		for _, imp := range p.XTestImports {
			if imp != p.ImportPath { // package x_test imports x
				xt = append(xt, imp)
			}
		}
		check(" (external tests)", xt, p.XTestGoFiles)
	}
}

// importViolations says which rules an import of l's package breaks.
func importViolations(l layer, rows map[string]layer, all map[string]*goPackage, imp string, inTest bool) []string {
	var out []string
	switch {
	case isOwn(imp):
		target := rel(imp)
		tl, ok := rows[target]
		if !ok {
			return []string{target + " has no row in the table"}
		}
		if target == "cmd/audit" {
			return []string{"nothing imports cmd/audit"}
		}
		if tl.testSupport && !inTest {
			out = append(out, fmt.Sprintf("%s is test support: only _test.go files may import it", target))
		}
		allowed := slices.Contains(l.imports, target) ||
			(slices.Contains(l.imports, anyBelow) && !tl.testSupport && tl.floor < l.floor) ||
			(inTest && slices.Contains(l.testImports, target))
		if !allowed {
			out = append(out, fmt.Sprintf("%s may import %s", l.pkg, describe(l, inTest)))
		}
		if !inTest && tl.floor >= l.floor {
			out = append(out, fmt.Sprintf("imports go down the floors (scanner → inventory → findings → report one way): %s is on floor %d, %s on floor %d", target, tl.floor, l.pkg, l.floor))
		}
	case isStandard(imp, all):
		if imp == "testing" && !inTest && !l.testSupport {
			out = append(out, fmt.Sprintf("only test support packages import \"testing\" outside _test.go files; %s is not test support", l.pkg))
		}
	default:
		mod := moduleOf(imp, all)
		allowed := slices.Contains(l.modules, mod) || (inTest && slices.Contains(l.testModules, mod))
		if !allowed {
			rule := fmt.Sprintf("%s may import %s", l.pkg, describe(l, inTest))
			if mod == awsSDK {
				rule = "only scanner and store import the AWS SDK (and test support and tests that drive the SDK); " + rule
			}
			out = append(out, fmt.Sprintf("module %s: %s", mod, rule))
		}
	}
	return out
}

// describe renders what a row allows, as the README's "may import" column
// shows it (with the test additions when inTest).
func describe(l layer, inTest bool) string {
	var parts []string
	imports, modules := l.imports, l.modules
	if inTest {
		imports = append(slices.Clip(imports), l.testImports...)
		modules = append(slices.Clip(modules), l.testModules...)
	}
	for _, p := range imports {
		if p == anyBelow {
			parts = append(parts, "every package below it except test support")
			continue
		}
		parts = append(parts, "`"+p+"`")
	}
	for _, m := range modules {
		if m == awsSDK {
			parts = append(parts, awsSDK)
			continue
		}
		parts = append(parts, "`"+m+"`")
	}
	if len(parts) == 0 {
		return "the standard library only"
	}
	return strings.Join(parts, ", ") + " and the standard library"
}

// importingFiles names the files of dir (among files) that import path.
func importingFiles(dir string, files []string, path string) string {
	var hits []string
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ImportsOnly)
		if err != nil {
			continue
		}
		for _, is := range f.Imports {
			if p, err := strconv.Unquote(is.Path.Value); err == nil && p == path {
				hits = append(hits, name)
			}
		}
	}
	if len(hits) == 0 {
		return "file unknown"
	}
	return strings.Join(hits, ", ")
}

// TestFloorsOneWay: the table itself keeps the floors of DESIGN.md, so that
// widening a row cannot turn the data flow around.
func TestFloorsOneWay(t *testing.T) {
	floor := map[string]int{}
	for _, l := range table {
		floor[l.pkg] = l.floor
	}
	chain := []string{"inventory", "findings", "report", "cmd/audit"}
	for i := 1; i < len(chain); i++ {
		if floor[chain[i-1]] >= floor[chain[i]] {
			t.Errorf("%s (floor %d) must be below %s (floor %d)", chain[i-1], floor[chain[i-1]], chain[i], floor[chain[i]])
		}
	}
	if floor["scanner"] != floor["findings"] {
		t.Errorf("scanner (floor %d) and findings (floor %d) share a floor so that neither imports the other", floor["scanner"], floor["findings"])
	}
	for _, l := range table {
		for _, imp := range l.imports {
			if imp == anyBelow {
				continue
			}
			if f, ok := floor[imp]; !ok {
				t.Errorf("row %s allows %s, which has no row", l.pkg, imp)
			} else if f >= l.floor {
				t.Errorf("row %s (floor %d) allows %s (floor %d): imports go down the floors", l.pkg, l.floor, imp, f)
			}
		}
		if slices.Contains(l.modules, awsSDK) && l.pkg != "scanner" && l.pkg != "store" && !l.testSupport {
			t.Errorf("row %s allows the AWS SDK: only scanner and store (and test support) import it", l.pkg)
		}
		if (l.pkg == "policy" || l.pkg == "inventory") && (len(l.imports) > 0 || len(l.modules) > 0) {
			t.Errorf("row %s allows imports beyond the standard library", l.pkg)
		}
	}
}

// TestREADMEPackageTable: the README's package table lists exactly the
// packages of the table that exist, and its "may import" column is the
// table's.
func TestREADMEPackageTable(t *testing.T) {
	list := goList(t)
	readme, err := os.ReadFile(filepath.Join(list.root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := packageTable(readme)
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	want := map[string]string{}
	for _, l := range table {
		if _, ok := list.own[l.pkg]; ok {
			want[l.pkg] = readmeMayImport(l)
		}
	}
	for _, name := range sortedKeys(want) {
		got, ok := rows[name]
		if !ok {
			t.Errorf("README.md package table has no row for `%s`; add:\n| `%s` | … | %s |", name, name, want[name])
			continue
		}
		if got != want[name] {
			t.Errorf("README.md package table, `%s`, may import:\n got  %s\n want %s", name, got, want[name])
		}
	}
	for _, name := range sortedKeys(rows) {
		if _, ok := want[name]; !ok {
			t.Errorf("README.md package table lists `%s`, which is not a package of the module with a row in the import table", name)
		}
	}
}

// readmeMayImport is the README's "may import" cell of a row.
func readmeMayImport(l layer) string {
	s := describe(l, false)
	if l.testSupport {
		s += "; imported by tests only"
	}
	return s
}

// packageTable reads the table under "## Architecture" whose header starts
// with "| package |": package name → "may import" cell.
func packageTable(readme []byte) (map[string]string, error) {
	sc := bufio.NewScanner(bytes.NewReader(readme))
	inSection, inTable := false, false
	col := -1
	rows := map[string]string{}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "## ") {
			if inTable {
				break
			}
			inSection = line == "## Architecture"
			continue
		}
		if !inSection {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		cells := splitRow(line)
		if !inTable {
			if len(cells) == 0 || cells[0] != "package" {
				continue
			}
			inTable = true
			col = slices.Index(cells, "may import")
			if col < 0 {
				return nil, fmt.Errorf(`package table under "## Architecture" has no "may import" column`)
			}
			continue
		}
		if strings.Trim(cells[0], "-: ") == "" { // the |---| line
			continue
		}
		if len(cells) <= col {
			return nil, fmt.Errorf("package table row %q has %d cells, want at least %d", line, len(cells), col+1)
		}
		rows[strings.Trim(cells[0], "`")] = cells[col]
	}
	if !inTable {
		return nil, fmt.Errorf(`no table with a "package" column under "## Architecture"`)
	}
	return rows, sc.Err()
}

func splitRow(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	cells := strings.Split(line, "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
