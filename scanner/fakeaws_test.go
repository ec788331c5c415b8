package scanner

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ecs-audit/audit/internal/fakeaws"
	"github.com/ecs-audit/audit/internal/mototest"
	"github.com/ecs-audit/audit/inventory"
)

// fakeServer starts fakeaws with world and returns it with a Config that
// points the scanner at it (caller credentials, endpoint, isolated from the
// machine's AWS configuration).
func fakeServer(t testing.TB, world *inventory.Inventory, opts fakeaws.Options) (*fakeaws.Server, Config) {
	t.Helper()
	srv, err := fakeaws.New(world, opts)
	if err != nil {
		t.Fatalf("fakeaws.New: %v", err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatalf("fakeaws.Start: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ak, sk := srv.CallerCredentials()
	return srv, Config{
		BaseEndpoint: url,
		Credentials:  credentials.NewStaticCredentialsProvider(ak, sk, ""),
		Region:       "us-east-1",
	}
}

// isolateEnv keeps the machine's AWS configuration out of a test.
func isolateEnv(t *testing.T) {
	t.Helper()
	mototest.Env(t, "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
}

// normalise removes from inv what a scan cannot reproduce from a world
// (when it was collected, by which tool, the scope it was asked for) and,
// for a world, what a scan deliberately leaves out: task definitions out of
// scope (neither the latest ACTIVE revision of a family nor used by a
// service) and resources no collected task definition references.
// With all, every ACTIVE revision is in scope.
func normalise(inv *inventory.Inventory, isWorld, all bool) *inventory.Inventory {
	b, err := json.Marshal(inv)
	if err != nil {
		panic(err)
	}
	var out inventory.Inventory
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	out.CollectedAt, out.ToolVersion, out.Scope = time.Time{}, "", inventory.Scope{}
	yes := true
	for _, a := range out.Accounts {
		// The scanner names the account's own node; the world leaves it out.
		for i := range a.Path {
			if a.Path[i].Type == inventory.NodeAccount {
				a.Path[i].Name = ""
			}
			// The scanner sorts the policy IDs of a node.
			slices.Sort(a.Path[i].SCPs)
			slices.Sort(a.Path[i].RCPs)
		}
		// The scanner sorts attached policies.
		if a.IAM != nil {
			for _, r := range a.IAM.Roles {
				slices.Sort(r.AttachedPolicies)
			}
		}
		for _, r := range a.Regions {
			// AWS managed keys (alias/aws/ssm) are real keys the scanner
			// describes; the world does not model them.
			r.KMSKeys = slices.DeleteFunc(r.KMSKeys, func(k *inventory.KMSKey) bool { return k.Manager == "AWS" })
			// ECS answers essential: true when the registration left it out.
			for _, td := range r.TaskDefinitions {
				for i := range td.ContainerDefinitions {
					if td.ContainerDefinitions[i].Essential == nil {
						td.ContainerDefinitions[i].Essential = &yes
					}
				}
			}
		}
	}
	if !isWorld {
		return &out
	}
	used := map[string]bool{}
	for _, a := range out.Accounts {
		for _, r := range a.Regions {
			inScope(r, all)
		}
		for _, n := range a.Path {
			for _, id := range append(slices.Clone(n.SCPs), n.RCPs...) {
				used[id] = true
			}
		}
	}
	trimExistence(&out)
	// The scanner learns of the policies on the scanned accounts' paths.
	if out.Organization != nil {
		maps.DeleteFunc(out.Organization.Policies, func(id string, _ *inventory.OrgPolicy) bool { return !used[id] })
	}
	return &out
}

// inScope trims a world region to what the scanner collects.
func inScope(r *inventory.Region, all bool) {
	used := map[string]bool{}
	for _, c := range r.Clusters {
		for _, s := range c.Services {
			used[s.TaskDefinition] = true
			for _, d := range s.Deployments {
				used[d.TaskDefinition] = true
			}
		}
		// Tasks, rules and schedules put their revisions in scope too.
		for _, t := range c.Tasks {
			used[t.TaskDefinition] = true
		}
	}
	for _, er := range r.EventRules {
		for _, t := range er.Targets {
			used[t.Launch.TaskDefinition] = true
		}
	}
	for _, s := range r.Schedules {
		if s.Launch != nil {
			used[s.Launch.TaskDefinition] = true
		}
	}
	latest := map[string]int32{}
	for _, td := range r.TaskDefinitions {
		if td.Status == "ACTIVE" && td.Revision > latest[td.Family] {
			latest[td.Family] = td.Revision
		}
	}
	r.TaskDefinitions = slices.DeleteFunc(r.TaskDefinitions, func(td *inventory.TaskDefinition) bool {
		return !used[td.ARN] && !(td.Status == "ACTIVE" && (all || latest[td.Family] == td.Revision))
	})
	refs := map[string]bool{}
	for _, td := range r.TaskDefinitions {
		for _, c := range td.ContainerDefinitions {
			for _, s := range c.Secrets {
				refs[s.ValueFrom] = true
			}
			if c.LogConfiguration != nil {
				for _, s := range c.LogConfiguration.SecretOptions {
					refs[s.ValueFrom] = true
				}
			}
			if c.RepositoryCredentials != nil {
				refs[c.RepositoryCredentials.CredentialsParameter] = true
			}
		}
		for _, v := range td.Volumes {
			if f := v.FSxWindowsFileServerVolumeConfiguration; f != nil && f.AuthorizationConfig != nil {
				refs[f.AuthorizationConfig.CredentialsParameter] = true
			}
		}
	}
	referenced := func(arn, name string) bool {
		for ref := range refs {
			if ref == name || ref == arn || strings.HasPrefix(ref, arn+":") || (len(arn) > 7 && strings.HasPrefix(ref, arn[:len(arn)-7])) {
				return true
			}
		}
		return false
	}
	keys := map[string]bool{}
	r.Secrets = slices.DeleteFunc(r.Secrets, func(s *inventory.Secret) bool {
		keep := referenced(s.ARN, s.Name)
		if keep {
			keys[s.KMSKeyID] = true
		}
		return !keep
	})
	r.Parameters = slices.DeleteFunc(r.Parameters, func(p *inventory.Parameter) bool {
		keep := referenced(p.ARN, p.Name)
		if keep {
			keys[p.KeyID] = true
		}
		return !keep
	})
	r.KMSKeys = slices.DeleteFunc(r.KMSKeys, func(k *inventory.KMSKey) bool {
		if keys[k.ARN] || keys[k.KeyID] {
			return false
		}
		for _, a := range k.Aliases {
			if keys[a] {
				return false
			}
		}
		return true
	})
}

// diffInventories lists the first differences between two inventories as
// flattened JSON paths.
func diffInventories(want, got *inventory.Inventory) string {
	w, g := flatten(want), flatten(got)
	var lines []string
	for k, wv := range w {
		if gv, ok := g[k]; !ok {
			lines = append(lines, fmt.Sprintf("missing %s = %s", k, wv))
		} else if gv != wv {
			lines = append(lines, fmt.Sprintf("differs %s: want %s, got %s", k, wv, gv))
		}
	}
	for k, gv := range g {
		if _, ok := w[k]; !ok {
			lines = append(lines, fmt.Sprintf("extra   %s = %s", k, gv))
		}
	}
	slices.SortFunc(lines, func(a, b string) int { return strings.Compare(a[8:], b[8:]) })
	if len(lines) > 25 {
		lines = append(lines[:25], fmt.Sprintf("... and %d more", len(lines)-25))
	}
	return strings.Join(lines, "\n")
}

// flatten maps every JSON leaf of v to its value; array elements are keyed
// by their "arn", "id", "name" or "taskDefinitionArn" field when they have
// one, so that one missing element does not shift the rest.
func flatten(v any) map[string]string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		panic(err)
	}
	out := map[string]string{}
	var walk func(path string, x any)
	walk = func(path string, x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, v := range t {
				walk(path+"."+k, v)
			}
		case []any:
			for i, v := range t {
				key := fmt.Sprint(i)
				if m, ok := v.(map[string]any); ok {
					for _, f := range []string{"arn", "taskDefinitionArn", "id", "name"} {
						if s, ok := m[f].(string); ok && s != "" {
							key = s
							break
						}
					}
				}
				walk(path+"["+key+"]", v)
			}
		default:
			vb, _ := json.Marshal(t)
			out[path] = string(vb)
		}
	}
	walk("", x)
	return out
}

func TestFakeAWSRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("fakeaws round trip skipped in -short mode")
	}
	isolateEnv(t)
	spec := fakeaws.WorldSpec{Accounts: 6, Regions: []string{"us-east-1", "eu-west-1", "af-south-1"},
		TaskDefsPerRegion: 12, ServicesPerRegion: 7, InstancesPerCluster: 3, ClustersPerRegion: 2, Seed: 42}
	for _, tt := range []struct {
		name      string
		all, bulk bool
	}{
		{name: "latest revisions"},
		{name: "all revisions", all: true},
		// fakeaws has no ListTargetsForPolicy: the tree walk is used and the
		// attachments fall back to per-target lookups.
		{name: "whole-organization lookups", bulk: true},
	} {
		all := tt.all
		t.Run(tt.name, func(t *testing.T) {
			world := fakeaws.GenerateWorld(spec)
			srv, cfg := fakeServer(t, world, fakeaws.Options{Seed: 42})
			cfg.Org, cfg.ResolveResources, cfg.AllRevisions, cfg.forceBulk = true, true, all, tt.bulk
			inv, err := Collect(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Collect: %v", err)
			}
			if err := inv.Validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
			if !inv.Complete {
				t.Errorf("incomplete: %q", inv.Interrupted)
			}
			if m := srv.MutatingCalls(); len(m) != 0 {
				t.Errorf("mutating calls: %v", m)
			}
			want := normalise(world, true, all)
			got := normalise(inv, false, all)
			sortInventory(want)
			sortInventory(got)
			if d := diffInventories(want, got); d != "" {
				t.Errorf("the collected inventory differs from the world:\n%s", d)
			}
			checkCallCounts(t, srv, want)
		})
	}
}

// fakeCallCounts checks (c): what a scan of world costs in calls.
func checkCallCounts(t *testing.T, srv *fakeaws.Server, want *inventory.Inventory) {
	t.Helper()
	calls := srv.Calls()
	accounts, regions, tds := 0, 0, 0
	for _, a := range want.Accounts {
		if a.IAM == nil {
			continue
		}
		accounts++
		for _, r := range a.Regions {
			if r.Status == inventory.RegionScanned {
				regions++
				tds += len(r.TaskDefinitions)
			}
		}
	}
	// Each account's roles and policies fit in one page of 1000.
	if got := calls["iam:GetAccountAuthorizationDetails"]; got != int64(accounts) {
		t.Errorf("GetAccountAuthorizationDetails: %d calls, want one page per account (%d)", got, accounts)
	}
	if got := calls["ecs:DescribeTaskDefinition"]; got != int64(tds) {
		t.Errorf("DescribeTaskDefinition: %d calls, want one per task definition in scope (%d)", got, tds)
	}
	if got := calls["ecs:ListClusters"]; got != int64(regions) {
		t.Errorf("ListClusters: %d calls, want one per scanned region (%d)", got, regions)
	}
	if got := calls["sts:GetCallerIdentity"]; got != 1 {
		t.Errorf("GetCallerIdentity: %d calls", got)
	}
	if got := calls["sts:AssumeRole"]; got != int64(len(want.Accounts)-1) {
		t.Errorf("AssumeRole: %d calls, want one per member account (%d)", got, len(want.Accounts)-1)
	}
	for op, n := range calls {
		if !readOnlyOperation(op[strings.Index(op, ":")+1:]) {
			t.Errorf("%s called %d times", op, n)
		}
	}
}

// TestFakeAWSResilience (b): 30% of all calls throttled, AssumeRole denied
// into one account, IAM denied in another, ECS hanging in one region of a
// third. The scan completes, the errors are exactly those gaps (the retries
// absorb every throttle), and everything else matches the world.
func TestFakeAWSResilience(t *testing.T) {
	if testing.Short() {
		t.Skip("fakeaws resilience test skipped in -short mode")
	}
	isolateEnv(t)
	world := fakeaws.GenerateWorld(fakeaws.WorldSpec{Accounts: 4, Regions: []string{"us-east-1", "eu-west-1"},
		TaskDefsPerRegion: 6, ServicesPerRegion: 4, InstancesPerCluster: 2, ClustersPerRegion: 1, Seed: 11})
	noRole, noIAM, hung := world.Accounts[1].ID, world.Accounts[2].ID, world.Accounts[3].ID
	srv, cfg := fakeServer(t, world, fakeaws.Options{
		Seed: 11, ThrottleRate: 0.3,
		Faults: []fakeaws.Fault{
			{Account: noRole, Service: "sts", Operation: "AssumeRole", Code: fakeaws.FaultAccessDenied},
			{Account: noIAM, Service: "iam", Code: fakeaws.FaultAccessDenied},
			{Account: hung, Region: "eu-west-1", Service: "ecs", Code: fakeaws.FaultTimeout},
		},
	})
	cfg.Org, cfg.ResolveResources = true, true
	cfg.CallTimeout = 2 * time.Second
	if m := os.Getenv("AUDIT_RETRY_MODE"); m != "" {
		cfg.RetryMode = m // to compare the retry modes
	}
	if path := os.Getenv("AUDIT_LOG"); path != "" {
		// AUDIT_LOG=/tmp/scan.log keeps a debug log of every call.
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cfg.Logger = slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	var last Progress
	cfg.Progress = func(p Progress) { last = p }
	start := time.Now()
	inv, err := Collect(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	t.Logf("scan with 30%% throttling took %s: %d calls, %d throttled (server: %d)", time.Since(start).Round(time.Millisecond),
		last.Calls, last.Throttles, srv.ThrottledCalls())
	if !inv.Complete {
		t.Errorf("incomplete: %q", inv.Interrupted)
	}
	var errs []string
	for _, e := range inv.Errors {
		errs = append(errs, strings.Join([]string{e.AccountID, e.Region, e.Service, e.Operation, e.Code}, "/"))
	}
	wantErrs := []string{
		noRole + "//sts/AssumeRole/AccessDenied",
		noIAM + "//iam/GetAccountAuthorizationDetails/AccessDenied",
		hung + "/eu-west-1/ecs/ListClusters/Timeout",
		hung + "/eu-west-1/ecs/ListTaskDefinitions/Timeout",
		// The region's Scheduler schedule names a task definition, which
		// the hanging ECS endpoint cannot describe.
		hung + "/eu-west-1/ecs/DescribeTaskDefinition/Timeout",
	}
	slices.Sort(wantErrs)
	slices.Sort(errs)
	if !slices.Equal(errs, wantErrs) {
		t.Errorf("errors:\n %v\nwant\n %v", errs, wantErrs)
	}
	if srv.ThrottledCalls() == 0 || last.Throttles != srv.ThrottledCalls() {
		t.Errorf("throttles: scanner counted %d, server sent %d", last.Throttles, srv.ThrottledCalls())
	}
	if m := srv.MutatingCalls(); len(m) != 0 {
		t.Errorf("mutating calls: %v", m)
	}

	// Everything else is what a clean scan collects.
	want := normalise(world, true, false)
	for _, a := range want.Accounts {
		switch a.ID {
		case noRole:
			a.IAM, a.Regions = nil, nil
		case noIAM:
			a.IAM = nil
		case hung:
			for i, r := range a.Regions {
				if r.Name == "eu-west-1" {
					// ECS hangs there; Scheduler answers.
					a.Regions[i] = &inventory.Region{Name: r.Name, Status: inventory.RegionFailed,
						Schedules: r.Schedules, SchedulesStatus: r.SchedulesStatus}
				}
			}
		}
	}
	// Without credentials in noRole, its buckets are not found.
	want.S3Buckets = slices.DeleteFunc(want.S3Buckets, func(b *inventory.S3Bucket) bool { return b.AccountID == noRole })
	got := normalise(inv, false, false)
	got.Errors = nil
	sortInventory(want)
	sortInventory(got)
	if d := diffInventories(want, got); d != "" {
		t.Errorf("apart from the gaps, the inventory differs from the world:\n%s", d)
	}
}

// trimExistence keeps of a world's existence records those that the task
// definitions in scope reference, as a scan collects them (see
// resources_ext_test.go for the rules).
func trimExistence(inv *inventory.Inventory) {
	images := map[string]map[inventory.ECRImage]bool{} // account|region|repository
	groups := map[string]bool{}                        // account|region|group
	objects := map[string]map[string]bool{}            // bucket → keys
	for _, a := range inv.Accounts {
		for _, r := range a.Regions {
			for _, td := range r.TaskDefinitions {
				for _, cd := range td.ContainerDefinitions {
					if ref, ok := inventory.ParseECRImage(cd.Image); ok {
						k := ref.Registry + "|" + ref.Region + "|" + ref.Repository
						if images[k] == nil {
							images[k] = map[inventory.ECRImage]bool{}
						}
						images[k][ref.Image()] = true
					}
					if lc := cd.LogConfiguration; lc != nil && lc.LogDriver == "awslogs" {
						if create, _, _ := inventory.AwslogsCreateGroup(lc.Options); !create {
							region := lc.Options["awslogs-region"]
							if region == "" {
								region = r.Name
							}
							groups[a.ID+"|"+region+"|"+lc.Options["awslogs-group"]] = true
						}
					}
					var arns []string
					for _, f := range cd.EnvironmentFiles {
						arns = append(arns, f.Value)
					}
					if fl := cd.FirelensConfiguration; fl != nil && fl.Options["config-file-type"] == "s3" {
						arns = append(arns, fl.Options["config-file-value"])
					}
					for _, arn := range arns {
						if _, b, key, ok := inventory.ParseS3ObjectARN(arn); ok {
							if objects[b] == nil {
								objects[b] = map[string]bool{}
							}
							objects[b][key] = true
						}
					}
				}
			}
		}
	}
	for _, a := range inv.Accounts {
		for _, r := range a.Regions {
			underRule := false
			r.ECRRepositories = slices.DeleteFunc(r.ECRRepositories, func(repo *inventory.ECRRepository) bool {
				want := images[a.ID+"|"+r.Name+"|"+repo.Name]
				if want == nil {
					return true
				}
				repo.Images = slices.DeleteFunc(repo.Images, func(im inventory.ECRImage) bool {
					return !want[inventory.ECRImage{Tag: im.Tag, Digest: im.Digest}]
				})
				if repo.PullThroughCachePrefix != "" {
					underRule = true
				}
				return false
			})
			if reg := r.ECRRegistry; reg != nil {
				if !slices.ContainsFunc(r.ECRRepositories, func(repo *inventory.ECRRepository) bool { return strings.Contains(repo.Name, "/") }) {
					r.ECRRegistry = nil
				} else if !underRule {
					reg.Policy, reg.PolicyStatus = "", inventory.PolicyNotCollected // not read
				}
			}
			r.LogGroups = slices.DeleteFunc(r.LogGroups, func(g *inventory.LogGroup) bool { return !groups[a.ID+"|"+r.Name+"|"+g.Name] })
		}
	}
	inv.S3Buckets = slices.DeleteFunc(inv.S3Buckets, func(b *inventory.S3Bucket) bool {
		keys := objects[b.Name]
		b.Objects = slices.DeleteFunc(b.Objects, func(o inventory.S3Object) bool { return !keys[o.Key] })
		return keys == nil
	})
}
