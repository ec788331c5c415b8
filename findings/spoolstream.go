package findings

// A Result read from a file element by element (report.ScanResult and
// its Lists) goes to a Spool through a ListSpool, so that no list is ever
// whole in memory: audit report and audit merge of a findings.json of
// thousands of accounts. The Result's header is kept apart (it is the
// file's, or the merge of the shards' headers): SpooledSource puts the two
// together as a Source.

// ListSpool adds findings, roles and task definitions to a Spool one at a
// time, as parts of at most chunk elements: each part holds one list, and
// a part's roles (task definitions) are of one account, so that the
// Spool's EachAccountRoles (EachAccountTaskDefinitions) reads one
// account's at a time. Parts are numbered in the order they are added, so
// that the Spool gives each list in the order of a stable sort of the
// elements as they were added (elements that compare equal in the order
// they came). A part's elements are held until it is full; Flush adds the
// last one.
type ListSpool struct {
	s     *Spool
	chunk int
	strip bool
	next  int // the index of the next part
	part  Result
	run   int    // the list part holds
	acct  string // the account of part's roles or task definitions
	n     int    // the elements part holds
}

// NewListSpool makes a ListSpool adding to s in parts of at most chunk
// elements (at least 1). With stripTriage, what triage added to a finding
// (Suppression, SuppressionExpired, Change) is removed from it as Merge
// removes it from the shards' findings.
func NewListSpool(s *Spool, chunk int, stripTriage bool) *ListSpool {
	return &ListSpool{s: s, chunk: max(chunk, 1), strip: stripTriage}
}

// AddFinding adds a finding.
func (l *ListSpool) AddFinding(f *Finding) error {
	if l.strip {
		f.Suppression, f.SuppressionExpired, f.Change = nil, nil, ""
	}
	if err := l.start(runFindings, ""); err != nil {
		return err
	}
	l.part.Findings = append(l.part.Findings, *f)
	l.n++
	return nil
}

// AddRole adds a role.
func (l *ListSpool) AddRole(r *RoleReport) error {
	if err := l.start(runRoles, r.AccountID); err != nil {
		return err
	}
	l.part.Roles = append(l.part.Roles, *r)
	l.n++
	return nil
}

// AddTaskDefinition adds a task definition.
func (l *ListSpool) AddTaskDefinition(t *TaskDefReport) error {
	if err := l.start(runTaskDefs, t.AccountID); err != nil {
		return err
	}
	l.part.TaskDefinitions = append(l.part.TaskDefinitions, *t)
	l.n++
	return nil
}

// start adds the part held when the next element does not belong in it.
func (l *ListSpool) start(run int, account string) error {
	if l.n > 0 && (l.n >= l.chunk || l.run != run || l.acct != account) {
		if err := l.Flush(); err != nil {
			return err
		}
	}
	l.run, l.acct = run, account
	return nil
}

// Flush adds the part held, if any, to the Spool.
func (l *ListSpool) Flush() error {
	if l.n == 0 {
		return nil
	}
	// A part without a header: its coverage is complete, so that it takes
	// nothing from the Spool's (which the Spool's own Header adds up).
	p := &Result{Findings: l.part.Findings, Roles: l.part.Roles, TaskDefinitions: l.part.TaskDefinitions, Coverage: Coverage{Complete: true}}
	err := l.s.Add(l.next, p)
	l.next++
	// The part's arrays are used again; what their elements held is let go.
	clear(l.part.Findings)
	clear(l.part.Roles)
	clear(l.part.TaskDefinitions)
	l.part.Findings, l.part.Roles, l.part.TaskDefinitions = l.part.Findings[:0], l.part.Roles[:0], l.part.TaskDefinitions[:0]
	l.n = 0
	return err
}

// SpooledSource is the Source of a Result whose header is h and whose
// findings, roles and task definitions are in s (added by a ListSpool):
// the Header is h, as it is (its summary is h's; s is not asked for one),
// and the lists are s's. No part can be added to s any more.
func SpooledSource(h *Result, s *Spool) Source {
	s.Header()
	return &spooledSource{h: h, s: s}
}

type spooledSource struct {
	h *Result
	s *Spool
}

func (x *spooledSource) Header() *Result                           { return x.h }
func (x *spooledSource) Len() (int, int, int)                      { return x.s.Len() }
func (x *spooledSource) EachFinding(fn func(*Finding) error) error { return x.s.EachFinding(fn) }
func (x *spooledSource) EachRole(fn func(*RoleReport) error) error { return x.s.EachRole(fn) }
func (x *spooledSource) EachTaskDefinition(fn func(*TaskDefReport) error) error {
	return x.s.EachTaskDefinition(fn)
}
func (x *spooledSource) EachAccountRoles(fn func(string, []*RoleReport) error) error {
	return x.s.EachAccountRoles(fn)
}
func (x *spooledSource) EachAccountTaskDefinitions(fn func(string, []*TaskDefReport) error) error {
	return x.s.EachAccountTaskDefinitions(fn)
}

// MergeSpooled is Merge for shards whose Results are given as their
// headers (heads, without lists, as report.ScanResult reads them) and
// whose findings, roles and task definitions were added to s by a
// ListSpool that strips triage, shard after shard in the order of heads:
// the Source of the Result Merge gives. The summary is counted from s, as
// Merge counts it from the lists.
func MergeSpooled(heads []*Result, opts MergeOptions, s *Spool) Source {
	h := Merge(heads, opts)
	if h == nil {
		return nil
	}
	h.Findings, h.Roles, h.TaskDefinitions = nil, nil, nil
	h.Summary = s.Header().Summary
	return SpooledSource(h, s)
}
