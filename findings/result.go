package findings

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// ResultSchemaVersion is the version of the findings.json format.
const ResultSchemaVersion = 1

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
// evidence, the coverage of the scan, and the least-privilege policy of every
// execution role. It is what every report format renders.
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
	// Gaps are human-readable consequences of the errors ("IAM of account X
	// not collected: its task definitions were not evaluated").
	Gaps []string `json:"gaps,omitempty"`
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
	// e.g. containerDefinitions[0].secrets[2].valueFrom.
	FieldPath string `json:"fieldPath"`
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
