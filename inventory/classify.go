package inventory

import (
	"math"
	"regexp"
	"strings"
)

// Value classes returned by ClassifyValue. The class, never the value, is
// what the inventory keeps of an environment variable.
const (
	ValueAWSAccessKey   = "aws-access-key-id"
	ValueAWSSecretKey   = "aws-secret-access-key"
	ValuePrivateKey     = "private-key"
	ValueGitHubToken    = "github-token"
	ValueSlackToken     = "slack-token"
	ValueStripeKey      = "stripe-key"
	ValueGoogleAPIKey   = "google-api-key"
	ValueJWT            = "jwt"
	ValueURLCredentials = "url-with-password"
	ValueHighEntropy    = "high-entropy"
)

var valuePatterns = []struct {
	class string
	re    *regexp.Regexp
}{
	{ValueAWSAccessKey, regexp.MustCompile(`\b(AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}\b`)},
	{ValuePrivateKey, regexp.MustCompile(`-----BEGIN ([A-Z ]+ )?PRIVATE KEY-----`)},
	{ValueGitHubToken, regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b`)},
	{ValueSlackToken, regexp.MustCompile(`\bxox[baprs]-[A-Za-z0-9-]{10,}`)},
	{ValueStripeKey, regexp.MustCompile(`\b(sk|rk)_live_[A-Za-z0-9]{20,}\b`)},
	{ValueGoogleAPIKey, regexp.MustCompile(`\bAIza[0-9A-Za-z_\-]{35}\b`)},
	{ValueJWT, regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)},
	{ValueURLCredentials, regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`)},
}

var awsSecretKeyRe = regexp.MustCompile(`^[A-Za-z0-9/+]{40}$`)

// ClassifyValue says whether an environment value looks like a credential
// and which kind. It returns "" for values that look harmless. ARNs and
// references are never classified as secrets.
func ClassifyValue(v string) string {
	v = strings.TrimSpace(v)
	if v == "" || strings.HasPrefix(v, "arn:") {
		return ""
	}
	for _, p := range valuePatterns {
		if p.re.MatchString(v) {
			return p.class
		}
	}
	if awsSecretKeyRe.MatchString(v) && hasMixedClasses(v) {
		return ValueAWSSecretKey
	}
	if len(v) >= 24 && !strings.ContainsAny(v, " \t") && hasMixedClasses(v) && shannon(v) >= 4.2 {
		return ValueHighEntropy
	}
	return ""
}

func hasMixedClasses(s string) bool {
	var lower, upper, digit bool
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		}
	}
	return lower && upper && digit
}

func shannon(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

var secretNameRe = regexp.MustCompile(`(?i)(passw(or)?d|passwd|pwd|secret|token|api[_-]?key|apikey|license[_-]?key|shared[_-]?key|access[_-]?key|private[_-]?key|credential|auth[_-]?key|client[_-]?secret|signing[_-]?key|encryption[_-]?key|conn(ection)?[_-]?str(ing)?|dsn)`)
var referenceNameRe = regexp.MustCompile(`(?i)(_ARN|_NAME|_ID|_PATH|_FILE|_URL|_URI|_ENDPOINT|_REGION|_TTL|_LENGTH|_EXPIRY|_EXPIRES?(_IN)?|_HEADER|_TYPE|_VERSION|_ENABLED|_KEY_ID)$`)

// NameLooksSecret says whether an environment variable name suggests it
// holds a credential (DB_PASSWORD, API_KEY), while names that point at one
// (DB_PASSWORD_ARN, SECRET_NAME, TOKEN_URL) do not.
func NameLooksSecret(name string) bool {
	if !secretNameRe.MatchString(name) {
		return false
	}
	return !referenceNameRe.MatchString(name)
}

// Redacted is what replaces a redacted value.
const Redacted = "[REDACTED]"

var harmlessOptionRe = regexp.MustCompile(`^(awslogs-|mode$|max-buffer-size$|tag$|labels$|env$|env-regex$|splunk-(url|source|sourcetype|index|format|verify-connection|gzip|insecureskipverify|capath|caname)$|fluentd-address$|syslog-(address|facility|format)$|gelf-address$|config-file-(type|value)$|enable-ecs-log-metadata$|Name$|region$|log_group_name$|log_stream_prefix$|log_stream_name$|auto_create_group$|delivery_stream$|stream$|bucket$|total_file_size$|upload_timeout$|retry_limit$|Match$|include-pattern$|exclude-pattern$)`)

// Omitted replaces the value of an option that is not known to be harmless
// and does not look like a credential: it is not kept, and not flagged.
const Omitted = "[omitted]"

// RedactOptions returns the options with their values kept only for names
// known to be harmless (awslogs-*, FireLens config-file-*, …). A value that
// looks like a credential, or whose name suggests one, becomes Redacted (and
// is reported); any other value becomes Omitted. Log drivers take free-form
// options (headers, license keys, auth strings), so an allow-list is the
// only safe rule.
func RedactOptions(opts map[string]string) map[string]string {
	if len(opts) == 0 {
		return opts
	}
	out := make(map[string]string, len(opts))
	for k, v := range opts {
		switch {
		case ClassifyValue(v) != "" || (!harmlessOptionRe.MatchString(k) && secretNameRe.MatchString(k)):
			v = Redacted
		case !harmlessOptionRe.MatchString(k) && v != Redacted:
			v = Omitted
		}
		out[k] = v
	}
	return out
}

// RedactValueFrom returns valueFrom, or Redacted when it is not an ARN and
// looks like a secret value itself (pasted where a parameter name belongs):
// such a value never enters the inventory.
func RedactValueFrom(valueFrom string) string {
	if !strings.HasPrefix(strings.TrimSpace(valueFrom), "arn:") && ClassifyValue(valueFrom) != "" {
		return Redacted
	}
	return valueFrom
}
