package findings

import (
	"os"
	"syscall"
)

// freeRun gives the disk space of a run that is not read any more back to
// the file system (a hole in the spool file, which keeps its size), so
// that merging runs does not make the spool file grow by what it merges.
// Where the file system cannot, the space stays used until Close.
func freeRun(f *os.File, r spoolRun) {
	const punchHole = 0x01 | 0x02 // FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE
	if r.size == 0 {
		return
	}
	if c, err := f.SyscallConn(); err == nil {
		c.Control(func(fd uintptr) {
			syscall.Fallocate(int(fd), punchHole, r.off, r.size)
		})
	}
}
