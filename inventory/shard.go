package inventory

import "time"

// Shard says which part of the accounts in scope a sharded scan collected
// (audit scan --shard K/N): the accounts whose shard, by the rendezvous
// hash of their ID (scanner.ShardOf), is Index. The shards of one run
// share Count, the organization and the scope options; audit merge checks
// them.
type Shard struct {
	// Index is the shard, 0-based; Count the number of shards.
	Index int `json:"index"`
	Count int `json:"count"`
	// OrganizationID is the organization's ID ("" without --org).
	OrganizationID string `json:"organizationId,omitempty"`
	// Scope holds the options that chose the accounts and regions.
	Scope ShardScope `json:"scope"`
	// StartedAt is when the shard's scan started.
	StartedAt time.Time `json:"startedAt"`
	// AccountsInScope counts the accounts of the scope, every shard's.
	AccountsInScope int `json:"accountsInScope"`
	// Accounts are the shard's accounts, sorted.
	Accounts []string `json:"accounts"`
	// ReferencedAccounts are accounts of other shards in which the scan
	// looked up what the shard's task definitions reference (an image in a
	// shared registry, another account's secret or key), sorted. In the
	// snapshot, their entries hold only what was looked up: no IAM, and
	// regions marked scanned that hold only those resources.
	ReferencedAccounts []string `json:"referencedAccounts,omitempty"`
}

// ShardScope is what the scan was asked to cover, as the options said it.
type ShardScope struct {
	Org             bool     `json:"org,omitempty"`
	OUs             []string `json:"ous,omitempty"`
	Accounts        []string `json:"accounts,omitempty"`
	ExcludeAccounts []string `json:"excludeAccounts,omitempty"`
	// Regions are the regions asked for ("all" or names).
	Regions []string `json:"regions"`
}
