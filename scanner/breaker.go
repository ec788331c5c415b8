package scanner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptrace"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// A per-endpoint circuit breaker. When an endpoint (scheme and host, e.g.
// https://ecs.eu-west-1.amazonaws.com) stops accepting connections —
// refused, DNS failure, unreachable, no answer to the connection attempt —
// for breakerMinOutage and at least breakerMinFailures attempts in a row,
// the scan gives up on it: the calls in flight or waiting to retry end at
// once, and every later call to it fails before it is sent, each becoming a
// collection error that names the endpoint. Any answer from the endpoint
// (throttling and 5xx included) resets the count, so a busy or failing
// service never trips it. After breakerProbeEvery one call is let through
// as a probe; if it gets an answer, the endpoint is used again.
const (
	breakerMinFailures = 3
	breakerMinOutage   = time.Second
	breakerProbeEvery  = 10 * time.Second
)

// endpoints holds the breaker state of every endpoint a scan talks to. A
// nil *endpoints does nothing.
type endpoints struct {
	now func() time.Time
	log *slog.Logger

	mu    sync.Mutex
	state map[string]*endpointState // by endpoint
	keys  map[string]string         // service|region (as invoke names it) → endpoint
}

type endpointState struct {
	endpoint string
	failures int       // connection failures in a row
	since    time.Time // the first of them
	cause    string    // the last one
	open     bool
	openedAt time.Time // or the last failed probe
	probing  bool
	// down is cancelled (with the *endpointDownError) when the breaker
	// opens; calls watch it to end at once.
	down context.Context
	trip context.CancelCauseFunc
}

func newEndpoints(log *slog.Logger) *endpoints {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &endpoints{now: time.Now, log: log, state: map[string]*endpointState{}, keys: map[string]string{}}
}

// get returns (creating) the state of an endpoint; e.mu must be held.
func (e *endpoints) get(ep string) *endpointState {
	s := e.state[ep]
	if s == nil {
		s = &endpointState{endpoint: ep}
		s.down, s.trip = context.WithCancelCause(context.Background())
		e.state[ep] = s
	}
	return s
}

// endpointDownError is a call not made, or ended, because the scan gave up
// on its endpoint.
type endpointDownError struct {
	endpoint string
	cause    string
	failures int
	over     time.Duration
}

func (e *endpointDownError) Error() string {
	return fmt.Sprintf("endpoint %s is not answering (%s); the scan stopped calling it after %d failed connection attempts over %s",
		e.endpoint, e.cause, e.failures, e.over.Round(time.Millisecond))
}

// RetryableError tells the SDK's retryer not to retry.
func (e *endpointDownError) RetryableError() bool { return false }

func (s *endpointState) downErr() *endpointDownError {
	return &endpointDownError{endpoint: s.endpoint, cause: s.cause, failures: s.failures, over: s.openedAt.Sub(s.since)}
}

// learn notes which endpoint a service|region key resolved to.
func (e *endpoints) learn(key, ep string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.keys[key] = ep
	e.mu.Unlock()
}

// downFor returns the error of a call to key's endpoint when the scan has
// given up on it (and no probe is due), so that the call is not even
// queued.
func (e *endpoints) downFor(key string) error {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ep, ok := e.keys[key]
	if !ok {
		return nil
	}
	s := e.state[ep]
	if s == nil || !s.open || (!s.probing && e.now().Sub(s.openedAt) >= breakerProbeEvery) {
		return nil
	}
	return s.downErr()
}

// untilDown returns ctx, also ended when the scan gives up on key's
// endpoint (so that a call queued for its turn does not wait for it), and
// the function that releases it.
func (e *endpoints) untilDown(ctx context.Context, key string) (context.Context, func()) {
	if e == nil {
		return ctx, func() {}
	}
	e.mu.Lock()
	ep, ok := e.keys[key]
	var down context.Context
	if ok {
		down = e.get(ep).down
	}
	e.mu.Unlock()
	if !ok {
		return ctx, func() {}
	}
	wctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(down, cancel)
	return wctx, func() { stop(); cancel() }
}

// isDown returns the error of key's endpoint while the scan has given up on
// it, probe or not.
func (e *endpoints) isDown(key string) error {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.state[e.keys[key]]; s != nil && s.open {
		return s.downErr()
	}
	return nil
}

// before is asked before each attempt: an error when the endpoint is given
// up on; probe is true for the one attempt let through to try it again.
func (e *endpoints) before(ep string) (probe bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.get(ep)
	if !s.open {
		return false, nil
	}
	if !s.probing && e.now().Sub(s.openedAt) >= breakerProbeEvery {
		s.probing = true
		return true, nil
	}
	return false, s.downErr()
}

// attemptOutcome is what an attempt says about its endpoint.
type attemptOutcome int

const (
	outcomeAnswered   attemptOutcome = iota // any answer, errors and throttling included
	outcomeNoConnect                        // no connection could be made
	outcomeIndefinite                       // connected but lost, or stopped by the caller
)

// after records an attempt's outcome. It returns the error to end the call
// with when this failure made the scan give up on the endpoint (or a probe
// failed).
func (e *endpoints) after(ep string, probe bool, o attemptOutcome, cause string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.get(ep)
	now := e.now()
	if probe {
		s.probing = false
	}
	switch o {
	case outcomeAnswered:
		s.failures = 0
		if s.open {
			s.open = false
			s.down, s.trip = context.WithCancelCause(context.Background())
			e.log.Info("endpoint answering again", "endpoint", s.endpoint)
		}
		return nil
	case outcomeIndefinite:
		if probe {
			s.openedAt = now // try again later
		}
		return nil
	}
	if s.failures == 0 {
		s.since = now
	}
	s.failures++
	s.cause = cause
	if s.open {
		s.openedAt = now // a failed probe
		return s.downErr()
	}
	if s.failures < breakerMinFailures || now.Sub(s.since) < breakerMinOutage {
		return nil
	}
	s.open, s.openedAt = true, now
	err := s.downErr()
	// Info: each call it ends is a collection error, logged as a warning.
	e.log.Info("endpoint not answering; the scan gives up on it", "endpoint", s.endpoint, "cause", cause,
		"failures", s.failures, "over", err.over.Round(time.Millisecond))
	s.trip(err)
	return err
}

// downContext is done once the scan gives up on ep.
func (e *endpoints) downContext(ep string) context.Context {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.get(ep).down
}

// endpointKey carries invoke's service|region key to the middleware.
type endpointKey struct{}

func withEndpointKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, endpointKey{}, key)
}

// callWatch is one SDK call (all its attempts): it ends when its endpoint
// is given up on.
type callWatch struct {
	parent context.Context // the call's own context
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	watching map[string]func() bool
}

type callWatchKey struct{}

// watch ends the call when down is cancelled.
func (w *callWatch) watch(ep string, down context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.watching[ep]; ok {
		return
	}
	if w.watching == nil {
		w.watching = map[string]func() bool{}
	}
	w.watching[ep] = context.AfterFunc(down, func() { w.cancel(context.Cause(down)) })
}

func (w *callWatch) done() {
	w.mu.Lock()
	for _, stop := range w.watching {
		stop()
	}
	w.mu.Unlock()
	w.cancel(nil)
}

// breakerMiddleware adds the breaker to a client: around the retry loop, a
// call ends as soon as its endpoint is given up on (also while it waits to
// retry); around each attempt, the attempt is refused when the endpoint is
// given up on, and its outcome is recorded.
func breakerMiddleware(e *endpoints) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		call := middleware.FinalizeMiddlewareFunc("AuditEndpointCall",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				cctx, cancel := context.WithCancelCause(ctx)
				w := &callWatch{parent: ctx, cancel: cancel}
				out, md, err := next.HandleFinalize(context.WithValue(cctx, callWatchKey{}, w), in)
				w.done()
				var down *endpointDownError
				if err != nil && ctx.Err() == nil && !errors.As(err, &down) && errors.As(context.Cause(cctx), &down) {
					err = down
				}
				return out, md, err
			})
		// Outside the retry loop; clients without one get it first.
		if err := stack.Finalize.Insert(call, "Retry", middleware.Before); err != nil {
			if err := stack.Finalize.Add(call, middleware.Before); err != nil {
				return err
			}
		}
		attempt := middleware.FinalizeMiddlewareFunc("AuditEndpointAttempt",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				req, ok := in.Request.(*smithyhttp.Request)
				if !ok || req.URL == nil {
					return next.HandleFinalize(ctx, in)
				}
				ep := req.URL.Scheme + "://" + req.URL.Host
				if key, ok := ctx.Value(endpointKey{}).(string); ok {
					e.learn(key, ep)
				}
				probe, err := e.before(ep)
				if err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
				w, _ := ctx.Value(callWatchKey{}).(*callWatch)
				if w != nil && !probe {
					w.watch(ep, e.downContext(ep))
				}
				var connected atomic.Bool
				tctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }})
				out, md, err := next.HandleFinalize(tctx, in)
				o, cause := outcomeOf(ctx, w, err, connected.Load())
				if derr := e.after(ep, probe, o, cause); derr != nil {
					return out, md, derr
				}
				return out, md, err
			})
		return stack.Finalize.Add(attempt, middleware.After)
	}
}

// outcomeOf classifies an attempt's error.
func outcomeOf(ctx context.Context, w *callWatch, err error, connected bool) (attemptOutcome, string) {
	if err == nil {
		return outcomeAnswered, ""
	}
	var send *smithyhttp.RequestSendError
	var canceled *smithy.CanceledError
	if !errors.As(err, &send) && !errors.As(err, &canceled) {
		return outcomeAnswered, "" // an error the endpoint sent
	}
	var down *endpointDownError
	if connected || (w != nil && w.parent.Err() != nil) || errors.As(context.Cause(ctx), &down) {
		return outcomeIndefinite, ""
	}
	if cause, ok := dialFailure(err); ok {
		return outcomeNoConnect, cause
	}
	if ctx.Err() != nil {
		// The attempt's own time ran out before a connection was made.
		return outcomeNoConnect, "no connection within the call timeout"
	}
	return outcomeIndefinite, ""
}

// dialFailure says whether err is a failure to connect, and which.
func dialFailure(err error) (string, bool) {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Sprintf("DNS lookup of %s failed: %s", dns.Name, dns.Err), true
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		return "", false
	}
	addr := ""
	if op.Addr != nil {
		addr = " to " + op.Addr.String()
	}
	switch {
	case errors.Is(op.Err, syscall.ECONNREFUSED):
		return "connection" + addr + " refused", true
	case errors.Is(op.Err, syscall.ENETUNREACH):
		return "network unreachable" + addr, true
	case errors.Is(op.Err, syscall.EHOSTUNREACH):
		return "host unreachable" + addr, true
	case op.Timeout():
		return "no answer to the connection attempt" + addr, true
	}
	return "cannot connect" + addr + ": " + op.Err.Error(), true
}

// connectFailure finds, in a call's final error, an endpoint that could not
// be connected to: the endpoint and what happened.
func connectFailure(err error) (endpoint, cause string, ok bool) {
	var down *endpointDownError
	if errors.As(err, &down) {
		return down.endpoint, down.cause, true
	}
	cause, ok = dialFailure(err)
	if !ok {
		return "", "", false
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			endpoint = u.Scheme + "://" + u.Host
		}
	}
	return endpoint, cause, true
}
