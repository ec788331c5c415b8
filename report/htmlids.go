package report

// The data block's tables ("s", "n", "o") give a string, need or evidence
// part met again the index it was first written at. Remembering every one
// would take memory that grows with the findings (a finding's ID, message
// and resource ARN are its own): at 290,000 findings the tables held some
// 73 MB. They remember only the recent ones instead (idWindow): a string
// met again after more than the window's others is written again, at a new
// index, which the page reads as it reads any other. The findings come
// ordered by severity, rule and account, so what a finding shares with
// others (its account's names and resources, a rule's texts, a role's
// policy) mostly comes close together; a page with fewer distinct strings
// than the window is what an exact table gives. A finding's ID, which no
// other finding has, is looked up but not kept (stringTable.onceID): it
// would only push out strings that do come again.
//
// The page compares the indexes of four fields of a finding, not their
// text: severity, rule, account and region (its filters, and the account
// names it shows by account). Those strings are few (an Organization's
// accounts at most) and kept for the whole page (stringTable.fixedID), so
// each has one index.

// htmlWindow is how many entries each generation of an idWindow of
// needs or evidence parts holds, and half of how many one of strings
// holds (a variable for the tests). On 100,000 generated findings, the
// data block is 2.5 % larger than with every string remembered (0.01 %
// with twice the window, 11 % with half of it).
var htmlWindow = 1 << 16

// idWindow maps the keys met most recently to their index: two
// generations of at most scale × htmlWindow entries, the current one, and
// the one before it, whose keys met again move to the current one; when
// the current one is full, it becomes the one before and the oldest is
// dropped. It remembers at least the last scale × htmlWindow keys, and
// holds at most twice as many.
type idWindow[K comparable] struct {
	cur, old map[K]int32
	scale    int
}

func newIDWindow[K comparable](scale int) *idWindow[K] {
	return &idWindow[K]{cur: map[K]int32{}, scale: scale}
}

func (w *idWindow[K]) get(k K) (int32, bool) {
	if id, ok := w.cur[k]; ok {
		return id, true
	}
	id, ok := w.old[k]
	if ok {
		delete(w.old, k)
		w.put(k, id)
	}
	return id, ok
}

func (w *idWindow[K]) put(k K, id int32) {
	if len(w.cur) >= w.scale*htmlWindow {
		w.old, w.cur = w.cur, map[K]int32{}
	}
	w.cur[k] = id
}

// len is how many keys it holds.
func (w *idWindow[K]) len() int { return len(w.cur) + len(w.old) }
