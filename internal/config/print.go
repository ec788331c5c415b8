package config

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// WriteYAML writes the effective configuration as a configuration file
// that gives the same values: every option with its value, and its source
// as a comment on its line ("# default", "# audit.yaml:4", "# env
// AUDIT_ROLE_NAME", "# flag --role-name"); then the sections read from the
// file. header is written first as comment lines. A sensitive option that
// is set is not written: a comment says where it was set.
func (r *Resolved) WriteYAML(w io.Writer, header string) error {
	m := &yaml.Node{Kind: yaml.MappingNode}
	var hidden []string
	for _, o := range r.set.Options {
		src := r.sources[o]
		if r.hidden(o) {
			hidden = append(hidden, fmt.Sprintf("%s: hidden, set by %s", o.Name, src))
			continue
		}
		k := scalar(o.Name)
		if len(hidden) > 0 {
			k.HeadComment = strings.Join(hidden, "\n")
			hidden = nil
		}
		v := valueNode(o.Value.kind, o.Value.get())
		v.LineComment = src.String()
		m.Content = append(m.Content, k, v)
	}
	for _, fs := range r.sections {
		k := scalar(fs.sec.Name)
		k.LineComment = fmt.Sprintf("%s:%d", r.File, fs.key.Line)
		if len(hidden) > 0 {
			k.HeadComment = strings.Join(hidden, "\n")
			hidden = nil
		}
		v := *fs.node
		v.HeadComment, v.LineComment, v.FootComment = "", "", ""
		m.Content = append(m.Content, k, &v)
	}
	if len(hidden) > 0 {
		m.FootComment = strings.Join(hidden, "\n")
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{m}, HeadComment: strings.TrimRight(header, "\n")}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

// hidden says whether o's value is set and must not be shown.
func (r *Resolved) hidden(o *Option) bool {
	return o.Sensitive && Text(o.Value.kind, o.Value.get()) != ""
}

func scalar(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// valueNode renders a value; lists in flow style ([a, b]).
func valueNode(k Kind, x any) *yaml.Node {
	n := &yaml.Node{}
	switch k {
	case KindList:
		l, _ := x.([]string)
		n.Kind, n.Tag, n.Style = yaml.SequenceNode, "!!seq", yaml.FlowStyle
		for _, it := range l {
			c := &yaml.Node{}
			_ = c.Encode(it)
			n.Content = append(n.Content, c)
		}
		return n
	case KindDuration:
		d, _ := x.(time.Duration)
		x = d.String()
	}
	_ = n.Encode(x)
	return n
}

// JSON is the effective configuration as config print --format json
// writes it.
type JSON struct {
	// ConfigFile is the configuration file read ("" for none).
	ConfigFile string       `json:"configFile"`
	Options    []JSONOption `json:"options"`
	// Sections are the blocks read from the file, as JSON values.
	Sections []JSONSection `json:"sections,omitempty"`
}

// JSONOption is one option's effective value and source.
type JSONOption struct {
	Name string `json:"name"`
	// Value is a string, boolean, number, list of strings or, for a
	// duration, a string such as "1m30s"; null when Hidden.
	Value  any        `json:"value"`
	Hidden bool       `json:"hidden,omitempty"`
	Source JSONSource `json:"source"`
}

// JSONSource is where a value came from.
type JSONSource struct {
	// Kind is default, file, env or flag.
	Kind     string `json:"kind"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Variable string `json:"variable,omitempty"`
	Flag     string `json:"flag,omitempty"`
}

// JSONSection is a block of the file.
type JSONSection struct {
	Name   string     `json:"name"`
	Value  any        `json:"value"`
	Source JSONSource `json:"source"`
}

// JSON returns the effective configuration for JSON output.
func (r *Resolved) JSON() (*JSON, error) {
	out := &JSON{ConfigFile: r.File, Options: []JSONOption{}}
	for _, o := range r.set.Options {
		src := r.sources[o]
		jo := JSONOption{Name: o.Name, Source: jsonSource(src)}
		if r.hidden(o) {
			jo.Hidden = true
		} else {
			x := o.Value.get()
			switch v := x.(type) {
			case []string:
				if v == nil {
					x = []string{}
				}
			case time.Duration:
				x = v.String()
			}
			jo.Value = x
		}
		out.Options = append(out.Options, jo)
	}
	for _, fs := range r.sections {
		var v any
		if err := fs.node.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %v", r.File, fs.key.Line, fs.sec.Name, err)
		}
		out.Sections = append(out.Sections, JSONSection{Name: fs.sec.Name, Value: v,
			Source: JSONSource{Kind: "file", File: r.File, Line: fs.key.Line}})
	}
	return out, nil
}

// WriteJSON writes JSON() indented.
func (r *Resolved) WriteJSON(w io.Writer) error {
	j, err := r.JSON()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
}

func jsonSource(s Source) JSONSource {
	j := JSONSource{Kind: s.Kind.String()}
	switch s.Kind {
	case FromFile:
		j.File, j.Line = s.File, s.Line
	case FromEnv:
		j.Variable = s.Var
	case FromFlag:
		j.Flag = s.Flag
	}
	return j
}
