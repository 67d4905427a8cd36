//go:build unix

package modelconfig

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFindFIFO checks that a named pipe in the sidecar's place is refused at
// once: a blocking open would wait forever for a writer.
func TestFindFIFO(t *testing.T) {
	for _, name := range []string{"m.json", "m.onnx.json"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := syscall.Mkfifo(filepath.Join(dir, name), 0o644); err != nil {
				t.Skip("cannot make a FIFO here:", err)
			}
			_, _, err := Find(filepath.Join(dir, "m.onnx"))
			if err == nil || !strings.Contains(err.Error(), "named pipe") {
				t.Fatalf("Find error = %v, want a named-pipe error", err)
			}
		})
	}
}

func TestReadRegularFIFO(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip("cannot make a FIFO here:", err)
	}
	// The non-blocking open itself must return at once for a FIFO (the
	// Stat before it catches the FIFO first; this covers a swap in between).
	f, err := os.OpenFile(p, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		t.Fatalf("non-blocking open of a FIFO: %v", err)
	}
	st, err := f.Stat()
	f.Close()
	if err != nil || regular(p, st, MaxConfigBytes) == nil {
		t.Fatalf("the open FIFO passed the regular-file check (%v)", err)
	}
	if _, err := ReadLabelsFile(dir, "fifo"); err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Fatalf("ReadLabelsFile error = %v, want a named-pipe error", err)
	}
}
