package fakeaws

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// authHeader is a parsed SigV4 Authorization header.
type authHeader struct {
	akid, date, region, service string
	signedHeaders               []string
	signature                   string
}

// parseAuth parses
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex".
func parseAuth(h string) (authHeader, bool) {
	var a authHeader
	rest, ok := strings.CutPrefix(strings.TrimSpace(h), "AWS4-HMAC-SHA256 ")
	if !ok {
		return a, false
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return authHeader{}, false
			}
			a.akid, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	if a.akid == "" || a.signature == "" || len(a.signedHeaders) == 0 {
		return authHeader{}, false
	}
	return a, true
}

// principal is who made a request.
type principal struct {
	account string
	arn     string
	userID  string
	session *session // nil for long-term credentials
}

// session is an AssumeRole session.
type session struct {
	account, roleName, roleARN, roleID, name string
	secret, token                            string
	expires                                  time.Time
}

const userName = "fakeaws-scanner"

// accountOfKey returns the account an access key ID names, or "".
func accountOfKey(akid string) string {
	if len(akid) != 20 || (!strings.HasPrefix(akid, "AKIA") && !strings.HasPrefix(akid, "ASIA")) {
		return ""
	}
	acct := akid[4:16]
	for i := 0; i < len(acct); i++ {
		if acct[i] < '0' || acct[i] > '9' {
			return ""
		}
	}
	return acct
}

const base32Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func encodeBase32(h uint64, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = base32Upper[h&31]
		h >>= 5
	}
	return string(b)
}

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

func derivedSecret(seed int64, parts ...string) string {
	b := make([]byte, 40)
	h := hashStrings(uint64(seed), parts...)
	for i := range b {
		if i%10 == 0 {
			h = mix(h, uint64(i))
		}
		b[i] = secretAlphabet[h&63]
		h >>= 6
	}
	return string(b)
}

func longTermKey(seed int64, account string) string {
	return "AKIA" + account + encodeBase32(hashStrings(uint64(seed), "long-term-key", account), 4)
}

func longTermSecret(seed int64, key string) string {
	return derivedSecret(seed, "long-term-secret", key)
}

// authenticate identifies the caller from the access key, checks the
// session token and expiry, and verifies the signature.
func (s *Server) authenticate(c *call) *apiError {
	akid := c.auth.akid
	acct := accountOfKey(akid)
	if acct == "" {
		return invalidToken(c)
	}
	token := c.r.Header.Get("X-Amz-Security-Token")
	var secret string
	switch {
	case strings.HasPrefix(akid, "AKIA"):
		if akid != longTermKey(s.opts.Seed, acct) || !s.w.knownAccount(acct) || token != "" {
			return invalidToken(c)
		}
		secret = longTermSecret(s.opts.Seed, akid)
		c.caller = &principal{
			account: acct,
			arn:     "arn:" + s.w.partition + ":iam::" + acct + ":user/" + userName,
			userID:  "AIDA" + encodeBase32(hashStrings(uint64(s.opts.Seed), "user-id", acct), 17),
		}
	default:
		s.mu.Lock()
		sess := s.sessions[akid]
		s.mu.Unlock()
		if sess == nil || token != sess.token {
			return invalidToken(c)
		}
		if time.Now().After(sess.expires) {
			if isQuery(c.svc.proto) {
				return newErr(http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
			}
			return clientErr("ExpiredTokenException", "The security token included in the request is expired")
		}
		secret = sess.secret
		c.caller = &principal{
			account: acct,
			arn:     "arn:" + s.w.partition + ":sts::" + acct + ":assumed-role/" + sess.roleName + "/" + sess.name,
			userID:  sess.roleID + ":" + sess.name,
			session: sess,
		}
	}
	if !verifySignature(c.r, c.body, c.auth, s.signingKey(secret, c.auth)) {
		if isQuery(c.svc.proto) {
			return newErr(http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
		}
		return newErr(http.StatusBadRequest, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return nil
}

// verifySignature recomputes the SigV4 signature of a request with the
// derived signing key.
func verifySignature(r *http.Request, body []byte, a authHeader, key []byte) bool {
	amzDate := r.Header.Get("X-Amz-Date")
	if len(amzDate) < 8 || amzDate[:8] != a.date {
		return false
	}
	var canon strings.Builder
	canon.WriteString(r.Method)
	canon.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canon.WriteString(path)
	canon.WriteByte('\n')
	canon.WriteString(strings.ReplaceAll(r.URL.Query().Encode(), "+", "%20"))
	canon.WriteByte('\n')
	headers := append([]string(nil), a.signedHeaders...)
	if !sort.StringsAreSorted(headers) {
		return false
	}
	for _, h := range headers {
		canon.WriteString(h)
		canon.WriteByte(':')
		switch h {
		case "host":
			canon.WriteString(r.Host)
		case "content-length":
			canon.WriteString(strconv.FormatInt(r.ContentLength, 10))
		default:
			vals := r.Header.Values(h)
			for i, v := range vals {
				if i > 0 {
					canon.WriteByte(',')
				}
				canon.WriteString(strings.Join(strings.Fields(v), " "))
			}
		}
		canon.WriteByte('\n')
	}
	canon.WriteByte('\n')
	canon.WriteString(strings.Join(headers, ";"))
	canon.WriteByte('\n')
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	canon.WriteString(payload)

	crHash := sha256.Sum256([]byte(canon.String()))
	scope := a.date + "/" + a.region + "/" + a.service + "/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	return hmac.Equal([]byte(want), []byte(a.signature))
}

// signingKey derives the SigV4 key of a secret and scope, cached per server.
func (s *Server) signingKey(secret string, a authHeader) []byte {
	ck := secret + "/" + a.date + "/" + a.region + "/" + a.service
	if k, ok := s.sigKeys.Load(ck); ok {
		return k.([]byte)
	}
	k := hmacSHA256([]byte("AWS4"+secret), a.date)
	k = hmacSHA256(k, a.region)
	k = hmacSHA256(k, a.service)
	k = hmacSHA256(k, "aws4_request")
	s.sigKeys.Store(ck, k)
	return k
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// ---- hashing helpers: deterministic, seeded ----

// mix is SplitMix64's finalizer over a and b.
func mix(a, b uint64) uint64 {
	z := a ^ (b + 0x9e3779b97f4a7c15 + (a << 6) + (a >> 2))
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// hashStrings hashes strings with FNV-1a and mixes in the seed.
func hashStrings(seed uint64, parts ...string) uint64 {
	h := uint64(14695981039346656037)
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h ^= uint64(p[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	return mix(seed, h)
}

func hashBytes(seed uint64, b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return mix(seed, h)
}

// unit maps a hash to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }
