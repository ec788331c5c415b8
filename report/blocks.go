package report

import "io"

// blocks is a buffer held in blocks: it grows without copying what it
// holds (a bytes.Buffer doubles and copies, and every copy left behind is
// garbage), and each block is at most blockMax bytes. Blocks start small
// and double, so that a small buffer stays small.
type blocks struct {
	list [][]byte
	n    int
}

const (
	blockMin = 4 << 10
	blockMax = 1 << 20
)

func (b *blocks) Write(p []byte) (int, error) {
	n := len(p)
	b.n += n
	for len(p) > 0 {
		last := len(b.list) - 1
		if last < 0 || len(b.list[last]) == cap(b.list[last]) {
			size := blockMin
			if last >= 0 {
				size = min(2*cap(b.list[last]), blockMax)
			}
			b.list = append(b.list, make([]byte, 0, size))
			last++
		}
		c := min(len(p), cap(b.list[last])-len(b.list[last]))
		b.list[last] = append(b.list[last], p[:c]...)
		p = p[c:]
	}
	return n, nil
}

// Len is the number of bytes written.
func (b *blocks) Len() int { return b.n }

// WriteTo writes every block to w.
func (b *blocks) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, x := range b.list {
		m, err := w.Write(x)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Reset empties the buffer and lets its blocks go.
func (b *blocks) Reset() { *b = blocks{} }
