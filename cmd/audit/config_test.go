package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ecs-audit/audit/internal/config"
	"github.com/ecs-audit/audit/internal/mototest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const exampleConfig = "../../docs/audit.example.yaml"

// configEnv gives a test a working directory of its own (for ./audit.yaml)
// holding file as audit.yaml ("" for none), and an environment without
// AUDIT_* variables but those of env.
func configEnv(t *testing.T, file string, env map[string]string) string {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AUDIT_") {
			t.Setenv(k, "") // empty is unset
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	if file != "" {
		if err := os.WriteFile("audit.yaml", []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// printed runs audit config print --format json and returns its options by
// name.
func printed(t *testing.T, args ...string) map[string]config.JSONOption {
	t.Helper()
	code, out, stderr := run(t, "", append([]string{"config", "print", "--format", "json"}, args...)...)
	if code != ExitOK {
		t.Fatalf("config print exit %d:\n%s", code, stderr)
	}
	var j config.JSON
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	byName := map[string]config.JSONOption{}
	for _, o := range j.Options {
		byName[o.Name] = o
	}
	return byName
}

// TestConfigPrecedence: for an option of each type, every combination of
// audit.yaml, AUDIT_* variable and flag gives the strongest source (file <
// env < flag), and config print names it.
func TestConfigPrecedence(t *testing.T) {
	type kind struct {
		opt                          string
		file, env, flag              string // as written in each source
		def, fromFile, fromEnv, from any    // from = from the flag; JSON values
	}
	kinds := []kind{
		{opt: "role-name", file: "FileRole", env: "EnvRole", flag: "FlagRole",
			def: "OrganizationAccountAccessRole", fromFile: "FileRole", fromEnv: "EnvRole", from: "FlagRole"},
		{opt: "all-revisions", file: "true", env: "false", flag: "true",
			def: false, fromFile: true, fromEnv: false, from: true},
		{opt: "max-attempts", file: "3", env: "4", flag: "5",
			def: 10.0, fromFile: 3.0, fromEnv: 4.0, from: 5.0},
		{opt: "regions", file: "[us-east-1, eu-west-1]", env: "ap-south-1,ca-central-1", flag: "sa-east-1",
			def: []any{"all"}, fromFile: []any{"us-east-1", "eu-west-1"}, fromEnv: []any{"ap-south-1", "ca-central-1"}, from: []any{"sa-east-1"}},
	}
	for _, k := range kinds {
		for mask := range 8 {
			inFile, inEnv, inFlag := mask&1 != 0, mask&2 != 0, mask&4 != 0
			t.Run(fmt.Sprintf("%s/file=%t,env=%t,flag=%t", k.opt, inFile, inEnv, inFlag), func(t *testing.T) {
				file := "# test\nout: reports\n"
				env := map[string]string{}
				var args []string
				want, wantSrc := k.def, config.JSONSource{Kind: "default"}
				if inFile {
					file += k.opt + ": " + k.file + "\n"
					want, wantSrc = k.fromFile, config.JSONSource{Kind: "file", File: "audit.yaml", Line: 3}
				}
				envVar := "AUDIT_" + strings.ToUpper(strings.ReplaceAll(k.opt, "-", "_"))
				if inEnv {
					env[envVar] = k.env
					want, wantSrc = k.fromEnv, config.JSONSource{Kind: "env", Variable: envVar}
				}
				if inFlag {
					args = append(args, "--"+k.opt+"="+k.flag)
					want, wantSrc = k.from, config.JSONSource{Kind: "flag", Flag: "--" + k.opt}
				}
				configEnv(t, file, env)
				got := printed(t, args...)[k.opt]
				if !reflect.DeepEqual(got.Value, want) || got.Source != wantSrc {
					t.Errorf("%s = %#v from %+v, want %#v from %+v", k.opt, got.Value, got.Source, want, wantSrc)
				}
			})
		}
	}
}

// The scan itself uses the resolved values: formats from the environment
// over the file, fail-on from the file.
func TestScanUsesConfiguration(t *testing.T) {
	snap, err := filepath.Abs(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	dir := configEnv(t, "format: [json, html]\nfail-on: critical\nout: from-file\nquiet: true\nsnapshot: "+snap+"\n",
		map[string]string{"AUDIT_FORMAT": "sarif,markdown"})
	code, _, stderr := run(t, "", "scan", "--out", "from-flag")
	if code != ExitFindings {
		t.Fatalf("exit %d (want 1: fail-on critical from the file):\n%s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("quiet from the file, but stderr:\n%s", stderr)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "from-flag"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"findings.sarif", "summary.md"}; !reflect.DeepEqual(names, want) {
		t.Errorf("wrote %v, want %v (formats from AUDIT_FORMAT, directory from --out)", names, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "from-file")); err == nil {
		t.Error("the file's out was used over --out")
	}
}

// TestConfigErrors: every configuration error exits 2 before any AWS call,
// without reports, naming where the bad value was set: the file with its
// line and key, the variable, or the flag. config print reports the same.
func TestConfigErrors(t *testing.T) {
	// Expiry dates relative to today (the checks use the clock).
	in30 := time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly)
	in40 := time.Now().UTC().AddDate(0, 0, 40).Format(time.DateOnly)
	cases := []struct {
		name string
		file string
		env  map[string]string
		args []string
		want []string // the lines of stderr
		// s3: the case sets --out itself (scan is run without --out out)
		s3 bool
	}{
		{name: "unknown key", file: "org: true\nrole: x\n",
			want: []string{"audit: audit.yaml:2: unknown key role (audit config print lists every key)"}},
		{name: "unknown key, near miss", file: "org: true\n\nrole_name: x\n",
			want: []string{`audit: audit.yaml:3: unknown key "role_name" (did you mean role-name?)`}},
		{name: "wrong type, bool", file: "org: yes\n",
			want: []string{`audit: audit.yaml:1: org: expected true or false, got "yes"`}},
		{name: "wrong type, int", file: "org: true\nmax-attempts: many\n",
			want: []string{`audit: audit.yaml:2: max-attempts: expected a whole number, got "many"`}},
		{name: "wrong type, list item", file: "regions:\n  - us-east-1\n  - {name: eu-west-1}\n",
			want: []string{`audit: audit.yaml:3: regions: expected a string as list item, got a mapping`}},
		{name: "wrong type, string", file: "role-name: [a, b]\n",
			want: []string{`audit: audit.yaml:1: role-name: expected a string, got a list`}},
		{name: "duplicate key", file: "org: true\nout: a\norg: false\n",
			want: []string{"audit: audit.yaml:3: org: duplicate key (first set at line 1)"}},
		{name: "YAML syntax", file: "org: true\nregions: [us-east-1\nout: x\n",
			want: []string{"audit: audit.yaml:2: did not find expected ',' or ']'"}},
		{name: "YAML indentation", file: "org: true\n  out: x\n",
			want: []string{"audit: audit.yaml:2: mapping values are not allowed in this context"}},
		{name: "shard out of range", file: "org: true\nshard: 4/4\n",
			want: []string{`audit: audit.yaml:2: shard "4/4": the shard index K is 0-based: a whole number from 0 to 3, or auto`}},
		{name: "invalid suppression in the file", file: "org: true\nsuppressions:\n  - rule: ER01\n    justification: \"\"\n",
			want: []string{`audit: audit.yaml:3:11: suppressions[0].rule: unknown rule "ER01" (known: AG001, AG002, AG003, ER001, ER002, ER003, ER004, ER005, ER006, ER007, ER008, FG001, NW001, PL001, RS001, TD001, or *)`,
				`audit: audit.yaml:3:5: suppressions[0].expires: is required: the last day it applies, YYYY-MM-DD`,
				`audit: audit.yaml:4:20: suppressions[0].justification: is empty: say why the risk is accepted`}},
		{name: "suppressions not a list", file: "suppressions: ER001\n",
			want: []string{`audit: audit.yaml:1:15: suppressions: expected a list of suppressions, found "ER001"`}},
		{name: "suppression beyond max-suppression-days", file: "suppressions:\n  - {rule: ER001, justification: j, expires: " + in40 + "}\n",
			env:  map[string]string{"AUDIT_MAX_SUPPRESSION_DAYS": "30"},
			want: []string{"audit: audit.yaml:2:46: suppressions[0].expires: " + in40 + " is beyond the maximum of 30 days ahead (the last day allowed is " + in30 + "): review the risk sooner"}},
		{name: "several problems, all named", file: "org: maybe\nbogus: 1\n", env: map[string]string{"AUDIT_MAX_ATTEMPTS": "ten"},
			want: []string{`audit: audit.yaml:1: org: expected true or false, got "maybe"`,
				"audit: audit.yaml:2: unknown key bogus (audit config print lists every key)",
				`audit: AUDIT_MAX_ATTEMPTS "ten": expected a whole number`}},

		{name: "bad env, bool", env: map[string]string{"AUDIT_ORG": "maybe"},
			want: []string{`audit: AUDIT_ORG "maybe": expected true or false`}},
		{name: "bad env, int", env: map[string]string{"AUDIT_ACCOUNT_CONCURRENCY": "1.5"},
			want: []string{`audit: AUDIT_ACCOUNT_CONCURRENCY "1.5": expected a whole number`}},
		{name: "env shard", env: map[string]string{"AUDIT_SHARD": "1/x"},
			want: []string{`audit: AUDIT_SHARD "1/x": the shard count N must be a whole number from 1 to 10000`}},

		{name: "unknown --config file", args: []string{"--config", "nope.yaml"},
			want: []string{"audit: --config nope.yaml: no such file"}},
		{name: "unknown AUDIT_CONFIG file", env: map[string]string{"AUDIT_CONFIG": "nope.yaml"},
			want: []string{"audit: AUDIT_CONFIG nope.yaml: no such file"}},

		// Values checked by their option, named by their source.
		{name: "fail-on in the file", file: "\nfail-on: severe\n",
			want: []string{`audit: audit.yaml:2: fail-on "severe": expected critical, high, medium, low, info or none`}},
		{name: "format in the environment", env: map[string]string{"AUDIT_FORMAT": "json,pdf"},
			want: []string{`audit: AUDIT_FORMAT "json,pdf": unknown report format "pdf" (valid: json, sarif, html, xlsx, markdown, csv, all)`}},
		{name: "log level flag", args: []string{"--log-level", "loud"},
			want: []string{`audit: --log-level "loud": expected debug, info, warn or error`}},
		{name: "fail-on-new in the environment", env: map[string]string{"AUDIT_FAIL_ON_NEW": "severe"},
			want: []string{`audit: AUDIT_FAIL_ON_NEW "severe": expected critical, high, medium, low, info or none`}},
		{name: "fail-on-new without a baseline", file: "fail-on-new: high\n",
			want: []string{`audit: audit.yaml:1: fail-on-new "high": needs --baseline, the findings.json of an earlier scan, to know what is new`}},
		{name: "baseline names a prefix", env: map[string]string{"AUDIT_BASELINE": "s3://reports-bucket/scheduled/latest/"},
			want: []string{`audit: AUDIT_BASELINE "s3://reports-bucket/scheduled/latest/": names a prefix (ends with /), not an object`}},
		{name: "max-suppression-days out of range", file: "max-suppression-days: 5000\n",
			want: []string{`audit: audit.yaml:1: max-suppression-days "5000": expected a number of days from 1 to 3650`}},
		{name: "empty suppressions file name", args: []string{"--suppressions-file", "a.yaml,"},
			want: []string{`audit: --suppressions-file "a.yaml,": an empty file name in the list`}},
		{name: "S3 destination in the file", file: "out: s3://Reports_Bucket/audit/\n", s3: true,
			want: []string{`audit: audit.yaml:1: out "s3://Reports_Bucket/audit/": bucket name "Reports_Bucket": only lower-case letters, digits, dots and hyphens are allowed`}},
		{name: "snapshot and evidence on S3 are names", env: map[string]string{"AUDIT_OUT": "s3://reports-bucket/audit/", "AUDIT_EVIDENCE_DIR": "../evidence"},
			args: []string{"--save-snapshot", "/tmp/inventory.json"}, s3: true,
			want: []string{`audit: --save-snapshot "/tmp/inventory.json": with --out s3://… it is stored with the reports, so give a name such as inventory.json (this one has an empty segment (a leading slash or two slashes in a row))`,
				`audit: AUDIT_EVIDENCE_DIR "../evidence": with --out s3://… it is stored with the reports, so give a name such as evidence (this one has a ".." segment)`}},
		{name: "KMS key of the wrong form", file: "out: s3://reports-bucket/\nout-kms-key: my key\n", s3: true,
			want: []string{`audit: audit.yaml:2: out-kms-key "my key": expected a key ID, key ARN, alias/NAME or alias ARN`}},
		{name: "KMS key without S3", file: "out-kms-key: alias/audit\n",
			want: []string{`audit: audit.yaml:1: out-kms-key: applies to --out s3://bucket/prefix/ only; the reports go to "out"`}},

		// The scanner's validation, named by the source of the field.
		{name: "scanner: region item in the file", file: "regions:\n  - us-east-1\n  - moon\n",
			want: []string{`audit: audit.yaml:3: regions "moon": not a region name (like us-east-1), nor "all"`}},
		{name: "scanner: role name in the environment", env: map[string]string{"AUDIT_ROLE_NAME": "/bad/"},
			want: []string{`audit: AUDIT_ROLE_NAME "/bad/": not an IAM role name (letters, digits and +=,.@_-, optionally under a path such as team/Name)`}},
		{name: "scanner: OU without org in the file", file: "ou: [ou-ab12-11111111]\n",
			want: []string{`audit: audit.yaml:1: ou "ou-ab12-11111111": only restricts an Organization scan (needs --org)`}},
		{name: "scanner: external ID never echoed", env: map[string]string{"AUDIT_EXTERNAL_ID": "x"},
			want: []string{`audit: AUDIT_EXTERNAL_ID: 2 to 1224 characters of letters, digits and +=,.@:/-_, as sts:AssumeRole accepts`}},
		{name: "scanner: several sources", file: "account-concurrency: -1\n", env: map[string]string{"AUDIT_ACCOUNTS": "12345"}, args: []string{"--max-attempts", "-2"},
			want: []string{`audit: AUDIT_ACCOUNTS "12345": not a 12-digit account ID`,
				`audit: audit.yaml:1: account-concurrency "-1": must be a positive number (0 for the default)`,
				`audit: --max-attempts "-2": must be a positive number (0 for the default)`}},
	}
	for _, c := range cases {
		for _, cmd := range [][]string{{"scan", "--out", "out"}, {"config", "print"}} {
			if c.s3 && cmd[0] == "scan" {
				cmd = []string{"scan"}
			}
			t.Run(cmd[0]+"/"+c.name, func(t *testing.T) {
				url, requests := countingEndpoint(t, nil)
				mototest.Env(t, url)
				dir := configEnv(t, c.file, c.env)
				code, stdout, stderr := run(t, "", append(cmd, c.args...)...)
				if code != ExitUsage {
					t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitUsage, stderr)
				}
				if got := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"); !reflect.DeepEqual(got, c.want) {
					t.Errorf("stderr:\n%s\nwant:\n%s", stderr, strings.Join(c.want, "\n"))
				}
				if stdout != "" {
					t.Errorf("stdout: %s", stdout)
				}
				if n := requests(); n != 0 {
					t.Errorf("%d AWS requests", n)
				}
				noReports(t, filepath.Join(dir, "out"))
			})
		}
	}
}

// TestSnapshotRefusesScopeFromEverySource: an option that says what to
// collect is refused with a snapshot whether it is set by a flag, a
// variable or the file (and whichever sets the snapshot); one that only
// tunes a live scan is accepted.
func TestSnapshotRefusesScopeFromEverySource(t *testing.T) {
	snap, err := filepath.Abs(demoSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, o := range newScanFlags().opts.Options {
		if o.Snapshot != config.SnapshotRefused {
			continue
		}
		refused++
		value := map[config.Kind]string{config.KindString: "x", config.KindBool: "true", config.KindList: "us-east-1"}[o.Value.Kind()]
		if o.Name == "shard" {
			value = "0/2"
		}
		env := "AUDIT_" + strings.ToUpper(strings.ReplaceAll(o.Name, "-", "_"))
		for _, c := range []struct {
			source, file string
			env          map[string]string
			args         []string
			want         []string
		}{
			{"flag", "", nil, []string{"--snapshot", snap, "--" + o.Name + "=" + value},
				[]string{"audit: --" + o.Name + " cannot be used with --snapshot (the snapshot is analysed as it was collected)"}},
			{"env", "", map[string]string{env: value, "AUDIT_SNAPSHOT": snap}, nil,
				[]string{"audit: " + env + " cannot be used with AUDIT_SNAPSHOT (the snapshot is analysed as it was collected)"}},
			{"file", "\n" + o.Name + ": " + value + "\n", nil, []string{"--snapshot", snap},
				[]string{"audit: audit.yaml:2: " + o.Name + " cannot be used with --snapshot (the snapshot is analysed as it was collected)",
					"audit: audit.yaml says what to scan; to analyse a snapshot without it: --config ''"}},
			{"file, snapshot in the file", "snapshot: " + snap + "\n" + o.Name + ": " + value + "\n", nil, nil,
				[]string{"audit: audit.yaml:2: " + o.Name + " cannot be used with snapshot (audit.yaml:1) (the snapshot is analysed as it was collected)",
					"audit: audit.yaml says what to scan; to analyse a snapshot without it: --config ''"}},
		} {
			t.Run(o.Name+"/"+c.source, func(t *testing.T) {
				dir := configEnv(t, c.file, c.env)
				for _, cmd := range [][]string{{"scan", "--quiet", "--out", "out"}, {"config", "print"}} {
					code, _, stderr := run(t, "", append(cmd, c.args...)...)
					if got := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"); code != ExitUsage || !reflect.DeepEqual(got, c.want) {
						t.Errorf("%s: exit %d, stderr:\n%s\nwant:\n%s", cmd[0], code, stderr, strings.Join(c.want, "\n"))
					}
				}
				noReports(t, filepath.Join(dir, "out"))
			})
		}
	}
	if refused != 10 {
		t.Errorf("%d options refused with a snapshot, want 10", refused)
	}
	// Tuning options from any source are accepted (and have no effect).
	configEnv(t, "account-concurrency: 4\nno-resolve-resources: true\n", map[string]string{"AUDIT_MAX_ATTEMPTS": "3", "AUDIT_REGION": "eu-west-1"})
	if code, _, stderr := run(t, "", "scan", "--quiet", "--out", "out", "--snapshot", snap, "--region-concurrency", "2"); code != ExitOK {
		t.Errorf("tuning options with a snapshot: exit %d:\n%s", code, stderr)
	}
}

// TestConfigPrintGolden: config print with values from the file, the
// environment and flags, as YAML and JSON.
func TestConfigPrintGolden(t *testing.T) {
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	configEnv(t, `# the scheduled scan
org: true
regions:
  - us-east-1
  - eu-west-1
role-name: AuditReadOnly
exclude-accounts: ["012345678901"]
format: [sarif, html]
fail-on: high
suppressions:
  - rule: ER008
    role: legacy-*
    justification: Legacy roles, replaced in PLAT-311.
    owner: platform@example.com
    expires: 2026-11-30
`, map[string]string{"AUDIT_FAIL_ON": "critical", "AUDIT_EXTERNAL_ID": "never-printed-42", "AUDIT_MAX_ATTEMPTS": "5"})
	for _, c := range []struct{ format, golden string }{{"yaml", "config-print.yaml"}, {"json", "config-print.json"}} {
		code, out, stderr := run(t, "", "config", "print", "--format", c.format, "--out", "reports", "--quiet")
		if code != ExitOK {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		if strings.Contains(out, "never-printed-42") {
			t.Errorf("the external ID is printed:\n%s", out)
		}
		cmdGolden(t, filepath.Join(testdata, c.golden), out)
		if c.format == "yaml" && !strings.Contains(string(doc), "```yaml\n"+out+"```\n") {
			t.Errorf("docs/configuration.md does not show %s:\n%s", c.golden, out)
		}
	}
	// The YAML is a configuration file giving the same values.
	_, y, _ := run(t, "", "config", "print", "--out", "reports", "--quiet")
	before := printed(t, "--out", "reports", "--quiet")
	configEnv(t, y, map[string]string{"AUDIT_EXTERNAL_ID": "never-printed-42"})
	after := printed(t)
	for name, o := range before {
		if a := after[name]; !reflect.DeepEqual(a.Value, o.Value) || a.Hidden != o.Hidden {
			t.Errorf("%s: %#v after printing and reading back, %#v before", name, a.Value, o.Value)
		}
	}
}

func cmdGolden(t *testing.T, p, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test ./cmd/audit/ -update after checking):\n%s", p, got)
	}
}

// TestExampleConfig: docs/audit.example.yaml loads, passes every check, and
// sets every option; and each value means the same as a variable and as a
// flag.
func TestExampleConfig(t *testing.T) {
	example, err := filepath.Abs(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	configEnv(t, "", nil)
	fromFile := printed(t, "--config", example)
	opts := newScanFlags().opts
	for _, o := range opts.Options {
		got, ok := fromFile[o.Name]
		if !ok || got.Source.Kind != "file" {
			t.Errorf("docs/audit.example.yaml does not set %s", o.Name)
		}
	}
	text, _ := os.ReadFile(example)
	for _, r := range opts.Reserved {
		if !strings.Contains(string(text), "#   "+r.Name+":") {
			t.Errorf("docs/audit.example.yaml does not mention %s, which is coming", r.Name)
		}
	}
	// The same values as variables, and as flags.
	env, flagEnv := map[string]string{}, map[string]string{}
	var args []string
	for _, o := range opts.Options {
		v := fromFile[o.Name].Value
		if o.Sensitive {
			v = "the-external-id"
		}
		var s string
		switch x := v.(type) {
		case []any:
			var items []string
			for _, it := range x {
				items = append(items, it.(string))
			}
			s = strings.Join(items, ",")
		default:
			s = fmt.Sprint(x)
		}
		if s == "" {
			continue // an empty variable is unset; the default is the same
		}
		env[opts.EnvVar(o.Name)] = s
		if o.Name == "format" {
			// config print's own --format is its output.
			flagEnv = map[string]string{opts.EnvVar(o.Name): s}
			continue
		}
		args = append(args, "--"+o.Name+"="+s)
	}
	for _, c := range []struct {
		source string
		env    map[string]string
		args   []string
	}{{"env", env, nil}, {"flag", flagEnv, args}} {
		configEnv(t, "", c.env)
		got := printed(t, c.args...)
		for _, o := range opts.Options {
			g, w := got[o.Name], fromFile[o.Name]
			if !reflect.DeepEqual(g.Value, w.Value) {
				t.Errorf("%s: %s %#v, file %#v", o.Name, c.source, g.Value, w.Value)
			}
			if fmt.Sprint(w.Value) != "" && fmt.Sprint(w.Value) != "[]" && g.Source.Kind != c.source && !(c.source == "flag" && o.Name == "format") {
				t.Errorf("%s from %s, want %s", o.Name, g.Source.Kind, c.source)
			}
		}
	}
}

// audit demo takes scan's report and terminal options from the same
// definitions, with every format by default.
func TestDemoSharesScanOptions(t *testing.T) {
	a := &app{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}}
	root := a.rootCmd()
	scan, _, _ := root.Find([]string{"scan"})
	demo, _, _ := root.Find([]string{"demo"})
	for _, name := range demoOptions {
		s, d := scan.Flags().Lookup(name), demo.Flags().Lookup(name)
		if s == nil || d == nil {
			t.Fatalf("--%s: scan %v, demo %v", name, s, d)
		}
		if s.Usage != d.Usage || s.Value.Type() != d.Value.Type() {
			t.Errorf("--%s: demo %q (%s), scan %q (%s)", name, d.Usage, d.Value.Type(), s.Usage, s.Value.Type())
		}
		if name != "format" && s.DefValue != d.DefValue {
			t.Errorf("--%s: demo default %q, scan %q", name, d.DefValue, s.DefValue)
		}
	}
	if d := demo.Flags().Lookup("format").DefValue; d != "[all]" {
		t.Errorf("demo --format default %q", d)
	}
	if demo.Flags().Lookup("config") != nil {
		t.Error("demo has --config; it reads flags only")
	}
}

// config print's own --format chooses its output; the scan option format
// still comes from the file and the environment.
func TestConfigPrintFormat(t *testing.T) {
	configEnv(t, "format: [html]\n", nil)
	if code, _, stderr := run(t, "", "config", "print", "--format", "xml"); code != ExitUsage || !strings.Contains(stderr, `--format "xml": expected yaml or json`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if got := printed(t)["format"]; !reflect.DeepEqual(got.Value, []any{"html"}) || got.Source.Kind != "file" {
		t.Errorf("format = %+v", got)
	}
	code, out, _ := run(t, "", "config", "print")
	if code != ExitOK || !strings.Contains(out, "format: [html] # audit.yaml:1\n") || !strings.Contains(out, "# configuration file: audit.yaml (in the working directory)\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
