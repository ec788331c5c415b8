package report

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/xuri/excelize/v2"
)

// orderedZip is the ZIP writer of the XLSX workbook. excelize writes the
// parts of a workbook in an order that changes from run to run (streamed
// sheets come from a map); orderedZip compresses each part as it is
// written, keeps it compressed, and on Close writes the parts sorted by
// name, so that the same Result gives the same bytes. A compressed part
// is held in memory until it passes zipSpillAt (1 MiB), then in a
// temporary file of its own (partData), so that what the workbook holds
// does not grow with the findings: the small parts, one compressor for
// the parts excelize writes, reset for each part, and one for each table
// whose rows are being written, each with the buffer of its file. The
// files are removed by Close and end.
//
// It also writes the rows of the table sheets (see xlsxrows.go): rows maps
// the name of a part to the run of parts it belongs to (see rowRun), whose
// function writes the rows in place of the end of each part's sheetData.
// Each run is written in a goroutine of its own, with a compressor of its
// own, once excelize has written its parts, while excelize goes on with
// the next parts: the tables that read the findings read them at once, so
// that the workbook reads the one pass over the findings every format
// shares (see view.forked). Close waits for every run; end stops them and
// waits for them when the workbook is not written.
type orderedZip struct {
	w       io.Writer
	members []*zipMember
	open    *zipMember
	rows    map[string]*rowRun
	runs    []*rowRun     // every run, in the order they were added
	fw      *flate.Writer // reset for each part excelize writes
	writing sync.WaitGroup
	// stop tells the runs being written to stop at their next row: a run
	// failed, or the workbook will not be written.
	stop atomic.Bool
}

// rowRun is the parts of one table: one sheet's part, or, for a table with
// more rows than a sheet holds, the parts of its sheets in order. excelize
// writes the parts in any order, so the rows are written when it has
// written the last of them: write is called once, in a goroutine of its
// own, and writes every row in one pass (one reading of the findings for
// a table of findings, however many sheets it spans), calling next to end
// the part it writes to and begin the next one (the first call begins the
// first part). The rows go through the run's compressor, a part after the
// other, as they are written. done, when not nil, is called once the run
// is written, or when it will never be: it lets go of what write would
// have read (the table's reader of the findings).
type rowRun struct {
	parts   []string
	members []*zipMember // by the position of their part in parts
	waiting int          // parts excelize has not finished yet
	write   func(next func() (io.Writer, error)) error
	done    func()
	started bool  // write was started, or done called without it
	err     error // of write, once the run is written
}

// errRowsStopped is what the rows of a run being written end with when
// another run failed, or when the workbook is not written.
var errRowsStopped = errors.New("xlsx: writing the rows stopped")

// addRows has write write the rows of parts, in order, when excelize has
// written them; done is called when the run is written or will not be.
func (z *orderedZip) addRows(parts []string, write func(next func() (io.Writer, error)) error, done func()) error {
	run := &rowRun{parts: parts, members: make([]*zipMember, len(parts)), waiting: len(parts), write: write, done: done}
	for _, p := range parts {
		if _, ok := z.rows[p]; ok {
			return fmt.Errorf("xlsx: the rows of %s are written twice", p)
		}
	}
	for _, p := range parts {
		z.rows[p] = run
	}
	z.runs = append(z.runs, run)
	return nil
}

// stopped says whether the runs being written are to stop.
func (z *orderedZip) stopped() bool { return z.stop.Load() }

type zipMember struct {
	name string
	data partData
	fw   *flate.Writer
	crc  hash.Hash32
	size uint64
	// around is what excelize writes of a part whose rows are written
	// here: the run writes them before its </sheetData> once excelize has
	// written every part of the run.
	around *bytes.Buffer
	run    *rowRun
}

func (m *zipMember) Write(p []byte) (int, error) {
	if m.around != nil {
		return m.around.Write(p)
	}
	m.crc.Write(p)
	m.size += uint64(len(p))
	return m.fw.Write(p)
}

// newOrderedZip returns the ZIP writer of a workbook written to w.
func newOrderedZip(w io.Writer) *orderedZip {
	return &orderedZip{w: w, rows: map[string]*rowRun{}}
}

// zipWriter is the orderedZip as excelize's File.ZipWriter. excelize gives
// it a buffer of its own, which it copies to the workbook's writer once the
// package is written; the orderedZip writes to the workbook's writer
// directly instead, so that the package is not held in memory twice, and
// excelize copies an empty buffer. (It would change the buffer only for a
// part over 4 GB, or to encrypt the workbook, which audit does not ask.)
func (z *orderedZip) zipWriter(io.Writer) excelize.ZipWriter { return z }

// xlsxCompression is the deflate level of the workbook's parts. Level 2
// compresses the sheets about three times as fast as the default level (6)
// for a file about a quarter larger (on 187 MB of sheet XML: 0.4 s and
// 15.1 MB against 1.2 s and 12.2 MB); level 1 (BestSpeed) is no faster
// here and 40 % larger.
const xlsxCompression = 2

// finish ends the part being written.
func (z *orderedZip) finish() error {
	m := z.open
	if m == nil {
		return nil
	}
	z.open = nil
	if run := m.run; run != nil {
		// The part stays as excelize wrote it until the run is written.
		m.fw = nil
		run.waiting--
		if run.waiting == 0 {
			z.startRun(run)
		}
		return nil
	}
	err := m.fw.Close()
	m.fw = nil
	if err != nil {
		return err
	}
	return m.data.flush()
}

// startRun writes run in a goroutine of its own. A run that fails stops
// the others.
func (z *orderedZip) startRun(run *rowRun) {
	run.started = true
	z.writing.Go(func() {
		if run.done != nil {
			defer run.done()
		}
		if err := z.writeRun(run); err != nil {
			run.err = err
			z.stop.Store(true)
		}
	})
}

// settle waits for the runs being written, after calling done for those
// that were not started (excelize did not write every part of theirs) and,
// with stop, telling the others to stop. It returns the first error of a
// run, in the order they were added, other than errRowsStopped (which a
// run stopped by another's error ends with). It may be called again.
func (z *orderedZip) settle(stop bool) error {
	if stop {
		z.stop.Store(true)
	}
	for _, run := range z.runs {
		if !run.started {
			run.started = true
			if run.done != nil {
				run.done()
			}
		}
	}
	z.writing.Wait()
	var stopped error
	for _, run := range z.runs {
		switch {
		case run.err == nil:
		case errors.Is(run.err, errRowsStopped):
			stopped = run.err
		default:
			return run.err
		}
	}
	return stopped
}

// end stops the runs being written and waits for them: the workbook is
// written (Close waited for them) or will not be. No goroutine of the
// workbook is left running when it returns.
func (z *orderedZip) end() {
	_ = z.settle(true)
	z.remove()
}

// remove lets every part go, and removes their temporary files. The runs
// are settled: nothing writes to a part any more.
func (z *orderedZip) remove() {
	for _, m := range z.members {
		m.data.remove()
	}
	z.members = nil
}

// writeRun writes the parts of a run, each as excelize wrote it with its
// rows in it, one after the other through a compressor of the run's own.
func (z *orderedZip) writeRun(run *rowRun) error {
	var (
		begun int
		open  *zipMember
		tail  []byte // the end of the open part, from its </sheetData>
		fw    *flate.Writer
	)
	end := func() error {
		m := open
		if m == nil {
			return nil
		}
		open = nil
		if _, err := m.Write(tail); err != nil {
			return err
		}
		err := m.fw.Close()
		m.fw = nil
		if err != nil {
			return err
		}
		return m.data.flush()
	}
	next := func() (io.Writer, error) {
		if err := end(); err != nil {
			return nil, err
		}
		if begun == len(run.members) {
			return nil, fmt.Errorf("xlsx: rows after the last part of %s", strings.Join(run.parts, ", "))
		}
		m := run.members[begun]
		begun++
		part := m.around.Bytes()
		m.around = nil
		cut := bytes.LastIndex(part, []byte("</sheetData>"))
		if cut < 0 {
			return nil, fmt.Errorf("xlsx: %s has no sheetData for its rows", m.name)
		}
		if fw == nil {
			var err error
			if fw, err = flate.NewWriter(&m.data, xlsxCompression); err != nil {
				return nil, err
			}
		} else {
			fw.Reset(&m.data)
		}
		m.fw = fw
		if _, err := m.Write(part[:cut]); err != nil {
			return nil, err
		}
		open, tail = m, part[cut:]
		return m, nil
	}
	if err := run.write(next); err != nil {
		return err
	}
	if begun < len(run.members) {
		return fmt.Errorf("xlsx: the rows of %s were not written", run.parts[begun])
	}
	return end()
}

// Create starts a part; it is written until the next Create or Close.
func (z *orderedZip) Create(name string) (io.Writer, error) {
	if err := z.finish(); err != nil {
		return nil, err
	}
	m := &zipMember{name: name, data: partData{part: name}, crc: crc32.NewIEEE()}
	if z.fw == nil {
		fw, err := flate.NewWriter(&m.data, xlsxCompression)
		if err != nil {
			return nil, err
		}
		z.fw = fw
	} else {
		z.fw.Reset(&m.data)
	}
	m.fw = z.fw
	if run, ok := z.rows[name]; ok {
		delete(z.rows, name)
		m.around, m.run = &bytes.Buffer{}, run
		run.members[slices.Index(run.parts, name)] = m
	}
	z.members = append(z.members, m)
	z.open = m
	return m, nil
}

// AddFS adds every regular file of fsys (excelize does not use it).
func (z *orderedZip) AddFS(fsys fs.FS) error {
	return fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		w, err := z.Create(name)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
}

// Close writes every part, sorted by name, and the central directory,
// once the rows of every table are written. The parts' temporary files
// are removed when it returns, written or not.
func (z *orderedZip) Close() error {
	err := z.finish()
	if serr := z.settle(err != nil); err == nil {
		err = serr
	}
	defer z.remove()
	if err != nil {
		return err
	}
	if len(z.rows) > 0 {
		return fmt.Errorf("xlsx: the rows of %s were not written: excelize did not write the part", strings.Join(sortedKeys(z.rows), ", "))
	}
	slices.SortStableFunc(z.members, func(a, b *zipMember) int { return strings.Compare(a.name, b.name) })
	zw := zip.NewWriter(z.w)
	for _, m := range z.members {
		fh := &zip.FileHeader{Name: m.name, Method: zip.Deflate, CRC32: m.crc.Sum32(),
			CompressedSize64: uint64(m.data.Len()), UncompressedSize64: m.size}
		w, err := zw.CreateRaw(fh)
		if err != nil {
			return err
		}
		if _, err := m.data.WriteTo(w); err != nil {
			return err
		}
		m.data.remove()
	}
	return zw.Close()
}
