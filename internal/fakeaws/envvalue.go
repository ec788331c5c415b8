package fakeaws

import (
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// valueClasses are the classes syntheticValue can produce: every class
// inventory.ClassifyValue returns, and "" (harmless).
var valueClasses = []string{
	"",
	inventory.ValueAWSAccessKey,
	inventory.ValueAWSSecretKey,
	inventory.ValuePrivateKey,
	inventory.ValueGitHubToken,
	inventory.ValueSlackToken,
	inventory.ValueStripeKey,
	inventory.ValueGoogleAPIKey,
	inventory.ValueJWT,
	inventory.ValueURLCredentials,
	inventory.ValueHighEntropy,
}

func knownValueClass(c string) bool {
	for _, k := range valueClasses {
		if k == c {
			return true
		}
	}
	return false
}

const (
	upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lowers      = "abcdefghijklmnopqrstuvwxyz"
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b64chars    = alnum + "+/"
	entropySet  = alnum + "._~!"
)

type rng struct{ h uint64 }

func (r *rng) next() uint64 {
	r.h = mix(r.h, 0x5851f42d4c957f2d)
	return r.h
}

func (r *rng) pick(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.next()%uint64(len(alphabet))]
	}
	return string(b)
}

// mixedClasses forces a lower case letter, an upper case letter and a digit
// into b (which must be at least 3 bytes of alphanumerics to start with).
func (r *rng) mixedClasses(b []byte) {
	b[0] = lowers[r.next()%26]
	b[1] = upperDigits[r.next()%26]
	b[2] = "0123456789"[r.next()%10]
	for i := len(b) - 1; i > 0; i-- { // shuffle
		j := int(r.next() % uint64(i+1))
		b[i], b[j] = b[j], b[i]
	}
}

// fallbackValues are fixed values of each class, used when generation at the
// requested length does not classify back (tests check every one).
var fallbackValues = map[string]string{
	"":                            "production",
	inventory.ValueAWSAccessKey:   "AKIAFAKEFAKEFAKE0001",
	inventory.ValueAWSSecretKey:   "wJalrXUtnFEMIxK7MDENGxbPxRfiCYFAKEKEY001",
	inventory.ValuePrivateKey:     "-----BEGIN PRIVATE KEY-----\nMIIBfakefakefake\n-----END PRIVATE KEY-----",
	inventory.ValueGitHubToken:    "ghp_FakeFakeFakeFakeFakeFakeFakeFake0001",
	inventory.ValueSlackToken:     "xoxb-0001-fakefakefake",
	inventory.ValueStripeKey:      "sk_live_FakeFakeFakeFake0001",
	inventory.ValueGoogleAPIKey:   "AIzaFakeFakeFakeFakeFakeFakeFakeFake001",
	inventory.ValueJWT:            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.fakesignature01",
	inventory.ValueURLCredentials: "postgres://app:fakepassword@db.internal/app",
	inventory.ValueHighEntropy:    "q7.Xw2~Lr9!Tz4Kp8.Vm3Nf6Hs",
}

// syntheticValue returns a deterministic, fake environment value that
// inventory.ClassifyValue puts in class, with the given length where the
// class allows it (length 0 means "any"). Unknown classes get a harmless
// value; New rejects worlds with unknown classes.
func syntheticValue(class string, length int, seed uint64) string {
	r := &rng{h: seed}
	for attempt := 0; attempt < 16; attempt++ {
		v := generateValue(class, length, r)
		if inventory.ClassifyValue(v) == class {
			return v
		}
	}
	if v, ok := fallbackValues[class]; ok {
		return v
	}
	return fallbackValues[""]
}

func generateValue(class string, n int, r *rng) string {
	switch class {
	case "":
		if n <= 0 {
			return "production"
		}
		words := []string{"production", "service", "internal", "default", "enabled", "region", "worker"}
		var b strings.Builder
		for b.Len() < n {
			if b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteString(words[r.next()%uint64(len(words))])
		}
		v := b.String()[:n]
		if strings.HasSuffix(v, "-") {
			v = v[:n-1] + "x"
		}
		return v
	case inventory.ValueAWSAccessKey:
		v := "AKIA" + r.pick(upperDigits, 16)
		if n > 20 {
			v += "-" + r.pick(lowers, n-21)
		}
		return v
	case inventory.ValueAWSSecretKey:
		b := []byte(r.pick(b64chars, 40))
		r.mixedClasses(b)
		return string(b)
	case inventory.ValuePrivateKey:
		const head, foot = "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----"
		if n < len(head)+len(foot)+4 {
			return head + "\n" + r.pick(b64chars, max(n-len(head)-1, 8))
		}
		return head + "\n" + r.pick(b64chars, n-len(head)-len(foot)-2) + "\n" + foot
	case inventory.ValueGitHubToken:
		return "ghp_" + r.pick(alnum, max(n-4, 36))
	case inventory.ValueSlackToken:
		return "xoxb-" + r.pick(alnum, max(n-5, 10))
	case inventory.ValueStripeKey:
		return "sk_live_" + r.pick(alnum, max(n-8, 20))
	case inventory.ValueGoogleAPIKey:
		v := "AIza" + r.pick(alnum, 35)
		if n > 39 {
			v += " " + r.pick(lowers, n-40)
		}
		return v
	case inventory.ValueJWT:
		body := max(n-8, 24) // three parts after the two "eyJ" and the two dots
		a, b := body/3, body/3
		c := body - a - b
		return "eyJ" + r.pick(alnum, a) + ".eyJ" + r.pick(alnum, b) + "." + r.pick(alnum, c)
	case inventory.ValueURLCredentials:
		const pre, post = "https://svc:", "@db.internal/app"
		return pre + r.pick(lowers, max(n-len(pre)-len(post), 4)) + post
	case inventory.ValueHighEntropy:
		n = max(n, 24)
		b := []byte(r.pick(entropySet, n))
		// Distinct symbols for entropy: walk a shuffled alphabet.
		perm := []byte(entropySet)
		for i := len(perm) - 1; i > 0; i-- {
			j := int(r.next() % uint64(i+1))
			perm[i], perm[j] = perm[j], perm[i]
		}
		for i := range b {
			b[i] = perm[i%len(perm)]
		}
		if !strings.ContainsAny(string(b), "._~!") {
			b[n/2] = '.'
		}
		hasLower, hasUpper, hasDigit := false, false, false
		for _, c := range b {
			switch {
			case c >= 'a' && c <= 'z':
				hasLower = true
			case c >= 'A' && c <= 'Z':
				hasUpper = true
			case c >= '0' && c <= '9':
				hasDigit = true
			}
		}
		if !hasLower {
			b[0] = 'k'
		}
		if !hasUpper {
			b[1] = 'Q'
		}
		if !hasDigit {
			b[2] = '7'
		}
		return string(b)
	}
	return ""
}
