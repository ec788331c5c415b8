package fakeaws

import (
	"sort"
	"strings"
	"time"

	"github.com/ecs-audit/audit/inventory"
)

// ---- CloudWatch Logs (JSON 1.1, Logs_20140328) ----
//
// The world's logGroups with status "exists" are the region's log groups.
// DescribeLogGroups filters by logGroupNamePrefix and lists ASCII-sorted by
// name, 1 to 50 per page (default 50), as the API documents.

func logsOps() map[string]opFunc {
	return map[string]opFunc{
		"DescribeLogGroups": (*Server).logsDescribeLogGroups,
	}
}

type logGroupShape struct {
	LogGroupName  string `json:"logGroupName"`
	Arn           string `json:"arn"`
	LogGroupArn   string `json:"logGroupArn"`
	CreationTime  int64  `json:"creationTime"`
	KmsKeyId      string `json:"kmsKeyId,omitempty"`
	LogGroupClass string `json:"logGroupClass"`
	StoredBytes   int64  `json:"storedBytes"`
}

func (s *Server) logsDescribeLogGroups(c *call) (any, error) {
	var in struct {
		LogGroupNamePrefix  *string  `json:"logGroupNamePrefix"`
		LogGroupNamePattern *string  `json:"logGroupNamePattern"`
		LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
		Limit               *int32   `json:"limit"`
		NextToken           string   `json:"nextToken"`
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil {
		return nil, clientErr("InvalidParameterException", "LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive parameters.")
	}
	prefix := ""
	if in.LogGroupNamePrefix != nil {
		prefix = *in.LogGroupNamePrefix
		if prefix == "" || len(prefix) > 512 {
			return nil, clientErr("InvalidParameterException", "1 validation error detected: Value at 'logGroupNamePrefix' failed to satisfy constraint: Member must have length between 1 and 512")
		}
	}
	var names []*inventory.LogGroup
	if c.reg != nil {
		for _, g := range c.reg.r.LogGroups {
			if g.Status != inventory.Exists || !strings.HasPrefix(g.Name, prefix) {
				continue
			}
			if in.LogGroupNamePattern != nil && !strings.Contains(g.Name, *in.LogGroupNamePattern) {
				continue
			}
			if len(in.LogGroupIdentifiers) > 0 && !contains(in.LogGroupIdentifiers, g.Name) {
				continue
			}
			names = append(names, g)
		}
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Name < names[j].Name })
	lim, has := optInt(in.Limit)
	lo, hi, next, err := s.paginate(c, pageSpec{scope: c.op + "|" + c.caller.account + "|" + c.region + "|" + prefix, token: in.NextToken,
		max: lim, hasMax: has, def: 50, top: 50, maxName: "limit"}, len(names))
	if err != nil {
		return nil, err
	}
	out := struct {
		LogGroups []logGroupShape `json:"logGroups"`
		NextToken string          `json:"nextToken,omitempty"`
	}{LogGroups: []logGroupShape{}, NextToken: next}
	for _, g := range names[lo:hi] {
		arn := g.ARN
		if arn == "" {
			arn = "arn:" + s.w.partition + ":logs:" + c.region + ":" + c.caller.account + ":log-group:" + g.Name
		}
		out.LogGroups = append(out.LogGroups, logGroupShape{
			LogGroupName: g.Name, Arn: arn + ":*", LogGroupArn: arn, KmsKeyId: g.KMSKeyID, LogGroupClass: "STANDARD",
			CreationTime: s.w.base.Add(-90 * 24 * time.Hour).UnixMilli(),
		})
	}
	return out, nil
}
