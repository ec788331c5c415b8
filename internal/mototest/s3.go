package mototest

// S3 and KMS set-up and inspection for tests that write reports to moto
// (the tests of cmd/audit cannot import the SDK themselves).

import (
	"context"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Object is an object as moto's ListObjectsV2 and HeadObject describe it.
type S3Object struct {
	Key string
	// SSE is the server-side encryption (AES256, aws:kms) and KMSKeyID the
	// key, as HeadObject reports them.
	SSE, KMSKeyID string
	Size          int64
}

func s3Client(t *testing.T, ctx context.Context) *s3.Client {
	t.Helper()
	cfg := must[aws.Config](t, "load config")(config.LoadDefaultConfig(ctx))
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}

// CreateBucket creates a bucket in moto (Env must point the SDK at it).
func CreateBucket(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	must[*s3.CreateBucketOutput](t, "CreateBucket")(s3Client(t, ctx).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}))
}

// Objects lists the objects of bucket under prefix, sorted by key, with
// the encryption HeadObject reports for each.
func Objects(t *testing.T, ctx context.Context, bucket, prefix string) []S3Object {
	t.Helper()
	c := s3Client(t, ctx)
	var out []S3Object
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page := must[*s3.ListObjectsV2Output](t, "ListObjectsV2")(p.NextPage(ctx))
		for _, o := range page.Contents {
			h := must[*s3.HeadObjectOutput](t, "HeadObject")(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: o.Key}))
			out = append(out, S3Object{Key: aws.ToString(o.Key), SSE: string(h.ServerSideEncryption), KMSKeyID: aws.ToString(h.SSEKMSKeyId),
				Size: aws.ToInt64(o.Size)})
		}
	}
	return out
}

// Object reads an object.
func Object(t *testing.T, ctx context.Context, bucket, key string) []byte {
	t.Helper()
	o := must[*s3.GetObjectOutput](t, "GetObject "+key)(s3Client(t, ctx).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}))
	defer o.Body.Close()
	return must[[]byte](t, "reading "+key)(io.ReadAll(o.Body))
}

// CreateKey creates a KMS key in moto and returns its ID.
func CreateKey(t *testing.T, ctx context.Context) string {
	t.Helper()
	cfg := must[aws.Config](t, "load config")(config.LoadDefaultConfig(ctx))
	k := must[*kms.CreateKeyOutput](t, "CreateKey")(kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("audit reports")}))
	return aws.ToString(k.KeyMetadata.KeyId)
}
