package fakeaws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestRawRequests sends malformed requests straight to the handler: each
// gets a protocol-correct error, none panics.
func TestRawRequests(t *testing.T) {
	s, err := New(testWorld(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ak, sk := s.CallerCredentials()
	sign := func(r *http.Request, body, service string) {
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, r, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		target  string
		ctype   string
		path    string
		body    string
		service string // sign for this service; "" = no signature
		status  int
		code    string // X-Amzn-ErrorType, or the XML <Code>
	}{
		{"no signature, JSON", "AmazonEC2ContainerServiceV20141113.ListClusters", "application/x-amz-json-1.1", "/", "{}", "", 400, "MissingAuthenticationTokenException"},
		{"no signature, query", "", "application/x-www-form-urlencoded", "/", "Action=GetCallerIdentity&Version=2011-06-15", "", 403, "MissingAuthenticationToken"},
		{"malformed JSON", "AmazonEC2ContainerServiceV20141113.ListServices", "application/x-amz-json-1.1", "/", `{"cluster": [`, "ecs", 400, "SerializationException"},
		{"wrong JSON types", "AmazonEC2ContainerServiceV20141113.DescribeServices", "application/x-amz-json-1.1", "/", `{"services": "x"}`, "ecs", 400, "SerializationException"},
		{"target of another service", "AmazonSSM.DescribeParameters", "application/x-amz-json-1.1", "/", "{}", "ecs", 400, "UnknownOperationException"},
		{"no target", "", "application/x-amz-json-1.1", "/", "{}", "ecs", 400, "UnknownOperationException"},
		{"service we do not serve", "", "application/x-www-form-urlencoded", "/", "Action=ListQueues", "sqs", 400, "UnknownServiceException"},
		{"query without action", "", "application/x-www-form-urlencoded", "/", "Version=2010-05-08", "iam", 400, "InvalidAction"},
		{"rest path unknown", "", "application/json", "/nope", "{}", "account", 404, "UnknownOperationException"},
		{"huge body", "AmazonEC2ContainerServiceV20141113.ListClusters", "application/x-amz-json-1.1", "/", `{"x":"` + strings.Repeat("a", maxBody) + `"}`, "ecs", 413, "RequestEntityTooLarge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9"+tt.path, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.ctype)
			if tt.target != "" {
				r.Header.Set("X-Amz-Target", tt.target)
			}
			if tt.service != "" {
				sign(r, tt.body, tt.service)
				r.Body = io.NopCloser(strings.NewReader(tt.body))
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, r)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d (%s)", rec.Code, tt.status, rec.Body)
			}
			code := rec.Header().Get("X-Amzn-Errortype")
			if strings.Contains(rec.Header().Get("Content-Type"), "xml") {
				body := rec.Body.String()
				if i, j := strings.Index(body, "<Code>"), strings.Index(body, "</Code>"); i >= 0 && j > i {
					code = body[i+6 : j]
				}
				if !strings.Contains(body, "<ErrorResponse xmlns=") || !strings.Contains(body, "<RequestId>") {
					t.Errorf("not an AWS query error: %s", body)
				}
			} else {
				var m map[string]any
				if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
					t.Errorf("error body is not JSON: %s", rec.Body)
				}
			}
			if code != tt.code {
				t.Errorf("code %q, want %q (%s)", code, tt.code, rec.Body)
			}
		})
	}
}
