package scanner

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"golang.org/x/sync/errgroup"

	"github.com/ecs-audit/audit/inventory"
)

// Secrets Manager's ListSecrets returns, for every secret of the account
// and region its filters match, what DescribeSecret returns of it that the
// scanner keeps (ARN, name, KMS key, deletion date), but not its resource
// policy: one listing with a name filter of ten names answers for ten
// referenced secrets, and GetResourcePolicy stays one call per secret.
//
// The name filter is a case-sensitive prefix match (Secrets Manager API
// reference, Filter): the listing also returns secrets whose names only
// start with a referenced name, so names are compared exactly here, as
// DescribeSecret resolves them:
//
//   - a name names the secret with exactly that name;
//   - a full ARN names the secret with exactly that ARN;
//   - a partial ARN (without the "-" and six characters Secrets Manager
//     appends) names the one secret whose ARN is it plus a suffix. When
//     the listing shows more than one, the reference is ambiguous: it is
//     left to DescribeSecret, as before.
//
// The listing asks for secrets scheduled for deletion too
// (IncludePlannedDeletion), which DescribeSecret also answers for. A name
// or ARN the complete listing does not show does not exist (ListSecrets is
// authorized on "*", so it is not filtered by the scan role's access to
// each secret). Whatever the listing cannot settle — a reference a filter
// cannot express, an ambiguous partial ARN, a listing that failed or was
// cut short — is looked up with DescribeSecret, which records its own
// failures; the listing's failure is logged, not recorded, since nothing is
// lost by it.

// listSecretsPage is ListSecrets' MaxResults (its maximum).
const listSecretsPage = 100

// secretFilterValue is what a ListSecrets filter value may be (the API's
// pattern and length, without the leading "!" that negates a value).
var secretFilterValue = regexp.MustCompile(`^[a-zA-Z0-9 :_@/+=.\-][a-zA-Z0-9 :_@/+=.\-!]{0,511}$`)

// secretSuffix is the suffix Secrets Manager appends to a secret's name in
// its ARN.
var secretSuffix = regexp.MustCompile(`-[a-zA-Z0-9]{6}$`)

// listSecrets settles with ListSecrets what it can of refs (the secret
// names and ARNs referenced in one account×region), calling keep for each
// (with nil for a secret that does not exist), and returns the others,
// sorted, for DescribeSecret.
func (c *collector) listSecrets(ctx context.Context, o resOwner, api secretsAPI, b *bucket, refs []string, keep func(ref string, s *inventory.Secret)) []string {
	byName := map[string][]string{} // filter value → the references it lists
	var pending []string
	for _, ref := range refs {
		if name, ok := c.secretFilterName(ref); ok {
			byName[name] = append(byName[name], ref)
		} else {
			pending = append(pending, ref)
		}
	}
	var mu sync.Mutex
	var g errgroup.Group
	for batch := range slices.Chunk(slices.Sorted(maps.Keys(byName)), listSecretsBatch) {
		g.Go(func() error {
			listed, complete := c.listSecretBatch(ctx, o, api, b, batch)
			var open []string
			for _, name := range batch {
				for _, ref := range byName[name] {
					if s, settled := matchSecret(ref, listed, complete); settled {
						keep(ref, s)
					} else {
						open = append(open, ref)
					}
				}
			}
			mu.Lock()
			pending = append(pending, open...)
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	slices.Sort(pending)
	return pending
}

// secretFilterName is the name filter value that lists the secret ref
// names (secretListName), when a filter can express it: a name, or the ARN
// of a secret in the scan's partition.
func (c *collector) secretFilterName(ref string) (string, bool) {
	if strings.HasPrefix(ref, "arn:") {
		a, ok := parseARN(ref)
		if !ok || a.service != "secretsmanager" || a.partition != c.partition || !strings.HasPrefix(a.resource, "secret:") {
			return "", false
		}
	}
	name := secretListName(ref)
	return name, secretFilterValue.MatchString(name)
}

// listSecretBatch lists the secrets whose names start with one of names
// (at most listSecretsBatch), reading no more pages than there are names
// (the DescribeSecret calls the listing saves). complete is false when the
// listing failed or was cut short: what it returned is still true.
func (c *collector) listSecretBatch(ctx context.Context, o resOwner, api secretsAPI, b *bucket, names []string) (listed []*inventory.Secret, complete bool) {
	entries, err := paginate(ctx, c, listing{w: where(o), b: b, svc: "secretsmanager", op: "ListSecrets", resource: batchResource(names),
		maxPages: len(names), quiet: true}, nil,
		func(ctx context.Context, token *string) ([]smtypes.SecretListEntry, *string, error) {
			out, err := api.ListSecrets(ctx, &secretsmanager.ListSecretsInput{
				Filters:                []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: names}},
				IncludePlannedDeletion: aws.Bool(true),
				MaxResults:             aws.Int32(listSecretsPage),
				NextToken:              token,
			})
			if err != nil {
				return nil, nil, err
			}
			return out.SecretList, out.NextToken, nil
		})
	if err != nil && ctx.Err() == nil {
		c.log.Warn("listing secrets by name did not complete; looking the rest up one by one (the scanning role needs secretsmanager:ListSecrets)",
			"account", o.account, "region", o.region, "names", sanitize(batchResource(names)), "code", errorCode(err), "error", sanitize(err.Error()))
	}
	for _, e := range entries {
		listed = append(listed, secretOf(e.ARN, e.Name, e.KmsKeyId, e.DeletedDate))
	}
	return listed, err == nil
}

// matchSecret finds the secret ref names among listed, as DescribeSecret
// would resolve ref. settled is false when the listing cannot say: the
// reference is then looked up with DescribeSecret. A settled nil secret
// does not exist.
func matchSecret(ref string, listed []*inventory.Secret, complete bool) (s *inventory.Secret, settled bool) {
	if _, isARN := parseARN(ref); isARN {
		var partial []*inventory.Secret
		for _, e := range listed {
			if e.ARN == ref {
				return e, true
			}
			if secretSuffix.MatchString(e.ARN) && e.ARN[:len(e.ARN)-7] == ref {
				partial = append(partial, e)
			}
		}
		switch {
		case !complete || len(partial) > 1:
			return nil, false // not all seen, or ambiguous
		case len(partial) == 1:
			return partial[0], true
		}
		return nil, true
	}
	var hits []*inventory.Secret
	for _, e := range listed {
		if e.Name == ref {
			hits = append(hits, e)
		}
	}
	switch {
	case len(hits) == 1:
		return hits[0], true
	case len(hits) > 1 || !complete:
		return nil, false
	}
	return nil, true
}
