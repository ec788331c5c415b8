package findings

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/ecs-audit/audit/policy"
)

// The spool's encoding of its three kinds of element (Finding,
// RoleReport, TaskDefReport), written by hand for speed: every report
// format reads the findings back from the spool, some more than once, and
// encoding/gob spent more time there than the formats themselves.
//
// An element is its length (uvarint), then three parts, each with its
// length (uvarint) but for the last: the element's strings, one after the
// other, each string that occurs several times in the element written
// once; the bytes of its raw JSON values (json.RawMessage); and its
// fields, in declaration order, with a string as its length and, when not
// empty, its offset in the strings (uvarint each), an int as a varint, a
// bool as one byte, a list as its length then its elements, a map as 0
// when nil, else one more than its length, then its keys and values, and
// a pointer as one byte (0 nil, 1 set) then the value. A decoded element's
// strings are parts of one string, and its raw values of one byte slice:
// two allocations for all of them.
//
// The decoded value is the one encoding/gob gives for the same element
// (the tests compare the two on values with every field set): empty lists
// and raw values are nil, an empty map is not, a pointer to a zero value
// is kept, and the unexported fields of Need are not written.

// spoolEncoder encodes elements, one at a time (reset between them).
type spoolEncoder struct {
	buf    []byte // what the elements are appended to (Spool.Add's)
	fields []byte
	strs   []byte
	raw    []byte
	at     map[string]int // offsets in strs of the element's strings
}

func newSpoolEncoder() *spoolEncoder {
	return &spoolEncoder{at: map[string]int{}}
}

func (e *spoolEncoder) reset() {
	e.fields, e.strs, e.raw = e.fields[:0], e.strs[:0], e.raw[:0]
	clear(e.at)
}

// appendTo appends the element encoded since the last reset to b.
func (e *spoolEncoder) appendTo(b []byte) []byte {
	body := uvarintLen(len(e.strs)) + len(e.strs) + uvarintLen(len(e.raw)) + len(e.raw) + len(e.fields)
	b = binary.AppendUvarint(b, uint64(body))
	b = binary.AppendUvarint(b, uint64(len(e.strs)))
	b = append(b, e.strs...)
	b = binary.AppendUvarint(b, uint64(len(e.raw)))
	b = append(b, e.raw...)
	return append(b, e.fields...)
}

// uvarintLen is the length of n as a uvarint.
func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// elem encodes one element of a list; false for a type that has no
// encoding.
func (e *spoolEncoder) elem(x any) bool {
	switch x := x.(type) {
	case *Finding:
		e.finding(x)
	case *RoleReport:
		e.role(x)
	case *TaskDefReport:
		e.taskDef(x)
	default:
		return false
	}
	return true
}

func (e *spoolEncoder) str(s string) {
	e.fields = binary.AppendUvarint(e.fields, uint64(len(s)))
	if s == "" {
		return
	}
	off, ok := e.at[s]
	if !ok {
		off = len(e.strs)
		e.strs = append(e.strs, s...)
		e.at[s] = off
	}
	e.fields = binary.AppendUvarint(e.fields, uint64(off))
}

func (e *spoolEncoder) num(n int) { e.fields = binary.AppendVarint(e.fields, int64(n)) }

func (e *spoolEncoder) flag(b bool) {
	if b {
		e.fields = append(e.fields, 1)
	} else {
		e.fields = append(e.fields, 0)
	}
}

func (e *spoolEncoder) count(n int) { e.fields = binary.AppendUvarint(e.fields, uint64(n)) }

// mapLen writes a map's length, one more than it for a map that is not
// nil (encoding/gob keeps an empty map that is not nil).
func (e *spoolEncoder) mapLen(isNil bool, n int) {
	if isNil {
		e.count(0)
		return
	}
	e.count(n + 1)
}

func (e *spoolEncoder) rawJSON(m json.RawMessage) {
	e.count(len(m))
	e.raw = append(e.raw, m...)
}

func (e *spoolEncoder) strList(list []string) {
	e.count(len(list))
	for _, s := range list {
		e.str(s)
	}
}

func (e *spoolEncoder) finding(f *Finding) {
	e.str(f.ID)
	e.str(f.RuleID)
	e.str(string(f.Severity))
	e.str(f.Title)
	e.str(f.Message)
	e.str(f.AccountID)
	e.str(f.AccountName)
	e.str(f.Region)
	e.str(f.ResourceType)
	e.str(f.ResourceARN)
	e.str(f.TaskDefinitionARN)
	e.str(f.RoleARN)
	e.str(f.Container)
	e.evidence(&f.Evidence)
	e.impact(&f.Impact)
	e.count(len(f.Affected))
	for i := range f.Affected {
		e.resourceRef(&f.Affected[i])
	}
	e.str(f.Remediation)
	e.fix(&f.Fix)
	e.strList(f.MemberIDs)
	e.suppression(f.Suppression)
	e.suppression(f.SuppressionExpired)
	e.str(f.Change)
}

func (e *spoolEncoder) evidence(v *Evidence) {
	e.flag(v.Need != nil)
	if v.Need != nil {
		e.need(v.Need)
	}
	e.decision(v.Decision)
	e.count(len(v.Needs))
	for i := range v.Needs {
		n := &v.Needs[i]
		e.need(&n.Need)
		e.str(string(n.Severity))
		e.decision(n.Decision)
	}
	e.count(len(v.Unknowns))
	for i := range v.Unknowns {
		u := &v.Unknowns[i]
		e.str(string(u.Kind))
		e.str(u.Subject)
		e.str(u.Description)
		e.str(u.Settle)
	}
	e.count(len(v.Constraints))
	for i := range v.Constraints {
		c := &v.Constraints[i]
		e.str(c.RuleID)
		e.str(c.Attribute)
		e.str(c.Value)
		e.str(c.Feature)
		e.str(c.Minimum)
		e.str(c.FieldPath)
		e.str(c.Source)
		e.strList(c.TaskDefinitions)
		e.str(string(c.Severity))
	}
	e.count(len(v.Features))
	for i := range v.Features {
		g := &v.Features[i]
		e.str(g.Feature)
		e.str(g.FieldPath)
		e.str(g.OS)
		e.flag(g.Unsupported)
		e.str(g.PlatformVersion)
		e.str(g.Minimum)
		e.str(g.Source)
		e.str(string(g.Severity))
	}
	e.count(len(v.Values))
	for i := range v.Values {
		p := &v.Values[i]
		e.str(p.Container)
		e.str(string(p.Kind))
		e.str(p.Name)
		e.str(p.ValueClass)
		e.str(p.Why)
		e.str(p.FieldPath)
		e.str(string(p.Severity))
	}
	e.count(len(v.Problems))
	for i := range v.Problems {
		p := &v.Problems[i]
		e.str(p.Kind)
		e.str(p.Detail)
		e.str(string(p.Severity))
	}
	e.count(len(v.Excess))
	for i := range v.Excess {
		x := &v.Excess[i]
		e.str(x.Policy)
		e.str(x.Statement)
		e.str(string(x.Kind))
		e.str(x.Action)
		e.str(x.Resource)
		e.str(x.Reason)
		e.str(string(x.Severity))
	}
	e.mapLen(v.Facts == nil, len(v.Facts))
	for k, s := range v.Facts {
		e.str(k)
		e.str(s)
	}
	e.rawJSON(v.SuggestedPolicy)
}

func (e *spoolEncoder) need(n *Need) {
	e.str(n.Feature)
	e.str(n.Action)
	e.str(n.Resource)
	e.str(n.Container)
	e.str(n.FieldPath)
	e.str(n.ServedBy)
	e.flag(n.Optional)
	e.flag(n.Invalid)
	e.str(n.Note)
}

func (e *spoolEncoder) needs(list []Need) {
	e.count(len(list))
	for i := range list {
		e.need(&list[i])
	}
}

func (e *spoolEncoder) decision(r *policy.Result) {
	e.flag(r != nil)
	if r == nil {
		return
	}
	e.str(string(r.Decision))
	e.str(string(r.DecidingLayer))
	e.num(r.Level)
	e.str(r.Reason)
	e.statements(r.Statements)
	e.count(len(r.UnknownKeys))
	for i := range r.UnknownKeys {
		e.str(r.UnknownKeys[i].Key)
		e.statements(r.UnknownKeys[i].Statements)
	}
	e.flag(r.UnknownResource != nil)
	if u := r.UnknownResource; u != nil {
		e.str(u.Resource)
		e.segment(&u.Unknown)
		e.statements(u.Statements)
	}
	e.flag(r.Outcomes != nil)
	if o := r.Outcomes; o != nil {
		e.str(string(o.BestCase))
		e.str(string(o.WorstCase))
	}
}

func (e *spoolEncoder) statements(list []policy.StatementRef) {
	e.count(len(list))
	for i := range list {
		s := &list[i]
		e.str(string(s.Layer))
		e.num(s.Level)
		e.str(s.Policy)
		e.str(s.Sid)
		e.num(s.Index)
		e.str(s.Effect)
		e.flag(s.Conditional)
		e.flag(s.PartialResource)
	}
}

func (e *spoolEncoder) segment(s *policy.UnknownSegment) {
	e.str(s.Alphabet)
	e.num(s.MinLength)
	e.num(s.MaxLength)
	e.str(s.Tail)
	e.str(s.Label)
}

func (e *spoolEncoder) impact(m *Impact) {
	e.str(m.Summary)
	e.mapLen(m.Resources == nil, len(m.Resources))
	for k, n := range m.Resources {
		e.str(k)
		e.num(n)
	}
	e.num(m.Items)
	e.str(m.ItemKind)
}

func (e *spoolEncoder) resourceRef(r *ResourceRef) {
	e.str(r.Type)
	e.str(r.ARN)
	e.str(r.Name)
}

func (e *spoolEncoder) fix(f *Fix) {
	e.str(string(f.Layer))
	e.str(f.Summary)
	e.strList(f.Steps)
	e.flag(f.Target != nil)
	if t := f.Target; t != nil {
		e.str(t.Type)
		e.str(t.ARN)
		e.str(t.ID)
		e.str(t.Name)
		e.str(t.Role)
		e.str(t.Statement)
		e.flag(t.AttachedTo != nil)
		if o := t.AttachedTo; o != nil {
			e.str(o.ID)
			e.str(o.Name)
			e.str(o.Type)
		}
	}
	e.rawJSON(f.SuggestedPolicy)
	e.str(string(f.SuggestedPolicyLayer))
	e.str(f.SuggestedPolicyTarget)
}

func (e *spoolEncoder) suppression(s *Suppression) {
	e.flag(s != nil)
	if s == nil {
		return
	}
	e.str(s.Justification)
	e.str(s.Owner)
	e.str(s.Expires)
	e.str(s.Source)
	e.flag(s.ExpiresSoon)
}

func (e *spoolEncoder) role(r *RoleReport) {
	e.str(r.RoleARN)
	e.str(r.AccountID)
	e.flag(r.Exists)
	e.strList(r.UsedBy)
	e.needs(r.Needs)
	e.rawJSON(r.LeastPrivilegePolicy)
	e.num(r.Findings)
}

func (e *spoolEncoder) taskDef(t *TaskDefReport) {
	e.str(t.ARN)
	e.str(t.AccountID)
	e.str(t.Region)
	e.str(t.Family)
	e.num(int(t.Revision))
	e.strList(t.LaunchTypes)
	e.str(t.ExecutionRoleARN)
	e.strList(t.UsedByServices)
	e.needs(t.Needs)
	e.num(t.Findings)
}

// spoolDecoder decodes one element from its bytes. The first problem
// (bytes that are not an element) is kept in err, and every read after it
// gives a zero value.
type spoolDecoder struct {
	b     []byte // the fields
	pos   int
	strs  string
	raw   []byte
	rawAt int
	err   error
}

var errSpoolElement = errors.New("not a spool element")

// start reads the strings and raw values of the element in b.
func (d *spoolDecoder) start(b []byte) {
	*d = spoolDecoder{b: b}
	n := d.count()
	if d.err != nil {
		return
	}
	d.strs = string(b[d.pos : d.pos+n])
	d.pos += n
	n = d.count()
	if d.err != nil {
		return
	}
	if n > 0 {
		d.raw = append([]byte(nil), b[d.pos:d.pos+n]...)
	}
	d.pos += n
}

// finish says whether the element was read whole and well.
func (d *spoolDecoder) finish() error {
	if d.err == nil && d.pos != len(d.b) {
		d.err = fmt.Errorf("%w: %d bytes left", errSpoolElement, len(d.b)-d.pos)
	}
	return d.err
}

func (d *spoolDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s at byte %d", errSpoolElement, what, d.pos)
	}
}

func (d *spoolDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.pos:])
	if n <= 0 {
		d.fail("number")
		return 0
	}
	d.pos += n
	return v
}

// len reads a length: of a list (each element takes at least a byte), of
// strings or of raw bytes, never more than the bytes left.
func (d *spoolDecoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b)-d.pos) {
		d.fail("length")
		return 0
	}
	return int(v)
}

func (d *spoolDecoder) str() string {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return ""
	}
	off := d.uvarint()
	if d.err != nil || off > uint64(len(d.strs)) || n > uint64(len(d.strs))-off {
		d.fail("string")
		return ""
	}
	return d.strs[off : off+n]
}

func (d *spoolDecoder) num() int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.pos:])
	if n <= 0 || v < math.MinInt || v > math.MaxInt {
		d.fail("number")
		return 0
	}
	d.pos += n
	return int(v)
}

func (d *spoolDecoder) flag() bool {
	if d.err != nil {
		return false
	}
	if d.pos >= len(d.b) || d.b[d.pos] > 1 {
		d.fail("bool")
		return false
	}
	d.pos++
	return d.b[d.pos-1] == 1
}

func (d *spoolDecoder) rawJSON() json.RawMessage {
	n := d.uvarint()
	if n == 0 || d.err != nil {
		return nil
	}
	if n > uint64(len(d.raw)-d.rawAt) {
		d.fail("raw value")
		return nil
	}
	at := d.rawAt
	d.rawAt += int(n)
	return json.RawMessage(d.raw[at:d.rawAt:d.rawAt])
}

func (d *spoolDecoder) strList() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	list := make([]string, 0, min(n, 256))
	for range n {
		list = append(list, d.str())
	}
	return list
}

// decodeList decodes a list of n elements with one, nil when empty.
func decodeList[T any](d *spoolDecoder, one func(*T)) []T {
	n := d.count()
	if n == 0 {
		return nil
	}
	// n is at most the bytes left: what is allocated ahead is bounded
	// too, for bytes that are not an element.
	out := make([]T, 0, min(n, 256))
	var zero T
	for range n {
		out = append(out, zero)
		one(&out[len(out)-1])
	}
	return out
}

// elem decodes one element of a list.
func (d *spoolDecoder) elem(x any) {
	switch x := x.(type) {
	case *Finding:
		d.finding(x)
	case *RoleReport:
		d.role(x)
	case *TaskDefReport:
		d.taskDef(x)
	default:
		d.fail(fmt.Sprintf("type %T", x))
	}
}

func (d *spoolDecoder) finding(f *Finding) {
	f.ID = d.str()
	f.RuleID = d.str()
	f.Severity = Severity(d.str())
	f.Title = d.str()
	f.Message = d.str()
	f.AccountID = d.str()
	f.AccountName = d.str()
	f.Region = d.str()
	f.ResourceType = d.str()
	f.ResourceARN = d.str()
	f.TaskDefinitionARN = d.str()
	f.RoleARN = d.str()
	f.Container = d.str()
	d.evidence(&f.Evidence)
	d.impact(&f.Impact)
	f.Affected = decodeList(d, d.resourceRef)
	f.Remediation = d.str()
	d.fix(&f.Fix)
	f.MemberIDs = d.strList()
	f.Suppression = d.suppression()
	f.SuppressionExpired = d.suppression()
	f.Change = d.str()
}

func (d *spoolDecoder) evidence(v *Evidence) {
	if d.flag() {
		v.Need = new(Need)
		d.need(v.Need)
	}
	v.Decision = d.decision()
	v.Needs = decodeList(d, func(n *NeedEvidence) {
		d.need(&n.Need)
		n.Severity = Severity(d.str())
		n.Decision = d.decision()
	})
	v.Unknowns = decodeList(d, func(u *Unknown) {
		u.Kind = UnknownKind(d.str())
		u.Subject = d.str()
		u.Description = d.str()
		u.Settle = d.str()
	})
	v.Constraints = decodeList(d, func(c *Constraint) {
		c.RuleID = d.str()
		c.Attribute = d.str()
		c.Value = d.str()
		c.Feature = d.str()
		c.Minimum = d.str()
		c.FieldPath = d.str()
		c.Source = d.str()
		c.TaskDefinitions = d.strList()
		c.Severity = Severity(d.str())
	})
	v.Features = decodeList(d, func(g *FeatureGap) {
		g.Feature = d.str()
		g.FieldPath = d.str()
		g.OS = d.str()
		g.Unsupported = d.flag()
		g.PlatformVersion = d.str()
		g.Minimum = d.str()
		g.Source = d.str()
		g.Severity = Severity(d.str())
	})
	v.Values = decodeList(d, func(p *PlaintextValue) {
		p.Container = d.str()
		p.Kind = ValueKind(d.str())
		p.Name = d.str()
		p.ValueClass = d.str()
		p.Why = d.str()
		p.FieldPath = d.str()
		p.Severity = Severity(d.str())
	})
	v.Problems = decodeList(d, func(p *PolicyProblem) {
		p.Kind = d.str()
		p.Detail = d.str()
		p.Severity = Severity(d.str())
	})
	v.Excess = decodeList(d, func(x *ExcessGrant) {
		x.Policy = d.str()
		x.Statement = d.str()
		x.Kind = ExcessKind(d.str())
		x.Action = d.str()
		x.Resource = d.str()
		x.Reason = d.str()
		x.Severity = Severity(d.str())
	})
	if n := d.count(); n > 0 {
		v.Facts = make(map[string]string, n-1)
		for range n - 1 {
			k := d.str()
			v.Facts[k] = d.str()
		}
	}
	v.SuggestedPolicy = d.rawJSON()
}

func (d *spoolDecoder) need(n *Need) {
	n.Feature = d.str()
	n.Action = d.str()
	n.Resource = d.str()
	n.Container = d.str()
	n.FieldPath = d.str()
	n.ServedBy = d.str()
	n.Optional = d.flag()
	n.Invalid = d.flag()
	n.Note = d.str()
}

func (d *spoolDecoder) decision() *policy.Result {
	if !d.flag() {
		return nil
	}
	r := &policy.Result{}
	r.Decision = policy.Decision(d.str())
	r.DecidingLayer = policy.Layer(d.str())
	r.Level = d.num()
	r.Reason = d.str()
	r.Statements = d.statements()
	r.UnknownKeys = decodeList(d, func(k *policy.UnknownKey) {
		k.Key = d.str()
		k.Statements = d.statements()
	})
	if d.flag() {
		u := &policy.UnknownResource{}
		u.Resource = d.str()
		d.segment(&u.Unknown)
		u.Statements = d.statements()
		r.UnknownResource = u
	}
	if d.flag() {
		r.Outcomes = &policy.Outcomes{BestCase: policy.Decision(d.str()), WorstCase: policy.Decision(d.str())}
	}
	return r
}

func (d *spoolDecoder) statements() []policy.StatementRef {
	return decodeList(d, func(s *policy.StatementRef) {
		s.Layer = policy.Layer(d.str())
		s.Level = d.num()
		s.Policy = d.str()
		s.Sid = d.str()
		s.Index = d.num()
		s.Effect = d.str()
		s.Conditional = d.flag()
		s.PartialResource = d.flag()
	})
}

func (d *spoolDecoder) segment(s *policy.UnknownSegment) {
	s.Alphabet = d.str()
	s.MinLength = d.num()
	s.MaxLength = d.num()
	s.Tail = d.str()
	s.Label = d.str()
}

func (d *spoolDecoder) impact(m *Impact) {
	m.Summary = d.str()
	if n := d.count(); n > 0 {
		m.Resources = make(map[string]int, n-1)
		for range n - 1 {
			k := d.str()
			m.Resources[k] = d.num()
		}
	}
	m.Items = d.num()
	m.ItemKind = d.str()
}

func (d *spoolDecoder) resourceRef(r *ResourceRef) {
	r.Type = d.str()
	r.ARN = d.str()
	r.Name = d.str()
}

func (d *spoolDecoder) fix(f *Fix) {
	f.Layer = FixLayer(d.str())
	f.Summary = d.str()
	f.Steps = d.strList()
	if d.flag() {
		t := &FixTarget{}
		t.Type = d.str()
		t.ARN = d.str()
		t.ID = d.str()
		t.Name = d.str()
		t.Role = d.str()
		t.Statement = d.str()
		if d.flag() {
			t.AttachedTo = &OrgNode{ID: d.str(), Name: d.str(), Type: d.str()}
		}
		f.Target = t
	}
	f.SuggestedPolicy = d.rawJSON()
	f.SuggestedPolicyLayer = FixLayer(d.str())
	f.SuggestedPolicyTarget = d.str()
}

func (d *spoolDecoder) suppression() *Suppression {
	if !d.flag() {
		return nil
	}
	return &Suppression{Justification: d.str(), Owner: d.str(), Expires: d.str(), Source: d.str(), ExpiresSoon: d.flag()}
}

func (d *spoolDecoder) role(r *RoleReport) {
	r.RoleARN = d.str()
	r.AccountID = d.str()
	r.Exists = d.flag()
	r.UsedBy = d.strList()
	r.Needs = decodeList(d, d.need)
	r.LeastPrivilegePolicy = d.rawJSON()
	r.Findings = d.num()
}

func (d *spoolDecoder) taskDef(t *TaskDefReport) {
	t.ARN = d.str()
	t.AccountID = d.str()
	t.Region = d.str()
	t.Family = d.str()
	rev := d.num()
	if rev < math.MinInt32 || rev > math.MaxInt32 {
		d.fail("revision")
	}
	t.Revision = int32(rev)
	t.LaunchTypes = d.strList()
	t.ExecutionRoleARN = d.str()
	t.UsedByServices = d.strList()
	t.Needs = decodeList(d, d.need)
	t.Findings = d.num()
}
