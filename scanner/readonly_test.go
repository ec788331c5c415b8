package scanner

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The SDK clients satisfy the consumer interfaces (checked at compile time).
var (
	_ ecsAPI     = (*ecs.Client)(nil)
	_ iamAPI     = (*iam.Client)(nil)
	_ orgAPI     = (*organizations.Client)(nil)
	_ stsAPI     = (*sts.Client)(nil)
	_ accountAPI = (*account.Client)(nil)
	_ secretsAPI = (*secretsmanager.Client)(nil)
	_ ssmAPI     = (*ssm.Client)(nil)
	_ kmsAPI     = (*kms.Client)(nil)
)

// valueReading are read operations that return secret material; the
// scanner must never be able to call them.
var valueReading = map[string]bool{
	"GetSecretValue": true, "BatchGetSecretValue": true,
	"GetParameter": true, "GetParameters": true, "GetParametersByPath": true, "GetParameterHistory": true,
	"Decrypt": true, "GenerateDataKey": true, "GetSessionToken": true, "GetFederationToken": true,
}

// TestReadOnlyByConstruction checks that every method of every interface the
// scanner talks to AWS through is a read (List, Describe, Get, BatchGet),
// apart from sts:AssumeRole, and that none of them reads a secret value.
func TestReadOnlyByConstruction(t *testing.T) {
	ifaces := []reflect.Type{
		reflect.TypeFor[ecsAPI](), reflect.TypeFor[iamAPI](), reflect.TypeFor[orgAPI](), reflect.TypeFor[stsAPI](),
		reflect.TypeFor[accountAPI](), reflect.TypeFor[secretsAPI](), reflect.TypeFor[ssmAPI](), reflect.TypeFor[kmsAPI](),
	}
	read := regexp.MustCompile(`^(List|Describe|Get|BatchGet)[A-Z]`)
	n := 0
	for _, it := range ifaces {
		for i := range it.NumMethod() {
			m := it.Method(i)
			n++
			switch {
			case valueReading[m.Name]:
				t.Errorf("%s.%s reads secret material", it.Name(), m.Name)
			case m.Name == "AssumeRole" && it == reflect.TypeFor[stsAPI]():
				// Returns temporary credentials; creates nothing.
			case !read.MatchString(m.Name):
				t.Errorf("%s.%s is not a read operation", it.Name(), m.Name)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d methods checked; the interface list is incomplete", n)
	}
}

// TestNoMutatingCallInSource parses the package's non-test sources and fails
// on any method call whose name starts with a mutating verb, so that a
// client used outside the interfaces would still be caught.
func TestNoMutatingCallInSource(t *testing.T) {
	mutating := regexp.MustCompile(`^(Create|Put|Delete|Update|Register|Deregister|Attach|Detach|Tag|Untag|Run|Start|Stop|Submit|Enable|Disable|Modify|Set|Remove|Add|Associate|Disassociate|Invite|Accept|Decline|Leave|Move|Close|Restore|Rotate|Cancel|Execute|Send|Import|Schedule|Terminate|Reboot|Revoke|Authorize|Upload|Change|Reset|Replace|Deactivate|Activate)[A-Z]`)
	// Methods of the standard library and x/sync that share a verb.
	notAWS := map[string]bool{"SetLimit": true, "DeleteFunc": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && mutating.MatchString(sel.Sel.Name) && !notAWS[sel.Sel.Name] {
				t.Errorf("%s: call to %s looks like a mutating AWS operation", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
	if checked < 5 {
		t.Fatalf("only %d source files checked", checked)
	}
}
