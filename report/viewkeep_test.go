package report

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/ecs-audit/audit/findings"
)

// The view keeps account IDs and names past the findings it counts: it
// must keep copies of them, never the findings' own strings. A finding
// read from a spool has all its strings in one allocation (its message,
// evidence and affected ARNs), which a map key taken from it keeps whole:
// one finding per account held until the reports are written, memory that
// grew with the Organization (about 35 MB at 2,000 accounts).
func TestViewKeepsCopiesOfFindingStrings(t *testing.T) {
	withCatalog(t)
	res := bigResult(400)
	// Each finding's strings in one block, as the spool decodes them, and
	// no names in the scope: the view takes them from the findings.
	res.Scope.Accounts = nil
	var blocks []string
	for i := range res.Findings {
		f := &res.Findings[i]
		block := f.AccountID + f.AccountName + strings.Repeat("x", 4096)
		f.AccountID, f.AccountName = block[:len(f.AccountID)], block[len(f.AccountID):len(f.AccountID)+len(f.AccountName)]
		blocks = append(blocks, block)
	}
	v, err := newSourceView(findings.ResultSource(res))
	if err != nil {
		t.Fatal(err)
	}
	inBlock := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		for _, b := range blocks {
			start := uintptr(unsafe.Pointer(unsafe.StringData(b)))
			if p >= start && p < start+uintptr(len(b)) {
				return true
			}
		}
		return false
	}
	if len(v.accountNames) == 0 || len(v.byAccount) == 0 {
		t.Fatalf("no accounts counted: %d names, %d counts", len(v.accountNames), len(v.byAccount))
	}
	for id, name := range v.accountNames {
		if inBlock(id) || inBlock(name) {
			t.Errorf("account %s (%s) is kept as a finding's string", id, name)
		}
	}
	for _, c := range v.byAccount {
		if inBlock(c.Key) || inBlock(c.Label) {
			t.Errorf("count of %s is kept with a finding's string", c.Key)
		}
	}
}
