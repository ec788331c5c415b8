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
	bad := func(field, format string, args ...any) error {
		return &LoadError{Field: field, Offset: -1, Msg: fmt.Sprintf(format, args...)}
	}
	// A document may be empty only when a collection error says it could
	// not be read; otherwise an empty policy would silently grant or deny
	// nothing.
	unread := map[string]bool{}
	for _, e := range inv.Errors {
		if e.Resource != "" {
			unread[e.Service+"|"+e.Resource] = true
		}
	}
	emptyDoc := func(doc string) bool {
		d := strings.TrimSpace(doc)
		return d == "" || d == "null"
	}
	status := func(field, st, doc string, noneOK bool) error {
		switch st {
		case "":
			if v2 {
				return bad(field+"Status", "missing; expected %s", statusList(noneOK))
			}
		case PolicyCollected:
			if emptyDoc(doc) {
				return bad(field, "is empty but %sStatus is %q", field[strings.LastIndexByte(field, '.')+1:], st)
			}
			return nil
		case PolicyNone, PolicyNotCollected:
			if st == PolicyNone && !noneOK {
				return bad(field+"Status", "is %q, but every KMS key has a key policy; expected %s", st, statusList(false))
			}
		default:
			return bad(field+"Status", "is %q; expected %s", st, statusList(noneOK))
		}
		if !emptyDoc(doc) && st != "" {
			return bad(field, "is given but %sStatus is %q", field[strings.LastIndexByte(field, '.')+1:], st)
		}
		return nil
	}
	if inv.Format != Format {
		return bad("format", "is %q; expected %q", inv.Format, Format)
	}
	if inv.SchemaVersion != SchemaVersion {
		return bad("schemaVersion", "version %d is not supported (this build reads %d)", inv.SchemaVersion, SchemaVersion)
	}
	if fromFile && inv.CollectedAt.IsZero() {
		return bad("collectedAt", "missing")
	}
	switch inv.Partition {
	case "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc":
	case "":
		return bad("partition", "missing (aws, aws-cn or aws-us-gov)")
	default:
		return bad("partition", "unknown partition %q", inv.Partition)
	}
	if inv.Accounts == nil {
		return bad("accounts", "missing")
	}
	if org := inv.Organization; org != nil {
		if org.ID == "" {
			return bad("organization.id", "missing")
		}
		for id, p := range org.Policies {
			f := fmt.Sprintf("organization.policies[%q]", id)
			if p == nil {
				return bad(f, "is null")
			}
			if p.ID != id {
				return bad(f+".id", "is %q but the policy is listed under %q", p.ID, id)
			}
			if p.Type != PolicyTypeSCP && p.Type != PolicyTypeRCP {
				return bad(f+".type", "is %q; expected %s or %s", p.Type, PolicyTypeSCP, PolicyTypeRCP)
			}
			if emptyDoc(p.Document) {
				return bad(f+".document", "is empty")
			}
		}
	}
	sharedPolicies := map[policyKey]bool{}
	for i, p := range inv.AWSManagedPolicies {
		pf := fmt.Sprintf("awsManagedPolicies[%d]", i)
		switch {
		case p == nil:
			return bad(pf, "is null")
		case !isAWSManagedPolicyARN(p.ARN):
			return bad(pf+".arn", "%q is not the ARN of an AWS managed policy (arn:PARTITION:iam::aws:policy/...)", p.ARN)
		case !p.AWSManaged:
			return bad(pf+".awsManaged", "is false, but the list holds AWS managed policies only")
		case p.Shared:
			return bad(pf+".shared", "is true, but only an account's entry can refer to this list")
		case emptyDoc(p.Document):
			return bad(pf+".document", "is empty")
		case sharedPolicies[keyOf(p)]:
			return bad(pf, "lists %s version %q a second time", p.ARN, p.DefaultVersionID)
		}
		sharedPolicies[keyOf(p)] = true
	}
	seen := map[string]bool{}
	for i, a := range inv.Accounts {
		f := fmt.Sprintf("accounts[%d]", i)
		if a == nil {
			return bad(f, "is null")
		}
		if !IsAccountID(a.ID) {
			return bad(f+".id", "%q is not a 12-digit account ID", a.ID)
		}
		if seen[a.ID] {
			return bad(f+".id", "account %s is listed twice", a.ID)
		}
		seen[a.ID] = true
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
					if inv.Organization == nil || inv.Organization.Policies[id] == nil {
						return bad(fmt.Sprintf("%s.%s[%d]", nf, list.field, k), "policy %q is not in organization.policies", id)
					}
				}
			}
		}
		if a.IAM != nil {
			for j, r := range a.IAM.Roles {
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
				if fromFile && emptyDoc(r.TrustPolicy) && !unread["iam|"+r.ARN] {
					return bad(rf+".trustPolicy", "is empty, and no collection error says it could not be read")
				}
				for k, ip := range r.InlinePolicies {
					pf := fmt.Sprintf("%s.inlinePolicies[%d]", rf, k)
					if ip.Name == "" {
						return bad(pf+".name", "missing")
					}
					if fromFile && emptyDoc(ip.Document) && !unread["iam|"+r.ARN] && !unread["iam|"+r.ARN+" inline policy "+ip.Name] {
						return bad(pf+".document", "is empty, and no collection error says it could not be read")
					}
				}
			}
			for j, p := range a.IAM.ManagedPolicies {
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
				if fromFile && emptyDoc(p.Document) && !unread["iam|"+p.ARN] {
					return bad(pf+".document", "is empty, and no collection error says it could not be read")
				}
			}
		}
		regions := map[string]bool{}
		for j, r := range a.Regions {
			rf := fmt.Sprintf("%s.regions[%d]", f, j)
			if r == nil {
				return bad(rf, "is null")
			}
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
			for k, sec := range r.Secrets {
				sf := fmt.Sprintf("%s.secrets[%d]", rf, k)
				if sec == nil || !strings.HasPrefix(sec.ARN, "arn:") {
					return bad(sf+".arn", "missing or not an ARN")
				}
				if err := status(sf+".resourcePolicy", sec.ResourcePolicyStatus, sec.ResourcePolicy, true); err != nil {
					return err
				}
			}
			for k, p := range r.Parameters {
				pf := fmt.Sprintf("%s.parameters[%d]", rf, k)
				if p == nil || p.Name == "" {
					return bad(pf+".name", "missing")
				}
				if err := status(pf+".resourcePolicy", p.ResourcePolicyStatus, p.ResourcePolicy, true); err != nil {
					return err
				}
			}
			for k, key := range r.KMSKeys {
				kf := fmt.Sprintf("%s.kmsKeys[%d]", rf, k)
				if key == nil || !strings.HasPrefix(key.ARN, "arn:") {
					return bad(kf+".arn", "missing or not an ARN")
				}
				if err := status(kf+".policy", key.PolicyStatus, key.Policy, false); err != nil {
					return err
				}
			}
			if err := validateRegionResources(r, rf, status); err != nil {
				return err
			}
			if err := validateLaunchPaths(rf, r); err != nil {
				return err
			}
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
		}
	}
	if err := validateBuckets(inv.S3Buckets, status); err != nil {
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
