package fakeaws

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

func stsOps() map[string]opFunc {
	return map[string]opFunc{
		"AssumeRole":        (*Server).stsAssumeRole,
		"GetCallerIdentity": (*Server).stsGetCallerIdentity,
	}
}

type stsCredentials struct {
	AccessKeyId     string
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

type stsAssumedRoleUser struct {
	AssumedRoleId string
	Arn           string
}

type stsAssumeRoleResult struct {
	Credentials      stsCredentials
	AssumedRoleUser  stsAssumedRoleUser
	PackedPolicySize *int `xml:",omitempty"`
}

type stsGetCallerIdentityResult struct {
	UserId  string
	Account string
	Arn     string
}

var sessionNameRe = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// parseRoleARN splits arn:PARTITION:iam::ACCOUNT:role/[path/]NAME; pathName
// is [path/]NAME.
func parseRoleARN(arn string) (partition, account, pathName string, ok bool) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[2] != "iam" || f[3] != "" {
		return "", "", "", false
	}
	res, ok := strings.CutPrefix(f[5], "role/")
	if !ok || res == "" || strings.HasSuffix(res, "/") {
		return "", "", "", false
	}
	return f[1], f[4], res, true
}

// scanRoleMatches compares a role's [path/]name with the scan role: a scan
// role given with a path must match it exactly, one without a path matches
// the name under any path.
func scanRoleMatches(scanRole, pathName string) bool {
	scanRole = strings.TrimPrefix(scanRole, "/")
	if strings.Contains(scanRole, "/") {
		return pathName == scanRole
	}
	return lastSegment(pathName) == scanRole
}

func (s *Server) stsAssumeRole(c *call) (any, error) {
	roleARN := c.form.Get("RoleArn")
	sessName := c.form.Get("RoleSessionName")
	if roleARN == "" {
		return nil, clientErr("ValidationError", "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	}
	if !sessionNameRe.MatchString(sessName) {
		return nil, clientErr("ValidationError", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64")
	}
	part, acct, pathName, ok := parseRoleARN(roleARN)
	name := lastSegment(pathName)
	if !ok {
		return nil, clientErr("ValidationError", "%s is invalid", roleARN)
	}
	deny := func(why string) error {
		return newErr(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s (%s)", c.caller.arn, roleARN, why)
	}
	if part != s.w.partition {
		return nil, deny("the role is in partition " + part + ", the world is " + s.w.partition)
	}
	target := s.w.accounts[acct]
	if target == nil && !s.w.knownAccount(acct) {
		return nil, deny("account " + acct + " is not in the world")
	}
	if target != nil {
		switch target.a.Status {
		case "SUSPENDED", "PENDING_CLOSURE", "CLOSED":
			return nil, deny("account " + acct + " is " + target.a.Status)
		}
	}
	if !scanRoleMatches(s.opts.ScanRoleName, pathName) {
		return nil, deny("only the role " + s.opts.ScanRoleName + " can be assumed")
	}
	if s.opts.ExternalID != "" && c.form.Get("ExternalId") != s.opts.ExternalID {
		return nil, deny("the external ID does not match")
	}
	ttl := DefaultCredentialTTL
	if v := c.form.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 900 || n > 43200 {
			return nil, clientErr("ValidationError", "1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", v)
		}
		if n > 3600 {
			return nil, clientErr("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}
		ttl = time.Duration(n) * time.Second
	}
	if s.opts.CredentialTTL > 0 {
		ttl = s.opts.CredentialTTL
	}
	roleID := ""
	if target != nil {
		if r := target.roleByName[name]; r != nil && r.RoleID != "" {
			roleID = r.RoleID
		}
	}
	if roleID == "" {
		roleID = "AROA" + encodeBase32(hashStrings(s.w.seed, "role-id", acct, name), 17)
	}
	now := time.Now().UTC()
	s.mu.Lock()
	s.sessionSeq++
	seq := s.sessionSeq
	akid := "ASIA" + acct + encodeBase32((seq^hashStrings(s.w.seed, "session-mask"))&0xfffff, 4)
	sess := &session{
		account:  acct,
		roleName: name,
		roleARN:  roleARN,
		roleID:   roleID,
		name:     sessName,
		secret:   derivedSecret(int64(s.w.seed), "session-secret", akid, strconv.FormatUint(seq, 10)),
		token:    sessionToken(s.w.seed, akid, seq),
		expires:  now.Add(ttl),
	}
	if len(s.sessions) >= 100000 {
		for k, old := range s.sessions {
			if now.After(old.expires) {
				delete(s.sessions, k)
			}
		}
	}
	s.sessions[akid] = sess
	s.mu.Unlock()
	return stsAssumeRoleResult{
		Credentials: stsCredentials{
			AccessKeyId:     akid,
			SecretAccessKey: sess.secret,
			SessionToken:    sess.token,
			Expiration:      sess.expires.Truncate(time.Second).Format(time.RFC3339),
		},
		AssumedRoleUser: stsAssumedRoleUser{
			AssumedRoleId: roleID + ":" + sessName,
			Arn:           "arn:" + s.w.partition + ":sts::" + acct + ":assumed-role/" + name + "/" + sessName,
		},
	}, nil
}

func sessionToken(seed uint64, akid string, seq uint64) string {
	b := make([]byte, 96)
	h := hashStrings(seed, "session-token", akid, strconv.FormatUint(seq, 10))
	for i := range b {
		if i%8 == 0 {
			h = mix(h, uint64(i))
		}
		b[i] = byte(h >> (8 * (i % 8)))
	}
	return "FwoGZXIvYXdzEFAKE" + base64.StdEncoding.EncodeToString(b)
}

func (s *Server) stsGetCallerIdentity(c *call) (any, error) {
	return stsGetCallerIdentityResult{UserId: c.caller.userID, Account: c.caller.account, Arn: c.caller.arn}, nil
}
