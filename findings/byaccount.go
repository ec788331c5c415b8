package findings

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/ecs-audit/audit/inventory"
)

// One account at a time.
//
// Every finding, role and task definition of a Result belongs to one
// account (group.go), and an account's evaluation reads of the other
// accounts only their names and paths (the RCPs on a resource account's
// path) and the resources its task definitions reference there (a shared
// secret, key, repository or bucket). An Index holds exactly that, so
// that each account can be evaluated on its own, released, and its Result
// merged with the others': the Result is the one Evaluate gives for the
// whole inventory, and the memory the evaluation holds is bounded by the
// accounts in flight instead of by the Organization.

// Index is what evaluating one account needs to know of the others: the
// inventory's header (partition, scope, collection time, organization and
// its policies, S3 buckets, the collection errors that say which resource
// policies could not be read), every account's ID, name and path, and the
// resources task definitions may reference in any account (secrets,
// parameters, keys, ECR repositories and registries, log groups, and what
// was looked up and found missing). It does not hold, and does not need,
// any account's IAM, clusters, task definitions, launches or network.
//
// An Index is read-only once built: EvaluateAccount may be called from
// several goroutines.
type Index struct {
	header   inventory.Inventory // Accounts and Errors are per evaluation
	accounts map[string]*inventory.Account
	res      *resources
}

// NewIndex builds the Index of an inventory whose Accounts list every
// account, each with at least its ID, name, path and the regions' status
// and referable resources (inventory.Stream's Index has exactly that; a
// whole inventory has more, which is not kept). The inventory's errors
// are read for the resource policies that could not be collected.
func NewIndex(inv *inventory.Inventory) *Index {
	x := &Index{header: *inv, accounts: make(map[string]*inventory.Account, len(inv.Accounts)), res: indexResources(inv)}
	x.header.Accounts, x.header.Errors, x.header.Shard = nil, nil, nil
	for _, a := range inv.Accounts {
		x.accounts[a.ID] = &inventory.Account{ID: a.ID, Name: a.Name, Email: a.Email, Status: a.Status, Path: a.Path}
	}
	return x
}

// EvaluateAccount evaluates one account, whole (IAM and regions as
// collected), with errs the collection errors recorded for it. The Result
// holds the account's findings, roles, task definitions and coverage;
// MergeAccounts combines the Results of every account (and of the errors
// no account owns, OrgErrors).
func (x *Index) EvaluateAccount(a *inventory.Account, errs []inventory.CollectionError, opts Options) *Result {
	inv := x.header
	inv.Errors = errs
	if a != nil {
		inv.Accounts = []*inventory.Account{a}
	} else {
		inv.Accounts = []*inventory.Account{}
	}
	// The account's own resources come with it (a live scan's Index holds
	// only what accounts reference across accounts): a layer over the
	// Index's.
	return newEvaluation(&inv, opts, x.res.over(inv.Partition, a), x.accounts, a).run()
}

// SplitErrors sorts an inventory's collection errors by the account they
// were recorded in: byAccount holds those of the inventory's accounts,
// rest the others (calls of the organization, or of no account), in their
// order.
func SplitErrors(inv *inventory.Inventory) (byAccount map[string][]inventory.CollectionError, rest []inventory.CollectionError) {
	known := make(map[string]bool, len(inv.Accounts))
	for _, a := range inv.Accounts {
		known[a.ID] = true
	}
	byAccount = map[string][]inventory.CollectionError{}
	for _, ce := range inv.Errors {
		if known[ce.AccountID] {
			byAccount[ce.AccountID] = append(byAccount[ce.AccountID], ce)
		} else {
			rest = append(rest, ce)
		}
	}
	return byAccount, rest
}

// AccountsOptions tune EvaluateAccounts.
type AccountsOptions struct {
	// Workers evaluate accounts at once; 0 means GOMAXPROCS.
	Workers int
	// Release drops each account's collected data (IAM, regions) from the
	// inventory as soon as the account is evaluated, keeping its ID, name
	// and path: the inventory is then good for its header only. The
	// evaluation's memory is that of the accounts in flight and of the
	// Results.
	Release bool
}

// EvaluateAccounts evaluates the inventory one account at a time and
// merges the Results: the Result equals Evaluate's.
func EvaluateAccounts(inv *inventory.Inventory, opts Options, ao AccountsOptions) *Result {
	var done func(int)
	if ao.Release {
		done = func(i int) {
			a := inv.Accounts[i]
			inv.Accounts[i] = &inventory.Account{ID: a.ID, Name: a.Name, Email: a.Email, Status: a.Status, Path: a.Path}
		}
	}
	// Handing over the inventory's own accounts in order cannot fail.
	res, _ := EvaluateEach(inv, opts, ao.Workers, func(visit func(int, *inventory.Account) error) error {
		for i, a := range inv.Accounts {
			if err := visit(i, a); err != nil {
				return err
			}
		}
		return nil
	}, done)
	return res
}

// EvaluateEach evaluates the accounts of an inventory as each hands them
// over, whole, on workers goroutines (0: GOMAXPROCS), and merges the
// Results. index lists every account (at least its ID, name, path and
// referable resources, as NewIndex needs) and every collection error; each
// calls visit with the position of each account in index.Accounts and the
// account. done, when not nil, is called with the position of each
// account once it is evaluated. An error of each is returned, and so is an
// account that was not handed over or not at its position: never a
// Result without it.
func EvaluateEach(index *inventory.Inventory, opts Options, workers int,
	each func(visit func(i int, a *inventory.Account) error) error, done func(i int)) (*Result, error) {
	parts := make([]*Result, len(index.Accounts)+1)
	err := EvaluateEachTo(index, opts, workers, each, done, func(i int, r *Result) error {
		parts[i] = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return MergeAccounts(parts), nil
}

// EvaluateEachTo is EvaluateEach handing each account's Result to add
// instead of merging them: add(i, part) is called once for every account
// (i its position in index.Accounts) and once with i =
// len(index.Accounts) for the errors no account owns, from several
// goroutines at once, in any order (a Spool's Add). The first error of
// add stops the evaluation and is returned.
func EvaluateEachTo(index *inventory.Inventory, opts Options, workers int,
	each func(visit func(i int, a *inventory.Account) error) error, done func(i int), add func(i int, part *Result) error) error {
	x := NewIndex(index)
	byAccount, rest := SplitErrors(index)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	n := len(index.Accounts)
	evaluated := make([]bool, n)
	var mu sync.Mutex
	var addErr error
	failure := func() error {
		mu.Lock()
		defer mu.Unlock()
		return addErr
	}
	hand := func(i int, r *Result) {
		err := add(i, r)
		mu.Lock()
		if err != nil && addErr == nil {
			addErr = err
		}
		if i < n {
			evaluated[i] = true
		}
		mu.Unlock()
	}
	hand(n, x.EvaluateAccount(nil, rest, opts))
	type job struct {
		i int
		a *inventory.Account
	}
	work := make(chan job)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range work {
				if failure() != nil {
					continue
				}
				hand(j.i, x.EvaluateAccount(j.a, byAccount[j.a.ID], opts))
				if done != nil {
					done(j.i)
				}
			}
		})
	}
	err := each(func(i int, a *inventory.Account) error {
		if i < 0 || i >= n || a == nil || a.ID != index.Accounts[i].ID {
			return fmt.Errorf("accounts[%d] is not the account the index lists there", i)
		}
		if err := failure(); err != nil {
			return err
		}
		work <- job{i, a}
		return nil
	})
	close(work)
	wg.Wait()
	if err := failure(); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	for i, ok := range evaluated {
		if !ok {
			return fmt.Errorf("accounts[%d] (%s) was not evaluated", i, index.Accounts[i].ID)
		}
	}
	return nil
}

// MergeAccounts combines the Results EvaluateAccount gave for each
// account of one inventory (and for the errors no account owns) into the
// Result Evaluate gives for the whole inventory. Unlike Merge, which
// combines shards that may each have recorded one error, it keeps every
// error: each was given to one account's evaluation. It empties the
// parts' lists as it takes them, so that the merge does not hold two
// copies of every finding.
func MergeAccounts(parts []*Result) *Result {
	parts = slices.DeleteFunc(slices.Clone(parts), func(p *Result) bool { return p == nil })
	if len(parts) == 0 {
		return nil
	}
	first := parts[0]
	r := &Result{SchemaVersion: first.SchemaVersion, Tool: first.Tool, GeneratedAt: first.GeneratedAt, Rules: first.Rules,
		Scope: Scope{Source: first.Scope.Source, CollectedAt: first.Scope.CollectedAt, Partition: first.Scope.Partition,
			OrganizationID: first.Scope.OrganizationID, Accounts: []AccountRef{}}}
	nf, nr, nt := 0, 0, 0
	for _, p := range parts {
		nf += len(p.Findings)
		nr += len(p.Roles)
		nt += len(p.TaskDefinitions)
	}
	r.Findings = make([]Finding, 0, nf)
	r.Roles = make([]RoleReport, 0, nr)
	r.TaskDefinitions = make([]TaskDefReport, 0, nt)
	c := &r.Coverage
	c.Complete = true
	c.Errors = []inventory.CollectionError{}
	for _, p := range parts {
		r.Scope.Accounts = append(r.Scope.Accounts, p.Scope.Accounts...)
		r.Findings = append(r.Findings, p.Findings...)
		r.Roles = append(r.Roles, p.Roles...)
		r.TaskDefinitions = append(r.TaskDefinitions, p.TaskDefinitions...)
		p.Findings, p.Roles, p.TaskDefinitions = nil, nil, nil
		c.add(p.Coverage)
	}
	sortFindings(r.Findings)
	sort.Slice(r.Roles, func(i, j int) bool { return r.Roles[i].RoleARN < r.Roles[j].RoleARN })
	sort.Slice(r.TaskDefinitions, func(i, j int) bool { return r.TaskDefinitions[i].ARN < r.TaskDefinitions[j].ARN })
	finishParts(r)
	r.summarize()
	return r
}

// finishParts completes the scope and coverage of a Result whose parts
// are the accounts of one evaluation (MergeAccounts, Spool): the accounts,
// errors, account × regions and gaps sorted, Complete as they say, and the
// regions collected.
func finishParts(r *Result) {
	c := &r.Coverage
	sort.Slice(r.Scope.Accounts, func(i, j int) bool { return r.Scope.Accounts[i].ID < r.Scope.Accounts[j].ID })
	sortCoverageErrors(c.Errors)
	sortCollected(c.Collected)
	sort.Strings(c.Gaps)
	c.Gaps = slices.Compact(c.Gaps)
	if c.Gaps == nil {
		c.Gaps = []string{}
	}
	if len(c.Gaps) > 0 || c.RegionsFailed > 0 || len(c.Errors) > 0 {
		c.Complete = false
	}
	r.Scope.Regions = collectedRegions(c.Collected)
}

// EvaluateAccountsTo is EvaluateAccounts handing each account's Result to
// add (a Spool's Add) instead of merging them; see EvaluateEachTo.
func EvaluateAccountsTo(inv *inventory.Inventory, opts Options, ao AccountsOptions, add func(i int, part *Result) error) error {
	var done func(int)
	if ao.Release {
		done = func(i int) {
			a := inv.Accounts[i]
			inv.Accounts[i] = &inventory.Account{ID: a.ID, Name: a.Name, Email: a.Email, Status: a.Status, Path: a.Path}
		}
	}
	return EvaluateEachTo(inv, opts, ao.Workers, func(visit func(int, *inventory.Account) error) error {
		for i, a := range inv.Accounts {
			if err := visit(i, a); err != nil {
				return err
			}
		}
		return nil
	}, done, add)
}
