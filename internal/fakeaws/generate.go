package fakeaws

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-audit/audit/inventory"
)

// WorldSpec sizes a generated world. Zero values get small defaults: one
// account, region us-east-1, one cluster when there are services.
type WorldSpec struct {
	Accounts            int
	Regions             []string
	TaskDefsPerRegion   int
	ServicesPerRegion   int
	InstancesPerCluster int
	ClustersPerRegion   int
	Seed                int64
}

// GenerateWorld builds a deterministic organization of spec.Accounts
// accounts: a root with Security, Workloads (Prod, NonProd) and Sandbox OUs,
// FullAWSAccess everywhere and a region-restricting SCP on Sandbox; per
// account an ECS task execution role (AWS managed policy, a customer managed
// policy and an inline policy; some accounts miss a grant), a task role and
// a role with a permissions boundary; per region clusters, Fargate and EC2
// services (some mid-deployment), container instances with a spread of agent
// versions and capabilities, and task definitions using ECR, awslogs,
// Secrets Manager and SSM secrets, environment files, FireLens, private
// registry credentials and FSx volumes, with the secrets, parameters and KMS
// keys they reference, and the ECR repositories and images (own, shared
// cross-account, pull-through cache), log groups and S3 objects they need,
// a share of them missing. Opt-in regions in spec.Regions are enabled in only
// one account out of three. The result passes inventory.Validate.
func GenerateWorld(spec WorldSpec) *inventory.Inventory {
	g := newGen(spec)
	w := g.world()
	g.resources(w)         // what the task definitions need to start (generate_resources.go)
	w.FillPolicyStatuses() // a complete snapshot (format version 2)
	return w
}

type gen struct {
	spec    WorldSpec
	r       rng
	orgID   string
	rootID  string
	mgmt    string
	ous     map[string]string // name -> ID
	restrID string
	base    time.Time
}

func newGen(spec WorldSpec) *gen {
	if spec.Accounts <= 0 {
		spec.Accounts = 1
	}
	if len(spec.Regions) == 0 {
		spec.Regions = []string{"us-east-1"}
	}
	spec.Regions = append([]string(nil), spec.Regions...)
	if spec.ServicesPerRegion > 0 && spec.ClustersPerRegion <= 0 {
		spec.ClustersPerRegion = 1
	}
	if spec.InstancesPerCluster < 0 {
		spec.InstancesPerCluster = 0
	}
	if spec.TaskDefsPerRegion < 0 {
		spec.TaskDefsPerRegion = 0
	}
	if spec.ServicesPerRegion > 0 && spec.TaskDefsPerRegion == 0 {
		spec.TaskDefsPerRegion = 1
	}
	g := &gen{spec: spec, r: rng{h: mix(uint64(spec.Seed), 0x9e37)}, ous: map[string]string{}}
	g.base = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	return g
}

func (g *gen) lowerID(n int) string {
	return g.r.pick("abcdefghijklmnopqrstuvwxyz0123456789", n)
}

func (g *gen) hex(n int) string { return g.r.pick("0123456789abcdef", n) }

// ---- policy documents ----

type stmt struct {
	Sid       string `json:"Sid,omitempty"`
	Effect    string `json:"Effect"`
	Principal any    `json:"Principal,omitempty"`
	Action    any    `json:"Action,omitempty"`
	NotAction any    `json:"NotAction,omitempty"`
	Resource  any    `json:"Resource,omitempty"`
	Condition any    `json:"Condition,omitempty"`
}

func policyDoc(st ...stmt) string {
	// The shapes are strings, slices and maps of strings: Marshal cannot fail.
	b, _ := json.Marshal(struct {
		Version   string
		Statement []stmt
	}{"2012-10-17", st})
	return string(b)
}

const execPolicyARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"

var execPolicyDoc = policyDoc(stmt{Effect: "Allow", Action: []string{
	"ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
	"ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents",
}, Resource: "*"})

var ecsTasksTrust = policyDoc(stmt{Effect: "Allow", Principal: map[string]string{"Service": "ecs-tasks.amazonaws.com"}, Action: "sts:AssumeRole"})

// ---- the world ----

func (g *gen) world() *inventory.Inventory {
	inv := &inventory.Inventory{
		Format: inventory.Format, SchemaVersion: inventory.SchemaVersion, ToolVersion: "fakeaws-generator",
		CollectedAt: g.base, Partition: "aws", Complete: true,
		Scope: inventory.Scope{Source: "world:generated", Org: true, Regions: g.spec.Regions},
	}
	g.orgID = "o-" + g.lowerID(10)
	g.rootID = "r-" + g.lowerID(4)
	offset := mix(uint64(g.spec.Seed), 77) % 100000000
	ids := make([]string, g.spec.Accounts)
	for i := range ids {
		ids[i] = fmt.Sprintf("%012d", 100000000000+offset+uint64(i)*7919)
	}
	g.mgmt = ids[0]
	inv.Scope.CallerAccount = g.mgmt
	for _, name := range []string{"Security", "Workloads", "Prod", "NonProd", "Sandbox"} {
		g.ous[name] = "ou-" + g.rootID[2:] + "-" + g.lowerID(8)
	}
	full := &inventory.OrgPolicy{
		ID: "p-FullAWSAccess", ARN: "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
		Name: "FullAWSAccess", Type: inventory.PolicyTypeSCP, AWSManaged: true,
		Document: policyDoc(stmt{Effect: "Allow", Action: "*", Resource: "*"}),
	}
	g.restrID = "p-" + g.lowerID(8)
	allowed := g.spec.Regions[:1]
	if len(g.spec.Regions) > 2 {
		allowed = g.spec.Regions[:2]
	}
	restr := &inventory.OrgPolicy{
		ID: g.restrID, Name: "DenyOutsideApprovedRegions", Type: inventory.PolicyTypeSCP,
		ARN: "arn:aws:organizations::" + g.mgmt + ":policy/" + g.orgID + "/service_control_policy/" + g.restrID,
		Document: policyDoc(stmt{
			Sid: "DenyOutsideApprovedRegions", Effect: "Deny",
			NotAction: []string{"iam:*", "organizations:*", "sts:*", "support:*", "cloudfront:*", "route53:*"},
			Resource:  "*",
			Condition: map[string]any{"StringNotEquals": map[string][]string{"aws:RequestedRegion": allowed}},
		}),
	}
	inv.Organization = &inventory.Organization{
		ID: g.orgID, ARN: "arn:aws:organizations::" + g.mgmt + ":organization/" + g.orgID,
		ManagementAccountID: g.mgmt, RootID: g.rootID,
		Policies: map[string]*inventory.OrgPolicy{full.ID: full, restr.ID: restr},
	}
	inv.Accounts = make([]*inventory.Account, 0, len(ids))
	for i, id := range ids {
		inv.Accounts = append(inv.Accounts, g.account(i, id))
	}
	return inv
}

func (g *gen) path(i int, id string) []inventory.PathNode {
	full := []string{"p-FullAWSAccess"}
	root := inventory.PathNode{ID: g.rootID, Name: "Root", Type: inventory.NodeRoot, SCPs: full}
	acct := inventory.PathNode{ID: id, Type: inventory.NodeAccount, SCPs: full}
	ou := func(name string, scps ...string) inventory.PathNode {
		return inventory.PathNode{ID: g.ous[name], Name: name, Type: inventory.NodeOU, SCPs: append([]string{"p-FullAWSAccess"}, scps...)}
	}
	if i == 0 {
		return []inventory.PathNode{root, acct}
	}
	switch i % 4 {
	case 1:
		return []inventory.PathNode{root, ou("Security"), acct}
	case 2:
		return []inventory.PathNode{root, ou("Workloads"), ou("Prod"), acct}
	case 3:
		return []inventory.PathNode{root, ou("Workloads"), ou("NonProd"), acct}
	}
	return []inventory.PathNode{root, ou("Sandbox", g.restrID), acct}
}

func (g *gen) account(i int, id string) *inventory.Account {
	names := []string{"management", "security", "prod", "nonprod", "sandbox"}
	name := names[0]
	if i > 0 {
		name = names[1+(i-1)%4] + "-" + strconv.Itoa(i)
	}
	a := &inventory.Account{
		ID: id, Name: name, Email: "aws+" + name + "@example.com", Status: "ACTIVE",
		Path: g.path(i, id), IAM: g.iam(i, id),
	}
	if i > 0 && i%97 == 0 {
		a.Status = "SUSPENDED"
	}
	for _, region := range g.spec.Regions {
		a.Regions = append(a.Regions, g.region(i, id, region))
	}
	return a
}

func roleARN(acct, name string) string { return "arn:aws:iam::" + acct + ":role/" + name }

func (g *gen) iam(i int, acct string) *inventory.IAM {
	secretsPolicyARN := "arn:aws:iam::" + acct + ":policy/ecs-exec-secrets"
	boundaryARN := "arn:aws:iam::" + acct + ":policy/ecs-boundary"
	secretsActions := []stmt{
		{Sid: "Secrets", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:*:" + acct + ":secret:app/*"},
		{Sid: "Parameters", Effect: "Allow", Action: "ssm:GetParameters", Resource: "arn:aws:ssm:*:" + acct + ":parameter/app/*"},
		{Sid: "Decrypt", Effect: "Allow", Action: "kms:Decrypt", Resource: "arn:aws:kms:*:" + acct + ":key/*"},
	}
	if i%5 == 3 { // a gap: no SSM grant
		secretsActions = append(secretsActions[:1], secretsActions[2:]...)
	}
	envFiles := stmt{Sid: "EnvFiles", Effect: "Allow", Action: []string{"s3:GetObject", "s3:GetBucketLocation"},
		Resource: []string{"arn:aws:s3:::config-" + acct, "arn:aws:s3:::config-" + acct + "/*"}}
	inline := []stmt{{Sid: "CreateGroups", Effect: "Allow", Action: "logs:CreateLogGroup", Resource: "*"}, envFiles}
	if i%7 == 4 { // a gap: no log group creation, no env files
		inline = inline[:0]
		inline = append(inline, stmt{Sid: "Nothing", Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*"})
	}
	return &inventory.IAM{
		Roles: []*inventory.Role{
			{
				ARN: roleARN(acct, "ecsTaskExecutionRole"), Name: "ecsTaskExecutionRole", Path: "/",
				RoleID: "AROA" + strings.ToUpper(g.lowerID(17)), TrustPolicy: ecsTasksTrust,
				InlinePolicies:   []inventory.InlinePolicy{{Name: "exec-extras", Document: policyDoc(inline...)}},
				AttachedPolicies: []string{execPolicyARN, secretsPolicyARN},
				Tags:             map[string]string{"team": "platform", "managed-by": "terraform"},
			},
			{
				ARN: roleARN(acct, "app-task-role"), Name: "app-task-role", Path: "/",
				RoleID: "AROA" + strings.ToUpper(g.lowerID(17)), TrustPolicy: ecsTasksTrust,
				InlinePolicies: []inventory.InlinePolicy{{Name: "read-config", Document: policyDoc(
					stmt{Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::config-" + acct + "/*"})}},
			},
			{
				ARN: roleARN(acct, "ecs-exec-bounded"), Name: "ecs-exec-bounded", Path: "/",
				RoleID: "AROA" + strings.ToUpper(g.lowerID(17)), TrustPolicy: ecsTasksTrust,
				AttachedPolicies:    []string{execPolicyARN, secretsPolicyARN},
				PermissionsBoundary: boundaryARN,
			},
		},
		ManagedPolicies: []*inventory.ManagedPolicy{
			{ARN: execPolicyARN, Name: "AmazonECSTaskExecutionRolePolicy", Path: "/service-role/", DefaultVersionID: "v1", AWSManaged: true, Document: execPolicyDoc},
			{ARN: secretsPolicyARN, Name: "ecs-exec-secrets", Path: "/", DefaultVersionID: "v3", Document: policyDoc(secretsActions...)},
			{ARN: boundaryARN, Name: "ecs-boundary", Path: "/", DefaultVersionID: "v1", Document: policyDoc(
				stmt{Effect: "Allow", Action: []string{"ecr:*", "logs:*"}, Resource: "*"})},
		},
	}
}

var agentVersions = []string{"1.15.2", "1.29.0", "1.51.0", "1.70.2", "1.89.3"}

// versionAtLeast compares dotted versions.
func versionAtLeast(v, min string) bool {
	a, b := strings.Split(v, "."), strings.Split(min, ".")
	for i := 0; i < 3; i++ {
		var x, y int
		if i < len(a) {
			x, _ = strconv.Atoi(a[i])
		}
		if i < len(b) {
			y, _ = strconv.Atoi(b[i])
		}
		if x != y {
			return x > y
		}
	}
	return true
}

func (g *gen) instanceAttributes(version string, n int, region string) []inventory.Attribute {
	attrs := []inventory.Attribute{
		{Name: "ecs.os-type", Value: "linux"},
		{Name: "ecs.cpu-architecture", Value: "x86_64"},
		{Name: "ecs.instance-type", Value: "m6i.large"},
		{Name: "ecs.availability-zone", Value: region + string(rune('a'+n%3))},
		{Name: "com.amazonaws.ecs.capability.logging-driver.awslogs"},
		{Name: "com.amazonaws.ecs.capability.docker-remote-api.1.19"},
		{Name: "com.amazonaws.ecs.capability.task-iam-role"},
	}
	add := func(min string, names ...string) {
		if versionAtLeast(version, min) {
			for _, nm := range names {
				attrs = append(attrs, inventory.Attribute{Name: nm})
			}
		}
	}
	add("1.16.0", "com.amazonaws.ecs.capability.ecr-auth", "ecs.capability.execution-role-ecr-pull")
	if n%4 != 3 {
		add("1.16.0", "ecs.capability.execution-role-awslogs")
	}
	add("1.19.0", "ecs.capability.private-registry-authentication.secretsmanager")
	add("1.22.0", "ecs.capability.secrets.ssm.environment-variables")
	add("1.23.0", "ecs.capability.secrets.asm.environment-variables")
	add("1.27.0", "ecs.capability.secrets.ssm.bootstrap.log-driver", "ecs.capability.secrets.asm.bootstrap.log-driver")
	add("1.31.0", "ecs.capability.firelens.fluentbit", "ecs.capability.firelens.options.config.s3", "com.amazonaws.ecs.capability.logging-driver.awsfirelens")
	add("1.39.0", "ecs.capability.env-files.s3")
	add("1.17.0", "ecs.capability.task-eni")
	return attrs
}

type family struct {
	name      string
	fargate   bool
	revisions int
}

func (g *gen) region(i int, acct, region string) *inventory.Region {
	r := &inventory.Region{Name: region, Status: inventory.RegionScanned}
	if optInRegions[region] && i%3 != 0 {
		r.Status = inventory.RegionNotEnabled
		return r
	}
	arnp := func(svc, res string) string { return "arn:aws:" + svc + ":" + region + ":" + acct + ":" + res }

	keyID := g.hex(8) + "-" + g.hex(4) + "-4" + g.hex(3) + "-8" + g.hex(3) + "-" + g.hex(12)
	key := &inventory.KMSKey{
		ARN: arnp("kms", "key/"+keyID), KeyID: keyID, Manager: "CUSTOMER", Aliases: []string{"alias/app-secrets"},
		Policy: policyDoc(
			stmt{Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: map[string]string{"AWS": "arn:aws:iam::" + acct + ":root"}, Action: "kms:*", Resource: "*"},
		),
	}
	r.KMSKeys = []*inventory.KMSKey{key}
	registry := &inventory.Secret{ARN: arnp("secretsmanager", "secret:registry/dockerhub-"+g.r.pick(alnum, 6)), Name: "registry/dockerhub", KMSKeyID: key.ARN}
	r.Secrets = append(r.Secrets, registry)

	// Task definitions: families of up to three revisions.
	nTD := g.spec.TaskDefsPerRegion
	var fams []family
	for left, j := nTD, 0; left > 0; j++ {
		revs := 3
		if j%4 == 1 {
			revs = 1
		}
		revs = min(revs, left)
		fams = append(fams, family{name: fmt.Sprintf("svc-%02d", j), fargate: j%2 == 0, revisions: revs})
		left -= revs
	}
	latest := make([]string, len(fams))
	previous := make([]string, len(fams))
	for j, f := range fams {
		db := &inventory.Secret{ARN: arnp("secretsmanager", "secret:app/"+f.name+"/db-"+g.r.pick(alnum, 6)), Name: "app/" + f.name + "/db", KMSKeyID: key.ARN}
		if j%3 == 2 {
			db.KMSKeyID = "" // the AWS managed key
		}
		if j%8 == 5 {
			db.ResourcePolicy = policyDoc(stmt{Effect: "Deny", Principal: "*", Action: "secretsmanager:GetSecretValue", Resource: "*",
				Condition: map[string]any{"StringNotEquals": map[string]string{"aws:PrincipalAccount": acct}}})
		}
		r.Secrets = append(r.Secrets, db)
		param := &inventory.Parameter{Name: "/app/" + f.name + "/api-key", ARN: arnp("ssm", "parameter/app/"+f.name+"/api-key"), Type: "SecureString", KeyID: "alias/aws/ssm"}
		if j%4 == 3 {
			param.KeyID = key.ARN
		}
		r.Parameters = append(r.Parameters, param, &inventory.Parameter{Name: "/app/" + f.name + "/log-level", ARN: arnp("ssm", "parameter/app/"+f.name+"/log-level"), Type: "String"})
		for rev := 1; rev <= f.revisions; rev++ {
			td := g.taskDefinition(i, j, f, rev, acct, region, db, param, registry)
			r.TaskDefinitions = append(r.TaskDefinitions, td)
			if rev == f.revisions {
				latest[j] = td.ARN
			} else if rev == f.revisions-1 {
				previous[j] = td.ARN
			}
		}
	}

	for k := 0; k < g.spec.ClustersPerRegion; k++ {
		name := fmt.Sprintf("cluster-%d", k+1)
		c := &inventory.Cluster{ARN: arnp("ecs", "cluster/"+name), Name: name, Status: "ACTIVE"}
		for n := 0; n < g.spec.InstancesPerCluster; n++ {
			v := agentVersions[(n+k+i)%len(agentVersions)]
			c.ContainerInstances = append(c.ContainerInstances, &inventory.ContainerInstance{
				ARN:            arnp("ecs", "container-instance/"+name+"/"+g.hex(32)),
				EC2InstanceID:  "i-" + g.hex(17),
				Status:         "ACTIVE",
				AgentConnected: (n+3*k+i)%9 != 8,
				AgentVersion:   v,
				AgentHash:      g.hex(8),
				DockerVersion:  "DockerVersion: 20.10.25",
				Attributes:     g.instanceAttributes(v, n, region),
			})
		}
		r.Clusters = append(r.Clusters, c)
	}
	for s := 0; s < g.spec.ServicesPerRegion && len(fams) > 0; s++ {
		j := s % len(fams)
		f := fams[j]
		c := r.Clusters[s%len(r.Clusters)]
		name := fmt.Sprintf("%s-svc-%d", f.name, s+1)
		svc := &inventory.Service{
			ARN: arnp("ecs", "service/"+c.Name+"/"+name), Name: name, Status: "ACTIVE",
			TaskDefinition: latest[j], DesiredCount: 2, RunningCount: 2,
		}
		switch {
		case f.fargate && s%5 == 4:
			svc.CapacityProviders = []string{"FARGATE_SPOT", "FARGATE"}
			svc.PlatformVersion = "LATEST"
			svc.PlatformFamily = "Linux"
		case f.fargate:
			svc.LaunchType = inventory.LaunchFargate
			svc.PlatformVersion = []string{"LATEST", "1.4.0", "1.3.0"}[s%3]
			svc.PlatformFamily = "Linux"
		default:
			svc.LaunchType = inventory.LaunchEC2
		}
		dep := inventory.Deployment{ID: "ecs-svc/" + g.r.pick("0123456789", 19), Status: "PRIMARY", TaskDefinition: latest[j],
			LaunchType: svc.LaunchType, CapacityProviders: svc.CapacityProviders, PlatformVersion: svc.PlatformVersion}
		svc.Deployments = []inventory.Deployment{dep}
		if s%6 == 5 && previous[j] != "" {
			svc.RunningCount = 1
			svc.Deployments = append(svc.Deployments, inventory.Deployment{ID: "ecs-svc/" + g.r.pick("0123456789", 19), Status: "ACTIVE",
				TaskDefinition: previous[j], LaunchType: svc.LaunchType, CapacityProviders: svc.CapacityProviders, PlatformVersion: svc.PlatformVersion})
		}
		c.Services = append(c.Services, svc)
	}
	g.launchPaths(i, acct, region, r, fams, latest, previous)
	return r
}

// envPlan rotates the value classes over families so that every class appears.
var envPlan = []struct {
	name, class string
	length      int
}{
	{"AWS_ACCESS_KEY_ID", inventory.ValueAWSAccessKey, 20},
	{"AWS_SECRET_ACCESS_KEY", inventory.ValueAWSSecretKey, 40},
	{"TLS_KEY", inventory.ValuePrivateKey, 120},
	{"GITHUB_TOKEN", inventory.ValueGitHubToken, 40},
	{"SLACK_WEBHOOK_TOKEN", inventory.ValueSlackToken, 56},
	{"STRIPE_KEY", inventory.ValueStripeKey, 32},
	{"MAPS_KEY", inventory.ValueGoogleAPIKey, 39},
	{"SESSION_JWT", inventory.ValueJWT, 80},
	{"DATABASE_URL", inventory.ValueURLCredentials, 48},
	{"SIGNING_SEED", inventory.ValueHighEntropy, 32},
}

func (g *gen) taskDefinition(i, j int, f family, rev int, acct, region string, db *inventory.Secret, param *inventory.Parameter, registry *inventory.Secret) *inventory.TaskDefinition {
	arn := "arn:aws:ecs:" + region + ":" + acct + ":task-definition/" + f.name + ":" + strconv.Itoa(rev)
	td := &inventory.TaskDefinition{
		ARN: arn, Family: f.name, Revision: int32(rev), Status: "ACTIVE",
		ExecutionRoleARN: roleARN(acct, "ecsTaskExecutionRole"),
		TaskRoleARN:      roleARN(acct, "app-task-role"),
	}
	if rev < f.revisions-1 {
		td.Status = "INACTIVE"
	}
	switch {
	case j%8 == 7:
		td.ExecutionRoleARN = roleARN(acct, "ecs-exec-bounded")
	case j%19 == 9 && !f.fargate:
		td.ExecutionRoleARN = ""
	}
	hasExec := td.ExecutionRoleARN != ""
	windows := !f.fargate && j%23 == 11
	if f.fargate {
		td.NetworkMode = "awsvpc"
		td.RequiresCompatibilities = []string{inventory.LaunchFargate}
		td.Compatibilities = []string{inventory.LaunchEC2, inventory.LaunchFargate}
		arch := "X86_64"
		if j%6 == 4 {
			arch = "ARM64"
		}
		td.RuntimePlatform = &inventory.RuntimePlatform{OperatingSystemFamily: "LINUX", CPUArchitecture: arch}
	} else {
		td.NetworkMode = "bridge"
		td.RequiresCompatibilities = []string{inventory.LaunchEC2}
		td.Compatibilities = []string{inventory.LaunchEC2}
		if windows {
			td.NetworkMode = "default"
			td.RuntimePlatform = &inventory.RuntimePlatform{OperatingSystemFamily: "WINDOWS_SERVER_2019_FULL", CPUArchitecture: "X86_64"}
		}
	}
	attrs := map[string]bool{}
	need := func(names ...string) {
		for _, n := range names {
			attrs[n] = true
		}
	}

	app := inventory.ContainerDefinition{Name: "app"}
	switch {
	case j%7 == 3:
		app.Image = "public.ecr.aws/nginx/nginx:1.27"
	case j%11 == 5 && hasExec:
		app.Image = "registry.example.com/team/" + f.name + ":" + strconv.Itoa(rev)
		app.RepositoryCredentials = &inventory.RepositoryCredentials{CredentialsParameter: registry.ARN}
		need("com.amazonaws.ecs.capability.docker-remote-api.1.19", "ecs.capability.private-registry-authentication.secretsmanager")
	default:
		app.Image = acct + ".dkr.ecr." + region + ".amazonaws.com/" + f.name + ":1." + strconv.Itoa(rev)
		switch {
		case j%9 == 4: // through a pull-through cache rule
			app.Image = acct + ".dkr.ecr." + region + ".amazonaws.com/docker-hub/library/redis:7." + strconv.Itoa(rev)
		case j%5 == 4 && acct != g.mgmt: // from the shared registry of the management account
			app.Image = g.mgmt + ".dkr.ecr." + region + ".amazonaws.com/shared/base:2025." + strconv.Itoa(rev)
		}
		need("com.amazonaws.ecs.capability.ecr-auth")
		if hasExec {
			need("ecs.capability.execution-role-ecr-pull")
		}
	}
	logOpts := map[string]string{"awslogs-group": "/ecs/" + f.name, "awslogs-region": region, "awslogs-stream-prefix": "ecs"}
	if j%4 == 1 {
		logOpts["awslogs-create-group"] = "true"
	}
	app.LogConfiguration = &inventory.LogConfiguration{LogDriver: "awslogs", Options: logOpts}
	need("com.amazonaws.ecs.capability.logging-driver.awslogs")
	if hasExec {
		need("ecs.capability.execution-role-awslogs")
	}
	app.Environment = []inventory.EnvVar{{Name: "APP_ENV", ValueLength: 10}, {Name: "LOG_FORMAT", ValueLength: 4}}
	if j%3 == 1 {
		e := envPlan[(j/3+i)%len(envPlan)]
		app.Environment = append(app.Environment, inventory.EnvVar{Name: e.name, ValueClass: e.class, ValueLength: e.length})
	}
	if hasExec {
		secretRef := db.ARN
		if j%6 == 2 {
			secretRef = db.ARN[:len(db.ARN)-7] // partial ARN, without "-XXXXXX"
		}
		app.Secrets = []inventory.SecretRef{{Name: "DB_PASSWORD", ValueFrom: secretRef + ":password::"}, {Name: "API_KEY", ValueFrom: param.Name}}
		if j%6 == 2 {
			app.Secrets[0].ValueFrom = secretRef
		}
		need("ecs.capability.secrets.asm.environment-variables", "ecs.capability.secrets.ssm.environment-variables")
		if j%5 == 0 && !windows {
			app.EnvironmentFiles = []inventory.EnvironmentFile{{Value: "arn:aws:s3:::config-" + acct + "/" + f.name + "/app.env", Type: "s3"}}
			need("ecs.capability.env-files.s3")
		}
	}
	td.ContainerDefinitions = []inventory.ContainerDefinition{app}
	if (j%10 == 6 || j%10 == 7) && hasExec {
		essential := true
		router := inventory.ContainerDefinition{
			Name: "log_router", Image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", Essential: &essential,
			FirelensConfiguration: &inventory.FirelensConfiguration{Type: "fluentbit"},
			LogConfiguration:      &inventory.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "/ecs/firelens", "awslogs-region": region, "awslogs-stream-prefix": "router"}},
		}
		if !f.fargate {
			router.FirelensConfiguration.Options = map[string]string{"config-file-type": "s3", "config-file-value": "arn:aws:s3:::config-" + acct + "/fluent-bit/extra.conf"}
			need("ecs.capability.firelens.options.config.s3")
		}
		need("ecs.capability.firelens.fluentbit", "com.amazonaws.ecs.capability.logging-driver.awsfirelens")
		notEssential := false
		td.ContainerDefinitions[0].Essential = &notEssential
		td.ContainerDefinitions[0].LogConfiguration = &inventory.LogConfiguration{LogDriver: "awsfirelens", Options: map[string]string{"Name": "cloudwatch", "region": region, "log_group_name": "/ecs/" + f.name}}
		td.ContainerDefinitions = append(td.ContainerDefinitions, router)
	}
	if windows && hasExec {
		td.Volumes = []inventory.Volume{{Name: "shared", FSxWindowsFileServerVolumeConfiguration: &inventory.FSxWindowsFileServerVolumeConf{
			FileSystemID: "fs-" + g.hex(17), RootDirectory: `share`,
			AuthorizationConfig: &inventory.FSxAuthorizationConfig{CredentialsParameter: db.ARN, Domain: "corp.example.com"},
		}}}
		need("ecs.capability.fsxWindowsFileServer")
	} else if j%9 == 2 {
		td.Volumes = []inventory.Volume{{Name: "scratch"}}
	}
	if f.fargate {
		need("ecs.capability.task-eni")
	}
	for _, n := range sortedKeys(attrs) {
		td.RequiresAttributes = append(td.RequiresAttributes, inventory.Attribute{Name: n})
	}
	return td
}
