package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ecs-audit/audit/findings"
	"github.com/ecs-audit/audit/inventory"
)

// Evidence files (--evidence-dir).
//
// They are not a report format: they are copies of what was collected (the
// task definition as ECS returned it, every policy document of a role),
// which the Result does not hold and should not (findings.json would carry
// the whole inventory). So they need the inventory, and only a scan writes
// them. Their paths come from the findings alone (artifactPath), so the
// SARIF that `audit report` renders later from findings.json points at the
// same files.
//
// For every artifact path that a finding points at (see sarifpath.go), one
// pretty-printed JSON file is written at that relative path below the
// evidence directory, so that SARIF locations resolve to real files when the
// directory is committed or uploaded next to the SARIF:
//
//   - a task definition: the task definition as collected. Environment
//     variables carry names only (their values never enter the inventory),
//     and log options that look like credentials were redacted at
//     collection.
//   - a role: its trust policy, inline policies, attached managed policies
//     and permissions boundary, each document pretty-printed.
//   - a service, container instance or policy: the collected object.
//
// Each file also lists the findings that point at it (ID, rule, severity,
// message), and a "comment" field says what was redacted. When inv is nil or
// does not hold the resource, the file says so and carries the findings only.

const evidenceComment = "Evidence collected by audit. Environment variable values and secret values are never collected: values redacted (environment variables are listed by name only; log options that look like credentials are redacted)."

type evidenceFinding struct {
	ID       string `json:"id"`
	RuleID   string `json:"ruleId"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

type evidenceFile struct {
	Comment      string            `json:"comment"`
	ResourceType string            `json:"resourceType"`
	ResourceARN  string            `json:"resourceArn"`
	AccountID    string            `json:"accountId,omitempty"`
	Region       string            `json:"region,omitempty"`
	Collected    bool              `json:"collected"`
	Note         string            `json:"note,omitempty"`
	Resource     any               `json:"resource,omitempty"`
	Findings     []evidenceFinding `json:"findings"`
}

type roleEvidence struct {
	ARN                 string            `json:"arn"`
	Name                string            `json:"name"`
	Path                string            `json:"path,omitempty"`
	TrustPolicy         json.RawMessage   `json:"trustPolicy,omitempty"`
	InlinePolicies      []namedDocument   `json:"inlinePolicies"`
	AttachedPolicies    []namedDocument   `json:"attachedPolicies"`
	PermissionsBoundary *namedDocument    `json:"permissionsBoundary,omitempty"`
	Tags                map[string]string `json:"tags,omitempty"`
}

type namedDocument struct {
	Name     string          `json:"name"`
	ARN      string          `json:"arn,omitempty"`
	Note     string          `json:"note,omitempty"`
	Document json.RawMessage `json:"document,omitempty"`
}

// policyJSON returns a policy document as JSON to embed: the document when
// it is valid JSON, otherwise the text as a JSON string.
func policyJSON(doc string) json.RawMessage {
	if doc == "" {
		return nil
	}
	if json.Valid([]byte(doc)) {
		return json.RawMessage(doc)
	}
	b, _ := json.Marshal(doc)
	return b
}

// invIndex finds collected resources by ARN.
type invIndex struct {
	taskDefs  map[string]*inventory.TaskDefinition
	roles     map[string]*inventory.Role
	policies  map[string]*inventory.ManagedPolicy
	services  map[string]*inventory.Service
	instances map[string]*inventory.ContainerInstance
}

func newInvIndex(inv *inventory.Inventory) *invIndex {
	ix := &invIndex{
		taskDefs:  map[string]*inventory.TaskDefinition{},
		roles:     map[string]*inventory.Role{},
		policies:  map[string]*inventory.ManagedPolicy{},
		services:  map[string]*inventory.Service{},
		instances: map[string]*inventory.ContainerInstance{},
	}
	if inv == nil {
		return ix
	}
	for _, a := range inv.Accounts {
		if a == nil {
			continue
		}
		if a.IAM != nil {
			for _, r := range a.IAM.Roles {
				if r != nil {
					ix.roles[r.ARN] = r
				}
			}
			for _, p := range a.IAM.ManagedPolicies {
				if p != nil {
					// AWS managed policies have one ARN across accounts; the
					// first copy is as good as any.
					if _, ok := ix.policies[p.ARN]; !ok {
						ix.policies[p.ARN] = p
					}
				}
			}
		}
		for _, reg := range a.Regions {
			if reg == nil {
				continue
			}
			for _, td := range reg.TaskDefinitions {
				if td != nil {
					ix.taskDefs[td.ARN] = td
				}
			}
			for _, c := range reg.Clusters {
				if c == nil {
					continue
				}
				for _, s := range c.Services {
					if s != nil {
						ix.services[s.ARN] = s
					}
				}
				for _, ci := range c.ContainerInstances {
					if ci != nil {
						ix.instances[ci.ARN] = ci
					}
				}
			}
		}
	}
	return ix
}

func (ix *invIndex) roleEvidence(r *inventory.Role) *roleEvidence {
	out := &roleEvidence{ARN: r.ARN, Name: r.Name, Path: r.Path, TrustPolicy: policyJSON(r.TrustPolicy),
		InlinePolicies: []namedDocument{}, AttachedPolicies: []namedDocument{}, Tags: r.Tags}
	inline := append([]inventory.InlinePolicy(nil), r.InlinePolicies...)
	sort.SliceStable(inline, func(i, j int) bool { return inline[i].Name < inline[j].Name })
	for _, p := range inline {
		out.InlinePolicies = append(out.InlinePolicies, namedDocument{Name: p.Name, Document: policyJSON(p.Document)})
	}
	attached := append([]string(nil), r.AttachedPolicies...)
	sort.Strings(attached)
	for _, arn := range attached {
		out.AttachedPolicies = append(out.AttachedPolicies, ix.managed(arn))
	}
	if r.PermissionsBoundary != "" {
		b := ix.managed(r.PermissionsBoundary)
		out.PermissionsBoundary = &b
	}
	return out
}

func (ix *invIndex) managed(arn string) namedDocument {
	d := namedDocument{Name: resourceName(arn), ARN: arn}
	if p := ix.policies[arn]; p != nil {
		d.Name = p.Name
		d.Document = policyJSON(p.Document)
	} else {
		d.Note = "policy document not collected"
	}
	return d
}

// WriteEvidence writes one evidence file per artifact path that a finding
// of res points at, below dir, each atomically; it returns the files
// written, sorted. inv may be nil: each file then lists the findings only.
// A file that cannot be written does not stop the others; the errors are
// joined.
func WriteEvidence(res *findings.Result, inv *inventory.Inventory, dir string) ([]string, error) {
	if res == nil {
		return nil, errors.New("report: no result to write")
	}
	v := newView(res)
	ix := newInvIndex(inv)
	type group struct {
		first    *findings.Finding
		findings []evidenceFinding
	}
	groups := map[string]*group{}
	v.eachFinding(func(f *findings.Finding) error {
		p := artifactPath(f)
		g := groups[p]
		if g == nil {
			g = &group{first: f}
			groups[p] = g
		}
		g.findings = append(g.findings, evidenceFinding{ID: f.ID, RuleID: f.RuleID, Severity: string(f.Severity), Message: f.Message})
		return nil
	})
	var written []string
	var errs []string
	for _, rel := range sortedKeys(groups) {
		g := groups[rel]
		if !filepath.IsLocal(filepath.FromSlash(rel)) {
			errs = append(errs, fmt.Sprintf("%s: not a local path", rel))
			continue
		}
		ef := ix.evidence(g.first)
		ef.Findings = g.findings
		path := filepath.Join(dir, filepath.FromSlash(rel))
		err := inventory.WriteFileAtomic(path, func(w io.Writer) error {
			return writePrettyJSON(w, ef)
		})
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		written = append(written, path)
	}
	sort.Strings(written)
	if len(errs) > 0 {
		return written, fmt.Errorf("report: evidence: %s", strings.Join(errs, "; "))
	}
	return written, nil
}

// evidence builds the file for the resource of f (without findings).
func (ix *invIndex) evidence(f *findings.Finding) *evidenceFile {
	ef := &evidenceFile{Comment: evidenceComment, ResourceType: f.ResourceType, ResourceARN: f.ResourceARN,
		AccountID: f.AccountID, Region: f.Region}
	switch f.ResourceType {
	case findings.ResourceTaskDefinition:
		arn := f.ResourceARN
		if ix.taskDefs[arn] == nil && f.TaskDefinitionARN != "" {
			arn = f.TaskDefinitionARN
		}
		if td := ix.taskDefs[arn]; td != nil {
			ef.Resource, ef.Collected = redactTaskDef(td), true
		}
	case findings.ResourceRole:
		arn := f.ResourceARN
		if ix.roles[arn] == nil && f.RoleARN != "" {
			arn = f.RoleARN
		}
		if r := ix.roles[arn]; r != nil {
			ef.Resource, ef.Collected = ix.roleEvidence(r), true
		}
	case findings.ResourcePolicy:
		if p := ix.policies[f.ResourceARN]; p != nil {
			d := ix.managed(p.ARN)
			ef.Resource, ef.Collected = &d, true
		}
	case findings.ResourceService:
		if s := ix.services[f.ResourceARN]; s != nil {
			ef.Resource, ef.Collected = s, true
		}
	case findings.ResourceContainerInstance:
		if ci := ix.instances[f.ResourceARN]; ci != nil {
			ef.Resource, ef.Collected = ci, true
		}
	}
	if !ef.Collected {
		ef.Note = "the resource is not in the inventory given to the report writer; only the findings are listed"
	}
	return ef
}

// redactTaskDef returns a copy of td whose log and FireLens options are
// redacted once more (they were at collection; this is defence in depth).
// Environment variables hold no values by construction.
func redactTaskDef(td *inventory.TaskDefinition) *inventory.TaskDefinition {
	c := *td
	c.ContainerDefinitions = append([]inventory.ContainerDefinition(nil), td.ContainerDefinitions...)
	for i := range c.ContainerDefinitions {
		cd := &c.ContainerDefinitions[i]
		if cd.LogConfiguration != nil {
			lc := *cd.LogConfiguration
			lc.Options = inventory.RedactOptions(lc.Options)
			cd.LogConfiguration = &lc
		}
		if cd.FirelensConfiguration != nil {
			fc := *cd.FirelensConfiguration
			fc.Options = inventory.RedactOptions(fc.Options)
			cd.FirelensConfiguration = &fc
		}
	}
	return &c
}

// writePrettyJSON writes v indented, with policy documents re-indented and
// hidden characters as \u escapes (EscapeHiddenJSON).
func writePrettyJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(EscapeHiddenJSON(out.Bytes()))
	return err
}
