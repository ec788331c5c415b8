package scanner

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// opCounter is an aws.HTTPClient that counts the operations sent over the
// wire, as "service:Operation" (service from the signing scope).
type opCounter struct {
	next aws.HTTPClient
	mu   sync.Mutex
	n    map[string]int
}

func newOpCounter(next aws.HTTPClient) *opCounter {
	return &opCounter{next: next, n: map[string]int{}}
}

var scopeRe = regexp.MustCompile(`Credential=[^/]+/[0-9]+/[^/]+/([^/]+)/aws4_request`)

func (c *opCounter) Do(req *http.Request) (*http.Response, error) {
	svc := "?"
	if m := scopeRe.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
		svc = m[1]
	}
	op := ""
	if svc == "s3" {
		op = s3WireOp(req)
	} else if t := req.Header.Get("X-Amz-Target"); t != "" {
		op = t[strings.LastIndex(t, ".")+1:]
	} else if p := req.URL.Path; p != "" && p != "/" {
		op = "rest:" + p
		if req.Method == http.MethodGet {
			// REST reads (Scheduler) are named by method and path.
			op = "rest:GET " + p
		}
	} else if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		if v, err := url.ParseQuery(string(body)); err == nil {
			op = v.Get("Action")
		}
	}
	c.mu.Lock()
	c.n[svc+":"+op]++
	c.mu.Unlock()
	return c.next.Do(req)
}

func (c *opCounter) count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

func (c *opCounter) keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ks []string
	for k := range c.n {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// readOnlyOperation says whether a wire operation is one a read-only
// scanner may send.
func readOnlyOperation(op string) bool {
	for _, p := range []string{"List", "Describe", "Get", "BatchGet", "rest:/list", "rest:/get", "rest:GET "} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return op == "AssumeRole"
}
