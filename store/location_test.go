package store

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseDestination(t *testing.T) {
	tests := []struct {
		in      string
		want    Location
		wantErr string // substring; "" = valid
	}{
		{in: "out", want: Location{Path: "out"}},
		{in: "/var/reports/", want: Location{Path: "/var/reports/"}},
		{in: "./a:b", want: Location{Path: "./a:b"}},
		{in: "C:\\reports", want: Location{Path: "C:\\reports"}},
		{in: "s3://my-bucket", want: Location{Bucket: "my-bucket"}},
		{in: "s3://my-bucket/", want: Location{Bucket: "my-bucket"}},
		{in: "s3://my-bucket/audit", want: Location{Bucket: "my-bucket", Key: "audit/"}},
		{in: "s3://my-bucket/audit/", want: Location{Bucket: "my-bucket", Key: "audit/"}},
		{in: "s3://my.bucket.1/a/b-c_d/e.f/", want: Location{Bucket: "my.bucket.1", Key: "a/b-c_d/e.f/"}},
		{in: "s3://abc/account=123/(x)/'y'/!*/", want: Location{Bucket: "abc", Key: "account=123/(x)/'y'/!*/"}},
		{in: "s3://abc/Audit/Daily", want: Location{Bucket: "abc", Key: "Audit/Daily/"}},

		{in: "", wantErr: "empty location"},
		{in: "s3://", wantErr: `"s3://": no bucket name`},
		{in: "s3:///prefix/", wantErr: "no bucket name"},
		{in: "S3://bucket/", wantErr: `"S3://bucket/": looks like an S3 URL`},
		{in: "s3:/bucket/", wantErr: `"s3:/bucket/": looks like an S3 URL`},
		{in: "s3:bucket", wantErr: "looks like an S3 URL"},
		{in: "s3:\\bucket", wantErr: "looks like an S3 URL"},
		{in: "https://bucket.s3.amazonaws.com/x", wantErr: `unsupported scheme "https"`},
		{in: "gs://bucket/x", wantErr: `unsupported scheme "gs"`},
		{in: "s3://bucket/a/../b/", wantErr: `has a ".." segment`},
		{in: "s3://bucket/../", wantErr: `has a ".." segment`},
		{in: "s3://bucket/..", wantErr: `has a ".." segment`},
		{in: "s3://bucket/./x/", wantErr: `has a "." segment`},
		{in: "s3://bucket//x/", wantErr: "empty segment"},
		{in: "s3://bucket/a//b/", wantErr: "empty segment"},
		{in: "s3://bucket/a b/", wantErr: `contains ' '`},
		{in: "s3://bucket/a+b/", wantErr: `contains '+'`},
		{in: "s3://bucket/a\\b/", wantErr: `contains '\\'`},
		{in: "s3://bucket/é/", wantErr: `contains 'é'`},
		{in: "s3://bucket/a\nb/", wantErr: "control character"},
		{in: "s3://bucket/x?versionId=1", wantErr: "no query string"},
		{in: "s3://bucket/x#frag", wantErr: "no query string"},
		{in: "s3://" + "bucket/" + strings.Repeat("a", 1000) + "/", wantErr: "S3 keys are at most 1024 bytes"},
		// Bucket naming rules.
		{in: "s3://ab/", wantErr: `bucket name "ab" must be 3 to 63`},
		{in: "s3://" + strings.Repeat("a", 64) + "/", wantErr: "must be 3 to 63"},
		{in: "s3://My-Bucket/", wantErr: "only lower-case letters"},
		{in: "s3://my_bucket/", wantErr: "only lower-case letters"},
		{in: "s3://user@bucket/", wantErr: "only lower-case letters"},
		{in: "s3://bucket:443/", wantErr: "only lower-case letters"},
		{in: "s3://-bucket/", wantErr: "must begin and end with a letter or digit"},
		{in: "s3://bucket-/", wantErr: "must begin and end"},
		{in: "s3://bucket./", wantErr: "must begin and end"},
		{in: "s3://my..bucket/", wantErr: "two adjacent dots"},
		{in: "s3://my.-bucket/", wantErr: "dot next to a hyphen"},
		{in: "s3://192.168.5.4/", wantErr: "must not be an IP address"},
		{in: "s3://xn--bucket/", wantErr: `reserved prefix "xn--"`},
		{in: "s3://sthree-bucket/", wantErr: `reserved prefix "sthree-"`},
		{in: "s3://amzn-s3-demo-bucket/", wantErr: `reserved prefix "amzn-s3-demo-"`},
		{in: "s3://bucket-s3alias/", wantErr: `reserved suffix "-s3alias"`},
		{in: "s3://bucket--ol-s3/", wantErr: `reserved suffix "--ol-s3"`},
		{in: "s3://bucket.mrap/", wantErr: `reserved suffix ".mrap"`},
		{in: "s3://bucket--use1-az4--x-s3/", wantErr: `reserved suffix "--x-s3"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDestination(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseDestination(%q) = %+v, want an error containing %q", tt.in, got, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseDestination(%q) error %q, want it to contain %q", tt.in, err, tt.wantErr)
				}
				if tt.in != "" && !strings.Contains(err.Error(), strconv.Quote(tt.in)) {
					t.Errorf("error %q does not quote the value %q", err, tt.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDestination(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseDestination(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if got.IsS3() != IsS3URL(tt.in) {
				t.Errorf("IsS3 %v, IsS3URL %v", got.IsS3(), IsS3URL(tt.in))
			}
		})
	}
}

func TestParseObjectAndPrefix(t *testing.T) {
	tests := []struct {
		in      string
		object  Location
		objErr  string
		prefix  Location
		preErr  string
		comment string
	}{
		{in: "s3://b-1/audit/latest/findings.json",
			object: Location{Bucket: "b-1", Key: "audit/latest/findings.json"},
			prefix: Location{Bucket: "b-1", Key: "audit/latest/findings.json/"}},
		{in: "s3://b-1/audit/latest/",
			objErr: "names a prefix",
			prefix: Location{Bucket: "b-1", Key: "audit/latest/"}},
		{in: "s3://b-1",
			objErr: "no object key",
			prefix: Location{Bucket: "b-1"}},
		{in: "s3://b-1/",
			objErr: "no object key",
			prefix: Location{Bucket: "b-1"}},
		// Keys written by others may hold any printable UTF-8.
		{in: "s3://b-1/other tool/rapport é+1.json",
			object: Location{Bucket: "b-1", Key: "other tool/rapport é+1.json"},
			prefix: Location{Bucket: "b-1", Key: "other tool/rapport é+1.json/"}},
		{in: "s3://b-1/a/../findings.json", objErr: `".." segment`, preErr: `".." segment`},
		{in: "s3://b-1//findings.json", objErr: "empty segment", preErr: "empty segment"},
		{in: "s3://b-1/a\x00b", objErr: "control character", preErr: "control character"},
		{in: "s3://b-1/a\xffb", objErr: "not valid UTF-8", preErr: "not valid UTF-8"},
		{in: "s3://B/x", objErr: "3 to 63", preErr: "3 to 63"},
		{in: "baseline/findings.json", object: Location{Path: "baseline/findings.json"}, prefix: Location{Path: "baseline/findings.json"}},
		{in: "ftp://host/x", objErr: "unsupported scheme", preErr: "unsupported scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			check := func(what string, got Location, err error, want Location, wantErr string) {
				t.Helper()
				if wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), wantErr) {
						t.Errorf("%s(%q) = %+v, %v; want error containing %q", what, tt.in, got, err, wantErr)
					}
					return
				}
				if err != nil || got != want {
					t.Errorf("%s(%q) = %+v, %v; want %+v", what, tt.in, got, err, want)
				}
			}
			o, err := ParseObject(tt.in)
			check("ParseObject", o, err, tt.object, tt.objErr)
			p, err := ParsePrefix(tt.in)
			check("ParsePrefix", p, err, tt.prefix, tt.preErr)
		})
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{"findings.json", ""},
		{"evidence/aws/123456789012/us-east-1/ecs/task-definition/web/3.json", ""},
		{"inventory.json", ""},
		{"", "empty object name"},
		{"/findings.json", "empty segment"},
		{"a/", "empty segment"},
		{"../findings.json", `".." segment`},
		{"a/./b", `"." segment`},
		{"a b.json", "contains ' '"},
		{"a\\b", `contains '\\'`},
		{"a\tb", "control character"},
	}
	for _, tt := range tests {
		err := CheckName(tt.name)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("CheckName(%q): %v", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("CheckName(%q) = %v, want error containing %q", tt.name, err, tt.wantErr)
		}
	}
}

// TestKeyLayout checks the keys a run writes, for several prefixes and
// times, on a local dated destination (the same layout code as S3) and
// from Stamp.
func TestKeyLayout(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), "2026-12-04T10-00-00Z"},
		{time.Date(2026, 12, 4, 10, 0, 0, 999999999, time.UTC), "2026-12-04T10-00-00Z"},
		{time.Date(2026, 12, 4, 11, 30, 5, 0, time.FixedZone("CET", 3600)), "2026-12-04T10-30-05Z"},
		{time.Date(2027, 1, 1, 0, 59, 59, 0, time.FixedZone("X", -9*3600)), "2027-01-01T09-59-59Z"},
	}
	for _, tt := range tests {
		if got := Stamp(tt.t); got != tt.want {
			t.Errorf("Stamp(%v) = %s, want %s", tt.t, got, tt.want)
		}
	}

	prefixes := []struct{ dest, wantRun, wantLatest string }{
		{"s3://bkt", "s3://bkt/2026-12-04T10-00-00Z/", "s3://bkt/latest/"},
		{"s3://bkt/", "s3://bkt/2026-12-04T10-00-00Z/", "s3://bkt/latest/"},
		{"s3://bkt/audit", "s3://bkt/audit/2026-12-04T10-00-00Z/", "s3://bkt/audit/latest/"},
		{"s3://bkt/org/prod/", "s3://bkt/org/prod/2026-12-04T10-00-00Z/", "s3://bkt/org/prod/latest/"},
	}
	for _, p := range prefixes {
		loc, err := ParseDestination(p.dest)
		if err != nil {
			t.Fatal(err)
		}
		b := &s3Backend{bucket: loc.Bucket}
		d := newDestination(b, loc, tests[0].t, true)
		if d.RunURL() != p.wantRun || d.LatestURL() != p.wantLatest {
			t.Errorf("%s: run %s latest %s, want %s %s", p.dest, d.RunURL(), d.LatestURL(), p.wantRun, p.wantLatest)
		}
		if got, want := b.url(d.runDir+"evidence/x.json"), p.wantRun+"evidence/x.json"; got != want {
			t.Errorf("%s: object key %s, want %s", p.dest, got, want)
		}
	}
}

func FuzzParseDestination(f *testing.F) {
	for _, s := range []string{"out", "s3://bucket/prefix/", "s3://b.c-d/x/y", "s3://bucket/../x", "S3://x", "s3://bucket//", "s3://a..b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		loc, err := ParseDestination(s)
		if err != nil {
			return
		}
		if !loc.IsS3() {
			if loc.Path != s {
				t.Fatalf("local path %q from %q", loc.Path, s)
			}
			return
		}
		if CheckBucket(loc.Bucket) != nil {
			t.Fatalf("invalid bucket %q accepted from %q", loc.Bucket, s)
		}
		if loc.Key != "" {
			if !strings.HasSuffix(loc.Key, "/") || checkKey(strings.TrimSuffix(loc.Key, "/"), true) != nil {
				t.Fatalf("invalid prefix %q accepted from %q", loc.Key, s)
			}
		}
		// The parsed location reads back as itself.
		again, err := ParseDestination(loc.String())
		if err != nil || again != loc {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, loc, loc.String(), again, err)
		}
		for seg := range strings.SplitSeq(loc.Key, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("dot segment in %q from %q", loc.Key, s)
			}
		}
	})
}

func FuzzParseObject(f *testing.F) {
	for _, s := range []string{"s3://bucket/latest/findings.json", "s3://bucket/a/../b", "s3://bucket/", "x.json", "s3://b-c/é x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		loc, err := ParseObject(s)
		if err != nil || !loc.IsS3() {
			return
		}
		if loc.Key == "" || strings.HasSuffix(loc.Key, "/") || checkKey(loc.Key, false) != nil {
			t.Fatalf("invalid key %q accepted from %q", loc.Key, s)
		}
		// The copy source header decodes back to the key and holds
		// nothing a URL decoder could read otherwise.
		escaped := escapeKey(loc.Key)
		if back, err := url.PathUnescape(escaped); err != nil || back != loc.Key {
			t.Fatalf("escapeKey(%q) = %q, decodes to %q, %v", loc.Key, escaped, back, err)
		}
		if strings.Trim(escaped, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~/%") != "" {
			t.Fatalf("escapeKey(%q) = %q keeps a reserved character", loc.Key, escaped)
		}
	})
}
