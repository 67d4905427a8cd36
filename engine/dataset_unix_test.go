//go:build unix

package engine

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadImageFolderFIFO checks that a named pipe with an image's name in a
// class folder fails at once instead of blocking the load forever.
func TestLoadImageFolderFIFO(t *testing.T) {
	dir := putFiles(t, map[string][]byte{"a/1.png": grayPNG(t, 2, 2, 0)})
	if err := syscall.Mkfifo(filepath.Join(dir, "a", "pipe.png"), 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := LoadImageFolder(dir); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "FIFO") || strings.Contains(err.Error(), "\n") {
			t.Errorf("err = %v, want a one-line refusal naming the FIFO", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("loading a folder with a FIFO blocked")
	}
}
