// Package scanner collects an inventory.Inventory from live AWS: the
// accounts of an AWS Organization (or the caller's own account), each
// account's path of OUs with its SCPs and RCPs, IAM roles and managed
// policies, and per account×region the ECS clusters, services, container
// instances and task definitions, plus (optionally) the Secrets Manager
// secrets, SSM parameters and KMS keys the task definitions reference.
//
// It is the only package that imports the AWS SDK, and it is read-only by
// construction: it talks to AWS through small interfaces (api.go) that list
// only List, Describe and Get operations (and sts:AssumeRole, which creates
// nothing). It never reads a secret or parameter value; environment values
// are classified and dropped as task definitions are read.
//
// Every failed call becomes an inventory.CollectionError; nothing is
// dropped. An interrupted scan returns what it has, marked incomplete.
//
// How a scan runs (collect.go): the caller is identified, the accounts are
// listed (Organizations, filtered), then up to AccountConcurrency accounts
// are scanned at once: credentials (AssumeRole, cached), IAM
// (GetAccountAuthorizationDetails, once per account), regions
// (account:ListRegions unless named), and each account×region's ECS
// resources under a global bound of RegionConcurrency. Organization paths
// are resolved alongside, with shared caches; when most of a large
// organization is scanned, its tree and policy attachments are read once
// for the whole organization (org.go, bulkIndex). Resources referenced by
// task definitions are resolved last, in the accounts that own them.
//
// Client-side token buckets shaped like ECS's documented buckets keep the
// scan under the throttling limits instead of relying on retries (see
// limits.go); each call attempt has a timeout (Config.CallTimeout).
package scanner
