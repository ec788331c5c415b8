package inventory

import (
	"fmt"
	"strings"
)

// Validate checks the references and required fields a decoder cannot check.
// The error is a *LoadError naming the field.
func (inv *Inventory) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &LoadError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if inv.Format != Format {
		return bad("format", "is %q; expected %q", inv.Format, Format)
	}
	if inv.SchemaVersion != SchemaVersion {
		return bad("schemaVersion", "version %d is not supported (this build reads %d)", inv.SchemaVersion, SchemaVersion)
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
			if strings.TrimSpace(p.Document) == "" {
				return bad(f+".document", "is empty")
			}
		}
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
			for k, id := range append(append([]string(nil), n.SCPs...), n.RCPs...) {
				if inv.Organization == nil || inv.Organization.Policies[id] == nil {
					return bad(fmt.Sprintf("%s.policies[%d]", nf, k), "policy %q is not in organization.policies", id)
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
			}
			for j, p := range a.IAM.ManagedPolicies {
				pf := fmt.Sprintf("%s.iam.managedPolicies[%d]", f, j)
				if p == nil {
					return bad(pf, "is null")
				}
				if !strings.HasPrefix(p.ARN, "arn:") || !strings.Contains(p.ARN, ":policy/") {
					return bad(pf+".arn", "%q is not a policy ARN", p.ARN)
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
				if sec == nil || !strings.HasPrefix(sec.ARN, "arn:") {
					return bad(fmt.Sprintf("%s.secrets[%d].arn", rf, k), "missing or not an ARN")
				}
			}
			for k, p := range r.Parameters {
				if p == nil || p.Name == "" {
					return bad(fmt.Sprintf("%s.parameters[%d].name", rf, k), "missing")
				}
			}
			for k, key := range r.KMSKeys {
				if key == nil || !strings.HasPrefix(key.ARN, "arn:") {
					return bad(fmt.Sprintf("%s.kmsKeys[%d].arn", rf, k), "missing or not an ARN")
				}
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
					if c.Name == "" {
						return bad(fmt.Sprintf("%s.containerDefinitions[%d].name", tf, l), "missing")
					}
				}
			}
		}
	}
	for i, e := range inv.Errors {
		if e.Operation == "" || e.Service == "" {
			return bad(fmt.Sprintf("errors[%d]", i), "a collection error needs service and operation")
		}
	}
	return nil
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
