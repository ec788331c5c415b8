package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ecs-audit/audit/scanner"
)

// Variables that hold the index of a job in an array of jobs, 0-based,
// read by --shard auto/N, in this order.
var shardIndexVars = []string{"JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"}

// shardPlaceholder in --out is replaced by the shard's index (0-based), so
// that the shards of one job definition write to prefixes of their own
// where no shell expands a variable (AWS Batch, a FROM scratch image).
const shardPlaceholder = "{shard}"

// parseShard reads a --shard value: "" (no sharding), K/N, or auto/N
// (auto true, K to be read from the environment).
func parseShard(s string) (sh scanner.Shard, auto bool, err error) {
	if s == "" {
		return sh, false, nil
	}
	k, n, ok := strings.Cut(s, "/")
	if !ok {
		return sh, false, errors.New("expected K/N (K 0-based, 0 to N-1) or auto/N")
	}
	if sh.Count, err = strconv.Atoi(n); err != nil || sh.Count < 1 || sh.Count > scanner.MaxShards {
		return sh, false, fmt.Errorf("the shard count N must be a whole number from 1 to %d", scanner.MaxShards)
	}
	if k == "auto" {
		return sh, true, nil
	}
	if sh.Index, err = strconv.Atoi(k); err != nil || sh.Index < 0 || sh.Index >= sh.Count {
		return sh, false, fmt.Errorf("the shard index K is 0-based: a whole number from 0 to %d, or auto", sh.Count-1)
	}
	return sh, false, nil
}

// resolveShard is the scanner's Shard of --shard, K taken from the
// environment for auto/N.
func (f *scanFlags) resolveShard(lookupEnv func(string) (string, bool)) (scanner.Shard, error) {
	sh, auto, err := parseShard(f.shard)
	where := fmt.Sprintf("--shard %q", f.shard)
	if f.cfg != nil {
		if o := f.opts.Lookup("shard"); o != nil {
			where = f.cfg.Where(o)
		}
	}
	if err != nil {
		return sh, fmt.Errorf("%s: %w", where, err)
	}
	if !auto {
		return sh, nil
	}
	for _, v := range shardIndexVars {
		val, ok := lookupEnv(v)
		if !ok || val == "" {
			continue
		}
		k, err := strconv.Atoi(val)
		if err != nil || k < 0 || k >= sh.Count {
			return sh, fmt.Errorf("%s: %s is %q; with %d shards it must be a whole number from 0 to %d", where, v, val, sh.Count, sh.Count-1)
		}
		sh.Index = k
		return sh, nil
	}
	return sh, fmt.Errorf("%s: auto takes the shard from %s, and neither is set: give the shard as K/%d, or run as a Kubernetes Indexed Job or an AWS Batch array job",
		where, strings.Join(shardIndexVars, " or "), sh.Count)
}
