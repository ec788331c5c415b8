// Package mototest runs a moto_server (the moto AWS emulator) for
// integration tests: on a free loopback port, reset before use, stopped
// when the test ends.
//
// The server runs with MOTO_IAM_LOAD_MANAGED_POLICIES=true, so that AWS
// managed policies exist as in a real account.
//
// When moto_server is not on PATH the test is skipped, except when the
// environment variable CI is "true": then it fails, so that a CI machine
// without moto cannot pass by skipping.
package mototest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is the moto server executable looked up on PATH.
const Binary = "moto_server"

// startTimeout bounds the wait for moto to answer.
const startTimeout = 60 * time.Second

// Server is a running moto_server.
type Server struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41234.
	URL string

	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
}

// Start starts moto_server for t and stops it in t.Cleanup. It skips (or,
// with CI=true, fails) when moto_server is missing.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath(Binary)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("moto_server missing: %v (CI=true, so this cannot be skipped)", err)
		}
		t.Skipf("moto_server not on PATH (%v); skipping the moto integration test", err)
	}
	var lastErr error
	// The free port can be taken between probing and binding: retry.
	for range 3 {
		s, err := start(bin)
		if err == nil {
			t.Cleanup(func() {
				if err := s.Stop(); err != nil {
					t.Logf("stopping moto_server: %v", err)
				}
				if t.Failed() {
					t.Logf("moto_server output (tail):\n%s", s.out.tail(4000))
				}
			})
			if err := s.Reset(); err != nil {
				t.Fatalf("resetting moto_server: %v", err)
			}
			return s
		}
		lastErr = err
	}
	t.Fatalf("starting moto_server: %v", lastErr)
	return nil
}

func start(bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), out: &syncBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	// AWS managed policies exist in every real account; moto only has them
	// when asked.
	s.cmd.Env = append(os.Environ(), "MOTO_IAM_LOAD_MANAGED_POLICIES=true")
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	// Its own process group, so that a Ctrl-C aimed at go test does not
	// race with Stop.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", bin, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("moto_server exited at start: %s", s.out.tail(2000))
		default:
		}
		resp, err := client.Get(s.URL + "/moto-api/")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			_ = s.Stop()
			return nil, fmt.Errorf("moto_server did not answer within %s: %v", startTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Reset clears every emulated resource (POST /moto-api/reset).
func (s *Server) Reset() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reset: HTTP %d", resp.StatusCode)
	}
	return nil
}

// Stop ends the server (SIGTERM, then SIGKILL after 5 s) and waits for it.
func (s *Server) Stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(5 * time.Second):
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-s.exited
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects the server's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Keep the tail only: moto logs every request.
	if b.b.Len() > 1<<20 {
		rest := b.b.Bytes()[b.b.Len()-1<<19:]
		b.b = *bytes.NewBuffer(append([]byte(nil), rest...))
	}
	return b.b.Write(p)
}

func (b *syncBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.b.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}
