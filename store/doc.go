// Package store is where reports and snapshots go, and where earlier ones
// are read back from: a local directory, or S3 (s3://bucket/prefix/). It is
// the only package besides scanner that imports the AWS SDK. It knows
// nothing of findings or reports: it stores what a writer function
// produces, under a name.
//
// # Writing a run
//
//	dest, err := store.Open(ctx, "s3://reports-bucket/audit/", store.Options{
//		Time:     start,           // names the dated key segment
//		KMSKeyID: "alias/audit",   // empty: SSE-S3
//		AWS:      store.AWS{Profile: profile, Region: region},
//	})
//	_, err = dest.Put(ctx, "findings.json", func(w io.Writer) error { return writeJSON(w) })
//	_, err = dest.Put(ctx, "report.html", ...)
//	err = dest.Commit(ctx)  // latest/ now holds this run
//	for _, o := range dest.Objects() { fmt.Println(o.URL) }
//
// Layout on S3 (always dated):
//
//	prefix/2026-12-04T10-00-00Z/findings.json   the run, never overwritten
//	prefix/2026-12-04T10-00-00Z/report.html
//	prefix/latest/findings.json                 copies of the last complete run
//	prefix/latest/report.html
//	prefix/latest/manifest.json                 written last: which run latest/ holds
//
// The dated segment is the run's time (Options.Time, default now) in UTC to
// the second, with hyphens for colons (see Stamp). Two runs started in the
// same second write to the same keys.
//
// A local directory keeps today's behaviour: files directly in DIR, each
// written atomically (temporary file, then rename), and Commit does nothing.
// With Options.Dated it takes the S3 layout (DIR/<stamp>/, DIR/latest/).
//
// # Locations
//
// ParseDestination, ParseObject and ParsePrefix parse a local path or an
// s3:// URL strictly: the bucket follows S3's naming rules for general
// purpose buckets (CheckBucket); a key has no empty, "." or ".." segment and
// no control characters; a destination prefix is made of S3's safe
// characters only; query strings, fragments and other schemes are refused.
// Errors quote the value, so that the caller only prefixes the flag name
// ("--out: ...").
//
// # latest/ is updated only after a complete run
//
// Commit refuses to touch latest/ when a Put failed (or none was made).
// Otherwise it copies each object of the run into latest/ (server-side CopyObject,
// same encryption), writes latest/manifest.json last, and removes from
// latest/ the objects that the previous manifest listed and this run did
// not write (so that a run without --format html does not leave last week's
// report.html beside this week's findings).
//
// S3 has no transaction over several objects, so while Commit runs, a
// reader of latest/ can see some objects of the new run beside some of the
// previous one; each object on its own is always complete (S3 replaces an
// object atomically). A reader that needs one object, such as
// `--baseline s3://…/latest/findings.json`, is always served a complete
// report of one run. A reader that needs several objects of the same run
// reads latest/manifest.json and follows its "run" field to the dated
// objects, which no later run overwrites; the manifest also gives each
// object's size and SHA-256. If a copy fails part-way, Commit stops and its
// *CommitError lists the objects copied and not copied and says that
// latest/manifest.json still names the previous run; the new run stays
// complete under its dated prefix, and the next successful Commit repairs
// latest/.
//
// # Encryption
//
// Every PutObject and CopyObject asks for server-side encryption: SSE-S3
// (AES256) by default, or SSE-KMS under Options.KMSKeyID. The manifest is
// encrypted the same way. A bucket policy that requires aws:kms is met by
// setting the key.
//
// # Large reports
//
// Put hands the writer a temporary file (Options.TempDir) and uploads it
// with a single PutObject carrying its length. The writer may fail half-way
// without leaving a partial object; the SDK reads the file (it does not
// hold the report in memory) to compute checksums and can resend it on a
// retry, which a streamed body could not; and a report (the README's
// 100,000-finding benchmark writes 201 MB of JSON, the largest format) is far
// below PutObject's 5 GiB limit, which Put checks. Uploading 8 MiB allocates
// about 0.1 MiB (measured in the moto test). A multipart upload would buffer parts in memory, leave
// billable incomplete uploads behind a crash unless a lifecycle rule
// aborts them, and bring the deprecated transfer manager in for no gain
// at these sizes.
//
// # Reading
//
// Read opens a local file or s3://bucket/key; List lists a local directory
// or s3://bucket/prefix/ (ListObjectsV2, paginated), for merge inputs.
//
// # Wiring it into a command
//
// Open the destination before a long scan, so that a wrong bucket, region
// or credentials fail in seconds; Put each report (and the snapshot, e.g.
// as inventory.json) with a writer that renders it; call Commit only when
// every report was written; list dest.Objects() as the written files. A
// writer that can only write files can write into a local temporary
// directory whose files are then Put with io.Copy.
//
// # AWS access and errors
//
// AWS carries plain values (profile, region, endpoint, path style) so that
// callers need not import the SDK; empty values leave the SDK's default
// chain in charge, including AWS_ENDPOINT_URL. Open checks that credentials
// can be had and that the bucket exists (HeadBucket), before a long scan
// rather than after it. A bucket in another region than the configured one
// is followed through S3's redirect (x-amz-bucket-region).
//
// Errors are *Error values naming the operation and the location, in plain
// words with S3's code and message: ErrNoBucket, ErrNoCredentials and
// ErrWrongRegion can be tested with errors.Is, as can fs.ErrNotExist (no
// such object, locally or on S3) and fs.ErrPermission (access denied,
// credentials refused, KMS key unusable), with a hint at the missing
// permission.
//
// Permissions, for a role that writes runs to s3://bucket/prefix/:
//
//   - s3:PutObject on prefix/* (the run's objects, latest/ copies, the
//     manifest);
//   - s3:GetObject on prefix/* (CopyObject reads the run's objects; Commit
//     reads the previous latest/manifest.json; --baseline reads
//     latest/findings.json);
//   - s3:ListBucket on the bucket, so that a missing object (the first
//     run's manifest, a first baseline) reads as missing rather than as
//     access denied, and for Open's bucket check and List;
//   - s3:DeleteObject on prefix/latest/* (only to remove stale objects;
//     without it Commit updates latest/ and reports what it could not
//     remove);
//   - with SSE-KMS, kms:GenerateDataKey and kms:Decrypt on the key.
package store
