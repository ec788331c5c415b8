package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// SourceKind says where a value came from.
type SourceKind int

// The sources of a value, weakest first: a flag overrides the environment,
// which overrides the file, which overrides the default.
const (
	FromDefault SourceKind = iota
	FromFile
	FromEnv
	FromFlag
)

func (k SourceKind) String() string {
	switch k {
	case FromFile:
		return "file"
	case FromEnv:
		return "env"
	case FromFlag:
		return "flag"
	}
	return "default"
}

// Source is where one value came from.
type Source struct {
	Kind SourceKind
	// File and Line (of the key) for FromFile.
	File string
	Line int
	// Var is the environment variable, for FromEnv.
	Var string
	// Flag is the flag ("--role-name"), for FromFlag.
	Flag string
	// items are the lines of a list's items, for a YAML sequence.
	items map[string]int
}

// String is the source as config print shows it: "default",
// "audit.yaml:4", "env AUDIT_ROLE_NAME" or "flag --role-name".
func (s Source) String() string {
	switch s.Kind {
	case FromFile:
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	case FromEnv:
		return "env " + s.Var
	case FromFlag:
		return "flag " + s.Flag
	}
	return "default"
}

// Resolved is the effective configuration: every option's variable holds
// its value, and Resolved knows where each came from.
type Resolved struct {
	set *Set
	// File is the configuration file read ("" for none).
	File string
	// FoundBy says how File was found: the flag ("--config"), the variable
	// ("AUDIT_CONFIG") or "" for the default name in the working directory.
	FoundBy  string
	sources  map[*Option]Source
	sections []foundSection
}

// foundSection is a section block of the file.
type foundSection struct {
	sec  *Section
	key  *yaml.Node
	node *yaml.Node
}

// Source returns where the value of o came from.
func (r *Resolved) Source(o *Option) Source { return r.sources[o] }

// Where names where the value of o was set, to begin an error message:
// "--role-name", "AUDIT_ROLE_NAME" or "audit.yaml:4: role-name".
func (r *Resolved) Where(o *Option) string { return r.where(o, "") }

// WhereItem is Where for one item of a list: a YAML sequence's item is
// named by its own line.
func (r *Resolved) WhereItem(o *Option, item string) string { return r.where(o, item) }

func (r *Resolved) where(o *Option, item string) string {
	src := r.sources[o]
	switch src.Kind {
	case FromFile:
		line := src.Line
		if l, ok := src.items[item]; ok && item != "" {
			line = l
		}
		return fmt.Sprintf("%s:%d: %s", src.File, line, o.Name)
	case FromEnv:
		return src.Var
	}
	return "--" + o.Name
}

// Problem is an error about the value of o: where it was set, the value
// (quoted, unless it is empty or o is sensitive) and the reason. For a
// list, value is the offending item.
func (r *Resolved) Problem(o *Option, value, reason string) error {
	where := r.where(o, value)
	if value == "" || o.Sensitive {
		return fmt.Errorf("%s: %s", where, reason)
	}
	return fmt.Errorf("%s %q: %s", where, value, reason)
}

// staged is a value read from the file or the environment, not applied yet.
type staged struct {
	val any
	src Source
}

// Load resolves every option from its sources. fs holds the parsed flags
// (the file flag too, if registered); lookupEnv is os.LookupEnv or a
// test's. The configuration file is the one named by the file flag, else by
// its environment variable, else DefaultFile in the working directory if it
// exists; an empty name means none. An empty environment variable counts
// as unset.
//
// Every error names its source: the file and line with the key, the
// variable, or the flag. Errors of the file and of the environment are all
// reported together (joined); the options' Checks run only when those are
// clean. On error nothing is returned; the variables may hold a mix.
func (s *Set) Load(flags *pflag.FlagSet, lookupEnv func(string) (string, bool)) (*Resolved, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	r := &Resolved{set: s, sources: map[*Option]Source{}}
	var errs []error

	fromFile := map[*Option]staged{}
	path, foundBy, required := s.locate(flags, lookupEnv)
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			r.File, r.FoundBy = path, foundBy
			var ferrs []error
			fromFile, r.sections, ferrs = s.parseFile(path, data)
			errs = append(errs, ferrs...)
		case !required && errors.Is(err, fs.ErrNotExist):
			// No ./audit.yaml: no file.
		default:
			return nil, fileError(path, foundBy, err)
		}
	}

	fromEnv := map[*Option]staged{}
	for _, o := range s.Options {
		name := s.EnvVar(o.Name)
		v, ok := lookupEnv(name)
		if !ok || v == "" {
			continue
		}
		x, err := o.Value.parseText(v)
		if err != nil {
			if o.Sensitive {
				errs = append(errs, fmt.Errorf("%s: %v", name, err))
			} else {
				errs = append(errs, fmt.Errorf("%s %q: %v", name, v, err))
			}
			continue
		}
		fromEnv[o] = staged{x, Source{Kind: FromEnv, Var: name}}
	}
	for _, res := range s.Reserved {
		name := s.EnvVar(res.Name)
		if v, ok := lookupEnv(name); ok && v != "" && res.Option {
			errs = append(errs, fmt.Errorf("%s: %s", name, notYet(res)))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	for _, o := range s.Options {
		if f := flagOf(flags, o.Name); f != nil && f.Changed && s.flags[f] {
			r.sources[o] = Source{Kind: FromFlag, Flag: "--" + o.Name}
			continue
		}
		if st, ok := fromEnv[o]; ok {
			o.Value.set(st.val)
			r.sources[o] = st.src
			continue
		}
		if st, ok := fromFile[o]; ok {
			o.Value.set(st.val)
			r.sources[o] = st.src
			continue
		}
		o.Value.set(o.Value.Default())
		r.sources[o] = Source{Kind: FromDefault}
	}

	for _, o := range s.Options {
		if o.Check == nil {
			continue
		}
		if err := o.Check(); err != nil {
			errs = append(errs, r.Problem(o, Text(o.Value.kind, o.Value.get()), err.Error()))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

func flagOf(flags *pflag.FlagSet, name string) *pflag.Flag {
	if flags == nil {
		return nil
	}
	return flags.Lookup(name)
}

// locate finds the configuration file: its path ("" for none), how it was
// named, and whether it must exist.
func (s *Set) locate(flags *pflag.FlagSet, lookupEnv func(string) (string, bool)) (path, foundBy string, required bool) {
	if f := flagOf(flags, s.FileFlag); f != nil && f.Changed {
		return f.Value.String(), "--" + s.FileFlag, true
	}
	if v, ok := lookupEnv(s.FileEnvVar()); ok && v != "" {
		return v, s.FileEnvVar(), true
	}
	return s.DefaultFile, "", false
}

// fileError says why the configuration file cannot be read.
func fileError(path, foundBy string, err error) error {
	reason := err.Error()
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		reason = "no such file"
	case errors.As(err, &pe):
		reason = "cannot read it: " + pe.Err.Error()
	}
	if foundBy == "" {
		return fmt.Errorf("%s: %s", path, reason)
	}
	return fmt.Errorf("%s %s: %s", foundBy, path, reason)
}

func notYet(r Reserved) string {
	s := "not supported yet by this version of audit"
	if r.What != "" {
		s += " (it will hold " + r.What + ")"
	}
	return s
}

// parseFile reads the options and sections of a configuration file.
func (s *Set) parseFile(path string, data []byte) (map[*Option]staged, []foundSection, []error) {
	root, err := parseYAML(path, data)
	if err != nil {
		return nil, nil, []error{err}
	}
	vals := map[*Option]staged{}
	var secs []foundSection
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, args...)))
	}
	if root == nil {
		return vals, nil, nil
	}
	if root.Kind != yaml.MappingNode {
		fail(root.Line, "expected a mapping of option names to values, got %s", describe(root))
		return nil, nil, errs
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], deref(root.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			fail(k.Line, "expected an option name as key, got %s", describe(k))
			continue
		}
		name := k.Value
		if first, dup := seen[name]; dup {
			fail(k.Line, "%s: duplicate key (first set at line %d)", quoteKey(name), first)
			continue
		}
		seen[name] = k.Line
		if o := s.Lookup(name); o != nil {
			x, items, lerr := o.Value.decode(v)
			if lerr != nil {
				fail(lerr.line, "%s: %s", name, lerr.msg)
				continue
			}
			vals[o] = staged{x, Source{Kind: FromFile, File: path, Line: k.Line, items: items}}
			continue
		}
		if sec := s.section(name); sec != nil {
			if err := sec.Decode(path, v); err != nil {
				errs = append(errs, err)
				continue
			}
			secs = append(secs, foundSection{sec, k, v})
			continue
		}
		if res, ok := s.reserved(name); ok {
			fail(k.Line, "%s: %s", name, notYet(res))
			continue
		}
		msg := fmt.Sprintf("unknown key %s", quoteKey(name))
		if near := s.suggest(name); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		} else {
			msg += " (audit config print lists every key)"
		}
		fail(k.Line, "%s", msg)
	}
	return vals, secs, errs
}

// quoteKey quotes a key for a message when it is not a plain name.
func quoteKey(name string) string {
	if nameRE.MatchString(name) {
		return name
	}
	return fmt.Sprintf("%q", name)
}

func (s *Set) section(name string) *Section {
	for _, sec := range s.Sections {
		if sec.Name == name {
			return sec
		}
	}
	return nil
}

func (s *Set) reserved(name string) (Reserved, bool) {
	for _, r := range s.Reserved {
		if r.Name == name {
			return r, true
		}
	}
	return Reserved{}, false
}

// suggest returns the option or section name closest to a mistyped key
// (role_name, roleName, rol-name), or "".
func (s *Set) suggest(name string) string {
	norm := func(x string) string {
		return strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(x))
	}
	var names []string
	for _, o := range s.Options {
		names = append(names, o.Name)
	}
	for _, sec := range s.Sections {
		names = append(names, sec.Name)
	}
	for _, n := range names {
		if norm(n) == norm(name) {
			return n
		}
	}
	best, bestD := "", 3
	if len(name) < 4 {
		bestD = 2
	}
	for _, n := range names {
		if d := distance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b (bytes), up to a
// bound: long strings are not compared.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// deref follows an alias to its anchored node.
func deref(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// describe names what a node is, for "got ..." in a message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "no value"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// lineError is a problem with a value at a line of the file.
type lineError struct {
	line int
	msg  string
}

// decode reads a value of the kind from a YAML node. A list's items are
// returned with their lines.
func (v Value) decode(n *yaml.Node) (any, map[string]int, *lineError) {
	bad := func(n *yaml.Node) *lineError {
		msg := fmt.Sprintf("expected %s, got %s", expectation(v.kind), describe(n))
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
			msg += " (remove the key to keep the default"
			if v.kind == KindString {
				msg += `, or write "" for empty`
			}
			msg += ")"
		}
		return &lineError{n.Line, msg}
	}
	isNull := n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
	if n.Kind != yaml.ScalarNode && !(v.kind == KindList && n.Kind == yaml.SequenceNode) || isNull {
		return nil, nil, bad(n)
	}
	switch v.kind {
	case KindString:
		// Any scalar is text as written: an unquoted 012345678901 keeps
		// its leading zero.
		return n.Value, nil, nil
	case KindBool:
		var b bool
		if n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			return nil, nil, bad(n)
		}
		return b, nil, nil
	case KindInt:
		var i int
		if n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			return nil, nil, bad(n)
		}
		return i, nil, nil
	case KindDuration:
		if n.ShortTag() != "!!str" {
			return nil, nil, bad(n)
		}
		d, err := time.ParseDuration(strings.TrimSpace(n.Value))
		if err != nil {
			return nil, nil, bad(n)
		}
		return d, nil, nil
	case KindList:
		if n.Kind == yaml.ScalarNode {
			items := splitList(n.Value)
			lines := map[string]int{}
			for _, it := range items {
				lines[it] = n.Line
			}
			return items, lines, nil
		}
		items := []string{}
		lines := map[string]int{}
		for _, it := range n.Content {
			it = deref(it)
			if it.Kind != yaml.ScalarNode || it.ShortTag() == "!!null" {
				return nil, nil, &lineError{it.Line, fmt.Sprintf("expected a string as list item, got %s", describe(it))}
			}
			items = append(items, it.Value)
			if _, ok := lines[it.Value]; !ok {
				lines[it.Value] = it.Line
			}
		}
		return items, lines, nil
	}
	return nil, nil, &lineError{n.Line, "unsupported kind " + v.kind.String()}
}
