package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestFloorGOGC(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		floor, live uint64
		base, want  int
	}{
		{192 * mib, 48 * mib, 100, 300},  // the next collection at 192 MiB
		{192 * mib, 96 * mib, 100, 100},  // half the floor live: GOGC's own
		{192 * mib, 150 * mib, 100, 100}, // more: never below GOGC
		{192 * mib, 300 * mib, 100, 100},
		{192 * mib, 1 * mib, 100, heapFloorMaxGOGC}, // bounded
		{192 * mib, 0, 100, heapFloorMaxGOGC},
		{192 * mib, 48 * mib, 400, 400}, // a higher GOGC is kept
		{192 * mib, 1 * mib, 5000, 5000},
	} {
		if got := floorGOGC(tc.floor, tc.live, tc.base); got != tc.want {
			t.Errorf("floorGOGC(%d MiB, %d MiB, %d) = %d, want %d", tc.floor/mib, tc.live/mib, tc.base, got, tc.want)
		}
	}
}

// The floor raises GOGC while it is in use and gives it back after; GOGC
// in the environment leaves it alone; a soft memory limit halves it.
func TestHeapFloor(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	env := func(gogc string) func(string) string {
		return func(k string) string {
			if k == "GOGC" {
				return gogc
			}
			return ""
		}
	}
	stop := startHeapFloor(env(""), 1<<40, math.MaxInt64)
	if got := debug.SetGCPercent(-1); got <= 100 {
		t.Errorf("GOGC with a floor far above the live heap: %d, want more than 100", got)
	}
	stop()
	stop() // a second call does nothing
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC after the floor: %d, want 100", got)
	}
	stop = startHeapFloor(env("50"), 1<<40, math.MaxInt64)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set in the environment: %d, want it left alone (100)", got)
	}
	stop()
	// A limit of 2 KiB makes the floor 1 KiB: below any live heap.
	stop = startHeapFloor(env(""), 1<<40, 2<<10)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC with a floor under the live heap: %d, want 100", got)
	}
	stop()
}
