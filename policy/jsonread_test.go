package policy

import (
	"reflect"
	"testing"
)

// jsonReadCases are documents readJSONFast reads itself (fast) or leaves
// to readJSONTokens; either way readJSON gives readJSONTokens' answer.
var jsonReadCases = []struct {
	name, doc string
	fast      bool
}{
	{"policy", `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:GetObject","kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"x"},"NumericLessThan":{"s3:max-keys":10}}}]}`, true},
	{"whitespace", " {\n\t\"Version\" : \"2012-10-17\" ,\r\n \"Statement\" : [ ] } ", true},
	{"empty", `{}`, true},
	{"literals", `{"a":true,"b":false,"c":null}`, true},
	{"numbers", `{"a":[0,-0,1.5,-2e10,3E+2,4e-3,12345678901234567890]}`, true},
	{"escapes", `{"a":"x\"y\\z\/\b\f\n\r\t\u00e9\ud83d\ude00"}`, true},
	{"utf-8", `{"a":"é ✓"}`, true},
	{"invalid utf-8", "{\"a\":\"\xff\"}", true},
	{"duplicate", `{"a":1,"b":2,"a":3,"b":4}`, true},
	{"nested duplicate", `{"a":{"x":1,"x":2}}`, true},
	{"leading zero", `{"a":01}`, false},
	{"bare minus", `{"a":-}`, false},
	{"fraction without digits", `{"a":1.}`, false},
	{"exponent without digits", `{"a":1e}`, false},
	{"plus", `{"a":+1}`, false},
	{"trailing comma", `{"a":1,}`, false},
	{"trailing comma in a list", `{"a":[1,]}`, false},
	{"trailing data", `{"a":1}{}`, false},
	{"trailing garbage", `{"a":1} x`, false},
	{"truncated", `{"a":[1,2`, false},
	{"unquoted key", `{a:1}`, false},
	{"single quotes", `{'a':1}`, false},
	{"control character", "{\"a\":\"x\ny\"}", false},
	{"bad escape", `{"a":"\x"}`, false},
	{"short unicode escape", `{"a":"\u12"}`, false},
	{"bad literal", `{"a":tru}`, false},
	{"missing colon", `{"a" 1}`, false},
	{"deep", `{"a":` + deep(100) + `}`, false},
}

func deep(n int) string {
	s := "1"
	for range n {
		s = "[" + s + "]"
	}
	return s
}

// readAgrees checks that readJSON gives readJSONTokens' tree or error.
func readAgrees(t *testing.T, doc []byte) {
	t.Helper()
	got, gerr := readJSON(doc)
	want, werr := readJSONTokens(doc)
	if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
		t.Fatalf("error %v, readJSONTokens' %v", gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tree %+v, readJSONTokens' %+v", got, want)
	}
}

func TestReadJSONFast(t *testing.T) {
	for _, tc := range jsonReadCases {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := readJSONFast([]byte(tc.doc)); ok != tc.fast {
				t.Errorf("read by readJSONFast: %v, want %v", ok, tc.fast)
			}
			readAgrees(t, []byte(tc.doc))
		})
	}
}

// FuzzReadJSON: whatever the bytes, readJSON gives readJSONTokens' tree
// or error.
func FuzzReadJSON(f *testing.F) {
	for _, tc := range jsonReadCases {
		f.Add([]byte(tc.doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		readAgrees(t, doc)
	})
}
