package scanner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ecs-audit/audit/inventory"
)

func TestSecretListName(t *testing.T) {
	for _, tt := range []struct{ ref, want string }{
		{"app/db", "app/db"},
		{"arn:aws:secretsmanager:us-east-1:222222222222:secret:app/db-AbCdEf", "app/db"},
		{"arn:aws:secretsmanager:us-east-1:222222222222:secret:app/db", "app/db"},
		// A partial ARN whose name ends like a suffix: the shorter prefix
		// lists it too.
		{"arn:aws:secretsmanager:us-east-1:222222222222:secret:my-secret", "my"},
		{"arn:aws:secretsmanager:us-east-1:222222222222:secret:ab-1234567", "ab-1234567"},
		{"arn:aws:secretsmanager:us-east-1:222222222222:secret:-AbCdEf", "-AbCdEf"},
	} {
		if got := secretListName(tt.ref); got != tt.want {
			t.Errorf("secretListName(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

// secretsWorld: one account×region whose task definition references
// secrets in every form, among secrets whose names share prefixes.
func secretsWorld(t *testing.T, refs []string, names []string, deleted map[string]bool) *fakeBackend {
	t.Helper()
	be := newFakeBackend(callerAcct)
	const r = "us-east-1"
	f := ecsWorld(memberA, r, 0, 0, 0, 1, 1)
	cd := &f.tds[0].ContainerDefinitions[0]
	for i, ref := range refs {
		if !strings.HasPrefix(ref, "arn:") {
			ref = ssmSecretsReference + ref // a secret by name, through SSM
		}
		cd.Secrets = append(cd.Secrets, ecstypes.Secret{Name: aws.String(fmt.Sprintf("S%d", i)), ValueFrom: aws.String(ref)})
	}
	be.region(memberA, r).ecs = f
	be.region(memberA, r).kms.keys = map[string]kmstypes.KeyMetadata{
		"k-app": {KeyId: aws.String("k-app"), Arn: aws.String(keyARN(memberA, r, "k-app")), KeyManager: kmstypes.KeyManagerTypeCustomer}}
	be.region(memberA, r).kms.aliases = map[string]string{"alias/app": "k-app"}
	sm := be.region(memberA, r).secrets
	sm.secrets = map[string]*secretsmanager.DescribeSecretOutput{}
	for i, n := range names {
		arn := fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-Sfx%03d", r, memberA, n, i)
		out := &secretsmanager.DescribeSecretOutput{ARN: aws.String(arn), Name: aws.String(n)}
		if i%2 == 0 {
			out.KmsKeyId = aws.String("alias/app")
		}
		if deleted[n] {
			d := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			out.DeletedDate = &d
		}
		sm.secrets[arn] = out
	}
	return be
}

// TestListSecretsAsDescribeSecret: whatever the references and the
// secrets, resolving them with ListSecrets gives what DescribeSecret one by
// one gives (secrets, missing ones, errors), in fewer calls.
func TestListSecretsAsDescribeSecret(t *testing.T) {
	arn := func(name string) string { return "arn:aws:secretsmanager:us-east-1:" + memberA + ":secret:" + name }
	many := func(prefix string, n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("%s%03d", prefix, i))
		}
		return out
	}
	tests := []struct {
		name    string
		refs    []string
		secrets []string
		deleted map[string]bool
		// the calls (ListSecrets and DescribeSecret), and the DescribeSecret
		// calls among them
		list, describe int
	}{
		{"names, exact among prefixes", []string{"app/db", "app", "app/db-old", "nope"}, []string{"app/db", "app/dbx", "app/db-old", "application"}, nil, 1, 0},
		{"full and partial ARNs", []string{arn("app/db-Sfx000"), arn("app/dbx"), arn("app/db-Sfx999"), arn("nope")}, []string{"app/db", "app/dbx"}, nil, 1, 0},
		{"a name that looks suffixed", []string{arn("my-secret"), "my-secret", arn("my-secret-Sfx000")}, []string{"my-secret", "my"}, nil, 1, 0},
		{"scheduled for deletion", []string{"old", arn("old")}, []string{"old"}, map[string]bool{"old": true}, 1, 0},
		{"eleven names: two listings", many("s", 11), many("s", 11), nil, 2, 0},
		{"a name no filter can express", []string{"odd,name", "!neg", "app"}, []string{"odd,name", "app"}, nil, 3, 2},
		{"an ARN of another partition", []string{"arn:aws-cn:secretsmanager:us-east-1:" + memberA + ":secret:app-Sfx000"}, []string{"app"}, nil, 1, 1},
		// 250 secrets named p…: the listing of "p" and "p007" stops after
		// two pages (two names, two pages at most); p007 was on the first,
		// "p" itself is described.
		{"a listing cut short", []string{"p", "p007"}, append(many("p", 250), "q"), nil, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scan := func(describeEach bool) (*inventory.Region, *fakeBackend) {
				be := secretsWorld(t, tt.refs, tt.secrets, tt.deleted)
				res := run(t, context.Background(), be, Config{Accounts: []string{memberA}, Regions: []string{"us-east-1"}, ResolveResources: true, describeEach: describeEach})
				if res.err != nil {
					t.Fatal(res.err)
				}
				if len(res.inv.Errors) != 0 {
					t.Fatalf("errors: %+v", res.inv.Errors)
				}
				return regionOf(t, res.inv, memberA, "us-east-1"), be
			}
			want, _ := scan(true)
			got, be := scan(false)
			if !reflect.DeepEqual(got.Secrets, want.Secrets) || !slices.Equal(got.MissingSecrets, want.MissingSecrets) {
				t.Errorf("listed: secrets %s missing %v\none by one: secrets %s missing %v",
					mustJSONString(got.Secrets), got.MissingSecrets, mustJSONString(want.Secrets), want.MissingSecrets)
			}
			sm := be.region(memberA, "us-east-1").secrets
			if l, d := sm.n("ListSecrets"), sm.n("DescribeSecret"); l+d != tt.list || d != tt.describe {
				t.Errorf("%d ListSecrets and %d DescribeSecret calls, want %d calls of which %d DescribeSecret", l, d, tt.list, tt.describe)
			}
			for _, size := range sm.sizes("ListSecrets") {
				if size > listSecretsBatch {
					t.Errorf("a ListSecrets filter of %d values", size)
				}
			}
		})
	}
}

// A scan role without secretsmanager:ListSecrets (deployed before the
// scanner listed secrets) still resolves every secret, one by one, and
// the scan is complete.
func TestListSecretsDeniedFallsBack(t *testing.T) {
	refs := []string{"app/db", "nope", "arn:aws:secretsmanager:us-east-1:" + memberA + ":secret:app/dbx"}
	names := []string{"app/db", "app/dbx"}
	be := secretsWorld(t, refs, names, nil)
	sm := be.region(memberA, "us-east-1").secrets
	sm.fail = failOp("ListSecrets", apiErr("AccessDeniedException", "not authorized to perform: secretsmanager:ListSecrets"))
	var log strings.Builder
	res := run(t, context.Background(), be, Config{Accounts: []string{memberA}, Regions: []string{"us-east-1"}, ResolveResources: true,
		Logger: newTestLogger(&log)})
	if res.err != nil || len(res.inv.Errors) != 0 || !res.inv.Complete {
		t.Fatalf("err %v, errors %+v", res.err, res.inv.Errors)
	}
	r := regionOf(t, res.inv, memberA, "us-east-1")
	if len(r.Secrets) != 2 || !slices.Equal(r.MissingSecrets, []string{"nope"}) {
		t.Errorf("secrets %s missing %v", mustJSONString(r.Secrets), r.MissingSecrets)
	}
	if sm.n("DescribeSecret") != 3 {
		t.Errorf("%d DescribeSecret calls, want 3", sm.n("DescribeSecret"))
	}
	if !strings.Contains(log.String(), "secretsmanager:ListSecrets") {
		t.Errorf("the fallback is not logged:\n%s", log.String())
	}
}

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func mustJSONString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
