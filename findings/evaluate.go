package findings

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// Options tune Evaluate.
type Options struct {
	ToolVersion string
	// Now is the evaluation time (aws:CurrentTime); zero means the
	// inventory's collection time.
	Now time.Time
}

// ToolName and ToolURI identify the producer in every report.
const (
	ToolName = "audit"
	ToolURI  = "https://github.com/ecs-audit/audit"
)

// evaluation is the state of one Evaluate call; rules read it and emit
// findings into it.
type evaluation struct {
	inv  *inventory.Inventory
	opts Options
	now  time.Time
	res  *resources
	// accounts are the accounts by ID: every account of the inventory, or,
	// when one account is evaluated (byaccount.go), what the Index knows
	// of the others (ID, name, path); self is then that account, whole.
	// Read them through account.
	accounts map[string]*inventory.Account
	self     *inventory.Account
	roles    map[string]*roleInfo // account|lower(name)
	// managed are each account's managed policies by ARN, and
	// managedParsed each managed policy document parsed once (an AWS
	// managed policy is attached to roles in every account).
	managed       map[string]map[string]*inventory.ManagedPolicy
	managedParsed map[managedKey]parsedPolicy
	scps          map[string]orgLevels
	rcps          map[string]orgLevels
	orgDocs       map[string]*policy.Policy
	// orgSources are the SCPs and RCPs by the name they are evaluated
	// under.
	orgSources map[string]policySource
	rpCache    map[string]*policy.NamedPolicy // parsed resource policies
	tds        []*tdInfo
	tdByARN    map[string]*tdInfo
	clusters   []*clusterInfo
	findings   []Finding
	gaps       []string
	// overrides are the task definitions evaluated again with the
	// execution role a launch passes in its overrides (launch.go).
	overrides []*tdInfo
	// net is the network path of the launches (network.go).
	net *netState
	// reqCtx are the request contexts built so far (requestContext).
	reqCtx map[reqCtxKey]*policy.Context
}

// clusterInfo is a cluster with the task definitions placed on its
// container instances (EC2/External services).
type clusterInfo struct {
	account *inventory.Account
	region  string
	cluster *inventory.Cluster
	placed  []*tdInfo
}

// serviceRef ties a service to its cluster.
type serviceRef struct {
	cluster *inventory.Cluster
	service *inventory.Service
	// launch of this use (service or deployment).
	host     hosting
	pv       string
	deployID string
}

// tdInfo is one task definition being evaluated.
type tdInfo struct {
	account  *inventory.Account
	region   string
	td       *inventory.TaskDefinition
	host     hosting
	uses     []serviceRef
	needs    []derivedNeed
	decs     []*verdict // parallel to needs; nil when not evaluated
	exec     *roleInfo
	execARN  string
	execKind execKind
	findings int
	// launches are the launches other than services: tasks, EventBridge
	// rule targets, Scheduler schedules (launch.go).
	launches []*launchUse
	// override is set when the task definition is evaluated with the
	// execution role its launches pass in their overrides (launch.go).
	override *overrideInfo
	label    string // tdLabel's, once made
}

// execKind says what a task definition's executionRoleArn resolves to.
type execKind int

const (
	execNone         execKind = iota // executionRoleArn is empty
	execFound                        // a role of the task definition's account
	execMissing                      // no such role in the collected IAM
	execUnknown                      // the account's IAM was not collected: a coverage gap, not a finding
	execOtherAccount                 // a role of another account, which ECS cannot pass
)

func (t *tdInfo) windows() bool {
	if rp := t.td.RuntimePlatform; rp != nil && strings.HasPrefix(strings.ToUpper(rp.OperatingSystemFamily), "WINDOWS") {
		return true
	}
	for _, u := range t.uses {
		if strings.HasPrefix(strings.ToUpper(u.service.PlatformFamily), "WINDOWS") {
			return true
		}
	}
	return false
}

// Evaluate runs every rule of the catalog on the inventory. It does no I/O.
// EvaluateAccounts gives the same Result one account at a time.
func Evaluate(inv *inventory.Inventory, opts Options) *Result {
	accounts := make(map[string]*inventory.Account, len(inv.Accounts))
	for _, a := range inv.Accounts {
		accounts[a.ID] = a
	}
	return newEvaluation(inv, opts, indexResources(inv), accounts, nil).run()
}

func newEvaluation(inv *inventory.Inventory, opts Options, res *resources, accounts map[string]*inventory.Account, self *inventory.Account) *evaluation {
	e := &evaluation{
		inv: inv, opts: opts, res: res, accounts: accounts, self: self, roles: map[string]*roleInfo{},
		managed: map[string]map[string]*inventory.ManagedPolicy{}, managedParsed: map[managedKey]parsedPolicy{},
		scps: map[string]orgLevels{}, rcps: map[string]orgLevels{},
		orgDocs: map[string]*policy.Policy{}, orgSources: map[string]policySource{}, rpCache: map[string]*policy.NamedPolicy{}, tdByARN: map[string]*tdInfo{},
	}
	e.now = opts.Now
	if e.now.IsZero() {
		e.now = inv.CollectedAt
	}
	return e
}

// account is the account with this ID, or nil.
func (e *evaluation) account(id string) *inventory.Account {
	if e.self != nil && e.self.ID == id {
		return e.self
	}
	return e.accounts[id]
}

func (e *evaluation) run() *Result {
	e.collect()
	for _, t := range e.tds {
		e.evaluateNeeds(t)
	}
	e.existenceGaps()
	for _, t := range e.overrides {
		e.evaluateNeeds(t)
	}
	ids := make([]string, 0, len(registry))
	for id := range registry {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if r := registry[id]; r.check != nil {
			r.check(e, r)
		}
	}
	return e.result()
}

// collect builds the task definition, service and cluster views.
func (e *evaluation) collect() {
	for _, a := range e.inv.Accounts {
		for _, reg := range a.Regions {
			if reg.Status == inventory.RegionNotEnabled {
				continue
			}
			local := map[string]*tdInfo{}
			for _, td := range reg.TaskDefinitions {
				t := &tdInfo{account: a, region: reg.Name, td: td}
				e.tds = append(e.tds, t)
				e.tdByARN[td.ARN] = t
				local[td.ARN] = t
				local[fmt.Sprintf("%s:%d", td.Family, td.Revision)] = t
			}
			for _, c := range reg.Clusters {
				ci := &clusterInfo{account: a, region: reg.Name, cluster: c}
				e.clusters = append(e.clusters, ci)
				placed := map[*tdInfo]bool{}
				for _, s := range c.Services {
					hasInst := len(c.ContainerInstances) > 0
					type use struct {
						ref string
						u   serviceRef
					}
					uses := []use{{s.TaskDefinition, serviceRef{cluster: c, service: s, host: serviceHosting(s.LaunchType, s.CapacityProviders, hasInst), pv: s.PlatformVersion}}}
					for _, d := range s.Deployments {
						if d.TaskDefinition == "" || d.TaskDefinition == s.TaskDefinition {
							continue
						}
						launch, cps, pv := d.LaunchType, d.CapacityProviders, d.PlatformVersion
						if launch == "" && len(cps) == 0 {
							launch, cps = s.LaunchType, s.CapacityProviders
						}
						if pv == "" {
							pv = s.PlatformVersion
						}
						uses = append(uses, use{d.TaskDefinition, serviceRef{cluster: c, service: s, host: serviceHosting(launch, cps, hasInst), pv: pv, deployID: d.ID}})
					}
					for _, x := range uses {
						t := local[x.ref]
						if t == nil {
							t = local[tdShortRef(x.ref)]
						}
						if t == nil {
							e.gaps = append(e.gaps, fmt.Sprintf("service %s uses task definition %s, which was not collected; it was not evaluated", s.ARN, x.ref))
							continue
						}
						t.uses = append(t.uses, x.u)
						if (x.u.host.EC2 || x.u.host.External) && !placed[t] {
							placed[t] = true
							ci.placed = append(ci.placed, t)
						}
					}
				}
			}
			e.collectLaunches(a, reg, local)
		}
	}
	for _, t := range e.tds {
		t.host = tdHosting(t)
		e.resolveExecRole(t)
		t.needs = deriveNeeds(tdInput{td: t.td, partition: e.inv.Partition, account: t.account.ID, region: t.region, host: t.host, res: e.res})
		t.decs = make([]*verdict, len(t.needs))
		if t.exec != nil {
			t.exec.usedBy = append(t.exec.usedBy, t)
		}
	}
	e.collectOverrides()
	e.indexNetwork()
}

// tdShortRef turns a task definition ARN into family:revision.
func tdShortRef(ref string) string {
	if i := strings.Index(ref, ":task-definition/"); i >= 0 {
		return ref[i+len(":task-definition/"):]
	}
	return ref
}

// serviceHosting derives where a service's tasks run from its launch type or
// capacity provider strategy. With neither, the cluster's default capacity
// provider strategy applies; it is not collected, so a cluster with
// container instances counts as EC2 and one without as Fargate.
func serviceHosting(launch string, providers []string, hasInstances bool) hosting {
	var h hosting
	switch strings.ToUpper(launch) {
	case inventory.LaunchEC2:
		h.EC2 = true
	case inventory.LaunchFargate:
		h.Fargate = true
	case inventory.LaunchExternal:
		h.External = true
	}
	for _, p := range providers {
		if strings.HasPrefix(strings.ToUpper(p), "FARGATE") {
			h.Fargate = true
		} else {
			h.EC2 = true
		}
	}
	if !h.EC2 && !h.Fargate && !h.External {
		if hasInstances {
			h.EC2 = true
		} else {
			h.Fargate = true
		}
	}
	return h
}

// tdHosting: from the services and other launches that run the task definition, else from
// requiresCompatibilities, else EC2 (the ECS default launch type).
func tdHosting(t *tdInfo) hosting {
	var h hosting
	for _, u := range t.uses {
		h.EC2 = h.EC2 || u.host.EC2
		h.Fargate = h.Fargate || u.host.Fargate
		h.External = h.External || u.host.External
	}
	for _, l := range t.launches {
		h.EC2 = h.EC2 || l.host.EC2
		h.Fargate = h.Fargate || l.host.Fargate
		h.External = h.External || l.host.External
	}
	if h.EC2 || h.Fargate || h.External {
		return h
	}
	for _, c := range t.td.RequiresCompatibilities {
		switch strings.ToUpper(c) {
		case inventory.LaunchEC2:
			h.EC2 = true
		case inventory.LaunchFargate:
			h.Fargate = true
		case inventory.LaunchExternal:
			h.External = true
		}
	}
	if !h.EC2 && !h.Fargate && !h.External {
		h.EC2 = true
	}
	return h
}

// roleName extracts the role name (without path) from a role ARN or name.
func roleName(arnOrName string) string {
	s := arnOrName
	if i := strings.Index(s, ":role/"); i >= 0 {
		s = s[i+len(":role/"):]
	}
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func (e *evaluation) resolveExecRole(t *tdInfo) {
	e.resolveRoleRef(t, strings.TrimSpace(t.td.ExecutionRoleARN))
}

// resolveRoleRef resolves ref, a role ARN or name, as t's execution role.
func (e *evaluation) resolveRoleRef(t *tdInfo, ref string) {
	if ref == "" {
		t.execKind = execNone
		return
	}
	acct := t.account.ID
	arn := ref
	if strings.HasPrefix(ref, "arn:") {
		acct = inventoryAccountOf(ref, t.account.ID)
	} else {
		arn = fmt.Sprintf("arn:%s:iam::%s:role/%s", e.inv.Partition, acct, ref)
	}
	t.execARN = arn
	if acct != t.account.ID {
		t.execKind = execOtherAccount // ER002: not passable, and not evaluated
		return
	}
	a := e.account(acct)
	if a == nil || a.IAM == nil {
		t.execKind = execUnknown
		return
	}
	ri := e.role(a, roleName(arn))
	if ri == nil {
		t.execKind = execMissing
		return
	}
	t.execKind = execFound
	t.exec = ri
}

// sameRole says whether two role references (ARN or name) name one role.
func sameRole(a, b, account, partition string) bool {
	norm := func(s string) (string, string) {
		if strings.HasPrefix(s, "arn:") {
			return inventoryAccountOf(s, account), strings.ToLower(roleName(s))
		}
		return account, strings.ToLower(roleName(s))
	}
	aa, an := norm(a)
	ba, bn := norm(b)
	return aa == ba && an == bn && an != ""
}
