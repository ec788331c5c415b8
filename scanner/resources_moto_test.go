package scanner

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ecs-audit/audit/internal/mototest"
	"github.com/ecs-audit/audit/inventory"
)

// TestMotoResources builds, in moto, what a task definition needs to start
// (ECR repositories with images and a repository policy, a registry policy,
// log groups, S3 buckets with objects and a bucket policy, one of them in
// another account and region) next to what it names but does not exist,
// then scans the organization through AWS_ENDPOINT_URL and checks that the
// inventory holds each fact.
//
// moto 5.2.1 has no ECR pull-through cache rules: DescribePullThroughCacheRules
// is not implemented, so a repository name under a cache prefix makes a
// collection error for that call (checked below) and the rules stay not
// collected; registry policies are implemented but are then not read. The
// pull-through cache cases are covered against fakeaws and the unit fakes.
// moto's ListBuckets cuts the list at max-buckets without a continuation
// token (harmless at the scanner's 10,000) and gives no BucketRegion, so the
// bucket regions come from GetBucketLocation here; moto checks no
// x-amz-expected-bucket-owner.
func TestMotoResources(t *testing.T) {
	if testing.Short() {
		t.Skip("moto integration test skipped in -short mode")
	}
	srv := mototest.Start(t)
	mototest.Env(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := mototest.BuildOrg(t, ctx)
	app, shared := w.Members[0], w.Members[1]
	const east, west = "us-east-1", "eu-west-1"

	mgmt, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	member := func(acct, region string) aws.Config {
		cfg := mgmt.Copy()
		cfg.Region = region
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(mgmt), "arn:aws:iam::"+acct+":role/OrganizationAccountAccessRole"))
		return cfg
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("moto setup: %s: %v", what, err)
		}
	}

	// ECR in the app account: app:v1 pushed (v2 is not), a repository
	// policy; in the shared account: shared:1 with a policy for the app
	// account.
	ea := ecr.NewFromConfig(member(app, east))
	_, err = ea.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("needs/app")})
	must("CreateRepository", err)
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7023,"digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"},"layers":[]}`
	put, err := ea.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("needs/app"), ImageManifest: aws.String(manifest), ImageTag: aws.String("v1")})
	must("PutImage", err)
	digest := aws.ToString(put.Image.ImageId.ImageDigest)
	_, err = ea.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("needs/app"),
		PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutsideOrg","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-example"}}}]}`)})
	must("SetRepositoryPolicy", err)
	_, err = ea.PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{
		PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"Replicate","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + shared + `:root"},"Action":"ecr:ReplicateImage","Resource":"*"}]}`)})
	must("PutRegistryPolicy", err)
	es := ecr.NewFromConfig(member(shared, east))
	_, err = es.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("base")})
	must("CreateRepository shared", err)
	_, err = es.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("base"), ImageManifest: aws.String(manifest), ImageTag: aws.String("2025")})
	must("PutImage shared", err)
	crossPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"AppPulls","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + app + `:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}`
	_, err = es.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("base"), PolicyText: aws.String(crossPolicy)})
	must("SetRepositoryPolicy shared", err)

	// Log groups: one exists; one missing and not created by the driver;
	// one missing that the driver creates ("True").
	_, err = cloudwatchlogs.NewFromConfig(member(app, east)).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/ecs/needs")})
	must("CreateLogGroup", err)
	_, err = cloudwatchlogs.NewFromConfig(member(app, east)).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/ecs/needs-other")})
	must("CreateLogGroup", err)

	// S3: the app account's bucket with one of the two objects and a bucket
	// policy; the shared account's bucket in eu-west-1 without a policy.
	appBucket, sharedBucket := "needs-env-"+app, "needs-shared-"+shared
	s3a := s3.NewFromConfig(member(app, east), func(o *s3.Options) { o.UsePathStyle = true })
	_, err = s3a.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(appBucket)})
	must("CreateBucket", err)
	for _, k := range []string{"app.env", "app.env.old", "fluent.conf"} {
		_, err = s3a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(appBucket), Key: aws.String(k), Body: strings.NewReader("LOG_LEVEL=debug\n")})
		must("PutObject", err)
	}
	bucketPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"TLSOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::` + appBucket + `","arn:aws:s3:::` + appBucket + `/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	_, err = s3a.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(appBucket), Policy: aws.String(bucketPolicy)})
	must("PutBucketPolicy", err)
	s3s := s3.NewFromConfig(member(shared, west), func(o *s3.Options) { o.UsePathStyle = true })
	_, err = s3s.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(sharedBucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}})
	must("CreateBucket shared", err)
	_, err = s3s.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(sharedBucket), Key: aws.String("common.env"), Body: strings.NewReader("A=1\n")})
	must("PutObject shared", err)

	// The task definition that needs all of it.
	img := func(acct, rest string) string { return acct + ".dkr.ecr." + east + ".amazonaws.com/" + rest }
	awslogs := func(group string, extra ...string) *ecstypes.LogConfiguration {
		opts := map[string]string{"awslogs-group": group, "awslogs-region": east, "awslogs-stream-prefix": "x"}
		for i := 0; i+1 < len(extra); i += 2 {
			opts[extra[i]] = extra[i+1]
		}
		return &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: opts}
	}
	roleARN := "arn:aws:iam::" + app + ":role/" + w.ExecRole
	_, err = ecs.NewFromConfig(member(app, east)).RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("needs"), ExecutionRoleArn: aws.String(roleARN), NetworkMode: ecstypes.NetworkModeBridge,
		ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: aws.String("app"), Image: aws.String(img(app, "needs/app:v1")), Memory: aws.Int32(128), LogConfiguration: awslogs("/ecs/needs"),
				EnvironmentFiles: []ecstypes.EnvironmentFile{
					{Type: ecstypes.EnvironmentFileTypeS3, Value: aws.String("arn:aws:s3:::" + appBucket + "/app.env")},
					{Type: ecstypes.EnvironmentFileTypeS3, Value: aws.String("arn:aws:s3:::" + appBucket + "/gone.env")},
					{Type: ecstypes.EnvironmentFileTypeS3, Value: aws.String("arn:aws:s3:::" + sharedBucket + "/common.env")},
					{Type: ecstypes.EnvironmentFileTypeS3, Value: aws.String("arn:aws:s3:::needs-no-such-bucket/x.env")},
				}},
			{Name: aws.String("missing-tag"), Image: aws.String(img(app, "needs/app:v2")), Memory: aws.Int32(128),
				LogConfiguration: awslogs("/ecs/needs-missing", "awslogs-create-group", "false")},
			{Name: aws.String("by-digest"), Image: aws.String(img(app, "needs/app@"+digest)), Memory: aws.Int32(128),
				LogConfiguration: awslogs("/ecs/needs-created", "awslogs-create-group", "True")},
			{Name: aws.String("no-repo"), Image: aws.String(img(app, "needs/gone:1")), Memory: aws.Int32(128)},
			{Name: aws.String("cross"), Image: aws.String(img(shared, "base:2025")), Memory: aws.Int32(128)},
			{Name: aws.String("ptc"), Image: aws.String(img(app, "docker-hub/library/nginx:1.27")), Memory: aws.Int32(128)},
			{Name: aws.String("router"), Image: aws.String("fluent-bit"), Memory: aws.Int32(128),
				FirelensConfiguration: &ecstypes.FirelensConfiguration{Type: ecstypes.FirelensConfigurationTypeFluentbit,
					Options: map[string]string{"config-file-type": "s3", "config-file-value": "arn:aws:s3:::" + appBucket + "/fluent.conf"}}},
		},
	})
	must("RegisterTaskDefinition", err)

	wire := newOpCounter(awshttp.NewBuildableClient())
	inv, err := Collect(ctx, Config{Org: true, Regions: mototest.Regions, ResolveResources: true, HTTPClient: wire})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if err := inv.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	// The one expected gap: moto has no pull-through cache rules.
	for _, e := range inv.Errors {
		if e.Service == "ecr" && e.Operation == "DescribePullThroughCacheRules" && e.AccountID == app {
			t.Logf("moto answers DescribePullThroughCacheRules with %s", e.Code)
			continue
		}
		t.Errorf("unexpected collection error: %+v", e)
	}
	ra, rs := regionOf(t, inv, app, east), regionOf(t, inv, shared, east)

	// ECR.
	repos := map[string]*inventory.ECRRepository{}
	for _, r := range append(slices.Clone(ra.ECRRepositories), rs.ECRRepositories...) {
		repos[r.Name] = r
	}
	if r := repos["needs/app"]; r == nil || r.Status != inventory.Exists || r.PolicyStatus != inventory.PolicyCollected ||
		!strings.Contains(r.Policy, "DenyOutsideOrg") || r.ARN != "arn:aws:ecr:us-east-1:"+app+":repository/needs/app" {
		t.Errorf("needs/app = %+v", r)
	} else {
		got := map[string]string{}
		for _, im := range r.Images {
			got[im.Tag+im.Digest] = im.Status
		}
		if got["v1"] != inventory.Exists || got["v2"] != inventory.DoesNotExist || got[digest] != inventory.Exists || len(got) != 3 {
			t.Errorf("needs/app images %v (digest %s)", got, digest)
		}
	}
	if r := repos["needs/gone"]; r == nil || r.Status != inventory.DoesNotExist {
		t.Errorf("needs/gone = %+v", r)
	}
	if r := repos["base"]; r == nil || r.Status != inventory.Exists || r.PolicyStatus != inventory.PolicyCollected || r.Policy != crossPolicy ||
		len(r.Images) != 1 || r.Images[0].Status != inventory.Exists {
		t.Errorf("cross-account base (in %s) = %+v", shared, r)
	}
	if r := repos["docker-hub/library/nginx"]; r == nil || r.Status != inventory.DoesNotExist || r.PullThroughCachePrefix != "" {
		t.Errorf("docker-hub/library/nginx = %+v", r)
	}
	if reg := ra.ECRRegistry; reg == nil || reg.PullThroughCacheRulesStatus != inventory.PolicyNotCollected || reg.PolicyStatus != inventory.PolicyNotCollected {
		t.Errorf("registry = %+v", reg)
	}

	// Log groups. The existing moto scan's task definitions name /ecs/web
	// (not created, so missing) too.
	groups := map[string]string{}
	for _, g := range ra.LogGroups {
		groups[g.Name] = g.Status
	}
	if groups["/ecs/needs"] != inventory.Exists || groups["/ecs/needs-missing"] != inventory.DoesNotExist || groups["/ecs/web"] != inventory.DoesNotExist {
		t.Errorf("log groups %v", groups)
	}
	if _, ok := groups["/ecs/needs-created"]; ok {
		t.Errorf("a group the driver creates (awslogs-create-group True) was looked up")
	}

	// S3.
	buckets := map[string]*inventory.S3Bucket{}
	for _, b := range inv.S3Buckets {
		buckets[b.Name] = b
	}
	objs := func(b *inventory.S3Bucket) map[string]string {
		out := map[string]string{}
		for _, o := range b.Objects {
			out[o.Key] = o.Status
		}
		return out
	}
	if b := buckets[appBucket]; b == nil || b.AccountID != app || b.Region != east || b.PolicyStatus != inventory.PolicyCollected || !strings.Contains(b.Policy, "TLSOnly") {
		t.Errorf("%s = %+v", appBucket, b)
	} else if o := objs(b); o["app.env"] != inventory.Exists || o["gone.env"] != inventory.DoesNotExist || o["fluent.conf"] != inventory.Exists || len(o) != 3 {
		t.Errorf("%s objects %v", appBucket, o)
	}
	if b := buckets[sharedBucket]; b == nil || b.AccountID != shared || b.Region != west || b.PolicyStatus != inventory.PolicyNone || objs(b)["common.env"] != inventory.Exists {
		t.Errorf("%s = %+v", sharedBucket, b)
	}
	if b := buckets["needs-no-such-bucket"]; b == nil || b.Status != inventory.DoesNotExist {
		t.Errorf("needs-no-such-bucket = %+v", b)
	}

	// moto's listing gives no bucket region: each owned bucket's comes from
	// GetBucketLocation, and the bucket that exists nowhere is probed once.
	if n := wire.count("s3:GetBucketLocation"); n != 3 {
		t.Errorf("s3:GetBucketLocation sent %d times, want 3", n)
	}
	// Reads only, and no object was ever read.
	for _, k := range wire.keys() {
		if op := k[strings.Index(k, ":")+1:]; !readOnlyOperation(op) || op == "GetObject" || op == "HeadObject" {
			t.Errorf("the scanner sent %s", k)
		}
	}
	for _, k := range wire.keys() {
		if strings.HasPrefix(k, "s3:") || strings.HasPrefix(k, "ecr:") || strings.HasPrefix(k, "logs:") {
			t.Logf("%s: %d calls", k, wire.count(k))
		}
	}
}

// s3WireOp names an S3 request's operation from its method, path and query
// (S3 has no X-Amz-Target).
func s3WireOp(req *http.Request) string {
	path := strings.TrimPrefix(req.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	q := req.URL.Query()
	switch {
	case req.Method == http.MethodGet && bucket == "":
		return "ListBuckets"
	case req.Method == http.MethodGet && key != "":
		return "GetObject"
	case req.Method == http.MethodHead && key != "":
		return "HeadObject"
	case req.Method == http.MethodHead:
		return "HeadBucket"
	case req.Method != http.MethodGet:
		return req.Method + "Bucket"
	case q.Has("location"):
		return "GetBucketLocation"
	case q.Has("policy"):
		return "GetBucketPolicy"
	case q.Get("list-type") == "2":
		return "ListObjectsV2"
	}
	return "GET?" + req.URL.RawQuery
}
