package mototest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// recordingTB stands in for *testing.T to see how Start gives up.
type recordingTB struct {
	testing.TB
	cleanups []func()
}

type stopped struct{ how, msg string }

func (r *recordingTB) Helper()             {}
func (r *recordingTB) Cleanup(f func())    { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Logf(string, ...any) {}
func (r *recordingTB) Failed() bool        { return false }
func (r *recordingTB) Skipf(format string, a ...any) {
	panic(stopped{"skip", fmt.Sprintf(format, a...)})
}
func (r *recordingTB) Fatalf(format string, a ...any) {
	panic(stopped{"fatal", fmt.Sprintf(format, a...)})
}

func startOutcome(t *testing.T) (s stopped) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			s = r.(stopped)
		}
	}()
	Start(&recordingTB{TB: t})
	return stopped{"started", ""}
}

func TestStartWithoutMoto(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	tests := []struct {
		ci   string
		want string
	}{
		{"", "skip"},
		{"false", "skip"},
		{"true", "fatal"},
	}
	for _, tt := range tests {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			got := startOutcome(t)
			if got.how != tt.want || !strings.Contains(got.msg, "moto_server") {
				t.Errorf("Start = %+v, want %s mentioning moto_server", got, tt.want)
			}
			if tt.want == "fatal" && !strings.Contains(got.msg, "moto_server missing") {
				t.Errorf("message %q", got.msg)
			}
		})
	}
}

func TestStartResetStop(t *testing.T) {
	s := Start(t)
	resp, err := http.Get(s.URL + "/moto-api/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /moto-api/: %d", resp.StatusCode)
	}
	if err := s.Reset(); err != nil {
		t.Errorf("Reset: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	select {
	case <-s.exited:
	default:
		t.Errorf("the server still runs after Stop")
	}
	if _, err := http.Get(s.URL + "/moto-api/"); err == nil {
		t.Errorf("the server still answers after Stop")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("a second Stop: %v", err)
	}
}
