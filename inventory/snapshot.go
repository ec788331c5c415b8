package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// LoadError says what is wrong with a snapshot file, naming the file and,
// where known, the field (a JSON path such as accounts[2].regions[0].name).
type LoadError struct {
	File   string
	Field  string
	Offset int64 // byte offset, when known
	Msg    string
}

func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "snapshot %s", e.File)
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	if e.Offset > 0 {
		fmt.Fprintf(&b, " (byte %d)", e.Offset)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads and validates a snapshot file.
func Load(path string) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &LoadError{File: path, Msg: err.Error()}
	}
	return Decode(data, path)
}

// Decode parses and validates a snapshot held in memory; name is used in
// errors.
func Decode(data []byte, name string) (*Inventory, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &LoadError{File: name, Msg: "file is empty"}
	}
	// Check the header first, so that a file of another version gets a
	// version error rather than a field error.
	var head struct {
		Format        *string `json:"format"`
		SchemaVersion *int    `json:"schemaVersion"`
	}
	if err := json.Unmarshal(data, &head); err == nil {
		if head.Format == nil {
			return nil, &LoadError{File: name, Field: "format", Msg: fmt.Sprintf("missing; expected %q", Format)}
		}
		if *head.Format != Format {
			return nil, &LoadError{File: name, Field: "format", Msg: fmt.Sprintf("is %q; expected %q", *head.Format, Format)}
		}
		if head.SchemaVersion == nil {
			return nil, &LoadError{File: name, Field: "schemaVersion", Msg: "missing"}
		}
		if *head.SchemaVersion != SchemaVersion {
			return nil, &LoadError{File: name, Field: "schemaVersion", Msg: fmt.Sprintf("version %d is not supported by this build (it reads version %d)", *head.SchemaVersion, SchemaVersion)}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	inv := new(Inventory)
	if err := dec.Decode(inv); err != nil {
		return nil, jsonError(name, data, err)
	}
	if dec.More() {
		return nil, &LoadError{File: name, Offset: dec.InputOffset(), Msg: "unexpected data after the snapshot object"}
	}
	if err := inv.Validate(); err != nil {
		var le *LoadError
		if errors.As(err, &le) {
			le.File = name
			return nil, le
		}
		return nil, &LoadError{File: name, Msg: err.Error()}
	}
	return inv, nil
}

func jsonError(name string, data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &LoadError{File: name, Offset: int64(len(data)), Msg: "truncated: the JSON ends before the snapshot is complete"}
	case errors.As(err, &syn):
		msg := "malformed JSON: " + syn.Error()
		if syn.Offset >= int64(len(bytes.TrimRight(data, " \t\r\n"))) {
			msg = "truncated: the JSON ends before the snapshot is complete"
		}
		return &LoadError{File: name, Offset: syn.Offset, Msg: msg}
	case errors.As(err, &typ):
		return &LoadError{File: name, Field: typ.Field, Offset: typ.Offset, Msg: fmt.Sprintf("has a JSON %s where %s is expected", typ.Value, typeName(typ.Type.String()))}
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return &LoadError{File: name, Field: strings.Trim(f, `"`), Msg: "unknown field (not part of snapshot version 1)"}
	}
	var fe *fieldError
	if errors.As(err, &fe) {
		return &LoadError{File: name, Field: fe.field, Msg: fe.msg}
	}
	return &LoadError{File: name, Msg: msg}
}

func typeName(t string) string {
	switch {
	case strings.HasPrefix(t, "int"):
		return "a number"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map"), strings.HasPrefix(t, "*"), strings.Contains(t, "."):
		return "an object"
	}
	return t
}

type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

// Save writes the inventory atomically (temporary file in the same
// directory, then rename).
func Save(path string, inv *Inventory) error {
	return WriteFileAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(inv)
	})
}

// WriteFileAtomic writes a file through a temporary file in the same
// directory and renames it into place, so a reader never sees half a file.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// UnmarshalJSON accepts an environment variable as ECS returns it
// ({"name","value"}) or as a snapshot stores it ({"name","valueClass",
// "valueLength"}). A value is classified and then dropped: it never reaches
// the inventory.
func (e *EnvVar) UnmarshalJSON(b []byte) error {
	var raw struct {
		Name        *string `json:"name"`
		Value       *string `json:"value"`
		ValueClass  string  `json:"valueClass"`
		ValueLength int     `json:"valueLength"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	if raw.Name == nil {
		return &fieldError{field: "environment[].name", msg: "missing"}
	}
	*e = EnvVar{Name: *raw.Name, ValueClass: raw.ValueClass, ValueLength: raw.ValueLength}
	if raw.Value != nil {
		e.ValueClass = ClassifyValue(*raw.Value)
		e.ValueLength = len(*raw.Value)
	}
	return nil
}

// UnmarshalJSON redacts log options whose name suggests a credential.
func (l *LogConfiguration) UnmarshalJSON(b []byte) error {
	type plain LogConfiguration
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*l = LogConfiguration(p)
	l.Options = RedactOptions(l.Options)
	return nil
}

// UnmarshalJSON applies RedactValueFrom to a loaded secrets[] entry.
func (r *SecretRef) UnmarshalJSON(b []byte) error {
	type plain SecretRef
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*r = SecretRef(p)
	r.ValueFrom = RedactValueFrom(r.ValueFrom)
	return nil
}
