package scanner

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/sync/errgroup"

	"github.com/ecs-audit/audit/inventory"
)

// Task listing bounds. DescribeTasks takes at most 100 tasks. A cluster's
// tasks are listed per desired status (RUNNING, then STOPPED) in pages of
// 100, at most maxTaskPages pages each: a longer list is recorded as cut
// short (a collection error), never taken for the whole list.
const (
	describeTasksBatch = 100
	maxTaskPages       = 20
)

// taskStatuses are the desired statuses listed: running tasks, and the
// stopped tasks ECS still shows (about an hour after they stop).
var taskStatuses = []ecstypes.DesiredStatus{ecstypes.DesiredStatusRunning, ecstypes.DesiredStatusStopped}

// tasks lists and describes a cluster's running and recently stopped tasks
// and schedules the task definitions they run. Each task's
// overrides.executionRoleArn, launch type, platform and ENI are kept.
func (rs *regionScan) tasks(ctx context.Context, cl *inventory.Cluster) {
	api := rs.api
	var mu sync.Mutex
	var got []*inventory.Task
	failed := false // a listing cut short or a batch that failed
	seen := map[string]bool{}
	var g errgroup.Group
	for _, status := range taskStatuses {
		g.Go(func() error {
			arns, err := paginate(ctx, rs.c, listing{w: rs.w, b: rs.b.resource, svc: "ecs", op: "ListTasks",
				resource: cl.ARN + " desiredStatus=" + string(status), maxPages: maxTaskPages}, nil,
				func(ctx context.Context, token *string) ([]string, *string, error) {
					out, err := api.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cl.ARN), DesiredStatus: status,
						MaxResults: aws.Int32(ecsPageSize), NextToken: token})
					if err != nil {
						return nil, nil, err
					}
					return out.TaskArns, out.NextToken, nil
				})
			if err != nil {
				mu.Lock()
				failed = true
				mu.Unlock()
			}
			slices.Sort(arns)
			arns = slices.Compact(arns)
			var bg errgroup.Group
			for batch := range slices.Chunk(arns, describeTasksBatch) {
				bg.Go(func() error {
					out, err := call(ctx, rs.c, rs.w, rs.b.resource, "ecs", "DescribeTasks", cl.ARN+" "+batchResource(batch), func(ctx context.Context) (*ecs.DescribeTasksOutput, error) {
						return api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cl.ARN), Tasks: batch})
					})
					if err != nil {
						mu.Lock()
						failed = true
						mu.Unlock()
						return nil
					}
					for _, f := range out.Failures {
						// A task that ended between the listing and the
						// describe is gone (MISSING): nothing was missed.
						if aws.ToString(f.Reason) == "MISSING" {
							continue
						}
						rs.failure("DescribeTasks", f)
						mu.Lock()
						failed = true
						mu.Unlock()
					}
					for _, t := range out.Tasks {
						task := convertTask(t)
						if !strings.HasPrefix(task.ARN, "arn:") || task.TaskDefinition == "" {
							continue
						}
						rs.wantTaskDefinition(ctx, task.TaskDefinition)
						mu.Lock()
						if !seen[task.ARN] {
							seen[task.ARN] = true
							got = append(got, task)
						}
						mu.Unlock()
					}
					return nil
				})
			}
			_ = bg.Wait()
			return nil
		})
	}
	_ = g.Wait()
	st := inventory.CollectedComplete
	switch {
	case failed && len(got) == 0:
		st = inventory.CollectedNone
	case failed:
		st = inventory.CollectedPartial
	}
	rs.mu.Lock()
	cl.Tasks, cl.TasksStatus = got, st
	rs.mu.Unlock()
}

// convertTask maps a task. Free text (the stop reason) is sanitized; the
// ENI's subnet comes from the ElasticNetworkInterface attachment.
func convertTask(t ecstypes.Task) *inventory.Task {
	task := &inventory.Task{
		ARN:                  aws.ToString(t.TaskArn),
		TaskDefinition:       aws.ToString(t.TaskDefinitionArn),
		LastStatus:           aws.ToString(t.LastStatus),
		DesiredStatus:        aws.ToString(t.DesiredStatus),
		LaunchType:           string(t.LaunchType),
		CapacityProvider:     aws.ToString(t.CapacityProviderName),
		PlatformVersion:      aws.ToString(t.PlatformVersion),
		PlatformFamily:       aws.ToString(t.PlatformFamily),
		Group:                aws.ToString(t.Group),
		StartedBy:            aws.ToString(t.StartedBy),
		ContainerInstanceARN: aws.ToString(t.ContainerInstanceArn),
		StopCode:             string(t.StopCode),
		StoppedReason:        sanitize(aws.ToString(t.StoppedReason)),
	}
	if o := t.Overrides; o != nil {
		task.ExecutionRoleOverride = aws.ToString(o.ExecutionRoleArn)
	}
	for _, a := range t.Attachments {
		if aws.ToString(a.Type) != "ElasticNetworkInterface" {
			continue
		}
		var subnet, eni string
		for _, d := range a.Details {
			switch aws.ToString(d.Name) {
			case "subnetId":
				subnet = aws.ToString(d.Value)
			case "networkInterfaceId":
				eni = aws.ToString(d.Value)
			}
		}
		if subnet == "" && eni == "" {
			continue
		}
		task.NetworkInterfaceID = eni
		task.Network = &inventory.AwsvpcConfiguration{}
		if subnet != "" {
			task.Network.Subnets = []string{subnet}
		}
		break
	}
	return task
}

// awsvpcOf maps an ECS awsvpcConfiguration (see awsvpcConf).
func awsvpcOf(n *ecstypes.NetworkConfiguration) *inventory.AwsvpcConfiguration {
	if n == nil || n.AwsvpcConfiguration == nil {
		return nil
	}
	c := n.AwsvpcConfiguration
	return awsvpcConf(c.Subnets, c.SecurityGroups, string(c.AssignPublicIp))
}

// sortLaunchPaths orders a region's tasks, rules, schedules and network
// facts deterministically.
func sortLaunchPaths(r *inventory.Region) {
	for _, cl := range r.Clusters {
		slices.SortFunc(cl.Tasks, func(x, y *inventory.Task) int { return strings.Compare(x.ARN, y.ARN) })
	}
	slices.SortFunc(r.EventRules, func(x, y *inventory.EventRule) int {
		if c := strings.Compare(x.EventBusName, y.EventBusName); c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	})
	for _, er := range r.EventRules {
		slices.SortFunc(er.Targets, func(x, y inventory.RuleTarget) int { return strings.Compare(x.ID, y.ID) })
	}
	slices.SortFunc(r.Schedules, func(x, y *inventory.Schedule) int {
		if c := strings.Compare(x.GroupName, y.GroupName); c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	})
	if n := r.Network; n != nil {
		slices.SortFunc(n.Subnets, func(x, y *inventory.Subnet) int { return strings.Compare(x.ID, y.ID) })
		slices.SortFunc(n.VPCs, func(x, y *inventory.VPC) int { return strings.Compare(x.ID, y.ID) })
		slices.SortFunc(n.RouteTables, func(x, y *inventory.RouteTable) int { return strings.Compare(x.ID, y.ID) })
		slices.SortFunc(n.VPCEndpoints, func(x, y *inventory.VPCEndpoint) int { return strings.Compare(x.ID, y.ID) })
		slices.SortFunc(n.NATGateways, func(x, y *inventory.NATGateway) int { return strings.Compare(x.ID, y.ID) })
		slices.SortFunc(n.InternetGateways, func(x, y *inventory.InternetGateway) int { return strings.Compare(x.ID, y.ID) })
	}
}
