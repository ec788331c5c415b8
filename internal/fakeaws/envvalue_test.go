package fakeaws

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/inventory"
)

// inventoryValueClasses reads the Value* string constants of the inventory
// package, so that a class added there without a generator here fails.
func inventoryValueClasses(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "inventory", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("inventory sources: %v", err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, "Value") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						out = append(out, v)
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestValueClassesCoverInventory(t *testing.T) {
	got := append([]string(nil), valueClasses[1:]...)
	sort.Strings(got)
	want := inventoryValueClasses(t)
	if len(want) < 10 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("fakeaws synthesizes %v, inventory classifies %v", got, want)
	}
}

// minExact is the smallest length at which the class can be served at exactly
// the requested length; fixed-length classes list their only length.
var minExact = map[string]int{
	"":                            1,
	inventory.ValueAWSAccessKey:   20,
	inventory.ValuePrivateKey:     36,
	inventory.ValueGitHubToken:    40,
	inventory.ValueSlackToken:     15,
	inventory.ValueStripeKey:      28,
	inventory.ValueGoogleAPIKey:   39,
	inventory.ValueJWT:            32,
	inventory.ValueURLCredentials: 32,
	inventory.ValueHighEntropy:    24,
}

// TestSyntheticValueRoundTrip: for every class, every length up to 220 and
// several seeds, the value classifies back to its class and has the
// requested length whenever the class allows it.
func TestSyntheticValueRoundTrip(t *testing.T) {
	for _, class := range valueClasses {
		t.Run("class="+class, func(t *testing.T) {
			for n := 0; n <= 220; n++ {
				for seed := uint64(1); seed <= 3; seed++ {
					v := syntheticValue(class, n, seed*7919+uint64(n))
					if got := inventory.ClassifyValue(v); got != class {
						t.Fatalf("length %d seed %d: %q classifies as %q", n, seed, v, got)
					}
					exact := n >= minExact[class]
					if class == inventory.ValueAWSSecretKey {
						exact = n == 40
					}
					if n > 0 && exact && len(v) != n {
						t.Fatalf("length %d seed %d: got length %d (%q)", n, seed, len(v), v)
					}
					if v2 := syntheticValue(class, n, seed*7919+uint64(n)); v2 != v {
						t.Fatalf("not deterministic: %q then %q", v, v2)
					}
				}
			}
		})
	}
}

func TestFallbackValuesClassify(t *testing.T) {
	for _, class := range valueClasses {
		v, ok := fallbackValues[class]
		if !ok {
			t.Errorf("no fallback for %q", class)
			continue
		}
		if got := inventory.ClassifyValue(v); got != class {
			t.Errorf("fallback of %q classifies as %q", class, got)
		}
	}
}

func TestSyntheticValuesDiffer(t *testing.T) {
	a := syntheticValue(inventory.ValueGitHubToken, 40, 1)
	b := syntheticValue(inventory.ValueGitHubToken, 40, 2)
	if a == b {
		t.Errorf("different seeds gave the same value %q", a)
	}
}
