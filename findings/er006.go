package findings

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ecs-audit/audit/internal/awsactions"
	"github.com/ecs-audit/audit/policy"
)

var ruleER006 = &rule{RuleMeta: RuleMeta{
	ID:            "ER006",
	Title:         "Execution role holds more than its task definitions need",
	Severity:      High,
	SeverityRange: SeverityRange{Min: Info, Max: Critical},
	Description: "The execution role's identity policies grant actions that none of the task definitions using it need (admin-like wildcards, " +
		"actions of unrelated services, write or permission-management actions), or grant needed read actions on wildcard resources where " +
		"exact ARNs would serve. One finding per role says which grants are excess and why: an action no task definition needs, a needed action " +
		"on more resources than needed, or a service no need involves.",
	Why: "The execution role's credentials are handed to the ECS agent or Fargate for every task. Excess permissions widen what a compromised " +
		"agent host, a confused deputy or a mistaken task definition can do, and a role shared by many task definitions lets each read the others' secrets.",
	Remediation: "Replace the role's policies with the least-privilege policy in the evidence (AmazonECSTaskExecutionRolePolicy is acceptable for ECR and CloudWatch Logs); move application permissions to the task role.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
	},
	Tags:      []string{"security", "least-privilege", "iam"},
	Precision: "high",
}, check: checkER006}

func init() { register(ruleER006) }

// awsExecPolicyARN is AWS's managed execution-role policy (ecs-facts §3.1).
const awsExecPolicyARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"

// sensitiveReads are needed actions whose wildcard resources expose data of
// other workloads.
var sensitiveReads = map[string]bool{
	"secretsmanager:getsecretvalue": true, "ssm:getparameters": true, "kms:decrypt": true, "s3:getobject": true,
}

func checkER006(e *evaluation, r *rule) {
	for _, ri := range e.sortedRoles() {
		needs := roleNeeds(ri)
		needed := map[string]bool{}
		services := map[string]bool{}
		neededOn := map[string]int{} // action → number of resources needed
		for _, n := range needs {
			if n.Invalid {
				continue
			}
			a := strings.ToLower(n.Action)
			needed[a] = true
			neededOn[a]++
			svc, _, _ := strings.Cut(a, ":")
			services[svc] = true
		}
		items := excessGrants(ri, needed, services)
		if len(items) == 0 {
			continue
		}
		sev := Info
		for _, it := range items {
			if it.Severity.Rank() > sev.Rank() {
				sev = it.Severity
			}
		}
		var used []string
		var affected []ResourceRef
		for _, t := range ri.usedBy {
			used = append(used, tdLabel(t))
			affected = append(affected, tdRef(t))
		}
		sort.Strings(used)
		doc := leastPrivilege(needs)
		r.emit(e, Finding{
			Severity: sev,
			Message: fmt.Sprintf("Execution role %s in %s grants more than its %s %s: %s. Most severe (%s): %s on %s in %s — %s.",
				ri.arn(), e.accountLabel(ri.account.ID), count(len(ri.usedBy), "task definition", "task definitions"),
				plural(len(ri.usedBy), "needs", "need"), excessSummary(items, neededOn), items[0].Severity, items[0].Action, items[0].Resource,
				excessPolicyPhrase(ri, items[0]), items[0].Reason),
			AccountID: ri.account.ID, ResourceType: ResourceRole, ResourceARN: ri.arn(), RoleARN: ri.arn(), Affected: affected,
			Evidence: Evidence{Excess: items, Facts: map[string]string{"usedBy": strings.Join(used, ", ")}},
			Fix: Fix{Layer: FixIdentity, Target: &FixTarget{Type: ResourceRole, ARN: ri.arn(), Name: ri.role.Name},
				Summary: "Replace the identity policies of role " + ri.arn() + " with the suggested policy: it grants exactly what its " +
					count(len(ri.usedBy), "task definition needs", "task definitions need") + ", on the exact resources.",
				Steps: []string{"Move permissions the application itself uses to the task role (taskRoleArn).",
					"AmazonECSTaskExecutionRolePolicy is acceptable for the ECR and CloudWatch Logs needs; keep secrets, parameters and keys to their exact ARNs."},
				SuggestedPolicy: doc, SuggestedPolicyLayer: FixIdentity, SuggestedPolicyTarget: "the identity policies of role " + ri.arn() + " (replacing them)"},
		}, "", Fingerprint(r.ID, ri.account.ID, "", ri.arn(), ""))
	}
}

// excessSummary counts the excess grants by why they are excess: actions
// no task definition needs, needed actions on more resources than needed,
// services no need involves.
func excessSummary(items []ExcessGrant, neededOn map[string]int) string {
	by := map[ExcessKind][]ExcessGrant{}
	for _, it := range items {
		by[it.Kind] = append(by[it.Kind], it)
	}
	actions := func(list []ExcessGrant) string {
		var out []string
		for _, it := range list {
			if !slices.Contains(out, it.Action) {
				out = append(out, it.Action)
			}
		}
		if len(out) > 4 {
			return strings.Join(out[:4], ", ") + " and " + count(len(out)-4, "more", "more")
		}
		return listAnd(out)
	}
	var parts []string
	if l := by[ExcessAdministrator]; len(l) > 0 {
		parts = append(parts, "administrator access ("+actions(l)+")")
	}
	if l := by[ExcessNotAction]; len(l) > 0 {
		parts = append(parts, plural(len(l), "an Allow", "Allows")+" with NotAction, which "+plural(len(l), "grants", "grant")+" every other action")
	}
	if l := by[ExcessUnrelatedService]; len(l) > 0 {
		parts = append(parts, count(len(l), "grant", "grants")+" of services no task definition uses ("+actions(l)+")")
	}
	if l := by[ExcessActionNotNeeded]; len(l) > 0 {
		parts = append(parts, count(len(l), "grant", "grants")+" of actions no task definition needs ("+actions(l)+")")
	}
	if l := by[ExcessWiderResource]; len(l) > 0 {
		var which []string
		for _, it := range l {
			w := it.Action + " on " + it.Resource
			if n := neededOn[strings.ToLower(it.Action)]; n > 0 {
				w += " where " + count(n, "resource is", "resources are") + " needed"
			}
			which = append(which, w)
		}
		parts = append(parts, count(len(l), "needed action", "needed actions")+" on more resources than needed ("+strings.Join(which, "; ")+")")
	}
	return listAnd(parts)
}

// excessPolicyPhrase names the policy and statement of an excess grant.
func excessPolicyPhrase(ri *roleInfo, it ExcessGrant) string {
	src, ok := ri.sources[it.Policy]
	name := "policy " + it.Policy
	if ok {
		name = src.phrase
	}
	return "statement " + it.Statement + " of " + name
}

// excessGrants walks every Allow statement of the role's identity policies.
func excessGrants(ri *roleInfo, needed, services map[string]bool) []ExcessGrant {
	var out []ExcessGrant
	add := func(np policy.NamedPolicy, s *policy.Statement, kind ExcessKind, action, resource, reason string, sev Severity) {
		if len(s.Conditions) > 0 {
			reason += " (under conditions)"
		}
		out = append(out, ExcessGrant{Policy: np.Name, Statement: stmtRef(s), Kind: kind, Action: action, Resource: resource, Reason: reason, Severity: sev})
	}
	for _, np := range ri.identity {
		for _, s := range np.Policy.Statements {
			if s.Effect != "Allow" {
				continue
			}
			res := strings.Join(s.Resources, ", ")
			if len(s.NotResources) > 0 {
				res = "NotResource: " + strings.Join(s.NotResources, ", ")
			}
			if len(s.NotActions) > 0 {
				add(np, s, ExcessNotAction, "NotAction: "+strings.Join(s.NotActions, ", "), res, "Allow with NotAction grants every other action of every service", High)
				continue
			}
			awsExec := np.Name == awsExecPolicyARN
			for _, a := range s.Actions {
				la := strings.ToLower(a)
				svc, name, _ := strings.Cut(la, ":")
				if !awsactions.KnownService(svc) && svc != "*" && !strings.ContainsAny(svc, "*?") {
					continue // grants nothing; PL001 reports it
				}
				if la == "*" || svc == "*" {
					add(np, s, ExcessAdministrator, a, res, "grants every action of every service (administrator access)", Critical)
					continue
				}
				expanded, cataloged := awsactions.Expand(a)
				if !services[svc] {
					sev, reason := unrelatedSeverity(svc, expanded, cataloged, name)
					if awsExec {
						sev = Info // AWS's own execution-role policy, granting what ECS documents
					}
					add(np, s, ExcessUnrelatedService, a, res, reason, sev)
					continue
				}
				var extra []string
				worst := ""
				for _, x := range expanded {
					if !needed[strings.ToLower(x)] {
						extra = append(extra, x)
						if _, lvl, ok := awsactions.Lookup(x); ok && levelRank(string(lvl)) > levelRank(worst) {
							worst = string(lvl)
						}
					}
				}
				if len(extra) > 0 {
					sev := Low
					if awsExec {
						sev = Info
					}
					switch worst {
					case "Permissions management":
						sev = High
					case "Write":
						sev = Medium
					}
					reason := "grants " + count(len(extra), "action", "actions") + " no task definition needs"
					if len(extra) <= 6 {
						reason += ": " + listAnd(extra)
					} else {
						reason += fmt.Sprintf(" (up to the %s access level), for example %s", worst, strings.Join(extra[:6], ", "))
					}
					add(np, s, ExcessActionNotNeeded, a, res, reason, sev)
				}
				// Needed actions on broader resources than needed.
				var coveredNeeded []string
				for act := range needed {
					if policy.MatchAction(a, act) {
						coveredNeeded = append(coveredNeeded, act)
					}
				}
				sort.Strings(coveredNeeded)
				for _, act := range coveredNeeded {
					if act == "ecr:getauthorizationtoken" {
						continue
					}
					for _, r := range s.Resources {
						if !broadResource(r) || (awsExec && !sensitiveReads[act]) {
							continue // AmazonECSTaskExecutionRolePolicy's "*" for ECR and logs is the documented default
						}
						sev := Info
						reason := "the action is needed, but on fewer resources: exact ARNs would serve"
						if sensitiveReads[act] {
							sev = Medium
							reason = "the action is needed, but this reads every matching " + svcNoun(act) + " of every workload: exact ARNs would serve"
						}
						add(np, s, ExcessWiderResource, canonicalAction(act), r, reason, sev)
					}
					if len(s.NotResources) > 0 {
						add(np, s, ExcessWiderResource, canonicalAction(act), res, "the action is needed, but this grants it on everything except some resources", Medium)
					}
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Severity.Rank() != out[j].Severity.Rank() {
			return out[i].Severity.Rank() > out[j].Severity.Rank()
		}
		if out[i].Policy != out[j].Policy {
			return out[i].Policy < out[j].Policy
		}
		if out[i].Statement != out[j].Statement {
			return out[i].Statement < out[j].Statement
		}
		if out[i].Action != out[j].Action {
			return out[i].Action < out[j].Action
		}
		return out[i].Resource < out[j].Resource
	})
	return out
}

// unrelatedSeverity rates a grant of a service no need involves.
func unrelatedSeverity(svc string, expanded []string, cataloged bool, name string) (Severity, string) {
	sensitive := map[string]bool{"iam": true, "sts": true, "organizations": true, "kms": true}
	if cataloged {
		worst := ""
		for _, x := range expanded {
			if _, lvl, ok := awsactions.Lookup(x); ok && levelRank(string(lvl)) > levelRank(worst) {
				worst = string(lvl)
			}
		}
		switch {
		case worst == "Permissions management":
			return High, "grants permission-management actions of " + svc + ", which no task definition needs"
		case worst == "Write" && sensitive[svc]:
			return High, "grants write actions of " + svc + ", which no task definition needs"
		case worst == "Write":
			return Medium, "grants write actions of " + svc + ", which no task definition needs"
		}
		return Low, "grants " + svc + " actions no task definition needs"
	}
	if strings.ContainsAny(name, "*?") {
		if sensitive[svc] {
			return High, "grants a wildcard of " + svc + " actions, which no task definition needs"
		}
		return Medium, "grants a wildcard of " + svc + " actions, which no task definition needs"
	}
	return Low, "grants an action of " + svc + ", which no task definition needs"
}

func levelRank(l string) int {
	switch l {
	case "Permissions management":
		return 5
	case "Write":
		return 4
	case "Tagging":
		return 3
	case "Read":
		return 2
	case "List":
		return 1
	}
	return 0
}

// broadResource says whether a resource pattern names no specific resource:
// "*", a wildcard account, or a resource part that is only a type and a
// wildcard (secret:*, parameter/*, repository/*, log-group:*, key/*).
func broadResource(r string) bool {
	if r == "*" {
		return true
	}
	parts := strings.SplitN(r, ":", 6)
	if len(parts) < 6 {
		return strings.HasSuffix(r, "*")
	}
	if strings.Contains(parts[4], "*") {
		return true
	}
	res := parts[5]
	if parts[2] == "s3" {
		// arn:aws:s3:::bucket/key: broad only when the bucket is a wildcard.
		bucket, _, _ := strings.Cut(res, "/")
		return strings.ContainsAny(bucket, "*?")
	}
	if res == "*" {
		return true
	}
	for _, sep := range []string{":", "/"} {
		if typ, rest, ok := strings.Cut(res, sep); ok && typ != "" && strings.Trim(rest, "*?/:") == "" {
			return true
		}
	}
	return false
}

func svcNoun(action string) string {
	switch {
	case strings.HasPrefix(action, "secretsmanager:"):
		return "secret"
	case strings.HasPrefix(action, "ssm:"):
		return "parameter"
	case strings.HasPrefix(action, "kms:"):
		return "KMS key's data"
	case strings.HasPrefix(action, "s3:"):
		return "S3 object"
	}
	return "resource"
}

func canonicalAction(lower string) string {
	if name, _, ok := awsactions.Lookup(lower); ok {
		return name
	}
	return lower
}

func stmtRef(s *policy.Statement) string {
	if s.Sid != "" {
		return s.Sid
	}
	return fmt.Sprintf("#%d", s.Index)
}
