package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// decodeBoth is Decode, and checks that a Stream over the same bytes in a
// file gives what Load gives: the same error, or the same inventory.
func decodeBoth(t testing.TB, data []byte, name string) (*Inventory, error) {
	t.Helper()
	return decodeBothWith(t, data, name, Options{})
}

func decodeBothWith(t testing.TB, data []byte, name string, opts Options) (*Inventory, error) {
	t.Helper()
	if err := streamAgrees(t, data, name, opts, true); err != nil {
		t.Error(err)
	}
	return DecodeWith(data, name, opts)
}

// streamed is what a Stream gave: its Index and the accounts visited.
type streamed struct {
	index    *Inventory
	accounts []*Account
}

// readStream opens a Stream and visits every account.
func readStream(path string, opts Options) (*streamed, error) {
	s, err := OpenStream(path, opts)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return visitAll(s)
}

// readStreamBytes is readStream on data in memory.
func readStreamBytes(data []byte, name string, opts Options) (*streamed, error) {
	s, lerr := newStream(bytes.NewReader(data), int64(len(data)), name, opts)
	if lerr != nil {
		return nil, lerr
	}
	return visitAll(s)
}

func visitAll(s *Stream) (*streamed, error) {
	out := &streamed{index: s.Index}
	err := s.Accounts(func(i int, a *Account) error {
		if i != len(out.accounts) {
			return fmt.Errorf("visited account %d after %d accounts", i, len(out.accounts))
		}
		out.accounts = append(out.accounts, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// streamAgrees writes data to a file and compares Load and a Stream on it.
// With exact, errors must be the same text; without, only when Load's is
// an error of the header or the walk (the first problem in file order):
// with several problems in the validation, a Stream may report another
// first.
func streamAgrees(t testing.TB, data []byte, name string, opts Options, exact bool) error {
	return streamAgreesAt(t, filepath.Join(t.TempDir(), name), data, opts, exact)
}

// streamAgreesAt is streamAgrees with the file at path.
func streamAgreesAt(t testing.TB, path string, data []byte, opts Options, exact bool) error {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want, werr := LoadWith(path, opts)
	got, gerr := readStream(path, opts)
	return agree(data, want, got, werr, gerr, exact)
}

// streamAgreesInMemory is streamAgrees without a file.
func streamAgreesInMemory(data []byte, opts Options, exact bool) error {
	want, werr := DecodeWith(data, "x.json", opts)
	got, gerr := readStreamBytes(data, "x.json", opts)
	return agree(data, want, got, werr, gerr, exact)
}

func agree(data []byte, want *Inventory, got *streamed, werr, gerr error, exact bool) error {
	switch {
	case werr != nil && gerr != nil:
		if !exact && walkError(data) == nil {
			return nil
		}
		if werr.Error() != gerr.Error() {
			return fmt.Errorf("Load and Stream disagree:\n  Load:   %v\n  Stream: %v", werr, gerr)
		}
		return nil
	case werr != nil:
		return fmt.Errorf("Stream accepts what Load rejects: %v", werr)
	case gerr != nil:
		return fmt.Errorf("Stream rejects what Load accepts: %v", gerr)
	}
	return sameAsLoad(want, got)
}

// walkError is Load's error when it comes from the header or the walk.
func walkError(data []byte) *LoadError {
	var base int64
	if bytes.HasPrefix(data, utf8BOM) {
		data, base = data[len(utf8BOM):], int64(len(utf8BOM))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return &LoadError{Offset: -1, Msg: "file is empty"}
	}
	version, lerr := checkHeader(data, base)
	if lerr != nil {
		return lerr
	}
	w := walker{data: data, base: base, version: version}
	if !w.document(snapshotSchema()) {
		return w.err
	}
	return nil
}

// sameAsLoad compares what a Stream gave with what Load gave.
func sameAsLoad(want *Inventory, got *streamed) error {
	top, idx := *want, *got.index
	top.Accounts, idx.Accounts = nil, nil
	if !reflect.DeepEqual(top, idx) {
		return fmt.Errorf("Index's top-level fields differ from Load's:\n  Load:  %s\n  Index: %s", mustJSON(top), mustJSON(idx))
	}
	if (want.Accounts == nil) != (got.index.Accounts == nil) || len(want.Accounts) != len(got.index.Accounts) {
		return fmt.Errorf("Index has %d accounts (nil: %v), Load %d (nil: %v)", len(got.index.Accounts), got.index.Accounts == nil, len(want.Accounts), want.Accounts == nil)
	}
	if len(got.accounts) != len(want.Accounts) {
		return fmt.Errorf("visited %d accounts, Load has %d", len(got.accounts), len(want.Accounts))
	}
	shared := map[*ManagedPolicy]int{}
	for k, p := range want.AWSManagedPolicies {
		shared[p] = k
	}
	for i, a := range want.Accounts {
		if !reflect.DeepEqual(a, got.accounts[i]) {
			return fmt.Errorf("accounts[%d] differs:\n  Load:   %s\n  Stream: %s", i, mustJSON(a), mustJSON(got.accounts[i]))
		}
		if x := stripForIndex(a); !reflect.DeepEqual(x, got.index.Accounts[i]) {
			return fmt.Errorf("Index accounts[%d] differs:\n  want: %s\n  got:  %s", i, mustJSON(x), mustJSON(got.index.Accounts[i]))
		}
		if a.IAM == nil {
			continue
		}
		for j, p := range a.IAM.ManagedPolicies {
			if k, ok := shared[p]; ok && got.accounts[i].IAM.ManagedPolicies[j] != got.index.AWSManagedPolicies[k] {
				return fmt.Errorf("accounts[%d].iam.managedPolicies[%d] is not linked to awsManagedPolicies[%d]", i, j, k)
			}
		}
	}
	return nil
}

// stripForIndex is what the Index holds of an account.
func stripForIndex(a *Account) *Account {
	x := *a
	x.IAM = nil
	if a.Regions == nil {
		return &x
	}
	x.Regions = nil
	x.Regions = []*Region{}
	for _, r := range a.Regions {
		x.Regions = append(x.Regions, &Region{
			Name: r.Name, Status: r.Status,
			Secrets: r.Secrets, Parameters: r.Parameters, KMSKeys: r.KMSKeys,
			MissingSecrets: r.MissingSecrets, MissingParameters: r.MissingParameters,
			ECRRepositories: r.ECRRepositories, ECRRegistry: r.ECRRegistry, LogGroups: r.LogGroups,
		})
	}
	return &x
}

// indented writes an inventory as Save does.
func indented(inv *Inventory) []byte {
	b, err := json.MarshalIndent(inv, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// streamDocs are whole snapshots of every shape the tests build.
func streamDocs(t testing.TB) map[string][]byte {
	demo, err := os.ReadFile("../testdata/demo/snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string][]byte{
		"demo":      demo,
		"minimal":   []byte(mustJSON(minimal())),
		"resources": indented(withResources()),
		"launch":    []byte(mustJSON(withLaunchPaths())),
		"aws":       indented(withAWSPolicies()),
		"bom":       append(append([]byte{}, utf8BOM...), indented(withResources())...),
	}
	// The header after the accounts, and white space everywhere.
	small := mustJSON(minimal())
	i := strings.Index(small, `"accounts"`)
	docs["header last"] = []byte(" \n{" + small[i:len(small)-1] + `,"format":"audit-inventory","schemaVersion":2,"collectedAt":"2026-01-01T00:00:00Z","partition":"aws","scope":{}}` + "\r\n\t")
	// Empty lists, null lists, an escaped key, no accounts.
	docs["empty lists"] = []byte(strings.Replace(strings.Replace(small, `"accounts":[`, `"accounts" : [ `, 1), `"complete":true`,
		`"complete":true,"errors":[],"awsManagedPolicies":[],"s3Buckets":[]`, 1))
	docs["no accounts"] = []byte(strings.Replace(small, small[i:strings.LastIndex(small, "]")+1], `"accounts":[]`, 1))
	docs["escaped keys"] = []byte(strings.Replace(strings.Replace(small, `"accounts":`, `"acc\u006Funts":`, 1), `"regions":`, `"r\u0065gions":`, 1))
	// Members in another order, null regions, an IAM without roles.
	acc := small[i+len(`"accounts":`) : strings.LastIndex(small, "]")+1]
	docs["other order"] = []byte(strings.Replace(small, acc, `[{"name":"n","regions":null,"email":"a@b","status":"ACTIVE",`+
		`"path":[{"id":"r-1","type":"ROOT"}],"iam":{"roles":[],"managedPolicies":[]},"id":"222233334444"},`+acc[1:], 1))
	// Version 1 (read whole).
	docs["version 1"] = []byte(strings.Replace(small, `"schemaVersion":2`, `"schemaVersion":1`, 1))
	return docs
}

func TestStreamEqualsLoad(t *testing.T) {
	for name, doc := range streamDocs(t) {
		if _, err := Decode(doc, name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Run(name, func(t *testing.T) {
			if err := streamAgrees(t, doc, "s.json", Options{}, true); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Every truncation of a snapshot, and every byte of it replaced by one of
// a few that change its structure, is rejected or accepted by a Stream as
// by Load, with the same error when Load's is one of the header or the
// walk.
func TestStreamStructureErrors(t *testing.T) {
	docs := streamDocs(t)
	pick := []string{"minimal", "header last", "empty lists", "escaped keys", "version 1", "bom"}
	if testing.Short() {
		pick = pick[:2]
	}
	for _, name := range pick {
		doc := docs[name]
		if len(doc) > 1500 {
			doc = []byte(strings.ReplaceAll(string(doc), "\n  ", ""))
		}
		t.Run(name, func(t *testing.T) {
			fails := 0
			check := func(what string, b []byte) {
				if err := streamAgreesInMemory(b, Options{}, false); err != nil {
					t.Errorf("%s: %v\n%q", what, err, b)
					fails++
				}
				if fails > 5 {
					t.FailNow()
				}
			}
			for n := 0; n < len(doc); n++ {
				check(fmt.Sprintf("truncated at %d", n), doc[:n])
			}
			for i := range doc {
				for _, c := range []byte{',', '}', ']', '"', ' ', 'x', '\\', '{', 0x01} {
					if doc[i] == c {
						continue
					}
					b := bytes.Clone(doc)
					b[i] = c
					check(fmt.Sprintf("byte %d replaced by %q", i, c), b)
				}
			}
		})
	}
}

// Structures the pass over the file must follow exactly.
func TestStreamStructureCases(t *testing.T) {
	small := mustJSON(minimal())
	acc := small[strings.Index(small, `"accounts":`)+len(`"accounts":`) : strings.LastIndex(small, "]")+1]
	one := acc[1 : len(acc)-1]
	cases := map[string]string{
		"empty file":                                   "",
		"only white space":                             " \n\t\r ",
		"only Unicode white space":                     " \u00a0\u2003\n",
		"Unicode space then text":                      "\u00a0x",
		"byte order mark only":                         "\xEF\xBB\xBF",
		"root is a list":                               `[{"format":"audit-inventory"}]`,
		"root is a string":                             `"audit-inventory"`,
		"root is null":                                 `null`,
		"root is a number":                             `12.5e3 `,
		"root is garbage":                              `%`,
		"root is a bad literal":                        `nul`,
		"empty object":                                 `{}`,
		"empty object, then more":                      `{} {}`,
		"no format":                                    strings.Replace(small, `"format":"audit-inventory",`, ``, 1),
		"format twice":                                 strings.Replace(small, `"partition":"aws"`, `"partition":"aws","format":"audit-inventory"`, 1),
		"schemaVersion after a bad accounts list":      strings.Replace(strings.Replace(small, `"schemaVersion":2,`, ``, 1), acc, `[`+one+` `+one+`],"schemaVersion":2`, 1),
		"schemaVersion 02":                             strings.Replace(small, `"schemaVersion":2`, `"schemaVersion":02`, 1),
		"format missing, accounts broken by a literal": strings.Replace(strings.Replace(small, `"format":"audit-inventory",`, ``, 1), acc, `[nul]`, 1),
		"format missing, accounts broken by a string":  strings.Replace(strings.Replace(small, `"format":"audit-inventory",`, ``, 1), acc, "[\"a\x01\"]", 1),
		"accounts missing a comma":                     strings.Replace(small, acc, `[`+one+` `+one+`]`, 1),
		"accounts with a trailing comma":               strings.Replace(small, acc, `[`+one+`,]`, 1),
		"accounts with two commas":                     strings.Replace(small, acc, `[`+one+`,,`+one+`]`, 1),
		"accounts with a bad element":                  strings.Replace(small, acc, `[`+one+`,tru,`+one+`]`, 1),
		"accounts with a number element":               strings.Replace(small, acc, `[`+one+`,12]`, 1),
		"accounts with a negative number":              strings.Replace(small, acc, `[-]`, 1),
		"accounts closed by a brace":                   strings.Replace(small, acc, `[`+one+`}`, 1),
		"accounts is null":                             strings.Replace(small, acc, `null`, 1),
		"accounts is an object":                        strings.Replace(small, acc, `{"a":1}`, 1),
		"accounts is a string":                         strings.Replace(small, acc, `"x"`, 1),
		"accounts twice":                               strings.Replace(small, `"complete":true`, `"complete":true,"accounts":[]`, 1),
		"accounts missing":                             strings.Replace(small, `,"accounts":`+acc, ``, 1),
		"account is null":                              strings.Replace(small, acc, `[null]`, 1),
		"key without a colon":                          strings.Replace(small, `"partition":"aws"`, `"partition" "aws"`, 1),
		"key not a string":                             strings.Replace(small, `"partition":"aws"`, `partition:"aws"`, 1),
		"key with a bad escape":                        strings.Replace(small, `"partition":"aws"`, `"part\ition":"aws"`, 1),
		"key with a short unicode escape":              strings.Replace(small, `"partition":"aws"`, `"part\u12":"aws"`, 1),
		"unknown escaped key":                          strings.Replace(small, `"partition":"aws"`, `"partition":"aws","\u0078":1`, 1),
		"members without a comma":                      strings.Replace(small, `"partition":"aws",`, `"partition":"aws" `, 1),
		"value missing":                                strings.Replace(small, `"partition":"aws"`, `"partition":,"x":"aws"`, 1),
		"top-level number with a dot":                  strings.Replace(small, `"complete":true`, `"complete":1.`, 1),
		"top-level bad literal":                        strings.Replace(small, `"complete":true`, `"complete":tru`, 1),
		"top-level literal run on":                     strings.Replace(small, `"complete":true`, `"complete":truex`, 1),
		"top-level object unbalanced":                  strings.Replace(small, `"scope":{}`, `"scope":{]`, 1),
		"data after the object":                        small + ` x`,
		"second object after the object":               small + `{}`,
		"white space after the object":                 small + " \n",
		"a string with a control character at the top": strings.Replace(small, `"partition":"aws"`, "\"partition\":\"a\x02ws\"", 1),
		"truncated in a key":                           small[:strings.Index(small, `"accounts"`)+4],
		"truncated after the colon":                    small[:strings.Index(small, `"accounts"`)+11],
		"truncated after the list":                     small[:strings.LastIndex(small, "]")+1],
		"truncated in an escape":                       strings.Replace(small, `"partition":"aws"`, `"partition":"\u00`, 1)[:strings.Index(small, `"partition"`)+17],
		"escaped quote in a key":                       strings.Replace(small, `"partition":"aws"`, `"a\"b":1,"partition":"aws"`, 1),
		"brackets in strings":                          strings.Replace(small, `"image":"nginx"`, `"image":"ngi]}nx{["`, 1),
		"escaped backslash before a quote":             strings.Replace(small, `"image":"nginx"`, `"image":"ngi\\"`, 1),
		"error in the errors list":                     strings.Replace(small, `"complete":true`, `"complete":true,"errors":[{"service":"ecs"}]`, 1),
		"bad element in a later member":                strings.Replace(small+"", `"complete":true`, `"complete":true`, 1)[:len(small)-1] + `,"s3Buckets":[{"name":"b","status":"exists"}]}`,
	}
	// Long values broken near their end: the walk of the step that fails
	// reads on in parts.
	var errs []string
	for i := range 4000 {
		errs = append(errs, fmt.Sprintf(`{"service":"ecs","operation":"ListClusters","code":"X","message":"m%d"}`, i))
	}
	long := strings.Replace(small, `"complete":true`, `"complete":true,"errors":[`+strings.Join(errs, ",")+`]`, 1)
	cases["long value with a control character near its end"] = strings.Replace(long, `"m3998"`, "\"m\x013998\"", 1)
	cases["long value truncated"] = long[:strings.Index(long, `"m3999"`)]
	cases["long value left open"] = strings.Replace(long, `"m3999"}]`, `"m3999"}`, 1)
	cases["long account truncated"] = strings.Replace(small, `"image":"nginx"`, `"image":"nginx","environment":[`+strings.Repeat(`{"name":"A","valueClass":"x"},`, 3000)+`{"name":"A"}]`, 1)[:len(small)+80000]
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			if err := streamAgrees(t, []byte(doc), "x.json", Options{}, true); err != nil {
				t.Error(err)
			}
		})
	}
}

// The pass over the file finds what readHeader finds.
func TestScanFindsTheHeader(t *testing.T) {
	for name, doc := range streamDocs(t) {
		t.Run(name, func(t *testing.T) {
			checkScanHeader(t, doc)
		})
	}
}

func checkScanHeader(t testing.TB, doc []byte) {
	t.Helper()
	sc, err := scanSnapshot(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.TrimPrefix(doc, utf8BOM)
	if sc.empty != (len(bytes.TrimSpace(data)) == 0) {
		t.Fatalf("empty: %v", sc.empty)
	}
	if sc.empty {
		return
	}
	got, err := sc.header(func(s span) ([]byte, error) { return doc[s.start:s.end], nil })
	if err != nil {
		t.Fatal(err)
	}
	want := readHeader(data)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("scan header %+v, readHeader %+v", got, want)
	}
}

// A file changed in place between OpenStream and Accounts is not read as
// if it were the one walked.
func TestStreamDetectsAChangedFile(t *testing.T) {
	doc := indented(withResources())
	path := filepath.Join(t.TempDir(), "s.json")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := OpenStream(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Same length, a duplicate key now: the walk would have rejected it.
	changed := bytes.Replace(doc, []byte(`"image": "nginx"`), []byte(`"name": "nginxx"`), 1)
	if bytes.Equal(changed, doc) || len(changed) != len(doc) {
		t.Fatal("test document not changed")
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(changed, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	err = s.Accounts(func(int, *Account) error { t.Fatal("visited a changed account"); return nil })
	var le *LoadError
	if !errors.As(err, &le) || le.Field != "accounts[0]" || !strings.Contains(le.Msg, "changed") || le.File != path {
		t.Fatalf("error %v", err)
	}
}

// The visitor's error stops the reading and comes back as it is; an error
// in a later account is not reached, and one in an account comes before
// it is visited.
func TestStreamAccountsStops(t *testing.T) {
	inv := withAWSPolicies()
	doc := mustJSON(inv)
	path := filepath.Join(t.TempDir(), "s.json")
	bad := strings.Replace(doc, `"id":"333333333333","iam":{"roles":[]`, `"id":"333333333333","iam":{"roles":[{"arn":"x","name":"r","trustPolicy":"{}"}]`, 1)
	if bad == doc {
		t.Fatal("test document not changed")
	}
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := OpenStream(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stop := errors.New("stop")
	var seen []int
	err = s.Accounts(func(i int, a *Account) error {
		seen = append(seen, i)
		if i == 1 {
			return stop
		}
		return nil
	})
	if err != stop || !reflect.DeepEqual(seen, []int{0, 1}) {
		t.Fatalf("error %v after %v", err, seen)
	}
	seen = nil
	err = s.Accounts(func(i int, a *Account) error { seen = append(seen, i); return nil })
	var le *LoadError
	if !errors.As(err, &le) || le.Field != "accounts[3].iam.roles[0].arn" || !reflect.DeepEqual(seen, []int{0, 1, 2}) {
		t.Fatalf("error %v after %v", err, seen)
	}
	if _, lerr := Decode([]byte(bad), path); lerr == nil || lerr.Error() != err.Error() {
		t.Fatalf("Load says %v, Stream %v", lerr, err)
	}
	s.Close()
	if err := s.Accounts(func(int, *Account) error { return nil }); err == nil {
		t.Fatal("a closed stream read accounts")
	}
}

// A file that is not a regular file is read whole, as Load reads it.
func TestStreamFromAPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	doc := indented(withResources())
	go func() {
		w.Write(doc)
		w.Close()
	}()
	defer r.Close()
	got, err := readStream(fmt.Sprintf("/dev/fd/%d", r.Fd()), Options{})
	if err != nil {
		t.Skipf("no /dev/fd: %v", err)
	}
	want, err := Decode(doc, "x.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := sameAsLoad(want, got); err != nil {
		t.Fatal(err)
	}
}

func TestStreamPolicyCheck(t *testing.T) {
	doc := strings.Replace(mustJSON(minimal()), `"complete":true`, `"complete":true,"organization":{"id":"o-1","managementAccountId":"111122223333","policies":{`+
		`"p-1":{"id":"p-1","name":"a","type":"SERVICE_CONTROL_POLICY","document":"{\"Statement\":[]}"},`+
		`"p-2":{"id":"p-2","name":"b","type":"RESOURCE_CONTROL_POLICY","document":"not a policy"}}}`, 1)
	check := func(d string) error {
		if !json.Valid([]byte(d)) {
			return errors.New("not JSON")
		}
		return nil
	}
	if err := streamAgrees(t, []byte(doc), "x.json", Options{PolicyCheck: check}, true); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.json")
	os.WriteFile(path, []byte(doc), 0o644)
	if _, err := OpenStream(path, Options{PolicyCheck: check}); err == nil || !strings.Contains(err.Error(), `organization.policies["p-2"].document`) {
		t.Fatalf("OpenStream: %v", err)
	}
}

func FuzzStream(f *testing.F) {
	for _, seed := range loadSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := streamAgreesInMemory(b, Options{}, false); err != nil {
			t.Fatal(err)
		}
		checkScanHeader(t, b)
	})
}

// A file that cannot be read gives Load's error.
func TestStreamUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "nope.json"), dir} {
		_, lerr := Load(path)
		_, serr := OpenStream(path, Options{})
		if lerr == nil || serr == nil || lerr.Error() != serr.Error() {
			t.Errorf("Load: %v\nStream: %v", lerr, serr)
		}
	}
}
