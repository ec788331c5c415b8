package scanner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ecs-audit/audit/inventory"
)

const (
	callerAcct = "111111111111"
	memberA    = "222222222222"
	memberB    = "333333333333"
)

// oneRegion scans the caller's account in us-east-1 with f as its ECS.
func oneRegion(t *testing.T, f *fakeECS, cfg Config) (*inventory.Region, *inventoryResult) {
	t.Helper()
	be := newFakeBackend(callerAcct)
	be.region(callerAcct, "us-east-1").ecs = f
	cfg.Regions = []string{"us-east-1"}
	res := run(t, context.Background(), be, cfg)
	if res.err != nil {
		t.Fatalf("collect: %v", res.err)
	}
	if err := res.inv.Validate(); err != nil {
		t.Errorf("inventory does not validate: %v", err)
	}
	if len(res.inv.Accounts) != 1 || len(res.inv.Accounts[0].Regions) != 1 {
		t.Fatalf("accounts = %+v", res.inv.Accounts)
	}
	return res.inv.Accounts[0].Regions[0], res
}

func tdNames(r *inventory.Region) []string {
	var out []string
	for _, td := range r.TaskDefinitions {
		out = append(out, fmt.Sprintf("%s:%d", td.Family, td.Revision))
	}
	return out
}

func TestECSPaginationAndBatches(t *testing.T) {
	tests := []struct {
		name                                 string
		clusters, services, instances        int
		families, revisions                  int
		emptyPages                           bool
		maxPage                              int
		wantDescribeClusters                 []int
		wantDescribeServicesMax, wantDSCalls int
		wantDCICalls                         int
	}{
		{name: "empty region", wantDescribeClusters: nil},
		{name: "one of each", clusters: 1, services: 1, instances: 1, families: 1, revisions: 1,
			wantDescribeClusters: []int{1}, wantDescribeServicesMax: 1, wantDSCalls: 1, wantDCICalls: 1},
		{name: "batch limits", clusters: 2, services: 25, instances: 150, families: 3, revisions: 2,
			wantDescribeClusters: []int{2}, wantDescribeServicesMax: 10, wantDSCalls: 2 * 3, wantDCICalls: 2 * 2},
		{name: "many clusters, empty pages", clusters: 230, services: 1, families: 1, revisions: 1, emptyPages: true,
			wantDescribeClusters: []int{100, 100, 30}, wantDescribeServicesMax: 1, wantDSCalls: 230},
		{name: "short pages", clusters: 3, services: 12, instances: 7, families: 5, revisions: 3, maxPage: 2,
			wantDescribeClusters: []int{3}, wantDescribeServicesMax: 10, wantDSCalls: 3 * 2, wantDCICalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ecsWorld(callerAcct, "us-east-1", tt.clusters, tt.services, tt.instances, tt.families, tt.revisions)
			f.emptyPages, f.maxPage = tt.emptyPages, tt.maxPage
			r, res := oneRegion(t, f, Config{})
			if len(res.inv.Errors) != 0 {
				t.Fatalf("errors: %+v", res.inv.Errors)
			}
			if r.Status != inventory.RegionScanned {
				t.Errorf("status %s", r.Status)
			}
			if len(r.Clusters) != tt.clusters {
				t.Fatalf("%d clusters, want %d", len(r.Clusters), tt.clusters)
			}
			for _, cl := range r.Clusters {
				if len(cl.Services) != tt.services || len(cl.ContainerInstances) != tt.instances {
					t.Errorf("cluster %s: %d services, %d instances", cl.ARN, len(cl.Services), len(cl.ContainerInstances))
				}
				if !slices.IsSortedFunc(cl.Services, func(a, b *inventory.Service) int { return strings.Compare(a.ARN, b.ARN) }) {
					t.Errorf("services not sorted")
				}
			}
			got := f.sizes("DescribeClusters")
			slices.Sort(got)
			want := slices.Clone(tt.wantDescribeClusters)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("DescribeClusters batches %v, want %v", got, want)
			}
			if n := f.n("DescribeServices"); n != tt.wantDSCalls {
				t.Errorf("DescribeServices calls %d, want %d", n, tt.wantDSCalls)
			}
			if tt.wantDescribeServicesMax > 0 && slices.Max(f.sizes("DescribeServices")) != tt.wantDescribeServicesMax {
				t.Errorf("DescribeServices batch sizes %v", f.sizes("DescribeServices"))
			}
			if n := f.n("DescribeContainerInstances"); n != tt.wantDCICalls {
				t.Errorf("DescribeContainerInstances calls %d, want %d", n, tt.wantDCICalls)
			}
			// Latest of each family plus revision 1 (used by services).
			wantTDs := tt.families
			if tt.revisions > 1 && tt.services > 0 {
				wantTDs += min(tt.services, tt.families)
			}
			if len(r.TaskDefinitions) != wantTDs {
				t.Errorf("task definitions %v, want %d", tdNames(r), wantTDs)
			}
			if n := f.n("DescribeTaskDefinition"); n != wantTDs {
				t.Errorf("DescribeTaskDefinition calls %d, want one per task definition (%d)", n, wantTDs)
			}
		})
	}
}

func TestTaskDefinitionSelection(t *testing.T) {
	acct, region := callerAcct, "us-east-1"
	arn := func(f string, r int) string {
		return fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", region, acct, f, r)
	}
	td := func(f string, r int, status ecstypes.TaskDefinitionStatus) ecstypes.TaskDefinition {
		return ecstypes.TaskDefinition{TaskDefinitionArn: aws.String(arn(f, r)), Family: aws.String(f), Revision: int32(r), Status: status,
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("c")}}}
	}
	svc := func(name, taskDef string, deployments ...string) ecstypes.Service {
		s := ecstypes.Service{ServiceArn: aws.String("arn:aws:ecs:us-east-1:" + acct + ":service/main/" + name), ServiceName: aws.String(name), TaskDefinition: aws.String(taskDef)}
		for i, d := range deployments {
			s.Deployments = append(s.Deployments, ecstypes.Deployment{Id: aws.String(fmt.Sprintf("d%d", i)), TaskDefinition: aws.String(d)})
		}
		return s
	}
	tests := []struct {
		name     string
		tds      []ecstypes.TaskDefinition
		services []ecstypes.Service
		taskSets []string
		all      bool
		shuffle  bool
		want     []string
	}{
		{
			name: "latest per family",
			tds:  []ecstypes.TaskDefinition{td("a", 1, "ACTIVE"), td("a", 2, "ACTIVE"), td("a", 10, "ACTIVE"), td("b", 3, "ACTIVE")},
			want: []string{"a:10", "b:3"},
		},
		{
			name:    "latest per family whatever the list order",
			tds:     []ecstypes.TaskDefinition{td("a", 10, "ACTIVE"), td("b", 3, "ACTIVE"), td("a", 2, "ACTIVE"), td("a", 9, "ACTIVE")},
			shuffle: true,
			want:    []string{"a:10", "b:3"},
		},
		{
			name: "all revisions",
			tds:  []ecstypes.TaskDefinition{td("a", 1, "ACTIVE"), td("a", 2, "ACTIVE"), td("b", 1, "INACTIVE")},
			all:  true,
			want: []string{"a:1", "a:2"},
		},
		{
			name:     "services and deployments add revisions, also INACTIVE ones, each described once",
			tds:      []ecstypes.TaskDefinition{td("a", 1, "INACTIVE"), td("a", 2, "ACTIVE"), td("a", 3, "ACTIVE"), td("b", 1, "ACTIVE")},
			services: []ecstypes.Service{svc("s1", arn("a", 2), arn("a", 2), arn("a", 1)), svc("s2", "a:2"), svc("s3", arn("a", 3))},
			want:     []string{"a:1", "a:2", "a:3", "b:1"},
		},
		{
			name:     "task sets count",
			tds:      []ecstypes.TaskDefinition{td("a", 1, "ACTIVE"), td("a", 2, "ACTIVE")},
			services: []ecstypes.Service{svc("s1", arn("a", 2))},
			taskSets: []string{"a:1"},
			want:     []string{"a:1", "a:2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeECS{tds: tt.tds, shuffleTDs: tt.shuffle, services: map[string][]ecstypes.Service{}}
			if len(tt.services) > 0 {
				carn := "arn:aws:ecs:us-east-1:" + acct + ":cluster/main"
				f.clusters = []ecstypes.Cluster{{ClusterArn: aws.String(carn), ClusterName: aws.String("main")}}
				f.services[carn] = tt.services
				for _, ts := range tt.taskSets {
					f.services[carn][0].TaskSets = append(f.services[carn][0].TaskSets, ecstypes.TaskSet{Id: aws.String("ts"), TaskDefinition: aws.String(ts)})
				}
			}
			r, res := oneRegion(t, f, Config{AllRevisions: tt.all})
			if len(res.inv.Errors) != 0 {
				t.Fatalf("errors: %+v", res.inv.Errors)
			}
			got := tdNames(r)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("task definitions %v, want %v", got, tt.want)
			}
			for key, n := range f.keyCounts("DescribeTaskDefinition") {
				if n != 1 {
					t.Errorf("%s described %d times", key, n)
				}
				if !strings.HasPrefix(key, "arn:aws:ecs:us-east-1:"+acct+":task-definition/") {
					t.Errorf("described %q, want a normalised ARN", key)
				}
			}
			if n := f.n("DescribeTaskDefinition"); n != len(tt.want) {
				t.Errorf("%d DescribeTaskDefinition calls, want %d", n, len(tt.want))
			}
			if n := f.n("ListTaskDefinitions"); n != 1 {
				t.Errorf("%d ListTaskDefinitions calls, want 1", n)
			}
		})
	}
}

// Any failing call becomes exactly one collection error and takes nothing
// else down with it.
func TestECSErrors(t *testing.T) {
	denied := apiErr("AccessDeniedException", "not authorized")
	tests := []struct {
		name       string
		fail       faults
		wantErrs   []string // operation/code
		wantStatus string
		check      func(t *testing.T, r *inventory.Region)
	}{
		{
			name: "one DescribeServices batch fails",
			fail: func(op string, in any) error {
				if op == "DescribeServices" && slices.Contains(in.(*ecs.DescribeServicesInput).Services, "arn:aws:ecs:us-east-1:111111111111:service/c000/s010") {
					return denied
				}
				return nil
			},
			wantErrs: []string{"DescribeServices/AccessDeniedException"}, wantStatus: inventory.RegionScanned,
			check: func(t *testing.T, r *inventory.Region) {
				if n := len(r.Clusters[0].Services); n != 15 {
					t.Errorf("%d services, want the 15 of the other batches", n)
				}
			},
		},
		{
			name:     "DescribeClusters fails: clusters kept from the list, services still collected",
			fail:     failOp("DescribeClusters", denied),
			wantErrs: []string{"DescribeClusters/AccessDeniedException"}, wantStatus: inventory.RegionScanned,
			check: func(t *testing.T, r *inventory.Region) {
				if len(r.Clusters) != 1 || r.Clusters[0].Name != "c000" || len(r.Clusters[0].Services) != 25 {
					t.Errorf("clusters = %+v", r.Clusters)
				}
			},
		},
		{
			name:     "ListTaskDefinitions fails: services' task definitions still described",
			fail:     failOp("ListTaskDefinitions", denied),
			wantErrs: []string{"ListTaskDefinitions/AccessDeniedException"}, wantStatus: inventory.RegionScanned,
			check: func(t *testing.T, r *inventory.Region) {
				if got := tdNames(r); len(got) != 2 {
					t.Errorf("task definitions %v, want fam000:1 and fam001:1", got)
				}
			},
		},
		{
			name: "one task definition fails",
			fail: func(op string, in any) error {
				if op == "DescribeTaskDefinition" && strings.HasSuffix(aws.ToString(in.(*ecs.DescribeTaskDefinitionInput).TaskDefinition), "fam001:2") {
					return apiErr("ClientException", "Unable to describe task definition.")
				}
				return nil
			},
			wantErrs: []string{"DescribeTaskDefinition/ClientException"}, wantStatus: inventory.RegionScanned,
			check: func(t *testing.T, r *inventory.Region) {
				if got := tdNames(r); len(got) != 3 {
					t.Errorf("task definitions %v, want the 3 others", got)
				}
			},
		},
		{
			name:       "everything fails: region failed",
			fail:       func(op string, in any) error { return denied },
			wantErrs:   []string{"ListClusters/AccessDeniedException", "ListTaskDefinitions/AccessDeniedException"},
			wantStatus: inventory.RegionFailed,
		},
		{
			name: "Failures[] entries are errors too",
			fail: func(op string, in any) error {
				if op == "DescribeServices" {
					in.(*ecs.DescribeServicesInput).Services[0] += "-gone"
				}
				return nil
			},
			wantErrs: []string{"DescribeServices/MISSING", "DescribeServices/MISSING", "DescribeServices/MISSING"}, wantStatus: inventory.RegionScanned,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ecsWorld(callerAcct, "us-east-1", 1, 25, 2, 2, 2)
			f.fail = tt.fail
			r, res := oneRegion(t, f, Config{})
			var got []string
			for _, e := range res.inv.Errors {
				got = append(got, e.Operation+"/"+e.Code)
				if e.AccountID != callerAcct || e.Region != "us-east-1" || e.Service != "ecs" || e.Message == "" {
					t.Errorf("incomplete collection error %+v", e)
				}
			}
			if !slices.Equal(got, tt.wantErrs) {
				t.Errorf("errors %v, want %v (%+v)", got, tt.wantErrs, res.inv.Errors)
			}
			if r.Status != tt.wantStatus {
				t.Errorf("status %s, want %s", r.Status, tt.wantStatus)
			}
			if res.inv.Complete != true {
				t.Errorf("collection errors must not make the scan incomplete")
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func failOp(op string, err error) faults {
	return func(o string, _ any) error {
		if o == op {
			return err
		}
		return nil
	}
}

func TestExplicitRegionNotEnabled(t *testing.T) {
	be := newFakeBackend(callerAcct)
	notEnabled := apiErr("UnrecognizedClientException", "The security token included in the request is invalid.")
	be.region(callerAcct, "af-south-1").ecs = &fakeECS{fail: func(string, any) error { return notEnabled }}
	// A default region answering the same is an error, not "not enabled".
	be.region(callerAcct, "eu-west-1").ecs = &fakeECS{fail: func(string, any) error { return notEnabled }}
	be.region(callerAcct, "us-east-1").ecs = ecsWorld(callerAcct, "us-east-1", 1, 1, 1, 1, 1)
	res := run(t, context.Background(), be, Config{Regions: []string{"us-east-1", "af-south-1", "eu-west-1"}})
	if res.err != nil {
		t.Fatal(res.err)
	}
	status := map[string]string{}
	for _, r := range res.inv.Accounts[0].Regions {
		status[r.Name] = r.Status
	}
	want := map[string]string{"af-south-1": inventory.RegionNotEnabled, "eu-west-1": inventory.RegionFailed, "us-east-1": inventory.RegionScanned}
	for k, v := range want {
		if status[k] != v {
			t.Errorf("%s: status %q, want %q", k, status[k], v)
		}
	}
	for _, e := range res.inv.Errors {
		if e.Region == "af-south-1" {
			t.Errorf("a region that is not enabled is coverage, not an error: %+v", e)
		}
	}
	if len(res.inv.Errors) != 2 {
		t.Errorf("errors %+v, want eu-west-1's two", res.inv.Errors)
	}
	if n := be.region(callerAcct, "af-south-1").ecs.n("ListTaskDefinitions"); n != 0 {
		t.Errorf("the probe should stop the region; %d more calls", n)
	}
}

func TestParseTaskDefinitionRef(t *testing.T) {
	tests := []struct {
		in     string
		family string
		rev    int
		ok     bool
	}{
		{"arn:aws:ecs:us-east-1:111111111111:task-definition/web:12", "web", 12, true},
		{"arn:aws-cn:ecs:cn-north-1:111111111111:task-definition/a-b_c:1", "a-b_c", 1, true},
		{"web:3", "web", 3, true},
		{"web", "", 0, false},
		{"web:0", "", 0, false},
		{"web:x", "", 0, false},
		{":3", "", 0, false},
		{"arn:aws:ecs:us-east-1:111111111111:service/web:3", "", 0, false},
		{"", "", 0, false},
	}
	for _, tt := range tests {
		r, ok := parseTaskDefinitionRef(tt.in)
		if ok != tt.ok || r.family != tt.family || r.revision != tt.rev {
			t.Errorf("parseTaskDefinitionRef(%q) = %+v, %v; want %s %d %v", tt.in, r, ok, tt.family, tt.rev, tt.ok)
		}
	}
}

// A failed later page keeps what the earlier pages listed.
func TestListClustersSecondPageFails(t *testing.T) {
	f := ecsWorld(callerAcct, "us-east-1", 150, 1, 0, 1, 1)
	f.fail = func(op string, in any) error {
		if op == "ListClusters" && in.(*ecs.ListClustersInput).NextToken != nil {
			return apiErr("ServerException", "boom")
		}
		return nil
	}
	r, res := oneRegion(t, f, Config{})
	if len(r.Clusters) != 100 || r.Status != inventory.RegionScanned {
		t.Errorf("%d clusters, status %s; want the first page's 100, scanned", len(r.Clusters), r.Status)
	}
	if len(res.inv.Errors) != 1 || res.inv.Errors[0].Operation != "ListClusters" || res.inv.Errors[0].Code != "ServerException" {
		t.Errorf("errors %+v", res.inv.Errors)
	}
}
