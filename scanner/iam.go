package scanner

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/ecs-audit/audit/inventory"
)

// iamPageSize is GetAccountAuthorizationDetails' MaxItems (its maximum).
const iamPageSize = 1000

// decodeDocument returns a policy document as JSON. IAM returns documents
// URL-encoded (RFC 3986) and the Go SDK does not decode them; a document
// that already starts with "{" is kept as it is. Decoding uses path
// unescaping, which leaves "+" alone. A document that cannot be decoded is
// returned as received, with an InvalidDocument error.
func decodeDocument(doc string) (string, error) {
	d := strings.TrimSpace(doc)
	// Two rounds at most: a document encoded twice is still recognised,
	// anything deeper is left alone.
	for range 2 {
		if d == "" || strings.HasPrefix(d, "{") {
			return d, nil
		}
		u, err := url.PathUnescape(d)
		if err != nil {
			return doc, newScanError(CodeInvalidDocument, "the policy document is neither JSON nor URL-encoded JSON: %v", err)
		}
		d = strings.TrimSpace(u)
	}
	if strings.HasPrefix(d, "{") {
		return d, nil
	}
	return doc, newScanError(CodeInvalidDocument, "the policy document does not decode to a JSON object")
}

// collectIAM reads every role and managed policy of an account with
// GetAccountAuthorizationDetails (all pages). It returns nil when IAM could
// not be read completely (the error is recorded): a partial role list would
// make roles look missing.
func (c *collector) collectIAM(ctx context.Context, acct string, api iamAPI, in *interner) *inventory.IAM {
	w := where{account: acct}
	b := c.newBucket(iamRate, iamBurst, iamInFlight)
	pages, err := paginate(ctx, c, listing{w: w, b: b, svc: "iam", op: "GetAccountAuthorizationDetails"}, nil,
		func(ctx context.Context, marker *string) ([]*iam.GetAccountAuthorizationDetailsOutput, *string, error) {
			out, err := api.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{
				Filter: []iamtypes.EntityType{
					iamtypes.EntityTypeRole, iamtypes.EntityTypeLocalManagedPolicy, iamtypes.EntityTypeAWSManagedPolicy,
				},
				MaxItems: aws.Int32(iamPageSize),
				Marker:   marker,
			})
			if err != nil {
				return nil, nil, err
			}
			// IAM may return fewer than MaxItems while IsTruncated: follow
			// the marker, not the count.
			if !out.IsTruncated {
				return []*iam.GetAccountAuthorizationDetailsOutput{out}, nil, nil
			}
			if aws.ToString(out.Marker) == "" {
				return nil, nil, newScanError(CodePagination, "IsTruncated without a Marker")
			}
			return []*iam.GetAccountAuthorizationDetailsOutput{out}, out.Marker, nil
		})
	if err != nil {
		return nil
	}
	var roles []iamtypes.RoleDetail
	var policies []iamtypes.ManagedPolicyDetail
	for _, out := range pages {
		roles = append(roles, out.RoleDetailList...)
		policies = append(policies, out.Policies...)
	}
	return c.convertIAM(ctx, w, roles, policies, in)
}

func (c *collector) convertIAM(ctx context.Context, w where, roles []iamtypes.RoleDetail, policies []iamtypes.ManagedPolicyDetail, in *interner) *inventory.IAM {
	out := &inventory.IAM{Roles: []*inventory.Role{}, ManagedPolicies: []*inventory.ManagedPolicy{}}
	decode := func(resource, doc string) string {
		d, err := decodeDocument(doc)
		if err != nil {
			c.record(ctx, w, "iam", "GetAccountAuthorizationDetails", resource, err)
		}
		return d
	}
	usedByRoles := map[string]bool{}
	seenRole := map[string]bool{}
	for _, r := range roles {
		arn := aws.ToString(r.Arn)
		if arn == "" || seenRole[arn] {
			continue
		}
		seenRole[arn] = true
		role := &inventory.Role{
			ARN:         arn,
			Name:        aws.ToString(r.RoleName),
			Path:        aws.ToString(r.Path),
			RoleID:      aws.ToString(r.RoleId),
			TrustPolicy: decode(arn, aws.ToString(r.AssumeRolePolicyDocument)),
		}
		if role.Name == "" {
			role.Name = lastSegment(arn)
		}
		for _, p := range r.RolePolicyList {
			role.InlinePolicies = append(role.InlinePolicies, inventory.InlinePolicy{
				Name:     aws.ToString(p.PolicyName),
				Document: decode(arn+" inline policy "+aws.ToString(p.PolicyName), aws.ToString(p.PolicyDocument)),
			})
		}
		slices.SortFunc(role.InlinePolicies, func(a, b inventory.InlinePolicy) int { return strings.Compare(a.Name, b.Name) })
		for _, p := range r.AttachedManagedPolicies {
			if pa := aws.ToString(p.PolicyArn); pa != "" {
				role.AttachedPolicies = append(role.AttachedPolicies, pa)
				usedByRoles[pa] = true
			}
		}
		slices.Sort(role.AttachedPolicies)
		role.AttachedPolicies = slices.Compact(role.AttachedPolicies)
		if r.PermissionsBoundary != nil {
			role.PermissionsBoundary = aws.ToString(r.PermissionsBoundary.PermissionsBoundaryArn)
			if role.PermissionsBoundary != "" {
				usedByRoles[role.PermissionsBoundary] = true
			}
		}
		if len(r.Tags) > 0 {
			role.Tags = make(map[string]string, len(r.Tags))
			for _, t := range r.Tags {
				role.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
		}
		out.Roles = append(out.Roles, role)
	}

	seenPolicy := map[string]bool{}
	for _, p := range policies {
		arn := aws.ToString(p.Arn)
		if arn == "" || seenPolicy[arn] {
			continue
		}
		awsManaged := isAWSManagedPolicy(arn)
		if awsManaged && !usedByRoles[arn] {
			continue // AWS managed policies are kept only when a role uses them
		}
		seenPolicy[arn] = true
		mp := &inventory.ManagedPolicy{
			ARN:              arn,
			Name:             aws.ToString(p.PolicyName),
			Path:             aws.ToString(p.Path),
			DefaultVersionID: aws.ToString(p.DefaultVersionId),
			AWSManaged:       awsManaged,
		}
		if mp.Name == "" {
			// moto omits PolicyName here; the name is the ARN's last segment.
			mp.Name = lastSegment(arn)
		}
		for _, v := range p.PolicyVersionList {
			if v.IsDefaultVersion || (mp.DefaultVersionID != "" && aws.ToString(v.VersionId) == mp.DefaultVersionID) {
				mp.Document = decode(arn, aws.ToString(v.Document))
				if mp.DefaultVersionID == "" {
					mp.DefaultVersionID = aws.ToString(v.VersionId)
				}
				break
			}
		}
		if mp.Document == "" {
			c.record(ctx, w, "iam", "GetAccountAuthorizationDetails", arn,
				newScanError(CodeInvalidDocument, "managed policy %s came without its default version's document", arn))
		}
		out.ManagedPolicies = append(out.ManagedPolicies, mp)
	}
	// Detached from the responses (detach.go); AWS managed policy versions
	// kept once for the scan.
	for _, r := range out.Roles {
		in.detach(r)
	}
	for i, mp := range out.ManagedPolicies {
		if mp.AWSManaged {
			out.ManagedPolicies[i] = c.shareAWSPolicy(mp)
		} else {
			in.detach(mp)
		}
	}
	return out
}

// awsPolicyKey identifies an AWS managed policy version.
type awsPolicyKey struct{ arn, version string }

// shareAWSPolicy returns the scan's one entry for the AWS managed policy
// version mp is, when an account collected it before with the same name,
// path and document; otherwise it detaches mp and, when it has a document,
// keeps it as that entry. An AWS managed policy version is the same in
// every account, so every account's roles share one copy of it
// (inventory.Inventory.AWSManagedPolicies). An entry without a document
// (not collected in this account) is never shared.
func (c *collector) shareAWSPolicy(mp *inventory.ManagedPolicy) *inventory.ManagedPolicy {
	if c.awsPolicies == nil {
		c.in.detach(mp)
		return mp
	}
	key := awsPolicyKey{mp.ARN, mp.DefaultVersionID}
	c.awsPolMu.Lock()
	defer c.awsPolMu.Unlock()
	if s := c.awsPolicies[key]; s != nil && s.Name == mp.Name && s.Path == mp.Path && s.Document == mp.Document && s.AWSManaged {
		return s
	}
	c.in.detach(mp)
	if c.awsPolicies[key] == nil && strings.TrimSpace(mp.Document) != "" {
		c.awsPolicies[key] = mp
	}
	return mp
}

// sharedAWSPolicies lists the scan's AWS managed policy versions, sorted.
func (c *collector) sharedAWSPolicies() []*inventory.ManagedPolicy {
	c.awsPolMu.Lock()
	defer c.awsPolMu.Unlock()
	list := slices.Collect(maps.Values(c.awsPolicies))
	slices.SortFunc(list, func(a, b *inventory.ManagedPolicy) int {
		if d := strings.Compare(a.ARN, b.ARN); d != 0 {
			return d
		}
		return strings.Compare(a.DefaultVersionID, b.DefaultVersionID)
	})
	return list
}

// isAWSManagedPolicy reports whether a policy ARN is an AWS managed policy
// (arn:PARTITION:iam::aws:policy/...).
func isAWSManagedPolicy(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[4] == "aws"
}

// lastSegment is what follows the last "/" (or ":") of an ARN.
func lastSegment(arn string) string {
	if i := strings.LastIndexAny(arn, "/:"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
