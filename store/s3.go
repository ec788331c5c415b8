package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// DefaultRegion is the region of the first request when neither AWS.Region
// nor the AWS configuration names one.
const DefaultRegion = "us-east-1"

// maxPutBytes is the largest object one PutObject (and one CopyObject)
// accepts.
const maxPutBytes = 5 << 30

// Errors that Read, List, Open, Put and Commit wrap (test with errors.Is).
// A missing object also matches fs.ErrNotExist, and a refusal (access
// denied, credentials refused) fs.ErrPermission, for local paths and S3
// alike.
var (
	ErrNoBucket      = errors.New("the bucket does not exist")
	ErrNoCredentials = errors.New("no usable AWS credentials")
	ErrWrongRegion   = errors.New("the bucket is in another region than the one the request was sent to")

	errNoObject      = &kindError{"no such object", fs.ErrNotExist}
	errDenied        = &kindError{"access denied", fs.ErrPermission}
	errBadCredential = &kindError{"the AWS credentials were refused", fs.ErrPermission}
	errKMS           = &kindError{"the KMS key cannot be used", fs.ErrPermission}
)

// kindError is a sentinel with its own text that also matches a standard
// one.
type kindError struct {
	msg string
	is  error
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.is }

// Error is an error of an S3 or file operation, naming the location.
type Error struct {
	// Op is the operation: open, write, copy, read, list or remove.
	Op string
	// URL is the location: s3://bucket/key or a local path.
	URL string
	// Err is the cause.
	Err error
}

func (e *Error) Error() string { return "store: " + e.Op + " " + e.URL + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// s3Client is an S3 client that follows a bucket to its region once S3
// says it lives elsewhere.
type s3Client struct {
	cfg       aws.Config
	pathStyle bool
	mu        sync.Mutex
	region    string
	client    *s3.Client
}

// newS3Client loads the AWS configuration and checks that credentials can
// be had. url names the location in errors.
func newS3Client(ctx context.Context, a AWS, url string) (*s3Client, error) {
	var opts []func(*config.LoadOptions) error
	if a.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(a.Profile))
	}
	if a.Region != "" {
		if !validRegion(a.Region) {
			return nil, fmt.Errorf("region %q is not a region name", a.Region)
		}
		opts = append(opts, config.WithRegion(a.Region))
	}
	if a.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(a.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, &Error{Op: "open", URL: url, Err: fmt.Errorf("cannot load the AWS configuration: %w", err)}
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if a.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(a.Endpoint)
	}
	if cfg.Credentials == nil {
		return nil, &Error{Op: "open", URL: url, Err: ErrNoCredentials}
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, &Error{Op: "open", URL: url, Err: ctx.Err()}
		}
		return nil, &Error{Op: "open", URL: url, Err: fmt.Errorf("%w (set a profile, environment credentials or a role): %s", ErrNoCredentials, clean(err.Error()))}
	}
	c := &s3Client{cfg: cfg, pathStyle: a.PathStyle}
	c.use(cfg.Region)
	return c, nil
}

func (c *s3Client) use(region string) {
	c.region = region
	c.client = s3.NewFromConfig(c.cfg, func(o *s3.Options) {
		o.Region = region
		o.UsePathStyle = c.pathStyle
		// GetObject logs at debug level, on the configured logger (stderr
		// by default), whenever an object carries no checksum it can check.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}

// do runs fn, and once more in the bucket's region when S3 answers that
// the bucket lives in another region.
func (c *s3Client) do(fn func(*s3.Client) error) error {
	c.mu.Lock()
	cl, cur := c.client, c.region
	c.mu.Unlock()
	err := fn(cl)
	r := redirectRegion(err)
	if r == "" || r == cur {
		return err
	}
	c.mu.Lock()
	if c.region == cur {
		c.use(r)
	}
	cl = c.client
	c.mu.Unlock()
	return fn(cl)
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)+-[0-9]{1,2}$`)

func validRegion(r string) bool { return len(r) <= 32 && regionRE.MatchString(r) }

// redirectRegion is the region S3 names in a redirect (or a signature
// region mismatch), or "".
func redirectRegion(err error) string {
	var re *smithyhttp.ResponseError
	if err == nil || !errors.As(err, &re) || re.Response == nil || re.Response.Response == nil {
		return ""
	}
	switch re.HTTPStatusCode() {
	case 301, 307, 400:
	default:
		return ""
	}
	r := re.Response.Header.Get("X-Amz-Bucket-Region")
	if !validRegion(r) {
		return ""
	}
	return r
}

// s3Backend stores objects in one bucket with server-side encryption.
type s3Backend struct {
	c       *s3Client
	bucket  string
	kmsKey  string
	tempDir string
}

func openS3(ctx context.Context, loc Location, opts Options) (*s3Backend, error) {
	c, err := newS3Client(ctx, opts.AWS, loc.String())
	if err != nil {
		return nil, err
	}
	b := &s3Backend{c: c, bucket: loc.Bucket, kmsKey: opts.KMSKeyID, tempDir: opts.TempDir}
	err = c.do(func(cl *s3.Client) error {
		_, err := cl.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(loc.Bucket)})
		return err
	})
	if err != nil {
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == 404 {
			return nil, &Error{Op: "open", URL: loc.String(), Err: ErrNoBucket}
		}
		e := s3Error("open", loc.String(), err)
		// A writer may hold s3:PutObject without s3:ListBucket, which
		// HeadBucket needs: the first Put will tell.
		if errors.Is(e, errDenied) {
			return b, nil
		}
		return nil, e
	}
	return b, nil
}

func (b *s3Backend) url(key string) string { return Scheme + b.bucket + "/" + key }

func (b *s3Backend) sse() (types.ServerSideEncryption, *string) {
	if b.kmsKey != "" {
		return types.ServerSideEncryptionAwsKms, aws.String(b.kmsKey)
	}
	return types.ServerSideEncryptionAes256, nil
}

// put writes to a temporary file first, then uploads it with one
// PutObject: the writer may fail half-way (nothing is uploaded then), the
// SDK learns the length and checksums by reading the file rather than
// holding the body in memory, and a retried request re-reads the file.
func (b *s3Backend) put(ctx context.Context, key string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(b.tempDir, "audit-upload-*")
	if err != nil {
		return &Error{Op: "write", URL: b.url(key), Err: fmt.Errorf("temporary file: %w", err)}
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := write(f); err != nil {
		return &Error{Op: "write", URL: b.url(key), Err: err}
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return &Error{Op: "write", URL: b.url(key), Err: err}
	}
	if size > maxPutBytes {
		return &Error{Op: "write", URL: b.url(key), Err: fmt.Errorf("%d bytes is more than one PutObject takes (5 GiB)", size)}
	}
	sse, kms := b.sse()
	err = b.c.do(func(cl *s3.Client) error {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		_, err := cl.PutObject(ctx, &s3.PutObjectInput{
			Bucket:               aws.String(b.bucket),
			Key:                  aws.String(key),
			Body:                 f,
			ContentLength:        aws.Int64(size),
			ContentType:          aws.String(contentType(key)),
			ServerSideEncryption: sse,
			SSEKMSKeyId:          kms,
		})
		return err
	})
	return s3Error("write", b.url(key), err)
}

func (b *s3Backend) copy(ctx context.Context, src, dst string) error {
	sse, kms := b.sse()
	err := b.c.do(func(cl *s3.Client) error {
		_, err := cl.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket:               aws.String(b.bucket),
			Key:                  aws.String(dst),
			CopySource:           aws.String(b.bucket + "/" + escapeKey(src)),
			MetadataDirective:    types.MetadataDirectiveCopy,
			ServerSideEncryption: sse,
			SSEKMSKeyId:          kms,
		})
		return err
	})
	return s3Error("copy", b.url(src)+" to "+b.url(dst), err)
}

func (b *s3Backend) get(ctx context.Context, key string) (io.ReadCloser, error) {
	return getObject(ctx, b.c, b.bucket, key)
}

func (b *s3Backend) remove(ctx context.Context, key string) error {
	err := b.c.do(func(cl *s3.Client) error {
		_, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
		return err
	})
	return s3Error("remove", b.url(key), err)
}

func getObject(ctx context.Context, c *s3Client, bucket, key string) (io.ReadCloser, error) {
	var body io.ReadCloser
	err := c.do(func(cl *s3.Client) error {
		out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err == nil {
			body = out.Body
		}
		return err
	})
	if err != nil {
		return nil, s3Error("read", Scheme+bucket+"/"+key, err)
	}
	return body, nil
}

// Read opens src, a local file or s3://bucket/key (see ParseObject), for
// reading; the caller closes it. A missing object matches fs.ErrNotExist
// (on S3 only when the caller may s3:ListBucket; without it S3 answers
// access denied, which matches fs.ErrPermission).
func Read(ctx context.Context, src string, a AWS) (io.ReadCloser, error) {
	loc, err := ParseObject(src)
	if err != nil {
		return nil, err
	}
	if !loc.IsS3() {
		return os.Open(loc.Path)
	}
	c, err := newS3Client(ctx, a, src)
	if err != nil {
		return nil, err
	}
	return getObject(ctx, c, loc.Bucket, loc.Key)
}

// List lists the objects under src, a local directory or s3://bucket/prefix/
// (see ParsePrefix), recursively, sorted by name. Object.Name is the path
// relative to src with slashes; Object.URL can be given to Read; SHA256 is
// empty. On S3 it pages through ListObjectsV2 and skips "folder" markers
// (keys ending in "/"); a key that Read would refuse (e.g. with a ".."
// segment) is left out and named in the returned error, with the other
// objects still returned. Locally, hidden files (".name", such as the
// temporary files of an atomic write) are skipped.
func List(ctx context.Context, src string, a AWS) ([]Object, error) {
	loc, err := ParsePrefix(src)
	if err != nil {
		return nil, err
	}
	if !loc.IsS3() {
		return listLocal(loc.Path)
	}
	c, err := newS3Client(ctx, a, src)
	if err != nil {
		return nil, err
	}
	var out []Object
	var bad []string
	var token *string
	for {
		var page *s3.ListObjectsV2Output
		err := c.do(func(cl *s3.Client) error {
			var err error
			page, err = cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
				Bucket:            aws.String(loc.Bucket),
				Prefix:            aws.String(loc.Key),
				ContinuationToken: token,
				MaxKeys:           listPageSize,
			})
			return err
		})
		if err != nil {
			return out, s3Error("list", loc.String(), err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if !strings.HasPrefix(key, loc.Key) || strings.HasSuffix(key, "/") {
				continue
			}
			if checkKey(key, false) != nil {
				bad = append(bad, fmt.Sprintf("%q", key))
				continue
			}
			out = append(out, Object{Name: strings.TrimPrefix(key, loc.Key), URL: Scheme + loc.Bucket + "/" + key, Size: aws.ToInt64(o.Size)})
		}
		if !aws.ToBool(page.IsTruncated) || aws.ToString(page.NextContinuationToken) == "" {
			break
		}
		token = page.NextContinuationToken
	}
	sortObjects(out)
	if len(bad) > 0 {
		return out, &Error{Op: "list", URL: loc.String(), Err: fmt.Errorf("%d key(s) left out, as they cannot be read back safely: %s", len(bad), strings.Join(bad, ", "))}
	}
	return out, nil
}

// listPageSize is the MaxKeys of each ListObjectsV2 page; nil leaves S3's
// default (1,000). Tests make it small to go through several pages.
var listPageSize *int32

// escapeKey percent-encodes a key for x-amz-copy-source: every byte but
// unreserved characters and the slashes between segments.
func escapeKey(key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// contentType is the Content-Type of the objects the tool writes.
func contentType(key string) string {
	switch path.Ext(key) {
	case ".json":
		return "application/json"
	case ".sarif":
		return "application/sarif+json"
	case ".html":
		return "text/html; charset=utf-8"
	case ".md":
		return "text/markdown; charset=utf-8"
	case ".csv":
		return "text/csv; charset=utf-8"
	case ".xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "application/octet-stream"
}

// s3Error turns an SDK error into an *Error whose text says what went wrong
// in plain words, with S3's error code and message (never the whole SDK
// error, which is long).
func s3Error(op, url string, err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Op: op, URL: url, Err: err}
	}
	var api smithy.APIError
	var code, msg string
	if errors.As(err, &api) {
		code, msg = api.ErrorCode(), api.ErrorMessage()
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.Response != nil {
		status = re.HTTPStatusCode()
	}
	detail := ""
	if code != "" {
		detail = " (" + clean(code)
		if msg != "" {
			detail += ": " + clean(msg)
		}
		detail += ")"
	} else if status != 0 {
		detail = fmt.Sprintf(" (HTTP %d)", status)
	}
	var kind error
	hint := ""
	switch {
	case code == "NoSuchBucket":
		kind = ErrNoBucket
	case code == "NoSuchKey" || status == 404 && code != "NoSuchBucket":
		kind = errNoObject
	case code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "ExpiredToken" ||
		code == "InvalidToken" || code == "TokenRefreshRequired":
		kind = errBadCredential
	case strings.HasPrefix(code, "KMS.") || strings.Contains(strings.ToLower(msg), "kms"):
		kind = errKMS
		hint = "; the caller needs kms:GenerateDataKey (write) and kms:Decrypt (read, copy) on the key"
	case code == "AccessDenied" || code == "AllAccessDisabled" || status == 403:
		kind = errDenied
		hint = permissionHint(op)
	case code == "PermanentRedirect" || status == 301 || code == "AuthorizationHeaderMalformed":
		kind = ErrWrongRegion
		hint = "; set the bucket's region"
	case strings.Contains(err.Error(), "get identity") || strings.Contains(err.Error(), "failed to retrieve credentials"):
		kind = ErrNoCredentials
		detail = ": " + clean(err.Error())
	}
	if kind == nil {
		if code == "" {
			return &Error{Op: op, URL: url, Err: errors.New(clean(err.Error()))}
		}
		return &Error{Op: op, URL: url, Err: errors.New(strings.TrimSuffix(strings.TrimPrefix(detail, " ("), ")"))}
	}
	return &Error{Op: op, URL: url, Err: fmt.Errorf("%w%s%s", kind, detail, hint)}
}

func permissionHint(op string) string {
	switch op {
	case "write":
		return "; writing needs s3:PutObject on the destination prefix"
	case "copy":
		return "; updating latest/ needs s3:GetObject on the run's objects and s3:PutObject on latest/"
	case "read":
		return "; reading needs s3:GetObject (and s3:ListBucket for a missing object to show as missing)"
	case "list":
		return "; listing needs s3:ListBucket"
	case "remove":
		return "; removing stale objects from latest/ needs s3:DeleteObject on latest/"
	}
	return ""
}

// clean makes a message from AWS (untrusted) safe to print on one line.
func clean(s string) string {
	const max = 300
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (0x80 <= r && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return s
}
