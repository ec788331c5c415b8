package findings

import (
	"strconv"
	"strings"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// Words: counts with the right plural, lists in prose, and the nouns that
// findings use for values, features and policy statements.

// plural picks the singular or the plural form for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// count is "1 task definition", "3 task definitions".
func count(n int, one, many string) string {
	return strconv.Itoa(n) + " " + plural(n, one, many)
}

// listAnd joins items in prose: "a", "a and b", "a, b and c".
func listAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// ResourceNoun is the singular and plural noun of a resource type, as
// reports and messages say it.
func ResourceNoun(typ string) (one, many string) {
	switch typ {
	case ResourceTaskDefinition:
		return "task definition", "task definitions"
	case ResourceContainerInstance:
		return "container instance", "container instances"
	case ResourceService:
		return "service", "services"
	case ResourceRole:
		return "role", "roles"
	case ResourcePolicy:
		return "policy", "policies"
	case ResourceTask:
		return "standalone task", "standalone tasks"
	case ResourceEventRule:
		return "EventBridge rule", "EventBridge rules"
	case ResourceSchedule:
		return "Scheduler schedule", "Scheduler schedules"
	}
	return typ, typ + "s"
}

// valueClassNoun names what a value looks like, with its article.
func valueClassNoun(class string) string {
	switch class {
	case inventory.ValueAWSAccessKey:
		return "an AWS access key ID"
	case inventory.ValueAWSSecretKey:
		return "an AWS secret access key"
	case inventory.ValuePrivateKey:
		return "a private key"
	case inventory.ValueGitHubToken:
		return "a GitHub token"
	case inventory.ValueSlackToken:
		return "a Slack token"
	case inventory.ValueStripeKey:
		return "a Stripe key"
	case inventory.ValueGoogleAPIKey:
		return "a Google API key"
	case inventory.ValueJWT:
		return "a JSON Web Token"
	case inventory.ValueURLCredentials:
		return "a URL with a password"
	case inventory.ValueHighEntropy:
		return "a random high-entropy string"
	case pastedRedacted:
		return "a value the collection redacted because it looked like a credential"
	}
	return "a credential (" + class + ")"
}

// featureNoun says what a need is for, as the object of "for".
func featureNoun(feature string) string {
	switch feature {
	case FeatureECRPull:
		return "pulling the image from ECR"
	case FeatureAwslogs:
		return "sending logs with awslogs"
	case FeatureSecretsManager:
		return "a Secrets Manager secret"
	case FeatureSSMParameter:
		return "an SSM parameter"
	case FeaturePrivateRegistry:
		return "private registry credentials"
	case FeatureEnvironmentFile:
		return "an environment file"
	case FeatureFirelensS3Config:
		return "the FireLens configuration file"
	case FeatureKMSDecrypt:
		return "decrypting a secret"
	case FeatureFSxCredentials:
		return "FSx for Windows File Server credentials"
	}
	return feature
}

// featureUses names a feature as the object of "uses".
func featureUses(feature string) string {
	switch feature {
	case FeatureECRPull:
		return "private ECR images"
	case FeatureAwslogs:
		return "awslogs"
	case FeatureSecretsManager:
		return "Secrets Manager secrets"
	case FeatureSSMParameter:
		return "SSM parameters"
	case FeaturePrivateRegistry:
		return "private registry credentials"
	case FeatureEnvironmentFile:
		return "environment files"
	case FeatureFirelensS3Config:
		return "FireLens configuration from S3"
	case FeatureKMSDecrypt:
		return "secrets under a customer managed KMS key"
	case FeatureFSxCredentials:
		return "FSx for Windows File Server credentials"
	}
	return feature
}

// stmtID is a statement's Sid in quotes, or its index.
func stmtID(ref policy.StatementRef) string {
	if ref.Sid != "" {
		return strconv.Quote(ref.Sid)
	}
	return strconv.Itoa(ref.Index)
}

// stmtKey is a statement's Sid, or #index: the form ExcessGrant and
// FixTarget use.
func stmtKey(ref policy.StatementRef) string {
	if ref.Sid != "" {
		return ref.Sid
	}
	return "#" + strconv.Itoa(ref.Index)
}

// source says where a statement the engine cited comes from.
func (e *evaluation) source(ri *roleInfo, rp rpInfo, ref policy.StatementRef) policySource {
	switch ref.Layer {
	case policy.LayerSCP, policy.LayerRCP:
		if src, ok := e.orgSources[ref.Policy]; ok {
			return src
		}
		return policySource{kind: sourceSCP, phrase: "the stand-in for organization policies that were not collected"}
	case policy.LayerResourcePolicy:
		if rp.kind == policy.ResourcePolicyTrust {
			return ri.sources[trustPolicyName]
		}
		for _, m := range rp.members {
			if m.name == ref.Policy {
				return policySource{kind: sourceResource, phrase: m.phrase(), arn: m.key()}
			}
		}
		return policySource{kind: sourceResource, phrase: rpPhrase(rp), arn: rp.resource}
	case policy.LayerVPCEndpoint:
		return e.endpointSource(ref.Policy)
	}
	if ri != nil {
		if src, ok := ri.sources[ref.Policy]; ok {
			return src
		}
	}
	return policySource{kind: sourceUnknown, phrase: "policy " + ref.Policy}
}

// stmtPhrase names a statement in a sentence: `statement "Sid" of inline
// policy x`, `statement 0 of SCP name (p-…)`.
func (e *evaluation) stmtPhrase(ri *roleInfo, rp rpInfo, ref policy.StatementRef) string {
	return "statement " + stmtID(ref) + " of " + e.source(ri, rp, ref).phrase
}

// rpPhrase names the resource policy of a need's resource (for an ECR or
// S3 need, every policy of the layer).
func rpPhrase(rp rpInfo) string {
	if len(rp.members) > 0 {
		var names []string
		for _, m := range rp.members {
			names = append(names, m.phrase())
		}
		return listAnd(names)
	}
	switch rp.service {
	case "kms":
		return "the key policy of KMS key " + rp.resource
	case "secretsmanager":
		return "the resource policy of secret " + rp.resource
	case "ssm":
		return "the resource policy of parameter " + rp.resource
	case "ecr":
		return "the repository policy of " + rp.resource
	}
	return "the resource policy of " + rp.resource
}

// settleKeys says how to confirm the values of condition keys for a call
// the agent or Fargate makes.
func settleKeys(keys []string) string {
	var out []string
	seen := map[string]bool{}
	for _, k := range keys {
		lk := strings.ToLower(k)
		var s string
		switch {
		case lk == "aws:sourcevpce" || lk == "aws:sourcevpc":
			s = "Confirm that the agent's (or Fargate's) calls reach the service through the VPC endpoint the condition names (the task's subnets route to that interface endpoint; CloudTrail records the vpcEndpointId of each call)."
		case lk == "aws:sourceip" || lk == "aws:vpcsourceip":
			s = "Confirm the address the agent's (or Fargate's) calls come from (CloudTrail records sourceIPAddress)."
		case strings.HasPrefix(lk, "aws:resourcetag/") || strings.HasPrefix(lk, "secretsmanager:resourcetag/") || strings.HasPrefix(lk, "ssm:resourcetag/"):
			s = "Read the resource's tags: " + k + " is the value of that tag on the resource."
		case strings.HasPrefix(lk, "kms:"):
			s = "Confirm the context of the decrypt call: Secrets Manager and SSM call kms:Decrypt on the role's behalf (kms:ViaService is secretsmanager.<region>.amazonaws.com or ssm.<region>.amazonaws.com, with their encryption context); CloudTrail records it."
		case lk == "aws:calledvia" || lk == "aws:calledviafirst" || lk == "aws:calledvialast" || lk == "aws:viaawsservice":
			s = "Confirm whether the call is made by a service on the role's behalf (" + k + "): CloudTrail records invokedBy."
		default:
			s = "Find the value of " + k + " for the call in a CloudTrail record of it, or in the service's documentation."
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}
