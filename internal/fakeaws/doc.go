// Package fakeaws is a protocol-level fake AWS endpoint. It speaks the wire
// protocols the AWS SDK for Go v2 uses (JSON 1.1 for ECS, Organizations,
// Secrets Manager, SSM, KMS, ECR and CloudWatch Logs; query + XML for IAM and
// STS; rest-json for Account Management; REST-XML for S3, path-style or
// virtual-hosted) and serves a "world": an *inventory.Inventory of many
// accounts. The scanner talks to it through the real SDK with BaseEndpoint
// (or AWS_ENDPOINT_URL) pointing at the server, so a whole Organization can
// be scanned offline, fast and deterministically.
//
// # Routing
//
// The service and region come from the SigV4 credential scope of the
// Authorization header (Credential=AKID/date/REGION/SERVICE/aws4_request);
// the operation from X-Amz-Target (JSON 1.1), the Action form field (query),
// the request path (rest-json) or, for S3, the method, bucket, key and query. Global services (iam, sts,
// organizations, account) ignore the region.
//
// # Identity
//
// The access key ID names the caller. Long-term keys are "AKIA" + the
// 12-digit account + 4 check characters; CallerCredentials returns the key of
// the organization's management account (or the first account when the world
// has no organization). sts:AssumeRole returns session credentials whose key
// is "ASIA" + account + 4 characters; requests made with them must carry the
// matching session token and are refused with ExpiredToken once the session
// has expired. Every request's SigV4 signature is verified with the caller's
// secret.
//
// # Read-only by construction
//
// Only List*, Describe*, Get* and BatchGet* operations (plus sts:AssumeRole
// and sts:GetCallerIdentity) are served. Everything else, and the reads that
// return secret values (ssm:GetParameter(s), secretsmanager:GetSecretValue,
// ...) or content (s3:GetObject, ecr:BatchGetImage,
// ecr:GetDownloadUrlForLayer, logs:GetLogEvents), is refused with an
// AccessDenied error and recorded in MutatingCalls.
// kms:DescribeKey naming a predefined alias/aws/* alias is served but
// recorded too, as "kms:DescribeKey(alias/aws/<service>)": AWS documents
// that it creates the AWS managed key when there is none yet.
//
// # Regions
//
// A region whose world status is "not-enabled" answers every regional call
// the way AWS answers calls to an opt-in region the account has not enabled:
// UnrecognizedClientException "The security token included in the request is
// invalid." (HTTP 400; InvalidClientTokenId, HTTP 403, for query services).
// A well-formed region that the world does not list for the account is served
// as enabled and empty. Collection errors recorded in the world
// (inventory.CollectionError) are replayed: the matching call answers with the
// recorded code, so scanning the fake reproduces the world's coverage.
//
// # Faults
//
// Options add latency, ECS token-bucket throttling shaped like the documented
// ECS buckets, seeded random throttling and server errors, and targeted
// faults. Random decisions are a pure function of the seed, the request and
// how often that exact request was seen, so concurrent scans see the same
// faults.
//
// # Pagination
//
// Page tokens are opaque and bound to the operation, caller, region and
// parameters; a token used elsewhere is refused with the service's
// invalid-token error. Page sizes follow AWS: Organizations 1–20 (default
// 20); ECS list calls 1–100 (default 100, ListServices 10); IAM MaxItems
// 1–1000 (default 100); SSM DescribeParameters 1–50 (default 10); Secrets
// Manager ListSecrets 1–100; KMS ListAliases Limit 1–100 (default 50);
// Account ListRegions 1–50 (default 20). Batch limits: DescribeServices 10,
// DescribeClusters, DescribeContainerInstances and DescribeTasks 100
// (InvalidParameterException "... can have at most N items.").
//
// # Existence and resource policies
//
// The world's existence records are what exists: ecrRepositories (with
// their images, repository policies) and ecrRegistry (pull-through cache
// rules, registry policy) per account and region, logGroups, and the
// top-level s3Buckets with their owner, region, objects and bucket policy.
// Records with status "does-not-exist" are absent; a policy recorded as
// "not-collected", or an object "not-checked", is refused with AccessDenied,
// so that scanning the fake reproduces the world. ECR's DescribeRepositories
// and DescribeImages fail as a whole when one name or image asked for does
// not exist (RepositoryNotFoundException, ImageNotFoundException);
// DescribeLogGroups lists ASCII-sorted; S3 lists keys in binary order,
// answers another account's bucket with AccessDenied, a bucket of another
// region with 301 PermanentRedirect (x-amz-bucket-region), and an unknown
// bucket with NoSuchBucket; its throttling error is 503 SlowDown. An image
// the world names by tag only gets a deterministic digest.
//
// # What the world does not say
//
// Where the inventory lacks something AWS always has, the fake fills in
// plausible, deterministic values: creation timestamps from CollectedAt,
// role and policy IDs, the default key policy of a key stored without one,
// and the AWS managed KMS keys alias/aws/<service> (ssm, secretsmanager,
// ...) with their usual via-service key policy. ListAliases lists every
// predefined alias/aws/<service> alias, with a TargetKeyId only when the key
// exists: when a secret or SecureString parameter of the account and region
// uses it (a secret without a key uses aws/secretsmanager) or the world lists
// it. Environment values are
// synthesized from valueClass and valueLength so that
// inventory.ClassifyValue gives the stored class back. Deployments whose ID
// starts with "ts-" or whose status is DRAINING are served as task sets;
// the world holds no tasks, so ListTasks is empty. Calls about another
// account's secret or key (by ARN) are refused with AccessDeniedException:
// resource policies are not evaluated across accounts.
package fakeaws
