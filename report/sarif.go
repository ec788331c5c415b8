package report

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/ecs-audit/audit/findings"
)

// SARIF output (findings.sarif).
//
// One run. tool.driver.rules lists EVERY rule of the catalog, fired or not,
// with help text (why, remediation, references), a default level and
// GitHub's properties: tags (always including "security", at most 20),
// precision and a numeric "security-severity" string.
//
// security-severity uses GitHub's bands (critical ≥ 9.0, high 7.0–8.9,
// medium 4.0–6.9, low 0.1–3.9), the middle of each band:
//
//	critical 9.5   high 8.0   medium 5.5   low 3.0   info 1.0
//
// Levels: critical and high → error, medium → warning, low and info → note.
//
// One result per finding, that is per root cause. Each has a relative
// artifact path (see sarifpath.go), a logical location per ARN involved
// (fullyQualifiedName = the ARN), the partial fingerprint
// "auditFingerprint/v1" = Finding.ID (stable across runs), and properties
// with the account, region, severity, evidence, impact, affected
// resources, fix and memberIds. The message says what is wrong and where,
// then the impact ("Impact: 1 container instance × 4 task definitions; 7
// unmet constraints.") and the fix summary ("Fix: …"). SARIF's own fixes
// are not used: a SARIF fix is a set of byte replacements in artifacts, and
// our artifacts stand for AWS resources, changed through AWS, not files.
//
// Fingerprints across the grouping. Finding.ID is the fingerprint under the
// same key as before grouping, so a root cause whose ID is the ID of one of
// the per-item findings it replaces (a container instance keeps the ID of
// its first constraint, an ungrouped rule keeps its ID) stays the same
// alert. memberIds go into properties, not into partialFingerprints: SARIF
// combines every partial fingerprint into one identity, so adding keys
// would change the identity of every result and reopen every alert. On the
// first upload after grouping, code scanning closes the per-item alerts
// that no root cause carries on (as fixed: it cannot merge alerts) and
// opens one per new root cause; the audit's own baseline (triage) matches
// memberIds, so the scan still counts them as unchanged.
//
// Triage. A suppressed finding carries suppressions [{kind "external",
// status "accepted", justification, properties {owner, expires, source}}]
// and its message ends with "Accepted risk until DATE …"; a finding whose
// acceptance has expired carries none and its message says until when it
// was accepted. GitHub code scanning does not read suppressions (it
// ingests a suppressed result as an open alert; the
// advanced-security/dismiss-alerts action dismisses the alerts of
// suppressed results), so the message says it in words. After a comparison
// with a baseline every result has baselineState "new" or "unchanged".
// Fixed findings (gone from a part of the organization this scan
// collected) are not written as results with baselineState "absent":
// GitHub ignores baselineState and would open an alert for each; leaving
// them out is what closes their alerts. Findings of the baseline whose
// state is unknown (gone, but from a part this scan did not collect) are
// written again, as the baseline had them, without a baselineState and with
// properties.baseline = "unknown" and the reason: leaving them out would
// make code scanning close their alerts as fixed. Stale, expired and
// expiring suppressions and unknown findings are also notifications.
//
// Text and data. Message text (of results and notifications) is what GitHub
// shows people, in the alert list, the alert page and pull request
// annotations: its hidden characters (bidi controls, invisible and control
// characters) are shown as "<U+202E>" by Reveal, so that a name cannot pass
// for another there. Everything else (properties, logical locations,
// fingerprints) is exact data, with hidden characters written as \u
// escapes (EscapeHiddenJSON) like findings.json.
//
// Coverage: each collection error becomes a toolExecutionNotification of
// level error, each gap one of level warning, and executionSuccessful is
// false when the scan is incomplete.
//
// GitHub accepts at most 25,000 results per run and 10 MB of gzipped SARIF.
// Beyond either limit the most severe results are kept (the view's order),
// the rest are dropped, a notification says how many, and a warning goes to
// Options.Stderr. findings.json always has every finding.

const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// FingerprintKey is the partialFingerprints key of every result.
	FingerprintKey = "auditFingerprint/v1"
)

// GitHub's limits, variables so that tests can lower them.
var (
	sarifMaxResults    = 25000
	sarifMaxGzipBytes  = 10_000_000 // "10 MB", read as decimal to stay on the safe side
	sarifGzipHeadroom  = 500_000    // kept free while estimating
	sarifMaxTagsOnRule = 20
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool              sarifTool              `json:"tool"`
	Invocations       []sarifInvocation      `json:"invocations"`
	AutomationDetails sarifAutomationDetails `json:"automationDetails"`
	ColumnKind        string                 `json:"columnKind"`
	Properties        map[string]any         `json:"properties,omitempty"`
	Results           json.RawMessage        `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	Name                 string             `json:"name,omitempty"`
	ShortDescription     sarifText          `json:"shortDescription"`
	FullDescription      sarifText          `json:"fullDescription"`
	Help                 sarifHelp          `json:"help"`
	HelpURI              string             `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	Properties           sarifRuleProps     `json:"properties"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity"`
	Precision        string   `json:"precision"`
	Severity         string   `json:"auditSeverity"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	EndTimeUTC                 string              `json:"endTimeUtc,omitempty"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level      string            `json:"level"`
	Message    sarifText         `json:"message"`
	Descriptor *sarifDescriptor  `json:"descriptor,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

type sarifDescriptor struct {
	ID string `json:"id"`
}

type sarifAutomationDetails struct {
	ID string `json:"id"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	BaselineState       string             `json:"baselineState,omitempty"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          any                `json:"properties"`
}

type sarifSuppression struct {
	Kind          string            `json:"kind"`
	Status        string            `json:"status"`
	Justification string            `json:"justification"`
	Properties    map[string]string `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name,omitempty"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifResultProps struct {
	AccountID          string                 `json:"accountId"`
	AccountName        string                 `json:"accountName,omitempty"`
	Region             string                 `json:"region,omitempty"`
	Severity           string                 `json:"severity"`
	ResourceType       string                 `json:"resourceType"`
	ResourceARN        string                 `json:"resourceArn"`
	TaskDefinitionARN  string                 `json:"taskDefinitionArn,omitempty"`
	RoleARN            string                 `json:"roleArn,omitempty"`
	Container          string                 `json:"container,omitempty"`
	Evidence           findings.Evidence      `json:"evidence"`
	Impact             findings.Impact        `json:"impact"`
	Affected           []findings.ResourceRef `json:"affected,omitempty"`
	Fix                findings.Fix           `json:"fix"`
	MemberIDs          []string               `json:"memberIds,omitempty"`
	Change             string                 `json:"change,omitempty"`
	Suppression        *findings.Suppression  `json:"suppression,omitempty"`
	SuppressionExpired *findings.Suppression  `json:"suppressionExpired,omitempty"`
}

// sarifPastProps are the properties of a baseline finding whose state is
// unknown, written again (see the comment at the top of the file).
type sarifPastProps struct {
	Baseline          string `json:"baseline"` // "unknown"
	Reason            string `json:"reason"`
	BaselineGenerated string `json:"baselineGeneratedAt,omitempty"`
	AccountID         string `json:"accountId"`
	AccountName       string `json:"accountName,omitempty"`
	Region            string `json:"region,omitempty"`
	Severity          string `json:"severity"`
	ResourceType      string `json:"resourceType,omitempty"`
	ResourceARN       string `json:"resourceArn,omitempty"`
	TaskDefinitionARN string `json:"taskDefinitionArn,omitempty"`
	RoleARN           string `json:"roleArn,omitempty"`
}

// securitySeverity is GitHub's numeric severity of an audit severity.
func securitySeverity(s findings.Severity) string {
	switch s {
	case findings.Critical:
		return "9.5"
	case findings.High:
		return "8.0"
	case findings.Medium:
		return "5.5"
	case findings.Low:
		return "3.0"
	}
	return "1.0"
}

// sarifLevel is the SARIF level of a severity.
func sarifLevel(s findings.Severity) string {
	switch s {
	case findings.Critical, findings.High:
		return "error"
	case findings.Medium:
		return "warning"
	case findings.Low, findings.Info:
		return "note"
	}
	return "warning"
}

// WriteSARIF writes findings.sarif (see the comment at the top of sarif.go).
func WriteSARIF(w io.Writer, res *findings.Result, opts Options) error {
	return newView(res).writeSARIF(w, opts)
}

func (v *view) writeSARIF(w io.Writer, opts Options) error {
	_, err := v.sarifWrite(w, opts)
	return err
}

// sarifWrite writes the file and says what it was written from: "held"
// results, the "gzipped" file, or results "encoded" again.
func (v *view) sarifWrite(w io.Writer, opts Options) (from string, err error) {
	category := opts.SARIFCategory
	if category == "" {
		category = DefaultSARIFCategory
	}
	category = strings.TrimRight(category, "/") + "/"

	// Results, most severe first, capped by count then by gzipped size.
	// Each is encoded already indented for its place in the file. One pass
	// measures them: their sizes, and the file with all of them gzipped
	// once it is large enough to need it (the results before are held
	// until then, about 10 MB). The gzipped size of the file as it grows
	// says how many results fit (an estimate: the compressed size lags
	// the input by the compressor's buffers; the final file is checked),
	// and its final size whether all of them do (the usual answer). When
	// every result is kept, the file is written from what that pass kept:
	// the results held (a small file), or the gzipped file itself,
	// decompressed (it is kept while it is within GitHub's limit, which it
	// must be for every result to be kept). Fewer results (beyond GitHub's
	// gzipped size) are checked gzipped and written from results encoded
	// again.
	results := v.sarifTotal()
	n := min(results, sarifMaxResults)
	// encode's result is valid until its next call. The results are read
	// in order, from the first again for each pass over the file.
	entries := v.newSarifCursor()
	defer entries.close()
	je := newJSONEncoder()
	encode := func(i int) ([]byte, error) {
		e, err := entries.at(i)
		if err != nil {
			return nil, err
		}
		var r sarifResult
		if e.f != nil {
			r = v.sarifResult(e.f)
		} else {
			r = v.sarifPastResult(e.past)
		}
		b, err := je.indent(r, sarifResultIndent, "  ")
		if err != nil {
			return nil, fmt.Errorf("finding %s: %w", e.id(), err)
		}
		return b, nil
	}
	lens := make([]int, n)
	all, err := v.sarifFileument(lens, encode, category)
	if err != nil {
		return "", err
	}
	var allGz gzipCount // the file with all n results, gzipped
	fit := gzipFit{gz: &allGz, limit: sarifMaxGzipBytes - sarifGzipHeadroom}
	// The file WriteSource made for SARIF (WriteFileAtomic's temporary
	// file) is written as the measuring pass gzips it: when every result
	// is kept, it is complete by then; else it is emptied and written
	// again. Any other writer (standard output, an upload) gets the
	// gzipped file's bytes, decompressed, or results encoded again.
	var direct rewritable
	if sf, ok := w.(*scratchFile); ok && sarifReuse {
		direct = sf
	}
	keepGz := sarifMaxGzipBytes
	if direct != nil {
		keepGz = 0
	}
	// The gzip stream runs beside the encoding, in a goroutine of its
	// own, given copies of the results in order.
	var lane *gzipLane
	defer func() { lane.stop() }()
	var pending [][]byte // results 0 to len(pending)-1, until the lane starts
	size := len(all.head) + len(all.tail) + 16
	for i := range n {
		b, err := encode(i)
		if err != nil {
			return "", err
		}
		lens[i] = len(b)
		size += len(b) + len(sarifResultIndent) + 2
		if lane != nil {
			lane.send(i, b)
			continue
		}
		pending = append(pending, bytes.Clone(b))
		if size > fit.limit {
			allGz.start(keepGz, direct)
			all.begin(allGz.bw)
			lane = newGzipLane(func(i int, r []byte) { fit.write(all, i, r) })
			for k, p := range pending {
				lane.send(k, p)
			}
			pending = nil
		}
	}
	// The pass over the findings ends here (the writers share it, see
	// fanout): the file is written from what this one kept, or from a
	// pass of its own.
	entries.close()
	allOn := lane != nil
	lane.stop()
	allSize := -1
	if allOn && !fit.done {
		all.end(allGz.bw)
		if allSize, err = allGz.size(); err != nil {
			return "", err
		}
	}
	keep := fit.result(n, allSize)
	for {
		doc, err := v.sarifFileument(lens[:keep], encode, category)
		if err != nil {
			return "", err
		}
		if keep > 0 && doc.size() > sarifMaxGzipBytes {
			gz := allSize
			if keep != n || gz < 0 {
				var c gzipCount
				c.start(0, nil)
				if err := doc.write(c.bw); err != nil {
					return "", err
				}
				if gz, err = c.size(); err != nil {
					return "", err
				}
			}
			if gz > sarifMaxGzipBytes {
				keep = keep * 9 / 10
				continue
			}
		}
		if dropped := results - keep; dropped > 0 {
			fmt.Fprintf(stderrOr(opts.Stderr), "audit: warning: SARIF: kept the %d most severe of %d findings and dropped %d to stay within GitHub's limits (25,000 results, 10 MB gzipped); findings.json has them all\n",
				keep, results, dropped)
		}
		if keep == n && sarifReuse {
			// The file with every result is what the measuring pass
			// gzipped (and wrote), or it holds the results: the same
			// bytes.
			if allOn && direct != nil {
				return "written", nil
			}
			if gz := allGz.kept(); allOn && gz != nil {
				return "gzipped", gunzipTo(w, gz)
			}
			if !allOn {
				doc.result = func(i int) ([]byte, error) { return pending[i], nil }
				return "held", doc.writeTo(w)
			}
		}
		if allOn && direct != nil {
			if err := rewind(direct); err != nil {
				return "", err
			}
		}
		return "encoded", doc.writeTo(w)
	}
}

// rewritable is a file sarifWrite can empty and write again.
type rewritable interface {
	io.Writer
	io.Seeker
	Truncate(size int64) error
}

// scratchFile is a file WriteSource made for one format, which the format
// may empty and write again (never a file or stream of the caller's).
type scratchFile struct{ *os.File }

// rewind empties f and goes back to its start.
func rewind(f rewritable) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

// gzipLane calls write on every result sent to it, in order, in a
// goroutine of its own. send copies the result (into a buffer the lane
// has finished with, when there is one); stop waits until every result
// sent was written. A nil lane does nothing.
type gzipLane struct {
	ch      chan gzipChunk
	free    chan []byte
	done    chan struct{}
	stopped bool
}

type gzipChunk struct {
	i int
	b []byte
}

func newGzipLane(write func(i int, b []byte)) *gzipLane {
	l := &gzipLane{ch: make(chan gzipChunk, 64), free: make(chan []byte, 72), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for c := range l.ch {
			write(c.i, c.b)
			select {
			case l.free <- c.b[:0]:
			default:
			}
		}
	}()
	return l
}

func (l *gzipLane) send(i int, b []byte) {
	var buf []byte
	select {
	case buf = <-l.free:
	default:
	}
	l.ch <- gzipChunk{i, append(buf, b...)}
}

func (l *gzipLane) stop() {
	if l == nil || l.stopped {
		return
	}
	l.stopped = true
	close(l.ch)
	<-l.done
}

// sarifReuse lets writeSARIF write the file from what its measuring pass
// kept; tests turn it off to compare with results encoded again.
var sarifReuse = true

// gunzipTo writes the decompressed gz to w.
func gunzipTo(w io.Writer, gz io.Reader) error {
	zr, err := gzip.NewReader(gz)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := io.Copy(bw, zr); err != nil {
		return err
	}
	if err := zr.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// gzipCount measures the gzipped size of what is written to bw, and keeps
// the gzipped bytes as long as they fit in keep bytes.
type gzipCount struct {
	out gzipKept
	zw  *gzip.Writer
	bw  *bufio.Writer
}

// start starts the stream; what is written is also written to also,
// when not nil.
func (g *gzipCount) start(keep int, also io.Writer) {
	g.out = gzipKept{max: keep, lost: keep <= 0}
	g.zw, _ = gzip.NewWriterLevel(&g.out, gzip.DefaultCompression)
	var to io.Writer = g.zw
	if also != nil {
		to = io.MultiWriter(g.zw, also)
	}
	g.bw = bufio.NewWriterSize(to, 64<<10)
}

// kept returns a reader of the gzipped bytes, or nil when they outgrew
// what start was told to keep. Call it after size.
func (g *gzipCount) kept() io.Reader {
	if g.zw == nil || g.out.lost {
		return nil
	}
	r := make([]io.Reader, len(g.out.data.list))
	for i, b := range g.out.data.list {
		r[i] = bytes.NewReader(b)
	}
	return io.MultiReader(r...)
}

// gzipKept counts what is written to it, and keeps it up to max bytes.
type gzipKept struct {
	n, max int
	data   blocks
	lost   bool // more than max bytes were written: data is dropped
}

func (k *gzipKept) Write(p []byte) (int, error) {
	k.n += len(p)
	if k.n > k.max {
		k.data.Reset()
		k.lost = true
	}
	if !k.lost {
		k.data.Write(p)
	}
	return len(p), nil
}

func (g *gzipCount) size() (int, error) {
	if err := g.bw.Flush(); err != nil {
		return 0, err
	}
	if err := g.zw.Close(); err != nil {
		return 0, err
	}
	return g.out.n, nil
}

// sarifResultIndent is the indentation of a result in runs[0].results.
const sarifResultIndent = "        "

// sarifFile is a SARIF file in three parts: everything up to the results
// array, the results (their encoded sizes, and how to encode each), and
// the rest.
type sarifFile struct {
	head, tail []byte
	lens       []int
	result     func(i int) ([]byte, error)
}

func (d *sarifFile) size() int {
	n := len(d.head) + len(d.tail) + 16
	for _, l := range d.lens {
		n += l + len(sarifResultIndent) + 2
	}
	return n
}

func (d *sarifFile) writeTo(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := d.write(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// write writes the file to bw, each result encoded by d.result.
func (d *sarifFile) write(bw *bufio.Writer) error {
	d.begin(bw)
	for i := range d.lens {
		r, err := d.result(i)
		if err != nil {
			return err
		}
		d.result1(bw, i, r)
	}
	d.end(bw)
	return nil
}

// begin, result1 and end write the file in parts: everything up to the
// results, result i (encoded), and the rest.
func (d *sarifFile) begin(bw *bufio.Writer) {
	bw.Write(d.head)
	bw.WriteByte('[')
}

func (d *sarifFile) result1(bw *bufio.Writer, i int, r []byte) {
	if i > 0 {
		bw.WriteByte(',')
	}
	bw.WriteString("\n" + sarifResultIndent)
	bw.Write(r)
}

func (d *sarifFile) end(bw *bufio.Writer) {
	if len(d.lens) > 0 {
		bw.WriteString("\n" + sarifResultIndent[2:])
	}
	bw.WriteByte(']')
	bw.Write(d.tail)
}

// sarifFileument builds the log around the given results.
func (v *view) sarifFileument(lens []int, result func(int) ([]byte, error), category string) (*sarifFile, error) {
	inv := sarifInvocation{ExecutionSuccessful: !v.incomplete()}
	if !v.res.GeneratedAt.IsZero() {
		inv.EndTimeUTC = v.res.GeneratedAt.UTC().Format(time.RFC3339)
	}
	inv.ToolExecutionNotifications = v.sarifNotifications(len(lens), v.sarifTotal())

	tool := v.res.Tool
	name := tool.Name
	if name == "" {
		name = "audit"
	}
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           name,
			Version:        tool.Version,
			InformationURI: tool.InformationURI,
			Rules:          v.sarifRules(),
		}},
		Invocations:       []sarifInvocation{inv},
		AutomationDetails: sarifAutomationDetails{ID: category},
		ColumnKind:        "utf16CodeUnits",
		Results:           json.RawMessage("[]"),
	}
	run.Properties = map[string]any{
		"findingsTotal":    v.nFindings,
		"resultsIncluded":  len(lens),
		"coverageComplete": !v.incomplete(),
		"items":            v.items,
		"affected":         nonNilMap(v.affected),
	}
	if t := &v.triage; t.hasSuppressions() {
		s := map[string]int{"suppressed": t.suppressed, "reopened": t.reopened}
		if r := t.suppressions; r != nil {
			s["active"], s["expiringSoon"], s["expired"], s["stale"] = r.Active, r.ExpiringSoon, r.Expired, r.Stale
		}
		run.Properties["suppressions"] = s
	}
	if t := &v.triage; t.hasBaseline() {
		run.Properties["baseline"] = map[string]int{"new": t.new, "unchanged": t.unchanged, "fixed": len(t.fixed()), "unknown": len(t.unknown())}
	}
	b, err := json.MarshalIndent(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}, "", "  ")
	if err != nil {
		return nil, err
	}
	b = EscapeHiddenJSON(b)
	// "results" is the last field of the run; this text occurs only there.
	const marker = `"results": []`
	i := bytes.LastIndex(b, []byte(marker))
	if i < 0 {
		return nil, fmt.Errorf("sarif: results marker not found")
	}
	return &sarifFile{head: b[:i+len(marker)-2], tail: append(b[i+len(marker):], '\n'), lens: lens, result: result}, nil
}

func (v *view) sarifNotifications(included, total int) []sarifNotification {
	var out []sarifNotification
	c := v.res.Coverage
	if c.Interrupted != "" {
		out = append(out, sarifNotification{
			Level:      "error",
			Message:    sarifText{Text: Reveal("The scan was interrupted (" + c.Interrupted + "); what was not collected was not evaluated.")},
			Descriptor: &sarifDescriptor{ID: "scan-interrupted"},
		})
	}
	for _, e := range v.errors {
		where := "account " + orDash(e.AccountID)
		if e.Region != "" {
			where += ", region " + e.Region
		}
		text := fmt.Sprintf("Collection error: %s %s failed in %s", e.Service, e.Operation, where)
		if e.Resource != "" {
			text += " for " + e.Resource
		}
		text += ": " + e.Code
		if e.Message != "" {
			text += ": " + e.Message
		}
		props := map[string]string{"accountId": e.AccountID, "service": e.Service, "operation": e.Operation, "code": e.Code}
		if e.Region != "" {
			props["region"] = e.Region
		}
		if e.Resource != "" {
			props["resource"] = e.Resource
		}
		out = append(out, sarifNotification{Level: "error", Message: sarifText{Text: Reveal(text)},
			Descriptor: &sarifDescriptor{ID: "collection-error"}, Properties: props})
	}
	for _, g := range v.gaps {
		out = append(out, sarifNotification{Level: "warning", Message: sarifText{Text: Reveal("Coverage gap: " + g)},
			Descriptor: &sarifDescriptor{ID: "coverage-gap"}})
	}
	out = append(out, v.sarifTriageNotifications()...)
	if dropped := total - included; dropped > 0 {
		out = append(out, sarifNotification{
			Level: "warning",
			Message: sarifText{Text: fmt.Sprintf("%d of %d findings were dropped from this SARIF file to stay within GitHub code scanning limits (25,000 results per run, 10 MB gzipped); the %d most severe are included. findings.json, report.html and findings.xlsx list every finding.",
				dropped, total, included)},
			Descriptor: &sarifDescriptor{ID: "results-truncated"},
			Properties: map[string]string{"dropped": itoa(dropped), "included": itoa(included), "total": itoa(total)},
		})
	}
	return out
}

// sarifTriageNotifications say which suppressions are stale, expired or
// about to expire, and how many baseline findings have an unknown state.
func (v *view) sarifTriageNotifications() []sarifNotification {
	var out []sarifNotification
	if r := v.triage.suppressions; r != nil {
		for _, e := range r.Entries {
			props := map[string]string{"source": e.Source, "rule": e.Rule, "expires": e.Expires, "status": e.Status, "matched": itoa(e.Matched)}
			var level, id, text string
			switch {
			case e.Stale:
				level, id, text = "warning", "suppression-stale", "Suppression at "+e.Source+" (rule "+e.Rule+") matches no finding: it is stale; remove it."
			case e.Status == findings.SuppressionExpired:
				level, id, text = "warning", "suppression-expired", "Suppression at "+e.Source+" (rule "+e.Rule+") expired on "+e.Expires+": the "+
					countOf(e.Matched, "finding", "findings")+" it accepted count again."
			case e.ExpiresSoon:
				level, id, text = "note", "suppression-expiring", "Suppression at "+e.Source+" (rule "+e.Rule+") expires on "+e.Expires+"."
			default:
				continue
			}
			out = append(out, sarifNotification{Level: level, Message: sarifText{Text: Reveal(text)}, Descriptor: &sarifDescriptor{ID: id}, Properties: props})
		}
	}
	if n := len(v.triage.unknown()); n > 0 {
		out = append(out, sarifNotification{Level: "warning",
			Message:    sarifText{Text: countOf(n, "finding", "findings") + " of the baseline could not be checked: they are in accounts or regions this scan did not collect fully. They are kept as results, so that their alerts stay open."},
			Descriptor: &sarifDescriptor{ID: "baseline-unknown"}, Properties: map[string]string{"unknown": itoa(n)}})
	}
	return out
}

func (v *view) sarifRules() []sarifRule {
	out := make([]sarifRule, 0, len(v.rules))
	for _, r := range v.rules {
		title := r.Title
		if title == "" {
			title = r.ID
		}
		desc := r.Description
		if desc == "" {
			desc = title
		}
		precision := r.Precision
		switch precision {
		case "very-high", "high", "medium", "low":
		default:
			precision = "medium"
		}
		rule := sarifRule{
			ID:                   r.ID,
			Name:                 ruleName(title, r.ID),
			ShortDescription:     sarifText{Text: title},
			FullDescription:      sarifText{Text: desc},
			Help:                 sarifHelp{Text: ruleHelpText(r), Markdown: ruleHelpMarkdown(r)},
			DefaultConfiguration: sarifConfiguration{Level: sarifLevel(r.Severity)},
			Properties: sarifRuleProps{
				Tags:             ruleTags(r.Tags),
				SecuritySeverity: securitySeverity(r.Severity),
				Precision:        precision,
				Severity:         string(r.Severity),
			},
		}
		for _, d := range r.Docs {
			if strings.HasPrefix(d, "https://") {
				rule.HelpURI = d
				break
			}
		}
		out = append(out, rule)
	}
	return out
}

// ruleName turns a title into an identifier-like SARIF rule name
// ("Execution role is missing" → "ExecutionRoleIsMissing").
func ruleName(title, id string) string {
	var b strings.Builder
	up := true
	for _, r := range title {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if up {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
			up = false
		} else {
			up = true
		}
	}
	if b.Len() == 0 {
		return id
	}
	return b.String()
}

func ruleTags(tags []string) []string {
	out := []string{"security"}
	seen := map[string]bool{"security": true}
	for _, t := range tags {
		if t != "" && !seen[t] && len(out) < sarifMaxTagsOnRule {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func ruleHelpText(r findings.RuleMeta) string {
	var parts []string
	if r.Description != "" {
		parts = append(parts, r.Description)
	}
	if r.Why != "" {
		parts = append(parts, "Why it matters: "+r.Why)
	}
	if r.Remediation != "" {
		parts = append(parts, "Remediation: "+r.Remediation)
	}
	if len(r.Docs) > 0 {
		parts = append(parts, "References:\n"+strings.Join(prefixAll("- ", r.Docs), "\n"))
	}
	if len(parts) == 0 {
		return r.ID
	}
	return strings.Join(parts, "\n\n")
}

func ruleHelpMarkdown(r findings.RuleMeta) string {
	var parts []string
	title := r.Title
	if title == "" {
		title = r.ID
	}
	parts = append(parts, "## "+r.ID+": "+title)
	if r.Description != "" {
		parts = append(parts, r.Description)
	}
	if r.Why != "" {
		parts = append(parts, "**Why it matters.** "+r.Why)
	}
	if r.Remediation != "" {
		parts = append(parts, "**Remediation.** "+r.Remediation)
	}
	if len(r.Docs) > 0 {
		var links []string
		for _, d := range r.Docs {
			links = append(links, "- <"+d+">")
		}
		parts = append(parts, "**References**\n\n"+strings.Join(links, "\n"))
	}
	return strings.Join(parts, "\n\n")
}

func prefixAll(p string, s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = p + x
	}
	return out
}

// sarifEntry is one result to write: a finding, or a baseline finding
// whose state is unknown.
type sarifEntry struct {
	f    *findings.Finding
	past *findings.PastFinding
}

func (e sarifEntry) id() string {
	if e.f != nil {
		return e.f.ID
	}
	return e.past.ID
}

func (e sarifEntry) rank() int {
	if e.f != nil {
		return e.f.Severity.Rank()
	}
	return e.past.Severity.Rank()
}

// sarifTotal counts the results of the file with every result.
func (v *view) sarifTotal() int { return v.nFindings + len(v.triage.unknown()) }

// eachSarifEntry visits the results of the file: the findings in the
// view's order, and the unknown baseline findings after the findings of
// their severity.
func (v *view) eachSarifEntry(fn func(sarifEntry) error) error {
	src := v.triage.unknown()
	unknown := make([]sarifEntry, len(src))
	for i := range src {
		unknown[i] = sarifEntry{past: &src[i]}
	}
	slices.SortStableFunc(unknown, func(a, b sarifEntry) int { return cmp.Compare(b.rank(), a.rank()) })
	err := v.eachFinding(func(f *findings.Finding) error {
		e := sarifEntry{f: f}
		for len(unknown) > 0 && unknown[0].rank() > e.rank() {
			if err := fn(unknown[0]); err != nil {
				return err
			}
			unknown = unknown[1:]
		}
		return fn(e)
	})
	if err != nil {
		return err
	}
	for _, e := range unknown {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// sarifCursor reads the results of the file by position, in order; a
// position before the last one read starts again from the first.
type sarifCursor struct {
	v    *view
	next func() (sarifEntry, bool)
	stop func()
	pos  int // the position next returns
	err  error
}

func (v *view) newSarifCursor() *sarifCursor { return &sarifCursor{v: v} }

func (c *sarifCursor) start() {
	c.close()
	c.err, c.pos = nil, 0
	c.next, c.stop = iter.Pull(func(yield func(sarifEntry) bool) {
		err := c.v.eachSarifEntry(func(e sarifEntry) error {
			if !yield(e) {
				return errStop
			}
			return nil
		})
		if err != errStop {
			c.err = err
		}
	})
}

func (c *sarifCursor) close() {
	if c.stop != nil {
		c.stop()
		c.next, c.stop = nil, nil
	}
}

// at returns result i.
func (c *sarifCursor) at(i int) (sarifEntry, error) {
	if c.next == nil || i < c.pos {
		c.start()
	}
	for {
		e, ok := c.next()
		if !ok {
			c.close()
			if c.err != nil {
				return sarifEntry{}, c.err
			}
			return sarifEntry{}, fmt.Errorf("sarif: result %d of %d is missing", i+1, c.v.sarifTotal())
		}
		c.pos++
		if c.pos-1 == i {
			return e, nil
		}
	}
}

func (v *view) sarifResult(f *findings.Finding) sarifResult {
	r := sarifResult{
		RuleID:              f.RuleID,
		RuleIndex:           v.ruleIndex[f.RuleID],
		Level:               sarifLevel(f.Severity),
		Message:             sarifText{Text: Reveal(v.sarifMessage(f))},
		PartialFingerprints: map[string]string{FingerprintKey: f.ID},
		BaselineState:       f.Change,
		Properties: sarifResultProps{
			AccountID:          f.AccountID,
			AccountName:        v.accountName(f),
			Region:             f.Region,
			Severity:           string(f.Severity),
			ResourceType:       f.ResourceType,
			ResourceARN:        f.ResourceARN,
			TaskDefinitionARN:  f.TaskDefinitionARN,
			RoleARN:            f.RoleARN,
			Container:          f.Container,
			Evidence:           f.Evidence,
			Impact:             f.Impact,
			Affected:           f.Affected,
			Fix:                f.Fix,
			MemberIDs:          f.MemberIDs,
			Change:             f.Change,
			Suppression:        f.Suppression,
			SuppressionExpired: f.SuppressionExpired,
		},
	}
	if s := f.Suppression; s != nil {
		props := map[string]string{"expires": s.Expires, "source": s.Source}
		if s.Owner != "" {
			props["owner"] = s.Owner
		}
		r.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: s.Justification, Properties: props}}
	}
	r.Locations = []sarifLocation{sarifLocate(f)}
	return r
}

// sarifLocate is a finding's location: its artifact path and a logical
// location per ARN involved.
func sarifLocate(f *findings.Finding) sarifLocation {
	loc := sarifLocation{PhysicalLocation: sarifPhysical{
		ArtifactLocation: sarifArtifact{URI: artifactPath(f)},
		Region:           sarifRegion{StartLine: 1},
	}}
	seen := map[string]bool{}
	add := func(arn, kind string) {
		if arn == "" || seen[arn] {
			return
		}
		seen[arn] = true
		loc.LogicalLocations = append(loc.LogicalLocations, sarifLogical{Name: resourceName(arn), FullyQualifiedName: arn, Kind: kind})
	}
	add(f.ResourceARN, "resource")
	add(f.TaskDefinitionARN, "resource")
	add(f.RoleARN, "resource")
	return loc
}

// sarifPastResult is a baseline finding whose state is unknown, as the
// baseline described it, so that code scanning keeps its alert open.
func (v *view) sarifPastResult(p *findings.PastFinding) sarifResult {
	f := &findings.Finding{ID: p.ID, RuleID: p.RuleID, Severity: p.Severity, Title: p.Title, Message: p.Message, AccountID: p.AccountID,
		AccountName: p.AccountName, Region: p.Region, ResourceType: p.ResourceType, ResourceARN: p.ResourceARN,
		TaskDefinitionARN: p.TaskDefinitionARN, RoleARN: p.RoleARN}
	when := ""
	if b := v.triage.baseline; b != nil && !b.GeneratedAt.IsZero() {
		when = b.GeneratedAt.UTC().Format(time.RFC3339)
	}
	msg := v.sarifMessage(f) + " Not checked again: " + p.Reason + "; kept as the baseline"
	if when != "" {
		msg += " of " + when
	}
	msg += " reported it, since it may still be there."
	loc := sarifLocate(f)
	if len(loc.LogicalLocations) == 0 {
		// A baseline finding without an ARN still needs a logical location.
		loc.LogicalLocations = []sarifLogical{{Name: p.ID, FullyQualifiedName: "audit:finding/" + p.ID, Kind: "resource"}}
	}
	return sarifResult{
		RuleID:              p.RuleID,
		RuleIndex:           v.ruleIndex[p.RuleID],
		Level:               sarifLevel(p.Severity),
		Message:             sarifText{Text: Reveal(msg)},
		Locations:           []sarifLocation{loc},
		PartialFingerprints: map[string]string{FingerprintKey: p.ID},
		Properties: sarifPastProps{Baseline: "unknown", Reason: p.Reason, BaselineGenerated: when, AccountID: p.AccountID,
			AccountName: p.AccountName, Region: p.Region, Severity: string(p.Severity), ResourceType: p.ResourceType,
			ResourceARN: p.ResourceARN, TaskDefinitionARN: p.TaskDefinitionARN, RoleARN: p.RoleARN},
	}
}

// sarifMessage is the finding's message followed by where it is, its
// impact, its fix, and its risk acceptance.
func (v *view) sarifMessage(f *findings.Finding) string {
	msg := f.Message
	if msg == "" {
		msg = f.Title
	}
	kind := f.ResourceType
	if kind == "" {
		kind = "resource"
	}
	account, region := v.accountLabel(f.AccountID), f.Region
	impact, fix := endSentence(f.Impact.Summary), endSentence(f.Fix.Summary)
	var b strings.Builder
	b.Grow(len(msg) + len(account) + len(region) + len(kind) + len(f.ResourceARN) + len(f.Container) + len(impact) + len(fix) + 96)
	b.WriteString(msg)
	b.WriteString(" [account ")
	b.WriteString(orDash(account))
	if region != "" {
		b.WriteString(", region ")
		b.WriteString(region)
	}
	b.WriteString(", ")
	b.WriteString(kind)
	b.WriteString(" ")
	b.WriteString(orDash(f.ResourceARN))
	if f.Container != "" {
		b.WriteString(", container ")
		b.WriteString(f.Container)
	}
	b.WriteString("]")
	if f.Impact.Summary != "" {
		b.WriteString(" Impact: ")
		b.WriteString(impact)
	}
	if f.Fix.Summary != "" {
		b.WriteString(" Fix: ")
		b.WriteString(fix)
	}
	switch s := f.Suppression; {
	case s != nil:
		b.WriteString(" Accepted risk until " + s.Expires)
		if s.Owner != "" {
			b.WriteString(" (owner " + s.Owner + ")")
		}
		b.WriteString(", " + s.Source + ": " + endSentence(s.Justification))
	case f.SuppressionExpired != nil:
		e := f.SuppressionExpired
		b.WriteString(" Was accepted as a risk until " + e.Expires + " (" + e.Source + "); that acceptance has expired, so the finding counts again.")
	}
	return b.String()
}

// endSentence ends s with a period unless it ends with punctuation.
func endSentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// gzipFit finds how many results of a SARIF file fit within limit bytes
// once gzipped, from the gzipped size of the file as the results are
// written to it (an estimate: the compressed size lags the input by the
// compressor's buffers; the caller checks the final document). The file is
// gzipped only once it is larger than the limit; all fit when it never is.
type gzipFit struct {
	gz    *gzipCount
	limit int
	done  bool // the limit was passed after keep results
	keep  int
}

// write writes result i to the gzipped file, unless the limit was passed.
func (g *gzipFit) write(d *sarifFile, i int, r []byte) {
	if g.done {
		return
	}
	d.result1(g.gz.bw, i, r)
	if g.gz.out.n > g.limit {
		g.done, g.keep = true, max(i-1, 0)
	}
}

// result is how many of the n results fit, given the size of the whole
// file gzipped (-1 when it was not gzipped).
func (g *gzipFit) result(n, size int) int {
	switch {
	case g.done:
		return g.keep
	case size > g.limit:
		return n * 9 / 10
	}
	return n
}

func gzipSize(b []byte) int {
	var cw countingWriter
	zw, _ := gzip.NewWriterLevel(&cw, gzip.DefaultCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return cw.n
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}
