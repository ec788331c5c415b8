package scanner

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// In-memory fakes of ECR, CloudWatch Logs and S3, answering as the APIs
// document: DescribeRepositories and DescribeImages fail as a whole when one
// of the names or images asked for does not exist; DescribeLogGroups lists
// ASCII-sorted; S3 is global by bucket name, refuses another account's
// bucket and a call in the wrong region.

// ---- ECR

type fakeRepo struct {
	images []ecrtypes.ImageDetail
	policy string
}

type fakeECR struct {
	counter
	fail           faults
	account        string
	region         string
	repos          map[string]*fakeRepo
	rules          []ecrtypes.PullThroughCacheRule
	registryPolicy string
}

func (f *fakeECR) repo(name string) *fakeRepo {
	if f.repos == nil {
		f.repos = map[string]*fakeRepo{}
	}
	r := f.repos[name]
	if r == nil {
		r = &fakeRepo{}
		f.repos[name] = r
	}
	return r
}

// image adds an image with tags to a repository (creating it).
func (f *fakeECR) image(repo, digest string, tags ...string) {
	r := f.repo(repo)
	r.images = append(r.images, ecrtypes.ImageDetail{ImageDigest: aws.String(digest), ImageTags: tags, ImageStatus: ecrtypes.ImageStatusActive})
}

func (f *fakeECR) DescribeRepositories(ctx context.Context, in *ecr.DescribeRepositoriesInput, _ ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error) {
	f.hit("DescribeRepositories", len(in.RepositoryNames), "")
	if err := f.fail.check("DescribeRepositories", in); err != nil {
		return nil, err
	}
	if len(in.RepositoryNames) > 100 {
		return nil, apiErr("InvalidParameterException", "too many repository names")
	}
	if in.RegistryId != nil && *in.RegistryId != f.account {
		return nil, apiErr("AccessDeniedException", "another account's registry")
	}
	out := &ecr.DescribeRepositoriesOutput{}
	for _, n := range in.RepositoryNames {
		if _, ok := f.repos[n]; !ok {
			return nil, apiErr("RepositoryNotFoundException", "The repository with name '"+n+"' does not exist in the registry with id '"+f.account+"'")
		}
		out.Repositories = append(out.Repositories, ecrtypes.Repository{RepositoryName: aws.String(n),
			RepositoryArn: aws.String("arn:aws:ecr:" + f.region + ":" + f.account + ":repository/" + n)})
	}
	return out, nil
}

func (f *fakeECR) DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, _ ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error) {
	f.hit("DescribeImages", len(in.ImageIds), aws.ToString(in.RepositoryName))
	if err := f.fail.check("DescribeImages", in); err != nil {
		return nil, err
	}
	if len(in.ImageIds) == 0 || len(in.ImageIds) > 100 {
		return nil, apiErr("InvalidParameterException", "the fake expects 1 to 100 image IDs")
	}
	r, ok := f.repos[aws.ToString(in.RepositoryName)]
	if !ok {
		return nil, apiErr("RepositoryNotFoundException", "no such repository")
	}
	out := &ecr.DescribeImagesOutput{}
	for _, id := range in.ImageIds {
		i := slices.IndexFunc(r.images, func(d ecrtypes.ImageDetail) bool {
			return (id.ImageDigest != nil && aws.ToString(d.ImageDigest) == *id.ImageDigest) || (id.ImageTag != nil && slices.Contains(d.ImageTags, *id.ImageTag))
		})
		if i < 0 {
			return nil, apiErr("ImageNotFoundException", "The image requested does not exist in the specified repository.")
		}
		out.ImageDetails = append(out.ImageDetails, r.images[i])
	}
	return out, nil
}

func (f *fakeECR) GetRepositoryPolicy(ctx context.Context, in *ecr.GetRepositoryPolicyInput, _ ...func(*ecr.Options)) (*ecr.GetRepositoryPolicyOutput, error) {
	f.hit("GetRepositoryPolicy", -1, aws.ToString(in.RepositoryName))
	if err := f.fail.check("GetRepositoryPolicy", in); err != nil {
		return nil, err
	}
	r, ok := f.repos[aws.ToString(in.RepositoryName)]
	if !ok {
		return nil, apiErr("RepositoryNotFoundException", "no such repository")
	}
	if r.policy == "" {
		return nil, apiErr("RepositoryPolicyNotFoundException", "Repository policy does not exist")
	}
	return &ecr.GetRepositoryPolicyOutput{PolicyText: aws.String(r.policy), RepositoryName: in.RepositoryName}, nil
}

func (f *fakeECR) GetRegistryPolicy(ctx context.Context, in *ecr.GetRegistryPolicyInput, _ ...func(*ecr.Options)) (*ecr.GetRegistryPolicyOutput, error) {
	f.hit("GetRegistryPolicy", -1, "")
	if err := f.fail.check("GetRegistryPolicy", in); err != nil {
		return nil, err
	}
	if f.registryPolicy == "" {
		return nil, apiErr("RegistryPolicyNotFoundException", "Registry policy does not exist")
	}
	return &ecr.GetRegistryPolicyOutput{PolicyText: aws.String(f.registryPolicy), RegistryId: aws.String(f.account)}, nil
}

func (f *fakeECR) DescribePullThroughCacheRules(ctx context.Context, in *ecr.DescribePullThroughCacheRulesInput, _ ...func(*ecr.Options)) (*ecr.DescribePullThroughCacheRulesOutput, error) {
	f.hit("DescribePullThroughCacheRules", -1, "")
	if err := f.fail.check("DescribePullThroughCacheRules", in); err != nil {
		return nil, err
	}
	// Pages of one rule, to exercise paging.
	items, next, err := fakePage(f.rules, in.NextToken, 1, false)
	if err != nil {
		return nil, err
	}
	return &ecr.DescribePullThroughCacheRulesOutput{PullThroughCacheRules: items, NextToken: next}, nil
}

// ---- CloudWatch Logs

type fakeLogs struct {
	counter
	fail   faults
	groups []string          // names
	kms    map[string]string // group → key
	// reverse lists in reverse name order (not what the API documents).
	reverse bool
}

func (f *fakeLogs) DescribeLogGroups(ctx context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	f.hit("DescribeLogGroups", -1, aws.ToString(in.LogGroupNamePrefix))
	if err := f.fail.check("DescribeLogGroups", in); err != nil {
		return nil, err
	}
	var match []logstypes.LogGroup
	for _, g := range slices.Sorted(slices.Values(f.groups)) {
		if strings.HasPrefix(g, aws.ToString(in.LogGroupNamePrefix)) {
			match = append(match, logstypes.LogGroup{LogGroupName: aws.String(g), Arn: aws.String("arn:aws:logs:r:a:log-group:" + g + ":*"),
				KmsKeyId: aws.String(f.kms[g])})
		}
	}
	if f.reverse {
		slices.Reverse(match)
	}
	items, next, err := fakePage(match, in.NextToken, pageSize(in.Limit, 50, 50), false)
	if err != nil {
		return nil, err
	}
	return &cloudwatchlogs.DescribeLogGroupsOutput{LogGroups: items, NextToken: next}, nil
}

// ---- S3

type fakeBucket struct {
	owner, region string
	keys          []string
	policy        string
	// noRegionInList: ListBuckets does not give the bucket's region.
	noRegionInList bool
}

// fakeS3 is one account's S3; fakeS3Client is its client in one region.
type fakeS3 struct {
	counter
	fail    faults
	be      *fakeBackend
	account string
}

type fakeS3Client struct {
	*fakeS3
	region string
}

// bucket adds a bucket of account in region.
func (b *fakeBackend) bucket(account, region, name string, keys ...string) *fakeBucket {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buckets == nil {
		b.buckets = map[string]*fakeBucket{}
	}
	fb := &fakeBucket{owner: account, region: region, keys: keys}
	b.buckets[name] = fb
	return fb
}

// own finds a bucket the account owns, in the client's region.
func (f *fakeS3Client) own(name string, owner *string) (*fakeBucket, error) {
	f.be.mu.Lock()
	fb := f.be.buckets[name]
	f.be.mu.Unlock()
	switch {
	case fb == nil:
		return nil, apiErr("NoSuchBucket", "The specified bucket does not exist")
	case fb.owner != f.account || (owner != nil && *owner != fb.owner):
		return nil, apiErr("AccessDenied", "Access Denied")
	case fb.region != f.region:
		return nil, apiErr("PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint.")
	}
	return fb, nil
}

func (f *fakeS3Client) ListBuckets(ctx context.Context, in *s3.ListBucketsInput, _ ...func(*s3.Options)) (*s3.ListBucketsOutput, error) {
	f.hit("ListBuckets", -1, "")
	if err := f.fail.check("ListBuckets", in); err != nil {
		return nil, err
	}
	f.be.mu.Lock()
	var all []s3types.Bucket
	for _, n := range slices.Sorted(maps.Keys(f.be.buckets)) {
		fb := f.be.buckets[n]
		if fb.owner != f.account {
			continue
		}
		bk := s3types.Bucket{Name: aws.String(n)}
		if !fb.noRegionInList {
			bk.BucketRegion = aws.String(fb.region)
		}
		all = append(all, bk)
	}
	f.be.mu.Unlock()
	// Pages of two, to exercise paging.
	items, next, err := fakePage(all, in.ContinuationToken, 2, false)
	if err != nil {
		return nil, err
	}
	return &s3.ListBucketsOutput{Buckets: items, ContinuationToken: next}, nil
}

func (f *fakeS3Client) GetBucketLocation(ctx context.Context, in *s3.GetBucketLocationInput, _ ...func(*s3.Options)) (*s3.GetBucketLocationOutput, error) {
	f.hit("GetBucketLocation", -1, aws.ToString(in.Bucket))
	if err := f.fail.check("GetBucketLocation", in); err != nil {
		return nil, err
	}
	f.be.mu.Lock()
	fb := f.be.buckets[aws.ToString(in.Bucket)]
	f.be.mu.Unlock()
	switch {
	case fb == nil:
		return nil, apiErr("NoSuchBucket", "The specified bucket does not exist")
	case fb.owner != f.account:
		return nil, apiErr("AccessDenied", "Access Denied")
	}
	lc := fb.region
	if lc == "us-east-1" {
		lc = ""
	}
	return &s3.GetBucketLocationOutput{LocationConstraint: s3types.BucketLocationConstraint(lc)}, nil
}

func (f *fakeS3Client) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.hit("ListObjectsV2", int(aws.ToInt32(in.MaxKeys)), aws.ToString(in.Bucket)+"/"+aws.ToString(in.Prefix))
	if err := f.fail.check("ListObjectsV2", in); err != nil {
		return nil, err
	}
	fb, err := f.own(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	out := &s3.ListObjectsV2Output{}
	for _, k := range slices.Sorted(slices.Values(fb.keys)) {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) && len(out.Contents) < int(aws.ToInt32(in.MaxKeys)) {
			out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k)})
		}
	}
	return out, nil
}

func (f *fakeS3Client) GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, _ ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	f.hit("GetBucketPolicy", -1, aws.ToString(in.Bucket))
	if err := f.fail.check("GetBucketPolicy", in); err != nil {
		return nil, err
	}
	fb, err := f.own(aws.ToString(in.Bucket), in.ExpectedBucketOwner)
	if err != nil {
		return nil, err
	}
	if fb.policy == "" {
		return nil, apiErr("NoSuchBucketPolicy", "The bucket policy does not exist")
	}
	return &s3.GetBucketPolicyOutput{Policy: aws.String(fb.policy)}, nil
}
