package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ecs-audit/audit/findings"
)

// readStreamed reads a findings.json with ScanResult and Lists into one
// Result, as ReadResult gives it.
func readStreamed(data []byte, name string) (*findings.Result, *ReadInfo, error) {
	s, err := ScanResult(bytes.NewReader(data), int64(len(data)), name)
	if err != nil {
		return nil, nil, err
	}
	r := *s.Header
	if r.Findings != nil || r.Roles != nil || r.TaskDefinitions != nil {
		return nil, nil, errors.New("the header holds lists")
	}
	err = s.Lists(ListVisitor{
		Finding:        func(f *findings.Finding) error { r.Findings = append(r.Findings, *f); return nil },
		Role:           func(x *findings.RoleReport) error { r.Roles = append(r.Roles, *x); return nil },
		TaskDefinition: func(x *findings.TaskDefReport) error { r.TaskDefinitions = append(r.TaskDefinitions, *x); return nil },
	})
	if err != nil {
		return nil, nil, err
	}
	r.Summary = s.Header.Summary // a version 1 file's is counted by Lists
	return &r, s.Info, nil
}

// withStreamBuffer sets the read buffers of the stream to n bytes for the
// test.
func withStreamBuffer(t testing.TB, n int) {
	old := streamBuffer
	streamBuffer = n
	t.Cleanup(func() { streamBuffer = old })
}

// sameRead says how two reads of one file differ ("" when they do not):
// the errors are the same, or the Results are equal (an empty list and
// none are the same).
func sameRead(a *findings.Result, ai *ReadInfo, aerr error, b *findings.Result, bi *ReadInfo, berr error) string {
	if aerr != nil || berr != nil {
		if aerr == nil || berr == nil || aerr.Error() != berr.Error() {
			return fmt.Sprintf("errors differ:\n%v\n%v", aerr, berr)
		}
		return ""
	}
	for _, r := range []*findings.Result{a, b} {
		if len(r.Findings) == 0 {
			r.Findings = nil
		}
		if len(r.Roles) == 0 {
			r.Roles = nil
		}
		if len(r.TaskDefinitions) == 0 {
			r.TaskDefinitions = nil
		}
	}
	if !reflect.DeepEqual(ai, bi) {
		return fmt.Sprintf("infos differ: %+v, %+v", ai, bi)
	}
	if !reflect.DeepEqual(a, b) {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		return fmt.Sprintf("results differ:\n%s\n%s", ja, jb)
	}
	return ""
}

// The streaming reader reads what ReadResult reads, whatever the order of
// the top-level fields (the lists first, the header fields after them)
// and however small its buffers; the elements come in the file's order.
func TestScanResultEqualsReadResult(t *testing.T) {
	withCatalog(t)
	files := map[string][]byte{}
	for name, res := range map[string]*findings.Result{"sample": sampleResult(), "malicious": maliciousResult(), "hostile": hostileResult(), "demo": demoResult(t)} {
		var b bytes.Buffer
		if err := WriteJSON(&b, res); err != nil {
			t.Fatal(err)
		}
		files[name] = b.Bytes()
		// encoding/json's order: the lists before rules, triage and shard,
		// compact.
		compact, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		files[name+" compact"] = compact
	}
	for _, p := range []string{sampleV1, demoV1} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[p] = b
	}
	// The lists first and schemaVersion last, of both versions, with long
	// runs of white space and separators past the buffers.
	for _, name := range []string{"sample", sampleV1} {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(files[name], &m); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.WriteString("\uFEFF  {")
		keys := []string{"findings", "taskDefinitions", "roles"}
		for k := range m {
			if !streamedList(k) && k != "schemaVersion" {
				keys = append(keys, k)
			}
		}
		keys = append(keys, "schemaVersion")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(strings.Repeat(" \t", 4000) + "," + strings.Repeat("\n", 7000))
			}
			fmt.Fprintf(&b, "%q"+strings.Repeat(" ", 5000)+":"+strings.Repeat(" ", 5000)+"%s", k, m[k])
		}
		b.WriteString("}\n\n")
		files[name+" reordered"] = b.Bytes()
	}
	for name, data := range files {
		for _, size := range []int{16, 64, 256 << 10} {
			t.Run(fmt.Sprintf("%s/%d", name, size), func(t *testing.T) {
				withStreamBuffer(t, size)
				want, wi, werr := ReadResult(data, name)
				if werr != nil {
					t.Fatal(werr)
				}
				got, gi, gerr := readStreamed(data, name)
				if d := sameRead(want, wi, werr, got, gi, gerr); d != "" {
					t.Fatal(d)
				}
				if len(got.Findings) == 0 {
					t.Fatal("no findings read: the test does not exercise the lists")
				}
			})
		}
	}
}

// An error past long white space and separators, in a small buffer: the
// same error, at the same byte.
func TestScanResultErrorOffsets(t *testing.T) {
	withCatalog(t)
	var good bytes.Buffer
	if err := WriteJSON(&good, sampleResult()); err != nil {
		t.Fatal(err)
	}
	g := good.String()
	// Longer than the decoder reads at a time.
	pad := strings.Repeat(" ", 20000)
	for name, in := range map[string]string{
		"severity":        strings.Replace(g, `"severity": "high"`, `"severity":`+pad+`"urgent"`, 1),
		"two commas":      strings.Replace(g, `"tool": {`, `"tool": {`+pad+`,`+pad+`,`, 1),
		"comma and key":   strings.Replace(g, `"tool": {`, `"tool":`+pad+`,{`, 1),
		"truncated":       g[:len(g)-3] + pad,
		"trailing":        g + pad + "," + pad + "x",
		"trailing commas": g + pad + "," + pad + ",:," + pad + "x",
		"unknown":         strings.Replace(g, `"tool": {`, `"tool": {`+pad+`"what"`+pad+`:`+pad+`1,`, 1),
		"missing":         strings.Replace(g, `"schemaVersion": 2,`, pad, 1),
	} {
		for _, size := range []int{16, 4096} {
			t.Run(fmt.Sprintf("%s/%d", name, size), func(t *testing.T) {
				withStreamBuffer(t, size)
				_, _, want := ReadResult([]byte(in), "f.json")
				if want == nil {
					t.Fatal("ReadResult accepts it: the test checks nothing")
				}
				if _, _, got := readStreamed([]byte(in), "f.json"); got == nil || got.Error() != want.Error() {
					t.Errorf("ScanResult: %v\nReadResult: %v", got, want)
				}
			})
		}
	}
}

// A file that changes between the two passes is an error, not a shorter
// list.
func TestScanResultFileChanged(t *testing.T) {
	withCatalog(t)
	var good bytes.Buffer
	if err := WriteJSON(&good, sampleResult()); err != nil {
		t.Fatal(err)
	}
	data := bytes.Clone(good.Bytes())
	s, err := ScanResult(bytes.NewReader(data), int64(len(data)), "f.json")
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte(`"findings": [`))
	copy(data[i+len(`"findings": [`):], "}}}}")
	err = s.Lists(ListVisitor{})
	var re *ReadError
	if !errors.As(err, &re) || re.File != "f.json" || !strings.Contains(re.Msg, "changed while it was read") {
		t.Errorf("error = %v", err)
	}
	// The visitor's error is returned as it is.
	s, _ = ScanResult(bytes.NewReader(good.Bytes()), int64(good.Len()), "f.json")
	stop := errors.New("stop")
	if err := s.Lists(ListVisitor{Role: func(*findings.RoleReport) error { return stop }}); err != stop {
		t.Errorf("error = %v, want the visitor's", err)
	}
}

// The streaming reader and ReadResult agree on every input: the same
// error, or the same Result.
func FuzzScanResult(f *testing.F) {
	withCatalog(f)
	var good bytes.Buffer
	if err := WriteJSON(&good, sampleResult()); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	if b, err := os.ReadFile(sampleV1); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"schemaVersion": 1, "tool": {"name": "audit", "version": "x"}}`))
	f.Add([]byte(`{"findings": [{"severity": "high"}], "schemaVersion": 2}`))
	f.Add([]byte("\uFEFF \f {\"roles\": null ,\n \"schemaVersion\" : 1}"))
	f.Add([]byte(" \u00a0 "))
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wi, werr := ReadResult(data, "fuzz.json")
		for _, size := range []int{16, 4096} {
			streamBuffer = size
			got, gi, gerr := readStreamed(data, "fuzz.json")
			streamBuffer = 256 << 10
			if d := sameRead(want, wi, werr, got, gi, gerr); d != "" {
				t.Fatalf("buffer %d: %s", size, d)
			}
		}
	})
}
