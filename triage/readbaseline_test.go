package triage

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// ReadBaseline reads what ParseBaseline reads, a findings.json written by
// audit as a stream (without reading it whole again): the same Baseline.
func TestReadBaselineStreams(t *testing.T) {
	v1 := readFile(t, "testdata/findings-v1.json")
	for name, data := range map[string][]byte{
		"version 1":       v1,
		"version 2":       readFile(t, "../report/testdata/findings.json.golden"),
		"byte order mark": append([]byte("\xef\xbb\xbf"), v1...),
		"unknown fields, null roles": []byte(`{"schemaVersion": 2, "extra": [[1, {"a": [2]}], "x"], "tool": {"name": "audit", "version": "1"},
			"generatedAt": "2025-01-01T00:00:00Z", "roles": null, "findings": [{"id": "x", "severity": "low", "memberIds": ["y"], "other": {}}]}  ` + "\n"),
	} {
		t.Run(name, func(t *testing.T) {
			want, err := ParseBaseline(data)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := streamBaselineDoc(bytes.NewReader(data)); !ok {
				t.Fatal("not streamed: read again whole")
			}
			got, err := ReadBaseline(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ReadBaseline:\n%+v\nParseBaseline:\n%+v", got, want)
			}
			if len(want.Findings) == 0 {
				t.Error("no findings: the test checks little")
			}
		})
	}
	// What the stream leaves to ParseBaseline: read whole, the same result
	// (findings null is streamed, and missing as for ParseBaseline).
	for name, data := range map[string]string{
		"another case":  strings.Replace(string(v1), `"findings"`, `"FINDINGS"`, 1),
		"twice":         strings.Replace(string(v1), `"schemaVersion": 1,`, `"schemaVersion": 2, "schemaVersion": 1,`, 1),
		"findings null": `{"schemaVersion": 1, "findings": null}`,
	} {
		if _, ok := streamBaselineDoc(strings.NewReader(data)); ok && name != "findings null" {
			t.Errorf("%s: streamed", name)
		}
		want, werr := ParseBaseline([]byte(data))
		got, gerr := ReadBaseline(strings.NewReader(data), int64(len(data)))
		if !reflect.DeepEqual(got, want) || (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Errorf("%s: ReadBaseline %v, %v; ParseBaseline %v, %v", name, got, gerr, want, werr)
		}
	}
}

// ReadBaseline and ParseBaseline agree on every input: the same Baseline
// or the same error.
func FuzzReadBaseline(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":1,"tool":{"name":"audit"},"generatedAt":"2025-01-01T00:00:00Z","findings":[{"id":"x","severity":"low","memberIds":["y"]}],"roles":[{"roleArn":"r","usedBy":["t"]}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"format":"audit-inventory"}`))
	f.Add([]byte("\xef\xbb\xbf {\"x\": [[], {}], \"findings\": [], \"Tool\": null} "))
	f.Fuzz(func(t *testing.T, data []byte) {
		want, werr := ParseBaseline(data)
		got, gerr := ReadBaseline(bytes.NewReader(data), int64(len(data)))
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Fatalf("errors: ReadBaseline %v, ParseBaseline %v", gerr, werr)
		}
		if werr != nil && !errors.As(gerr, new(*BaselineError)) {
			t.Fatalf("%T %v", gerr, gerr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ReadBaseline:\n%+v\nParseBaseline:\n%+v", got, want)
		}
	})
}
