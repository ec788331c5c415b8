package scanner

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
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
	// logGroupsListPage is the page size of a listing of several names.
	logGroupsListPage = 50
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

// resolveLogGroups looks up the referenced log groups of one account×region.
// Several names with a common prefix (/ecs/...) are looked up together: one
// listing of that prefix, read in name order only as far as the last of
// them and never for more pages than the names would cost one by one;
// whatever it leaves open is looked up by name.
func (c *collector) resolveLogGroups(ctx context.Context, o resOwner, rs *regionState, w *resWork) {
	if len(w.logGroups) == 0 {
		return
	}
	b := c.newBucket(logsRate, logsBurst, resourceInFlight)
	names := slices.Sorted(maps.Keys(w.logGroups))
	known := map[string]*inventory.LogGroup{}
	pending := names
	api := rs.api().logs
	if prefix := commonPrefix(names); len(names) >= minListedGroups && prefix != "" {
		pending = c.listLogGroups(ctx, o, api, b, prefix, names, known)
	}
	var mu sync.Mutex
	var g errgroup.Group
	for _, name := range pending {
		g.Go(func() error {
			lg := c.logGroupStatus(ctx, o, api, b, name)
			mu.Lock()
			known[name] = lg
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	groups := make([]*inventory.LogGroup, 0, len(names))
	for _, n := range names {
		groups = append(groups, known[n])
	}
	rs.region.LogGroups = append(rs.region.LogGroups, groups...)
}

// minListedGroups is how many names with a common prefix make one listing
// worth trying.
const minListedGroups = 3

// commonPrefix is the longest common prefix of sorted names.
func commonPrefix(sorted []string) string {
	if len(sorted) == 0 {
		return ""
	}
	first, last := sorted[0], sorted[len(sorted)-1]
	n := 0
	for n < len(first) && n < len(last) && first[n] == last[n] {
		n++
	}
	return first[:n]
}

// listLogGroups lists the groups named with prefix, in name order, until it
// has passed the last of names or read len(names)-1 pages, and records in
// known what it settled: a name it listed exists; a name before the last
// one listed that it did not list does not exist (the listing is
// ASCII-sorted). It returns the names still open. A failed page leaves them
// to the lookups by name, which record their own failures.
func (c *collector) listLogGroups(ctx context.Context, o resOwner, api logsAPI, b *bucket, prefix string, names []string, known map[string]*inventory.LogGroup) []string {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	last := names[len(names)-1]
	seen := map[string]*inventory.LogGroup{}
	passed := "" // the last name listed
	complete := false
	var token *string
	tokens := map[string]bool{}
	for range len(names) - 1 {
		out, err := invoke(ctx, c, where(o), b, "logs", "DescribeLogGroups", func(ctx context.Context) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
			return api.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{
				LogGroupNamePrefix: aws.String(prefix), Limit: aws.Int32(logGroupsListPage), NextToken: token,
			})
		})
		if err != nil {
			break
		}
		for _, g := range out.LogGroups {
			n := aws.ToString(g.LogGroupName)
			if n < passed {
				// Not in name order: nothing it left out can be trusted.
				return names
			}
			passed = n
			if want[n] {
				seen[n] = logGroupOf(g)
			}
		}
		next := aws.ToString(out.NextToken)
		if next == "" || passed >= last || tokens[next] {
			complete = next == "" || passed >= last
			break
		}
		tokens[next] = true
		token = &next
	}
	var open []string
	for _, n := range names {
		switch {
		case seen[n] != nil:
			known[n] = seen[n]
		case complete || (passed != "" && n < passed):
			known[n] = &inventory.LogGroup{Name: n, Status: inventory.DoesNotExist}
		default:
			open = append(open, n)
		}
	}
	return open
}

// logGroupOf is the record of a group DescribeLogGroups listed.
func logGroupOf(g logstypes.LogGroup) *inventory.LogGroup {
	lg := &inventory.LogGroup{Name: aws.ToString(g.LogGroupName), Status: inventory.Exists, KMSKeyID: aws.ToString(g.KmsKeyId),
		ARN: aws.ToString(g.LogGroupArn)}
	if lg.ARN == "" {
		lg.ARN = strings.TrimSuffix(aws.ToString(g.Arn), ":*")
	}
	return lg
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
				return logGroupOf(g)
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
