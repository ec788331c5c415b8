package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseSizes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
		err  bool
	}{
		{"200", []int{200}, false},
		{"200,2000", []int{200, 2000}, false},
		{"200 2000", []int{200, 2000}, false},
		{" 200 , 800 ", []int{200, 800}, false},
		{"", nil, false},
		{"0", nil, true},
		{"-5", nil, true},
		{"200,x", nil, true},
	} {
		got, err := parseSizes(c.in)
		if (err != nil) != c.err || !slices.Equal(got, c.want) {
			t.Errorf("parseSizes(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestReadSummary(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, doc string
		total     int
		complete  bool
		err       string
	}{
		{"result order", `{"schemaVersion":2,"tool":{"name":"audit"},"summary":{"total":7},"coverage":{"complete":true},"findings":[`, 7, true, ""},
		{"findings first", `{"findings":[],"summary":{"total":7},"coverage":{"complete":true}}`, 0, false, "findings before the summary"},
		{"no coverage", `{"summary":{"total":7}}`, 0, false, "no summary or coverage"},
		{"not an object", `[1]`, 0, false, "not a JSON object"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".json")
		if err := os.WriteFile(path, []byte(c.doc), 0o600); err != nil {
			t.Fatal(err)
		}
		var sum struct{ Total int }
		var cov struct{ Complete bool }
		err := readSummary(path, &sum, &cov)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want one saying %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || sum.Total != c.total || cov.Complete != c.complete {
			t.Errorf("%s: %+v %+v %v", c.name, sum, cov, err)
		}
	}
}
