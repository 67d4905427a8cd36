//go:build unix

package imgops

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadImageFIFO checks that a named pipe given as an image fails at once
// rather than blocking on a writer that never comes.
func TestLoadImageFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pipe.png")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := LoadImage(p); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "FIFO") {
			t.Errorf("err = %v, want a refusal naming the FIFO", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("LoadImage blocked on a FIFO")
	}
}
