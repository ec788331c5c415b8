package scanner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ecs-audit/audit/inventory"
)

const (
	digestApp = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	digestOld = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	outsider  = "999999999999"
)

func ecrImage(acct, region, rest string) string {
	return acct + ".dkr.ecr." + region + ".amazonaws.com/" + rest
}

// existenceWorld: memberA's task definition in us-east-1 needs images,
// log groups, environment files and a FireLens configuration, in memberA,
// in memberB (cross-account) and outside the scan; some exist, some do not.
func existenceWorld(t *testing.T) *fakeBackend {
	t.Helper()
	be := newFakeBackend(callerAcct)
	const r = "us-east-1"
	a, b := memberA, memberB
	f := ecsWorld(a, r, 0, 0, 0, 1, 1)
	cds := []ecstypes.ContainerDefinition{
		{Name: aws.String("app"), Image: aws.String(ecrImage(a, r, "app:1")),
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/app", "awslogs-region": r}},
			EnvironmentFiles: []ecstypes.EnvironmentFile{
				{Type: "s3", Value: aws.String("arn:aws:s3:::env-a/app.env")},
				{Type: "s3", Value: aws.String("arn:aws:s3:::env-a/gone.env")},
				{Type: "s3", Value: aws.String("arn:aws:s3:::env-b/shared.env")},
				{Type: "s3", Value: aws.String("arn:aws:s3:::no-such-bucket/x.env")},
				{Type: "s3", Value: aws.String("arn:aws:s3:::foreign-bucket/x.env")},
			},
			Secrets: []ecstypes.Secret{
				{Name: aws.String("GONE"), ValueFrom: aws.String(secretARN(a, r, "gone"))},
				{Name: aws.String("DEL"), ValueFrom: aws.String(secretARN(a, r, "deleting"))},
			},
		},
		{Name: aws.String("tagless"), Image: aws.String(ecrImage(a, r, "app")), // latest
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/ap", "awslogs-create-group": "false"}}},
		{Name: aws.String("missing-tag"), Image: aws.String(ecrImage(a, r, "app:2")),
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/created", "awslogs-create-group": "True"}}},
		{Name: aws.String("by-digest"), Image: aws.String(ecrImage(a, r, "app:ignored@"+digestApp)),
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/one", "awslogs-create-group": "1"}}},
		{Name: aws.String("old-digest"), Image: aws.String(ecrImage(a, r, "app@"+digestOld)),
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/yes", "awslogs-create-group": "yes"}}},
		{Name: aws.String("no-repo"), Image: aws.String(ecrImage(a, r, "gone:1"))},
		{Name: aws.String("ptc"), Image: aws.String(ecrImage(a, r, "docker-hub/library/nginx:1.27"))},
		{Name: aws.String("ptc-cached"), Image: aws.String(ecrImage(a, r, "docker-hub/library/redis:7"))},
		{Name: aws.String("no-rule"), Image: aws.String(ecrImage(a, r, "quay/org/tool:1"))},
		{Name: aws.String("cross"), Image: aws.String(ecrImage(b, r, "shared:1"))},
		{Name: aws.String("outside"), Image: aws.String(ecrImage(outsider, r, "x:1"))},
		{Name: aws.String("other-region"), Image: aws.String(ecrImage(a, "eu-west-1", "app:1"))},
		{Name: aws.String("public"), Image: aws.String("public.ecr.aws/nginx/nginx:1")},
		{Name: aws.String("router"), Image: aws.String("fluent-bit"),
			FirelensConfiguration: &ecstypes.FirelensConfiguration{Type: "fluentbit", Options: map[string]string{
				"config-file-type": "s3", "config-file-value": "arn:aws:s3:::env-a/fluent.conf"}}},
	}
	f.tds[0].ContainerDefinitions = cds
	be.region(a, r).ecs = f

	e := be.region(a, r).ecr
	e.image("app", digestApp, "1", "latest")
	e.repo("app").policy = `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:BatchGetImage"}]}`
	e.image("docker-hub/library/redis", "sha256:3333333333333333333333333333333333333333333333333333333333333333", "6")
	e.rules = []ecrtypes.PullThroughCacheRule{
		{EcrRepositoryPrefix: aws.String("docker-hub"), UpstreamRegistryUrl: aws.String("registry-1.docker.io"), UpstreamRegistry: ecrtypes.UpstreamRegistryDockerHub},
		{EcrRepositoryPrefix: aws.String("ecr-public"), UpstreamRegistryUrl: aws.String("public.ecr.aws")},
	}
	e.registryPolicy = `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:CreateRepository"}]}`
	be.region(b, r).ecr.image("shared", "sha256:4444444444444444444444444444444444444444444444444444444444444444", "1")

	be.region(a, r).logs.groups = []string{"/ecs/app", "/ecs/app-worker", "/ecs/apple"}
	be.region(a, r).logs.kms = map[string]string{"/ecs/app": "arn:aws:kms:us-east-1:" + a + ":key/k-logs"}

	envA := be.bucket(a, r, "env-a", "app.env", "app.env.bak", "fluent.conf")
	envA.policy = `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	be.bucket(a, "eu-west-1", "unrelated-1")
	be.bucket(a, r, "unrelated-2")
	envB := be.bucket(b, "eu-west-1", "env-b", "shared.env")
	envB.noRegionInList = true
	be.bucket(outsider, r, "foreign-bucket", "x.env")

	sm := be.region(a, r).secrets
	sm.secrets = map[string]*secretsmanager.DescribeSecretOutput{
		secretARN(a, r, "deleting"): {ARN: aws.String(secretARN(a, r, "deleting")), Name: aws.String("deleting"), DeletedDate: aws.Time(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))},
	}
	return be
}

func TestResolveExistence(t *testing.T) {
	be := existenceWorld(t)
	res := run(t, context.Background(), be, Config{Accounts: []string{memberA, memberB}, Regions: []string{"us-east-1"}, ResolveResources: true})
	if res.err != nil {
		t.Fatal(res.err)
	}
	inv := res.inv
	if err := inv.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(inv.Errors) != 0 {
		t.Errorf("collection errors (every fact here is known): %+v", inv.Errors)
	}
	if inv.Scope.Resources != inventory.ResourcesResolved {
		t.Errorf("scope.resources = %q", inv.Scope.Resources)
	}
	ra, rb := regionOf(t, inv, memberA, "us-east-1"), regionOf(t, inv, memberB, "us-east-1")

	// ECR: existence of repositories and images, pull-through cache.
	want := []string{
		"app exists policy=collected images=[1:exists 2:does-not-exist latest:exists " + digestApp + ":exists " + digestOld + ":does-not-exist]",
		"docker-hub/library/nginx does-not-exist ptc=docker-hub policy=not-collected images=[]",
		"docker-hub/library/redis exists ptc=docker-hub policy=none images=[7:does-not-exist]",
		"gone does-not-exist policy=not-collected images=[]",
		"quay/org/tool does-not-exist policy=not-collected images=[]",
	}
	if got := describeRepos(ra.ECRRepositories); !slices.Equal(got, want) {
		t.Errorf("repositories of A\n %s\nwant\n %s", strings.Join(got, "\n "), strings.Join(want, "\n "))
	}
	if got := describeRepos(rb.ECRRepositories); !slices.Equal(got, []string{"shared exists policy=none images=[1:exists]"}) {
		t.Errorf("repositories of B (cross-account, read with B's credentials): %v", got)
	}
	if reg := ra.ECRRegistry; reg == nil || reg.PullThroughCacheRulesStatus != inventory.PolicyCollected || len(reg.PullThroughCacheRules) != 2 ||
		reg.PolicyStatus != inventory.PolicyCollected || !strings.Contains(reg.Policy, "CreateRepository") {
		t.Errorf("registry of A = %+v", reg)
	}
	if rb.ECRRegistry != nil {
		t.Errorf("registry of B collected without a name under a rule: %+v", rb.ECRRegistry)
	}
	for _, repo := range ra.ECRRepositories {
		if repo.Status == inventory.Exists && repo.ARN != "arn:aws:ecr:us-east-1:"+memberA+":repository/"+repo.Name {
			t.Errorf("repository %s ARN %q", repo.Name, repo.ARN)
		}
	}
	if n := be.region(memberA, "eu-west-1").ecr.n("DescribeRepositories"); n != 0 {
		t.Errorf("resolved in a region that was not scanned")
	}

	// Log groups: only those the driver does not create ("True" and "1"
	// create it; "yes" is not a boolean, so the driver does not).
	var groups []string
	for _, g := range ra.LogGroups {
		groups = append(groups, g.Name+":"+g.Status)
		if g.Name == "/ecs/app" && (g.KMSKeyID == "" || !strings.HasSuffix(g.ARN, ":log-group:/ecs/app")) {
			t.Errorf("log group %+v", g)
		}
	}
	if want := []string{"/ecs/ap:does-not-exist", "/ecs/app:exists", "/ecs/yes:does-not-exist"}; !slices.Equal(groups, want) {
		t.Errorf("log groups %v, want %v", groups, want)
	}

	// S3: owner, region, objects, policy; a bucket that exists nowhere; a
	// bucket outside the scan has no record.
	var buckets []string
	for _, b := range inv.S3Buckets {
		var objs []string
		for _, o := range b.Objects {
			objs = append(objs, o.Key+":"+o.Status)
		}
		buckets = append(buckets, fmt.Sprintf("%s %s owner=%s region=%s policy=%s %v", b.Name, b.Status, b.AccountID, b.Region, b.PolicyStatus, objs))
	}
	wantB := []string{
		"env-a exists owner=" + memberA + " region=us-east-1 policy=collected [app.env:exists fluent.conf:exists gone.env:does-not-exist]",
		"env-b exists owner=" + memberB + " region=eu-west-1 policy=none [shared.env:exists]",
		"no-such-bucket does-not-exist owner= region= policy=not-collected []",
	}
	if !slices.Equal(buckets, wantB) {
		t.Errorf("buckets\n %s\nwant\n %s", strings.Join(buckets, "\n "), strings.Join(wantB, "\n "))
	}

	// Secrets: one that does not exist is a fact; one scheduled for
	// deletion says so.
	if !slices.Equal(ra.MissingSecrets, []string{secretARN(memberA, "us-east-1", "gone")}) {
		t.Errorf("missing secrets %v", ra.MissingSecrets)
	}
	if len(ra.Secrets) != 1 || ra.Secrets[0].DeletedDate == nil {
		t.Errorf("secrets %+v, want the one scheduled for deletion with its date", ra.Secrets)
	}

	// What it cost, and how it was asked.
	ea := be.region(memberA, "us-east-1").ecr
	for _, size := range ea.sizes("DescribeRepositories") {
		if size > describeRepositoriesBatch {
			t.Errorf("DescribeRepositories asked for %d names", size)
		}
	}
	// 5 names, 3 missing: the batch is split until they stand alone.
	if n := ea.n("DescribeRepositories"); n > 9 {
		t.Errorf("%d DescribeRepositories calls for 5 names", n)
	}
	if n := ea.n("DescribePullThroughCacheRules"); n != 2 {
		t.Errorf("%d DescribePullThroughCacheRules calls, want one paged listing of 2 rules (pages of 1)", n)
	}
	if n := ea.n("GetRegistryPolicy"); n != 1 {
		t.Errorf("%d GetRegistryPolicy calls", n)
	}
	if n := ea.n("GetRepositoryPolicy"); n != 2 {
		t.Errorf("%d GetRepositoryPolicy calls, want one per repository that exists (2)", n)
	}
	for key, n := range be.region(memberA, "us-east-1").logs.keyCounts("DescribeLogGroups") {
		if n != 1 {
			t.Errorf("DescribeLogGroups %s: %d calls, want 1", key, n)
		}
	}
	s3a, s3b := be.acct(memberA).s3, be.acct(memberB).s3
	if s3a.n("ListBuckets") != 2 || s3b.n("ListBuckets") != 1 {
		t.Errorf("ListBuckets A %d B %d, want one paged listing each (pages of 2)", s3a.n("ListBuckets"), s3b.n("ListBuckets"))
	}
	for _, max := range s3a.sizes("ListObjectsV2") {
		if max != 1 {
			t.Errorf("ListObjectsV2 MaxKeys %d, want 1", max)
		}
	}
	if n := s3b.n("GetBucketLocation"); n != 1 {
		t.Errorf("GetBucketLocation in B %d, want 1 (env-b's region is not in the listing)", n)
	}
	if n := s3a.n("GetBucketLocation"); n != 2 {
		t.Errorf("GetBucketLocation in A %d, want 2 (the probes of no-such-bucket and foreign-bucket)", n)
	}
}

func regionOf(t *testing.T, inv *inventory.Inventory, acct, region string) *inventory.Region {
	t.Helper()
	for _, a := range inv.Accounts {
		if a.ID != acct {
			continue
		}
		for _, r := range a.Regions {
			if r.Name == region {
				return r
			}
		}
	}
	t.Fatalf("no %s/%s in the inventory", acct, region)
	return nil
}

func describeRepos(repos []*inventory.ECRRepository) []string {
	var out []string
	for _, r := range repos {
		var ims []string
		for _, im := range r.Images {
			ims = append(ims, im.Tag+im.Digest+":"+im.Status)
		}
		s := r.Name + " " + r.Status
		if r.PullThroughCachePrefix != "" {
			s += " ptc=" + r.PullThroughCachePrefix
		}
		out = append(out, fmt.Sprintf("%s policy=%s images=%v", s, r.PolicyStatus, strings.Join(ims, " ")))
	}
	slices.Sort(out)
	for i := range out {
		out[i] = strings.Replace(out[i], "images=", "images=[", 1) + "]"
	}
	return out
}

// Each new operation denied in turn: the scan completes, the denial is a
// collection error naming the operation, and what it would have told is
// not checked or not collected — never "does not exist", never "none".
func TestResolveExistenceDenied(t *testing.T) {
	denied := apiErr("AccessDeniedException", "not allowed")
	type check func(t *testing.T, inv *inventory.Inventory)
	repo := func(inv *inventory.Inventory, name string) *inventory.ECRRepository {
		for _, r := range regionOf(t, inv, memberA, "us-east-1").ECRRepositories {
			if r.Name == name {
				return r
			}
		}
		return nil
	}
	bucket := func(inv *inventory.Inventory, name string) *inventory.S3Bucket {
		for _, b := range inv.S3Buckets {
			if b.Name == name {
				return b
			}
		}
		return nil
	}
	tests := []struct {
		svc, op string
		deny    func(be *fakeBackend)
		check   check
	}{
		{"ecr", "DescribeRepositories", func(be *fakeBackend) {
			be.region(memberA, "us-east-1").ecr.fail = failOp("DescribeRepositories", denied)
		},
			func(t *testing.T, inv *inventory.Inventory) {
				for _, n := range []string{"app", "gone", "docker-hub/library/nginx"} {
					if r := repo(inv, n); r == nil || r.Status != inventory.NotChecked || len(r.Images) != 0 || r.PolicyStatus != inventory.PolicyNotCollected {
						t.Errorf("repository %s = %+v, want not checked", n, r)
					}
				}
			}},
		{"ecr", "DescribeImages", func(be *fakeBackend) { be.region(memberA, "us-east-1").ecr.fail = failOp("DescribeImages", denied) },
			func(t *testing.T, inv *inventory.Inventory) {
				r := repo(inv, "app")
				for _, im := range r.Images {
					if im.Status != inventory.NotChecked {
						t.Errorf("image %+v, want not checked", im)
					}
				}
				if r.Status != inventory.Exists || len(r.Images) != 5 {
					t.Errorf("repository app = %+v", r)
				}
			}},
		{"ecr", "GetRepositoryPolicy", func(be *fakeBackend) {
			be.region(memberA, "us-east-1").ecr.fail = failOp("GetRepositoryPolicy", denied)
		},
			func(t *testing.T, inv *inventory.Inventory) {
				if r := repo(inv, "app"); r.PolicyStatus != inventory.PolicyNotCollected || r.Policy != "" {
					t.Errorf("repository app = %+v, want its policy not collected", r)
				}
				if !inv.PolicyReadFailures()["arn:aws:ecr:us-east-1:"+memberA+":repository/app"] && !hasError(inv, "GetRepositoryPolicy", "arn:aws:ecr:us-east-1:"+memberA+":repository/app") {
					t.Errorf("no collection error names the repository")
				}
			}},
		{"ecr", "GetRegistryPolicy", func(be *fakeBackend) { be.region(memberA, "us-east-1").ecr.fail = failOp("GetRegistryPolicy", denied) },
			func(t *testing.T, inv *inventory.Inventory) {
				if reg := regionOf(t, inv, memberA, "us-east-1").ECRRegistry; reg.PolicyStatus != inventory.PolicyNotCollected || reg.PullThroughCacheRulesStatus != inventory.PolicyCollected {
					t.Errorf("registry %+v", reg)
				}
			}},
		{"ecr", "DescribePullThroughCacheRules", func(be *fakeBackend) {
			be.region(memberA, "us-east-1").ecr.fail = failOp("DescribePullThroughCacheRules", denied)
		},
			func(t *testing.T, inv *inventory.Inventory) {
				reg := regionOf(t, inv, memberA, "us-east-1").ECRRegistry
				if reg.PullThroughCacheRulesStatus != inventory.PolicyNotCollected || len(reg.PullThroughCacheRules) != 0 || reg.PolicyStatus != inventory.PolicyNotCollected {
					t.Errorf("registry %+v", reg)
				}
				// Whether the missing repository is under a rule is unknown:
				// no prefix, and the registry says its rules were not read.
				if r := repo(inv, "docker-hub/library/nginx"); r.Status != inventory.DoesNotExist || r.PullThroughCachePrefix != "" {
					t.Errorf("repository %+v", r)
				}
			}},
		{"logs", "DescribeLogGroups", func(be *fakeBackend) { be.region(memberA, "us-east-1").logs.fail = failOp("DescribeLogGroups", denied) },
			func(t *testing.T, inv *inventory.Inventory) {
				for _, g := range regionOf(t, inv, memberA, "us-east-1").LogGroups {
					if g.Status != inventory.NotChecked {
						t.Errorf("log group %+v, want not checked", g)
					}
				}
			}},
		{"s3", "ListBuckets", func(be *fakeBackend) {
			be.acct(memberA).s3.fail = failOp("ListBuckets", denied)
			be.acct(memberB).s3.fail = failOp("ListBuckets", denied)
		},
			func(t *testing.T, inv *inventory.Inventory) {
				// No owner known: env-a and env-b exist (the probe is
				// denied, as for any bucket outside the scan) and are not
				// collected; no-such-bucket is still known not to exist.
				if bucket(inv, "env-a") != nil || bucket(inv, "env-b") != nil {
					t.Errorf("buckets without a known owner recorded: %+v", inv.S3Buckets)
				}
				if b := bucket(inv, "no-such-bucket"); b == nil || b.Status != inventory.DoesNotExist {
					t.Errorf("no-such-bucket = %+v", b)
				}
			}},
		{"s3", "GetBucketLocation", func(be *fakeBackend) { be.acct(memberB).s3.fail = failOp("GetBucketLocation", denied) },
			func(t *testing.T, inv *inventory.Inventory) {
				b := bucket(inv, "env-b")
				if b == nil || b.Region != "" || b.Objects[0].Status != inventory.NotChecked || b.PolicyStatus != inventory.PolicyNotCollected {
					t.Errorf("env-b = %+v", b)
				}
			}},
		{"s3", "ListObjectsV2", func(be *fakeBackend) { be.acct(memberA).s3.fail = failOp("ListObjectsV2", denied) },
			func(t *testing.T, inv *inventory.Inventory) {
				for _, o := range bucket(inv, "env-a").Objects {
					if o.Status != inventory.NotChecked {
						t.Errorf("object %+v, want not checked", o)
					}
				}
			}},
		{"s3", "GetBucketPolicy", func(be *fakeBackend) { be.acct(memberA).s3.fail = failOp("GetBucketPolicy", denied) },
			func(t *testing.T, inv *inventory.Inventory) {
				if b := bucket(inv, "env-a"); b.PolicyStatus != inventory.PolicyNotCollected || b.Policy != "" {
					t.Errorf("env-a = %+v", b)
				}
			}},
		// A role without Secrets Manager read access: ListSecrets (not
		// recorded: the secrets are then described one by one) and
		// DescribeSecret are denied.
		{"secretsmanager", "DescribeSecret", func(be *fakeBackend) {
			be.region(memberA, "us-east-1").secrets.fail = func(op string, _ any) error {
				if op == "ListSecrets" || op == "DescribeSecret" {
					return denied
				}
				return nil
			}
		},
			func(t *testing.T, inv *inventory.Inventory) {
				// Denied is not missing.
				if r := regionOf(t, inv, memberA, "us-east-1"); len(r.MissingSecrets) != 0 || len(r.Secrets) != 0 {
					t.Errorf("secrets %+v missing %v", r.Secrets, r.MissingSecrets)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.svc+":"+tt.op, func(t *testing.T) {
			be := existenceWorld(t)
			tt.deny(be)
			res := run(t, context.Background(), be, Config{Accounts: []string{memberA, memberB}, Regions: []string{"us-east-1"}, ResolveResources: true})
			if res.err != nil {
				t.Fatal(res.err)
			}
			if err := res.inv.Validate(); err != nil {
				t.Fatal(err)
			}
			if !res.inv.Complete {
				t.Errorf("a denied call made the scan incomplete")
			}
			var other []string
			for _, e := range res.inv.Errors {
				if e.Service != tt.svc || e.Operation != tt.op || e.Code != "AccessDeniedException" {
					other = append(other, e.Service+":"+e.Operation+"/"+e.Code)
				}
			}
			if len(res.inv.Errors) == 0 || len(other) != 0 {
				t.Errorf("errors %+v: want only %s:%s denials", res.inv.Errors, tt.svc, tt.op)
			}
			tt.check(t, res.inv)
		})
	}
}

func hasError(inv *inventory.Inventory, op, resource string) bool {
	return slices.ContainsFunc(inv.Errors, func(e inventory.CollectionError) bool { return e.Operation == op && e.Resource == resource })
}

// --no-resolve-resources: none of it is asked, and the inventory says so.
func TestResolveExistenceOff(t *testing.T) {
	be := existenceWorld(t)
	res := run(t, context.Background(), be, Config{Accounts: []string{memberA, memberB}, Regions: []string{"us-east-1"}})
	if res.err != nil || len(res.inv.Errors) != 0 {
		t.Fatalf("%v %+v", res.err, res.inv.Errors)
	}
	if res.inv.Scope.Resources != inventory.ResourcesSkipped {
		t.Errorf("scope.resources = %q, want %q", res.inv.Scope.Resources, inventory.ResourcesSkipped)
	}
	r := be.region(memberA, "us-east-1")
	calls := r.ecr.n("DescribeRepositories") + r.ecr.n("DescribePullThroughCacheRules") + r.logs.n("DescribeLogGroups") +
		be.acct(memberA).s3.n("ListBuckets") + be.acct(memberA).s3.n("GetBucketLocation")
	if calls != 0 || res.inv.S3Buckets != nil || len(regionOf(t, res.inv, memberA, "us-east-1").ECRRepositories) != 0 {
		t.Errorf("resources resolved although ResolveResources is false (%d calls)", calls)
	}
}

// Log groups with a common prefix are looked up with one listing, read only
// as far as needed and never costing more calls than lookups by name; what
// it leaves open is looked up by name; a listing out of order is not
// trusted.
func TestLogGroupListing(t *testing.T) {
	var many []string
	for i := range 300 {
		many = append(many, fmt.Sprintf("/ecs/svc-%03d", i))
	}
	tests := []struct {
		name     string
		groups   []string
		reverse  bool
		refs     []string
		want     []string // name:status
		maxCalls int
	}{
		{name: "two names: by name", groups: many, refs: []string{"/ecs/svc-001", "/ecs/nope"},
			want: []string{"/ecs/nope:does-not-exist", "/ecs/svc-001:exists"}, maxCalls: 2},
		{name: "one page settles all", groups: many, refs: []string{"/ecs/svc-000", "/ecs/svc-010", "/ecs/svc-010-old", "/ecs/svc-020"},
			want: []string{"/ecs/svc-000:exists", "/ecs/svc-010:exists", "/ecs/svc-010-old:does-not-exist", "/ecs/svc-020:exists"}, maxCalls: 1},
		{name: "spread names: pages up to the cap, then by name", groups: many,
			refs:     []string{"/ecs/svc-001", "/ecs/svc-099x", "/ecs/svc-250", "/ecs/svc-299", "/ecs/zzz"},
			want:     []string{"/ecs/svc-001:exists", "/ecs/svc-099x:does-not-exist", "/ecs/svc-250:exists", "/ecs/svc-299:exists", "/ecs/zzz:does-not-exist"},
			maxCalls: 4 + 3},
		{name: "out of order: by name", groups: many, reverse: true,
			refs: []string{"/ecs/svc-001", "/ecs/svc-002", "/ecs/svc-003x"},
			want: []string{"/ecs/svc-001:exists", "/ecs/svc-002:exists", "/ecs/svc-003x:does-not-exist"}, maxCalls: 2 + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newFakeBackend(callerAcct)
			f := ecsWorld(callerAcct, "us-east-1", 0, 0, 0, 1, 1)
			for i, g := range tt.refs {
				f.tds[0].ContainerDefinitions = append(f.tds[0].ContainerDefinitions, ecstypes.ContainerDefinition{Name: aws.String(fmt.Sprint("c", i)),
					LogConfiguration: &ecstypes.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": g}}})
			}
			r := be.region(callerAcct, "us-east-1")
			r.ecs, r.logs.groups, r.logs.reverse = f, tt.groups, tt.reverse
			res := run(t, context.Background(), be, Config{Regions: []string{"us-east-1"}, ResolveResources: true})
			if res.err != nil || len(res.inv.Errors) != 0 {
				t.Fatalf("%v %+v", res.err, res.inv.Errors)
			}
			var got []string
			for _, g := range res.inv.Accounts[0].Regions[0].LogGroups {
				got = append(got, g.Name+":"+g.Status)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("groups %v, want %v", got, tt.want)
			}
			if n := r.logs.n("DescribeLogGroups"); n > tt.maxCalls || n > len(tt.refs)+len(tt.refs)-1 {
				t.Errorf("%d DescribeLogGroups calls, want at most %d", n, tt.maxCalls)
			}
		})
	}
}
