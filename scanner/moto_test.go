package scanner

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/ecs-audit/audit/internal/mototest"
	"github.com/ecs-audit/audit/inventory"
)

// TestMotoIntegration builds an organization in moto through the SDK and
// scans it. The moto 5.2.1 gaps it meets, and what the test does about them:
//
//   - account:ListRegions is not implemented (HTTP 404 with an HTML body):
//     the main scan names its regions; a subtest checks the recorded HTTP404
//     error and the fallback to the default regions.
//   - AWS managed policies exist only with MOTO_IAM_LOAD_MANAGED_POLICIES
//     (mototest sets it); GetAccountAuthorizationDetails then returns every
//     AWS managed policy (the scanner keeps the attached ones) and never
//     truncates, whatever MaxItems: paging is covered by the unit tests.
//   - ListTaskDefinitions ignores sort and maxResults: the scanner picks the
//     latest revision itself.
//   - RegisterContainerInstance needs an existing EC2 instance; the EC2 SDK
//     module is not a dependency, so RunInstances is signed by hand. The
//     instance then reports agent 1.0.0, "DockerVersion: 1.5.0" and
//     ecs.os-type windows, and task definitions have no requiresAttributes.
//   - DescribeParameters returns no ARN. ListAliases lists the predefined
//     alias/aws/* aliases with target key IDs that DescribeKey does not know;
//     the scanner takes an AWS managed alias's key from the listing and
//     describes only customer keys, so this does not show.
//   - CreateService uses the EC2 launch type with bridge networking (awsvpc
//     would need subnets and security groups).
func TestMotoIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("moto integration test skipped in -short mode")
	}
	srv := mototest.Start(t)
	mototest.Env(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := mototest.BuildOrg(t, ctx)

	var progress []Progress
	start := time.Now()
	wire := newOpCounter(awshttp.NewBuildableClient())
	inv, err := Collect(ctx, Config{
		Org: true, Regions: mototest.Regions, ResolveResources: true, HTTPClient: wire,
		Logger:   slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Progress: func(p Progress) { progress = append(progress, p) },
	})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	t.Logf("Collect took %s", time.Since(start))
	if path := os.Getenv("AUDIT_MOTO_DUMP"); path != "" {
		// For a look at what moto answered: AUDIT_MOTO_DUMP=/tmp/inv.json.
		if err := inventory.Save(path, inv); err != nil {
			t.Errorf("dump: %v", err)
		}
	}
	if err := inv.Validate(); err != nil {
		t.Errorf("the inventory does not validate: %v", err)
	}
	if !inv.Complete || inv.Interrupted != "" {
		t.Errorf("Complete=%v Interrupted=%q, want a complete scan", inv.Complete, inv.Interrupted)
	}
	if inv.Partition != "aws" || inv.Scope.CallerAccount != mototest.Management {
		t.Errorf("partition %q caller %q", inv.Partition, inv.Scope.CallerAccount)
	}
	// The moto gaps this scan meets are all worked around (see
	// TestMotoIntegration's comment), so there is no collection error.
	for _, e := range inv.Errors {
		t.Errorf("unexpected collection error: %+v", e)
	}

	// Organization and paths.
	org := inv.Organization
	if org == nil || org.RootID != w.RootID || org.ManagementAccountID != mototest.Management {
		t.Fatalf("organization = %+v", org)
	}
	if !org.RCPsEnabled {
		t.Errorf("RCPsEnabled = false; RCPs are enabled on the root")
	}
	if p := org.Policies[w.RCPID]; p == nil || p.Type != inventory.PolicyTypeRCP || !strings.Contains(p.Document, "aws:PrincipalOrgID") {
		t.Errorf("RCP %s = %+v", w.RCPID, p)
	}
	if p := org.Policies[w.SCPID]; p == nil || p.Type != inventory.PolicyTypeSCP || !strings.Contains(p.Document, "LeaveOrganization") {
		t.Errorf("SCP %s = %+v", w.SCPID, p)
	}
	ids := []string{}
	for _, a := range inv.Accounts {
		ids = append(ids, a.ID)
	}
	wantIDs := append([]string{mototest.Management}, w.Members...)
	slices.Sort(wantIDs)
	if !slices.Equal(ids, wantIDs) {
		t.Fatalf("accounts = %v, want %v", ids, wantIDs)
	}
	byID := map[string]*inventory.Account{}
	for _, a := range inv.Accounts {
		byID[a.ID] = a
	}
	wantPath := map[string][]string{
		mototest.Management: {w.RootID, mototest.Management},
		w.Members[0]:        nil, w.Members[1]: nil,
	}
	for _, a := range inv.Accounts {
		var got []string
		for _, n := range a.Path {
			got = append(got, n.ID)
		}
		if want := wantPath[a.ID]; want != nil && !slices.Equal(got, want) {
			t.Errorf("account %s path = %v, want %v", a.ID, got, want)
		}
		if len(a.Path) < 2 || a.Path[0].Type != inventory.NodeRoot || a.Path[len(a.Path)-1].ID != a.ID {
			t.Errorf("account %s path = %+v", a.ID, a.Path)
		}
	}
	// Which member is in prod-eu depends on the sorted IDs: check both ways.
	for _, a := range inv.Accounts {
		if a.ID == mototest.Management {
			continue
		}
		var ous []string
		scpAt := ""
		for _, n := range a.Path {
			if n.Type == inventory.NodeOU {
				ous = append(ous, n.Name)
			}
			if slices.Contains(n.SCPs, w.SCPID) {
				scpAt = n.ID
			}
		}
		if !slices.Equal(ous, []string{"prod"}) && !slices.Equal(ous, []string{"prod", "prod-eu"}) {
			t.Errorf("account %s OUs = %v", a.ID, ous)
		}
		var rcps []string
		for _, n := range a.Path {
			for _, id := range n.RCPs {
				if !org.Policies[id].AWSManaged { // RCPFullAWSAccess sits everywhere
					rcps = append(rcps, id)
				}
			}
		}
		if wantRCP := a.ID == w.Members[0]; slices.Contains(rcps, w.RCPID) != wantRCP || (!wantRCP && len(rcps) > 0) {
			t.Errorf("account %s RCPs on the path = %v (the RCP %s is attached to %s only)", a.ID, rcps, w.RCPID, w.Members[0])
		}
		if scpAt != w.OUProd {
			t.Errorf("account %s: SCP %s found at %q, want the prod OU %s", a.ID, w.SCPID, scpAt, w.OUProd)
		}
	}

	// IAM of the members.
	for _, id := range w.Members {
		a := byID[id]
		if a.IAM == nil {
			t.Fatalf("account %s: no IAM", id)
		}
		var role *inventory.Role
		for _, r := range a.IAM.Roles {
			if r.Name == w.ExecRole {
				role = r
			}
		}
		if role == nil {
			t.Fatalf("account %s: role %s missing", id, w.ExecRole)
		}
		if !json.Valid([]byte(role.TrustPolicy)) || !strings.Contains(role.TrustPolicy, "ecs-tasks.amazonaws.com") {
			t.Errorf("trust policy not decoded: %q", role.TrustPolicy)
		}
		if len(role.InlinePolicies) != 1 || !strings.Contains(role.InlinePolicies[0].Document, "db-password-??????") || !json.Valid([]byte(role.InlinePolicies[0].Document)) {
			t.Errorf("inline policies = %+v", role.InlinePolicies)
		}
		wantAttached := []string{"arn:aws:iam::" + id + ":policy/app/app-secrets", "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"}
		if !slices.Equal(role.AttachedPolicies, wantAttached) {
			t.Errorf("attached = %v, want %v", role.AttachedPolicies, wantAttached)
		}
		if role.PermissionsBoundary != "arn:aws:iam::"+id+":policy/ecs-boundary" {
			t.Errorf("boundary = %q", role.PermissionsBoundary)
		}
		if role.Tags["team"] != "platform" {
			t.Errorf("tags = %v", role.Tags)
		}
		pols := map[string]*inventory.ManagedPolicy{}
		for _, p := range a.IAM.ManagedPolicies {
			pols[p.ARN] = p
			if p.AWSManaged && !slices.Contains(wantAttached, p.ARN) {
				t.Errorf("unattached AWS managed policy kept: %s", p.ARN)
			}
			if !json.Valid([]byte(p.Document)) {
				t.Errorf("policy %s document not decoded: %q", p.ARN, p.Document)
			}
		}
		for _, arn := range append(wantAttached, role.PermissionsBoundary) {
			if p := pols[arn]; p == nil || p.Name == "" || p.Document == "" {
				t.Errorf("managed policy %s = %+v", arn, p)
			}
		}
		if p := pols[wantAttached[1]]; p != nil && (!p.AWSManaged || !strings.Contains(p.Document, "ecr:GetAuthorizationToken")) {
			t.Errorf("AWS managed policy = %+v", p)
		}
	}

	// ECS per region.
	for _, id := range w.Members {
		a := byID[id]
		var names []string
		for _, r := range a.Regions {
			names = append(names, r.Name)
		}
		if !slices.Equal(names, mototest.Regions) {
			t.Fatalf("account %s regions = %v", id, names)
		}
		for _, r := range a.Regions {
			if r.Status != inventory.RegionScanned {
				t.Errorf("%s/%s status %s", id, r.Name, r.Status)
			}
			var tds []string
			for _, td := range r.TaskDefinitions {
				tds = append(tds, fmt.Sprintf("%s:%d", td.Family, td.Revision))
			}
			// web:1 (used by the service), web:2 (latest), worker:1 (latest).
			if want := []string{"web:1", "web:2", "worker:1"}; !slices.Equal(tds, want) {
				t.Errorf("%s/%s task definitions = %v, want %v", id, r.Name, tds, want)
			}
			if len(r.Clusters) != 1 || len(r.Clusters[0].Services) != 1 || len(r.Clusters[0].ContainerInstances) != 1 {
				t.Fatalf("%s/%s clusters = %+v", id, r.Name, r.Clusters)
			}
			svc := r.Clusters[0].Services[0]
			if svc.Name != "web" || !strings.HasSuffix(svc.TaskDefinition, ":task-definition/web:1") || svc.LaunchType != "EC2" {
				t.Errorf("service = %+v", svc)
			}
			for _, td := range r.TaskDefinitions {
				checkNoLeak(t, td)
				if td.Family == "worker" {
					c := td.ContainerDefinitions[0]
					if len(c.Secrets) != 2 || c.LogConfiguration == nil || c.LogConfiguration.Options["splunk-token"] != inventory.Redacted {
						t.Errorf("worker container = %+v", c)
					}
				}
				if td.Family == "web" {
					env := td.ContainerDefinitions[0].Environment
					if len(env) != 2 || env[1].ValueClass != inventory.ValueAWSSecretKey || env[1].ValueLength != 40 {
						t.Errorf("web environment = %+v", env)
					}
				}
			}
		}
		// Resources: the secret, parameter and key live in us-east-1.
		east := a.Regions[slices.Index(names, "us-east-1")]
		if len(east.Secrets) != 1 || east.Secrets[0].ARN != w.SecretARN[id] || east.Secrets[0].KMSKeyID == "" ||
			!strings.Contains(east.Secrets[0].ResourcePolicy, "GetSecretValue") {
			t.Errorf("%s secrets = %+v", id, east.Secrets)
		}
		if len(east.Parameters) != 1 || east.Parameters[0].Name != "/app/api-token" || east.Parameters[0].Type != "SecureString" {
			t.Errorf("%s parameters = %+v", id, east.Parameters)
		}
		var keys []string
		for _, k := range east.KMSKeys {
			keys = append(keys, k.ARN)
		}
		if !slices.Contains(keys, w.KeyARN[id]) {
			t.Errorf("%s keys = %v, want %s among them", id, keys, w.KeyARN[id])
		}
	}
	// What went over the wire: reads only, each thing asked for once.
	for _, k := range wire.keys() {
		if op := k[strings.Index(k, ":")+1:]; !readOnlyOperation(op) {
			t.Errorf("the scanner sent %s (%d times), which is not a read operation", k, wire.count(k))
		}
	}
	for op, want := range map[string]int{
		"sts:GetCallerIdentity":                    1,
		"sts:AssumeRole":                           len(w.Members),
		"iam:GetAccountAuthorizationDetails":       3, // one page per account: moto never truncates
		"ecs:DescribeTaskDefinition":               len(w.Members) * len(mototest.Regions) * 3,
		"ecs:ListTaskDefinitions":                  3 * len(mototest.Regions),
		"ecs:DescribeServices":                     len(w.Members) * len(mototest.Regions),
		"ecs:DescribeContainerInstances":           len(w.Members) * len(mototest.Regions),
		"organizations:DescribePolicy":             4, // FullAWSAccess, RCPFullAWSAccess, the SCP, the RCP
		"organizations:ListParents":                3 + 2,
		"organizations:DescribeOrganizationalUnit": 2,
		"secretsmanager:ListSecrets":               len(w.Members), // eu-west-1 names the us-east-1 ARN
		"secretsmanager:DescribeSecret":            0,              // the listing settles it
		"ssm:DescribeParameters":                   len(w.Members) * len(mototest.Regions),
	} {
		if got := wire.count(op); got != want {
			t.Errorf("%s sent %d times, want %d", op, got, want)
		}
	}
	t.Run("all regions without ListRegions", func(t *testing.T) {
		// moto has no account:ListRegions: the scanner records the failure
		// and falls back to the regions enabled by default.
		one := w.Members[0]
		inv, err := Collect(ctx, Config{Org: true, Accounts: []string{one}})
		if err != nil {
			t.Fatalf("Collect: %v", err)
		}
		if len(inv.Errors) != 1 || inv.Errors[0].Service != "account" || inv.Errors[0].Operation != "ListRegions" || inv.Errors[0].AccountID != one {
			t.Fatalf("errors = %+v, want the one ListRegions failure", inv.Errors)
		}
		t.Logf("moto answers account:ListRegions with %s: %s", inv.Errors[0].Code, inv.Errors[0].Message)
		if len(inv.Accounts) != 1 || inv.Accounts[0].ID != one {
			t.Fatalf("accounts = %+v", inv.Accounts)
		}
		var names []string
		for _, r := range inv.Accounts[0].Regions {
			names = append(names, r.Name)
			want := 0
			if slices.Contains(mototest.Regions, r.Name) {
				want = 3
			}
			if r.Status != inventory.RegionScanned || len(r.TaskDefinitions) != want {
				t.Errorf("%s: status %s, %d task definitions, want scanned with %d", r.Name, r.Status, len(r.TaskDefinitions), want)
			}
		}
		if !slices.Equal(names, defaultRegions["aws"]) {
			t.Errorf("regions = %v, want the default regions %v", names, defaultRegions["aws"])
		}
		if !slices.Equal(inv.Scope.Regions, []string{"all"}) {
			t.Errorf("scope regions = %v", inv.Scope.Regions)
		}
	})

	t.Run("whole-organization lookups", func(t *testing.T) {
		// The same scan with the bulk Organizations lookups (ListChildren,
		// ListPolicies, ListTargetsForPolicy) that large scans use.
		wire := newOpCounter(awshttp.NewBuildableClient())
		bulk, err := Collect(ctx, Config{Org: true, Regions: []string{"us-east-1"}, HTTPClient: wire, forceBulk: true})
		if err != nil {
			t.Fatalf("Collect: %v", err)
		}
		if len(bulk.Errors) != 0 {
			t.Fatalf("errors: %+v", bulk.Errors)
		}
		for i, a := range bulk.Accounts {
			got, _ := json.Marshal(a.Path)
			want, _ := json.Marshal(inv.Accounts[i].Path)
			if string(got) != string(want) {
				t.Errorf("account %s path\n got %s\nwant %s", a.ID, got, want)
			}
		}
		if n := wire.count("organizations:ListParents") + wire.count("organizations:ListPoliciesForTarget"); n != 0 {
			t.Errorf("%d per-account lookups; the bulk lookups should answer all (moto attaches FullAWSAccess and RCPFullAWSAccess everywhere)", n)
		}
		if wire.count("organizations:ListTargetsForPolicy") != 4 {
			t.Errorf("ListTargetsForPolicy sent %d times, want 4 (one per policy)", wire.count("organizations:ListTargetsForPolicy"))
		}
	})

	if len(progress) == 0 {
		t.Errorf("Progress was never called")
	} else if last := progress[len(progress)-1]; last.AccountsDone != 3 || last.RegionsDone != 6 || last.Calls == 0 {
		t.Errorf("last progress = %+v", last)
	}
}

// checkNoLeak fails when a value set in the test world reached the inventory.
func checkNoLeak(t *testing.T, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"wJalrXUtnFEMI", "do-not-copy", "00000000-1111-2222-3333-444444444444"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("a secret value reached the inventory: %s", secret)
		}
	}
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
