package scanner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/ecs-audit/audit/inventory"
)

// Collect scans what cfg asks for and returns the inventory. The inventory
// may be partial: every failed call is listed in inv.Errors, and what an
// interrupted scan did not reach is listed there too. The error is non-nil
// only when nothing could be collected: an invalid configuration
// (*ConfigError, found before any call), a scan that could not start
// (*StartError: no credentials, an unreachable endpoint, rejected
// credentials, an organization that cannot be read), or ctx ending before
// the scan started. When ctx ends later, Collect stops promptly and returns
// what it has with Complete false and Interrupted set ("interrupted" or
// "deadline").
func Collect(ctx context.Context, cfg Config) (*inventory.Inventory, error) {
	cfg, be, st, err := start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return collect(ctx, cfg, be, st)
}

// start checks the configuration and the credentials and makes the SDK
// backend (Collect, CollectEach).
func start(ctx context.Context, cfg Config) (Config, backend, *stats, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return cfg, nil, nil, err
	}
	st := &stats{}
	be, err := newSDKBackend(ctx, cfg, st, newEndpoints(cfg.Logger))
	if err != nil {
		return cfg, nil, nil, err
	}
	if err := be.checkCredentials(ctx); err != nil {
		return cfg, nil, nil, err
	}
	return cfg, be, st, nil
}

// collector is one scan's state.
type collector struct {
	cfg      Config
	be       backend
	log      *slog.Logger
	stats    *stats
	progress *progressTracker

	partition string
	caller    string

	regionSem *semaphore.Weighted
	stsBucket *bucket
	orgBucket *bucket
	org       *orgState  // nil without Org
	eps       *endpoints // nil with a backend without endpoints
	// ref holds the accounts of the scope outside the shard (nil
	// unsharded): see referable.
	ref *referable
	// inScope counts the accounts of the scope, every shard's.
	inScope int

	errMu sync.Mutex
	errs  []inventory.CollectionError

	// in detaches what the scan keeps from the SDK's responses (detach.go).
	in *interner
	// spooled is set when each account's data goes to a spool file as its
	// scan ends: its strings are then shared within the account only.
	spooled bool
	// awsPolicies holds each AWS managed policy version once for the
	// whole scan (iam.go).
	// (The lock is an allocation of its own, so that a Collection's spool
	// can hold it and the map without holding the collector.)
	awsPolMu    *sync.Mutex
	awsPolicies map[awsPolicyKey]*inventory.ManagedPolicy

	intMu       sync.Mutex
	interrupted string
}

func (c *collector) markInterrupted(why string) {
	c.intMu.Lock()
	if c.interrupted == "" {
		c.interrupted = why
	}
	c.intMu.Unlock()
}

// target is an account to scan.
type target struct {
	id, name, email, status string
}

// accountState is what one account's scan produced and holds.
type accountState struct {
	acct    *inventory.Account
	sess    session // nil when credentials failed
	regions map[string]*regionState
	// in interns the account's strings while it is scanned (nil: the
	// scan's interner).
	in *interner
}

// regionState is one account×region's clients and result.
type regionState struct {
	clients regionalClients
	region  *inventory.Region

	// scanned is set once the region's clients were made for its scan.
	// A spooled account's clients are dropped when its scan ends (about
	// 20 KiB an account×region, for every account of the Organization);
	// remake makes a new set for each lookup resolution makes there, which
	// is dropped when the lookup ends (clients hold no connection of
	// their own: the HTTP client is the scan's).
	scanned bool
	remake  func() regionalClients
}

// hasClients reports whether the region has clients (now, or made again
// on use).
func (rs *regionState) hasClients() bool { return rs.scanned }

// api returns the region's clients, a new set if they were dropped.
func (rs *regionState) api() regionalClients {
	if rs.remake != nil {
		return rs.remake()
	}
	return rs.clients
}

// dropClients releases the clients of a scanned region; api makes them
// again from sess.
func (rs *regionState) dropClients(sess session, name string) {
	if !rs.scanned {
		return
	}
	rs.clients = regionalClients{}
	rs.remake = func() regionalClients { return sess.regional(name) }
}

// collect is Collect after setup; tests call it with a fake backend. It
// keeps what each account collected in memory and returns the whole
// inventory.
func collect(ctx context.Context, cfg Config, be backend, st *stats) (*inventory.Inventory, error) {
	col, err := collectEach(ctx, cfg, be, st, func(*collector) (spool, error) { return newMemSpool(), nil })
	if err != nil {
		return nil, err
	}
	return col.Inventory() // cannot fail: the records are in memory
}

// collectEach is CollectEach after setup, with the spool newSpool makes.
func collectEach(ctx context.Context, cfg Config, be backend, st *stats, newSpool func(*collector) (spool, error)) (_ *Collection, err error) {
	c := &collector{
		cfg: cfg, be: be, log: cfg.Logger, stats: st,
		progress:    newProgress(cfg.Progress, st),
		regionSem:   semaphore.NewWeighted(int64(cfg.RegionConcurrency)),
		in:          newInterner(),
		awsPolMu:    new(sync.Mutex),
		awsPolicies: map[awsPolicyKey]*inventory.ManagedPolicy{},
	}
	if t, ok := be.(interface{ endpoints() *endpoints }); ok {
		c.eps = t.endpoints()
	}
	sp, err := newSpool(c)
	if err != nil {
		return nil, err
	}
	_, inMemory := sp.(*memSpool)
	c.spooled = !inMemory
	defer func() {
		if err != nil {
			_ = sp.close()
		}
	}()
	c.stsBucket = c.newBucket(stsRate, stsBurst, stsInFlight)
	c.orgBucket = c.newBucket(orgRate, orgBurst, orgInFlight)
	start := time.Now()

	// Not recorded: without it there is no scan, and the error says why.
	id, err := invoke(ctx, c, where{}, c.stsBucket, "sts", "GetCallerIdentity", func(ctx context.Context) (*sts.GetCallerIdentityOutput, error) {
		return be.sts().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("scanner: interrupted before the scan started: %w", ctx.Err())
		}
		return nil, startError("identify the caller with sts:GetCallerIdentity", err, "check the credentials and the endpoint configuration")
	}
	c.caller = aws.ToString(id.Account)
	if parsed, perr := arn.Parse(aws.ToString(id.Arn)); perr == nil {
		c.partition = parsed.Partition
	}
	if !inventory.IsAccountID(c.caller) || !validPartition(c.partition) {
		return nil, &StartError{Cause: fmt.Sprintf("sts:GetCallerIdentity returned an unusable identity (account %q, ARN %q)",
			sanitize(c.caller), sanitize(aws.ToString(id.Arn))), Fix: "check that the endpoint (AWS_ENDPOINT_URL) is an AWS STS endpoint"}
	}

	regionsScope := cfg.Regions
	if regionsScope == nil {
		regionsScope = []string{"all"}
	}
	inv := &inventory.Inventory{
		Format:        inventory.Format,
		SchemaVersion: inventory.SchemaVersion,
		ToolVersion:   cfg.ToolVersion,
		CollectedAt:   time.Now().UTC().Truncate(time.Second),
		Partition:     c.partition,
		Scope: inventory.Scope{
			Source: "live", Org: cfg.Org, Regions: regionsScope,
			AllRevisions: cfg.AllRevisions, CallerAccount: c.caller,
		},
		Accounts: []*inventory.Account{},
	}
	c.log.Info("scan starting", "caller", c.caller, "partition", c.partition, "org", cfg.Org)

	targets, err := c.targets(ctx)
	if err != nil {
		if ctx.Err() == nil {
			return nil, err
		}
		c.markInterrupted(interruptReason(ctx))
	}
	if c.org != nil {
		inv.Organization = c.org.org
	}
	if cfg.Shard.Enabled() {
		inv.Shard = c.shardInfo(inv, targets)
	}
	c.progress.setAccounts(len(targets))

	states := make([]*accountState, len(targets))
	for i, t := range targets {
		states[i] = &accountState{acct: &inventory.Account{ID: t.id, Name: t.name, Email: t.email, Status: t.status}}
	}
	// Paths need only the caller's Organizations access: they are resolved
	// alongside the account scans, without holding an account slot.
	var paths errgroup.Group
	if c.org != nil {
		c.org.bulk = cfg.forceBulk || useBulk(len(targets), c.org.size, len(cfg.OUs) > 0)
		for i, t := range targets {
			paths.Go(func() error {
				states[i].acct.Path = c.accountPath(ctx, t)
				return nil
			})
		}
	}
	idx := &refIndex{}
	var g errgroup.Group
	g.SetLimit(cfg.AccountConcurrency)
	for i, t := range targets {
		if ctx.Err() != nil {
			c.notStarted(ctx, where{account: t.id}, "ScanAccount", "account "+t.id)
			continue
		}
		g.Go(func() error {
			c.scanAccount(ctx, t, states[i])
			c.spoolAccount(ctx, states[i], idx, sp)
			return nil
		})
	}
	_ = g.Wait() // the workers record their failures; they never return one

	inv.Scope.Resources = inventory.ResourcesSkipped
	if cfg.ResolveResources {
		// Also when interrupted: every reference left unresolved is then
		// recorded as such.
		inv.S3Buckets = c.resolveResources(ctx, states, idx)
		inv.Scope.Resources = inventory.ResourcesResolved
	}
	_ = paths.Wait()

	// The accounts outside the shard that the resolution entered hold only
	// what it looked up there.
	for _, a := range c.ref.accounts() {
		inv.Accounts = append(inv.Accounts, a)
		inv.Shard.ReferencedAccounts = append(inv.Shard.ReferencedAccounts, a.ID)
	}
	if inv.Shard != nil {
		slices.Sort(inv.Shard.ReferencedAccounts)
	}
	for _, s := range states {
		inv.Accounts = append(inv.Accounts, s.acct)
	}
	if c.org != nil {
		inv.Organization.Policies = c.org.policiesSnapshot()
		c.in.detach(inv.Organization)
	}
	for _, a := range inv.Accounts {
		a.ID, a.Name, a.Email, a.Status = c.in.str(a.ID), c.in.str(a.Name), c.in.str(a.Email), c.in.str(a.Status)
		c.in.detach(&a.Path)
	}
	inv.AWSManagedPolicies = c.sharedAWSPolicies()
	inv.Errors = c.errs
	if ctx.Err() != nil {
		c.markInterrupted(interruptReason(ctx))
	}
	inv.Interrupted = c.interrupted
	inv.Complete = inv.Interrupted == ""
	sortInventory(inv)

	c.progress.changed(true)
	p := c.progress.snapshot()
	c.log.Info("scan finished", "accounts", len(inv.Accounts), "calls", p.Calls, "errors", len(inv.Errors),
		"throttles", p.Throttles, "elapsed", time.Since(start).Round(time.Millisecond), "complete", inv.Complete)
	return &Collection{Index: inv, spool: sp}, nil
}

// spoolAccount ends an account's scan: what its task definitions
// reference in its own regions is resolved there (resolveAccount), the
// rest is filed in idx, what it collected goes to the spool, and its state
// keeps stubs of its regions (name and status), to which resolveResources
// adds what it finds there for other accounts.
func (c *collector) spoolAccount(ctx context.Context, st *accountState, idx *refIndex, sp spool) {
	var regions []*inventory.Region
	for _, rs := range st.regions {
		if rs.region != nil {
			regions = append(regions, rs.region)
		}
	}
	a := &inventory.Account{IAM: st.acct.IAM, Regions: regions}
	if c.cfg.ResolveResources {
		in := st.in
		if in == nil {
			in = c.in
		}
		c.resolveAccount(ctx, st, regions, idx, in)
	}
	sortAccount(a)
	sp.put(st.acct.ID, &spoolRecord{IAM: a.IAM, Regions: a.Regions})
	st.acct.IAM, st.in = nil, nil
	st.acct.Regions = stubRegions(a.Regions)
	for i, r := range a.Regions {
		rs := st.regions[r.Name]
		rs.region = st.acct.Regions[i]
		if c.spooled {
			rs.dropClients(st.sess, r.Name)
		}
	}
}

func interruptReason(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "deadline"
	}
	return "interrupted"
}

func validPartition(p string) bool {
	switch p {
	case "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc":
		return true
	}
	return false
}

// targets lists the accounts to scan, filtered by Accounts and
// ExcludeAccounts.
func (c *collector) targets(ctx context.Context) ([]target, error) {
	var ts []target
	if c.cfg.Org {
		var err error
		ts, err = c.orgTargets(ctx)
		if err != nil {
			return nil, err
		}
	} else {
		ids := c.cfg.Accounts
		if len(ids) == 0 {
			ids = []string{c.caller}
		}
		for _, id := range ids {
			ts = append(ts, target{id: id})
		}
	}
	ts = slices.DeleteFunc(ts, func(t target) bool {
		_, excluded := slices.BinarySearch(c.cfg.ExcludeAccounts, t.id)
		return excluded
	})
	slices.SortFunc(ts, func(a, b target) int { return strings.Compare(a.id, b.id) })
	if sh := c.cfg.Shard; sh.Enabled() {
		c.ref = &referable{c: c, targets: map[string]target{}, states: map[string]*refAccount{}}
		c.inScope = len(ts)
		ts = slices.DeleteFunc(ts, func(t target) bool {
			if sh.Has(t.id) {
				return false
			}
			c.ref.targets[t.id] = t
			return true
		})
	}
	return ts, nil
}

// roleARN is the role to assume in account id ("" for the caller's own).
func (c *collector) roleARN(id string) string {
	if id == c.caller {
		return ""
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", c.partition, id, c.cfg.RoleName)
}

// scanAccount collects one account: credentials, IAM, regions.
func (c *collector) scanAccount(ctx context.Context, t target, st *accountState) {
	defer c.progress.accountDone()
	start := time.Now()
	c.log.Info("account starting", "account", t.id, "name", sanitize(t.name))
	w := where{account: t.id}

	var g errgroup.Group
	defer func() {
		_ = g.Wait()
		c.log.Info("account done", "account", t.id, "regions", len(st.regions),
			"elapsed", time.Since(start).Round(time.Millisecond))
	}()

	// The backend rate-limits and counts the AssumeRole call itself (it is
	// also made again when the cached credentials expire).
	role := c.roleARN(t.id)
	sctx, cancel := context.WithTimeout(ctx, c.callLimit())
	sess, err := c.be.session(sctx, t.id, role)
	if err != nil && ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded) && !errors.As(err, new(*timeoutError)) {
		err = &timeoutError{after: c.callLimit(), err: err}
	}
	cancel()
	if err != nil {
		c.record(ctx, w, "sts", "AssumeRole", role, err)
		c.progress.addRegions(0)
		return
	}
	st.sess = sess

	in := c.in
	if c.spooled {
		// The account's data is dropped once spooled: strings shared
		// with other accounts would be held for nothing.
		in = newInterner()
		st.in = in
	}
	g.Go(func() error {
		st.acct.IAM = c.collectIAM(ctx, t.id, sess.iam(), in)
		return nil
	})

	plans := c.regionsFor(ctx, t.id, sess.account())
	c.progress.addRegions(len(plans))
	st.regions = make(map[string]*regionState, len(plans))
	for _, p := range plans {
		rs := &regionState{}
		st.regions[p.name] = rs
		if p.status == inventory.RegionNotEnabled {
			rs.region = &inventory.Region{Name: p.name, Status: inventory.RegionNotEnabled}
			c.progress.regionDone()
			continue
		}
		g.Go(func() error {
			if err := c.regionSem.Acquire(ctx, 1); err != nil {
				// Interrupted before this region started.
				c.notStarted(ctx, where{account: t.id, region: p.name}, "ScanRegion", "account "+t.id+" region "+p.name)
				rs.region = &inventory.Region{Name: p.name, Status: inventory.RegionFailed}
				c.progress.regionDone()
				return nil
			}
			defer c.regionSem.Release(1)
			rs.clients, rs.scanned = sess.regional(p.name), true
			region := c.scanRegion(ctx, where{account: t.id, region: p.name}, rs.clients, p.explicit)
			in.detach(region)
			rs.region = region
			c.progress.regionDone()
			return nil
		})
	}
}
