package fakeaws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestCallerIdentity(t *testing.T) {
	ts := startServer(t, testWorld(), Options{Seed: 7})
	ctx := context.Background()
	tests := []struct {
		name    string
		cfg     func() aws.Config
		account string
		arn     string
	}{
		{"management account keys", func() aws.Config { return ts.callerCfg(t, "us-east-1") }, mgmtID, "arn:aws:iam::" + mgmtID + ":user/" + userName},
		{"assumed role in prod", func() aws.Config { return ts.assumeCfg(t, prodID, "us-east-1") }, prodID, "arn:aws:sts::" + prodID + ":assumed-role/" + DefaultScanRoleName + "/audit"},
		{"member long-term keys", func() aws.Config {
			ak, sk := ts.CredentialsFor(devID)
			return ts.cfg(t, "eu-west-1", aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk})
		}, devID, "arn:aws:iam::" + devID + ":user/" + userName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := sts.NewFromConfig(tt.cfg()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if *out.Account != tt.account || *out.Arn != tt.arn || *out.UserId == "" {
				t.Errorf("identity = %s %s %s, want account %s arn %s", *out.Account, *out.Arn, *out.UserId, tt.account, tt.arn)
			}
		})
	}
}

func TestCallerCredentialsWithoutOrganization(t *testing.T) {
	w := testWorld()
	w.Organization = nil
	for _, a := range w.Accounts {
		a.Path = nil
	}
	s, err := New(w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ak, _ := s.CallerCredentials()
	if got := accountOfKey(ak); got != mgmtID {
		t.Errorf("caller account = %s, want the first account %s", got, mgmtID)
	}
}

func TestAssumeRoleChecks(t *testing.T) {
	ts := startServer(t, testWorld(), Options{ExternalID: "ext-123", ScanRoleName: "AuditRole"})
	client := sts.NewFromConfig(ts.callerCfg(t, "us-east-1"))
	tests := []struct {
		name     string
		arn      string
		external string
		duration int32
		code     string
	}{
		{"ok", "arn:aws:iam::" + prodID + ":role/AuditRole", "ext-123", 0, ""},
		{"ok with path", "arn:aws:iam::" + prodID + ":role/audit/AuditRole", "ext-123", 900, ""},
		{"wrong external id", "arn:aws:iam::" + prodID + ":role/AuditRole", "nope", 0, "AccessDenied"},
		{"missing external id", "arn:aws:iam::" + prodID + ":role/AuditRole", "", 0, "AccessDenied"},
		{"wrong role", "arn:aws:iam::" + prodID + ":role/" + DefaultScanRoleName, "ext-123", 0, "AccessDenied"},
		{"unknown account", "arn:aws:iam::999999999999:role/AuditRole", "ext-123", 0, "AccessDenied"},
		{"suspended account", "arn:aws:iam::" + suspID + ":role/AuditRole", "ext-123", 0, "AccessDenied"},
		{"other partition", "arn:aws-cn:iam::" + prodID + ":role/AuditRole", "ext-123", 0, "AccessDenied"},
		{"not a role ARN", "arn:aws:iam::" + prodID + ":user/AuditRole", "ext-123", 0, "ValidationError"},
		{"duration above role max", "arn:aws:iam::" + prodID + ":role/AuditRole", "ext-123", 7200, "ValidationError"},
		{"duration too short", "arn:aws:iam::" + prodID + ":role/AuditRole", "ext-123", 60, "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &sts.AssumeRoleInput{RoleArn: aws.String(tt.arn), RoleSessionName: aws.String("audit-session")}
			if tt.external != "" {
				in.ExternalId = aws.String(tt.external)
			}
			if tt.duration != 0 {
				in.DurationSeconds = aws.Int32(tt.duration)
			}
			out, err := client.AssumeRole(context.Background(), in)
			if tt.code != "" {
				wantCode(t, err, tt.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := out.Credentials
			if !strings.HasPrefix(*c.AccessKeyId, "ASIA"+prodID) || len(*c.AccessKeyId) != 20 {
				t.Errorf("access key %q does not encode the account", *c.AccessKeyId)
			}
			if *c.SecretAccessKey == "" || *c.SessionToken == "" {
				t.Error("secret or session token missing")
			}
			ttl := time.Until(*c.Expiration)
			want := time.Hour
			if tt.duration != 0 {
				want = time.Duration(tt.duration) * time.Second
			}
			if ttl < want-time.Minute || ttl > want+time.Minute {
				t.Errorf("expiration in %v, want about %v", ttl, want)
			}
			if !strings.HasSuffix(*out.AssumedRoleUser.Arn, ":assumed-role/AuditRole/audit-session") {
				t.Errorf("assumed role ARN %s", *out.AssumedRoleUser.Arn)
			}
		})
	}
}

// TestIdentitySwitch: the same ECS call sees the data of the account whose
// credentials signed it.
func TestIdentitySwitch(t *testing.T) {
	ts := startServer(t, testWorld(), Options{})
	ctx := context.Background()
	tests := []struct {
		account string
		want    []string
	}{
		{prodID, []string{"arn:aws:ecs:us-east-1:" + prodID + ":cluster/big", "arn:aws:ecs:us-east-1:" + prodID + ":cluster/small"}},
		{devID, []string{"arn:aws:ecs:us-east-1:" + devID + ":cluster/dev-only"}},
		{mgmtID, nil},
	}
	for _, tt := range tests {
		t.Run(tt.account, func(t *testing.T) {
			out, err := ecs.NewFromConfig(ts.assumeCfg(t, tt.account, "us-east-1")).ListClusters(ctx, &ecs.ListClustersInput{})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(out.ClusterArns, ",") != strings.Join(tt.want, ",") {
				t.Errorf("clusters = %v, want %v", out.ClusterArns, tt.want)
			}
		})
	}
	if got := ts.CallsByAccount(); got[prodID] != 1 || got[devID] != 1 || got[mgmtID] != 4 {
		t.Errorf("calls by account = %v, want prod 1, dev 1, management 4 (3 AssumeRole + 1 ListClusters)", got)
	}
}

func TestScanRoleWithPath(t *testing.T) {
	ts := startServer(t, testWorld(), Options{ScanRoleName: "/audit/ReadOnly"})
	client := sts.NewFromConfig(ts.callerCfg(t, "us-east-1"))
	for _, tt := range []struct{ arn, code string }{
		{"arn:aws:iam::" + prodID + ":role/audit/ReadOnly", ""},
		{"arn:aws:iam::" + prodID + ":role/ReadOnly", "AccessDenied"},
		{"arn:aws:iam::" + prodID + ":role/other/ReadOnly", "AccessDenied"},
	} {
		_, err := client.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(tt.arn), RoleSessionName: aws.String("s1")})
		if errCode(err) != tt.code {
			t.Errorf("%s: err %v, want code %q", tt.arn, err, tt.code)
		}
	}
}

func TestBadCredentials(t *testing.T) {
	ts := startServer(t, testWorld(), Options{CredentialTTL: 300 * time.Millisecond})
	ctx := context.Background()
	ak, sk := ts.CallerCredentials()
	assumed := ts.assumeCfg(t, prodID, "us-east-1")
	good, err := assumed.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		creds   aws.Credentials
		sleep   time.Duration
		stsCode string
		ecsCode string
	}{
		{"unknown key", aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: sk}, 0, "InvalidClientTokenId", "UnrecognizedClientException"},
		{"wrong check characters", aws.Credentials{AccessKeyID: ak[:16] + "ZZZZ", SecretAccessKey: sk}, 0, "InvalidClientTokenId", "UnrecognizedClientException"},
		{"wrong secret", aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk + "x"}, 0, "SignatureDoesNotMatch", "InvalidSignatureException"},
		{"session without token", aws.Credentials{AccessKeyID: good.AccessKeyID, SecretAccessKey: good.SecretAccessKey}, 0, "InvalidClientTokenId", "UnrecognizedClientException"},
		{"session with wrong token", aws.Credentials{AccessKeyID: good.AccessKeyID, SecretAccessKey: good.SecretAccessKey, SessionToken: "x"}, 0, "InvalidClientTokenId", "UnrecognizedClientException"},
		{"expired session", good, 400 * time.Millisecond, "ExpiredToken", "ExpiredTokenException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			time.Sleep(tt.sleep)
			_, err := sts.NewFromConfig(ts.cfg(t, "us-east-1", tt.creds)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			wantCode(t, err, tt.stsCode)
			_, err = ecs.NewFromConfig(ts.cfg(t, "us-east-1", tt.creds)).ListClusters(ctx, &ecs.ListClustersInput{})
			wantCode(t, err, tt.ecsCode)
		})
	}
}
