package scanner

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ecs-audit/audit/inventory"
)

// Defaults applied by Collect to zero Config fields.
const (
	// DefaultRoleName is the role assumed in each member account.
	DefaultRoleName = "OrganizationAccountAccessRole"
	// DefaultAccountConcurrency is how many accounts are scanned at once.
	DefaultAccountConcurrency = 16
	// DefaultRegionConcurrency is how many account×region pairs are scanned
	// at once, across all accounts.
	DefaultRegionConcurrency = 64
	// DefaultRegionCallConcurrency is how many calls may be in flight at once
	// against one ECS token bucket of one account×region.
	DefaultRegionCallConcurrency = 8
	// DefaultMaxAttempts is the SDK's attempts per call (first try included).
	DefaultMaxAttempts = 10
	// DefaultCallTimeout bounds one attempt of an API call.
	DefaultCallTimeout = 30 * time.Second
	// DefaultHomeRegion is used for global calls when neither Config.Region
	// nor the shared configuration names a region.
	DefaultHomeRegion = "us-east-1"
)

// Retry modes of the SDK retryer.
const (
	RetryAdaptive = "adaptive"
	RetryStandard = "standard"
)

// Config says what to scan and how.
type Config struct {
	// Profile is the shared config profile; "" uses the default chain
	// (environment, shared profiles including SSO, IMDS).
	Profile string
	// Region is the home region for global calls (STS, IAM, Organizations,
	// Account). Default: the configured region, else us-east-1.
	Region string
	// Org lists the accounts through AWS Organizations.
	Org bool
	// OUs restricts an Org scan to the accounts under these OUs (recursive).
	OUs []string
	// Accounts restricts the scan to these account IDs. Without Org the role
	// is assumed in each of them (the caller's own account uses the caller's
	// credentials).
	Accounts []string
	// ExcludeAccounts are never scanned.
	ExcludeAccounts []string
	// Regions to scan; nil or ["all"] means every region enabled in each
	// account (account:ListRegions).
	Regions []string
	// RoleName is the role assumed in each account (may include a path).
	// Default DefaultRoleName.
	RoleName string
	// ExternalID is passed to sts:AssumeRole when set.
	ExternalID string
	// AllRevisions describes every ACTIVE task definition revision instead of
	// the latest ACTIVE revision of each family plus those used by services.
	AllRevisions bool
	// AccountConcurrency (default 16) and RegionConcurrency (default 64)
	// bound the accounts and the account×region pairs scanned at once.
	AccountConcurrency, RegionConcurrency int
	// RegionCallConcurrency bounds the calls in flight against one ECS token
	// bucket of one account×region (default 8).
	RegionCallConcurrency int
	// MaxAttempts is the SDK's attempts per call (default 10).
	MaxAttempts int
	// RetryMode is RetryStandard (default) or RetryAdaptive. Adaptive mode
	// adds the SDK's client-side rate limiter, which slows a client down after
	// throttles. Measured against fakeaws with 30% of calls throttled at
	// random, a scan took 57-78 s in adaptive mode and 24-32 s in standard
	// mode; without throttling both are the same, because the scanner's own
	// token buckets already keep it under ECS's limits. So standard is the
	// default.
	RetryMode string
	// CallTimeout bounds each attempt of an API call, one HTTP request and
	// its answer (default 30 s). An attempt that takes longer is not retried:
	// the call becomes a collection error with code Timeout. The backoff
	// between retried throttles does not count against it.
	CallTimeout time.Duration
	// Logger receives debug lines per call, info per account and a warning
	// per collection error. Nil discards.
	Logger *slog.Logger
	// Progress is called on each change of the counters (at most every
	// 100 ms for call counts alone); calls are serialised. May be nil.
	Progress func(Progress)
	// ResolveResources resolves the Secrets Manager secrets, SSM parameters
	// and KMS keys that task definitions reference (metadata only, never a
	// value).
	ResolveResources bool

	// Test hooks.

	// BaseEndpoint, when set, is the endpoint of every service (the
	// AWS_ENDPOINT_URL environment variable does the same without code).
	BaseEndpoint string
	// HTTPClient replaces the SDK's HTTP client.
	HTTPClient aws.HTTPClient
	// Credentials replaces the default credential chain.
	Credentials aws.CredentialsProvider
	// ToolVersion is copied into the inventory.
	ToolVersion string

	// unlimited turns the client-side rate limits off (unit tests only).
	unlimited bool
	// forceBulk makes small Organization scans use the whole-organization
	// lookups (tests only).
	forceBulk bool
}

// Progress is a snapshot of a running scan.
type Progress struct {
	AccountsDone, AccountsTotal int
	// RegionsDone and RegionsTotal count account×region pairs; the total
	// grows while accounts' regions are discovered.
	RegionsDone, RegionsTotal int
	Calls, Errors, Throttles  int64
	Elapsed                   time.Duration
	// ETA is an estimate of the time left (0 until something is done).
	ETA time.Duration
}

var (
	regionNameRe = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)
	roleNameRe   = regexp.MustCompile(`^[\w+=,.@/-]{1,512}$`)
	externalIDRe = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	ouIDRe       = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
)

// validRegion reports whether s looks like a region name. Region names end
// up in endpoint host names, so one from AWS is checked before use.
func validRegion(s string) bool { return regionNameRe.MatchString(s) }

// normalize validates cfg and fills its defaults.
func (cfg Config) normalize() (Config, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if cfg.Region != "" && !validRegion(cfg.Region) {
		bad("region %q is not a region name", cfg.Region)
	}
	if len(cfg.OUs) > 0 && !cfg.Org {
		bad("OUs need an Organization scan (--org)")
	}
	for _, ou := range cfg.OUs {
		if !ouIDRe.MatchString(ou) {
			bad("OU %q is not an OU ID (ou-xxxx-xxxxxxxx)", ou)
		}
	}
	for _, a := range append(slices.Clone(cfg.Accounts), cfg.ExcludeAccounts...) {
		if !inventory.IsAccountID(a) {
			bad("account %q is not a 12-digit account ID", a)
		}
	}
	cfg.Accounts = sortedUnique(cfg.Accounts)
	cfg.ExcludeAccounts = sortedUnique(cfg.ExcludeAccounts)
	cfg.OUs = sortedUnique(cfg.OUs)

	if len(cfg.Regions) == 1 && strings.EqualFold(cfg.Regions[0], "all") {
		cfg.Regions = nil
	}
	for _, r := range cfg.Regions {
		if !validRegion(r) {
			bad("region %q is not a region name (or use \"all\" alone)", r)
		}
	}
	cfg.Regions = sortedUnique(cfg.Regions)

	if cfg.RoleName == "" {
		cfg.RoleName = DefaultRoleName
	}
	if !roleNameRe.MatchString(cfg.RoleName) || strings.HasPrefix(cfg.RoleName, "/") || strings.HasSuffix(cfg.RoleName, "/") {
		bad("role name %q is not a valid IAM role name", cfg.RoleName)
	}
	if cfg.ExternalID != "" && (len(cfg.ExternalID) < 2 || len(cfg.ExternalID) > 1224 || !externalIDRe.MatchString(cfg.ExternalID)) {
		bad("external ID has characters or a length sts:AssumeRole does not accept")
	}
	cfg.AccountConcurrency = orDefault(cfg.AccountConcurrency, DefaultAccountConcurrency)
	cfg.RegionConcurrency = orDefault(cfg.RegionConcurrency, DefaultRegionConcurrency)
	cfg.RegionCallConcurrency = orDefault(cfg.RegionCallConcurrency, DefaultRegionCallConcurrency)
	cfg.MaxAttempts = orDefault(cfg.MaxAttempts, DefaultMaxAttempts)
	if cfg.AccountConcurrency < 0 || cfg.RegionConcurrency < 0 || cfg.RegionCallConcurrency < 0 || cfg.MaxAttempts < 0 {
		bad("concurrency limits and max attempts must be positive")
	}
	switch cfg.RetryMode {
	case "":
		cfg.RetryMode = RetryStandard
	case RetryAdaptive, RetryStandard:
	default:
		bad("retry mode %q: expected %s or %s", cfg.RetryMode, RetryAdaptive, RetryStandard)
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.CallTimeout < 0 {
		bad("call timeout must be positive")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("scanner: invalid configuration: %w", errors.Join(errs...))
	}
	return cfg, nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
