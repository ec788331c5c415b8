package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/internal/mototest"
	"github.com/ecs-audit/audit/scanner"
)

// The launch-path and network cases, built in moto (an independent AWS
// emulator) and found by the scan through AWS_ENDPOINT_URL: NW001 for a
// subnet without a path (the main route table) and for an S3 gateway
// endpoint without the layer bucket, ER004 in the vpc-endpoint layer, ER004
// where aws:SourceVpce is known to be absent (NAT), no finding where the
// pulls go through the ECR endpoints, and the execution role overrides of
// standalone tasks (ER004 keyed by the role, ER002).
func TestScanNetworkCasesAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	srv := mototest.Start(t)
	mototest.Env(t, srv.URL)
	n := mototest.BuildNetworkCases(t, context.Background())

	// The scan as audit scan runs it, through AWS_ENDPOINT_URL, with one
	// difference: moto answers DescribeTasks with numbers where the API has
	// strings, which mototest.TaskNumbersFix mends on the wire.
	inv, err := scanner.Collect(context.Background(), scanner.Config{Regions: []string{mototest.LaunchRegion}, ResolveResources: true,
		HTTPClient: mototest.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	res := findings.Evaluate(inv, findings.Options{ToolVersion: "test"})
	// moto runs no awsvpc task: the two standalone tasks have no ENI, so
	// their network configuration is a coverage gap; nothing else may be.
	if len(res.Coverage.Errors) != 0 {
		t.Errorf("collection errors: %+v", res.Coverage.Errors)
	}
	for _, g := range res.Coverage.Gaps {
		if !strings.Contains(g, "standalone task") || !strings.Contains(g, "network configuration was not recorded") {
			t.Errorf("unexpected coverage gap: %s", g)
		}
	}
	if len(res.Coverage.Gaps) != 2 {
		t.Errorf("coverage gaps %q, want the two tasks without ENI", res.Coverage.Gaps)
	}

	find := func(rule, td string, contains ...string) *findings.Finding {
		t.Helper()
		var got []*findings.Finding
		for i := range res.Findings {
			f := &res.Findings[i]
			if f.RuleID == rule && f.ResourceARN == td {
				got = append(got, f)
			}
		}
		for _, f := range got {
			ok := true
			for _, c := range contains {
				ok = ok && strings.Contains(f.Message, c)
			}
			if ok {
				return f
			}
		}
		var all []string
		for _, f := range res.Findings {
			all = append(all, f.RuleID+" "+f.ResourceARN+": "+f.Message)
		}
		t.Errorf("no %s on %s containing %q; findings:\n%s", rule, td, contains, strings.Join(all, "\n"))
		return nil
	}
	if f := find("NW001", n.Reconcile, "subnet "+n.IsolatedSubnet, "the main route table of "+n.CoreVPC, "ecr.dkr", "EventBridge rule "+n.Rule); f != nil {
		if f.Severity != findings.Critical || f.Fix.Target == nil || f.Fix.Target.ID != n.MainRouteTable {
			t.Errorf("NW001 no path: %s, fix %+v", f.Severity, f.Fix.Target)
		}
	}
	if f := find("NW001", n.BatchImport, "S3 gateway endpoint "+n.OwnS3Endpoint, "prod-us-east-1-starport-layer-bucket", "Scheduler schedule "+n.Schedule); f != nil {
		if f.Evidence.Facts["endpoint"] != n.OwnS3Endpoint || !strings.Contains(f.Evidence.Facts["endpointPolicy"], "ConfigBucketOnly") {
			t.Errorf("NW001 layers: facts %v", f.Evidence.Facts)
		}
	}
	if f := find("ER004", n.Partner, "VPC endpoint "+n.SecretsEndpoint); f != nil {
		if f.Evidence.Decision == nil || f.Evidence.Decision.DecidingLayer != "vpc-endpoint" || f.Fix.Target == nil || f.Fix.Target.ID != n.SecretsEndpoint {
			t.Errorf("ER004 endpoint: decision %+v, fix %+v", f.Evidence.Decision, f.Fix.Target)
		}
	}
	find("ER004", n.NATPull, "ecr:BatchGetImage", "NAT gateway "+n.NATGateway, "carries no aws:SourceVpce")
	if f := find("ER004", n.Refund, "arn:aws:iam::"+mototest.Management+":role/refund-override-exec, which standalone task"); f != nil {
		if f.RoleARN != n.OverrideRole || !slices.ContainsFunc(f.Affected, func(r findings.ResourceRef) bool { return r.ARN == n.OverrideTask }) {
			t.Errorf("override ER004: role %s, affected %+v", f.RoleARN, f.Affected)
		}
	}
	find("ER002", n.Refund, n.GoneRole, "in its overrides")
	// Through the ECR endpoints its condition names, the private service's
	// pulls are allowed: only GetAuthorizationToken, which never carries
	// aws:SourceVpce on Fargate, is denied.
	for _, f := range res.Findings {
		if f.ResourceARN != n.Private || (f.RuleID != "ER004" && f.RuleID != "ER005" && f.RuleID != "NW001") {
			continue
		}
		if f.RuleID != "ER004" || len(f.Evidence.Needs) != 1 || f.Evidence.Needs[0].Action != "ecr:GetAuthorizationToken" {
			t.Errorf("private service: %s %s", f.RuleID, f.Message)
		}
	}
}
