package fakeaws

import (
	"sort"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// What the generated task definitions need to start, made to exist (or, for
// a realistic share, not): the ECR repositories and images they pull (in
// their own registry, the management account's shared registry, and through
// a pull-through cache rule), the awslogs log groups the driver does not
// create, and the S3 objects of environment files and FireLens
// configurations. The records are derived from the task definitions after
// the accounts are generated, so every reference has its owner's record
// when the owner is in the world.

// genMissing decides deterministically that a referenced thing is missing:
// about one in n.
func genMissing(seed uint64, n uint64, parts ...string) bool {
	return hashStrings(seed, append([]string{"missing"}, parts...)...)%n == 0
}

func (g *gen) resources(inv *inventory.Inventory) {
	seed := uint64(g.spec.Seed)
	regionOf := map[string]*inventory.Region{} // account|region, enabled only
	firstRegion := map[string]string{}
	for _, a := range inv.Accounts {
		for _, r := range a.Regions {
			if r.Status != inventory.RegionScanned {
				continue
			}
			regionOf[a.ID+"|"+r.Name] = r
			if firstRegion[a.ID] == "" {
				firstRegion[a.ID] = r.Name
			}
		}
	}
	type repoKey struct{ account, region, name string }
	repos := map[repoKey]map[inventory.ECRImage]bool{}
	groups := map[string]map[string]bool{} // account|region → names
	objects := map[string]map[string]bool{}
	for _, a := range inv.Accounts {
		for _, r := range a.Regions {
			for _, td := range r.TaskDefinitions {
				for _, cd := range td.ContainerDefinitions {
					if ref, ok := inventory.ParseECRImage(cd.Image); ok {
						k := repoKey{ref.Registry, ref.Region, ref.Repository}
						if repos[k] == nil {
							repos[k] = map[inventory.ECRImage]bool{}
						}
						repos[k][ref.Image()] = true
					}
					if lc := cd.LogConfiguration; lc != nil && lc.LogDriver == "awslogs" && lc.Options["awslogs-group"] != "" {
						if create, _, _ := inventory.AwslogsCreateGroup(lc.Options); !create {
							region := lc.Options["awslogs-region"]
							if region == "" {
								region = r.Name
							}
							k := a.ID + "|" + region
							if groups[k] == nil {
								groups[k] = map[string]bool{}
							}
							groups[k][lc.Options["awslogs-group"]] = true
						}
					}
					var arns []string
					for _, f := range cd.EnvironmentFiles {
						arns = append(arns, f.Value)
					}
					if fl := cd.FirelensConfiguration; fl != nil && fl.Options["config-file-type"] == "s3" {
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

	// ECR: the repositories, their images, the shared registry's policy
	// (the organization may pull), pull-through cache rules.
	keys := make([]repoKey, 0, len(repos))
	for k := range repos {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.account != b.account {
			return a.account < b.account
		}
		if a.region != b.region {
			return a.region < b.region
		}
		return a.name < b.name
	})
	for _, k := range keys {
		r := regionOf[k.account+"|"+k.region]
		if r == nil {
			continue
		}
		ptc := strings.HasPrefix(k.name, "docker-hub/")
		if ptc && r.ECRRegistry == nil {
			r.ECRRegistry = &inventory.ECRRegistry{PullThroughCacheRulesStatus: inventory.PolicyCollected, PolicyStatus: inventory.PolicyNone,
				PullThroughCacheRules: []inventory.ECRPullThroughCacheRule{
					{Prefix: "docker-hub", UpstreamRegistry: "docker-hub", UpstreamRegistryURL: "registry-1.docker.io",
						CredentialARN: "arn:aws:secretsmanager:" + k.region + ":" + k.account + ":secret:ecr-pullthroughcache/docker-hub-AbCdEf"},
					{Prefix: "ecr-public", UpstreamRegistry: "ecr-public", UpstreamRegistryURL: "public.ecr.aws"},
				}}
			if genMissing(seed, 2, "registry-policy", k.account, k.region) {
				r.ECRRegistry.PolicyStatus = inventory.PolicyCollected
				r.ECRRegistry.Policy = policyDoc(stmt{Sid: "PullThroughCache", Effect: "Allow",
					Principal: map[string]string{"AWS": "arn:aws:iam::" + k.account + ":root"},
					Action:    []string{"ecr:CreateRepository", "ecr:BatchImportUpstreamImage"}, Resource: "arn:aws:ecr:" + k.region + ":" + k.account + ":repository/docker-hub/*"})
			}
		}
		repo := &inventory.ECRRepository{Name: k.name, Status: inventory.Exists, PolicyStatus: inventory.PolicyNone,
			ARN: "arn:aws:ecr:" + k.region + ":" + k.account + ":repository/" + k.name}
		if ptc {
			repo.PullThroughCachePrefix = "docker-hub"
			if genMissing(seed, 2, "ptc", k.account, k.region, k.name) {
				// Not cached yet: the first pull creates it.
				repo.Status, repo.ARN, repo.PolicyStatus = inventory.DoesNotExist, "", inventory.PolicyNotCollected
				r.ECRRepositories = append(r.ECRRepositories, repo)
				continue
			}
		}
		if strings.HasPrefix(k.name, "shared/") {
			repo.PolicyStatus = inventory.PolicyCollected
			repo.Policy = policyDoc(stmt{Sid: "OrgPull", Effect: "Allow", Principal: "*",
				Action:    []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"},
				Condition: map[string]any{"StringEquals": map[string]string{"aws:PrincipalOrgID": inv.Organization.ID}}})
		}
		var ims []inventory.ECRImage
		for im := range repos[k] {
			im.Status = inventory.Exists
			if genMissing(seed, 17, "image", k.account, k.region, k.name, im.Tag, im.Digest) {
				im.Status = inventory.DoesNotExist // a tag that was never pushed (or expired)
			}
			ims = append(ims, im)
		}
		sort.Slice(ims, func(i, j int) bool { return ims[i].Tag+ims[i].Digest < ims[j].Tag+ims[j].Digest })
		repo.Images = ims
		r.ECRRepositories = append(r.ECRRepositories, repo)
	}

	// Log groups the driver does not create: most exist.
	for _, k := range sortedKeys(groupsAsSet(groups)) {
		r := regionOf[k]
		if r == nil {
			continue
		}
		acct, region, _ := strings.Cut(k, "|")
		for _, name := range sortedKeys(groups[k]) {
			lg := &inventory.LogGroup{Name: name, Status: inventory.Exists, ARN: "arn:aws:logs:" + region + ":" + acct + ":log-group:" + name}
			if genMissing(seed, 13, "log-group", k, name) {
				lg = &inventory.LogGroup{Name: name, Status: inventory.DoesNotExist}
			}
			r.LogGroups = append(r.LogGroups, lg)
		}
	}

	// Buckets config-<account>, in the account's first enabled region,
	// with a policy that refuses plain HTTP.
	for _, name := range sortedKeys(objectsAsSet(objects)) {
		acct := strings.TrimPrefix(name, "config-")
		region := firstRegion[acct]
		if region == "" {
			continue
		}
		b := &inventory.S3Bucket{Name: name, AccountID: acct, Region: region, Status: inventory.Exists, PolicyStatus: inventory.PolicyCollected,
			Policy: policyDoc(stmt{Sid: "TLSOnly", Effect: "Deny", Principal: "*", Action: "s3:*",
				Resource:  []string{"arn:aws:s3:::" + name, "arn:aws:s3:::" + name + "/*"},
				Condition: map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}}})}
		for _, key := range sortedKeys(objects[name]) {
			st := inventory.Exists
			if genMissing(seed, 11, "object", name, key) {
				st = inventory.DoesNotExist
			}
			b.Objects = append(b.Objects, inventory.S3Object{Key: key, Status: st})
		}
		inv.S3Buckets = append(inv.S3Buckets, b)
	}
}

func groupsAsSet(m map[string]map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func objectsAsSet(m map[string]map[string]bool) map[string]bool { return groupsAsSet(m) }
