package scanner

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// roleSessionName names the scanner's sessions in CloudTrail.
const roleSessionName = "ecs-audit"

// sdkBackend builds AWS SDK clients. Every client gets its own retryer, so
// retry quotas and adaptive rate limiters never leak between accounts or
// regions.
type sdkBackend struct {
	pool       []aws.HTTPClient
	base       aws.Config // the caller's credentials, home region
	stsClient  *sts.Client
	assumer    *limitedAssumer
	externalID string

	orgOnce   sync.Once
	orgClient *organizations.Client

	eps *endpoints
}

// newSDKBackend loads the shared configuration (profile, environment
// including AWS_ENDPOINT_URL and its service-specific variants, SSO, IMDS)
// and prepares the caller's clients.
func newSDKBackend(ctx context.Context, cfg Config, st *stats, eps *endpoints) (*sdkBackend, error) {
	var pool []aws.HTTPClient
	if cfg.HTTPClient != nil {
		pool = []aws.HTTPClient{cfg.HTTPClient}
	} else {
		// Many clients talk to the same endpoints at once. One transport
		// serialises them on its idle-connection lock, so the accounts are
		// spread over a few transports, each keeping more idle connections
		// than the SDK's default of 10 per host.
		for range httpPools {
			pool = append(pool, awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
				t.MaxIdleConns = 512
				t.MaxIdleConnsPerHost = 64
			}))
		}
	}
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(pool[0]),
		config.WithRetryer(newRetryer(cfg.RetryMode, cfg.MaxAttempts)),
		config.WithLogger(sdkLogger{cfg.Logger}),
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	base, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, configLoadError(cfg.Profile, err)
	}
	if base.Region == "" {
		base.Region = DefaultHomeRegion
	}
	if !validRegion(base.Region) {
		return nil, &StartError{Cause: fmt.Sprintf("the region %q from the AWS configuration (AWS_REGION or the profile) is not a region name", sanitize(base.Region)),
			Fix: "set a region name such as us-east-1 there, or give the home region explicitly"}
	}
	if cfg.BaseEndpoint != "" {
		base.BaseEndpoint = aws.String(cfg.BaseEndpoint)
	}
	base.APIOptions = append(base.APIOptions, countThrottles(st), attemptTimeout(cfg.CallTimeout), breakerMiddleware(eps))
	stsClient := sts.NewFromConfig(base)
	return &sdkBackend{
		pool:       pool,
		base:       base,
		stsClient:  stsClient,
		assumer:    &limitedAssumer{api: stsClient, lim: rate.NewLimiter(stsRate, stsBurst), st: st},
		externalID: cfg.ExternalID,
		eps:        eps,
	}, nil
}

// endpoints is the scan's per-endpoint circuit breaker.
func (b *sdkBackend) endpoints() *endpoints { return b.eps }

// newRetryer returns the retryer factory: MaxAttempts attempts, no retry
// quota (the client-side token buckets keep the scan under the limits, and a
// quota shared by a client's concurrent calls would turn a burst of
// throttles into hard failures), in adaptive or standard mode.
func newRetryer(mode string, maxAttempts int) func() aws.Retryer {
	std := func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.RateLimiter = ratelimit.None
	}
	return func() aws.Retryer {
		if mode == RetryStandard {
			return retry.NewStandard(std)
		}
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, std)
		})
	}
}

// countThrottles counts every attempt that was throttled (retried or not).
func countThrottles(st *stats) func(*middleware.Stack) error {
	isThrottle := retry.IsErrorThrottles(retry.DefaultThrottles)
	return func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("AuditThrottleCounter",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				if err != nil && isThrottle.IsErrorThrottle(err) == aws.TrueTernary {
					st.throttles.Add(1)
				}
				return out, md, err
			}), middleware.Before)
	}
}

// attemptTimeout bounds each attempt (one HTTP request and its response)
// of a call. The SDK reports an attempt that ran out of time as canceled and
// does not retry it, so a hanging endpoint costs one CallTimeout per call,
// while the backoff between retried throttles does not count.
func attemptTimeout(d time.Duration) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		// After the retry middleware: once per attempt.
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("AuditAttemptTimeout",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				actx, cancel := context.WithTimeout(ctx, d)
				defer cancel()
				out, md, err := next.HandleFinalize(actx, in)
				if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
					err = &timeoutError{after: d, err: err}
				}
				return out, md, err
			}), middleware.After)
	}
}

// limitedAssumer rate-limits and counts sts:AssumeRole, including the
// refreshes the credentials cache makes later.
type limitedAssumer struct {
	api stscreds.AssumeRoleAPIClient
	lim *rate.Limiter
	st  *stats
}

func (l *limitedAssumer) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	if err := l.lim.Wait(ctx); err != nil {
		return nil, err
	}
	l.st.calls.Add(1)
	return l.api.AssumeRole(ctx, in, optFns...)
}

func (b *sdkBackend) sts() stsAPI { return b.stsClient }

func (b *sdkBackend) organizations() orgAPI {
	b.orgOnce.Do(func() { b.orgClient = organizations.NewFromConfig(b.base) })
	return b.orgClient
}

// httpPools is the number of HTTP transports the accounts are spread over.
const httpPools = 8

func (b *sdkBackend) session(ctx context.Context, accountID, roleARN string) (session, error) {
	cfg := b.base.Copy()
	h := fnv.New32a()
	_, _ = h.Write([]byte(accountID))
	cfg.HTTPClient = b.pool[int(h.Sum32()%uint32(len(b.pool)))]
	if roleARN != "" {
		prov := stscreds.NewAssumeRoleProvider(b.assumer, roleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = roleSessionName
			if b.externalID != "" {
				o.ExternalID = aws.String(b.externalID)
			}
		})
		// Refreshed a little before they expire, so that a long scan does
		// not send calls with credentials about to lapse.
		cfg.Credentials = aws.NewCredentialsCache(prov, func(o *aws.CredentialsCacheOptions) {
			o.ExpiryWindow = 2 * time.Minute
			o.ExpiryWindowJitterFrac = 0.5
		})
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			return nil, err
		}
	}
	return &sdkSession{cfg: cfg}, nil
}

// sdkSession is one account's configuration (credentials cached and
// refreshed by aws.CredentialsCache).
type sdkSession struct{ cfg aws.Config }

func (s *sdkSession) iam() iamAPI         { return iam.NewFromConfig(s.cfg) }
func (s *sdkSession) account() accountAPI { return account.NewFromConfig(s.cfg) }

// s3Client makes only the S3 client of region (s3Clienter).
func (s *sdkSession) s3Client(region string) s3API {
	cfg := s.cfg.Copy()
	cfg.Region = region
	return s3.NewFromConfig(cfg)
}

func (s *sdkSession) regional(region string) regionalClients {
	cfg := s.cfg.Copy()
	cfg.Region = region
	return regionalClients{
		ecs:     ecs.NewFromConfig(cfg),
		secrets: secretsmanager.NewFromConfig(cfg),
		ssm:     ssm.NewFromConfig(cfg),
		kms:     kms.NewFromConfig(cfg),
		ecr:     ecr.NewFromConfig(cfg),
		s3:      s3.NewFromConfig(cfg),
		logs:    cloudwatchlogs.NewFromConfig(cfg),

		events:    eventbridge.NewFromConfig(cfg),
		scheduler: scheduler.NewFromConfig(cfg),
		ec2:       ec2.NewFromConfig(cfg),
	}
}

// sdkLogger hands what the SDK logs to the scan's logger, instead of the
// SDK's default of printing it on standard error: its warnings (a response
// body not drained before its connection was closed, a response without a
// checksum to check) concern one HTTP exchange, not what was collected,
// so they are debug lines; what they mean for the scan is a collection
// error when a call fails.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Logf(class logging.Classification, format string, v ...any) {
	if l.log == nil {
		return
	}
	l.log.Debug("aws sdk", "class", string(class), "message", sanitize(fmt.Sprintf(format, v...)))
}
