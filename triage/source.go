package triage

import (
	"time"

	"github.com/ecs-audit/audit/findings"
)

// Annotate is Apply (when set is not nil) followed by Compare (when b is
// not nil) for the findings of a findings.Source, which are not held: a
// first pass over them counts what the suppressions and the baseline
// match (the Triage of the Header), and every later read of a finding
// annotates it as it is read, with what Apply and Compare would have
// set. The Header is a copy of src's with its Triage; roles and task
// definitions are src's. Annotate reads src once; an error reading it is
// returned.
func Annotate(src findings.Source, set *Suppressions, b *Baseline, now time.Time) (findings.Source, error) {
	a := &annotated{Source: src}
	if set != nil {
		a.sup = newSuppressionMatcher(set, now)
	}
	if b != nil {
		a.base = newBaselineMatcher(b)
	}
	head := *src.Header()
	err := src.EachFinding(func(f *findings.Finding) error {
		c := *f
		a.annotate(&c, true)
		return nil
	})
	if err != nil {
		return nil, err
	}
	t := cloneTriage(head.Triage)
	if a.sup != nil {
		t = a.sup.report(t)
	}
	if a.base != nil {
		t = a.base.report(t, &head.Coverage)
	}
	head.Triage = t
	a.head = &head
	return a, nil
}

type annotated struct {
	findings.Source
	head *findings.Result
	sup  *suppressionMatcher
	base *baselineMatcher
}

func (a *annotated) annotate(f *findings.Finding, count bool) {
	if a.sup != nil {
		a.sup.annotate(f, count)
	}
	if a.base != nil {
		a.base.annotate(f, count)
	}
}

func (a *annotated) Header() *findings.Result { return a.head }

// EachFinding gives each finding of the Source annotated: a copy, the
// Source's own finding is not modified.
func (a *annotated) EachFinding(fn func(*findings.Finding) error) error {
	return a.Source.EachFinding(func(f *findings.Finding) error {
		c := *f
		a.annotate(&c, false)
		return fn(&c)
	})
}
