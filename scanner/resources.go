package scanner

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"golang.org/x/sync/errgroup"

	"github.com/ecs-audit/audit/inventory"
)

// describeParametersBatch is how many names one DescribeParameters call
// asks for: a ParameterStringFilter takes up to 50 values, and a page up to
// 50 parameters (MaxResults), so one call usually answers for 50 names.
// (The scanner asked for 10 before; describeEach still does.)
const describeParametersBatch = 50

// listSecretsBatch is how many values one ListSecrets name filter takes
// (the API's maximum).
const listSecretsBatch = 10

// codeSecretNotFound is Secrets Manager's answer for a secret that does not
// exist.
const codeSecretNotFound = "ResourceNotFoundException"

// ssmSecretsReference is the prefix of SSM names that point at Secrets
// Manager secrets.
const ssmSecretsReference = "/aws/reference/secretsmanager/"

// resOwner is the account and region that own a resource.
type resOwner struct{ account, region string }

// resWork is what to resolve in one account×region.
type resWork struct {
	secrets map[string]bool     // secret ARN (without JSON key/version fields) or name
	params  map[string][]string // reference → candidate parameter names
	keys    map[string]bool     // key ID, key ARN, alias name or alias ARN
	// images: ECR repository name → the images referenced in it.
	images map[string][]inventory.ECRImage
	// logGroups: awslogs groups the driver does not create.
	logGroups map[string]bool
}

func newResWork() *resWork {
	return &resWork{secrets: map[string]bool{}, params: map[string][]string{}, keys: map[string]bool{},
		images: map[string][]inventory.ECRImage{}, logGroups: map[string]bool{}}
}

// refIndex groups references by owning account×region.
type refIndex struct {
	mu sync.Mutex
	m  map[resOwner]*resWork
	// s3: referenced buckets by name (global).
	s3 map[string]*s3Ref
}

func (ri *refIndex) work(o resOwner) *resWork {
	if ri.m == nil {
		ri.m = map[resOwner]*resWork{}
	}
	w := ri.m[o]
	if w == nil {
		w = newResWork()
		ri.m[o] = w
	}
	return w
}

// addSecretOrParameter files a secrets[]/secretOptions[] valueFrom: a
// Secrets Manager ARN, an SSM parameter ARN, or a bare SSM parameter name in
// the task's own account and region.
func (ri *refIndex) addSecretOrParameter(task resOwner, ref string) {
	if ref == inventory.Redacted {
		return // redacted at collection: a value, not a reference
	}
	if a, ok := parseARN(ref); ok {
		switch a.service {
		case "secretsmanager":
			ri.addSecret(task, ref)
		case "ssm":
			name, ok := strings.CutPrefix(a.resource, "parameter/")
			if !ok || name == "" {
				return
			}
			// The ARN drops the leading "/" of a hierarchical name, so a
			// single-level name may be "x" or "/x".
			cands := []string{"/" + name}
			if !strings.Contains(name, "/") {
				cands = append(cands, name)
			}
			ri.addParameter(resOwner{a.account, a.region}, ref, cands)
		}
		return
	}
	if strings.TrimSpace(ref) == "" {
		return
	}
	ri.addParameter(task, ref, []string{ref})
}

func (ri *refIndex) addParameter(o resOwner, ref string, cands []string) {
	for _, c := range cands {
		if secret, ok := strings.CutPrefix(c, ssmSecretsReference); ok {
			ri.addSecret(o, secret)
			return
		}
	}
	ri.work(o).params[ref] = cands
}

// addSecret files a repositoryCredentials value or a Secrets Manager ARN:
// an ARN belongs to its own account and region, a name to the task's.
func (ri *refIndex) addSecret(task resOwner, ref string) {
	if a, ok := parseARN(ref); ok {
		if a.service != "secretsmanager" {
			return
		}
		// Drop the JSON key, version stage and version ID fields.
		parts := strings.SplitN(ref, ":", 8)
		if len(parts) >= 7 {
			ref = strings.Join(parts[:7], ":")
		}
		ri.work(resOwner{a.account, a.region}).secrets[ref] = true
		return
	}
	if strings.TrimSpace(ref) != "" {
		ri.work(task).secrets[ref] = true
	}
}

// addKey files a KMS key reference made by a resource of owner.
func (ri *refIndex) addKey(owner resOwner, ref string) {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	if a, ok := parseARN(ref); ok {
		if a.service == "kms" {
			ri.work(resOwner{a.account, a.region}).keys[ref] = true
		}
		return
	}
	if strings.TrimSpace(ref) != "" {
		ri.work(owner).keys[ref] = true
	}
}

// addTaskDefinition files what one task definition of task's account and
// region references: its images, log groups, S3 objects, secrets,
// parameters and registry credentials.
func (ri *refIndex) addTaskDefinition(task resOwner, td *inventory.TaskDefinition, partition string) {
	for _, cd := range td.ContainerDefinitions {
		ri.addImage(cd.Image)
		ri.addLogGroup(task, cd.LogConfiguration)
		for _, f := range cd.EnvironmentFiles {
			if f.Type == "" || strings.EqualFold(f.Type, "s3") {
				ri.addS3Object(task, f.Value, partition)
			}
		}
		if fl := cd.FirelensConfiguration; fl != nil && fl.Options["config-file-type"] == "s3" {
			ri.addS3Object(task, fl.Options["config-file-value"], partition)
		}
		for _, sr := range cd.Secrets {
			ri.addSecretOrParameter(task, sr.ValueFrom)
		}
		if lc := cd.LogConfiguration; lc != nil {
			for _, sr := range lc.SecretOptions {
				ri.addSecretOrParameter(task, sr.ValueFrom)
			}
		}
		if rc := cd.RepositoryCredentials; rc != nil {
			ri.addSecret(task, rc.CredentialsParameter)
		}
	}
	for _, v := range td.Volumes {
		if f := v.FSxWindowsFileServerVolumeConfiguration; f != nil && f.AuthorizationConfig != nil {
			if ref := f.AuthorizationConfig.CredentialsParameter; strings.HasPrefix(ref, "arn:") {
				ri.addSecretOrParameter(task, ref)
			}
		}
	}
}

// secretListName is the name a ListSecrets name filter (a prefix match)
// asks for to find the secret a reference names: the name itself, or an
// ARN's secret name without the random suffix Secrets Manager appends
// ("-" and six characters). An ARN whose name only looks suffixed may be a
// partial ARN (no suffix) of a secret named so: the shorter prefix matches
// that name too, so both readings are listed.
func secretListName(ref string) string {
	a, ok := parseARN(ref)
	if !ok {
		return ref
	}
	name, ok := strings.CutPrefix(a.resource, "secret:")
	if !ok {
		return ref
	}
	if n := len(name); n > 7 && name[n-7] == '-' && isAlnum(name[n-6:]) {
		return name[:n-7]
	}
	return name
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// arnParts are the fields of an ARN.
type arnParts struct{ partition, service, region, account, resource string }

// parseARN splits an ARN whose account and region are usable to call AWS.
func parseARN(s string) (arnParts, bool) {
	if !strings.HasPrefix(s, "arn:") {
		return arnParts{}, false
	}
	p := strings.SplitN(s, ":", 6)
	if len(p) != 6 {
		return arnParts{}, false
	}
	a := arnParts{partition: p[1], service: p[2], region: p[3], account: p[4], resource: p[5]}
	if !validRegion(a.region) || !inventory.IsAccountID(a.account) {
		return arnParts{}, false
	}
	return a, true
}

// resolveResources resolves what the collected task definitions reference,
// in the accounts and regions that were scanned (others have no credentials
// here and are skipped): secrets, parameters and KMS keys, ECR repositories
// and images with their policies and the registries' pull-through cache
// rules, awslogs log groups the driver does not create, and the S3 buckets
// and objects of environment files and FireLens configurations (returned:
// bucket names are global).
func (c *collector) resolveResources(ctx context.Context, states []*accountState, idx *refIndex) []*inventory.S3Bucket {
	byID := map[string]*accountState{}
	for _, s := range states {
		byID[s.acct.ID] = s
	}

	// target returns the scanned region that owns o, or nil.
	target := func(o resOwner) *regionState {
		s := byID[o.account]
		if s == nil {
			return c.ref.region(ctx, o)
		}
		if s.sess == nil {
			return nil
		}
		return scannedRegion(s, o.region)
	}

	// S3 alongside: buckets are found by their owner, not by region.
	var buckets []*inventory.S3Bucket
	var s3g errgroup.Group
	s3g.Go(func() error {
		buckets = c.resolveS3(ctx, byID, idx.s3)
		return nil
	})
	c.resolveWork(ctx, idx, target, c.in, nil)
	_ = s3g.Wait()
	c.in.detach(&buckets)
	return buckets
}

// scannedRegion is the account's region when it was scanned and has
// clients, or nil.
func scannedRegion(s *accountState, region string) *regionState {
	rs := s.regions[region]
	if rs == nil || rs.region == nil || rs.region.Status != inventory.RegionScanned || !rs.hasClients() {
		return nil
	}
	return rs
}

// resolveAccount resolves, as an account's scan ends, what its task
// definitions reference in its own scanned regions, into those regions
// (strings detached with in). What they reference elsewhere (another
// account, and S3 buckets, whose owners are found by listing) is filed
// in idx for resolveResources, and so are the keys that its secrets and
// parameters name in another account. An account's own resources then
// go to the spool with it: the scan holds until its end only what
// accounts reference across accounts.
func (c *collector) resolveAccount(ctx context.Context, st *accountState, regions []*inventory.Region, idx *refIndex, in *interner) {
	local := &refIndex{}
	for _, r := range regions {
		for _, td := range r.TaskDefinitions {
			local.addTaskDefinition(resOwner{st.acct.ID, r.Name}, td, c.partition)
		}
	}
	own := func(o resOwner) bool { return o.account == st.acct.ID }
	if st.sess != nil {
		c.resolveWork(ctx, local, func(o resOwner) *regionState { return scannedRegion(st, o.region) }, in, own)
	}
	idx.mu.Lock()
	defer idx.mu.Unlock()
	for o, w := range local.m {
		if !own(o) {
			idx.work(o).merge(w)
		}
	}
	for bucket, r := range local.s3 {
		if idx.s3 == nil {
			idx.s3 = map[string]*s3Ref{}
		}
		if have := idx.s3[bucket]; have != nil {
			maps.Copy(have.keys, r.keys)
			maps.Copy(have.from, r.from)
		} else {
			idx.s3[bucket] = r
		}
	}
}

// merge adds the work of o to w.
func (w *resWork) merge(o *resWork) {
	maps.Copy(w.secrets, o.secrets)
	maps.Copy(w.params, o.params)
	maps.Copy(w.keys, o.keys)
	maps.Copy(w.logGroups, o.logGroups)
	for repo, imgs := range o.images {
		for _, img := range imgs {
			if !slices.Contains(w.images[repo], img) {
				w.images[repo] = append(w.images[repo], img)
			}
		}
	}
}

// resolveWork resolves the work filed in idx for the owners that keep
// accepts (every owner when keep is nil) in the region target gives
// (none: not resolved, and said so in the log), with the results' strings
// detached with in: first secrets, parameters (they name the KMS keys),
// ECR and log groups, then the keys. Each owner's region holds a slot of
// the scan's region concurrency while it is resolved.
func (c *collector) resolveWork(ctx context.Context, idx *refIndex, target func(resOwner) *regionState, in *interner, keep func(resOwner) bool) {
	run := func(phase string, do func(o resOwner, rs *regionState, w *resWork)) {
		// Phase 1 files keys into idx while it runs: take the work first.
		idx.mu.Lock()
		works := maps.Clone(idx.m)
		idx.mu.Unlock()
		owners := slices.SortedFunc(maps.Keys(works), func(a, b resOwner) int {
			if c := strings.Compare(a.account, b.account); c != 0 {
				return c
			}
			return strings.Compare(a.region, b.region)
		})
		var g errgroup.Group
		g.SetLimit(c.cfg.RegionConcurrency)
		for _, o := range owners {
			if keep != nil && !keep(o) {
				continue
			}
			w := works[o]
			rs := target(o)
			if rs == nil {
				c.log.Info("not resolving resources outside the scanned accounts and regions", "phase", phase,
					"account", o.account, "region", o.region)
				continue
			}
			g.Go(func() error {
				// Without the caller's cancellation: an interrupted
				// scan still records each reference it leaves
				// unresolved, and the slots are always given back.
				_ = c.regionSem.Acquire(context.WithoutCancel(ctx), 1)
				defer c.regionSem.Release(1)
				do(o, rs, w)
				return nil
			})
		}
		_ = g.Wait()
	}

	run("secrets, parameters, ECR and log groups", func(o resOwner, rs *regionState, w *resWork) {
		var g errgroup.Group
		g.Go(func() error { c.resolveSecrets(ctx, o, rs, w, idx); return nil })
		g.Go(func() error { c.resolveParameters(ctx, o, rs, w, idx); return nil })
		g.Go(func() error { c.resolveECR(ctx, o, rs, w); return nil })
		g.Go(func() error { c.resolveLogGroups(ctx, o, rs, w); return nil })
		_ = g.Wait()
		// Detached from the responses (detach.go) as soon as each
		// account×region is done.
		r := rs.region
		in.detach(&r.Secrets)
		in.detach(&r.Parameters)
		in.detach(&r.MissingSecrets)
		in.detach(&r.MissingParameters)
		in.detach(&r.ECRRepositories)
		in.detach(&r.ECRRegistry)
		in.detach(&r.LogGroups)
	})
	run("keys", func(o resOwner, rs *regionState, w *resWork) {
		c.resolveKeys(ctx, o, rs, w)
		in.detach(&rs.region.KMSKeys)
	})
}

// resolveSecrets looks up the referenced secrets of one account×region:
// existence, ARN, name, KMS key and deletion date from ListSecrets (ten
// names per call, see listSecrets), DescribeSecret for what the listing
// does not settle, then each secret's resource policy (no listing returns
// policies). A secret that does not exist is a fact (MissingSecrets); a
// failed call is a collection error.
func (c *collector) resolveSecrets(ctx context.Context, o resOwner, rs *regionState, w *resWork, idx *refIndex) {
	if len(w.secrets) == 0 {
		return
	}
	api := rs.api().secrets
	wh := where(o)
	b := c.newBucket(secretsRate, secretsBurst, resourceInFlight)
	refs := slices.Sorted(maps.Keys(w.secrets))

	var mu sync.Mutex
	found := map[string]*inventory.Secret{} // by ARN
	var missing []string
	keep := func(ref string, s *inventory.Secret) {
		mu.Lock()
		defer mu.Unlock()
		if s == nil {
			missing = append(missing, ref)
			return
		}
		if s.ARN != "" && found[s.ARN] == nil {
			found[s.ARN] = s // a partial ARN and a full one name the same secret
		}
	}
	pending := refs
	if !c.cfg.describeEach {
		pending = c.listSecrets(ctx, o, api, b, refs, keep)
	}
	var g errgroup.Group
	for _, id := range pending {
		g.Go(func() error {
			out, err := invoke(ctx, c, wh, b, "secretsmanager", "DescribeSecret", func(ctx context.Context) (*secretsmanager.DescribeSecretOutput, error) {
				return api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
			})
			if errorCode(err) == codeSecretNotFound && ctx.Err() == nil {
				// A fact, not a gap: the task cannot start with it.
				keep(id, nil)
				return nil
			}
			if err != nil {
				c.record(ctx, wh, "secretsmanager", "DescribeSecret", id, err)
				return nil
			}
			keep(id, secretOf(out.ARN, out.Name, out.KmsKeyId, out.DeletedDate))
			return nil
		})
	}
	_ = g.Wait()

	secrets := slices.SortedFunc(maps.Values(found), func(a, b *inventory.Secret) int { return strings.Compare(a.ARN, b.ARN) })
	for _, s := range secrets {
		g.Go(func() error {
			pol, err := call(ctx, c, wh, b, "secretsmanager", "GetResourcePolicy", s.ARN, func(ctx context.Context) (*secretsmanager.GetResourcePolicyOutput, error) {
				return api.GetResourcePolicy(ctx, &secretsmanager.GetResourcePolicyInput{SecretId: aws.String(s.ARN)})
			})
			// No policy is a fact (none); a failed call is recorded as a
			// collection error and leaves the policy unknown.
			s.ResourcePolicyStatus = inventory.PolicyNotCollected
			if err == nil {
				s.ResourcePolicy = aws.ToString(pol.ResourcePolicy)
				s.ResourcePolicyStatus = inventory.PolicyNone
				if s.ResourcePolicy != "" {
					s.ResourcePolicyStatus = inventory.PolicyCollected
				}
			}
			if s.KMSKeyID != "" {
				idx.addKey(o, s.KMSKeyID)
			}
			return nil
		})
	}
	_ = g.Wait()
	slices.Sort(missing)
	rs.region.Secrets = append(rs.region.Secrets, secrets...)
	rs.region.MissingSecrets = append(rs.region.MissingSecrets, missing...)
}

// secretOf is the record of a secret DescribeSecret or ListSecrets
// returned.
func secretOf(arn, name, keyID *string, deleted *time.Time) *inventory.Secret {
	s := &inventory.Secret{ARN: aws.ToString(arn), Name: aws.ToString(name), KMSKeyID: aws.ToString(keyID)}
	if deleted != nil && !deleted.IsZero() {
		t := deleted.UTC()
		s.DeletedDate = &t
	}
	return s
}

func (c *collector) resolveParameters(ctx context.Context, o resOwner, rs *regionState, w *resWork, idx *refIndex) {
	if len(w.params) == 0 {
		return
	}
	api := rs.api().ssm
	wh := where(o)
	b := c.newBucket(ssmRate, ssmBurst, resourceInFlight)
	var names []string
	for _, cands := range w.params {
		names = append(names, cands...)
	}
	slices.Sort(names)
	names = slices.Compact(names)

	var mu sync.Mutex
	found := map[string]bool{}
	failed := map[string]bool{}
	size := describeParametersBatch
	if c.cfg.describeEach {
		size = 10
	}
	var g errgroup.Group
	for batch := range slices.Chunk(names, size) {
		g.Go(func() error {
			got, err := paginate(ctx, c, listing{w: wh, b: b, svc: "ssm", op: "DescribeParameters", resource: batchResource(batch)}, nil,
				func(ctx context.Context, token *string) ([]ssmtypes.ParameterMetadata, *string, error) {
					out, err := api.DescribeParameters(ctx, &ssm.DescribeParametersInput{
						ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("Equals"), Values: batch}},
						MaxResults:       aws.Int32(50),
						NextToken:        token,
					})
					if err != nil {
						return nil, nil, err
					}
					return out.Parameters, out.NextToken, nil
				})
			mu.Lock()
			defer mu.Unlock()
			for _, p := range got {
				name := aws.ToString(p.Name)
				if name == "" || found[name] || !slices.Contains(batch, name) {
					continue
				}
				found[name] = true
				rs.region.Parameters = append(rs.region.Parameters, &inventory.Parameter{
					Name: name, ARN: aws.ToString(p.ARN), Type: string(p.Type), KeyID: aws.ToString(p.KeyId),
					ResourcePolicyStatus: inventory.PolicyNotCollected, // parameter policies are not read
				})
				if p.Type == ssmtypes.ParameterTypeSecureString && aws.ToString(p.KeyId) != "" {
					idx.addKey(o, aws.ToString(p.KeyId))
				}
			}
			if err != nil {
				// The listing was cut short (recorded): what it did not
				// find is unknown, not missing.
				for _, n := range batch {
					failed[n] = true
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	// A name a complete listing did not return does not exist
	// (ssm:DescribeParameters is authorized on "*" only, so the listing
	// is not filtered by what the scan role may see).
	var missing []string
	for _, ref := range slices.Sorted(maps.Keys(w.params)) {
		cands := w.params[ref]
		if slices.ContainsFunc(cands, func(n string) bool { return found[n] || failed[n] }) {
			continue
		}
		missing = append(missing, cands...)
	}
	slices.Sort(missing)
	mu.Lock()
	rs.region.MissingParameters = append(rs.region.MissingParameters, slices.Compact(missing)...)
	mu.Unlock()
}

// resolveKeys describes the KMS keys referenced in one account×region and
// reads their key policies.
//
// Aliases are resolved through the region's ListAliases, never by calling
// DescribeKey (or GetKeyPolicy) on an alias/aws/* name: AWS documents that
// describing a predefined alias whose AWS managed key does not exist yet
// creates that key. An AWS managed alias is the AWS managed key by
// definition: the listing gives its key ID, and it is recorded without
// further calls (its key policy is AWS's, and no need is derived from it).
// One that the complete listing shows without a key has no key yet; one
// that a failed listing did not show is recorded as not resolved. Customer
// aliases the listing did not show are described by alias (that creates
// nothing, and reports a missing alias).
func (c *collector) resolveKeys(ctx context.Context, o resOwner, rs *regionState, w *resWork) {
	if len(w.keys) == 0 {
		return
	}
	api := rs.api().kms
	wh := where(o)
	b := c.newBucket(kmsRate, kmsBurst, resourceInFlight)

	// The aliases of every key of the region: one paged ListAliases for the
	// region rather than one per key.
	targets := map[string]string{} // alias name → target key ID ("" for a predefined alias without a key)
	aliasesOf := map[string][]string{}
	_, listErr := paginate(ctx, c, listing{w: wh, b: b, svc: "kms", op: "ListAliases"},
		func(page []kmstypes.AliasListEntry) {
			for _, a := range page {
				n, id := aws.ToString(a.AliasName), aws.ToString(a.TargetKeyId)
				if n == "" {
					continue
				}
				targets[n] = id
				if id != "" {
					aliasesOf[lastSegment(id)] = append(aliasesOf[lastSegment(id)], n)
				}
			}
		},
		func(ctx context.Context, marker *string) ([]kmstypes.AliasListEntry, *string, error) {
			out, err := api.ListAliases(ctx, &kms.ListAliasesInput{Marker: marker})
			if err != nil {
				return nil, nil, err
			}
			if !out.Truncated {
				return out.Aliases, nil, nil
			}
			if aws.ToString(out.NextMarker) == "" {
				return nil, nil, newScanError(CodePagination, "Truncated without a NextMarker")
			}
			return out.Aliases, out.NextMarker, nil
		})

	var mu sync.Mutex
	seen := map[string]bool{}
	claimed := map[string]bool{} // keys whose policy one DescribeKey goroutine reads
	add := func(k *inventory.KMSKey) {
		mu.Lock()
		defer mu.Unlock()
		if seen[k.ARN] {
			return // an alias and the key's ARN name the same key
		}
		seen[k.ARN] = true
		k.Aliases = slices.Compact(slices.Sorted(slices.Values(aliasesOf[k.KeyID])))
		rs.region.KMSKeys = append(rs.region.KMSKeys, k)
	}

	// What to describe: key IDs and key ARNs as named, customer aliases by
	// the key the listing says they point to.
	describe := map[string]bool{}
	for _, ref := range slices.Sorted(maps.Keys(w.keys)) {
		alias, isAlias := kmsAliasName(ref)
		switch {
		case !isAlias:
			describe[ref] = true
		case isAWSManagedAlias(alias) && targets[alias] != "":
			add(c.awsManagedKey(o, targets[alias]))
		case targets[alias] != "":
			describe[targets[alias]] = true
		case !isAWSManagedAlias(alias):
			describe[ref] = true
		case listErr == nil:
			c.log.Info("AWS managed key not created yet", "account", o.account, "region", o.region, "alias", sanitize(alias))
		default:
			e := inventory.CollectionError{AccountID: o.account, Region: o.region, Service: "kms", Operation: "ListAliases",
				Resource: sanitize(ref), Code: CodeNotResolved,
				Message: "the AWS managed key behind " + sanitize(alias) + " was not resolved: ListAliases did not complete, and DescribeKey on an AWS managed alias could create the key"}
			if why := stopReason(ctx, listErr); why != "" {
				// The listing was cut short by the scan's own stop: the
				// key is one more thing the interruption left out.
				e.Code = CodeInterrupted
				e.Message = "not collected: the scan was " + why + " before the AWS managed key behind " + sanitize(alias) + " was resolved (ListAliases did not complete)"
			}
			c.addError(e)
		}
	}

	var g errgroup.Group
	for _, id := range slices.Sorted(maps.Keys(describe)) {
		g.Go(func() error {
			out, err := call(ctx, c, wh, b, "kms", "DescribeKey", id, func(ctx context.Context) (*kms.DescribeKeyOutput, error) {
				return api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
			})
			if err != nil || out.KeyMetadata == nil {
				return nil
			}
			md := out.KeyMetadata
			k := &inventory.KMSKey{ARN: aws.ToString(md.Arn), KeyID: aws.ToString(md.KeyId), Manager: string(md.KeyManager)}
			// Two references to one key (its ID and its ARN, or an alias)
			// are described at once: the first to get here reads its
			// policy, the others stop.
			mu.Lock()
			dup := k.ARN == "" || k.KeyID == "" || seen[k.ARN] || claimed[k.ARN]
			if !dup {
				claimed[k.ARN] = true
			}
			mu.Unlock()
			if dup {
				return nil
			}
			// By key ID, as DescribeKey returned it: never an alias.
			pol, err := call(ctx, c, wh, b, "kms", "GetKeyPolicy", k.ARN, func(ctx context.Context) (*kms.GetKeyPolicyOutput, error) {
				return api.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(k.KeyID), PolicyName: aws.String("default")})
			})
			// Every key has a key policy: without one in the answer it is
			// not known.
			k.PolicyStatus = inventory.PolicyNotCollected
			if err == nil && aws.ToString(pol.Policy) != "" {
				k.Policy = aws.ToString(pol.Policy)
				k.PolicyStatus = inventory.PolicyCollected
			}
			add(k)
			return nil
		})
	}
	_ = g.Wait()
}

// awsManagedKey is the AWS managed key a predefined alias points to, as
// ListAliases named it (a key ID, or an ARN).
func (c *collector) awsManagedKey(o resOwner, target string) *inventory.KMSKey {
	// Its key policy is not read (GetKeyPolicy is only called with a key ID
	// DescribeKey returned): not collected, never "absent".
	k := &inventory.KMSKey{KeyID: target, Manager: string(kmstypes.KeyManagerTypeAws), PolicyStatus: inventory.PolicyNotCollected}
	if strings.HasPrefix(target, "arn:") {
		k.ARN, k.KeyID = target, lastSegment(target)
	} else {
		k.ARN = "arn:" + c.partition + ":kms:" + o.region + ":" + o.account + ":key/" + target
	}
	return k
}

// kmsAliasName returns the alias a key reference names ("alias/x" or an
// alias ARN "arn:...:alias/x"). The prefix is matched whatever its case, so
// that no spelling of an AWS managed alias reaches DescribeKey.
func kmsAliasName(ref string) (string, bool) {
	lower := strings.ToLower(ref)
	if strings.HasPrefix(lower, "alias/") {
		return ref, true
	}
	if i := strings.Index(lower, ":alias/"); i >= 0 && strings.HasPrefix(lower, "arn:") {
		return ref[i+1:], true
	}
	return "", false
}

// isAWSManagedAlias reports whether an alias is one of the names AWS
// reserves for AWS managed keys (alias/aws/...).
func isAWSManagedAlias(alias string) bool {
	return strings.HasPrefix(strings.ToLower(alias), "alias/aws/")
}
