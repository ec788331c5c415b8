package scanner

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/sync/errgroup"

	"github.com/ecs-audit/audit/inventory"
)

// ECS batch and page sizes (the API maximums).
const (
	ecsPageSize             = 100
	describeClustersBatch   = 100
	describeServicesBatch   = 10
	describeInstancesBatch  = 100
	taskDefinitionPageLimit = 100
)

// regionScan is one account×region's ECS collection.
type regionScan struct {
	c   *collector
	w   where
	api ecsAPI
	b   ecsBuckets
	g   errgroup.Group // every goroutine records its own failures and returns nil

	mu        sync.Mutex
	clusters  []*inventory.Cluster
	tds       map[string]*inventory.TaskDefinition // by ARN
	requested map[string]bool                      // normalised references already scheduled
	topFailed int                                  // top-level listings that failed
	ls        launchState                          // rules and schedules (events.go)
}

// notEnabledCodes are the error codes of a call to a region the account has
// not enabled (the credentials are not valid there).
var notEnabledCodes = map[string]bool{
	"UnrecognizedClientException": true,
	"InvalidClientTokenId":        true,
	"OptInRequired":               true,
	"AuthFailure":                 true,
}

// scanRegion collects ECS in one account×region.
func (c *collector) scanRegion(ctx context.Context, w where, clients regionalClients, explicit bool) *inventory.Region {
	api := clients.ecs
	rs := &regionScan{c: c, w: w, api: api, b: c.newECSBuckets(c.cfg.RegionCallConcurrency),
		tds: map[string]*inventory.TaskDefinition{}, requested: map[string]bool{},
		ls: launchState{events: clients.events, scheduler: clients.scheduler,
			eventsB: c.newBucket(eventsRate, eventsBurst, resourceInFlight), schedB: c.newBucket(schedulerRate, schedulerBurst, resourceInFlight),
			rules: map[string]*inventory.EventRule{}}}
	region := &inventory.Region{Name: w.region, Status: inventory.RegionScanned}

	var firstClusters *ecs.ListClustersOutput
	if explicit && !isDefaultRegion(c.partition, w.region) {
		// An opt-in region the user named may not be enabled: probe it
		// first, so that it can be reported as such rather than as errors.
		out, err := invoke(ctx, c, w, rs.b.cluster, "ecs", "ListClusters", func(ctx context.Context) (*ecs.ListClustersOutput, error) {
			return api.ListClusters(ctx, &ecs.ListClustersInput{MaxResults: aws.Int32(ecsPageSize)})
		})
		if err != nil {
			if notEnabledCodes[errorCode(err)] && ctx.Err() == nil {
				c.log.Info("region not enabled", "account", w.account, "region", w.region, "code", errorCode(err))
				region.Status = inventory.RegionNotEnabled
				return region
			}
			c.record(ctx, w, "ecs", "ListClusters", "", err)
			rs.topFailed++
		} else {
			firstClusters = out
		}
	}

	if rs.topFailed == 0 {
		rs.g.Go(func() error { rs.clusterChain(ctx, firstClusters); return nil })
	}
	rs.g.Go(func() error { rs.listTaskDefinitions(ctx); return nil })
	rs.g.Go(func() error { rs.schedules(ctx); return nil })
	_ = rs.g.Wait()

	if rs.topFailed == 2 {
		region.Status = inventory.RegionFailed
	}
	region.Clusters = rs.clusters
	for _, td := range rs.tds {
		region.TaskDefinitions = append(region.TaskDefinitions, td)
	}
	rs.finishLaunchPaths(ctx, region, clients.ec2)
	return region
}

// clusterChain lists and describes the clusters, then each cluster's
// services and container instances.
func (rs *regionScan) clusterChain(ctx context.Context, first *ecs.ListClustersOutput) {
	c, w, api := rs.c, rs.w, rs.api
	var arns []string
	var token *string
	if first != nil {
		arns = append(arns, first.ClusterArns...)
		token = first.NextToken
	}
	if first == nil || aws.ToString(token) != "" {
		more, err := paginate(ctx, c, listing{w: w, b: rs.b.cluster, svc: "ecs", op: "ListClusters", start: token}, nil,
			func(ctx context.Context, token *string) ([]string, *string, error) {
				out, err := api.ListClusters(ctx, &ecs.ListClustersInput{MaxResults: aws.Int32(ecsPageSize), NextToken: token})
				if err != nil {
					return nil, nil, err
				}
				return out.ClusterArns, out.NextToken, nil
			})
		arns = append(arns, more...)
		if err != nil && len(arns) == 0 {
			rs.mu.Lock()
			rs.topFailed++
			rs.mu.Unlock()
			return
		}
	}
	slices.Sort(arns)
	arns = slices.Compact(arns)

	for batch := range slices.Chunk(arns, describeClustersBatch) {
		rs.g.Go(func() error {
			for _, cl := range rs.describeClusters(ctx, batch) {
				rs.mu.Lock()
				rs.clusters = append(rs.clusters, cl)
				rs.mu.Unlock()
				rs.g.Go(func() error { rs.services(ctx, cl); return nil })
				rs.g.Go(func() error { rs.instances(ctx, cl); return nil })
				rs.g.Go(func() error { rs.tasks(ctx, cl); return nil })
				rs.g.Go(func() error { rs.rulesForCluster(ctx, cl); return nil })
			}
			return nil
		})
	}
}

// describeClusters describes one batch. When the call fails the clusters
// are still returned (ARN and name from the ARN) so that their services and
// instances are collected.
func (rs *regionScan) describeClusters(ctx context.Context, batch []string) []*inventory.Cluster {
	out, err := call(ctx, rs.c, rs.w, rs.b.cluster, "ecs", "DescribeClusters", batchResource(batch), func(ctx context.Context) (*ecs.DescribeClustersOutput, error) {
		return rs.api.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: batch})
	})
	byARN := map[string]*inventory.Cluster{}
	for _, a := range batch {
		byARN[a] = &inventory.Cluster{ARN: a, Name: lastSegment(a)}
	}
	if err == nil {
		for _, f := range out.Failures {
			rs.failure("DescribeClusters", f)
		}
		for _, cl := range out.Clusters {
			a := aws.ToString(cl.ClusterArn)
			if _, asked := byARN[a]; !asked {
				continue
			}
			byARN[a] = &inventory.Cluster{ARN: a, Name: aws.ToString(cl.ClusterName), Status: aws.ToString(cl.Status)}
		}
	}
	res := make([]*inventory.Cluster, 0, len(batch))
	for _, a := range batch {
		res = append(res, byARN[a])
	}
	return res
}

// failure records a Failures[] entry of a Describe call.
func (rs *regionScan) failure(op string, f ecstypes.Failure) {
	code := aws.ToString(f.Reason)
	if code == "" {
		code = "Failure"
	}
	msg := aws.ToString(f.Detail)
	if msg == "" {
		msg = fmt.Sprintf("%s reported %s", op, code)
	}
	rs.c.addError(inventory.CollectionError{AccountID: rs.w.account, Region: rs.w.region, Service: "ecs", Operation: op,
		Resource: sanitize(aws.ToString(f.Arn)), Code: sanitize(code), Message: sanitize(msg)})
}

// services lists and describes a cluster's services (batches of 10, one
// failed batch does not drop the others) and schedules the task
// definitions they use.
func (rs *regionScan) services(ctx context.Context, cl *inventory.Cluster) {
	api := rs.api
	var mu sync.Mutex
	rs.listAndDescribe(ctx, cl, rs.b.service, "ListServices", "DescribeServices", describeServicesBatch,
		func(ctx context.Context, token *string) ([]string, *string, error) {
			out, err := api.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String(cl.ARN), MaxResults: aws.Int32(ecsPageSize), NextToken: token})
			if err != nil {
				return nil, nil, err
			}
			return out.ServiceArns, out.NextToken, nil
		},
		func(ctx context.Context, batch []string) ([]ecstypes.Failure, error) {
			out, err := call(ctx, rs.c, rs.w, rs.b.service, "ecs", "DescribeServices", cl.ARN+" "+batchResource(batch), func(ctx context.Context) (*ecs.DescribeServicesOutput, error) {
				return api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cl.ARN), Services: batch})
			})
			if err != nil {
				return nil, err
			}
			for _, s := range out.Services {
				svc := convertService(s)
				if svc.ARN == "" {
					continue
				}
				rs.wantTaskDefinition(ctx, svc.TaskDefinition)
				for _, d := range svc.Deployments {
					rs.wantTaskDefinition(ctx, d.TaskDefinition)
				}
				mu.Lock()
				cl.Services = append(cl.Services, svc)
				mu.Unlock()
			}
			return out.Failures, nil
		})
}

// instances lists and describes a cluster's container instances (batches
// of 100).
func (rs *regionScan) instances(ctx context.Context, cl *inventory.Cluster) {
	api := rs.api
	var mu sync.Mutex
	rs.listAndDescribe(ctx, cl, rs.b.resource, "ListContainerInstances", "DescribeContainerInstances", describeInstancesBatch,
		func(ctx context.Context, token *string) ([]string, *string, error) {
			out, err := api.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String(cl.ARN), MaxResults: aws.Int32(ecsPageSize), NextToken: token})
			if err != nil {
				return nil, nil, err
			}
			return out.ContainerInstanceArns, out.NextToken, nil
		},
		func(ctx context.Context, batch []string) ([]ecstypes.Failure, error) {
			out, err := call(ctx, rs.c, rs.w, rs.b.resource, "ecs", "DescribeContainerInstances", cl.ARN+" "+batchResource(batch), func(ctx context.Context) (*ecs.DescribeContainerInstancesOutput, error) {
				return api.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String(cl.ARN), ContainerInstances: batch})
			})
			if err != nil {
				return nil, err
			}
			mu.Lock()
			for _, ci := range out.ContainerInstances {
				if inst := convertInstance(ci); inst.ARN != "" {
					cl.ContainerInstances = append(cl.ContainerInstances, inst)
				}
			}
			mu.Unlock()
			return out.Failures, nil
		})
}

// listAndDescribe pages a cluster's ARNs with list, then describes them in
// batches of size concurrently; a failed batch (its error is recorded by
// call) does not drop the others, and every per-item failure is recorded.
func (rs *regionScan) listAndDescribe(ctx context.Context, cl *inventory.Cluster, b *bucket, listOp, describeOp string, size int,
	list func(ctx context.Context, token *string) ([]string, *string, error),
	describe func(ctx context.Context, batch []string) ([]ecstypes.Failure, error)) {
	arns, err := paginate(ctx, rs.c, listing{w: rs.w, b: b, svc: "ecs", op: listOp, resource: cl.ARN}, nil, list)
	if err != nil && len(arns) == 0 {
		return
	}
	slices.Sort(arns)
	arns = slices.Compact(arns)
	var g errgroup.Group
	for batch := range slices.Chunk(arns, size) {
		g.Go(func() error {
			failures, err := describe(ctx, batch)
			if err != nil {
				return nil
			}
			for _, f := range failures {
				rs.failure(describeOp, f)
			}
			return nil
		})
	}
	_ = g.Wait()
}

// listTaskDefinitions lists the ACTIVE task definitions (newest first) and
// schedules the latest revision of each family, or every revision with
// AllRevisions.
func (rs *regionScan) listTaskDefinitions(ctx context.Context) {
	c, w, api := rs.c, rs.w, rs.api
	latest := map[string]tdRef{}
	onPage := func(arns []string) {
		for _, a := range arns {
			if c.cfg.AllRevisions {
				rs.wantTaskDefinition(ctx, a)
				continue
			}
			ref, ok := parseTaskDefinitionRef(a)
			if !ok {
				continue
			}
			// The order is documented (newest first within a family) but
			// not relied upon: keep the highest revision.
			if cur, seen := latest[ref.family]; !seen || ref.revision > cur.revision {
				latest[ref.family] = ref
			}
		}
	}
	listed, err := paginate(ctx, c, listing{w: w, b: rs.b.taskDef, svc: "ecs", op: "ListTaskDefinitions"}, onPage,
		func(ctx context.Context, token *string) ([]string, *string, error) {
			out, err := api.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{
				Status: ecstypes.TaskDefinitionStatusActive, Sort: ecstypes.SortOrderDesc,
				MaxResults: aws.Int32(taskDefinitionPageLimit), NextToken: token,
			})
			if err != nil {
				return nil, nil, err
			}
			return out.TaskDefinitionArns, out.NextToken, nil
		})
	if err != nil && len(listed) == 0 {
		rs.mu.Lock()
		rs.topFailed++
		rs.mu.Unlock()
	}
	// What was listed before a failure (recorded) is still described.
	families := slices.Sorted(func(yield func(string) bool) {
		for f := range latest {
			if !yield(f) {
				return
			}
		}
	})
	for _, f := range families {
		rs.wantTaskDefinition(ctx, latest[f].arn)
	}
}

// wantTaskDefinition schedules a task definition to be described once.
// ref may be an ARN or family:revision.
func (rs *regionScan) wantTaskDefinition(ctx context.Context, ref string) {
	if ref == "" {
		return
	}
	key := rs.normaliseTaskDefinition(ref)
	rs.mu.Lock()
	if rs.requested[key] {
		rs.mu.Unlock()
		return
	}
	rs.requested[key] = true
	rs.mu.Unlock()
	rs.g.Go(func() error {
		out, err := call(ctx, rs.c, rs.w, rs.b.taskDef, "ecs", "DescribeTaskDefinition", key, func(ctx context.Context) (*ecs.DescribeTaskDefinitionOutput, error) {
			return rs.api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(key)})
		})
		if err != nil {
			return nil
		}
		if out.TaskDefinition == nil {
			rs.c.record(ctx, rs.w, "ecs", "DescribeTaskDefinition", key, newScanError(CodeInvalidResponse, "no task definition in the answer"))
			return nil
		}
		td := convertTaskDefinition(out.TaskDefinition)
		if td.ARN == "" {
			rs.c.record(ctx, rs.w, "ecs", "DescribeTaskDefinition", key, newScanError(CodeInvalidResponse, "the task definition has no ARN"))
			return nil
		}
		rs.mu.Lock()
		if _, dup := rs.tds[td.ARN]; !dup {
			rs.tds[td.ARN] = td
		}
		rs.mu.Unlock()
		return nil
	})
}

// normaliseTaskDefinition turns family:revision into the full ARN of this
// account and region; ARNs and bare families are kept.
func (rs *regionScan) normaliseTaskDefinition(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		return ref
	}
	if r, ok := parseTaskDefinitionRef(ref); ok {
		return fmt.Sprintf("arn:%s:ecs:%s:%s:task-definition/%s:%d", rs.c.partition, rs.w.region, rs.w.account, r.family, r.revision)
	}
	return ref
}

// tdRef is a parsed task definition reference.
type tdRef struct {
	arn      string
	family   string
	revision int
}

// parseTaskDefinitionRef parses "arn:...:task-definition/family:rev" or
// "family:rev".
func parseTaskDefinitionRef(s string) (tdRef, bool) {
	rest := s
	if strings.HasPrefix(s, "arn:") {
		i := strings.Index(s, ":task-definition/")
		if i < 0 {
			return tdRef{}, false
		}
		rest = s[i+len(":task-definition/"):]
	}
	j := strings.LastIndexByte(rest, ':')
	if j <= 0 {
		return tdRef{}, false
	}
	rev, err := strconv.Atoi(rest[j+1:])
	if err != nil || rev <= 0 {
		return tdRef{}, false
	}
	return tdRef{arn: s, family: rest[:j], revision: rev}, true
}

// batchResource names a batch in a collection error.
func batchResource(batch []string) string {
	switch len(batch) {
	case 0:
		return ""
	case 1:
		return batch[0]
	}
	return fmt.Sprintf("%s (+%d more)", batch[0], len(batch)-1)
}
