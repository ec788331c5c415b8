package fakeaws

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ecs-audit/audit/inventory"
)

const (
	dbSecret  = "arn:aws:secretsmanager:us-east-1:" + prodID + ":secret:app/db-AbCdEf"
	testKeyID = "1234abcd-12ab-34cd-56ef-1234567890ab"
	testKey   = "arn:aws:kms:us-east-1:" + prodID + ":key/" + testKeyID
)

func TestSecretsManager(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	client := secretsmanager.NewFromConfig(ts.assumeCfg(t, prodID, "us-east-1"))
	ctx := context.Background()
	tests := []struct {
		name, id, wantARN, wantName, wantKey, code string
	}{
		{"full ARN", dbSecret, dbSecret, "app/db", testKey, ""},
		{"partial ARN", strings.TrimSuffix(dbSecret, "-AbCdEf"), dbSecret, "app/db", testKey, ""},
		{"name", "app/db", dbSecret, "app/db", testKey, ""},
		{"name derived from ARN, AWS managed key", "registry", "arn:aws:secretsmanager:us-east-1:" + prodID + ":secret:registry-XyZ123", "registry", "", ""},
		{"unknown name", "app/nope", "", "", "", "ResourceNotFoundException"},
		{"name is not matched as a prefix", "app", "", "", "", "ResourceNotFoundException"},
		{"other region", "arn:aws:secretsmanager:eu-west-1:" + prodID + ":secret:app/db-AbCdEf", "", "", "", "ResourceNotFoundException"},
		{"other account", "arn:aws:secretsmanager:us-east-1:" + devID + ":secret:app/db-AbCdEf", "", "", "", "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(tt.id)})
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *out.ARN != tt.wantARN || *out.Name != tt.wantName || aws.ToString(out.KmsKeyId) != tt.wantKey {
				t.Errorf("got %s %s %v", *out.ARN, *out.Name, aws.ToString(out.KmsKeyId))
			}
		})
	}
	rp, err := client.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("app/db")})
	if err != nil || aws.ToString(rp.ResourcePolicy) != `{"Version":"2012-10-17","Statement":[]}` {
		t.Fatalf("GetResourcePolicy: %v %v", err, rp)
	}
	rp, err = client.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String("registry")})
	if err != nil || rp.ResourcePolicy != nil {
		t.Fatalf("GetResourcePolicy without a policy: %v %v", err, rp.ResourcePolicy)
	}
	var names []string
	p := secretsmanager.NewListSecretsPaginator(client, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.SecretList {
			names = append(names, *s.Name)
		}
	}
	if strings.Join(names, ",") != "app/db,registry" {
		t.Errorf("ListSecrets = %v", names)
	}
	filtered, err := client.ListSecrets(ctx, &secretsmanager.ListSecretsInput{Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{"reg"}}}})
	if err != nil || len(filtered.SecretList) != 1 || *filtered.SecretList[0].Name != "registry" {
		t.Errorf("filtered ListSecrets: %v %+v", err, filtered)
	}
}

func TestSSMDescribeParameters(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	client := ssm.NewFromConfig(ts.assumeCfg(t, prodID, "us-east-1"))
	ctx := context.Background()
	f := func(key, option string, values ...string) ssmtypes.ParameterStringFilter {
		out := ssmtypes.ParameterStringFilter{Key: aws.String(key), Values: values}
		if option != "" {
			out.Option = aws.String(option)
		}
		return out
	}
	tests := []struct {
		name    string
		filters []ssmtypes.ParameterStringFilter
		max     *int32
		count   int
		pages   int
		code    string
	}{
		{"all, default pages of 10", nil, nil, 62, 7, ""},
		{"all, pages of 50", nil, aws.Int32(50), 62, 2, ""},
		{"names equal", []ssmtypes.ParameterStringFilter{f("Name", "Equals", "/app/p01", "/app/p02", "flat", "/app/none")}, nil, 3, 1, ""},
		{"names begin with", []ssmtypes.ParameterStringFilter{f("Name", "BeginsWith", "/app/p1")}, aws.Int32(50), 10, 1, ""},
		{"secure strings", []ssmtypes.ParameterStringFilter{f("Type", "Equals", "SecureString")}, aws.Int32(50), 20, 1, ""},
		{"path one level", []ssmtypes.ParameterStringFilter{f("Path", "OneLevel", "/app")}, aws.Int32(50), 60, 2, ""},
		{"path recursive", []ssmtypes.ParameterStringFilter{f("Path", "Recursive", "/app/deep")}, nil, 1, 1, ""},
		{"51 values", []ssmtypes.ParameterStringFilter{f("Name", "Equals", make([]string, 51)...)}, nil, 0, 0, "ValidationException"},
		{"bad key", []ssmtypes.ParameterStringFilter{f("Colour", "Equals", "x")}, nil, 0, 0, "InvalidFilterKey"},
		{"bad option", []ssmtypes.ParameterStringFilter{f("Type", "Contains", "x")}, nil, 0, 0, "InvalidFilterOption"},
		{"max 51", nil, aws.Int32(51), 0, 0, "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ssm.NewDescribeParametersPaginator(client, &ssm.DescribeParametersInput{ParameterFilters: tt.filters, MaxResults: tt.max})
			count, pages := 0, 0
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if tt.code != "" {
					wantCode(t, err, tt.code)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, prm := range out.Parameters {
					count++
					if !strings.HasPrefix(*prm.ARN, "arn:aws:ssm:us-east-1:"+prodID+":parameter/") || strings.Contains(*prm.ARN, "parameter//") {
						t.Errorf("ARN %s", *prm.ARN)
					}
				}
			}
			if count != tt.count || pages != tt.pages {
				t.Errorf("%d parameters in %d pages, want %d in %d", count, pages, tt.count, tt.pages)
			}
		})
	}
}

func TestKMS(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	client := kms.NewFromConfig(ts.assumeCfg(t, prodID, "us-east-1"))
	ctx := context.Background()
	for _, tt := range []struct{ id, code string }{
		{testKeyID, ""}, {testKey, ""}, {"alias/app", ""}, {"arn:aws:kms:us-east-1:" + prodID + ":alias/app-old", ""},
		{"alias/nope", "NotFoundException"}, {"deadbeef-0000-0000-0000-000000000000", "NotFoundException"},
		{"arn:aws:kms:us-east-1:" + devID + ":key/" + testKeyID, "AccessDeniedException"},
	} {
		t.Run("DescribeKey "+tt.id, func(t *testing.T) {
			out, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(tt.id)})
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m := out.KeyMetadata; *m.KeyId != testKeyID || *m.Arn != testKey || m.KeyManager != "CUSTOMER" || *m.AWSAccountId != prodID {
				t.Errorf("metadata %s %s %s", *m.KeyId, *m.Arn, m.KeyManager)
			}
		})
	}
	// AWS managed keys resolve without being in the world, by alias and then
	// by ID. DescribeKey on the predefined alias is recorded: in AWS it
	// creates the key when there is none yet.
	managed, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/ssm")})
	if err != nil || managed.KeyMetadata.KeyManager != "AWS" {
		t.Fatalf("alias/aws/ssm: %v", err)
	}
	if m := ts.MutatingCalls(); !slices.Equal(m, []string{"kms:DescribeKey(alias/aws/ssm)"}) {
		t.Errorf("mutating calls %v, want DescribeKey of the predefined alias", m)
	}
	again, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: managed.KeyMetadata.KeyId})
	if err != nil || *again.KeyMetadata.Arn != *managed.KeyMetadata.Arn {
		t.Fatalf("AWS managed key by ID: %v", err)
	}
	mp, err := client.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: managed.KeyMetadata.Arn})
	if err != nil || !strings.Contains(*mp.Policy, `"kms:ViaService":"ssm.us-east-1.amazonaws.com"`) {
		t.Fatalf("AWS managed key policy: %v", err)
	}
	_, err = client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/not-a-service")})
	wantCode(t, err, "NotFoundException")

	pol, err := client.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(testKey)})
	if err != nil || !strings.Contains(*pol.Policy, "kms:Decrypt") || *pol.PolicyName != "default" {
		t.Fatalf("GetKeyPolicy: %v", err)
	}
	_, err = client.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String("alias/app")})
	wantCode(t, err, "NotFoundException")
	_, err = client.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(testKeyID), PolicyName: aws.String("other")})
	wantCode(t, err, "NotFoundException")

	var aliases []string
	p := kms.NewListAliasesPaginator(client, &kms.ListAliasesInput{Limit: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.Aliases {
			aliases = append(aliases, aws.ToString(a.AliasName)+"->"+aws.ToString(a.TargetKeyId))
		}
	}
	// The world's aliases, and the predefined aliases of AWS managed keys:
	// aws/ssm and aws/secretsmanager have a key (SecureString parameters
	// use the first, the registry secret names no key and uses the second),
	// the others none yet.
	want := []string{"alias/app->" + testKeyID, "alias/app-old->" + testKeyID}
	for _, svc := range sortedKeys(awsManagedKeyServices) {
		target := ""
		switch svc {
		case "ssm":
			target = *managed.KeyMetadata.KeyId
		case "secretsmanager":
			target = ts.awsManagedKey(&call{caller: &principal{account: prodID}, region: "us-east-1"}, svc).KeyID
		}
		want = append(want, "alias/aws/"+svc+"->"+target)
	}
	slices.Sort(want)
	if !slices.Equal(aliases, want) {
		t.Errorf("aliases\n %v\nwant\n %v", aliases, want)
	}
	byKey, err := client.ListAliases(ctx, &kms.ListAliasesInput{KeyId: managed.KeyMetadata.KeyId})
	if err != nil || len(byKey.Aliases) != 1 || aws.ToString(byKey.Aliases[0].AliasName) != "alias/aws/ssm" {
		t.Errorf("aliases of the AWS managed key: %v %+v", err, byKey)
	}
}

// ListSecrets as the scanner uses it: a name filter of up to ten values, a
// case-sensitive prefix match, secrets scheduled for deletion only with
// IncludePlannedDeletion, and the API's limits on filter values.
func TestListSecretsNameFilter(t *testing.T) {
	w := testWorld()
	var r *inventory.Region
	for _, a := range w.Accounts {
		for _, reg := range a.Regions {
			if a.ID == prodID && reg.Name == "us-east-1" {
				r = reg
			}
		}
	}
	deleted := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	r.Secrets = append(r.Secrets,
		&inventory.Secret{ARN: "arn:aws:secretsmanager:us-east-1:" + prodID + ":secret:app/dbx-QwErTy", Name: "app/dbx"},
		&inventory.Secret{ARN: "arn:aws:secretsmanager:us-east-1:" + prodID + ":secret:old-ZxCvBn", Name: "old", DeletedDate: &deleted},
	)
	ts := startServer(t, w, Options{})
	client := secretsmanager.NewFromConfig(ts.assumeCfg(t, prodID, "us-east-1"))
	ctx := context.Background()
	list := func(include bool, values ...string) ([]string, error) {
		var names []string
		p := secretsmanager.NewListSecretsPaginator(client, &secretsmanager.ListSecretsInput{
			Filters:                []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: values}},
			IncludePlannedDeletion: aws.Bool(include), MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, s := range out.SecretList {
				n := *s.Name
				if s.DeletedDate != nil {
					n += "(deleted " + s.DeletedDate.UTC().Format(time.DateOnly) + ")"
				}
				names = append(names, n)
			}
		}
		slices.Sort(names)
		return names, nil
	}
	tests := []struct {
		name    string
		include bool
		values  []string
		want    string
		code    string
	}{
		{"prefix", false, []string{"app/db"}, "app/db,app/dbx", ""},
		{"case-sensitive", false, []string{"App/db"}, "", ""},
		{"several values", false, []string{"registry", "app/dbx", "nope"}, "app/dbx,registry", ""},
		{"planned deletion left out", false, []string{"old"}, "", ""},
		{"planned deletion asked for", true, []string{"old", "reg"}, "old(deleted 2026-02-01),registry", ""},
		{"ten values", false, []string{"x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "registry"}, "registry", ""},
		{"eleven values", false, []string{"x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "registry"}, "", "ValidationException"},
		{"no value", false, []string{}, "", "ValidationException"},
		{"a character outside the pattern", false, []string{"app/db*"}, "", "ValidationException"},
		{"too long", false, []string{strings.Repeat("a", 513)}, "", "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := list(tt.include, tt.values...)
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("ListSecrets %v = %v, want %s", tt.values, got, tt.want)
			}
		})
	}
	// DescribeSecret gives the deletion date too.
	out, err := client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("old")})
	if err != nil || out.DeletedDate == nil || !out.DeletedDate.Equal(deleted) {
		t.Errorf("DescribeSecret of a secret scheduled for deletion: %v %+v", err, out)
	}
}
