package scanner

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/ecs-audit/audit/inventory"
)

// This file holds in-memory fakes of the consumer interfaces. They check
// the page and batch sizes the API documents and count every call, so that
// the tests can assert how the scanner calls AWS.

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

// faults decides per call whether it fails.
type faults func(op string, in any) error

func (f faults) check(op string, in any) error {
	if f == nil {
		return nil
	}
	return f(op, in)
}

// counter counts calls per operation and records batch sizes.
type counter struct {
	mu      sync.Mutex
	calls   map[string]int
	batches map[string][]int
	keys    map[string]int // op + " " + key → count
}

func (c *counter) hit(op string, batch int, key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls, c.batches, c.keys = map[string]int{}, map[string][]int{}, map[string]int{}
	}
	c.calls[op]++
	if batch >= 0 {
		c.batches[op] = append(c.batches[op], batch)
	}
	if key != "" {
		c.keys[op+" "+key]++
	}
}

func (c *counter) n(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

func (c *counter) sizes(op string) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.batches[op])
}

func (c *counter) keyCounts(op string) map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.keys {
		if rest, ok := strings.CutPrefix(k, op+" "); ok {
			out[rest] = v
		}
	}
	return out
}

// fakePage returns one page of items. The token is the start index; with
// empty set, every other page is empty but carries a token (as
// Organizations and ECS may do).
func fakePage[T any](items []T, token *string, size int, empty bool) ([]T, *string, error) {
	start, real := 0, !empty
	if token != nil {
		s := *token
		if rest, ok := strings.CutPrefix(s, "e:"); ok {
			s, real = rest, true
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > len(items) {
			return nil, nil, apiErr("InvalidParameterException", "bad token "+*token)
		}
		start = n
	}
	if !real {
		t := "e:" + strconv.Itoa(start)
		return nil, &t, nil
	}
	end := min(start+size, len(items))
	var next *string
	if end < len(items) {
		t := strconv.Itoa(end)
		next = &t
	}
	return slices.Clone(items[start:end]), next, nil
}

func pageSize(max *int32, limit, def int) int {
	n := def
	if max != nil {
		n = int(*max)
	}
	if n > limit || n < 1 {
		n = limit
	}
	return n
}

// ---- ECS

type fakeECS struct {
	counter
	fail       faults
	emptyPages bool
	// maxPage caps page sizes below what the scanner asks for.
	maxPage int

	clusters  []ecstypes.Cluster
	services  map[string][]ecstypes.Service // by cluster ARN
	instances map[string][]ecstypes.ContainerInstance
	tds       []ecstypes.TaskDefinition
	tasks     map[string][]ecstypes.Task // by cluster ARN
	// shuffleTDs lists task definitions in registration order rather than
	// the documented one.
	shuffleTDs bool
}

func (f *fakeECS) limit(n int) int {
	if f.maxPage > 0 && f.maxPage < n {
		return f.maxPage
	}
	return n
}

func (f *fakeECS) ListClusters(ctx context.Context, in *ecs.ListClustersInput, _ ...func(*ecs.Options)) (*ecs.ListClustersOutput, error) {
	f.hit("ListClusters", -1, "")
	if err := f.fail.check("ListClusters", in); err != nil {
		return nil, err
	}
	var arns []string
	for _, c := range f.clusters {
		arns = append(arns, aws.ToString(c.ClusterArn))
	}
	items, next, err := fakePage(arns, in.NextToken, f.limit(pageSize(in.MaxResults, 100, 100)), f.emptyPages)
	if err != nil {
		return nil, err
	}
	return &ecs.ListClustersOutput{ClusterArns: items, NextToken: next}, nil
}

func (f *fakeECS) DescribeClusters(ctx context.Context, in *ecs.DescribeClustersInput, _ ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error) {
	f.hit("DescribeClusters", len(in.Clusters), "")
	if len(in.Clusters) > 100 {
		return nil, apiErr("InvalidParameterException", "too many clusters")
	}
	if err := f.fail.check("DescribeClusters", in); err != nil {
		return nil, err
	}
	out := &ecs.DescribeClustersOutput{}
	for _, a := range in.Clusters {
		i := slices.IndexFunc(f.clusters, func(c ecstypes.Cluster) bool { return aws.ToString(c.ClusterArn) == a })
		if i < 0 {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(a), Reason: aws.String("MISSING")})
			continue
		}
		out.Clusters = append(out.Clusters, f.clusters[i])
	}
	return out, nil
}

func (f *fakeECS) ListServices(ctx context.Context, in *ecs.ListServicesInput, _ ...func(*ecs.Options)) (*ecs.ListServicesOutput, error) {
	f.hit("ListServices", -1, aws.ToString(in.Cluster))
	if err := f.fail.check("ListServices", in); err != nil {
		return nil, err
	}
	var arns []string
	for _, s := range f.services[aws.ToString(in.Cluster)] {
		arns = append(arns, aws.ToString(s.ServiceArn))
	}
	// The API's default page size is 10.
	items, next, err := fakePage(arns, in.NextToken, f.limit(pageSize(in.MaxResults, 100, 10)), f.emptyPages)
	if err != nil {
		return nil, err
	}
	return &ecs.ListServicesOutput{ServiceArns: items, NextToken: next}, nil
}

func (f *fakeECS) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	f.hit("DescribeServices", len(in.Services), "")
	if len(in.Services) > 10 {
		return nil, apiErr("InvalidParameterException", "too many services")
	}
	if err := f.fail.check("DescribeServices", in); err != nil {
		return nil, err
	}
	out := &ecs.DescribeServicesOutput{}
	for _, a := range in.Services {
		svcs := f.services[aws.ToString(in.Cluster)]
		i := slices.IndexFunc(svcs, func(s ecstypes.Service) bool { return aws.ToString(s.ServiceArn) == a })
		if i < 0 {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(a), Reason: aws.String("MISSING")})
			continue
		}
		out.Services = append(out.Services, svcs[i])
	}
	return out, nil
}

func (f *fakeECS) ListContainerInstances(ctx context.Context, in *ecs.ListContainerInstancesInput, _ ...func(*ecs.Options)) (*ecs.ListContainerInstancesOutput, error) {
	f.hit("ListContainerInstances", -1, aws.ToString(in.Cluster))
	if err := f.fail.check("ListContainerInstances", in); err != nil {
		return nil, err
	}
	var arns []string
	for _, ci := range f.instances[aws.ToString(in.Cluster)] {
		arns = append(arns, aws.ToString(ci.ContainerInstanceArn))
	}
	items, next, err := fakePage(arns, in.NextToken, f.limit(pageSize(in.MaxResults, 100, 100)), f.emptyPages)
	if err != nil {
		return nil, err
	}
	return &ecs.ListContainerInstancesOutput{ContainerInstanceArns: items, NextToken: next}, nil
}

func (f *fakeECS) DescribeContainerInstances(ctx context.Context, in *ecs.DescribeContainerInstancesInput, _ ...func(*ecs.Options)) (*ecs.DescribeContainerInstancesOutput, error) {
	f.hit("DescribeContainerInstances", len(in.ContainerInstances), "")
	if len(in.ContainerInstances) > 100 {
		return nil, apiErr("InvalidParameterException", "too many container instances")
	}
	if err := f.fail.check("DescribeContainerInstances", in); err != nil {
		return nil, err
	}
	out := &ecs.DescribeContainerInstancesOutput{}
	for _, a := range in.ContainerInstances {
		cis := f.instances[aws.ToString(in.Cluster)]
		i := slices.IndexFunc(cis, func(c ecstypes.ContainerInstance) bool { return aws.ToString(c.ContainerInstanceArn) == a })
		if i < 0 {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(a), Reason: aws.String("MISSING")})
			continue
		}
		out.ContainerInstances = append(out.ContainerInstances, cis[i])
	}
	return out, nil
}

func (f *fakeECS) ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, _ ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error) {
	f.hit("ListTaskDefinitions", -1, "")
	if err := f.fail.check("ListTaskDefinitions", in); err != nil {
		return nil, err
	}
	status := in.Status
	if status == "" {
		status = ecstypes.TaskDefinitionStatusActive
	}
	var tds []ecstypes.TaskDefinition
	for _, td := range f.tds {
		if td.Status == status {
			tds = append(tds, td)
		}
	}
	if !f.shuffleTDs {
		slices.SortFunc(tds, func(a, b ecstypes.TaskDefinition) int {
			c := cmp.Or(strings.Compare(aws.ToString(a.Family), aws.ToString(b.Family)), cmp.Compare(a.Revision, b.Revision))
			if in.Sort == ecstypes.SortOrderDesc {
				return -c
			}
			return c
		})
	}
	var arns []string
	for _, td := range tds {
		arns = append(arns, aws.ToString(td.TaskDefinitionArn))
	}
	items, next, err := fakePage(arns, in.NextToken, f.limit(pageSize(in.MaxResults, 100, 100)), f.emptyPages)
	if err != nil {
		return nil, err
	}
	return &ecs.ListTaskDefinitionsOutput{TaskDefinitionArns: items, NextToken: next}, nil
}

func (f *fakeECS) DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	key := aws.ToString(in.TaskDefinition)
	f.hit("DescribeTaskDefinition", -1, key)
	if err := f.fail.check("DescribeTaskDefinition", in); err != nil {
		return nil, err
	}
	for _, td := range f.tds {
		a := aws.ToString(td.TaskDefinitionArn)
		short := fmt.Sprintf("%s:%d", aws.ToString(td.Family), td.Revision)
		if key == a || key == short {
			td := td
			return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &td}, nil
		}
	}
	return nil, apiErr("ClientException", "Unable to describe task definition.")
}

func (f *fakeECS) ListTasks(ctx context.Context, in *ecs.ListTasksInput, _ ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	f.hit("ListTasks", -1, aws.ToString(in.Cluster)+" "+string(in.DesiredStatus))
	if err := f.fail.check("ListTasks", in); err != nil {
		return nil, err
	}
	want := in.DesiredStatus
	if want == "" {
		want = ecstypes.DesiredStatusRunning
	}
	var arns []string
	for _, t := range f.tasks[aws.ToString(in.Cluster)] {
		if aws.ToString(t.DesiredStatus) == string(want) {
			arns = append(arns, aws.ToString(t.TaskArn))
		}
	}
	items, next, err := fakePage(arns, in.NextToken, f.limit(pageSize(in.MaxResults, 100, 100)), f.emptyPages)
	if err != nil {
		return nil, err
	}
	return &ecs.ListTasksOutput{TaskArns: items, NextToken: next}, nil
}

func (f *fakeECS) DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	f.hit("DescribeTasks", len(in.Tasks), "")
	if len(in.Tasks) > 100 || len(in.Tasks) == 0 {
		return nil, apiErr("InvalidParameterException", "tasks must have 1 to 100 items")
	}
	if err := f.fail.check("DescribeTasks", in); err != nil {
		return nil, err
	}
	out := &ecs.DescribeTasksOutput{}
	for _, a := range in.Tasks {
		ts := f.tasks[aws.ToString(in.Cluster)]
		i := slices.IndexFunc(ts, func(t ecstypes.Task) bool { return aws.ToString(t.TaskArn) == a })
		if i < 0 {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(a), Reason: aws.String("MISSING")})
			continue
		}
		out.Tasks = append(out.Tasks, ts[i])
	}
	return out, nil
}

// ecsWorld fills an ECS fake with n clusters, services per cluster,
// instances per cluster and families with revisions in account/region.
func ecsWorld(acct, region string, clusters, services, instances, families, revisions int) *fakeECS {
	f := &fakeECS{services: map[string][]ecstypes.Service{}, instances: map[string][]ecstypes.ContainerInstance{}}
	tdARN := func(fam string, rev int) string {
		return fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", region, acct, fam, rev)
	}
	for fi := range families {
		fam := fmt.Sprintf("fam%03d", fi)
		for rev := 1; rev <= revisions; rev++ {
			f.tds = append(f.tds, ecstypes.TaskDefinition{
				TaskDefinitionArn: aws.String(tdARN(fam, rev)), Family: aws.String(fam), Revision: int32(rev),
				Status: ecstypes.TaskDefinitionStatusActive, ExecutionRoleArn: aws.String("arn:aws:iam::" + acct + ":role/exec"),
				ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("nginx")}},
			})
		}
	}
	for ci := range clusters {
		carn := fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/c%03d", region, acct, ci)
		f.clusters = append(f.clusters, ecstypes.Cluster{ClusterArn: aws.String(carn), ClusterName: aws.String(fmt.Sprintf("c%03d", ci)), Status: aws.String("ACTIVE")})
		for si := range services {
			// Services use revision 1 of a family (not the latest).
			fam := fmt.Sprintf("fam%03d", si%max(families, 1))
			f.services[carn] = append(f.services[carn], ecstypes.Service{
				ServiceArn:  aws.String(fmt.Sprintf("arn:aws:ecs:%s:%s:service/c%03d/s%03d", region, acct, ci, si)),
				ServiceName: aws.String(fmt.Sprintf("s%03d", si)), Status: aws.String("ACTIVE"), LaunchType: ecstypes.LaunchTypeFargate,
				TaskDefinition: aws.String(tdARN(fam, 1)),
			})
		}
		for ii := range instances {
			f.instances[carn] = append(f.instances[carn], ecstypes.ContainerInstance{
				ContainerInstanceArn: aws.String(fmt.Sprintf("arn:aws:ecs:%s:%s:container-instance/c%03d/i%03d", region, acct, ci, ii)),
				Ec2InstanceId:        aws.String(fmt.Sprintf("i-%017d", ii)), Status: aws.String("ACTIVE"), AgentConnected: true,
				VersionInfo: &ecstypes.VersionInfo{AgentVersion: aws.String("1.80.0")},
			})
		}
	}
	return f
}

// ---- IAM

type fakeIAM struct {
	counter
	fail  faults
	page  int // items per page (default 1000)
	roles []iamtypes.RoleDetail
	pols  []iamtypes.ManagedPolicyDetail
}

func (f *fakeIAM) GetAccountAuthorizationDetails(ctx context.Context, in *iam.GetAccountAuthorizationDetailsInput, _ ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error) {
	f.hit("GetAccountAuthorizationDetails", int(aws.ToInt32(in.MaxItems)), "")
	if err := f.fail.check("GetAccountAuthorizationDetails", in); err != nil {
		return nil, err
	}
	size := f.page
	if size == 0 {
		size = 1000
	}
	size = min(size, int(aws.ToInt32(in.MaxItems)))
	start := 0
	if in.Marker != nil {
		start, _ = strconv.Atoi(*in.Marker)
	}
	total := len(f.roles) + len(f.pols)
	end := min(start+size, total)
	out := &iam.GetAccountAuthorizationDetailsOutput{}
	for i := start; i < end; i++ {
		if i < len(f.roles) {
			out.RoleDetailList = append(out.RoleDetailList, f.roles[i])
		} else {
			out.Policies = append(out.Policies, f.pols[i-len(f.roles)])
		}
	}
	if end < total {
		out.IsTruncated = true
		out.Marker = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

// ---- Organizations

type fakeOrg struct {
	counter
	fail       faults
	emptyPages bool

	id, mgmt, rootID string
	rcpEnabled       bool
	accounts         []orgtypes.Account
	parents          map[string]orgtypes.Parent // child → parent
	ouNames          map[string]string
	attached         map[string][]string // target → policy IDs
	policies         map[string]orgtypes.Policy
	// repeatToken names the policies (ListTargetsForPolicy) and targets
	// (ListPoliciesForTarget) whose listing answers a page asked for with a
	// token with that same token again.
	repeatToken map[string]bool
}

func (f *fakeOrg) DescribeOrganization(ctx context.Context, in *organizations.DescribeOrganizationInput, _ ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error) {
	f.hit("DescribeOrganization", -1, "")
	if err := f.fail.check("DescribeOrganization", in); err != nil {
		return nil, err
	}
	return &organizations.DescribeOrganizationOutput{Organization: &orgtypes.Organization{
		Id: aws.String(f.id), MasterAccountId: aws.String(f.mgmt), Arn: aws.String("arn:aws:organizations::" + f.mgmt + ":organization/" + f.id)}}, nil
}

func (f *fakeOrg) ListRoots(ctx context.Context, in *organizations.ListRootsInput, _ ...func(*organizations.Options)) (*organizations.ListRootsOutput, error) {
	f.hit("ListRoots", -1, "")
	if err := f.fail.check("ListRoots", in); err != nil {
		return nil, err
	}
	root := orgtypes.Root{Id: aws.String(f.rootID), Name: aws.String("Root"),
		PolicyTypes: []orgtypes.PolicyTypeSummary{{Type: orgtypes.PolicyTypeServiceControlPolicy, Status: orgtypes.PolicyTypeStatusEnabled}}}
	if f.rcpEnabled {
		root.PolicyTypes = append(root.PolicyTypes, orgtypes.PolicyTypeSummary{Type: orgtypes.PolicyTypeResourceControlPolicy, Status: orgtypes.PolicyTypeStatusEnabled})
	}
	return &organizations.ListRootsOutput{Roots: []orgtypes.Root{root}}, nil
}

func (f *fakeOrg) ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	f.hit("ListAccounts", -1, "")
	if err := f.fail.check("ListAccounts", in); err != nil {
		return nil, err
	}
	items, next, err := fakePage(f.accounts, in.NextToken, pageSize(in.MaxResults, 20, 20), f.emptyPages)
	if err != nil {
		return nil, err
	}
	return &organizations.ListAccountsOutput{Accounts: items, NextToken: next}, nil
}

// children lists the OUs (ou true) or accounts under parent.
func (f *fakeOrg) children(parent string, ou bool) []string {
	var out []string
	for c, p := range f.parents {
		if aws.ToString(p.Id) == parent && ou == strings.HasPrefix(c, "ou-") {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

func (f *fakeOrg) ListAccountsForParent(ctx context.Context, in *organizations.ListAccountsForParentInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error) {
	f.hit("ListAccountsForParent", -1, aws.ToString(in.ParentId))
	if err := f.fail.check("ListAccountsForParent", in); err != nil {
		return nil, err
	}
	if _, ok := f.ouNames[aws.ToString(in.ParentId)]; !ok && aws.ToString(in.ParentId) != f.rootID {
		return nil, apiErr("ParentNotFoundException", "no such parent")
	}
	var accts []orgtypes.Account
	for _, id := range f.children(aws.ToString(in.ParentId), false) {
		if i := slices.IndexFunc(f.accounts, func(a orgtypes.Account) bool { return aws.ToString(a.Id) == id }); i >= 0 {
			accts = append(accts, f.accounts[i])
		}
	}
	items, next, err := fakePage(accts, in.NextToken, pageSize(in.MaxResults, 20, 20), f.emptyPages)
	if err != nil {
		return nil, err
	}
	return &organizations.ListAccountsForParentOutput{Accounts: items, NextToken: next}, nil
}

func (f *fakeOrg) ListChildren(ctx context.Context, in *organizations.ListChildrenInput, _ ...func(*organizations.Options)) (*organizations.ListChildrenOutput, error) {
	f.hit("ListChildren", -1, aws.ToString(in.ParentId))
	if err := f.fail.check("ListChildren", in); err != nil {
		return nil, err
	}
	var kids []orgtypes.Child
	for _, id := range f.children(aws.ToString(in.ParentId), in.ChildType == orgtypes.ChildTypeOrganizationalUnit) {
		kids = append(kids, orgtypes.Child{Id: aws.String(id), Type: in.ChildType})
	}
	items, next, err := fakePage(kids, in.NextToken, pageSize(in.MaxResults, 20, 20), f.emptyPages)
	if err != nil {
		return nil, err
	}
	return &organizations.ListChildrenOutput{Children: items, NextToken: next}, nil
}

func (f *fakeOrg) ListParents(ctx context.Context, in *organizations.ListParentsInput, _ ...func(*organizations.Options)) (*organizations.ListParentsOutput, error) {
	child := aws.ToString(in.ChildId)
	f.hit("ListParents", -1, child)
	if err := f.fail.check("ListParents", in); err != nil {
		return nil, err
	}
	p, ok := f.parents[child]
	if !ok {
		return nil, apiErr("ChildNotFoundException", "no such child")
	}
	items, next, err := fakePage([]orgtypes.Parent{p}, in.NextToken, 20, f.emptyPages)
	if err != nil {
		return nil, err
	}
	return &organizations.ListParentsOutput{Parents: items, NextToken: next}, nil
}

func (f *fakeOrg) DescribeOrganizationalUnit(ctx context.Context, in *organizations.DescribeOrganizationalUnitInput, _ ...func(*organizations.Options)) (*organizations.DescribeOrganizationalUnitOutput, error) {
	id := aws.ToString(in.OrganizationalUnitId)
	f.hit("DescribeOrganizationalUnit", -1, id)
	if err := f.fail.check("DescribeOrganizationalUnit", in); err != nil {
		return nil, err
	}
	return &organizations.DescribeOrganizationalUnitOutput{OrganizationalUnit: &orgtypes.OrganizationalUnit{Id: in.OrganizationalUnitId, Name: aws.String(f.ouNames[id])}}, nil
}

func (f *fakeOrg) ListPoliciesForTarget(ctx context.Context, in *organizations.ListPoliciesForTargetInput, _ ...func(*organizations.Options)) (*organizations.ListPoliciesForTargetOutput, error) {
	target := aws.ToString(in.TargetId)
	f.hit("ListPoliciesForTarget", -1, target+" "+string(in.Filter))
	if err := f.fail.check("ListPoliciesForTarget", in); err != nil {
		return nil, err
	}
	if in.Filter == orgtypes.PolicyTypeResourceControlPolicy && !f.rcpEnabled {
		return nil, apiErr("PolicyTypeNotEnabledException", "This operation can be performed only for enabled policy types.")
	}
	var sums []orgtypes.PolicySummary
	for _, id := range f.attached[target] {
		if p := f.policies[id]; p.PolicySummary != nil && p.PolicySummary.Type == in.Filter {
			sums = append(sums, *p.PolicySummary)
		}
	}
	items, next, err := fakePage(sums, in.NextToken, 20, f.emptyPages)
	if err != nil {
		return nil, err
	}
	if f.repeatToken[target] && in.NextToken != nil {
		next = in.NextToken
	}
	return &organizations.ListPoliciesForTargetOutput{Policies: items, NextToken: next}, nil
}

func (f *fakeOrg) DescribePolicy(ctx context.Context, in *organizations.DescribePolicyInput, _ ...func(*organizations.Options)) (*organizations.DescribePolicyOutput, error) {
	id := aws.ToString(in.PolicyId)
	f.hit("DescribePolicy", -1, id)
	if err := f.fail.check("DescribePolicy", in); err != nil {
		return nil, err
	}
	p, ok := f.policies[id]
	if !ok {
		return nil, apiErr("PolicyNotFoundException", "no such policy")
	}
	return &organizations.DescribePolicyOutput{Policy: &p}, nil
}

func (f *fakeOrg) ListPolicies(ctx context.Context, in *organizations.ListPoliciesInput, _ ...func(*organizations.Options)) (*organizations.ListPoliciesOutput, error) {
	f.hit("ListPolicies", -1, string(in.Filter))
	if err := f.fail.check("ListPolicies", in); err != nil {
		return nil, err
	}
	if in.Filter == orgtypes.PolicyTypeResourceControlPolicy && !f.rcpEnabled {
		return nil, apiErr("PolicyTypeNotEnabledException", "not enabled")
	}
	var sums []orgtypes.PolicySummary
	for _, id := range slices.Sorted(maps.Keys(f.policies)) {
		if p := f.policies[id]; p.PolicySummary.Type == in.Filter {
			sums = append(sums, *p.PolicySummary)
		}
	}
	items, next, err := fakePage(sums, in.NextToken, pageSize(in.MaxResults, 20, 20), f.emptyPages)
	if err != nil {
		return nil, err
	}
	return &organizations.ListPoliciesOutput{Policies: items, NextToken: next}, nil
}

func (f *fakeOrg) ListTargetsForPolicy(ctx context.Context, in *organizations.ListTargetsForPolicyInput, _ ...func(*organizations.Options)) (*organizations.ListTargetsForPolicyOutput, error) {
	id := aws.ToString(in.PolicyId)
	f.hit("ListTargetsForPolicy", -1, id)
	if err := f.fail.check("ListTargetsForPolicy", in); err != nil {
		return nil, err
	}
	var targets []orgtypes.PolicyTargetSummary
	for _, tid := range slices.Sorted(maps.Keys(f.attached)) {
		if slices.Contains(f.attached[tid], id) {
			targets = append(targets, orgtypes.PolicyTargetSummary{TargetId: aws.String(tid)})
		}
	}
	items, next, err := fakePage(targets, in.NextToken, pageSize(in.MaxResults, 20, 20), f.emptyPages)
	if err != nil {
		return nil, err
	}
	if f.repeatToken[id] && in.NextToken != nil {
		next = in.NextToken
	}
	return &organizations.ListTargetsForPolicyOutput{Targets: items, NextToken: next}, nil
}

// ---- STS, Account, Secrets Manager, SSM, KMS

type fakeSTS struct {
	counter
	fail    faults
	account string
}

func (f *fakeSTS) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	f.hit("GetCallerIdentity", -1, "")
	if err := f.fail.check("GetCallerIdentity", in); err != nil {
		return nil, err
	}
	return &sts.GetCallerIdentityOutput{Account: aws.String(f.account), Arn: aws.String("arn:aws:iam::" + f.account + ":user/auditor")}, nil
}

func (f *fakeSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	return nil, apiErr("AccessDenied", "the fake backend assumes roles itself")
}

type fakeAccountAPI struct {
	counter
	fail    faults
	regions map[string]accounttypes.RegionOptStatus
}

func (f *fakeAccountAPI) ListRegions(ctx context.Context, in *account.ListRegionsInput, _ ...func(*account.Options)) (*account.ListRegionsOutput, error) {
	f.hit("ListRegions", -1, "")
	if err := f.fail.check("ListRegions", in); err != nil {
		return nil, err
	}
	var rs []accounttypes.Region
	for _, n := range slices.Sorted(func(yield func(string) bool) {
		for k := range f.regions {
			if !yield(k) {
				return
			}
		}
	}) {
		rs = append(rs, accounttypes.Region{RegionName: aws.String(n), RegionOptStatus: f.regions[n]})
	}
	items, next, err := fakePage(rs, in.NextToken, pageSize(in.MaxResults, 50, 20), false)
	if err != nil {
		return nil, err
	}
	return &account.ListRegionsOutput{Regions: items, NextToken: next}, nil
}

type fakeSecrets struct {
	counter
	fail     faults
	secrets  map[string]*secretsmanager.DescribeSecretOutput // by ARN
	policies map[string]string
}

func (f *fakeSecrets) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	id := aws.ToString(in.SecretId)
	f.hit("DescribeSecret", -1, id)
	if err := f.fail.check("DescribeSecret", in); err != nil {
		return nil, err
	}
	for a, s := range f.secrets {
		// Full ARN, partial ARN (no suffix) or name.
		if id == a || id == aws.ToString(s.Name) || (strings.HasPrefix(a, id+"-") && len(a) == len(id)+7) {
			return s, nil
		}
	}
	return nil, apiErr("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

func (f *fakeSecrets) GetResourcePolicy(ctx context.Context, in *secretsmanager.GetResourcePolicyInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetResourcePolicyOutput, error) {
	f.hit("GetResourcePolicy", -1, aws.ToString(in.SecretId))
	if err := f.fail.check("GetResourcePolicy", in); err != nil {
		return nil, err
	}
	out := &secretsmanager.GetResourcePolicyOutput{ARN: in.SecretId}
	if p, ok := f.policies[aws.ToString(in.SecretId)]; ok {
		out.ResourcePolicy = aws.String(p)
	}
	return out, nil
}

// ListSecrets serves name filters (prefix, case-sensitive, up to 10
// values), with secrets scheduled for deletion only when asked for, in
// ARN order, pages of MaxResults.
func (f *fakeSecrets) ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error) {
	n := 0
	for _, flt := range in.Filters {
		n += len(flt.Values)
	}
	f.hit("ListSecrets", n, "")
	if err := f.fail.check("ListSecrets", in); err != nil {
		return nil, err
	}
	if len(in.Filters) != 1 || in.Filters[0].Key != smtypes.FilterNameStringTypeName || n > 10 || n == 0 {
		return nil, apiErr("InvalidParameterException", "the fake expects one name filter of 1 to 10 values")
	}
	var list []smtypes.SecretListEntry
	for _, a := range slices.Sorted(maps.Keys(f.secrets)) {
		s := f.secrets[a]
		if s.DeletedDate != nil && !aws.ToBool(in.IncludePlannedDeletion) {
			continue
		}
		if slices.ContainsFunc(in.Filters[0].Values, func(v string) bool { return strings.HasPrefix(aws.ToString(s.Name), v) }) {
			list = append(list, smtypes.SecretListEntry{ARN: s.ARN, Name: s.Name, KmsKeyId: s.KmsKeyId, DeletedDate: s.DeletedDate})
		}
	}
	items, next, err := fakePage(list, in.NextToken, pageSize(in.MaxResults, 100, 100), false)
	if err != nil {
		return nil, err
	}
	return &secretsmanager.ListSecretsOutput{SecretList: items, NextToken: next}, nil
}

type fakeSSM struct {
	counter
	fail   faults
	params map[string]ssmtypes.ParameterMetadata // by name
}

func (f *fakeSSM) DescribeParameters(ctx context.Context, in *ssm.DescribeParametersInput, _ ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error) {
	n := 0
	for _, flt := range in.ParameterFilters {
		n += len(flt.Values)
	}
	f.hit("DescribeParameters", n, "")
	if err := f.fail.check("DescribeParameters", in); err != nil {
		return nil, err
	}
	if len(in.ParameterFilters) != 1 || aws.ToString(in.ParameterFilters[0].Key) != "Name" || aws.ToString(in.ParameterFilters[0].Option) != "Equals" || n > 50 {
		return nil, apiErr("InvalidFilterValue", "the fake expects one Name Equals filter")
	}
	var found []ssmtypes.ParameterMetadata
	for _, v := range in.ParameterFilters[0].Values {
		if p, ok := f.params[v]; ok {
			found = append(found, p)
		}
	}
	// One result per page, to exercise paging.
	items, next, err := fakePage(found, in.NextToken, 1, false)
	if err != nil {
		return nil, err
	}
	return &ssm.DescribeParametersOutput{Parameters: items, NextToken: next}, nil
}

type fakeKMS struct {
	counter
	fail faults
	keys map[string]kmstypes.KeyMetadata // by key ID
	// aliases maps alias names to key IDs; "" is a predefined AWS managed
	// alias whose key does not exist yet (listed without TargetKeyId).
	aliases map[string]string
	// aliasPage > 0 lists aliases in pages of that size; aliasLoop makes
	// every page after the first answer with the first page's marker.
	aliasPage int
	aliasLoop bool

	mu sync.Mutex
	// awsAliasCalls are the calls that named an AWS managed alias: in AWS,
	// DescribeKey on a predefined alias creates the key.
	awsAliasCalls []string
}

// noteAWSAlias records a call whose key ID names an alias/aws/* alias.
func (f *fakeKMS) noteAWSAlias(op, ref string) {
	if ref := strings.ToLower(ref); strings.HasPrefix(ref, "alias/aws/") || strings.Contains(ref, ":alias/aws/") {
		f.mu.Lock()
		f.awsAliasCalls = append(f.awsAliasCalls, op+" "+ref)
		f.mu.Unlock()
	}
}

func (f *fakeKMS) resolve(ref string) (kmstypes.KeyMetadata, bool) {
	if i := strings.Index(ref, ":alias/"); i >= 0 {
		ref = ref[i+1:]
	}
	if id, ok := f.aliases[ref]; ok {
		ref = id
	}
	if i := strings.Index(ref, ":key/"); i >= 0 {
		ref = ref[i+len(":key/"):]
	}
	k, ok := f.keys[ref]
	return k, ok
}

func (f *fakeKMS) DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, _ ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	f.hit("DescribeKey", -1, aws.ToString(in.KeyId))
	f.noteAWSAlias("DescribeKey", aws.ToString(in.KeyId))
	if err := f.fail.check("DescribeKey", in); err != nil {
		return nil, err
	}
	k, ok := f.resolve(aws.ToString(in.KeyId))
	if !ok {
		return nil, apiErr("NotFoundException", "no such key")
	}
	return &kms.DescribeKeyOutput{KeyMetadata: &k}, nil
}

func (f *fakeKMS) GetKeyPolicy(ctx context.Context, in *kms.GetKeyPolicyInput, _ ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error) {
	f.hit("GetKeyPolicy", -1, aws.ToString(in.KeyId))
	f.noteAWSAlias("GetKeyPolicy", aws.ToString(in.KeyId))
	if err := f.fail.check("GetKeyPolicy", in); err != nil {
		return nil, err
	}
	if aws.ToString(in.PolicyName) != "default" {
		return nil, apiErr("NotFoundException", "only the default policy exists")
	}
	return &kms.GetKeyPolicyOutput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[]}`), PolicyName: in.PolicyName}, nil
}

func (f *fakeKMS) ListAliases(ctx context.Context, in *kms.ListAliasesInput, _ ...func(*kms.Options)) (*kms.ListAliasesOutput, error) {
	f.hit("ListAliases", -1, aws.ToString(in.KeyId))
	if err := f.fail.check("ListAliases", in); err != nil {
		return nil, err
	}
	var all []kmstypes.AliasListEntry
	for _, name := range slices.Sorted(maps.Keys(f.aliases)) {
		id := f.aliases[name]
		if in.KeyId != nil && id != aws.ToString(in.KeyId) { // without KeyId: every alias of the region
			continue
		}
		e := kmstypes.AliasListEntry{AliasName: aws.String(name)}
		if id != "" {
			e.TargetKeyId = aws.String(id)
		}
		all = append(all, e)
	}
	if f.aliasPage == 0 {
		return &kms.ListAliasesOutput{Aliases: all}, nil
	}
	items, next, err := fakePage(all, in.Marker, f.aliasPage, false)
	if err != nil {
		return nil, err
	}
	if f.aliasLoop && in.Marker != nil {
		next = aws.String(strconv.Itoa(f.aliasPage))
	}
	return &kms.ListAliasesOutput{Aliases: items, NextMarker: next, Truncated: next != nil}, nil
}

// ---- backend

type fakeRegion struct {
	ecs     *fakeECS
	secrets *fakeSecrets
	ssm     *fakeSSM
	kms     *fakeKMS
	ecr     *fakeECR
	logs    *fakeLogs
	// Launch paths and the network path (launch_fake_test.go).
	events    *fakeEvents
	scheduler *fakeScheduler
	ec2       *fakeEC2
}

type fakeAccount struct {
	iam     *fakeIAM
	account *fakeAccountAPI
	s3      *fakeS3
	regions map[string]*fakeRegion
}

// fakeBackend serves fake accounts. An account without an entry gets empty
// fakes; assumeErr makes AssumeRole fail for an account.
type fakeBackend struct {
	caller   *fakeSTS
	org      *fakeOrg
	mu       sync.Mutex
	accounts map[string]*fakeAccount
	assumed  map[string]string // account → role ARN asked for
	// assumeErr fails the session of an account.
	assumeErr map[string]error
	// block makes every session wait for ctx to end.
	block bool
	// buckets are every account's S3 buckets, by name.
	buckets map[string]*fakeBucket
}

func newFakeBackend(caller string) *fakeBackend {
	return &fakeBackend{caller: &fakeSTS{account: caller}, accounts: map[string]*fakeAccount{}, assumed: map[string]string{}, assumeErr: map[string]error{}}
}

func (b *fakeBackend) sts() stsAPI { return b.caller }

func (b *fakeBackend) organizations() orgAPI {
	if b.org == nil {
		return &fakeOrg{fail: func(string, any) error { return apiErr("AWSOrganizationsNotInUseException", "not in an organization") }}
	}
	return b.org
}

// acct returns (creating) the fakes of an account.
func (b *fakeBackend) acct(id string) *fakeAccount {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.accounts[id]
	if a == nil {
		a = &fakeAccount{iam: &fakeIAM{}, account: &fakeAccountAPI{}, s3: &fakeS3{be: b, account: id}, regions: map[string]*fakeRegion{}}
		b.accounts[id] = a
	}
	return a
}

// region returns (creating) the fakes of an account×region.
func (b *fakeBackend) region(acct, region string) *fakeRegion {
	a := b.acct(acct)
	b.mu.Lock()
	defer b.mu.Unlock()
	r := a.regions[region]
	if r == nil {
		r = &fakeRegion{ecs: &fakeECS{}, secrets: &fakeSecrets{}, ssm: &fakeSSM{}, kms: &fakeKMS{}, ecr: &fakeECR{account: acct, region: region}, logs: &fakeLogs{},
			events: &fakeEvents{}, scheduler: &fakeScheduler{}, ec2: &fakeEC2{}}
		a.regions[region] = r
	}
	return r
}

func (b *fakeBackend) session(ctx context.Context, accountID, roleARN string) (session, error) {
	if b.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	b.mu.Lock()
	b.assumed[accountID] = roleARN
	err := b.assumeErr[accountID]
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &fakeSession{b: b, id: accountID}, nil
}

type fakeSession struct {
	b  *fakeBackend
	id string
}

func (s *fakeSession) iam() iamAPI         { return s.b.acct(s.id).iam }
func (s *fakeSession) account() accountAPI { return s.b.acct(s.id).account }
func (s *fakeSession) regional(region string) regionalClients {
	r := s.b.region(s.id, region)
	return regionalClients{ecs: r.ecs, secrets: r.secrets, ssm: r.ssm, kms: r.kms, ecr: r.ecr, logs: r.logs,
		s3: &fakeS3Client{fakeS3: s.b.acct(s.id).s3, region: region}, events: r.events, scheduler: r.scheduler, ec2: r.ec2}
}

// run collects with the fake backend; cfg is normalised first.
func run(t *testing.T, ctx context.Context, be *fakeBackend, cfg Config) *inventoryResult {
	t.Helper()
	cfg.unlimited = true
	cfg, err := cfg.normalize()
	if err != nil {
		t.Fatalf("normalize: %v", err)
	}
	st := &stats{}
	inv, err := collect(ctx, cfg, be, st)
	return &inventoryResult{inv: inv, err: err, stats: st}
}

// inventoryResult is what run returns.
type inventoryResult struct {
	inv   *inventory.Inventory
	err   error
	stats *stats
}
