package findings

import (
	"strings"
	"testing"
	"time"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// Issue 11 §2 and §3: what the task needs must exist (RS001), and the
// resource policies on the way (ECR repository and registry policies, S3
// bucket policies) are layers of the evaluation.

// resolved marks the test world as looked up (scope.resources resolved).
func (w *tw) resolved() *tw {
	w.inv.Scope.Resources = inventory.ResourcesResolved
	return w
}

// other adds the scanned account 444455556666 in us-east-1 and returns its
// region.
func (w *tw) other() *inventory.Region {
	for _, a := range w.inv.Accounts {
		if a.ID == otherAcct {
			return a.Regions[0]
		}
	}
	r := &inventory.Region{Name: tRegion, Status: inventory.RegionScanned}
	w.inv.Accounts = append(w.inv.Accounts, &inventory.Account{ID: otherAcct, IAM: &inventory.IAM{}, Regions: []*inventory.Region{r}})
	return r
}

// repo records an ECR repository of a region that exists, with a policy
// (status none when doc is "") and images (tag → status).
func repo(r *inventory.Region, account, name, doc string, images map[string]string) *inventory.ECRRepository {
	rec := &inventory.ECRRepository{Name: name, Status: inventory.Exists, ARN: "arn:aws:ecr:" + tRegion + ":" + account + ":repository/" + name,
		PolicyStatus: inventory.PolicyNone}
	if doc != "" {
		rec.Policy, rec.PolicyStatus = doc, inventory.PolicyCollected
	}
	for _, tag := range sortedKeys(images) {
		rec.Images = append(rec.Images, inventory.ECRImage{Tag: tag, Status: images[tag]})
	}
	r.ECRRepositories = append(r.ECRRepositories, rec)
	return rec
}

// missingRepo records a repository that does not exist.
func missingRepo(r *inventory.Region, name string) {
	r.ECRRepositories = append(r.ECRRepositories, &inventory.ECRRepository{Name: name, Status: inventory.DoesNotExist, PolicyStatus: inventory.PolicyNotCollected})
}

// cacheRules records a registry with a docker-hub pull-through cache rule
// and its policy (status none when doc is "").
func cacheRules(r *inventory.Region, doc string) {
	r.ECRRegistry = &inventory.ECRRegistry{PullThroughCacheRulesStatus: inventory.PolicyCollected,
		PullThroughCacheRules: []inventory.ECRPullThroughCacheRule{{Prefix: "docker-hub", UpstreamRegistryURL: "registry-1.docker.io"}},
		PolicyStatus:          inventory.PolicyNone}
	if doc != "" {
		r.ECRRegistry.Policy, r.ECRRegistry.PolicyStatus = doc, inventory.PolicyCollected
	}
}

func logGroup(r *inventory.Region, name, status string) {
	g := &inventory.LogGroup{Name: name, Status: status}
	if status == inventory.Exists {
		g.ARN = "arn:aws:logs:" + tRegion + ":" + tAcct + ":log-group:" + name
	}
	r.LogGroups = append(r.LogGroups, g)
}

// bucket records an S3 bucket of account that exists, with a policy (none
// when doc is "") and objects (key → status).
func (w *tw) bucket(name, account, doc string, objects map[string]string) *inventory.S3Bucket {
	b := &inventory.S3Bucket{Name: name, AccountID: account, Region: tRegion, Status: inventory.Exists, PolicyStatus: inventory.PolicyNone}
	if doc != "" {
		b.Policy, b.PolicyStatus = doc, inventory.PolicyCollected
	}
	for _, k := range sortedKeys(objects) {
		b.Objects = append(b.Objects, inventory.S3Object{Key: k, Status: objects[k]})
	}
	w.inv.S3Buckets = append(w.inv.S3Buckets, b)
	return b
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func withLogOptions(opts map[string]string) func(*inventory.ContainerDefinition) {
	return func(c *inventory.ContainerDefinition) {
		c.LogConfiguration = &inventory.LogConfiguration{LogDriver: "awslogs", Options: opts}
	}
}

func withEnvFile(arn string) func(*inventory.ContainerDefinition) {
	return func(c *inventory.ContainerDefinition) {
		c.EnvironmentFiles = append(c.EnvironmentFiles, inventory.EnvironmentFile{Value: arn, Type: "s3"})
	}
}

func withRepoCreds(p string) func(*inventory.ContainerDefinition) {
	return func(c *inventory.ContainerDefinition) {
		c.RepositoryCredentials = &inventory.RepositoryCredentials{CredentialsParameter: p}
	}
}

const (
	otherRepoARN = "arn:aws:ecr:us-east-1:444455556666:repository/base/python"
	ownRepoARN   = "arn:aws:ecr:us-east-1:111122223333:repository/app"
	ptcRepoARN   = "arn:aws:ecr:us-east-1:111122223333:repository/docker-hub/library/nginx"
	pullActions  = `["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]`
	// every ECR action a pull through a cache rule needs, on every
	// repository: what AmazonECSTaskExecutionRolePolicy does not grant.
	ptcIdentity = `{"Version":"2012-10-17","Statement":[{"Sid":"Ptc","Effect":"Allow","Action":["ecr:BatchImportUpstreamImage","ecr:CreateRepository"],"Resource":"*"}]}`
)

func otherImg(repo string) string {
	return otherAcct + ".dkr.ecr." + tRegion + ".amazonaws.com/" + repo
}

// repoPolicyFor lets principal pull from a repository (a repository policy
// names no Resource).
func repoPolicyFor(principal string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":` + pullActions + `}]}`
}

// registryPolicyFor lets principal import through the cache and create the
// cached repositories.
func registryPolicyFor(principal string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"PullThroughCache","Effect":"Allow","Principal":{"AWS":"` + principal + `"},` +
		`"Action":["ecr:BatchImportUpstreamImage","ecr:CreateRepository"],"Resource":"arn:aws:ecr:us-east-1:111122223333:repository/docker-hub/*"}]}`
}

const execRole = "arn:aws:iam::111122223333:role/exec"

// TestRS001 is one case per kind of missing resource, and the cases that
// must not be RS001.
func TestRS001(t *testing.T) {
	runRuleCases(t, "RS001", []ruleCase{
		{"missing image tag", func(w *tw) {
			repo(w.resolved().reg, tAcct, "app", "", map[string]string{"1.0": inventory.Exists, "2.0": inventory.DoesNotExist})
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("app:2.0")))
		}, 1, Critical, []string{"image app:2.0 in account 111122223333, us-east-1", "which does not exist", `container "c" at containerDefinitions[0].image`}, 3},
		{"the tag exists", func(w *tw) {
			repo(w.resolved().reg, tAcct, "app", "", map[string]string{"1.0": inventory.Exists})
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("app:1.0")))
		}, 0, "", nil, 0},
		{"an image named by tag and digest is pulled by its digest", func(w *tw) {
			d := "sha256:" + strings.Repeat("ab", 32)
			r := repo(w.resolved().reg, tAcct, "app", "", map[string]string{"1.0": inventory.Exists})
			r.Images = append(r.Images, inventory.ECRImage{Digest: d, Status: inventory.DoesNotExist})
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("app:1.0@"+d)))
		}, 1, Critical, []string{"image app@sha256:abab"}, 3},
		{"no tag: latest", func(w *tw) {
			repo(w.resolved().reg, tAcct, "app", "", map[string]string{"latest": inventory.DoesNotExist})
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("app")))
		}, 1, Critical, []string{"image app:latest"}, 3},
		{"archived image", func(w *tw) {
			r := repo(w.resolved().reg, tAcct, "app", "", map[string]string{"1.0": inventory.Exists})
			r.Images[0].ImageStatus = "ARCHIVED"
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("app:1.0")))
		}, 1, Critical, []string{"is archived"}, 3},
		{"missing repository", func(w *tw) {
			missingRepo(w.resolved().reg, "app")
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("app:1.0")))
		}, 1, Critical, []string{"ECR repository app in account 111122223333, us-east-1", "does not exist"}, 3},
		{"a repository name ECR cannot hold", func(w *tw) {
			w.resolved()
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("MyApp:1.0")))
		}, 1, Critical, []string{"ECR accepts no such repository name"}, 3},
		{"EC2 without an execution role: a missing repository still stops the task", func(w *tw) {
			missingRepo(w.resolved().reg, "app")
			w.td("app", "", "EC2", ctr("c", ecrImg("app:1.0")))
		}, 1, Critical, []string{"does not exist"}, 3},
		{"pull-through cache, first pull: the repository is created, not missing", func(w *tw) {
			cacheRules(w.resolved().reg, "")
			missingRepo(w.reg, "docker-hub/library/nginx")
			w.td("app", w.role("exec", ecsTrust, true, "ptc", ptcIdentity), "FARGATE", ctr("c", ecrImg("docker-hub/library/nginx:1.27")))
		}, 0, "", nil, 0},
		{"pull-through cache, uncached tag: imported, not missing", func(w *tw) {
			cacheRules(w.resolved().reg, "")
			repo(w.reg, tAcct, "docker-hub/library/nginx", "", map[string]string{"1.27": inventory.DoesNotExist})
			w.td("app", w.role("exec", ecsTrust, true, "ptc", ptcIdentity), "FARGATE", ctr("c", ecrImg("docker-hub/library/nginx:1.27")))
		}, 0, "", nil, 0},
		{"a default cache prefix without a rule is an ordinary repository", func(w *tw) {
			w.resolved().reg.ECRRegistry = &inventory.ECRRegistry{PullThroughCacheRulesStatus: inventory.PolicyCollected, PolicyStatus: inventory.PolicyNotCollected}
			missingRepo(w.reg, "docker-hub/library/nginx")
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("docker-hub/library/nginx:1.27")))
		}, 1, Critical, []string{"ECR repository docker-hub/library/nginx"}, 3},
		{"missing log group without awslogs-create-group", func(w *tw) {
			logGroup(w.resolved().reg, "/ecs/app", inventory.DoesNotExist)
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withLogs("/ecs/app", "p")))
		}, 1, Critical, []string{"log group /ecs/app in account 111122223333, us-east-1", "awslogs-create-group is not true"}, 2},
		{"missing log group, awslogs-create-group \"True\": the driver creates it", func(w *tw) {
			w.resolved()
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withLogOptions(map[string]string{
				"awslogs-group": "/ecs/app", "awslogs-region": tRegion, "awslogs-stream-prefix": "p", "awslogs-create-group": "True"})))
		}, 0, "", nil, 0},
		{"awslogs-create-group \"1\" is true too", func(w *tw) {
			w.resolved()
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withLogOptions(map[string]string{
				"awslogs-group": "/ecs/app", "awslogs-region": tRegion, "awslogs-stream-prefix": "p", "awslogs-create-group": "1"})))
		}, 0, "", nil, 0},
		{"two containers, one missing log group: one finding", func(w *tw) {
			logGroup(w.resolved().reg, "/ecs/app", inventory.DoesNotExist)
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("a", "nginx", withLogs("/ecs/app", "a")), ctr("b", "nginx", withLogs("/ecs/app", "b")))
		}, 1, Critical, []string{`container "a"`, `container "b"`}, 4},
		{"missing SSM parameter by name", func(w *tw) {
			w.resolved().reg.MissingParameters = []string{"/app/db-host"}
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"ssm:GetParameters"`, `"*"`)), "FARGATE", ctr("c", "nginx", withSecret("X", "/app/db-host")))
		}, 1, Critical, []string{"SSM parameter /app/db-host"}, 1},
		{"missing SSM parameter by ARN, single-level name", func(w *tw) {
			w.resolved().reg.MissingParameters = []string{"/flags", "flags"}
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"ssm:GetParameters"`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", "arn:aws:ssm:us-east-1:111122223333:parameter/flags")))
		}, 1, Critical, []string{"SSM parameter /flags"}, 1},
		{"missing secret, referenced with a JSON key", func(w *tw) {
			w.resolved().reg.MissingSecrets = []string{smBase + "db-AbCdEf"}
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", smBase+"db-AbCdEf:password::")))
		}, 1, Critical, []string{"secret db-AbCdEf in account 111122223333, us-east-1", "does not exist"}, 1},
		{"secret scheduled for deletion", func(w *tw) {
			when := time.Date(2026, 1, 9, 0, 0, 0, 0, time.UTC)
			w.resolved().reg.Secrets = []*inventory.Secret{{ARN: smBase + "db-AbCdEf", Name: "db", ResourcePolicyStatus: inventory.PolicyNone, DeletedDate: &when}}
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"*"`)), "FARGATE", ctr("c", "nginx", withSecret("X", smBase+"db-AbCdEf")))
		}, 1, Critical, []string{"scheduled for deletion on 2026-01-09", "GetSecretValue fails"}, 1},
		{"missing registry credentials, by name", func(w *tw) {
			w.resolved().reg.MissingSecrets = []string{"dockerhub"}
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"*"`)), "FARGATE",
				ctr("c", "docker.io/library/nginx:1", withRepoCreds("dockerhub")))
		}, 1, Critical, []string{"secret dockerhub"}, 1},
		{"an SSM reference to a missing secret: both calls need it", func(w *tw) {
			w.resolved().reg.MissingSecrets = []string{"db"}
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`["ssm:GetParameters","secretsmanager:GetSecretValue"]`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", "/aws/reference/secretsmanager/db")))
		}, 1, Critical, []string{"secret db"}, 2},
		{"missing environment file", func(w *tw) {
			w.resolved().bucket("cfg", tAcct, "", map[string]string{"app.env": inventory.DoesNotExist})
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`["s3:GetObject","s3:GetBucketLocation"]`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withEnvFile("arn:aws:s3:::cfg/app.env")))
		}, 1, Critical, []string{"S3 object app.env in bucket cfg"}, 1},
		{"no bucket of that name anywhere", func(w *tw) {
			w.resolved().inv.S3Buckets = []*inventory.S3Bucket{{Name: "cfg", Status: inventory.DoesNotExist, PolicyStatus: inventory.PolicyNotCollected}}
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`["s3:GetObject","s3:GetBucketLocation"]`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withEnvFile("arn:aws:s3:::cfg/app.env")))
		}, 1, Critical, []string{"S3 bucket cfg", "NoSuchBucket"}, 2},
		{"fast mode: nothing is missing, nothing is looked up", func(w *tw) {
			w.inv.Scope.Resources = inventory.ResourcesSkipped
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("app:1.0"), withLogs("/ecs/app", "p")))
		}, 0, "", nil, 0},
	})
}

// An awslogs-create-group the log driver cannot read as a boolean stops the
// container: a reference that cannot work (ER004), whatever the group.
func TestAwslogsCreateGroupNotABoolean(t *testing.T) {
	w := newTW().resolved()
	logGroup(w.reg, "/ecs/app", inventory.Exists)
	w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withLogOptions(map[string]string{
		"awslogs-group": "/ecs/app", "awslogs-region": tRegion, "awslogs-stream-prefix": "p", "awslogs-create-group": "yes"})))
	r := w.eval(t)
	check(t, r, "ER004", 1, Critical, `containerDefinitions[0].logConfiguration.options.awslogs-create-group references "yes", which cannot work: the awslogs log driver reads awslogs-create-group as a boolean`)
	check(t, r, "RS001", 0, "")
	if f := byRule(r, "ER004")[0]; f.Fix.Layer != FixTaskDefinition {
		t.Errorf("fix %+v", f.Fix)
	}
}

// A referenced parameter that does not exist is RS001, a finding: the scan
// stays complete (issue 11, acceptance).
func TestMissingParameterIsAFindingNotAGap(t *testing.T) {
	w := newTW().resolved()
	w.reg.MissingParameters = []string{"/app/db-host"}
	w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"ssm:GetParameters"`, `"*"`)), "FARGATE", ctr("c", "nginx", withSecret("X", "/app/db-host")))
	r := w.eval(t)
	check(t, r, "RS001", 1, Critical, "does not exist")
	if !r.Coverage.Complete || len(r.Coverage.Gaps) > 0 || len(r.Coverage.Errors) > 0 {
		t.Errorf("coverage: complete %v, gaps %v, errors %v", r.Coverage.Complete, r.Coverage.Gaps, r.Coverage.Errors)
	}
	f := byRule(r, "RS001")[0]
	if f.Fix.Layer != FixResource || !strings.Contains(f.Fix.Summary, "Create parameter /app/db-host in account 111122223333, us-east-1") ||
		!strings.Contains(f.Fix.Summary, "or correct the reference at containerDefinitions[0].secrets[0].valueFrom") {
		t.Errorf("fix: %+v", f.Fix)
	}
	if f.Evidence.Facts["missing"] != "arn:aws:ssm:us-east-1:111122223333:parameter/app/db-host" || f.Evidence.Facts["missingKind"] != string(existParameter) {
		t.Errorf("facts: %v", f.Evidence.Facts)
	}
}

// When existence could not be checked, the need is Indeterminate (ER005
// naming what would settle it), never RS001 and never a pass.
func TestExistenceUnknown(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(w *tw)
		settle string
	}{
		{"repository lookup failed", func(w *tw) {
			w.reg.ECRRepositories = []*inventory.ECRRepository{{Name: "app", Status: inventory.NotChecked, PolicyStatus: inventory.PolicyNotCollected}}
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("app:1.0")))
		}, "ecr:DescribeRepositories in account 111122223333, us-east-1"},
		{"image lookup failed", func(w *tw) {
			repo(w.reg, tAcct, "app", "", map[string]string{"1.0": inventory.NotChecked})
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", ecrImg("app:1.0")))
		}, "ecr:DescribeImages"},
		{"registry outside the scan", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "999988887777.dkr.ecr.us-east-1.amazonaws.com/app:1"))
		}, "Include account 999988887777 in the scan"},
		{"log group without a record", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx", withLogs("/ecs/app", "p")))
		}, "logs:DescribeLogGroups"},
		{"log group in a region not scanned", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`["logs:CreateLogStream","logs:PutLogEvents"]`, `"*"`)), "FARGATE", ctr("c", "nginx", withLogOptions(map[string]string{
				"awslogs-group": "/ecs/app", "awslogs-region": "eu-west-3", "awslogs-stream-prefix": "p"})))
		}, "Include region eu-west-3 of account 111122223333"},
		{"bucket no scanned account owns", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`["s3:GetObject","s3:GetBucketLocation"]`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withEnvFile("arn:aws:s3:::cfg/app.env")))
		}, "s3:ListAllMyBuckets"},
		{"object lookup failed", func(w *tw) {
			w.bucket("cfg", tAcct, "", map[string]string{"app.env": inventory.NotChecked})
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`["s3:GetObject","s3:GetBucketLocation"]`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withEnvFile("arn:aws:s3:::cfg/app.env")))
		}, "s3:ListBucket on bucket cfg"},
		{"secret neither found nor missing", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"secretsmanager:GetSecretValue"`, `"*"`)), "FARGATE", ctr("c", "nginx", withSecret("X", smBase+"db-AbCdEf")))
		}, "secretsmanager:DescribeSecret"},
		{"parameter neither found nor missing", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"ssm:GetParameters"`, `"*"`)), "FARGATE", ctr("c", "nginx", withSecret("X", "/app/x")))
		}, "ssm:DescribeParameters"},
		{"a repository that does not exist, with the cache rules not collected", func(w *tw) {
			w.reg.ECRRegistry = &inventory.ECRRegistry{PullThroughCacheRulesStatus: inventory.PolicyNotCollected, PolicyStatus: inventory.PolicyNotCollected}
			missingRepo(w.reg, "docker-hub/library/nginx")
			w.td("app", w.role("exec", ecsTrust, true, "ptc", ptcIdentity), "FARGATE", ctr("c", ecrImg("docker-hub/library/nginx:1.27")))
		}, "ecr:DescribePullThroughCacheRules"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newTW().resolved()
			c.setup(w)
			r := w.eval(t)
			check(t, r, "RS001", 0, "")
			check(t, r, "ER004", 0, "")
			fs := byRule(r, "ER005")
			if len(fs) == 0 {
				check(t, r, "ER005", 1, Medium)
			}
			for _, f := range fs {
				found := false
				for _, u := range f.Evidence.Unknowns {
					found = found || (u.Kind == UnknownExistence && strings.Contains(u.Settle, c.settle))
				}
				if f.Severity != Medium || !found || !strings.Contains(f.Fix.text(), c.settle) {
					t.Errorf("%s %s: no existence unknown settled by %q: %+v", f.Severity, f.Title, c.settle, f.Evidence.Unknowns)
				}
				if len(f.Evidence.Unknowns) == 1 && f.Title != "Whether a resource the task needs exists could not be checked" {
					t.Errorf("title %q", f.Title)
				}
				for _, n := range f.Evidence.Needs {
					if n.Decision == nil || n.Decision.Decision != policy.Indeterminate {
						t.Errorf("need %s on %s: %+v", n.Action, n.Resource, n.Decision)
					}
				}
			}
		})
	}
}

// A need the policies deny stays denied when existence is unknown; fast
// mode says once that nothing was looked up; a need the instance role
// serves has no ER005 to carry the unknown, so a gap names it.
func TestExistenceUnknownElsewhere(t *testing.T) {
	t.Run("denied stays denied", func(t *testing.T) {
		w := newTW().resolved()
		w.td("app", w.role("exec", ecsTrust, false), "FARGATE", ctr("c", "nginx", withSecret("X", "/app/x")))
		r := w.eval(t)
		check(t, r, "ER004", 1, Critical)
		check(t, r, "ER005", 0, "")
	})
	for _, c := range []struct{ scope, gap string }{
		{inventory.ResourcesSkipped, "fast mode, --no-resolve-resources"},
		{"", "does not record whether the resources task definitions reference were looked up"},
	} {
		t.Run("not looked up: "+c.gap, func(t *testing.T) {
			w := newTW()
			w.inv.Scope.Resources = c.scope
			w.td("app", w.role("exec", ecsTrust, true, "p", allowDoc(`"ssm:GetParameters"`, `"*"`)), "FARGATE", ctr("c", ecrImg("app:1"), withLogs("/ecs/app", "p"), withSecret("X", "/app/x")))
			r := w.eval(t)
			check(t, r, "ER005", 0, "")
			check(t, r, "RS001", 0, "")
			n := 0
			for _, g := range r.Coverage.Gaps {
				if strings.Contains(g, c.gap) {
					n++
				}
			}
			if n != 1 || r.Coverage.Complete {
				t.Errorf("coverage: complete %v, gaps %q", r.Coverage.Complete, r.Coverage.Gaps)
			}
		})
	}
	t.Run("served by the instance role", func(t *testing.T) {
		w := newTW().resolved()
		w.td("app", "", "EC2", ctr("c", ecrImg("app:1")))
		r := w.eval(t)
		if len(r.Findings) != 0 || !strings.Contains(strings.Join(r.Coverage.Gaps, "\n"), "app:1 in account 111122223333, us-east-1: whether ECR repository app") {
			t.Errorf("findings %d, gaps %q", len(r.Findings), r.Coverage.Gaps)
		}
	})
}

// Issue 11 §3: the resource policies on the way decide, with the deciding
// statement named.
func TestResourcePolicyLayers(t *testing.T) {
	type want struct {
		rule  string
		sev   Severity
		layer policy.Layer
		// policy is the name of the policy the deciding statement belongs
		// to, when one is cited.
		policy   string
		contains []string
	}
	cases := []struct {
		name  string
		setup func(w *tw)
		want  []want // every finding above info
	}{
		{"cross-account repository policy allows the role", func(w *tw) {
			repo(w.resolved().other(), otherAcct, "base/python", repoPolicyFor(execRole), map[string]string{"3.12": inventory.Exists})
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", otherImg("base/python:3.12")))
		}, nil},
		{"cross-account repository policy allows the role's account", func(w *tw) {
			repo(w.resolved().other(), otherAcct, "base/python", repoPolicyFor("arn:aws:iam::111122223333:root"), map[string]string{"3.12": inventory.Exists})
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", otherImg("base/python:3.12")))
		}, nil},
		{"cross-account repository policy does not allow the role", func(w *tw) {
			repo(w.resolved().other(), otherAcct, "base/python", repoPolicyFor("arn:aws:iam::111122223333:role/someone-else"), map[string]string{"3.12": inventory.Exists})
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", otherImg("base/python:3.12")))
		}, []want{{"ER004", Critical, policy.LayerResourcePolicy, "", []string{"the repository policy of " + otherRepoARN + " (account 444455556666) does not allow the role"}}}},
		{"cross-account repository without a policy", func(w *tw) {
			repo(w.resolved().other(), otherAcct, "base/python", "", map[string]string{"3.12": inventory.Exists})
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", otherImg("base/python:3.12")))
		}, []want{{"ER004", Critical, policy.LayerResourcePolicy, "", []string{"the resource is in account 444455556666, repository " + otherRepoARN + " has no repository policy"}}}},
		{"cross-account repository policy not collected", func(w *tw) {
			r := repo(w.resolved().other(), otherAcct, "base/python", "", map[string]string{"3.12": inventory.Exists})
			r.PolicyStatus = inventory.PolicyNotCollected
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", otherImg("base/python:3.12")))
		}, []want{{"ER005", Medium, policy.LayerResourcePolicy, "", []string{"the repository policy of " + otherRepoARN + " was not collected"}}}},
		{"same-account repository policy denies explicitly", func(w *tw) {
			repo(w.resolved().reg, tAcct, "app", `{"Version":"2012-10-17","Statement":[{"Sid":"OnlyCi","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/ci"},"Action":"ecr:*"}]}`,
				map[string]string{"1": inventory.Exists})
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", ecrImg("app:1")))
		}, []want{{"ER004", Critical, policy.LayerResourcePolicy, "repository-policy:app", []string{`statement "OnlyCi" of the repository policy of ` + ownRepoARN + " denies"}}}},
		{"same-account repository policy not collected may deny", func(w *tw) {
			r := repo(w.resolved().reg, tAcct, "app", "", map[string]string{"1": inventory.Exists})
			r.PolicyStatus = inventory.PolicyNotCollected
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", ecrImg("app:1")))
		}, []want{{"ER005", Medium, policy.LayerResourcePolicy, "", []string{"the repository policy of " + ownRepoARN + " was not collected, and it may deny the request"}}}},
		{"pull-through cache first pull, the registry policy grants it", func(w *tw) {
			cacheRules(w.resolved().reg, registryPolicyFor(execRole))
			missingRepo(w.reg, "docker-hub/library/nginx")
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", ecrImg("docker-hub/library/nginx:1.27")))
		}, nil},
		{"pull-through cache first pull, the identity policy grants it", func(w *tw) {
			cacheRules(w.resolved().reg, "")
			missingRepo(w.reg, "docker-hub/library/nginx")
			w.td("app", w.role("exec", hardenedTrust, true, "ptc", ptcIdentity), "FARGATE", ctr("c", ecrImg("docker-hub/library/nginx:1.27")))
		}, nil},
		{"pull-through cache first pull without the permission", func(w *tw) {
			cacheRules(w.resolved().reg, "")
			missingRepo(w.reg, "docker-hub/library/nginx")
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", ecrImg("docker-hub/library/nginx:1.27")))
		}, []want{{"ER004", Critical, policy.LayerIdentity, "", []string{"ecr:BatchImportUpstreamImage and ecr:CreateRepository on " + ptcRepoARN}}}},
		{"pull-through cache, registry policy names another role", func(w *tw) {
			cacheRules(w.resolved().reg, registryPolicyFor("arn:aws:iam::111122223333:role/other"))
			repo(w.reg, tAcct, "docker-hub/library/nginx", "", map[string]string{"1.27": inventory.DoesNotExist})
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", ecrImg("docker-hub/library/nginx:1.27")))
		}, []want{{"ER004", Critical, policy.LayerIdentity, "", []string{"ecr:BatchImportUpstreamImage on " + ptcRepoARN}}}},
		{"pull-through cache, registry policy not collected", func(w *tw) {
			cacheRules(w.resolved().reg, "")
			w.reg.ECRRegistry.PolicyStatus = inventory.PolicyNotCollected
			missingRepo(w.reg, "docker-hub/library/nginx")
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", ecrImg("docker-hub/library/nginx:1.27")))
		}, []want{{"ER005", Medium, policy.LayerIdentity, "", []string{"the ECR private registry permissions policy of account 111122223333 (us-east-1), which may grant or deny it, was not collected"}}}},
		{"pull-through cache, cached image: the import is high", func(w *tw) {
			cacheRules(w.resolved().reg, "")
			repo(w.reg, tAcct, "docker-hub/library/nginx", "", map[string]string{"1.27": inventory.Exists})
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", ecrImg("docker-hub/library/nginx:1.27")))
		}, []want{{"ER004", High, policy.LayerIdentity, "", []string{"ecr:BatchImportUpstreamImage on " + ptcRepoARN}}}},
		{"S3 bucket policy denies the environment file", func(w *tw) {
			w.resolved().bucket("cfg", tAcct, `{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutsideVpce","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::cfg/*",`+
				`"Condition":{"StringNotEqualsIfExists":{"aws:PrincipalAccount":"999999999999"}}}]}`, map[string]string{"app.env": inventory.Exists})
			w.td("app", w.role("exec", hardenedTrust, true, "p", allowDoc(`["s3:GetObject","s3:GetBucketLocation"]`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withEnvFile("arn:aws:s3:::cfg/app.env")))
		}, []want{{"ER004", Critical, policy.LayerResourcePolicy, "bucket-policy:cfg", []string{`statement "DenyOutsideVpce" of the bucket policy of arn:aws:s3:::cfg denies it explicitly`}}}},
		{"S3 bucket policy requiring TLS lets the agent in", func(w *tw) {
			w.resolved().bucket("cfg", tAcct, `{"Version":"2012-10-17","Statement":[{"Sid":"TLSOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::cfg","arn:aws:s3:::cfg/*"],`+
				`"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, map[string]string{"app.env": inventory.Exists})
			w.td("app", w.role("exec", hardenedTrust, true, "p", allowDoc(`["s3:GetObject","s3:GetBucketLocation"]`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withEnvFile("arn:aws:s3:::cfg/app.env")))
		}, nil},
		{"cross-account bucket whose policy allows the role", func(w *tw) {
			w.resolved().other()
			w.bucket("cfg", otherAcct, `{"Version":"2012-10-17","Statement":[{"Sid":"Exec","Effect":"Allow","Principal":{"AWS":"`+execRole+`"},"Action":["s3:GetObject","s3:GetBucketLocation"],"Resource":["arn:aws:s3:::cfg","arn:aws:s3:::cfg/*"]}]}`,
				map[string]string{"app.env": inventory.Exists})
			w.td("app", w.role("exec", hardenedTrust, true, "p", allowDoc(`["s3:GetObject","s3:GetBucketLocation"]`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withEnvFile("arn:aws:s3:::cfg/app.env")))
		}, nil},
		{"cross-account bucket without a policy", func(w *tw) {
			w.resolved().other()
			w.bucket("cfg", otherAcct, "", map[string]string{"app.env": inventory.Exists})
			w.td("app", w.role("exec", hardenedTrust, true, "p", allowDoc(`["s3:GetObject","s3:GetBucketLocation"]`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withEnvFile("arn:aws:s3:::cfg/app.env")))
		}, []want{{"ER004", Critical, policy.LayerResourcePolicy, "", []string{"bucket arn:aws:s3:::cfg has no bucket policy"}}}},
		{"same-account bucket policy not collected may deny", func(w *tw) {
			b := w.resolved().bucket("cfg", tAcct, "", map[string]string{"app.env": inventory.Exists})
			b.PolicyStatus = inventory.PolicyNotCollected
			w.td("app", w.role("exec", hardenedTrust, true, "p", allowDoc(`["s3:GetObject","s3:GetBucketLocation"]`, `"*"`)), "FARGATE",
				ctr("c", "nginx", withEnvFile("arn:aws:s3:::cfg/app.env")))
		}, []want{{"ER005", Medium, policy.LayerResourcePolicy, "", []string{"the bucket policy of arn:aws:s3:::cfg was not collected"}}}},
		{"a missing cross-account repository is RS001, not an ER004 about its policy", func(w *tw) {
			o := w.resolved().other()
			o.ECRRegistry = &inventory.ECRRegistry{PullThroughCacheRulesStatus: inventory.PolicyCollected, PolicyStatus: inventory.PolicyNotCollected}
			missingRepo(o, "base/python")
			w.td("app", w.role("exec", hardenedTrust, true), "FARGATE", ctr("c", otherImg("base/python:3.12")))
		}, []want{{"RS001", Critical, "", "", []string{"ECR repository base/python in account 444455556666"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newTW()
			c.setup(w)
			r := w.eval(t)
			// What starting the task hangs on (ER006 judges the grants).
			var got []Finding
			for _, f := range r.Findings {
				if f.RuleID == "RS001" || f.RuleID == "ER004" || f.RuleID == "ER005" {
					got = append(got, f)
				}
			}
			if len(got) != len(c.want) {
				var msgs []string
				for _, f := range got {
					msgs = append(msgs, f.RuleID+" "+string(f.Severity)+": "+f.Message)
				}
				t.Fatalf("%d findings, want %d:\n%s\ngaps: %v", len(got), len(c.want), strings.Join(msgs, "\n"), r.Coverage.Gaps)
			}
			for i, wnt := range c.want {
				f := got[i]
				if f.RuleID != wnt.rule || f.Severity != wnt.sev {
					t.Errorf("finding %d: %s %s, want %s %s: %s", i, f.RuleID, f.Severity, wnt.rule, wnt.sev, f.Message)
				}
				if d := f.Evidence.Decision; wnt.layer != "" && (d == nil || d.DecidingLayer != wnt.layer) {
					t.Errorf("deciding layer %+v, want %s", d, wnt.layer)
				}
				if wnt.policy != "" {
					d := f.Evidence.Decision
					if d == nil || len(d.Statements) == 0 || d.Statements[0].Policy != wnt.policy {
						t.Errorf("deciding statement %+v, want one of policy %s", d, wnt.policy)
					}
				}
				for _, s := range wnt.contains {
					if !strings.Contains(f.Message, s) {
						t.Errorf("message %q lacks %q", f.Message, s)
					}
				}
				provedFix(t, w.inv, r, f)
			}
			if len(c.want) == 0 && (!r.Coverage.Complete || len(r.Coverage.Gaps) > 0) {
				t.Errorf("gaps: %v", r.Coverage.Gaps)
			}
		})
	}
}
