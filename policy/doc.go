// # Evaluation model
//
// Parse validates a document strictly and compiles it: action patterns are
// lower-cased and split into service and name (and indexed by service),
// resource patterns are split into their six ARN parts, condition operators
// become an enumeration with their values pre-parsed (numbers, dates,
// CIDR blocks, booleans, base64), keys are lower-cased and policy variables
// are compiled into templates. Evaluate then only matches.
//
// Evaluate follows the order of ecs-facts §5.1: an explicit Deny in any layer
// wins; every SCP level, then every RCP level, needs an Allow; then the
// identity policies, the permissions boundary and the resource policy decide
// by the same-account, cross-account, KMS key policy and trust policy rules
// described on Evaluate. A request that goes through a VPC endpoint is also
// matched against the endpoint's policy (Input.VPCEndpointPolicy, layer
// vpc-endpoint): its explicit Deny denies, and it must allow whatever the
// other layers allow; it grants nothing by itself. EvaluateEndpointPolicy
// decides on an endpoint policy alone, for a request no known identity
// signs (an image-layer download through a presigned URL).
//
// Unknown context is first-class. A Context says of each condition key
// whether it is present (with values), absent, known only by a prefix, or
// unknown (never set). Conditions and policy variables evaluate to true,
// false or unknown; Evaluate computes the decision with every unknown
// condition in the requester's favour and against, and reports Indeterminate
// with the keys it hangs on when the two differ. A needed resource policy
// that was not provided (cross-account, KMS key, trust policy) is treated
// the same way. Nothing unknown is ever silently taken as allowed or denied.
//
// A request resource may be known only in part (Request.ResourceUnknown): a
// known prefix, a run of unknown characters from a known alphabet with a
// known length, and a known tail — a Secrets Manager ARN without its
// 6-character suffix, an awslogs stream of a task not started yet. Resource
// and NotResource then match exactly for every value of the run, for none,
// or for some, decided on the patterns' automaton by subset construction
// over the classes of the alphabet the patterns cannot tell apart, with the
// same ARN part rules as for a known resource. A statement that matches for
// some values applies only possibly, like one with an unknown condition.
//
// # What is not modelled
//
//   - Session policies (passed to AssumeRole) and permissions of the role
//     chaining that created the session.
//   - The exemptions of SCPs and RCPs: the management account, service-linked
//     roles, AWS managed KMS keys. The caller decides which levels apply and
//     passes nil when none do.
//   - Which context keys a real request carries: the caller builds the
//     Context. Evaluate adds nothing to it (not even aws:PrincipalArn).
//   - Service-specific resource rules: which actions need Resource "*", ARN
//     formats, alias-based KMS authorization, S3 ACLs, VPC endpoint policies,
//     grants, access points and Organizations delegation.
//   - Principal and NotPrincipal are ignored in identity policies,
//     boundaries and SCPs (AWS rejects them there; Parse cannot tell the
//     layer). A statement without Resource or NotResource matches every
//     resource (as in trust policies).
//   - NotPrincipal exempts a caller only when both its account and its own
//     ARN (for a session: the session or its role) are listed; AWS may check
//     each of them.
//   - Variables inside StringEqualsIgnoreCase values compare with ASCII case
//     folding; a policy variable's value never acts as a wildcard.
//   - A single-valued operator applied to a multi-valued key is true when any
//     value matches (for negated operators: when none does).
//
// Policies must come from Parse and must not be modified afterwards: a
// Policy built by hand has no compiled matchers and matches nothing. Parsed
// policies and built Contexts are safe for concurrent use by Evaluate.
package policy
