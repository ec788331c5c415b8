package scanner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/ecs-audit/audit/inventory"
)

const (
	rootID = "r-ab12"
	ouProd = "ou-ab12-11111111"
	ouEU   = "ou-ab12-22222222"
	ouDev  = "ou-ab12-33333333"
)

// orgFixture: root → prod → eu, root → dev. The caller (management) sits at
// the root; memberA in eu, memberB in dev, plus n more members in prod and a
// suspended account.
func orgFixture(n int) *fakeOrg {
	pol := func(id, name string, typ orgtypes.PolicyType, managed bool) orgtypes.Policy {
		return orgtypes.Policy{Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"x:` + name + `","Resource":"*"}]}`),
			PolicySummary: &orgtypes.PolicySummary{Id: aws.String(id), Name: aws.String(name), Type: typ, AwsManaged: managed,
				Arn: aws.String("arn:aws:organizations::" + callerAcct + ":policy/o-x/" + id)}}
	}
	f := &fakeOrg{
		id: "o-abcdefghij", mgmt: callerAcct, rootID: rootID,
		parents: map[string]orgtypes.Parent{
			ouProd: {Id: aws.String(rootID), Type: orgtypes.ParentTypeRoot},
			ouDev:  {Id: aws.String(rootID), Type: orgtypes.ParentTypeRoot},
			ouEU:   {Id: aws.String(ouProd), Type: orgtypes.ParentTypeOrganizationalUnit},
		},
		ouNames: map[string]string{ouProd: "prod", ouEU: "eu", ouDev: "dev"},
		attached: map[string][]string{
			rootID: {"p-FullAWSAccess", "p-rcpfull"},
			ouProd: {"p-prod", "p-rcp"},
			ouEU:   {"p-eu"},
			ouDev:  {"p-eu"}, // shared policy: described once
		},
		policies: map[string]orgtypes.Policy{
			"p-FullAWSAccess": pol("p-FullAWSAccess", "FullAWSAccess", orgtypes.PolicyTypeServiceControlPolicy, true),
			"p-prod":          pol("p-prod", "prod", orgtypes.PolicyTypeServiceControlPolicy, false),
			"p-eu":            pol("p-eu", "eu", orgtypes.PolicyTypeServiceControlPolicy, false),
			"p-rcpfull":       pol("p-rcpfull", "RCPFullAWSAccess", orgtypes.PolicyTypeResourceControlPolicy, true),
			"p-rcp":           pol("p-rcp", "rcp", orgtypes.PolicyTypeResourceControlPolicy, false),
		},
	}
	add := func(id, name, parent string, state orgtypes.AccountState) {
		f.accounts = append(f.accounts, orgtypes.Account{Id: aws.String(id), Name: aws.String(name), Email: aws.String(name + "@example.com"), State: state})
		typ := orgtypes.ParentTypeOrganizationalUnit
		if parent == rootID {
			typ = orgtypes.ParentTypeRoot
		}
		f.parents[id] = orgtypes.Parent{Id: aws.String(parent), Type: typ}
		f.attached[id] = []string{"p-FullAWSAccess"} // as AWS does for every account
	}
	add(callerAcct, "management", rootID, orgtypes.AccountStateActive)
	add(memberA, "eu-app", ouEU, orgtypes.AccountStateActive)
	add(memberB, "dev-app", ouDev, orgtypes.AccountStateActive)
	add("444444444444", "closed", ouDev, orgtypes.AccountStateSuspended)
	for i := range n {
		add(fmt.Sprintf("5%011d", i), fmt.Sprintf("prod-%d", i), ouProd, orgtypes.AccountStateActive)
	}
	// Status only, as older answers and emulators have it.
	f.accounts[1].State, f.accounts[1].Status = "", orgtypes.AccountStatusActive
	return f
}

func ids(inv *inventory.Inventory) []string {
	var out []string
	for _, a := range inv.Accounts {
		out = append(out, a.ID)
	}
	return out
}

func TestOrgAccounts(t *testing.T) {
	prodIDs := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("5%011d", i))
		}
		return out
	}
	tests := []struct {
		name     string
		cfg      Config
		extra    int
		want     []string
		wantErrs []string // code/account
		fatal    string
	}{
		{name: "every ACTIVE account, pages with empty ones", extra: 45,
			want: append([]string{callerAcct, memberA, memberB}, prodIDs(45)...)},
		{name: "OU prod is recursive", cfg: Config{OUs: []string{ouProd}}, extra: 3,
			want: append([]string{memberA}, prodIDs(3)...)},
		{name: "two OUs", cfg: Config{OUs: []string{ouEU, ouDev}},
			want: []string{memberA, memberB}},
		{name: "accounts filter", cfg: Config{Accounts: []string{memberB, callerAcct}}, extra: 2,
			want: []string{callerAcct, memberB}},
		{name: "exclude", cfg: Config{ExcludeAccounts: []string{callerAcct, memberA}}, extra: 1,
			want: []string{memberB, "500000000000"}},
		{name: "requested account missing or suspended is reported", cfg: Config{Accounts: []string{memberA, "444444444444", "999999999999"}},
			want:     []string{memberA},
			wantErrs: []string{CodeAccountNotActive + "/444444444444", CodeAccountNotFound + "/999999999999"}},
		{name: "an OU that does not exist is fatal", cfg: Config{OUs: []string{"ou-ab12-99999999"}}, fatal: "ou-ab12-99999999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newFakeBackend(callerAcct)
			be.org = orgFixture(tt.extra)
			be.org.emptyPages = true
			cfg := tt.cfg
			cfg.Org, cfg.Regions = true, []string{"us-east-1"}
			res := run(t, context.Background(), be, cfg)
			if tt.fatal != "" {
				if res.err == nil || !strings.Contains(res.err.Error(), tt.fatal) {
					t.Fatalf("err = %v, want a fatal error naming %s", res.err, tt.fatal)
				}
				return
			}
			if res.err != nil {
				t.Fatal(res.err)
			}
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if got := ids(res.inv); !slices.Equal(got, want) {
				t.Errorf("accounts %v, want %v", got, want)
			}
			var errs []string
			for _, e := range res.inv.Errors {
				errs = append(errs, e.Code+"/"+e.AccountID)
			}
			if !slices.Equal(errs, tt.wantErrs) {
				t.Errorf("errors %v, want %v", errs, tt.wantErrs)
			}
			for id, role := range be.assumed {
				wantRole := "arn:aws:iam::" + id + ":role/OrganizationAccountAccessRole"
				if id == callerAcct {
					wantRole = "" // the caller's own credentials
				}
				if role != wantRole {
					t.Errorf("account %s: role %q, want %q", id, role, wantRole)
				}
			}
			if err := res.inv.Validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

func TestOrgPathsAndPolicies(t *testing.T) {
	tests := []struct {
		name  string
		rcp   bool
		extra int // accounts in prod beyond the fixed ones
		// failBulk makes ListTargetsForPolicy fail (as on an endpoint
		// without it): the per-account lookups take over.
		failBulk bool
		bulk     bool
	}{
		{name: "few accounts", extra: 6},
		{name: "few accounts, RCPs", extra: 6, rcp: true},
		{name: "many accounts: whole-organization lookups", extra: 40, bulk: true},
		{name: "many accounts, RCPs", extra: 40, rcp: true, bulk: true},
		{name: "many accounts, no ListTargetsForPolicy", extra: 40, rcp: true, bulk: true, failBulk: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newFakeBackend(callerAcct)
			be.org = orgFixture(tt.extra)
			be.org.rcpEnabled = tt.rcp
			if tt.failBulk {
				be.org.fail = failOp("ListTargetsForPolicy", apiErr("UnknownOperationException", "no such operation"))
			}
			res := run(t, context.Background(), be, Config{Org: true, Regions: []string{"us-east-1"}})
			if res.err != nil {
				t.Fatal(res.err)
			}
			inv := res.inv
			if len(inv.Errors) != 0 {
				t.Fatalf("errors: %+v (PolicyTypeNotEnabledException and a failed bulk lookup must be quiet)", inv.Errors)
			}
			org := inv.Organization
			if org.ID != "o-abcdefghij" || org.ManagementAccountID != callerAcct || org.RootID != rootID || org.RCPsEnabled != tt.rcp {
				t.Errorf("organization = %+v", org)
			}
			wantPolicies := []string{"p-FullAWSAccess", "p-eu", "p-prod"}
			if tt.rcp {
				wantPolicies = append(wantPolicies, "p-rcp", "p-rcpfull")
			}
			var got []string
			for id := range org.Policies {
				got = append(got, id)
			}
			slices.Sort(got)
			if !slices.Equal(got, wantPolicies) {
				t.Errorf("policies %v, want %v", got, wantPolicies)
			}
			paths := map[string]string{}
			for _, a := range inv.Accounts {
				var parts []string
				for _, n := range a.Path {
					parts = append(parts, fmt.Sprintf("%s(%s)%v%v", n.Name, n.Type[:2], n.SCPs, n.RCPs))
				}
				paths[a.ID] = strings.Join(parts, " > ")
			}
			wantEU := "Root(RO)[p-FullAWSAccess][] > prod(OR)[p-prod][] > eu(OR)[p-eu][] > eu-app(AC)[p-FullAWSAccess][]"
			if tt.rcp {
				wantEU = "Root(RO)[p-FullAWSAccess][p-rcpfull] > prod(OR)[p-prod][p-rcp] > eu(OR)[p-eu][] > eu-app(AC)[p-FullAWSAccess][]"
			}
			if paths[memberA] != wantEU {
				t.Errorf("path of %s:\n got %s\nwant %s", memberA, paths[memberA], wantEU)
			}
			if !strings.HasPrefix(paths[callerAcct], "Root(RO)") || strings.Count(paths[callerAcct], ">") != 1 {
				t.Errorf("path of the management account: %s", paths[callerAcct])
			}
			wantProd := "Root(RO)[p-FullAWSAccess][] > prod(OR)[p-prod][] > prod-0(AC)[p-FullAWSAccess][]"
			if tt.rcp {
				wantProd = "Root(RO)[p-FullAWSAccess][p-rcpfull] > prod(OR)[p-prod][p-rcp] > prod-0(AC)[p-FullAWSAccess][]"
			}
			if paths["500000000000"] != wantProd {
				t.Errorf("path of prod-0:\n got %s\nwant %s", paths["500000000000"], wantProd)
			}
			// Lookups are cached: at most one ListParents per account and
			// OU, one DescribePolicy per policy, one DescribeOrganizationalUnit
			// per OU, one ListPoliciesForTarget per node and type.
			f := be.org
			for _, op := range []string{"ListParents", "ListPoliciesForTarget", "DescribePolicy", "DescribeOrganizationalUnit"} {
				for key, n := range f.keyCounts(op) {
					if n != 1 {
						t.Errorf("%s %s: %d calls", op, key, n)
					}
				}
			}
			if n := f.n("DescribePolicy"); n != len(wantPolicies) {
				t.Errorf("%d DescribePolicy calls, want %d", n, len(wantPolicies))
			}
			if n := f.n("DescribeOrganizationalUnit"); n != 3 {
				t.Errorf("%d DescribeOrganizationalUnit calls, want 3", n)
			}
			accounts := len(inv.Accounts)
			switch {
			case !tt.bulk:
				if f.n("ListParents") != accounts+3 || f.n("ListTargetsForPolicy") != 0 {
					t.Errorf("ListParents %d (want %d), ListTargetsForPolicy %d", f.n("ListParents"), accounts+3, f.n("ListTargetsForPolicy"))
				}
			case tt.failBulk:
				// The tree walk still saved the ListParents calls.
				if f.n("ListParents") != 0 || f.n("ListPoliciesForTarget") == 0 {
					t.Errorf("ListParents %d, ListPoliciesForTarget %d", f.n("ListParents"), f.n("ListPoliciesForTarget"))
				}
			default:
				// Every node has an SCP (and an RCP on the root): only the
				// nodes without RCPs are looked up one by one.
				wantPFT := 0
				if tt.rcp {
					wantPFT = accounts + 2 // accounts, eu and dev have no RCP
				}
				if f.n("ListParents") != 0 || f.n("ListPoliciesForTarget") != wantPFT {
					t.Errorf("ListParents %d, ListPoliciesForTarget %d (want 0 and %d)", f.n("ListParents"), f.n("ListPoliciesForTarget"), wantPFT)
				}
			}
			if err := inv.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestOrgFailures(t *testing.T) {
	denied := apiErr("AccessDeniedException", "You don't have permissions")
	tests := []struct {
		name     string
		fail     faults
		fatal    bool
		wantErrs []string
		check    func(t *testing.T, inv *inventory.Inventory)
	}{
		{name: "DescribeOrganization denied is fatal", fail: failOp("DescribeOrganization", denied), fatal: true},
		{name: "ListAccounts denied is fatal", fail: failOp("ListAccounts", denied), fatal: true},
		{
			name: "one DescribePolicy fails: its level is left empty (reported as not collected), nothing else",
			fail: func(op string, in any) error {
				if op == "DescribePolicy" && aws.ToString(in.(*organizations.DescribePolicyInput).PolicyId) == "p-prod" {
					return denied
				}
				return nil
			},
			wantErrs: []string{"DescribePolicy/AccessDeniedException/p-prod"},
			check: func(t *testing.T, inv *inventory.Inventory) {
				if err := inv.Validate(); err != nil {
					t.Errorf("validate: %v", err)
				}
				if _, ok := inv.Organization.Policies["p-eu"]; !ok {
					t.Errorf("p-eu missing")
				}
				// A level that keeps its other policies would look complete
				// and hide a Deny in the one left out.
				for _, a := range inv.Accounts {
					for _, n := range a.Path {
						if slices.Contains(n.SCPs, "p-prod") {
							t.Errorf("account %s: p-prod still listed at %s", a.ID, n.ID)
						}
						if n.ID == ouProd && len(n.SCPs) != 0 {
							t.Errorf("account %s: level %s keeps %v although one of its policies is missing", a.ID, n.ID, n.SCPs)
						}
					}
				}
			},
		},
		{
			name: "ListParents of an OU fails: recorded once, paths stop there",
			fail: func(op string, in any) error {
				if op == "ListParents" && aws.ToString(in.(*organizations.ListParentsInput).ChildId) == ouProd {
					return denied
				}
				return nil
			},
			wantErrs: []string{"ListParents/AccessDeniedException/" + ouProd},
			check: func(t *testing.T, inv *inventory.Inventory) {
				for _, a := range inv.Accounts {
					if a.ID == memberA && (len(a.Path) != 3 || a.Path[0].ID != ouProd) {
						t.Errorf("path = %+v", a.Path)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newFakeBackend(callerAcct)
			be.org = orgFixture(2)
			be.org.fail = tt.fail
			res := run(t, context.Background(), be, Config{Org: true, Regions: []string{"us-east-1"}})
			if tt.fatal {
				if res.err == nil || res.inv != nil {
					t.Fatalf("want a fatal error, got %v", res.err)
				}
				return
			}
			if res.err != nil {
				t.Fatal(res.err)
			}
			var errs []string
			for _, e := range res.inv.Errors {
				errs = append(errs, e.Operation+"/"+e.Code+"/"+e.Resource)
			}
			if !slices.Equal(errs, tt.wantErrs) {
				t.Errorf("errors %v, want %v", errs, tt.wantErrs)
			}
			if tt.check != nil {
				tt.check(t, res.inv)
			}
		})
	}
}

// A listing of policy attachments cut short by a repeated token is never
// taken for the complete list: in bulk, the index is dropped and every node
// is looked up on its own (a Deny attached to the accounts on the pages not
// read would otherwise vanish); per target, the level becomes an error and
// is left empty, which the evaluation reports as not collected.
func TestOrgAttachmentListCutShort(t *testing.T) {
	t.Run("bulk ListTargetsForPolicy", func(t *testing.T) {
		be := newFakeBackend(callerAcct)
		be.org = orgFixture(45)
		f := be.org
		// A Deny on every prod account: three pages of targets.
		f.policies["p-deny"] = orgtypes.Policy{Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`),
			PolicySummary: &orgtypes.PolicySummary{Id: aws.String("p-deny"), Name: aws.String("deny"), Type: orgtypes.PolicyTypeServiceControlPolicy}}
		var prod []string
		for i := range 45 {
			id := fmt.Sprintf("5%011d", i)
			prod = append(prod, id)
			f.attached[id] = append(f.attached[id], "p-deny")
		}
		f.repeatToken = map[string]bool{"p-deny": true}
		res := run(t, context.Background(), be, Config{Org: true, Regions: []string{"us-east-1"}, forceBulk: true})
		if res.err != nil {
			t.Fatal(res.err)
		}
		if len(res.inv.Errors) != 0 {
			t.Errorf("errors %+v: the index is an optimisation, its failure is quiet", res.inv.Errors)
		}
		if f.n("ListTargetsForPolicy") == 0 || f.n("ListPoliciesForTarget") == 0 {
			t.Errorf("ListTargetsForPolicy %d, ListPoliciesForTarget %d: the per-target lookups must replace the cut-short index",
				f.n("ListTargetsForPolicy"), f.n("ListPoliciesForTarget"))
		}
		for _, a := range res.inv.Accounts {
			if !slices.Contains(prod, a.ID) {
				continue
			}
			own := a.Path[len(a.Path)-1]
			if own.ID != a.ID || !slices.Equal(own.SCPs, []string{"p-FullAWSAccess", "p-deny"}) {
				t.Errorf("account %s: its own level has %v, want p-FullAWSAccess and p-deny", a.ID, own.SCPs)
			}
		}
	})
	t.Run("per-target ListPoliciesForTarget", func(t *testing.T) {
		be := newFakeBackend(callerAcct)
		be.org = orgFixture(0)
		be.org.emptyPages = true // every other page is empty but has a token
		be.org.repeatToken = map[string]bool{memberA: true}
		res := run(t, context.Background(), be, Config{Org: true, Regions: []string{"us-east-1"}})
		if res.err != nil {
			t.Fatal(res.err)
		}
		var errs []string
		for _, e := range res.inv.Errors {
			errs = append(errs, e.Operation+"/"+e.Code+"/"+e.Resource)
		}
		if want := []string{"ListPoliciesForTarget/" + CodePagination + "/" + memberA}; !slices.Equal(errs, want) {
			t.Errorf("errors %v, want %v", errs, want)
		}
		for _, a := range res.inv.Accounts {
			own := a.Path[len(a.Path)-1]
			switch {
			case a.ID == memberA && len(own.SCPs) != 0:
				t.Errorf("account %s: a cut-short list kept as %v", a.ID, own.SCPs)
			case a.ID != memberA && !slices.Equal(own.SCPs, []string{"p-FullAWSAccess"}):
				t.Errorf("account %s: %v", a.ID, own.SCPs)
			}
		}
	})
}
