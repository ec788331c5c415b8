// Package policy is a local IAM policy engine: it parses IAM policy documents
// strictly, matches actions, resources and principals, evaluates conditions
// with three-valued logic (true, false, unknown), and decides a request across
// the layers AWS evaluates: SCP levels, RCP levels, a resource policy, identity
// policies, a permissions boundary and a VPC endpoint policy. Every decision
// carries its reasons: the deciding layer, the statements that allowed or
// denied, and for an indeterminate outcome the condition keys it hangs on.
//
// The package imports only the standard library and does no I/O.
package policy

// Decision is the outcome of evaluating one request.
type Decision string

const (
	// Allowed: every layer that applies allows the request for any value of
	// the unknown context keys.
	Allowed Decision = "Allowed"
	// ImplicitDeny: no applicable allow (in some layer) for any value of the
	// unknown context keys, and no explicit deny for certain.
	ImplicitDeny Decision = "ImplicitDeny"
	// ExplicitDeny: a Deny statement matches for certain.
	ExplicitDeny Decision = "ExplicitDeny"
	// Indeterminate: the outcome depends on context keys whose values are
	// unknown, on the unknown part of a partly known resource, or on a
	// resource policy that was not provided.
	Indeterminate Decision = "Indeterminate"
)

// Layer names the policy layer a statement or decision belongs to.
type Layer string

const (
	LayerIdentity       Layer = "identity"
	LayerBoundary       Layer = "permissions-boundary"
	LayerSCP            Layer = "scp"
	LayerRCP            Layer = "rcp"
	LayerResourcePolicy Layer = "resource-policy"
)

// StatementRef identifies one statement of one policy in one layer.
type StatementRef struct {
	Layer  Layer  `json:"layer"`
	Level  int    `json:"level,omitempty"` // SCP/RCP level: 0 = root, then each OU, last = account
	Policy string `json:"policy"`          // the policy's name as given to the engine
	Sid    string `json:"sid,omitempty"`
	Index  int    `json:"index"` // position of the statement in the policy, from 0
	Effect string `json:"effect"`
	// Conditional is true when whether the statement applies could not be
	// decided: its conditions (or policy variables) name unknown keys, or
	// (PartialResource) its Resource matches only some values of the
	// request's unknown resource segment.
	Conditional bool `json:"conditional,omitempty"`
	// PartialResource is true when the statement's Resource or NotResource
	// matches some but not all values of the request's unknown resource
	// segment (Request.ResourceUnknown).
	PartialResource bool `json:"partialResource,omitempty"`
}

// UnknownResource is, for an Indeterminate decision, the partly known
// request resource the decision depends on, with the statements that match
// only some of its values.
type UnknownResource struct {
	// Resource is the resource as displayed, e.g.
	// arn:aws:secretsmanager:us-east-1:111122223333:secret:db-??????.
	Resource   string         `json:"resource"`
	Unknown    UnknownSegment `json:"unknown"`
	Statements []StatementRef `json:"statements"`
}

// UnknownKey is a condition key whose value the request context does not
// know, with the statements whose outcome depends on it.
type UnknownKey struct {
	Key        string         `json:"key"`
	Statements []StatementRef `json:"statements"`
}

// Outcomes says, for an Indeterminate decision, what the decision would be if
// every undecided condition went the requester's way (BestCase) and if every
// one went against it (WorstCase).
type Outcomes struct {
	BestCase  Decision `json:"bestCase"`
	WorstCase Decision `json:"worstCase"`
}

// Result is the decision with its evidence.
type Result struct {
	Decision Decision `json:"decision"`
	// DecidingLayer is the layer that decided (for Allowed: the layer that
	// granted, identity or resource-policy). Level is set for SCP/RCP.
	DecidingLayer Layer `json:"decidingLayer,omitempty"`
	Level         int   `json:"level,omitempty"`
	// Reason is one sentence a person can read, e.g.
	// "explicit Deny in SCP level 1 (policy deny-regions, statement 0 "DenyOutside")".
	Reason string `json:"reason"`
	// Statements that allowed (for Allowed) or denied (for ExplicitDeny), or
	// that were conditional (for Indeterminate).
	Statements  []StatementRef `json:"statements,omitempty"`
	UnknownKeys []UnknownKey   `json:"unknownKeys,omitempty"`
	// UnknownResource is set when the decision is Indeterminate because the
	// request resource is only partly known.
	UnknownResource *UnknownResource `json:"unknownResource,omitempty"`
	Outcomes        *Outcomes        `json:"outcomes,omitempty"`
}

// NamedPolicy is a parsed policy with the name it is reported under
// (e.g. "inline:app-secrets" or "arn:aws:iam::aws:policy/...").
type NamedPolicy struct {
	Name   string
	Policy *Policy
}

// Input is everything that applies to one principal's requests.
type Input struct {
	// Identity policies attached to the principal (inline and managed).
	Identity []NamedPolicy
	// Boundary is the permissions boundary; nil means none. Several
	// documents are treated as one layer (allowed if any allows).
	Boundary []NamedPolicy
	// SCPLevels are the SCPs of the principal's account, ordered root, each
	// OU on the path, account. Every level must allow. nil = no SCPs apply
	// (not in an organization, or the management account).
	SCPLevels [][]NamedPolicy
	// RCPLevels are the RCPs of the resource's account, ordered like
	// SCPLevels. nil = none apply.
	RCPLevels [][]NamedPolicy
	// ResourcePolicy is the policy attached to the resource (a bucket policy,
	// secret policy, repository policy, KMS key policy, or a role's trust
	// policy), or nil. nil means "not provided": where the decision needs it
	// (across accounts, a KMS key, a trust policy) the result is
	// Indeterminate, unless ResourcePolicyAbsent says there is none.
	ResourcePolicy *NamedPolicy
	// ResourcePolicies are further resource-based policies that apply to
	// the same request, each under its own name: for an import through an
	// ECR pull-through cache rule, the repository policy beside the
	// registry's permissions policy. ResourcePolicy and these are one
	// layer, resource-policy: an explicit Deny in any of them denies, and an
	// Allow in any of them is the layer's Allow (under the principal rules
	// of Evaluate). Each statement the Result cites names its own policy.
	// The layer is provided when at least one of them is; a nil Policy is
	// skipped.
	ResourcePolicies []NamedPolicy
	// ResourcePolicyAbsent says the resource is known to have no resource
	// policy (it was looked up and there is none), which is a fact, unlike a
	// nil ResourcePolicy. It is evaluated as a resource policy without
	// statements: in the same account the identity policies decide as
	// usual; across accounts, and for a KMS key or a trust policy, nothing
	// grants the request (ImplicitDeny in the resource-policy layer). It is
	// ignored when ResourcePolicy or one of ResourcePolicies is set.
	ResourcePolicyAbsent bool
	// ResourcePolicyKind selects special rules: KeyPolicy for KMS keys (the
	// key policy must allow by itself or delegate to the account) and
	// TrustPolicy (the trust policy must allow by itself). Empty means an
	// ordinary resource policy.
	ResourcePolicyKind ResourcePolicyKind
	// ResourceAccount is the account that owns the resource. Empty: taken
	// from the resource ARN; when the ARN has no account (S3), the
	// principal's account is assumed.
	ResourceAccount string
	// VPCEndpointPolicy is the policy of the VPC endpoint the request goes
	// through (layer LayerVPCEndpoint, endpoint.go), or nil when it goes
	// through none or the endpoint has no policy document. Evaluated in
	// addition to the other layers: its explicit Deny denies, and it must
	// allow what they allow. Its Principal is matched as in a
	// resource-based policy.
	VPCEndpointPolicy *NamedPolicy
}

// ResourcePolicyKind selects the evaluation rules for a resource policy.
type ResourcePolicyKind string

const (
	ResourcePolicyOrdinary ResourcePolicyKind = ""
	ResourcePolicyKMSKey   ResourcePolicyKind = "kms-key-policy"
	ResourcePolicyTrust    ResourcePolicyKind = "trust-policy"
)

// Request is one API call to decide.
type Request struct {
	// Principal is the caller: an IAM role ARN
	// (arn:aws:iam::111122223333:role/path/name), an assumed-role session
	// ARN, a user ARN, or for a trust policy a service principal such as
	// "ecs-tasks.amazonaws.com".
	Principal string
	Action    string // service:Action, any case
	// Resource is an ARN, or "*" for actions without a resource type. With
	// ResourceUnknown set it is the known text before the unknown run.
	Resource string
	// ResourceUnknown, when set, says that the resource is Resource followed
	// by a run of unknown characters (and then ResourceUnknown.Tail), e.g.
	// a secret ARN without its 6-character suffix. Resource and NotResource
	// then match for every value of the run, for none, or for some; a
	// statement that matches for some applies only possibly, like a
	// statement with an unknown condition.
	ResourceUnknown *UnknownSegment
	Context         *Context
}

// Parse, Evaluate, Context and the other functions are implemented in the
// other files of this package.

// The shapes below are fixed; their methods and the parser/evaluator live in
// the other files.

// Policy is a parsed, validated policy document. The exported fields
// describe the document as written; unexported fields hold the compiled
// matchers.
//
//	func Parse(name string, doc []byte) (*Policy, error)
//
// accepts plain JSON and URL-encoded JSON as IAM returns it. Errors are
// *ParseError.
type Policy struct {
	Name       string
	Version    string // "2012-10-17", "2008-10-17" or "" (absent)
	ID         string
	Statements []*Statement
	// Warnings are problems that do not make the document invalid (for
	// example a wildcard in an ARN's service segment).
	Warnings []string

	index statementIndex
}

// Statement is one statement as written, plus compiled matchers.
type Statement struct {
	Index        int
	Sid          string
	Effect       string   // "Allow" or "Deny"
	Actions      []string // as written; nil when NotAction is used
	NotActions   []string
	Resources    []string
	NotResources []string
	Principal    *Principal // nil when absent
	NotPrincipal *Principal
	Conditions   []Condition

	compiled compiledStatement
}

// Principal is a Principal or NotPrincipal element. Wildcard is true for
// "Principal": "*". The maps' keys are "AWS", "Service", "Federated",
// "CanonicalUser".
type Principal struct {
	Wildcard bool
	Values   map[string][]string
}

// Condition is one operator/key pair with its values, as written.
type Condition struct {
	Operator string   // as written, e.g. "ForAnyValue:StringLikeIfExists"
	Key      string   // as written; matching is case-insensitive
	Values   []string // JSON strings, numbers and booleans as their text
}

// ParseError names the policy, the statement (Index -1 for the document
// level) and the field that is wrong.
type ParseError struct {
	Policy    string
	Statement int
	Sid       string
	Field     string
	Message   string
}
