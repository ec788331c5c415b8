package scanner

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"

	"github.com/ecs-audit/audit/inventory"
)

// defaultRegions are the regions enabled by default in every account of a
// partition (the regions introduced before 20 March 2019; later ones are
// opt-in). They are the fallback when account:ListRegions fails, and an
// explicitly requested region outside this list may turn out not to be
// enabled.
var defaultRegions = map[string][]string{
	"aws": {
		"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
		"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
		"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	},
	"aws-cn":     {"cn-north-1", "cn-northwest-1"},
	"aws-us-gov": {"us-gov-east-1", "us-gov-west-1"},
}

func isDefaultRegion(partition, region string) bool {
	return slices.Contains(defaultRegions[partition], region)
}

// regionPlan is a region to scan (or to list as not enabled).
type regionPlan struct {
	name   string
	status string // "" to scan, or inventory.RegionNotEnabled
	// explicit is true when the user named the region, so whether it is
	// enabled is not known in advance.
	explicit bool
}

// regionsFor decides the regions of one account: the requested ones, or
// those account:ListRegions reports (with the account's own credentials).
func (c *collector) regionsFor(ctx context.Context, acct string, api accountAPI) []regionPlan {
	if len(c.cfg.Regions) > 0 {
		plans := make([]regionPlan, 0, len(c.cfg.Regions))
		for _, r := range c.cfg.Regions {
			plans = append(plans, regionPlan{name: r, explicit: true})
		}
		return plans
	}
	w := where{account: acct}
	b := c.newBucket(accountRate, accountBurst, 1)
	var plans []regionPlan
	seen := map[string]bool{}
	_, err := paginate(ctx, c, listing{w: w, b: b, svc: "account", op: "ListRegions"},
		func(page []accounttypes.Region) {
			for _, r := range page {
				name := c.in.str(aws.ToString(r.RegionName))
				if !validRegion(name) {
					c.record(ctx, w, "account", "ListRegions", name, newScanError(CodeInvalidResponse, "ListRegions returned %q, which is not a region name", name))
					continue
				}
				if seen[name] {
					continue
				}
				seen[name] = true
				switch r.RegionOptStatus {
				case accounttypes.RegionOptStatusEnabled, accounttypes.RegionOptStatusEnabledByDefault, accounttypes.RegionOptStatusDisabling:
					// Still usable while it is being disabled.
					plans = append(plans, regionPlan{name: name})
				default: // DISABLED, ENABLING
					plans = append(plans, regionPlan{name: name, status: inventory.RegionNotEnabled})
				}
			}
		},
		func(ctx context.Context, token *string) ([]accounttypes.Region, *string, error) {
			out, err := api.ListRegions(ctx, &account.ListRegionsInput{MaxResults: aws.Int32(50), NextToken: token})
			if err != nil {
				return nil, nil, err
			}
			return out.Regions, out.NextToken, nil
		})
	if err != nil && ctx.Err() != nil {
		return nil // interrupted (recorded): the regions are not known
	}
	if err != nil {
		// The list is incomplete (its error is recorded): the regions it
		// named, and the partition's default regions it did not reach.
		for _, p := range c.fallbackRegions() {
			if !seen[p.name] {
				plans = append(plans, p)
			}
		}
	} else if len(plans) == 0 && ctx.Err() == nil {
		c.record(ctx, w, "account", "ListRegions", "", newScanError(CodeInvalidResponse, "ListRegions returned no region; scanning the default regions"))
		return c.fallbackRegions()
	}
	slices.SortFunc(plans, func(a, b regionPlan) int { return strings.Compare(a.name, b.name) })
	return plans
}

// fallbackRegions are the partition's default regions, scanned when the
// account's regions cannot be listed.
func (c *collector) fallbackRegions() []regionPlan {
	names := defaultRegions[c.partition]
	if len(names) == 0 {
		names = []string{c.homeRegion()}
	}
	plans := make([]regionPlan, 0, len(names))
	for _, n := range names {
		plans = append(plans, regionPlan{name: n})
	}
	return plans
}

func (c *collector) homeRegion() string {
	if c.cfg.Region != "" {
		return c.cfg.Region
	}
	return DefaultHomeRegion
}
