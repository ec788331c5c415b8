package store

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

// Scheme is the prefix of an S3 location.
const Scheme = "s3://"

// LatestDir is the key segment under the destination prefix that holds the
// copy of the last complete run.
const LatestDir = "latest"

// ManifestName is the object written last into latest/ by Commit. It is a
// reserved name: Put refuses it on a destination that keeps latest/.
const ManifestName = "manifest.json"

// maxKeyBytes is S3's limit on the length of an object key (UTF-8 bytes).
const maxKeyBytes = 1024

// stampLayout is the layout of the dated key segment: UTC, to the second,
// with hyphens for colons (a colon needs escaping in URLs and is not allowed
// in Windows file names).
const stampLayout = "2006-01-02T15-04-05Z"

// Stamp returns the dated key segment for a run at t: t in UTC, to the
// second, e.g. 2026-12-04T10-00-00Z.
func Stamp(t time.Time) string { return t.UTC().Format(stampLayout) }

// Location is a parsed destination or source: a local path, or an S3
// bucket with a key (an object) or key prefix (a destination or listing).
type Location struct {
	// Bucket is the S3 bucket; empty for a local path.
	Bucket string
	// Key is, for S3, the object key (ParseObject) or the key prefix
	// (ParseDestination: empty, or ending in "/").
	Key string
	// Path is the local path; empty for S3.
	Path string
}

// IsS3 reports whether l is an S3 location.
func (l Location) IsS3() bool { return l.Bucket != "" }

// String is the location as the user would write it: s3://bucket/key or
// the local path.
func (l Location) String() string {
	if l.IsS3() {
		return Scheme + l.Bucket + "/" + l.Key
	}
	return l.Path
}

// IsS3URL reports whether s names an S3 location (starts with s3://),
// valid or not. Callers use it to choose between a local and an S3 code
// path before parsing.
func IsS3URL(s string) bool { return strings.HasPrefix(s, Scheme) }

// ParseDestination parses where reports go: a local directory, or
// s3://bucket/prefix/ (the prefix may be empty: s3://bucket or
// s3://bucket/). The returned Key is the prefix, empty or ending in "/".
//
// The prefix must be made of S3's "safe" characters (letters, digits and
// ! - _ . * ' ( ) =), split by single slashes, with no "." or ".."
// segment: keys the tool writes are then the same in every client, URL and
// file system. Errors quote the value.
func ParseDestination(s string) (Location, error) {
	if !IsS3URL(s) {
		return parseLocal(s)
	}
	bucket, key, err := splitS3(s)
	if err != nil {
		return Location{}, err
	}
	key = strings.TrimSuffix(key, "/")
	if key != "" {
		if err := checkKey(key, true); err != nil {
			return Location{}, urlError(s, "prefix "+err.Error())
		}
		key += "/"
	}
	// The longest key written is prefix + stamp + "/" + name; leave room.
	if len(key) > maxKeyBytes-len(stampLayout)-64 {
		return Location{}, urlError(s, fmt.Sprintf("prefix is %d bytes long; S3 keys are at most %d bytes and the run's keys need room after it", len(key), maxKeyBytes))
	}
	return Location{Bucket: bucket, Key: key}, nil
}

// ParseObject parses one object to read: a local file path, or
// s3://bucket/key. The key may hold any printable UTF-8 (objects written by
// other tools are accepted) but no empty, "." or ".." segment and no
// trailing slash.
func ParseObject(s string) (Location, error) {
	if !IsS3URL(s) {
		return parseLocal(s)
	}
	bucket, key, err := splitS3(s)
	if err != nil {
		return Location{}, err
	}
	if key == "" {
		return Location{}, urlError(s, "no object key after the bucket (expected s3://bucket/key)")
	}
	if strings.HasSuffix(key, "/") {
		return Location{}, urlError(s, "names a prefix (ends with /), not an object")
	}
	if err := checkKey(key, false); err != nil {
		return Location{}, urlError(s, "key "+err.Error())
	}
	return Location{Bucket: bucket, Key: key}, nil
}

// ParsePrefix parses a listing source: a local directory, or
// s3://bucket/prefix (a trailing slash is added when missing). Like
// ParseObject, the prefix may hold any printable UTF-8.
func ParsePrefix(s string) (Location, error) {
	if !IsS3URL(s) {
		return parseLocal(s)
	}
	bucket, key, err := splitS3(s)
	if err != nil {
		return Location{}, err
	}
	key = strings.TrimSuffix(key, "/")
	if key != "" {
		if err := checkKey(key, false); err != nil {
			return Location{}, urlError(s, "prefix "+err.Error())
		}
		key += "/"
	}
	return Location{Bucket: bucket, Key: key}, nil
}

func parseLocal(s string) (Location, error) {
	if s == "" {
		return Location{}, errors.New("empty location: expected a local path or s3://bucket/prefix/")
	}
	// A mistyped S3 URL is not a directory name.
	if len(s) >= 3 && strings.EqualFold(s[:3], "s3:") {
		return Location{}, urlError(s, "looks like an S3 URL but is not s3://bucket/prefix/")
	}
	// Something that looks like another URL scheme is a mistake, not a
	// directory name.
	if i := strings.Index(s, "://"); i > 0 && isScheme(s[:i]) {
		return Location{}, urlError(s, fmt.Sprintf("unsupported scheme %q: expected a local path or s3://bucket/prefix/", s[:i]))
	}
	return Location{Path: s}, nil
}

func isScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// splitS3 splits s3://bucket/rest into a valid bucket and rest.
func splitS3(s string) (bucket, rest string, err error) {
	body := strings.TrimPrefix(s, Scheme)
	if strings.ContainsAny(body, "?#") {
		return "", "", urlError(s, "no query string or fragment allowed")
	}
	bucket, rest, _ = strings.Cut(body, "/")
	if bucket == "" {
		return "", "", urlError(s, "no bucket name (expected s3://bucket/prefix/)")
	}
	if err := CheckBucket(bucket); err != nil {
		return "", "", urlError(s, err.Error())
	}
	return bucket, rest, nil
}

func urlError(s, msg string) error { return fmt.Errorf("%q: %s", s, msg) }

// CheckBucket checks name against the naming rules of S3 general purpose
// buckets: 3 to 63 characters; lower-case letters, digits, dots and
// hyphens; beginning and ending with a letter or digit; no two adjacent
// dots; not an IP address; none of the reserved prefixes (xn--, sthree-,
// amzn-s3-demo-) or suffixes (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3).
// Legacy bucket names with upper-case letters or underscores, access point
// aliases and directory buckets are not accepted.
func CheckBucket(name string) error {
	if n := len(name); n < 3 || n > 63 {
		return fmt.Errorf("bucket name %q must be 3 to 63 characters long", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return fmt.Errorf("bucket name %q: only lower-case letters, digits, dots and hyphens are allowed", name)
		}
	}
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return fmt.Errorf("bucket name %q must begin and end with a letter or digit", name)
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("bucket name %q must not contain two adjacent dots", name)
	}
	if strings.Contains(name, ".-") || strings.Contains(name, "-.") {
		return fmt.Errorf("bucket name %q must not have a dot next to a hyphen", name)
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return fmt.Errorf("bucket name %q must not be an IP address", name)
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return fmt.Errorf("bucket name %q must not begin with the reserved prefix %q", name, p)
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, sfx) {
			return fmt.Errorf("bucket name %q must not end with the reserved suffix %q", name, sfx)
		}
	}
	return nil
}

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// checkKey checks a key or prefix (without its trailing slash): valid
// UTF-8, no control characters, at most maxKeyBytes, slash-separated
// segments that are neither empty nor "." nor "..". With safe, every
// character must be one of S3's safe characters.
func checkKey(key string, safe bool) error {
	if len(key) > maxKeyBytes {
		return fmt.Errorf("is %d bytes long; S3 keys are at most %d", len(key), maxKeyBytes)
	}
	if !utf8.ValidString(key) {
		return errors.New("is not valid UTF-8")
	}
	for _, c := range key {
		if c < 0x20 || c == 0x7f || (0x80 <= c && c < 0xa0) {
			return fmt.Errorf("contains the control character %U", c)
		}
		if safe && !safeChar(c) {
			return fmt.Errorf("contains %q: only letters, digits, / and ! - _ . * ' ( ) = are allowed", c)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return errors.New("has an empty segment (a leading slash or two slashes in a row)")
		case ".", "..":
			return fmt.Errorf("has a %q segment", seg)
		}
	}
	return nil
}

func safeChar(c rune) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.ContainsRune("!-_.*'()=/", c)
}

// CheckName checks the name of an object of a run, as given to Put: a
// relative slash-separated path (e.g. "findings.json" or
// "evidence/aws/123456789012/role.json") made of S3's safe characters, with
// no empty, "." or ".." segment.
func CheckName(name string) error {
	if name == "" {
		return errors.New("empty object name")
	}
	if err := checkKey(name, true); err != nil {
		return fmt.Errorf("object name %q %s", name, err)
	}
	if path.Clean(name) != name {
		return fmt.Errorf("object name %q is not a clean relative path", name)
	}
	return nil
}
