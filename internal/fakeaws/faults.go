package fakeaws

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ecs-audit/audit/inventory"
)

// ecsBucket is one of ECS's documented read token buckets (per account and
// region; ecs-facts §6.2).
type ecsBucket struct {
	name  string
	burst float64
	rate  float64 // tokens per second
}

var (
	clusterRead         = ecsBucket{"cluster-read", 50, 20}
	taskDefinitionRead  = ecsBucket{"task-definition-read", 50, 20}
	serviceRead         = ecsBucket{"service-read", 100, 20}
	clusterResourceRead = ecsBucket{"cluster-resource-read", 100, 20}
	tagRead             = ecsBucket{"tag-read", 50, 20}
	capacityRead        = ecsBucket{"capacity-provider-read", 50, 20}
	settingRead         = ecsBucket{"setting-read", 50, 20}
)

var ecsBuckets = map[string]ecsBucket{
	"DescribeClusters":           clusterRead,
	"ListClusters":               clusterRead,
	"DescribeTaskDefinition":     taskDefinitionRead,
	"ListTaskDefinitions":        taskDefinitionRead,
	"ListTaskDefinitionFamilies": taskDefinitionRead,
	"DescribeServices":           serviceRead,
	"ListServices":               serviceRead,
	"DescribeContainerInstances": clusterResourceRead,
	"DescribeTasks":              clusterResourceRead,
	"ListAttributes":             clusterResourceRead,
	"ListContainerInstances":     clusterResourceRead,
	"ListTasks":                  clusterResourceRead,
	"ListTagsForResource":        tagRead,
	"DescribeCapacityProviders":  capacityRead,
	"ListAccountSettings":        settingRead,
}

type bucketKey struct{ account, region, bucket string }

type bucket struct {
	tokens float64
	last   time.Time
}

// take removes a token from the bucket of an ECS call; false means throttled.
func (s *Server) take(account, region string, b ecsBucket, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := bucketKey{account, region, b.name}
	bk := s.buckets[k]
	if bk == nil {
		bk = &bucket{tokens: b.burst, last: now}
		s.buckets[k] = bk
	}
	if el := now.Sub(bk.last).Seconds(); el > 0 {
		bk.tokens += el * b.rate
		if bk.tokens > b.burst {
			bk.tokens = b.burst
		}
		bk.last = now
	}
	if bk.tokens < 1 {
		return false
	}
	bk.tokens--
	return true
}

// replay is a collection error of the world, answered again.
type replay struct {
	account, region, service, op, resource, code, msg string
}

func buildReplays(errs []inventory.CollectionError) []replay {
	var out []replay
	for _, e := range errs {
		code := strings.TrimSpace(e.Code)
		if code == "" {
			code = "UnknownError"
		}
		msg := e.Message
		if msg == "" {
			msg = "replayed collection error from the world"
		}
		out = append(out, replay{
			account:  e.AccountID,
			region:   e.Region,
			service:  strings.ToLower(e.Service),
			op:       e.Operation,
			resource: e.Resource,
			code:     code,
			msg:      msg,
		})
	}
	return out
}

func (rp *replay) matches(c *call) bool {
	if rp.service != c.svc.name || !strings.EqualFold(rp.op, c.op) {
		return false
	}
	if rp.region != "" && !c.svc.global && rp.region != c.region {
		return false
	}
	if rp.account != "" && rp.account != c.caller.account && !bytes.Contains(c.body, []byte(rp.account)) {
		return false
	}
	if rp.resource != "" && c.svc.proto == protoRESTXML {
		// S3: the request names its bucket and key in the URL.
		res := strings.TrimPrefix(rp.resource, "arn:"+c.s3Partition()+":s3:::")
		if string(s3Haystack(c)) != res {
			return false
		}
	} else if rp.resource != "" {
		res := []byte(rp.resource)
		if !bytes.Contains(c.body, res) && !bytes.Contains(c.body, []byte(url.QueryEscape(rp.resource))) &&
			!bytes.Contains(c.body, []byte(`"`+lastSegment(rp.resource)+`"`)) {
			return false
		}
	}
	return true
}

// replayError turns a recorded code into an answer with a plausible status.
func replayError(c *call, rp *replay) *apiError {
	code, status := rp.code, http.StatusBadRequest
	lc := strings.ToLower(code)
	switch {
	case strings.Contains(lc, "accessdenied"), strings.Contains(lc, "unauthorized"), strings.Contains(lc, "forbidden"),
		code == "InvalidClientTokenId", code == "UnrecognizedClientException":
		if c.svc.proto != protoJSON {
			status = http.StatusForbidden
		}
	case isThrottleCode(code):
		if c.svc.proto == protoREST {
			status = http.StatusTooManyRequests
		}
	case strings.Contains(lc, "timeout"), strings.Contains(lc, "deadline"):
		status = http.StatusGatewayTimeout
	case strings.Contains(lc, "unavailable"):
		status = http.StatusServiceUnavailable
	case strings.Contains(lc, "internal"), strings.Contains(lc, "serverexception"), strings.Contains(lc, "serviceexception"),
		strings.Contains(lc, "servicefailure"):
		status = http.StatusInternalServerError
	case strings.Contains(lc, "notfound"), strings.HasPrefix(code, "NoSuch"):
		if c.svc.proto != protoJSON {
			status = http.StatusNotFound
		}
	}
	return &apiError{status: status, code: code, msg: rp.msg}
}

// subjectAccount is the account a call is about when it is not the
// caller's: the target of sts:AssumeRole, the AccountId of Account
// Management calls. It is "" otherwise.
func (c *call) subjectAccount() string {
	switch {
	case c.svc.name == "sts" && c.op == "AssumeRole":
		if _, acct, _, ok := parseRoleARN(c.form.Get("RoleArn")); ok {
			return acct
		}
	case c.svc.name == "account":
		var in struct{ AccountId string }
		if json.Unmarshal(c.body, &in) == nil {
			return in.AccountId
		}
	}
	return ""
}

func (f *Fault) matches(c *call) bool {
	if f.Account != "" && f.Account != c.caller.account && f.Account != c.subjectAccount() {
		return false
	}
	if f.Region != "" && (c.svc.global || f.Region != c.region) {
		return false
	}
	if f.Service != "" && f.Service != c.svc.name {
		return false
	}
	if f.Operation != "" && f.Operation != c.op && f.Operation != c.svc.name+":"+c.op {
		return false
	}
	return true
}

// injectFaults applies targeted faults, replayed world errors, random
// faults and ECS throttling, in that order. hang says the request must not
// be answered.
func (s *Server) injectFaults(c *call) (aerr *apiError, hang bool) {
	for i := range s.faults {
		f := &s.faults[i]
		if !f.matches(c) {
			continue
		}
		s.mu.Lock()
		if f.Times > 0 && s.faultHits[i] >= f.Times {
			s.mu.Unlock()
			continue
		}
		s.faultHits[i]++
		s.mu.Unlock()
		switch f.Code {
		case FaultAccessDenied:
			return s.deniedErr(c, "User: "+c.caller.arn+" is not authorized to perform: "+c.svc.name+":"+c.op+" (fakeaws fault)"), false
		case FaultThrottling:
			return s.throttleErr(c, "Rate exceeded"), false
		case FaultInternalError:
			return newErr(http.StatusInternalServerError, c.svc.internal, "fakeaws fault: internal error"), false
		case FaultTimeout:
			if f.Delay > 0 {
				if !s.sleep(c.ctx, f.Delay) {
					return nil, true
				}
				return nil, false
			}
			select {
			case <-c.ctx.Done():
			case <-s.closing:
			}
			return nil, true
		}
	}
	for i := range s.replays {
		if s.replays[i].matches(c) {
			return replayError(c, &s.replays[i]), false
		}
	}
	if s.opts.ThrottleRate > 0 || s.opts.ServerErrorRate > 0 {
		body := c.body
		if c.svc.proto == protoRESTXML {
			body = s3Haystack(c) // an S3 request says what it is about in its URL
		}
		key := hashBytes(hashStrings(uint64(s.opts.Seed), c.svc.name, c.op, c.caller.account, c.region), body)
		s.mu.Lock()
		attempt := s.seen[key]
		s.seen[key]++
		s.mu.Unlock()
		roll := mix(key, uint64(attempt)+1)
		switch u := unit(roll); {
		case u < s.opts.ServerErrorRate:
			if roll&1 == 0 {
				return newErr(http.StatusInternalServerError, "InternalFailure", "fakeaws: random internal failure"), false
			}
			return newErr(http.StatusServiceUnavailable, "ServiceUnavailable", "fakeaws: service unavailable"), false
		case u < s.opts.ServerErrorRate+s.opts.ThrottleRate:
			return s.throttleErr(c, "Rate exceeded"), false
		}
	}
	if s.opts.ThrottleECS && c.svc.name == "ecs" {
		if b, ok := ecsBuckets[c.op]; ok && !s.take(c.caller.account, c.region, b, time.Now()) {
			return s.throttleErr(c, "Rate exceeded"), false
		}
	}
	return nil, false
}
