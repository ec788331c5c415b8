package scanner

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/config"
)

// StartError is a scan that could not start: nothing was collected. The
// causes are the setup's — no usable credentials, an endpoint that cannot
// be reached, credentials AWS rejects, an AWS configuration that cannot be
// loaded, an organization that cannot be read — and the fix is the
// operator's.
type StartError struct {
	// Cause is one line: what went wrong, naming the endpoint, profile or
	// error code.
	Cause string
	// Fix is one line: what to do about it.
	Fix string
	Err error
}

func (e *StartError) Error() string { return e.Cause + "; " + e.Fix }
func (e *StartError) Unwrap() error { return e.Err }

const (
	fixCredentials = "give the AWS SDK's default chain credentials: a profile (AWS_PROFILE), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, `aws sso login` for an SSO profile, or an instance or task role"
	fixRejected    = "refresh or replace the credentials (expired session, SSO login, wrong key or partition)"
	fixEndpoint    = "check the network and proxy settings (HTTPS_PROXY), and AWS_ENDPOINT_URL or the region if set"
	fixOrg         = "run an Organization scan from the management account or a delegated administrator with the organizations: read permissions, or name the accounts to scan instead"
)

// rejectedCodes are the answers to a request whose credentials AWS does
// not accept.
var rejectedCodes = map[string]bool{
	"InvalidClientTokenId": true, "UnrecognizedClientException": true, "SignatureDoesNotMatch": true,
	"IncompleteSignature": true, "ExpiredToken": true, "ExpiredTokenException": true,
	"InvalidAccessKeyId": true, "AuthFailure": true, "InvalidSignatureException": true,
}

// startError explains why a call the scan cannot start without failed.
func startError(what string, err error, fix string) *StartError {
	if ep, cause, ok := connectFailure(err); ok {
		if ep == "" {
			ep = "(unknown)"
		}
		return &StartError{Cause: fmt.Sprintf("cannot reach the AWS endpoint %s (%s) to %s", ep, cause, what), Fix: fixEndpoint, Err: err}
	}
	code, msg := classify(err)
	switch {
	case code == CodeTimeout:
		return &StartError{Cause: fmt.Sprintf("no answer from AWS to %s: %s", what, short(msg)), Fix: fixEndpoint, Err: err}
	case rejectedCodes[code]:
		return &StartError{Cause: fmt.Sprintf("AWS rejected the credentials (%s: %s)", code, short(msg)), Fix: fixRejected, Err: err}
	}
	return &StartError{Cause: fmt.Sprintf("cannot %s (%s: %s)", what, code, short(msg)), Fix: fix, Err: err}
}

// configLoadError explains a failure to load the shared AWS configuration.
func configLoadError(profile string, err error) error {
	var missing config.SharedConfigProfileNotExistError
	if errors.As(err, &missing) {
		return &ConfigError{Field: "Profile", Value: sanitize(profile), Reason: "no such profile in the shared config and credentials files"}
	}
	return &StartError{Cause: "cannot load the AWS configuration: " + short(sanitize(err.Error())),
		Fix: "check the shared config and credentials files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE) and the profile", Err: err}
}

// checkCredentials makes sure the default chain (or the profile) yields
// credentials before the first call, so that "no credentials" is said as
// such rather than as the failure of whichever call came first.
func (b *sdkBackend) checkCredentials(ctx context.Context) error {
	if b.base.Credentials == nil {
		return &StartError{Cause: "no AWS credentials found", Fix: fixCredentials}
	}
	creds, err := b.base.Credentials.Retrieve(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("scanner: interrupted before the scan started: %w", ctx.Err())
		}
		return &StartError{Cause: "no usable AWS credentials (" + short(sanitize(err.Error())) + ")", Fix: fixCredentials, Err: err}
	}
	if !creds.HasKeys() {
		return &StartError{Cause: "no AWS credentials found (the chain gave anonymous credentials)", Fix: fixCredentials}
	}
	return nil
}

// short bounds a message quoted in a one-line cause.
func short(s string) string {
	const n = 300
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
