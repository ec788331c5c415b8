package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// parseSizes reads -live's comma- or space-separated account counts.
func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a number of accounts", f)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// measureLive serves the generated Organization of n accounts from this
// process and runs `bin scan --org --format all` against it in a process of
// its own, as a scheduled scan runs: collection, analysis and every report
// in one process, whose wall time, CPU time and own peak RSS it prints,
// with the findings and accounts the scan reported.
func measureLive(bin string, n int) error {
	srv, url, err := serve(n)
	if err != nil {
		return err
	}
	defer srv.Close()
	dir, err := os.MkdirTemp("", "benchworld-live-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ak, sk := srv.CallerCredentials()
	out := filepath.Join(dir, "out")
	cmd := exec.Command(bin, "scan", "--org", "--format", "all", "--out", out, "--quiet")
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+url, "AWS_ACCESS_KEY_ID="+ak, "AWS_SECRET_ACCESS_KEY="+sk,
		"AWS_SESSION_TOKEN=", "AWS_PROFILE=", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1")
	fmt.Printf("live scan, end to end: audit scan --org --format all, %d accounts × %d regions, fake endpoint in the parent process, %d CPUs, load average %s\n",
		n, len(spec(n).Regions), runtime.NumCPU(), loadAverage())
	m, err := run(cmd, out)
	if err != nil {
		return fmt.Errorf("%s scan --org (%d accounts): %w", bin, n, err)
	}
	var sum struct {
		Total int `json:"total"`
	}
	var cov struct {
		Complete        bool `json:"complete"`
		AccountsScanned int  `json:"accountsScanned"`
	}
	if err := readSummary(filepath.Join(out, "findings.json"), &sum, &cov); err != nil {
		return err
	}
	if !cov.Complete {
		return fmt.Errorf("%d accounts: the scan's coverage is not complete", n)
	}
	fmt.Printf("%d accounts: %s; %d accounts scanned, %d findings\n", n, m, cov.AccountsScanned, sum.Total)
	return nil
}

// readSummary decodes the summary and the coverage of the findings.json
// at path into sum and cov. They come before the findings (Result's
// order), so it stops there instead of reading a file of gigabytes.
func readSummary(path string, sum, cov any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("%s: not a JSON object", path)
	}
	found := 0
	for found < 2 && dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		var v any = new(json.RawMessage)
		switch t {
		case "summary":
			v, found = sum, found+1
		case "coverage":
			v, found = cov, found+1
		case "findings", "roles", "taskDefinitions":
			return fmt.Errorf("%s: %s before the summary and the coverage", path, t)
		}
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("%s: %v: %w", path, t, err)
		}
	}
	if found < 2 {
		return fmt.Errorf("%s: no summary or coverage", path)
	}
	return nil
}
