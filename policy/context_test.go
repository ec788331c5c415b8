package policy

import (
	"reflect"
	"testing"
	"time"
)

func TestContext(t *testing.T) {
	c := NewContext().
		Set("aws:RequestedRegion", "us-east-1").
		Set("aws:TagKeys", "a", "b").
		SetAbsent("aws:SourceVpce").
		SetPrefix("aws:SourceArn", "arn:aws:ecs:us-east-1:111122223333:").
		Set("aws:PrincipalTag/team", "payments").
		SetAbsentPrefix("aws:PrincipalTag/")
	tests := []struct {
		key  string
		want Value
		rule string
	}{
		{"AWS:REQUESTEDREGION", Value{State: KeyPresent, Values: []string{"us-east-1"}}, "ecs-facts §5.4: keys are case-insensitive"},
		{"aws:tagkeys", Value{State: KeyPresent, Values: []string{"a", "b"}}, "brief: multi-valued keys"},
		{"aws:SourceVpce", Value{State: KeyAbsent}, "brief: SetAbsent = known absent"},
		{"aws:SourceArn", Value{State: KeyPrefix, Prefix: "arn:aws:ecs:us-east-1:111122223333:"}, "brief: SetPrefix"},
		{"aws:PrincipalTag/Team", Value{State: KeyPresent, Values: []string{"payments"}}, "explicit values win over SetAbsentPrefix"},
		{"aws:PrincipalTag/cost-center", Value{State: KeyAbsent}, "SetAbsentPrefix: a completely known key family"},
		{"aws:SourceIp", Value{State: KeyUnknown}, "brief: every key not set is unknown"},
	}
	for _, tt := range tests {
		if got := c.Get(tt.key); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Get(%q) = %+v, want %+v (%s)", tt.key, got, tt.want, tt.rule)
		}
	}
	if got := c.Keys(); !reflect.DeepEqual(got, []string{"aws:PrincipalTag/team", "aws:RequestedRegion", "aws:SourceArn", "aws:SourceVpce", "aws:TagKeys"}) {
		t.Errorf("Keys = %v", got)
	}
	// Set with no values records absence (an empty multi-valued key behaves
	// like an absent one, ecs-facts §5.4).
	if got := NewContext().Set("aws:TagKeys").Get("aws:TagKeys"); got.State != KeyAbsent {
		t.Errorf("empty Set: %+v", got)
	}
	// Clone is independent.
	d := c.Clone().Set("aws:SourceIp", "10.0.0.1").Unset("aws:RequestedRegion")
	if c.Get("aws:SourceIp").State != KeyUnknown || c.Get("aws:RequestedRegion").State != KeyPresent {
		t.Error("Clone shares state")
	}
	if d.Get("aws:SourceIp").State != KeyPresent || d.Get("aws:RequestedRegion").State != KeyUnknown || d.Get("aws:PrincipalTag/x").State != KeyAbsent {
		t.Error("Clone lost state")
	}
	// Get returns a copy.
	v := c.Get("aws:TagKeys")
	v.Values[0] = "changed"
	if c.Get("aws:TagKeys").Values[0] != "a" {
		t.Error("Get exposes internal state")
	}
	// A zero Context and a nil one are usable.
	var z Context
	z.Set("aws:a", "1")
	if z.Get("aws:a").State != KeyPresent {
		t.Error("zero Context")
	}
	var n *Context
	if n.Get("aws:a").State != KeyUnknown || n.Keys() != nil {
		t.Error("nil Context")
	}
	if KeyPresent.String() != "present" || KeyAbsent.String() != "absent" || KeyPrefix.String() != "prefix" || KeyUnknown.String() != "unknown" {
		t.Error("KeyState.String")
	}
}

func TestContextValueParsing(t *testing.T) {
	// The typed forms of a value, parsed on first use for every operator
	// family.
	v := parseTyped("2020-01-01T00:00:00Z")
	if !v.tOK || v.numOK || v.bOK {
		t.Errorf("date: %+v", v)
	}
	v = parseTyped("1577836800")
	if !v.tOK || !v.numOK || v.t.Year() != 2020 {
		t.Errorf("epoch: %+v", v)
	}
	v = parseTyped("2001:db8::1")
	if !v.ip.IsValid() || v.numOK {
		t.Errorf("ip: %+v", v)
	}
	v = parseTyped("False")
	if !v.bOK || v.b {
		t.Errorf("bool: %+v", v)
	}
	for _, s := range []string{"1e5", "-3.25", "+7", "10."} {
		if _, ok := parseNumber(s); !ok {
			t.Errorf("parseNumber(%q) failed", s)
		}
	}
	for _, s := range []string{"0x10", "inf", "NaN", "1e", "", ".", "1_000"} {
		if _, ok := parseNumber(s); ok {
			t.Errorf("parseNumber(%q) accepted", s)
		}
	}
}

func TestParseDateForms(t *testing.T) {
	// The quick rejection (first character) keeps every form accepted.
	for _, tc := range []struct {
		in   string
		ok   bool
		want string // RFC 3339, UTC
	}{
		{"2020-01-01T00:00:00Z", true, "2020-01-01T00:00:00Z"},
		{"2020-01-01T02:00:00+02:00", true, "2020-01-01T00:00:00Z"},
		{"2020-01-01", true, "2020-01-01T00:00:00Z"},
		{"20200101", true, "2020-01-01T00:00:00Z"},
		{"20200101T000000Z", true, "2020-01-01T00:00:00Z"},
		{"1577836800", true, "2020-01-01T00:00:00Z"},
		{"+1577836800", true, "2020-01-01T00:00:00Z"},
		{"-86400", true, "1969-12-31T00:00:00Z"},
		{".5", true, "1970-01-01T00:00:00.5Z"},
		{"", false, ""},
		{"arn:aws:iam::111122223333:role/r", false, ""},
		{"T2020-01-01", false, ""},
		{" 2020-01-01", false, ""},
		{"true", false, ""},
	} {
		got, ok := parseDate(tc.in)
		if ok != tc.ok {
			t.Errorf("parseDate(%q) ok = %v, want %v", tc.in, ok, tc.ok)
			continue
		}
		if ok && got.UTC().Format(time.RFC3339Nano) != tc.want {
			t.Errorf("parseDate(%q) = %s, want %s", tc.in, got.UTC().Format(time.RFC3339Nano), tc.want)
		}
	}
}

func TestContextTypedFormsLazy(t *testing.T) {
	// Set keeps the strings only; the first typed comparison parses them,
	// and concurrent readers (go test -race) see one parse.
	c := NewContext().Set("aws:CurrentTime", "2020-06-01T00:00:00Z")
	e := c.lookup("aws:currenttime")
	if e == nil || len(e.vals) != 1 || e.vals[0].typed.tOK {
		t.Fatalf("value parsed by Set: %+v", e)
	}
	p, err := ParseString("p", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
		"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	in := &Input{Identity: []NamedPolicy{{Name: "p", Policy: p}}}
	req := Request{Principal: "arn:aws:iam::111122223333:role/r", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: c}
	done := make(chan Decision, 4)
	for range 4 {
		go func() { done <- Evaluate(in, req).Decision }()
	}
	for range 4 {
		if d := <-done; d != Allowed {
			t.Errorf("decision %v, want allowed", d)
		}
	}
	if !e.vals[0].typed.tOK {
		t.Error("date not parsed after a date comparison")
	}
}
