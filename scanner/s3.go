package scanner

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/ecs-audit/audit/inventory"
)

// S3: client-side limits per account (S3 publishes per-prefix request
// rates far above what the scanner sends) and the ListBuckets page size.
const (
	s3Rate, s3Burst   = 20, 40
	listBucketsPage   = 10000
	s3BucketsInFlight = 16
)

// S3 error codes that are facts rather than failures.
const (
	codeNoSuchBucket       = "NoSuchBucket"
	codeNoSuchBucketPolicy = "NoSuchBucketPolicy"
)

// s3Ref is a referenced bucket: its keys and the accounts whose task
// definitions name it.
type s3Ref struct {
	keys map[string]bool
	from map[string]bool
}

// addS3Object files an S3 object ARN (environmentFiles, FireLens
// config-file-value). Bucket names are global within the partition.
func (ri *refIndex) addS3Object(task resOwner, arn, partition string) {
	part, bucket, key, ok := inventory.ParseS3ObjectARN(arn)
	if !ok || part != partition {
		return
	}
	if ri.s3 == nil {
		ri.s3 = map[string]*s3Ref{}
	}
	r := ri.s3[bucket]
	if r == nil {
		r = &s3Ref{keys: map[string]bool{}, from: map[string]bool{}}
		ri.s3[bucket] = r
	}
	r.keys[key] = true
	r.from[task.account] = true
}

// s3Scan is the S3 part of one resolution.
type s3Scan struct {
	c      *collector
	byID   map[string]*accountState
	mu     sync.Mutex
	owner  map[string]string  // bucket → owning account
	region map[string]string  // bucket → region, from ListBuckets
	bucket map[string]*bucket // per account
}

// s3Clienter is a session that can make an S3 client alone, instead of
// every client of a region (sdkSession).
type s3Clienter interface{ s3Client(region string) s3API }

// resolveS3 finds the owner (s3:ListAllMyBuckets in the scanned accounts),
// region, referenced objects (s3:ListBucket on the exact key, never a read)
// and bucket policy of every referenced bucket, with the owner's
// credentials. A bucket no scanned account owns is probed once with the
// credentials of an account that references it: S3 says NoSuchBucket when
// no bucket of that name exists anywhere; otherwise the bucket is outside
// the scan and not collected.
func (c *collector) resolveS3(ctx context.Context, byID map[string]*accountState, refs map[string]*s3Ref) []*inventory.S3Bucket {
	if len(refs) == 0 {
		return nil
	}
	sc := &s3Scan{c: c, byID: maps.Clone(byID), owner: map[string]string{}, region: map[string]string{},
		bucket: map[string]*bucket{}}

	// Owners: the referencing accounts first, the others only for what
	// is still unknown; one paged ListBuckets per account at most.
	first := map[string]bool{}
	for _, r := range refs {
		for a := range r.from {
			first[a] = true
		}
	}
	var rest []string
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		if !first[id] {
			rest = append(rest, id)
		}
	}
	sc.listBuckets(ctx, slices.Sorted(maps.Keys(first)))
	sc.mu.Lock()
	unknown := slices.ContainsFunc(slices.Collect(maps.Keys(refs)), func(b string) bool { return sc.owner[b] == "" })
	sc.mu.Unlock()
	if unknown {
		sc.listBuckets(ctx, rest)
		sc.mu.Lock()
		unknown = slices.ContainsFunc(slices.Collect(maps.Keys(refs)), func(b string) bool { return sc.owner[b] == "" })
		sc.mu.Unlock()
	}
	// A sharded scan: the scope's accounts outside the shard own buckets
	// too, and an unsharded scan would have listed theirs. Enter them (once
	// each, as for any other lookup there) only while a referenced bucket
	// has no owner yet.
	if unknown && c.ref != nil {
		others := c.enterAllReferable(ctx, byID)
		for id, st := range others {
			sc.byID[id] = st
		}
		sc.listBuckets(ctx, slices.Sorted(maps.Keys(others)))
	}

	var mu sync.Mutex
	var out []*inventory.S3Bucket
	var g errgroup.Group
	g.SetLimit(s3BucketsInFlight)
	for _, name := range slices.Sorted(maps.Keys(refs)) {
		r := refs[name]
		g.Go(func() error {
			var b *inventory.S3Bucket
			if acct := sc.owner[name]; acct != "" {
				b = sc.describe(ctx, name, acct, slices.Sorted(maps.Keys(r.keys)))
			} else {
				b = sc.probe(ctx, name, slices.Sorted(maps.Keys(r.from)))
			}
			if b != nil {
				mu.Lock()
				out = append(out, b)
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	slices.SortFunc(out, func(a, b *inventory.S3Bucket) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// homeRegion is the region an account's bucket-independent S3 calls go to:
// one it was scanned in, else the partition's first default region.
func (sc *s3Scan) homeRegion(st *accountState) string {
	for _, name := range slices.Sorted(maps.Keys(st.regions)) {
		if rs := st.regions[name]; rs.region != nil && rs.region.Status == inventory.RegionScanned && rs.hasClients() {
			return name
		}
	}
	if d := defaultRegions[sc.c.partition]; len(d) > 0 {
		if slices.Contains(d, "us-east-1") {
			return "us-east-1"
		}
		return d[0]
	}
	return DefaultHomeRegion
}

// s3For returns an S3 client of account in region (nil without
// credentials for the account), and the account's rate limit. The client
// is the caller's, for the calls at hand: a client kept per account would
// be kept for every account of the Organization until the last bucket is
// resolved (ListBuckets asks each account; about 10 KB a client, 50 MB at
// 5,000 accounts).
func (sc *s3Scan) s3For(account, region string) (s3API, *bucket) {
	st := sc.byID[account]
	if st == nil || st.sess == nil {
		return nil, nil
	}
	sc.mu.Lock()
	b := sc.bucket[account]
	if b == nil {
		b = sc.c.newBucket(s3Rate, s3Burst, resourceInFlight)
		sc.bucket[account] = b
	}
	rs := st.regions[region]
	sc.mu.Unlock()
	switch {
	case rs != nil && rs.hasClients() && rs.remake == nil:
		return rs.clients.s3, b // the region's clients, not dropped
	case rs != nil && rs.hasClients():
		if mk, ok := st.sess.(s3Clienter); ok {
			return mk.s3Client(region), b
		}
		return rs.api().s3, b
	}
	if mk, ok := st.sess.(s3Clienter); ok {
		return mk.s3Client(region), b
	}
	return st.sess.regional(region).s3, b
}

// listBuckets maps the buckets of accounts to their owner.
func (sc *s3Scan) listBuckets(ctx context.Context, accounts []string) {
	var g errgroup.Group
	g.SetLimit(sc.c.cfg.RegionConcurrency)
	for _, id := range accounts {
		st := sc.byID[id]
		if st == nil || st.sess == nil {
			continue
		}
		home := sc.homeRegion(st)
		api, b := sc.s3For(id, home)
		g.Go(func() error {
			buckets, err := paginate(ctx, sc.c, listing{w: where{account: id, region: home}, b: b, svc: "s3", op: "ListBuckets"}, nil,
				func(ctx context.Context, token *string) ([]s3types.Bucket, *string, error) {
					out, err := api.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(listBucketsPage), ContinuationToken: token})
					if err != nil {
						return nil, nil, err
					}
					return out.Buckets, out.ContinuationToken, nil
				})
			sc.mu.Lock()
			defer sc.mu.Unlock()
			// A partial listing (recorded) still proves what it lists.
			for _, bk := range buckets {
				n := aws.ToString(bk.Name)
				if n == "" {
					continue
				}
				sc.owner[n] = id
				if r := aws.ToString(bk.BucketRegion); validRegion(r) {
					sc.region[n] = r
				}
			}
			_ = err
			return nil
		})
	}
	_ = g.Wait()
}

// describe collects a bucket of a scanned account.
func (sc *s3Scan) describe(ctx context.Context, name, acct string, keys []string) *inventory.S3Bucket {
	c := sc.c
	b := &inventory.S3Bucket{Name: name, AccountID: acct, Status: inventory.Exists, PolicyStatus: inventory.PolicyNotCollected}
	for _, k := range keys {
		b.Objects = append(b.Objects, inventory.S3Object{Key: k, Status: inventory.NotChecked})
	}
	sc.mu.Lock()
	region := sc.region[name]
	sc.mu.Unlock()
	if region == "" {
		home := sc.homeRegion(sc.byID[acct])
		api, bk := sc.s3For(acct, home)
		out, err := invoke(ctx, c, where{account: acct, region: home}, bk, "s3", "GetBucketLocation", func(ctx context.Context) (*s3.GetBucketLocationOutput, error) {
			return api.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(name), ExpectedBucketOwner: aws.String(acct)})
		})
		if err != nil {
			c.record(ctx, where{account: acct, region: home}, "s3", "GetBucketLocation", name, err)
			return b
		}
		region = bucketRegion(out.LocationConstraint)
		if !validRegion(region) {
			c.record(ctx, where{account: acct, region: home}, "s3", "GetBucketLocation", name,
				newScanError(CodeInvalidResponse, "the bucket's location %q is not a region name", sanitize(string(out.LocationConstraint))))
			return b
		}
	}
	b.Region = region
	api, bk := sc.s3For(acct, region)
	wh := where{account: acct, region: region}
	var g errgroup.Group
	for i := range b.Objects {
		g.Go(func() error {
			b.Objects[i].Status = sc.objectStatus(ctx, wh, api, bk, name, b.Objects[i].Key)
			return nil
		})
	}
	g.Go(func() error {
		out, err := invoke(ctx, c, wh, bk, "s3", "GetBucketPolicy", func(ctx context.Context) (*s3.GetBucketPolicyOutput, error) {
			return api.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(name), ExpectedBucketOwner: aws.String(acct)})
		})
		switch {
		case err == nil && aws.ToString(out.Policy) != "":
			b.Policy, b.PolicyStatus = aws.ToString(out.Policy), inventory.PolicyCollected
		case err == nil, errorCode(err) == codeNoSuchBucketPolicy && ctx.Err() == nil:
			b.PolicyStatus = inventory.PolicyNone
		default:
			c.record(ctx, wh, "s3", "GetBucketPolicy", "arn:"+c.partition+":s3:::"+name, err)
		}
		return nil
	})
	_ = g.Wait()
	return b
}

// objectStatus lists the bucket with the key as prefix: S3 lists keys in
// UTF-8 binary order, and every key the prefix matches starts with the key,
// so the object itself, when it exists, is the first one listed.
func (sc *s3Scan) objectStatus(ctx context.Context, wh where, api s3API, bk *bucket, bucketName, key string) string {
	out, err := invoke(ctx, sc.c, wh, bk, "s3", "ListObjectsV2", func(ctx context.Context) (*s3.ListObjectsV2Output, error) {
		return api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucketName), Prefix: aws.String(key), MaxKeys: aws.Int32(1),
			ExpectedBucketOwner: aws.String(wh.account)})
	})
	if err != nil {
		sc.c.record(ctx, wh, "s3", "ListObjectsV2", "arn:"+sc.c.partition+":s3:::"+bucketName+"/"+key, err)
		return inventory.NotChecked
	}
	for _, o := range out.Contents {
		if aws.ToString(o.Key) == key {
			return inventory.Exists
		}
	}
	return inventory.DoesNotExist
}

// probe asks S3, with the credentials of an account that references the
// bucket, whether a bucket no scanned account owns exists at all.
func (sc *s3Scan) probe(ctx context.Context, name string, from []string) *inventory.S3Bucket {
	c := sc.c
	for _, acct := range from {
		st := sc.byID[acct]
		if st == nil || st.sess == nil {
			continue
		}
		home := sc.homeRegion(st)
		api, bk := sc.s3For(acct, home)
		_, err := invoke(ctx, c, where{account: acct, region: home}, bk, "s3", "GetBucketLocation", func(ctx context.Context) (*s3.GetBucketLocationOutput, error) {
			return api.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(name)})
		})
		if errorCode(err) == codeNoSuchBucket && ctx.Err() == nil {
			return &inventory.S3Bucket{Name: name, Status: inventory.DoesNotExist, PolicyStatus: inventory.PolicyNotCollected}
		}
		if err != nil && ctx.Err() != nil {
			c.record(ctx, where{account: acct, region: home}, "s3", "GetBucketLocation", name, err)
			return nil
		}
		// Denied or answered: a bucket of an account outside the scan.
		c.log.Info("S3 bucket outside the scanned accounts: not collected", "bucket", sanitize(name), "account", acct, "code", errorCode(err))
		return nil
	}
	return nil
}

// bucketRegion maps GetBucketLocation's answer to a region name ("" is
// us-east-1, "EU" the old name of eu-west-1).
func bucketRegion(lc s3types.BucketLocationConstraint) string {
	switch lc {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	}
	return string(lc)
}
