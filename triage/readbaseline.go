package triage

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// ReadBaseline is ParseBaseline for the findings.json of size bytes in
// r, read as a stream: a baseline of thousands of accounts is gigabytes,
// and ParseBaseline needs it whole in memory. The findings and roles are
// decoded one at a time into what a comparison keeps of them.
//
// The stream takes the way a findings.json written by audit is made:
// one object whose fields are spelt as audit spells them, each once, and
// valid JSON to its end. Anything else (malformed JSON, a value of
// another type, a field spelt in another case or given twice, data after
// the object) is read again, whole, by ParseBaseline, so that the
// Baseline and every error are ParseBaseline's.
func ReadBaseline(r io.ReaderAt, size int64) (*Baseline, error) {
	if doc, ok := streamBaselineDoc(io.NewSectionReader(r, 0, size)); ok {
		return doc.baseline()
	}
	data, err := io.ReadAll(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, err
	}
	return ParseBaseline(data)
}

// baselineFields are the JSON names of baselineDoc's fields.
var baselineFields = []string{"schemaVersion", "format", "runs", "version", "tool", "generatedAt", "findings", "roles"}

// streamBaselineDoc decodes what ParseBaseline decodes with
// encoding/json, field by field and element by element; false where the
// document does not take the way ReadBaseline streams.
func streamBaselineDoc(r io.Reader) (*baselineDoc, bool) {
	br := bufio.NewReaderSize(r, 256<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	dec := json.NewDecoder(br)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	doc := &baselineDoc{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := tok.(string)
		field := ""
		for _, name := range baselineFields {
			// encoding/json matches a key to a field as bytes.EqualFold.
			if strings.EqualFold(key, name) {
				field = name
			}
		}
		if field == "" {
			// A field ParseBaseline skips.
			if skipValue(dec, 0) != nil {
				return nil, false
			}
			continue
		}
		if field != key || seen[field] {
			return nil, false
		}
		seen[field] = true
		switch field {
		case "schemaVersion":
			err = dec.Decode(&doc.SchemaVersion)
		case "format":
			err = dec.Decode(&doc.Format)
		case "runs":
			err = dec.Decode(&doc.Runs)
		case "version":
			err = dec.Decode(&doc.Version)
		case "tool":
			err = dec.Decode(&doc.Tool)
		case "generatedAt":
			err = dec.Decode(&doc.GeneratedAt)
		case "findings":
			var list []pastFinding
			var null bool
			if list, null, err = decodeList[pastFinding](dec); err == nil && !null {
				doc.Findings = &list
			}
		case "roles":
			doc.Roles, _, err = decodeList[baselineRole](dec)
		}
		if err != nil {
			return nil, false
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	// Nothing but white space after the object.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	return doc, true
}

// decodeList decodes the list that comes next in dec one element at a
// time: null is no list (null true).
func decodeList[T any](dec *json.Decoder) (list []T, null bool, err error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, false, err
	}
	if tok == nil {
		return nil, true, nil
	}
	if tok != json.Delim('[') {
		return nil, false, errors.New("not a list")
	}
	list = []T{}
	for dec.More() {
		var x T
		if err := dec.Decode(&x); err != nil {
			return nil, false, err
		}
		list = append(list, x)
	}
	_, err = dec.Token()
	return list, false, err
}

// skipValue reads the value that comes next in dec and drops it; a list
// one element at a time. depth counts the lists it is in (encoding/json
// refuses more than 10,000 levels).
func skipValue(dec *json.Decoder, depth int) error {
	if depth > 10000 {
		return errors.New("too deep")
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('['):
		for dec.More() {
			if err := skipValue(dec, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('{'):
		for dec.More() {
			if _, err := dec.Token(); err != nil {
				return err
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}
