package findings

import (
	"strings"
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

// The words of every demo finding: no "(s)" plurals, no article before the
// wrong sound, no names the engine uses internally, no doubled punctuation.
func TestDemoWords(t *testing.T) {
	_, res := demoResult(t)
	bad := []string{"(s)", " a aws", " a AWS", " a ecr", "(policy trust-policy)", "inline:", "boundary:arn", "key-policy:", "secret-policy:",
		"parameter-policy:", "  ", "..", " ,", " .", "permission(s)", "definition(s)"}
	for _, f := range res.Findings {
		texts := []string{f.Title, f.Message, f.Remediation, f.Impact.Summary, f.Fix.Summary, f.Fix.SuggestedPolicyTarget}
		texts = append(texts, f.Fix.Steps...)
		for _, u := range f.Evidence.Unknowns {
			texts = append(texts, u.Description, u.Settle)
		}
		for _, text := range texts {
			for _, b := range bad {
				if strings.Contains(text, b) {
					t.Errorf("%s %s: %q in %q", f.RuleID, f.ID, b, text)
				}
			}
		}
	}
}

// A TD001's title fits what holds the credential.
func TestTD001Titles(t *testing.T) {
	env := func(names ...string) func(*inventory.ContainerDefinition) {
		return func(c *inventory.ContainerDefinition) {
			for _, n := range names {
				c.Environment = append(c.Environment, inventory.EnvVar{Name: n, ValueLength: 12})
			}
		}
	}
	logOpt := func(c *inventory.ContainerDefinition) {
		c.LogConfiguration = &inventory.LogConfiguration{LogDriver: "splunk", Options: inventory.RedactOptions(map[string]string{"splunk-token": "abc", "splunk-url": "https://x"})}
	}
	firelens := func(c *inventory.ContainerDefinition) {
		c.FirelensConfiguration = &inventory.FirelensConfiguration{Type: "fluentbit", Options: inventory.RedactOptions(map[string]string{"api-token": "abc"})}
	}
	for _, c := range []struct {
		opts  []func(*inventory.ContainerDefinition)
		title string
		words string
	}{
		{[]func(*inventory.ContainerDefinition){env("DB_PASSWORD")}, "Environment variable looks like a plaintext secret", "environment variable DB_PASSWORD"},
		{[]func(*inventory.ContainerDefinition){env("DB_PASSWORD", "API_TOKEN")}, "Environment variables look like plaintext secrets", "2 values that look like credentials"},
		{[]func(*inventory.ContainerDefinition){logOpt}, "Log option holds a credential in plain text", "log option splunk-token"},
		{[]func(*inventory.ContainerDefinition){firelens}, "FireLens option holds a credential in plain text", "FireLens option api-token"},
		{[]func(*inventory.ContainerDefinition){env("DB_PASSWORD"), logOpt}, "Task definition holds credentials in plain text", "log option splunk-token"},
	} {
		t.Run(c.title, func(t *testing.T) {
			w := newTW()
			w.td("app", "", "EC2", ctr("c", "nginx", c.opts...))
			r := w.eval(t)
			check(t, r, "TD001", 1, "", c.words)
			if f := byRule(r, "TD001")[0]; f.Title != c.title {
				t.Errorf("title %q, want %q", f.Title, c.title)
			}
		})
	}
}

// FG001 gives FireLens advice only where FireLens is used.
func TestFG001FirelensAdviceOnlyForFirelens(t *testing.T) {
	for _, c := range []struct {
		name     string
		firelens bool
		setup    func(td *inventory.TaskDefinition)
	}{
		{"FireLens configuration from S3", true, func(td *inventory.TaskDefinition) {
			td.ContainerDefinitions[0].FirelensConfiguration = &inventory.FirelensConfiguration{Type: "fluentbit",
				Options: map[string]string{"config-file-type": "s3", "config-file-value": "arn:aws:s3:::b/x.conf"}}
		}},
		{"environment files on Windows", false, func(td *inventory.TaskDefinition) {
			td.ContainerDefinitions[0].EnvironmentFiles = []inventory.EnvironmentFile{{Value: "arn:aws:s3:::cfg/a.env", Type: "s3"}}
			td.RuntimePlatform = &inventory.RuntimePlatform{OperatingSystemFamily: "WINDOWS_SERVER_2019_CORE"}
		}},
		{"environment files on an old platform version", false, func(td *inventory.TaskDefinition) {
			td.ContainerDefinitions[0].EnvironmentFiles = []inventory.EnvironmentFile{{Value: "arn:aws:s3:::cfg/a.env", Type: "s3"}}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newTW()
			td := w.td("app", w.role("exec", ecsTrust, true), "FARGATE", ctr("c", "nginx"))
			c.setup(td)
			w.service(w.cluster("c"), "svc", "FARGATE", "1.3.0", td)
			r := w.eval(t)
			fs := byRule(r, "FG001")
			if len(fs) == 0 {
				t.Fatal("no FG001")
			}
			for _, f := range fs {
				if got := strings.Contains(f.Remediation, "FireLens"); got != c.firelens {
					t.Errorf("FireLens advice %v, want %v: %s", got, c.firelens, f.Remediation)
				}
			}
		})
	}
}

// ER006 says why each grant is excess.
func TestER006SaysWhy(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		kind      ExcessKind
		words     string
	}{
		{"needed action, wider resource", allowDoc(`"ssm:GetParameters"`, `"*"`), ExcessWiderResource, "1 needed action on more resources than needed (ssm:GetParameters on * where 1 resource is needed)"},
		{"action not needed", allowDoc(`["ssm:GetParameters","ssm:PutParameter"]`, `"arn:aws:ssm:us-east-1:111122223333:parameter/app/x"`), ExcessActionNotNeeded, "1 grant of actions no task definition needs (ssm:PutParameter)"},
		{"unrelated service", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"arn:aws:ssm:us-east-1:111122223333:parameter/app/x"},{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`, ExcessUnrelatedService, "1 grant of services no task definition uses (sqs:SendMessage)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newTW()
			w.td("app", w.role("exec", hardenedTrust, false, "p", c.doc), "FARGATE", ctr("c", "nginx", withSecret("X", "/app/x")))
			r := w.eval(t)
			check(t, r, "ER006", 1, "", c.words)
			f := byRule(r, "ER006")[0]
			for _, g := range f.Evidence.Excess {
				if g.Kind != c.kind {
					t.Errorf("excess %+v, want kind %s", g, c.kind)
				}
			}
		})
	}
}
