package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// zipSpillAt is the size past which a compressed part of the workbook
// goes to a temporary file of its own instead of staying in memory (a
// variable, so that tests can make every part spill).
var zipSpillAt = 1 << 20

// zipSpillBuffer is the size of the buffer in front of a part's temporary
// file while the part is written (the compressor writes a few hundred
// bytes at a time).
const zipSpillBuffer = 64 << 10

// partData holds the compressed bytes of one part of the workbook: in
// memory (blocks) while they are few, then, past zipSpillAt, in a
// temporary file in os.TempDir() of the part's own, so that the memory the
// workbook holds does not grow with the findings. Each part is written by
// one goroutine at a time (excelize's, or its table's run), so a file per
// part needs no lock. Where no temporary file can be made (a read-only
// file system), the part stays in memory, as the HTML's parts do
// (htmlSpill). remove deletes the file; the orderedZip removes every
// part's file on Close and on end, whatever happened.
type partData struct {
	part string // the part's name, for errors
	mem  blocks
	f    *os.File      // the temporary file, once the part spilled
	w    *bufio.Writer // in front of f while the part is written
	n    int64         // bytes written, in mem or f
	err  error         // the first error writing the file
	stay bool          // no temporary file could be made: in memory
}

func (d *partData) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.f == nil {
		if d.stay || d.n+int64(len(p)) <= int64(zipSpillAt) || !d.spill() {
			d.n += int64(len(p))
			return d.mem.Write(p)
		}
		if d.err != nil {
			return 0, d.err
		}
	}
	n, err := d.w.Write(p)
	d.n += int64(n)
	if err != nil {
		d.err = fmt.Errorf("xlsx: temporary file of %s: %w", d.part, err)
		return n, d.err
	}
	return n, nil
}

// spill moves the part to a temporary file; false when none can be made
// (the part stays in memory). An error writing what was in memory to the
// file is kept in err.
func (d *partData) spill() bool {
	f, err := os.CreateTemp("", "audit-xlsx-*")
	if err != nil {
		d.stay = true
		return false
	}
	d.f = f
	d.w = bufio.NewWriterSize(f, zipSpillBuffer)
	if _, err := d.mem.WriteTo(d.w); err != nil {
		d.err = fmt.Errorf("xlsx: temporary file of %s: %w", d.part, err)
	}
	d.mem.Reset()
	return true
}

// flush ends the writing of the part: what is buffered goes to its file,
// and the buffer is let go of.
func (d *partData) flush() error {
	if d.err != nil || d.w == nil {
		return d.err
	}
	if err := d.w.Flush(); err != nil {
		d.err = fmt.Errorf("xlsx: temporary file of %s: %w", d.part, err)
		return d.err
	}
	d.w = nil
	return nil
}

// Len is the number of bytes written.
func (d *partData) Len() int64 { return d.n }

// WriteTo writes the part's bytes to w: all of them, or an error (one
// naming the temporary file when it cannot be read whole).
func (d *partData) WriteTo(w io.Writer) (int64, error) {
	if d.f == nil {
		return d.mem.WriteTo(w)
	}
	if err := d.flush(); err != nil {
		return 0, err
	}
	n, err := io.Copy(w, &spillReader{r: io.NewSectionReader(d.f, 0, d.n), d: d})
	if err != nil {
		return n, err
	}
	if n != d.n {
		return n, fmt.Errorf("xlsx: temporary file %s of %s: read %d bytes, want %d", d.f.Name(), d.part, n, d.n)
	}
	return n, nil
}

// spillReader reads a part's temporary file; its errors name the part
// (and, through the os package's, the file), those of the writer it is
// copied to do not.
type spillReader struct {
	r io.Reader
	d *partData
}

func (r *spillReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("xlsx: temporary file of %s: %w", r.d.part, err)
	}
	return n, err
}

// remove lets the part go: its blocks, and its temporary file, closed and
// deleted. It may be called again.
func (d *partData) remove() {
	d.mem.Reset()
	d.w = nil
	if d.f != nil {
		d.f.Close()
		os.Remove(d.f.Name())
		d.f = nil
	}
}
