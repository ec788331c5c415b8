package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/internal/mototest"
	"github.com/ecs-audit/audit/scanner"
)

// The existence and resource-policy cases (issue 11 §2, §3), built in moto
// (an independent AWS emulator) and found by the scan through
// AWS_ENDPOINT_URL: RS001 for each missing resource (an image tag, a
// repository, a log group the driver does not create, an S3 object, a
// bucket), none for what exists or what the driver creates, the
// cross-account repository policy as a layer (it lets the pulling account
// in for two of the three pull actions: ER004 in the resource-policy
// layer, naming the repository), and the pull-through path that moto
// cannot describe as unconfirmed (ER005), never a pass.
func TestScanResourceCasesAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	srv := mototest.Start(t)
	mototest.Env(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := mototest.BuildOrg(t, ctx)
	rc := mototest.BuildResourceCases(t, ctx, w)

	inv, err := scanner.Collect(ctx, scanner.Config{Org: true, Regions: mototest.Regions, ResolveResources: true})
	if err != nil {
		t.Fatal(err)
	}
	res := findings.Evaluate(inv, findings.Options{ToolVersion: "test"})
	var on []findings.Finding
	for _, f := range res.Findings {
		if f.ResourceARN == rc.TaskDefinition {
			on = append(on, f)
		}
	}
	all := func() string {
		var b strings.Builder
		for _, f := range on {
			b.WriteString(f.RuleID + " " + string(f.Severity) + " " + f.Message + "\n")
		}
		return b.String()
	}
	// find returns the findings of rule on needs:1 whose message holds every
	// part.
	find := func(rule string, parts ...string) []findings.Finding {
		var got []findings.Finding
		for _, f := range on {
			ok := f.RuleID == rule
			for _, p := range parts {
				ok = ok && strings.Contains(f.Message, p)
			}
			if ok {
				got = append(got, f)
			}
		}
		return got
	}
	one := func(rule string, parts ...string) *findings.Finding {
		t.Helper()
		got := find(rule, parts...)
		if len(got) != 1 {
			t.Errorf("%d %s findings naming %q, want 1; findings on needs:1:\n%s", len(got), rule, parts, all())
			return nil
		}
		return &got[0]
	}

	// RS001, one per missing resource, critical.
	for _, parts := range [][]string{
		{"image plain:2 in account " + rc.App},
		{"log group /ecs/needs-missing"},
		{"S3 object gone.env in bucket " + rc.AppBucket},
		{"S3 bucket needs-no-such-bucket"},
	} {
		if f := one("RS001", parts...); f != nil && f.Severity != findings.Critical {
			t.Errorf("RS001 %q: %s", parts, f.Severity)
		}
	}
	if n := len(find("RS001")); n != 4 {
		t.Errorf("%d RS001, want 4 (nothing that exists or that the driver creates):\n%s", n, all())
	}
	for _, f := range on {
		for _, fine := range []string{"/ecs/needs-created", "app.env ", "common.env", "plain:1", "base:2025 "} {
			if f.RuleID == "RS001" && strings.Contains(f.Message, fine) {
				t.Errorf("RS001 for %s, which exists or is created: %s", fine, f.Message)
			}
		}
	}

	// The repository policy of needs/app denies principals outside the
	// organization (moto's organization is not o-example): ER004 in the
	// resource-policy layer, naming the statement, for every container
	// that pulls from it; its note said once.
	if f := one("ER004", "DenyOutsideOrg", "repository/needs/app"); f != nil {
		if f.Fix.Layer != findings.FixResourcePolicy || f.Evidence.Decision == nil || f.Evidence.Decision.DecidingLayer != "resource-policy" {
			t.Errorf("repository policy deny: fix %s, decision %+v", f.Fix.Layer, f.Evidence.Decision)
		}
		for _, c := range []string{mototest.ContainerApp, mototest.ContainerMissingTag, mototest.ContainerByDigest} {
			if !strings.Contains(f.Message, `container "`+c+`"`) {
				t.Errorf("the repository policy deny does not list container %s: %s", c, f.Message)
			}
		}
		if n := strings.Count(f.Message, "ECR's own guidance does not list it as required"); n > 1 {
			t.Errorf("the same note %d times: %s", n, f.Message)
		}
	}
	// The cross-account repository lets the account pull with two of the
	// three actions: the third is denied by the resource's policy, naming
	// the repository in the other account.
	if f := one("ER004", "ecr:BatchCheckLayerAvailability on arn:aws:ecr:"+rc.East+":"+rc.Shared+":repository/base"); f != nil {
		if f.Evidence.Decision == nil || f.Evidence.Decision.DecidingLayer != "resource-policy" || !strings.Contains(f.Message, "account "+rc.Shared) {
			t.Errorf("cross-account pull: %+v: %s", f.Evidence.Decision, f.Message)
		}
	}
	if got := find("ER004", "ecr:BatchGetImage", "repository/base"); len(got) != 0 {
		t.Errorf("the cross-account pull the repository policy allows is denied: %s", got[0].Message)
	}
	// moto has no pull-through cache rules: a repository under a possible
	// cache prefix that does not exist is unconfirmed (ER005), never RS001,
	// never a pass.
	for _, repo := range []string{"repository/needs/gone", "repository/docker-hub/library/nginx"} {
		if got := find("ER005", repo, "pull-through cache rule"); len(got) == 0 {
			t.Errorf("no ER005 for %s whose pull-through rules are unknown:\n%s", repo, all())
		}
	}
	if t.Failed() {
		t.Logf("coverage: %+v", res.Coverage)
	}
}
