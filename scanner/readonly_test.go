package scanner

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
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
	_ ecrAPI     = (*ecr.Client)(nil)
	_ s3API      = (*s3.Client)(nil)
	_ logsAPI    = (*cloudwatchlogs.Client)(nil)
	// Launch paths and the network path.
	_ eventsAPI    = (*eventbridge.Client)(nil)
	_ schedulerAPI = (*scheduler.Client)(nil)
	_ ec2API       = (*ec2.Client)(nil)
)

// valueReading are read operations that return secret material; the
// scanner must never be able to call them.
var valueReading = map[string]bool{
	"GetSecretValue": true, "BatchGetSecretValue": true,
	"GetParameter": true, "GetParameters": true, "GetParametersByPath": true, "GetParameterHistory": true,
	"Decrypt": true, "GenerateDataKey": true, "GetSessionToken": true, "GetFederationToken": true,
	// The content behind an existence check: an object, an image, log
	// events. Existence is seen in listings and descriptions only.
	"GetObject": true, "GetObjectAttributes": true, "BatchGetImage": true, "GetDownloadUrlForLayer": true,
	"GetLogEvents": true, "FilterLogEvents": true,
}

// TestReadOnlyByConstruction checks that every method of every interface the
// scanner talks to AWS through is a read (List, Describe, Get, BatchGet),
// apart from sts:AssumeRole, and that none of them reads a secret value.
func TestReadOnlyByConstruction(t *testing.T) {
	ifaces := []reflect.Type{
		reflect.TypeFor[ecsAPI](), reflect.TypeFor[iamAPI](), reflect.TypeFor[orgAPI](), reflect.TypeFor[stsAPI](),
		reflect.TypeFor[accountAPI](), reflect.TypeFor[secretsAPI](), reflect.TypeFor[ssmAPI](), reflect.TypeFor[kmsAPI](),
		reflect.TypeFor[ecrAPI](), reflect.TypeFor[s3API](), reflect.TypeFor[logsAPI](),
		reflect.TypeFor[eventsAPI](), reflect.TypeFor[schedulerAPI](), reflect.TypeFor[ec2API](),
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
	// Methods of the standard library and x/sync that share a verb
	// (reflect and hash/maphash in detach.go).
	notAWS := map[string]bool{"SetLimit": true, "DeleteFunc": true, "SetString": true, "SetMapIndex": true, "SetSeed": true,
		"CreateTemp": true} // os.CreateTemp: the spool file (spool.go)
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

// TestAWSManagedAliasesAreNeverDescribed: AWS documents that DescribeKey on
// a predefined alias/aws/* alias whose AWS managed key does not exist yet
// creates the key. The scanner resolves such aliases through ListAliases
// only, whatever the listing says, and never names one in DescribeKey or
// GetKeyPolicy.
func TestAWSManagedAliasesAreNeverDescribed(t *testing.T) {
	const r = "us-east-1"
	a := callerAcct
	aliasARN := func(alias string) string { return "arn:aws:kms:" + r + ":" + a + ":" + alias }
	tests := []struct {
		name     string
		refs     []string // KeyIds of the SecureString parameters the task definition uses
		aliases  map[string]string
		listFail bool
		stop     bool // the scan is interrupted while ListAliases runs
		page     int  // ListAliases page size (0: one page)
		loop     bool // the listing repeats a marker
		wantKeys []string
		wantErrs []string
		describe []string // the DescribeKey arguments
	}{
		{
			name: "predefined alias with its key, by name and by alias ARN", refs: []string{"alias/aws/ssm", aliasARN("alias/aws/ssm")},
			aliases:  map[string]string{"alias/aws/ssm": "k-ssm"},
			wantKeys: []string{"k-ssm:AWS[alias/aws/ssm]"},
		},
		{
			name: "predefined alias spelt in capitals", refs: []string{"Alias/AWS/ssm", "ARN:aws:kms:us-east-1:" + a + ":ALIAS/aws/ssm"},
			aliases: map[string]string{"alias/aws/ssm": "k-ssm"},
		},
		{
			name: "predefined alias without a key yet", refs: []string{"alias/aws/secretsmanager", aliasARN("alias/aws/secretsmanager")},
			aliases: map[string]string{"alias/aws/secretsmanager": ""},
		},
		{
			name: "predefined alias the complete listing does not show", refs: []string{"alias/aws/ebs"},
			aliases: map[string]string{"alias/app": "k-app"},
		},
		{
			name: "customer alias and key ARN beside a predefined alias", refs: []string{"alias/app", "alias/aws/ssm", aliasARN("alias/app"), "arn:aws:kms:us-east-1:" + a + ":key/k-app"},
			aliases:  map[string]string{"alias/app": "k-app", "alias/aws/ssm": "k-ssm"},
			wantKeys: []string{"k-app:CUSTOMER[alias/app]", "k-ssm:AWS[alias/aws/ssm]"},
			describe: []string{"arn:aws:kms:us-east-1:" + a + ":key/k-app", "k-app"},
		},
		{
			name: "listing denied: customer alias by DescribeKey, AWS managed alias not resolved", refs: []string{"alias/app", "alias/aws/ssm"},
			aliases: map[string]string{"alias/app": "k-app", "alias/aws/ssm": "k-ssm"}, listFail: true,
			wantKeys: []string{"k-app:CUSTOMER[]"},
			wantErrs: []string{"ListAliases/AccessDeniedException/", "ListAliases/" + CodeNotResolved + "/alias/aws/ssm"},
			describe: []string{"alias/app"},
		},
		{
			name: "listing cut short by a repeated marker", refs: []string{"alias/aws/sqs"},
			aliases: map[string]string{"alias/a1": "k-app", "alias/a2": "k-app", "alias/aws/sqs": "k-sqs"}, page: 1, loop: true,
			wantErrs: []string{"ListAliases/" + CodePagination + "/", "ListAliases/" + CodeNotResolved + "/alias/aws/sqs"},
		},
		{
			// An interrupted scan's coverage lists what it left out as
			// Interrupted, the key behind the alias included.
			name: "scan interrupted during the listing", refs: []string{"alias/aws/ssm"},
			aliases: map[string]string{"alias/aws/ssm": "k-ssm"}, stop: true,
			wantErrs: []string{"ListAliases/" + CodeInterrupted + "/", "ListAliases/" + CodeInterrupted + "/alias/aws/ssm"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newFakeBackend(a)
			f := ecsWorld(a, r, 0, 0, 0, 1, 1)
			fr := be.region(a, r)
			fr.ssm.params = map[string]ssmtypes.ParameterMetadata{}
			for i, ref := range tt.refs {
				name := fmt.Sprintf("/p%d", i)
				f.tds[0].ContainerDefinitions[0].Secrets = append(f.tds[0].ContainerDefinitions[0].Secrets,
					ecstypes.Secret{Name: aws.String(fmt.Sprintf("S%d", i)), ValueFrom: aws.String(name)})
				fr.ssm.params[name] = ssmtypes.ParameterMetadata{Name: aws.String(name), Type: ssmtypes.ParameterTypeSecureString, KeyId: aws.String(ref)}
			}
			fr.ecs = f
			fr.kms.keys = map[string]kmstypes.KeyMetadata{
				"k-app": {KeyId: aws.String("k-app"), Arn: aws.String(keyARN(a, r, "k-app")), KeyManager: kmstypes.KeyManagerTypeCustomer},
				"k-ssm": {KeyId: aws.String("k-ssm"), Arn: aws.String(keyARN(a, r, "k-ssm")), KeyManager: kmstypes.KeyManagerTypeAws},
				"k-sqs": {KeyId: aws.String("k-sqs"), Arn: aws.String(keyARN(a, r, "k-sqs")), KeyManager: kmstypes.KeyManagerTypeAws},
			}
			fr.kms.aliases, fr.kms.aliasPage, fr.kms.aliasLoop = tt.aliases, tt.page, tt.loop
			if tt.listFail {
				fr.kms.fail = failOp("ListAliases", apiErr("AccessDeniedException", "not allowed"))
			}
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			if tt.stop {
				fr.kms.fail = func(op string, _ any) error {
					if op != "ListAliases" {
						return nil
					}
					stop()
					return context.Canceled
				}
			}
			res := run(t, ctx, be, Config{Regions: []string{r}, ResolveResources: true})
			if res.err != nil {
				t.Fatal(res.err)
			}
			if calls := fr.kms.awsAliasCalls; len(calls) != 0 {
				t.Errorf("calls naming an AWS managed alias (they can create the key): %v", calls)
			}
			var keys, errs []string
			for _, k := range res.inv.Accounts[0].Regions[0].KMSKeys {
				keys = append(keys, fmt.Sprintf("%s:%s%v", k.KeyID, k.Manager, k.Aliases))
				if want := keyARN(a, r, k.KeyID); k.ARN != want {
					t.Errorf("key ARN %s, want %s", k.ARN, want)
				}
			}
			for _, e := range res.inv.Errors {
				errs = append(errs, e.Operation+"/"+e.Code+"/"+e.Resource)
			}
			slices.Sort(keys)
			slices.Sort(errs)
			wantErrs := slices.Sorted(slices.Values(tt.wantErrs))
			if !slices.Equal(keys, tt.wantKeys) {
				t.Errorf("keys %v, want %v", keys, tt.wantKeys)
			}
			if !slices.Equal(errs, wantErrs) {
				t.Errorf("errors %v, want %v", errs, wantErrs)
			}
			described := slices.Sorted(maps.Keys(fr.kms.keyCounts("DescribeKey")))
			if !slices.Equal(described, tt.describe) {
				t.Errorf("DescribeKey on %v, want %v", described, tt.describe)
			}
		})
	}
}
