package findings

import (
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/ecs-audit/audit/inventory"
)

// result assembles the Result from the evaluation.
func (e *evaluation) result() *Result {
	inv := e.inv
	r := &Result{
		SchemaVersion: ResultSchemaVersion,
		Tool:          Tool{Name: ToolName, Version: e.opts.ToolVersion, InformationURI: ToolURI},
		GeneratedAt:   e.now.UTC(),
		Scope: Scope{
			Source: inv.Scope.Source, CollectedAt: inv.CollectedAt.UTC(), Partition: inv.Partition,
			Accounts: []AccountRef{}, Regions: []string{},
		},
		Rules: Catalog(),
	}
	if inv.Organization != nil {
		r.Scope.OrganizationID = inv.Organization.ID
	}
	regions := map[string]bool{}
	for _, a := range inv.Accounts {
		r.Scope.Accounts = append(r.Scope.Accounts, AccountRef{ID: a.ID, Name: a.Name})
		for _, reg := range a.Regions {
			if reg.Status == inventory.RegionScanned {
				regions[reg.Name] = true
			}
		}
	}
	sort.Slice(r.Scope.Accounts, func(i, j int) bool { return r.Scope.Accounts[i].ID < r.Scope.Accounts[j].ID })
	for reg := range regions {
		r.Scope.Regions = append(r.Scope.Regions, reg)
	}
	sort.Strings(r.Scope.Regions)

	// Findings, most severe first, then by rule, account, region, resource, ID.
	sortFindings(e.findings)
	r.Findings = e.findings
	if r.Findings == nil {
		r.Findings = []Finding{}
	}

	// Roles.
	roleFindings := map[string]int{}
	for _, f := range r.Findings {
		if f.RoleARN != "" {
			roleFindings[f.RoleARN]++
		}
	}
	r.Roles = []RoleReport{}
	for _, ri := range e.sortedRoles() {
		needs := roleNeeds(ri)
		rr := RoleReport{RoleARN: ri.arn(), AccountID: ri.account.ID, Exists: true, UsedBy: []string{}, Needs: needs,
			LeastPrivilegePolicy: leastPrivilege(needs), Findings: roleFindings[ri.arn()]}
		for _, t := range ri.usedBy {
			rr.UsedBy = append(rr.UsedBy, t.td.ARN)
		}
		sort.Strings(rr.UsedBy)
		r.Roles = append(r.Roles, rr)
	}
	// Task definitions.
	r.TaskDefinitions = []TaskDefReport{}
	for _, t := range e.tds {
		tr := TaskDefReport{ARN: t.td.ARN, AccountID: t.account.ID, Region: t.region, Family: t.td.Family,
			Revision: t.td.Revision, LaunchTypes: append([]string{}, t.host.list()...), ExecutionRoleARN: t.execARN,
			Needs: publicNeeds(t.needs), Findings: t.findings}
		seen := map[string]bool{}
		for _, u := range t.uses {
			if !seen[u.service.ARN] {
				seen[u.service.ARN] = true
				tr.UsedByServices = append(tr.UsedByServices, u.service.ARN)
			}
		}
		sort.Strings(tr.UsedByServices)
		r.TaskDefinitions = append(r.TaskDefinitions, tr)
	}
	sort.Slice(r.TaskDefinitions, func(i, j int) bool { return r.TaskDefinitions[i].ARN < r.TaskDefinitions[j].ARN })

	r.summarize()
	r.Coverage = e.coverage()
	return r
}

// roleNeeds is the union of the needs the role serves for every task
// definition that uses it, deduplicated on (action, resource).
func roleNeeds(ri *roleInfo) []Need {
	seen := map[string]bool{}
	var out []Need
	for _, t := range ri.usedBy {
		for _, n := range t.needs {
			if n.ServedBy != ServedByExecutionRole {
				continue
			}
			k := n.Action + "\x00" + n.Resource
			if seen[k] {
				continue
			}
			seen[k] = true
			nn := n.Need
			nn.Container, nn.FieldPath = "", "" // these differ per task definition
			out = append(out, nn)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Feature != out[j].Feature {
			return out[i].Feature < out[j].Feature
		}
		if out[i].Action != out[j].Action {
			return out[i].Action < out[j].Action
		}
		return out[i].Resource < out[j].Resource
	})
	if out == nil {
		out = []Need{}
	}
	return out
}

func publicNeeds(d []derivedNeed) []Need {
	out := make([]Need, len(d))
	for i := range d {
		out[i] = d[i].Need
	}
	return out
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		for _, p := range [][2]string{{a.RuleID, b.RuleID}, {a.AccountID, b.AccountID}, {a.Region, b.Region}, {a.ResourceARN, b.ResourceARN}, {a.ID, b.ID}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return false
	})
}

// coverage says what was scanned and what was not, and what follows.
func (e *evaluation) coverage() Coverage {
	inv := e.inv
	c := Coverage{Complete: inv.Complete && len(inv.Errors) == 0, Interrupted: inv.Interrupted,
		AccountsTotal: len(inv.Accounts), Errors: append([]inventory.CollectionError{}, inv.Errors...)}
	sortCoverageErrors(c.Errors)
	gaps := append([]string{}, e.gaps...)
	errs := map[AccountRegion]int{}
	for _, ce := range inv.Errors {
		errs[AccountRegion{AccountID: ce.AccountID, Region: ce.Region}]++
	}
	collected := func(account, region string) {
		k := AccountRegion{AccountID: account, Region: region}
		c.Collected = append(c.Collected, AccountRegion{AccountID: account, Region: region, Errors: errs[k]})
	}
	for _, a := range inv.Accounts {
		if a.IAM != nil {
			collected(a.ID, "")
		}
		scanned := 0
		for _, reg := range a.Regions {
			switch reg.Status {
			case inventory.RegionScanned:
				c.RegionsScanned++
				scanned++
				collected(a.ID, reg.Name)
			case inventory.RegionNotEnabled:
				c.RegionsNotEnabled++
			case inventory.RegionFailed:
				c.RegionsFailed++
				gaps = append(gaps, fmt.Sprintf("account %s region %s: nothing was collected", a.ID, reg.Name))
			}
		}
		if a.IAM != nil && scanned > 0 {
			c.AccountsScanned++
		}
		if a.IAM == nil {
			gaps = append(gaps, fmt.Sprintf("account %s: IAM was not collected, so execution roles in it were not evaluated", a.ID))
		}
	}
	unknown := map[string]int{}
	for _, t := range e.tds {
		if t.execKind == execUnknown {
			unknown[inventoryAccountOf(t.execARN, t.account.ID)]++
		}
	}
	for acct, n := range unknown {
		gaps = append(gaps, fmt.Sprintf("%s %s execution roles in account %s, whose IAM was not collected; their needs were not evaluated",
			count(n, "task definition", "task definitions"), plural(n, "names", "name"), acct))
	}
	sortCollected(c.Collected)
	sort.Strings(gaps)
	c.Gaps = slices.Compact(gaps)
	if len(c.Gaps) > 0 || c.RegionsFailed > 0 {
		c.Complete = false
	}
	return c
}

// sortCoverageErrors orders collection errors by account, region,
// service, operation, resource and code, keeping the order of the
// inventory between errors that differ only in their message.
func sortCoverageErrors(es []inventory.CollectionError) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		for _, p := range [][2]string{{a.AccountID, b.AccountID}, {a.Region, b.Region}, {a.Service, b.Service}, {a.Operation, b.Operation}, {a.Resource, b.Resource}, {a.Code, b.Code}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return false
	})
}

// accountLabel is "Name (ID)" or the ID.
func (e *evaluation) accountLabel(id string) string {
	if a := e.account(id); a != nil && a.Name != "" {
		return fmt.Sprintf("%s (%s)", a.Name, id)
	}
	return id
}

// tdLabel is family:revision.
// tdLabel is family:revision, made once per task definition (it names it
// in many messages).
func tdLabel(t *tdInfo) string {
	if t.label == "" {
		t.label = t.td.Family + ":" + strconv.Itoa(int(t.td.Revision))
	}
	return t.label
}

func where(account, region string) string {
	if region == "" {
		return "account " + account
	}
	return "account " + account + ", " + region
}
