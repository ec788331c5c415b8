package fakeaws

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ecs-audit/audit/inventory"
)

const regionNotEnabled = inventory.RegionNotEnabled

// maxEnvValueLength bounds a synthesized environment value (a task
// definition is at most 64 KiB).
const maxEnvValueLength = 64 << 10

// world is the inventory with the lookups the handlers need. It is built
// once and only read afterwards.
type world struct {
	inv           *inventory.Inventory
	partition     string
	seed          uint64
	base          time.Time // deterministic creation timestamps
	accounts      map[string]*acctIndex
	order         []*acctIndex
	callerAccount string
	org           *orgIndex
}

func (w *world) knownAccount(id string) bool {
	if _, ok := w.accounts[id]; ok {
		return true
	}
	return w.org != nil && w.org.mgmt == id
}

type acctIndex struct {
	a           *inventory.Account
	regions     map[string]*regionIndex
	roleByName  map[string]*inventory.Role
	policyByARN map[string]*inventory.ManagedPolicy
}

type regionIndex struct {
	r            *inventory.Region
	account      string
	name         string
	clusters     []*clusterIndex
	clusterByKey map[string]*clusterIndex
	tds          []*inventory.TaskDefinition // by family, then revision
	tdByARN      map[string]*inventory.TaskDefinition
	tdByFamRev   map[string]*inventory.TaskDefinition
	families     []string // sorted
	familyTDs    map[string][]*inventory.TaskDefinition
	keyByID      map[string]*inventory.KMSKey // key ID and key ARN
	aliases      []aliasEntry                 // sorted by name
	launch       *launchIndex                 // tasks, rules, schedules, network (events.go)
}

type aliasEntry struct {
	name string
	key  *inventory.KMSKey
}

type clusterIndex struct {
	c        *inventory.Cluster
	name     string
	svcByKey map[string]*inventory.Service
	ciByKey  map[string]*inventory.ContainerInstance
}

type orgIndex struct {
	o      *inventory.Organization
	mgmt   string
	arnOrg string
	root   *orgNode
	nodes  map[string]*orgNode
}

type orgNode struct {
	id, name, typ string
	parent        *orgNode
	ous           []*orgNode
	accounts      []*orgNode
	scps, rcps    []string
	acct          *inventory.Account
	where         string // the first path field that defined the node
}

// worldError names the world field that is wrong.
func worldError(field, format string, args ...any) error {
	return fmt.Errorf("fakeaws: world: field %s: %s", field, fmt.Sprintf(format, args...))
}

func indexWorld(inv *inventory.Inventory, seed int64) (*world, error) {
	if err := inv.Validate(); err != nil {
		return nil, fmt.Errorf("fakeaws: world: %w", err)
	}
	w := &world{
		inv:       inv,
		partition: inv.Partition,
		seed:      uint64(seed),
		base:      inv.CollectedAt.UTC().Truncate(time.Second),
		accounts:  map[string]*acctIndex{},
	}
	if w.base.IsZero() {
		w.base = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	for i, a := range inv.Accounts {
		ai, err := indexAccount(a, fmt.Sprintf("accounts[%d]", i))
		if err != nil {
			return nil, err
		}
		w.accounts[a.ID] = ai
		w.order = append(w.order, ai)
	}
	if inv.Organization != nil {
		org, err := indexOrg(inv, seed)
		if err != nil {
			return nil, err
		}
		w.org = org
		w.callerAccount = org.mgmt
	} else if len(inv.Accounts) > 0 {
		w.callerAccount = inv.Accounts[0].ID
	} else {
		return nil, worldError("accounts", "the world has no organization and no account, so there is no caller")
	}
	return w, nil
}

func indexAccount(a *inventory.Account, f string) (*acctIndex, error) {
	ai := &acctIndex{
		a:           a,
		regions:     map[string]*regionIndex{},
		roleByName:  map[string]*inventory.Role{},
		policyByARN: map[string]*inventory.ManagedPolicy{},
	}
	switch a.Status {
	case "", "ACTIVE", "SUSPENDED", "PENDING_CLOSURE", "CLOSED":
	default:
		return nil, worldError(f+".status", "is %q; expected ACTIVE, SUSPENDED, PENDING_CLOSURE or CLOSED", a.Status)
	}
	if a.IAM != nil {
		for j, r := range a.IAM.Roles {
			if _, dup := ai.roleByName[r.Name]; dup {
				return nil, worldError(fmt.Sprintf("%s.iam.roles[%d].name", f, j), "role %q is listed twice", r.Name)
			}
			ai.roleByName[r.Name] = r
		}
		for j, p := range a.IAM.ManagedPolicies {
			if _, dup := ai.policyByARN[p.ARN]; dup {
				return nil, worldError(fmt.Sprintf("%s.iam.managedPolicies[%d].arn", f, j), "policy %q is listed twice", p.ARN)
			}
			ai.policyByARN[p.ARN] = p
		}
	}
	for j, r := range a.Regions {
		rf := fmt.Sprintf("%s.regions[%d]", f, j)
		if !validRegionName(r.Name) {
			return nil, worldError(rf+".name", "%q is not a region name", r.Name)
		}
		ri, err := indexRegion(a.ID, r, rf)
		if err != nil {
			return nil, err
		}
		ai.regions[r.Name] = ri
	}
	return ai, nil
}

// lastSegment returns what follows the last "/" of an ARN (or the string).
func lastSegment(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func indexRegion(acct string, r *inventory.Region, f string) (*regionIndex, error) {
	ri := &regionIndex{
		r:            r,
		account:      acct,
		name:         r.Name,
		clusterByKey: map[string]*clusterIndex{},
		tdByARN:      map[string]*inventory.TaskDefinition{},
		tdByFamRev:   map[string]*inventory.TaskDefinition{},
		familyTDs:    map[string][]*inventory.TaskDefinition{},
		keyByID:      map[string]*inventory.KMSKey{},
	}
	for k, c := range r.Clusters {
		cf := fmt.Sprintf("%s.clusters[%d]", f, k)
		ci := &clusterIndex{c: c, name: c.Name, svcByKey: map[string]*inventory.Service{}, ciByKey: map[string]*inventory.ContainerInstance{}}
		if ci.name == "" {
			ci.name = lastSegment(c.ARN)
		}
		if _, dup := ri.clusterByKey[c.ARN]; dup {
			return nil, worldError(cf+".arn", "cluster %q is listed twice", c.ARN)
		}
		if _, dup := ri.clusterByKey[ci.name]; dup {
			return nil, worldError(cf+".name", "cluster name %q is listed twice", ci.name)
		}
		ri.clusterByKey[c.ARN] = ci
		ri.clusterByKey[ci.name] = ci
		for l, s := range c.Services {
			name := serviceName(s)
			if _, dup := ci.svcByKey[name]; dup {
				return nil, worldError(fmt.Sprintf("%s.services[%d].name", cf, l), "service %q is listed twice", name)
			}
			ci.svcByKey[s.ARN] = s
			ci.svcByKey[name] = s
		}
		for l, inst := range c.ContainerInstances {
			if _, dup := ci.ciByKey[inst.ARN]; dup {
				return nil, worldError(fmt.Sprintf("%s.containerInstances[%d].arn", cf, l), "container instance %q is listed twice", inst.ARN)
			}
			ci.ciByKey[inst.ARN] = inst
			ci.ciByKey[lastSegment(inst.ARN)] = inst
		}
		ri.clusters = append(ri.clusters, ci)
	}
	for k, td := range r.TaskDefinitions {
		tf := fmt.Sprintf("%s.taskDefinitions[%d]", f, k)
		if _, dup := ri.tdByARN[td.ARN]; dup {
			return nil, worldError(tf+".taskDefinitionArn", "task definition %q is listed twice", td.ARN)
		}
		fr := fmt.Sprintf("%s:%d", td.Family, td.Revision)
		if _, dup := ri.tdByFamRev[fr]; dup {
			return nil, worldError(tf+".revision", "task definition %s is listed twice", fr)
		}
		switch td.Status {
		case "", "ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS":
		default:
			return nil, worldError(tf+".status", "is %q; expected ACTIVE, INACTIVE or DELETE_IN_PROGRESS", td.Status)
		}
		for l, cd := range td.ContainerDefinitions {
			for m, e := range cd.Environment {
				if !knownValueClass(e.ValueClass) {
					return nil, worldError(fmt.Sprintf("%s.containerDefinitions[%d].environment[%d].valueClass", tf, l, m),
						"%q is not a value class this build can synthesize", e.ValueClass)
				}
				if e.ValueLength < 0 || e.ValueLength > maxEnvValueLength {
					return nil, worldError(fmt.Sprintf("%s.containerDefinitions[%d].environment[%d].valueLength", tf, l, m),
						"%d is not between 0 and %d", e.ValueLength, maxEnvValueLength)
				}
			}
		}
		ri.tdByARN[td.ARN] = td
		ri.tdByFamRev[fr] = td
		ri.familyTDs[td.Family] = append(ri.familyTDs[td.Family], td)
		ri.tds = append(ri.tds, td)
	}
	sort.SliceStable(ri.tds, func(i, j int) bool {
		if ri.tds[i].Family != ri.tds[j].Family {
			return ri.tds[i].Family < ri.tds[j].Family
		}
		return ri.tds[i].Revision < ri.tds[j].Revision
	})
	for fam, list := range ri.familyTDs {
		slices.SortFunc(list, func(a, b *inventory.TaskDefinition) int { return int(a.Revision) - int(b.Revision) })
		ri.families = append(ri.families, fam)
	}
	sort.Strings(ri.families)
	seenAlias := map[string]bool{}
	for k, key := range r.KMSKeys {
		kf := fmt.Sprintf("%s.kmsKeys[%d]", f, k)
		if key == nil {
			return nil, worldError(kf, "is null")
		}
		id := key.KeyID
		if id == "" {
			id = lastSegment(key.ARN)
		}
		if id == "" {
			return nil, worldError(kf+".keyId", "missing")
		}
		ri.keyByID[id] = key
		if key.ARN != "" {
			ri.keyByID[key.ARN] = key
		}
		for l, al := range key.Aliases {
			if !strings.HasPrefix(al, "alias/") {
				return nil, worldError(fmt.Sprintf("%s.aliases[%d]", kf, l), "%q does not start with alias/", al)
			}
			if seenAlias[al] {
				return nil, worldError(fmt.Sprintf("%s.aliases[%d]", kf, l), "alias %q is listed twice", al)
			}
			seenAlias[al] = true
			ri.aliases = append(ri.aliases, aliasEntry{name: al, key: key})
		}
	}
	sort.Slice(ri.aliases, func(i, j int) bool { return ri.aliases[i].name < ri.aliases[j].name })
	for k, sec := range r.Secrets {
		if sec == nil || sec.ARN == "" {
			return nil, worldError(fmt.Sprintf("%s.secrets[%d].arn", f, k), "missing")
		}
	}
	for k, p := range r.Parameters {
		if p == nil || p.Name == "" {
			return nil, worldError(fmt.Sprintf("%s.parameters[%d].name", f, k), "missing")
		}
	}
	if err := indexLaunchPaths(ri, r, f); err != nil {
		return nil, err
	}
	return ri, nil
}

func serviceName(s *inventory.Service) string {
	if s.Name != "" {
		return s.Name
	}
	return lastSegment(s.ARN)
}

// ---- organization ----

func indexOrg(inv *inventory.Inventory, seed int64) (*orgIndex, error) {
	o := inv.Organization
	if !inventory.IsAccountID(o.ManagementAccountID) {
		return nil, worldError("organization.managementAccountId", "%q is not a 12-digit account ID", o.ManagementAccountID)
	}
	oi := &orgIndex{o: o, mgmt: o.ManagementAccountID, nodes: map[string]*orgNode{}}
	oi.arnOrg = o.ARN
	if oi.arnOrg == "" {
		oi.arnOrg = "arn:" + inv.Partition + ":organizations::" + o.ManagementAccountID + ":organization/" + o.ID
	}
	rootID := o.RootID
	for _, a := range inv.Accounts {
		if len(a.Path) > 0 && rootID == "" {
			rootID = a.Path[0].ID
		}
	}
	if rootID == "" {
		rootID = "r-" + strings.ToLower(encodeBase32(hashStrings(uint64(seed), "root", o.ID), 4))
	}
	oi.root = &orgNode{id: rootID, name: "Root", typ: inventory.NodeRoot, where: "organization.rootId"}
	oi.nodes[rootID] = oi.root
	for i, a := range inv.Accounts {
		f := fmt.Sprintf("accounts[%d].path", i)
		parent := oi.root
		path := a.Path
		var accNode *inventory.PathNode
		if n := len(path); n > 0 && path[n-1].Type == inventory.NodeAccount {
			accNode = &path[n-1]
			if accNode.ID != a.ID {
				return nil, worldError(fmt.Sprintf("%s[%d].id", f, n-1), "is %q but the account is %s", accNode.ID, a.ID)
			}
			path = path[:n-1]
		}
		for j, pn := range path {
			nf := fmt.Sprintf("%s[%d]", f, j)
			wantType := inventory.NodeOU
			if j == 0 {
				wantType = inventory.NodeRoot
			}
			if pn.Type != wantType {
				return nil, worldError(nf+".type", "is %q; expected %s (a path is the root, then OUs, then the account)", pn.Type, wantType)
			}
			if j == 0 {
				if pn.ID != rootID {
					return nil, worldError(nf+".id", "root %q differs from the organization's root %q", pn.ID, rootID)
				}
				if err := mergeNode(oi.root, pn, nil, nf); err != nil {
					return nil, err
				}
				continue
			}
			node := oi.nodes[pn.ID]
			if node == nil {
				node = &orgNode{id: pn.ID, name: pn.Name, typ: inventory.NodeOU, parent: parent, scps: pn.SCPs, rcps: pn.RCPs, where: nf}
				oi.nodes[pn.ID] = node
				parent.ous = append(parent.ous, node)
			} else if err := mergeNode(node, pn, parent, nf); err != nil {
				return nil, err
			}
			parent = node
		}
		if _, dup := oi.nodes[a.ID]; dup {
			return nil, worldError(fmt.Sprintf("accounts[%d].id", i), "account %s is also an OU or root ID", a.ID)
		}
		an := &orgNode{id: a.ID, name: a.Name, typ: inventory.NodeAccount, parent: parent, acct: a, where: f}
		if accNode != nil {
			an.scps, an.rcps = accNode.SCPs, accNode.RCPs
		}
		oi.nodes[a.ID] = an
		parent.accounts = append(parent.accounts, an)
	}
	return oi, nil
}

// mergeNode checks that a node seen again on another account's path agrees
// with what was seen first.
func mergeNode(node *orgNode, pn inventory.PathNode, parent *orgNode, f string) error {
	if node.typ == inventory.NodeRoot && node.where == "organization.rootId" {
		// First sighting of the root on a path: take its name and policies.
		node.where = f
		if pn.Name != "" {
			node.name = pn.Name
		}
		node.scps, node.rcps = pn.SCPs, pn.RCPs
		return nil
	}
	if parent != nil && node.parent != parent {
		return worldError(f+".id", "OU %s is under %s here but under %s in %s", node.id, parent.id, node.parent.id, node.where)
	}
	if pn.Name != "" && node.name != "" && pn.Name != node.name {
		return worldError(f+".name", "%s is named %q here but %q in %s", node.id, pn.Name, node.name, node.where)
	}
	if !sameSet(node.scps, pn.SCPs) {
		return worldError(f+".scps", "%s has SCPs %v here but %v in %s", node.id, pn.SCPs, node.scps, node.where)
	}
	if !sameSet(node.rcps, pn.RCPs) {
		return worldError(f+".rcps", "%s has RCPs %v here but %v in %s", node.id, pn.RCPs, node.rcps, node.where)
	}
	return nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x := append([]string(nil), a...)
	y := append([]string(nil), b...)
	sort.Strings(x)
	sort.Strings(y)
	return slices.Equal(x, y)
}
