package main

import (
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY opens a pseudo-terminal and returns its terminal side (what a
// program sees as its standard output in a terminal window).
func openPTY(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	// What is written to the terminal is read and dropped, so that a write
	// never waits for a full terminal buffer.
	go io.Copy(io.Discard, ptmx)
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Skipf("unlocking the pseudo-terminal: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Skipf("pseudo-terminal number: %v", e)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	if !isTerminal(tty) {
		t.Skip("the pseudo-terminal is not taken for a terminal")
	}
	return tty
}

// A binary format is not written to standard output when it is a terminal
// (exit 2, nothing written); a text format is.
func TestOutStdoutBinaryToTerminal(t *testing.T) {
	tty := openPTY(t)
	var errb strings.Builder
	code := Run(t.Context(), []string{"scan", "--snapshot", demoSnapshot, "--format", "xlsx", "--out", "-"}, strings.NewReader(""), tty, &errb)
	if code != ExitUsage || !strings.Contains(errb.String(), "xlsx is a binary format and standard output is a terminal") {
		t.Errorf("xlsx to a terminal: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	code = Run(t.Context(), []string{"scan", "--snapshot", demoSnapshot, "--format", "markdown", "--out", "-", "--quiet"}, strings.NewReader(""), tty, &errb)
	if code != ExitOK {
		t.Errorf("markdown to a terminal: exit %d, stderr %q", code, errb.String())
	}
}
