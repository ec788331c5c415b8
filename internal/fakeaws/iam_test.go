package fakeaws

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func decodeDoc(t *testing.T, s string) string {
	t.Helper()
	if strings.HasPrefix(s, "{") {
		t.Fatalf("document is not URL-encoded: %.40s", s)
	}
	if strings.Contains(s, "+") {
		t.Fatalf("document uses + for spaces: %.60s", s)
	}
	d, err := url.PathUnescape(s)
	if err != nil {
		t.Fatalf("unescape: %v", err)
	}
	return d
}

func TestIAMAuthorizationDetails(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	client := iam.NewFromConfig(ts.assumeCfg(t, prodID, "us-east-1"))
	ctx := context.Background()
	tests := []struct {
		name     string
		filter   []iamtypes.EntityType
		maxItems *int32
		roles    int
		policies int
		pages    int
	}{
		{"everything", nil, nil, 3, 2, 1},
		{"one item per page", nil, aws.Int32(1), 3, 2, 5},
		{"roles", []iamtypes.EntityType{iamtypes.EntityTypeRole}, aws.Int32(2), 3, 0, 2},
		{"local policies", []iamtypes.EntityType{iamtypes.EntityTypeLocalManagedPolicy}, nil, 0, 1, 1},
		{"AWS policies", []iamtypes.EntityType{iamtypes.EntityTypeAWSManagedPolicy}, nil, 0, 1, 1},
		{"roles and both policy kinds", []iamtypes.EntityType{iamtypes.EntityTypeRole, iamtypes.EntityTypeLocalManagedPolicy, iamtypes.EntityTypeAWSManagedPolicy}, aws.Int32(4), 3, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := iam.NewGetAccountAuthorizationDetailsPaginator(client, &iam.GetAccountAuthorizationDetailsInput{Filter: tt.filter, MaxItems: tt.maxItems})
			var roles []iamtypes.RoleDetail
			var pols []iamtypes.ManagedPolicyDetail
			pages := 0
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if out.IsTruncated != (out.Marker != nil) {
					t.Errorf("IsTruncated %v with marker %v", out.IsTruncated, out.Marker)
				}
				roles = append(roles, out.RoleDetailList...)
				pols = append(pols, out.Policies...)
			}
			if len(roles) != tt.roles || len(pols) != tt.policies || pages != tt.pages {
				t.Fatalf("roles %d policies %d pages %d; want %d %d %d", len(roles), len(pols), pages, tt.roles, tt.policies, tt.pages)
			}
		})
	}

	out, err := client.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	exec := out.RoleDetailList[0]
	world := testWorld().Accounts[1].IAM
	if *exec.RoleName != "exec" || *exec.RoleId != "AROAEXEC0000000000001" || *exec.Path != "/" || *exec.Arn != world.Roles[0].ARN {
		t.Errorf("role = %s %s %s %s", *exec.RoleName, *exec.RoleId, *exec.Path, *exec.Arn)
	}
	if got := decodeDoc(t, *exec.AssumeRolePolicyDocument); got != world.Roles[0].TrustPolicy {
		t.Errorf("trust policy = %s", got)
	}
	if len(exec.RolePolicyList) != 1 || decodeDoc(t, *exec.RolePolicyList[0].PolicyDocument) != trickyDoc {
		t.Errorf("inline policy does not decode to the original")
	}
	if len(exec.AttachedManagedPolicies) != 2 || *exec.AttachedManagedPolicies[1].PolicyName != "local" {
		t.Errorf("attached = %+v", exec.AttachedManagedPolicies)
	}
	if exec.PermissionsBoundary == nil || *exec.PermissionsBoundary.PermissionsBoundaryArn != world.ManagedPolicies[1].ARN ||
		exec.PermissionsBoundary.PermissionsBoundaryType != iamtypes.PermissionsBoundaryAttachmentTypePolicy {
		t.Errorf("boundary = %+v", exec.PermissionsBoundary)
	}
	if len(exec.Tags) != 2 || *exec.Tags[0].Key != "cost-center" {
		t.Errorf("tags = %+v", exec.Tags)
	}
	if app := out.RoleDetailList[1]; *app.Path != "/service-role/" || app.PermissionsBoundary != nil || *app.RoleId == "" {
		t.Errorf("app role = %s %+v", *app.Path, app.PermissionsBoundary)
	}
	for i, p := range out.Policies {
		wp := world.ManagedPolicies[i]
		if *p.Arn != wp.ARN || *p.DefaultVersionId != wp.DefaultVersionID || len(p.PolicyVersionList) != 1 || !p.PolicyVersionList[0].IsDefaultVersion {
			t.Errorf("policy %d = %s %s", i, *p.Arn, *p.DefaultVersionId)
			continue
		}
		doc := decodeDoc(t, *p.PolicyVersionList[0].Document)
		if doc != wp.Document || !json.Valid([]byte(doc)) {
			t.Errorf("policy %s document does not decode to the original", wp.ARN)
		}
	}
	if *out.Policies[0].Path != "/service-role/" || *out.Policies[1].AttachmentCount != 1 || *out.Policies[1].PermissionsBoundaryUsageCount != 1 {
		t.Errorf("policy details: path %s attachments %d boundary uses %d", *out.Policies[0].Path, *out.Policies[1].AttachmentCount, *out.Policies[1].PermissionsBoundaryUsageCount)
	}

	_, err = client.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(1001)})
	wantCode(t, err, "ValidationError")
	_, err = client.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Marker: aws.String("bogus")})
	wantCode(t, err, "ValidationError")
}

func TestIAMSingleReads(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	client := iam.NewFromConfig(ts.assumeCfg(t, prodID, "us-east-1"))
	ctx := context.Background()
	local := "arn:aws:iam::" + prodID + ":policy/local"

	role, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("exec")})
	if err != nil || *role.Role.Arn != "arn:aws:iam::"+prodID+":role/exec" || role.Role.PermissionsBoundary == nil {
		t.Fatalf("GetRole: %v", err)
	}
	rp, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("exec"), PolicyName: aws.String("tricky")})
	if err != nil || decodeDoc(t, *rp.PolicyDocument) != trickyDoc {
		t.Fatalf("GetRolePolicy: %v", err)
	}
	pol, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(local)})
	if err != nil || *pol.Policy.DefaultVersionId != "v4" || *pol.Policy.PolicyName != "local" {
		t.Fatalf("GetPolicy: %v", err)
	}
	pv, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(local), VersionId: aws.String("v4")})
	if err != nil || decodeDoc(t, *pv.PolicyVersion.Document) != trickyDoc {
		t.Fatalf("GetPolicyVersion: %v", err)
	}
	roles, err := client.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/service-role/")})
	if err != nil || len(roles.Roles) != 1 || *roles.Roles[0].RoleName != "app" {
		t.Fatalf("ListRoles: %v", err)
	}
	att, err := client.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("exec")})
	if err != nil || len(att.AttachedPolicies) != 2 {
		t.Fatalf("ListAttachedRolePolicies: %v", err)
	}

	for _, tt := range []struct {
		name string
		call func() error
	}{
		{"GetRole", func() error {
			_, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")})
			return err
		}},
		{"GetRolePolicy", func() error {
			_, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("exec"), PolicyName: aws.String("nope")})
			return err
		}},
		{"GetPolicyVersion", func() error {
			_, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(local), VersionId: aws.String("v1")})
			return err
		}},
		{"GetPolicy", func() error {
			_, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
			return err
		}},
	} {
		t.Run(tt.name+" not found", func(t *testing.T) { wantCode(t, tt.call(), "NoSuchEntity") })
	}
}
