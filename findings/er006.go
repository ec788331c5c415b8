package findings

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ecs-audit/audit/internal/awsactions"
	"github.com/ecs-audit/audit/policy"
)

var ruleER006 = register(&rule{RuleMeta: RuleMeta{
	ID:            "ER006",
	Title:         "Execution role holds more than its task definitions need",
	Severity:      High,
	SeverityRange: SeverityRange{Min: Info, Max: Critical},
	Description: "The execution role's identity policies grant actions that none of the task definitions using it need (admin-like wildcards, " +
		"actions of unrelated services, write or permission-management actions), or grant needed read actions on wildcard resources where " +
		"exact ARNs would serve.",
	Why: "The execution role's credentials are handed to the ECS agent or Fargate for every task. Excess permissions widen what a compromised " +
		"agent host, a confused deputy or a mistaken task definition can do, and a role shared by many task definitions lets each read the others' secrets.",
	Remediation: "Replace the role's policies with the least-privilege policy in the evidence (AmazonECSTaskExecutionRolePolicy is acceptable for ECR and CloudWatch Logs); move application permissions to the task role.",
	Docs: []string{
		"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html",
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
	},
	Tags:      []string{"security", "least-privilege", "iam"},
	Precision: "high",
}, check: checkER006})

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
		for _, n := range needs {
			if n.Invalid {
				continue
			}
			a := strings.ToLower(n.Action)
			needed[a] = true
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
		for _, t := range ri.usedBy {
			used = append(used, tdLabel(t))
		}
		sort.Strings(used)
		r.emit(e, Finding{
			Severity: sev,
			Message: fmt.Sprintf("Execution role %s in %s grants %d permission(s) beyond what its %d task definition(s) need (most severe: %s — %s).",
				ri.arn(), e.accountLabel(ri.account.ID), len(items), len(ri.usedBy), items[0].Action, items[0].Reason),
			AccountID: ri.account.ID, ResourceType: ResourceRole, ResourceARN: ri.arn(), RoleARN: ri.arn(),
			Evidence: Evidence{Excess: items, Facts: map[string]string{"usedBy": strings.Join(used, ", ")}, SuggestedPolicy: leastPrivilege(needs)},
		}, "")
	}
}

// excessGrants walks every Allow statement of the role's identity policies.
func excessGrants(ri *roleInfo, needed, services map[string]bool) []ExcessGrant {
	var out []ExcessGrant
	add := func(np policy.NamedPolicy, s *policy.Statement, action, resource, reason string, sev Severity) {
		if len(s.Conditions) > 0 {
			reason += " (under conditions)"
		}
		out = append(out, ExcessGrant{Policy: np.Name, Statement: stmtRef(s), Action: action, Resource: resource, Reason: reason, Severity: sev})
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
				add(np, s, "NotAction: "+strings.Join(s.NotActions, ", "), res, "Allow with NotAction grants every other action of every service", High)
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
					add(np, s, a, res, "grants every action of every service (administrator access)", Critical)
					continue
				}
				expanded, cataloged := awsactions.Expand(a)
				if !services[svc] {
					sev, reason := unrelatedSeverity(svc, expanded, cataloged, name)
					if awsExec {
						sev = Info // AWS's own execution-role policy, granting what ECS documents
					}
					add(np, s, a, res, reason, sev)
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
					reason := fmt.Sprintf("grants %d action(s) no task definition needs", len(extra))
					if len(extra) <= 6 {
						reason += ": " + strings.Join(extra, ", ")
					} else {
						reason += fmt.Sprintf(" (%s level), e.g. %s", worst, strings.Join(extra[:6], ", "))
					}
					add(np, s, a, res, reason, sev)
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
						reason := "needed action on a wildcard resource; exact ARNs would serve"
						if sensitiveReads[act] {
							sev = Medium
							reason = "reads every matching " + svcNoun(act) + " of every workload; exact ARNs would serve"
						}
						add(np, s, canonicalAction(act), r, reason, sev)
					}
					if len(s.NotResources) > 0 {
						add(np, s, canonicalAction(act), res, "needed action on everything except some resources", Medium)
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
