// Package triage turns a scan's findings into a standing control: accepted
// risks with an expiry (suppressions) and what changed since an earlier
// scan (a baseline). It takes a findings.Result and returns an annotated
// copy; findings are never dropped. It is pure: it reads no file and no
// clock, so callers pass the bytes and the time.
//
// # Suppressions
//
// A suppressions file (also the suppressions: section of audit.yaml) is
// YAML, one entry per accepted risk:
//
//	suppressions:
//	  - rule: ER006                     # a rule ID of `audit rules`, or *
//	    account: "222222222222"         # globs: * any characters, ? one
//	    region: [us-east-1, eu-west-1]  # a list: any of them
//	    family: payments-*              # task definition family
//	    role: payments-*-exec           # role name, or ARN when it starts with arn:
//	    resource: arn:aws:iam::222222222222:role/*
//	    when:                           # optional: on the finding's evidence
//	      policy: inline:legacy-*       # deciding policy
//	      statement: AllowLogsAll       # deciding statement (Sid, or #index)
//	      action: logs:*                # the need's or each excess grant's action
//	      fieldPath: containerDefinitions[*].logConfiguration.*
//	    justification: Shared logging role, narrowed in PAY-1234.   # required
//	    owner: payments-platform@example.com
//	    expires: 2027-03-31             # required; last day, UTC
//
// A finding is matched when its rule is the entry's (or the entry's rule is
// *) and every selector given matches: selectors combine with AND, the
// globs of one selector with OR. A selector left out matches everything;
// a finding without a region (a role's), task definition or role has ""
// for it, which only * matches. A when: key matches only when the finding
// has that evidence and every value of it matches (a role excess finding
// with two grants is suppressed by action: only when both actions match,
// and a finding grouped by root cause only when the value of every need,
// value, feature or constraint it lists matches), so a suppression never
// covers evidence it does not name. rule: * must name at least one
// resource selector.
//
// An entry expires at the end of its expires day, UTC; the day may lie at
// most Options.MaxHorizon ahead (default 365 days). Invalid entries (a
// missing or empty justification, a missing expiry, an expiry too far
// ahead, or past with Options.RejectExpired, an unknown rule, a bad glob,
// an unknown key, a value of the wrong type, a duplicate key, a YAML
// alias) are all reported together as Errors, each naming the file, line
// and key.
//
// Apply marks each matched finding with Suppression {justification, owner,
// expires, source} (source is file:line), with expiresSoon when the entry
// ends within Options.ExpiringWithin (default 30 days). A finding matched
// only by expired entries carries SuppressionExpired instead: it was
// accepted until that day and counts again. An entry that matched nothing
// is stale. Result.Triage.Suppressions counts suppressed and reopened
// findings and active, expiring, expired and stale entries, and lists every
// entry with its status.
//
// # Baseline
//
// ParseBaseline reads a findings.json of an earlier scan (schema version 1
// up to findings.ResultSchemaVersion; other files get a clear error).
// Compare marks every finding new or unchanged by fingerprint (ID, and
// MemberIDs for a finding that replaces others), and lists the baseline
// findings that are gone as fixed where this scan collected their account,
// region and IAM without errors (Coverage.Collected), and as unknown, with
// the reason, everywhere else: a region that failed is never reported as
// fixed. Result.Triage.Baseline holds the counts and both lists.
//
// # Wiring
//
// In cmd/audit, after findings.Evaluate (errors of ParseSuppressions and
// DecodeSuppressions are Errors: print each line and exit 2):
//
//	opts := triage.Options{Now: now, MaxHorizon: maxDays * 24 * time.Hour}
//	fromConfig, err := triage.DecodeSuppressions("audit.yaml", node, opts)  // the suppressions: block
//	fromFile, err := triage.ParseSuppressions(path, data, opts)             // each --suppressions-file
//	res = triage.Apply(res, triage.Merge(fromConfig, fromFile), now)
//
//	base, err := triage.ParseBaseline(prev)   // exit 2: fmt.Errorf("%s: %w", name, err)
//	base.Source = name
//	res = triage.Compare(res, base)
//
//	for _, w := range triage.Warnings(res) { log.Warn(w) }
//	if res.Failing(failOn) > 0 || res.FailingNew(failOnNew) > 0 { return exitFindings }
//
// Report writers render what the Result carries: Finding.Suppression (a
// SARIF result's suppressions, the "Accepted risks" view and sheet),
// Finding.SuppressionExpired, Finding.Change (findings.SortNewFirst orders
// the HTML) and Result.Triage for the counts, stale entries and the fixed
// and unknown lists. Every field is omitted from findings.json when triage
// is not used.
package triage
