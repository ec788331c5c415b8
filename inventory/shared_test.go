package inventory

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	execPolicyARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
	execPolicyDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}`
	readOnlyARN   = "arn:aws:iam::aws:policy/ReadOnlyAccess"
)

// withAWSPolicies: four accounts whose roles use AWS managed policies, each
// account with its own copy: two equal copies of one version, a different
// version, one copy not collected, and a customer managed policy.
func withAWSPolicies() *Inventory {
	inv := minimal()
	exec := func(version, doc string) *ManagedPolicy {
		return &ManagedPolicy{ARN: execPolicyARN, Name: "AmazonECSTaskExecutionRolePolicy", Path: "/service-role/",
			DefaultVersionID: version, AWSManaged: true, Document: doc}
	}
	account := func(id string, policies ...*ManagedPolicy) *Account {
		return &Account{ID: id, IAM: &IAM{Roles: []*Role{}, ManagedPolicies: policies}}
	}
	inv.Accounts = append(inv.Accounts,
		account("111111111111", exec("v4", execPolicyDoc),
			&ManagedPolicy{ARN: "arn:aws:iam::111111111111:policy/app", Name: "app", DefaultVersionID: "v1", Document: `{"Statement":[]}`}),
		account("222222222222", &ManagedPolicy{ARN: readOnlyARN, Name: "ReadOnlyAccess", Path: "/", DefaultVersionID: "v9", AWSManaged: true, Document: `{"Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`},
			exec("v4", execPolicyDoc)),
		account("333333333333", exec("v5", strings.Replace(execPolicyDoc, "ecr:GetAuthorizationToken", "ecr:*", 1))),
		account("444444444444", exec("v4", "")), // not collected here
	)
	inv.Errors = []CollectionError{{AccountID: "444444444444", Service: "iam", Operation: "GetAccountAuthorizationDetails", Resource: execPolicyARN, Code: "InvalidDocument", Message: "no document"}}
	return inv
}

func TestAWSManagedPoliciesWrittenOnce(t *testing.T) {
	inv := withAWSPolicies()
	b, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `ecr:GetAuthorizationToken`); n != 1 {
		t.Errorf("the shared document is written %d times, want once:\n%s", n, b)
	}
	var raw struct {
		AWSManagedPolicies []map[string]any `json:"awsManagedPolicies"`
		Accounts           []struct {
			IAM *struct {
				ManagedPolicies []map[string]any `json:"managedPolicies"`
			} `json:"iam"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var top []string
	for _, p := range raw.AWSManagedPolicies {
		top = append(top, p["arn"].(string)+"@"+p["defaultVersionId"].(string))
	}
	if want := []string{readOnlyARN + "@v9", execPolicyARN + "@v4", execPolicyARN + "@v5"}; !reflect.DeepEqual(top, want) {
		t.Errorf("awsManagedPolicies = %v, want %v (sorted, once each)", top, want)
	}
	shared := func(acct, i int) bool {
		s, _ := raw.Accounts[acct].IAM.ManagedPolicies[i]["shared"].(bool)
		return s
	}
	for _, c := range []struct {
		acct, i int
		want    bool
	}{{1, 0, true}, {1, 1, false}, {2, 0, true}, {2, 1, true}, {3, 0, true}, {4, 0, false}} {
		if got := shared(c.acct, c.i); got != c.want {
			t.Errorf("accounts[%d].iam.managedPolicies[%d].shared = %v, want %v", c.acct, c.i, got, c.want)
		}
	}
	if d := raw.Accounts[2].IAM.ManagedPolicies[1]["document"]; d != "" {
		t.Errorf("a reference carries a document: %v", d)
	}
	// Writing copies what it changes: the inventory is as it was.
	if !reflect.DeepEqual(inv, withAWSPolicies()) {
		t.Error("marshalling modified the inventory")
	}

	// Read back: the same content, each version one value.
	p := filepath.Join(t.TempDir(), "s.json")
	if err := Save(p, inv); err != nil {
		t.Fatal(err)
	}
	back, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	mp := func(acct, i int) *ManagedPolicy { return back.Accounts[acct].IAM.ManagedPolicies[i] }
	if mp(1, 0) != mp(2, 1) || mp(1, 0) != back.AWSManagedPolicies[1] {
		t.Error("the accounts' entries for one version are not one value")
	}
	if mp(3, 0) == mp(1, 0) || mp(3, 0).Document == mp(1, 0).Document {
		t.Error("two versions were merged")
	}
	if mp(4, 0).Document != "" {
		t.Error("an entry that was not collected took another account's document")
	}
	want := withAWSPolicies()
	want.AWSManagedPolicies = back.AWSManagedPolicies
	if !reflect.DeepEqual(back.Accounts, want.Accounts) {
		t.Errorf("the accounts changed in the round trip:\n%s\n%s", mustJSON(back.Accounts), mustJSON(want.Accounts))
	}
}

// Files written before the list existed (and version 1 files) give every
// account's copy in full: they load as before, each version one value.
func TestAWSManagedPoliciesInFullAreShared(t *testing.T) {
	inv := withAWSPolicies()
	type plain Inventory // without MarshalJSON: every copy in full
	b, err := json.Marshal((*plain)(inv))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"shared"`) {
		t.Fatal("the test input has references")
	}
	for _, version := range []string{`"schemaVersion":2`, `"schemaVersion":1`} {
		doc := strings.Replace(string(b), `"schemaVersion":2`, version, 1)
		if version == `"schemaVersion":1` {
			// Version 1 has no status fields.
			doc = strings.ReplaceAll(doc, `,"resources":""`, "")
		}
		back, err := decodeBoth(t, []byte(doc), "old.json")
		if err != nil {
			t.Fatalf("%s: %v", version, err)
		}
		a, c := back.Accounts[1].IAM.ManagedPolicies[0], back.Accounts[2].IAM.ManagedPolicies[1]
		if a != c || a.Document != execPolicyDoc {
			t.Errorf("%s: equal entries are not shared", version)
		}
		if len(back.AWSManagedPolicies) != 0 {
			t.Errorf("%s: awsManagedPolicies was filled in: %v", version, back.AWSManagedPolicies)
		}
	}
}

func TestAWSManagedPolicyReferenceErrors(t *testing.T) {
	good := mustJSON(withAWSPolicies())
	ref := `{"arn":"` + execPolicyARN + `","name":"","defaultVersionId":"v4","awsManaged":true,"document":"","shared":true}`
	if !strings.Contains(good, ref) {
		t.Fatalf("the snapshot has no reference %s:\n%s", ref, good)
	}
	cases := []struct {
		name, doc string
		field     string
		want      string
	}{
		{"unknown version", strings.Replace(good, ref, strings.Replace(ref, `"v4"`, `"v7"`, 1), 1),
			"accounts[1].iam.managedPolicies[0].shared", `no awsManagedPolicies entry has arn "` + execPolicyARN + `" and defaultVersionId "v7"`},
		{"a reference with a document", strings.Replace(good, ref, strings.Replace(ref, `"document":""`, `"document":"{}"`, 1), 1),
			"accounts[1].iam.managedPolicies[0].shared", "gives a name, path or document of its own"},
		{"a customer policy cannot be shared", strings.Replace(good, ref, strings.Replace(ref, `"awsManaged":true,`, ``, 1), 1),
			"accounts[1].iam.managedPolicies[0].shared", "only an AWS managed policy"},
		{"listed twice", strings.Replace(good, `"awsManagedPolicies":[`, `"awsManagedPolicies":[{"arn":"`+execPolicyARN+`","name":"x","defaultVersionId":"v4","awsManaged":true,"document":"{}"},`, 1),
			"awsManagedPolicies[2]", "a second time"},
		{"not an AWS managed policy", strings.Replace(good, `"awsManagedPolicies":[`, `"awsManagedPolicies":[{"arn":"arn:aws:iam::111111111111:policy/app","name":"x","awsManaged":true,"document":"{}"},`, 1),
			"awsManagedPolicies[0].arn", "not the ARN of an AWS managed policy"},
		{"not marked AWS managed", strings.Replace(good, `"awsManagedPolicies":[`, `"awsManagedPolicies":[{"arn":"arn:aws:iam::aws:policy/X","name":"x","document":"{}"},`, 1),
			"awsManagedPolicies[0].awsManaged", "AWS managed policies only"},
		{"a reference in the list", strings.Replace(good, `"awsManagedPolicies":[`, `"awsManagedPolicies":[{"arn":"arn:aws:iam::aws:policy/X","name":"","awsManaged":true,"document":"","shared":true},`, 1),
			"awsManagedPolicies[0].shared", "only an account's entry"},
		{"no document", strings.Replace(good, `"awsManagedPolicies":[`, `"awsManagedPolicies":[{"arn":"arn:aws:iam::aws:policy/X","name":"x","awsManaged":true,"document":" "},`, 1),
			"awsManagedPolicies[0].document", "is empty"},
		{"null entry", strings.Replace(good, `"awsManagedPolicies":[`, `"awsManagedPolicies":[null,`, 1),
			"awsManagedPolicies[0]", "null"},
		{"not in version 1", strings.Replace(good, `"schemaVersion":2`, `"schemaVersion":1`, 1),
			"", "not part of snapshot version 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeBoth(t, []byte(c.doc), "x.json")
			var le *LoadError
			if err == nil || !asLoadError(err, &le) {
				t.Fatalf("error %v, want a *LoadError", err)
			}
			if c.field != "" && le.Field != c.field {
				t.Errorf("field %q, want %q (%v)", le.Field, c.field, err)
			}
			if !strings.Contains(le.Msg, c.want) {
				t.Errorf("message %q does not contain %q", le.Msg, c.want)
			}
			if c.field != "" && le.Offset < 0 {
				t.Errorf("no offset: %v", err)
			}
		})
	}
}

func asLoadError(err error, le **LoadError) bool {
	e, ok := err.(*LoadError)
	*le = e
	return ok
}
