package inventory

import (
	"encoding/json"
	"slices"
	"strings"
)

// An AWS managed policy version is the same document in every account, and
// an Organization's roles use the same few (AmazonECSTaskExecutionRolePolicy,
// ReadOnlyAccess, …) in every account. The inventory holds each once, in
// Inventory.AWSManagedPolicies, and a snapshot writes it once: an
// account's entry whose name, path and document are those of the shared
// entry is written as a reference (arn, defaultVersionId, awsManaged and
// shared: true). Reading a snapshot, or any JSON of an inventory, links the
// references back and shares equal entries written in full (as files
// written before, and version 1 files, have them).

// policyKey identifies an AWS managed policy version.
type policyKey struct{ arn, version string }

func keyOf(p *ManagedPolicy) policyKey { return policyKey{p.ARN, p.DefaultVersionID} }

// sameVersion reports whether an account's entry says what the shared
// entry s says.
func sameVersion(p, s *ManagedPolicy) bool {
	return p.AWSManaged && !p.Shared && p.ARN == s.ARN && p.DefaultVersionID == s.DefaultVersionID &&
		p.Name == s.Name && p.Path == s.Path && p.Document == s.Document
}

// MarshalJSON writes the inventory with each AWS managed policy version
// once, in awsManagedPolicies, and the accounts' entries for it as
// references.
func (inv Inventory) MarshalJSON() ([]byte, error) {
	type plain Inventory
	out := plain(inv)
	out.AWSManagedPolicies, out.Accounts = inv.sharedForm()
	return json.Marshal(out)
}

// UnmarshalJSON reads an inventory and links the accounts' AWS managed
// policy entries to the shared ones (see shareAWSManagedPolicies).
func (inv *Inventory) UnmarshalJSON(b []byte) error {
	type plain Inventory
	if err := json.Unmarshal(b, (*plain)(inv)); err != nil {
		return err
	}
	inv.shareAWSManagedPolicies()
	return nil
}

// sharedForm returns the list of shared AWS managed policy versions (those
// of AWSManagedPolicies, then the first full entry of each other version
// in the accounts, sorted by ARN and version) and the accounts with the
// entries equal to a shared one replaced by references. Accounts without
// such an entry are not copied; the inventory is not modified.
func (inv *Inventory) sharedForm() ([]*ManagedPolicy, []*Account) {
	shared := map[policyKey]*ManagedPolicy{}
	var list []*ManagedPolicy
	add := func(p *ManagedPolicy) {
		if p == nil || !p.AWSManaged || p.Shared || strings.TrimSpace(p.Document) == "" {
			return
		}
		if k := keyOf(p); shared[k] == nil {
			shared[k] = p
			list = append(list, p)
		}
	}
	for _, p := range inv.AWSManagedPolicies {
		add(p)
	}
	for _, a := range inv.Accounts {
		if a != nil && a.IAM != nil {
			for _, p := range a.IAM.ManagedPolicies {
				add(p)
			}
		}
	}
	if len(list) == 0 {
		return inv.AWSManagedPolicies, inv.Accounts
	}
	sortShared(list)
	accounts := slices.Clone(inv.Accounts)
	for i, a := range accounts {
		accounts[i] = sharedAccount(a, shared)
	}
	return list, accounts
}

// sortShared orders shared AWS managed policy versions by ARN and version.
func sortShared(list []*ManagedPolicy) {
	slices.SortStableFunc(list, func(a, b *ManagedPolicy) int {
		if c := strings.Compare(a.ARN, b.ARN); c != 0 {
			return c
		}
		return strings.Compare(a.DefaultVersionID, b.DefaultVersionID)
	})
}

// sharedAccount returns a with its entries equal to a shared one replaced
// by references (a itself when it has none; a is not modified).
func sharedAccount(a *Account, shared map[policyKey]*ManagedPolicy) *Account {
	if a == nil || a.IAM == nil {
		return a
	}
	var mps []*ManagedPolicy
	for j, p := range a.IAM.ManagedPolicies {
		if p == nil || !p.AWSManaged {
			continue
		}
		s := shared[keyOf(p)]
		if s == nil || !sameVersion(p, s) {
			continue // not collected here, or unlike the shared entry: written in full
		}
		if mps == nil {
			mps = slices.Clone(a.IAM.ManagedPolicies)
		}
		mps[j] = &ManagedPolicy{ARN: p.ARN, DefaultVersionID: p.DefaultVersionID, AWSManaged: true, Shared: true}
	}
	if mps == nil {
		return a
	}
	ac, iam := *a, *a.IAM
	iam.ManagedPolicies = mps
	ac.IAM = &iam
	return &ac
}

// shareAWSManagedPolicies makes every account's entry for an AWS managed
// policy version the one shared entry: a reference (Shared) becomes the
// awsManagedPolicies entry it names, and a full entry equal to an entry
// seen before (in awsManagedPolicies or an earlier account) becomes that
// one. AWSManagedPolicies itself is left as read. A reference that names
// no entry, or that also gives a name, path or document, is left as it is,
// for validation to report.
func (inv *Inventory) shareAWSManagedPolicies() {
	s := newPolicySharer(inv.AWSManagedPolicies)
	for _, a := range inv.Accounts {
		s.account(a)
	}
}

// policySharer links the AWS managed policy entries of accounts read in
// order (shareAWSManagedPolicies, Stream.Accounts). It keeps one entry per
// policy version: those of awsManagedPolicies, and the first full entry of
// each other version in the accounts read so far.
type policySharer map[policyKey]*ManagedPolicy

func newPolicySharer(list []*ManagedPolicy) policySharer {
	shared := policySharer{}
	for _, p := range list {
		if p != nil && !p.Shared && shared[keyOf(p)] == nil {
			shared[keyOf(p)] = p
		}
	}
	return shared
}

// account links the entries of the next account.
func (shared policySharer) account(a *Account) {
	if a == nil || a.IAM == nil {
		return
	}
	for j, p := range a.IAM.ManagedPolicies {
		if p == nil || !p.AWSManaged {
			continue
		}
		s := shared[keyOf(p)]
		switch {
		case p.Shared:
			if s != nil && p.Name == "" && p.Path == "" && p.Document == "" {
				a.IAM.ManagedPolicies[j] = s
			}
		case s != nil:
			if sameVersion(p, s) {
				a.IAM.ManagedPolicies[j] = s
			}
		case strings.TrimSpace(p.Document) != "":
			shared[keyOf(p)] = p
		}
	}
}
