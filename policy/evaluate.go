package policy

import (
	"sort"
	"strconv"
	"strings"
)

// flags summarises one layer (or one SCP/RCP level) for one request: whether
// an Allow or a Deny statement applies for certain or possibly.
type flags struct {
	allowYes, allowMaybe, denyYes, denyMaybe bool
}

func (f *flags) add(deny bool, t Tri) {
	switch {
	case deny && t == TriTrue:
		f.denyYes = true
	case deny:
		f.denyMaybe = true
	case t == TriTrue:
		f.allowYes = true
	default:
		f.allowMaybe = true
	}
}

// allow in the best case counts possible allows; in the worst only certain.
func (f *flags) allow(best bool) bool { return f.allowYes || (best && f.allowMaybe) }

// deny in the best case counts only certain denies; in the worst possible ones too.
func (f *flags) deny(best bool) bool { return f.denyYes || (!best && f.denyMaybe) }

// rpFlags adds, for the resource policy, how the allowing statements name
// the principal.
type rpFlags struct {
	flags
	yes, maybe [4]bool // indexed by principalKind
}

func (f *rpFlags) has(best bool, k principalKind) bool { return f.yes[k] || (best && f.maybe[k]) }

type why uint8

const (
	whyExplicit        why = iota
	whyNoAllowLevel        // SCP/RCP level without an allow
	whyNoIdentity          // no identity allow
	whyNoIdentityDeleg     // KMS key policy delegates, identity does not allow
	whyBoundary            // boundary does not allow
	whyRPNoGrant           // cross-account: the resource policy does not allow
	whyKMSNoGrant          // key policy neither allows nor delegates
	whyTrustNoGrant        // trust policy does not allow
	whyRPMissing           // the needed resource policy was not provided
	whyRPAbsent            // the needed resource policy is known not to exist
	whyAllowIdentity       // identity (and boundary) allow, same account
	whyAllowRPSession      // resource policy names the session
	whyAllowRPDirect       // resource policy names the role / "*" (and boundary allows)
	whyAllowDelegated      // KMS key policy delegates to the account, identity allows
	whyAllowCross          // cross-account: identity and resource policy allow
	whyAllowTrust          // trust policy allows
)

type outcome struct {
	d     Decision
	layer Layer
	level int
	why   why
}

// rank orders decisions from the requester's point of view.
func rank(d Decision) int {
	switch d {
	case Allowed:
		return 2
	case ImplicitDeny:
		return 1
	}
	return 0
}

const maxStackLevels = 8

// hit is one statement that applies (true or unknown) to the request,
// recorded by the scan so that the Result can be built without a second
// pass.
type hit struct {
	pol   *NamedPolicy
	st    *Statement
	level int32
	layer layerID
	t     Tri
	pk    principalKind
	// partial: the Resource matches only some values of the request's
	// unknown resource segment.
	partial bool
}

// layerID is a Layer as a small number, in evaluation order.
type layerID uint8

const (
	lidSCP layerID = iota
	lidRCP
	lidRP
	lidID
	lidBD
	lidEP // the VPC endpoint policy (endpoint.go)
)

var layerNames = [...]Layer{LayerSCP, LayerRCP, LayerResourcePolicy, LayerIdentity, LayerBoundary, LayerVPCEndpoint}

func (h *hit) ref() StatementRef {
	return StatementRef{Layer: layerNames[h.layer], Level: int(h.level), Policy: h.pol.Name, Sid: h.st.Sid, Index: h.st.Index,
		Effect: h.st.Effect, Conditional: h.t == TriUnknown, PartialResource: h.partial}
}

const maxHits = 32

type evaluator struct {
	in *Input
	r  evalReq
	// Per-level flags: in the arrays for up to maxStackLevels levels, in
	// the slices beyond (never pointing into the struct itself, so that the
	// evaluator stays on the stack).
	scpBuf  [maxStackLevels]flags
	rcpBuf  [maxStackLevels]flags
	scpHeap []flags
	rcpHeap []flags
	nscp    int
	nrcp    int
	id, bd  flags
	rp      rpFlags
	hasBD   bool
	hasRP   bool
	// ep is the VPC endpoint policy's layer (endpoint.go).
	ep    endpointState
	cross bool
	// crossUnknown: the resource's account is in the unknown part of a
	// partly known resource; both answers to "cross-account?" are decided.
	crossUnknown bool
	resAcct      string
	// hits recorded by scan; when more than maxHits applied, overflow is
	// set and the result is built by walking the layers again.
	hits     [maxHits]hit
	nhits    int
	overflow bool
	// svcID is the request's service in the service registry.
	svcID    uint32
	svcKnown bool
}

var emptyInput Input

// Evaluate decides one request against the layers of in, following
// ecs-facts §5.1:
//
//  1. an explicit Deny that applies in any layer (SCP levels, RCP levels,
//     resource policy, identity policies, permissions boundary) decides;
//  2. every SCP level must have an applying Allow;
//  3. every RCP level likewise (RCP statements also match on Principal);
//  4. the identity policies, the permissions boundary and the resource
//     policy: in the same account an Allow in the identity policies (within
//     the boundary) or a resource-policy Allow naming the principal is
//     enough (naming the role ARN or "*" is still limited by the boundary,
//     naming the exact session ARN is not; naming the account root only
//     delegates). Across accounts both sides must allow. A KMS key policy
//     must allow by itself or delegate to the account; a trust policy alone
//     decides.
//
// Conditions are three-valued. The decision is computed with every unknown
// condition going the requester's way (best case) and against (worst case):
// both Allowed → Allowed; best case not Allowed → that decision, which is
// then certain; otherwise Indeterminate with both outcomes, the conditional
// statements and the unknown keys. A resource policy that is needed but not
// provided (cross-account, KMS, trust) is treated the same way, and so is a
// statement whose Resource matches only some values of the unknown part of
// a partly known resource (Request.ResourceUnknown): an Allow that covers
// every value with no Deny that could match is Allowed, a Deny that covers
// every value is ExplicitDeny, anything between is Indeterminate with
// Result.UnknownResource naming the statements. Statements are treated as
// independent of each other, as for conditions, so two statements that
// together cover every value (and neither alone) give Indeterminate: never
// a certainty that does not hold. An invalid ResourceUnknown gives
// Indeterminate with the reason.
//
// Principal and NotPrincipal are ignored in identity policies, boundaries and
// SCPs. Evaluate allocates only for the Result it returns.
func Evaluate(in *Input, req Request) Result {
	if in == nil {
		in = &emptyInput
	}
	var e evaluator
	if err := e.init(in, &req); err != nil {
		return Result{Decision: Indeterminate, Reason: "the unknown part of the request resource is invalid: " + err.Error(),
			Outcomes: &Outcomes{BestCase: Allowed, WorstCase: ExplicitDeny}}
	}
	e.scan()
	best := e.decide(true)
	worst := e.decide(false)
	bestCross, worstCross := e.cross, e.cross
	if e.crossUnknown {
		// The resource account is unknown: decide both ways and keep the
		// better best case and the worse worst case.
		e.cross = !e.cross
		b2, w2 := e.decide(true), e.decide(false)
		e.cross = !e.cross
		if rank(b2.d) > rank(best.d) {
			best, bestCross = b2, !e.cross
		}
		if rank(w2.d) < rank(worst.d) {
			worst, worstCross = w2, !e.cross
		}
	}
	switch {
	case best.d != Allowed:
		e.cross = bestCross
		return e.certain(best)
	case worst.d == Allowed:
		e.cross = worstCross
		return e.certain(worst)
	}
	return e.indeterminate(best, worst)
}

func (e *evaluator) init(in *Input, req *Request) error {
	e.in = in
	if err := e.r.set(req); err != nil {
		return err
	}
	e.svcID, e.svcKnown = serviceID(e.r.act.lservice)
	e.nscp, e.nrcp = len(in.SCPLevels), len(in.RCPLevels)
	if e.nscp > maxStackLevels {
		e.scpHeap = make([]flags, e.nscp)
	}
	if e.nrcp > maxStackLevels {
		e.rcpHeap = make([]flags, e.nrcp)
	}
	e.hasBD = len(in.Boundary) > 0
	e.ep.has = in.VPCEndpointPolicy != nil && in.VPCEndpointPolicy.Policy != nil
	e.hasRP = in.ResourcePolicy != nil && in.ResourcePolicy.Policy != nil
	for i := range in.ResourcePolicies {
		e.hasRP = e.hasRP || in.ResourcePolicies[i].Policy != nil
	}
	e.resAcct = in.ResourceAccount
	if e.resAcct == "" {
		a, unknown := AccountOf(req.Resource), false
		if e.r.unk != nil {
			a, unknown = e.r.unk.account(req.Resource)
		}
		if isAccountID(a) {
			e.resAcct = a
		}
		e.crossUnknown = unknown && e.r.prin.account != ""
	}
	pa := e.r.prin.account
	e.cross = pa != "" && e.resAcct != "" && pa != e.resAcct
	return nil
}

func (e *evaluator) scp(i int) *flags {
	if e.scpHeap != nil {
		return &e.scpHeap[i]
	}
	return &e.scpBuf[i]
}

func (e *evaluator) rcp(i int) *flags {
	if e.rcpHeap != nil {
		return &e.rcpHeap[i]
	}
	return &e.rcpBuf[i]
}

func (e *evaluator) record(h hit) {
	if e.nhits < maxHits {
		e.hits[e.nhits] = h
		e.nhits++
	} else {
		e.overflow = true
	}
}

func (e *evaluator) scanLayer(l layerID, level int, pols []NamedPolicy, pm principalMode, f *flags) {
	for i := range pols {
		p := pols[i].Policy
		if p == nil {
			continue
		}
		if !p.index.built {
			for _, st := range p.Statements {
				e.scanStatement(l, level, &pols[i], st, pm, f)
			}
			continue
		}
		// Merge the statements naming the request's service with those
		// that name no literal service, in statement order.
		var a []int32
		if e.svcKnown {
			a = p.index.forService(e.svcID)
		}
		b := p.index.always
		for len(a) > 0 || len(b) > 0 {
			var j int32
			switch {
			case len(b) == 0 || (len(a) > 0 && a[0] < b[0]):
				j, a = a[0], a[1:]
			default:
				j, b = b[0], b[1:]
			}
			e.scanStatement(l, level, &pols[i], p.Statements[j], pm, f)
		}
	}
}

func (e *evaluator) scanStatement(l layerID, level int, pol *NamedPolicy, st *Statement, pm principalMode, f *flags) {
	c := &st.compiled
	if t, pk, partial := c.applies(&e.r, pm); t != TriFalse {
		f.add(c.deny, t)
		e.record(hit{pol, st, int32(level), l, t, pk, partial})
	}
}

func (e *evaluator) scan() {
	for i, lvl := range e.in.SCPLevels {
		e.scanLayer(lidSCP, i, lvl, principalIgnored, e.scp(i))
	}
	for i, lvl := range e.in.RCPLevels {
		e.scanLayer(lidRCP, i, lvl, principalOptional, e.rcp(i))
	}
	if e.hasRP {
		if rp := e.in.ResourcePolicy; rp != nil && rp.Policy != nil {
			e.scanResourcePolicy(rp)
		}
		for i := range e.in.ResourcePolicies {
			if e.in.ResourcePolicies[i].Policy != nil {
				e.scanResourcePolicy(&e.in.ResourcePolicies[i])
			}
		}
	}
	e.scanLayer(lidID, 0, e.in.Identity, principalIgnored, &e.id)
	e.scanLayer(lidBD, 0, e.in.Boundary, principalIgnored, &e.bd)
	e.scanEndpoint()
}

// scanResourcePolicy scans one policy of the resource-policy layer.
func (e *evaluator) scanResourcePolicy(pol *NamedPolicy) {
	for _, st := range pol.Policy.Statements {
		c := &st.compiled
		t, pk, partial := c.applies(&e.r, principalRequired)
		if t == TriFalse {
			continue
		}
		e.rp.add(c.deny, t)
		if !c.deny {
			if t == TriTrue {
				e.rp.yes[pk] = true
			} else {
				e.rp.maybe[pk] = true
			}
		}
		e.record(hit{pol, st, 0, lidRP, t, pk, partial})
	}
}

// decideLayers decides on every layer but the VPC endpoint policy, which
// decide (endpoint.go) adds.
func (e *evaluator) decideLayers(best bool) outcome {
	for i := 0; i < e.nscp; i++ {
		if e.scp(i).deny(best) {
			return outcome{ExplicitDeny, LayerSCP, i, whyExplicit}
		}
	}
	for i := 0; i < e.nrcp; i++ {
		if e.rcp(i).deny(best) {
			return outcome{ExplicitDeny, LayerRCP, i, whyExplicit}
		}
	}
	if e.hasRP && e.rp.deny(best) {
		return outcome{ExplicitDeny, LayerResourcePolicy, 0, whyExplicit}
	}
	if e.id.deny(best) {
		return outcome{ExplicitDeny, LayerIdentity, 0, whyExplicit}
	}
	if e.hasBD && e.bd.deny(best) {
		return outcome{ExplicitDeny, LayerBoundary, 0, whyExplicit}
	}
	for i := 0; i < e.nscp; i++ {
		if !e.scp(i).allow(best) {
			return outcome{ImplicitDeny, LayerSCP, i, whyNoAllowLevel}
		}
	}
	for i := 0; i < e.nrcp; i++ {
		if !e.rcp(i).allow(best) {
			return outcome{ImplicitDeny, LayerRCP, i, whyNoAllowLevel}
		}
	}
	idOK := e.id.allow(best)
	bdOK := !e.hasBD || e.bd.allow(best)
	sess := e.hasRP && e.rp.has(best, pkSession)
	direct := e.hasRP && e.rp.has(best, pkDirect)
	acct := e.hasRP && e.rp.has(best, pkAccount)
	missing := func() outcome {
		if e.in.ResourcePolicyAbsent {
			return outcome{ImplicitDeny, LayerResourcePolicy, 0, whyRPAbsent}
		}
		if best {
			return outcome{Allowed, LayerResourcePolicy, 0, whyRPMissing}
		}
		return outcome{ImplicitDeny, LayerResourcePolicy, 0, whyRPMissing}
	}
	switch e.in.ResourcePolicyKind {
	case ResourcePolicyTrust:
		if !e.hasRP {
			return missing()
		}
		if e.rp.allow(best) {
			return outcome{Allowed, LayerResourcePolicy, 0, whyAllowTrust}
		}
		return outcome{ImplicitDeny, LayerResourcePolicy, 0, whyTrustNoGrant}
	case ResourcePolicyKMSKey:
		if e.cross || !e.hasRP {
			if e.cross && !idOK {
				return outcome{ImplicitDeny, LayerIdentity, 0, whyNoIdentity}
			}
			if e.cross && !bdOK {
				return outcome{ImplicitDeny, LayerBoundary, 0, whyBoundary}
			}
			if !e.hasRP {
				return missing()
			}
			if sess || direct || acct {
				return outcome{Allowed, LayerResourcePolicy, 0, whyAllowCross}
			}
			return outcome{ImplicitDeny, LayerResourcePolicy, 0, whyRPNoGrant}
		}
		switch {
		case sess:
			return outcome{Allowed, LayerResourcePolicy, 0, whyAllowRPSession}
		case direct && bdOK:
			return outcome{Allowed, LayerResourcePolicy, 0, whyAllowRPDirect}
		case acct && idOK && bdOK:
			return outcome{Allowed, LayerIdentity, 0, whyAllowDelegated}
		case direct, acct && idOK:
			return outcome{ImplicitDeny, LayerBoundary, 0, whyBoundary}
		case acct:
			return outcome{ImplicitDeny, LayerIdentity, 0, whyNoIdentityDeleg}
		}
		return outcome{ImplicitDeny, LayerResourcePolicy, 0, whyKMSNoGrant}
	}
	if e.cross {
		if !idOK {
			return outcome{ImplicitDeny, LayerIdentity, 0, whyNoIdentity}
		}
		if !bdOK {
			return outcome{ImplicitDeny, LayerBoundary, 0, whyBoundary}
		}
		if !e.hasRP {
			return missing()
		}
		if sess || direct || acct {
			return outcome{Allowed, LayerResourcePolicy, 0, whyAllowCross}
		}
		return outcome{ImplicitDeny, LayerResourcePolicy, 0, whyRPNoGrant}
	}
	switch {
	case idOK && bdOK:
		return outcome{Allowed, LayerIdentity, 0, whyAllowIdentity}
	case sess:
		return outcome{Allowed, LayerResourcePolicy, 0, whyAllowRPSession}
	case direct && bdOK:
		return outcome{Allowed, LayerResourcePolicy, 0, whyAllowRPDirect}
	case direct || idOK:
		return outcome{ImplicitDeny, LayerBoundary, 0, whyBoundary}
	}
	return outcome{ImplicitDeny, LayerIdentity, 0, whyNoIdentity}
}

// ---- collecting the statements behind a decision ----

type layerSet uint8

const (
	setSCP layerSet = 1 << iota
	setRCP
	setRP
	setID
	setBD
	setEP
	setAll = setSCP | setRCP | setRP | setID | setBD | setEP
)

// visit calls fn for every statement of the layers in ls that applies (true
// or unknown), in a fixed order: SCP levels, RCP levels, resource policy,
// identity, boundary; within a layer in input order.
func (e *evaluator) visit(ls layerSet, fn func(h hit)) {
	if !e.overflow {
		for i := 0; i < e.nhits; i++ {
			if ls&(1<<e.hits[i].layer) != 0 {
				fn(e.hits[i])
			}
		}
		return
	}
	layer := func(l layerID, level int, pols []NamedPolicy, pm principalMode) {
		for i := range pols {
			p := pols[i].Policy
			if p == nil {
				continue
			}
			for _, st := range p.Statements {
				if t, pk, partial := st.compiled.applies(&e.r, pm); t != TriFalse {
					fn(hit{&pols[i], st, int32(level), l, t, pk, partial})
				}
			}
		}
	}
	if ls&setSCP != 0 {
		for i, lvl := range e.in.SCPLevels {
			layer(lidSCP, i, lvl, principalIgnored)
		}
	}
	if ls&setRCP != 0 {
		for i, lvl := range e.in.RCPLevels {
			layer(lidRCP, i, lvl, principalOptional)
		}
	}
	if ls&setRP != 0 && e.hasRP {
		if rp := e.in.ResourcePolicy; rp != nil {
			layer(lidRP, 0, []NamedPolicy{*rp}, principalRequired)
		}
		layer(lidRP, 0, e.in.ResourcePolicies, principalRequired)
	}
	if ls&setID != 0 {
		layer(lidID, 0, e.in.Identity, principalIgnored)
	}
	if ls&setBD != 0 {
		layer(lidBD, 0, e.in.Boundary, principalIgnored)
	}
	if ls&setEP != 0 && e.ep.has {
		layer(lidEP, 0, []NamedPolicy{*e.in.VPCEndpointPolicy}, principalRequired)
	}
}

// certain builds the Result of a decision that does not depend on unknowns.
func (e *evaluator) certain(o outcome) Result {
	res := Result{Decision: o.d, DecidingLayer: o.layer, Level: o.level}
	switch o.d {
	case ExplicitDeny:
		e.visit(setAll, func(h hit) {
			if h.st.compiled.deny && h.t == TriTrue {
				res.Statements = append(res.Statements, h.ref())
			}
		})
	case Allowed:
		var ls layerSet
		switch o.why {
		case whyAllowIdentity:
			ls = setID | setBD
		case whyAllowRPSession, whyAllowTrust:
			ls = setRP
		case whyAllowRPDirect:
			ls = setRP | setBD
		case whyAllowEndpoint:
			ls = 0
		default: // delegated, cross-account
			ls = setRP | setID | setBD
		}
		if e.ep.has {
			ls |= setEP
		}
		n := 0
		e.visit(ls, func(h hit) {
			if !h.st.compiled.deny && h.t == TriTrue {
				n++
			}
		})
		res.Statements = make([]StatementRef, 0, n)
		e.visit(ls, func(h hit) {
			if !h.st.compiled.deny && h.t == TriTrue {
				res.Statements = append(res.Statements, h.ref())
			}
		})
	}
	res.Reason = e.reason(o, res.Statements, nil, outcome{})
	return res
}

// indeterminate builds the Result when the best case is Allowed and the
// worst case is not.
func (e *evaluator) indeterminate(best, worst outcome) Result {
	res := Result{Decision: Indeterminate, DecidingLayer: worst.layer, Level: worst.level,
		Outcomes: &Outcomes{BestCase: best.d, WorstCase: worst.d}}
	// Which levels already allow for certain: their conditional allows do
	// not matter.
	certainAllow := func(ref StatementRef) bool {
		switch ref.Layer {
		case LayerSCP:
			return e.scp(ref.Level).allowYes
		case LayerRCP:
			return e.rcp(ref.Level).allowYes
		case LayerResourcePolicy:
			return e.rp.allowYes
		case LayerIdentity:
			return e.id.allowYes || e.in.ResourcePolicyKind == ResourcePolicyTrust
		case LayerVPCEndpoint:
			return e.ep.allowYes
		}
		return e.bd.allowYes || e.in.ResourcePolicyKind == ResourcePolicyTrust
	}
	keyIdx := map[string]int{}
	collect := func(filter bool) {
		e.visit(setAll, func(h hit) {
			c := &h.st.compiled
			ref := h.ref()
			if h.t != TriUnknown || (filter && !c.deny && certainAllow(ref)) {
				return
			}
			res.Statements = append(res.Statements, ref)
			c.unknownKeys(&e.r, func(k string) {
				lk := strings.ToLower(k)
				i, ok := keyIdx[lk]
				if !ok {
					i = len(res.UnknownKeys)
					keyIdx[lk] = i
					res.UnknownKeys = append(res.UnknownKeys, UnknownKey{Key: k})
				}
				uk := &res.UnknownKeys[i]
				if n := len(uk.Statements); n == 0 || uk.Statements[n-1] != ref {
					uk.Statements = append(uk.Statements, ref)
				}
			})
		})
	}
	collect(true)
	if len(res.Statements) == 0 {
		collect(false)
	}
	sort.SliceStable(res.UnknownKeys, func(i, j int) bool {
		return strings.ToLower(res.UnknownKeys[i].Key) < strings.ToLower(res.UnknownKeys[j].Key)
	})
	if e.r.unk != nil {
		for _, ref := range res.Statements {
			if !ref.PartialResource {
				continue
			}
			if res.UnknownResource == nil {
				res.UnknownResource = &UnknownResource{Resource: e.r.display(), Unknown: *e.r.unk.seg}
			}
			res.UnknownResource.Statements = append(res.UnknownResource.Statements, ref)
		}
	}
	res.Reason = e.reason(best, res.Statements, res.UnknownKeys, worst)
	return res
}

// ---- reasons ----

func (e *evaluator) appendLayer(b []byte, l Layer, level int) []byte {
	switch l {
	case LayerSCP:
		b = append(b, "SCP level "...)
		return strconv.AppendInt(b, int64(level), 10)
	case LayerRCP:
		b = append(b, "RCP level "...)
		return strconv.AppendInt(b, int64(level), 10)
	case LayerResourcePolicy:
		return append(b, e.rpNoun()...)
	case LayerIdentity:
		return append(b, "an identity policy"...)
	case LayerVPCEndpoint:
		return append(b, "the VPC endpoint policy"...)
	}
	return append(b, "the permissions boundary"...)
}

func (e *evaluator) rpNoun() string {
	switch e.in.ResourcePolicyKind {
	case ResourcePolicyKMSKey:
		return "the KMS key policy"
	case ResourcePolicyTrust:
		return "the trust policy"
	}
	return "the resource policy"
}

func appendRef(b []byte, ref *StatementRef) []byte {
	b = append(b, "policy "...)
	b = append(b, ref.Policy...)
	b = append(b, ", statement "...)
	b = strconv.AppendInt(b, int64(ref.Index), 10)
	if ref.Sid != "" {
		b = append(b, ' ')
		b = strconv.AppendQuote(b, ref.Sid)
	}
	return b
}

func appendNames(b []byte, pols []NamedPolicy) []byte {
	if len(pols) == 0 {
		return append(b, "no policies"...)
	}
	if len(pols) == 1 {
		b = append(b, "policy "...)
	} else {
		b = append(b, "policies "...)
	}
	for i := range pols {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, pols[i].Name...)
	}
	return b
}

func (e *evaluator) appendRequest(b []byte) []byte {
	b = append(b, e.r.act.action...)
	b = append(b, " on "...)
	if e.r.unk != nil {
		return append(b, e.r.display()...)
	}
	return append(b, e.r.resource...)
}

func (e *evaluator) appendPrincipal(b []byte) []byte {
	if e.r.prin.raw == "" {
		return append(b, "the principal"...)
	}
	b = append(b, "principal "...)
	return append(b, e.r.prin.raw...)
}

func (e *evaluator) appendRPName(b []byte) []byte {
	b = append(b, e.rpNoun()...)
	if !e.hasRP {
		return b
	}
	n := 0
	name := func(pol *NamedPolicy) {
		if pol == nil || pol.Policy == nil {
			return
		}
		if n == 0 {
			b = append(b, " (policy "...)
		} else {
			b = append(b, ", policy "...)
		}
		b = append(b, pol.Name...)
		n++
	}
	name(e.in.ResourcePolicy)
	for i := range e.in.ResourcePolicies {
		name(&e.in.ResourcePolicies[i])
	}
	return append(b, ')')
}

// reason writes one sentence. For an Indeterminate decision o is the best
// case and worst the worst case.
func (e *evaluator) reason(o outcome, refs []StatementRef, keys []UnknownKey, worst outcome) string {
	var buf [256]byte
	b := buf[:0]
	if worst.d != "" {
		return string(e.appendIndeterminate(b, o, refs, keys, worst))
	}
	switch o.why {
	case whyExplicit:
		b = append(b, "explicit Deny in "...)
		b = e.appendLayer(b, o.layer, o.level)
		for i := range refs {
			if refs[i].Layer == o.layer && refs[i].Level == o.level {
				b = append(b, " ("...)
				b = appendRef(b, &refs[i])
				b = append(b, ')')
				break
			}
		}
	case whyNoAllowLevel:
		pols, noun := e.in.SCPLevels, "no SCP at level "
		if o.layer == LayerRCP {
			pols, noun = e.in.RCPLevels, "no RCP at level "
		}
		b = append(b, noun...)
		b = strconv.AppendInt(b, int64(o.level), 10)
		b = append(b, " ("...)
		b = appendNames(b, pols[o.level])
		b = append(b, ") allows "...)
		b = e.appendRequest(b)
	case whyNoIdentity:
		b = append(b, "no identity policy ("...)
		b = appendNames(b, e.in.Identity)
		b = append(b, ") allows "...)
		b = e.appendRequest(b)
		if e.cross {
			b = append(b, " (cross-account: the identity policies of account "...)
			b = append(b, e.r.prin.account...)
			b = append(b, " must allow)"...)
		}
	case whyNoIdentityDeleg:
		b = e.appendRPName(b)
		b = append(b, " delegates to account "...)
		b = append(b, e.r.prin.account...)
		b = append(b, " but no identity policy allows "...)
		b = e.appendRequest(b)
	case whyBoundary:
		b = append(b, "the permissions boundary ("...)
		b = appendNames(b, e.in.Boundary)
		b = append(b, ") does not allow "...)
		b = e.appendRequest(b)
	case whyRPNoGrant:
		b = e.appendRPName(b)
		if e.resAcct != "" {
			b = append(b, " of account "...)
			b = append(b, e.resAcct...)
		}
		b = append(b, " does not allow "...)
		b = e.appendPrincipal(b)
		b = append(b, " (cross-account access needs both sides) to perform "...)
		b = e.appendRequest(b)
	case whyKMSNoGrant:
		b = e.appendRPName(b)
		b = append(b, " neither allows "...)
		b = e.appendPrincipal(b)
		b = append(b, " nor delegates to account "...)
		b = append(b, e.r.prin.account...)
		b = append(b, " for "...)
		b = e.appendRequest(b)
	case whyRPAbsent:
		b = append(b, "the resource"...)
		if e.resAcct != "" {
			b = append(b, " of account "...)
			b = append(b, e.resAcct...)
		}
		b = append(b, " has no "...)
		b = append(b, strings.TrimPrefix(e.rpNoun(), "the ")...)
		b = append(b, ", so nothing allows "...)
		b = e.appendPrincipal(b)
		b = append(b, " to perform "...)
		b = e.appendRequest(b)
		if e.cross {
			b = append(b, " (cross-account access needs both sides)"...)
		}
	case whyTrustNoGrant:
		b = e.appendRPName(b)
		b = append(b, " does not allow "...)
		b = e.appendPrincipal(b)
		b = append(b, " to perform "...)
		b = append(b, e.r.act.action...)
	case whyAllowIdentity:
		b = append(b, "allowed by an identity policy"...)
		b = e.appendFirst(b, refs, LayerIdentity)
		if e.hasBD {
			b = append(b, " within the permissions boundary"...)
		}
	case whyAllowRPSession, whyAllowRPDirect, whyAllowTrust:
		b = append(b, "allowed by "...)
		b = append(b, e.rpNoun()...)
		b = e.appendFirst(b, refs, LayerResourcePolicy)
		switch o.why {
		case whyAllowRPSession:
			b = append(b, ", which names the role session directly (not limited by a permissions boundary)"...)
		case whyAllowRPDirect:
			b = append(b, ", which names the principal"...)
			if e.hasBD {
				b = append(b, " within the permissions boundary"...)
			}
		}
	case whyAllowDelegated:
		b = append(b, "allowed by an identity policy"...)
		b = e.appendFirst(b, refs, LayerIdentity)
		b = append(b, " under the delegation to account "...)
		b = append(b, e.r.prin.account...)
		b = append(b, " in "...)
		b = e.appendRPName(b)
	case whyEndpointNoGrant, whyAllowEndpoint:
		b = e.appendEndpointReason(b, o, refs)
	case whyAllowCross:
		b = append(b, "allowed across accounts by an identity policy"...)
		b = e.appendFirst(b, refs, LayerIdentity)
		b = append(b, " and "...)
		b = append(b, e.rpNoun()...)
		b = e.appendFirst(b, refs, LayerResourcePolicy)
	}
	return string(b)
}

func (e *evaluator) appendFirst(b []byte, refs []StatementRef, l Layer) []byte {
	for i := range refs {
		if refs[i].Layer == l {
			b = append(b, " ("...)
			b = appendRef(b, &refs[i])
			return append(b, ')')
		}
	}
	return b
}

func (e *evaluator) appendIndeterminate(b []byte, best outcome, refs []StatementRef, keys []UnknownKey, worst outcome) []byte {
	rpMissing := best.why == whyRPMissing || worst.why == whyRPMissing
	b = append(b, "the decision depends on "...)
	var partial *StatementRef
	for i := range refs {
		if refs[i].PartialResource {
			partial = &refs[i]
			break
		}
	}
	if partial != nil {
		b = append(b, "the unknown part of the resource "...)
		b = append(b, e.r.display()...)
		b = append(b, " ("...)
		b = append(b, e.r.unk.seg.Describe()...)
		b = append(b, "), which "...)
		b = e.appendLayer(b, partial.Layer, partial.Level)
		b = append(b, " ("...)
		b = appendRef(b, partial)
		b = append(b, ") matches only for some values"...)
		if len(keys) > 0 || rpMissing {
			b = append(b, ", and on "...)
		}
	}
	switch {
	case len(keys) > 0:
		if len(keys) == 1 {
			b = append(b, "the unknown condition key "...)
		} else {
			b = append(b, "the unknown condition keys "...)
		}
		for i := range keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, keys[i].Key...)
		}
		ref := &keys[0].Statements[0]
		b = append(b, " (in "...)
		b = e.appendLayer(b, ref.Layer, ref.Level)
		b = append(b, ", "...)
		b = appendRef(b, ref)
		b = append(b, ')')
	case len(refs) > 0 && partial == nil:
		b = append(b, "conditional statements (in "...)
		b = e.appendLayer(b, refs[0].Layer, refs[0].Level)
		b = append(b, ", "...)
		b = appendRef(b, &refs[0])
		b = append(b, ')')
	}
	if rpMissing {
		if len(keys) > 0 || (len(refs) > 0 && partial == nil) {
			b = append(b, " and on "...)
		}
		b = append(b, e.rpNoun()...)
		if e.resAcct != "" {
			b = append(b, " of account "...)
			b = append(b, e.resAcct...)
		}
		b = append(b, ", which was not provided"...)
	}
	b = append(b, ": "...)
	b = append(b, best.d...)
	b = append(b, " in the best case, "...)
	b = append(b, worst.d...)
	b = append(b, " in the worst case"...)
	return b
}
