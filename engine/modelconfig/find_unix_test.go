//go:build unix

package modelconfig

import (
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

func TestReadLabelsFileFIFO(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip("cannot make a FIFO here:", err)
	}
	if _, err := ReadLabelsFile(dir, "fifo"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("ReadLabelsFile error = %v, want a not-a-regular-file error", err)
	}
}
