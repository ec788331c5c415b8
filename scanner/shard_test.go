package scanner

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func accountIDs(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 1))
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		id := fmt.Sprintf("%012d", r.Int64N(1e12))
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// The assignment is part of the contract between the shards of one run
// and the merge, possibly of different builds: it is pinned.
func TestShardOfPinned(t *testing.T) {
	for _, c := range []struct {
		id   string
		n    int
		want int
	}{
		{"111111111111", 1, 0},
		{"111111111111", 3, 2},
		{"222222222222", 3, 0},
		{"333333333333", 3, 0},
		{"444444444444", 3, 1},
		{"123456789012", 16, 11},
	} {
		if got := ShardOf(c.id, c.n); got != c.want {
			t.Errorf("ShardOf(%s, %d) = %d, want %d", c.id, c.n, got, c.want)
		}
	}
}

// Adding or removing accounts moves no other account; adding a shard moves
// only accounts to the new shard, about 1 in N+1 of them; the shards are
// balanced.
func TestShardOfStability(t *testing.T) {
	ids := accountIDs(20000, 7)
	for _, n := range []int{2, 3, 8, 50} {
		before := map[string]int{}
		for _, id := range ids[:10000] {
			before[id] = ShardOf(id, n)
		}
		// More accounts: the first 10,000 stay where they were.
		for _, id := range ids[:10000] {
			if got := ShardOf(id, n); got != before[id] {
				t.Fatalf("n=%d: %s moved from %d to %d", n, id, before[id], got)
			}
		}
		// One more shard: an account moves only to the new shard.
		moved := 0
		for _, id := range ids[:10000] {
			switch got := ShardOf(id, n+1); {
			case got == before[id]:
			case got == n:
				moved++
			default:
				t.Fatalf("n=%d→%d: %s moved from %d to %d, not to the new shard", n, n+1, id, before[id], got)
			}
		}
		if want := 10000 / (n + 1); moved < want*8/10 || moved > want*12/10 {
			t.Errorf("n=%d→%d: %d accounts moved, want about %d", n, n+1, moved, want)
		}
		// Balance: every shard within 5 standard deviations of the mean
		// (binomial, ~sqrt(mean)).
		counts := make([]int, n)
		for _, id := range ids {
			counts[ShardOf(id, n)]++
		}
		mean := len(ids) / n
		tol := 5 * int(math.Sqrt(float64(mean)))
		for k, c := range counts {
			if c < mean-tol || c > mean+tol {
				t.Errorf("n=%d: shard %d has %d accounts, mean %d", n, k, c, mean)
			}
		}
	}
}

func TestShardValidate(t *testing.T) {
	for _, c := range []struct {
		s    Shard
		want string
	}{
		{Shard{}, ""},
		{Shard{0, 1}, ""},
		{Shard{2, 3}, ""},
		{Shard{3, 3}, "0-based: 0 to 2"},
		{Shard{-1, 3}, "0-based"},
		{Shard{0, -2}, "1 to 10000"},
		{Shard{1, 0}, "1 to 10000"},
		{Shard{0, MaxShards + 1}, "1 to 10000"},
	} {
		err := Config{Shard: c.s}.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.s, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: %v, want %q", c.s, err, c.want)
		case c.want != "":
			if ces := ConfigErrors(err); len(ces) != 1 || ces[0].Field != "Shard" {
				t.Errorf("%+v: %#v, want one error on Shard", c.s, ces)
			}
		}
	}
}

// Shards partition the accounts: each account in exactly one.
func TestShardHas(t *testing.T) {
	for _, id := range accountIDs(500, 3) {
		n := 0
		for k := range 5 {
			if (Shard{Index: k, Count: 5}).Has(id) {
				n++
			}
		}
		if n != 1 || !(Shard{}).Has(id) {
			t.Fatalf("%s is in %d of 5 shards", id, n)
		}
	}
}
