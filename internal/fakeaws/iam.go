package fakeaws

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/ecs-audit/audit/inventory"
)

func iamOps() map[string]opFunc {
	return map[string]opFunc{
		"GetAccountAuthorizationDetails": (*Server).iamGetAccountAuthorizationDetails,
		"GetRole":                        (*Server).iamGetRole,
		"GetRolePolicy":                  (*Server).iamGetRolePolicy,
		"GetPolicy":                      (*Server).iamGetPolicy,
		"GetPolicyVersion":               (*Server).iamGetPolicyVersion,
		"ListRoles":                      (*Server).iamListRoles,
		"ListRolePolicies":               (*Server).iamListRolePolicies,
		"ListAttachedRolePolicies":       (*Server).iamListAttachedRolePolicies,
	}
}

// encodeDoc URL-encodes a policy document the way IAM returns it (RFC 3986:
// spaces become %20, not +).
func encodeDoc(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

type iamTag struct {
	Key   string
	Value string
}

type iamRolePolicy struct {
	PolicyName     string
	PolicyDocument string
}

type iamAttachedPolicy struct {
	PolicyName string
	PolicyArn  string
}

type iamBoundary struct {
	PermissionsBoundaryType string
	PermissionsBoundaryArn  string
}

type iamRoleDetail struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               string
	AssumeRolePolicyDocument string
	InstanceProfileList      string              `xml:"InstanceProfileList"`
	RolePolicyList           []iamRolePolicy     `xml:"RolePolicyList>member"`
	AttachedManagedPolicies  []iamAttachedPolicy `xml:"AttachedManagedPolicies>member"`
	PermissionsBoundary      *iamBoundary        `xml:",omitempty"`
	Tags                     []iamTag            `xml:"Tags>member"`
	RoleLastUsed             string              `xml:"RoleLastUsed"`
}

type iamPolicyVersion struct {
	Document         string `xml:",omitempty"`
	VersionId        string
	IsDefaultVersion bool
	CreateDate       string
}

type iamPolicy struct {
	PolicyName                    string
	PolicyId                      string
	Arn                           string
	Path                          string
	DefaultVersionId              string
	AttachmentCount               int
	PermissionsBoundaryUsageCount int
	IsAttachable                  bool
	CreateDate                    string
	UpdateDate                    string
	PolicyVersionList             []iamPolicyVersion `xml:"PolicyVersionList>member,omitempty"`
}

type iamRole struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               string
	AssumeRolePolicyDocument string
	MaxSessionDuration       int          `xml:",omitempty"`
	PermissionsBoundary      *iamBoundary `xml:",omitempty"`
	Tags                     []iamTag     `xml:"Tags>member"`
}

func (s *Server) iamTime(offset time.Duration) string {
	return s.w.base.Add(-offset).Format(time.RFC3339)
}

func (s *Server) roleID(acct string, r *inventory.Role) string {
	if r.RoleID != "" {
		return r.RoleID
	}
	return "AROA" + encodeBase32(hashStrings(s.w.seed, "role-id", acct, r.Name), 17)
}

func rolePath(r *inventory.Role) string {
	if r.Path != "" {
		return r.Path
	}
	return "/"
}

func policyPath(p *inventory.ManagedPolicy) string {
	if p.Path != "" {
		return p.Path
	}
	// arn:aws:iam::aws:policy/service-role/Name -> /service-role/
	_, res, ok := strings.Cut(p.ARN, ":policy/")
	if !ok {
		return "/"
	}
	if i := strings.LastIndexByte(res, '/'); i >= 0 {
		return "/" + res[:i+1]
	}
	return "/"
}

func defaultVersion(p *inventory.ManagedPolicy) string {
	if p.DefaultVersionID != "" {
		return p.DefaultVersionID
	}
	return "v1"
}

func sortedTags(m map[string]string) []iamTag {
	if len(m) == 0 {
		return nil
	}
	out := make([]iamTag, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, iamTag{Key: k, Value: m[k]})
	}
	return out
}

func (s *Server) boundary(r *inventory.Role) *iamBoundary {
	if r.PermissionsBoundary == "" {
		return nil
	}
	return &iamBoundary{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: r.PermissionsBoundary}
}

func (s *Server) attachedName(a *acctIndex, arn string) string {
	if p := a.policyByARN[arn]; p != nil && p.Name != "" {
		return p.Name
	}
	return lastSegment(arn)
}

func (s *Server) roleDetail(a *acctIndex, r *inventory.Role) iamRoleDetail {
	d := iamRoleDetail{
		Path: rolePath(r), RoleName: r.Name, RoleId: s.roleID(a.a.ID, r), Arn: r.ARN,
		CreateDate:               s.iamTime(180 * 24 * time.Hour),
		AssumeRolePolicyDocument: encodeDoc(r.TrustPolicy),
		PermissionsBoundary:      s.boundary(r),
		Tags:                     sortedTags(r.Tags),
	}
	for _, ip := range r.InlinePolicies {
		d.RolePolicyList = append(d.RolePolicyList, iamRolePolicy{PolicyName: ip.Name, PolicyDocument: encodeDoc(ip.Document)})
	}
	for _, arn := range r.AttachedPolicies {
		d.AttachedManagedPolicies = append(d.AttachedManagedPolicies, iamAttachedPolicy{PolicyName: s.attachedName(a, arn), PolicyArn: arn})
	}
	return d
}

func (s *Server) policyShape(a *acctIndex, p *inventory.ManagedPolicy, withVersions bool) iamPolicy {
	name := p.Name
	if name == "" {
		name = lastSegment(p.ARN)
	}
	out := iamPolicy{
		PolicyName: name, PolicyId: "ANPA" + encodeBase32(hashStrings(s.w.seed, "policy-id", p.ARN), 17),
		Arn: p.ARN, Path: policyPath(p), DefaultVersionId: defaultVersion(p), IsAttachable: true,
		CreateDate: s.iamTime(400 * 24 * time.Hour), UpdateDate: s.iamTime(200 * 24 * time.Hour),
	}
	if a.a.IAM != nil {
		for _, r := range a.a.IAM.Roles {
			for _, arn := range r.AttachedPolicies {
				if arn == p.ARN {
					out.AttachmentCount++
				}
			}
			if r.PermissionsBoundary == p.ARN {
				out.PermissionsBoundaryUsageCount++
			}
		}
	}
	if withVersions {
		out.PolicyVersionList = []iamPolicyVersion{{
			Document: encodeDoc(p.Document), VersionId: defaultVersion(p), IsDefaultVersion: true,
			CreateDate: s.iamTime(200 * 24 * time.Hour),
		}}
	}
	return out
}

// iamAccount is the caller's account, or an empty one when it is not in the world.
func (s *Server) iamAccount(c *call) *acctIndex {
	if c.acct != nil {
		return c.acct
	}
	return &acctIndex{a: &inventory.Account{ID: c.caller.account}, roleByName: map[string]*inventory.Role{}, policyByARN: map[string]*inventory.ManagedPolicy{}}
}

func (s *Server) iamPage(c *call, scope string, n int) (int, int, string, error) {
	mi, has, err := c.formInt("MaxItems")
	if err != nil {
		return 0, 0, "", err
	}
	return s.paginate(c, pageSpec{
		scope: c.op + "|" + c.caller.account + "|" + scope, token: c.form.Get("Marker"),
		max: mi, hasMax: has, def: 100, top: 1000, maxName: "maxItems",
	}, n)
}

type iamAuthDetailsResult struct {
	RoleDetailList []iamRoleDetail `xml:"RoleDetailList>member"`
	Policies       []iamPolicy     `xml:"Policies>member"`
	IsTruncated    bool
	Marker         string `xml:",omitempty"`
}

func (s *Server) iamGetAccountAuthorizationDetails(c *call) (any, error) {
	a := s.iamAccount(c)
	filters := c.formList("Filter")
	want := map[string]bool{}
	for _, f := range filters {
		switch f {
		case "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy":
			want[f] = true
		default:
			return nil, clientErr("ValidationError", "1 validation error detected: Value '[%s]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]]", f)
		}
	}
	all := len(want) == 0
	type item struct {
		role *inventory.Role
		pol  *inventory.ManagedPolicy
	}
	var items []item
	if a.a.IAM != nil {
		if all || want["Role"] {
			for _, r := range a.a.IAM.Roles {
				items = append(items, item{role: r})
			}
		}
		for _, p := range a.a.IAM.ManagedPolicies {
			if all || (p.AWSManaged && want["AWSManagedPolicy"]) || (!p.AWSManaged && want["LocalManagedPolicy"]) {
				items = append(items, item{pol: p})
			}
		}
	}
	sortedFilters := append([]string(nil), filters...)
	sort.Strings(sortedFilters)
	lo, hi, next, err := s.iamPage(c, strings.Join(sortedFilters, ","), len(items))
	if err != nil {
		return nil, err
	}
	out := iamAuthDetailsResult{IsTruncated: next != "", Marker: next}
	for _, it := range items[lo:hi] {
		if it.role != nil {
			out.RoleDetailList = append(out.RoleDetailList, s.roleDetail(a, it.role))
		} else {
			out.Policies = append(out.Policies, s.policyShape(a, it.pol, true))
		}
	}
	return out, nil
}

func noSuchEntity(format string, args ...any) error {
	return newErr(http.StatusNotFound, "NoSuchEntity", format, args...)
}

func (s *Server) findRole(c *call) (*acctIndex, *inventory.Role, error) {
	a := s.iamAccount(c)
	name := c.form.Get("RoleName")
	if name == "" {
		return nil, nil, clientErr("ValidationError", "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null")
	}
	r := a.roleByName[name]
	if r == nil {
		return nil, nil, noSuchEntity("The role with name %s cannot be found.", name)
	}
	return a, r, nil
}

func (s *Server) iamRoleShape(a *acctIndex, r *inventory.Role, full bool) iamRole {
	out := iamRole{
		Path: rolePath(r), RoleName: r.Name, RoleId: s.roleID(a.a.ID, r), Arn: r.ARN,
		CreateDate: s.iamTime(180 * 24 * time.Hour), AssumeRolePolicyDocument: encodeDoc(r.TrustPolicy),
		MaxSessionDuration: 3600,
	}
	if full {
		out.PermissionsBoundary = s.boundary(r)
		out.Tags = sortedTags(r.Tags)
	}
	return out
}

func (s *Server) iamGetRole(c *call) (any, error) {
	a, r, err := s.findRole(c)
	if err != nil {
		return nil, err
	}
	return struct{ Role iamRole }{s.iamRoleShape(a, r, true)}, nil
}

func (s *Server) iamGetRolePolicy(c *call) (any, error) {
	_, r, err := s.findRole(c)
	if err != nil {
		return nil, err
	}
	name := c.form.Get("PolicyName")
	for _, ip := range r.InlinePolicies {
		if ip.Name == name {
			return struct{ RoleName, PolicyName, PolicyDocument string }{r.Name, ip.Name, encodeDoc(ip.Document)}, nil
		}
	}
	return nil, noSuchEntity("The role policy with name %s cannot be found.", name)
}

func (s *Server) findPolicy(c *call) (*acctIndex, *inventory.ManagedPolicy, error) {
	a := s.iamAccount(c)
	arn := c.form.Get("PolicyArn")
	if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":policy/") {
		return nil, nil, clientErr("InvalidInput", "ARN %s is not valid.", arn)
	}
	p := a.policyByARN[arn]
	if p == nil {
		return nil, nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	return a, p, nil
}

func (s *Server) iamGetPolicy(c *call) (any, error) {
	a, p, err := s.findPolicy(c)
	if err != nil {
		return nil, err
	}
	return struct{ Policy iamPolicy }{s.policyShape(a, p, false)}, nil
}

func (s *Server) iamGetPolicyVersion(c *call) (any, error) {
	_, p, err := s.findPolicy(c)
	if err != nil {
		return nil, err
	}
	v := c.form.Get("VersionId")
	if v != defaultVersion(p) {
		return nil, noSuchEntity("Policy %s version %s does not exist or is not attachable.", p.ARN, v)
	}
	return struct{ PolicyVersion iamPolicyVersion }{iamPolicyVersion{
		Document: encodeDoc(p.Document), VersionId: v, IsDefaultVersion: true, CreateDate: s.iamTime(200 * 24 * time.Hour),
	}}, nil
}

type iamListRolesResult struct {
	Roles       []iamRole `xml:"Roles>member"`
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func (s *Server) iamListRoles(c *call) (any, error) {
	a := s.iamAccount(c)
	prefix := c.form.Get("PathPrefix")
	if prefix == "" {
		prefix = "/"
	}
	var roles []*inventory.Role
	if a.a.IAM != nil {
		for _, r := range a.a.IAM.Roles {
			if strings.HasPrefix(rolePath(r), prefix) {
				roles = append(roles, r)
			}
		}
	}
	lo, hi, next, err := s.iamPage(c, prefix, len(roles))
	if err != nil {
		return nil, err
	}
	out := iamListRolesResult{IsTruncated: next != "", Marker: next}
	for _, r := range roles[lo:hi] {
		out.Roles = append(out.Roles, s.iamRoleShape(a, r, false))
	}
	return out, nil
}

type iamListRolePoliciesResult struct {
	PolicyNames []string `xml:"PolicyNames>member"`
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func (s *Server) iamListRolePolicies(c *call) (any, error) {
	_, r, err := s.findRole(c)
	if err != nil {
		return nil, err
	}
	lo, hi, next, err := s.iamPage(c, r.Name, len(r.InlinePolicies))
	if err != nil {
		return nil, err
	}
	out := iamListRolePoliciesResult{IsTruncated: next != "", Marker: next}
	for _, ip := range r.InlinePolicies[lo:hi] {
		out.PolicyNames = append(out.PolicyNames, ip.Name)
	}
	return out, nil
}

type iamListAttachedResult struct {
	AttachedPolicies []iamAttachedPolicy `xml:"AttachedPolicies>member"`
	IsTruncated      bool
	Marker           string `xml:",omitempty"`
}

func (s *Server) iamListAttachedRolePolicies(c *call) (any, error) {
	a, r, err := s.findRole(c)
	if err != nil {
		return nil, err
	}
	lo, hi, next, err := s.iamPage(c, r.Name, len(r.AttachedPolicies))
	if err != nil {
		return nil, err
	}
	out := iamListAttachedResult{IsTruncated: next != "", Marker: next}
	for _, arn := range r.AttachedPolicies[lo:hi] {
		out.AttachedPolicies = append(out.AttachedPolicies, iamAttachedPolicy{PolicyName: s.attachedName(a, arn), PolicyArn: arn})
	}
	return out, nil
}
