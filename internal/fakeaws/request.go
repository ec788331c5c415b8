package fakeaws

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

type protocol int

const (
	protoJSON    protocol = iota // awsJson1_1
	protoQuery                   // awsQuery, XML responses
	protoREST                    // restJson1
	protoRESTXML                 // restXml (S3)
	protoEC2                     // ec2Query: form requests, EC2's own XML responses and errors
)

// isQuery says whether a protocol sends form-encoded query requests.
func isQuery(p protocol) bool { return p == protoQuery || p == protoEC2 }

// opFunc serves one operation. It returns the response shape (encoded with
// the service's protocol) or an error (an *apiError, anything else is an
// internal error).
type opFunc func(s *Server, c *call) (any, error)

type service struct {
	name     string // SigV4 signing name
	proto    protocol
	target   string // JSON 1.1 X-Amz-Target prefix
	xmlns    string // query protocol namespace
	version  string // query protocol API version
	global   bool
	msgKeys  []string // JSON error body message keys
	denied   string   // access denied code
	throttle string   // throttling code
	internal string   // internal error code (HTTP 500)
	ops      map[string]opFunc
	paths    map[string]string // REST: path -> operation
	// route, when set, resolves a REST request (method and path) to an
	// operation and its path parameters.
	route func(r *http.Request) (op string, params map[string]string)
}

var services map[string]*service

func init() {
	services = map[string]*service{
		"ecs": {
			name: "ecs", proto: protoJSON, target: "AmazonEC2ContainerServiceV20141113",
			msgKeys: []string{"message"}, denied: "AccessDeniedException", throttle: "ThrottlingException", internal: "ServerException",
			ops: ecsOps(),
		},
		"organizations": {
			name: "organizations", proto: protoJSON, target: "AWSOrganizationsV20161128", global: true,
			msgKeys: []string{"Message"}, denied: "AccessDeniedException", throttle: "TooManyRequestsException", internal: "ServiceException",
			ops: orgOps(),
		},
		"secretsmanager": {
			name: "secretsmanager", proto: protoJSON, target: "secretsmanager",
			msgKeys: []string{"Message"}, denied: "AccessDeniedException", throttle: "ThrottlingException", internal: "InternalServiceError",
			ops: secretsOps(),
		},
		"ssm": {
			name: "ssm", proto: protoJSON, target: "AmazonSSM",
			msgKeys: []string{"Message", "message"}, denied: "AccessDeniedException", throttle: "ThrottlingException", internal: "InternalServerError",
			ops: ssmOps(),
		},
		"kms": {
			name: "kms", proto: protoJSON, target: "TrentService",
			msgKeys: []string{"message"}, denied: "AccessDeniedException", throttle: "ThrottlingException", internal: "KMSInternalException",
			ops: kmsOps(),
		},
		"ecr": {
			name: "ecr", proto: protoJSON, target: "AmazonEC2ContainerRegistry_V20150921",
			msgKeys: []string{"message"}, denied: "AccessDeniedException", throttle: "ThrottlingException", internal: "ServerException",
			ops: ecrOps(),
		},
		"logs": {
			name: "logs", proto: protoJSON, target: "Logs_20140328",
			msgKeys: []string{"message"}, denied: "AccessDeniedException", throttle: "ThrottlingException", internal: "ServiceUnavailableException",
			ops: logsOps(),
		},
		"s3": {
			name: "s3", proto: protoRESTXML,
			denied: "AccessDenied", throttle: "SlowDown", internal: "InternalError",
			ops: s3Ops(),
		},
		"iam": {
			name: "iam", proto: protoQuery, xmlns: "https://iam.amazonaws.com/doc/2010-05-08/", version: "2010-05-08", global: true,
			denied: "AccessDenied", throttle: "Throttling", internal: "ServiceFailure",
			ops: iamOps(),
		},
		"sts": {
			name: "sts", proto: protoQuery, xmlns: "https://sts.amazonaws.com/doc/2011-06-15/", version: "2011-06-15", global: true,
			denied: "AccessDenied", throttle: "Throttling", internal: "InternalFailure",
			ops: stsOps(),
		},
		"account": {
			name: "account", proto: protoREST, global: true,
			msgKeys: []string{"message"}, denied: "AccessDeniedException", throttle: "TooManyRequestsException", internal: "InternalServerException",
			ops:   accountOps(),
			paths: map[string]string{"/listRegions": "ListRegions", "/getRegionOptStatus": "GetRegionOptStatus", "/getAccountInformation": "GetAccountInformation", "/getContactInformation": "GetContactInformation", "/getAlternateContact": "GetAlternateContact", "/getPrimaryEmail": "GetPrimaryEmail", "/enableRegion": "EnableRegion", "/disableRegion": "DisableRegion", "/putAccountName": "PutAccountName", "/putAlternateContact": "PutAlternateContact", "/deleteAlternateContact": "DeleteAlternateContact", "/putContactInformation": "PutContactInformation", "/acceptPrimaryEmailUpdate": "AcceptPrimaryEmailUpdate", "/startPrimaryEmailUpdate": "StartPrimaryEmailUpdate"},
		},
	}
	// Launch paths and the network path (events.go, scheduler.go, ec2.go).
	services["events"] = &service{
		name: "events", proto: protoJSON, target: "AWSEvents",
		msgKeys: []string{"message"}, denied: "AccessDeniedException", throttle: "ThrottlingException", internal: "InternalException",
		ops: eventsOps(),
	}
	services["scheduler"] = &service{
		name: "scheduler", proto: protoREST,
		msgKeys: []string{"Message"}, denied: "AccessDeniedException", throttle: "ThrottlingException", internal: "InternalServerException",
		ops: schedulerOps(), route: schedulerRoute,
	}
	services["ec2"] = &service{
		name: "ec2", proto: protoEC2, xmlns: "http://ec2.amazonaws.com/doc/2016-11-15/", version: "2016-11-15",
		denied: "UnauthorizedOperation", throttle: "RequestLimitExceeded", internal: "InternalError",
		ops: ec2Ops(),
	}
}

func serviceByName(name string) *service { return services[name] }

// secretValueReads are read-named operations that return secret values or
// mint credentials. They are refused and recorded like mutating calls.
var secretValueReads = map[string]bool{
	"ssm:GetParameter":                   true,
	"ssm:GetParameters":                  true,
	"ssm:GetParametersByPath":            true,
	"ssm:GetParameterHistory":            true,
	"secretsmanager:GetSecretValue":      true,
	"secretsmanager:BatchGetSecretValue": true,
	"secretsmanager:GetRandomPassword":   true,
	"kms:GetParametersForImport":         true,
	"sts:GetSessionToken":                true,
	"sts:GetFederationToken":             true,
	"sts:GetWebIdentityToken":            true,
	"sts:GetDelegatedAccessToken":        true,
	// The content behind an existence check: never read.
	"s3:GetObject":               true,
	"s3:GetObjectAttributes":     true,
	"s3:GetObjectTorrent":        true,
	"ecr:BatchGetImage":          true,
	"ecr:GetDownloadUrlForLayer": true,
	"logs:GetLogEvents":          true,
}

// isRead says whether an operation may be served: List*, Describe*, Get*
// and BatchGet* operations, plus sts:AssumeRole and sts:GetCallerIdentity,
// but not the reads of secret values.
func isRead(svc, op string) bool {
	if svc == "sts" && (op == "AssumeRole" || op == "GetCallerIdentity") {
		return true
	}
	if secretValueReads[svc+":"+op] {
		return false
	}
	for _, p := range []string{"List", "Describe", "Get", "BatchGet"} {
		if strings.HasPrefix(op, p) && len(op) > len(p) && op[len(p)] >= 'A' && op[len(p)] <= 'Z' {
			return true
		}
	}
	return false
}

// call is one request being served.
type call struct {
	r         *http.Request
	ctx       context.Context
	svc       *service
	op        string
	region    string
	auth      authHeader
	body      []byte
	form      url.Values
	params    map[string]string // REST path parameters
	requestID string

	caller *principal
	acct   *acctIndex   // the caller's account; nil when it is not in the world
	reg    *regionIndex // regional services: the caller's account in region; nil = empty
}

// apiError is an error answered to the client.
type apiError struct {
	status int
	code   string
	msg    string
	extra  map[string]string // extra JSON members (e.g. Reason)
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func newErr(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// clientErr is a 400 (JSON, query) error.
func clientErr(code, format string, args ...any) *apiError {
	return newErr(http.StatusBadRequest, code, format, args...)
}

const maxBody = 1 << 20

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	c := &call{r: r, ctx: r.Context(), body: body}
	c.requestID = s.nextRequestID()
	c.auth, _ = parseAuth(r.Header.Get("Authorization"))
	c.svc = services[c.auth.service]
	if c.svc == nil {
		c.svc = guessService(r)
	}
	c.region = c.auth.region
	c.op = c.operation()
	opKey := c.svc.name + ":" + c.op
	if c.op == "" {
		opKey = c.svc.name + ":?"
	}
	callerAcct := accountOfKey(c.auth.akid)
	s.count(opKey, callerAcct)

	if err != nil {
		s.writeError(w, c, newErr(http.StatusBadRequest, "SerializationException", "cannot read the request body: %v", err))
		return
	}
	if len(body) > maxBody {
		s.writeError(w, c, newErr(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "the request body is larger than %d bytes", maxBody))
		return
	}
	if s.opts.Latency > 0 && !s.sleep(c.ctx, s.opts.Latency) {
		s.abortIfClosing()
		return
	}
	if c.auth.akid == "" {
		s.writeError(w, c, s.missingAuth(c))
		return
	}
	if services[c.auth.service] == nil {
		s.writeError(w, c, newErr(http.StatusBadRequest, "UnknownServiceException", "fakeaws does not serve the service %q named in the credential scope", c.auth.service))
		return
	}
	if c.op == "" {
		s.writeError(w, c, s.unknownOperation(c))
		return
	}
	refused := !isRead(c.svc.name, c.op)
	if refused {
		s.recordMutating(opKey)
	}
	if aerr := s.authenticate(c); aerr != nil {
		s.writeError(w, c, aerr)
		return
	}
	if refused {
		s.writeError(w, c, s.deniedErr(c, fmt.Sprintf("User: %s is not authorized to perform: %s (fakeaws serves read-only calls and never returns secret values)", c.caller.arn, opKey)))
		return
	}
	fn := c.svc.ops[c.op]
	if fn == nil {
		s.writeError(w, c, s.unknownOperation(c))
		return
	}
	if isQuery(c.svc.proto) {
		c.form, _ = url.ParseQuery(string(body))
	}
	c.acct = s.w.accounts[c.caller.account]
	if !c.svc.global {
		if aerr := s.resolveRegion(c); aerr != nil {
			s.writeError(w, c, aerr)
			return
		}
	}
	if aerr, hang := s.injectFaults(c); hang {
		s.abortIfClosing()
		return
	} else if aerr != nil {
		s.writeError(w, c, aerr)
		return
	}
	out, err := fn(s, c)
	if err != nil {
		aerr, ok := err.(*apiError)
		if !ok {
			aerr = newErr(http.StatusInternalServerError, c.svc.internal, "fakeaws internal error: %v", err)
		}
		s.writeError(w, c, aerr)
		return
	}
	s.writeResult(w, c, out)
}

// operation finds the operation name in the request.
func (c *call) operation() string {
	switch c.svc.proto {
	case protoJSON:
		t := c.r.Header.Get("X-Amz-Target")
		prefix, op, ok := strings.Cut(t, ".")
		if !ok || (c.svc.target != "" && prefix != c.svc.target) {
			return ""
		}
		return op
	case protoQuery, protoEC2:
		if strings.HasPrefix(c.r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			if v, err := url.ParseQuery(string(c.body)); err == nil && v.Get("Action") != "" {
				return v.Get("Action")
			}
		}
		return c.r.URL.Query().Get("Action")
	case protoREST:
		if c.svc.route != nil {
			op, params := c.svc.route(c.r)
			c.params = params
			return op
		}
		if op, ok := c.svc.paths[c.r.URL.Path]; ok && c.r.Method == http.MethodPost {
			return op
		}
	case protoRESTXML:
		return s3Operation(c)
	}
	return ""
}

// guessService picks a service for requests whose credential scope names
// none, so that the error is at least in a protocol the client can read.
func guessService(r *http.Request) *service {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		prefix, _, _ := strings.Cut(t, ".")
		for _, s := range services {
			if s.proto == protoJSON && s.target == prefix {
				return s
			}
		}
		return &service{name: "unknown", proto: protoJSON, msgKeys: []string{"message"}, denied: "AccessDeniedException", throttle: "ThrottlingException", internal: "InternalFailure"}
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return &service{name: "unknown", proto: protoQuery, denied: "AccessDenied", throttle: "Throttling", internal: "InternalFailure"}
	}
	return &service{name: "unknown", proto: protoREST, msgKeys: []string{"message"}, denied: "AccessDeniedException", throttle: "TooManyRequestsException", internal: "InternalServerException"}
}

func (s *Server) missingAuth(c *call) *apiError {
	if isQuery(c.svc.proto) {
		return newErr(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	return newErr(http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token")
}

func (s *Server) unknownOperation(c *call) *apiError {
	switch c.svc.proto {
	case protoQuery, protoEC2:
		return clientErr("InvalidAction", "Could not find operation %s for version %s", c.op, c.svc.version)
	case protoREST:
		return newErr(http.StatusNotFound, "UnknownOperationException", "fakeaws does not serve %s %s", c.r.Method, c.r.URL.Path)
	case protoRESTXML:
		return newErr(http.StatusNotImplemented, "NotImplemented", "fakeaws does not serve s3:%s", c.op)
	}
	return clientErr("UnknownOperationException", "fakeaws does not serve %s:%s", c.svc.name, c.op)
}

func (s *Server) deniedErr(c *call, msg string) *apiError {
	status := http.StatusBadRequest
	if c.svc.proto != protoJSON {
		status = http.StatusForbidden
	}
	return &apiError{status: status, code: c.svc.denied, msg: msg}
}

func (s *Server) throttleErr(c *call, msg string) *apiError {
	status := http.StatusBadRequest
	switch c.svc.proto {
	case protoREST:
		status = http.StatusTooManyRequests
	case protoRESTXML, protoEC2:
		status = http.StatusServiceUnavailable
	}
	return &apiError{status: status, code: c.svc.throttle, msg: msg}
}

// invalidToken is the answer to an unknown access key, a wrong session token
// and a call into a region the account has not enabled.
func invalidToken(c *call) *apiError {
	const msg = "The security token included in the request is invalid."
	switch c.svc.proto {
	case protoEC2:
		return newErr(http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials")
	case protoQuery:
		return newErr(http.StatusForbidden, "InvalidClientTokenId", msg)
	case protoREST:
		return newErr(http.StatusForbidden, "UnrecognizedClientException", msg)
	case protoRESTXML:
		return newErr(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	}
	return clientErr("UnrecognizedClientException", msg)
}

// resolveRegion finds the caller's region and refuses regions the account
// has not enabled.
func (s *Server) resolveRegion(c *call) *apiError {
	if !validRegionName(c.region) {
		return invalidToken(c)
	}
	if c.acct == nil {
		return nil
	}
	c.reg = c.acct.regions[c.region]
	if c.reg != nil && c.reg.r.Status == regionNotEnabled {
		return invalidToken(c)
	}
	return nil
}

// validRegionName accepts names like us-east-1, us-gov-west-1, eu-central-2.
func validRegionName(r string) bool {
	parts := strings.Split(r, "-")
	if len(parts) < 3 || len(r) > 32 {
		return false
	}
	for _, p := range parts[:len(parts)-1] {
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < 'a' || p[i] > 'z' {
				return false
			}
		}
	}
	n, err := strconv.Atoi(parts[len(parts)-1])
	return err == nil && n >= 0 && n < 100
}

// ---- responses ----

func (s *Server) writeResult(w http.ResponseWriter, c *call, out any) {
	if c.svc.proto == protoRESTXML {
		s.writeS3(w, c, out)
		return
	}
	h := w.Header()
	h.Set("X-Amzn-Requestid", c.requestID)
	switch c.svc.proto {
	case protoEC2:
		// EC2: the result's members directly under <OpResponse>, after
		// <requestId>; no Result element, no ResponseMetadata.
		var buf bytes.Buffer
		buf.WriteString(xml.Header)
		fmt.Fprintf(&buf, `<%sResponse xmlns="%s"><requestId>%s</requestId>`, c.op, c.svc.xmlns, c.requestID)
		if out != nil {
			if err := encodeEC2Members(&buf, out); err != nil {
				s.writeError(w, c, newErr(http.StatusInternalServerError, c.svc.internal, "fakeaws: encoding the response: %v", err))
				return
			}
		}
		fmt.Fprintf(&buf, `</%sResponse>`, c.op)
		h.Set("Content-Type", "text/xml;charset=UTF-8")
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
	case protoQuery:
		var buf bytes.Buffer
		buf.WriteString(xml.Header)
		fmt.Fprintf(&buf, `<%sResponse xmlns="%s">`, c.op, c.svc.xmlns)
		enc := xml.NewEncoder(&buf)
		if out != nil {
			if err := enc.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: c.op + "Result"}}); err != nil {
				s.writeError(w, c, newErr(http.StatusInternalServerError, c.svc.internal, "fakeaws: encoding the response: %v", err))
				return
			}
		}
		if err := enc.Flush(); err != nil {
			return
		}
		fmt.Fprintf(&buf, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, c.requestID, c.op)
		h.Set("Content-Type", "text/xml")
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
	default:
		if out == nil {
			out = struct{}{}
		}
		b, err := json.Marshal(out)
		if err != nil {
			s.writeError(w, c, newErr(http.StatusInternalServerError, c.svc.internal, "fakeaws: encoding the response: %v", err))
			return
		}
		if c.svc.proto == protoJSON {
			h.Set("Content-Type", "application/x-amz-json-1.1")
		} else {
			h.Set("Content-Type", "application/json")
		}
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	}
}

func (s *Server) writeError(w http.ResponseWriter, c *call, e *apiError) {
	if e.code == c.svc.throttle || isThrottleCode(e.code) {
		s.countThrottle()
	}
	if c.svc.proto == protoRESTXML {
		s.writeS3Error(w, c, e)
		return
	}
	h := w.Header()
	h.Set("X-Amzn-Requestid", c.requestID)
	switch c.svc.proto {
	case protoEC2:
		var buf bytes.Buffer
		buf.WriteString(xml.Header)
		buf.WriteString(`<Response><Errors><Error><Code>`)
		_ = xml.EscapeText(&buf, []byte(e.code))
		buf.WriteString(`</Code><Message>`)
		_ = xml.EscapeText(&buf, []byte(e.msg))
		fmt.Fprintf(&buf, `</Message></Error></Errors><RequestID>%s</RequestID></Response>`, c.requestID)
		h.Set("Content-Type", "text/xml;charset=UTF-8")
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		w.WriteHeader(e.status)
		_, _ = w.Write(buf.Bytes())
	case protoQuery:
		typ := "Sender"
		if e.status >= 500 {
			typ = "Receiver"
		}
		var buf bytes.Buffer
		buf.WriteString(xml.Header)
		fmt.Fprintf(&buf, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>`, c.svc.xmlns, typ)
		_ = xml.EscapeText(&buf, []byte(e.code))
		buf.WriteString(`</Code><Message>`)
		_ = xml.EscapeText(&buf, []byte(e.msg))
		fmt.Fprintf(&buf, `</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, c.requestID)
		h.Set("Content-Type", "text/xml")
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		w.WriteHeader(e.status)
		_, _ = w.Write(buf.Bytes())
	default:
		body := map[string]string{}
		for k, v := range e.extra {
			body[k] = v
		}
		if c.svc.proto == protoJSON {
			body["__type"] = e.code
		}
		keys := c.svc.msgKeys
		if len(keys) == 0 {
			keys = []string{"message"}
		}
		for _, k := range keys {
			body[k] = e.msg
		}
		b, _ := json.Marshal(body)
		h.Set("X-Amzn-Errortype", e.code)
		if c.svc.proto == protoJSON {
			h.Set("Content-Type", "application/x-amz-json-1.1")
		} else {
			h.Set("Content-Type", "application/json")
		}
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(e.status)
		_, _ = w.Write(b)
	}
}

// isThrottleCode lists the codes the SDK's standard retryer treats as throttles.
func isThrottleCode(code string) bool {
	switch code {
	case "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
		"TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
		"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
		"SlowDown", "PriorRequestNotComplete", "EC2ThrottledException":
		return true
	}
	return false
}

// ---- request decoding ----

// decodeJSON decodes a JSON request body into v.
func (c *call) decodeJSON(v any) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		code := "SerializationException"
		if c.svc.proto == protoREST {
			code = "ValidationException"
		}
		return clientErr(code, "cannot parse the request body: %v", err)
	}
	return nil
}

// formList reads a query-protocol list (Name.member.1, Name.member.2, ...).
func (c *call) formList(name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := c.form[name+".member."+strconv.Itoa(i)]
		if !ok {
			break
		}
		out = append(out, v...)
	}
	return out
}

// formInt reads an optional integer form field.
func (c *call) formInt(name string) (int, bool, error) {
	v := c.form.Get(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, false, clientErr(validationCode(c), "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a number", v, lowerFirst(name))
	}
	return n, true, nil
}

func validationCode(c *call) string {
	switch c.svc.name {
	case "iam", "sts":
		return "ValidationError"
	case "organizations":
		return "InvalidInputException"
	case "ecs":
		return "InvalidParameterException"
	case "kms":
		return "ValidationException"
	case "secretsmanager":
		return "InvalidParameterException"
	case "ec2":
		return "InvalidParameterValue"
	}
	return "ValidationException"
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
