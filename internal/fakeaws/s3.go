package fakeaws

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-audit/audit/inventory"
)

// ---- S3 (REST-XML) ----
//
// The world's s3Buckets with status "exists" are the buckets, owned by
// their accountId, in their region; their objects with status "exists" are
// the keys. Requests are addressed path-style (http://host/bucket/key, what
// the SDK uses for an IP endpoint) or virtual-hosted
// (http://bucket.host/key). Served: ListBuckets, GetBucketLocation (from any
// region), ListObjectsV2 and GetBucketPolicy (in the bucket's region, else
// 301 PermanentRedirect with x-amz-bucket-region). Another account's bucket
// is AccessDenied (no bucket policy is evaluated); a bucket that does not
// exist is NoSuchBucket. Reading an object (GetObject, HeadObject) is
// refused like a mutating call.

const s3XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"

func s3Ops() map[string]opFunc {
	return map[string]opFunc{
		"ListBuckets":       (*Server).s3ListBuckets,
		"GetBucketLocation": (*Server).s3GetBucketLocation,
		"ListObjectsV2":     (*Server).s3ListObjectsV2,
		"GetBucketPolicy":   (*Server).s3GetBucketPolicy,
	}
}

// s3Answer is a REST-XML answer: an XML document (xmlBody) or a raw
// payload.
type s3Answer struct {
	xmlBody     any
	raw         []byte
	contentType string
}

// s3Target splits a request into bucket and key, path-style or
// virtual-hosted.
func s3Target(r *http.Request) (bucket, key string) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	path := r.URL.Path
	if ip := net.ParseIP(host); ip == nil && host != "localhost" && strings.Contains(host, ".") &&
		!strings.HasPrefix(host, "s3.") && !strings.HasPrefix(host, "s3-") {
		bucket, _, _ = strings.Cut(host, ".")
		return bucket, strings.TrimPrefix(path, "/")
	}
	rest := strings.TrimPrefix(path, "/")
	bucket, key, _ = strings.Cut(rest, "/")
	return bucket, key
}

// s3SubResources are the bucket subresources named by a query parameter,
// with the operation name part.
var s3SubResources = []struct{ param, name string }{
	{"location", "BucketLocation"}, {"policy", "BucketPolicy"}, {"policyStatus", "BucketPolicyStatus"}, {"acl", "BucketAcl"},
	{"tagging", "BucketTagging"}, {"versioning", "BucketVersioning"}, {"encryption", "BucketEncryption"}, {"cors", "BucketCors"},
	{"lifecycle", "BucketLifecycleConfiguration"}, {"website", "BucketWebsite"}, {"logging", "BucketLogging"},
	{"notification", "BucketNotificationConfiguration"}, {"replication", "BucketReplication"},
	{"ownershipControls", "BucketOwnershipControls"}, {"publicAccessBlock", "PublicAccessBlock"}, {"versions", "ObjectVersions"},
	{"uploads", "MultipartUploads"}, {"delete", "Objects"},
}

// s3Operation names the S3 operation of a request from its method, target
// and query.
func s3Operation(c *call) string {
	bucket, key := s3Target(c.r)
	q := c.r.URL.Query()
	sub := ""
	for _, s := range s3SubResources {
		if _, ok := q[s.param]; ok {
			sub = s.name
			break
		}
	}
	switch c.r.Method {
	case http.MethodGet:
		switch {
		case bucket == "":
			return "ListBuckets"
		case key != "":
			if _, ok := q["attributes"]; ok {
				return "GetObjectAttributes"
			}
			return "GetObject"
		case sub == "ObjectVersions":
			return "ListObjectVersions"
		case sub == "MultipartUploads":
			return "ListMultipartUploads"
		case sub != "":
			return "Get" + sub
		case q.Get("list-type") == "2":
			return "ListObjectsV2"
		}
		return "ListObjects"
	case http.MethodHead:
		if key != "" {
			return "HeadObject"
		}
		return "HeadBucket"
	case http.MethodPut:
		switch {
		case bucket == "":
			return "PutUnknown"
		case key != "":
			return "PutObject"
		case sub != "":
			return "Put" + sub
		}
		return "CreateBucket"
	case http.MethodDelete:
		switch {
		case key != "":
			return "DeleteObject"
		case sub != "":
			return "Delete" + sub
		}
		return "DeleteBucket"
	case http.MethodPost:
		if sub == "Objects" {
			return "DeleteObjects"
		}
		return "PostObject"
	}
	return ""
}

// s3Bucket finds a bucket of the world that exists.
func (s *Server) s3Bucket(name string) *inventory.S3Bucket {
	for _, b := range s.w.inv.S3Buckets {
		if b.Name == name && b.Status == inventory.Exists {
			return b
		}
	}
	return nil
}

func s3Err(status int, code, msg string) *apiError {
	return &apiError{status: status, code: code, msg: msg}
}

// ownBucket finds the caller's bucket for a bucket operation: it must exist,
// belong to the caller (and to x-amz-expected-bucket-owner when given) and,
// unless anyRegion, be in the region the request is signed for.
func (s *Server) ownBucket(c *call, anyRegion bool) (*inventory.S3Bucket, error) {
	name, _ := s3Target(c.r)
	b := s.s3Bucket(name)
	if b == nil {
		e := s3Err(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		e.extra = map[string]string{"BucketName": name}
		return nil, e
	}
	if exp := c.r.Header.Get("X-Amz-Expected-Bucket-Owner"); b.AccountID != c.caller.account || (exp != "" && exp != b.AccountID) {
		return nil, s3Err(http.StatusForbidden, "AccessDenied", "Access Denied")
	}
	region := b.Region
	if region == "" {
		region = "us-east-1"
	}
	if !anyRegion && region != c.region {
		e := s3Err(http.StatusMovedPermanently, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.")
		e.extra = map[string]string{"BucketName": name, "Endpoint": name + ".s3." + region + ".amazonaws.com", "x-amz-bucket-region": region}
		return nil, e
	}
	return b, nil
}

type s3Owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName,omitempty"`
}

type s3BucketEntry struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion,omitempty"`
	BucketArn    string `xml:"BucketArn,omitempty"`
}

type s3ListBucketsResult struct {
	XMLName           xml.Name        `xml:"ListAllMyBucketsResult"`
	Xmlns             string          `xml:"xmlns,attr"`
	Owner             s3Owner         `xml:"Owner"`
	Buckets           []s3BucketEntry `xml:"Buckets>Bucket"`
	ContinuationToken string          `xml:"ContinuationToken,omitempty"`
	Prefix            string          `xml:"Prefix,omitempty"`
}

func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// queryInt reads an optional integer query parameter in [lo, hi].
func queryInt(q url.Values, name string, lo, hi int) (int, bool, error) {
	v, ok := q[name]
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < lo || n > hi {
		return 0, false, s3Err(http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("%s must be a number from %d to %d", name, lo, hi))
	}
	return n, true, nil
}

func (s *Server) s3ListBuckets(c *call) (any, error) {
	q := c.r.URL.Query()
	max, hasMax, err := queryInt(q, "max-buckets", 1, 10000)
	if err != nil {
		return nil, err
	}
	prefix, regionFilter := q.Get("prefix"), q.Get("bucket-region")
	var list []*inventory.S3Bucket
	for _, b := range s.w.inv.S3Buckets {
		if b.Status == inventory.Exists && b.AccountID == c.caller.account && strings.HasPrefix(b.Name, prefix) &&
			(regionFilter == "" || b.Region == regionFilter) {
			list = append(list, b)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	if !hasMax {
		max = 10000
	}
	lo, hi, next, perr := s.paginate(c, pageSpec{scope: c.op + "|" + c.caller.account + "|" + prefix + "|" + regionFilter,
		token: q.Get("continuation-token"), max: max, hasMax: true, def: max, top: 10000, maxName: "max-buckets"}, len(list))
	if perr != nil {
		return nil, s3Err(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
	}
	out := s3ListBucketsResult{Xmlns: s3XMLNS, Owner: s3Owner{ID: ownerID(s, c.caller.account)}, ContinuationToken: next, Prefix: prefix}
	for _, b := range list[lo:hi] {
		region := b.Region
		if region == "" {
			region = "us-east-1"
		}
		out.Buckets = append(out.Buckets, s3BucketEntry{Name: b.Name, CreationDate: s3Time(s.w.base.Add(-500 * 24 * time.Hour)),
			BucketRegion: region, BucketArn: "arn:" + s.w.partition + ":s3:::" + b.Name})
	}
	return &s3Answer{xmlBody: out}, nil
}

// ownerID is the canonical user ID of an account (deterministic).
func ownerID(s *Server, account string) string {
	h := hashStrings(s.w.seed, "canonical-id", account)
	var b strings.Builder
	for i := 0; i < 4; i++ {
		b.WriteString(hex64(mix(h, uint64(i))))
	}
	return b.String()
}

func (s *Server) s3GetBucketLocation(c *call) (any, error) {
	b, err := s.ownBucket(c, true)
	if err != nil {
		return nil, err
	}
	lc := b.Region
	if lc == "us-east-1" || lc == "" {
		lc = ""
	}
	return &s3Answer{xmlBody: struct {
		XMLName xml.Name `xml:"LocationConstraint"`
		Xmlns   string   `xml:"xmlns,attr"`
		Value   string   `xml:",chardata"`
	}{Xmlns: s3XMLNS, Value: lc}}, nil
}

type s3Object struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

type s3ListObjectsV2Result struct {
	XMLName               xml.Name   `xml:"ListBucketResult"`
	Xmlns                 string     `xml:"xmlns,attr"`
	Name                  string     `xml:"Name"`
	Prefix                string     `xml:"Prefix"`
	KeyCount              int        `xml:"KeyCount"`
	MaxKeys               int        `xml:"MaxKeys"`
	IsTruncated           bool       `xml:"IsTruncated"`
	Contents              []s3Object `xml:"Contents"`
	ContinuationToken     string     `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string     `xml:"NextContinuationToken,omitempty"`
	StartAfter            string     `xml:"StartAfter,omitempty"`
}

func (s *Server) s3ListObjectsV2(c *call) (any, error) {
	b, err := s.ownBucket(c, false)
	if err != nil {
		return nil, err
	}
	q := c.r.URL.Query()
	max, hasMax, err := queryInt(q, "max-keys", 0, 1<<31-1)
	if err != nil {
		return nil, err
	}
	if !hasMax || max > 1000 {
		max = 1000
	}
	if q.Get("delimiter") != "" {
		return nil, s3Err(http.StatusNotImplemented, "NotImplemented", "fakeaws does not serve delimiter listings")
	}
	prefix, after := q.Get("prefix"), q.Get("start-after")
	var keys []string
	for _, o := range b.Objects {
		if !strings.HasPrefix(o.Key, prefix) || o.Key <= after {
			continue
		}
		if o.Status == inventory.NotChecked {
			// The world does not know whether it exists: a listing that
			// would show it is refused, as the scan that made the world was.
			return nil, s3Err(http.StatusForbidden, "AccessDenied", "Access Denied (the world records this object as not checked)")
		}
		if o.Status == inventory.Exists {
			keys = append(keys, o.Key)
		}
	}
	sort.Strings(keys) // UTF-8 binary order, as S3 lists
	lo := 0
	tok := q.Get("continuation-token")
	scope := c.op + "|" + b.Name + "|" + prefix + "|" + after
	if tok != "" {
		off, ok := s.parseToken(scope, tok)
		if !ok || off > len(keys) {
			return nil, s3Err(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
		}
		lo = off
	}
	hi := min(lo+max, len(keys))
	out := s3ListObjectsV2Result{Xmlns: s3XMLNS, Name: b.Name, Prefix: prefix, MaxKeys: max, KeyCount: hi - lo, ContinuationToken: tok, StartAfter: after}
	if hi < len(keys) {
		out.IsTruncated, out.NextContinuationToken = true, s.pageToken(scope, hi)
	}
	for _, k := range keys[lo:hi] {
		h := hashStrings(s.w.seed, "etag", b.Name, k)
		out.Contents = append(out.Contents, s3Object{Key: k, LastModified: s3Time(s.w.base.Add(-24 * time.Hour)),
			ETag: `"` + hex64(h) + hex64(mix(h, 1)) + `"`, Size: int64(64 + h%4096), StorageClass: "STANDARD"})
	}
	return &s3Answer{xmlBody: out}, nil
}

func (s *Server) s3GetBucketPolicy(c *call) (any, error) {
	b, err := s.ownBucket(c, false)
	if err != nil {
		return nil, err
	}
	switch {
	case b.PolicyStatus == inventory.PolicyNotCollected:
		return nil, s3Err(http.StatusForbidden, "AccessDenied", "Access Denied (the world records this bucket policy as not collected)")
	case b.Policy == "":
		e := s3Err(http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist")
		e.extra = map[string]string{"BucketName": b.Name}
		return nil, e
	}
	return &s3Answer{raw: []byte(b.Policy), contentType: "application/json"}, nil
}

// writeS3 writes a REST-XML answer.
func (s *Server) writeS3(w http.ResponseWriter, c *call, out any) {
	a, ok := out.(*s3Answer)
	if !ok {
		s.writeError(w, c, newErr(http.StatusInternalServerError, c.svc.internal, "fakeaws: no S3 answer"))
		return
	}
	body, ctype := a.raw, a.contentType
	if a.xmlBody != nil {
		var buf bytes.Buffer
		buf.WriteString(xml.Header)
		if err := xml.NewEncoder(&buf).Encode(a.xmlBody); err != nil {
			s.writeError(w, c, newErr(http.StatusInternalServerError, c.svc.internal, "fakeaws: encoding the response: %v", err))
			return
		}
		body, ctype = buf.Bytes(), "application/xml"
	}
	h := w.Header()
	h.Set("X-Amz-Request-Id", c.requestID)
	h.Set("X-Amz-Id-2", hostID(c.requestID))
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func hostID(requestID string) string {
	return strings.ReplaceAll(requestID, "-", "") + "="
}

// writeS3Error writes S3's error document (not wrapped in ErrorResponse).
func (s *Server) writeS3Error(w http.ResponseWriter, c *call, e *apiError) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.WriteString("<Error><Code>")
	_ = xml.EscapeText(&buf, []byte(e.code))
	buf.WriteString("</Code><Message>")
	_ = xml.EscapeText(&buf, []byte(e.msg))
	buf.WriteString("</Message>")
	h := w.Header()
	keys := make([]string, 0, len(e.extra))
	for k := range e.extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(k, "x-amz-") {
			h.Set(k, e.extra[k])
			continue
		}
		fmt.Fprintf(&buf, "<%s>", k)
		_ = xml.EscapeText(&buf, []byte(e.extra[k]))
		fmt.Fprintf(&buf, "</%s>", k)
	}
	fmt.Fprintf(&buf, "<RequestId>%s</RequestId><HostId>%s</HostId></Error>", c.requestID, hostID(c.requestID))
	h.Set("X-Amz-Request-Id", c.requestID)
	h.Set("X-Amz-Id-2", hostID(c.requestID))
	if c.r.Method == http.MethodHead {
		h.Set("Content-Length", "0")
		w.WriteHeader(e.status)
		return
	}
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(e.status)
	_, _ = w.Write(buf.Bytes())
}

// s3Haystack is what replayed world errors and random faults see of an S3
// request: its bucket and key ("bucket/key"), as the scanner names them in
// collection errors ("arn:aws:s3:::bucket/key", "bucket").
func s3Haystack(c *call) []byte {
	bucket, key := s3Target(c.r)
	if key != "" {
		return []byte(bucket + "/" + key)
	}
	if p := c.r.URL.Query().Get("prefix"); p != "" {
		return []byte(bucket + "/" + p)
	}
	return []byte(bucket)
}

// s3Partition is the partition of the request's region (for S3 ARNs).
func (c *call) s3Partition() string {
	switch {
	case strings.HasPrefix(c.region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(c.region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}
