package findings

import (
	"strings"
	"testing"

	"github.com/ecs-audit/audit/inventory"
	"github.com/ecs-audit/audit/policy"
)

// Resources known only in part (issue 8 §1), decided by the policy engine
// with the unknown run: a secret named without its 6-character suffix and
// not resolved, an awslogs stream named after the task or container ID.
//
// Sources: ecs-facts §1.6 (the secret ARN is NAME-XXXXXX with 6 random
// alphanumeric characters; IAM evaluates the real full ARN; Secrets Manager
// recommends NAME-??????, and NAME-* also matches longer names), §1.4
// (stream prefix/container/task-id, or the container ID without a prefix),
// §5.3 (wildcards) and §5.1 (an explicit Deny in any layer wins).
func TestPartialResources(t *testing.T) {
	const act = `"secretsmanager:GetSecretValue"`
	doc := func(grant, deny string) string {
		s := `{"Sid":"Grant","Effect":"Allow","Action":` + act + `,"Resource":"` + grant + `"}`
		if deny != "" {
			s += `,{"Sid":"Block","Effect":"Deny","Action":` + act + `,"Resource":"` + deny + `"}`
		}
		return `{"Version":"2012-10-17","Statement":[` + s + `]}`
	}
	// secret sets up a task definition reading smBase+"db" (a partial ARN)
	// and, when resolved is not "", the secret db with that suffix.
	secret := func(grant, deny, resolved string) func(w *tw) {
		return func(w *tw) {
			if resolved != "" {
				w.reg.Secrets = []*inventory.Secret{{ARN: smBase + "db-" + resolved, Name: "db"}}
			}
			w.td("app", w.role("exec", ecsTrust, false, "p", doc(grant, deny)), "FARGATE", ctr("c", "nginx", withSecret("X", smBase+"db")))
		}
	}
	logsDoc := func(resource string) string {
		return allowDoc(`["logs:CreateLogStream","logs:PutLogEvents"]`, `"`+resource+`"`)
	}
	stream := "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:"
	cases := []struct {
		name     string
		setup    func(w *tw)
		er4, er5 int
		contains []string // in the first ER004 or ER005 message
		rule     string
	}{
		{"NAME-?????? unresolved", secret(smBase+"db-??????", "", ""), 0, 0, nil, "§1.6 the recommended pattern covers every suffix"},
		{"NAME-* unresolved", secret(smBase+"db-*", "", ""), 0, 0, nil, "§1.6 NAME-* covers every suffix"},
		{"NAME-Ab???? unresolved", secret(smBase+"db-Ab????", "", ""), 0, 1, []string{"db-??????", "matches only for some values", "without its 6-character suffix"},
			"issue 8 example 1: was a certain ER004; the grant covers the suffixes starting Ab"},
		{"NAME-Ab???? resolved to Zz9Yx8", secret(smBase+"db-Ab????", "", "Zz9Yx8"), 1, 0, []string{"db-Zz9Yx8"}, "§5.3 resolved: the real ARN does not match"},
		{"NAME-Ab???? resolved to AbCdEf", secret(smBase+"db-Ab????", "", "AbCdEf"), 0, 0, nil, "§5.3 resolved: the real ARN matches"},
		{"Deny one suffix unresolved", secret(smBase+"db-??????", smBase+"db-Zz9Yx8", ""), 0, 1, []string{"Block", "ExplicitDeny in the worst case"},
			"issue 8 example 2: was silently allowed; the Deny may name the real suffix"},
		{"Deny one suffix resolved to it", secret(smBase+"db-??????", smBase+"db-Zz9Yx8", "Zz9Yx8"), 1, 0, []string{"explicit Deny", "Block"}, "§5.1 explicit deny wins"},
		{"Deny one suffix resolved to another", secret(smBase+"db-??????", smBase+"db-Zz9Yx8", "AbCdEf"), 0, 0, nil, "§5.3 the Deny does not match"},
		{"Deny NAME-* unresolved", secret(smBase+"*", smBase+"db-*", ""), 1, 0, []string{"explicit Deny"}, "§1.6/§5.1 the Deny covers every suffix"},
		{"grant without suffix unresolved", secret(smBase+"db", "", ""), 1, 0, []string{"no identity policy"}, "§1.6 the real ARN always has the suffix"},
		{"grant of another name unresolved", secret(smBase+"db-prod-??????", "", ""), 1, 0, nil, "§1.6 NAME-*-?????? names a longer secret, never this one"},
		{"SCP denies one suffix", func(w *tw) {
			w.inOrg(allowDoc(`"*"`, `"*"`), `{"Version":"2012-10-17","Statement":[{"Sid":"NoProdDb","Effect":"Deny","Action":`+act+`,"Resource":"`+smBase+`db-Zz9Yx8"}]}`)
			secret(smBase+"db-??????", "", "")(w)
		}, 0, 1, []string{"SCP level 1"}, "§5.1 an SCP Deny may name the real suffix"},
		{"SCP allows some suffixes only", func(w *tw) {
			w.inOrg(allowDoc(`"secretsmanager:*"`, `"`+smBase+`db-A*"`))
			secret(smBase+"db-??????", "", "")(w)
		}, 0, 1, nil, "§5.1 every SCP level needs an Allow for the real ARN"},
		{"registry credentials by name", func(w *tw) {
			c := ctr("c", "vendor/app:1")
			c.RepositoryCredentials = &inventory.RepositoryCredentials{CredentialsParameter: "hub"}
			w.td("app", w.role("exec", ecsTrust, false, "p", doc(smBase+"hub-Ab????", "")), "FARGATE", c)
		}, 0, 1, []string{"hub-??????"}, "§1.5 a name: the suffix is unknown"},
		{"SSM reference to a secret", func(w *tw) {
			d := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"*"},{"Effect":"Allow","Action":` + act + `,"Resource":"` + smBase + `db-Ab????"}]}`
			w.td("app", w.role("exec", ecsTrust, false, "p", d), "FARGATE", ctr("c", "nginx", withSecret("X", "/aws/reference/secretsmanager/db")))
		}, 0, 1, []string{"db-??????"}, "§1.6 reference: the secret's suffix is unknown"},
		// An unresolved name that ends like a suffix: the full ARN as
		// written, or the partial ARN of a longer name.
		{"ambiguous: both readings allowed", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, false, "p", allowDoc(act, `["`+smBase+`prod/app-secret","`+smBase+`prod/app-secret-??????"]`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", smBase+"prod/app-secret")))
		}, 0, 0, nil, "§1.6 either reading is allowed"},
		{"ambiguous: only the full reading allowed", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, false, "p", allowDoc(act, `"`+smBase+`prod/app-secret"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", smBase+"prod/app-secret")))
		}, 0, 1, []string{"read as the full ARN", "Allowed", "read as a partial ARN (" + smBase + "prod/app-secret-??????) it is ImplicitDeny"}, "the two readings differ"},
		{"ambiguous: neither reading allowed", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, false, "p", allowDoc(act, `"`+smBase+`other-??????"`)), "FARGATE",
				ctr("c", "nginx", withSecret("X", smBase+"prod/app-secret")))
		}, 1, 0, nil, "denied under both readings"},
		{"ambiguous: a Deny of the partial reading", func(w *tw) {
			d := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":` + act + `,"Resource":"*"},{"Effect":"Deny","Action":` + act + `,"Resource":"` + smBase + `prod/app-secret-*"}]}`
			w.td("app", w.role("exec", ecsTrust, false, "p", d), "FARGATE", ctr("c", "nginx", withSecret("X", smBase+"prod/app-secret")))
		}, 0, 1, []string{"ExplicitDeny"}, "allowed as written, denied as a partial ARN"},
		// awslogs streams: the task or container ID is new for every task.
		{"stream prefix covered", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, false, "p", logsDoc(stream+"p/*")), "FARGATE", ctr("c", "nginx", withLogs("/ecs/app", "p")))
		}, 0, 0, nil, "§1.4 prefix/* covers every task ID"},
		{"one task's stream only", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, false, "p", logsDoc(stream+"p/c/0123456789abcdef0123456789abcdef")), "FARGATE", ctr("c", "nginx", withLogs("/ecs/app", "p")))
		}, 0, 1, []string{"<task-id>", "new for every task"}, "§1.4 one task ID out of all (CreateLogStream and PutLogEvents, one cause)"},
		{"another prefix", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, false, "p", logsDoc(stream+"other/*")), "FARGATE", ctr("c", "nginx", withLogs("/ecs/app", "p")))
		}, 1, 0, nil, "§1.4 no task ID can match (CreateLogStream and PutLogEvents, one cause)"},
		{"container ID streams on EC2", func(w *tw) {
			w.td("app", w.role("exec", ecsTrust, false, "p", logsDoc(stream+"*")), "EC2", ctr("c", "nginx", withLogs("/ecs/app", "")))
		}, 0, 0, nil, "§1.4 no prefix: log-stream:* covers every container ID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newTW()
			c.setup(w)
			r := w.eval(t)
			if len(byRule(r, "ER004")) != c.er4 || len(byRule(r, "ER005")) != c.er5 {
				var msgs []string
				for _, f := range r.Findings {
					msgs = append(msgs, f.RuleID+": "+f.Message)
				}
				t.Fatalf("ER004 %d (want %d), ER005 %d (want %d) (%s):\n%s", len(byRule(r, "ER004")), c.er4, len(byRule(r, "ER005")), c.er5, c.rule, strings.Join(msgs, "\n"))
			}
			var f []Finding
			if c.er4 > 0 {
				f = byRule(r, "ER004")
			} else {
				f = byRule(r, "ER005")
			}
			if len(c.contains) == 0 {
				return
			}
			// The message, and the engine's reason for the need.
			text := f[0].Message
			if d := f[0].Evidence.Decision; d != nil {
				text += "\n" + d.Reason
			}
			for _, s := range c.contains {
				if !strings.Contains(text, s) {
					t.Errorf("message and decision lack %q (%s):\n%s", s, c.rule, text)
				}
			}
			for _, f := range byRule(r, "ER005") {
				if d := f.Evidence.Decision; d == nil || d.Outcomes == nil {
					t.Errorf("ER005 without outcomes: %+v", f.Evidence.Decision)
				}
			}
		})
	}
}

// The need carries the unknown run; its displayed resource keeps the
// readable form, and the least-privilege policy grants every value of the
// run (both readings of an ambiguous name).
func TestPartialNeedsAndLeastPrivilege(t *testing.T) {
	lg := &inventory.LogConfiguration{LogDriver: "awslogs", Options: map[string]string{"awslogs-group": "g", "awslogs-region": tRegion}}
	td := &inventory.TaskDefinition{ExecutionRoleARN: "x", ContainerDefinitions: []inventory.ContainerDefinition{
		ctr("c", "nginx", withLogs("/ecs/app", "web"), withSecret("A", smBase+"db"), withSecret("B", smBase+"prod/app-secret")),
		{Name: "d", Image: "nginx", LogConfiguration: lg},
	}}
	needs := derive(td, ec2, nil)
	runs := map[string]string{}
	for _, n := range needs {
		if n.req != nil {
			runs[n.Resource] = n.req.unknown.Describe()
			if n.req.display() != n.Resource {
				t.Errorf("display %q != resource %q", n.req.display(), n.Resource)
			}
		}
	}
	for res, want := range map[string]string{
		smBase + "db-??????": "6 characters of [A-Za-z0-9]",
		"arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:log-stream:web/c/<task-id>": "the task-id, 32 to 36 characters of [0-9a-f-]",
		"arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:<container-id>":         "the container-id, 64 characters of [0-9a-f]",
	} {
		if runs[res] != want {
			t.Errorf("need %s: run %q, want %q (all: %v)", res, runs[res], want, runs)
		}
	}
	doc := leastPrivilege(publicNeeds(needs))
	for _, want := range []string{`"` + smBase + `prod/app-secret"`, `"` + smBase + `prod/app-secret-??????"`, `"` + smBase + `db-??????"`, `log-stream:web/c/*"`, `log-group:g:log-stream:*"`} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("least-privilege policy lacks %s:\n%s", want, doc)
		}
	}
	p, err := policy.Parse("lp", doc)
	if err != nil {
		t.Fatal(err)
	}
	in := &policy.Input{Identity: []policy.NamedPolicy{{Name: "lp", Policy: p}}}
	for _, n := range needs {
		readings := []*reading{n.req}
		if n.alt != nil {
			readings = append(readings, n.alt)
		}
		for _, rd := range readings {
			req := policy.Request{Principal: "arn:aws:iam::111122223333:role/x", Action: n.Action, Resource: n.Resource, Context: policy.NewContext()}
			if rd != nil {
				req.Resource, req.ResourceUnknown = rd.prefix, rd.unknown
			}
			if d := policy.Evaluate(in, req); d.Decision != policy.Allowed {
				t.Errorf("least-privilege policy: %s on %s is %s: %s", n.Action, policy.DisplayResource(req.Resource, req.ResourceUnknown), d.Decision, d.Reason)
			}
		}
	}
}
