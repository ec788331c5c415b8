package fakeaws

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/ecs-audit/audit/inventory"
)

// bigOrgWorld has n member accounts spread over two OUs.
func bigOrgWorld(n int) *inventory.Inventory {
	w := testWorld()
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("5%011d", i)
		ou := w.Accounts[1].Path[1]
		if i%2 == 1 {
			ou = w.Accounts[2].Path[1]
		}
		w.Accounts = append(w.Accounts, &inventory.Account{ID: id, Name: "member-" + id, Status: "ACTIVE",
			Path: []inventory.PathNode{w.Accounts[0].Path[0], ou, {ID: id, Type: inventory.NodeAccount}}})
	}
	return w
}

func TestOrganizationsListAccounts(t *testing.T) {
	ts := startServer(t, bigOrgWorld(41), Options{})
	client := organizations.NewFromConfig(ts.callerCfg(t, "us-east-1"))
	tests := []struct {
		max   *int32
		pages int
	}{{nil, 3}, {aws.Int32(20), 3}, {aws.Int32(1), 45}, {aws.Int32(7), 7}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(aws.ToInt32(tt.max)), func(t *testing.T) {
			p := organizations.NewListAccountsPaginator(client, &organizations.ListAccountsInput{MaxResults: tt.max})
			var ids []string
			status := map[string]orgtypes.AccountStatus{}
			pages := 0
			for p.HasMorePages() {
				out, err := p.NextPage(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, a := range out.Accounts {
					ids = append(ids, *a.Id)
					status[*a.Id] = a.Status
					if !strings.HasPrefix(*a.Arn, "arn:aws:organizations::"+mgmtID+":account/o-abcdef1234/") {
						t.Errorf("account ARN %s", *a.Arn)
					}
				}
			}
			if len(ids) != 45 || pages != tt.pages {
				t.Errorf("%d accounts in %d pages, want 45 in %d", len(ids), pages, tt.pages)
			}
			if status[suspID] != orgtypes.AccountStatusSuspended || status[prodID] != orgtypes.AccountStatusActive {
				t.Errorf("statuses %v / %v", status[suspID], status[prodID])
			}
		})
	}
	_, err := client.ListAccounts(context.Background(), &organizations.ListAccountsInput{MaxResults: aws.Int32(21)})
	wantCode(t, err, "InvalidInputException")
}

func TestOrganizationsTree(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	client := organizations.NewFromConfig(ts.callerCfg(t, "us-east-1"))
	ctx := context.Background()

	roots, err := client.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 || *roots.Roots[0].Id != rootID {
		t.Fatalf("roots: %v %+v", err, roots)
	}
	ous, err := client.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(rootID)})
	if err != nil || len(ous.OrganizationalUnits) != 2 || *ous.OrganizationalUnits[0].Name != "Prod" {
		t.Fatalf("OUs: %v %+v", err, ous)
	}
	accts, err := client.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(ouDev)})
	if err != nil || len(accts.Accounts) != 2 {
		t.Fatalf("accounts for dev: %v", err)
	}
	kids, err := client.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(rootID), ChildType: orgtypes.ChildTypeAccount})
	if err != nil || len(kids.Children) != 1 || *kids.Children[0].Id != mgmtID {
		t.Fatalf("root children: %v %+v", err, kids)
	}

	// Walking ListParents from an account reaches the root through its OU.
	var path []string
	for id := prodID; id != rootID; {
		out, err := client.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		id = *out.Parents[0].Id
		path = append(path, id+":"+string(out.Parents[0].Type))
	}
	if got := strings.Join(path, " "); got != ouProd+":ORGANIZATIONAL_UNIT "+rootID+":ROOT" {
		t.Errorf("path %s", got)
	}

	policies := func(target string, filter orgtypes.PolicyType) (string, error) {
		out, err := client.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(target), Filter: filter})
		if err != nil {
			return "", err
		}
		var ids []string
		for _, p := range out.Policies {
			ids = append(ids, *p.Id)
		}
		sort.Strings(ids)
		return strings.Join(ids, ","), nil
	}
	for _, tt := range []struct{ target, want string }{
		{rootID, scpFull}, {ouProd, scpFull + "," + scpDeny}, {prodID, scpFull},
	} {
		got, err := policies(tt.target, orgtypes.PolicyTypeServiceControlPolicy)
		if err != nil || got != tt.want {
			t.Errorf("SCPs of %s = %q (%v), want %q", tt.target, got, err, tt.want)
		}
	}
	_, err = policies(ouProd, orgtypes.PolicyTypeResourceControlPolicy)
	wantCode(t, err, "PolicyTypeNotEnabledException")
	_, err = policies("ou-nope-nope", orgtypes.PolicyTypeServiceControlPolicy)
	wantCode(t, err, "TargetNotFoundException")

	pol, err := client.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(scpDeny)})
	if err != nil || *pol.Policy.Content != testWorld().Organization.Policies[scpDeny].Document || *pol.Policy.PolicySummary.Name != "DenyRegions" {
		t.Fatalf("DescribePolicy: %v", err)
	}
	org, err := client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil || *org.Organization.MasterAccountId != mgmtID || *org.Organization.Id != "o-abcdef1234" {
		t.Fatalf("DescribeOrganization: %v", err)
	}
}

func TestOrganizationsRCPs(t *testing.T) {
	w := testWorld()
	w.Organization.RCPsEnabled = true
	ts := startServer(t, w, Options{})
	out, err := organizations.NewFromConfig(ts.callerCfg(t, "us-east-1")).ListPoliciesForTarget(context.Background(),
		&organizations.ListPoliciesForTargetInput{TargetId: aws.String(ouProd), Filter: orgtypes.PolicyTypeResourceControlPolicy})
	if err != nil || len(out.Policies) != 1 || *out.Policies[0].Id != rcpTrust {
		t.Fatalf("RCPs: %v %+v", err, out)
	}
}

func TestOrganizationsAccess(t *testing.T) {
	noOrg := testWorld()
	noOrg.Organization = nil
	for _, a := range noOrg.Accounts {
		a.Path = nil
	}
	ctx := context.Background()
	tests := []struct {
		name  string
		world *inventory.Inventory
		cfg   func(ts *testServer) (cfgAccount string)
		call  string
		code  string
	}{
		{"member lists accounts", testWorld(), func(*testServer) string { return prodID }, "ListAccounts", "AccessDeniedException"},
		{"member describes its organization", testWorld(), func(*testServer) string { return prodID }, "DescribeOrganization", ""},
		{"no organization", noOrg, func(*testServer) string { return mgmtID }, "DescribeOrganization", "AWSOrganizationsNotInUseException"},
		{"no organization, list", noOrg, func(*testServer) string { return mgmtID }, "ListAccounts", "AWSOrganizationsNotInUseException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, tt.world, Options{})
			ak, sk := ts.CredentialsFor(tt.cfg(ts))
			client := organizations.NewFromConfig(ts.cfg(t, "us-east-1", aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}))
			var err error
			if tt.call == "ListAccounts" {
				_, err = client.ListAccounts(ctx, &organizations.ListAccountsInput{})
			} else {
				_, err = client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
			}
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tt.code)
		})
	}
}

func TestAccountListRegions(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	ctx := context.Background()
	member := account.NewFromConfig(ts.assumeCfg(t, prodID, "us-east-1"))
	mgmt := account.NewFromConfig(ts.callerCfg(t, "us-east-1"))
	list := func(c *account.Client, in *account.ListRegionsInput) (string, error) {
		var got []string
		p := account.NewListRegionsPaginator(c, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return "", err
			}
			for _, r := range out.Regions {
				got = append(got, *r.RegionName+"="+string(r.RegionOptStatus))
			}
		}
		return strings.Join(got, " "), nil
	}
	tests := []struct {
		name   string
		client *account.Client
		in     account.ListRegionsInput
		want   string
		code   string
	}{
		{"own regions", member, account.ListRegionsInput{},
			"ap-east-1=DISABLED eu-south-1=ENABLED us-east-1=ENABLED_BY_DEFAULT us-west-2=ENABLED_BY_DEFAULT", ""},
		{"enabled only, pages of 1", member, account.ListRegionsInput{MaxResults: aws.Int32(1),
			RegionOptStatusContains: []accounttypes.RegionOptStatus{accounttypes.RegionOptStatusEnabled, accounttypes.RegionOptStatusEnabledByDefault}},
			"eu-south-1=ENABLED us-east-1=ENABLED_BY_DEFAULT us-west-2=ENABLED_BY_DEFAULT", ""},
		{"management names a member", mgmt, account.ListRegionsInput{AccountId: aws.String(prodID),
			RegionOptStatusContains: []accounttypes.RegionOptStatus{accounttypes.RegionOptStatusDisabled}}, "ap-east-1=DISABLED", ""},
		{"management names itself", mgmt, account.ListRegionsInput{AccountId: aws.String(mgmtID)}, "", "ValidationException"},
		{"member names another account", member, account.ListRegionsInput{AccountId: aws.String(devID)}, "", "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			got, err := list(tt.client, &in)
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// ListTargetsForPolicy answers with every node the policy is attached to.
func TestListTargetsForPolicy(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	client := organizations.NewFromConfig(ts.callerCfg(t, "us-east-1"))
	targets := func(policy string) string {
		t.Helper()
		var ids []string
		p := organizations.NewListTargetsForPolicyPaginator(client, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(policy), MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			out, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range out.Targets {
				if aws.ToString(tg.Arn) == "" {
					t.Errorf("target %s has no ARN", aws.ToString(tg.TargetId))
				}
				ids = append(ids, aws.ToString(tg.TargetId))
			}
		}
		return strings.Join(ids, ",")
	}
	if got := targets(scpDeny); got != ouProd {
		t.Errorf("targets of %s = %q, want %q", scpDeny, got, ouProd)
	}
	if got := targets(scpFull); !strings.Contains(got, rootID) || !strings.Contains(got, ouProd) || !strings.Contains(got, prodID) {
		t.Errorf("targets of %s = %q", scpFull, got)
	}
	_, err := client.ListTargetsForPolicy(context.Background(), &organizations.ListTargetsForPolicyInput{PolicyId: aws.String("p-nope")})
	wantCode(t, err, "PolicyNotFoundException")
}
