package scanner

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ecs-audit/audit/internal/mototest"
)

// TestMotoSecretsListing resolves secrets through moto's ListSecrets (name
// filters, a prefix match; secrets scheduled for deletion on request) and
// through DescribeSecret one by one, and checks that both give the same
// secrets and missing references: names sharing prefixes, full and partial
// ARNs, a secret scheduled for deletion, a reference by name through SSM,
// registry credentials by name, and references to secrets that do not
// exist.
func TestMotoSecretsListing(t *testing.T) {
	if testing.Short() {
		t.Skip("moto integration test skipped in -short mode")
	}
	srv := mototest.Start(t)
	mototest.Env(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := mototest.BuildOrg(t, ctx)
	app := w.Members[0]
	const east = "us-east-1"
	mgmt, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := mgmt.Copy()
	cfg.Region = east
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(mgmt), "arn:aws:iam::"+app+":role/OrganizationAccountAccessRole"))
	sm := secretsmanager.NewFromConfig(cfg)
	arns := map[string]string{}
	for _, n := range []string{"svc/db", "svc/db-replica", "svc/dbx", "registry", "retired"} {
		out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(n), SecretString: aws.String("do-not-copy")})
		if err != nil {
			t.Fatalf("moto setup: CreateSecret %s: %v", n, err)
		}
		arns[n] = aws.ToString(out.ARN)
	}
	if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("retired"), RecoveryWindowInDays: aws.Int64(7)}); err != nil {
		t.Fatalf("moto setup: DeleteSecret: %v", err)
	}
	partial := arns["svc/db"][:len(arns["svc/db"])-7]
	missingARN := partial[:len(partial)-len("svc/db")] + "svc/gone-AbCdEf"
	secret := func(name, from string) ecstypes.Secret {
		return ecstypes.Secret{Name: aws.String(name), ValueFrom: aws.String(from)}
	}
	_, err = ecs.NewFromConfig(cfg).RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("listed"), ExecutionRoleArn: aws.String("arn:aws:iam::" + app + ":role/" + w.ExecRole),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("app"), Image: aws.String("nginx"), Memory: aws.Int32(128),
			RepositoryCredentials: &ecstypes.RepositoryCredentials{CredentialsParameter: aws.String("registry")},
			Secrets: []ecstypes.Secret{
				secret("FULL", arns["svc/db"]+":password::"),
				secret("PARTIAL", partial),
				secret("X", arns["svc/dbx"]),
				secret("RETIRED", arns["retired"]),
				secret("BYNAME", ssmSecretsReference+"svc/db-replica"),
				secret("PREFIXONLY", ssmSecretsReference+"svc"),
				secret("GONE", missingARN),
			},
		}},
	})
	if err != nil {
		t.Fatalf("moto setup: RegisterTaskDefinition: %v", err)
	}

	scan := func(describeEach bool) (*opCounter, []string, []string) {
		wire := newOpCounter(awshttp.NewBuildableClient())
		inv, err := Collect(ctx, Config{Org: true, Accounts: []string{app}, Regions: []string{east}, ResolveResources: true,
			HTTPClient: wire, describeEach: describeEach})
		if err != nil {
			t.Fatalf("Collect: %v", err)
		}
		for _, e := range inv.Errors {
			if e.Service == "secretsmanager" {
				t.Errorf("describeEach=%v: %+v", describeEach, e)
			}
		}
		r := regionOf(t, inv, app, east)
		var got []string
		for _, s := range r.Secrets {
			d := ""
			if s.DeletedDate != nil {
				d = " scheduled for deletion"
			}
			got = append(got, s.Name+" "+s.ARN+" "+s.ResourcePolicyStatus+d)
		}
		return wire, got, r.MissingSecrets
	}
	listWire, listed, listMissing := scan(false)
	eachWire, each, eachMissing := scan(true)
	if !reflect.DeepEqual(listed, each) || !slices.Equal(listMissing, eachMissing) {
		t.Errorf("listed:\n %v missing %v\none by one:\n %v missing %v", listed, listMissing, each, eachMissing)
	}
	// (The organization's own task definitions name its db-password
	// secret too.)
	for _, n := range []string{"svc/db", "svc/db-replica", "svc/dbx", "registry", "retired"} {
		if !slices.ContainsFunc(listed, func(s string) bool { return strings.HasPrefix(s, n+" "+arns[n]+" ") }) {
			t.Errorf("secret %s not resolved: %v", n, listed)
		}
	}
	if !slices.Equal(listMissing, []string{missingARN, "svc"}) {
		t.Errorf("missing %v, want %s and svc", listMissing, missingARN)
	}
	if !slices.ContainsFunc(listed, func(s string) bool { return s == "retired "+arns["retired"]+" none scheduled for deletion" }) {
		t.Errorf("the secret scheduled for deletion is not recorded as such: %v", listed)
	}
	if l, d := listWire.count("secretsmanager:ListSecrets"), listWire.count("secretsmanager:DescribeSecret"); l != 1 || d != 0 {
		t.Errorf("listed: %d ListSecrets and %d DescribeSecret calls, want 1 and 0", l, d)
	}
	if l, d := eachWire.count("secretsmanager:ListSecrets"), eachWire.count("secretsmanager:DescribeSecret"); l != 0 || d < 8 {
		t.Errorf("one by one: %d ListSecrets and %d DescribeSecret calls, want 0 and one per reference (8 here, and the organization's own)", l, d)
	}
}
