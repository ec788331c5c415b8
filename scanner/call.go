package scanner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/ecs-audit/audit/inventory"
)

// Error codes the scanner assigns itself (the others are AWS's).
const (
	CodeTimeout          = "Timeout"
	CodeCanceled         = "Canceled"
	CodeRequestError     = "RequestError"
	CodeInvalidDocument  = "InvalidDocument"
	CodePagination       = "PaginationError"
	CodeInvalidResponse  = "InvalidResponse"
	CodeAccountNotFound  = "AccountNotFound"
	CodeAccountNotActive = "AccountNotActive"
	// CodeEndpointUnreachable: the endpoint did not accept a connection
	// (refused, DNS failure, unreachable, no answer to the connection
	// attempt), or the scan had stopped calling it after such failures.
	CodeEndpointUnreachable = "EndpointUnreachable"
	// CodeNotResolved: a reference the scanner could not resolve without a
	// call it does not make (see resolveKeys).
	CodeNotResolved = "NotResolved"
	// CodeInterrupted: not collected because the scan was interrupted
	// (Ctrl-C or its deadline) before the call was made or finished.
	CodeInterrupted = "Interrupted"
)

// stats are the scan's counters.
type stats struct {
	calls     atomic.Int64
	errors    atomic.Int64
	throttles atomic.Int64
}

// bucket is a client-side token bucket plus a bound on the calls in flight.
type bucket struct {
	lim *rate.Limiter
	sem chan struct{}
}

func (c *collector) newBucket(perSecond float64, burst, inFlight int) *bucket {
	if c.cfg.unlimited {
		perSecond = float64(rate.Inf)
	}
	if burst < 1 {
		burst = 1
	}
	if inFlight < 1 {
		inFlight = 1
	}
	return &bucket{lim: rate.NewLimiter(rate.Limit(perSecond), burst), sem: make(chan struct{}, inFlight)}
}

// errDeadlineAhead is returned when a rate limiter would have to wait past
// the scan's deadline.
var errDeadlineAhead = errors.New("the scan deadline would pass before the rate limiter allowed the call")

// acquire takes an in-flight slot and a token; release gives the slot back.
func (b *bucket) acquire(ctx context.Context) (release func(), err error) {
	if b == nil {
		return func() {}, nil
	}
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := b.lim.Wait(ctx); err != nil {
		<-b.sem
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errDeadlineAhead
	}
	return func() { <-b.sem }, nil
}

// where is the account and region a call is made in ("" region for global
// services).
type where struct {
	account, region string
}

// invoke makes one API call: it waits for the bucket, bounds the call with
// the per-call timeout, counts and logs it. It does not record failures.
func invoke[T any](ctx context.Context, c *collector, w where, b *bucket, svc, op string, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	// A call to an endpoint the scan has given up on fails at once, without
	// waiting for its turn.
	key := svc + "|" + w.region
	if err := c.eps.downFor(key); err != nil {
		return zero, err
	}
	wctx, stopWaiting := c.eps.untilDown(ctx, key)
	release, err := b.acquire(wctx)
	stopWaiting()
	if err != nil {
		if derr := c.eps.isDown(key); derr != nil && ctx.Err() == nil {
			return zero, derr // given up on while the call waited
		}
		if errors.Is(err, errDeadlineAhead) {
			c.markInterrupted("deadline")
		}
		return zero, err
	}
	defer release()
	if err := c.eps.downFor(key); err != nil {
		return zero, err
	}
	ctx = withEndpointKey(ctx, key)
	limit := c.callLimit()
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	start := time.Now()
	c.stats.calls.Add(1)
	out, err := fn(cctx)
	if err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) && !errors.As(err, new(*timeoutError)) {
		err = &timeoutError{after: limit, err: err}
	}
	c.log.Debug("call", "service", svc, "operation", op, "account", w.account, "region", w.region,
		"duration", time.Since(start), "ok", err == nil)
	c.progress.changed(false)
	return out, err
}

// callLimit bounds a whole call: each attempt has CallTimeout (enforced by
// the SDK middleware, see attemptTimeout), and the retries add at most the
// SDK's maximum backoff between attempts. With one attempt it is
// CallTimeout.
func (c *collector) callLimit() time.Duration {
	n := time.Duration(max(c.cfg.MaxAttempts, 1))
	return n*c.cfg.CallTimeout + (n-1)*maxRetryBackoff
}

// maxRetryBackoff is the SDK's longest wait between two attempts.
const maxRetryBackoff = 20 * time.Second

// call is invoke plus recording a failure as a collection error.
func call[T any](ctx context.Context, c *collector, w where, b *bucket, svc, op, resource string, fn func(context.Context) (T, error)) (T, error) {
	out, err := invoke(ctx, c, w, b, svc, op, fn)
	if err != nil {
		c.record(ctx, w, svc, op, resource, err)
	}
	return out, err
}

// timeoutError marks a call that ran out of its per-call time.
type timeoutError struct {
	after time.Duration
	err   error
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("no answer within %s: %v", e.after, e.err)
}
func (e *timeoutError) Unwrap() error { return e.err }

// classify turns an error into a collection error code and message.
func classify(err error) (code, msg string) {
	var down *endpointDownError
	if errors.As(err, &down) {
		return CodeEndpointUnreachable, sanitize(down.Error())
	}
	if ep, cause, ok := connectFailure(err); ok {
		if ep == "" {
			return CodeEndpointUnreachable, sanitize("cannot connect: " + cause)
		}
		return CodeEndpointUnreachable, sanitize("cannot connect to endpoint " + ep + ": " + cause)
	}
	var te *timeoutError
	if errors.As(err, &te) {
		return CodeTimeout, sanitize(te.Error())
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg = ae.ErrorCode(), ae.ErrorMessage()
		if code == "" {
			code = CodeRequestError
		}
		if msg == "" {
			msg = err.Error()
		}
		return sanitize(code), sanitize(msg)
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return CodeTimeout, sanitize(err.Error())
	case errors.Is(err, context.Canceled):
		return CodeCanceled, sanitize(err.Error())
	case errors.As(err, &ne) && ne.Timeout():
		return CodeTimeout, sanitize(err.Error())
	}
	var se *scanError
	if errors.As(err, &se) {
		return se.code, sanitize(se.msg)
	}
	// An HTTP answer that is not an AWS error (a proxy, a missing API).
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		return fmt.Sprintf("HTTP%d", re.HTTPStatusCode()), sanitize(err.Error())
	}
	return CodeRequestError, sanitize(err.Error())
}

// errorCode is classify's code alone ("" for nil).
func errorCode(err error) string {
	if err == nil {
		return ""
	}
	code, _ := classify(err)
	return code
}

// scanError is a problem the scanner itself detected in a response.
type scanError struct{ code, msg string }

func (e *scanError) Error() string { return e.code + ": " + e.msg }

func newScanError(code, format string, args ...any) error {
	return &scanError{code: code, msg: fmt.Sprintf(format, args...)}
}

// maxMessage bounds a stored error message.
const maxMessage = 1000

// sanitize makes a string from AWS safe to store and log: control
// characters become spaces, invalid UTF-8 is replaced and the length is
// bounded.
func sanitize(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxMessage {
		cut := maxMessage
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.TrimSpace(s)
}

// record adds a collection error. A call cut short because the scan itself
// is being stopped (Ctrl-C, its deadline) is recorded as Interrupted, so
// that the coverage lists everything that was not collected.
func (c *collector) record(ctx context.Context, w where, svc, op, resource string, err error) {
	code, msg := classify(err)
	if why := stopReason(ctx, err); why != "" && (code == CodeCanceled || code == CodeTimeout || errors.Is(err, errDeadlineAhead)) {
		code, msg = CodeInterrupted, "not collected: the scan was "+why+" before this call was made or finished"
	}
	c.addError(inventory.CollectionError{
		AccountID: w.account, Region: w.region, Service: svc, Operation: op,
		Resource: sanitize(resource), Code: code, Message: msg,
	})
}

// stopReason says why the scan is being stopped ("" when it is not).
func stopReason(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, errDeadlineAhead) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "stopped by its deadline"
	case ctx.Err() != nil:
		return "interrupted"
	}
	return ""
}

// notStarted records an account or region that the scan was stopped before
// it began with: nothing of it was collected.
func (c *collector) notStarted(ctx context.Context, w where, op, what string) {
	c.addError(inventory.CollectionError{AccountID: w.account, Region: w.region, Service: "scanner", Operation: op,
		Code: CodeInterrupted, Message: "not collected: the scan was " + stopReason(ctx, nil) + " before " + what + " was started"})
}

// addError appends e and logs it.
func (c *collector) addError(e inventory.CollectionError) {
	c.in.detach(&e)
	c.errMu.Lock()
	c.errs = append(c.errs, e)
	c.errMu.Unlock()
	c.stats.errors.Add(1)
	lvl := slog.LevelWarn
	if e.Code == CodeInterrupted {
		lvl = slog.LevelInfo // one per item left out of an interrupted scan
	}
	c.log.Log(context.Background(), lvl, "collection error", "service", e.Service, "operation", e.Operation, "account", e.AccountID,
		"region", e.Region, "resource", e.Resource, "code", e.Code, "message", e.Message)
	c.progress.changed(true)
}

// onceCache runs fn once per key, shares the result (error included) with
// every caller, and lets waiting callers give up when their ctx ends.
type onceCache[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*onceEntry[V]
}

type onceEntry[V any] struct {
	done chan struct{}
	v    V
	err  error
}

// set stores v for k unless k already has (or is getting) a value.
func (oc *onceCache[K, V]) set(k K, v V) {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	if oc.m == nil {
		oc.m = map[K]*onceEntry[V]{}
	}
	if _, ok := oc.m[k]; ok {
		return
	}
	e := &onceEntry[V]{done: make(chan struct{}), v: v}
	close(e.done)
	oc.m[k] = e
}

func (oc *onceCache[K, V]) get(ctx context.Context, k K, fn func() (V, error)) (V, error) {
	oc.mu.Lock()
	if oc.m == nil {
		oc.m = map[K]*onceEntry[V]{}
	}
	e, ok := oc.m[k]
	if !ok {
		e = &onceEntry[V]{done: make(chan struct{})}
		oc.m[k] = e
		oc.mu.Unlock()
		func() {
			defer close(e.done)
			e.v, e.err = fn()
		}()
		return e.v, e.err
	}
	oc.mu.Unlock()
	select {
	case <-e.done:
		return e.v, e.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}
