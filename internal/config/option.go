package config

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// Kind is the type of an option's value.
type Kind int

// The kinds of option values.
const (
	KindString   Kind = iota // any text
	KindBool                 // true or false
	KindInt                  // a whole number
	KindList                 // strings: a YAML sequence, or comma-separated text
	KindDuration             // a Go duration such as 30s or 5m
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindBool:
		return "boolean"
	case KindInt:
		return "integer"
	case KindList:
		return "list"
	case KindDuration:
		return "duration"
	}
	return "kind " + strconv.Itoa(int(k))
}

// Value binds an option to the variable that holds it, with its default.
// Make one with String, Bool, Int, List or Duration.
type Value struct {
	kind   Kind
	target any // *string, *bool, *int, *[]string or *time.Duration
	def    any // string, bool, int, []string or time.Duration
}

// String binds a string option to *p.
func String(p *string, def string) Value { return Value{KindString, p, def} }

// Bool binds a boolean option to *p.
func Bool(p *bool, def bool) Value { return Value{KindBool, p, def} }

// Int binds an integer option to *p.
func Int(p *int, def int) Value { return Value{KindInt, p, def} }

// List binds a list option to *p.
func List(p *[]string, def []string) Value { return Value{KindList, p, slices.Clone(def)} }

// Duration binds a duration option to *p.
func Duration(p *time.Duration, def time.Duration) Value { return Value{KindDuration, p, def} }

// Kind is the type of the value.
func (v Value) Kind() Kind { return v.kind }

// Target is the pointer the value is bound to.
func (v Value) Target() any { return v.target }

// Default is the default value (a string, bool, int, []string or
// time.Duration).
func (v Value) Default() any {
	if l, ok := v.def.([]string); ok {
		return slices.Clone(l)
	}
	return v.def
}

// get returns the current value of the bound variable.
func (v Value) get() any {
	switch p := v.target.(type) {
	case *string:
		return *p
	case *bool:
		return *p
	case *int:
		return *p
	case *[]string:
		return slices.Clone(*p)
	case *time.Duration:
		return *p
	}
	return nil
}

// set stores x (of the value's type) in the bound variable.
func (v Value) set(x any) {
	switch p := v.target.(type) {
	case *string:
		*p = x.(string)
	case *bool:
		*p = x.(bool)
	case *int:
		*p = x.(int)
	case *[]string:
		*p = slices.Clone(x.([]string))
	case *time.Duration:
		*p = x.(time.Duration)
	}
}

// valid reports whether the target and the default agree with the kind.
func (v Value) valid() bool {
	switch v.kind {
	case KindString:
		p, t := v.target.(*string)
		_, d := v.def.(string)
		return t && d && p != nil
	case KindBool:
		p, t := v.target.(*bool)
		_, d := v.def.(bool)
		return t && d && p != nil
	case KindInt:
		p, t := v.target.(*int)
		_, d := v.def.(int)
		return t && d && p != nil
	case KindList:
		p, t := v.target.(*[]string)
		_, d := v.def.([]string)
		return t && (d || v.def == nil) && p != nil
	case KindDuration:
		p, t := v.target.(*time.Duration)
		_, d := v.def.(time.Duration)
		return t && d && p != nil
	}
	return false
}

// Text renders x, a value of kind k, as it is written on a command line:
// lists comma-separated.
func Text(k Kind, x any) string {
	switch k {
	case KindString:
		s, _ := x.(string)
		return s
	case KindBool:
		b, _ := x.(bool)
		return strconv.FormatBool(b)
	case KindInt:
		i, _ := x.(int)
		return strconv.Itoa(i)
	case KindList:
		l, _ := x.([]string)
		return strings.Join(l, ",")
	case KindDuration:
		d, _ := x.(time.Duration)
		return d.String()
	}
	return fmt.Sprint(x)
}

// parseText reads a value of the kind from text (an environment variable).
// The error says what was expected, without the text.
func (v Value) parseText(s string) (any, error) {
	switch v.kind {
	case KindString:
		return s, nil
	case KindBool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, errExpected(KindBool)
		}
		return b, nil
	case KindInt:
		i, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, errExpected(KindInt)
		}
		return i, nil
	case KindList:
		return splitList(s), nil
	case KindDuration:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return nil, errExpected(KindDuration)
		}
		return d, nil
	}
	return nil, fmt.Errorf("unsupported kind %v", v.kind)
}

// splitList splits comma-separated text into trimmed items ("" is the empty
// list). Empty items are kept, for the validation to name.
func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return []string{}
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// expectation says what a value of kind k looks like.
func expectation(k Kind) string {
	switch k {
	case KindString:
		return "a string"
	case KindBool:
		return "true or false"
	case KindInt:
		return "a whole number"
	case KindList:
		return "a list of strings (a YAML sequence, or comma-separated text)"
	case KindDuration:
		return "a duration such as 90s, 5m or 1h30m"
	}
	return k.String()
}

func errExpected(k Kind) error { return fmt.Errorf("expected %s", expectation(k)) }

// addFlag registers the value as a flag of fs.
func (v Value) addFlag(fs *pflag.FlagSet, name, usage string) {
	switch p := v.target.(type) {
	case *string:
		fs.StringVar(p, name, v.def.(string), usage)
	case *bool:
		fs.BoolVar(p, name, v.def.(bool), usage)
	case *int:
		fs.IntVar(p, name, v.def.(int), usage)
	case *[]string:
		def, _ := v.def.([]string)
		fs.StringSliceVar(p, name, slices.Clone(def), usage)
	case *time.Duration:
		fs.DurationVar(p, name, v.def.(time.Duration), usage)
	}
}

// SnapshotUse says how an option goes with --snapshot, the analysis of a
// saved inventory instead of a scan.
type SnapshotUse int

const (
	// SnapshotUsed: the option applies to the analysis of a snapshot too
	// (reports, exit codes, logging).
	SnapshotUsed SnapshotUse = iota
	// SnapshotRefused: the option says what to collect; set from any
	// source together with a snapshot it is an error, because a snapshot is
	// analysed as it was collected.
	SnapshotRefused
	// SnapshotIgnored: the option tunes a live scan (concurrency, retries)
	// and has no effect on a snapshot.
	SnapshotIgnored
)

func (u SnapshotUse) String() string {
	switch u {
	case SnapshotUsed:
		return "yes"
	case SnapshotRefused:
		return "no"
	case SnapshotIgnored:
		return "ignored"
	}
	return "?"
}

// Option is one setting of a command: its flag --NAME, its environment
// variable PREFIX_NAME and its key NAME in the configuration file all come
// from this one definition.
type Option struct {
	// Name is the flag name and the file key: lower case words joined by
	// hyphens ("role-name").
	Name string
	// Value binds the option to its variable, with its default.
	Value Value
	// Meta is the placeholder the documentation shows after the flag
	// ("NAME" in --role-name NAME); empty for booleans.
	Meta string
	// Help is one line: the flag's usage and the comment in printed
	// configurations.
	Help string
	// Doc is the README's description when it says more than Help
	// (Markdown, one line); empty means Help.
	Doc string
	// Snapshot says how the option goes with --snapshot.
	Snapshot SnapshotUse
	// Sensitive values are never shown: not in errors, not in printed
	// configurations.
	Sensitive bool
	// Check, when set, validates the effective value (read from the bound
	// variable) after all sources are applied. Its error says what is
	// wrong; the caller's source (flag, variable or file and line) and the
	// value are put before it.
	Check func() error
}

// Description is Doc, else Help.
func (o *Option) Description() string {
	if o.Doc != "" {
		return o.Doc
	}
	return o.Help
}

// Section is a top-level key of the configuration file that is not an
// option but a block another package decodes (a list of suppressions).
type Section struct {
	// Name is the key.
	Name string
	// Help says what the block holds (for printed configurations).
	Help string
	// Decode reads the block; file names the configuration file for its
	// errors, which should name the file and the line (n.Line). It keeps
	// what it decodes where its caller can find it.
	Decode func(file string, n *yaml.Node) error
}

// Reserved is a key (and, for an option, an environment variable) that a
// later version of the command defines: the file and the environment
// refuse it with "not supported yet" rather than ignoring it.
type Reserved struct {
	// Name is the key.
	Name string
	// Option: the key will be an option, so PREFIX_NAME is reserved too.
	Option bool
	// What says what it will hold ("the findings.json of an earlier scan").
	What string
}

// Set is the options of a command and how to find its configuration file.
type Set struct {
	// EnvPrefix is put before an option's name, in upper case with hyphens
	// as underscores, to form its environment variable ("AUDIT_").
	EnvPrefix string
	// FileFlag is the flag that names the configuration file ("config");
	// EnvPrefix + FileFlag in upper case is its environment variable.
	FileFlag string
	// DefaultFile is read from the working directory when neither the flag
	// nor the variable names a file, if it exists ("audit.yaml").
	DefaultFile string
	// Options in the order they are documented and printed.
	Options []*Option
	// Sections are the keys whose blocks other packages decode.
	Sections []*Section
	// Reserved are keys of a later version.
	Reserved []Reserved

	// flags are the flags AddFlags registered: only they set options (a
	// command may have a flag of its own with an option's name).
	flags map[*pflag.Flag]bool
}

// Lookup returns the option named name, or nil.
func (s *Set) Lookup(name string) *Option {
	for _, o := range s.Options {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// EnvVar is the environment variable of an option named name.
func (s *Set) EnvVar(name string) string {
	return s.EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// FileEnvVar is the environment variable that names the configuration file.
func (s *Set) FileEnvVar() string { return s.EnvVar(s.FileFlag) }

// AddFlags registers the named options (all when none are named) as flags
// of fs, with their defaults.
func (s *Set) AddFlags(fs *pflag.FlagSet, names ...string) {
	if s.flags == nil {
		s.flags = map[*pflag.Flag]bool{}
	}
	for _, o := range s.Options {
		if len(names) == 0 || slices.Contains(names, o.Name) {
			o.Value.addFlag(fs, o.Name, o.Help)
			s.flags[fs.Lookup(o.Name)] = true
		}
	}
}

// AddFileFlag registers the flag that names the configuration file.
func (s *Set) AddFileFlag(fs *pflag.FlagSet) {
	fs.String(s.FileFlag, "", fmt.Sprintf("configuration file (default ./%s when it exists; also %s; '' for none)", s.DefaultFile, s.FileEnvVar()))
}

// SetDefault changes the default of the option named name (a command that
// shares the option but defaults otherwise). def must be of the option's
// type; call it before AddFlags.
func (s *Set) SetDefault(name string, def any) error {
	o := s.Lookup(name)
	if o == nil {
		return fmt.Errorf("config: no option %q", name)
	}
	nv := o.Value
	nv.def = def
	if !nv.valid() {
		return fmt.Errorf("config: default %v (%T) of option %q: not a %v", def, def, name, o.Value.kind)
	}
	if l, ok := def.([]string); ok {
		nv.def = slices.Clone(l)
	}
	o.Value = nv
	return nil
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// Validate checks the definitions themselves: names well formed and used
// once (options, sections, reserved keys and the file flag together),
// values bound to a variable of their kind, one-line help. A test of the
// command calls it.
func (s *Set) Validate() error {
	var errs []string
	seen := map[string]bool{}
	name := func(what, n string) {
		if !nameRE.MatchString(n) {
			errs = append(errs, fmt.Sprintf("%s %q: not lower-case words joined by hyphens", what, n))
		}
		if seen[n] {
			errs = append(errs, fmt.Sprintf("%s %q: the name is used twice", what, n))
		}
		seen[n] = true
	}
	if s.EnvPrefix == "" || s.EnvPrefix != strings.ToUpper(s.EnvPrefix) {
		errs = append(errs, fmt.Sprintf("environment prefix %q: empty or not upper case", s.EnvPrefix))
	}
	if s.DefaultFile == "" {
		errs = append(errs, "no default file name")
	}
	name("file flag", s.FileFlag)
	for _, o := range s.Options {
		name("option", o.Name)
		if !o.Value.valid() {
			errs = append(errs, fmt.Sprintf("option %q: value not bound to a variable of its kind", o.Name))
		}
		if o.Help == "" || strings.Contains(o.Help, "\n") {
			errs = append(errs, fmt.Sprintf("option %q: help must be one line", o.Name))
		}
		if strings.ContainsAny(o.Description(), "|\n") {
			errs = append(errs, fmt.Sprintf("option %q: description must be one line without |", o.Name))
		}
		if o.Meta == "" && o.Value.kind != KindBool {
			errs = append(errs, fmt.Sprintf("option %q: no placeholder (Meta)", o.Name))
		}
	}
	for _, sec := range s.Sections {
		name("section", sec.Name)
		if sec.Decode == nil {
			errs = append(errs, fmt.Sprintf("section %q: no decoder (reserve the key instead)", sec.Name))
		}
	}
	for _, r := range s.Reserved {
		name("reserved key", r.Name)
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %s", strings.Join(errs, "; "))
	}
	return nil
}
