package inventory

import (
	"fmt"
	"strings"
)

// isAWSManagedPolicyARN reports whether arn names an AWS managed policy
// (arn:PARTITION:iam::aws:policy/...).
func isAWSManagedPolicyARN(arn string) bool {
	p := strings.SplitN(arn, ":", 6)
	return len(p) == 6 && p[0] == "arn" && p[2] == "iam" && p[3] == "" && p[4] == "aws" && strings.HasPrefix(p[5], "policy/")
}

// Validate checks the references and required fields a decoder cannot check.
// The error is a *LoadError naming the field. An inventory built in memory
// may leave resource-policy statuses empty (see EffectivePolicyStatus); a
// version 2 snapshot file may not.
func (inv *Inventory) Validate() error { return inv.validate(false, false) }

// validate is Validate. fromFile adds the checks for a snapshot file (a
// collection time; no empty policy document without a collection error
// for it); v2 requires the fields version 2 added.
func (inv *Inventory) validate(fromFile, v2 bool) error {
	v, err := inv.validateHead(fromFile, v2)
	if err != nil {
		return err
	}
	for i, a := range inv.Accounts {
		if err := v.account(i, a, checkAll); err != nil {
			return err
		}
	}
	return v.tail()
}

// The checks of an account fall in two parts: those of the fields a
// Stream's Index holds (identity, path, and in each region its name,
// status and the resources other accounts can reference), and the bulk
// (IAM, clusters, launch paths, task definitions). validate runs both in
// one pass, in the order they have always run; a Stream runs the index
// part when it opens and the bulk as it reads each account.
type accountChecks uint8

const (
	checkIndex accountChecks = 1 << iota
	checkBulk
	checkAll = checkIndex | checkBulk
)

// validation holds what the checks of the accounts need from the rest of
// the inventory.
type validation struct {
	inv          *Inventory
	fromFile, v2 bool
	// unread holds service|resource of the collection errors with a
	// resource: a document may be empty when one says it could not be read.
	unread map[string]bool
	seen   map[string]bool // account IDs
}

func badField(field, format string, args ...any) error {
	return &LoadError{Field: field, Offset: -1, Msg: fmt.Sprintf(format, args...)}
}

func emptyDoc(doc string) bool {
	d := strings.TrimSpace(doc)
	return d == "" || d == "null"
}

// status checks a resource-policy status against its document.
func (v *validation) status(field, st, doc string, noneOK bool) error {
	switch st {
	case "":
		if v.v2 {
			return badField(field+"Status", "missing; expected %s", statusList(noneOK))
		}
	case PolicyCollected:
		if emptyDoc(doc) {
			return badField(field, "is empty but %sStatus is %q", field[strings.LastIndexByte(field, '.')+1:], st)
		}
		return nil
	case PolicyNone, PolicyNotCollected:
		if st == PolicyNone && !noneOK {
			return badField(field+"Status", "is %q, but every KMS key has a key policy; expected %s", st, statusList(false))
		}
	default:
		return badField(field+"Status", "is %q; expected %s", st, statusList(noneOK))
	}
	if !emptyDoc(doc) && st != "" {
		return badField(field, "is given but %sStatus is %q", field[strings.LastIndexByte(field, '.')+1:], st)
	}
	return nil
}

// validateHead checks what comes before the accounts.
func (inv *Inventory) validateHead(fromFile, v2 bool) (*validation, error) {
	bad := badField
	v := &validation{inv: inv, fromFile: fromFile, v2: v2, unread: map[string]bool{}, seen: map[string]bool{}}
	// A document may be empty only when a collection error says it could
	// not be read; otherwise an empty policy would silently grant or deny
	// nothing.
	for _, e := range inv.Errors {
		if e.Resource != "" {
			v.unread[e.Service+"|"+e.Resource] = true
		}
	}
	if inv.Format != Format {
		return nil, bad("format", "is %q; expected %q", inv.Format, Format)
	}
	if inv.SchemaVersion != SchemaVersion {
		return nil, bad("schemaVersion", "version %d is not supported (this build reads %d)", inv.SchemaVersion, SchemaVersion)
	}
	if fromFile && inv.CollectedAt.IsZero() {
		return nil, bad("collectedAt", "missing")
	}
	switch inv.Partition {
	case "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc":
	case "":
		return nil, bad("partition", "missing (aws, aws-cn or aws-us-gov)")
	default:
		return nil, bad("partition", "unknown partition %q", inv.Partition)
	}
	if inv.Accounts == nil {
		return nil, bad("accounts", "missing")
	}
	if org := inv.Organization; org != nil {
		if org.ID == "" {
			return nil, bad("organization.id", "missing")
		}
		for id, p := range org.Policies {
			f := fmt.Sprintf("organization.policies[%q]", id)
			if p == nil {
				return nil, bad(f, "is null")
			}
			if p.ID != id {
				return nil, bad(f+".id", "is %q but the policy is listed under %q", p.ID, id)
			}
			if p.Type != PolicyTypeSCP && p.Type != PolicyTypeRCP {
				return nil, bad(f+".type", "is %q; expected %s or %s", p.Type, PolicyTypeSCP, PolicyTypeRCP)
			}
			if emptyDoc(p.Document) {
				return nil, bad(f+".document", "is empty")
			}
		}
	}
	sharedPolicies := map[policyKey]bool{}
	for i, p := range inv.AWSManagedPolicies {
		pf := fmt.Sprintf("awsManagedPolicies[%d]", i)
		switch {
		case p == nil:
			return nil, bad(pf, "is null")
		case !isAWSManagedPolicyARN(p.ARN):
			return nil, bad(pf+".arn", "%q is not the ARN of an AWS managed policy (arn:PARTITION:iam::aws:policy/...)", p.ARN)
		case !p.AWSManaged:
			return nil, bad(pf+".awsManaged", "is false, but the list holds AWS managed policies only")
		case p.Shared:
			return nil, bad(pf+".shared", "is true, but only an account's entry can refer to this list")
		case emptyDoc(p.Document):
			return nil, bad(pf+".document", "is empty")
		case sharedPolicies[keyOf(p)]:
			return nil, bad(pf, "lists %s version %q a second time", p.ARN, p.DefaultVersionID)
		}
		sharedPolicies[keyOf(p)] = true
	}
	return v, nil
}

// account checks accounts[i], the part of it that part says. The index
// part of every account must run, in order, before the bulk of any (it
// records the account IDs seen).
func (v *validation) account(i int, a *Account, part accountChecks) error {
	bad := badField
	f := fmt.Sprintf("accounts[%d]", i)
	if a == nil {
		if part&checkIndex != 0 {
			return bad(f, "is null")
		}
		return nil
	}
	if part&checkIndex != 0 {
		if !IsAccountID(a.ID) {
			return bad(f+".id", "%q is not a 12-digit account ID", a.ID)
		}
		if v.seen[a.ID] {
			return bad(f+".id", "account %s is listed twice", a.ID)
		}
		v.seen[a.ID] = true
		for j, n := range a.Path {
			nf := fmt.Sprintf("%s.path[%d]", f, j)
			if n.ID == "" {
				return bad(nf+".id", "missing")
			}
			switch n.Type {
			case NodeRoot, NodeOU, NodeAccount:
			default:
				return bad(nf+".type", "is %q; expected ROOT, ORGANIZATIONAL_UNIT or ACCOUNT", n.Type)
			}
			for _, list := range []struct {
				field string
				ids   []string
			}{{"scps", n.SCPs}, {"rcps", n.RCPs}} {
				for k, id := range list.ids {
					if v.inv.Organization == nil || v.inv.Organization.Policies[id] == nil {
						return bad(fmt.Sprintf("%s.%s[%d]", nf, list.field, k), "policy %q is not in organization.policies", id)
					}
				}
			}
		}
	}
	if part&checkBulk != 0 && a.IAM != nil {
		if err := v.iam(f, a.IAM); err != nil {
			return err
		}
	}
	regions := map[string]bool{}
	for j, r := range a.Regions {
		rf := fmt.Sprintf("%s.regions[%d]", f, j)
		if r == nil {
			if part&checkIndex != 0 {
				return bad(rf, "is null")
			}
			continue
		}
		if part&checkIndex != 0 {
			if r.Name == "" {
				return bad(rf+".name", "missing")
			}
			if regions[r.Name] {
				return bad(rf+".name", "region %s is listed twice", r.Name)
			}
			regions[r.Name] = true
			switch r.Status {
			case RegionScanned, RegionNotEnabled, RegionFailed:
			default:
				return bad(rf+".status", "is %q; expected scanned, not-enabled or failed", r.Status)
			}
		}
		if part&checkBulk != 0 {
			for k, c := range r.Clusters {
				cf := fmt.Sprintf("%s.clusters[%d]", rf, k)
				if c == nil || c.ARN == "" {
					return bad(cf+".arn", "missing")
				}
				for l, s := range c.Services {
					if s == nil || s.ARN == "" {
						return bad(fmt.Sprintf("%s.services[%d].arn", cf, l), "missing")
					}
				}
				for l, ci := range c.ContainerInstances {
					if ci == nil || ci.ARN == "" {
						return bad(fmt.Sprintf("%s.containerInstances[%d].arn", cf, l), "missing")
					}
				}
			}
		}
		if part&checkIndex != 0 {
			if err := v.regionResources(rf, r); err != nil {
				return err
			}
		}
		if part&checkBulk != 0 {
			if err := validateLaunchPaths(rf, r); err != nil {
				return err
			}
			if err := validateTaskDefinitions(rf, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// iam checks an account's roles and managed policies (f is the account's
// path).
func (v *validation) iam(f string, iam *IAM) error {
	bad := badField
	for j, r := range iam.Roles {
		rf := fmt.Sprintf("%s.iam.roles[%d]", f, j)
		if r == nil {
			return bad(rf, "is null")
		}
		if !strings.HasPrefix(r.ARN, "arn:") || !strings.Contains(r.ARN, ":role/") {
			return bad(rf+".arn", "%q is not a role ARN", r.ARN)
		}
		if r.Name == "" {
			return bad(rf+".name", "missing")
		}
		if v.fromFile && emptyDoc(r.TrustPolicy) && !v.unread["iam|"+r.ARN] {
			return bad(rf+".trustPolicy", "is empty, and no collection error says it could not be read")
		}
		for k, ip := range r.InlinePolicies {
			pf := fmt.Sprintf("%s.inlinePolicies[%d]", rf, k)
			if ip.Name == "" {
				return bad(pf+".name", "missing")
			}
			if v.fromFile && emptyDoc(ip.Document) && !v.unread["iam|"+r.ARN] && !v.unread["iam|"+r.ARN+" inline policy "+ip.Name] {
				return bad(pf+".document", "is empty, and no collection error says it could not be read")
			}
		}
	}
	for j, p := range iam.ManagedPolicies {
		pf := fmt.Sprintf("%s.iam.managedPolicies[%d]", f, j)
		if p == nil {
			return bad(pf, "is null")
		}
		if !strings.HasPrefix(p.ARN, "arn:") || !strings.Contains(p.ARN, ":policy/") {
			return bad(pf+".arn", "%q is not a policy ARN", p.ARN)
		}
		if p.Shared {
			// Reading links every reference it can (shared.go).
			switch {
			case !p.AWSManaged:
				return bad(pf+".shared", "is true, but only an AWS managed policy (awsManaged) is shared")
			case p.Name != "" || p.Path != "" || p.Document != "":
				return bad(pf+".shared", "is true, but the entry gives a name, path or document of its own (a shared entry takes them from awsManagedPolicies)")
			}
			return bad(pf+".shared", "is true, but no awsManagedPolicies entry has arn %q and defaultVersionId %q", p.ARN, p.DefaultVersionID)
		}
		if v.fromFile && emptyDoc(p.Document) && !v.unread["iam|"+p.ARN] {
			return bad(pf+".document", "is empty, and no collection error says it could not be read")
		}
	}
	return nil
}

// regionResources checks the resources of a region that a Stream's Index
// holds (rf is the region's path).
func (v *validation) regionResources(rf string, r *Region) error {
	bad := badField
	for k, sec := range r.Secrets {
		sf := fmt.Sprintf("%s.secrets[%d]", rf, k)
		if sec == nil || !strings.HasPrefix(sec.ARN, "arn:") {
			return bad(sf+".arn", "missing or not an ARN")
		}
		if err := v.status(sf+".resourcePolicy", sec.ResourcePolicyStatus, sec.ResourcePolicy, true); err != nil {
			return err
		}
	}
	for k, p := range r.Parameters {
		pf := fmt.Sprintf("%s.parameters[%d]", rf, k)
		if p == nil || p.Name == "" {
			return bad(pf+".name", "missing")
		}
		if err := v.status(pf+".resourcePolicy", p.ResourcePolicyStatus, p.ResourcePolicy, true); err != nil {
			return err
		}
	}
	for k, key := range r.KMSKeys {
		kf := fmt.Sprintf("%s.kmsKeys[%d]", rf, k)
		if key == nil || !strings.HasPrefix(key.ARN, "arn:") {
			return bad(kf+".arn", "missing or not an ARN")
		}
		if err := v.status(kf+".policy", key.PolicyStatus, key.Policy, false); err != nil {
			return err
		}
	}
	return validateRegionResources(r, rf, v.status)
}

// validateTaskDefinitions checks a region's task definitions (rf is the
// region's path).
func validateTaskDefinitions(rf string, r *Region) error {
	bad := badField
	for k, td := range r.TaskDefinitions {
		tf := fmt.Sprintf("%s.taskDefinitions[%d]", rf, k)
		if td == nil {
			return bad(tf, "is null")
		}
		if !strings.HasPrefix(td.ARN, "arn:") || !strings.Contains(td.ARN, ":task-definition/") {
			return bad(tf+".taskDefinitionArn", "%q is not a task definition ARN", td.ARN)
		}
		if td.Family == "" {
			return bad(tf+".family", "missing")
		}
		if td.Revision <= 0 {
			return bad(tf+".revision", "must be a positive number")
		}
		for l, c := range td.ContainerDefinitions {
			cf := fmt.Sprintf("%s.containerDefinitions[%d]", tf, l)
			if c.Name == "" {
				return bad(cf+".name", "missing")
			}
			for m, ev := range c.Environment {
				if ev.Name == "" {
					return bad(fmt.Sprintf("%s.environment[%d].name", cf, m), "missing")
				}
			}
		}
	}
	return nil
}

// tail checks what comes after the accounts.
func (v *validation) tail() error {
	bad := badField
	inv := v.inv
	if err := validateBuckets(inv.S3Buckets, v.status); err != nil {
		return err
	}
	switch inv.Scope.Resources {
	case "", ResourcesResolved, ResourcesSkipped:
	default:
		return bad("scope.resources", "is %q; expected %q or %q", inv.Scope.Resources, ResourcesResolved, ResourcesSkipped)
	}
	for i, e := range inv.Errors {
		if e.Service == "" {
			return bad(fmt.Sprintf("errors[%d].service", i), "missing (a collection error needs service and operation)")
		}
		if e.Operation == "" {
			return bad(fmt.Sprintf("errors[%d].operation", i), "missing (a collection error needs service and operation)")
		}
	}
	return nil
}

func statusList(noneOK bool) string {
	if noneOK {
		return fmt.Sprintf("%q, %q or %q", PolicyCollected, PolicyNone, PolicyNotCollected)
	}
	return fmt.Sprintf("%q or %q", PolicyCollected, PolicyNotCollected)
}

// IsAccountID reports whether s is a 12-digit AWS account ID.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
