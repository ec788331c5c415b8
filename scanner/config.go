package scanner

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
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
	// Shard, when its Count is set, scans only the accounts of the scope
	// that ShardOf assigns to its Index; what their task definitions
	// reference in the scope's other accounts is looked up there too.
	Shard Shard
	// ResolveResources resolves the Secrets Manager secrets, SSM parameters
	// and KMS keys that task definitions reference (metadata only, never a
	// value).
	ResolveResources bool
	// SpoolDir is the directory of CollectEach's spool file ("" is the
	// system's temporary directory).
	SpoolDir string

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
	// describeEach resolves secrets with DescribeSecret one by one and
	// parameters ten names per DescribeParameters, as the scanner did
	// before it listed them (tests that compare the two only).
	describeEach bool
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

// ConfigError is one invalid Config field, found by Validate before any
// AWS call.
type ConfigError struct {
	// Field is the Config field ("Regions", "RoleName", ...).
	Field string
	// Value is the offending value ("" when it is not to be shown, as for
	// ExternalID).
	Value string
	// Reason says what is wrong, or what a valid value looks like.
	Reason string
	// Needs names another Config field this one requires ("Org" for OUs).
	Needs string
}

func (e *ConfigError) Error() string {
	s := e.Field
	if e.Value != "" {
		s += fmt.Sprintf(" %q", e.Value)
	}
	s += ": " + e.Reason
	if e.Needs != "" {
		s += " (needs " + e.Needs + ")"
	}
	return s
}

// ConfigErrors returns the *ConfigErrors in err (one, or several joined by
// Validate), in order.
func ConfigErrors(err error) []*ConfigError {
	var out []*ConfigError
	var walk func(error)
	walk = func(err error) {
		var ce *ConfigError
		switch e := err.(type) {
		case nil:
		case *ConfigError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		default:
			if errors.As(err, &ce) {
				out = append(out, ce)
			}
		}
	}
	walk(err)
	return out
}

// Validate checks cfg without calling AWS or reading any file. It returns
// nil, or every problem as a *ConfigError (several joined with
// errors.Join), in the order of the fields.
func (cfg Config) Validate() error {
	var errs []error
	bad := func(field, value, reason string) {
		errs = append(errs, &ConfigError{Field: field, Value: sanitize(value), Reason: reason})
	}
	if cfg.Region != "" && !validRegion(cfg.Region) {
		bad("Region", cfg.Region, "not a region name (like us-east-1)")
	}
	if len(cfg.OUs) > 0 && !cfg.Org {
		errs = append(errs, &ConfigError{Field: "OUs", Value: sanitize(strings.Join(cfg.OUs, ",")),
			Reason: "only restricts an Organization scan", Needs: "Org"})
	}
	for _, ou := range cfg.OUs {
		if !ouIDRe.MatchString(ou) {
			bad("OUs", ou, "not an OU ID (ou-xxxx-xxxxxxxx)")
		}
	}
	for _, a := range cfg.Accounts {
		if !inventory.IsAccountID(a) {
			bad("Accounts", a, "not a 12-digit account ID")
		}
	}
	for _, a := range cfg.ExcludeAccounts {
		if !inventory.IsAccountID(a) {
			bad("ExcludeAccounts", a, "not a 12-digit account ID")
		}
	}
	if !(len(cfg.Regions) == 1 && strings.EqualFold(cfg.Regions[0], "all")) {
		for _, r := range cfg.Regions {
			switch {
			case strings.EqualFold(r, "all"):
				bad("Regions", r, `"all" stands alone: every region enabled in each account`)
			case !validRegion(r):
				bad("Regions", r, `not a region name (like us-east-1), nor "all"`)
			}
		}
	}
	if cfg.RoleName != "" && (!roleNameRe.MatchString(cfg.RoleName) || strings.HasPrefix(cfg.RoleName, "/") || strings.HasSuffix(cfg.RoleName, "/") || strings.Contains(cfg.RoleName, "//")) {
		bad("RoleName", cfg.RoleName, "not an IAM role name (letters, digits and +=,.@_-, optionally under a path such as team/Name)")
	}
	if cfg.ExternalID != "" && (len(cfg.ExternalID) < 2 || len(cfg.ExternalID) > 1224 || !externalIDRe.MatchString(cfg.ExternalID)) {
		bad("ExternalID", "", "2 to 1224 characters of letters, digits and +=,.@:/-_, as sts:AssumeRole accepts")
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"AccountConcurrency", cfg.AccountConcurrency}, {"RegionConcurrency", cfg.RegionConcurrency},
		{"RegionCallConcurrency", cfg.RegionCallConcurrency}, {"MaxAttempts", cfg.MaxAttempts},
	} {
		if f.v < 0 {
			bad(f.name, strconv.Itoa(f.v), "must be a positive number (0 for the default)")
		}
	}
	switch cfg.RetryMode {
	case "", RetryAdaptive, RetryStandard:
	default:
		bad("RetryMode", cfg.RetryMode, "expected "+RetryAdaptive+" or "+RetryStandard)
	}
	if err := cfg.Shard.validate(); err != nil {
		bad("Shard", strconv.Itoa(cfg.Shard.Index)+"/"+strconv.Itoa(cfg.Shard.Count), err.Error())
	}
	if cfg.CallTimeout < 0 {
		bad("CallTimeout", cfg.CallTimeout.String(), "must be positive (0 for the default)")
	}
	return errors.Join(errs...)
}

// normalize validates cfg and fills its defaults.
func (cfg Config) normalize() (Config, error) {
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("scanner: invalid configuration: %w", err)
	}
	cfg.Accounts = sortedUnique(cfg.Accounts)
	cfg.ExcludeAccounts = sortedUnique(cfg.ExcludeAccounts)
	cfg.OUs = sortedUnique(cfg.OUs)
	if len(cfg.Regions) == 1 && strings.EqualFold(cfg.Regions[0], "all") {
		cfg.Regions = nil
	}
	cfg.Regions = sortedUnique(cfg.Regions)
	if cfg.RoleName == "" {
		cfg.RoleName = DefaultRoleName
	}
	cfg.AccountConcurrency = orDefault(cfg.AccountConcurrency, DefaultAccountConcurrency)
	cfg.RegionConcurrency = orDefault(cfg.RegionConcurrency, DefaultRegionConcurrency)
	cfg.RegionCallConcurrency = orDefault(cfg.RegionCallConcurrency, DefaultRegionCallConcurrency)
	cfg.MaxAttempts = orDefault(cfg.MaxAttempts, DefaultMaxAttempts)
	if cfg.RetryMode == "" {
		cfg.RetryMode = RetryStandard
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
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
