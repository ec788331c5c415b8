package scanner

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/ecs-audit/audit/inventory"
)

// Account by account.
//
// As soon as an account's scan ends, what its task definitions reference
// in its own regions is resolved there (resolveAccount), with its
// credentials, and what it collected (IAM, clusters, task definitions,
// launches, network, and those resources) goes to a spool: a temporary
// file, compressed, one record per account. What it references in another
// account (a shared registry, a secret or a key of another account) and S3
// buckets (found by their owner's listing) are filed, and resolved once
// for all who use them after the last account is scanned (resolveResources).
// In memory stays a stub: the account's ID, name and path, and per region
// the status and what that last resolution finds there for other accounts,
// which is what findings.Index needs of every account (an account's own
// resources come with it, a layer over the Index's). A Collection then
// reads each account back whole, merging the two, for the evaluation, so
// that what a live scan holds at once is the accounts in flight and the
// stubs, not the Organization.

// spool keeps what each account collected until it is read back.
type spool interface {
	put(id string, rec *spoolRecord)
	// get returns the account's record, nil when none was put.
	get(id string) (*spoolRecord, error)
	close() error
}

// spoolRecord is what one account collected.
type spoolRecord struct {
	IAM     *inventory.IAM      `json:"iam,omitempty"`
	Regions []*inventory.Region `json:"regions"`
}

// memSpool keeps the records in memory (Collect, which returns the whole
// inventory anyway).
type memSpool struct {
	mu  sync.Mutex
	rec map[string]*spoolRecord
}

func newMemSpool() *memSpool { return &memSpool{rec: map[string]*spoolRecord{}} }

func (s *memSpool) put(id string, rec *spoolRecord) {
	s.mu.Lock()
	s.rec[id] = rec
	s.mu.Unlock()
}

func (s *memSpool) get(id string) (*spoolRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec[id], nil
}

func (s *memSpool) close() error { return nil }

// fileSpool writes each record to one temporary file: JSON (as a snapshot
// has it, AWS managed policy versions as references to the scan's shared
// entries), deflated, with a CRC-32C of the stored bytes. A record that
// cannot be written (a full disk) is kept in memory instead, and said so
// in the log: nothing collected is lost, the scan only holds more.
type fileSpool struct {
	log  *slog.Logger
	file *os.File
	// polMu and pols are the scan's shared AWS managed policy versions
	// (collector.awsPolicies).
	polMu *sync.Mutex
	pols  map[awsPolicyKey]*inventory.ManagedPolicy

	mu     sync.Mutex
	size   int64
	at     map[string]spoolSpan
	mem    map[string]*spoolRecord
	warned bool
}

type spoolSpan struct {
	off, n int64
	sum    uint32
}

var spoolCRC = crc32.MakeTable(crc32.Castagnoli)

func newFileSpool(c *collector, dir string) (*fileSpool, error) {
	f, err := os.CreateTemp(dir, "audit-spool-*")
	if err != nil {
		// Before any call, and the option's to mend.
		shown := dir
		if shown == "" {
			shown = os.TempDir()
		}
		reason := err.Error()
		var pe *os.PathError
		if errors.As(err, &pe) {
			reason = pe.Err.Error()
		}
		return nil, &ConfigError{Field: "SpoolDir", Value: shown, Reason: "cannot create the scan's spool file there: " + reason}
	}
	return &fileSpool{log: c.log, file: f, polMu: c.awsPolMu, pols: c.awsPolicies, at: map[string]spoolSpan{}, mem: map[string]*spoolRecord{}}, nil
}

func (s *fileSpool) put(id string, rec *spoolRecord) {
	b, err := s.encode(rec)
	if err == nil {
		s.mu.Lock()
		off := s.size
		if _, err = s.file.WriteAt(b, off); err == nil {
			s.at[id] = spoolSpan{off: off, n: int64(len(b)), sum: crc32.Checksum(b, spoolCRC)}
			s.size += int64(len(b))
		}
		s.mu.Unlock()
	}
	if err != nil {
		s.mu.Lock()
		s.mem[id] = rec
		warn := !s.warned
		s.warned = true
		s.mu.Unlock()
		if warn {
			s.log.Warn("cannot write to the spool file: keeping what accounts collected in memory instead",
				"file", s.file.Name(), "error", err.Error())
		}
	}
}

func (s *fileSpool) get(id string) (*spoolRecord, error) {
	s.mu.Lock()
	sp, ok := s.at[id]
	rec := s.mem[id]
	s.mu.Unlock()
	if !ok {
		return rec, nil
	}
	b := make([]byte, sp.n)
	if _, err := s.file.ReadAt(b, sp.off); err != nil {
		return nil, fmt.Errorf("reading the spool file %s: %w", s.file.Name(), err)
	}
	if crc32.Checksum(b, spoolCRC) != sp.sum {
		return nil, fmt.Errorf("the spool file %s changed since it was written", s.file.Name())
	}
	return s.decode(b)
}

func (s *fileSpool) close() error {
	name := s.file.Name()
	return errors.Join(s.file.Close(), os.Remove(name))
}

// encode writes a record with its AWS managed policy versions that are
// the scan's shared entries as references.
func (s *fileSpool) encode(rec *spoolRecord) ([]byte, error) {
	out := *rec
	if rec.IAM != nil {
		iam := *rec.IAM
		iam.ManagedPolicies = slices.Clone(iam.ManagedPolicies)
		s.polMu.Lock()
		for i, p := range iam.ManagedPolicies {
			if p != nil && p.AWSManaged && s.pols[awsPolicyKey{p.ARN, p.DefaultVersionID}] == p {
				iam.ManagedPolicies[i] = &inventory.ManagedPolicy{ARN: p.ARN, DefaultVersionID: p.DefaultVersionID, AWSManaged: true, Shared: true}
			}
		}
		s.polMu.Unlock()
		out.IAM = &iam
	}
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	if err := json.NewEncoder(zw).Encode(&out); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decode reads a record back and links its references to the shared AWS
// managed policy versions.
func (s *fileSpool) decode(b []byte) (*spoolRecord, error) {
	zr := flate.NewReader(bytes.NewReader(b))
	defer zr.Close()
	rec := new(spoolRecord)
	if err := json.NewDecoder(zr).Decode(rec); err != nil {
		return nil, fmt.Errorf("decoding a record of the spool file %s: %w", s.file.Name(), err)
	}
	if rec.IAM == nil {
		return rec, nil
	}
	s.polMu.Lock()
	defer s.polMu.Unlock()
	for i, p := range rec.IAM.ManagedPolicies {
		if p == nil || !p.Shared {
			continue
		}
		shared := s.pols[awsPolicyKey{p.ARN, p.DefaultVersionID}]
		if shared == nil {
			return nil, fmt.Errorf("a record of the spool file %s names AWS managed policy %s version %s, which the scan does not hold",
				s.file.Name(), p.ARN, p.DefaultVersionID)
		}
		rec.IAM.ManagedPolicies[i] = shared
	}
	return rec, nil
}

// Collection is what a live scan collected, held account by account (see
// CollectEach). Index is the inventory with every account as a stub (ID,
// name, email, status, path, and per region its name, status and the
// resources resolved there: what findings.Index and the snapshot's
// header need); Accounts reads each account back whole.
type Collection struct {
	Index *inventory.Inventory
	spool spool
}

// Accounts calls visit with each account of Index, whole (IAM and regions
// as collected, with the resources resolved there), in Index's order. An
// account that was never scanned (interrupted before it started, or an
// account outside the shard where only resources were looked up) is its
// Index entry. An error reading the spool is returned: never a shorter
// list.
func (col *Collection) Accounts(visit func(i int, a *inventory.Account) error) error {
	for i, x := range col.Index.Accounts {
		a, err := col.account(x)
		if err != nil {
			return err
		}
		if err := visit(i, a); err != nil {
			return err
		}
	}
	return nil
}

func (col *Collection) account(x *inventory.Account) (*inventory.Account, error) {
	rec, err := col.spool.get(x.ID)
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", x.ID, err)
	}
	if rec == nil {
		return x, nil
	}
	a := &inventory.Account{ID: x.ID, Name: x.Name, Email: x.Email, Status: x.Status, Path: x.Path, IAM: rec.IAM, Regions: rec.Regions}
	stubs := make(map[string]*inventory.Region, len(x.Regions))
	for _, r := range x.Regions {
		stubs[r.Name] = r
	}
	for _, r := range a.Regions {
		if st := stubs[r.Name]; st != nil {
			mergeResolved(r, st)
		}
	}
	return a, nil
}

// mergeResolved adds to a region, as its account's scan resolved it, what
// the resolution for other accounts found there (from): a resource both
// looked up is kept once (the region's record; the registry's fields that
// only one of them could read are taken from it), a repository's images
// are the union of both, and every list stays in the order sortAccount
// gives.
func mergeResolved(r, from *inventory.Region) {
	r.Secrets = mergeBy(r.Secrets, from.Secrets, func(s *inventory.Secret) string { return s.ARN })
	r.Parameters = mergeBy(r.Parameters, from.Parameters, func(p *inventory.Parameter) string { return p.Name })
	r.KMSKeys = mergeBy(r.KMSKeys, from.KMSKeys, func(k *inventory.KMSKey) string { return k.ARN })
	r.LogGroups = mergeBy(r.LogGroups, from.LogGroups, func(g *inventory.LogGroup) string { return g.Name })
	r.MissingSecrets = mergeBy(r.MissingSecrets, from.MissingSecrets, func(s string) string { return s })
	r.MissingParameters = mergeBy(r.MissingParameters, from.MissingParameters, func(s string) string { return s })
	repos := make(map[string]*inventory.ECRRepository, len(r.ECRRepositories))
	for _, repo := range r.ECRRepositories {
		repos[repo.Name] = repo
	}
	for _, repo := range from.ECRRepositories {
		have := repos[repo.Name]
		if have == nil {
			r.ECRRepositories = append(r.ECRRepositories, repo)
			continue
		}
		for _, im := range repo.Images {
			if !slices.ContainsFunc(have.Images, func(x inventory.ECRImage) bool { return x.Tag == im.Tag && x.Digest == im.Digest }) {
				have.Images = append(have.Images, im)
			}
		}
		slices.SortFunc(have.Images, compareImages)
	}
	slices.SortFunc(r.ECRRepositories, func(x, y *inventory.ECRRepository) int { return strings.Compare(x.Name, y.Name) })
	switch g := from.ECRRegistry; {
	case g == nil:
	case r.ECRRegistry == nil:
		r.ECRRegistry = g
	default:
		merged := *r.ECRRegistry
		if merged.PullThroughCacheRulesStatus != inventory.PolicyCollected && g.PullThroughCacheRulesStatus == inventory.PolicyCollected {
			merged.PullThroughCacheRules, merged.PullThroughCacheRulesStatus = g.PullThroughCacheRules, g.PullThroughCacheRulesStatus
		}
		if merged.PolicyStatus != inventory.PolicyCollected && g.PolicyStatus == inventory.PolicyCollected {
			merged.Policy, merged.PolicyStatus = g.Policy, g.PolicyStatus
		}
		r.ECRRegistry = &merged
	}
}

// mergeBy appends to list the entries of more whose key it does not hold
// and sorts it by key.
func mergeBy[T any](list, more []T, key func(T) string) []T {
	if len(more) == 0 {
		return list
	}
	if len(list) == 0 {
		return more
	}
	seen := make(map[string]bool, len(list))
	for _, x := range list {
		seen[key(x)] = true
	}
	for _, x := range more {
		if k := key(x); !seen[k] {
			seen[k] = true
			list = append(list, x)
		}
	}
	slices.SortStableFunc(list, func(x, y T) int { return strings.Compare(key(x), key(y)) })
	return list
}

// Inventory reads every account back and returns the whole inventory
// (Index with each stub replaced by the account). The Collection is good
// for nothing else afterwards.
func (col *Collection) Inventory() (*inventory.Inventory, error) {
	inv := col.Index
	accounts := make([]*inventory.Account, len(inv.Accounts))
	err := col.Accounts(func(i int, a *inventory.Account) error {
		accounts[i] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	inv.Accounts = accounts
	return inv, nil
}

// Close removes the spool file and lets the Index go; it may be called
// more than once.
func (col *Collection) Close() error {
	if col == nil || col.spool == nil {
		return nil
	}
	err := col.spool.close()
	col.spool, col.Index = nil, nil
	return err
}

// CollectEach is Collect holding what each account collected in a spool
// file (in cfg.SpoolDir, or the system's temporary directory) from the end
// of its scan until Collection.Accounts reads it back: the scan's memory
// is that of the accounts in flight, not of the Organization. Its errors
// are Collect's, and a spool file that cannot be created in cfg.SpoolDir
// (a *ConfigError, before any call); when the system's temporary directory
// cannot take it, the accounts are held in memory instead, with a warning
// in the log. Close the Collection to remove the file.
func CollectEach(ctx context.Context, cfg Config) (*Collection, error) {
	cfg, be, st, err := start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return collectEach(ctx, cfg, be, st, func(c *collector) (spool, error) {
		sp, err := newFileSpool(c, cfg.SpoolDir)
		if err != nil && cfg.SpoolDir == "" {
			// The system's temporary directory is not writable (a
			// read-only root file system): the scan still runs, holding
			// what it collects, as Collect does.
			c.log.Warn("cannot create the scan's spool file in the temporary directory: what the accounts collect is held in memory until it is evaluated; give a writable directory with --spool-dir (or TMPDIR)",
				"error", err.Error())
			return newMemSpool(), nil
		}
		return sp, err
	})
}

// stub is an account's Index entry: regions with their name and status
// (resolution adds the resources it finds to them).
func stubRegions(regions []*inventory.Region) []*inventory.Region {
	out := make([]*inventory.Region, len(regions))
	for i, r := range regions {
		out[i] = &inventory.Region{Name: r.Name, Status: r.Status}
	}
	return out
}
