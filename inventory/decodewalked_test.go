package inventory

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// demoAccounts are the accounts of the demo snapshot, as their bytes in
// the file.
func demoAccounts(t testing.TB) [][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "demo", "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Accounts []json.RawMessage `json:"accounts"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Accounts) == 0 {
		t.Fatal("no accounts in the demo snapshot")
	}
	out := make([][]byte, len(doc.Accounts))
	for i, a := range doc.Accounts {
		out[i] = a
	}
	return out
}

// decodeAgrees checks that decodeWalked gives what json.Unmarshal gives:
// the same account, or the same error.
func decodeAgrees(data []byte) error {
	var fast, ref Account
	ferr := decodeWalked(data, &fast)
	rerr := json.Unmarshal(data, &ref)
	if fmt.Sprint(ferr) != fmt.Sprint(rerr) {
		return fmt.Errorf("error %v, json.Unmarshal's %v", ferr, rerr)
	}
	if !reflect.DeepEqual(fast, ref) {
		return fmt.Errorf("decoded\n%+v\njson.Unmarshal decodes\n%+v", fast, ref)
	}
	return nil
}

// TestDecodeWalkedDemo: the demo's accounts are decoded by decodeWalked's
// own decoding (not left to json.Unmarshal) into what json.Unmarshal
// gives.
func TestDecodeWalkedDemo(t *testing.T) {
	for i, data := range demoAccounts(t) {
		var a Account
		if !decodeWalkedFast(data, &a) {
			t.Errorf("account %d was left to json.Unmarshal", i)
		}
		if err := decodeAgrees(data); err != nil {
			t.Errorf("account %d: %v", i, err)
		}
	}
}

// walkedCases are accounts decodeWalked reads itself or leaves to
// json.Unmarshal; either way the result is json.Unmarshal's.
var walkedCases = []struct {
	name string
	json string
	fast bool // decoded by decodeWalked's own decoding
}{
	{"empty", `{}`, true},
	{"fields", `{"id":"111122223333","name":"prod","email":"a@example.com","status":"ACTIVE"}`, true},
	{"whitespace", " \t\n{ \"id\" : \"1\" ,\r\n\"name\":\"x\" } \n", true},
	{"unicode", `{"name":"prod \u00e9 é ✓ 😀"}`, true},
	{"utf-8 as it is", `{"name":"prod é ✓ 😀"}`, true},
	{"escapes", `{"name":"a\"b\\c\/d\b\f\n\r\t\u0041\ud83d\ude00"}`, true},
	{"lone surrogate", `{"name":"\ud83d x"}`, true},
	{"invalid utf-8", "{\"name\":\"a\xffb\xc3\"}", true},
	{"empty lists", `{"path":[],"regions":[]}`, true},
	{"null lists", `{"path":null,"regions":null,"iam":null}`, true},
	{"null string", `{"name":null}`, true},
	{"nested", `{"iam":{"roles":[{"arn":"r","tags":{"a":"1","b":""},"inlinePolicies":[{"name":"p","document":"{}"}]}],"managedPolicies":[]},
		"regions":[{"name":"us-east-1","taskDefinitions":[{"taskDefinitionArn":"t","revision":3,"containerDefinitions":[{"name":"c","essential":true,
		"environment":[{"name":"A","value":"secret"},{"name":"B","valueClass":"url","valueLength":4}],
		"secrets":[{"name":"S","valueFrom":"arn:aws:ssm:us-east-1:111122223333:parameter/x"}],
		"logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"g","password":"p"}}}]}],
		"secrets":[{"arn":"s","deletedDate":"2026-01-02T03:04:05Z"}]}]}`, true},
	{"null time", `{"regions":[{"secrets":[{"arn":"s","deletedDate":null}]}]}`, true},
	{"empty map", `{"iam":{"roles":[{"tags":{}}]}}`, true},
	{"numbers", `{"regions":[{"taskDefinitions":[{"revision":-0},{"revision":2147483647},{"revision":-2147483648}]}]}`, true},
	{"number out of range", `{"regions":[{"taskDefinitions":[{"revision":2147483648}]}]}`, false},
	{"fraction", `{"regions":[{"taskDefinitions":[{"revision":1.5}]}]}`, false},
	{"exponent", `{"regions":[{"taskDefinitions":[{"revision":1e2}]}]}`, false},
	{"leading zero", `{"regions":[{"taskDefinitions":[{"revision":01}]}]}`, false},
	{"wrong type", `{"id":3}`, false},
	{"string for a number", `{"regions":[{"taskDefinitions":[{"revision":"3"}]}]}`, false},
	{"unknown field", `{"id":"1","colour":"blue"}`, false},
	{"field in another case", `{"ID":"1"}`, false},
	{"key with an escape", `{"i\u0064":"1"}`, false},
	{"duplicate field", `{"id":"1","id":"2"}`, false},
	{"duplicate map key", `{"iam":{"roles":[{"tags":{"a":"1","a":"2"}}]}}`, false},
	{"duplicate field of a list", `{"path":[{"id":"a"}],"path":[{"id":"b"}]}`, false},
	{"trailing comma", `{"id":"1",}`, false},
	{"trailing bytes", `{"id":"1"} x`, false},
	{"truncated", `{"id":"1"`, false},
	{"not an object", `[]`, false},
	{"control character", "{\"id\":\"a\x01\"}", false},
	{"bad escape", `{"id":"\x"}`, false},
	{"env var not an object", `{"regions":[{"taskDefinitions":[{"containerDefinitions":[{"environment":["A"]}]}]}]}`, false},
}

func TestDecodeWalked(t *testing.T) {
	for _, tc := range walkedCases {
		t.Run(tc.name, func(t *testing.T) {
			var a Account
			if got := decodeWalkedFast([]byte(tc.json), &a); got != tc.fast {
				t.Errorf("decoded by its own decoding: %v, want %v", got, tc.fast)
			}
			if err := decodeAgrees([]byte(tc.json)); err != nil {
				t.Error(err)
			}
		})
	}
}

// FuzzDecodeWalked: whatever the bytes, decodeWalked gives
// json.Unmarshal's account or error.
func FuzzDecodeWalked(f *testing.F) {
	for _, tc := range walkedCases {
		f.Add([]byte(tc.json))
	}
	for _, a := range demoAccounts(f) {
		f.Add(a)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := decodeAgrees(data); err != nil {
			t.Fatal(err)
		}
	})
}
