package fakeaws

import (
	"encoding/json"
	"time"

	"github.com/ecs-audit/audit/inventory"
)

// ---- ECR (JSON 1.1, AmazonEC2ContainerRegistry_V20150921) ----
//
// The world's ecrRepositories with status "exists" are the repositories of
// the account's registry in the region, with the images whose status is
// "exists"; ecrRegistry gives the pull-through cache rules and the registry
// policy. Like AWS, DescribeRepositories fails with
// RepositoryNotFoundException when one of the names asked for does not
// exist, and DescribeImages with ImageNotFoundException when one of the
// images does not.

func ecrOps() map[string]opFunc {
	return map[string]opFunc{
		"DescribeRepositories":          (*Server).ecrDescribeRepositories,
		"DescribeImages":                (*Server).ecrDescribeImages,
		"GetRepositoryPolicy":           (*Server).ecrGetRepositoryPolicy,
		"GetRegistryPolicy":             (*Server).ecrGetRegistryPolicy,
		"DescribePullThroughCacheRules": (*Server).ecrDescribePullThroughCacheRules,
	}
}

// ecrRegistry checks that the call is about the caller's own registry (the
// fake evaluates no registry or repository policy across accounts).
func (s *Server) ecrRegistry(c *call, registryID string) error {
	if registryID != "" && registryID != c.caller.account {
		return s.deniedErr(c, "User: "+c.caller.arn+" is not authorized to perform: ecr:"+c.op+
			" on resource: arn:"+s.w.partition+":ecr:"+c.region+":"+registryID+":repository/* (fakeaws serves only the caller's own registry)")
	}
	return nil
}

// ecrRepo finds a repository that exists in the caller's registry.
func (s *Server) ecrRepo(c *call, name string) *inventory.ECRRepository {
	if c.reg == nil {
		return nil
	}
	for _, r := range c.reg.r.ECRRepositories {
		if r.Name == name && r.Status == inventory.Exists {
			return r
		}
	}
	return nil
}

func (s *Server) repoARN(c *call, r *inventory.ECRRepository) string {
	if r.ARN != "" {
		return r.ARN
	}
	return "arn:" + s.w.partition + ":ecr:" + c.region + ":" + c.caller.account + ":repository/" + r.Name
}

func repoNotFound(c *call, name string) *apiError {
	return clientErr("RepositoryNotFoundException", "The repository with name '%s' does not exist in the registry with id '%s'", name, c.caller.account)
}

type ecrRepository struct {
	RepositoryArn  string  `json:"repositoryArn"`
	RegistryId     string  `json:"registryId"`
	RepositoryName string  `json:"repositoryName"`
	RepositoryUri  string  `json:"repositoryUri"`
	CreatedAt      float64 `json:"createdAt"`
	// ImageTagMutability as ECR defaults it.
	ImageTagMutability string `json:"imageTagMutability"`
}

func (s *Server) ecrDescribeRepositories(c *call) (any, error) {
	var in struct {
		RegistryId      string   `json:"registryId"`
		RepositoryNames []string `json:"repositoryNames"`
		MaxResults      *int32   `json:"maxResults"`
		NextToken       string   `json:"nextToken"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := s.ecrRegistry(c, in.RegistryId); err != nil {
		return nil, err
	}
	if len(in.RepositoryNames) > 100 {
		return nil, clientErr("InvalidParameterException", "Invalid parameter at 'repositoryNames' failed to satisfy constraint: 'Member must have length less than or equal to 100'")
	}
	var list []*inventory.ECRRepository
	if len(in.RepositoryNames) > 0 {
		if in.MaxResults != nil || in.NextToken != "" {
			return nil, clientErr("InvalidParameterException", "Invalid parameter at 'maxResults': maxResults cannot be used with repositoryNames")
		}
		for _, n := range in.RepositoryNames {
			if !inventory.ValidECRRepositoryName(n) {
				return nil, clientErr("InvalidParameterException", "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''")
			}
			r := s.ecrRepo(c, n)
			if r == nil {
				return nil, repoNotFound(c, n)
			}
			list = append(list, r)
		}
	} else if c.reg != nil {
		for _, r := range c.reg.r.ECRRepositories {
			if r.Status == inventory.Exists {
				list = append(list, r)
			}
		}
	}
	mr, has := optInt(in.MaxResults)
	lo, hi, next, err := s.paginate(c, pageSpec{scope: c.op + "|" + c.caller.account + "|" + c.region, token: in.NextToken,
		max: mr, hasMax: has, def: 100, top: 1000, maxName: "maxResults"}, len(list))
	if err != nil {
		return nil, err
	}
	out := struct {
		Repositories []ecrRepository `json:"repositories"`
		NextToken    string          `json:"nextToken,omitempty"`
	}{Repositories: []ecrRepository{}, NextToken: next}
	for _, r := range list[lo:hi] {
		out.Repositories = append(out.Repositories, ecrRepository{
			RepositoryArn: s.repoARN(c, r), RegistryId: c.caller.account, RepositoryName: r.Name,
			RepositoryUri: c.caller.account + ".dkr.ecr." + c.region + ".amazonaws.com/" + r.Name,
			CreatedAt:     epoch(s.w.base.Add(-300 * 24 * time.Hour)), ImageTagMutability: "MUTABLE",
		})
	}
	return out, nil
}

type ecrImageID struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

type ecrImageDetail struct {
	RegistryId     string   `json:"registryId"`
	RepositoryName string   `json:"repositoryName"`
	ImageDigest    string   `json:"imageDigest"`
	ImageTags      []string `json:"imageTags,omitempty"`
	ImagePushedAt  float64  `json:"imagePushedAt"`
	ImageStatus    string   `json:"imageStatus,omitempty"`
}

// ecrDigest is the digest the fake gives an image the world names by tag
// only (deterministic).
func (s *Server) ecrDigest(account, region, repo, tag string) string {
	h1 := hashStrings(s.w.seed, "ecr-digest", account, region, repo, tag)
	h2 := mix(h1, 1)
	h3 := mix(h1, 2)
	h4 := mix(h1, 3)
	return "sha256:" + hex64(h1) + hex64(h2) + hex64(h3) + hex64(h4)
}

func hex64(h uint64) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 16)
	for i := 15; i >= 0; i-- {
		b[i] = digits[h&15]
		h >>= 4
	}
	return string(b)
}

// ecrImages groups a repository's images the way ECR has them: one image
// per digest with all its tags. A tag image without a digest in the world
// gets a synthetic one.
func (s *Server) ecrImages(c *call, r *inventory.ECRRepository) []ecrImageDetail {
	var out []ecrImageDetail
	byDigest := map[string]int{}
	for _, im := range r.Images {
		if im.Status != inventory.Exists {
			continue
		}
		d := im.Digest
		if d == "" {
			d = s.ecrDigest(c.caller.account, c.region, r.Name, im.Tag)
		}
		i, ok := byDigest[d]
		if !ok {
			i = len(out)
			byDigest[d] = i
			out = append(out, ecrImageDetail{RegistryId: c.caller.account, RepositoryName: r.Name, ImageDigest: d,
				ImagePushedAt: epoch(s.w.base.Add(-72 * time.Hour)), ImageStatus: im.ImageStatus})
		}
		if im.Tag != "" {
			out[i].ImageTags = append(out[i].ImageTags, im.Tag)
		}
	}
	return out
}

func (s *Server) ecrDescribeImages(c *call) (any, error) {
	var in struct {
		RegistryId     string       `json:"registryId"`
		RepositoryName string       `json:"repositoryName"`
		ImageIds       []ecrImageID `json:"imageIds"`
		MaxResults     *int32       `json:"maxResults"`
		NextToken      string       `json:"nextToken"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := s.ecrRegistry(c, in.RegistryId); err != nil {
		return nil, err
	}
	if in.RepositoryName == "" {
		return nil, clientErr("InvalidParameterException", "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member must not be null'")
	}
	if len(in.ImageIds) > 100 {
		return nil, clientErr("InvalidParameterException", "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length less than or equal to 100'")
	}
	if len(in.ImageIds) > 0 && (in.MaxResults != nil || in.NextToken != "") {
		return nil, clientErr("InvalidParameterException", "Invalid parameter at 'maxResults': maxResults cannot be used with imageIds")
	}
	r := s.ecrRepo(c, in.RepositoryName)
	if r == nil {
		return nil, repoNotFound(c, in.RepositoryName)
	}
	all := s.ecrImages(c, r)
	list := all
	if len(in.ImageIds) > 0 {
		list = nil
		seen := map[string]bool{}
		for _, id := range in.ImageIds {
			i := -1
			for j, d := range all {
				if (id.ImageDigest != "" && d.ImageDigest == id.ImageDigest) || (id.ImageTag != "" && contains(d.ImageTags, id.ImageTag)) {
					i = j
					break
				}
			}
			if i < 0 {
				dig, tag := id.ImageDigest, id.ImageTag
				if dig == "" {
					dig = "null"
				}
				if tag == "" {
					tag = "null"
				}
				return nil, clientErr("ImageNotFoundException", "The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'", dig, tag, r.Name, c.caller.account)
			}
			if !seen[all[i].ImageDigest] {
				seen[all[i].ImageDigest] = true
				list = append(list, all[i])
			}
		}
	}
	mr, has := optInt(in.MaxResults)
	lo, hi, next, err := s.paginate(c, pageSpec{scope: c.op + "|" + c.caller.account + "|" + c.region + "|" + r.Name, token: in.NextToken,
		max: mr, hasMax: has, def: 100, top: 1000, maxName: "maxResults"}, len(list))
	if err != nil {
		return nil, err
	}
	return struct {
		ImageDetails []ecrImageDetail `json:"imageDetails"`
		NextToken    string           `json:"nextToken,omitempty"`
	}{append([]ecrImageDetail{}, list[lo:hi]...), next}, nil
}

func (s *Server) ecrGetRepositoryPolicy(c *call) (any, error) {
	var in struct {
		RegistryId     string `json:"registryId"`
		RepositoryName string `json:"repositoryName"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := s.ecrRegistry(c, in.RegistryId); err != nil {
		return nil, err
	}
	r := s.ecrRepo(c, in.RepositoryName)
	if r == nil {
		return nil, repoNotFound(c, in.RepositoryName)
	}
	if r.PolicyStatus == inventory.PolicyNotCollected {
		// The world does not know it: so neither does the fake.
		return nil, s.deniedErr(c, "User: "+c.caller.arn+" is not authorized to perform: ecr:GetRepositoryPolicy on resource: "+s.repoARN(c, r)+" (the world records this policy as not collected)")
	}
	if r.Policy == "" {
		return nil, clientErr("RepositoryPolicyNotFoundException", "Repository policy does not exist for the repository with name '%s' in the registry with id '%s'", r.Name, c.caller.account)
	}
	return map[string]string{"registryId": c.caller.account, "repositoryName": r.Name, "policyText": r.Policy}, nil
}

func (s *Server) ecrGetRegistryPolicy(c *call) (any, error) {
	var reg *inventory.ECRRegistry
	if c.reg != nil {
		reg = c.reg.r.ECRRegistry
	}
	if reg != nil && reg.PolicyStatus == inventory.PolicyNotCollected {
		// The world does not know it: so neither does the fake.
		return nil, s.deniedErr(c, "User: "+c.caller.arn+" is not authorized to perform: ecr:GetRegistryPolicy (the world records the registry policy as not collected)")
	}
	if reg == nil || reg.Policy == "" {
		return nil, clientErr("RegistryPolicyNotFoundException", "Registry policy does not exist in the registry with id '%s'", c.caller.account)
	}
	return map[string]string{"registryId": c.caller.account, "policyText": reg.Policy}, nil
}

type ecrRule struct {
	EcrRepositoryPrefix      string  `json:"ecrRepositoryPrefix"`
	RegistryId               string  `json:"registryId"`
	UpstreamRegistryUrl      string  `json:"upstreamRegistryUrl,omitempty"`
	UpstreamRegistry         string  `json:"upstreamRegistry,omitempty"`
	UpstreamRepositoryPrefix string  `json:"upstreamRepositoryPrefix,omitempty"`
	CredentialArn            string  `json:"credentialArn,omitempty"`
	CustomRoleArn            string  `json:"customRoleArn,omitempty"`
	CreatedAt                float64 `json:"createdAt"`
}

func (s *Server) ecrDescribePullThroughCacheRules(c *call) (any, error) {
	var in struct {
		RegistryId            string   `json:"registryId"`
		EcrRepositoryPrefixes []string `json:"ecrRepositoryPrefixes"`
		MaxResults            *int32   `json:"maxResults"`
		NextToken             string   `json:"nextToken"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := s.ecrRegistry(c, in.RegistryId); err != nil {
		return nil, err
	}
	var rules []inventory.ECRPullThroughCacheRule
	if c.reg != nil && c.reg.r.ECRRegistry != nil {
		for _, r := range c.reg.r.ECRRegistry.PullThroughCacheRules {
			if len(in.EcrRepositoryPrefixes) == 0 || contains(in.EcrRepositoryPrefixes, r.Prefix) {
				rules = append(rules, r)
			}
		}
	}
	scope, _ := json.Marshal(in.EcrRepositoryPrefixes)
	mr, has := optInt(in.MaxResults)
	lo, hi, next, err := s.paginate(c, pageSpec{scope: c.op + "|" + c.caller.account + "|" + c.region + "|" + string(scope), token: in.NextToken,
		max: mr, hasMax: has, def: 100, top: 1000, maxName: "maxResults"}, len(rules))
	if err != nil {
		return nil, err
	}
	out := struct {
		PullThroughCacheRules []ecrRule `json:"pullThroughCacheRules"`
		NextToken             string    `json:"nextToken,omitempty"`
	}{PullThroughCacheRules: []ecrRule{}, NextToken: next}
	for _, r := range rules[lo:hi] {
		out.PullThroughCacheRules = append(out.PullThroughCacheRules, ecrRule{
			EcrRepositoryPrefix: r.Prefix, RegistryId: c.caller.account, UpstreamRegistryUrl: r.UpstreamRegistryURL,
			UpstreamRegistry: r.UpstreamRegistry, UpstreamRepositoryPrefix: r.UpstreamRepositoryPrefix,
			CredentialArn: r.CredentialARN, CustomRoleArn: r.CustomRoleARN, CreatedAt: epoch(s.w.base.Add(-400 * 24 * time.Hour)),
		})
	}
	return out, nil
}
