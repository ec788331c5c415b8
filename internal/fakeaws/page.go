package fakeaws

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// pageToken returns an opaque token for the item at offset, bound to scope
// (operation, caller, region and parameters), so that a token cannot be
// replayed against another listing.
func (s *Server) pageToken(scope string, offset int) string {
	h := hashStrings(uint64(s.opts.Seed), "page", scope, strconv.Itoa(offset))
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("v1.%d.%016x", offset, h)))
}

func (s *Server) parseToken(scope, tok string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return 0, false
	}
	off, err := strconv.Atoi(parts[1])
	if err != nil || off < 0 {
		return 0, false
	}
	if s.pageToken(scope, off) != tok {
		return 0, false
	}
	return off, true
}

// pageSpec is a paginated request: the token, the requested page size (0 =
// absent), the default and the allowed maximum.
type pageSpec struct {
	scope    string
	token    string
	max      int
	hasMax   bool
	def, top int
	maxName  string // parameter name for errors, e.g. maxResults
}

// paginate returns the [lo, hi) window of n items and the next token ("" on
// the last page).
func (s *Server) paginate(c *call, p pageSpec, n int) (lo, hi int, next string, err error) {
	size := p.def
	if p.hasMax {
		if p.max < 1 || p.max > p.top {
			return 0, 0, "", s.rangeErr(c, p.maxName, p.max, p.top)
		}
		size = p.max
	}
	if p.token != "" {
		off, ok := s.parseToken(p.scope, p.token)
		if !ok || off > n {
			return 0, 0, "", s.tokenErr(c)
		}
		lo = off
	}
	hi = lo + size
	if hi >= n {
		return lo, n, "", nil
	}
	return lo, hi, s.pageToken(p.scope, hi), nil
}

func (s *Server) rangeErr(c *call, name string, v, top int) *apiError {
	msg := fmt.Sprintf("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value between 1 and %d", v, name, top)
	e := clientErr(validationCode(c), "%s", msg)
	if c.svc.name == "organizations" {
		e.extra = map[string]string{"Reason": "MAX_VALUE_EXCEEDED"}
		if v < 1 {
			e.extra["Reason"] = "MIN_VALUE_EXCEEDED"
		}
	}
	if c.svc.name == "ecs" {
		e.msg = fmt.Sprintf("%s must be between 1 and %d.", name, top)
	}
	return e
}

func (s *Server) tokenErr(c *call) *apiError {
	switch c.svc.name {
	case "organizations":
		e := clientErr("InvalidInputException", "The provided NextToken is not valid.")
		e.extra = map[string]string{"Reason": "INVALID_NEXT_TOKEN"}
		return e
	case "ecs":
		return clientErr("InvalidParameterException", "Invalid nextToken.")
	case "iam":
		return clientErr("ValidationError", "Invalid Marker.")
	case "secretsmanager":
		return clientErr("InvalidNextTokenException", "The NextToken value is invalid.")
	case "ssm":
		return clientErr("InvalidNextToken", "The specified token is not valid.")
	case "kms":
		return clientErr("InvalidMarkerException", "The Marker is not valid.")
	case "ec2":
		return clientErr("InvalidNextToken", "The token is not valid.")
	}
	return clientErr("ValidationException", "The NextToken is not valid.")
}

// optInt turns an optional JSON integer into (value, present).
func optInt(p *int32) (int, bool) {
	if p == nil {
		return 0, false
	}
	return int(*p), true
}
