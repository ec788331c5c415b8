package fakeaws

import (
	"net/http"
	"sort"

	"github.com/ecs-audit/audit/inventory"
)

func accountOps() map[string]opFunc {
	return map[string]opFunc{
		"ListRegions":        (*Server).accountListRegions,
		"GetRegionOptStatus": (*Server).accountGetRegionOptStatus,
	}
}

// optInRegions are the regions that are disabled until an account opts in.
var optInRegions = map[string]bool{
	"af-south-1": true, "ap-east-1": true, "ap-east-2": true, "ap-south-2": true, "ap-southeast-3": true,
	"ap-southeast-4": true, "ap-southeast-5": true, "ap-southeast-6": true, "ap-southeast-7": true,
	"ca-west-1": true, "eu-central-2": true, "eu-south-1": true, "eu-south-2": true, "il-central-1": true,
	"me-central-1": true, "me-south-1": true, "mx-central-1": true,
}

type accountRegion struct {
	RegionName      string
	RegionOptStatus string
}

func regionOptStatus(name, worldStatus string) string {
	switch {
	case worldStatus == inventory.RegionNotEnabled:
		return "DISABLED"
	case optInRegions[name]:
		return "ENABLED"
	default:
		return "ENABLED_BY_DEFAULT"
	}
}

// accountTarget resolves the AccountId parameter of Account Management calls.
func (s *Server) accountTarget(c *call, id string) (string, error) {
	if id == "" {
		return c.caller.account, nil
	}
	mgmt := s.w.org != nil && s.w.org.mgmt == c.caller.account
	if !mgmt {
		return "", newErr(http.StatusForbidden, "AccessDeniedException", "User: %s is not authorized to perform: account:%s on an account ID: only the management account may name another account", c.caller.arn, c.op)
	}
	if id == c.caller.account {
		return "", clientErr("ValidationException", "The management account must call %s without an AccountId.", c.op)
	}
	if n := s.w.org.nodes[id]; n == nil || n.acct == nil {
		return "", newErr(http.StatusForbidden, "AccessDeniedException", "Account %s is not a member of the organization.", id)
	}
	return id, nil
}

func (s *Server) accountListRegions(c *call) (any, error) {
	var in struct {
		AccountId               string
		MaxResults              *int32
		NextToken               string
		RegionOptStatusContains []string
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	target, err := s.accountTarget(c, in.AccountId)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, v := range in.RegionOptStatusContains {
		switch v {
		case "ENABLED", "ENABLING", "DISABLING", "DISABLED", "ENABLED_BY_DEFAULT":
			want[v] = true
		default:
			return nil, clientErr("ValidationException", "RegionOptStatusContains: %q is not a region opt status", v)
		}
	}
	var list []accountRegion
	if a := s.w.accounts[target]; a != nil {
		for _, r := range a.a.Regions {
			st := regionOptStatus(r.Name, r.Status)
			if len(want) == 0 || want[st] {
				list = append(list, accountRegion{RegionName: r.Name, RegionOptStatus: st})
			}
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].RegionName < list[j].RegionName })
	mr, has := optInt(in.MaxResults)
	scope := c.op + "|" + c.caller.account + "|" + target + "|" + joinSorted(in.RegionOptStatusContains)
	lo, hi, next, err := s.paginate(c, pageSpec{scope: scope, token: in.NextToken, max: mr, hasMax: has, def: 20, top: 50, maxName: "maxResults"}, len(list))
	if err != nil {
		return nil, err
	}
	out := append([]accountRegion{}, list[lo:hi]...)
	return pageOut("Regions", out, "NextToken", next), nil
}

func (s *Server) accountGetRegionOptStatus(c *call) (any, error) {
	var in struct {
		AccountId  string
		RegionName string
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	target, err := s.accountTarget(c, in.AccountId)
	if err != nil {
		return nil, err
	}
	if !validRegionName(in.RegionName) {
		return nil, clientErr("ValidationException", "RegionName %q is not a region name", in.RegionName)
	}
	status := regionOptStatus(in.RegionName, "")
	if optInRegions[in.RegionName] {
		status = "DISABLED"
	}
	if a := s.w.accounts[target]; a != nil {
		if r := a.regions[in.RegionName]; r != nil {
			status = regionOptStatus(r.name, r.r.Status)
		}
	}
	return accountRegion{RegionName: in.RegionName, RegionOptStatus: status}, nil
}
