package inventory

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// What a task needs at start must exist: the ECR repository and image tag
// or digest, the S3 objects of environment files and FireLens
// configurations, the awslogs log group when the driver does not create it,
// and the secrets and parameters it references. The types below record what
// the scanner found, with an explicit existence status, and the resource
// policies on the way (ECR repository and registry policies, S3 bucket
// policies) with the status scheme of PolicyCollected, PolicyNone and
// PolicyNotCollected. All of them are snapshot version 2 fields; a resource
// without a record was not collected (resolution was off, or it is outside
// the scanned accounts and regions).

// Existence statuses.
const (
	Exists       = "exists"         // looked up: it exists
	DoesNotExist = "does-not-exist" // looked up: it does not exist
	NotChecked   = "not-checked"    // the lookup failed (see Errors): unknown
)

// Scope.Resources values.
const (
	// ResourcesResolved: the resources task definitions reference were
	// resolved (secrets, parameters, keys, ECR, S3, log groups).
	ResourcesResolved = "resolved"
	// ResourcesSkipped: resolution was switched off (--no-resolve-resources);
	// nothing of it was collected.
	ResourcesSkipped = "skipped"
)

// ECRRepository is a private ECR repository that a task definition's image
// names, looked up in the registry's account and region (in that region's
// ecrRepositories).
type ECRRepository struct {
	// Name is the repository name (it may contain "/").
	Name string `json:"name"`
	// ARN is the repository ARN DescribeRepositories returned (Status
	// Exists).
	ARN string `json:"arn,omitempty"`
	// Status is Exists, DoesNotExist or NotChecked.
	Status string `json:"status"`
	// PullThroughCachePrefix is the ECR repository prefix of the registry's
	// pull-through cache rule whose prefix the name starts with, when there
	// is one. A repository that does not exist under such a prefix is
	// created by the first pull (ecr:CreateRepository and
	// ecr:BatchImportUpstreamImage; see the region's ecrRegistry).
	PullThroughCachePrefix string `json:"pullThroughCachePrefix,omitempty"`
	// Images are the referenced tags and digests, each looked up (only in a
	// repository that exists).
	Images []ECRImage `json:"images,omitempty"`
	// Policy is the repository policy JSON when PolicyStatus is
	// PolicyCollected. A repository that does not exist has no policy to
	// read: PolicyNotCollected.
	Policy       string `json:"policy,omitempty"`
	PolicyStatus string `json:"policyStatus"`
}

// ECRImage is one image reference of a repository: a tag or a digest (an
// image named by both is pulled by its digest, which is what is recorded).
type ECRImage struct {
	Tag    string `json:"tag,omitempty"`
	Digest string `json:"digest,omitempty"`
	// Status is Exists, DoesNotExist or NotChecked.
	Status string `json:"status"`
	// ImageStatus is ECR's status of an image that exists: ACTIVE, or
	// ARCHIVED or ACTIVATING (an archived image cannot be pulled until it is
	// restored); "" when ECR did not say.
	ImageStatus string `json:"imageStatus,omitempty"`
}

// ECRRegistry is what matters of a private registry (an account's ECR in a
// region) for pulls through a pull-through cache rule. It is collected only
// for a registry that task definitions reference with a repository name
// that contains "/" (every cached repository does).
type ECRRegistry struct {
	// PullThroughCacheRules are the registry's rules when
	// PullThroughCacheRulesStatus is PolicyCollected (the list may be
	// empty); PolicyNotCollected when they could not be listed.
	PullThroughCacheRules       []ECRPullThroughCacheRule `json:"pullThroughCacheRules,omitempty"`
	PullThroughCacheRulesStatus string                    `json:"pullThroughCacheRulesStatus"`
	// Policy is the private registry permissions policy, which may grant
	// ecr:BatchImportUpstreamImage and ecr:CreateRepository, when
	// PolicyStatus is PolicyCollected. It is read only when a referenced
	// repository is under one of the rules (otherwise PolicyNotCollected).
	Policy       string `json:"policy,omitempty"`
	PolicyStatus string `json:"policyStatus"`
}

// ECRPullThroughCacheRule is a pull-through cache rule (field names as in
// DescribePullThroughCacheRules).
type ECRPullThroughCacheRule struct {
	Prefix                   string `json:"ecrRepositoryPrefix"`
	UpstreamRegistry         string `json:"upstreamRegistry,omitempty"`
	UpstreamRegistryURL      string `json:"upstreamRegistryUrl,omitempty"`
	UpstreamRepositoryPrefix string `json:"upstreamRepositoryPrefix,omitempty"`
	CredentialARN            string `json:"credentialArn,omitempty"`
	CustomRoleARN            string `json:"customRoleArn,omitempty"`
}

// LogGroup is an awslogs log group that a task definition names without
// awslogs-create-group true (see AwslogsCreateGroup), looked up in the task
// definition's account and the awslogs-region (in that region's logGroups).
type LogGroup struct {
	Name string `json:"name"`
	ARN  string `json:"arn,omitempty"`
	// Status is Exists, DoesNotExist or NotChecked.
	Status string `json:"status"`
	// KMSKeyID is the key the group's data is encrypted with, if any.
	KMSKeyID string `json:"kmsKeyId,omitempty"`
}

// S3Bucket is a bucket that an environmentFiles entry or a FireLens S3
// configuration names (the inventory's s3Buckets: bucket names are global).
// A bucket is recorded when one of the scanned accounts owns it (found by
// s3:ListAllMyBuckets), or when S3 says that no bucket of that name exists;
// a bucket of an account outside the scan has no record (not collected).
type S3Bucket struct {
	Name string `json:"name"`
	// AccountID is the owning account (Status Exists).
	AccountID string `json:"accountId,omitempty"`
	// Region is the bucket's region, when it is known.
	Region string `json:"region,omitempty"`
	// Status is Exists or DoesNotExist.
	Status string `json:"status"`
	// Objects are the referenced keys, each looked up with s3:ListBucket
	// (never read).
	Objects []S3Object `json:"objects,omitempty"`
	// Policy is the bucket policy JSON when PolicyStatus is
	// PolicyCollected (PolicyNotCollected for a bucket that does not exist).
	Policy       string `json:"policy,omitempty"`
	PolicyStatus string `json:"policyStatus"`
}

// S3Object is one referenced object key of a bucket.
type S3Object struct {
	Key string `json:"key"`
	// Status is Exists, DoesNotExist or NotChecked.
	Status string `json:"status"`
}

// ECRImageRef is a parsed private ECR image reference.
type ECRImageRef struct {
	// Registry is the registry's account ID; Region and Partition follow
	// from the host name.
	Registry, Region, Partition string
	// Repository is the repository name.
	Repository string
	// Tag and Digest as written; Tag is "latest" when the reference names
	// neither (as Docker pulls it).
	Tag, Digest string
}

var (
	ecrHostRe      = regexp.MustCompile(`^([0-9]{12})\.dkr\.(ecr|ecr-fips)\.([a-z0-9-]+)\.(amazonaws\.com|amazonaws\.com\.cn|c2s\.ic\.gov|sc2s\.sgov\.gov)$`)
	ecrDualStackRe = regexp.MustCompile(`^([0-9]{12})\.dkr-(ecr|ecr-fips)\.([a-z0-9-]+)\.(on\.aws)$`)
	// What ECR accepts (API reference: repositoryName, imageTag,
	// imageDigest).
	ecrRepoNameRe = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	ecrTagRe      = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,299}$`)
	ecrDigestRe   = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[A-Fa-f0-9]{32,}$`)
)

// ParseECRImage recognises a private ECR image,
// <account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag][@digest],
// with the China, FIPS, ISO and dual-stack (dkr-ecr ... on.aws) host forms,
// the way findings derives ECR needs from it. Public ECR, Docker Hub and
// other registries are not ECR private registries (false).
func ParseECRImage(image string) (ECRImageRef, bool) {
	host, rest, ok := strings.Cut(strings.TrimSpace(image), "/")
	if !ok {
		return ECRImageRef{}, false
	}
	m := ecrHostRe.FindStringSubmatch(strings.ToLower(host))
	if m == nil {
		m = ecrDualStackRe.FindStringSubmatch(strings.ToLower(host))
	}
	if m == nil {
		return ECRImageRef{}, false
	}
	ref := ECRImageRef{Registry: m[1], Region: m[3], Partition: "aws"}
	switch m[4] {
	case "amazonaws.com.cn":
		ref.Partition = "aws-cn"
	case "c2s.ic.gov":
		ref.Partition = "aws-iso"
	case "sc2s.sgov.gov":
		ref.Partition = "aws-iso-b"
	}
	if strings.HasPrefix(ref.Region, "us-gov-") {
		ref.Partition = "aws-us-gov"
	}
	repo := rest
	if i := strings.Index(repo, "@"); i >= 0 {
		repo, ref.Digest = repo[:i], repo[i+1:]
	}
	if i := strings.LastIndex(repo, ":"); i >= 0 && !strings.Contains(repo[i:], "/") {
		repo, ref.Tag = repo[:i], repo[i+1:]
	}
	if repo == "" {
		return ECRImageRef{}, false
	}
	ref.Repository = repo
	if ref.Tag == "" && ref.Digest == "" {
		ref.Tag = "latest"
	}
	return ref, true
}

// Image is the image the reference pulls: by digest when it names one,
// otherwise by tag.
func (r ECRImageRef) Image() ECRImage {
	if r.Digest != "" {
		return ECRImage{Digest: r.Digest}
	}
	return ECRImage{Tag: r.Tag}
}

// ValidECRRepositoryName reports whether ECR accepts name as a repository
// name (2 to 256 characters of the documented pattern).
func ValidECRRepositoryName(name string) bool {
	return len(name) >= 2 && len(name) <= 256 && ecrRepoNameRe.MatchString(name)
}

// ValidECRImage reports whether ECR accepts the image's tag or digest in a
// lookup.
func ValidECRImage(im ECRImage) bool {
	if im.Digest != "" {
		return len(im.Digest) <= 1024 && ecrDigestRe.MatchString(im.Digest)
	}
	return ecrTagRe.MatchString(im.Tag)
}

// ParseS3ObjectARN splits an S3 object ARN, arn:<partition>:s3:::<bucket>/<key>,
// as environmentFiles and FireLens config-file-value name objects.
func ParseS3ObjectARN(arn string) (partition, bucket, key string, ok bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[2] != "s3" || p[3] != "" || p[4] != "" || p[1] == "" {
		return "", "", "", false
	}
	bucket, key, found := strings.Cut(p[5], "/")
	if !found || bucket == "" || key == "" {
		return "", "", "", false
	}
	return p[1], bucket, key, true
}

// AwslogsCreateGroup reads a log configuration's awslogs-create-group option
// the way the awslogs log driver does (strconv.ParseBool: "true", "True",
// "TRUE", "t", "T" and "1" are true). raw is the option as written ("" when
// absent); valid is false when it is set but not a boolean (the driver
// refuses such an option).
func AwslogsCreateGroup(opts map[string]string) (create bool, raw string, valid bool) {
	raw, set := opts["awslogs-create-group"]
	if !set {
		return false, "", true
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return false, raw, false
	}
	return b, raw, true
}

// existenceValid reports whether s is one of the existence statuses.
func existenceValid(s string) bool {
	return s == Exists || s == DoesNotExist || s == NotChecked
}

// validateRegionResources checks a region's existence records (rf is the
// region's field path).
func validateRegionResources(r *Region, rf string, policyStatus func(field, st, doc string, noneOK bool) error) error {
	bad := func(field, format string, args ...any) error {
		return &LoadError{Field: field, Offset: -1, Msg: fmt.Sprintf(format, args...)}
	}
	for _, list := range []struct {
		field string
		refs  []string
	}{{"missingSecrets", r.MissingSecrets}, {"missingParameters", r.MissingParameters}} {
		for i, ref := range list.refs {
			if strings.TrimSpace(ref) == "" {
				return bad(fmt.Sprintf("%s.%s[%d]", rf, list.field, i), "is empty")
			}
		}
	}
	repos := map[string]bool{}
	for i, repo := range r.ECRRepositories {
		f := fmt.Sprintf("%s.ecrRepositories[%d]", rf, i)
		if repo == nil {
			return bad(f, "is null")
		}
		if repo.Name == "" {
			return bad(f+".name", "missing")
		}
		if repos[repo.Name] {
			return bad(f+".name", "repository %q is listed twice", repo.Name)
		}
		repos[repo.Name] = true
		if err := statusField(f+".status", repo.Status); err != nil {
			return err
		}
		if repo.ARN != "" && !strings.HasPrefix(repo.ARN, "arn:") {
			return bad(f+".arn", "%q is not an ARN", repo.ARN)
		}
		if repo.PolicyStatus == "" {
			return bad(f+".policyStatus", "missing; expected %s", statusList(true))
		}
		if err := policyStatus(f+".policy", repo.PolicyStatus, repo.Policy, true); err != nil {
			return err
		}
		if repo.Status != Exists {
			if repo.PolicyStatus != PolicyNotCollected {
				return bad(f+".policyStatus", "is %q, but the repository's status is %q: a policy is only read from a repository that exists; expected %q", repo.PolicyStatus, repo.Status, PolicyNotCollected)
			}
			if len(repo.Images) > 0 {
				return bad(f+".images", "are given, but the repository's status is %q: images are only looked up in a repository that exists", repo.Status)
			}
		}
		images := map[ECRImage]bool{}
		for j, im := range repo.Images {
			imf := fmt.Sprintf("%s.images[%d]", f, j)
			if (im.Tag == "") == (im.Digest == "") {
				return bad(imf, "needs exactly one of tag and digest")
			}
			if err := statusField(imf+".status", im.Status); err != nil {
				return err
			}
			key := ECRImage{Tag: im.Tag, Digest: im.Digest}
			if images[key] {
				return bad(imf, "image %s%s is listed twice", im.Tag, im.Digest)
			}
			images[key] = true
		}
	}
	if reg := r.ECRRegistry; reg != nil {
		f := rf + ".ecrRegistry"
		switch reg.PullThroughCacheRulesStatus {
		case PolicyCollected:
		case PolicyNotCollected:
			if len(reg.PullThroughCacheRules) > 0 {
				return bad(f+".pullThroughCacheRules", "are given but pullThroughCacheRulesStatus is %q", reg.PullThroughCacheRulesStatus)
			}
		case "":
			return bad(f+".pullThroughCacheRulesStatus", "missing; expected %q or %q", PolicyCollected, PolicyNotCollected)
		default:
			return bad(f+".pullThroughCacheRulesStatus", "is %q; expected %q or %q", reg.PullThroughCacheRulesStatus, PolicyCollected, PolicyNotCollected)
		}
		prefixes := map[string]bool{}
		for j, rule := range reg.PullThroughCacheRules {
			pf := fmt.Sprintf("%s.pullThroughCacheRules[%d].ecrRepositoryPrefix", f, j)
			if rule.Prefix == "" {
				return bad(pf, "missing")
			}
			if prefixes[rule.Prefix] {
				return bad(pf, "prefix %q is listed twice", rule.Prefix)
			}
			prefixes[rule.Prefix] = true
		}
		if reg.PolicyStatus == "" {
			return bad(f+".policyStatus", "missing; expected %s", statusList(true))
		}
		if err := policyStatus(f+".policy", reg.PolicyStatus, reg.Policy, true); err != nil {
			return err
		}
	}
	groups := map[string]bool{}
	for i, g := range r.LogGroups {
		f := fmt.Sprintf("%s.logGroups[%d]", rf, i)
		if g == nil {
			return bad(f, "is null")
		}
		if g.Name == "" {
			return bad(f+".name", "missing")
		}
		if groups[g.Name] {
			return bad(f+".name", "log group %q is listed twice", g.Name)
		}
		groups[g.Name] = true
		if err := statusField(f+".status", g.Status); err != nil {
			return err
		}
	}
	return nil
}

// validateBuckets checks the inventory's S3 buckets.
func validateBuckets(buckets []*S3Bucket, policyStatus func(field, st, doc string, noneOK bool) error) error {
	bad := func(field, format string, args ...any) error {
		return &LoadError{Field: field, Offset: -1, Msg: fmt.Sprintf(format, args...)}
	}
	names := map[string]bool{}
	for i, b := range buckets {
		f := fmt.Sprintf("s3Buckets[%d]", i)
		if b == nil {
			return bad(f, "is null")
		}
		if b.Name == "" || strings.Contains(b.Name, "/") {
			return bad(f+".name", "%q is not a bucket name", b.Name)
		}
		if names[b.Name] {
			return bad(f+".name", "bucket %q is listed twice", b.Name)
		}
		names[b.Name] = true
		switch b.Status {
		case Exists:
			if !IsAccountID(b.AccountID) {
				return bad(f+".accountId", "%q is not a 12-digit account ID (a bucket that exists is recorded with its owner)", b.AccountID)
			}
		case DoesNotExist:
			if b.AccountID != "" {
				return bad(f+".accountId", "is given, but the bucket does not exist")
			}
			if b.PolicyStatus != PolicyNotCollected {
				return bad(f+".policyStatus", "is %q, but the bucket does not exist; expected %q", b.PolicyStatus, PolicyNotCollected)
			}
			if len(b.Objects) > 0 {
				return bad(f+".objects", "are given, but the bucket does not exist")
			}
		case "":
			return bad(f+".status", "missing; expected %q or %q", Exists, DoesNotExist)
		default:
			return bad(f+".status", "is %q; expected %q or %q", b.Status, Exists, DoesNotExist)
		}
		if b.PolicyStatus == "" {
			return bad(f+".policyStatus", "missing; expected %s", statusList(true))
		}
		if err := policyStatus(f+".policy", b.PolicyStatus, b.Policy, true); err != nil {
			return err
		}
		keys := map[string]bool{}
		for j, o := range b.Objects {
			of := fmt.Sprintf("%s.objects[%d]", f, j)
			if o.Key == "" {
				return bad(of+".key", "missing")
			}
			if keys[o.Key] {
				return bad(of+".key", "key %q is listed twice", o.Key)
			}
			keys[o.Key] = true
			if err := statusField(of+".status", o.Status); err != nil {
				return err
			}
		}
	}
	return nil
}

func statusField(field, st string) error {
	if existenceValid(st) {
		return nil
	}
	msg := fmt.Sprintf("is %q; expected %q, %q or %q", st, Exists, DoesNotExist, NotChecked)
	if st == "" {
		msg = fmt.Sprintf("missing; expected %q, %q or %q", Exists, DoesNotExist, NotChecked)
	}
	return &LoadError{Field: field, Offset: -1, Msg: msg}
}
