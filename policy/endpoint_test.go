package policy

import (
	"strings"
	"testing"
)

// The VPC endpoint policy is one more layer: its Deny denies, and it must
// allow what the other layers allow; it grants nothing by itself.
func TestEvaluateEndpointLayer(t *testing.T) {
	repo := "arn:aws:ecr:us-east-1:111122223333:repository/app"
	secret := "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf"
	other := "arn:aws:secretsmanager:us-east-1:111122223333:secret:partner-Zz9Yy8"
	ident := np(t, "inline:exec", stmts(allowStmt("ecr:*", "*"), allowStmt("secretsmanager:GetSecretValue", "*")))
	identDeny := np(t, "inline:deny", stmts(allowStmt("secretsmanager:GetSecretValue", "*"),
		`{"Sid":"NoPartner","Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"`+other+`"}`))
	full := np(t, "vpce-full", stmts(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`))
	onlyDB := np(t, "vpce-db", stmts(`{"Sid":"OnlyDb","Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"`+secret+`"}`))
	denyPartner := np(t, "vpce-deny", stmts(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`,
		`{"Sid":"NoPartner","Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"`+other+`"}`))
	noPrincipal := np(t, "vpce-noprincipal", stmts(`{"Effect":"Allow","Action":"*","Resource":"*"}`))
	byAccount := np(t, "vpce-account", stmts(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}`))
	byOther := np(t, "vpce-other", stmts(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"*","Resource":"*"}`))
	byRole := np(t, "vpce-role", stmts(`{"Effect":"Allow","Principal":{"AWS":"`+roleARN+`"},"Action":"ecr:*","Resource":"*"}`))
	orgOnly := np(t, "vpce-org", stmts(`{"Sid":"OrgOnly","Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}`))

	in := func(id NamedPolicy, ep *NamedPolicy) *Input {
		return &Input{Identity: []NamedPolicy{id}, VPCEndpointPolicy: ep}
	}
	req := func(action, resource string) Request {
		return Request{Principal: sessARN, Action: action, Resource: resource, Context: NewContext()}
	}
	runEvalCases(t, []evalCase{
		{name: "full access endpoint policy lets it through", in: in(ident, &full), req: req("ecr:BatchGetImage", repo), want: Allowed,
			layer: LayerIdentity, stmts: []string{"identity:inline:exec#0", "vpc-endpoint:vpce-full#0"}, reason: []string{"allowed by an identity policy"}},
		{name: "no endpoint policy: as before", in: in(ident, nil), req: req("ecr:BatchGetImage", repo), want: Allowed,
			layer: LayerIdentity, stmts: []string{"identity:inline:exec#0"}},
		{name: "endpoint policy without the resource", in: in(ident, &onlyDB), req: req("secretsmanager:GetSecretValue", other), want: ImplicitDeny,
			layer: LayerVPCEndpoint, reason: []string{"the VPC endpoint policy (policy vpce-db) does not allow principal " + sessARN, other}},
		{name: "endpoint policy with the resource", in: in(ident, &onlyDB), req: req("secretsmanager:GetSecretValue", secret), want: Allowed,
			stmts: []string{"identity:inline:exec#1", "vpc-endpoint:vpce-db#0"}},
		{name: "endpoint policy grants nothing by itself", in: in(np(t, "inline:none", stmts(allowStmt("logs:PutLogEvents", "*"))), &full),
			req: req("ecr:BatchGetImage", repo), want: ImplicitDeny, layer: LayerIdentity},
		{name: "explicit Deny in the endpoint policy", in: in(ident, &denyPartner), req: req("secretsmanager:GetSecretValue", other), want: ExplicitDeny,
			layer: LayerVPCEndpoint, stmts: []string{"vpc-endpoint:vpce-deny#1"}, reason: []string{"explicit Deny in the VPC endpoint policy", `"NoPartner"`}},
		{name: "explicit Deny in the endpoint policy wins over an implicit deny", in: in(np(t, "inline:none", stmts(allowStmt("logs:PutLogEvents", "*"))), &denyPartner),
			req: req("secretsmanager:GetSecretValue", other), want: ExplicitDeny, layer: LayerVPCEndpoint},
		{name: "an identity Deny decides first", in: in(identDeny, &denyPartner), req: req("secretsmanager:GetSecretValue", other), want: ExplicitDeny,
			layer: LayerIdentity},
		{name: "statement without Principal matches nobody", in: in(ident, &noPrincipal), req: req("ecr:BatchGetImage", repo), want: ImplicitDeny,
			layer: LayerVPCEndpoint},
		{name: "the principal's account", in: in(ident, &byAccount), req: req("ecr:BatchGetImage", repo), want: Allowed},
		{name: "another account", in: in(ident, &byOther), req: req("ecr:BatchGetImage", repo), want: ImplicitDeny, layer: LayerVPCEndpoint},
		{name: "the role names its sessions", in: in(ident, &byRole), req: req("ecr:BatchGetImage", repo), want: Allowed},
		{name: "unknown organization", in: in(ident, &orgOnly), req: req("ecr:BatchGetImage", repo), want: Indeterminate, layer: LayerVPCEndpoint,
			keys: []string{"aws:PrincipalOrgID"}, outcomes: &Outcomes{BestCase: Allowed, WorstCase: ImplicitDeny},
			reason: []string{"aws:PrincipalOrgID", "the VPC endpoint policy"}},
		{name: "known organization", in: in(ident, &orgOnly),
			req:  Request{Principal: sessARN, Action: "ecr:BatchGetImage", Resource: repo, Context: NewContext().Set("aws:PrincipalOrgID", "o-abc")},
			want: Allowed},
		{name: "other organization", in: in(ident, &orgOnly),
			req:  Request{Principal: sessARN, Action: "ecr:BatchGetImage", Resource: repo, Context: NewContext().Set("aws:PrincipalOrgID", "o-xyz")},
			want: ImplicitDeny, layer: LayerVPCEndpoint},
	})
}

// The condition keys of the path decide once the context knows them:
// through the endpoint aws:SourceVpce is its ID, through NAT it is absent.
func TestEvaluateSourceVpce(t *testing.T) {
	repo := "arn:aws:ecr:us-east-1:111122223333:repository/app"
	viaEndpoint := np(t, "inline:vpce", stmts(`{"Sid":"EcrViaEndpoint","Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*",`+
		`"Condition":{"StringEquals":{"aws:sourceVpce":"vpce-0a1b2c3d4e5f67890","aws:sourceVpc":"vpc-0123456789abcdef0"}}}`))
	in := &Input{Identity: []NamedPolicy{viaEndpoint}}
	ctx := func(set func(c *Context)) *Context {
		c := NewContext()
		set(c)
		return c
	}
	runEvalCases(t, []evalCase{
		{name: "through the endpoint", in: in, want: Allowed, req: Request{Principal: sessARN, Action: "ecr:BatchGetImage", Resource: repo,
			Context: ctx(func(c *Context) {
				c.Set("aws:SourceVpce", "vpce-0a1b2c3d4e5f67890").Set("aws:SourceVpc", "vpc-0123456789abcdef0")
			})}},
		{name: "through another endpoint", in: in, want: ImplicitDeny, req: Request{Principal: sessARN, Action: "ecr:BatchGetImage", Resource: repo,
			Context: ctx(func(c *Context) {
				c.Set("aws:SourceVpce", "vpce-0ffffffffffffffff").Set("aws:SourceVpc", "vpc-0123456789abcdef0")
			})}},
		{name: "through NAT: known absent", in: in, want: ImplicitDeny, layer: LayerIdentity, req: Request{Principal: sessARN, Action: "ecr:BatchGetImage", Resource: repo,
			Context: ctx(func(c *Context) { c.SetAbsent("aws:SourceVpce").SetAbsent("aws:SourceVpc") })}},
		{name: "path unknown", in: in, want: Indeterminate, keys: []string{"aws:sourceVpc", "aws:sourceVpce"},
			req: Request{Principal: sessARN, Action: "ecr:BatchGetImage", Resource: repo, Context: NewContext()}},
	})
}

// EvaluateEndpointPolicy decides on the endpoint policy alone, for a
// request no identity of the scan signs: the image-layer download through
// an S3 gateway endpoint.
func TestEvaluateEndpointPolicyAlone(t *testing.T) {
	layers := "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/"
	anyKey := &UnknownSegment{Alphabet: "!-~", MinLength: 1, MaxLength: 1024, Label: "layer"}
	withLayers := np(t, "vpce-s3", stmts(`{"Sid":"Layers","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"}`,
		`{"Sid":"Config","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::config/*"}`))
	ownOnly := np(t, "vpce-s3-own", stmts(`{"Sid":"OwnBuckets","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::config","arn:aws:s3:::config/*"]}`))
	byAccount := np(t, "vpce-s3-account", stmts(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}`))
	byPrincipalAccount := np(t, "vpce-s3-cond", stmts(`{"Sid":"OurAccount","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}`))
	denyOthers := np(t, "vpce-s3-deny", stmts(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}`,
		`{"Sid":"OnlyOurs","Effect":"Deny","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::config/*"}`))
	somePrefix := np(t, "vpce-s3-prefix", stmts(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::prod-us-east-1-starport-layer-bucket/sha256*"}`))
	req := Request{Action: "s3:GetObject", Resource: layers, ResourceUnknown: anyKey,
		Context: NewContext().Set("aws:SourceVpce", "vpce-0s3").Set("aws:SourceVpc", "vpc-01")}
	cases := []struct {
		name   string
		p      *NamedPolicy
		want   Decision
		stmts  []string
		reason string
	}{
		{"the layer bucket is allowed", &withLayers, Allowed, []string{"vpc-endpoint:vpce-s3#0"}, `allowed by the VPC endpoint policy (policy vpce-s3, statement 0 "Layers")`},
		{"only the organization's buckets", &ownOnly, ImplicitDeny, nil, "the VPC endpoint policy (policy vpce-s3-own) does not allow the principal to perform s3:GetObject on " + layers},
		{"a principal by account cannot match the unknown signer", &byAccount, ImplicitDeny, nil, "does not allow"},
		{"a condition on the signer's account", &byPrincipalAccount, Indeterminate, nil, "aws:PrincipalAccount"},
		{"a Deny of every other bucket", &denyOthers, ExplicitDeny, []string{"vpc-endpoint:vpce-s3-deny#1"}, `explicit Deny in the VPC endpoint policy (policy vpce-s3-deny, statement 1 "OnlyOurs")`},
		{"only some layer objects", &somePrefix, Indeterminate, nil, "the unknown part of the resource"},
		{"no policy lets nothing through", nil, ImplicitDeny, nil, "does not allow"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := EvaluateEndpointPolicy(c.p, req)
			if r.Decision != c.want {
				t.Fatalf("decision %s, want %s: %s", r.Decision, c.want, r.Reason)
			}
			if r.DecidingLayer != LayerVPCEndpoint {
				t.Errorf("deciding layer %s", r.DecidingLayer)
			}
			if !strings.Contains(r.Reason, c.reason) {
				t.Errorf("reason %q lacks %q", r.Reason, c.reason)
			}
			if c.stmts != nil {
				var got []string
				for _, s := range r.Statements {
					got = append(got, refString(s))
				}
				if strings.Join(got, " ") != strings.Join(c.stmts, " ") {
					t.Errorf("statements %v, want %v", got, c.stmts)
				}
			}
			if (r.Decision == Indeterminate) != (r.Outcomes != nil) {
				t.Errorf("outcomes %+v with %s", r.Outcomes, r.Decision)
			}
		})
	}
}
