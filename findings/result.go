package findings

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// ResultSchemaVersion is the version of the findings.json format
// (docs/findings.md). A field added in a later version than 1 carries the
// tag since:"N" with the version that added it, so that a reader of an
// older file does not ask for it.
//
// Version 2: the rule catalog (Result.Rules), and one finding per root
// cause (group.go): a finding's ID is a fingerprint of rule, account,
// region, resource and cause key, and it carries memberIds (the version 1
// IDs of the per-item findings it replaces), impact, affected, fix and the
// per-item evidence lists (needs, unknowns, constraints, features, values,
// problems, excess). Need.Invalid marks a reference that cannot work (its
// note no longer starts with "invalid reference:"). Summary gains items
// and affected.
const ResultSchemaVersion = 2

// OldestResultSchemaVersion is the oldest findings.json version this build
// reads (report.ReadResult).
const OldestResultSchemaVersion = 1

// Severity of a finding.
type Severity string

const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Severities lists every severity, most severe first.
var Severities = []Severity{Critical, High, Medium, Low, Info}

// Rank orders severities: critical 5 … info 1, unknown 0.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 5
	case High:
		return 4
	case Medium:
		return 3
	case Low:
		return 2
	case Info:
		return 1
	}
	return 0
}

// ParseSeverity accepts a severity name (any case) or "none".
func ParseSeverity(s string) (Severity, bool) {
	for _, v := range Severities {
		if strings.EqualFold(string(v), s) {
			return v, true
		}
	}
	return "", false
}

// Resource types of findings.
const (
	ResourceTaskDefinition    = "task-definition"
	ResourceRole              = "iam-role"
	ResourceContainerInstance = "container-instance"
	ResourceService           = "service"
	ResourcePolicy            = "iam-policy"
)

// Result is the outcome of evaluating an inventory: findings with their
// evidence, the coverage of the scan, the least-privilege policy of every
// execution role, and the rule catalog the findings were produced with. It is
// the only input of every report format, so a saved findings.json renders
// the same reports later, without the inventory (docs/findings.md).
type Result struct {
	SchemaVersion   int             `json:"schemaVersion"`
	Tool            Tool            `json:"tool"`
	GeneratedAt     time.Time       `json:"generatedAt"`
	Scope           Scope           `json:"scope"`
	Summary         Summary         `json:"summary"`
	Coverage        Coverage        `json:"coverage"`
	Findings        []Finding       `json:"findings"`
	Roles           []RoleReport    `json:"roles"`
	TaskDefinitions []TaskDefReport `json:"taskDefinitions"`
	// Rules is the rule catalog of the build that produced the findings
	// (every rule, fired or not), sorted by ID, so that the rule
	// descriptions of a report rendered later from this Result are those the
	// findings were made with.
	Rules []RuleMeta `json:"rules" since:"2"`
	// Triage is what package triage added: the suppressions applied and the
	// comparison with a baseline. Nil when neither was used.
	Triage *Triage `json:"triage,omitempty"`
	// Shard is set on the result of one shard of a sharded scan (audit
	// scan --shard K/N): which part of the scope it covers. A merged
	// result has none.
	Shard *inventory.Shard `json:"shard,omitempty" since:"2"`
}

// Tool identifies the producer.
type Tool struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	InformationURI string `json:"informationUri,omitempty"`
}

// Scope says what was analysed.
type Scope struct {
	Source         string       `json:"source,omitempty"`
	CollectedAt    time.Time    `json:"collectedAt"`
	Partition      string       `json:"partition"`
	OrganizationID string       `json:"organizationId,omitempty"`
	Accounts       []AccountRef `json:"accounts"`
	Regions        []string     `json:"regions"`
}

// AccountRef names an account.
type AccountRef struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Summary counts findings. Each finding is one root cause, so Total (and
// every count by severity, rule and account) counts root causes.
type Summary struct {
	Total      int            `json:"total"`
	BySeverity map[string]int `json:"bySeverity"`
	ByRule     map[string]int `json:"byRule"`
	ByAccount  map[string]int `json:"byAccount"`
	// Items counts the items the root causes cover (needs, unmet
	// constraints, features, values, policy problems, excess grants; one
	// for a finding without such a list): the sum of Impact.Items.
	Items int `json:"items" since:"2"`
	// Affected counts the distinct resources at least one finding affects
	// (a finding's own resource and its Affected list), by resource type:
	// {"task-definition": 12, "container-instance": 2, …}.
	Affected        map[string]int `json:"affected" since:"2"`
	TaskDefinitions int            `json:"taskDefinitions"`
	Roles           int            `json:"roles"`
}

// Coverage says what was and was not scanned, and why.
type Coverage struct {
	Complete    bool   `json:"complete"`
	Interrupted string `json:"interrupted,omitempty"`
	// AccountsScanned / AccountsTotal count accounts; an account counts as
	// scanned when IAM and at least one region were collected.
	AccountsScanned   int                         `json:"accountsScanned"`
	AccountsTotal     int                         `json:"accountsTotal"`
	RegionsScanned    int                         `json:"regionsScanned"` // account × region pairs collected
	RegionsNotEnabled int                         `json:"regionsNotEnabled"`
	RegionsFailed     int                         `json:"regionsFailed"`
	Errors            []inventory.CollectionError `json:"errors"`
	// Collected lists exactly what was collected: one entry per account ×
	// region whose status is scanned, and one with an empty region per
	// account whose IAM was collected. What is not listed was not collected
	// (failed, not enabled, not in scope, or the account not scanned).
	Collected []AccountRegion `json:"collected,omitempty"`
	// Gaps are human-readable consequences of the errors ("IAM of account X
	// not collected: its task definitions were not evaluated").
	Gaps []string `json:"gaps,omitempty"`
}

// AccountRegion is one account × region that a scan collected. An empty
// Region stands for the account's global data: its IAM roles and policies.
type AccountRegion struct {
	AccountID string `json:"accountId"`
	Region    string `json:"region,omitempty"`
	// Errors counts the collection errors that name this account and region
	// (for an empty Region, the account's global calls): what was collected
	// there may be incomplete.
	Errors int `json:"errors,omitempty"`
}

// Finding is one root cause with its evidence: one thing to fix on one
// resource, stated once, with every item it affects. What makes a cause,
// and so a finding, is defined in group.go (and in the README, "What a
// finding is").
//
// JSON shape (schema version 2): id, ruleId, severity, title, message,
// accountId, accountName?, region?, resourceType, resourceArn,
// taskDefinitionArn?, roleArn?, container?, evidence, impact, affected?,
// remediation, fix, memberIds. Fields marked ? are absent when they do not
// apply; evidence holds only the lists that apply to the rule.
type Finding struct {
	// ID is a stable fingerprint of rule + account + region + resource +
	// cause key (Fingerprint, group.go): the same cause on the same
	// resource has the same ID in every run, however many items it
	// affects.
	ID       string   `json:"id"`
	RuleID   string   `json:"ruleId"`
	Severity Severity `json:"severity"`
	// Title fits the finding's subject (an environment variable, a log
	// option, an SCP…); the rule's catalog title is the general one.
	Title             string   `json:"title"`
	Message           string   `json:"message"`
	AccountID         string   `json:"accountId"`
	AccountName       string   `json:"accountName,omitempty"`
	Region            string   `json:"region,omitempty"`
	ResourceType      string   `json:"resourceType"`
	ResourceARN       string   `json:"resourceArn"`
	TaskDefinitionARN string   `json:"taskDefinitionArn,omitempty"`
	RoleARN           string   `json:"roleArn,omitempty"`
	Container         string   `json:"container,omitempty"`
	Evidence          Evidence `json:"evidence"`
	// Impact counts what the cause affects.
	Impact Impact `json:"impact" since:"2"`
	// Affected lists the resources the cause affects besides the finding's
	// own resource: the task definitions placed on a container instance or
	// using a role, the roles a policy is attached to, the services that
	// run a task definition. Sorted by type, then ARN.
	Affected []ResourceRef `json:"affected,omitempty"`
	// Remediation is Fix as plain text.
	Remediation string `json:"remediation"`
	// Fix is what to change, derived from why the cause failed (the
	// deciding layer, the unknown, the version or setting).
	Fix Fix `json:"fix" since:"2"`
	// MemberIDs are the IDs that schema version 1 (one finding per item)
	// gave the items this finding covers, sorted, so that a baseline or a
	// suppression written before grouping still matches. A finding whose
	// rule was not grouped lists its own version 1 ID.
	MemberIDs []string `json:"memberIds,omitempty"`
	// Suppression is the active accepted risk that covers the finding. A
	// suppressed finding is still reported; Failing does not count it.
	Suppression *Suppression `json:"suppression,omitempty"`
	// SuppressionExpired is set when every suppression matching the finding
	// has expired: the finding was accepted until SuppressionExpired.Expires
	// and counts again.
	SuppressionExpired *Suppression `json:"suppressionExpired,omitempty"`
	// Change is ChangeNew or ChangeUnchanged once the Result was compared
	// with a baseline; empty otherwise.
	Change string `json:"change,omitempty"`
}

// Values of Finding.Change.
const (
	ChangeNew       = "new"       // not in the baseline
	ChangeUnchanged = "unchanged" // in the baseline, by ID or MemberIDs
)

// Suppression is an accepted risk as a finding carries it.
type Suppression struct {
	Justification string `json:"justification"`
	Owner         string `json:"owner,omitempty"`
	// Expires is the last day (YYYY-MM-DD, UTC) the suppression applies.
	Expires string `json:"expires"`
	// Source is where the suppression is written, as file:line.
	Source string `json:"source"`
	// ExpiresSoon is true when an active suppression ends within the
	// warning window (30 days unless configured).
	ExpiresSoon bool `json:"expiresSoon,omitempty"`
}

// Suppressed says whether an active suppression covers the finding.
func (f *Finding) Suppressed() bool { return f.Suppression != nil }

// Failing counts the findings at or above min that no active suppression
// covers: what --fail-on fails on. A min that is not a severity counts
// nothing.
func (r *Result) Failing(min Severity) int {
	return r.count(min, false)
}

// FailingNew counts the findings at or above min that are new since the
// baseline and not suppressed: what --fail-on-new fails on. Without a
// comparison no finding is new (compare with an empty baseline to treat
// every finding as new).
func (r *Result) FailingNew(min Severity) int {
	return r.count(min, true)
}

func (r *Result) count(min Severity, onlyNew bool) int {
	if min.Rank() == 0 {
		return 0
	}
	n := 0
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Severity.Rank() >= min.Rank() && f.Suppression == nil && (!onlyNew || f.Change == ChangeNew) {
			n++
		}
	}
	return n
}

// SortNewFirst moves new findings before the others, keeping the order
// within each part (stable): the order of the HTML report after a
// comparison.
func SortNewFirst(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		return fs[i].Change == ChangeNew && fs[j].Change != ChangeNew
	})
}

// Triage is what package triage added to a Result.
type Triage struct {
	Suppressions *SuppressionReport `json:"suppressions,omitempty"`
	Baseline     *BaselineReport    `json:"baseline,omitempty"`
}

// SuppressionReport counts what the suppressions did and lists every one
// with its status.
type SuppressionReport struct {
	// Suppressed counts findings covered by an active suppression.
	Suppressed int `json:"suppressed"`
	// Reopened counts findings whose matching suppressions have all expired.
	Reopened int `json:"reopened"`
	// Active counts active suppressions that matched at least one finding;
	// ExpiringSoon those of them that end within the warning window.
	Active       int `json:"active"`
	ExpiringSoon int `json:"expiringSoon"`
	// Expired counts expired suppressions that matched at least one finding.
	Expired int `json:"expired"`
	// Stale counts suppressions that matched no finding, active or expired.
	Stale int `json:"stale"`
	// Entries lists every suppression, in the order they were given.
	Entries []SuppressionEntry `json:"entries"`
}

// Status values of a SuppressionEntry.
const (
	SuppressionActive  = "active"
	SuppressionExpired = "expired"
)

// SuppressionEntry is one suppression and what it did.
type SuppressionEntry struct {
	Source        string `json:"source"`
	Rule          string `json:"rule"`
	Justification string `json:"justification"`
	Owner         string `json:"owner,omitempty"`
	Expires       string `json:"expires"`
	// Status is active or expired.
	Status      string `json:"status"`
	ExpiresSoon bool   `json:"expiresSoon,omitempty"`
	// Matched counts the findings it matches (a finding matched by several
	// suppressions counts for each).
	Matched int `json:"matched"`
	// Stale is true when it matched no finding: it can be removed.
	Stale bool `json:"stale,omitempty"`
}

// BaselineReport is the comparison with an earlier findings.json.
type BaselineReport struct {
	// Source names the baseline (a file name or URL), when the caller gave it.
	Source        string         `json:"source,omitempty"`
	GeneratedAt   time.Time      `json:"generatedAt"`
	SchemaVersion int            `json:"schemaVersion"`
	ToolVersion   string         `json:"toolVersion,omitempty"`
	Counts        BaselineCounts `json:"counts"`
	// Fixed lists the baseline findings that are gone from a part of the
	// organization this scan collected.
	Fixed []PastFinding `json:"fixed"`
	// Unknown lists the baseline findings that are gone, but from a part
	// this scan did not collect (fully): they may still be there.
	Unknown []PastFinding `json:"unknown"`
}

// BaselineCounts counts the findings by change: New and Unchanged are
// current findings, Fixed and Unknown are baseline findings that are gone.
type BaselineCounts struct {
	New       int `json:"new"`
	Unchanged int `json:"unchanged"`
	Fixed     int `json:"fixed"`
	Unknown   int `json:"unknown"`
}

// PastFinding is a baseline finding that the current scan does not report,
// as the baseline described it.
type PastFinding struct {
	ID                string   `json:"id"`
	RuleID            string   `json:"ruleId"`
	Severity          Severity `json:"severity"`
	Title             string   `json:"title,omitempty"`
	Message           string   `json:"message,omitempty"`
	AccountID         string   `json:"accountId"`
	AccountName       string   `json:"accountName,omitempty"`
	Region            string   `json:"region,omitempty"`
	ResourceType      string   `json:"resourceType,omitempty"`
	ResourceARN       string   `json:"resourceArn,omitempty"`
	TaskDefinitionARN string   `json:"taskDefinitionArn,omitempty"`
	RoleARN           string   `json:"roleArn,omitempty"`
	// Reason says, for an unknown finding, what this scan did not collect.
	Reason string `json:"reason,omitempty"`
}

// ResourceRef names a resource a finding affects.
type ResourceRef struct {
	Type string `json:"type"` // ResourceTaskDefinition, ResourceService, …
	ARN  string `json:"arn"`
	// Name is the short name people use: family:revision, an instance ID,
	// a service or role name.
	Name string `json:"name,omitempty"`
}

// Impact says how much a root cause affects.
type Impact struct {
	// Summary reads like "1 container instance × 4 task definitions; 7
	// unmet constraints".
	Summary string `json:"summary"`
	// Resources counts the affected resources by resource type, the
	// finding's own resource included.
	Resources map[string]int `json:"resources"`
	// Items is the number of items in the finding's evidence list of
	// ItemKind (need, constraint, feature, value, problem, grant); 1 and ""
	// for a finding without such a list.
	Items    int    `json:"items"`
	ItemKind string `json:"itemKind,omitempty"`
}

// Item kinds of Impact.ItemKind.
const (
	ItemNeed       = "need"
	ItemConstraint = "constraint"
	ItemFeature    = "feature"
	ItemValue      = "value"
	ItemProblem    = "problem"
	ItemGrant      = "grant"
)

// Evidence explains a finding. Each list holds one kind of item; a finding
// has the lists of its rule (see group.go).
type Evidence struct {
	// Need is the first of Needs (the most severe), kept for readers of
	// schema version 1.
	Need *Need `json:"need,omitempty"`
	// Decision is the policy engine's answer for Need, with the deciding
	// layer and statements (ER003: the trust policy's).
	Decision *policy.Result `json:"decision,omitempty"`
	// Needs are every need the cause affects, each with its container,
	// field path, severity and decision (ER001, ER004, ER005).
	Needs []NeedEvidence `json:"needs,omitempty"`
	// Unknowns are what an unconfirmable decision hangs on (ER005, ER003).
	Unknowns []Unknown `json:"unknowns,omitempty"`
	// Constraints are a container instance's unmet agent constraints
	// (AG001–AG003).
	Constraints []Constraint `json:"constraints,omitempty"`
	// Features are the features Fargate cannot serve (FG001).
	Features []FeatureGap `json:"features,omitempty"`
	// Values are the plaintext values that look like credentials (TD001).
	Values []PlaintextValue `json:"values,omitempty"`
	// Problems are what is wrong with a policy (PL001).
	Problems []PolicyProblem `json:"problems,omitempty"`
	// Excess lists what a role holds beyond its needs (ER006).
	Excess []ExcessGrant `json:"excess,omitempty"`
	// Facts are further key/value evidence (agent version, cluster,
	// platform version, field path…).
	Facts map[string]string `json:"facts,omitempty"`
	// SuggestedPolicy is Fix.SuggestedPolicy, kept for readers of schema
	// version 1.
	SuggestedPolicy json.RawMessage `json:"suggestedPolicy,omitempty"`
}

// NeedEvidence is one need a finding covers.
type NeedEvidence struct {
	Need
	// Severity is what the need's failure alone would weigh.
	Severity Severity `json:"severity"`
	// Decision is the policy engine's answer; absent for a reference that
	// cannot work (Need.Invalid) or a need that was not evaluated (ER001).
	Decision *policy.Result `json:"decision,omitempty"`
}

// UnknownKind says what an unconfirmable decision hangs on.
type UnknownKind string

const (
	// UnknownConditionKeys: condition keys whose values are not known
	// statically (Subject: the keys, comma-separated).
	UnknownConditionKeys UnknownKind = "condition-keys"
	// UnknownResourcePart: a part of the resource that is not known, such
	// as an unresolved secret's 6-character suffix (Subject: the resource
	// as displayed).
	UnknownResourcePart UnknownKind = "resource-part"
	// UnknownSecretName: an unresolved secret name that ends like the
	// suffix, read both as a full and as a partial ARN.
	UnknownSecretName UnknownKind = "secret-name"
	// UnknownResourcePolicy: the resource policy (a secret's, a key
	// policy, a repository policy, a parameter's) was not collected
	// (Subject: the resource ARN).
	UnknownResourcePolicy UnknownKind = "resource-policy"
	// UnknownRegistryPolicy: the ECR private registry permissions policy,
	// which may grant a pull-through import, is not collected (Subject: the
	// registry account).
	UnknownRegistryPolicy UnknownKind = "registry-policy"
	// UnknownExistence: whether a resource the task needs at start exists
	// could not be checked: the lookup failed, or the resource is in an
	// account or region outside the scan (Subject: the resource ARN).
	UnknownExistence UnknownKind = "existence"
	// UnknownIdentityPolicy: an identity policy attached to the role was
	// not collected, or cannot be read and may deny (Subject: the policy
	// names).
	UnknownIdentityPolicy UnknownKind = "identity-policy"
	// UnknownBoundary: the permissions boundary was not collected or
	// cannot be read (Subject: its ARN).
	UnknownBoundary UnknownKind = "permissions-boundary"
	// UnknownSCPs / UnknownRCPs: the organization policies on an account's
	// path were not all collected (Subject: the account).
	UnknownSCPs UnknownKind = "scps"
	UnknownRCPs UnknownKind = "rcps"
	// UnknownTrustPolicy: the role's trust policy was not collected
	// (Subject: the role ARN).
	UnknownTrustPolicy UnknownKind = "trust-policy"
	// UnknownAuthorizationResource: which resource AWS authorizes the call
	// on is not confirmed (logs:CreateLogStream on the stream or the group;
	// Subject: the log group ARN).
	UnknownAuthorizationResource UnknownKind = "authorization-resource"
	// UnknownOther: an indeterminate decision the categories above do not
	// describe (Subject: the engine's reason).
	UnknownOther UnknownKind = "other"
)

// Unknown is one thing an unconfirmable decision hangs on.
type Unknown struct {
	Kind    UnknownKind `json:"kind"`
	Subject string      `json:"subject"`
	// Description says what is not known, as a clause ("the repository
	// policy of … was not collected").
	Description string `json:"description"`
	// Settle says what would settle it: how to confirm a condition key,
	// the permission needed to collect a policy, the grant that would make
	// it certain.
	Settle string `json:"settle"`
}

// Constraint is one agent constraint a container instance does not meet.
type Constraint struct {
	// RuleID is the rule whose fact it is: AG001 (the agent predates task
	// execution roles), AG002 (a required attribute is missing) or AG003
	// (the agent predates a feature in use).
	RuleID string `json:"ruleId"`
	// Attribute (AG002) is the missing attribute, with its Value when the
	// task definition requires one.
	Attribute string `json:"attribute,omitempty"`
	Value     string `json:"value,omitempty"`
	// Feature and Minimum (AG001, AG003) are the feature and the first
	// agent version that serves it.
	Feature string `json:"feature,omitempty"`
	Minimum string `json:"minimum,omitempty"`
	// FieldPath is where the first task definition uses the feature.
	FieldPath string `json:"fieldPath,omitempty"`
	// Source is where the constraint comes from: requiresAttributes,
	// derived from the task definition, or the documentation of the
	// version.
	Source string `json:"source"`
	// TaskDefinitions (family:revision) placed on the instance's cluster
	// that require it.
	TaskDefinitions []string `json:"taskDefinitions"`
	Severity        Severity `json:"severity"`
}

// FeatureGap is a feature Fargate cannot serve for a task definition.
type FeatureGap struct {
	Feature   string `json:"feature"`
	FieldPath string `json:"fieldPath"`
	OS        string `json:"os"`
	// Unsupported: Fargate does not support the feature on OS at all.
	Unsupported bool `json:"unsupported,omitempty"`
	// PlatformVersion and Minimum: the version the service runs and the
	// first that serves the feature (absent when Unsupported).
	PlatformVersion string   `json:"platformVersion,omitempty"`
	Minimum         string   `json:"minimum,omitempty"`
	Source          string   `json:"source"`
	Severity        Severity `json:"severity"`
}

// ValueKind says where a plaintext value is.
type ValueKind string

const (
	ValueEnvironmentVariable ValueKind = "environment-variable"
	ValueLogOption           ValueKind = "log-option"
	ValueFirelensOption      ValueKind = "firelens-option"
)

// PlaintextValue is a value in a task definition that looks like a
// credential. The value itself is never recorded.
type PlaintextValue struct {
	Container string `json:"container"`
	// Kind is ValueEnvironmentVariable, ValueLogOption or
	// ValueFirelensOption.
	Kind ValueKind `json:"kind"`
	Name string    `json:"name"`
	// ValueClass is what the value looks like (inventory.ClassifyValue),
	// empty when only the name suggests a credential.
	ValueClass string   `json:"valueClass,omitempty"`
	Why        string   `json:"why"`
	FieldPath  string   `json:"fieldPath"`
	Severity   Severity `json:"severity"`
}

// PolicyProblem is one thing wrong with a policy (PL001).
type PolicyProblem struct {
	// Kind is malformed, unknown-action or missing (not collected).
	Kind     string   `json:"kind"`
	Detail   string   `json:"detail"`
	Severity Severity `json:"severity"`
}

// FixLayer says where a fix is made.
type FixLayer string

const (
	FixIdentity          FixLayer = "identity"             // the role's identity policies
	FixBoundary          FixLayer = "permissions-boundary" // the role's permissions boundary
	FixSCP               FixLayer = "scp"                  // a service control policy
	FixRCP               FixLayer = "rcp"                  // a resource control policy
	FixResourcePolicy    FixLayer = "resource-policy"      // a secret's, key's, repository's or parameter's policy
	FixTrustPolicy       FixLayer = "trust-policy"         // the role's trust policy
	FixTaskDefinition    FixLayer = "task-definition"      // a new task definition revision
	FixContainerInstance FixLayer = "container-instance"   // the agent, its version or configuration
	FixService           FixLayer = "service"              // the service's platform version
	FixConfirm           FixLayer = "confirm"              // settle what is not known (ER005)
	FixResource          FixLayer = "resource"             // create or restore what the task definition references, or correct the reference (RS001)
)

// Fix is what to change to remove a finding's cause.
type Fix struct {
	Layer FixLayer `json:"layer"`
	// Summary is the fix in one sentence.
	Summary string `json:"summary"`
	// Steps are the actions, in order.
	Steps []string `json:"steps,omitempty"`
	// Target is what to change.
	Target *FixTarget `json:"target,omitempty"`
	// SuggestedPolicy is a policy document whose statements the policy
	// engine proved to fix the cause where SuggestedPolicyLayer and Target
	// say they go, granting nothing beyond the needs. SuggestedPolicyTarget
	// says the same in words ("an identity policy of role …", "the key
	// policy of KMS key … (add this statement)").
	SuggestedPolicy       json.RawMessage `json:"suggestedPolicy,omitempty"`
	SuggestedPolicyLayer  FixLayer        `json:"suggestedPolicyLayer,omitempty"`
	SuggestedPolicyTarget string          `json:"suggestedPolicyTarget,omitempty"`
}

// Types of FixTarget besides the resource types of findings.
const (
	TargetSCP          = "scp"
	TargetRCP          = "rcp"
	TargetResource     = "resource" // a secret, key, parameter, repository, log group, bucket or object, by ARN
	TargetInlinePolicy = "inline-policy"
	// TargetRegistry is an account's private ECR registry in a region
	// (ID: the account, Name: the region), whose permissions policy may
	// grant pull-through cache imports.
	TargetRegistry = "ecr-registry"
)

// FixTarget names what a fix changes.
type FixTarget struct {
	// Type is a resource type (ResourceRole, ResourcePolicy,
	// ResourceService, ResourceContainerInstance,
	// ResourceTaskDefinition) or TargetSCP, TargetRCP, TargetResource,
	// TargetInlinePolicy.
	Type string `json:"type"`
	ARN  string `json:"arn,omitempty"`
	// ID is an organization policy's ID (p-…).
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	// Role is the role an inline policy belongs to.
	Role string `json:"role,omitempty"`
	// Statement is the statement to change: its Sid, or #index.
	Statement string `json:"statement,omitempty"`
	// AttachedTo is where an SCP or RCP is attached (root, OU or account).
	AttachedTo *OrgNode `json:"attachedTo,omitempty"`
}

// OrgNode is a root, OU or account of the organization.
type OrgNode struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Type string `json:"type"`
}

// Who serves a need.
const (
	ServedByExecutionRole = "execution-role"
	ServedByInstanceRole  = "instance-role"
)

// Features that need the execution role.
const (
	FeatureECRPull          = "ecr-pull"
	FeatureAwslogs          = "awslogs"
	FeatureSecretsManager   = "secrets-manager-secret"
	FeatureSSMParameter     = "ssm-parameter"
	FeaturePrivateRegistry  = "private-registry-auth"
	FeatureEnvironmentFile  = "environment-file"
	FeatureFirelensS3Config = "firelens-s3-config"
	FeatureKMSDecrypt       = "kms-decrypt"
	FeatureFSxCredentials   = "fsx-credentials"
)

// Need is one permission a task definition needs: one action on one resource.
type Need struct {
	Feature   string `json:"feature"`
	Action    string `json:"action"`
	Resource  string `json:"resource"`
	Container string `json:"container,omitempty"`
	// FieldPath is the JSON path in the task definition that creates the need,
	// e.g. containerDefinitions[0].secrets[2].valueFrom. Absent in a role's
	// needs (RoleReport.Needs), which several task definitions share.
	FieldPath string `json:"fieldPath,omitempty"`
	ServedBy  string `json:"servedBy"`
	// Optional needs do not stop the task from starting in every case
	// (ecr:BatchCheckLayerAvailability; logs:CreateLogGroup when the group exists).
	Optional bool `json:"optional,omitempty"`
	// Invalid is true when the reference cannot work as written (a
	// malformed ARN, a value pasted where a name belongs, a cross-account
	// secret under an AWS managed key): nothing any policy grants can serve
	// it, and Note says why.
	Invalid bool `json:"invalid,omitempty"`
	// Note explains something about the need (partial ARN, cross-account,
	// why an invalid reference cannot work…).
	Note string `json:"note,omitempty"`

	// req, when set, is the resource evaluated: Resource is then its display
	// form (the unknown run as a placeholder). alt is a second reading of an
	// ambiguous resource (an unresolved secret name that may be a partial
	// ARN), evaluated too.
	req, alt *reading
}

// request returns the resource the policy engine evaluates for the need:
// the ARN, or the known prefix and the unknown run.
func (n *Need) request() (string, *policy.UnknownSegment) {
	if n.req != nil {
		return n.req.prefix, n.req.unknown
	}
	return n.Resource, nil
}

// ExcessKind says why a grant is excess.
type ExcessKind string

const (
	ExcessAdministrator    ExcessKind = "administrator"     // every action of every service
	ExcessNotAction        ExcessKind = "not-action"        // Allow with NotAction: every other action
	ExcessUnrelatedService ExcessKind = "unrelated-service" // a service no need involves
	ExcessActionNotNeeded  ExcessKind = "action-not-needed" // actions of a needed service that no need uses
	ExcessWiderResource    ExcessKind = "wider-resource"    // a needed action on more resources than needed
)

// ExcessGrant is one thing a role's policies grant beyond its needs.
type ExcessGrant struct {
	Policy    string `json:"policy"`
	Statement string `json:"statement"` // Sid or "#index"
	// Kind says why it is excess (ExcessAdministrator, …).
	Kind     ExcessKind `json:"kind" since:"2"`
	Action   string     `json:"action"`
	Resource string     `json:"resource"`
	Reason   string     `json:"reason"`
	Severity Severity   `json:"severity"`
}

// RoleReport is one execution role with its needs and least-privilege policy.
type RoleReport struct {
	RoleARN   string   `json:"roleArn"`
	AccountID string   `json:"accountId"`
	Exists    bool     `json:"exists"`
	UsedBy    []string `json:"usedBy"` // task definition ARNs
	Needs     []Need   `json:"needs"`
	// LeastPrivilegePolicy is the minimal identity policy covering every need.
	LeastPrivilegePolicy json.RawMessage `json:"leastPrivilegePolicy"`
	Findings             int             `json:"findings"`
}

// TaskDefReport summarises one task definition.
type TaskDefReport struct {
	ARN              string   `json:"arn"`
	AccountID        string   `json:"accountId"`
	Region           string   `json:"region"`
	Family           string   `json:"family"`
	Revision         int32    `json:"revision"`
	LaunchTypes      []string `json:"launchTypes"`
	ExecutionRoleARN string   `json:"executionRoleArn,omitempty"`
	UsedByServices   []string `json:"usedByServices,omitempty"`
	Needs            []Need   `json:"needs"`
	// Findings counts the findings that affect the task definition: on it,
	// or listing it as affected (a container instance's, its execution
	// role's).
	Findings int `json:"findings"`
}

// SeverityRange is the lowest and the highest severity of a rule's
// findings.
type SeverityRange struct {
	Min Severity `json:"min"`
	Max Severity `json:"max"`
}

// String is "critical" for a single severity, "low-critical" for a range.
func (r SeverityRange) String() string {
	if r.Min == r.Max {
		return string(r.Min)
	}
	return string(r.Min) + "-" + string(r.Max)
}

// Contains says whether s lies in the range.
func (r SeverityRange) Contains(s Severity) bool {
	return s.Rank() >= r.Min.Rank() && s.Rank() <= r.Max.Rank()
}

// RuleMeta describes a rule of the catalog.
type RuleMeta struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"` // the default severity; findings may differ
	// SeverityRange is the lowest and the highest severity the rule's
	// findings take, by the severity model in the README.
	SeverityRange SeverityRange `json:"severityRange"`
	Description   string        `json:"description"`
	Why           string        `json:"why"`
	Remediation   string        `json:"remediation"`
	Docs          []string      `json:"docs"`
	Tags          []string      `json:"tags"`
	// Precision is SARIF's: very-high, high, medium, low.
	Precision string `json:"precision"`
}
