package fakeaws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ecs-audit/audit/inventory"
)

// DefaultScanRoleName is the role AssumeRole accepts when Options.ScanRoleName is empty.
const DefaultScanRoleName = "OrganizationAccountAccessRole"

// DefaultCredentialTTL is the lifetime of AssumeRole credentials when neither
// Options.CredentialTTL nor the request's DurationSeconds says otherwise.
const DefaultCredentialTTL = time.Hour

// Fault codes for Fault.Code.
const (
	// FaultAccessDenied answers with the service's access-denied error
	// (AccessDeniedException for JSON services, AccessDenied for IAM and STS).
	FaultAccessDenied = "AccessDenied"
	// FaultThrottling answers with the service's throttling error
	// (ThrottlingException, TooManyRequestsException for Organizations and
	// Account, Throttling for IAM and STS).
	FaultThrottling = "Throttling"
	// FaultInternalError answers HTTP 500 with the service's internal error.
	FaultInternalError = "InternalError"
	// FaultTimeout sleeps Delay and then answers normally, or, when Delay is
	// zero, never answers: the request hangs until its context ends or the
	// server is closed.
	FaultTimeout = "Timeout"
)

// Options shape the server's behaviour. Everything random is derived from Seed.
type Options struct {
	// Latency is added to every call.
	Latency time.Duration
	// ThrottleECS enables per account×region token buckets shaped like the
	// documented ECS read buckets (cluster read 50/20 per s, task definition
	// read 50/20, service read 100/20, cluster resource read 100/20, tag read
	// 50/20). An empty bucket answers ThrottlingException "Rate exceeded".
	ThrottleECS bool
	// ThrottleRate is the fraction of all calls answered with a throttling error.
	ThrottleRate float64
	// ServerErrorRate is the fraction of all calls answered with HTTP 500
	// InternalFailure or 503 ServiceUnavailable.
	ServerErrorRate float64
	// Faults are targeted faults, checked in order; the first match applies.
	Faults []Fault
	// Seed makes random faults, generated identifiers and secrets reproducible.
	Seed int64
	// ScanRoleName is the only role AssumeRole accepts (default
	// OrganizationAccountAccessRole). Without a path it matches the role
	// name under any path; with one ("audit/ReadOnly") the path must match.
	ScanRoleName string
	// ExternalID, when set, must be passed to AssumeRole.
	ExternalID string
	// CredentialTTL, when set, is the lifetime of every AssumeRole session
	// (overriding the request's DurationSeconds). Default: DurationSeconds,
	// or 1h when the request has none.
	CredentialTTL time.Duration
	// IgnoreWorldErrors turns off the replay of the world's collection errors.
	IgnoreWorldErrors bool
}

// Fault is a targeted fault. Empty match fields match anything.
type Fault struct {
	Account   string // the caller's account, or the target account of sts:AssumeRole and Account Management calls
	Region    string
	Service   string // signing name: ecs, iam, sts, organizations, account, secretsmanager, ssm, kms, events, scheduler, ec2
	Operation string // e.g. DescribeServices (or "ecs:DescribeServices")
	// Code is FaultAccessDenied, FaultThrottling, FaultInternalError or FaultTimeout.
	Code  string
	Delay time.Duration
	// Times limits the fault to the first Times matching calls; 0 means every call.
	Times int
}

// Server is the fake endpoint. It is safe for concurrent use.
type Server struct {
	opts    Options
	w       *world
	faults  []Fault
	replays []replay

	mu         sync.Mutex
	calls      map[string]int64
	byAccount  map[string]int64
	mutating   []string
	throttled  int64
	seen       map[uint64]uint32
	faultHits  []int
	buckets    map[bucketKey]*bucket
	sessions   map[string]*session
	sessionSeq uint64
	requestSeq uint64
	sigKeys    sync.Map // derived SigV4 signing keys
	envCache   sync.Map // synthetic environment values by seed

	handler   http.Handler
	httpSrv   *http.Server
	closing   chan struct{}
	closeOnce sync.Once
}

// New validates the world and the options and returns a server. The world
// must not be modified while the server uses it.
func New(world *inventory.Inventory, opts Options) (*Server, error) {
	if world == nil {
		return nil, errors.New("fakeaws: world is nil")
	}
	if err := validateOptions(&opts); err != nil {
		return nil, err
	}
	w, err := indexWorld(world, opts.Seed)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:      opts,
		w:         w,
		faults:    append([]Fault(nil), opts.Faults...),
		calls:     map[string]int64{},
		byAccount: map[string]int64{},
		seen:      map[uint64]uint32{},
		faultHits: make([]int, len(opts.Faults)),
		buckets:   map[bucketKey]*bucket{},
		sessions:  map[string]*session{},
		closing:   make(chan struct{}),
	}
	if !opts.IgnoreWorldErrors {
		s.replays = buildReplays(world.Errors)
	}
	s.handler = http.HandlerFunc(s.serve)
	return s, nil
}

func validateOptions(o *Options) error {
	if o.Latency < 0 {
		return fmt.Errorf("fakeaws: options: Latency %v is negative", o.Latency)
	}
	if o.ThrottleRate < 0 || o.ThrottleRate > 1 || o.ThrottleRate != o.ThrottleRate {
		return fmt.Errorf("fakeaws: options: ThrottleRate %v is not between 0 and 1", o.ThrottleRate)
	}
	if o.ServerErrorRate < 0 || o.ServerErrorRate > 1 || o.ServerErrorRate != o.ServerErrorRate {
		return fmt.Errorf("fakeaws: options: ServerErrorRate %v is not between 0 and 1", o.ServerErrorRate)
	}
	if o.ThrottleRate+o.ServerErrorRate > 1 {
		return fmt.Errorf("fakeaws: options: ThrottleRate + ServerErrorRate is %v, more than 1", o.ThrottleRate+o.ServerErrorRate)
	}
	if o.CredentialTTL < 0 {
		return fmt.Errorf("fakeaws: options: CredentialTTL %v is negative", o.CredentialTTL)
	}
	if o.ScanRoleName == "" {
		o.ScanRoleName = DefaultScanRoleName
	}
	if strings.Contains(o.ScanRoleName, ":") || strings.HasSuffix(o.ScanRoleName, "/") {
		return fmt.Errorf("fakeaws: options: ScanRoleName %q must be a role name (optionally with a path), not an ARN", o.ScanRoleName)
	}
	for i, f := range o.Faults {
		switch f.Code {
		case FaultAccessDenied, FaultThrottling, FaultInternalError, FaultTimeout:
		default:
			return fmt.Errorf("fakeaws: options: Faults[%d].Code %q: expected %s, %s, %s or %s",
				i, f.Code, FaultAccessDenied, FaultThrottling, FaultInternalError, FaultTimeout)
		}
		if f.Delay < 0 {
			return fmt.Errorf("fakeaws: options: Faults[%d].Delay %v is negative", i, f.Delay)
		}
		if f.Times < 0 {
			return fmt.Errorf("fakeaws: options: Faults[%d].Times %d is negative", i, f.Times)
		}
		if f.Service != "" && serviceByName(f.Service) == nil {
			return fmt.Errorf("fakeaws: options: Faults[%d].Service %q is not a service this server speaks", i, f.Service)
		}
	}
	return nil
}

// Handler returns the HTTP handler, for use with httptest or an own server.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on 127.0.0.1 on a free port and serves in the background.
// It returns the endpoint URL to use as the SDK's BaseEndpoint.
func (s *Server) Start() (string, error) {
	s.mu.Lock()
	if s.httpSrv != nil {
		s.mu.Unlock()
		return "", errors.New("fakeaws: server already started")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.mu.Unlock()
		return "", fmt.Errorf("fakeaws: listen: %w", err)
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.Background() },
	}
	s.httpSrv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the server, ends hanging (Timeout) requests and closes all
// connections. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	s.mu.Lock()
	srv := s.httpSrv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// CallerCredentials returns static credentials of the organization's
// management account, or of the first account when the world has no
// organization.
func (s *Server) CallerCredentials() (accessKeyID, secretAccessKey string) {
	return s.CredentialsFor(s.w.callerAccount)
}

// CredentialsFor returns static (long-term) credentials of an IAM user in the
// given account. The account need not be in the world, but then every call
// made with them fails as an unknown access key.
func (s *Server) CredentialsFor(accountID string) (accessKeyID, secretAccessKey string) {
	key := longTermKey(s.opts.Seed, accountID)
	return key, longTermSecret(s.opts.Seed, key)
}

// Calls returns how many requests each operation received, keyed
// "service:Operation" (e.g. "ecs:DescribeServices").
func (s *Server) Calls() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// CallsByAccount returns how many requests each caller account made. Requests
// whose access key names no account are counted under "".
func (s *Server) CallsByAccount() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.byAccount))
	for k, v := range s.byAccount {
		out[k] = v
	}
	return out
}

// MutatingCalls returns one "service:Operation" entry, sorted, per refused
// call: every operation that is not a read, and the reads of secret values
// (ssm:GetParameters, secretsmanager:GetSecretValue, ...).
func (s *Server) MutatingCalls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.mutating...)
	sort.Strings(out)
	return out
}

// ThrottledCalls returns how many calls were answered with a throttling error.
func (s *Server) ThrottledCalls() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// ResetCounters zeroes Calls, CallsByAccount, MutatingCalls and ThrottledCalls.
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int64{}
	s.byAccount = map[string]int64{}
	s.mutating = nil
	s.throttled = 0
}

func (s *Server) count(op, account string) {
	s.mu.Lock()
	s.calls[op]++
	s.byAccount[account]++
	s.mu.Unlock()
}

func (s *Server) recordMutating(op string) {
	s.mu.Lock()
	s.mutating = append(s.mutating, op)
	s.mu.Unlock()
}

func (s *Server) countThrottle() {
	s.mu.Lock()
	s.throttled++
	s.mu.Unlock()
}

func (s *Server) nextRequestID() string {
	s.mu.Lock()
	s.requestSeq++
	n := s.requestSeq
	s.mu.Unlock()
	h := mix(uint64(s.opts.Seed), n)
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h>>32), uint16(h>>16), uint16(h)&0xfff, uint16(n>>48)&0xfff, n&0xffffffffffff)
}

// abortIfClosing drops the connection of a request that the server's
// closing cut short, as a dying endpoint does, rather than answer it with an
// empty 200.
func (s *Server) abortIfClosing() {
	select {
	case <-s.closing:
		panic(http.ErrAbortHandler)
	default:
	}
}

// sleep waits d, or until the request or the server ends. It reports whether
// the full time passed.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}
