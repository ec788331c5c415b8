package scanner

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

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
	rc := mototest.BuildResourceCases(t, ctx, w)
	app, shared, east, west := rc.App, rc.Shared, rc.East, rc.West
	appBucket, sharedBucket, digest, crossPolicy := rc.AppBucket, rc.SharedBucket, rc.Digest, rc.CrossPolicy

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
