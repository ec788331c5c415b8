package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// A floor under the heap's collection target.
//
// Go collects once the heap has grown by GOGC % (100) over what the last
// collection left live. Analysing a snapshot keeps little live (the
// accounts being evaluated, then the writers' buffers: 40 to 130 MiB on
// the bench's 146 MB snapshot) and allocates a few GB, so it collected
// 70 to 120 times, about a tenth of its CPU. With a floor, the collector
// is paced so that the next collection comes when the heap reaches the
// floor, as long as less than half of it is live; above that, GOGC rules
// as before. The heap may then grow to the floor where it would have
// stayed smaller: heapFloorDefault is about the peak the run reached
// anyway (192 MiB: on the bench, 23 collections instead of 72 and the
// same peak RSS, 250 MiB; 256 MiB gave 16 and 335 MiB), or half the soft
// memory limit when one is set (GOMEMLIMIT or a container's). GOGC set
// in the environment turns it off.

// heapFloorDefault is the floor of the offline analysis.
const heapFloorDefault = 192 << 20

// heapFloorMaxGOGC bounds the GOGC the floor sets (a heap with almost
// nothing live would otherwise get an absurd percentage).
const heapFloorMaxGOGC = 2000

// heapFloor holds the collection target at or above floor bytes while
// users > 0 (runs of audit in one process, as in the tests, share it).
type heapFloor struct {
	mu     sync.Mutex
	users  int
	floor  uint64
	base   int  // GOGC without the floor
	armed  bool // a gcCycle is waiting for the next collection
	sample []metrics.Sample
}

var theHeapFloor = heapFloor{sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}

// gcCycle is garbage whose finalizer runs after each collection.
type gcCycle struct{ h *heapFloor }

// startHeapFloor sets a floor (see above) until the returned function is
// called, unless GOGC is set or the collector is off. limit is the soft
// memory limit (math.MaxInt64: none).
func startHeapFloor(getenv func(string) string, floor, limit int64) (stop func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	floor = min(floor, limit/2)
	if floor <= 0 {
		return func() {}
	}
	h := &theHeapFloor
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.users == 0 {
		h.base = debug.SetGCPercent(100)
		debug.SetGCPercent(h.base)
		if h.base <= 0 {
			return func() {}
		}
		h.floor = uint64(floor)
	}
	h.users++
	h.tuneLocked()
	if !h.armed {
		h.armed = true
		h.arm()
	}
	var once sync.Once
	return func() { once.Do(h.stop) }
}

func (h *heapFloor) arm() {
	runtime.SetFinalizer(&gcCycle{h}, func(c *gcCycle) {
		if c.h.tune() {
			c.h.arm()
		}
	})
}

// tune sets GOGC for the next collection from what the last one left
// live; false (and nothing set) when the floor is not in use.
func (h *heapFloor) tune() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.users == 0 {
		h.armed = false
		return false
	}
	h.tuneLocked()
	return true
}

func (h *heapFloor) tuneLocked() {
	metrics.Read(h.sample)
	var live uint64
	if h.sample[0].Value.Kind() == metrics.KindUint64 {
		live = h.sample[0].Value.Uint64()
	}
	debug.SetGCPercent(floorGOGC(h.floor, live, h.base))
}

// floorGOGC is the GOGC that puts the next collection at floor bytes of
// heap when live bytes are live, within [base, heapFloorMaxGOGC].
func floorGOGC(floor, live uint64, base int) int {
	top := uint64(max(base, heapFloorMaxGOGC))
	if live == 0 {
		return int(top)
	}
	if live >= floor {
		return base
	}
	return int(min(max((floor-live)*100/live, uint64(base)), top))
}

func (h *heapFloor) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.users--
	if h.users == 0 {
		debug.SetGCPercent(h.base)
	}
}

// offlineHeapFloor starts the offline analysis's floor.
func offlineHeapFloor() (stop func()) {
	return startHeapFloor(os.Getenv, heapFloorDefault, debug.SetMemoryLimit(-1))
}
