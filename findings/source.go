package findings

import (
	"cmp"
	"slices"
	"sync"
)

// Source is a Result whose three long lists (findings, roles, task
// definitions) are read one element at a time instead of being held:
// a whole Result in memory (ResultSource) or the per-account parts of an
// evaluation spooled to disk (Spool). Report writers and triage read a
// Source, so that a large Organization's findings need not all be in
// memory at once.
//
// Every Each method calls fn once per element, in order, and stops at the
// first error fn returns, which it returns. An error reading the elements
// is returned too: a Source never ends a list early without one. The
// elements fn is given are its own: fn may keep them.
type Source interface {
	// Header is the Result without its three long lists (they are empty
	// or absent and must not be read): scope, summary, coverage, rules,
	// tool, triage, shard. The summary counts the lists.
	Header() *Result
	// Len counts the three lists.
	Len() (findings, roles, taskDefinitions int)
	// EachFinding visits the findings in the order of every report
	// (CompareFindings), findings that compare equal in the Result's
	// order.
	EachFinding(fn func(*Finding) error) error
	// EachRole visits the roles in the Result's order (by ARN).
	EachRole(fn func(*RoleReport) error) error
	// EachTaskDefinition visits the task definitions in the Result's
	// order (by ARN).
	EachTaskDefinition(fn func(*TaskDefReport) error) error
	// EachAccountRoles visits the roles account by account, accounts
	// by ID, each account's roles in the Result's order: fn is given one
	// account's roles at a time.
	EachAccountRoles(fn func(account string, roles []*RoleReport) error) error
	// EachAccountTaskDefinitions visits the task definitions account by
	// account, like EachAccountRoles.
	EachAccountTaskDefinitions(fn func(account string, tds []*TaskDefReport) error) error
}

// CompareFindings is the order of findings in a Result and in every
// report: most severe first, then by rule, account, region, resource ARN
// and ID (sortFindings).
func CompareFindings(a, b *Finding) int {
	return cmp.Or(
		cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
		cmp.Compare(a.RuleID, b.RuleID),
		cmp.Compare(a.AccountID, b.AccountID),
		cmp.Compare(a.Region, b.Region),
		cmp.Compare(a.ResourceARN, b.ResourceARN),
		cmp.Compare(a.ID, b.ID),
	)
}

func compareRoles(a, b *RoleReport) int       { return cmp.Compare(a.RoleARN, b.RoleARN) }
func compareTaskDefs(a, b *TaskDefReport) int { return cmp.Compare(a.ARN, b.ARN) }

// ResultSource is the Source of a Result held in memory. Its Header is
// the Result itself (the lists are there, but a reader of a Source does
// not read them); the findings are visited in CompareFindings order,
// stable over the Result's order, without modifying the Result.
func ResultSource(r *Result) Source { return &resultSource{r: r} }

type resultSource struct {
	r      *Result
	once   sync.Once
	sorted []*Finding
}

func (s *resultSource) Header() *Result { return s.r }

func (s *resultSource) Len() (int, int, int) {
	return len(s.r.Findings), len(s.r.Roles), len(s.r.TaskDefinitions)
}

func (s *resultSource) EachFinding(fn func(*Finding) error) error {
	s.once.Do(func() {
		s.sorted = make([]*Finding, len(s.r.Findings))
		for i := range s.r.Findings {
			s.sorted[i] = &s.r.Findings[i]
		}
		slices.SortStableFunc(s.sorted, CompareFindings)
	})
	for _, f := range s.sorted {
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func (s *resultSource) EachRole(fn func(*RoleReport) error) error {
	for i := range s.r.Roles {
		if err := fn(&s.r.Roles[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *resultSource) EachTaskDefinition(fn func(*TaskDefReport) error) error {
	for i := range s.r.TaskDefinitions {
		if err := fn(&s.r.TaskDefinitions[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *resultSource) EachAccountRoles(fn func(string, []*RoleReport) error) error {
	list := make([]*RoleReport, len(s.r.Roles))
	for i := range s.r.Roles {
		list[i] = &s.r.Roles[i]
	}
	return eachAccount(list, func(r *RoleReport) string { return r.AccountID }, fn)
}

func (s *resultSource) EachAccountTaskDefinitions(fn func(string, []*TaskDefReport) error) error {
	list := make([]*TaskDefReport, len(s.r.TaskDefinitions))
	for i := range s.r.TaskDefinitions {
		list[i] = &s.r.TaskDefinitions[i]
	}
	return eachAccount(list, func(t *TaskDefReport) string { return t.AccountID }, fn)
}

// eachAccount sorts list by account (stable) and calls fn with each
// account's part.
func eachAccount[T any](list []*T, account func(*T) string, fn func(string, []*T) error) error {
	slices.SortStableFunc(list, func(a, b *T) int { return cmp.Compare(account(a), account(b)) })
	for len(list) > 0 {
		a := account(list[0])
		n := 1
		for n < len(list) && account(list[n]) == a {
			n++
		}
		if err := fn(a, list[:n:n]); err != nil {
			return err
		}
		list = list[n:]
	}
	return nil
}

// SourceFailing is Result.Failing and Result.FailingNew for a Source, in
// one pass over its findings.
func SourceFailing(src Source, min, minNew Severity) (failing, failingNew int, err error) {
	if min.Rank() == 0 && minNew.Rank() == 0 {
		return 0, 0, nil
	}
	if s, ok := src.(*Spool); ok && s.Unannotated() {
		// No finding is suppressed or compared: the summary counts them.
		for sev, n := range s.Header().Summary.BySeverity {
			if min.Rank() > 0 && Severity(sev).Rank() >= min.Rank() {
				failing += n
			}
		}
		return failing, 0, nil
	}
	r := &Result{Findings: make([]Finding, 1)}
	err = src.EachFinding(func(f *Finding) error {
		r.Findings[0] = *f
		failing += r.Failing(min)
		failingNew += r.FailingNew(minNew)
		return nil
	})
	return failing, failingNew, err
}
