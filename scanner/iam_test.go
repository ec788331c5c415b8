package scanner

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/ecs-audit/audit/inventory"
)

func TestDecodeDocument(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a+b/c d"}]}`
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr bool
	}{
		{"plain JSON is kept", doc, doc, false},
		{"plain JSON with spaces around", "  \n" + doc + "\n", doc, false},
		{"URL-encoded (IAM)", url.PathEscape(doc), doc, false},
		{"query-escaped spaces stay as +", strings.ReplaceAll(url.PathEscape(doc), "%20", "+"), strings.ReplaceAll(doc, " ", "+"), false},
		{"encoded twice", url.PathEscape(url.PathEscape(doc)), doc, false},
		{"empty", "", "", false},
		{"broken escape", "%7B%ZZ", "%7B%ZZ", true},
		{"not JSON after decoding", "hello%20world", "hello%20world", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeDocument(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("decodeDocument(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err != nil && errorCode(err) != CodeInvalidDocument {
				t.Errorf("error code %q", errorCode(err))
			}
		})
	}
}

func iamFixture(acct string) *fakeIAM {
	enc := func(s string) *string { return aws.String(url.PathEscape(s)) }
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	pol := func(action string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]}`
	}
	awsExec := "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
	awsBoundary := "arn:aws:iam::aws:policy/PowerUserAccess"
	awsUnused := "arn:aws:iam::aws:policy/AdministratorAccess"
	local := "arn:aws:iam::" + acct + ":policy/app/app-secrets"
	localUnused := "arn:aws:iam::" + acct + ":policy/unused"
	f := &fakeIAM{}
	f.roles = []iamtypes.RoleDetail{
		{Arn: aws.String("arn:aws:iam::" + acct + ":role/exec"), RoleName: aws.String("exec"), Path: aws.String("/"), RoleId: aws.String("AROA1"),
			AssumeRolePolicyDocument: enc(trust),
			RolePolicyList: []iamtypes.PolicyDetail{
				{PolicyName: aws.String("z-inline"), PolicyDocument: enc(pol("ssm:GetParameters"))},
				{PolicyName: aws.String("a-inline"), PolicyDocument: aws.String(pol("kms:Decrypt"))}, // not encoded
			},
			AttachedManagedPolicies: []iamtypes.AttachedPolicy{{PolicyArn: aws.String(local)}, {PolicyArn: aws.String(awsExec)}},
			PermissionsBoundary:     &iamtypes.AttachedPermissionsBoundary{PermissionsBoundaryArn: aws.String(awsBoundary)},
			Tags:                    []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}},
		},
		{Arn: aws.String("arn:aws:iam::" + acct + ":role/other"), RoleName: aws.String("other"), AssumeRolePolicyDocument: enc(trust)},
	}
	mp := func(arn, name string, doc string) iamtypes.ManagedPolicyDetail {
		return iamtypes.ManagedPolicyDetail{Arn: aws.String(arn), PolicyName: aws.String(name), DefaultVersionId: aws.String("v2"),
			PolicyVersionList: []iamtypes.PolicyVersion{
				{VersionId: aws.String("v1"), Document: enc(pol("old:Version"))},
				{VersionId: aws.String("v2"), IsDefaultVersion: true, Document: enc(doc)},
			}}
	}
	noName := mp(local, "", pol("ssm:GetParameters")) // moto leaves PolicyName out
	f.pols = []iamtypes.ManagedPolicyDetail{
		noName,
		mp(localUnused, "unused", pol("s3:*")),
		mp(awsExec, "AmazonECSTaskExecutionRolePolicy", pol("ecr:GetAuthorizationToken")),
		mp(awsBoundary, "PowerUserAccess", pol("*")),
		mp(awsUnused, "AdministratorAccess", pol("*")),
	}
	return f
}

func TestIAMCollection(t *testing.T) {
	tests := []struct {
		name      string
		page      int
		fail      faults
		wantCalls int
		wantNil   bool
		wantErrs  []string
	}{
		{name: "one page", page: 0, wantCalls: 1},
		// IAM may return fewer than MaxItems while IsTruncated is set.
		{name: "short pages", page: 2, wantCalls: 4},
		{name: "one item per page", page: 1, wantCalls: 7},
		{
			name: "a failing second page drops IAM (a partial role list would mislead)", page: 2, wantNil: true, wantCalls: 2,
			fail: func(op string, in any) error {
				if in.(*iam.GetAccountAuthorizationDetailsInput).Marker != nil {
					return apiErr("ServiceFailure", "boom")
				}
				return nil
			},
			wantErrs: []string{"GetAccountAuthorizationDetails/ServiceFailure"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newFakeBackend(callerAcct)
			f := iamFixture(callerAcct)
			f.page, f.fail = tt.page, tt.fail
			be.acct(callerAcct).iam = f
			res := run(t, context.Background(), be, Config{Regions: []string{"us-east-1", "eu-west-1", "eu-west-2"}})
			if res.err != nil {
				t.Fatal(res.err)
			}
			if n := f.n("GetAccountAuthorizationDetails"); n != tt.wantCalls {
				t.Errorf("%d calls, want %d (once per page, whatever the number of regions)", n, tt.wantCalls)
			}
			for _, max := range f.sizes("GetAccountAuthorizationDetails") {
				if max != 1000 {
					t.Errorf("MaxItems %d, want 1000", max)
				}
			}
			var errs []string
			for _, e := range res.inv.Errors {
				errs = append(errs, e.Operation+"/"+e.Code)
			}
			if !slices.Equal(errs, tt.wantErrs) {
				t.Errorf("errors %v, want %v", errs, tt.wantErrs)
			}
			got := res.inv.Accounts[0].IAM
			if tt.wantNil {
				if got != nil {
					t.Errorf("IAM = %+v, want nil", got)
				}
				return
			}
			checkIAMFixture(t, got)
		})
	}
}

func checkIAMFixture(t *testing.T, got *inventory.IAM) {
	t.Helper()
	if got == nil || len(got.Roles) != 2 {
		t.Fatalf("IAM = %+v", got)
	}
	exec := got.Roles[0]
	if exec.Name != "exec" || !strings.HasPrefix(exec.TrustPolicy, `{"Version"`) || exec.RoleID != "AROA1" || exec.Tags["team"] != "a" {
		t.Errorf("role = %+v", exec)
	}
	if len(exec.InlinePolicies) != 2 || exec.InlinePolicies[0].Name != "a-inline" ||
		!strings.Contains(exec.InlinePolicies[1].Document, `"ssm:GetParameters"`) || !strings.Contains(exec.InlinePolicies[0].Document, `"kms:Decrypt"`) {
		t.Errorf("inline = %+v", exec.InlinePolicies)
	}
	if exec.PermissionsBoundary != "arn:aws:iam::aws:policy/PowerUserAccess" || len(exec.AttachedPolicies) != 2 {
		t.Errorf("attached %v boundary %q", exec.AttachedPolicies, exec.PermissionsBoundary)
	}
	var arns []string
	for _, p := range got.ManagedPolicies {
		arns = append(arns, p.ARN)
		if !strings.HasPrefix(p.Document, "{") || strings.Contains(p.Document, "old:Version") || p.DefaultVersionID != "v2" {
			t.Errorf("policy %s: document %q version %q", p.ARN, p.Document, p.DefaultVersionID)
		}
		if p.AWSManaged != strings.Contains(p.ARN, ":aws:policy/") {
			t.Errorf("policy %s AWSManaged=%v", p.ARN, p.AWSManaged)
		}
		if p.Name == "" {
			t.Errorf("policy %s without name", p.ARN)
		}
	}
	want := []string{
		"arn:aws:iam::" + callerAcct + ":policy/app/app-secrets",
		"arn:aws:iam::" + callerAcct + ":policy/unused", // customer managed: always kept
		"arn:aws:iam::aws:policy/PowerUserAccess",       // AWS managed, a boundary
		"arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
	}
	if !slices.Equal(arns, want) {
		t.Errorf("managed policies %v, want %v (AWS managed only when a role uses them)", arns, want)
	}
	if got.ManagedPolicies[0].Name != "app-secrets" {
		t.Errorf("a policy without PolicyName gets the ARN's last segment, got %q", got.ManagedPolicies[0].Name)
	}
}

func TestIAMPaginationLoopIsAnError(t *testing.T) {
	loop := &loopingIAM{}
	res := runWithIAM(t, newFakeBackend(callerAcct), loop)
	if loop.n != 2 {
		t.Errorf("%d calls; the repeated marker should stop the loop at the second", loop.n)
	}
	if res.inv.Accounts[0].IAM != nil {
		t.Errorf("IAM kept after a pagination loop")
	}
	if len(res.inv.Errors) != 1 || res.inv.Errors[0].Code != CodePagination {
		t.Errorf("errors = %+v", res.inv.Errors)
	}
}

// loopingIAM returns the same marker forever.
type loopingIAM struct{ n int }

func (l *loopingIAM) GetAccountAuthorizationDetails(ctx context.Context, in *iam.GetAccountAuthorizationDetailsInput, _ ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error) {
	l.n++
	return &iam.GetAccountAuthorizationDetailsOutput{IsTruncated: true, Marker: aws.String("same")}, nil
}

// iamOverride is a backend whose sessions use a given IAM client.
type iamOverride struct {
	*fakeBackend
	api iamAPI
}

func (b iamOverride) session(ctx context.Context, id, role string) (session, error) {
	s, err := b.fakeBackend.session(ctx, id, role)
	if err != nil {
		return nil, err
	}
	return iamSession{s, b.api}, nil
}

type iamSession struct {
	session
	api iamAPI
}

func (s iamSession) iam() iamAPI { return s.api }

func runWithIAM(t *testing.T, be *fakeBackend, api iamAPI) *inventoryResult {
	t.Helper()
	cfg, err := Config{Regions: []string{"us-east-1"}, unlimited: true}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	st := &stats{}
	inv, err := collect(context.Background(), cfg, iamOverride{be, api}, st)
	if err != nil {
		t.Fatal(err)
	}
	return &inventoryResult{inv: inv, stats: st}
}
