package findings

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// ResultSchemaVersion is the version of the findings.json format
// (docs/findings.md). Version 2 added the rule catalog (Result.Rules).
// A field added in a later version than 1 carries the tag since:"N" with
// the version that added it, so that a reader of an older file does not
// ask for it.
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
		if string(v) == s || equalFold(string(v), s) {
			return v, true
		}
	}
	return "", false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
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

// Summary counts findings.
type Summary struct {
	Total           int            `json:"total"`
	BySeverity      map[string]int `json:"bySeverity"`
	ByRule          map[string]int `json:"byRule"`
	ByAccount       map[string]int `json:"byAccount"`
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

// Finding is one problem with its evidence.
type Finding struct {
	// ID is a stable fingerprint: rule + account + region + resource + detail.
	ID                string   `json:"id"`
	RuleID            string   `json:"ruleId"`
	Severity          Severity `json:"severity"`
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
	Remediation       string   `json:"remediation"`

	// PreviousIDs are the fingerprints of findings this one replaces (a
	// finding grouped by root cause carries the IDs of its members): a
	// baseline finding with one of these IDs is the same finding.
	PreviousIDs []string `json:"previousIds,omitempty"`
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
	ChangeUnchanged = "unchanged" // in the baseline, by ID or PreviousIDs
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

// Evidence explains a finding.
type Evidence struct {
	// Need is the requirement that failed (ER004, ER005).
	Need *Need `json:"need,omitempty"`
	// Decision is the policy engine's answer, with the deciding layer and statements.
	Decision *policy.Result `json:"decision,omitempty"`
	// Excess lists what a role holds beyond its needs (ER006).
	Excess []ExcessGrant `json:"excess,omitempty"`
	// Facts are further key/value evidence (agent version, attribute, platform version, field path…).
	Facts map[string]string `json:"facts,omitempty"`
	// SuggestedPolicy is a policy document that would fix the finding.
	SuggestedPolicy json.RawMessage `json:"suggestedPolicy,omitempty"`
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
	// Note explains something about the need (partial ARN, cross-account…).
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

// ExcessGrant is one thing a role's policies grant beyond its needs.
type ExcessGrant struct {
	Policy    string   `json:"policy"`
	Statement string   `json:"statement"` // Sid or "#index"
	Action    string   `json:"action"`
	Resource  string   `json:"resource"`
	Reason    string   `json:"reason"`
	Severity  Severity `json:"severity"`
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
	Findings         int      `json:"findings"`
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
