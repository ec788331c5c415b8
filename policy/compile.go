package policy

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// compiledStatement is the pre-processed form of a Statement, built by Parse
// so that Evaluate does no parsing and no allocation on its common path.
type compiledStatement struct {
	deny bool
	// vars is true when the document is Version 2012-10-17, so policy
	// variables are expanded.
	vars bool

	actions   []actionPattern
	notAction bool
	// services lists the distinct literal service prefixes of Action when
	// every pattern has one (a quick reject for other services); nil
	// otherwise.
	services []string

	resources   []resourcePattern
	notResource bool
	anyResource bool // neither Resource nor NotResource (trust policies)

	principal    *principalMatcher
	notPrincipal *principalMatcher

	conds []compiledCond
}

// ---- actions ----

type actionPattern struct {
	all     bool   // "*"
	service string // lower-case literal service prefix; "" → match whole
	name    string // lower-case name pattern
	nameLit bool   // name has no wildcard
	whole   string // lower-case whole pattern
}

func compileAction(p string) actionPattern {
	lp := toLowerASCII(p)
	if lp == "*" {
		return actionPattern{all: true, whole: lp}
	}
	a := actionPattern{whole: lp}
	if i := strings.IndexByte(lp, ':'); i > 0 && !hasWildcard(lp[:i]) {
		a.service = lp[:i]
		a.name = lp[i+1:]
		a.nameLit = !hasWildcard(a.name)
	}
	return a
}

// preparedAction is a request action split once per evaluation.
type preparedAction struct {
	action   string
	service  string
	lservice string // lower-case service
	name     string
	colon    bool
}

func (r *preparedAction) set(action string) {
	r.action = action
	if i := strings.IndexByte(action, ':'); i >= 0 {
		r.service, r.name, r.colon = action[:i], action[i+1:], true
	} else {
		r.service, r.name, r.colon = "", "", false
	}
	r.lservice = toLowerASCII(r.service)
}

func (a *actionPattern) match(r *preparedAction) bool {
	if a.all {
		return true
	}
	if a.service != "" {
		if !r.colon || !eqFoldASCII(a.service, r.service) {
			return false
		}
		if a.nameLit {
			return eqFoldASCII(a.name, r.name)
		}
		return globFold(a.name, r.name)
	}
	return globFold(a.whole, r.action)
}

// ---- resources ----

type resourcePattern struct {
	raw   string
	all   bool // "*"
	n     int  // number of ARN parts of the pattern
	parts [6]string
	lit   [6]bool // part has no wildcard
	tmpl  *template
}

func compileResourceLiteral(p string) resourcePattern {
	r := resourcePattern{raw: p}
	if p == "*" {
		r.all = true
		return r
	}
	var a arnParts
	a.split(p)
	r.n = a.n
	r.parts = a.p
	for i := 0; i < a.n; i++ {
		r.lit[i] = !hasWildcard(a.p[i])
	}
	return r
}

// matchParts matches a pattern without variables against a split resource.
func (rp *resourcePattern) matchParts(a *arnParts, resource string) bool {
	if rp.all {
		return true
	}
	if rp.n == 6 {
		if a.n != 6 {
			return false
		}
		// Service and account first: they reject most mismatches.
		for _, i := range [...]int{2, 4, 3, 1, 0, 5} {
			if rp.lit[i] {
				if rp.parts[i] != a.p[i] {
					return false
				}
			} else if !glob(rp.parts[i], a.p[i]) {
				return false
			}
		}
		return true
	}
	return glob(rp.raw, resource)
}

// match returns the three-valued match of the pattern against the request
// resource; only policy variables can make it unknown.
func (rp *resourcePattern) match(a *arnParts, resource string, ctx *Context) Tri {
	if rp.tmpl == nil {
		return triOf(rp.matchParts(a, resource))
	}
	return rp.tmpl.match(ctx, true, kindARN, resource)
}

// arnPrefixMatch decides an ARN pattern (with mask) against a value known
// only by its prefix.
func arnPrefixMatch(p string, mask []bool, prefix string) Tri {
	var pa arnParts
	pa.split(p)
	if pa.n != 6 {
		return globPrefix(p, mask, prefix, false)
	}
	var va arnParts
	va.split(prefix)
	// va.n-1 parts are complete; part va.n-1 is a prefix of its segment;
	// later parts are unknown.
	res := TriTrue
	off := 0
	for i := 0; i < 6; i++ {
		var m []bool
		if mask != nil {
			m = mask[off : off+len(pa.p[i])]
		}
		off += len(pa.p[i]) + 1
		switch {
		case i < va.n-1:
			res = res.and(triOf(globMask(pa.p[i], m, va.p[i])))
		case i == va.n-1:
			res = res.and(globPrefix(pa.p[i], m, va.p[i], false))
		default:
			if allStars(pa.p[i], m) && pa.p[i] != "" {
				continue
			}
			res = res.and(TriUnknown)
		}
		if res == TriFalse {
			return TriFalse
		}
	}
	if va.n < 6 && res == TriTrue {
		// The value might not have six parts at all.
		res = TriUnknown
	}
	return res
}

func allStars(p string, mask []bool) bool {
	for i := 0; i < len(p); i++ {
		if p[i] != '*' || (mask != nil && mask[i]) {
			return false
		}
	}
	return true
}

// ---- conditions ----

type condFamily uint8

const (
	famString condFamily = iota
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famARN
	famNull
)

type condCmp uint8

const (
	cmpEq condCmp = iota
	cmpEqIC
	cmpLike
	cmpLT
	cmpLTE
	cmpGT
	cmpGTE
)

type setMode uint8

const (
	setNone setMode = iota
	setForAll
	setForAny
)

type opSpec struct {
	canonical string
	fam       condFamily
	cmp       condCmp
	negated   bool
}

var baseOperators = func() map[string]opSpec {
	m := map[string]opSpec{}
	add := func(name string, fam condFamily, cmp condCmp, neg bool) {
		m[strings.ToLower(name)] = opSpec{canonical: name, fam: fam, cmp: cmp, negated: neg}
	}
	add("StringEquals", famString, cmpEq, false)
	add("StringNotEquals", famString, cmpEq, true)
	add("StringEqualsIgnoreCase", famString, cmpEqIC, false)
	add("StringNotEqualsIgnoreCase", famString, cmpEqIC, true)
	add("StringLike", famString, cmpLike, false)
	add("StringNotLike", famString, cmpLike, true)
	for _, f := range []struct {
		prefix string
		fam    condFamily
	}{{"Numeric", famNumeric}, {"Date", famDate}} {
		add(f.prefix+"Equals", f.fam, cmpEq, false)
		add(f.prefix+"NotEquals", f.fam, cmpEq, true)
		add(f.prefix+"LessThan", f.fam, cmpLT, false)
		add(f.prefix+"LessThanEquals", f.fam, cmpLTE, false)
		add(f.prefix+"GreaterThan", f.fam, cmpGT, false)
		add(f.prefix+"GreaterThanEquals", f.fam, cmpGTE, false)
	}
	add("Bool", famBool, cmpEq, false)
	add("BinaryEquals", famBinary, cmpEq, false)
	add("IpAddress", famIP, cmpEq, false)
	add("NotIpAddress", famIP, cmpEq, true)
	// ArnEquals and ArnLike behave identically (ecs-facts §5.4).
	add("ArnEquals", famARN, cmpLike, false)
	add("ArnLike", famARN, cmpLike, false)
	add("ArnNotEquals", famARN, cmpLike, true)
	add("ArnNotLike", famARN, cmpLike, true)
	add("Null", famNull, cmpEq, false)
	return m
}()

type operator struct {
	opSpec
	set       setMode
	ifExists  bool
	canonical string // full canonical spelling
}

// parseOperator validates an operator name: optional ForAllValues: or
// ForAnyValue: prefix, a known base operator, optional IfExists suffix (not
// on Null). Spelling is accepted case-insensitively; the canonical spelling
// is returned so that a warning can name a deviation.
func parseOperator(s string) (operator, string) {
	var op operator
	rest := s
	prefix := ""
	switch {
	case hasPrefixFold(rest, "ForAllValues:"):
		op.set, prefix, rest = setForAll, "ForAllValues:", rest[len("ForAllValues:"):]
	case hasPrefixFold(rest, "ForAnyValue:"):
		op.set, prefix, rest = setForAny, "ForAnyValue:", rest[len("ForAnyValue:"):]
	}
	spec, ok := baseOperators[strings.ToLower(rest)]
	suffix := ""
	if !ok && len(rest) > len("IfExists") && strings.EqualFold(rest[len(rest)-len("IfExists"):], "IfExists") {
		spec, ok = baseOperators[strings.ToLower(rest[:len(rest)-len("IfExists")])]
		op.ifExists, suffix = true, "IfExists"
	}
	if !ok {
		return op, "unknown condition operator " + quote(s)
	}
	if spec.fam == famNull && op.ifExists {
		return op, "condition operator Null has no IfExists form"
	}
	if spec.fam == famNull && op.set != setNone {
		return op, "condition operator Null cannot be used with " + prefix
	}
	op.opSpec = spec
	op.canonical = prefix + spec.canonical + suffix
	return op, ""
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// validConditionKey: prefix:name, the prefix of [A-Za-z0-9-]+, a non-empty
// name, and a colon in the name only after a slash
// (aws:ResourceTag/aws:cloudformation:stack-name).
func validConditionKey(k string) bool {
	i := strings.IndexByte(k, ':')
	if i <= 0 {
		return false
	}
	for j := 0; j < i; j++ {
		c := k[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	name := k[i+1:]
	if name == "" {
		return false
	}
	colon := strings.IndexByte(name, ':')
	if colon >= 0 {
		slash := strings.IndexByte(name, '/')
		if slash < 0 || colon < slash {
			return false
		}
	}
	return true
}

type compiledCond struct {
	operator
	key     string // lower-case
	written string // as written
	// broken: a policy value could not be parsed for the operator's type;
	// the condition is then false (ecs-facts §5.4; a Policy warning says so).
	broken   bool
	nullWant bool // Null: "true" means the key must be absent
	vals     []condVal
}

type condVal struct {
	s    string
	num  float64
	t    time.Time
	pfx  netip.Prefix
	bin  []byte
	b    bool
	arn  resourcePattern
	tmpl *template
}

// compileCondition pre-parses the values for the operator's type. It
// returns a warning (not an error) for values that do not parse.
func compileCondition(op operator, key string, values []string, vars bool, warn func(string)) compiledCond {
	c := compiledCond{operator: op, key: strings.ToLower(key), written: key}
	c.vals = make([]condVal, len(values))
	bad := func(v, what string) {
		c.broken = true
		warn(op.canonical + ": value " + quote(v) + " of key " + quote(key) + " is not " + what + "; the condition is always false")
	}
	for i, v := range values {
		cv := condVal{s: v}
		switch op.fam {
		case famString:
			if vars {
				cv.tmpl = parseTemplate(v, warn)
			}
		case famARN:
			if vars {
				cv.tmpl = parseTemplate(v, warn)
			}
			cv.arn = compileResourceLiteral(v)
		case famNumeric:
			n, ok := parseNumber(v)
			if !ok {
				bad(v, "a number")
			}
			cv.num = n
		case famDate:
			t, ok := parseDate(v)
			if !ok {
				bad(v, "a date (ISO 8601 or epoch seconds)")
			}
			cv.t = t
		case famBool:
			b, ok := parseBool(v)
			if !ok {
				bad(v, "true or false")
			}
			cv.b = b
		case famNull:
			b, ok := parseBool(v)
			if !ok {
				bad(v, "true or false")
			}
			cv.b = b
		case famBinary:
			b, ok := parseBinary(v)
			if !ok {
				bad(v, "base64")
			}
			cv.bin = b
		case famIP:
			p, ok := parseCIDR(v)
			if !ok {
				bad(v, "an IP address or CIDR block")
			}
			cv.pfx = p
		}
		c.vals[i] = cv
	}
	if op.fam == famNull && len(values) > 0 {
		if len(values) > 1 {
			warn("Null: key " + quote(key) + " has several values; only the first is used")
		}
		c.nullWant = c.vals[0].b
	}
	return c
}

func parseCIDR(s string) (netip.Prefix, bool) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		a := p.Addr()
		bits := p.Bits()
		if a.Is4In6() && bits >= 96 {
			a, bits = a.Unmap(), bits-96
		}
		return netip.PrefixFrom(a, bits).Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// ---- principals ----

type principalKind uint8

const (
	pkNone    principalKind = iota
	pkAccount               // the principal's account (delegation)
	pkDirect                // the role ARN, "*", a service, a user: limited by the boundary
	pkSession               // the exact assumed-role session ARN
)

type awsPrincipal struct {
	raw     string
	star    bool
	account string // account ID or root ARN
	// role ARN: account and last path segment, to match its sessions.
	roleAccount string
	roleName    string
}

type principalMatcher struct {
	wildcard  bool
	aws       []awsPrincipal
	services  []string // lower-case
	federated []string
	canonical []string
}

func compilePrincipal(p *Principal) *principalMatcher {
	if p == nil {
		return nil
	}
	m := &principalMatcher{wildcard: p.Wildcard}
	for _, v := range p.Values["AWS"] {
		ap := awsPrincipal{raw: v}
		switch {
		case v == "*":
			ap.star = true
		case isAccountID(v):
			ap.account = v
		default:
			if a, ok := ParseARN(v); ok && a.Service == "iam" {
				switch {
				case a.Resource == "root":
					ap.account = a.Account
				case strings.HasPrefix(a.Resource, "role/"):
					ap.roleAccount = a.Account
					ap.roleName = a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]
				}
			}
		}
		m.aws = append(m.aws, ap)
	}
	for _, v := range p.Values["Service"] {
		m.services = append(m.services, strings.ToLower(v))
	}
	m.federated = p.Values["Federated"]
	m.canonical = p.Values["CanonicalUser"]
	return m
}

// requestPrincipal is the caller, analysed once per evaluation.
type requestPrincipal struct {
	raw      string
	account  string
	isRole   bool
	session  bool
	roleName string // for a session: the role's name
	service  bool
	root     bool // an account ID or account root ARN
}

func (r *requestPrincipal) set(p string) {
	*r = requestPrincipal{raw: p, root: isAccountID(p)}
	if r.root {
		r.account = p
		return
	}
	var a arnParts
	a.split(p)
	if a.n == 6 && a.p[0] == "arn" {
		r.account = a.p[4]
		svc, res := a.p[2], a.p[5]
		switch {
		case svc == "iam" && res == "root":
			r.root = true
		case svc == "iam" && strings.HasPrefix(res, "role/"):
			r.isRole = true
		case svc == "sts" && strings.HasPrefix(res, "assumed-role/"):
			rest := res[len("assumed-role/"):]
			if i := strings.IndexByte(rest, '/'); i > 0 && i < len(rest)-1 {
				r.session, r.roleName = true, rest[:i]
			}
		}
		return
	}
	if strings.HasSuffix(p, ".amazonaws.com") || strings.HasSuffix(p, ".amazonaws.com.cn") {
		r.service = true
	}
}

// match returns how a Principal element names the caller: not at all, its
// account only (a delegation), directly, or as the exact session.
func (m *principalMatcher) match(r *requestPrincipal) principalKind {
	if m.wildcard {
		return pkDirect
	}
	best := pkNone
	for i := range m.aws {
		k := m.aws[i].match(r)
		if k > best {
			best = k
		}
	}
	if best == pkNone && r.raw != "" {
		for _, s := range m.services {
			if eqFoldASCII(s, r.raw) {
				return pkDirect
			}
		}
		for _, s := range m.federated {
			if s == r.raw {
				return pkDirect
			}
		}
		for _, s := range m.canonical {
			if s == r.raw {
				return pkDirect
			}
		}
	}
	return best
}

func (a *awsPrincipal) match(r *requestPrincipal) principalKind {
	switch {
	case a.star:
		return pkDirect
	case r.raw == "":
		return pkNone
	case a.raw == r.raw:
		if r.session {
			return pkSession
		}
		return pkDirect
	case a.account != "":
		if a.account == r.account && !r.service {
			return pkAccount
		}
	case a.roleName != "":
		// A role ARN also names the role's sessions (role path ignored in
		// the session form, ecs-facts §4).
		if r.session && a.roleAccount == r.account && a.roleName == r.roleName {
			return pkDirect
		}
	}
	return pkNone
}

// excludes reports whether a NotPrincipal element exempts the caller. The
// caller is exempt only when both its account and its own identity are
// listed (for a session: the session ARN or its role ARN), because AWS may
// check the account, the role and the session in turn (IAMUG
// reference_policies_elements_notprincipal: "you must also specify the
// account ARN"). "*" exempts everyone; a service principal is exempt when
// listed.
func (m *principalMatcher) excludes(r *requestPrincipal) bool {
	if m.wildcard {
		return true
	}
	accountListed, identityListed := false, false
	for i := range m.aws {
		a := &m.aws[i]
		switch {
		case a.star:
			return true
		case r.raw == "":
		case a.account != "" && a.account == r.account:
			accountListed = true
			if r.raw == a.raw || r.root {
				identityListed = true
			}
		case a.raw == r.raw:
			identityListed = true
		case a.roleName != "" && r.session && a.roleAccount == r.account && a.roleName == r.roleName:
			identityListed = true
		}
	}
	if accountListed && identityListed {
		return true
	}
	if r.account == "" && r.raw != "" {
		// Services, federated and canonical users: exempt when listed.
		return m.match(r) == pkDirect
	}
	return false
}

// statementIndex finds the statements that can match an action without
// looking at the others: most statements of a real role name other services.
type statementIndex struct {
	built bool
	// ids are the interned services the statements name, ascending, and
	// lists[i] the statements naming ids[i], ascending.
	ids   []uint32
	lists [][]int32
	// always are the statements without an interned literal service
	// (NotAction, "*", "s3*:...", services beyond the registry's cap).
	always []int32
}

func buildIndex(stmts []*Statement) statementIndex {
	ix := statementIndex{built: true}
	by := map[uint32][]int32{}
	for i, st := range stmts {
		svcs := st.compiled.services
		var ids []uint32
		for _, s := range svcs {
			id, ok := internService(s)
			if !ok {
				ids = nil
				break
			}
			ids = append(ids, id)
		}
		if svcs == nil || ids == nil {
			ix.always = append(ix.always, int32(i))
			continue
		}
		for _, id := range ids {
			by[id] = append(by[id], int32(i))
		}
	}
	for id := range by {
		ix.ids = append(ix.ids, id)
	}
	slices.Sort(ix.ids)
	for _, id := range ix.ids {
		ix.lists = append(ix.lists, by[id])
	}
	return ix
}

// forService returns the statements naming the service with the given id.
func (ix *statementIndex) forService(id uint32) []int32 {
	lo, hi := 0, len(ix.ids)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch {
		case ix.ids[m] < id:
			lo = m + 1
		case ix.ids[m] > id:
			hi = m
		default:
			return ix.lists[m]
		}
	}
	return nil
}

// The service registry gives every literal service prefix met by Parse a
// small number, so that Evaluate looks the request's service up once rather
// than once per policy. It is copy-on-write: Evaluate reads it with one
// atomic load. It is capped, because Parse may see arbitrary input; services
// beyond the cap are simply not indexed.
const maxServices = 4096

var services struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]uint32]
}

func internService(s string) (uint32, bool) {
	if m := services.m.Load(); m != nil {
		if id, ok := (*m)[s]; ok {
			return id, true
		}
	}
	services.mu.Lock()
	defer services.mu.Unlock()
	old := services.m.Load()
	if old != nil {
		if id, ok := (*old)[s]; ok {
			return id, true
		}
		if len(*old) >= maxServices {
			return 0, false
		}
	}
	n := make(map[string]uint32, 1+lenOf(old))
	if old != nil {
		for k, v := range *old {
			n[k] = v
		}
	}
	id := uint32(len(n))
	n[strings.Clone(s)] = id
	services.m.Store(&n)
	return id, true
}

func lenOf(m *map[string]uint32) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// serviceID looks a lower-case service up without locking.
func serviceID(s string) (uint32, bool) {
	m := services.m.Load()
	if m == nil {
		return 0, false
	}
	id, ok := (*m)[s]
	return id, ok
}

// IsConditionKey reports whether k has the form of a condition key:
// prefix:name with a prefix of letters, digits and hyphens, and a colon in
// the name only after a slash (aws:ResourceTag/aws:cloudformation:stack-name).
func IsConditionKey(k string) bool { return validConditionKey(k) }
