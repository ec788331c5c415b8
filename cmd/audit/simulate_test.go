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

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
