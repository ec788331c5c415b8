package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// vars are the variables of the test options, one of each kind.
type vars struct {
	name   string
	on     bool
	count  int
	items  []string
	wait   time.Duration
	secret string
}

func testSet(v *vars) *Set {
	return &Set{
		EnvPrefix: "T_", FileFlag: "config", DefaultFile: "t.yaml",
		Options: []*Option{
			{Name: "name", Value: String(&v.name, "def"), Meta: "NAME", Help: "a string"},
			{Name: "on", Value: Bool(&v.on, false), Help: "a boolean"},
			{Name: "count", Value: Int(&v.count, 3), Meta: "N", Help: "an integer", Check: func() error {
				if v.count < 0 {
					return errors.New("must not be negative")
				}
				return nil
			}},
			{Name: "items", Value: List(&v.items, []string{"all"}), Meta: "A,B", Help: "a list"},
			{Name: "wait", Value: Duration(&v.wait, time.Minute), Meta: "D", Help: "a duration"},
			{Name: "secret", Value: String(&v.secret, ""), Meta: "S", Help: "never shown", Sensitive: true},
		},
		Reserved: []Reserved{{Name: "later", Option: true, What: "something new"}, {Name: "block", What: "a block"}},
	}
}

// load resolves the test set from a file (content; "" for none), an
// environment and flags, in a fresh directory.
func load(t *testing.T, file string, env map[string]string, args ...string) (*vars, *Resolved, error) {
	t.Helper()
	v := &vars{}
	s := testSet(v)
	r, err := loadSet(t, s, file, env, args...)
	return v, r, err
}

func loadSet(t *testing.T, s *Set, file string, env map[string]string, args ...string) (*Resolved, error) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	s.AddFlags(fs)
	s.AddFileFlag(fs)
	if file != "" {
		p := filepath.Join(t.TempDir(), "t.yaml")
		if err := os.WriteFile(p, []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append([]string{"--config", p}, args...)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return s.Load(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

// TestPrecedence: for each kind, every combination of file, environment
// and flag gives the strongest source's value (file < env < flag), and
// Source says which it was.
func TestPrecedence(t *testing.T) {
	type kind struct {
		opt                    string
		file, env, flag        string // as written in each source
		def, fromFile, fromEnv any
		fromFlag               any
		get                    func(*vars) any
	}
	kinds := []kind{
		{opt: "name", file: "from-file", env: "from-env", flag: "from-flag",
			def: "def", fromFile: "from-file", fromEnv: "from-env", fromFlag: "from-flag",
			get: func(v *vars) any { return v.name }},
		{opt: "on", file: "true", env: "false", flag: "true",
			def: false, fromFile: true, fromEnv: false, fromFlag: true,
			get: func(v *vars) any { return v.on }},
		{opt: "count", file: "7", env: "8", flag: "9",
			def: 3, fromFile: 7, fromEnv: 8, fromFlag: 9,
			get: func(v *vars) any { return v.count }},
		{opt: "items", file: "[a, b]", env: "c, d", flag: "e,f",
			def: []string{"all"}, fromFile: []string{"a", "b"}, fromEnv: []string{"c", "d"}, fromFlag: []string{"e", "f"},
			get: func(v *vars) any { return v.items }},
		{opt: "wait", file: "90s", env: "2m", flag: "1h",
			def: time.Minute, fromFile: 90 * time.Second, fromEnv: 2 * time.Minute, fromFlag: time.Hour,
			get: func(v *vars) any { return v.wait }},
	}
	for _, k := range kinds {
		for mask := 0; mask < 8; mask++ {
			inFile, inEnv, inFlag := mask&1 != 0, mask&2 != 0, mask&4 != 0
			name := fmt.Sprintf("%s/file=%t,env=%t,flag=%t", k.opt, inFile, inEnv, inFlag)
			t.Run(name, func(t *testing.T) {
				file := "# test\n"
				env := map[string]string{}
				var args []string
				want, wantSrc := k.def, FromDefault
				if inFile {
					file += k.opt + ": " + k.file + "\n"
					want, wantSrc = k.fromFile, FromFile
				}
				if inEnv {
					env["T_"+strings.ToUpper(k.opt)] = k.env
					want, wantSrc = k.fromEnv, FromEnv
				}
				if inFlag {
					args = append(args, "--"+k.opt+"="+k.flag)
					want, wantSrc = k.fromFlag, FromFlag
				}
				v, r, err := load(t, file, env, args...)
				if err != nil {
					t.Fatal(err)
				}
				if got := k.get(v); !reflect.DeepEqual(got, want) {
					t.Errorf("value %#v, want %#v", got, want)
				}
				o := r.set.Lookup(k.opt)
				src := r.Source(o)
				if src.Kind != wantSrc {
					t.Errorf("source %v, want %v", src, wantSrc)
				}
				wantStr := map[SourceKind]string{FromDefault: "default", FromFile: r.File + ":2",
					FromEnv: "env T_" + strings.ToUpper(k.opt), FromFlag: "flag --" + k.opt}[wantSrc]
				if src.String() != wantStr {
					t.Errorf("source %q, want %q", src, wantStr)
				}
			})
		}
	}
}

// The default file is read from the working directory when it exists;
// the variable names another; an empty --config reads none.
func TestFileDiscovery(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	other := filepath.Join(dir, "other.yaml")
	os.WriteFile(other, []byte("name: other\n"), 0o644)

	v, r, err := load(t, "", nil)
	if err != nil || r.File != "" || v.name != "def" {
		t.Fatalf("no t.yaml: file %q name %q err %v", r.File, v.name, err)
	}
	os.WriteFile("t.yaml", []byte("name: here\n"), 0o644)
	v, r, err = load(t, "", nil)
	if err != nil || r.File != "t.yaml" || r.FoundBy != "" || v.name != "here" {
		t.Fatalf("./t.yaml: file %q name %q err %v", r.File, v.name, err)
	}
	if got := r.Source(r.set.Lookup("name")).String(); got != "t.yaml:1" {
		t.Errorf("source %q", got)
	}
	v, r, err = load(t, "", map[string]string{"T_CONFIG": other})
	if err != nil || r.File != other || r.FoundBy != "T_CONFIG" || v.name != "other" {
		t.Fatalf("T_CONFIG: file %q name %q err %v", r.File, v.name, err)
	}
	v, r, err = load(t, "", map[string]string{"T_CONFIG": other}, "--config", "t.yaml")
	if err != nil || r.File != "t.yaml" || r.FoundBy != "--config" || v.name != "here" {
		t.Fatalf("--config over T_CONFIG: file %q name %q err %v", r.File, v.name, err)
	}
	v, r, err = load(t, "", nil, "--config", "")
	if err != nil || r.File != "" || v.name != "def" {
		t.Fatalf("--config '': file %q name %q err %v", r.File, v.name, err)
	}
	// An empty variable is unset.
	v, _, err = load(t, "", map[string]string{"T_CONFIG": "", "T_NAME": ""})
	if err != nil || v.name != "here" {
		t.Fatalf("empty variables: name %q err %v", v.name, err)
	}
}

// TestErrors: every configuration error names its source (file and line
// with the key, variable or flag); values of sensitive options are never
// shown.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		file string
		env  map[string]string
		args []string
		want []string // each a line of the error, in order; FILE stands for the file
	}{
		{name: "unknown key", file: "name: x\nrole: y\n", want: []string{"FILE:2: unknown key role (audit config print lists every key)"}},
		{name: "unknown key, near", file: "# c\ncuont: 1\n", want: []string{"FILE:2: unknown key cuont (did you mean count?)"}},
		{name: "unknown key, underscores", file: "\n\nit_ems: [a]\n", want: []string{`FILE:3: unknown key "it_ems" (did you mean items?)`}},
		{name: "unknown key, odd", file: "\"a b\": 1\n", want: []string{`FILE:1: unknown key "a b" (audit config print lists every key)`}},
		{name: "key not a name", file: "[a]: 1\n", want: []string{"FILE:1: expected an option name as key, got a list"}},
		{name: "reserved key", file: "name: x\nlater: 1\n", want: []string{"FILE:2: later: not supported yet by this version of audit (it will hold something new)"}},
		{name: "reserved block", file: "block:\n  - a\n", want: []string{"FILE:1: block: not supported yet by this version of audit (it will hold a block)"}},
		{name: "string as list", file: "name: [a]\n", want: []string{`FILE:1: name: expected a string, got a list`}},
		{name: "string without value", file: "name:\n", want: []string{`FILE:1: name: expected a string, got no value (remove the key to keep the default, or write "" for empty)`}},
		{name: "bool as yes", file: "on: yes\n", want: []string{`FILE:1: on: expected true or false, got "yes"`}},
		{name: "bool as number", file: "\non: 1\n", want: []string{`FILE:2: on: expected true or false, got "1"`}},
		{name: "int as word", file: "count: many\n", want: []string{`FILE:1: count: expected a whole number, got "many"`}},
		{name: "int as float", file: "count: 1.5\n", want: []string{`FILE:1: count: expected a whole number, got "1.5"`}},
		{name: "int too large", file: "count: 99999999999999999999\n", want: []string{`FILE:1: count: expected a whole number, got "99999999999999999999"`}},
		{name: "int without value", file: "count: ~\n", want: []string{`FILE:1: count: expected a whole number, got no value (remove the key to keep the default)`}},
		{name: "list as mapping", file: "items: {a: 1}\n", want: []string{`FILE:1: items: expected a list of strings (a YAML sequence, or comma-separated text), got a mapping`}},
		{name: "list item as mapping", file: "items:\n  - a\n  - b: c\n", want: []string{`FILE:3: items: expected a string as list item, got a mapping`}},
		{name: "duration as number", file: "wait: 5\n", want: []string{`FILE:1: wait: expected a duration such as 90s, 5m or 1h30m, got "5"`}},
		{name: "duration as word", file: "wait: soon\n", want: []string{`FILE:1: wait: expected a duration such as 90s, 5m or 1h30m, got "soon"`}},
		{name: "duplicate key", file: "name: a\non: true\nname: b\n", want: []string{"FILE:3: name: duplicate key (first set at line 1)"}},
		{name: "top level list", file: "- name\n", want: []string{"FILE:1: expected a mapping of option names to values, got a list"}},
		{name: "top level scalar", file: "\nname\n", want: []string{`FILE:2: expected a mapping of option names to values, got "name"`}},
		{name: "second document", file: "name: a\n---\non: true\n", want: []string{"FILE:3: a second YAML document; the configuration is one document"}},
		{name: "several at once", file: "name: [a]\nbogus: 1\ncount: x\n",
			want: []string{"FILE:1: name: expected a string, got a list", "FILE:2: unknown key bogus (audit config print lists every key)", `FILE:3: count: expected a whole number, got "x"`}},

		// YAML syntax errors, each with the line it is on.
		{name: "syntax: tab", file: "name: a\non:\n\tx: 1\n", want: []string{"FILE:3: found character that cannot start any token"}},
		{name: "syntax: unclosed flow list", file: "name: a\nitems: [a\ncount: 1\n", want: []string{"FILE:2: did not find expected ',' or ']'"}},
		{name: "syntax: bad indentation", file: "name: a\non: true\n  count: 1\n", want: []string{"FILE:3: mapping values are not allowed in this context"}},
		{name: "syntax: list among keys", file: "name: a\n- b\n", want: []string{"FILE:2: did not find expected key"}},
		{name: "syntax: no colon", file: "name: a\non: true\ncount\nwait: 1s\n", want: []string{"FILE:3: could not find expected ':'"}},
		{name: "syntax: unclosed quote", file: "name: a\nitems: \"abc\ncount: 1\n", want: []string{"FILE:2: found unexpected end of stream"}},
		{name: "syntax: first line", file: "name: a: b\n", want: []string{"FILE:1: mapping values are not allowed in this context"}},
		{name: "syntax: unknown anchor", file: "name: a\n\nitems: *nope\n", want: []string{`FILE:3: unknown anchor "nope" referenced`}},
		{name: "syntax: bad escape", file: "name: a\non: true\nitems: \"\\q\"\n", want: []string{"FILE:3: found unknown escape character"}},
		{name: "not UTF-8", file: "name: a\nitems: \xff\n", want: []string{"FILE:2: not UTF-8 text"}},
		{name: "control character", file: "name: a\n\nitems: a\x1b[2J\n", want: []string{"FILE:3: control character U+001B is not allowed in YAML"}},

		// The environment.
		{name: "env bool", env: map[string]string{"T_ON": "maybe"}, want: []string{`T_ON "maybe": expected true or false`}},
		{name: "env int", env: map[string]string{"T_COUNT": "ten"}, want: []string{`T_COUNT "ten": expected a whole number`}},
		{name: "env duration", env: map[string]string{"T_WAIT": "5"}, want: []string{`T_WAIT "5": expected a duration such as 90s, 5m or 1h30m`}},
		{name: "env reserved", env: map[string]string{"T_LATER": "x"}, want: []string{"T_LATER: not supported yet by this version of audit (it will hold something new)"}},
		{name: "env and file together", file: "count: x\n", env: map[string]string{"T_ON": "maybe"},
			want: []string{`FILE:1: count: expected a whole number, got "x"`, `T_ON "maybe": expected true or false`}},

		// The file itself.
		{name: "--config missing", args: []string{"--config", filepath.Join(dir, "none.yaml")}, want: []string{"--config " + filepath.Join(dir, "none.yaml") + ": no such file"}},
		{name: "T_CONFIG missing", env: map[string]string{"T_CONFIG": filepath.Join(dir, "none.yaml")}, want: []string{"T_CONFIG " + filepath.Join(dir, "none.yaml") + ": no such file"}},
		{name: "--config a directory", args: []string{"--config", dir}, want: []string{"--config " + dir + ": cannot read it: is a directory"}},

		// Checks of the effective value name where it was set.
		{name: "check, flag", args: []string{"--count", "-1"}, want: []string{`--count "-1": must not be negative`}},
		{name: "check, env", env: map[string]string{"T_COUNT": "-2"}, want: []string{`T_COUNT "-2": must not be negative`}},
		{name: "check, file", file: "\ncount: -3\n", want: []string{`FILE:2: count "-3": must not be negative`}},
		{name: "check, overridden value is not checked", file: "count: -3\n", args: []string{"--count", "1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := &vars{}
			s := testSet(v)
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			s.AddFlags(fs)
			s.AddFileFlag(fs)
			args := c.args
			path := ""
			if c.file != "" {
				path = filepath.Join(t.TempDir(), "t.yaml")
				os.WriteFile(path, []byte(c.file), 0o644)
				args = append([]string{"--config", path}, args...)
			}
			if err := fs.Parse(args); err != nil {
				t.Fatal(err)
			}
			_, err := s.Load(fs, func(k string) (string, bool) { x, ok := c.env[k]; return x, ok })
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.Split(err.Error(), "\n")
			want := make([]string, len(c.want))
			for i, w := range c.want {
				want[i] = strings.ReplaceAll(w, "FILE", path)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// A sensitive value is never shown: not in a check's error, not printed.
func TestSensitive(t *testing.T) {
	v := &vars{}
	s := testSet(v)
	s.Lookup("secret").Check = func() error { return errors.New("too short") }
	_, err := loadSet(t, s, "secret: hunter2\n", nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.HasSuffix(err.Error(), ":1: secret: too short") {
		t.Fatalf("err = %v", err)
	}
	s.Lookup("secret").Check = nil
	r, err := loadSet(t, s, "", map[string]string{"T_SECRET": "hunter2"})
	if err != nil || v.secret != "hunter2" {
		t.Fatalf("secret %q err %v", v.secret, err)
	}
	var y, j bytes.Buffer
	if err := r.WriteYAML(&y, "h"); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{y.String(), j.String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("the secret is printed:\n%s", out)
		}
	}
	if !strings.Contains(y.String(), "# secret: hidden, set by env T_SECRET") || !strings.Contains(j.String(), `"hidden": true`) {
		t.Errorf("no note of the hidden value:\n%s\n%s", y.String(), j.String())
	}
}

// A list item's problem names the item's own line.
func TestWhereItem(t *testing.T) {
	_, r, err := load(t, "items:\n  - a\n  - bad\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	o := r.set.Lookup("items")
	got := r.Problem(o, "bad", "not good").Error()
	if want := r.File + `:3: items "bad": not good`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := r.Where(o), r.File+":1: items"; got != want {
		t.Errorf("Where = %q, want %q", got, want)
	}
	_, r, _ = load(t, "", nil, "--items", "a,bad")
	if got, want := r.Problem(r.set.Lookup("items"), "bad", "not good").Error(), `--items "bad": not good`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Scalars are taken as written for strings and lists: account IDs keep
// their leading zeros; a list may be one comma-separated scalar.
func TestScalarsAsWritten(t *testing.T) {
	v, _, err := load(t, "name: 012345678901\nitems: 012345678901, 111122223333\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.name != "012345678901" || !reflect.DeepEqual(v.items, []string{"012345678901", "111122223333"}) {
		t.Errorf("name %q items %q", v.name, v.items)
	}
	v, _, err = load(t, "items:\n  - 012345678901\n  - true\nname: &n x\n", nil)
	if err != nil || !reflect.DeepEqual(v.items, []string{"012345678901", "true"}) {
		t.Errorf("items %q err %v", v.items, err)
	}
	v, _, err = load(t, "items: []\n", nil)
	if err != nil || v.items == nil || len(v.items) != 0 {
		t.Errorf("empty list: %#v %v", v.items, err)
	}
	// An empty file, a comment-only file and an explicit null are no options.
	for _, f := range []string{"\n", "# nothing\n", "~\n", "---\n"} {
		if v, _, err := load(t, f, nil); err != nil || v.name != "def" {
			t.Errorf("%q: name %q err %v", f, v.name, err)
		}
	}
}

// TestPrintGolden: the printed configuration, YAML and JSON, with values
// from every source.
func TestPrintGolden(t *testing.T) {
	v, r, err := load(t, "# my file\nname: from file\nitems:\n  - a\n  - \"true\"\nwait: 90s\n",
		map[string]string{"T_COUNT": "8", "T_SECRET": "s3cret"}, "--on")
	if err != nil {
		t.Fatal(err)
	}
	_ = v
	var y, j bytes.Buffer
	if err := r.WriteYAML(&y, "effective configuration\nsecond line"); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	// The temporary path varies; the golden files say FILE.
	ys := strings.ReplaceAll(y.String(), r.File, "FILE")
	js := strings.ReplaceAll(j.String(), strconv.Quote(r.File), `"FILE"`)
	golden(t, "print.yaml", ys)
	golden(t, "print.json", js)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update after checking):\n%s", p, got)
	}
}

// The printed YAML is a configuration file giving the same values.
func TestPrintRoundTrip(t *testing.T) {
	v1, r, err := load(t, "name: \"yes\"\nitems: [\"012\", 'a,b', \"x: y\"]\n",
		map[string]string{"T_COUNT": "-0", "T_WAIT": "1h2m3s"}, "--on")
	if err != nil {
		t.Fatal(err)
	}
	var y bytes.Buffer
	if err := r.WriteYAML(&y, "x"); err != nil {
		t.Fatal(err)
	}
	v2, r2, err := load(t, y.String(), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, y.String())
	}
	// A list item holding a comma cannot be written comma-separated, but
	// the sequence keeps it.
	if !reflect.DeepEqual(v1, v2) {
		t.Errorf("round trip: %+v, then %+v\n%s", v1, v2, y.String())
	}
	for _, o := range r2.set.Options {
		if o.Sensitive {
			continue
		}
		if k := r2.Source(o).Kind; k != FromFile {
			t.Errorf("%s from %v after the round trip", o.Name, k)
		}
	}
}

// Sections are handed to their decoder; a decoder's error is reported; the
// block is printed back.
func TestSections(t *testing.T) {
	v := &vars{}
	s := testSet(v)
	var got []string
	s.Sections = []*Section{{Name: "rules", Help: "a block", Decode: func(file string, n *yaml.Node) error {
		if n.Kind != yaml.SequenceNode {
			return fmt.Errorf("%s:%d: rules: expected a list", file, n.Line)
		}
		got = nil
		for _, c := range n.Content {
			got = append(got, c.Value)
		}
		return nil
	}}}
	r, err := loadSet(t, s, "name: x\nrules:\n  - one\n  - two\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Errorf("decoded %q", got)
	}
	var y, j bytes.Buffer
	r.WriteYAML(&y, "")
	r.WriteJSON(&j)
	if !strings.Contains(y.String(), "rules: # "+r.File+":2\n  - one\n  - two\n") {
		t.Errorf("YAML:\n%s", y.String())
	}
	if !strings.Contains(j.String(), `"value": [`) || !strings.Contains(j.String(), `"name": "rules"`) {
		t.Errorf("JSON:\n%s", j.String())
	}
	_, err = loadSet(t, s, "\nrules: x\n", nil)
	if err == nil || !strings.HasSuffix(err.Error(), ":2: rules: expected a list") {
		t.Errorf("err = %v", err)
	}
	// A near miss of a section name is suggested too.
	_, err = loadSet(t, s, "rule: []\n", nil)
	if err == nil || !strings.Contains(err.Error(), "did you mean rules?") {
		t.Errorf("err = %v", err)
	}
}

func TestSetDefault(t *testing.T) {
	v := &vars{}
	s := testSet(v)
	if err := s.SetDefault("items", []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDefault("items", "x"); err == nil {
		t.Error("a string default for a list is accepted")
	}
	if err := s.SetDefault("nope", "x"); err == nil {
		t.Error("an unknown option is accepted")
	}
	if _, err := loadSet(t, s, "", nil); err != nil || !reflect.DeepEqual(v.items, []string{"x"}) {
		t.Errorf("items %q err %v", v.items, err)
	}
}

func TestValidateDefinitions(t *testing.T) {
	v := &vars{}
	if err := testSet(v).Validate(); err != nil {
		t.Fatal(err)
	}
	var n int
	for name, s := range map[string]*Set{
		"duplicate": {EnvPrefix: "T_", FileFlag: "config", DefaultFile: "t.yaml", Options: []*Option{
			{Name: "a", Value: Bool(&v.on, false), Help: "x"}, {Name: "a", Value: Bool(&v.on, false), Help: "x"}}},
		"bad name": {EnvPrefix: "T_", FileFlag: "config", DefaultFile: "t.yaml", Options: []*Option{
			{Name: "Role_Name", Value: Bool(&v.on, false), Help: "x"}}},
		"unbound": {EnvPrefix: "T_", FileFlag: "config", DefaultFile: "t.yaml", Options: []*Option{
			{Name: "a", Value: Value{kind: KindInt, target: &v.name, def: 1}, Help: "x", Meta: "N"}}},
		"no meta": {EnvPrefix: "T_", FileFlag: "config", DefaultFile: "t.yaml", Options: []*Option{
			{Name: "a", Value: Int(&n, 0), Help: "x"}}},
		"pipe in doc": {EnvPrefix: "T_", FileFlag: "config", DefaultFile: "t.yaml", Options: []*Option{
			{Name: "a", Value: Bool(&v.on, false), Help: "x", Doc: "a | b"}}},
		"reserved clash": {EnvPrefix: "T_", FileFlag: "config", DefaultFile: "t.yaml", Options: []*Option{
			{Name: "a", Value: Bool(&v.on, false), Help: "x"}}, Reserved: []Reserved{{Name: "a"}}},
		"file flag clash": {EnvPrefix: "T_", FileFlag: "a", DefaultFile: "t.yaml", Options: []*Option{
			{Name: "a", Value: Bool(&v.on, false), Help: "x"}}},
		"section without decoder": {EnvPrefix: "T_", FileFlag: "config", DefaultFile: "t.yaml", Sections: []*Section{{Name: "s"}}},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzLoadFile: no input panics, and every error names the file and a
// line of it.
func FuzzLoadFile(f *testing.F) {
	for _, s := range []string{
		"name: x\non: true\ncount: 3\nitems: [a, b]\nwait: 1s\n",
		"items:\n  - a\n  - &x b\n  - *x\n", "a: [1\n", "name: a: b", "\tx: 1", "- a\n", "a: 1\n---\nb: 2\n",
		"name: *y\n", "x: &a [*a]\nitems: *a\n", "\xff", "? [a]\n: b\n", "<<: {name: x}\n", "%YAML 1.2\n---\nname: x\n",
	} {
		f.Add([]byte(s))
	}
	lineRE := regexp.MustCompile(`^f\.yaml:([0-9]+): `)
	f.Fuzz(func(t *testing.T, data []byte) {
		v := &vars{}
		s := testSet(v)
		_, _, errs := s.parseFile("f.yaml", data)
		lines := lineCount(data)
		for _, err := range errs {
			for _, msg := range strings.Split(err.Error(), "\n") {
				m := lineRE.FindStringSubmatch(msg)
				if m == nil {
					t.Fatalf("error without file and line: %q", msg)
				}
				if n, _ := strconv.Atoi(m[1]); n < 1 || n > lines {
					t.Fatalf("line %d of %d: %q", n, lines, msg)
				}
			}
		}
	})
}
