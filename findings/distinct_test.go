package findings

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDistinctCounter counts resources, many added more than once, with
// every combination of memory and fan-in: from all in memory to a run per
// resource merged over several levels, the counts are those of a map of
// every resource.
func TestDistinctCounter(t *testing.T) {
	types := []string{"task-definition", "role", "secret", "service", ""}
	rng := rand.New(rand.NewPCG(1, 2))
	type res struct{ typ, arn string }
	var adds []res
	for range 3000 {
		// 700 ARNs under 5 types: most resources come back.
		adds = append(adds, res{types[rng.IntN(len(types))], fmt.Sprintf("arn:aws:ecs:us-east-1:1:x/%d", rng.IntN(700))})
	}
	// The same ARN under two types is two resources.
	adds = append(adds, res{"role", "arn:same"}, res{"secret", "arn:same"})
	want := map[string]int{}
	seen := map[res]bool{}
	for _, r := range adds {
		if !seen[r] {
			seen[r] = true
			want[r.typ]++
		}
	}
	for _, tc := range []struct{ memMax, fanIn int }{
		{distinctMemMax, distinctFanIn}, {1, 2}, {1, 3}, {2, 2}, {7, 64}, {50, 2}, {50, 5}, {999, 3},
	} {
		t.Run(fmt.Sprintf("mem%d-fanin%d", tc.memMax, tc.fanIn), func(t *testing.T) {
			dir := t.TempDir()
			c := NewDistinctCounter(dir)
			c.memMax, c.fanIn = tc.memMax, tc.fanIn
			for _, r := range adds {
				c.Add(r.typ, r.arn)
			}
			got, err := c.Counts()
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want) {
				t.Fatalf("counts %v, want %v", got, want)
			}
			if len(c.mem) > tc.memMax {
				t.Errorf("%d resources in memory, at most %d wanted", len(c.mem), tc.memMax)
			}
			// Counted again, and after more resources.
			if got, err := c.Counts(); err != nil || !maps.Equal(got, want) {
				t.Fatalf("counted again: %v, %v", got, err)
			}
			c.Add("role", "arn:new")
			c.Add("role", adds[0].arn+"-other")
			c.Add(adds[0].typ, adds[0].arn)
			want2 := maps.Clone(want)
			want2["role"] += 2
			if got, err := c.Counts(); err != nil || !maps.Equal(got, want2) {
				t.Fatalf("after more: %v, %v; want %v", got, err, want2)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("Close left %d files in %s", len(left), dir)
			}
		})
	}
}

// TestDistinctCounterErrors: a file that cannot be made, or one cut short,
// is an error that says what was being counted and names the file, never
// a smaller count.
func TestDistinctCounterErrors(t *testing.T) {
	c := NewDistinctCounter(filepath.Join(t.TempDir(), "missing"))
	c.memMax = 2
	for i := range 5 {
		c.Add("role", fmt.Sprint(i))
	}
	if got, err := c.Counts(); err == nil || !strings.Contains(err.Error(), "counting affected resources") || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("no directory: %v, %v", got, err)
	}

	c = NewDistinctCounter(t.TempDir())
	c.memMax = 2
	for i := range 4 { // two runs of two, none left in memory
		c.Add("role", fmt.Sprint(i))
	}
	defer c.Close()
	if err := c.f.Truncate(int64(distinctRec) * 3); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Counts(); err == nil || !strings.Contains(err.Error(), c.path) {
		t.Fatalf("file cut short: %v, %v", got, err)
	}
}
