package scanner

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"golang.org/x/sync/errgroup"

	"github.com/ecs-audit/audit/inventory"
)

// ECR batch sizes (the API maximums) and client-side rate. ECR publishes
// no throttling numbers for these calls; the scanner makes few of them.
const (
	describeRepositoriesBatch = 100
	describeImagesBatch       = 100
	ptcRulesPageSize          = 1000
	ecrRate, ecrBurst         = 10, 20
)

// ECR error codes that are facts rather than failures.
const (
	codeRepositoryNotFound       = "RepositoryNotFoundException"
	codeImageNotFound            = "ImageNotFoundException"
	codeRepositoryPolicyNotFound = "RepositoryPolicyNotFoundException"
	codeRegistryPolicyNotFound   = "RegistryPolicyNotFoundException"
)

// addImage files a container image: a private ECR image belongs to its
// registry's account and region.
func (ri *refIndex) addImage(image string) {
	ref, ok := inventory.ParseECRImage(image)
	if !ok || !validRegion(ref.Region) {
		return
	}
	w := ri.work(resOwner{ref.Registry, ref.Region})
	// A repository's images are a short list (a map each would be ten
	// times its size, held for every repository of the Organization
	// until resolution).
	img := ref.Image()
	if !slices.Contains(w.images[ref.Repository], img) {
		w.images[ref.Repository] = append(w.images[ref.Repository], img)
	}
}

// resolveECR looks up the repositories and images task definitions pull
// from one registry (account×region), with that account's credentials:
// existence by DescribeRepositories (by name) and DescribeImages (by tag or
// digest), each repository's policy, and for names that contain "/" the
// registry's pull-through cache rules and, when a name is under one, the
// registry policy.
//
// DescribeRepositories and DescribeImages fail as a whole when one of the
// names or images they are asked for does not exist: such a batch is split
// in halves until the missing ones stand alone.
func (c *collector) resolveECR(ctx context.Context, o resOwner, rs *regionState, w *resWork) {
	if len(w.images) == 0 {
		return
	}
	api := rs.api().ecr
	b := c.newBucket(ecrRate, ecrBurst, resourceInFlight)

	var names []string
	for _, n := range slices.Sorted(maps.Keys(w.images)) {
		if !inventory.ValidECRRepositoryName(n) {
			// ECR refuses the name in a lookup (and can hold no such
			// repository); the reference is left to the rules.
			c.log.Info("not looking up an invalid ECR repository name", "account", o.account, "region", o.region, "repository", sanitize(n))
			continue
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return
	}

	var mu sync.Mutex
	repos := map[string]*inventory.ECRRepository{}
	for _, n := range names {
		repos[n] = &inventory.ECRRepository{Name: n, Status: inventory.NotChecked, PolicyStatus: inventory.PolicyNotCollected}
	}
	var g errgroup.Group
	// The registry, when a name may be under a pull-through cache rule.
	var registry *inventory.ECRRegistry
	if slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, "/") }) {
		g.Go(func() error {
			registry = c.ptcRules(ctx, o, api, b)
			return nil
		})
	}
	for batch := range slices.Chunk(names, describeRepositoriesBatch) {
		g.Go(func() error {
			c.describeRepositories(ctx, o, api, b, batch, func(n, arn, status string) {
				mu.Lock()
				repos[n].Status, repos[n].ARN = status, arn
				mu.Unlock()
			})
			return nil
		})
	}
	_ = g.Wait()

	// Images and policies of the repositories that exist.
	for _, n := range names {
		repo := repos[n]
		if repo.Status != inventory.Exists {
			continue
		}
		g.Go(func() error {
			repo.Images = c.describeImages(ctx, o, api, b, n, sortedImages(w.images[n]))
			return nil
		})
		g.Go(func() error {
			repo.Policy, repo.PolicyStatus = c.repositoryPolicy(ctx, o, api, b, n)
			return nil
		})
	}
	// Which rule each name is under; the registry policy matters only
	// when one is.
	underRule := false
	if registry != nil && registry.PullThroughCacheRulesStatus == inventory.PolicyCollected {
		for _, n := range names {
			if p := ptcPrefix(registry.PullThroughCacheRules, n); p != "" {
				repos[n].PullThroughCachePrefix = p
				underRule = true
			}
		}
	}
	if underRule {
		g.Go(func() error {
			registry.Policy, registry.PolicyStatus = c.registryPolicy(ctx, o, api, b)
			return nil
		})
	}
	_ = g.Wait()

	mu.Lock()
	defer mu.Unlock()
	for _, n := range names {
		rs.region.ECRRepositories = append(rs.region.ECRRepositories, repos[n])
	}
	if registry != nil {
		rs.region.ECRRegistry = registry
	}
}

func compareImages(a, b inventory.ECRImage) int {
	if c := strings.Compare(a.Digest, b.Digest); c != 0 {
		return c
	}
	return strings.Compare(a.Tag, b.Tag)
}

// ptcPrefix returns the prefix of the rule a repository name is under.
func ptcPrefix(rules []inventory.ECRPullThroughCacheRule, name string) string {
	best := ""
	for _, r := range rules {
		if strings.HasPrefix(name, r.Prefix+"/") && len(r.Prefix) > len(best) {
			best = r.Prefix
		}
	}
	return best
}

// describeRepositories looks a batch of names up and reports each one's
// status. A batch that fails with RepositoryNotFoundException is split;
// a single name that does, does not exist. Any other failure is recorded
// once for the batch, whose names stay NotChecked.
func (c *collector) describeRepositories(ctx context.Context, o resOwner, api ecrAPI, b *bucket, batch []string, set func(name, arn, status string)) {
	out, err := invoke(ctx, c, where(o), b, "ecr", "DescribeRepositories", func(ctx context.Context) (*ecr.DescribeRepositoriesOutput, error) {
		return api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RegistryId: aws.String(o.account), RepositoryNames: batch})
	})
	switch {
	case err == nil:
		found := map[string]string{}
		for _, r := range out.Repositories {
			found[aws.ToString(r.RepositoryName)] = aws.ToString(r.RepositoryArn)
		}
		for _, n := range batch {
			if arn, ok := found[n]; ok {
				set(n, arn, inventory.Exists)
			} else {
				// Not an error answer, but not in it either: ECR says the
				// repository is not there.
				set(n, "", inventory.DoesNotExist)
			}
		}
	case errorCode(err) == codeRepositoryNotFound && ctx.Err() == nil:
		if len(batch) == 1 {
			set(batch[0], "", inventory.DoesNotExist)
			return
		}
		half := len(batch) / 2
		c.describeRepositories(ctx, o, api, b, batch[:half], set)
		c.describeRepositories(ctx, o, api, b, batch[half:], set)
	default:
		c.record(ctx, where(o), "ecr", "DescribeRepositories", batchResource(batch), err)
	}
}

// describeImages looks up the images of one repository that exists.
func (c *collector) describeImages(ctx context.Context, o resOwner, api ecrAPI, b *bucket, repo string, images []inventory.ECRImage) []inventory.ECRImage {
	var out []inventory.ECRImage
	var valid []inventory.ECRImage
	for _, im := range images {
		if !inventory.ValidECRImage(im) {
			c.log.Info("not looking up an invalid ECR image tag or digest", "account", o.account, "region", o.region,
				"repository", sanitize(repo), "image", sanitize(im.Tag+im.Digest))
			continue
		}
		valid = append(valid, im)
	}
	res := map[inventory.ECRImage]inventory.ECRImage{}
	for batch := range slices.Chunk(valid, describeImagesBatch) {
		c.describeImageBatch(ctx, o, api, b, repo, batch, res)
	}
	for _, im := range valid {
		out = append(out, res[im])
	}
	return out
}

func (c *collector) describeImageBatch(ctx context.Context, o resOwner, api ecrAPI, b *bucket, repo string, batch []inventory.ECRImage, res map[inventory.ECRImage]inventory.ECRImage) {
	ids := make([]ecrtypes.ImageIdentifier, len(batch))
	for i, im := range batch {
		if im.Digest != "" {
			ids[i].ImageDigest = aws.String(im.Digest)
		} else {
			ids[i].ImageTag = aws.String(im.Tag)
		}
	}
	out, err := invoke(ctx, c, where(o), b, "ecr", "DescribeImages", func(ctx context.Context) (*ecr.DescribeImagesOutput, error) {
		return api.DescribeImages(ctx, &ecr.DescribeImagesInput{RegistryId: aws.String(o.account), RepositoryName: aws.String(repo), ImageIds: ids})
	})
	switch {
	case err == nil:
		for _, im := range batch {
			got := im
			got.Status = inventory.DoesNotExist
			for _, d := range out.ImageDetails {
				if (im.Digest != "" && aws.ToString(d.ImageDigest) == im.Digest) || (im.Tag != "" && slices.Contains(d.ImageTags, im.Tag)) {
					got.Status, got.ImageStatus = inventory.Exists, string(d.ImageStatus)
					break
				}
			}
			res[im] = got
		}
	case errorCode(err) == codeImageNotFound && ctx.Err() == nil:
		if len(batch) == 1 {
			got := batch[0]
			got.Status = inventory.DoesNotExist
			res[batch[0]] = got
			return
		}
		half := len(batch) / 2
		c.describeImageBatch(ctx, o, api, b, repo, batch[:half], res)
		c.describeImageBatch(ctx, o, api, b, repo, batch[half:], res)
	default:
		c.record(ctx, where(o), "ecr", "DescribeImages", repositoryARN(c.partition, o, repo), err)
		for _, im := range batch {
			got := im
			got.Status = inventory.NotChecked
			res[im] = got
		}
	}
}

// repositoryPolicy reads a repository's policy: none when ECR says it has
// none, not collected when the call fails (recorded).
func (c *collector) repositoryPolicy(ctx context.Context, o resOwner, api ecrAPI, b *bucket, repo string) (doc, status string) {
	out, err := invoke(ctx, c, where(o), b, "ecr", "GetRepositoryPolicy", func(ctx context.Context) (*ecr.GetRepositoryPolicyOutput, error) {
		return api.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RegistryId: aws.String(o.account), RepositoryName: aws.String(repo)})
	})
	switch {
	case err == nil && aws.ToString(out.PolicyText) != "":
		return aws.ToString(out.PolicyText), inventory.PolicyCollected
	case err == nil, errorCode(err) == codeRepositoryPolicyNotFound && ctx.Err() == nil:
		return "", inventory.PolicyNone
	}
	c.record(ctx, where(o), "ecr", "GetRepositoryPolicy", repositoryARN(c.partition, o, repo), err)
	return "", inventory.PolicyNotCollected
}

// registryPolicy reads the private registry permissions policy.
func (c *collector) registryPolicy(ctx context.Context, o resOwner, api ecrAPI, b *bucket) (doc, status string) {
	out, err := invoke(ctx, c, where(o), b, "ecr", "GetRegistryPolicy", func(ctx context.Context) (*ecr.GetRegistryPolicyOutput, error) {
		return api.GetRegistryPolicy(ctx, &ecr.GetRegistryPolicyInput{})
	})
	switch {
	case err == nil && aws.ToString(out.PolicyText) != "":
		return aws.ToString(out.PolicyText), inventory.PolicyCollected
	case err == nil, errorCode(err) == codeRegistryPolicyNotFound && ctx.Err() == nil:
		return "", inventory.PolicyNone
	}
	c.record(ctx, where(o), "ecr", "GetRegistryPolicy", o.account, err)
	return "", inventory.PolicyNotCollected
}

// ptcRules lists the registry's pull-through cache rules (one paged call).
func (c *collector) ptcRules(ctx context.Context, o resOwner, api ecrAPI, b *bucket) *inventory.ECRRegistry {
	reg := &inventory.ECRRegistry{PullThroughCacheRulesStatus: inventory.PolicyNotCollected, PolicyStatus: inventory.PolicyNotCollected}
	rules, err := paginate(ctx, c, listing{w: where(o), b: b, svc: "ecr", op: "DescribePullThroughCacheRules", resource: o.account}, nil,
		func(ctx context.Context, token *string) ([]ecrtypes.PullThroughCacheRule, *string, error) {
			out, err := api.DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{
				RegistryId: aws.String(o.account), MaxResults: aws.Int32(ptcRulesPageSize), NextToken: token,
			})
			if err != nil {
				return nil, nil, err
			}
			return out.PullThroughCacheRules, out.NextToken, nil
		})
	if err != nil {
		return reg // recorded; a partial list is not the list
	}
	reg.PullThroughCacheRulesStatus = inventory.PolicyCollected
	seen := map[string]bool{}
	for _, r := range rules {
		p := aws.ToString(r.EcrRepositoryPrefix)
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		reg.PullThroughCacheRules = append(reg.PullThroughCacheRules, inventory.ECRPullThroughCacheRule{
			Prefix: p, UpstreamRegistry: string(r.UpstreamRegistry), UpstreamRegistryURL: aws.ToString(r.UpstreamRegistryUrl),
			UpstreamRepositoryPrefix: aws.ToString(r.UpstreamRepositoryPrefix),
			CredentialARN:            aws.ToString(r.CredentialArn), CustomRoleARN: aws.ToString(r.CustomRoleArn),
		})
	}
	slices.SortFunc(reg.PullThroughCacheRules, func(a, b inventory.ECRPullThroughCacheRule) int { return strings.Compare(a.Prefix, b.Prefix) })
	return reg
}

func repositoryARN(partition string, o resOwner, repo string) string {
	return "arn:" + partition + ":ecr:" + o.region + ":" + o.account + ":repository/" + repo
}

// sortedImages is a repository's referenced images in order.
func sortedImages(imgs []inventory.ECRImage) []inventory.ECRImage {
	out := slices.Clone(imgs)
	slices.SortFunc(out, compareImages)
	return out
}
