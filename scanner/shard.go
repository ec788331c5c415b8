package scanner

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/ecs-audit/audit/inventory"
)

// MaxShards bounds Shard.Count.
const MaxShards = 10000

// Shard is the part of the accounts in scope that one run scans: shard
// Index (0-based) of Count. The zero value scans every account.
type Shard struct {
	Index, Count int
}

// Enabled says whether the scan is sharded.
func (s Shard) Enabled() bool { return s.Count > 0 }

// Has says whether the account belongs to the shard (always, unsharded).
func (s Shard) Has(accountID string) bool {
	return !s.Enabled() || ShardOf(accountID, s.Count) == s.Index
}

// ShardOf is the 0-based shard of n that owns the account: rendezvous
// (highest random weight) hashing. Every shard k scores the account with
// the first 8 bytes of SHA-256(accountID, 0, k) and the highest score wins
// (the lower k on a tie). An account's shard depends on its ID and n only,
// so adding or removing an account moves no other account, and going from
// n to n+1 shards moves only the accounts the new shard wins (about 1 in
// n+1). n < 1 is one shard.
func ShardOf(accountID string, n int) int {
	best, bestScore := 0, uint64(0)
	buf := make([]byte, 0, len(accountID)+1+20)
	for k := range max(n, 1) {
		buf = append(buf[:0], accountID...)
		buf = append(buf, 0)
		buf = strconv.AppendInt(buf, int64(k), 10)
		sum := sha256.Sum256(buf)
		if score := binary.BigEndian.Uint64(sum[:8]); k == 0 || score > bestScore {
			best, bestScore = k, score
		}
	}
	return best
}

// validateShard is Validate's check of Shard.
func (s Shard) validate() error {
	switch {
	case s.Count == 0 && s.Index == 0:
		return nil
	case s.Count < 1 || s.Count > MaxShards:
		return errors.New("the shard count must be 1 to " + strconv.Itoa(MaxShards))
	case s.Index < 0 || s.Index >= s.Count:
		return errors.New("the shard index is 0-based: 0 to " + strconv.Itoa(s.Count-1))
	}
	return nil
}

// referable are the accounts of the scope outside the shard: a sharded
// scan looks up in them the resources that its own task definitions
// reference (an image in a shared registry, a secret or a key of another
// account), as an unsharded scan does, so that its findings are those an
// unsharded scan makes for the shard's accounts. Nothing else is
// collected there. Each account is entered (AssumeRole, and its regions
// listed) once, on first use.
type referable struct {
	c       *collector
	targets map[string]target
	mu      sync.Mutex
	states  map[string]*refAccount
}

type refAccount struct {
	once  sync.Once
	state *accountState
	// used are the regions the resolution looked up something in.
	used map[string]bool
}

// region returns the region of a referable account where o's resources
// are looked up, or nil (not referable, not entered, not enabled or not
// in scope).
func (r *referable) region(ctx context.Context, o resOwner) *regionState {
	st := r.state(ctx, o.account)
	if st == nil || st.sess == nil || st.regions[o.region] == nil {
		return nil
	}
	r.mu.Lock()
	r.states[o.account].used[o.region] = true
	r.mu.Unlock()
	return st.regions[o.region]
}

// state returns the account's state for resolution (nil when the account
// is not referable or cannot be entered; the failure is recorded).
func (r *referable) state(ctx context.Context, id string) *accountState {
	if r == nil {
		return nil
	}
	t, ok := r.targets[id]
	if !ok {
		return nil
	}
	r.mu.Lock()
	ra := r.states[id]
	if ra == nil {
		ra = &refAccount{used: map[string]bool{}}
		r.states[id] = ra
	}
	r.mu.Unlock()
	ra.once.Do(func() { ra.state = r.c.enterReferenced(ctx, t) })
	return ra.state
}

// accounts are the referable accounts entered, with the regions the
// resolution used, for the inventory.
func (r *referable) accounts() []*inventory.Account {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*inventory.Account
	for _, ra := range r.states {
		if ra.state == nil {
			continue
		}
		a := ra.state.acct
		for name, rs := range ra.state.regions {
			if ra.used[name] {
				a.Regions = append(a.Regions, rs.region)
			}
		}
		out = append(out, a)
	}
	return out
}

// enterAllReferable enters every account of the scope outside the shard
// that is not in skip (concurrently, as many at once as accounts are
// scanned) and returns those it could enter.
func (c *collector) enterAllReferable(ctx context.Context, skip map[string]*accountState) map[string]*accountState {
	out := map[string]*accountState{}
	if c.ref == nil {
		return out
	}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(max(1, c.cfg.AccountConcurrency))
	for _, id := range slices.Sorted(maps.Keys(c.ref.targets)) {
		if skip[id] != nil {
			continue
		}
		g.Go(func() error {
			if st := c.ref.state(ctx, id); st != nil && st.sess != nil {
				mu.Lock()
				out[id] = st
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// enterReferenced assumes the role in an account outside the shard and
// lists its regions, without collecting anything: its enabled regions in
// scope are marked scanned, so that what the resolution looks up there
// counts as collected (a secret not found there is missing, as in an
// unsharded scan).
func (c *collector) enterReferenced(ctx context.Context, t target) *accountState {
	st := &accountState{acct: &inventory.Account{ID: t.id, Name: t.name, Email: t.email, Status: t.status}}
	role := c.roleARN(t.id)
	sctx, cancel := context.WithTimeout(ctx, c.callLimit())
	sess, err := c.be.session(sctx, t.id, role)
	cancel()
	if err != nil {
		c.record(ctx, where{account: t.id}, "sts", "AssumeRole", role, err)
		return st
	}
	st.sess = sess
	st.regions = map[string]*regionState{}
	for _, p := range c.regionsFor(ctx, t.id, sess.account()) {
		if p.status == inventory.RegionNotEnabled {
			continue
		}
		st.regions[p.name] = &regionState{clients: sess.regional(p.name), scanned: true,
			region: &inventory.Region{Name: p.name, Status: inventory.RegionScanned}}
	}
	return st
}

// shardInfo is the inventory's record of a sharded scan.
func (c *collector) shardInfo(inv *inventory.Inventory, own []target) *inventory.Shard {
	sh := &inventory.Shard{Index: c.cfg.Shard.Index, Count: c.cfg.Shard.Count, StartedAt: inv.CollectedAt,
		AccountsInScope: c.inScope, Accounts: make([]string, 0, len(own)),
		Scope: inventory.ShardScope{Org: c.cfg.Org, OUs: c.cfg.OUs, Accounts: c.cfg.Accounts,
			ExcludeAccounts: c.cfg.ExcludeAccounts, Regions: inv.Scope.Regions}}
	if inv.Organization != nil {
		sh.OrganizationID = inv.Organization.ID
	}
	for _, t := range own {
		sh.Accounts = append(sh.Accounts, t.id)
	}
	return sh
}
