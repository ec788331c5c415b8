package awsactions

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestKnownService(t *testing.T) {
	tests := []struct {
		prefix string
		want   bool
	}{
		{"secretsmanager", true},
		{"SecretsManager", true},
		{"ECR", true},
		{"ecs", true},
		{"logs", true},
		{"ssm", true},
		{"kms", true},
		{"s3", true},
		{"s3express", true},
		{"sts", true},
		{"iam", true},
		{"a4b", true},
		{"access-analyzer", true},
		{"account", true},
		{"acm", true},
		{"ec2", true},
		{"firehose", true},
		{"fsx", true},
		{"organizations", true},
		{"ecr-public", true},
		{"ssmmessages", true},
		{"deeplens", true}, // discontinued, still known
		{"sumerian", true}, // discontinued, still known
		{"secretmanager", false},
		{"secrets-manager", false},
		{"cloudwatchlogs", false},
		{"aws", false}, // global condition-key prefix, not a service
		{"", false},
		{"*", false},
		{"s3*", false},
		{"\u212Ams", false}, // Kelvin sign must not fold to "k"
	}
	for _, tt := range tests {
		if got := KnownService(tt.prefix); got != tt.want {
			t.Errorf("KnownService(%q) = %v, want %v", tt.prefix, got, tt.want)
		}
	}
}

func TestCataloged(t *testing.T) {
	tests := []struct {
		prefix string
		want   bool
	}{
		{"ecr", true},
		{"logs", true},
		{"secretsmanager", true},
		{"ssm", true},
		{"kms", true},
		{"s3", true},
		{"sts", true},
		{"iam", true},
		{"ecs", true},
		{"IAM", true},
		{"SecretsManager", true},
		{"ec2", false},
		{"s3express", false},
		{"ecr-public", false},
		{"secretmanager", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := Cataloged(tt.prefix); got != tt.want {
			t.Errorf("Cataloged(%q) = %v, want %v", tt.prefix, got, tt.want)
		}
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		in        string
		wantName  string
		wantLevel AccessLevel
		wantOK    bool
	}{
		{"SecretsManager:getsecretvalue", "secretsmanager:GetSecretValue", Read, true},
		{"secretsmanager:GetSecretValue", "secretsmanager:GetSecretValue", Read, true},
		{"secretsmanager:DescribeSecret", "secretsmanager:DescribeSecret", Read, true},
		{"secretsmanager:ListSecrets", "secretsmanager:ListSecrets", List, true},
		{"secretsmanager:PutResourcePolicy", "secretsmanager:PutResourcePolicy", PermissionsManagement, true},
		{"secretsmanager:TagResource", "secretsmanager:TagResource", Tagging, true},
		{"iam:PassRole", "iam:PassRole", Write, true},
		{"IAM:passrole", "iam:PassRole", Write, true},
		{"iam:AttachRolePolicy", "iam:AttachRolePolicy", PermissionsManagement, true},
		{"iam:ListAccessKeys", "iam:ListAccessKeys", List, true},
		{"iam:GetAccountAuthorizationDetails", "iam:GetAccountAuthorizationDetails", Read, true},
		{"ecr:GetAuthorizationToken", "ecr:GetAuthorizationToken", Read, true},
		{"ecr:BatchGetImage", "ecr:BatchGetImage", Read, true},
		{"ecr:BatchCheckLayerAvailability", "ecr:BatchCheckLayerAvailability", Read, true},
		{"ecr:GetDownloadUrlForLayer", "ecr:GetDownloadUrlForLayer", Read, true},
		{"logs:CreateLogStream", "logs:CreateLogStream", Write, true},
		{"logs:PutLogEvents", "logs:PutLogEvents", Write, true},
		{"ssm:GetParameters", "ssm:GetParameters", Read, true},
		{"ssm:GetParameter", "ssm:GetParameter", Read, true},
		{"kms:Decrypt", "kms:Decrypt", Write, true},
		{"kms:CreateGrant", "kms:CreateGrant", PermissionsManagement, true},
		{"s3:GetBucketLocation", "s3:GetBucketLocation", Read, true},
		{"s3:GetObject", "s3:GetObject", Read, true},
		{"s3:ListBucket", "s3:ListBucket", List, true},
		{"s3:PutBucketPolicy", "s3:PutBucketPolicy", PermissionsManagement, true},
		{"sts:AssumeRole", "sts:AssumeRole", Write, true},
		{"sts:GetCallerIdentity", "sts:GetCallerIdentity", Read, true},
		{"ecs:DescribeTaskDefinition", "ecs:DescribeTaskDefinition", Read, true},
		{"ecs:ListClusters", "ecs:ListClusters", List, true},
		{"ecs:RunTask", "ecs:RunTask", Write, true},
		// not found
		{"secretsmanager:GetSecretVal", "", "", false},
		{"secretmanager:GetSecretValue", "", "", false},
		{"ec2:DescribeRegions", "", "", false}, // service not cataloged
		{"secretsmanager:*", "", "", false},
		{"ssm:GetParameter?", "", "", false},
		{"*", "", "", false},
		{"GetSecretValue", "", "", false},
		{"", "", "", false},
		{"kms:ViaService", "", "", false}, // a condition key, not an action
	}
	for _, tt := range tests {
		name, level, ok := Lookup(tt.in)
		if name != tt.wantName || level != tt.wantLevel || ok != tt.wantOK {
			t.Errorf("Lookup(%q) = %q, %q, %v; want %q, %q, %v",
				tt.in, name, level, ok, tt.wantName, tt.wantLevel, tt.wantOK)
		}
	}
}

func TestExpand(t *testing.T) {
	tests := []struct {
		pattern       string
		want          []string // nil: expect no actions
		wantCataloged bool
	}{
		{"ssm:GetParameter?", []string{"ssm:GetParameters"}, true},
		{"ssm:getparameter*", []string{"ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters", "ssm:GetParametersByPath"}, true},
		{"SSM:GetParameter", []string{"ssm:GetParameter"}, true},
		{"ssm:Get?arameter", []string{"ssm:GetParameter"}, true},
		{"secretsmanager:*Secret", []string{
			"secretsmanager:CancelRotateSecret", "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret",
			"secretsmanager:DescribeSecret", "secretsmanager:RestoreSecret", "secretsmanager:RotateSecret",
			"secretsmanager:UpdateSecret",
		}, true},
		{"secretsmanager:Get*Value", []string{"secretsmanager:GetSecretValue"}, true},
		{"logs:*LogStream*", []string{"logs:CreateLogStream", "logs:DeleteLogStream", "logs:DescribeLogStreams"}, true},
		{"ecr:GetAuthorizationToken", []string{"ecr:GetAuthorizationToken"}, true},
		{"secretsmanager:GetSecretVal", nil, true},
		{"ssm:Nothing*", nil, true},
		{"ssm:GetParameter??", nil, true},
		{"ec2:Describe*", nil, false},
		{"secretmanager:*", nil, false},
		{"GetSecretValue", nil, false},
		{"ssm:", nil, false},
		{":Get*", nil, false},
		{"", nil, false},
	}
	for _, tt := range tests {
		got, cat := Expand(tt.pattern)
		if !reflect.DeepEqual(got, tt.want) || cat != tt.wantCataloged {
			t.Errorf("Expand(%q) = %q, %v; want %q, %v", tt.pattern, got, cat, tt.want, tt.wantCataloged)
		}
	}
}

func TestExpandWholeServiceAndStar(t *testing.T) {
	counts := map[string]int{}
	for prefix := range actionTables {
		got, cat := Expand(prefix + ":*")
		if !cat {
			t.Errorf("Expand(%q) cataloged = false", prefix+":*")
		}
		if !sort.StringsAreSorted(got) {
			t.Errorf("Expand(%q) is not sorted", prefix+":*")
		}
		upper, _ := Expand(strings.ToUpper(prefix) + ":*")
		if !reflect.DeepEqual(got, upper) {
			t.Errorf("Expand is not case-insensitive for %s", prefix)
		}
		counts[prefix] = len(got)
	}
	// Lower bounds only: AWS adds actions over time, but a sharp drop would
	// mean the data file lost lines.
	minimum := map[string]int{
		"ecr": 50, "ecs": 70, "iam": 170, "kms": 50, "logs": 100,
		"s3": 150, "secretsmanager": 20, "ssm": 140, "sts": 10,
	}
	total := 0
	for prefix, min := range minimum {
		if counts[prefix] < min {
			t.Errorf("%s has %d actions, want at least %d", prefix, counts[prefix], min)
		}
		total += counts[prefix]
	}
	if len(counts) != len(minimum) {
		t.Errorf("cataloged services = %v, want %d of them", counts, len(minimum))
	}

	all, cat := Expand("*")
	if cat {
		t.Error(`Expand("*") cataloged = true, want false`)
	}
	if len(all) != total || !sort.StringsAreSorted(all) {
		t.Errorf(`Expand("*") returned %d actions (sorted: %v), want %d sorted`, len(all), sort.StringsAreSorted(all), total)
	}
	// Callers may modify the result without touching the catalog.
	all[0] = "mutated"
	if again, _ := Expand("*"); again[0] == "mutated" {
		t.Error(`Expand("*") shares its backing array between calls`)
	}
}

func TestExpandWildcardPrefix(t *testing.T) {
	// "s?s" covers sms, sns, sqs, sso, sts ...: some are not cataloged.
	got, cat := Expand("s?s:AssumeRole")
	if cat || !reflect.DeepEqual(got, []string{"sts:AssumeRole"}) {
		t.Errorf(`Expand("s?s:AssumeRole") = %q, %v; want [sts:AssumeRole], false`, got, cat)
	}
	// "ss?" covers ssm and sso; sso is not cataloged.
	if got, cat := Expand("ss?:GetParameters"); cat || !reflect.DeepEqual(got, []string{"ssm:GetParameters"}) {
		t.Errorf(`Expand("ss?:GetParameters") = %q, %v`, got, cat)
	}
	// "secretsmanage?" covers only secretsmanager, which is cataloged.
	if got, cat := Expand("secretsmanage?:GetSecretValue"); !cat || !reflect.DeepEqual(got, []string{"secretsmanager:GetSecretValue"}) {
		t.Errorf(`Expand("secretsmanage?:GetSecretValue") = %q, %v`, got, cat)
	}
	if got, cat := Expand("nosuch*:Get*"); got != nil || cat {
		t.Errorf(`Expand("nosuch*:Get*") = %q, %v; want nil, false`, got, cat)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		pattern string
		want    string
	}{
		{"secretsmanager:GetSecretValue", ""},
		{"SecretsManager:getSecretValue", ""},
		{"secretsmanager:*", ""},
		{"ssm:GetParameter?", ""},
		{"ssm:GetParameters", ""},
		{"ssm:GetParameter", ""},
		{"iam:*AccessKey*", ""},
		{"ec2:DescribeRegions", ""},   // known, not cataloged: not judged
		{"ec2:DescribeRegionz", ""},   // cannot be judged without the ec2 list
		{"deeplens:ListProjects", ""}, // discontinued service, still known
		{"*", ""},
		{"s?s:AssumeRole", ""},
		{"s3*:Get*", ""},
		{"secretmanager:GetSecretValue", `unknown service prefix "secretmanager"`},
		{"SecretManager:GetSecretValue", `unknown service prefix "SecretManager"`},
		{"secretsmanager:GetSecretVal", `no action of secretsmanager matches "GetSecretVal"`},
		{"SecretsManager:GetSecretVal", `no action of secretsmanager matches "GetSecretVal"`},
		{"ssm:GetParameter??", `no action of ssm matches "GetParameter??"`},
		{"ssm:Nothing*", `no action of ssm matches "Nothing*"`},
		{"kms:ViaService", `no action of kms matches "ViaService"`},
		{"secretsmanage?:Nothing*", `no action of the services matching "secretsmanage?" matches "Nothing*"`},
		{"nosuch*:Get*", `no service prefix matches "nosuch*"`},
		{"GetSecretValue", `action "GetSecretValue" has no service prefix`},
		{":GetSecretValue", `action ":GetSecretValue" has an empty service prefix`},
		{"secretsmanager:", `action "secretsmanager:" has an empty action name`},
		{"", "empty action"},
	}
	for _, tt := range tests {
		if got := Check(tt.pattern); got != tt.want {
			t.Errorf("Check(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}

func TestServices(t *testing.T) {
	got := Services()
	if len(got) < 400 {
		t.Fatalf("Services() has %d prefixes, want several hundred", len(got))
	}
	if !sort.StringsAreSorted(got) {
		t.Error("Services() is not sorted")
	}
	seen := map[string]bool{}
	for _, p := range got {
		if seen[p] {
			t.Errorf("duplicate prefix %q", p)
		}
		seen[p] = true
		if p != strings.ToLower(p) || !KnownService(p) {
			t.Errorf("prefix %q: not lower case or not known", p)
		}
	}
	for _, p := range []string{"a4b", "access-analyzer", "account", "acm", "ecr", "ecs", "logs",
		"ssm", "secretsmanager", "kms", "s3", "s3express", "sts", "iam"} {
		if !seen[p] {
			t.Errorf("Services() lacks %q", p)
		}
	}
	for p := range actionTables {
		if !seen[p] {
			t.Errorf("cataloged service %q is missing from Services()", p)
		}
	}
	got[0] = "mutated"
	if Services()[0] == "mutated" {
		t.Error("Services() shares its backing array between calls")
	}
}

// TestEveryActionHasOneLevel checks each cataloged action against Lookup and
// against the glob matcher, so the tables and the code agree.
func TestEveryActionHasOneLevel(t *testing.T) {
	valid := map[AccessLevel]bool{List: true, Read: true, Write: true, PermissionsManagement: true, Tagging: true}
	all, _ := Expand("*")
	for _, a := range all {
		name, level, ok := Lookup(strings.ToUpper(a))
		if !ok || name != a || !valid[level] {
			t.Errorf("Lookup(upper(%q)) = %q, %q, %v", a, name, level, ok)
		}
		if got, _ := Expand(a); !reflect.DeepEqual(got, []string{a}) {
			t.Errorf("Expand(%q) = %q", a, got)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "abc", true},
		{"?", "", false},
		{"?", "a", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b*", "xxbxxaxx", false},
		{"a??", "abc", true},
		{"a??", "ab", false},
		{"getparameter?", "getparameters", true},
		{"getparameter?", "getparameter", false},
		{"**x", "abx", true},
		{"", "", true},
		{"", "a", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// factsConditionKeys are tokens in docs/facts.md that look like actions of a
// cataloged service but are condition keys.
var factsConditionKeys = map[string]bool{
	"kms:ViaService":      true,
	"kms:RequestAlias":    true,
	"kms:ResourceAliases": true,
	"iam:PassedToService": true,
}

// factsNotServices are prefixes of backticked "x:y" tokens in docs/facts.md
// that are not IAM service prefixes.
var factsNotServices = map[string]bool{
	"aws":       true, // global condition keys
	"log-group": true, // ARN fragment
	"family":    true, // task definition family:revision
	"service":   true, // placeholder
	"":          true,
}

// TestEcsFactsActions checks that every action named in the repository's
// facts file (docs/facts.md) is in the catalog.
func TestEcsFactsActions(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "facts.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tokens := regexp.MustCompile("`([A-Za-z0-9-]*):([A-Za-z0-9*?]*)`").FindAllStringSubmatch(string(data), -1)
	if len(tokens) == 0 {
		t.Fatal("no service:Action tokens found in the facts file")
	}
	checked := 0
	for _, m := range tokens {
		token, prefix, name := m[0][1:len(m[0])-1], m[1], m[2]
		if factsNotServices[prefix] || name == "" {
			continue
		}
		if !KnownService(prefix) {
			t.Errorf("%s: unknown service prefix", token)
			continue
		}
		if !Cataloged(prefix) || factsConditionKeys[token] {
			continue
		}
		checked++
		if hasWildcard(name) {
			if got, _ := Expand(token); len(got) == 0 {
				t.Errorf("%s: wildcard matches no cataloged action", token)
			}
			continue
		}
		// The facts file also shows non-canonical spellings on purpose
		// (IAM matching ignores case), so compare case-insensitively.
		if canonical, _, ok := Lookup(token); !ok || !strings.EqualFold(canonical, token) {
			t.Errorf("%s: Lookup = %q, %v", token, canonical, ok)
		}
	}
	if checked == 0 {
		t.Error("no cataloged action was checked")
	}
	for key := range factsConditionKeys {
		if _, _, ok := Lookup(key); ok {
			t.Errorf("%s is listed as a condition key but is an action", key)
		}
	}
}
