package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func minimal() *Inventory {
	return &Inventory{Format: Format, SchemaVersion: SchemaVersion, Partition: "aws", CollectedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Complete: true, Accounts: []*Account{{ID: "111122223333", Regions: []*Region{{Name: "us-east-1", Status: RegionScanned,
			TaskDefinitions: []*TaskDefinition{{ARN: "arn:aws:ecs:us-east-1:111122223333:task-definition/a:1", Family: "a", Revision: 1,
				ContainerDefinitions: []ContainerDefinition{{Name: "c", Image: "nginx"}}}}}}}}}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.json")
	if err := Save(p, minimal()); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.Accounts[0].Regions[0].TaskDefinitions[0].Family != "a" {
		t.Fatalf("round trip lost data: %+v", got)
	}
}

func TestLoadErrors(t *testing.T) {
	good, _ := json.Marshal(minimal())
	cases := []struct {
		name, doc string
		want      []string // substrings of the error
	}{
		{"empty", "", []string{"x.json", "empty"}},
		{"truncated", string(good[:len(good)/2]), []string{"x.json", "truncated"}},
		{"malformed", `{"format": "audit-inventory", "schemaVersion": 1,, }`, []string{"x.json", "malformed JSON"}},
		{"unknown version", strings.Replace(string(good), `"schemaVersion":2`, `"schemaVersion":7`, 1), []string{"schemaVersion", "version 7", "versions 1 to 2"}},
		{"wrong format", strings.Replace(string(good), `"format":"audit-inventory"`, `"format":"other"`, 1), []string{"field format"}},
		{"no format", `{"schemaVersion":1}`, []string{"field format", "missing"}},
		{"type error names the field", strings.Replace(string(good), `"revision":1`, `"revision":"one"`, 1), []string{"accounts[0].regions[0].taskDefinitions[0].revision", "is a string; expected a whole number"}},
		{"unknown field", strings.Replace(string(good), `"partition":"aws"`, `"partition":"aws","bogus":1`, 1), []string{"bogus", "unknown field"}},
		{"bad account id", strings.Replace(string(good), `"id":"111122223333"`, `"id":"12"`, 1), []string{"accounts[0].id"}},
		{"bad region status", strings.Replace(string(good), `"status":"scanned"`, `"status":"maybe"`, 1), []string{"accounts[0].regions[0].status"}},
		{"bad task definition ARN", strings.Replace(string(good), `"taskDefinitionArn":"arn:aws:ecs:us-east-1:111122223333:task-definition/a:1"`, `"taskDefinitionArn":"x"`, 1), []string{"taskDefinitions[0].taskDefinitionArn"}},
		{"trailing data", string(good) + `{}`, []string{"after the snapshot"}},
		{"not an object", `[1,2]`, []string{"x.json", "is a list; expected an object"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeBoth(t, []byte(c.doc), "x.json")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// quotedRe matches a quoted value the message repeats from the input.
var quotedRe = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// goTypeWords must never appear in a load error: they are encoding/json's
// and Go's words, not the snapshot format's.
var goTypeWords = []string{"json:", "Go value", "Go struct", "int32", "int64", "float64", "inventory.", "time.Time", "map[string]", "[]string", "2006-01-02T15:04:05Z07:00", "parsing time"}

// Every class of hostile input gets an error that names the file, the full
// JSON path with array indexes, and the byte offset of the culprit.
func TestLoadErrorsNamePathAndOffset(t *testing.T) {
	good := mustJSON(minimal())
	td := `accounts[0].regions[0].taskDefinitions[0]`
	cd := td + `.containerDefinitions[0]`
	cases := []struct {
		name, doc string
		field     string // the error's field, exactly
		at        string // the error's offset points at this text ("" = no offset check)
		want      string // in the message
	}{
		// duplicate keys, at every level
		{"duplicate top-level key", strings.Replace(good, `"partition":"aws"`, `"partition":"aws","partition":"aws-cn"`, 1),
			"partition", `"partition":"aws-cn"`, "duplicate key"},
		{"duplicate header key", strings.Replace(good, `"schemaVersion":2`, `"schemaVersion":2,"schemaVersion":1`, 1),
			"schemaVersion", `"schemaVersion":1`, "duplicate key"},
		{"duplicate nested key", strings.Replace(good, `"image":"nginx"`, `"image":"nginx","image":"evil"`, 1),
			cd + ".image", `"image":"evil"`, "duplicate key"},
		{"duplicate map key", strings.Replace(good, `"image":"nginx"`, `"image":"nginx","logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"a","awslogs-group":"b"}}`, 1),
			cd + `.logConfiguration.options["awslogs-group"]`, `"awslogs-group":"b"`, "duplicate key"},
		{"duplicate policy id", strings.Replace(good, `"complete":true`, `"complete":true,"organization":{"id":"o-1","managementAccountId":"111122223333","policies":{"p-1":{"id":"p-1","name":"a","type":"SERVICE_CONTROL_POLICY","document":"{}"},"p-1":{"id":"p-1","name":"b","type":"SERVICE_CONTROL_POLICY","document":"{}"}}}`, 1),
			`organization.policies["p-1"]`, `"p-1":{"id":"p-1","name":"b"`, "duplicate key"},
		{"keys differing in case are not folded", strings.Replace(good, `"image":"nginx"`, `"image":"nginx","Image":"evil"`, 1),
			cd + ".Image", `"Image"`, "unknown field"},
		// unknown fields
		{"unknown nested field", strings.Replace(good, `"image":"nginx"`, `"image":"nginx","cpu":256`, 1),
			cd + ".cpu", `"cpu":256`, "unknown field (not part of snapshot version 2)"},
		{"a version 2 field in a version 1 snapshot", strings.Replace(strings.Replace(good, `"schemaVersion":2`, `"schemaVersion":1`, 1), `"status":"scanned"`,
			`"status":"scanned","secrets":[{"arn":"arn:aws:secretsmanager:us-east-1:111122223333:secret:s-AbCdEf","name":"s","resourcePolicyStatus":"none"}]`, 1),
			"accounts[0].regions[0].secrets[0].resourcePolicyStatus", `"resourcePolicyStatus"`, "not part of snapshot version 1"},
		// type errors
		{"string for a number", strings.Replace(good, `"revision":1`, `"revision":"1"`, 1), td + ".revision", `"1"`, "is a string; expected a whole number"},
		{"fraction for a whole number", strings.Replace(good, `"revision":1`, `"revision":1.5`, 1), td + ".revision", `1.5`, "is 1.5; expected a whole number"},
		{"number out of range", strings.Replace(good, `"revision":1`, `"revision":99999999999`, 1), td + ".revision", `99999999999`, "from -2147483648 to 2147483647"},
		{"object for a string", strings.Replace(good, `"image":"nginx"`, `"image":{"x":1}`, 1), cd + ".image", `{"x":1}`, "is an object; expected a string"},
		{"number for a bool", strings.Replace(good, `"complete":true`, `"complete":1`, 1), "complete", `1,`, "is the number 1; expected true or false"},
		{"list for an object", strings.Replace(good, `"scope":{}`, `"scope":[]`, 1), "scope", `[]`, "is a list; expected an object"},
		{"string for a list", strings.Replace(good, `"containerDefinitions":[`, `"containerDefinitions":"x","y":[`, 1), td + ".containerDefinitions", `"x"`, "is a string; expected a list"},
		// timestamps
		{"bad timestamp", strings.Replace(good, `"collectedAt":"2026-01-01T00:00:00Z"`, `"collectedAt":"yesterday"`, 1), "collectedAt", `"yesterday"`, `is "yesterday", not an RFC 3339 time`},
		{"timestamp without zone", strings.Replace(good, `"collectedAt":"2026-01-01T00:00:00Z"`, `"collectedAt":"2026-01-01 00:00:00"`, 1), "collectedAt", `"2026-01-01 00:00:00"`, "not an RFC 3339 time"},
		{"timestamp of the wrong type", strings.Replace(good, `"collectedAt":"2026-01-01T00:00:00Z"`, `"collectedAt":1767225600`, 1), "collectedAt", `1767225600`, "expected an RFC 3339 time"},
		// nulls
		{"null for an object", strings.Replace(good, `"scope":{}`, `"scope":null`, 1), "scope", `null`, "is null; expected an object"},
		{"null for an optional object", strings.Replace(good, `"complete":true`, `"complete":true,"organization":null`, 1), "organization", `null,"accounts"`, "is null; expected an object"},
		{"null list element", strings.Replace(good, `"containerDefinitions":[`, `"containerDefinitions":[null,`, 1), cd, `null,`, "is null; expected an object"},
		{"null account", strings.Replace(good, `"accounts":[`, `"accounts":[null,`, 1), "accounts[0]", `null,`, "is null"},
		{"null for a number", strings.Replace(good, `"revision":1`, `"revision":null`, 1), td + ".revision", `null`, "is null; expected a whole number"},
		{"null for a string", strings.Replace(good, `"image":"nginx"`, `"image":null`, 1), cd + ".image", `null`, "is null; expected a string"},
		{"null IAM", strings.Replace(good, `"id":"111122223333"`, `"id":"111122223333","iam":null`, 1), "accounts[0].iam", `null`, "is null"},
		// missing required fields: the offset is the enclosing object's
		{"missing family", strings.Replace(good, `"family":"a",`, ``, 1), td + ".family", `{"taskDefinitionArn"`, "missing"},
		{"missing container name", strings.Replace(good, `"name":"c",`, ``, 1), cd + ".name", `{"image"`, "missing"},
		{"missing collection time", strings.Replace(good, `"collectedAt":"2026-01-01T00:00:00Z",`, ``, 1), "collectedAt", "", "missing"},
		{"missing environment name", strings.Replace(good, `"image":"nginx"`, `"image":"nginx","environment":[{"valueClass":"jwt"}]`, 1), cd + ".environment[0].name", `{"valueClass"`, "missing"},
		{"missing policy status (version 2)", strings.Replace(good, `"status":"scanned"`, `"status":"scanned","secrets":[{"arn":"arn:aws:secretsmanager:us-east-1:111122223333:secret:s-AbCdEf","name":"s"}]`, 1),
			"accounts[0].regions[0].secrets[0].resourcePolicyStatus", `{"arn":"arn:aws:secretsmanager`, `missing; expected "collected", "none" or "not-collected"`},
		{"error without operation", strings.Replace(good, `"complete":true`, `"complete":true,"errors":[{"service":"ecs","code":"X","message":"m"}]`, 1), "errors[0].operation", `{"service":"ecs"`, "missing"},
		// dangling references name the real field
		{"dangling RCP reference", strings.Replace(strings.Replace(good, `"complete":true`, `"complete":true,"organization":{"id":"o-1","managementAccountId":"999999999999","rcpsEnabled":true,"policies":{"p-1":{"id":"p-1","name":"full","type":"SERVICE_CONTROL_POLICY","document":"{}"}}}`, 1),
			`"id":"111122223333"`, `"id":"111122223333","path":[{"id":"r-1","type":"ROOT","scps":["p-1"],"rcps":["p-gone"]}]`, 1),
			"accounts[0].path[0].rcps[0]", `"p-gone"`, `policy "p-gone" is not in organization.policies`},
		// malformed JSON still names where
		{"malformed inside", strings.Replace(good, `"image":"nginx"`, `"image":"nginx",}`, 1), cd, `}`, "malformed JSON"},
		{"control character in a string", strings.Replace(good, `"image":"nginx"`, "\"image\":\"ngi\x01nx\"", 1), cd + ".image", "\x01", "control character"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeBoth(t, []byte(c.doc), "x.json")
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T), want a *LoadError", err, err)
			}
			if le.File != "x.json" || le.Field != c.field {
				t.Errorf("file %q field %q, want x.json and %q (error: %v)", le.File, le.Field, c.field, err)
			}
			if !strings.Contains(le.Msg, c.want) {
				t.Errorf("message %q does not contain %q", le.Msg, c.want)
			}
			if c.at != "" {
				if le.Offset <= 0 || le.Offset >= int64(len(c.doc)) || !strings.HasPrefix(c.doc[le.Offset:], c.at) {
					t.Errorf("offset %d does not point at %q: %q", le.Offset, c.at, c.doc[max(0, min(int(le.Offset), len(c.doc))):min(len(c.doc), max(0, int(le.Offset))+30)])
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("(byte %d)", le.Offset)) {
					t.Errorf("error %q does not state the offset", err)
				}
			}
			for _, w := range goTypeWords {
				if strings.Contains(quotedRe.ReplaceAllString(le.Msg, `""`), w) {
					t.Errorf("message %q uses the Go word %q", le.Msg, w)
				}
			}
		})
	}
}

// A UTF-8 byte order mark is accepted, and offsets count it.
func TestLoadAcceptsBOM(t *testing.T) {
	good := mustJSON(minimal())
	if _, err := decodeBoth(t, append([]byte{0xEF, 0xBB, 0xBF}, good...), "bom.json"); err != nil {
		t.Fatalf("BOM: %v", err)
	}
	doc := append([]byte{0xEF, 0xBB, 0xBF}, strings.Replace(good, `"revision":1`, `"revision":"x"`, 1)...)
	_, err := decodeBoth(t, doc, "bom.json")
	var le *LoadError
	if !errors.As(err, &le) || !strings.HasPrefix(string(doc[le.Offset:]), `"x"`) {
		t.Fatalf("offset with a BOM: %v", err)
	}
}

// An empty or null policy document is a load error unless a collection
// error says the document could not be read.
func TestLoadEmptyPolicyDocuments(t *testing.T) {
	good := mustJSON(minimal())
	iam := func(roles, managed, errs string) string {
		d := strings.Replace(good, `"id":"111122223333"`, `"id":"111122223333","iam":{"roles":[`+roles+`],"managedPolicies":[`+managed+`]}`, 1)
		if errs != "" {
			d = strings.Replace(d, `"complete":true`, `"complete":true,"errors":[`+errs+`]`, 1)
		}
		return d
	}
	role := func(trust, inline string) string {
		r := `{"arn":"arn:aws:iam::111122223333:role/exec","name":"exec","trustPolicy":` + trust
		if inline != "" {
			r += `,"inlinePolicies":[{"name":"p","document":` + inline + `}]`
		}
		return r + `}`
	}
	const doc = `"{\"Version\":\"2012-10-17\",\"Statement\":[]}"`
	mp := func(d string) string {
		return `{"arn":"arn:aws:iam::111122223333:policy/b","name":"b","document":` + d + `}`
	}
	cases := []struct {
		name, doc, field string // field "" = loads
	}{
		{"fine", iam(role(doc, doc), mp(doc), ""), ""},
		{"empty trust policy", iam(role(`""`, ""), "", ""), "accounts[0].iam.roles[0].trustPolicy"},
		{"null trust policy", iam(role(`null`, ""), "", ""), "accounts[0].iam.roles[0].trustPolicy"},
		{"empty inline policy", iam(role(doc, `"  "`), "", ""), "accounts[0].iam.roles[0].inlinePolicies[0].document"},
		{"null inline policy", iam(role(doc, `null`), "", ""), "accounts[0].iam.roles[0].inlinePolicies[0].document"},
		{"the text null as inline policy", iam(role(doc, `"null"`), "", ""), "accounts[0].iam.roles[0].inlinePolicies[0].document"},
		{"empty managed policy", iam(role(doc, ""), mp(`""`), ""), "accounts[0].iam.managedPolicies[0].document"},
		{"empty managed policy, not collected", iam(role(doc, ""), mp(`""`),
			`{"accountId":"111122223333","service":"iam","operation":"GetAccountAuthorizationDetails","resource":"arn:aws:iam::111122223333:policy/b","code":"InvalidDocument","message":"m"}`), ""},
		{"empty inline policy, not collected", iam(role(doc, `""`), "",
			`{"accountId":"111122223333","service":"iam","operation":"GetAccountAuthorizationDetails","resource":"arn:aws:iam::111122223333:role/exec inline policy p","code":"InvalidDocument","message":"m"}`), ""},
		{"empty SCP", strings.Replace(good, `"complete":true`, `"complete":true,"organization":{"id":"o-1","managementAccountId":"111122223333","policies":{"p-1":{"id":"p-1","name":"a","type":"SERVICE_CONTROL_POLICY","document":""}}}`, 1),
			`organization.policies["p-1"].document`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeBoth(t, []byte(c.doc), "x.json")
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var le *LoadError
			if !errors.As(err, &le) || le.Field != c.field {
				t.Fatalf("error %v, want field %s", err, c.field)
			}
		})
	}
}

// The policy check passed in by the caller rejects an SCP or RCP that is not
// a policy, naming its document.
func TestLoadPolicyCheck(t *testing.T) {
	doc := strings.Replace(mustJSON(minimal()), `"complete":true`, `"complete":true,"organization":{"id":"o-1","managementAccountId":"111122223333","policies":{`+
		`"p-1":{"id":"p-1","name":"a","type":"SERVICE_CONTROL_POLICY","document":"{\"Statement\":[]}"},`+
		`"p-2":{"id":"p-2","name":"b","type":"RESOURCE_CONTROL_POLICY","document":"not a policy"}}}`, 1)
	check := func(d string) error {
		if !json.Valid([]byte(d)) {
			return errors.New("not JSON")
		}
		return nil
	}
	_, err := decodeBothWith(t, []byte(doc), "x.json", Options{PolicyCheck: check})
	var le *LoadError
	if !errors.As(err, &le) || le.Field != `organization.policies["p-2"].document` || !strings.Contains(le.Msg, "not JSON") ||
		!strings.HasPrefix(doc[le.Offset:], `"not a policy"`) {
		t.Fatalf("error %v", err)
	}
	if _, err := decodeBoth(t, []byte(doc), "x.json"); err != nil {
		t.Fatalf("without a check: %v", err)
	}
}

// A version 1 snapshot keeps the meaning version 1 documents: a resolved
// secret without resourcePolicy and without a collection error for it has
// none; with a GetResourcePolicy error it was not collected. A key always has
// a key policy, so one without was not collected; version 1 had no parameter
// policies, so they were not collected.
func TestLoadVersion1ResourcePolicies(t *testing.T) {
	const p = "arn:aws:secretsmanager:us-east-1:111122223333:secret:"
	const k = "arn:aws:kms:us-east-1:111122223333:key/"
	doc := strings.Replace(strings.Replace(mustJSON(minimal()), `"schemaVersion":2`, `"schemaVersion":1`, 1), `"status":"scanned"`, `"status":"scanned",`+
		`"secrets":[{"arn":"`+p+`with-AbCdEf","name":"with","resourcePolicy":"{\"Statement\":[]}"},`+
		`{"arn":"`+p+`none-AbCdEf","name":"none"},{"arn":"`+p+`failed-AbCdEf","name":"failed"}],`+
		`"parameters":[{"name":"/p","type":"String"}],`+
		`"kmsKeys":[{"arn":"`+k+`a","keyId":"a","policy":"{\"Statement\":[]}"},{"arn":"`+k+`b","keyId":"b"}]`, 1)
	doc = strings.Replace(doc, `"complete":true`, `"complete":true,"errors":[{"accountId":"111122223333","region":"us-east-1","service":"secretsmanager","operation":"GetResourcePolicy","resource":"`+p+`failed-AbCdEf","code":"AccessDenied","message":"m"}]`, 1)
	inv, err := decodeBoth(t, []byte(doc), "v1.json")
	if err != nil {
		t.Fatal(err)
	}
	if inv.SchemaVersion != SchemaVersion {
		t.Errorf("schemaVersion %d after loading version 1, want %d", inv.SchemaVersion, SchemaVersion)
	}
	r := inv.Accounts[0].Regions[0]
	for i, want := range []string{PolicyCollected, PolicyNone, PolicyNotCollected} {
		if got := r.Secrets[i].ResourcePolicyStatus; got != want {
			t.Errorf("secret %s: %q, want %q", r.Secrets[i].Name, got, want)
		}
	}
	if r.Parameters[0].ResourcePolicyStatus != PolicyNotCollected {
		t.Errorf("parameter: %q", r.Parameters[0].ResourcePolicyStatus)
	}
	if r.KMSKeys[0].PolicyStatus != PolicyCollected || r.KMSKeys[1].PolicyStatus != PolicyNotCollected {
		t.Errorf("keys: %q %q", r.KMSKeys[0].PolicyStatus, r.KMSKeys[1].PolicyStatus)
	}
	// Saved again, it is a complete version 2 snapshot with the same facts.
	path := filepath.Join(t.TempDir(), "v2.json")
	if err := Save(path, inv); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if mustJSON(back) != mustJSON(inv) {
		t.Error("a loaded version 1 snapshot does not round-trip as version 2")
	}
}

// The status must agree with the document.
func TestLoadVersion2PolicyStatus(t *testing.T) {
	const p = "arn:aws:secretsmanager:us-east-1:111122223333:secret:"
	with := func(res string) string {
		return strings.Replace(mustJSON(minimal()), `"status":"scanned"`, `"status":"scanned",`+res, 1)
	}
	cases := []struct{ name, doc, field string }{
		{"none", with(`"secrets":[{"arn":"` + p + `s-AbCdEf","name":"s","resourcePolicyStatus":"none"}]`), ""},
		{"not collected", with(`"secrets":[{"arn":"` + p + `s-AbCdEf","name":"s","resourcePolicyStatus":"not-collected"}]`), ""},
		{"collected", with(`"secrets":[{"arn":"` + p + `s-AbCdEf","name":"s","resourcePolicy":"{}","resourcePolicyStatus":"collected"}]`), ""},
		{"collected without document", with(`"secrets":[{"arn":"` + p + `s-AbCdEf","name":"s","resourcePolicyStatus":"collected"}]`), "accounts[0].regions[0].secrets[0].resourcePolicy"},
		{"none with a document", with(`"secrets":[{"arn":"` + p + `s-AbCdEf","name":"s","resourcePolicy":"{}","resourcePolicyStatus":"none"}]`), "accounts[0].regions[0].secrets[0].resourcePolicy"},
		{"unknown status", with(`"secrets":[{"arn":"` + p + `s-AbCdEf","name":"s","resourcePolicyStatus":"maybe"}]`), "accounts[0].regions[0].secrets[0].resourcePolicyStatus"},
		{"parameter policy", with(`"parameters":[{"name":"/p","type":"String","resourcePolicy":"{}","resourcePolicyStatus":"collected"}]`), ""},
		{"parameter without status", with(`"parameters":[{"name":"/p","type":"String"}]`), "accounts[0].regions[0].parameters[0].resourcePolicyStatus"},
		{"key without a key policy", with(`"kmsKeys":[{"arn":"arn:aws:kms:us-east-1:111122223333:key/a","keyId":"a","policyStatus":"none"}]`), "accounts[0].regions[0].kmsKeys[0].policyStatus"},
		{"key not collected", with(`"kmsKeys":[{"arn":"arn:aws:kms:us-east-1:111122223333:key/a","keyId":"a","policyStatus":"not-collected"}]`), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeBoth(t, []byte(c.doc), "x.json")
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var le *LoadError
			if !errors.As(err, &le) || le.Field != c.field {
				t.Fatalf("error %v, want field %s", err, c.field)
			}
		})
	}
}

// Every options map that can carry a credential is redacted at load as at
// collection, so saving a loaded snapshot never writes one back.
func TestLoadRedactsEveryOptionsMap(t *testing.T) {
	const token = "s3cr3t-Tok3n-Valu3-0123456789abcdefXYZ"
	doc := strings.Replace(mustJSON(minimal()), `"image":"nginx"`, `"image":"nginx",`+
		`"logConfiguration":{"logDriver":"splunk","options":{"splunk-token":"`+token+`","awslogs-group":"/ecs/a"}},`+
		`"firelensConfiguration":{"type":"fluentbit","options":{"Header":"Authorization Bearer `+token+`","apikey":"`+token+`","config-file-type":"file"}}`, 1)
	inv, err := decodeBoth(t, []byte(doc), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "again.json")
	if err := Save(path, inv); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(path)
	if strings.Contains(string(out), token) {
		t.Fatalf("a credential survived load and save: %s", out)
	}
	fl := inv.Accounts[0].Regions[0].TaskDefinitions[0].ContainerDefinitions[0].FirelensConfiguration
	if fl.Options["apikey"] != Redacted || fl.Options["Header"] == "" || fl.Options["config-file-type"] != "file" {
		t.Errorf("firelens options: %v", fl.Options)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.json"))
	if err == nil || !strings.Contains(err.Error(), "nope.json") {
		t.Fatalf("error %v does not name the file", err)
	}
}

// Environment values given as ECS returns them are classified and dropped.
func TestEnvironmentValuesNeverKept(t *testing.T) {
	doc := strings.Replace(mustJSON(minimal()), `"image":"nginx"`,
		`"image":"nginx","environment":[{"name":"KEY","value":"AKIAABCDEFGHIJKLMNOP"},{"name":"MODE","value":"production"}],"logConfiguration":{"logDriver":"splunk","options":{"splunk-token":"s3cr3t-token-value","splunk-url":"https://x"}}`, 1)
	inv, err := decodeBoth(t, []byte(doc), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	out := mustJSON(inv)
	for _, leaked := range []string{"AKIAABCDEFGHIJKLMNOP", "production", "s3cr3t-token-value"} {
		if strings.Contains(out, leaked) {
			t.Errorf("value %q survived loading: %s", leaked, out)
		}
	}
	env := inv.Accounts[0].Regions[0].TaskDefinitions[0].ContainerDefinitions[0].Environment
	if env[0].ValueClass != ValueAWSAccessKey || env[0].ValueLength != 20 || env[1].ValueClass != "" {
		t.Errorf("classification: %+v", env)
	}
}

func TestClassifyValue(t *testing.T) {
	for _, c := range []struct{ v, want string }{
		{"AKIAABCDEFGHIJKLMNOP", ValueAWSAccessKey},
		{"-----BEGIN RSA PRIVATE KEY-----\nabc", ValuePrivateKey},
		{"ghp_" + strings.Repeat("a", 36), ValueGitHubToken},
		{"postgres://app:hunter2@db:5432/x", ValueURLCredentials},
		{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ValueAWSSecretKey},
		{"production", ""}, {"8080", ""}, {"arn:aws:secretsmanager:us-east-1:1:secret:x", ""},
		{"https://example.com/path", ""}, {"", ""},
	} {
		if got := ClassifyValue(c.v); got != c.want {
			t.Errorf("ClassifyValue(%q) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestNameLooksSecret(t *testing.T) {
	for name, want := range map[string]bool{"DB_PASSWORD": true, "API_KEY": true, "github_token": true, "DB_PASSWORD_ARN": false,
		"SECRET_NAME": false, "LOG_LEVEL": false, "TOKEN_URL": false, "AWS_SECRET_ACCESS_KEY": true} {
		if NameLooksSecret(name) != want {
			t.Errorf("NameLooksSecret(%q) != %v", name, want)
		}
	}
}

func TestWriteFileAtomicKeepsOldOnError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("old"), 0o644)
	err := WriteFileAtomic(p, func(w io.Writer) error { w.Write([]byte("partial")); return os.ErrInvalid })
	if err == nil {
		t.Fatal("no error")
	}
	b, _ := os.ReadFile(p)
	if string(b) != "old" {
		t.Fatalf("file changed to %q", b)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Fatalf("temporary file left behind: %v", entries)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func FuzzLoad(f *testing.F) {
	for _, seed := range loadSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := Decode(b, "fuzz.json")
		if err == nil && inv == nil {
			t.Fatal("nil inventory without error")
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "snapshot fuzz.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("not a *LoadError: %v", err)
			}
			if le.Offset < -1 || le.Offset > int64(len(b)) {
				t.Fatalf("offset %d outside the file (%d bytes): %v", le.Offset, len(b), err)
			}
			for _, w := range goTypeWords {
				if strings.Contains(quotedRe.ReplaceAllString(le.Msg, `""`), w) {
					t.Fatalf("message uses the Go word %q: %v", w, err)
				}
			}
			return
		}
		// Accepted: no duplicate key anywhere (checked independently),
		// and the inventory round-trips through the snapshot format.
		if dup := duplicateKey(b); dup != "" {
			t.Fatalf("accepted a snapshot with the duplicate key %q", dup)
		}
		again, err := json.Marshal(inv)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(again, "again.json")
		if err != nil {
			t.Fatalf("a loaded snapshot does not load again: %v", err)
		}
		if a, b := mustJSON(back), string(again); a != b {
			t.Fatalf("not stable across a round trip:\n%s\n%s", a, b)
		}
	})
}

// loadSeeds are the seeds of FuzzLoad and FuzzStream.
func loadSeeds() [][]byte {
	var seeds [][]byte
	add := func(b []byte) { seeds = append(seeds, b) }
	good, _ := json.Marshal(minimal())
	add(good)
	add(good[:len(good)/3])
	add([]byte(`{"format":"audit-inventory","schemaVersion":1,"partition":"aws","accounts":[{"id":"111122223333","iam":{"roles":[null]}}]}`))
	// duplicate keys and nulls, at several depths
	for _, r := range [][2]string{
		{`"partition":"aws"`, `"partition":"aws","partition":"aws"`},
		{`"image":"nginx"`, `"image":"nginx","image":"nginx"`},
		{`"image":"nginx"`, `"image":"nginx","logConfiguration":{"logDriver":"awslogs","options":{"a":"1","a":"2"}}`},
		{`"scope":{}`, `"scope":null`},
		{`"revision":1`, `"revision":null`},
		{`"containerDefinitions":[`, `"containerDefinitions":[null,`},
		{`"complete":true`, `"complete":true,"organization":null`},
		{`"complete":true`, `"complete":true,"errors":null`},
		{`"status":"scanned"`, `"status":"scanned","secrets":[{"arn":"arn:aws:secretsmanager:us-east-1:111122223333:secret:s-AbCdEf","name":"s","resourcePolicyStatus":"none","resourcePolicyStatus":"collected"}]`},
		{`"image":"nginx"`, `"image":"nginx","firelensConfiguration":{"type":"fluentbit","options":{"apikey":"AKIAABCDEFGHIJKLMNOP"}}`},
	} {
		add([]byte(strings.Replace(string(good), r[0], r[1], 1)))
	}
	add(append([]byte{0xEF, 0xBB, 0xBF}, good...))
	// the existence records and resource policies of snapshot version 2
	withRes := []byte(mustJSON(withResources()))
	add(withRes)
	for _, r := range [][2]string{
		{`"status":"exists"`, `"status":"exists","status":"exists"`},
		{`"policyStatus":"none"`, `"policyStatus":null`},
		{`"images":[`, `"images":[null,`},
		{`"s3Buckets":[`, `"s3Buckets":[null,`},
		{`"ecrRegistry":{`, `"ecrRegistry":null,"x":{`},
	} {
		add([]byte(strings.Replace(string(withRes), r[0], r[1], 1)))
	}
	// Launch paths and the network path, and broken forms of them.
	launch, _ := json.Marshal(withLaunchPaths())
	add(launch)
	for _, r := range [][2]string{
		{`"tasksStatus":"collected"`, `"tasksStatus":"collected","tasksStatus":"partial"`},
		{`"status":"not-found"`, `"status":"not-found","vpcId":"vpc-1"`},
		{`"policyStatus":"collected"`, `"policyStatus":"none"`},
		{`"launch":{`, `"launch":null,"x":{`},
		{`"network":{"status":"collected"`, `"network":{"status":"skipped"`},
	} {
		add([]byte(strings.Replace(string(launch), r[0], r[1], 1)))
	}
	// AWS managed policies written once, with references to them.
	shared := mustJSON(withAWSPolicies())
	add([]byte(shared))
	for _, r := range [][2]string{
		{`"shared":true`, `"shared":true,"shared":false`},
		{`"defaultVersionId":"v4","awsManaged":true,"document":"","shared":true`, `"defaultVersionId":"v3","awsManaged":true,"document":"","shared":true`},
		{`"awsManagedPolicies":[`, `"awsManagedPolicies":[null,`},
		{`"awsManagedPolicies":[`, `"x":[`},
	} {
		add([]byte(strings.Replace(shared, r[0], r[1], 1)))
	}
	return seeds
}

// duplicateKey finds a key that appears twice in one object, with
// encoding/json's tokenizer (independent of the loader's walk).
func duplicateKey(b []byte) string {
	b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				if top != nil && top.obj {
					top.key = true
				}
				stack = append(stack, &frame{obj: true, keys: map[string]bool{}, key: true})
			case '[':
				if top != nil && top.obj {
					top.key = true
				}
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.obj && top.key {
				if top.keys[v] {
					return v
				}
				top.keys[v] = true
				top.key = false
				continue
			}
			if top != nil && top.obj {
				top.key = true
			}
		default:
			if top != nil && top.obj {
				top.key = true
			}
		}
	}
}

func TestNullResourcesRejected(t *testing.T) {
	for _, field := range []string{"secrets", "parameters", "kmsKeys"} {
		doc := strings.Replace(mustJSON(minimal()), `"status":"scanned"`, `"status":"scanned","`+field+`":[null]`, 1)
		_, err := decodeBoth(t, []byte(doc), "x.json")
		if err == nil || !strings.Contains(err.Error(), field+"[0]") {
			t.Errorf("%s: %v", field, err)
		}
	}
}

func TestRedactOptionsChecksValuesOfKnownOptions(t *testing.T) {
	got := RedactOptions(map[string]string{"splunk-url": "https://admin:Sup3rS3cret@splunk.example.com", "awslogs-group": "/ecs/app"})
	if got["splunk-url"] != Redacted || got["awslogs-group"] != "/ecs/app" {
		t.Fatalf("%v", got)
	}
}

func TestSecretLookingValueFromRedactedOnLoad(t *testing.T) {
	doc := strings.Replace(mustJSON(minimal()), `"image":"nginx"`, `"image":"nginx","secrets":[{"name":"K","valueFrom":"AKIAABCDEFGHIJKLMNOP"},{"name":"P","valueFrom":"/app/db"}]`, 1)
	inv, err := decodeBoth(t, []byte(doc), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	s := inv.Accounts[0].Regions[0].TaskDefinitions[0].ContainerDefinitions[0].Secrets
	if s[0].ValueFrom != Redacted || s[1].ValueFrom != "/app/db" {
		t.Fatalf("%+v", s)
	}
}

// Log drivers take free-form options: only known-harmless values are kept.
func TestRedactOptionsAllowList(t *testing.T) {
	got := RedactOptions(map[string]string{
		"awslogs-group": "/ecs/app", "config-file-value": "arn:aws:s3:::b/x.conf",
		"splunk-token": "abc", "licenseKey": "0123456789abcdef0123456789abcdef01234567",
		"Header": "Authorization Bearer 9f8e7d6c5b4a", "auth": "user:s3cr3tP4ss", "max-file": "3",
	})
	want := map[string]string{
		"awslogs-group": "/ecs/app", "config-file-value": "arn:aws:s3:::b/x.conf",
		"splunk-token": Redacted, "licenseKey": Redacted, "Header": Omitted, "auth": Omitted, "max-file": Omitted,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// Errors about a missing top-level field point at the snapshot object; errors
// with no place in the file state no offset.
func TestLoadErrorOffsets(t *testing.T) {
	_, err := decodeBoth(t, []byte(`  {"schemaVersion":2}`), "x.json")
	if err == nil || !strings.Contains(err.Error(), "field format (byte 2): missing") {
		t.Errorf("missing format: %v", err)
	}
	_, err = decodeBoth(t, []byte("  \n"), "x.json")
	if err == nil || strings.Contains(err.Error(), "byte") {
		t.Errorf("empty file: %v", err)
	}
	inv := minimal()
	inv.Partition = ""
	if err := inv.Validate(); err == nil || strings.Contains(err.Error(), "byte") {
		t.Errorf("in memory: %v", err)
	}
}
