package inventory

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"
)

// encoded is the snapshot as json.Encoder writes it (what Save wrote
// before Write streamed it).
func encoded(t *testing.T, inv *Inventory) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(inv); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Write gives the bytes of json.Encoder, account by account.
func TestWriteIsTheEncodersBytes(t *testing.T) {
	demo, err := Load("../testdata/demo/snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	awsPolicy := func() *ManagedPolicy {
		return &ManagedPolicy{ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess", Name: "ReadOnlyAccess", DefaultVersionID: "v9", AWSManaged: true,
			Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}
	}
	hostile := &Inventory{Format: Format, SchemaVersion: SchemaVersion, CollectedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Partition: "aws", Scope: Scope{Source: "live <b>&</b>\u2028"}, Complete: true,
		Accounts: []*Account{
			{ID: "111111111111", Name: "a\n  \"accounts\": null", IAM: &IAM{Roles: []*Role{}, ManagedPolicies: []*ManagedPolicy{awsPolicy()}}},
			{ID: "222222222222", Name: "</script>", IAM: &IAM{Roles: []*Role{}, ManagedPolicies: []*ManagedPolicy{awsPolicy()}},
				Regions: []*Region{{Name: "us-east-1", Status: RegionScanned}}},
		},
		Errors: []CollectionError{{AccountID: "111111111111", Service: "iam", Operation: "ListRoles", Code: "AccessDenied", Message: "\x00\u202e"}},
	}
	for _, tc := range []struct {
		name string
		inv  *Inventory
	}{
		{"demo", demo},
		{"hostile strings and shared policies", hostile},
		{"no accounts", &Inventory{Format: Format, SchemaVersion: SchemaVersion, Accounts: []*Account{}}},
		{"nil accounts", &Inventory{Format: Format, SchemaVersion: SchemaVersion}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := encoded(t, tc.inv)
			var got bytes.Buffer
			if err := Write(&got, tc.inv); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				i := 0
				for i < len(want) && i < got.Len() && want[i] == got.Bytes()[i] {
					i++
				}
				t.Fatalf("Write differs from json.Encoder at byte %d:\nwant …%q…\ngot  …%q…", i,
					want[max(0, i-60):min(len(want), i+60)], got.Bytes()[max(0, i-60):min(got.Len(), i+60)])
			}
		})
	}
}

// A snapshot Save wrote loads back as the inventory it was.
func TestSaveLoadsBack(t *testing.T) {
	inv, err := Load("../testdata/demo/snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/s.json"
	if err := Save(path, inv); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, encoded(t, inv)) {
		t.Fatal("Save did not write the encoder's bytes")
	}
	if _, err := Load(path); err != nil {
		t.Fatalf("the saved snapshot does not load: %v", err)
	}
}
