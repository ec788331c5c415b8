package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// AWS says how to reach S3. Every field is optional: empty values leave the
// SDK's default chain in charge (environment, including AWS_ENDPOINT_URL
// and AWS_ENDPOINT_URL_S3, shared config and credentials files, SSO, IMDS).
type AWS struct {
	// Profile is the shared config profile.
	Profile string
	// Region is the region the first request goes to (default from the
	// AWS config, else us-east-1). A bucket in another region is found
	// from S3's redirect and used from then on.
	Region string
	// Endpoint, when set, replaces the S3 endpoint (as AWS_ENDPOINT_URL
	// does), e.g. for an emulator.
	Endpoint string
	// PathStyle addresses buckets as endpoint/bucket/key instead of
	// bucket.endpoint/key. Emulators on a host name need it; on an IP
	// address the SDK uses path style by itself.
	PathStyle bool
	// HTTPClient, when set, sends every request (tests use it to inject
	// failures).
	HTTPClient *http.Client
}

// Options control Open.
type Options struct {
	// Time is the run's time, which names the dated key segment
	// (prefix/2026-12-04T10-00-00Z/…) and is recorded in the manifest. Zero
	// means time.Now().
	Time time.Time
	// KMSKeyID, when set, encrypts every object written to S3 with SSE-KMS
	// under this key (key ID, key ARN, alias/NAME or alias ARN); empty
	// means SSE-S3 (AES256).
	KMSKeyID string
	// Dated, for a local directory, writes the run under DIR/<stamp>/ and
	// makes Commit update DIR/latest/ as it does on S3. Without it files go
	// directly into DIR, as before, and Commit has nothing to do. S3
	// destinations are always dated.
	Dated bool
	// AWS says how to reach S3; unused for a local directory.
	AWS AWS
	// TempDir holds the temporary file of each S3 upload (default
	// os.TempDir()).
	TempDir string
}

// Object is one object written by Put.
type Object struct {
	// Name is the name given to Put.
	Name string
	// URL is where it is: s3://bucket/prefix/<stamp>/name, or a local path.
	URL string
	// Size is its length in bytes.
	Size int64
	// SHA256 is the hex SHA-256 of its content.
	SHA256 string
}

// Destination is where one run writes its reports. Put may be called from
// several goroutines at once.
type Destination struct {
	b        backend
	loc      Location
	time     time.Time
	runDir   string // key prefix of the run's objects, "" or ending in "/"
	latest   string // key prefix of latest/, "" when the destination keeps none
	mu       sync.Mutex
	objects  map[string]Object
	failed   map[string]error
	done     bool // Commit was called
	inflight int  // Puts running
}

// backend is the storage under a Destination: keys are slash-separated,
// relative to the bucket (S3) or the destination directory (local).
type backend interface {
	// put stores what write produces at key, or nothing when write or
	// the upload fails.
	put(ctx context.Context, key string, write func(io.Writer) error) error
	// copy copies the object at src to dst (replacing dst).
	copy(ctx context.Context, src, dst string) error
	// get opens the object at key; a missing object is fs.ErrNotExist.
	get(ctx context.Context, key string) (io.ReadCloser, error)
	// remove deletes the object at key; a missing object is no error.
	remove(ctx context.Context, key string) error
	// url is the user-facing location of key.
	url(key string) string
}

// Open prepares the destination dest (a local directory or
// s3://bucket/prefix/, see ParseDestination). For S3 it loads the AWS
// configuration, checks that credentials are available and that the bucket
// exists (HeadBucket; a 403 there is not fatal, as a writer may hold
// s3:PutObject without s3:ListBucket), and follows the bucket's region.
// Nothing is written until Put.
func Open(ctx context.Context, dest string, opts Options) (*Destination, error) {
	loc, err := ParseDestination(dest)
	if err != nil {
		return nil, err
	}
	if opts.KMSKeyID != "" {
		if err := checkKMSKeyID(opts.KMSKeyID); err != nil {
			return nil, err
		}
		if !loc.IsS3() {
			return nil, fmt.Errorf("%q: a KMS key applies to S3 destinations only", dest)
		}
	}
	t := opts.Time
	if t.IsZero() {
		t = time.Now()
	}
	if loc.IsS3() {
		b, err := openS3(ctx, loc, opts)
		if err != nil {
			return nil, err
		}
		return newDestination(b, loc, t, true), nil
	}
	return newDestination(&localBackend{dir: loc.Path}, loc, t, opts.Dated), nil
}

func newDestination(b backend, loc Location, t time.Time, dated bool) *Destination {
	t = t.UTC().Truncate(time.Second)
	d := &Destination{b: b, loc: loc, time: t, objects: map[string]Object{}, failed: map[string]error{}}
	if dated {
		// loc.Key is the S3 prefix, empty for a local directory.
		d.runDir = loc.Key + Stamp(t) + "/"
		d.latest = loc.Key + LatestDir + "/"
	}
	return d
}

func checkKMSKeyID(id string) error {
	if len(id) > 2048 {
		return fmt.Errorf("KMS key %q: longer than 2048 characters", id)
	}
	for _, c := range id {
		if c > unicode.MaxASCII || !unicode.IsPrint(c) || c == ' ' {
			return fmt.Errorf("KMS key %q: expected a key ID, key ARN, alias/NAME or alias ARN", id)
		}
	}
	return nil
}

// Location is the parsed destination.
func (d *Destination) Location() Location { return d.loc }

// Time is the run's time (UTC, to the second).
func (d *Destination) Time() time.Time { return d.time }

// RunURL is where this run's objects go: s3://bucket/prefix/<stamp>/, the
// local DIR/<stamp>/ when dated, else the local directory.
func (d *Destination) RunURL() string { return d.b.url(d.runDir) }

// LatestURL is the location of latest/ (s3://bucket/prefix/latest/ or
// DIR/latest/), or "" when the destination keeps none (a local directory
// without Options.Dated).
func (d *Destination) LatestURL() string {
	if d.latest == "" {
		return ""
	}
	return d.b.url(d.latest)
}

// Put writes the object name (see CheckName) of this run with what write
// produces. Nothing is stored when write returns an error: a local file is
// written to a temporary file and renamed into place; an S3 object is
// written to a temporary file first and uploaded from it with its length
// and server-side encryption. A failed Put is remembered and stops Commit
// from updating latest/ (unless a later Put of the same name succeeds).
// Putting a name twice replaces the first.
func (d *Destination) Put(ctx context.Context, name string, write func(io.Writer) error) (Object, error) {
	key := d.runDir + name
	err := CheckName(name)
	switch {
	case err != nil:
	case d.latest != "" && name == ManifestName:
		err = fmt.Errorf("object name %q is reserved for %s", name, d.b.url(d.latest+ManifestName))
	case len(key) > maxKeyBytes:
		err = fmt.Errorf("object name %q: the key %s is longer than %d bytes", name, d.b.url(key), maxKeyBytes)
	}
	d.mu.Lock()
	if d.done {
		d.mu.Unlock()
		return Object{}, fmt.Errorf("store: put %s: the destination was already committed", d.b.url(key))
	}
	if err != nil {
		// The caller meant to write it: the run is incomplete.
		d.failed[name] = err
		d.mu.Unlock()
		return Object{}, err
	}
	d.inflight++
	d.mu.Unlock()

	var size int64
	h := sha256.New()
	err = d.b.put(ctx, key, func(w io.Writer) error {
		size = 0
		h.Reset()
		cw := &countWriter{w: io.MultiWriter(w, h), n: &size}
		return write(cw)
	})

	d.mu.Lock()
	defer d.mu.Unlock()
	d.inflight--
	if err != nil {
		d.failed[name] = err
		delete(d.objects, name)
		return Object{}, err
	}
	delete(d.failed, name)
	o := Object{Name: name, URL: d.b.url(key), Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}
	d.objects[name] = o
	return o, nil
}

type countWriter struct {
	w io.Writer
	n *int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}

// Objects lists what Put wrote, sorted by name.
func (d *Destination) Objects() []Object {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Object, 0, len(d.objects))
	for _, o := range d.objects {
		out = append(out, o)
	}
	sortObjects(out)
	return out
}

// Manifest is latest/manifest.json: which run latest/ holds. Commit writes
// it after every object of the run was copied into latest/.
type Manifest struct {
	// Schema identifies this format.
	Schema string `json:"schema"`
	// Time is the run's time (RFC 3339, UTC).
	Time time.Time `json:"time"`
	// Run is the location of the run's dated objects, e.g.
	// s3://bucket/prefix/2026-12-04T10-00-00Z/. They are never
	// overwritten by a later run, so a reader that needs several objects
	// of one run reads them there.
	Run string `json:"run"`
	// Objects are the run's objects, sorted by name.
	Objects []ManifestObject `json:"objects"`
}

// ManifestObject is one object listed in a Manifest.
type ManifestObject struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ManifestSchema is the value of Manifest.Schema.
const ManifestSchema = "audit-store-manifest/1"

// maxManifestBytes bounds what is read of a previous manifest.
const maxManifestBytes = 16 << 20

// CommitError says what Commit did before it failed.
type CommitError struct {
	// Latest is the location of latest/, Manifest that of
	// latest/manifest.json.
	Latest, Manifest string
	// Run is the location of this run's dated objects ("" when it wrote
	// none); they are complete whenever no Put failed.
	Run string
	// Previous is the run latest/manifest.json named before Commit ("" when
	// there was none or it could not be read).
	Previous string
	// Committed is true when latest/manifest.json names this run: latest/
	// was updated and only the removal of stale objects of the previous run
	// failed.
	Committed bool
	// Copied lists the names copied into latest/ before the failure;
	// Pending those not copied.
	Copied, Pending []string
	// Err is the cause.
	Err error
}

func (e *CommitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "store: updating %s: ", e.Latest)
	switch {
	case e.Committed:
		fmt.Fprintf(&b, "it now holds the run %s, but objects of the previous run that this run did not write may remain: %v", e.Run, e.Err)
		return b.String()
	case len(e.Copied) == 0:
		fmt.Fprintf(&b, "left as it was: %v", e.Err)
	case len(e.Pending) > 0:
		fmt.Fprintf(&b, "%v; %d of %d objects were copied (%s) and %s were not, so latest/ now mixes two runs",
			e.Err, len(e.Copied), len(e.Copied)+len(e.Pending), strings.Join(e.Copied, ", "), strings.Join(e.Pending, ", "))
	default:
		fmt.Fprintf(&b, "every object of the run was copied (%s), then writing the manifest failed: %v", strings.Join(e.Copied, ", "), e.Err)
	}
	if e.Previous != "" {
		fmt.Fprintf(&b, "; %s still names the previous run %s", e.Manifest, e.Previous)
	} else {
		fmt.Fprintf(&b, "; %s was not written", e.Manifest)
	}
	if e.Run != "" {
		fmt.Fprintf(&b, "; the objects this run wrote are under %s", e.Run)
	}
	return b.String()
}

func (e *CommitError) Unwrap() error { return e.Err }

// Commit makes the run the latest one. For a destination without latest/
// (a local directory without Options.Dated) it does nothing: each file is
// already in place. Otherwise, and only when every Put succeeded, it:
//
//  1. reads the previous latest/manifest.json (if any);
//  2. copies each object of the run, by name order, from the dated key to
//     latest/<name> (on S3 a server-side CopyObject with the same
//     encryption);
//  3. writes latest/manifest.json, naming the run and its objects;
//  4. removes from latest/ the objects the previous manifest listed that
//     this run did not write, so that latest/ never offers a stale report
//     beside fresh ones. Only names from the manifest are removed; other
//     objects under latest/ are left alone.
//
// Call Commit only when the whole run succeeded (every report rendered and
// Put); Commit checks what it can see itself: a failed Put (including one
// refused for its name), or none at all, leaves latest/ untouched. A failure in
// step 2 stops there; the *CommitError says which objects were copied and
// that latest/manifest.json still names the previous run. Commit can be
// called once; later Puts fail.
func (d *Destination) Commit(ctx context.Context) error {
	d.mu.Lock()
	if d.done {
		d.mu.Unlock()
		return errors.New("store: Commit called twice")
	}
	d.done = true
	inflight := d.inflight
	failed := make([]string, 0, len(d.failed))
	for n := range d.failed {
		failed = append(failed, n)
	}
	d.mu.Unlock()
	if d.latest == "" {
		return nil
	}
	objs := d.Objects()
	ce := &CommitError{Latest: d.LatestURL(), Manifest: d.b.url(d.latest + ManifestName)}
	if len(objs) > 0 {
		ce.Run = d.RunURL()
	}
	switch {
	case inflight > 0:
		ce.Err = fmt.Errorf("%d Put calls were still running", inflight)
	case len(failed) > 0:
		sort.Strings(failed)
		for i, n := range failed {
			failed[i] = strconv.Quote(n)
		}
		ce.Err = fmt.Errorf("the run is incomplete: writing %s failed", strings.Join(failed, ", "))
	case len(objs) == 0:
		ce.Err = errors.New("the run wrote nothing")
	}
	prev, prevErr := d.readManifest(ctx)
	if prev != nil {
		ce.Previous = prev.Run
	}
	if ce.Err != nil {
		return ce
	}
	// The previous manifest only serves to remove stale objects: a missing
	// one is the first run; an unreadable one does not stop the commit but
	// is reported after it.
	if errors.Is(prevErr, fs.ErrNotExist) {
		prevErr = nil
	}

	for i, o := range objs {
		if err := d.b.copy(ctx, d.runDir+o.Name, d.latest+o.Name); err != nil {
			ce.Err = err
			for _, p := range objs[i:] {
				ce.Pending = append(ce.Pending, p.Name)
			}
			return ce
		}
		ce.Copied = append(ce.Copied, o.Name)
	}

	m := Manifest{Schema: ManifestSchema, Time: d.time, Run: d.RunURL()}
	for _, o := range objs {
		m.Objects = append(m.Objects, ManifestObject{Name: o.Name, Size: o.Size, SHA256: o.SHA256})
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		ce.Err = err
		return ce
	}
	body = append(body, '\n')
	if err := d.b.put(ctx, d.latest+ManifestName, func(w io.Writer) error {
		_, err := w.Write(body)
		return err
	}); err != nil {
		ce.Err = err
		return ce
	}

	if prevErr != nil {
		ce.Committed = true
		ce.Err = fmt.Errorf("reading the previous manifest: %w (on S3 without s3:ListBucket a missing object also reads as access denied)", prevErr)
		return ce
	}
	if prev == nil {
		return nil
	}
	written := map[string]bool{}
	for _, o := range objs {
		written[o.Name] = true
	}
	var errs []error
	for _, po := range prev.Objects {
		// The manifest is data read back from the bucket: only a valid
		// name of a run's object is ever removed, and only under latest/.
		if CheckName(po.Name) != nil || po.Name == ManifestName || written[po.Name] {
			continue
		}
		if err := d.b.remove(ctx, d.latest+po.Name); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		ce.Committed = true
		ce.Err = errors.Join(errs...)
		return ce
	}
	return nil
}

// readManifest reads latest/manifest.json; a missing one is fs.ErrNotExist.
func (d *Destination) readManifest(ctx context.Context) (*Manifest, error) {
	rc, err := d.b.get(ctx, d.latest+ManifestName)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return DecodeManifest(io.LimitReader(rc, maxManifestBytes))
}

// DecodeManifest reads a latest/manifest.json.
func DecodeManifest(r io.Reader) (*Manifest, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestName, err)
	}
	if m.Schema != ManifestSchema {
		return nil, fmt.Errorf("%s: schema %q, expected %q", ManifestName, m.Schema, ManifestSchema)
	}
	return &m, nil
}
