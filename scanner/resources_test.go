package scanner

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ecs-audit/audit/inventory"
)

func secretARN(acct, region, name string) string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-AbCdEf", region, acct, name)
}

func keyARN(acct, region, id string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, acct, id)
}

// resourceWorld: memberA's task definition in us-east-1 references
// secrets, parameters and keys in several forms and places.
func resourceWorld(t *testing.T) *fakeBackend {
	t.Helper()
	be := newFakeBackend(callerAcct)
	const r = "us-east-1"
	a := memberA
	f := ecsWorld(a, r, 0, 0, 0, 1, 1)
	sec := func(name, from string) ecstypes.Secret {
		return ecstypes.Secret{Name: aws.String(name), ValueFrom: aws.String(from)}
	}
	cd := &f.tds[0].ContainerDefinitions[0]
	cd.Secrets = []ecstypes.Secret{
		sec("DB", secretARN(a, r, "db")+":password::"),                 // JSON key form
		sec("DB2", "arn:aws:secretsmanager:us-east-1:"+a+":secret:db"), // partial ARN, same secret
		sec("HOST", "/app/host"),                                       // SSM name
		sec("FLAT", "arn:aws:ssm:us-east-1:"+a+":parameter/flat"),      // SSM ARN of a flat name
		sec("DEEP", "arn:aws:ssm:us-east-1:"+a+":parameter/app/deep"),  // SSM ARN of /app/deep
		sec("GONE", "/app/missing"),                                    // does not exist
		sec("REF", "/aws/reference/secretsmanager/viaref"),             // an SSM name for a secret
		sec("X", secretARN(memberB, r, "shared")),                      // another scanned account
		sec("OUT", secretARN("999999999999", r, "outside")),            // not scanned: skipped
		sec("DENIED", secretARN(a, r, "denied")),                       // AccessDenied
		sec("OTHERREGION", secretARN(a, "eu-west-1", "euonly")),        // region not scanned: skipped
	}
	for i := range 12 { // more than one DescribeParameters batch
		cd.Secrets = append(cd.Secrets, sec(fmt.Sprintf("P%d", i), fmt.Sprintf("/bulk/p%02d", i)))
	}
	cd.RepositoryCredentials = &ecstypes.RepositoryCredentials{CredentialsParameter: aws.String("registry")} // a secret name
	cd.LogConfiguration = &ecstypes.LogConfiguration{LogDriver: "splunk", SecretOptions: []ecstypes.Secret{sec("splunk-token", secretARN(a, r, "db"))}}
	be.region(a, r).ecs = f

	ra := be.region(a, r)
	ra.secrets.secrets = map[string]*secretsmanager.DescribeSecretOutput{}
	for _, n := range []string{"db", "registry", "viaref", "denied"} {
		arn := secretARN(a, r, n)
		out := &secretsmanager.DescribeSecretOutput{ARN: aws.String(arn), Name: aws.String(n)}
		if n == "db" {
			out.KmsKeyId = aws.String("arn:aws:kms:us-east-1:" + a + ":alias/app") // alias ARN
		}
		if n == "registry" {
			out.KmsKeyId = aws.String(keyARN(a, r, "k-app")) // the same key by ARN
		}
		ra.secrets.secrets[arn] = out
	}
	ra.secrets.policies = map[string]string{secretARN(a, r, "db"): `{"Statement":[]}`}
	ra.secrets.fail = func(op string, in any) error {
		// denied: a resource policy denies the scan role the secret (it
		// still appears in ListSecrets, which is not authorized per
		// secret); viaref: its policy cannot be read.
		if op == "DescribeSecret" && aws.ToString(in.(*secretsmanager.DescribeSecretInput).SecretId) == secretARN(a, r, "denied") {
			return apiErr("AccessDeniedException", "not allowed")
		}
		if op == "GetResourcePolicy" && slices.Contains([]string{secretARN(a, r, "viaref"), secretARN(a, r, "denied")}, aws.ToString(in.(*secretsmanager.GetResourcePolicyInput).SecretId)) {
			return apiErr("AccessDeniedException", "not allowed")
		}
		return nil
	}
	ra.ssm.params = map[string]ssmtypes.ParameterMetadata{
		"/app/host": {Name: aws.String("/app/host"), Type: ssmtypes.ParameterTypeString},
		"flat":      {Name: aws.String("flat"), Type: ssmtypes.ParameterTypeSecureString, KeyId: aws.String("alias/aws/ssm")},
		"/app/deep": {Name: aws.String("/app/deep"), Type: ssmtypes.ParameterTypeSecureString, KeyId: aws.String(keyARN(memberB, r, "k-b"))},
	}
	for i := range 12 {
		n := fmt.Sprintf("/bulk/p%02d", i)
		ra.ssm.params[n] = ssmtypes.ParameterMetadata{Name: aws.String(n), Type: ssmtypes.ParameterTypeString}
	}
	ra.kms.keys = map[string]kmstypes.KeyMetadata{
		"k-app": {KeyId: aws.String("k-app"), Arn: aws.String(keyARN(a, r, "k-app")), KeyManager: kmstypes.KeyManagerTypeCustomer},
		"k-ssm": {KeyId: aws.String("k-ssm"), Arn: aws.String(keyARN(a, r, "k-ssm")), KeyManager: kmstypes.KeyManagerTypeAws},
	}
	ra.kms.aliases = map[string]string{"alias/app": "k-app", "alias/aws/ssm": "k-ssm"}

	rb := be.region(memberB, r)
	rb.secrets.secrets = map[string]*secretsmanager.DescribeSecretOutput{
		secretARN(memberB, r, "shared"): {ARN: aws.String(secretARN(memberB, r, "shared")), Name: aws.String("shared")},
	}
	rb.kms.keys = map[string]kmstypes.KeyMetadata{"k-b": {KeyId: aws.String("k-b"), Arn: aws.String(keyARN(memberB, r, "k-b")), KeyManager: kmstypes.KeyManagerTypeCustomer}}
	return be
}

// TestResolveResources resolves secrets with ListSecrets (the default) and
// with DescribeSecret one by one (as before ListSecrets; the fallback).
func TestResolveResources(t *testing.T) {
	for _, describeEach := range []bool{false, true} {
		t.Run(fmt.Sprintf("describeEach=%v", describeEach), func(t *testing.T) { testResolveResources(t, describeEach) })
	}
}

func testResolveResources(t *testing.T, describeEach bool) {
	be := resourceWorld(t)
	res := run(t, context.Background(), be, Config{Accounts: []string{memberA, memberB}, Regions: []string{"us-east-1"}, ResolveResources: true, describeEach: describeEach})
	if res.err != nil {
		t.Fatal(res.err)
	}
	inv := res.inv
	if err := inv.Validate(); err != nil {
		t.Error(err)
	}
	var errs []string
	for _, e := range inv.Errors {
		errs = append(errs, fmt.Sprintf("%s/%s/%s/%s", e.AccountID, e.Operation, e.Code, e.Resource))
	}
	wantErrs := []string{
		memberA + "/DescribeSecret/AccessDeniedException/" + secretARN(memberA, "us-east-1", "denied"),
		memberA + "/GetResourcePolicy/AccessDeniedException/" + secretARN(memberA, "us-east-1", "viaref"),
	}
	// Listed, the denied secret is known to exist with its key; its
	// policy is not collected.
	wantSecrets := []string{"db:collected", "registry:none", "viaref:not-collected"}
	if !describeEach {
		wantErrs = []string{
			memberA + "/GetResourcePolicy/AccessDeniedException/" + secretARN(memberA, "us-east-1", "denied"),
			memberA + "/GetResourcePolicy/AccessDeniedException/" + secretARN(memberA, "us-east-1", "viaref"),
		}
		wantSecrets = []string{"db:collected", "denied:not-collected", "registry:none", "viaref:not-collected"}
	}
	if !slices.Equal(errs, wantErrs) {
		t.Errorf("errors\n %v\nwant\n %v", errs, wantErrs)
	}
	regionOf := func(acct string) *inventory.Region {
		for _, a := range inv.Accounts {
			if a.ID == acct {
				return a.Regions[0]
			}
		}
		t.Fatalf("no account %s", acct)
		return nil
	}
	ra, rb := regionOf(memberA), regionOf(memberB)

	var secrets []string
	for _, s := range ra.Secrets {
		// The resource policy's status: given, known to be absent, or
		// not read (GetResourcePolicy failed for viaref).
		secrets = append(secrets, s.Name+":"+s.ResourcePolicyStatus)
		if s.Name == "db" && (s.ResourcePolicy == "" || s.KMSKeyID == "") {
			t.Errorf("secret db = %+v", s)
		}
	}
	if !slices.Equal(secrets, wantSecrets) {
		t.Errorf("secrets of A %v, want %v", secrets, wantSecrets)
	}
	if len(rb.Secrets) != 1 || rb.Secrets[0].Name != "shared" || rb.Secrets[0].ResourcePolicyStatus != inventory.PolicyNone {
		t.Errorf("secrets of B %+v", rb.Secrets)
	}
	// A parameter that does not exist is a fact, not a collection error.
	if !slices.Equal(ra.MissingParameters, []string{"/app/missing"}) || len(ra.MissingSecrets) != 0 {
		t.Errorf("missing parameters %v secrets %v, want the parameter /app/missing", ra.MissingParameters, ra.MissingSecrets)
	}
	var params []string
	for _, p := range ra.Parameters {
		params = append(params, p.Name)
		if p.ResourcePolicyStatus != inventory.PolicyNotCollected {
			t.Errorf("parameter %s: resource policy status %q (parameter policies are not read)", p.Name, p.ResourcePolicyStatus)
		}
	}
	if len(params) != 15 || !slices.Contains(params, "flat") || !slices.Contains(params, "/app/deep") || slices.Contains(params, "/flat") {
		t.Errorf("parameters %v", params)
	}
	var keys []string
	for _, k := range ra.KMSKeys {
		keys = append(keys, k.KeyID+":"+k.Manager+fmt.Sprint(k.Aliases))
		// An AWS managed key named by its alias is taken from ListAliases:
		// its key policy is not read.
		if k.Manager == "CUSTOMER" && (k.Policy == "" || k.PolicyStatus != inventory.PolicyCollected) {
			t.Errorf("key %s without policy (%q)", k.ARN, k.PolicyStatus)
		}
		if k.Manager == "AWS" && k.PolicyStatus != inventory.PolicyNotCollected {
			t.Errorf("AWS managed key %s: policy status %q, want not-collected (its policy is not read)", k.ARN, k.PolicyStatus)
		}
	}
	if want := []string{"k-app:CUSTOMER[alias/app]", "k-ssm:AWS[alias/aws/ssm]"}; !slices.Equal(keys, want) {
		t.Errorf("keys of A %v, want %v (alias and ARN of one key resolve once)", keys, want)
	}
	if len(rb.KMSKeys) != 1 || rb.KMSKeys[0].KeyID != "k-b" {
		t.Errorf("keys of B %+v (a key named by ARN belongs to its account)", rb.KMSKeys)
	}

	fa := be.region(memberA, "us-east-1")
	for key, n := range fa.secrets.keyCounts("DescribeSecret") {
		if n != 1 {
			t.Errorf("DescribeSecret %s: %d calls", key, n)
		}
	}
	// Listed: one call for the names db (by full and by partial ARN),
	// registry, viaref and denied, in each account. One by one: db by full
	// and by partial ARN (the partial one is only known to be the same
	// secret after the call), registry, viaref, denied.
	wantDescribe, wantList, wantBatch := 0, 1, []int{4}
	if describeEach {
		wantDescribe, wantList, wantBatch = 5, 0, nil
	}
	if n := fa.secrets.n("DescribeSecret"); n != wantDescribe {
		t.Errorf("%d DescribeSecret calls, want %d", n, wantDescribe)
	}
	if n, sizes := fa.secrets.n("ListSecrets"), fa.secrets.sizes("ListSecrets"); n != wantList || !slices.Equal(sizes, wantBatch) {
		t.Errorf("%d ListSecrets calls asking for %v names, want %d asking for %v", n, sizes, wantList, wantBatch)
	}
	if n := be.region(memberB, "us-east-1").secrets.n("ListSecrets"); n != wantList {
		t.Errorf("%d ListSecrets calls in %s, want %d", n, memberB, wantList)
	}
	// 17 parameter names: one listing (of several pages here), or two of
	// at most ten names.
	wantParams := []int{17}
	if describeEach {
		wantParams = []int{7, 10}
	}
	if sizes := slices.Compact(slices.Sorted(slices.Values(fa.ssm.sizes("DescribeParameters")))); !slices.Equal(sizes, wantParams) {
		t.Errorf("DescribeParameters asked for %v names, want %v", sizes, wantParams)
	}
	if n := fa.kms.n("GetKeyPolicy"); n != 1 {
		t.Errorf("%d GetKeyPolicy calls, want 1 (k-app; alias/aws/ssm is AWS managed by definition)", n)
	}
	if len(fa.kms.awsAliasCalls) != 0 {
		t.Errorf("calls naming an AWS managed alias: %v", fa.kms.awsAliasCalls)
	}
	if n := be.region(memberA, "eu-west-1").secrets.n("DescribeSecret"); n != 0 {
		t.Errorf("resolved in a region that was not scanned")
	}
}

// A key policy that could not be read is recorded as not collected, next to
// the collection error.
func TestResolveResourcesKeyPolicyNotCollected(t *testing.T) {
	be := resourceWorld(t)
	be.region(memberB, "us-east-1").kms.fail = func(op string, in any) error {
		if op == "GetKeyPolicy" {
			return apiErr("AccessDeniedException", "not allowed")
		}
		return nil
	}
	res := run(t, context.Background(), be, Config{Accounts: []string{memberA, memberB}, Regions: []string{"us-east-1"}, ResolveResources: true})
	if res.err != nil {
		t.Fatal(res.err)
	}
	failed := res.inv.PolicyReadFailures()
	for _, a := range res.inv.Accounts {
		for _, k := range a.Regions[0].KMSKeys {
			want := inventory.PolicyCollected
			if k.Manager == "AWS" {
				// Taken from ListAliases; its key policy is never read.
				if k.PolicyStatus != inventory.PolicyNotCollected || k.Policy != "" {
					t.Errorf("AWS managed key %s: status %q policy %q", k.ARN, k.PolicyStatus, k.Policy)
				}
				continue
			}
			if a.ID == memberB {
				want = inventory.PolicyNotCollected
				if !failed[k.ARN] {
					t.Errorf("no collection error for the key policy of %s", k.ARN)
				}
			}
			if k.PolicyStatus != want || (want == inventory.PolicyNotCollected) != (k.Policy == "") {
				t.Errorf("key %s: status %q policy %q, want %q", k.ARN, k.PolicyStatus, k.Policy, want)
			}
		}
	}
}

func TestResolveResourcesOff(t *testing.T) {
	be := resourceWorld(t)
	res := run(t, context.Background(), be, Config{Accounts: []string{memberA}, Regions: []string{"us-east-1"}})
	if res.err != nil || len(res.inv.Errors) != 0 {
		t.Fatalf("%v %+v", res.err, res.inv.Errors)
	}
	r := be.region(memberA, "us-east-1")
	if r.secrets.n("DescribeSecret")+r.ssm.n("DescribeParameters")+r.kms.n("DescribeKey") != 0 {
		t.Errorf("resources resolved although ResolveResources is false")
	}
}

func TestParseARN(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"arn:aws:secretsmanager:us-east-1:111111111111:secret:x-AbCdEf", true},
		{"arn:aws:ssm:eu-west-1:111111111111:parameter/a/b", true},
		{"arn:aws:ssm::111111111111:parameter/a", false},                 // no region
		{"arn:aws:ssm:evil.example.com:111111111111:parameter/a", false}, // not a region
		{"arn:aws:ssm:us-east-1:aws:parameter/a", false},                 // not an account
		{"/app/x", false},
		{"arn:aws:ssm", false},
	}
	for _, tt := range tests {
		if _, ok := parseARN(tt.in); ok != tt.ok {
			t.Errorf("parseARN(%q) ok=%v, want %v", tt.in, ok, tt.ok)
		}
	}
}
