package fakeaws

import (
	"strings"
	"time"

	"github.com/ecs-audit/audit/inventory"
)

func orgOps() map[string]opFunc {
	return map[string]opFunc{
		"DescribeOrganization":             (*Server).orgDescribeOrganization,
		"DescribeAccount":                  (*Server).orgDescribeAccount,
		"DescribeOrganizationalUnit":       (*Server).orgDescribeOU,
		"DescribePolicy":                   (*Server).orgDescribePolicy,
		"ListAccounts":                     (*Server).orgListAccounts,
		"ListRoots":                        (*Server).orgListRoots,
		"ListOrganizationalUnitsForParent": (*Server).orgListOUsForParent,
		"ListAccountsForParent":            (*Server).orgListAccountsForParent,
		"ListChildren":                     (*Server).orgListChildren,
		"ListParents":                      (*Server).orgListParents,
		"ListPoliciesForTarget":            (*Server).orgListPoliciesForTarget,
		"ListPolicies":                     (*Server).orgListPolicies,
		"ListTargetsForPolicy":             (*Server).orgListTargetsForPolicy,
	}
}

type orgPageIn struct {
	NextToken  string
	MaxResults *int32
}

type orgPolicyType struct {
	Type   string
	Status string
}

type orgOrganization struct {
	Id                   string
	Arn                  string
	FeatureSet           string
	MasterAccountArn     string
	MasterAccountId      string
	MasterAccountEmail   string          `json:",omitempty"`
	AvailablePolicyTypes []orgPolicyType `json:",omitempty"`
}

type orgAccount struct {
	Id              string
	Arn             string
	Email           string `json:",omitempty"`
	Name            string `json:",omitempty"`
	Status          string
	State           string
	JoinedMethod    string
	JoinedTimestamp float64
}

type orgRoot struct {
	Id          string
	Arn         string
	Name        string
	PolicyTypes []orgPolicyType
}

type orgOU struct {
	Id   string
	Arn  string
	Name string
}

type orgChild struct {
	Id   string
	Type string
}

type orgPolicySummary struct {
	Id          string
	Arn         string
	Name        string
	Description string
	Type        string
	AwsManaged  bool
}

// orgAccess checks that the caller may use Organizations; mgmtOnly
// operations need the management account.
func (s *Server) orgAccess(c *call, mgmtOnly bool) (*orgIndex, error) {
	org := s.w.org
	if org == nil || !s.w.knownAccount(c.caller.account) {
		return nil, clientErr("AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
	}
	if mgmtOnly && c.caller.account != org.mgmt {
		return nil, clientErr("AccessDeniedException", "You don't have permissions to access this resource.")
	}
	return org, nil
}

func (s *Server) orgPage(c *call, in orgPageIn, scope string, n int) (int, int, string, error) {
	mr, has := optInt(in.MaxResults)
	return s.paginate(c, pageSpec{
		scope: c.op + "|" + c.caller.account + "|" + scope, token: in.NextToken,
		max: mr, hasMax: has, def: 20, top: 20, maxName: "maxResults",
	}, n)
}

func (o *orgIndex) arn(kind, id string) string {
	part := strings.SplitN(o.arnOrg, ":", 3)[1]
	return "arn:" + part + ":organizations::" + o.mgmt + ":" + kind + "/" + o.o.ID + "/" + id
}

func (s *Server) orgAccountShape(org *orgIndex, a *inventory.Account) orgAccount {
	status, state := "ACTIVE", "ACTIVE"
	switch a.Status {
	case "SUSPENDED":
		status, state = "SUSPENDED", "SUSPENDED"
	case "PENDING_CLOSURE":
		status, state = "PENDING_CLOSURE", "PENDING_CLOSURE"
	case "CLOSED":
		status, state = "SUSPENDED", "CLOSED"
	}
	return orgAccount{
		Id: a.ID, Arn: org.arn("account", a.ID), Email: a.Email, Name: a.Name,
		Status: status, State: state, JoinedMethod: "CREATED",
		JoinedTimestamp: epoch(s.w.base.Add(-365 * 24 * time.Hour)),
	}
}

func epoch(t time.Time) float64 { return float64(t.Unix()) }

func (s *Server) policyTypes(org *orgIndex) []orgPolicyType {
	out := []orgPolicyType{{Type: inventory.PolicyTypeSCP, Status: "ENABLED"}}
	if org.o.RCPsEnabled {
		out = append(out, orgPolicyType{Type: inventory.PolicyTypeRCP, Status: "ENABLED"})
	}
	return out
}

func (s *Server) orgDescribeOrganization(c *call) (any, error) {
	org, err := s.orgAccess(c, false)
	if err != nil {
		return nil, err
	}
	out := orgOrganization{
		Id: org.o.ID, Arn: org.arnOrg, FeatureSet: "ALL",
		MasterAccountArn: org.arn("account", org.mgmt), MasterAccountId: org.mgmt,
		AvailablePolicyTypes: []orgPolicyType{{Type: inventory.PolicyTypeSCP, Status: "ENABLED"}},
	}
	if a := s.w.accounts[org.mgmt]; a != nil {
		out.MasterAccountEmail = a.a.Email
	}
	return map[string]any{"Organization": out}, nil
}

func (s *Server) orgDescribeAccount(c *call) (any, error) {
	org, err := s.orgAccess(c, true)
	if err != nil {
		return nil, err
	}
	var in struct{ AccountId string }
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	n := org.nodes[in.AccountId]
	if n == nil || n.typ != inventory.NodeAccount {
		return nil, clientErr("AccountNotFoundException", "You specified an account that doesn't exist.")
	}
	return map[string]any{"Account": s.orgAccountShape(org, n.acct)}, nil
}

func (s *Server) orgDescribeOU(c *call) (any, error) {
	org, err := s.orgAccess(c, true)
	if err != nil {
		return nil, err
	}
	var in struct{ OrganizationalUnitId string }
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	n := org.nodes[in.OrganizationalUnitId]
	if n == nil || n.typ != inventory.NodeOU {
		return nil, clientErr("OrganizationalUnitNotFoundException", "We can't find an OU with the OrganizationalUnitId that you specified.")
	}
	return map[string]any{"OrganizationalUnit": orgOU{Id: n.id, Arn: org.arn("ou", n.id), Name: n.name}}, nil
}

func (s *Server) orgListAccounts(c *call) (any, error) {
	org, err := s.orgAccess(c, true)
	if err != nil {
		return nil, err
	}
	var in orgPageIn
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	accts := s.w.inv.Accounts
	lo, hi, next, err := s.orgPage(c, in, "", len(accts))
	if err != nil {
		return nil, err
	}
	out := make([]orgAccount, 0, hi-lo)
	for _, a := range accts[lo:hi] {
		out = append(out, s.orgAccountShape(org, a))
	}
	return pageOut("Accounts", out, "NextToken", next), nil
}

// pageOut builds {listKey: list, tokenKey: next}, leaving the token out on
// the last page.
func pageOut(listKey string, list any, tokenKey, next string) map[string]any {
	m := map[string]any{listKey: list}
	if next != "" {
		m[tokenKey] = next
	}
	return m
}

func (s *Server) orgListRoots(c *call) (any, error) {
	org, err := s.orgAccess(c, true)
	if err != nil {
		return nil, err
	}
	var in orgPageIn
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	lo, hi, next, err := s.orgPage(c, in, "", 1)
	if err != nil {
		return nil, err
	}
	roots := []orgRoot{{Id: org.root.id, Arn: org.arn("root", org.root.id), Name: org.root.name, PolicyTypes: s.policyTypes(org)}}
	return pageOut("Roots", roots[lo:hi], "NextToken", next), nil
}

func (s *Server) orgParent(org *orgIndex, id string) (*orgNode, error) {
	n := org.nodes[id]
	if n == nil || n.typ == inventory.NodeAccount {
		return nil, clientErr("ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
	}
	return n, nil
}

func (s *Server) orgListOUsForParent(c *call) (any, error) {
	org, err := s.orgAccess(c, true)
	if err != nil {
		return nil, err
	}
	var in struct {
		orgPageIn
		ParentId string
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	p, err := s.orgParent(org, in.ParentId)
	if err != nil {
		return nil, err
	}
	lo, hi, next, err := s.orgPage(c, in.orgPageIn, p.id, len(p.ous))
	if err != nil {
		return nil, err
	}
	out := make([]orgOU, 0, hi-lo)
	for _, n := range p.ous[lo:hi] {
		out = append(out, orgOU{Id: n.id, Arn: org.arn("ou", n.id), Name: n.name})
	}
	return pageOut("OrganizationalUnits", out, "NextToken", next), nil
}

func (s *Server) orgListAccountsForParent(c *call) (any, error) {
	org, err := s.orgAccess(c, true)
	if err != nil {
		return nil, err
	}
	var in struct {
		orgPageIn
		ParentId string
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	p, err := s.orgParent(org, in.ParentId)
	if err != nil {
		return nil, err
	}
	lo, hi, next, err := s.orgPage(c, in.orgPageIn, p.id, len(p.accounts))
	if err != nil {
		return nil, err
	}
	out := make([]orgAccount, 0, hi-lo)
	for _, n := range p.accounts[lo:hi] {
		out = append(out, s.orgAccountShape(org, n.acct))
	}
	return pageOut("Accounts", out, "NextToken", next), nil
}

func (s *Server) orgListChildren(c *call) (any, error) {
	org, err := s.orgAccess(c, true)
	if err != nil {
		return nil, err
	}
	var in struct {
		orgPageIn
		ParentId  string
		ChildType string
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	p, err := s.orgParent(org, in.ParentId)
	if err != nil {
		return nil, err
	}
	var kids []*orgNode
	switch in.ChildType {
	case "ACCOUNT":
		kids = p.accounts
	case "ORGANIZATIONAL_UNIT":
		kids = p.ous
	default:
		e := clientErr("InvalidInputException", "ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT, not %q.", in.ChildType)
		e.extra = map[string]string{"Reason": "INVALID_ENUM"}
		return nil, e
	}
	lo, hi, next, err := s.orgPage(c, in.orgPageIn, p.id+"|"+in.ChildType, len(kids))
	if err != nil {
		return nil, err
	}
	out := make([]orgChild, 0, hi-lo)
	for _, n := range kids[lo:hi] {
		out = append(out, orgChild{Id: n.id, Type: n.typ})
	}
	return pageOut("Children", out, "NextToken", next), nil
}

func (s *Server) orgListParents(c *call) (any, error) {
	org, err := s.orgAccess(c, true)
	if err != nil {
		return nil, err
	}
	var in struct {
		orgPageIn
		ChildId string
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	n := org.nodes[in.ChildId]
	if n == nil || n.parent == nil {
		return nil, clientErr("ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
	}
	lo, hi, next, err := s.orgPage(c, in.orgPageIn, n.id, 1)
	if err != nil {
		return nil, err
	}
	parents := []orgChild{{Id: n.parent.id, Type: n.parent.typ}}
	return pageOut("Parents", parents[lo:hi], "NextToken", next), nil
}

func (s *Server) policySummary(org *orgIndex, p *inventory.OrgPolicy) orgPolicySummary {
	arn := p.ARN
	if arn == "" {
		kind := strings.ToLower(p.Type)
		if p.AWSManaged {
			arn = "arn:" + s.w.partition + ":organizations::aws:policy/" + kind + "/" + p.ID
		} else {
			arn = org.arn("policy", kind+"/"+p.ID)
		}
	}
	desc := ""
	if p.AWSManaged && p.Type == inventory.PolicyTypeSCP && p.Name == "FullAWSAccess" {
		desc = "Allows access to every operation"
	}
	return orgPolicySummary{Id: p.ID, Arn: arn, Name: p.Name, Description: desc, Type: p.Type, AwsManaged: p.AWSManaged}
}

// policyFilter checks a Filter (policy type) parameter.
func (s *Server) policyFilter(org *orgIndex, filter string) error {
	switch filter {
	case inventory.PolicyTypeSCP:
		return nil
	case inventory.PolicyTypeRCP:
		if org.o.RCPsEnabled {
			return nil
		}
	case "TAG_POLICY", "BACKUP_POLICY", "AISERVICES_OPT_OUT_POLICY", "CHATBOT_POLICY", "DECLARATIVE_POLICY_EC2", "SECURITYHUB_POLICY":
	default:
		e := clientErr("InvalidInputException", "Filter must be a policy type such as SERVICE_CONTROL_POLICY, not %q.", filter)
		e.extra = map[string]string{"Reason": "INVALID_ENUM"}
		return e
	}
	return clientErr("PolicyTypeNotEnabledException", "This operation can be performed only for enabled policy types.")
}

func (s *Server) orgListPoliciesForTarget(c *call) (any, error) {
	org, err := s.orgAccess(c, true)
	if err != nil {
		return nil, err
	}
	var in struct {
		orgPageIn
		TargetId string
		Filter   string
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	n := org.nodes[in.TargetId]
	if n == nil {
		return nil, clientErr("TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")
	}
	if err := s.policyFilter(org, in.Filter); err != nil {
		return nil, err
	}
	ids := n.scps
	if in.Filter == inventory.PolicyTypeRCP {
		ids = n.rcps
	}
	var list []orgPolicySummary
	for _, id := range ids {
		if p := org.o.Policies[id]; p != nil && p.Type == in.Filter {
			list = append(list, s.policySummary(org, p))
		}
	}
	lo, hi, next, err := s.orgPage(c, in.orgPageIn, n.id+"|"+in.Filter, len(list))
	if err != nil {
		return nil, err
	}
	out := append([]orgPolicySummary{}, list[lo:hi]...)
	return pageOut("Policies", out, "NextToken", next), nil
}

func (s *Server) orgListPolicies(c *call) (any, error) {
	org, err := s.orgAccess(c, true)
	if err != nil {
		return nil, err
	}
	var in struct {
		orgPageIn
		Filter string
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := s.policyFilter(org, in.Filter); err != nil {
		return nil, err
	}
	var list []orgPolicySummary
	for _, id := range sortedKeys(org.o.Policies) {
		if p := org.o.Policies[id]; p.Type == in.Filter {
			list = append(list, s.policySummary(org, p))
		}
	}
	lo, hi, next, err := s.orgPage(c, in.orgPageIn, in.Filter, len(list))
	if err != nil {
		return nil, err
	}
	out := append([]orgPolicySummary{}, list[lo:hi]...)
	return pageOut("Policies", out, "NextToken", next), nil
}

type orgTarget struct {
	TargetId string
	Arn      string
	Name     string
	Type     string
}

// orgListTargetsForPolicy lists the roots, OUs and accounts a policy is
// attached to directly, sorted by ID.
func (s *Server) orgListTargetsForPolicy(c *call) (any, error) {
	org, err := s.orgAccess(c, true)
	if err != nil {
		return nil, err
	}
	var in struct {
		orgPageIn
		PolicyId string
	}
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	p := org.o.Policies[in.PolicyId]
	if p == nil {
		return nil, clientErr("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
	}
	var list []orgTarget
	for _, id := range sortedKeys(org.nodes) {
		n := org.nodes[id]
		ids := n.scps
		if p.Type == inventory.PolicyTypeRCP {
			ids = n.rcps
		}
		for _, pid := range ids {
			if pid != p.ID {
				continue
			}
			t := orgTarget{TargetId: n.id, Name: n.name, Type: n.typ}
			switch n.typ {
			case inventory.NodeRoot:
				t.Arn = org.arn("root", n.id)
			case inventory.NodeOU:
				t.Arn = org.arn("ou", n.id)
			default:
				t.Arn = "arn:" + strings.SplitN(org.arnOrg, ":", 3)[1] + ":organizations::" + org.mgmt + ":account/" + org.o.ID + "/" + n.id
				if n.acct != nil {
					t.Name = n.acct.Name
				}
			}
			list = append(list, t)
			break
		}
	}
	lo, hi, next, err := s.orgPage(c, in.orgPageIn, "targets|"+p.ID, len(list))
	if err != nil {
		return nil, err
	}
	out := append([]orgTarget{}, list[lo:hi]...)
	return pageOut("Targets", out, "NextToken", next), nil
}

func (s *Server) orgDescribePolicy(c *call) (any, error) {
	org, err := s.orgAccess(c, true)
	if err != nil {
		return nil, err
	}
	var in struct{ PolicyId string }
	if err := c.decodeJSON(&in); err != nil {
		return nil, err
	}
	p := org.o.Policies[in.PolicyId]
	if p == nil {
		return nil, clientErr("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
	}
	return map[string]any{"Policy": map[string]any{"PolicySummary": s.policySummary(org, p), "Content": p.Document}}, nil
}
