// Package demo builds the built-in demo organization: a small AWS
// Organization whose task definitions exercise every need form and fire
// every rule, next to correct ones that must yield no finding above info.
// `audit demo` serves it through the fake AWS endpoint and scans it live;
// testdata/demo/snapshot.json is the same world as a snapshot.
package demo

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// stmt is one policy statement for the builders below.
type stmt struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal any            `json:"Principal,omitempty"`
	Action    any            `json:"Action,omitempty"`
	NotAction any            `json:"NotAction,omitempty"`
	Resource  any            `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

func doc(stmts ...stmt) string {
	b, err := json.MarshalIndent(map[string]any{"Version": "2012-10-17", "Statement": stmts}, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}

func allow(sid string, actions []string, resources ...string) stmt {
	return stmt{Sid: sid, Effect: "Allow", Action: list(actions), Resource: list(resources)}
}

func deny(sid string, actions []string, resources ...string) stmt {
	return stmt{Sid: sid, Effect: "Deny", Action: list(actions), Resource: list(resources)}
}

func list(s []string) any {
	if len(s) == 1 {
		return s[0]
	}
	return s
}

func acts(s ...string) []string { return s }

// trust policies
func trustPlain() string {
	return doc(stmt{Effect: "Allow", Principal: map[string]any{"Service": "ecs-tasks.amazonaws.com"}, Action: "sts:AssumeRole"})
}

func trustHardened(account string) string {
	return doc(stmt{Sid: "EcsTasks", Effect: "Allow", Principal: map[string]any{"Service": "ecs-tasks.amazonaws.com"}, Action: "sts:AssumeRole",
		Condition: map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": account},
			"ArnLike":      map[string]any{"aws:SourceArn": "arn:aws:ecs:*:" + account + ":*"},
		}})
}

const execManaged = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"

var execManagedDoc = doc(allow("", acts("ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
	"ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents"), "*"))

// builder accumulates the world.
type builder struct {
	inv      *inventory.Inventory
	accounts map[string]*inventory.Account
	res      *resourceSpec
}

func (b *builder) account(id, name string, path []inventory.PathNode) *inventory.Account {
	a := &inventory.Account{ID: id, Name: name, Email: strings.ReplaceAll(name, " ", "-") + "@example.com", Status: "ACTIVE", Path: path,
		IAM: &inventory.IAM{Roles: []*inventory.Role{}, ManagedPolicies: []*inventory.ManagedPolicy{}}}
	b.inv.Accounts = append(b.inv.Accounts, a)
	b.accounts[id] = a
	return a
}

func (b *builder) region(a *inventory.Account, name, status string) *inventory.Region {
	for _, r := range a.Regions {
		if r.Name == name {
			return r
		}
	}
	r := &inventory.Region{Name: name, Status: status}
	a.Regions = append(a.Regions, r)
	return r
}

// role adds an IAM role. inline maps policy name to document.
func role(a *inventory.Account, name, trust string, inline map[string]string, attached []string, boundary string) string {
	arn := fmt.Sprintf("arn:aws:iam::%s:role/%s", a.ID, name)
	for _, r := range a.IAM.Roles {
		if r.ARN == arn {
			// Two cases that build the same role would silently share it.
			panic("demo: role " + arn + " is built twice")
		}
	}
	r := &inventory.Role{ARN: arn, Name: name, Path: "/", RoleID: "AROA" + strings.ToUpper(fmt.Sprintf("%016x", hash(arn)))[:16], TrustPolicy: trust,
		AttachedPolicies: attached, PermissionsBoundary: boundary}
	for _, n := range sortedKeys(inline) {
		r.InlinePolicies = append(r.InlinePolicies, inventory.InlinePolicy{Name: n, Document: inline[n]})
	}
	a.IAM.Roles = append(a.IAM.Roles, r)
	for _, p := range attached {
		ensureManaged(a, p)
	}
	if boundary != "" {
		ensureManaged(a, boundary)
	}
	return arn
}

// customer managed policies registered before use
var customerPolicies = map[string]string{}

func ensureManaged(a *inventory.Account, arn string) {
	for _, p := range a.IAM.ManagedPolicies {
		if p.ARN == arn {
			return
		}
	}
	name := arn[strings.LastIndex(arn, "/")+1:]
	mp := &inventory.ManagedPolicy{ARN: arn, Name: name, DefaultVersionID: "v1"}
	switch {
	case arn == execManaged:
		mp.AWSManaged, mp.Path, mp.Document = true, "/service-role/", execManagedDoc
	case customerPolicies[arn] != "":
		mp.Path, mp.Document = "/", customerPolicies[arn]
	default:
		panic("demo: unknown managed policy " + arn)
	}
	a.IAM.ManagedPolicies = append(a.IAM.ManagedPolicies, mp)
}

func hash(s string) uint64 {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// container options
type copt func(*inventory.ContainerDefinition)

func ctr(name, image string, opts ...copt) inventory.ContainerDefinition {
	c := inventory.ContainerDefinition{Name: name, Image: image}
	for _, o := range opts {
		o(&c)
	}
	return c
}

func logs(group, region, prefix string, create bool) copt {
	if create {
		return logsCreate(group, region, prefix, "true")
	}
	return logsCreate(group, region, prefix, "")
}

// logsCreate is awslogs with awslogs-create-group written as given ("" for
// none).
func logsCreate(group, region, prefix, create string) copt {
	return func(c *inventory.ContainerDefinition) {
		o := map[string]string{"awslogs-group": group, "awslogs-region": region}
		if prefix != "" {
			o["awslogs-stream-prefix"] = prefix
		}
		if create != "" {
			o["awslogs-create-group"] = create
		}
		c.LogConfiguration = &inventory.LogConfiguration{LogDriver: "awslogs", Options: o}
	}
}

func secret(name, from string) copt {
	return func(c *inventory.ContainerDefinition) {
		c.Secrets = append(c.Secrets, inventory.SecretRef{Name: name, ValueFrom: from})
	}
}

func env(name, class string, length int) copt {
	return func(c *inventory.ContainerDefinition) {
		c.Environment = append(c.Environment, inventory.EnvVar{Name: name, ValueClass: class, ValueLength: length})
	}
}

func envFile(arn string) copt {
	return func(c *inventory.ContainerDefinition) {
		c.EnvironmentFiles = append(c.EnvironmentFiles, inventory.EnvironmentFile{Value: arn, Type: "s3"})
	}
}

func repoCreds(p string) copt {
	return func(c *inventory.ContainerDefinition) {
		c.RepositoryCredentials = &inventory.RepositoryCredentials{CredentialsParameter: p}
	}
}

func firelens(typ string, opts map[string]string) copt {
	return func(c *inventory.ContainerDefinition) {
		c.FirelensConfiguration = &inventory.FirelensConfiguration{Type: typ, Options: opts}
	}
}

func logDriver(driver string, opts map[string]string, secretOpts ...inventory.SecretRef) copt {
	return func(c *inventory.ContainerDefinition) {
		c.LogConfiguration = &inventory.LogConfiguration{LogDriver: driver, Options: inventory.RedactOptions(opts), SecretOptions: secretOpts}
	}
}

// td adds a task definition. compat: "FARGATE", "EC2" or "EC2,FARGATE".
func (b *builder) td(a *inventory.Account, region, family string, rev int32, execRole, compat string, containers ...inventory.ContainerDefinition) *inventory.TaskDefinition {
	t := &inventory.TaskDefinition{
		ARN:    fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", region, a.ID, family, rev),
		Family: family, Revision: rev, Status: "ACTIVE", ExecutionRoleARN: execRole,
		ContainerDefinitions: containers,
	}
	if compat != "" {
		t.RequiresCompatibilities = strings.Split(compat, ",")
		t.Compatibilities = append([]string{"EC2"}, t.RequiresCompatibilities...)
		if strings.Contains(compat, "FARGATE") {
			t.NetworkMode = "awsvpc"
		}
	}
	if t.NetworkMode == "" {
		t.NetworkMode = "bridge"
	}
	r := b.region(a, region, inventory.RegionScanned)
	r.TaskDefinitions = append(r.TaskDefinitions, t)
	return t
}

func (b *builder) cluster(a *inventory.Account, region, name string) *inventory.Cluster {
	c := &inventory.Cluster{ARN: fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", region, a.ID, name), Name: name, Status: "ACTIVE"}
	r := b.region(a, region, inventory.RegionScanned)
	r.Clusters = append(r.Clusters, c)
	return c
}

func service(c *inventory.Cluster, name, launch, pv string, td *inventory.TaskDefinition) *inventory.Service {
	arn := strings.Replace(c.ARN, ":cluster/", ":service/", 1) + "/" + name
	s := &inventory.Service{ARN: arn, Name: name, Status: "ACTIVE", LaunchType: launch, PlatformVersion: pv,
		TaskDefinition: td.ARN, DesiredCount: 2, RunningCount: 2,
		Deployments: []inventory.Deployment{{ID: "ecs-svc/" + fmt.Sprintf("%019d", hash(arn)%1e18), Status: "PRIMARY", TaskDefinition: td.ARN, LaunchType: launch, PlatformVersion: pv}}}
	if launch == inventory.LaunchFargate && pv != "" {
		s.PlatformFamily = "Linux"
		s.Deployments[0].PlatformVersion = pv
	}
	c.Services = append(c.Services, s)
	return s
}

// fullCapabilities is what a current ECS-optimized Linux AMI advertises
// (the parts that matter here).
var fullCapabilities = []string{
	"com.amazonaws.ecs.capability.ecr-auth",
	"com.amazonaws.ecs.capability.logging-driver.awslogs",
	"com.amazonaws.ecs.capability.logging-driver.awsfirelens",
	"com.amazonaws.ecs.capability.task-iam-role",
	"com.amazonaws.ecs.capability.docker-remote-api.1.19",
	"ecs.capability.execution-role-awslogs",
	"ecs.capability.execution-role-ecr-pull",
	"ecs.capability.private-registry-authentication.secretsmanager",
	"ecs.capability.secrets.ssm.environment-variables",
	"ecs.capability.secrets.asm.environment-variables",
	"ecs.capability.secrets.ssm.bootstrap.log-driver",
	"ecs.capability.secrets.asm.bootstrap.log-driver",
	"ecs.capability.env-files.s3",
	"ecs.capability.firelens.fluentbit",
	"ecs.capability.firelens.options.config.s3",
	"ecs.capability.firelens.options.config.file",
}

func instance(c *inventory.Cluster, id, agent string, without ...string) *inventory.ContainerInstance {
	skip := map[string]bool{}
	for _, w := range without {
		skip[w] = true
	}
	ci := &inventory.ContainerInstance{
		ARN:           strings.Replace(c.ARN, ":cluster/", ":container-instance/", 1) + "/" + fmt.Sprintf("%032x", hash(c.ARN+id))[:32],
		EC2InstanceID: id, Status: "ACTIVE", AgentConnected: true, AgentVersion: agent, AgentHash: fmt.Sprintf("%08x", hash(agent))[:8],
		DockerVersion: "DockerVersion: 20.10.25",
	}
	for _, cap := range fullCapabilities {
		if !skip[cap] {
			ci.Attributes = append(ci.Attributes, inventory.Attribute{Name: cap})
		}
	}
	ci.Attributes = append(ci.Attributes, inventory.Attribute{Name: "ecs.os-type", Value: "linux"}, inventory.Attribute{Name: "ecs.cpu-architecture", Value: "x86_64"})
	c.ContainerInstances = append(c.ContainerInstances, ci)
	return ci
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
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
