package findings

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// freeRun frees a run's blocks and nothing around it, where the file
// system can.
func TestFreeRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blocks := func() int64 {
		var st syscall.Stat_t
		if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		return st.Blocks
	}
	before := blocks()
	run := spoolRun{off: 100 << 10, size: 600 << 10}
	freeRun(f, run)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(data) {
		t.Fatalf("file of %d bytes after freeRun, want %d", len(got), len(data))
	}
	if !bytes.Equal(got[:run.off], data[:run.off]) || !bytes.Equal(got[run.off+run.size:], data[run.off+run.size:]) {
		t.Fatal("freeRun changed bytes outside the run")
	}
	if blocks() == before {
		t.Skip("the file system keeps the blocks (no hole punching)")
	}
	if !bytes.Equal(got[run.off:run.off+run.size], make([]byte, run.size)) {
		t.Error("the run's bytes are still there although its blocks were freed")
	}
}
