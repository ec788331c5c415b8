package scanner

import (
	"sync"
	"time"
)

// progressEvery is the minimum interval between two reports caused only by
// the call counter.
const progressEvery = 100 * time.Millisecond

// progressTracker counts the scan's progress and reports it to Config.Progress.
type progressTracker struct {
	fn    func(Progress)
	st    *stats
	start time.Time

	mu            sync.Mutex
	accountsDone  int
	accountsTotal int
	// accountsSized counts the accounts whose regions are known, and
	// regionsSized their regions, to estimate the regions still unknown.
	accountsSized int
	regionsTotal  int
	regionsDone   int
	last          time.Time
}

func newProgress(fn func(Progress), st *stats) *progressTracker {
	return &progressTracker{fn: fn, st: st, start: time.Now()}
}

func (p *progressTracker) setAccounts(n int) {
	p.mu.Lock()
	p.accountsTotal = n
	p.emitLocked()
	p.mu.Unlock()
}

// addRegions says that one more account's regions are known.
func (p *progressTracker) addRegions(n int) {
	p.mu.Lock()
	p.accountsSized++
	p.regionsTotal += n
	p.emitLocked()
	p.mu.Unlock()
}

func (p *progressTracker) regionDone() {
	p.mu.Lock()
	p.regionsDone++
	p.emitLocked()
	p.mu.Unlock()
}

func (p *progressTracker) accountDone() {
	p.mu.Lock()
	p.accountsDone++
	p.emitLocked()
	p.mu.Unlock()
}

// changed reports a counter change; unless force, at most every progressEvery.
func (p *progressTracker) changed(force bool) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	if force || time.Since(p.last) >= progressEvery {
		p.emitLocked()
	}
	p.mu.Unlock()
}

func (p *progressTracker) snapshotLocked() Progress {
	elapsed := time.Since(p.start)
	pr := Progress{
		AccountsDone: p.accountsDone, AccountsTotal: p.accountsTotal,
		RegionsDone: p.regionsDone, RegionsTotal: p.regionsTotal,
		Calls: p.st.calls.Load(), Errors: p.st.errors.Load(), Throttles: p.st.throttles.Load(),
		Elapsed: elapsed,
	}
	// The work unit is an account×region; accounts whose regions are not
	// known yet are assumed to have as many as the average known account.
	total := float64(p.regionsTotal)
	if p.accountsSized > 0 && p.accountsTotal > p.accountsSized {
		total += float64(p.accountsTotal-p.accountsSized) * float64(p.regionsTotal) / float64(p.accountsSized)
	}
	if p.regionsDone > 0 && total > float64(p.regionsDone) {
		pr.ETA = time.Duration(float64(elapsed) * (total - float64(p.regionsDone)) / float64(p.regionsDone))
	}
	return pr
}

func (p *progressTracker) emitLocked() {
	if p.fn == nil {
		return
	}
	p.last = time.Now()
	p.fn(p.snapshotLocked())
}

// snapshot returns the current counters.
func (p *progressTracker) snapshot() Progress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.snapshotLocked()
}
