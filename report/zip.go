package report

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"slices"
	"strings"

	"github.com/xuri/excelize/v2"
)

// orderedZip is the ZIP writer of the XLSX workbook. excelize writes the
// parts of a workbook in an order that changes from run to run (streamed
// sheets come from a map); orderedZip compresses each part as it is
// written, keeps it compressed, and on Close writes the parts sorted by
// name, so that the same Result gives the same bytes. Only the compressed
// parts are held in memory (about 9 MB for 100,000 findings), and one
// compressor at a time.
type orderedZip struct {
	w       io.Writer
	members []*zipMember
	open    *zipMember
}

type zipMember struct {
	name string
	data bytes.Buffer
	fw   *flate.Writer
	crc  hash.Hash32
	size uint64
}

func (m *zipMember) Write(p []byte) (int, error) {
	m.crc.Write(p)
	m.size += uint64(len(p))
	return m.fw.Write(p)
}

func newOrderedZip(w io.Writer) excelize.ZipWriter { return &orderedZip{w: w} }

// xlsxCompression is the deflate level of the workbook's parts. Level 2
// compresses the sheets about three times as fast as the default level (6)
// for a file about a quarter larger (on 187 MB of sheet XML: 0.4 s and
// 15.1 MB against 1.2 s and 12.2 MB); level 1 (BestSpeed) is no faster
// here and 40 % larger.
const xlsxCompression = 2

// finish ends the part being written.
func (z *orderedZip) finish() error {
	if z.open == nil {
		return nil
	}
	err := z.open.fw.Close()
	z.open.fw = nil
	z.open = nil
	return err
}

// Create starts a part; it is written until the next Create or Close.
func (z *orderedZip) Create(name string) (io.Writer, error) {
	if err := z.finish(); err != nil {
		return nil, err
	}
	m := &zipMember{name: name, crc: crc32.NewIEEE()}
	fw, err := flate.NewWriter(&m.data, xlsxCompression)
	if err != nil {
		return nil, err
	}
	m.fw = fw
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

// Close writes every part, sorted by name, and the central directory.
func (z *orderedZip) Close() error {
	if err := z.finish(); err != nil {
		return err
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
		if _, err := w.Write(m.data.Bytes()); err != nil {
			return err
		}
		m.data = bytes.Buffer{}
	}
	z.members = nil
	return zw.Close()
}
