package policy

import (
	"reflect"
	"testing"
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
	// Values are pre-parsed once per Set for every operator family.
	v := parseCtxVal("2020-01-01T00:00:00Z")
	if !v.tOK || v.numOK || v.bOK {
		t.Errorf("date: %+v", v)
	}
	v = parseCtxVal("1577836800")
	if !v.tOK || !v.numOK || v.t.Year() != 2020 {
		t.Errorf("epoch: %+v", v)
	}
	v = parseCtxVal("2001:db8::1")
	if !v.ip.IsValid() || v.numOK {
		t.Errorf("ip: %+v", v)
	}
	v = parseCtxVal("False")
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
