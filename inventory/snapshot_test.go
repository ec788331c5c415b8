package inventory

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
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
		{"unknown version", strings.Replace(string(good), `"schemaVersion":1`, `"schemaVersion":7`, 1), []string{"schemaVersion", "version 7"}},
		{"wrong format", strings.Replace(string(good), `"format":"audit-inventory"`, `"format":"other"`, 1), []string{"field format"}},
		{"no format", `{"schemaVersion":1}`, []string{"field format", "missing"}},
		{"type error names the field", strings.Replace(string(good), `"revision":1`, `"revision":"one"`, 1), []string{"revision", "a number"}},
		{"unknown field", strings.Replace(string(good), `"partition":"aws"`, `"partition":"aws","bogus":1`, 1), []string{"bogus", "unknown field"}},
		{"bad account id", strings.Replace(string(good), `"id":"111122223333"`, `"id":"12"`, 1), []string{"accounts[0].id"}},
		{"bad region status", strings.Replace(string(good), `"status":"scanned"`, `"status":"maybe"`, 1), []string{"accounts[0].regions[0].status"}},
		{"bad task definition ARN", strings.Replace(string(good), `"taskDefinitionArn":"arn:aws:ecs:us-east-1:111122223333:task-definition/a:1"`, `"taskDefinitionArn":"x"`, 1), []string{"taskDefinitions[0].taskDefinitionArn"}},
		{"trailing data", string(good) + `{}`, []string{"after the snapshot"}},
		{"not an object", `[1,2]`, []string{"x.json"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.doc), "x.json")
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
	inv, err := Decode([]byte(doc), "x.json")
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
	good, _ := json.Marshal(minimal())
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add([]byte(`{"format":"audit-inventory","schemaVersion":1,"partition":"aws","accounts":[{"id":"111122223333","iam":{"roles":[null]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := Decode(b, "fuzz.json")
		if err == nil && inv == nil {
			t.Fatal("nil inventory without error")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "snapshot fuzz.json") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

func TestNullResourcesRejected(t *testing.T) {
	for _, field := range []string{"secrets", "parameters", "kmsKeys"} {
		doc := strings.Replace(mustJSON(minimal()), `"status":"scanned"`, `"status":"scanned","`+field+`":[null]`, 1)
		_, err := Decode([]byte(doc), "x.json")
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
	inv, err := Decode([]byte(doc), "x.json")
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
