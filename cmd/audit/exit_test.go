package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-audit/audit/internal/mototest"
	"github.com/ecs-audit/audit/scanner"
)

// countingEndpoint is an AWS endpoint that counts the requests it gets and
// answers each with handler (500 when nil).
func countingEndpoint(t *testing.T, handler http.HandlerFunc) (url string, count func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		if handler != nil {
			handler(w, r)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// noReports fails when dir holds anything.
func noReports(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) > 0 {
		t.Errorf("reports written to %s: %d entries", dir, len(entries))
	}
}

// TestScanInvalidConfigurationExits2: every invalid configuration exits 2
// naming its flag, before any AWS call and without writing reports.
func TestScanInvalidConfigurationExits2(t *testing.T) {
	url, requests := countingEndpoint(t, nil)
	mototest.Env(t, url)
	cases := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"garbage region", []string{"--regions", "garbage"}, []string{`--regions "garbage"`, "not a region name"}},
		{"all among regions", []string{"--regions", "all,us-east-1"}, []string{`--regions "all"`}},
		{"empty region", []string{"--regions", ","}, []string{"--regions"}},
		{"role name with slashes around", []string{"--role-name", "/bad/"}, []string{`--role-name "/bad/"`}},
		{"role name with a space", []string{"--role-name", "a role"}, []string{`--role-name "a role"`}},
		{"negative account concurrency", []string{"--account-concurrency", "-1"}, []string{`--account-concurrency "-1"`, "positive"}},
		{"negative region concurrency", []string{"--region-concurrency", "-3"}, []string{`--region-concurrency "-3"`}},
		{"negative attempts", []string{"--max-attempts", "-2"}, []string{`--max-attempts "-2"`}},
		{"short account ID", []string{"--accounts", "12345"}, []string{`--accounts "12345"`, "12-digit"}},
		{"bad excluded account", []string{"--exclude-accounts", "11112222333x"}, []string{`--exclude-accounts "11112222333x"`}},
		{"OU without --org", []string{"--ou", "ou-ab12-11111111"}, []string{`--ou "ou-ab12-11111111"`, "needs --org"}},
		{"bad OU", []string{"--org", "--ou", "r-ab12"}, []string{`--ou "r-ab12"`, "OU ID"}},
		{"bad home region", []string{"--region", "moon"}, []string{`--region "moon"`}},
		{"short external ID (not echoed)", []string{"--external-id", "x"}, []string{"--external-id:"}},
		{"unknown profile", []string{"--profile", "no-such-profile"}, []string{`--profile "no-such-profile"`, "no such profile"}},
		{"several at once", []string{"--regions", "garbage", "--role-name", "/bad/", "--max-attempts", "-1"},
			[]string{"audit: --regions", "audit: --role-name", "audit: --max-attempts"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, _, stderr := run(t, "", append([]string{"scan", "--quiet", "--out", out}, c.args...)...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitUsage, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "scanner:") || strings.Contains(stderr, "Config") {
				t.Errorf("stderr speaks of the scanner's fields, not the flags:\n%s", stderr)
			}
			if n := requests(); n != 0 {
				t.Errorf("%d AWS requests before the configuration was checked", n)
			}
			noReports(t, out)
		})
	}
}

// The options of a live scan are bound to scanner.Config fields, so that a
// ConfigError on a field names its option: exactly these fields.
func TestOptionsOfScannerFields(t *testing.T) {
	f := newScanFlags()
	var got []string
	typ := reflect.TypeFor[scanner.Config]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if o := f.optionOfField(name); o != nil {
			got = append(got, name+"="+o.Name)
		}
	}
	want := []string{"Profile=profile", "Region=region", "Org=org", "OUs=ou", "Accounts=accounts", "ExcludeAccounts=exclude-accounts",
		"Regions=regions", "RoleName=role-name", "ExternalID=external-id", "AllRevisions=all-revisions",
		"AccountConcurrency=account-concurrency", "RegionConcurrency=region-concurrency", "MaxAttempts=max-attempts", "SpoolDir=spool-dir"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields bound to options:\n%q\nwant\n%q", got, want)
	}
	if f.optionOfField("unlimited") != nil || f.optionOfField("NoSuchField") != nil {
		t.Error("an unexported or unknown field has an option")
	}
}

// TestScanThatCannotStartExits2: no credentials, an endpoint that refuses
// connections and rejected credentials exit 2 with one line saying what
// happened and what to do, quickly, without reports.
func TestScanThatCannotStartExits2(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	cases := []struct {
		name     string
		setup    func(t *testing.T) (requests func() int)
		want     []string
		mustNot  []string
		requests int // -1: any
	}{
		{
			name: "no credentials",
			setup: func(t *testing.T) func() int {
				url, requests := countingEndpoint(t, nil)
				mototest.Env(t, url)
				for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
					"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"} {
					t.Setenv(k, "")
				}
				return requests
			},
			want: []string{"credentials", "AWS_PROFILE"},
		},
		{
			name: "endpoint refuses connections",
			setup: func(t *testing.T) func() int {
				mototest.Env(t, "http://"+closed)
				return func() int { return 0 }
			},
			want:    []string{"cannot reach the AWS endpoint http://" + closed, "refused", "AWS_ENDPOINT_URL"},
			mustNot: []string{"credentials"},
		},
		{
			name: "credentials rejected",
			setup: func(t *testing.T) func() int {
				url, requests := countingEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/xml")
					w.WriteHeader(http.StatusForbidden)
					_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`))
				})
				mototest.Env(t, url)
				return requests
			},
			want:     []string{"AWS rejected the credentials", "InvalidClientTokenId"},
			requests: -1,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			requests := c.setup(t)
			out := filepath.Join(t.TempDir(), "out")
			start := time.Now()
			code, _, stderr := run(t, "", "scan", "--quiet", "--out", out)
			d := time.Since(start)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitUsage, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "audit: ") {
				t.Errorf("want one line on stderr, got:\n%s", stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			for _, w := range c.mustNot {
				if strings.Contains(stderr, w) {
					t.Errorf("stderr says %q:\n%s", w, stderr)
				}
			}
			if n := requests(); c.requests >= 0 && n != c.requests {
				t.Errorf("%d AWS requests, want %d", n, c.requests)
			}
			if d > 30*time.Second {
				t.Errorf("took %s", d)
			}
			t.Logf("exit 2 after %s: %s", d.Round(time.Millisecond), strings.TrimSpace(stderr))
			noReports(t, out)
		})
	}
}
