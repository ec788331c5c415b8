package scanner

import (
	"context"
	"fmt"
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
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ecs-audit/audit/internal/mototest"
)

// TestMotoSecretsListing resolves secrets through moto's ListSecrets (name
// filters, a prefix match; secrets scheduled for deletion on request) and
// through DescribeSecret one by one, and checks that both give the same
// secrets and missing references: names sharing prefixes, full and partial
// ARNs, a secret scheduled for deletion, a reference by name through SSM,
// registry credentials by name, and references to secrets that do not
// exist. Likewise for 57 parameter references (55 parameters, two that do
// not exist): DescribeParameters with a Name filter of 50 values (moto
// checks the 50-value limit), against ten names per call.
//
// What moto does not check, and fakeaws does (internal/fakeaws/secrets.go):
// ListSecrets' limit of ten values per filter and the pattern and length of
// a value; moto accepts more. And moto pages DescribeParameters by ten
// whatever MaxResults asks for.
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
	ssmc := ssm.NewFromConfig(cfg)
	var paramRefs []ecstypes.Secret
	for i := range 55 {
		name := fmt.Sprintf("/svc/param-%02d", i)
		if _, err := ssmc.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("do-not-copy"), Type: ssmtypes.ParameterTypeString}); err != nil {
			t.Fatalf("moto setup: PutParameter %s: %v", name, err)
		}
		paramRefs = append(paramRefs, ecstypes.Secret{Name: aws.String(fmt.Sprintf("P%02d", i)), ValueFrom: aws.String(name)})
	}
	paramRefs = append(paramRefs,
		ecstypes.Secret{Name: aws.String("PGONE1"), ValueFrom: aws.String("/svc/param-gone")},
		ecstypes.Secret{Name: aws.String("PGONE2"), ValueFrom: aws.String("/svc/param-0")}) // a prefix only
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
		}, {
			Name: aws.String("params"), Image: aws.String("nginx"), Memory: aws.Int32(128), Secrets: paramRefs,
		}},
	})
	if err != nil {
		t.Fatalf("moto setup: RegisterTaskDefinition: %v", err)
	}

	var params [2][]string // listed, one by one: the parameters, then the missing ones
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
		var ps []string
		for _, p := range r.Parameters {
			ps = append(ps, p.Name+" "+p.Type)
		}
		ps = append(ps, "missing:")
		ps = append(ps, r.MissingParameters...)
		params[boolIndex(describeEach)] = ps
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
	if !slices.Equal(params[0], params[1]) {
		t.Errorf("parameters listed:\n %v\none by one:\n %v", params[0], params[1])
	}
	for i := range 55 {
		if !slices.Contains(params[0], fmt.Sprintf("/svc/param-%02d String", i)) {
			t.Errorf("parameter /svc/param-%02d not resolved: %v", i, params[0])
		}
	}
	if i := slices.Index(params[0], "missing:"); i < 0 || !slices.Equal(params[0][i+1:], []string{"/svc/param-0", "/svc/param-gone"}) {
		t.Errorf("missing parameters: %v, want /svc/param-0 and /svc/param-gone", params[0])
	}
	// Fewer calls with 50 names a call than with 10, although moto pages
	// DescribeParameters by ten whatever MaxResults asks for (AWS returns
	// up to 50 a page), so that here the 50 names of a call take five
	// pages: one call on AWS.
	if l, e := listWire.count("ssm:DescribeParameters"), eachWire.count("ssm:DescribeParameters"); l >= e || e < 6 {
		t.Errorf("DescribeParameters: %d calls listed, %d one by one; want fewer listed, and at least 6 one by one", l, e)
	}
	if l, d := listWire.count("secretsmanager:ListSecrets"), listWire.count("secretsmanager:DescribeSecret"); l != 1 || d != 0 {
		t.Errorf("listed: %d ListSecrets and %d DescribeSecret calls, want 1 and 0", l, d)
	}
	if l, d := eachWire.count("secretsmanager:ListSecrets"), eachWire.count("secretsmanager:DescribeSecret"); l != 0 || d < 8 {
		t.Errorf("one by one: %d ListSecrets and %d DescribeSecret calls, want 0 and one per reference (8 here, and the organization's own)", l, d)
	}
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}
