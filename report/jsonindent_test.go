package report

import (
	"bytes"
	"encoding/json"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// indentReference is what appendIndentJSON replaces: json.MarshalIndent's
// indentation, then EscapeHiddenJSON.
func indentReference(t testing.TB, compact []byte, prefix, indent string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, compact, prefix, indent); err != nil {
		t.Fatalf("json.Indent(%q): %v", compact, err)
	}
	return EscapeHiddenJSON(b.Bytes())
}

func TestAppendIndentJSON(t *testing.T) {
	type inner struct {
		S   string         `json:"s"`
		N   []int          `json:"n"`
		E   []string       `json:"e"`
		M   map[string]any `json:"m"`
		Raw json.RawMessage
	}
	values := []any{
		nil, true, 12.5, "", "plain", []int{}, map[string]int{}, []any{[]any{}, map[string]any{}},
		"a\"b\\c/\n\t\u2028<&>", "evil\u202Egnp", "\x7f", "tag\U000E0041s", "\u00a0nbsp", "Société 東京 🚀",
		map[string]string{"k\u2066": "v\u200B", "{[,:]}": "\"}]"},
		inner{S: "x,y:z", N: []int{1, -2, 3}, M: map[string]any{"deep": []any{map[string]any{}, []int{}, "\uFEFF"}},
			Raw: json.RawMessage(` { "a" : [ 1 , 2 ] , "b" : { } } `)},
		[]any{spoofPayloads, payloads},
	}
	for _, indent := range [][2]string{{"", "  "}, {"    ", "  "}, {sarifResultIndent, "  "}, {"\t", "\t"}} {
		for _, v := range values {
			compact, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			want := indentReference(t, compact, indent[0], indent[1])
			if got := appendIndentJSON(nil, compact, indent[0], indent[1]); !bytes.Equal(got, want) {
				t.Errorf("appendIndentJSON(%s, %q, %q) =\n%s\nwant\n%s", compact, indent[0], indent[1], got, want)
			}
			// The encoder gives what json.MarshalIndent and
			// EscapeHiddenJSON give.
			mi, err := json.MarshalIndent(v, indent[0], indent[1])
			if err != nil {
				t.Fatal(err)
			}
			got, err := newJSONEncoder().indent(v, indent[0], indent[1])
			if err != nil || !bytes.Equal(got, EscapeHiddenJSON(mi)) {
				t.Errorf("jsonEncoder.indent(%#v) =\n%s (%v)\nwant\n%s", v, got, err, EscapeHiddenJSON(mi))
			}
		}
	}
	// appendIndentJSON appends.
	if got := appendIndentJSON([]byte("x"), []byte(`[1]`), "", " "); string(got) != "x[\n 1\n]" {
		t.Errorf("appendIndentJSON appended %q", got)
	}
}

// FuzzAppendIndentJSON compares appendIndentJSON with json.Indent and
// EscapeHiddenJSON on any valid JSON, compacted as encoding/json writes it
// (run it with go test ./report -run '^$' -fuzz '^FuzzAppendIndentJSON$').
func FuzzAppendIndentJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,{"b":[]},"c\"d"]}`, `"\u202e"`, "\"\u202e\xff\"", `[{"":{}},[[]],null]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) {
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(s)); err != nil {
			t.Fatal(err)
		}
		want := indentReference(t, compact.Bytes(), "  ", "\t")
		if got := appendIndentJSON(nil, compact.Bytes(), "  ", "\t"); !bytes.Equal(got, want) {
			t.Fatalf("appendIndentJSON(%q) =\n%q\nwant\n%q", compact.Bytes(), got, want)
		}
	})
}

// TestEncodeErrorNamesElement: a value encoding/json cannot encode (a raw
// policy that is not JSON) fails findings.json and SARIF with the element
// it belongs to, and the writers' goroutines end (SARIF's gzip lanes are
// running by then: its limits are lowered).
func TestEncodeErrorNamesElement(t *testing.T) {
	withCatalog(t)
	oldG, oldH := sarifMaxGzipBytes, sarifGzipHeadroom
	sarifMaxGzipBytes, sarifGzipHeadroom = 100_000, 5_000
	t.Cleanup(func() { sarifMaxGzipBytes, sarifGzipHeadroom = oldG, oldH })
	bad := json.RawMessage(`{"Version":`)
	for _, tt := range []struct {
		name, format string
	}{{"finding", FormatJSON}, {"role", FormatJSON}, {"finding", FormatSARIF}} {
		t.Run(tt.format+" "+tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			res := bigResult(300)
			want := "finding " + res.Findings[250].ID
			res.Findings[250].Fix.SuggestedPolicy = bad
			if tt.name == "role" {
				res = sampleResult()
				r := &res.Roles[len(res.Roles)-1]
				r.LeastPrivilegePolicy = bad
				want = "role " + r.RoleARN
			}
			err := Render(io.Discard, res, tt.format, Options{})
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error = %v, want one naming %s", err, want)
			}
			for range 100 {
				if runtime.NumGoroutine() <= before {
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Errorf("%d goroutines left running", runtime.NumGoroutine()-before)
		})
	}
}
