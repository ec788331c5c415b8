package fakeaws

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/ecs-audit/audit/inventory"
)

func TestGenerateWorldShape(t *testing.T) {
	tests := []struct {
		name      string
		spec      WorldSpec
		accounts  int
		tdsPerReg int
		svcPerReg int
		instances int
	}{
		{"defaults", WorldSpec{}, 1, 0, 0, 0},
		{"small", WorldSpec{Accounts: 5, Regions: []string{"us-east-1", "eu-west-1"}, TaskDefsPerRegion: 10, ServicesPerRegion: 6, InstancesPerCluster: 3, ClustersPerRegion: 2, Seed: 1}, 5, 10, 6, 6},
		{"services without clusters get one", WorldSpec{Accounts: 2, TaskDefsPerRegion: 4, ServicesPerRegion: 3}, 2, 4, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := GenerateWorld(tt.spec)
			if err := w.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if _, err := New(w, Options{}); err != nil {
				t.Fatalf("New: %v", err)
			}
			if len(w.Accounts) != tt.accounts {
				t.Fatalf("%d accounts, want %d", len(w.Accounts), tt.accounts)
			}
			for _, a := range w.Accounts {
				for _, r := range a.Regions {
					if r.Status != inventory.RegionScanned {
						continue
					}
					svcs, insts := 0, 0
					for _, c := range r.Clusters {
						svcs += len(c.Services)
						insts += len(c.ContainerInstances)
					}
					if len(r.TaskDefinitions) != tt.tdsPerReg || svcs != tt.svcPerReg || insts != tt.instances {
						t.Fatalf("%s %s: %d task definitions, %d services, %d instances; want %d %d %d",
							a.ID, r.Name, len(r.TaskDefinitions), svcs, insts, tt.tdsPerReg, tt.svcPerReg, tt.instances)
					}
				}
			}
		})
	}
}

func TestGenerateWorldDeterministic(t *testing.T) {
	spec := WorldSpec{Accounts: 6, Regions: []string{"us-east-1", "af-south-1"}, TaskDefsPerRegion: 12, ServicesPerRegion: 8, InstancesPerCluster: 4, ClustersPerRegion: 2, Seed: 9}
	enc := func(w *inventory.Inventory) []byte {
		b, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := enc(GenerateWorld(spec)), enc(GenerateWorld(spec))
	if !bytes.Equal(a, b) {
		t.Error("the same spec gave different worlds")
	}
	spec.Seed = 10
	if bytes.Equal(a, enc(GenerateWorld(spec))) {
		t.Error("a different seed gave the same world")
	}
	// The snapshot format round-trips the generated world.
	back, err := inventory.Decode(a, "generated.json")
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !bytes.Equal(enc(back), a) {
		t.Error("the generated world does not survive a snapshot round trip")
	}
}

// TestGenerateWorldFeatures: the mix the benchmark relies on is there.
func TestGenerateWorldFeatures(t *testing.T) {
	w := GenerateWorld(WorldSpec{Accounts: 12, Regions: []string{"us-east-1", "eu-west-1", "eu-south-1", "ap-southeast-2"}, TaskDefsPerRegion: 30, ServicesPerRegion: 12, InstancesPerCluster: 5, ClustersPerRegion: 2, Seed: 5})
	seen := map[string]bool{}
	mark := func(k string, ok bool) {
		if ok {
			seen[k] = true
		}
	}
	for _, a := range w.Accounts {
		mark("active account", a.Status == "ACTIVE")
		for _, r := range a.Regions {
			mark("region not enabled", r.Status == inventory.RegionNotEnabled)
			for _, c := range r.Clusters {
				for _, s := range c.Services {
					mark("fargate service", s.LaunchType == inventory.LaunchFargate)
					mark("ec2 service", s.LaunchType == inventory.LaunchEC2)
					mark("capacity providers", len(s.CapacityProviders) > 0)
					mark("deployment in progress", len(s.Deployments) > 1)
				}
				for _, ci := range c.ContainerInstances {
					mark("old agent", !versionAtLeast(ci.AgentVersion, "1.16.0"))
					mark("disconnected agent", !ci.AgentConnected)
					has := false
					for _, at := range ci.Attributes {
						has = has || at.Name == "ecs.capability.execution-role-awslogs"
					}
					mark("instance without awslogs override", versionAtLeast(ci.AgentVersion, "1.16.0") && !has)
				}
			}
			for _, td := range r.TaskDefinitions {
				mark("inactive revision", td.Status == "INACTIVE")
				mark("no execution role", td.ExecutionRoleARN == "")
				mark("bounded execution role", strings.HasSuffix(td.ExecutionRoleARN, "/ecs-exec-bounded"))
				mark("fsx volume", len(td.Volumes) > 0 && td.Volumes[0].FSxWindowsFileServerVolumeConfiguration != nil)
				for _, cd := range td.ContainerDefinitions {
					mark("ecr image", strings.Contains(cd.Image, ".dkr.ecr."))
					mark("public image", strings.HasPrefix(cd.Image, "public.ecr.aws/"))
					mark("private registry", cd.RepositoryCredentials != nil)
					mark("environment files", len(cd.EnvironmentFiles) > 0)
					mark("firelens s3 config", cd.FirelensConfiguration != nil && cd.FirelensConfiguration.Options["config-file-type"] == "s3")
					mark("awslogs create group", cd.LogConfiguration != nil && cd.LogConfiguration.Options["awslogs-create-group"] == "true")
					for _, s := range cd.Secrets {
						mark("secrets manager secret", strings.Contains(s.ValueFrom, ":secretsmanager:"))
						mark("ssm parameter name", strings.HasPrefix(s.ValueFrom, "/"))
					}
					for _, e := range cd.Environment {
						mark("env class "+e.ValueClass, true)
					}
				}
			}
		}
	}
	want := []string{"active account", "region not enabled", "fargate service", "ec2 service", "capacity providers",
		"deployment in progress", "old agent", "disconnected agent", "instance without awslogs override", "inactive revision",
		"no execution role", "bounded execution role", "fsx volume", "ecr image", "public image", "private registry",
		"environment files", "firelens s3 config", "awslogs create group", "secrets manager secret", "ssm parameter name"}
	for _, c := range valueClasses {
		want = append(want, "env class "+c)
	}
	for _, k := range want {
		if !seen[k] {
			t.Errorf("generated world has no %s", k)
		}
	}
}

// TestGenerateBenchWorld: the make-bench world (200 accounts × 4 regions ×
// 30 task definitions) is built and served. How long that takes is logged,
// not asserted: speed is measured by benchmarks, not by timed tests.
func TestGenerateBenchWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the 200-account world")
	}
	start := time.Now()
	w := GenerateWorld(WorldSpec{Accounts: 200, Regions: []string{"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"},
		TaskDefsPerRegion: 30, ServicesPerRegion: 20, InstancesPerCluster: 10, ClustersPerRegion: 3, Seed: 1})
	gen := time.Since(start)
	ts := startServer(t, w, Options{})
	t.Logf("generated in %v, served after %v", gen, time.Since(start))
	ctx := context.Background()
	var n int
	p := organizations.NewListAccountsPaginator(organizations.NewFromConfig(ts.callerCfg(t, "us-east-1")), &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.Accounts {
			if a.Status == orgtypes.AccountStatusActive {
				n++
			}
		}
	}
	if n != 198 {
		t.Errorf("%d active accounts, want 198 (two suspended)", n)
	}
	out, err := ecs.NewFromConfig(ts.assumeCfg(t, w.Accounts[150].ID, "eu-west-1")).ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{MaxResults: aws.Int32(100)})
	if err != nil || len(out.TaskDefinitionArns) == 0 {
		t.Fatalf("ListTaskDefinitions: %v", err)
	}
}
