package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/policy"
)

const (
	simFull    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	simSession = "arn:aws:sts::111122223333:assumed-role/exec/task-1"
)

func runSimulate(t *testing.T, args []string, stdin string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestPolicySimulate(t *testing.T) {
	vpcePolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"ViaEndpoint","Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}`
	tests := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		decision policy.Decision
		stdout   []string // substrings of stdout
		stderr   []string // substrings of stderr
		rule     string
	}{
		{
			name:     "allowed by a named inline policy",
			stdin:    `{"identityPolicies":[{"name":"inline-1","policy":` + simFull + `}],"request":{"action":"ecr:GetAuthorizationToken","principal":"` + simSession + `"}}`,
			decision: policy.Allowed, stdout: []string{`"decidingLayer": "identity"`, `"policy": "inline-1"`},
			rule: "brief: prints the Result as indented JSON, exit 0",
		},
		{
			name:     "URL-encoded policy string, resource defaults to *",
			stdin:    `{"identityPolicies":[` + jsonString(url.PathEscape(vpcePolicy)) + `],"request":{"action":"ecr:GetAuthorizationToken","context":{"aws:SourceVpce":"vpce-1"}}}`,
			decision: policy.Allowed, stdout: []string{`"policy": "identityPolicies[0]"`},
			rule: "ecs-facts §5.6 URL-encoded documents; unnamed policies are named by position",
		},
		{
			name: "several resource policies are one layer",
			stdin: `{"identityPolicies":[` + simFull + `],"resourcePolicies":[{"name":"registry-policy:444455556666","policy":{"Version":"2012-10-17","Statement":[` +
				`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"ecr:BatchImportUpstreamImage","Resource":"*"}]}},` +
				`{"name":"repository-policy:docker-hub/library/nginx","policy":{"Version":"2012-10-17","Statement":[{"Sid":"NoImports","Effect":"Deny","Principal":"*","Action":"ecr:BatchImportUpstreamImage"}]}}],` +
				`"request":{"action":"ecr:BatchImportUpstreamImage","resource":"arn:aws:ecr:us-east-1:444455556666:repository/docker-hub/library/nginx","principal":"` + simSession + `"}}`,
			decision: policy.ExplicitDeny, stdout: []string{`"decidingLayer": "resource-policy"`, `"policy": "repository-policy:docker-hub/library/nginx"`},
			rule: "policy.Input.ResourcePolicies: a Deny in any policy of the layer denies",
		},
		{
			name:     "JSON text in a string",
			stdin:    `{"identityPolicies":[` + jsonString(simFull) + `],"request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}`,
			decision: policy.Allowed, rule: "brief: policy as object or string",
		},
		{
			name:     "null means known absent",
			stdin:    `{"identityPolicies":[` + vpcePolicy + `],"request":{"action":"ecr:GetAuthorizationToken","context":{"aws:SourceVpce":null}}}`,
			decision: policy.ImplicitDeny, rule: "brief: a JSON null value means the key is known absent; ecs-facts §5.4 missing key",
		},
		{
			name:     "missing key is unknown",
			stdin:    `{"identityPolicies":[` + vpcePolicy + `],"request":{"action":"ecr:GetAuthorizationToken","context":{"aws:RequestedRegion":"us-east-1"}}}`,
			decision: policy.Indeterminate, stdout: []string{`"key": "aws:SourceVpce"`, `"bestCase": "Allowed"`, `"worstCase": "ImplicitDeny"`},
			rule: "brief: keys not set are unknown → Indeterminate naming the key",
		},
		{
			name:     "SCP level without allow, positional names",
			stdin:    `{"identityPolicies":[` + simFull + `],"scpLevels":[[` + simFull + `],[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}]],"request":{"action":"ecr:BatchGetImage","resource":"arn:aws:ecr:us-east-1:111122223333:repository/app"}}`,
			decision: policy.ImplicitDeny, stdout: []string{`"decidingLayer": "scp"`, `"level": 1`, `no SCP at level 1 (policy scpLevels[1][0])`},
			rule: "brief: unnamed policies get names like scpLevels[1][0]; ecs-facts §5.1 step 2",
		},
		{
			name: "multi-valued, number and bool context values",
			stdin: `{"identityPolicies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]},"NumericLessThan":{"s3:max-keys":10},"Bool":{"aws:SecureTransport":true}}}]}],` +
				`"request":{"action":"s3:PutObject","resource":"arn:aws:s3:::b/k","context":{"aws:TagKeys":["a","b"],"s3:max-keys":5,"aws:SecureTransport":true}}}`,
			decision: policy.Allowed, rule: "brief: a list is multi-valued; numbers/bools become their text",
		},
		{
			name: "prefix-known value",
			stdin: `{"resourcePolicyKind":"trust-policy","resourcePolicy":{"name":"trust","policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:us-east-1:111122223333:*"}}}]}},` +
				`"request":{"action":"sts:AssumeRole","resource":"arn:aws:iam::111122223333:role/exec","principal":"ecs-tasks.amazonaws.com","context":{"aws:SourceArn":{"prefix":"arn:aws:ecs:us-east-1:111122223333:"}}}}`,
			decision: policy.Allowed, stdout: []string{`"decidingLayer": "resource-policy"`},
			rule: "ecs-facts §3.2/§3.3 trust policy; brief SetPrefix",
		},
		{
			name: "KMS key policy without delegation",
			stdin: `{"identityPolicies":[` + simFull + `],"resourcePolicyKind":"kms-key-policy","resourcePolicy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/admin"},"Action":"kms:*","Resource":"*"}]},` +
				`"request":{"action":"kms:Decrypt","resource":"arn:aws:kms:us-east-1:111122223333:key/k","principal":"` + simSession + `"}}`,
			decision: policy.ImplicitDeny, stdout: []string{`"decidingLayer": "resource-policy"`, "policy resourcePolicy"},
			rule: "ecs-facts §1.9: the key policy must allow",
		},
		{
			name:     "cross-account without resource policy",
			stdin:    `{"identityPolicies":[` + simFull + `],"request":{"action":"secretsmanager:GetSecretValue","resource":"arn:aws:secretsmanager:us-east-1:444455556666:secret:s-AbCdEf","principal":"` + simSession + `"}}`,
			decision: policy.Indeterminate, stdout: []string{"of account 444455556666, which was not provided"},
			rule: "brief: cross-account and no resource policy → Indeterminate",
		},
		{
			name:     "warnings go to stderr",
			stdin:    `{"identityPolicies":[{"name":"w","policy":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"s3:max-keys":"ten"}}}]}}],"request":{"action":"s3:ListBucket"}}`,
			decision: policy.ImplicitDeny, stderr: []string{`audit: warning: identityPolicies[0] "w": statement 0: Condition.NumericEquals.s3:max-keys:`, "not a number"},
			rule: "brief: unparseable condition values → false and a warning",
		},
		// Partly known resources (issue 8 §1): request.resourceUnknownSuffix.
		{
			name: "unresolved secret suffix, grant fixes part of it",
			stdin: `{"identityPolicies":[` + simAllow("secretsmanager:GetSecretValue", simSecret+"db-Ab????") + `],` +
				`"request":{"action":"secretsmanager:GetSecretValue","resource":"` + simSecret + `db-","resourceUnknownSuffix":"secrets-manager-suffix","principal":"` + simSession + `"}}`,
			decision: policy.Indeterminate, stdout: []string{`"unknownResource": {`, `"resource": "` + simSecret + `db-??????"`, `"partialResource": true`, `"alphabet": "A-Za-z0-9"`},
			rule: "issue 8 example 1; ecs-facts §1.6 the suffix is 6 of [A-Za-z0-9]",
		},
		{
			name: "object form covering every suffix",
			stdin: `{"identityPolicies":[` + simAllow("secretsmanager:GetSecretValue", simSecret+"db-??????") + `],` +
				`"request":{"action":"secretsmanager:GetSecretValue","resource":"` + simSecret + `db-","resourceUnknownSuffix":{"alphabet":"A-Za-z0-9","length":6},"principal":"` + simSession + `"}}`,
			decision: policy.Allowed, rule: "ecs-facts §1.6: NAME-?????? covers every suffix",
		},
		{
			name: "deny of one exact suffix, minLength/maxLength form",
			stdin: `{"identityPolicies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + simSecret + `db-??????"},{"Sid":"One","Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"` + simSecret + `db-Zz9Yx8"}]}],` +
				`"request":{"action":"secretsmanager:GetSecretValue","resource":"` + simSecret + `db-","resourceUnknownSuffix":{"alphabet":"A-Za-z0-9","minLength":6,"maxLength":6},"principal":"` + simSession + `"}}`,
			decision: policy.Indeterminate, stdout: []string{`"worstCase": "ExplicitDeny"`, `"sid": "One"`}, rule: "issue 8 example 2 (was silently Allowed)",
		},
		{
			name: "task ID preset",
			stdin: `{"identityPolicies":[` + simAllow("logs:CreateLogStream", "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:*") + `],` +
				`"request":{"action":"logs:CreateLogStream","resource":"arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:web/c/","resourceUnknownSuffix":"ecs-task-id","principal":"` + simSession + `"}}`,
			decision: policy.Allowed, rule: "ecs-facts §1.4: log-group:G:* covers every task's stream",
		},
		{name: "unknown preset", stdin: `{"request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/","resourceUnknownSuffix":"uuid"}}`, code: ExitUsage,
			stderr: []string{`request.resourceUnknownSuffix: unknown preset "uuid"`, "secrets-manager-suffix, ecs-task-id, docker-container-id"}, rule: "presets are listed"},
		{name: "suffix of the wrong type", stdin: `{"request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/","resourceUnknownSuffix":6}}`, code: ExitUsage,
			stderr: []string{`request.resourceUnknownSuffix: expected a preset name`, `{"alphabet": "A-Za-z0-9", "length": 6}`}, rule: "the expected shape in words"},
		{name: "suffix without alphabet", stdin: `{"request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/","resourceUnknownSuffix":{"length":6}}}`, code: ExitUsage,
			stderr: []string{"alphabet is required"}, rule: "shape"},
		{name: "suffix length and minLength", stdin: `{"request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/","resourceUnknownSuffix":{"alphabet":"a","length":6,"minLength":1}}}`, code: ExitUsage,
			stderr: []string{"either length or minLength and maxLength"}, rule: "shape"},
		{name: "suffix length as a string", stdin: `{"request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/","resourceUnknownSuffix":{"alphabet":"a","length":"6"}}}`, code: ExitUsage,
			stderr: []string{"request.resourceUnknownSuffix.length: expected a whole number, not a string"}, rule: "wrong type named in words"},
		{name: "suffix length fractional", stdin: `{"request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/","resourceUnknownSuffix":{"alphabet":"a","length":6.5}}}`, code: ExitUsage,
			stderr: []string{"request.resourceUnknownSuffix.length: expected a whole number, not the number 6.5"}, rule: "wrong type named in words"},
		{name: "suffix reversed range", stdin: `{"request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/","resourceUnknownSuffix":{"alphabet":"z-a","length":1}}}`, code: ExitUsage,
			stderr: []string{"range z-a is reversed"}, rule: "policy.UnknownSegment.Validate"},
		{name: "suffix unknown field", stdin: `{"request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/","resourceUnknownSuffix":{"alphabet":"a","length":1,"size":2}}}`, code: ExitUsage,
			stderr: []string{`request.resourceUnknownSuffix: unknown field "size"`}, rule: "unknown fields → error"},
		// resourcePolicyKind inferred from a KMS key ARN (issue 8 §6).
		{
			name: "KMS key ARN with a resource policy: a key policy",
			stdin: `{"identityPolicies":[` + simFull + `],"resourcePolicy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/admin"},"Action":"kms:*","Resource":"*"}]},` +
				`"request":{"action":"kms:Decrypt","resource":"arn:aws:kms:us-east-1:111122223333:key/k","principal":"` + simSession + `"}}`,
			decision: policy.ImplicitDeny, stdout: []string{"the KMS key policy", `"warnings": [`, "evaluated as its key policy"},
			rule: "ecs-facts §1.9: a key policy must allow or delegate; inferred from the ARN",
		},
		{
			name: "KMS key ARN, ordinary resource policy asked for",
			stdin: `{"identityPolicies":[` + simFull + `],"resourcePolicyKind":"","resourcePolicy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/admin"},"Action":"kms:*","Resource":"*"}]},` +
				`"request":{"action":"kms:Decrypt","resource":"arn:aws:kms:us-east-1:111122223333:key/k","principal":"` + simSession + `"}}`,
			decision: policy.Allowed, rule: "an explicit resourcePolicyKind wins over the inference",
		},
		{
			name:     "KMS key ARN without a resource policy: nothing inferred",
			stdin:    `{"identityPolicies":[` + simFull + `],"request":{"action":"kms:Decrypt","resource":"arn:aws:kms:us-east-1:111122223333:key/k","principal":"` + simSession + `"}}`,
			decision: policy.Allowed, rule: "no resource policy given, no kind to infer (same-account identity allow)",
		},
		// Actions that are not in the action catalog (issue 8 §6).
		{
			name:     "unknown request action and policy action",
			stdin:    `{"identityPolicies":[` + simAllow("secretmanager:GetSecretValue", "*") + `],"request":{"action":"secretmanager:GetSecretValue"}}`,
			decision: policy.Allowed, stdout: []string{`"warnings": [`, `request.action: unknown service prefix \"secretmanager\"`, `identityPolicies[0]: statement 0: unknown service prefix \"secretmanager\"`},
			stderr: []string{"audit: warning: request.action: unknown service prefix"}, rule: "as PL001 in scans: a typo grants nothing in AWS",
		},
		{
			name:     "misspelled action name of a cataloged service",
			stdin:    `{"identityPolicies":[` + simAllow("s3:GetObjekt", "*") + `],"request":{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}`,
			decision: policy.ImplicitDeny, stdout: []string{`identityPolicies[0]: statement 0: no action of s3 matches \"GetObjekt\"`}, rule: "awsactions.Check",
		},
		// Wrong JSON types name the expected shape in words.
		{name: "input is a list", stdin: `[]`, code: ExitUsage, stderr: []string{"the input must be a JSON object with identityPolicies", "not a list"}, rule: "shape in words"},
		{name: "identityPolicies is a string", stdin: `{"identityPolicies":"x","request":{"action":"s3:GetObject"}}`, code: ExitUsage,
			stderr: []string{"identityPolicies: expected a list of policies, not a string"}, rule: "shape in words"},
		{name: "scpLevels is a flat list", stdin: `{"scpLevels":[` + simFull + `],"request":{"action":"s3:GetObject"}}`, code: ExitUsage,
			stderr: []string{"scpLevels: expected a list of levels (root, each OU, account), each a list of policies, not an object"}, rule: "shape in words"},
		{name: "request is a list", stdin: `{"request":[]}`, code: ExitUsage, stderr: []string{"request: expected an object with action"}, rule: "shape in words"},
		{name: "action is a number", stdin: `{"request":{"action":5}}`, code: ExitUsage, stderr: []string{"request.action: expected a string", "not a number"}, rule: "shape in words"},
		{name: "resourcePolicyKind is a number", stdin: `{"resourcePolicyKind":1,"request":{"action":"s3:GetObject"}}`, code: ExitUsage,
			stderr: []string{`resourcePolicyKind: expected a string: "", "kms-key-policy" or "trust-policy", not a number`}, rule: "shape in words"},
		{name: "resourceAccount is a number", stdin: `{"resourceAccount":111122223333,"request":{"action":"s3:GetObject"}}`, code: ExitUsage,
			stderr: []string{"resourceAccount: expected a string (a 12-digit account ID), not a number"}, rule: "shape in words"},
		// Bad input: exit 2 with a clear message.
		{name: "malformed JSON", stdin: `{"request":`, code: ExitUsage, stderr: []string{"audit: policy simulate: invalid input"}, rule: "brief: malformed JSON → exit 2"},
		{name: "empty input", stdin: ``, code: ExitUsage, stderr: []string{"invalid input"}, rule: "brief: bad input → exit 2"},
		{
			name:  "malformed policy names the policy",
			stdin: `{"identityPolicies":[{"name":"inline-1","policy":` + simFull + `},{"name":"inline-2","policy":{"Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}}],"request":{"action":"s3:GetObject"}}`,
			code:  ExitUsage, stderr: []string{`audit: identityPolicies[1] "inline-2": statement 0: Effect: must be "Allow" or "Deny", not "allow"`},
			rule: "brief: the message names which policy",
		},
		{
			name:  "malformed unnamed SCP",
			stdin: `{"scpLevels":[[` + simFull + `],[` + simFull + `,{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"arn:aws:iam::1:role/x":"y"}}}]}]],"request":{"action":"s3:GetObject"}}`,
			code:  ExitUsage, stderr: []string{`audit: scpLevels[1][1]: statement 0: Condition.StringEquals: key "arn:aws:iam::1:role/x" is not a condition key`},
			rule: "brief: the malformed ARN→ARN StringEquals example is rejected",
		},
		{
			name:  "duplicate keys in a policy",
			stdin: `{"identityPolicies":[{"Statement":[{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}]}],"request":{"action":"s3:GetObject"}}`,
			code:  ExitUsage, stderr: []string{`identityPolicies[0]: statement 0: duplicate key "Effect"`}, rule: "ecs-facts §5.6 duplicate keys",
		},
		{name: "missing action", stdin: `{"request":{"resource":"*"}}`, code: ExitUsage, stderr: []string{"request.action is required"}, rule: "brief: missing action → exit 2"},
		{name: "missing request", stdin: `{"identityPolicies":[]}`, code: ExitUsage, stderr: []string{"missing request"}, rule: "brief"},
		{name: "unknown field", stdin: `{"identityPolicy":[],"request":{"action":"s3:GetObject"}}`, code: ExitUsage, stderr: []string{`unknown field "identityPolicy"`}, rule: "brief: unknown fields → error"},
		{name: "unknown request field", stdin: `{"request":{"action":"s3:GetObject","ctx":{}}}`, code: ExitUsage, stderr: []string{`unknown field "ctx"`}, rule: "brief: unknown fields → error"},
		{name: "unknown wrapper field", stdin: `{"identityPolicies":[{"name":"x","policy":` + simFull + `,"arn":"y"}],"request":{"action":"s3:GetObject"}}`, code: ExitUsage,
			stderr: []string{`identityPolicies[0]: unknown field "arn"`}, rule: "brief: unknown fields → error"},
		{name: "bad resourcePolicyKind", stdin: `{"resourcePolicyKind":"bucket","request":{"action":"s3:GetObject"}}`, code: ExitUsage, stderr: []string{`resourcePolicyKind "bucket"`}, rule: "brief: kinds kms-key-policy, trust-policy or empty"},
		{name: "policy neither object nor string", stdin: `{"identityPolicies":[3],"request":{"action":"s3:GetObject"}}`, code: ExitUsage, stderr: []string{"identityPolicies[0]: a policy must be a JSON object or a string"}, rule: "brief"},
		{name: "null policy", stdin: `{"permissionBoundaries":[null],"request":{"action":"s3:GetObject"}}`, code: ExitUsage, stderr: []string{"permissionBoundaries[0]: missing policy document"}, rule: "brief"},
		{name: "context key repeated in another case", stdin: `{"request":{"action":"s3:GetObject","context":{"aws:SourceVpce":"a","AWS:SOURCEVPCE":"b"}}}`, code: ExitUsage,
			stderr: []string{"given twice"}, rule: "ecs-facts §5.4: keys are case-insensitive"},
		{name: "context key malformed", stdin: `{"request":{"action":"s3:GetObject","context":{"SourceVpce":"a"}}}`, code: ExitUsage, stderr: []string{`"SourceVpce" is not a condition key`}, rule: "brief: prefix:name keys"},
		{name: "context value object", stdin: `{"request":{"action":"s3:GetObject","context":{"aws:x":{"value":"a"}}}}`, code: ExitUsage, stderr: []string{`{"prefix": "..."}`}, rule: "brief: string, number, bool, null or list"},
		{name: "context list of objects", stdin: `{"request":{"action":"s3:GetObject","context":{"aws:x":[{}]}}}`, code: ExitUsage, stderr: []string{"a list holds strings, numbers or booleans"}, rule: "brief"},
		{name: "trailing data", stdin: `{"request":{"action":"s3:GetObject"}} {}`, code: ExitUsage, stderr: []string{"trailing data"}, rule: "brief: bad input"},
		{name: "extra argument", args: []string{"policy", "simulate", "extra"}, stdin: `{}`, code: ExitUsage, stderr: []string{"audit:"}, rule: "run.go: cobra errors are usage errors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if args == nil {
				args = []string{"policy", "simulate"}
			}
			code, stdout, stderr := runSimulate(t, args, tt.stdin)
			if code != tt.code {
				t.Fatalf("exit %d, want %d (%s)\nstdout: %s\nstderr: %s", code, tt.code, tt.rule, stdout, stderr)
			}
			if tt.code == 0 {
				var res policy.Result
				if err := json.Unmarshal([]byte(stdout), &res); err != nil {
					t.Fatalf("stdout is not a Result: %v\n%s", err, stdout)
				}
				if res.Decision != tt.decision {
					t.Errorf("decision %s, want %s (%s)\n%s", res.Decision, tt.decision, tt.rule, stdout)
				}
				if !strings.HasPrefix(stdout, "{\n  \"decision\"") {
					t.Errorf("stdout is not indented JSON: %q", stdout)
				}
			} else if stdout != "" {
				t.Errorf("stdout on error: %q", stdout)
			}
			// Messages speak JSON, not Go (issue 8 §6).
			for _, goism := range []string{"Go struct", "Go value", "[]", "map[", "interface {", "json.", "main.", "policy.", "RawMessage"} {
				if strings.Contains(stderr, goism) {
					t.Errorf("stderr names a Go type (%q): %s", goism, stderr)
				}
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q (%s)\n%s", s, tt.rule, stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q (%s)\n%s", s, tt.rule, stderr)
				}
			}
		})
	}
}

func TestPolicyCommandHelp(t *testing.T) {
	code, stdout, _ := runSimulate(t, []string{"policy", "simulate", "--help"}, "")
	if code != ExitOK || !strings.Contains(stdout, "reads one request as JSON on stdin") {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runSimulate(t, []string{"policy"}, "")
	if code != ExitOK || !strings.Contains(stdout, "simulate") {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
}

const simSecret = "arn:aws:secretsmanager:us-east-1:111122223333:secret:"

func simAllow(action, resource string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
