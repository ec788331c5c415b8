package scanner

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ecs-audit/audit/internal/mototest"
)

// fakeClock is a settable clock for the breaker.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newTestEndpoints() (*endpoints, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := newEndpoints(nil)
	e.now = clk.now
	return e, clk
}

const testEP = "https://ecs.eu-west-1.amazonaws.com"

// TestBreakerStates walks the breaker through sequences of attempts: each
// step waits, then records an outcome; after the sequence the breaker is
// open or not.
func TestBreakerStates(t *testing.T) {
	type step struct {
		wait time.Duration
		o    attemptOutcome
	}
	fail := func(wait time.Duration) step { return step{wait, outcomeNoConnect} }
	answered := func(wait time.Duration) step { return step{wait, outcomeAnswered} }
	lost := func(wait time.Duration) step { return step{wait, outcomeIndefinite} }
	tests := []struct {
		name  string
		steps []step
		open  bool
		trips int // the step (1-based) whose after() returns the error; 0 for none
	}{
		{name: "failures in quick succession are not yet an outage", steps: []step{fail(0), fail(10 * time.Millisecond), fail(10 * time.Millisecond), fail(10 * time.Millisecond)}},
		{name: "three failures over a second", steps: []step{fail(0), fail(400 * time.Millisecond), fail(700 * time.Millisecond)}, open: true, trips: 3},
		{name: "two failures over a long time", steps: []step{fail(0), fail(5 * time.Second)}},
		{name: "an answer in between resets", steps: []step{fail(0), fail(600 * time.Millisecond), answered(0), fail(600 * time.Millisecond), fail(10 * time.Millisecond)}},
		{
			name:  "throttling and 5xx answers never trip it",
			steps: []step{answered(0), answered(time.Second), answered(time.Second), answered(time.Second), answered(time.Second)},
		},
		{name: "lost connections neither count nor reset", steps: []step{fail(0), lost(500 * time.Millisecond), fail(300 * time.Millisecond), lost(0), fail(300 * time.Millisecond)}, open: true, trips: 5},
		{name: "many failures keep it open", steps: []step{fail(0), fail(time.Second), fail(0), fail(0)}, open: true, trips: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, clk := newTestEndpoints()
			tripped := 0
			for i, s := range tt.steps {
				clk.advance(s.wait)
				if err := e.after(testEP, false, s.o, "connection refused"); err != nil && tripped == 0 {
					tripped = i + 1
				}
			}
			if e.state[testEP].open != tt.open {
				t.Errorf("open = %v, want %v", e.state[testEP].open, tt.open)
			}
			if tripped != tt.trips {
				t.Errorf("tripped at step %d, want %d", tripped, tt.trips)
			}
			_, err := e.before(testEP)
			if (err != nil) != tt.open {
				t.Errorf("before() = %v with open = %v", err, tt.open)
			}
		})
	}
}

// Once open: calls fail before being sent, the calls in flight are told to
// end, and one probe per breakerProbeEvery tries the endpoint again.
func TestBreakerOpenProbeAndRecovery(t *testing.T) {
	e, clk := newTestEndpoints()
	e.learn("ecs|eu-west-1", testEP)
	down := e.downContext(testEP)
	for range 3 {
		_ = e.after(testEP, false, outcomeNoConnect, "connection to 10.0.0.1:443 refused")
		clk.advance(600 * time.Millisecond)
	}
	var derr *endpointDownError
	if !errors.As(context.Cause(down), &derr) || derr.endpoint != testEP {
		t.Fatalf("the calls in flight were not told: cause %v", context.Cause(down))
	}
	if err := e.downFor("ecs|eu-west-1"); !errors.As(err, &derr) {
		t.Fatalf("downFor = %v", err)
	}
	if msg := derr.Error(); !strings.Contains(msg, testEP) || !strings.Contains(msg, "refused") || !strings.Contains(msg, "3 failed connection attempts") {
		t.Errorf("message %q does not name the endpoint, the cause and the count", msg)
	}
	if e.downFor("ecs|us-east-1") != nil {
		t.Errorf("another endpoint is affected")
	}

	// A probe after breakerProbeEvery; only one at a time.
	clk.advance(breakerProbeEvery)
	if e.downFor("ecs|eu-west-1") != nil {
		t.Errorf("a due probe is not let through to the middleware")
	}
	probe, err := e.before(testEP)
	if !probe || err != nil {
		t.Fatalf("before = %v, %v; want a probe", probe, err)
	}
	if _, err := e.before(testEP); err == nil {
		t.Errorf("a second attempt during the probe was let through")
	}
	// It fails: still open, next probe a full period later.
	if err := e.after(testEP, true, outcomeNoConnect, "connection refused"); err == nil {
		t.Errorf("a failed probe does not end its call")
	}
	clk.advance(breakerProbeEvery / 2)
	if _, err := e.before(testEP); err == nil {
		t.Errorf("probed again too soon")
	}
	// A probe stopped by its caller counts as no probe.
	clk.advance(breakerProbeEvery)
	if probe, _ := e.before(testEP); !probe {
		t.Fatal("no probe")
	}
	_ = e.after(testEP, true, outcomeIndefinite, "")
	if _, err := e.before(testEP); err == nil {
		t.Errorf("an indefinite probe reopened the endpoint")
	}
	// The next probe gets an answer: the endpoint is used again.
	clk.advance(breakerProbeEvery)
	if probe, _ := e.before(testEP); !probe {
		t.Fatal("no probe")
	}
	if err := e.after(testEP, true, outcomeAnswered, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.before(testEP); err != nil || e.downFor("ecs|eu-west-1") != nil {
		t.Errorf("still given up on after an answer: %v", err)
	}
	if e.downContext(testEP).Err() != nil {
		t.Errorf("the new calls would be ended at once")
	}
}

func refused(host string) error {
	return &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "https://" + host + "/",
		Err: &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 443},
			Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}}}
}

func TestAttemptOutcome(t *testing.T) {
	live := context.Background()
	expired, cancel := context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	stopped, stop := context.WithCancel(context.Background())
	stop()
	dns := &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "https://ecs.nowhere.invalid/",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "ecs.nowhere.invalid", IsNotFound: true}}}}
	unreach := &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.EHOSTUNREACH}}}
	reset := &smithyhttp.RequestSendError{Err: &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}}
	tests := []struct {
		name      string
		ctx       context.Context
		parent    context.Context
		err       error
		connected bool
		want      attemptOutcome
		cause     string
	}{
		{"success", live, live, nil, true, outcomeAnswered, ""},
		{"throttled", live, live, apiErr("ThrottlingException", "Rate exceeded"), true, outcomeAnswered, ""},
		{"server error", live, live, &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 503}}, Err: errors.New("unavailable")}, true, outcomeAnswered, ""},
		{"refused", live, live, refused("ecs.eu-west-1.amazonaws.com"), false, outcomeNoConnect, "connection to 10.0.0.1:443 refused"},
		{"DNS failure", live, live, dns, false, outcomeNoConnect, "DNS lookup of ecs.nowhere.invalid failed: no such host"},
		{"unreachable", live, live, unreach, false, outcomeNoConnect, "host unreachable"},
		{"connection lost after connecting", live, live, reset, true, outcomeIndefinite, ""},
		{"attempt time ran out before connecting", expired, live, &smithy.CanceledError{Err: context.DeadlineExceeded}, false, outcomeNoConnect, "no connection within the call timeout"},
		{"attempt time ran out after connecting", expired, live, &smithy.CanceledError{Err: context.DeadlineExceeded}, true, outcomeIndefinite, ""},
		{"the call was stopped", stopped, stopped, &smithy.CanceledError{Err: context.Canceled}, false, outcomeIndefinite, ""},
		{"the call was stopped while dialling", live, stopped, refused("x"), false, outcomeIndefinite, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &callWatch{parent: tt.parent, cancel: func(error) {}}
			o, cause := outcomeOf(tt.ctx, w, tt.err, tt.connected)
			if o != tt.want || cause != tt.cause {
				t.Errorf("outcome %v %q, want %v %q", o, cause, tt.want, tt.cause)
			}
		})
	}
}

// Through the SDK: a closed port makes the call fail with the endpoint
// named within a few seconds (not after ten attempts with backoff), while
// an endpoint that answers every attempt with 500 or throttling is retried
// as usual and never given up on.
func TestBreakerThroughTheSDK(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		mototest.Env(t, "http://"+addr)
		cfg, err := Config{}.normalize()
		if err != nil {
			t.Fatal(err)
		}
		eps := newEndpoints(nil)
		be, err := newSDKBackend(context.Background(), cfg, &stats{}, eps)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := be.session(context.Background(), callerAcct, "")
		api := s.regional("us-east-1").ecs
		start := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { _, errs[i] = api.ListClusters(context.Background(), &ecs.ListClustersInput{}) })
		}
		wg.Wait()
		d := time.Since(start)
		for _, err := range errs {
			code, msg := classify(err)
			if code != CodeEndpointUnreachable || !strings.Contains(msg, addr) || !strings.Contains(msg, "refused") {
				t.Errorf("classify = %s, %q", code, msg)
			}
		}
		if d > 30*time.Second {
			t.Errorf("took %s", d)
		}
		t.Logf("four calls to a closed port failed after %s", d.Round(time.Millisecond))
		// The next call is not even sent.
		if _, err := api.ListClusters(context.Background(), &ecs.ListClustersInput{}); !errors.As(err, new(*endpointDownError)) {
			t.Errorf("after the breaker opened: %v", err)
		}
	})
	for _, tt := range []struct{ name, body string }{
		{"500", `{"__type":"ServerException","message":"internal"}`},
		{"throttled", `{"__type":"ThrottlingException","message":"Rate exceeded"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			n := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				mu.Lock()
				n++
				mu.Unlock()
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				if tt.name == "500" {
					w.WriteHeader(http.StatusInternalServerError)
				} else {
					w.WriteHeader(http.StatusBadRequest)
				}
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			mototest.Env(t, srv.URL)
			cfg, err := Config{MaxAttempts: 3}.normalize()
			if err != nil {
				t.Fatal(err)
			}
			eps := newEndpoints(nil)
			be, err := newSDKBackend(context.Background(), cfg, &stats{}, eps)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := be.session(context.Background(), callerAcct, "")
			api := s.regional("us-east-1").ecs
			for range 3 {
				_, err := api.ListClusters(context.Background(), &ecs.ListClustersInput{})
				if code, _ := classify(err); code == CodeEndpointUnreachable || err == nil {
					t.Fatalf("classify(%v) = %s", err, code)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if n != 9 {
				t.Errorf("%d requests, want 3 calls × 3 attempts", n)
			}
			for ep, s := range eps.state {
				if s.open || s.failures != 0 {
					t.Errorf("%s: open=%v failures=%d after answers", ep, s.open, s.failures)
				}
			}
		})
	}
}
