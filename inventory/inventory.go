// Package inventory is the data model of what audit collects from AWS: the
// organization (accounts, OU paths, SCPs and RCPs), per account the IAM roles
// and managed policies, and per account and region the ECS clusters,
// services, container instances and task definitions, plus every collection
// error. It is plain data with a versioned JSON snapshot format (see
// docs/snapshot.md), so that a scan can be saved and analysed again offline.
//
// Secret material never enters the inventory: environment variable values
// are classified when the task definition is read (see ClassifyValue) and
// only the classification and length are kept.
package inventory

import "time"

// SchemaVersion is the snapshot format version written by this build. The
// loader reads this version and every older one listed in docs/snapshot.md
// (version 1), with the meaning that version documents.
const SchemaVersion = 2

// OldestSchemaVersion is the oldest snapshot format version the loader reads.
const OldestSchemaVersion = 1

// Format is the value of the snapshot's "format" field.
const Format = "audit-inventory"

// Inventory is everything one scan collected.
type Inventory struct {
	Format        string    `json:"format"`
	SchemaVersion int       `json:"schemaVersion"`
	ToolVersion   string    `json:"toolVersion,omitempty"`
	CollectedAt   time.Time `json:"collectedAt"`
	// Partition is "aws", "aws-cn" or "aws-us-gov".
	Partition string `json:"partition"`
	// Scope is what the scan was asked to cover.
	Scope Scope `json:"scope"`
	// Complete is false when the scan was interrupted; collection errors are
	// listed in Errors either way.
	Complete bool `json:"complete"`
	// Interrupted says why the scan stopped early ("interrupted", "deadline").
	Interrupted string `json:"interrupted,omitempty"`

	Organization *Organization `json:"organization,omitempty"`
	// AWSManagedPolicies are the versions of AWS managed policies that
	// roles use, each once: the accounts' IAM.ManagedPolicies entries for
	// one ARN and default version are all the same value, so that an
	// Organization's copies of, say, ReadOnlyAccess take the room of one.
	// The scanner lists every version it collected; an inventory read from
	// JSON lists those the JSON does (a snapshot written by this build:
	// all). A snapshot writes the accounts' entries for them as references
	// (ManagedPolicy.Shared; see shared.go).
	AWSManagedPolicies []*ManagedPolicy `json:"awsManagedPolicies,omitempty" snapshot:"since=2"`
	Accounts           []*Account       `json:"accounts"`
	// Errors are the calls that failed; nothing is dropped silently.
	Errors []CollectionError `json:"errors,omitempty"`
	// S3Buckets are the buckets environment files and FireLens
	// configurations name, when they were resolved (bucket names are
	// global; see S3Bucket).
	S3Buckets []*S3Bucket `json:"s3Buckets,omitempty" snapshot:"since=2"`
	// Shard is set by a sharded scan (audit scan --shard K/N): the part of
	// the scope it collected.
	Shard *Shard `json:"shard,omitempty" snapshot:"since=2"`
}

// Scope records what the scan covered.
type Scope struct {
	// Source is "live" or "snapshot:<file>" or "world:<name>".
	Source string `json:"source,omitempty"`
	// Org is true for an Organization-wide scan.
	Org bool `json:"org,omitempty"`
	// Regions requested ("all" or names).
	Regions []string `json:"regions,omitempty"`
	// AllRevisions is true when every ACTIVE revision was described.
	AllRevisions bool `json:"allRevisions,omitempty"`
	// CallerAccount is the account whose credentials ran the scan.
	CallerAccount string `json:"callerAccount,omitempty"`
	// Resources says whether the resources task definitions reference were
	// resolved: ResourcesResolved, ResourcesSkipped, or "" (not recorded).
	Resources string `json:"resources,omitempty" snapshot:"since=2"`
}

// Organization is the AWS Organization and its policies.
type Organization struct {
	ID                  string `json:"id"`
	ARN                 string `json:"arn,omitempty"`
	ManagementAccountID string `json:"managementAccountId"`
	RootID              string `json:"rootId,omitempty"`
	// RCPsEnabled is true when resource control policies are enabled on the root.
	RCPsEnabled bool `json:"rcpsEnabled,omitempty"`
	// Policies holds every SCP and RCP once, keyed by policy ID.
	Policies map[string]*OrgPolicy `json:"policies,omitempty"`
}

// Organization policy types, as the Organizations API names them.
const (
	PolicyTypeSCP = "SERVICE_CONTROL_POLICY"
	PolicyTypeRCP = "RESOURCE_CONTROL_POLICY"
)

// OrgPolicy is an SCP or RCP.
type OrgPolicy struct {
	ID         string `json:"id"`
	ARN        string `json:"arn,omitempty"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	AWSManaged bool   `json:"awsManaged,omitempty"`
	// Document is the policy JSON as returned by DescribePolicy.
	Document string `json:"document"`
}

// Node types on an account's path.
const (
	NodeRoot    = "ROOT"
	NodeOU      = "ORGANIZATIONAL_UNIT"
	NodeAccount = "ACCOUNT"
)

// PathNode is one level of an account's path in the organization: the root,
// each OU, and the account itself, with the policies attached directly at
// that level.
type PathNode struct {
	ID   string   `json:"id"`
	Name string   `json:"name,omitempty"`
	Type string   `json:"type"`
	SCPs []string `json:"scps,omitempty"` // policy IDs (keys of Organization.Policies)
	RCPs []string `json:"rcps,omitempty"`
}

// Account is one AWS account and what was collected in it.
type Account struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Email  string `json:"email,omitempty"`
	Status string `json:"status,omitempty"`
	// Path is root, OUs, account (in that order); empty outside an organization.
	Path []PathNode `json:"path,omitempty"`
	// IAM is nil when IAM could not be collected (see Errors).
	IAM     *IAM      `json:"iam,omitempty"`
	Regions []*Region `json:"regions,omitempty"`
}

// IAM holds an account's roles and managed policies.
type IAM struct {
	Roles []*Role `json:"roles"`
	// ManagedPolicies are the customer managed policies of the account and the
	// AWS managed policies attached to its roles, with their default version.
	ManagedPolicies []*ManagedPolicy `json:"managedPolicies"`
}

// Role is an IAM role.
type Role struct {
	ARN    string `json:"arn"`
	Name   string `json:"name"`
	Path   string `json:"path,omitempty"`
	RoleID string `json:"roleId,omitempty"`
	// TrustPolicy is the decoded JSON of AssumeRolePolicyDocument.
	TrustPolicy    string         `json:"trustPolicy"`
	InlinePolicies []InlinePolicy `json:"inlinePolicies,omitempty"`
	// AttachedPolicies are managed policy ARNs.
	AttachedPolicies []string `json:"attachedPolicies,omitempty"`
	// PermissionsBoundary is a managed policy ARN, or empty.
	PermissionsBoundary string            `json:"permissionsBoundary,omitempty"`
	Tags                map[string]string `json:"tags,omitempty"`
}

// InlinePolicy is a role's inline policy.
type InlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"document"`
}

// ManagedPolicy is a managed policy's default version. The entries of AWS
// managed policies are shared between accounts (see
// Inventory.AWSManagedPolicies): they must not be modified.
type ManagedPolicy struct {
	ARN              string `json:"arn"`
	Name             string `json:"name"`
	Path             string `json:"path,omitempty"`
	DefaultVersionID string `json:"defaultVersionId,omitempty"`
	AWSManaged       bool   `json:"awsManaged,omitempty"`
	Document         string `json:"document"`
	// Shared is set in a snapshot file only, on an account's entry for an
	// AWS managed policy whose name, path and document are those of the
	// top-level awsManagedPolicies entry with the same arn and
	// defaultVersionId; the entry gives no name, path or document of its
	// own. Reading the snapshot replaces the entry with that one, so
	// Shared is false in memory.
	Shared bool `json:"shared,omitempty" snapshot:"since=2"`
}

// Region status values.
const (
	RegionScanned    = "scanned"     // collected (possibly with errors)
	RegionNotEnabled = "not-enabled" // an opt-in region the account has not enabled
	RegionFailed     = "failed"      // nothing could be collected; see Errors
)

// Region is what was collected in one account and region.
type Region struct {
	Name   string `json:"name"`
	Status string `json:"status"`

	Clusters        []*Cluster        `json:"clusters,omitempty"`
	TaskDefinitions []*TaskDefinition `json:"taskDefinitions,omitempty"`
	// Resources referenced by task definitions (secrets, parameters, keys),
	// when they were resolved. Optional.
	Secrets    []*Secret    `json:"secrets,omitempty"`
	Parameters []*Parameter `json:"parameters,omitempty"`
	KMSKeys    []*KMSKey    `json:"kmsKeys,omitempty"`
	// MissingSecrets are secret references (an ARN without its JSON key,
	// version stage and version ID, or a name) and MissingParameters
	// parameter names that were looked up in this account and region and do
	// not exist.
	MissingSecrets    []string `json:"missingSecrets,omitempty" snapshot:"since=2"`
	MissingParameters []string `json:"missingParameters,omitempty" snapshot:"since=2"`
	// ECRRepositories are the referenced repositories of this account's
	// registry in this region, and ECRRegistry the registry's pull-through
	// cache rules and policy (see existence.go).
	ECRRepositories []*ECRRepository `json:"ecrRepositories,omitempty" snapshot:"since=2"`
	ECRRegistry     *ECRRegistry     `json:"ecrRegistry,omitempty" snapshot:"since=2"`
	// LogGroups are the referenced awslogs log groups that the log driver
	// does not create.
	LogGroups []*LogGroup `json:"logGroups,omitempty" snapshot:"since=2"`

	// Launch paths besides services (launch.go): EventBridge rules with ECS
	// targets and Scheduler schedules that run tasks. SchedulesStatus says
	// whether the schedules were collected ("" = not collected).
	EventRules      []*EventRule `json:"eventRules,omitempty" snapshot:"since=2"`
	Schedules       []*Schedule  `json:"schedules,omitempty" snapshot:"since=2"`
	SchedulesStatus string       `json:"schedulesStatus,omitempty" snapshot:"since=2"`
	// Network is the network path of the region's awsvpc launches
	// (network.go); nil when not collected.
	Network *Network `json:"network,omitempty" snapshot:"since=2"`
}

// Cluster is an ECS cluster.
type Cluster struct {
	ARN                string               `json:"arn"`
	Name               string               `json:"name"`
	Status             string               `json:"status,omitempty"`
	Services           []*Service           `json:"services,omitempty"`
	ContainerInstances []*ContainerInstance `json:"containerInstances,omitempty"`
	// Tasks are the cluster's running and recently stopped tasks
	// (launch.go). TasksStatus and EventRulesStatus say whether the tasks
	// and the EventBridge rules targeting the cluster were collected
	// (CollectedComplete, CollectedPartial, CollectedNone; "" = not
	// collected).
	Tasks            []*Task `json:"tasks,omitempty" snapshot:"since=2"`
	TasksStatus      string  `json:"tasksStatus,omitempty" snapshot:"since=2"`
	EventRulesStatus string  `json:"eventRulesStatus,omitempty" snapshot:"since=2"`
}

// Launch types.
const (
	LaunchEC2      = "EC2"
	LaunchFargate  = "FARGATE"
	LaunchExternal = "EXTERNAL"
)

// Service is an ECS service.
type Service struct {
	ARN        string `json:"arn"`
	Name       string `json:"name"`
	Status     string `json:"status,omitempty"`
	LaunchType string `json:"launchType,omitempty"`
	// CapacityProviders of the service's strategy ("FARGATE", "FARGATE_SPOT", or EC2 providers).
	CapacityProviders []string `json:"capacityProviders,omitempty"`
	PlatformVersion   string   `json:"platformVersion,omitempty"`
	PlatformFamily    string   `json:"platformFamily,omitempty"`
	TaskDefinition    string   `json:"taskDefinition"`
	DesiredCount      int32    `json:"desiredCount,omitempty"`
	RunningCount      int32    `json:"runningCount,omitempty"`
	// Deployments in progress or primary; their task definitions are in use too.
	Deployments []Deployment `json:"deployments,omitempty"`
	// Network is networkConfiguration.awsvpcConfiguration; nil for a
	// service without one (not awsvpc).
	Network *AwsvpcConfiguration `json:"network,omitempty" snapshot:"since=2"`
}

// Deployment is one of a service's deployments (or task sets).
type Deployment struct {
	ID                string   `json:"id,omitempty"`
	Status            string   `json:"status,omitempty"`
	TaskDefinition    string   `json:"taskDefinition"`
	LaunchType        string   `json:"launchType,omitempty"`
	CapacityProviders []string `json:"capacityProviders,omitempty"`
	PlatformVersion   string   `json:"platformVersion,omitempty"`
	// Network is the deployment's (or task set's) awsvpc configuration.
	Network *AwsvpcConfiguration `json:"network,omitempty" snapshot:"since=2"`
}

// ContainerInstance is an EC2 (or external) instance registered to a cluster.
type ContainerInstance struct {
	ARN            string      `json:"arn"`
	EC2InstanceID  string      `json:"ec2InstanceId,omitempty"`
	Status         string      `json:"status,omitempty"`
	AgentConnected bool        `json:"agentConnected"`
	AgentVersion   string      `json:"agentVersion,omitempty"`
	AgentHash      string      `json:"agentHash,omitempty"`
	DockerVersion  string      `json:"dockerVersion,omitempty"`
	Attributes     []Attribute `json:"attributes,omitempty"`
}

// Attribute is a container instance attribute or a task definition's
// required attribute.
type Attribute struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// TaskDefinition is the part of DescribeTaskDefinition that matters for the
// execution role. Field names follow the ECS API.
type TaskDefinition struct {
	ARN                     string                `json:"taskDefinitionArn"`
	Family                  string                `json:"family"`
	Revision                int32                 `json:"revision"`
	Status                  string                `json:"status,omitempty"`
	ExecutionRoleARN        string                `json:"executionRoleArn,omitempty"`
	TaskRoleARN             string                `json:"taskRoleArn,omitempty"`
	NetworkMode             string                `json:"networkMode,omitempty"`
	RequiresCompatibilities []string              `json:"requiresCompatibilities,omitempty"`
	Compatibilities         []string              `json:"compatibilities,omitempty"`
	RequiresAttributes      []Attribute           `json:"requiresAttributes,omitempty"`
	RuntimePlatform         *RuntimePlatform      `json:"runtimePlatform,omitempty"`
	ContainerDefinitions    []ContainerDefinition `json:"containerDefinitions"`
	Volumes                 []Volume              `json:"volumes,omitempty"`
}

// RuntimePlatform is the task definition's OS family and CPU architecture.
type RuntimePlatform struct {
	OperatingSystemFamily string `json:"operatingSystemFamily,omitempty"`
	CPUArchitecture       string `json:"cpuArchitecture,omitempty"`
}

// ContainerDefinition holds the container fields that involve the execution role.
type ContainerDefinition struct {
	Name                  string                 `json:"name"`
	Image                 string                 `json:"image"`
	Essential             *bool                  `json:"essential,omitempty"`
	RepositoryCredentials *RepositoryCredentials `json:"repositoryCredentials,omitempty"`
	LogConfiguration      *LogConfiguration      `json:"logConfiguration,omitempty"`
	Secrets               []SecretRef            `json:"secrets,omitempty"`
	// Environment holds names only; values are never stored (see EnvVar).
	Environment           []EnvVar               `json:"environment,omitempty"`
	EnvironmentFiles      []EnvironmentFile      `json:"environmentFiles,omitempty"`
	FirelensConfiguration *FirelensConfiguration `json:"firelensConfiguration,omitempty"`
}

// RepositoryCredentials names the Secrets Manager secret with registry credentials.
type RepositoryCredentials struct {
	CredentialsParameter string `json:"credentialsParameter"`
}

// LogConfiguration is a container's log driver configuration. Option values
// whose name suggests a credential (e.g. splunk-token) are redacted when
// collected.
type LogConfiguration struct {
	LogDriver     string            `json:"logDriver"`
	Options       map[string]string `json:"options,omitempty"`
	SecretOptions []SecretRef       `json:"secretOptions,omitempty"`
}

// SecretRef is a secrets[] or secretOptions[] entry: a reference, not a value.
type SecretRef struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// EnvVar is an environment variable with its value removed. ValueClass is
// what ClassifyValue said of the value ("" when it looked harmless), and
// ValueLength its length, so rules can still reason about it.
type EnvVar struct {
	Name        string `json:"name"`
	ValueClass  string `json:"valueClass,omitempty"`
	ValueLength int    `json:"valueLength,omitempty"`
}

// EnvironmentFile is an environmentFiles[] entry.
type EnvironmentFile struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

// FirelensConfiguration is a log router's configuration.
type FirelensConfiguration struct {
	Type    string            `json:"type"`
	Options map[string]string `json:"options,omitempty"`
}

// Volume holds the volume fields that involve the execution role.
type Volume struct {
	Name                                    string                          `json:"name"`
	FSxWindowsFileServerVolumeConfiguration *FSxWindowsFileServerVolumeConf `json:"fsxWindowsFileServerVolumeConfiguration,omitempty"`
}

// FSxWindowsFileServerVolumeConf is an FSx for Windows File Server volume.
type FSxWindowsFileServerVolumeConf struct {
	FileSystemID        string                  `json:"fileSystemId,omitempty"`
	RootDirectory       string                  `json:"rootDirectory,omitempty"`
	AuthorizationConfig *FSxAuthorizationConfig `json:"authorizationConfig,omitempty"`
}

// FSxAuthorizationConfig names the credentials of an FSx volume.
type FSxAuthorizationConfig struct {
	CredentialsParameter string `json:"credentialsParameter"`
	Domain               string `json:"domain,omitempty"`
}

// Secret is Secrets Manager metadata (never the value).
type Secret struct {
	ARN  string `json:"arn"`
	Name string `json:"name"`
	// KMSKeyID is the key ARN or ID; empty means the AWS managed key aws/secretsmanager.
	KMSKeyID string `json:"kmsKeyId,omitempty"`
	// ResourcePolicy is the secret's resource policy JSON, when
	// ResourcePolicyStatus is PolicyCollected.
	ResourcePolicy string `json:"resourcePolicy,omitempty"`
	// ResourcePolicyStatus says whether the secret is known to have no
	// resource policy (PolicyNone), its policy was collected
	// (PolicyCollected) or could not be (PolicyNotCollected). Required in a
	// version 2 snapshot; empty only in memory, where EffectivePolicyStatus
	// gives it the version 1 meaning.
	ResourcePolicyStatus string `json:"resourcePolicyStatus,omitempty" snapshot:"since=2"`
	// DeletedDate is when a secret scheduled for deletion will be deleted;
	// such a secret cannot be read (GetSecretValue fails) until it is
	// restored.
	DeletedDate *time.Time `json:"deletedDate,omitempty" snapshot:"since=2"`
}

// Parameter is SSM Parameter Store metadata (never the value).
type Parameter struct {
	Name string `json:"name"`
	ARN  string `json:"arn,omitempty"`
	Type string `json:"type"` // String, StringList, SecureString
	// KeyID is the KMS key of a SecureString ("alias/aws/ssm" for the AWS managed key).
	KeyID string `json:"keyId,omitempty"`
	// ResourcePolicy is the parameter's resource policy JSON (the policy
	// that shares an advanced parameter with other accounts), when
	// ResourcePolicyStatus is PolicyCollected.
	ResourcePolicy string `json:"resourcePolicy,omitempty" snapshot:"since=2"`
	// ResourcePolicyStatus is as for Secret. The scanner does not read
	// parameter policies, so it records PolicyNotCollected.
	ResourcePolicyStatus string `json:"resourcePolicyStatus,omitempty" snapshot:"since=2"`
}

// KMSKey is a KMS key's metadata and key policy.
type KMSKey struct {
	ARN     string   `json:"arn"`
	KeyID   string   `json:"keyId"`
	Manager string   `json:"keyManager,omitempty"` // AWS or CUSTOMER
	Aliases []string `json:"aliases,omitempty"`
	Policy  string   `json:"policy,omitempty"` // the "default" key policy JSON
	// PolicyStatus is PolicyCollected or PolicyNotCollected. Every KMS key
	// has a key policy, so PolicyNone is not valid for a key.
	PolicyStatus string `json:"policyStatus,omitempty" snapshot:"since=2"`
}

// Resource policy statuses (snapshot version 2). A status, rather than a
// null or missing document, keeps "there is none" apart from "it was not
// read": a missing field cannot be mistaken for a fact, and tools that
// rewrite JSON keep it.
const (
	PolicyCollected    = "collected"     // the document is given
	PolicyNone         = "none"          // looked up: the resource has no resource policy
	PolicyNotCollected = "not-collected" // not read (see Errors); what it says is unknown
)

// CollectionError is one failed call. Nothing that fails is dropped.
type CollectionError struct {
	AccountID string `json:"accountId,omitempty"`
	Region    string `json:"region,omitempty"` // empty for global services
	Service   string `json:"service"`          // ecs, iam, organizations, sts, account, ...
	Operation string `json:"operation"`        // the API operation, e.g. DescribeServices
	// Resource is what the call was about, when there was one (a cluster ARN, a task definition).
	Resource string `json:"resource,omitempty"`
	Code     string `json:"code"` // AccessDenied, ThrottlingException, Timeout, ...
	Message  string `json:"message"`
}
