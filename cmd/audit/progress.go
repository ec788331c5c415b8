package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/ecs-audit/audit/scanner"
	"github.com/schollz/progressbar/v3"
)

// progress renders scanner progress on stderr when it is a terminal.
type progress struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar
}

func (a *app) newProgress(quiet bool) *progress {
	if quiet || !isTerminal(a.stderr) {
		return &progress{}
	}
	bar := progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetDescription("scanning"),
	)
	return &progress{bar: bar}
}

func (p *progress) update(s scanner.Progress) {
	if p == nil || p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.RegionsTotal > 0 && p.bar.GetMax() != s.RegionsTotal {
		p.bar.ChangeMax(s.RegionsTotal)
	}
	eta := "?"
	if s.ETA > 0 {
		eta = s.ETA.Round(time.Second).String()
	}
	p.bar.Describe(fmt.Sprintf("accounts %d/%d  regions %d/%d  calls %d  errors %d  throttled %d  ETA %s",
		s.AccountsDone, s.AccountsTotal, s.RegionsDone, s.RegionsTotal, s.Calls, s.Errors, s.Throttles, eta))
	_ = p.bar.Set(s.RegionsDone)
}

func (p *progress) finish() {
	if p == nil || p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Finish()
}
