package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// LoadError says what is wrong with a snapshot file, naming the file and,
// where known, the field (a JSON path such as accounts[2].regions[0].name).
type LoadError struct {
	File  string
	Field string
	// Offset is the byte offset in the file (from 0) of the value, key or
	// enclosing object at fault; -1 when the error has no place in the
	// file (it cannot be read, or is empty).
	Offset int64
	Msg    string
}

func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "snapshot %s", e.File)
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " (byte %d)", e.Offset)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Options tune Load and Decode.
type Options struct {
	// PolicyCheck, when set, is applied to the document of every SCP and
	// RCP in organization.policies; an error makes the snapshot a load
	// error naming the document. The inventory package knows no policy
	// language (it imports only the standard library): the caller passes
	// the policy parser's check in (cmd/audit passes policy.Parse).
	PolicyCheck func(document string) error
}

// Load reads and validates a snapshot file.
func Load(path string) (*Inventory, error) { return LoadWith(path, Options{}) }

// LoadWith is Load with options.
func LoadWith(path string, opts Options) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &LoadError{File: path, Offset: -1, Msg: err.Error()}
	}
	return DecodeWith(data, path, opts)
}

// Decode parses and validates a snapshot held in memory; name is used in
// errors.
func Decode(data []byte, name string) (*Inventory, error) { return DecodeWith(data, name, Options{}) }

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// DecodeWith is Decode with options. A version 1 snapshot is read with the
// meaning version 1 documents and returned as version 2 (see
// docs/snapshot.md).
func DecodeWith(data []byte, name string, opts Options) (*Inventory, error) {
	inv, err := decode(data, opts)
	if err != nil {
		err.File = name
		return nil, err
	}
	return inv, nil
}

func decode(data []byte, opts Options) (*Inventory, *LoadError) {
	// A UTF-8 byte order mark (some editors write one) is accepted; offsets
	// still count from the start of the file.
	var base int64
	if bytes.HasPrefix(data, utf8BOM) {
		data, base = data[len(utf8BOM):], int64(len(utf8BOM))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &LoadError{Offset: -1, Msg: "file is empty"}
	}
	version, lerr := checkHeader(data, base)
	if lerr != nil {
		return nil, lerr
	}
	// The strict walk (duplicate keys, unknown fields, types, with path
	// and offset) and the decoding read the same bytes independently, so
	// they run at once, on two cores where there are two. The decoded
	// inventory is used only when the walk accepted the document, and a
	// walk error wins over whatever the decoder said: errors are those of
	// the walk alone.
	inv := new(Inventory)
	decoded := make(chan error, 1)
	go func() { decoded <- json.Unmarshal(data, inv) }()
	w := walker{data: data, base: base, version: version}
	ok := w.document(snapshotSchema())
	derr := <-decoded
	if !ok {
		return nil, w.err
	}
	if derr != nil {
		// The walk accepted the document, so this is not expected; say
		// what encoding/json said.
		return nil, &LoadError{Offset: -1, Msg: "cannot be decoded: " + strings.TrimPrefix(derr.Error(), "json: ")}
	}
	if version < 2 {
		// Version 1: a resolved secret without a resource policy and
		// without a collection error for it has none (docs/snapshot.md).
		inv.FillPolicyStatuses()
		inv.SchemaVersion = SchemaVersion
	}
	if err := inv.validate(true, version >= 2); err != nil {
		le, ok := err.(*LoadError)
		if !ok {
			le = &LoadError{Msg: err.Error()}
		}
		le.Offset = locate(data, base, version, le.Field)
		return nil, le
	}
	if opts.PolicyCheck != nil && inv.Organization != nil {
		for _, id := range slices.Sorted(maps.Keys(inv.Organization.Policies)) {
			if err := opts.PolicyCheck(inv.Organization.Policies[id].Document); err != nil {
				f := fmt.Sprintf("organization.policies[%q].document", id)
				return nil, &LoadError{Field: f, Offset: locate(data, base, version, f),
					Msg: "is not a valid policy document: " + err.Error()}
			}
		}
	}
	return inv, nil
}

// checkHeader checks format and schemaVersion and returns the version.
func checkHeader(data []byte, base int64) (int, *LoadError) {
	return checkHeaderOf(readHeader(data), base)
}

// checkHeaderOf is checkHeader on what readHeader found (positions count
// from base).
func checkHeaderOf(h header, base int64) (int, *LoadError) {
	at := func(p int) int64 { return base + int64(p) }
	root := at(h.rootAt) // a missing field: the enclosing object
	if h.dupField != "" {
		return 0, &LoadError{Field: h.dupField, Offset: at(h.dupAt), Msg: "duplicate key: the field appears more than once in the same object"}
	}
	if h.format == nil && h.complete {
		return 0, &LoadError{Field: "format", Offset: root, Msg: fmt.Sprintf("missing; expected %q", Format)}
	}
	if h.format != nil {
		var f string
		if json.Unmarshal(h.format, &f) != nil {
			return 0, &LoadError{Field: "format", Offset: at(h.formatAt), Msg: fmt.Sprintf("is not a string; expected %q", Format)}
		}
		if f != Format {
			if len(f) > 40 {
				f = f[:40] + "…"
			}
			return 0, &LoadError{Field: "format", Offset: at(h.formatAt), Msg: fmt.Sprintf("is %q; expected %q", f, Format)}
		}
	}
	if h.version == nil {
		if h.complete {
			return 0, &LoadError{Field: "schemaVersion", Offset: root, Msg: "missing"}
		}
		return SchemaVersion, nil // malformed JSON: the walk reports it
	}
	v, err := strconv.Atoi(string(h.version))
	if err != nil {
		return 0, &LoadError{Field: "schemaVersion", Offset: at(h.versionAt), Msg: "is not a whole number"}
	}
	if v < OldestSchemaVersion || v > SchemaVersion {
		return 0, &LoadError{Field: "schemaVersion", Offset: at(h.versionAt),
			Msg: fmt.Sprintf("version %d is not supported by this build (it reads versions %d to %d)", v, OldestSchemaVersion, SchemaVersion)}
	}
	return v, nil
}

// Save writes the inventory atomically (temporary file in the same
// directory, then rename).
// It first records the effective resource-policy status of every resolved
// resource that has none (FillPolicyStatuses), so that the file is a
// complete version 2 snapshot.
func Save(path string, inv *Inventory) error {
	inv.FillPolicyStatuses()
	return WriteFileAtomic(path, func(w io.Writer) error { return Write(w, inv) })
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
// the inventory. (Decode has checked the fields and types already.)
func (e *EnvVar) UnmarshalJSON(b []byte) error { return unmarshalForm(b, e) }

// envVarJSON is the JSON of an environment variable, either form.
type envVarJSON struct {
	Name        string  `json:"name"`
	Value       *string `json:"value"`
	ValueClass  string  `json:"valueClass"`
	ValueLength int     `json:"valueLength"`
}

func (e *EnvVar) jsonForm() any { return new(envVarJSON) }

func (e *EnvVar) fromJSONForm(form any) {
	raw := form.(*envVarJSON)
	*e = EnvVar{Name: raw.Name, ValueClass: raw.ValueClass, ValueLength: raw.ValueLength}
	if raw.Value != nil {
		e.ValueClass = ClassifyValue(*raw.Value)
		e.ValueLength = len(*raw.Value)
	}
}

// UnmarshalJSON redacts log options as collection does (RedactOptions).
func (l *LogConfiguration) UnmarshalJSON(b []byte) error { return unmarshalForm(b, l) }

type logConfigurationJSON LogConfiguration

func (l *LogConfiguration) jsonForm() any { return new(logConfigurationJSON) }

func (l *LogConfiguration) fromJSONForm(form any) {
	*l = LogConfiguration(*form.(*logConfigurationJSON))
	l.Options = RedactOptions(l.Options)
}

// UnmarshalJSON redacts FireLens options as collection does
// (RedactOptions): they are free-form and can carry credentials just like
// log options.
func (f *FirelensConfiguration) UnmarshalJSON(b []byte) error { return unmarshalForm(b, f) }

type firelensConfigurationJSON FirelensConfiguration

func (f *FirelensConfiguration) jsonForm() any { return new(firelensConfigurationJSON) }

func (f *FirelensConfiguration) fromJSONForm(form any) {
	*f = FirelensConfiguration(*form.(*firelensConfigurationJSON))
	f.Options = RedactOptions(f.Options)
}

// UnmarshalJSON applies RedactValueFrom to a loaded secrets[] or
// secretOptions[] entry.
func (r *SecretRef) UnmarshalJSON(b []byte) error { return unmarshalForm(b, r) }

type secretRefJSON SecretRef

func (r *SecretRef) jsonForm() any { return new(secretRefJSON) }

func (r *SecretRef) fromJSONForm(form any) {
	*r = SecretRef(*form.(*secretRefJSON))
	r.ValueFrom = RedactValueFrom(r.ValueFrom)
}

// jsonFormed is a snapshot type whose JSON is decoded into another form
// (jsonForm: a pointer to a zero value of it) that is then made into the
// type (fromJSONForm): the redactions above, and EnvVar's two forms. Its
// UnmarshalJSON is unmarshalForm, and decodeWalked does the same with its
// own decoding of the form.
type jsonFormed interface {
	jsonForm() any
	fromJSONForm(form any)
}

func unmarshalForm(b []byte, x jsonFormed) error {
	form := x.jsonForm()
	if err := json.Unmarshal(b, form); err != nil {
		return err
	}
	x.fromJSONForm(form)
	return nil
}
