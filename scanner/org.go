package scanner

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"golang.org/x/sync/errgroup"

	"github.com/ecs-audit/audit/inventory"
)

// maxOrgDepth bounds the walk from an account up to the root (AWS allows
// five levels of OUs).
const maxOrgDepth = 12

// orgState is the organization and the lookups shared by all accounts.
type orgState struct {
	api      orgAPI
	org      *inventory.Organization
	rootName string

	mu       sync.Mutex
	rcps     bool
	policies map[string]*inventory.OrgPolicy

	parents  onceCache[string, orgParent]
	ouNames  onceCache[string, string]
	attached onceCache[attachKey, []string]
	describe onceCache[string, *inventory.OrgPolicy]

	// size is the number of accounts ListAccounts returned (0 with OUs).
	size int
	// bulk is set when most of a large organization is scanned: parents and
	// attachments are then read for the whole organization at once (see
	// bulkIndex) instead of per account.
	bulk  bool
	index onceCache[struct{}, struct{}]
}

type orgParent struct{ id, typ string }

type attachKey struct{ target, typ string }

func (o *orgState) rcpsEnabled() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rcps
}

func (o *orgState) policiesSnapshot() map[string]*inventory.OrgPolicy {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.policies) == 0 {
		return nil
	}
	return maps.Clone(o.policies)
}

// orgTargets loads the organization and lists its ACTIVE accounts (under
// OUs when asked).
func (c *collector) orgTargets(ctx context.Context) ([]target, error) {
	api := c.be.organizations()
	o := &orgState{api: api, policies: map[string]*inventory.OrgPolicy{}}

	desc, err := call(ctx, c, where{}, c.orgBucket, "organizations", "DescribeOrganization", "", func(ctx context.Context) (*organizations.DescribeOrganizationOutput, error) {
		return api.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	})
	if err != nil {
		return nil, startError("read the organization (organizations:DescribeOrganization)", err, fixOrg)
	}
	if desc.Organization == nil {
		return nil, &StartError{Cause: "organizations:DescribeOrganization returned no organization", Fix: fixOrg}
	}
	o.org = &inventory.Organization{
		ID:                  aws.ToString(desc.Organization.Id),
		ARN:                 aws.ToString(desc.Organization.Arn),
		ManagementAccountID: aws.ToString(desc.Organization.MasterAccountId),
	}

	roots, err := paginate(ctx, c, listing{b: c.orgBucket, svc: "organizations", op: "ListRoots"}, nil,
		func(ctx context.Context, token *string) ([]orgtypes.Root, *string, error) {
			out, err := api.ListRoots(ctx, &organizations.ListRootsInput{NextToken: token})
			if err != nil {
				return nil, nil, err
			}
			return out.Roots, out.NextToken, nil
		})
	if len(roots) == 0 {
		if err == nil {
			err = newScanError(CodeInvalidResponse, "ListRoots returned no root")
		}
		return nil, startError("list the organization's root (organizations:ListRoots)", err, fixOrg)
	}
	// An organization has exactly one root.
	o.org.RootID = aws.ToString(roots[0].Id)
	o.rootName = aws.ToString(roots[0].Name)
	for _, pt := range roots[0].PolicyTypes {
		if pt.Type == orgtypes.PolicyTypeResourceControlPolicy && pt.Status == orgtypes.PolicyTypeStatusEnabled {
			o.rcps = true
		}
	}
	o.org.RCPsEnabled = o.rcps
	c.org = o

	var accts []orgtypes.Account
	if len(c.cfg.OUs) > 0 {
		seen := map[string]bool{}
		for _, ou := range c.cfg.OUs {
			got, err := c.walkOU(ctx, ou, 0, seen)
			if err != nil {
				return nil, startError("list the accounts under OU "+ou, err, "check that the OU IDs name OUs of this organization")
			}
			accts = append(accts, got...)
		}
	} else {
		var err error
		accts, err = paginate(ctx, c, listing{b: c.orgBucket, svc: "organizations", op: "ListAccounts"}, nil,
			func(ctx context.Context, token *string) ([]orgtypes.Account, *string, error) {
				out, err := api.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: token, MaxResults: aws.Int32(20)})
				if err != nil {
					return nil, nil, err
				}
				return out.Accounts, out.NextToken, nil
			})
		if err != nil && len(accts) == 0 {
			return nil, startError("list the organization's accounts (organizations:ListAccounts)", err, fixOrg)
		}
		// A list cut short (recorded) still scans the accounts it named.
		o.size = len(accts)
	}

	byID := map[string]target{}
	inactive := map[string]string{}
	for _, a := range accts {
		id := aws.ToString(a.Id)
		if !inventory.IsAccountID(id) {
			c.record(ctx, where{}, "organizations", "ListAccounts", id, newScanError(CodeInvalidResponse, "account ID %q is not 12 digits", id))
			continue
		}
		state := string(a.State)
		if state == "" {
			state = string(a.Status) // older API answers (and emulators) only have Status
		}
		if state != string(orgtypes.AccountStateActive) {
			inactive[id] = state
			c.log.Info("skipping account that is not ACTIVE", "account", id, "state", sanitize(state))
			continue
		}
		byID[id] = target{id: id, name: aws.ToString(a.Name), email: aws.ToString(a.Email), status: state}
	}
	if len(c.cfg.Accounts) > 0 {
		keep := map[string]target{}
		for _, id := range c.cfg.Accounts {
			t, ok := byID[id]
			switch {
			case ok:
				keep[id] = t
			case inactive[id] != "":
				c.addError(inventory.CollectionError{AccountID: id, Service: "organizations", Operation: "ListAccounts", Code: CodeAccountNotActive,
					Message: fmt.Sprintf("account %s was requested but its state is %s; it was not scanned", id, sanitize(inactive[id]))})
			default:
				c.addError(inventory.CollectionError{AccountID: id, Service: "organizations", Operation: "ListAccounts", Code: CodeAccountNotFound,
					Message: fmt.Sprintf("account %s was requested but is not an account of the organization (or of the OUs asked for); it was not scanned", id)})
			}
		}
		byID = keep
	}
	return slices.Collect(maps.Values(byID)), nil
}

// walkOU lists the accounts under ou, recursively. An error on the OU asked
// for is returned (it is probably a wrong ID); errors deeper down are
// recorded and the walk goes on.
func (c *collector) walkOU(ctx context.Context, ou string, depth int, seen map[string]bool) ([]orgtypes.Account, error) {
	if seen[ou] || depth > maxOrgDepth {
		return nil, nil
	}
	seen[ou] = true
	api := c.org.api
	w := where{}
	accts, err := paginate(ctx, c, listing{w: w, b: c.orgBucket, svc: "organizations", op: "ListAccountsForParent", resource: ou}, nil,
		func(ctx context.Context, token *string) ([]orgtypes.Account, *string, error) {
			out, err := api.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(ou), NextToken: token, MaxResults: aws.Int32(20)})
			if err != nil {
				return nil, nil, err
			}
			return out.Accounts, out.NextToken, nil
		})
	if err != nil && depth == 0 && len(accts) == 0 {
		return nil, err
	}
	for _, a := range accts {
		// The walk tells each account's parent: no ListParents needed.
		c.org.parents.set(aws.ToString(a.Id), orgParent{id: ou, typ: inventory.NodeOU})
	}
	children, err := paginate(ctx, c, listing{w: w, b: c.orgBucket, svc: "organizations", op: "ListChildren", resource: ou}, nil,
		func(ctx context.Context, token *string) ([]orgtypes.Child, *string, error) {
			out, err := api.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(ou), ChildType: orgtypes.ChildTypeOrganizationalUnit, NextToken: token, MaxResults: aws.Int32(20)})
			if err != nil {
				return nil, nil, err
			}
			return out.Children, out.NextToken, nil
		})
	if err != nil && depth == 0 && len(children) == 0 && len(accts) == 0 {
		return nil, err
	}
	for _, ch := range children {
		c.org.parents.set(aws.ToString(ch.Id), orgParent{id: ou, typ: inventory.NodeOU})
		sub, _ := c.walkOU(ctx, aws.ToString(ch.Id), depth+1, seen)
		accts = append(accts, sub...)
	}
	return accts, nil
}

// accountPath resolves root → OUs → account with the SCPs (and RCPs)
// attached directly at each level. Lookups are shared between accounts.
// When a lookup fails (recorded), the path holds what could be resolved.
func (c *collector) accountPath(ctx context.Context, t target) []inventory.PathNode {
	o := c.org
	if o.bulk {
		_, _ = o.index.get(ctx, struct{}{}, func() (struct{}, error) { c.bulkIndex(ctx); return struct{}{}, nil })
	}
	chain := []inventory.PathNode{{ID: t.id, Name: t.name, Type: inventory.NodeAccount}}
	seen := map[string]bool{t.id: true}
	cur := t.id
	for depth := 0; depth < maxOrgDepth; depth++ {
		child := cur
		w := where{}
		if child == t.id {
			w.account = t.id
		}
		p, err := o.parents.get(ctx, child, func() (orgParent, error) { return c.parentOf(ctx, w, child) })
		if err != nil {
			break
		}
		if seen[p.id] {
			c.record(ctx, w, "organizations", "ListParents", child, newScanError(CodeInvalidResponse, "the organization's parents form a loop at %s", p.id))
			break
		}
		seen[p.id] = true
		node := inventory.PathNode{ID: p.id, Type: p.typ}
		if p.typ == inventory.NodeRoot {
			node.Name = o.rootName
			chain = append(chain, node)
			break
		}
		node.Name, _ = o.ouNames.get(ctx, p.id, func() (string, error) { return c.ouName(ctx, p.id) })
		chain = append(chain, node)
		cur = p.id
	}
	slices.Reverse(chain)
	var g errgroup.Group
	for i := range chain {
		g.Go(func() error {
			chain[i].SCPs = c.attachedPolicies(ctx, chain[i].ID, inventory.PolicyTypeSCP)
			return nil
		})
		if o.rcpsEnabled() {
			g.Go(func() error {
				chain[i].RCPs = c.attachedPolicies(ctx, chain[i].ID, inventory.PolicyTypeRCP)
				return nil
			})
		}
	}
	_ = g.Wait()
	return chain
}

// parentOf is one ListParents lookup (paged: pages may be empty).
func (c *collector) parentOf(ctx context.Context, w where, child string) (orgParent, error) {
	api := c.org.api
	parents, err := paginate(ctx, c, listing{w: w, b: c.orgBucket, svc: "organizations", op: "ListParents", resource: child}, nil,
		func(ctx context.Context, token *string) ([]orgtypes.Parent, *string, error) {
			out, err := api.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(child), NextToken: token})
			if err != nil {
				return nil, nil, err
			}
			return out.Parents, out.NextToken, nil
		})
	if err != nil {
		return orgParent{}, err
	}
	if len(parents) == 0 {
		err := newScanError(CodeInvalidResponse, "ListParents returned no parent for %s", child)
		c.record(ctx, w, "organizations", "ListParents", child, err)
		return orgParent{}, err
	}
	p := orgParent{id: aws.ToString(parents[0].Id)}
	switch parents[0].Type {
	case orgtypes.ParentTypeRoot:
		p.typ = inventory.NodeRoot
	case orgtypes.ParentTypeOrganizationalUnit:
		p.typ = inventory.NodeOU
	default:
		err := newScanError(CodeInvalidResponse, "ListParents returned parent type %q for %s", parents[0].Type, child)
		c.record(ctx, w, "organizations", "ListParents", child, err)
		return orgParent{}, err
	}
	if p.id == "" {
		err := newScanError(CodeInvalidResponse, "ListParents returned a parent without ID for %s", child)
		c.record(ctx, w, "organizations", "ListParents", child, err)
		return orgParent{}, err
	}
	return p, nil
}

func (c *collector) ouName(ctx context.Context, ou string) (string, error) {
	api := c.org.api
	out, err := call(ctx, c, where{}, c.orgBucket, "organizations", "DescribeOrganizationalUnit", ou, func(ctx context.Context) (*organizations.DescribeOrganizationalUnitOutput, error) {
		return api.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(ou)})
	})
	if err != nil || out.OrganizationalUnit == nil {
		return "", err
	}
	return aws.ToString(out.OrganizationalUnit.Name), nil
}

// attachedPolicies returns the IDs of the policies of type typ attached
// directly to target. When one of them cannot be described (its error is
// recorded) the level is returned empty: a level with a policy left out
// would look complete and hide a Deny, while an empty level is reported by
// the evaluation as not collected.
func (c *collector) attachedPolicies(ctx context.Context, target, typ string) []string {
	o := c.org
	ids, _ := o.attached.get(ctx, attachKey{target, typ}, func() ([]string, error) {
		return c.listAttached(ctx, target, typ)
	})
	ok := make([]bool, len(ids))
	var g errgroup.Group
	for i, id := range ids {
		g.Go(func() error {
			p, err := o.describe.get(ctx, id, func() (*inventory.OrgPolicy, error) { return c.describePolicy(ctx, id) })
			ok[i] = err == nil && p != nil
			return nil
		})
	}
	_ = g.Wait()
	for i := range ids {
		if !ok[i] {
			return nil
		}
	}
	known := slices.Clone(ids)
	slices.Sort(known)
	return slices.Compact(known)
}

func (c *collector) listAttached(ctx context.Context, target, typ string) ([]string, error) {
	api := c.org.api
	l := listing{b: c.orgBucket, svc: "organizations", op: "ListPoliciesForTarget", resource: target, quiet: true}
	pols, err := paginate(ctx, c, l, nil, func(ctx context.Context, token *string) ([]orgtypes.PolicySummary, *string, error) {
		out, err := api.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{
			TargetId: aws.String(target), Filter: orgtypes.PolicyType(typ), NextToken: token})
		if err != nil {
			return nil, nil, err
		}
		return out.Policies, out.NextToken, nil
	})
	if err != nil {
		if typ == inventory.PolicyTypeRCP && errorCode(err) == "PolicyTypeNotEnabledException" {
			// RCPs are simply not enabled: not an error.
			c.org.mu.Lock()
			c.org.rcps = false
			c.org.org.RCPsEnabled = false
			c.org.mu.Unlock()
			return nil, nil
		}
		c.record(ctx, l.w, l.svc, l.op, target, err)
		return nil, err // an incomplete list would look complete
	}
	var ids []string
	for _, p := range pols {
		if id := aws.ToString(p.Id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (c *collector) describePolicy(ctx context.Context, id string) (*inventory.OrgPolicy, error) {
	api := c.org.api
	out, err := call(ctx, c, where{}, c.orgBucket, "organizations", "DescribePolicy", id, func(ctx context.Context) (*organizations.DescribePolicyOutput, error) {
		return api.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
	})
	if err != nil {
		return nil, err
	}
	if out.Policy == nil || out.Policy.PolicySummary == nil {
		err := newScanError(CodeInvalidResponse, "DescribePolicy returned no policy")
		c.record(ctx, where{}, "organizations", "DescribePolicy", id, err)
		return nil, err
	}
	sum := out.Policy.PolicySummary
	doc, derr := decodeDocument(aws.ToString(out.Policy.Content))
	if derr != nil {
		c.record(ctx, where{}, "organizations", "DescribePolicy", id, derr)
	}
	if doc == "" {
		err := newScanError(CodeInvalidDocument, "policy %s has an empty document", id)
		c.record(ctx, where{}, "organizations", "DescribePolicy", id, err)
		return nil, err
	}
	typ := string(sum.Type)
	if typ != inventory.PolicyTypeSCP && typ != inventory.PolicyTypeRCP {
		err := newScanError(CodeInvalidResponse, "policy %s has type %q", id, typ)
		c.record(ctx, where{}, "organizations", "DescribePolicy", id, err)
		return nil, err
	}
	p := &inventory.OrgPolicy{
		ID: id, ARN: aws.ToString(sum.Arn), Name: aws.ToString(sum.Name),
		Type: typ, AWSManaged: sum.AwsManaged, Document: doc,
	}
	c.org.mu.Lock()
	c.org.policies[id] = p
	c.org.mu.Unlock()
	return p, nil
}

// bulkThreshold is the number of accounts above which a scan of most of an
// organization reads parents and policy attachments for the whole
// organization at once.
const bulkThreshold = 20

// useBulk decides whether bulkIndex pays off: n accounts to scan in an
// organization of size accounts. Per account, the path costs a ListParents
// and a ListPoliciesForTarget per policy type; in bulk, the tree walk and
// ListTargetsForPolicy cost about one call per 20 accounts of the whole
// organization (FullAWSAccess is attached to every account) plus a few per
// OU and policy.
func useBulk(n, size int, ous bool) bool {
	return !ous && n > bulkThreshold && n*40 > size
}

// bulkIndex fills the parent and attachment caches for the whole
// organization: a walk of the tree from the root (ListChildren), and per
// policy type the policies (ListPolicies) and their targets
// (ListTargetsForPolicy). It is only an optimisation: a failed call is
// logged, not recorded, and whatever it did not fill is looked up per
// account as usual (where a failure is recorded).
func (c *collector) bulkIndex(ctx context.Context) {
	o := c.org
	start := time.Now()
	before := c.stats.calls.Load()
	var g errgroup.Group
	g.Go(func() error { c.bulkParents(ctx); return nil })
	types := []string{inventory.PolicyTypeSCP}
	if o.rcpsEnabled() {
		types = append(types, inventory.PolicyTypeRCP)
	}
	for _, typ := range types {
		g.Go(func() error { c.bulkAttachments(ctx, typ); return nil })
	}
	_ = g.Wait()
	c.log.Info("organization indexed", "calls", c.stats.calls.Load()-before, "elapsed", time.Since(start).Round(time.Millisecond))
}

// bulkList pages through one organizations list call without recording
// failures: the index is an optimisation, and a list that failed or was
// cut short is not used (the per-account lookups record their own
// failures).
func bulkList[T any](ctx context.Context, c *collector, op string, fetch func(ctx context.Context, token *string) ([]T, *string, error)) ([]T, error) {
	all, err := paginate(ctx, c, listing{b: c.orgBucket, svc: "organizations", op: op, quiet: true}, nil, fetch)
	if err != nil {
		c.log.Info("organization index incomplete; falling back to per-account lookups", "operation", op, "code", errorCode(err))
		return nil, err
	}
	return all, nil
}

// bulkParents walks the tree from the root and fills the parent cache.
func (c *collector) bulkParents(ctx context.Context) {
	o := c.org
	type node struct{ id, typ string }
	queue := []node{{o.org.RootID, inventory.NodeRoot}}
	seen := map[string]bool{o.org.RootID: true}
	for len(queue) > 0 && len(seen) < 100000 {
		n := queue[0]
		queue = queue[1:]
		for _, ct := range []orgtypes.ChildType{orgtypes.ChildTypeOrganizationalUnit, orgtypes.ChildTypeAccount} {
			kids, err := bulkList(ctx, c, "ListChildren", func(ctx context.Context, token *string) ([]orgtypes.Child, *string, error) {
				out, err := o.api.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(n.id), ChildType: ct, NextToken: token, MaxResults: aws.Int32(20)})
				if err != nil {
					return nil, nil, err
				}
				return out.Children, out.NextToken, nil
			})
			if err != nil {
				return
			}
			for _, k := range kids {
				id := aws.ToString(k.Id)
				if id == "" || seen[id] {
					continue
				}
				seen[id] = true
				o.parents.set(id, orgParent(n))
				if ct == orgtypes.ChildTypeOrganizationalUnit {
					queue = append(queue, node{id, inventory.NodeOU})
				}
			}
		}
	}
}

// bulkAttachments lists every policy of a type and its targets, and fills
// the attachment cache for every target that has one. Targets with none are
// left to the per-target lookup.
func (c *collector) bulkAttachments(ctx context.Context, typ string) {
	o := c.org
	pols, err := bulkList(ctx, c, "ListPolicies", func(ctx context.Context, token *string) ([]orgtypes.PolicySummary, *string, error) {
		out, err := o.api.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: orgtypes.PolicyType(typ), NextToken: token, MaxResults: aws.Int32(20)})
		if err != nil {
			return nil, nil, err
		}
		return out.Policies, out.NextToken, nil
	})
	if err != nil {
		return
	}
	byTarget := map[string][]string{}
	var mu sync.Mutex
	failed := false
	var g errgroup.Group
	for _, p := range pols {
		id := aws.ToString(p.Id)
		if id == "" {
			continue
		}
		g.Go(func() error {
			targets, err := bulkList(ctx, c, "ListTargetsForPolicy", func(ctx context.Context, token *string) ([]orgtypes.PolicyTargetSummary, *string, error) {
				out, err := o.api.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(id), NextToken: token, MaxResults: aws.Int32(20)})
				if err != nil {
					return nil, nil, err
				}
				return out.Targets, out.NextToken, nil
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = true
				return nil
			}
			for _, t := range targets {
				if tid := aws.ToString(t.TargetId); tid != "" {
					byTarget[tid] = append(byTarget[tid], id)
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	if failed {
		// A partial index would hide policies: use none of it.
		return
	}
	// Every target with attachments is known; nodes missing from byTarget
	// have none, which the per-target lookup confirms at one call each. In
	// practice FullAWSAccess (or RCPFullAWSAccess) sits on every node.
	for tid, ids := range byTarget {
		o.attached.set(attachKey{tid, typ}, ids)
	}
}
