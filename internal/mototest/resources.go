package mototest

// What a task definition needs to start, built in moto through the SDK for
// the scanner's and cmd/audit's integration tests (write calls: test setup,
// never the scanner).

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// ResourceCases is what BuildResourceCases built on top of an Org.
type ResourceCases struct {
	App, Shared               string // the member accounts: App references, Shared owns the cross-account resources
	AppBucket, SharedBucket   string
	Digest                    string // of needs/app:v1
	CrossPolicy               string // the repository policy of Shared's base repository
	TaskDefinition            string // ARN of needs:1 in App, us-east-1
	RoleARN                   string // its execution role
	East, West                string
	AppRepoPolicyStatementSid string
}

// Containers of needs:1 by what they reference (see BuildResourceCases).
const (
	ContainerApp          = "app"           // needs/app:v1, /ecs/needs, app.env, gone.env (missing), the shared bucket's common.env, a bucket that does not exist
	ContainerMissingTag   = "missing-tag"   // needs/app:v2 (not pushed; needs/ may be a cache prefix), /ecs/needs-missing (missing, not created)
	ContainerByDigest     = "by-digest"     // needs/app by digest, /ecs/needs-created (created by the driver)
	ContainerPlainMissing = "plain-missing" // plain:2 (not pushed, no cache prefix possible)
	ContainerNoRepo       = "no-repo"       // needs/gone:1 (no such repository)
	ContainerCross        = "cross"         // base:2025 in the other account
	ContainerPTC          = "ptc"           // docker-hub/library/nginx:1.27
	ContainerRouter       = "router"        // FireLens config fluent.conf
)

// BuildResourceCases creates, in the Org's member accounts, what the task
// definition needs:1 references, next to what it names but does not exist:
//
//   - ECR in the first member (App): needs/app with tag v1 pushed (v2 is
//     not), a repository policy that denies principals outside the
//     organization, a registry policy; needs/gone does not exist; a
//     pull-through cache path (docker-hub/…) whose rules moto cannot
//     describe; plain with tag 1 (2 is not pushed). In the second member (Shared): base:2025, with a
//     repository policy that lets App pull (a cross-account pull);
//   - log groups: /ecs/needs exists, /ecs/needs-missing does not and the
//     driver does not create it, /ecs/needs-created is created by the
//     driver ("True");
//   - S3: App's bucket with app.env and fluent.conf (gone.env is missing)
//     and a TLS-only bucket policy; Shared's bucket in eu-west-1 without a
//     policy; a bucket that exists nowhere.
func BuildResourceCases(t *testing.T, ctx context.Context, w *Org) *ResourceCases {
	t.Helper()
	rc := &ResourceCases{App: w.Members[0], Shared: w.Members[1], East: "us-east-1", West: "eu-west-1"}
	app, shared, east, west := rc.App, rc.Shared, rc.East, rc.West
	mgmt := must[aws.Config](t, "load config")(config.LoadDefaultConfig(ctx))
	member := func(acct, region string) aws.Config {
		cfg := mgmt.Copy()
		cfg.Region = region
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(mgmt), "arn:aws:iam::"+acct+":role/OrganizationAccountAccessRole"))
		return cfg
	}
	ok := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("moto setup: %s: %v", what, err)
		}
	}

	ea := ecr.NewFromConfig(member(app, east))
	_, err := ea.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("needs/app")})
	ok("CreateRepository", err)
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7023,"digest":"sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7"},"layers":[]}`
	put, err := ea.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("needs/app"), ImageManifest: aws.String(manifest), ImageTag: aws.String("v1")})
	ok("PutImage", err)
	rc.Digest = aws.ToString(put.Image.ImageId.ImageDigest)
	rc.AppRepoPolicyStatementSid = "DenyOutsideOrg"
	_, err = ea.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("needs/app"),
		PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutsideOrg","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-example"}}}]}`)})
	ok("SetRepositoryPolicy", err)
	_, err = ea.PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{
		PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"Replicate","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + shared + `:root"},"Action":"ecr:ReplicateImage","Resource":"*"}]}`)})
	ok("PutRegistryPolicy", err)
	// A repository outside any pull-through cache prefix (no "/"): a tag
	// it lacks is missing for certain, whatever the registry's rules.
	_, err = ea.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("plain")})
	ok("CreateRepository plain", err)
	_, err = ea.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("plain"), ImageManifest: aws.String(manifest), ImageTag: aws.String("1")})
	ok("PutImage plain", err)
	es := ecr.NewFromConfig(member(shared, east))
	_, err = es.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("base")})
	ok("CreateRepository shared", err)
	_, err = es.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("base"), ImageManifest: aws.String(manifest), ImageTag: aws.String("2025")})
	ok("PutImage shared", err)
	rc.CrossPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"AppPulls","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + app + `:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}`
	_, err = es.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("base"), PolicyText: aws.String(rc.CrossPolicy)})
	ok("SetRepositoryPolicy shared", err)

	logs := cloudwatchlogs.NewFromConfig(member(app, east))
	for _, g := range []string{"/ecs/needs", "/ecs/needs-other"} {
		_, err = logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)})
		ok("CreateLogGroup", err)
	}

	rc.AppBucket, rc.SharedBucket = "needs-env-"+app, "needs-shared-"+shared
	s3a := s3.NewFromConfig(member(app, east), func(o *s3.Options) { o.UsePathStyle = true })
	_, err = s3a.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(rc.AppBucket)})
	ok("CreateBucket", err)
	for _, k := range []string{"app.env", "app.env.old", "fluent.conf"} {
		_, err = s3a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(rc.AppBucket), Key: aws.String(k), Body: strings.NewReader("LOG_LEVEL=debug\n")})
		ok("PutObject", err)
	}
	bucketPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"TLSOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::` + rc.AppBucket + `","arn:aws:s3:::` + rc.AppBucket + `/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	_, err = s3a.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(rc.AppBucket), Policy: aws.String(bucketPolicy)})
	ok("PutBucketPolicy", err)
	s3s := s3.NewFromConfig(member(shared, west), func(o *s3.Options) { o.UsePathStyle = true })
	_, err = s3s.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(rc.SharedBucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}})
	ok("CreateBucket shared", err)
	_, err = s3s.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(rc.SharedBucket), Key: aws.String("common.env"), Body: strings.NewReader("A=1\n")})
	ok("PutObject shared", err)

	img := func(acct, rest string) string { return acct + ".dkr.ecr." + east + ".amazonaws.com/" + rest }
	awslogs := func(group string, extra ...string) *ecstypes.LogConfiguration {
		opts := map[string]string{"awslogs-group": group, "awslogs-region": east, "awslogs-stream-prefix": "x"}
		for i := 0; i+1 < len(extra); i += 2 {
			opts[extra[i]] = extra[i+1]
		}
		return &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: opts}
	}
	rc.RoleARN = "arn:aws:iam::" + app + ":role/" + w.ExecRole
	out, err := ecs.NewFromConfig(member(app, east)).RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("needs"), ExecutionRoleArn: aws.String(rc.RoleARN), NetworkMode: ecstypes.NetworkModeBridge,
		ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: aws.String("app"), Image: aws.String(img(app, "needs/app:v1")), Memory: aws.Int32(128), LogConfiguration: awslogs("/ecs/needs"),
				EnvironmentFiles: []ecstypes.EnvironmentFile{
					{Type: ecstypes.EnvironmentFileTypeS3, Value: aws.String("arn:aws:s3:::" + rc.AppBucket + "/app.env")},
					{Type: ecstypes.EnvironmentFileTypeS3, Value: aws.String("arn:aws:s3:::" + rc.AppBucket + "/gone.env")},
					{Type: ecstypes.EnvironmentFileTypeS3, Value: aws.String("arn:aws:s3:::" + rc.SharedBucket + "/common.env")},
					{Type: ecstypes.EnvironmentFileTypeS3, Value: aws.String("arn:aws:s3:::needs-no-such-bucket/x.env")},
				}},
			{Name: aws.String("missing-tag"), Image: aws.String(img(app, "needs/app:v2")), Memory: aws.Int32(128),
				LogConfiguration: awslogs("/ecs/needs-missing", "awslogs-create-group", "false")},
			{Name: aws.String("by-digest"), Image: aws.String(img(app, "needs/app@"+rc.Digest)), Memory: aws.Int32(128),
				LogConfiguration: awslogs("/ecs/needs-created", "awslogs-create-group", "True")},
			{Name: aws.String("plain-missing"), Image: aws.String(img(app, "plain:2")), Memory: aws.Int32(128)},
			{Name: aws.String("no-repo"), Image: aws.String(img(app, "needs/gone:1")), Memory: aws.Int32(128)},
			{Name: aws.String("cross"), Image: aws.String(img(shared, "base:2025")), Memory: aws.Int32(128)},
			{Name: aws.String("ptc"), Image: aws.String(img(app, "docker-hub/library/nginx:1.27")), Memory: aws.Int32(128)},
			{Name: aws.String("router"), Image: aws.String("fluent-bit"), Memory: aws.Int32(128),
				FirelensConfiguration: &ecstypes.FirelensConfiguration{Type: ecstypes.FirelensConfigurationTypeFluentbit,
					Options: map[string]string{"config-file-type": "s3", "config-file-value": "arn:aws:s3:::" + rc.AppBucket + "/fluent.conf"}}},
		},
	})
	ok("RegisterTaskDefinition", err)
	rc.TaskDefinition = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	return rc
}
