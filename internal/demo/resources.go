package demo

import (
	"sort"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// What the demo's task definitions need to start, recorded as the scanner
// records it (docs/snapshot.md, "What tasks need to start"): every ECR
// repository and image they pull, every awslogs log group the driver does
// not create, every S3 bucket and object of an environment file or a
// FireLens configuration. Everything referenced exists, except what
// missing names; the resource policies are those the builders set. The
// fake endpoint serves these records, so the live demo scan collects the
// same ones.

// resourceKey is an account × region.
type resourceKey struct{ account, region string }

// resourceSpec is what the builders say about the resources: what is
// missing, and the policies.
type resourceSpec struct {
	// missing: "account|region|repository:tag" for an image, "account|region|repository"
	// for a repository, "account|region|log-group" for a log group,
	// "bucket/key" for an object.
	missing map[string]bool
	// repoPolicies by "account|region|repository".
	repoPolicies map[string]string
	// cacheRules are the pull-through cache rules of a registry, and
	// registryPolicies the registry policies ("" for none).
	cacheRules       map[resourceKey][]inventory.ECRPullThroughCacheRule
	registryPolicies map[resourceKey]string
	// buckets: owner, region and policy ("" for none) by name.
	buckets map[string]bucketSpec
}

type bucketSpec struct{ account, region, policy string }

func (b *builder) spec() *resourceSpec {
	if b.res == nil {
		b.res = &resourceSpec{missing: map[string]bool{}, repoPolicies: map[string]string{},
			cacheRules: map[resourceKey][]inventory.ECRPullThroughCacheRule{}, registryPolicies: map[resourceKey]string{},
			buckets: map[string]bucketSpec{}}
	}
	return b.res
}

// missing marks a referenced resource as not existing (see resourceSpec).
func (b *builder) missing(key string) { b.spec().missing[key] = true }

// repoPolicy sets an ECR repository's policy.
func (b *builder) repoPolicy(account, region, repo, doc string) {
	b.spec().repoPolicies[account+"|"+region+"|"+repo] = doc
}

// bucket declares an S3 bucket with its owner, region and policy.
func (b *builder) bucket(name, account, region, policy string) {
	b.spec().buckets[name] = bucketSpec{account, region, policy}
}

// resources records what the task definitions reference, once the world
// is built.
func (b *builder) resources() {
	s := b.spec()
	b.inv.Scope.Resources = inventory.ResourcesResolved
	regionOf := map[resourceKey]*inventory.Region{}
	for _, a := range b.inv.Accounts {
		for _, r := range a.Regions {
			if r.Status == inventory.RegionScanned {
				regionOf[resourceKey{a.ID, r.Name}] = r
			}
		}
	}
	repos := map[resourceKey]map[string]map[inventory.ECRImage]bool{}
	groups := map[resourceKey]map[string]bool{}
	objects := map[string]map[string]bool{}
	for _, a := range b.inv.Accounts {
		for _, r := range a.Regions {
			for _, td := range r.TaskDefinitions {
				for _, c := range td.ContainerDefinitions {
					if ref, ok := inventory.ParseECRImage(c.Image); ok {
						k := resourceKey{ref.Registry, ref.Region}
						if repos[k] == nil {
							repos[k] = map[string]map[inventory.ECRImage]bool{}
						}
						if repos[k][ref.Repository] == nil {
							repos[k][ref.Repository] = map[inventory.ECRImage]bool{}
						}
						repos[k][ref.Repository][ref.Image()] = true
					}
					if lc := c.LogConfiguration; lc != nil && lc.LogDriver == "awslogs" {
						if create, _, _ := inventory.AwslogsCreateGroup(lc.Options); !create {
							k := resourceKey{a.ID, lc.Options["awslogs-region"]}
							if groups[k] == nil {
								groups[k] = map[string]bool{}
							}
							groups[k][lc.Options["awslogs-group"]] = true
						}
					}
					var arns []string
					for _, f := range c.EnvironmentFiles {
						arns = append(arns, f.Value)
					}
					if fl := c.FirelensConfiguration; fl != nil && fl.Options["config-file-type"] == "s3" {
						arns = append(arns, fl.Options["config-file-value"])
					}
					for _, arn := range arns {
						if _, bucket, key, ok := inventory.ParseS3ObjectARN(arn); ok {
							if objects[bucket] == nil {
								objects[bucket] = map[string]bool{}
							}
							objects[bucket][key] = true
						}
					}
				}
			}
		}
	}

	for _, k := range sortedResourceKeys(repos) {
		r := regionOf[k]
		if r == nil {
			continue // outside the organization's scanned regions: no record
		}
		names := sortedSet(repos[k])
		rules := s.cacheRules[k]
		hasSlash := false
		underRule := false
		for _, name := range names {
			hasSlash = hasSlash || strings.Contains(name, "/")
			underRule = underRule || cachePrefix(rules, name) != ""
		}
		// The registry is read for names that may be cached (with "/"),
		// and its policy only when one of them is under a rule.
		if hasSlash {
			r.ECRRegistry = &inventory.ECRRegistry{PullThroughCacheRules: rules, PullThroughCacheRulesStatus: inventory.PolicyCollected,
				PolicyStatus: inventory.PolicyNotCollected}
			if underRule {
				r.ECRRegistry.Policy, r.ECRRegistry.PolicyStatus = s.registryPolicies[k], inventory.PolicyNone
				if r.ECRRegistry.Policy != "" {
					r.ECRRegistry.PolicyStatus = inventory.PolicyCollected
				}
			}
		}
		for _, name := range names {
			key := k.account + "|" + k.region + "|" + name
			repo := &inventory.ECRRepository{Name: name, PullThroughCachePrefix: cachePrefix(rules, name)}
			if s.missing[key] {
				repo.Status, repo.PolicyStatus = inventory.DoesNotExist, inventory.PolicyNotCollected
				r.ECRRepositories = append(r.ECRRepositories, repo)
				continue
			}
			repo.Status = inventory.Exists
			repo.ARN = "arn:aws:ecr:" + k.region + ":" + k.account + ":repository/" + name
			repo.Policy, repo.PolicyStatus = s.repoPolicies[key], inventory.PolicyNone
			if repo.Policy != "" {
				repo.PolicyStatus = inventory.PolicyCollected
			}
			var ims []inventory.ECRImage
			for im := range repos[k][name] {
				im.Status = inventory.Exists
				if s.missing[key+":"+im.Tag+im.Digest] {
					im.Status = inventory.DoesNotExist
				}
				ims = append(ims, im)
			}
			// As the scanner lists them: by digest, then tag.
			sort.Slice(ims, func(i, j int) bool {
				if ims[i].Digest != ims[j].Digest {
					return ims[i].Digest < ims[j].Digest
				}
				return ims[i].Tag < ims[j].Tag
			})
			repo.Images = ims
			r.ECRRepositories = append(r.ECRRepositories, repo)
		}
	}

	for _, k := range sortedResourceKeys(groups) {
		r := regionOf[k]
		if r == nil {
			continue
		}
		for _, name := range sortedSet(groups[k]) {
			g := &inventory.LogGroup{Name: name, Status: inventory.Exists, ARN: "arn:aws:logs:" + k.region + ":" + k.account + ":log-group:" + name}
			if s.missing[k.account+"|"+k.region+"|"+name] {
				g = &inventory.LogGroup{Name: name, Status: inventory.DoesNotExist}
			}
			r.LogGroups = append(r.LogGroups, g)
		}
	}

	for _, name := range sortedSet(objects) {
		spec, ok := s.buckets[name]
		if !ok {
			panic("demo: bucket " + name + " has no owner")
		}
		bk := &inventory.S3Bucket{Name: name, AccountID: spec.account, Region: spec.region, Status: inventory.Exists,
			Policy: spec.policy, PolicyStatus: inventory.PolicyNone}
		if spec.policy != "" {
			bk.PolicyStatus = inventory.PolicyCollected
		}
		for _, key := range sortedSet(objects[name]) {
			st := inventory.Exists
			if s.missing[name+"/"+key] {
				st = inventory.DoesNotExist
			}
			bk.Objects = append(bk.Objects, inventory.S3Object{Key: key, Status: st})
		}
		b.inv.S3Buckets = append(b.inv.S3Buckets, bk)
	}
}

// cachePrefix is the prefix of the rule a repository name is under.
func cachePrefix(rules []inventory.ECRPullThroughCacheRule, name string) string {
	best := ""
	for _, r := range rules {
		if strings.HasPrefix(name, r.Prefix+"/") && len(r.Prefix) > len(best) {
			best = r.Prefix
		}
	}
	return best
}

func sortedResourceKeys[V any](m map[resourceKey]V) []resourceKey {
	out := make([]resourceKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].account != out[j].account {
			return out[i].account < out[j].account
		}
		return out[i].region < out[j].region
	})
	return out
}

func sortedSet[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
