package fakeaws

import (
	"strings"
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

// The generated world holds what its task definitions need to start, in
// the mix the benchmark and the round trip rely on: own, shared
// (cross-account) and pull-through cache repositories, images, log groups
// and S3 objects, a share of each missing.
func TestGenerateWorldResources(t *testing.T) {
	w := GenerateWorld(WorldSpec{Accounts: 12, Regions: []string{"us-east-1", "eu-west-1"}, TaskDefsPerRegion: 30, ServicesPerRegion: 12, Seed: 5})
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	mgmt := w.Organization.ManagementAccountID
	for _, a := range w.Accounts {
		for _, r := range a.Regions {
			for _, repo := range r.ECRRepositories {
				switch {
				case strings.HasPrefix(repo.Name, "shared/"):
					count["shared"]++
					if a.ID != mgmt || repo.PolicyStatus != inventory.PolicyCollected {
						t.Errorf("shared repository %s in %s: %+v", repo.Name, a.ID, repo)
					}
				case repo.PullThroughCachePrefix != "":
					count["ptc "+repo.Status]++
				default:
					count["own"]++
				}
				for _, im := range repo.Images {
					count["image "+im.Status]++
				}
			}
			if r.ECRRegistry != nil {
				count["registry"]++
			}
			for _, g := range r.LogGroups {
				count["group "+g.Status]++
			}
		}
	}
	for _, b := range w.S3Buckets {
		for _, o := range b.Objects {
			count["object "+o.Status]++
		}
	}
	for _, k := range []string{"shared", "own", "ptc exists", "ptc does-not-exist", "image exists", "image does-not-exist", "registry",
		"group exists", "group does-not-exist", "object exists", "object does-not-exist"} {
		if count[k] == 0 {
			t.Errorf("no %s in the generated world (%v)", k, count)
		}
	}
	t.Logf("%v", count)
}
