package fakeaws

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ecs-audit/audit/inventory"
)

const digestWeb = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// resourceWorld is testWorld with ECR repositories, log groups and S3
// buckets in prod (us-east-1) and a bucket in dev (eu-west-1).
func resourceWorld() *inventory.Inventory {
	w := testWorld()
	var east *inventory.Region
	for _, a := range w.Accounts {
		if a.ID != prodID {
			continue
		}
		for _, r := range a.Regions {
			if r.Name == "us-east-1" {
				east = r
			}
		}
	}
	east.ECRRepositories = []*inventory.ECRRepository{
		{Name: "web", Status: inventory.Exists, PolicyStatus: inventory.PolicyCollected, Policy: `{"Statement":[]}`,
			Images: []inventory.ECRImage{{Tag: "1.2", Status: inventory.Exists}, {Tag: "1.3", Status: inventory.Exists},
				{Digest: digestWeb, Status: inventory.Exists, ImageStatus: "ACTIVE"}, {Tag: "old", Status: inventory.DoesNotExist}}},
		{Name: "docker-hub/library/nginx", Status: inventory.Exists, PolicyStatus: inventory.PolicyNone, PullThroughCachePrefix: "docker-hub"},
		{Name: "gone", Status: inventory.DoesNotExist, PolicyStatus: inventory.PolicyNotCollected},
		{Name: "secretive", Status: inventory.Exists, PolicyStatus: inventory.PolicyNotCollected},
	}
	east.ECRRegistry = &inventory.ECRRegistry{PullThroughCacheRulesStatus: inventory.PolicyCollected, PolicyStatus: inventory.PolicyNone,
		PullThroughCacheRules: []inventory.ECRPullThroughCacheRule{{Prefix: "docker-hub", UpstreamRegistryURL: "registry-1.docker.io", UpstreamRegistry: "docker-hub"},
			{Prefix: "ecr-public", UpstreamRegistryURL: "public.ecr.aws"}, {Prefix: "quay", UpstreamRegistryURL: "quay.io"}}}
	east.LogGroups = []*inventory.LogGroup{
		{Name: "/ecs/web", Status: inventory.Exists, KMSKeyID: "arn:aws:kms:us-east-1:" + prodID + ":key/k"},
		{Name: "/ecs/web-2", Status: inventory.Exists}, {Name: "/ecs/web/x", Status: inventory.Exists},
		{Name: "/ecs/gone", Status: inventory.DoesNotExist}, {Name: "/ecs/a", Status: inventory.Exists},
	}
	w.S3Buckets = []*inventory.S3Bucket{
		{Name: "cfg", AccountID: prodID, Region: "us-east-1", Status: inventory.Exists, PolicyStatus: inventory.PolicyCollected, Policy: `{"Version":"2012-10-17","Statement":[]}`,
			Objects: []inventory.S3Object{{Key: "web.env", Status: inventory.Exists}, {Key: "web.env.bak", Status: inventory.Exists},
				{Key: "fb.conf", Status: inventory.Exists}, {Key: "gone.env", Status: inventory.DoesNotExist}, {Key: "dir/a b+c.env", Status: inventory.Exists}}},
		{Name: "dev-cfg", AccountID: devID, Region: "eu-west-1", Status: inventory.Exists, PolicyStatus: inventory.PolicyNone,
			Objects: []inventory.S3Object{{Key: "x.env", Status: inventory.Exists}}},
		{Name: "no-bucket", Status: inventory.DoesNotExist, PolicyStatus: inventory.PolicyNotCollected},
	}
	return w
}

func TestECR(t *testing.T) {
	ts := startServer(t, resourceWorld(), Options{Seed: 1})
	ctx := context.Background()
	api := ecr.NewFromConfig(ts.assumeCfg(t, prodID, "us-east-1"))

	out, err := api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"web", "docker-hub/library/nginx"}})
	if err != nil || len(out.Repositories) != 2 || aws.ToString(out.Repositories[0].RepositoryArn) != "arn:aws:ecr:us-east-1:"+prodID+":repository/web" {
		t.Fatalf("DescribeRepositories = %+v, %v", out, err)
	}
	// One name that does not exist fails the whole call, as in AWS.
	_, err = api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"web", "gone"}})
	wantCode(t, err, "RepositoryNotFoundException")
	_, err = api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RegistryId: aws.String(devID), RepositoryNames: []string{"web"}})
	wantCode(t, err, "AccessDeniedException")
	_, err = api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"Web"}})
	wantCode(t, err, "InvalidParameterException")
	all, err := api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(2)})
	if err != nil || len(all.Repositories) != 2 || all.NextToken == nil {
		t.Fatalf("paged DescribeRepositories = %+v, %v", all, err)
	}

	im, err := api.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("web"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("1.2")}, {ImageDigest: aws.String(digestWeb)}}})
	if err != nil || len(im.ImageDetails) != 2 || im.ImageDetails[1].ImageStatus != ecrtypes.ImageStatusActive ||
		!strings.HasPrefix(aws.ToString(im.ImageDetails[0].ImageDigest), "sha256:") || im.ImageDetails[0].ImagePushedAt == nil {
		t.Fatalf("DescribeImages = %+v, %v", im, err)
	}
	_, err = api.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("web"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("1.2")}, {ImageTag: aws.String("old")}}})
	wantCode(t, err, "ImageNotFoundException")
	_, err = api.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("gone"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("1")}}})
	wantCode(t, err, "RepositoryNotFoundException")

	pol, err := api.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("web")})
	if err != nil || aws.ToString(pol.PolicyText) != `{"Statement":[]}` {
		t.Fatalf("GetRepositoryPolicy = %+v, %v", pol, err)
	}
	_, err = api.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("docker-hub/library/nginx")})
	wantCode(t, err, "RepositoryPolicyNotFoundException")
	_, err = api.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("secretive")})
	wantCode(t, err, "AccessDeniedException")
	_, err = api.GetRegistryPolicy(ctx, &ecr.GetRegistryPolicyInput{})
	wantCode(t, err, "RegistryPolicyNotFoundException")

	var prefixes []string
	var token *string
	for range 5 {
		r, err := api.DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{MaxResults: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, rule := range r.PullThroughCacheRules {
			prefixes = append(prefixes, aws.ToString(rule.EcrRepositoryPrefix))
		}
		if token = r.NextToken; token == nil {
			break
		}
	}
	if !slices.Equal(prefixes, []string{"docker-hub", "ecr-public", "quay"}) {
		t.Errorf("rules %v", prefixes)
	}
	// Pulling is not a read of metadata: refused and recorded.
	_, err = api.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("web"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("1.2")}}})
	wantCode(t, err, "AccessDeniedException")
	if m := ts.MutatingCalls(); !slices.Equal(m, []string{"ecr:BatchGetImage"}) {
		t.Errorf("refused calls %v", m)
	}
}

func TestLogGroups(t *testing.T) {
	ts := startServer(t, resourceWorld(), Options{Seed: 1})
	ctx := context.Background()
	api := cloudwatchlogs.NewFromConfig(ts.assumeCfg(t, prodID, "us-east-1"))
	names := func(prefix string, limit int32) []string {
		var out []string
		var token *string
		for range 10 {
			r, err := api.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(prefix), Limit: aws.Int32(limit), NextToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range r.LogGroups {
				out = append(out, aws.ToString(g.LogGroupName))
				if aws.ToString(g.LogGroupName) == "/ecs/web" && (aws.ToString(g.KmsKeyId) == "" || aws.ToString(g.LogGroupArn) != "arn:aws:logs:us-east-1:"+prodID+":log-group:/ecs/web") {
					t.Errorf("group %+v", g)
				}
			}
			if token = r.NextToken; token == nil {
				break
			}
		}
		return out
	}
	// ASCII-sorted, filtered by prefix, the group itself first.
	if got := names("/ecs/web", 1); !slices.Equal(got, []string{"/ecs/web", "/ecs/web-2", "/ecs/web/x"}) {
		t.Errorf("prefix /ecs/web: %v", got)
	}
	if got := names("/ecs/gone", 5); len(got) != 0 {
		t.Errorf("a group that does not exist is listed: %v", got)
	}
	_, err := api.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(51)})
	if errCode(err) == "" {
		t.Errorf("limit 51 accepted")
	}
	// Another account sees its own groups only.
	dev := cloudwatchlogs.NewFromConfig(ts.assumeCfg(t, devID, "us-east-1"))
	if r, err := dev.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{}); err != nil || len(r.LogGroups) != 0 {
		t.Errorf("dev sees %+v, %v", r, err)
	}
}

func TestS3(t *testing.T) {
	ts := startServer(t, resourceWorld(), Options{Seed: 1})
	ctx := context.Background()
	cfg := ts.assumeCfg(t, prodID, "us-east-1")
	api := s3.NewFromConfig(cfg)

	lb, err := api.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(10)})
	if err != nil || len(lb.Buckets) != 1 || aws.ToString(lb.Buckets[0].Name) != "cfg" || aws.ToString(lb.Buckets[0].BucketRegion) != "us-east-1" || lb.Owner == nil {
		t.Fatalf("ListBuckets = %+v, %v", lb, err)
	}
	loc, err := api.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("cfg")})
	if err != nil || loc.LocationConstraint != "" {
		t.Fatalf("GetBucketLocation = %+v, %v", loc, err)
	}
	_, err = api.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("dev-cfg")})
	wantCode(t, err, "AccessDenied")
	_, err = api.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("no-bucket")})
	wantCode(t, err, "NoSuchBucket")

	list := func(api *s3.Client, bucket, prefix string, max int32) ([]string, error) {
		out, err := api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(max)})
		if err != nil {
			return nil, err
		}
		var keys []string
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		if int(aws.ToInt32(out.KeyCount)) != len(keys) {
			t.Errorf("KeyCount %d for %d keys", aws.ToInt32(out.KeyCount), len(keys))
		}
		return keys, nil
	}
	if keys, err := list(api, "cfg", "web.env", 1); err != nil || !slices.Equal(keys, []string{"web.env"}) {
		t.Errorf("ListObjectsV2 web.env = %v, %v", keys, err)
	}
	if keys, err := list(api, "cfg", "gone.env", 1); err != nil || len(keys) != 0 {
		t.Errorf("ListObjectsV2 gone.env = %v, %v", keys, err)
	}
	if keys, err := list(api, "cfg", "dir/a b+c.env", 5); err != nil || !slices.Equal(keys, []string{"dir/a b+c.env"}) {
		t.Errorf("ListObjectsV2 of a key with a space and a plus = %v, %v", keys, err)
	}
	pol, err := api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("cfg")})
	if err != nil || aws.ToString(pol.Policy) != `{"Version":"2012-10-17","Statement":[]}` {
		t.Fatalf("GetBucketPolicy = %+v, %v", pol, err)
	}
	_, err = api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("cfg"), ExpectedBucketOwner: aws.String(devID)})
	wantCode(t, err, "AccessDenied")

	// The dev bucket, with dev's credentials: in eu-west-1 only.
	dev := s3.NewFromConfig(ts.assumeCfg(t, devID, "eu-west-1"))
	if keys, err := list(dev, "dev-cfg", "x.env", 1); err != nil || len(keys) != 1 {
		t.Errorf("dev ListObjectsV2 = %v, %v", keys, err)
	}
	_, err = dev.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("dev-cfg")})
	wantCode(t, err, "NoSuchBucketPolicy")
	devEast := s3.NewFromConfig(ts.assumeCfg(t, devID, "us-east-1"))
	_, err = devEast.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("dev-cfg")})
	wantCode(t, err, "PermanentRedirect")
	dloc, err := devEast.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("dev-cfg")})
	if err != nil || dloc.LocationConstraint != "eu-west-1" {
		t.Errorf("GetBucketLocation from another region = %+v, %v", dloc, err)
	}

	// Virtual-hosted addressing: the bucket in the host name.
	vh := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(strings.Replace(ts.url, "127.0.0.1", "s3.localhost.localstack.test", 1))
		o.HTTPClient = &hostRewrite{to: strings.TrimPrefix(ts.url, "http://")}
	})
	if keys, err := list(vh, "cfg", "fb.conf", 1); err != nil || !slices.Equal(keys, []string{"fb.conf"}) {
		t.Errorf("virtual-hosted ListObjectsV2 = %v, %v", keys, err)
	}
	if h := vh.Options().HTTPClient.(*hostRewrite).host; !strings.HasPrefix(h, "cfg.s3.localhost") {
		t.Errorf("the request went to %q, not to the bucket's virtual host", h)
	}

	// Reading an object is refused and recorded.
	_, err = api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cfg"), Key: aws.String("web.env")})
	wantCode(t, err, "AccessDenied")
	_, err = api.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cfg"), Key: aws.String("x"), Body: strings.NewReader("x")})
	wantCode(t, err, "AccessDenied")
	if m := ts.MutatingCalls(); !slices.Equal(m, []string{"s3:GetObject", "s3:PutObject"}) {
		t.Errorf("refused calls %v", m)
	}
	if n := ts.Calls()["s3:ListObjectsV2"]; n < 5 {
		t.Errorf("ListObjectsV2 counted %d times", n)
	}
}

// hostRewrite sends a request to another address, keeping its Host header
// (the bucket's virtual host name).
type hostRewrite struct{ to, host string }

func (h *hostRewrite) Do(r *http.Request) (*http.Response, error) {
	h.host = r.URL.Host
	r2 := r.Clone(r.Context())
	r2.Host = r.URL.Host
	r2.URL.Host = h.to
	return http.DefaultTransport.RoundTrip(r2)
}

// Faults apply to the new services as to any other: a targeted denial, and
// S3's throttling answer.
func TestResourceFaults(t *testing.T) {
	ts := startServer(t, resourceWorld(), Options{Seed: 1, Faults: []Fault{
		{Service: "s3", Operation: "GetBucketPolicy", Code: FaultThrottling},
		{Service: "logs", Code: FaultAccessDenied},
		{Service: "ecr", Operation: "DescribeImages", Code: FaultInternalError},
	}})
	ctx := context.Background()
	cfg := ts.assumeCfg(t, prodID, "us-east-1")
	_, err := s3.NewFromConfig(cfg).GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("cfg")})
	wantCode(t, err, "SlowDown")
	_, err = cloudwatchlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	wantCode(t, err, "AccessDeniedException")
	_, err = ecr.NewFromConfig(cfg).DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("web")})
	wantCode(t, err, "ServerException")
	if ts.ThrottledCalls() != 1 {
		t.Errorf("throttled %d", ts.ThrottledCalls())
	}
}

// A replayed collection error of the world names an S3 object as the
// scanner does (its ARN); the fake answers that request, and only it, with
// the recorded code.
func TestS3ReplaysWorldErrors(t *testing.T) {
	w := resourceWorld()
	w.Errors = append(w.Errors, inventory.CollectionError{AccountID: prodID, Region: "us-east-1", Service: "s3", Operation: "ListObjectsV2",
		Resource: "arn:aws:s3:::cfg/web.env", Code: "AccessDenied", Message: "denied"})
	ts := startServer(t, w, Options{Seed: 1})
	api := s3.NewFromConfig(ts.assumeCfg(t, prodID, "us-east-1"))
	ctx := context.Background()
	_, err := api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("cfg"), Prefix: aws.String("web.env"), MaxKeys: aws.Int32(1)})
	wantCode(t, err, "AccessDenied")
	if _, err := api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("cfg"), Prefix: aws.String("fb.conf"), MaxKeys: aws.Int32(1)}); err != nil {
		t.Errorf("another key: %v", err)
	}
}

// The raw wire: S3's error document is not wrapped, and a redirect names
// the bucket's region in a header.
func TestS3ErrorWire(t *testing.T) {
	ts := startServer(t, resourceWorld(), Options{Seed: 1})
	api := s3.NewFromConfig(ts.assumeCfg(t, devID, "us-east-1"), func(o *s3.Options) { o.HTTPClient = &recorder{} })
	_, _ = api.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("dev-cfg")})
	rec := api.Options().HTTPClient.(*recorder)
	if rec.status != http.StatusMovedPermanently || rec.header.Get("X-Amz-Bucket-Region") != "eu-west-1" ||
		!strings.Contains(rec.body, "<Error><Code>PermanentRedirect</Code>") || strings.Contains(rec.body, "ErrorResponse") {
		t.Errorf("redirect: %d %v %s", rec.status, rec.header, rec.body)
	}
}

type recorder struct {
	status int
	header http.Header
	body   string
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.status, r.header, r.body = resp.StatusCode, resp.Header, string(b)
	resp.Body = io.NopCloser(strings.NewReader(r.body))
	return resp, nil
}
