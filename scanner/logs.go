package scanner

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"golang.org/x/sync/errgroup"

	"github.com/ecs-audit/audit/inventory"
)

// CloudWatch Logs: DescribeLogGroups is limited to 10 requests per second
// per account and region (CloudWatch Logs quotas); the scanner stays at
// half of it.
const (
	logsRate, logsBurst = 5, 10
	// logGroupsPage is the page size asked for. The exact name, when it
	// exists, is the first group of the first page (see logGroupStatus).
	logGroupsPage = 5
	// logGroupsMaxPages bounds the pages read for one name (pages may come
	// empty with a token).
	logGroupsMaxPages = 20
)

// addLogGroup files an awslogs log configuration whose driver does not
// create the group: the group must exist, in the task definition's account
// (awslogs has no cross-account option) and the awslogs-region.
func (ri *refIndex) addLogGroup(task resOwner, lc *inventory.LogConfiguration) {
	if lc == nil || lc.LogDriver != "awslogs" {
		return
	}
	group := lc.Options["awslogs-group"]
	if group == "" || group == inventory.Redacted || group == inventory.Omitted {
		return
	}
	if create, _, _ := inventory.AwslogsCreateGroup(lc.Options); create {
		return // created by the driver when missing
	}
	region := lc.Options["awslogs-region"]
	if region == "" {
		region = task.region
	}
	if !validRegion(region) {
		return
	}
	ri.work(resOwner{task.account, region}).logGroups[group] = true
}

// resolveLogGroups looks up the referenced log groups of one account×region,
// one DescribeLogGroups (with the name as prefix) per group.
func (c *collector) resolveLogGroups(ctx context.Context, o resOwner, rs *regionState, w *resWork) {
	if len(w.logGroups) == 0 {
		return
	}
	b := c.newBucket(logsRate, logsBurst, resourceInFlight)
	var mu sync.Mutex
	var g errgroup.Group
	var groups []*inventory.LogGroup
	for _, name := range slices.Sorted(maps.Keys(w.logGroups)) {
		g.Go(func() error {
			lg := c.logGroupStatus(ctx, o, rs.clients.logs, b, name)
			mu.Lock()
			groups = append(groups, lg)
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	slices.SortFunc(groups, func(a, b *inventory.LogGroup) int { return strings.Compare(a.Name, b.Name) })
	mu.Lock()
	rs.region.LogGroups = append(rs.region.LogGroups, groups...)
	mu.Unlock()
}

// logGroupStatus looks one group up by DescribeLogGroups with its name as
// the prefix, comparing names exactly. CloudWatch Logs documents its results
// as ASCII-sorted by name, and every group the prefix matches starts with
// the name, so the group itself, when it exists, comes first: the first
// page that lists any group answers the question, and later pages are read
// only after empty ones.
func (c *collector) logGroupStatus(ctx context.Context, o resOwner, api logsAPI, b *bucket, name string) *inventory.LogGroup {
	lg := &inventory.LogGroup{Name: name, Status: inventory.NotChecked}
	var token *string
	seen := map[string]bool{}
	for range logGroupsMaxPages {
		out, err := invoke(ctx, c, where(o), b, "logs", "DescribeLogGroups", func(ctx context.Context) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
			return api.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{
				LogGroupNamePrefix: aws.String(name), Limit: aws.Int32(logGroupsPage), NextToken: token,
			})
		})
		if err != nil {
			c.record(ctx, where(o), "logs", "DescribeLogGroups", name, err)
			return lg
		}
		for _, g := range out.LogGroups {
			if aws.ToString(g.LogGroupName) == name {
				lg.Status, lg.KMSKeyID = inventory.Exists, aws.ToString(g.KmsKeyId)
				lg.ARN = aws.ToString(g.LogGroupArn)
				if lg.ARN == "" {
					lg.ARN = strings.TrimSuffix(aws.ToString(g.Arn), ":*")
				}
				return lg
			}
		}
		next := aws.ToString(out.NextToken)
		if len(out.LogGroups) > 0 || next == "" {
			lg.Status = inventory.DoesNotExist
			return lg
		}
		if seen[next] {
			break
		}
		seen[next] = true
		token = &next
	}
	c.record(ctx, where(o), "logs", "DescribeLogGroups", name,
		newScanError(CodePagination, "the listing of log groups named like %q gave no answer within %d pages", name, logGroupsMaxPages))
	return lg
}
