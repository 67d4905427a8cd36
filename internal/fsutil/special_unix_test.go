//go:build unix

package fsutil

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// specialFiles makes, in dir, files that are not regular: a named pipe, a
// symbolic link to it and, where the process may (root), a character
// device with /dev/null's numbers. It returns them by name.
func specialFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	out["named pipe"] = fifo
	link := filepath.Join(dir, "link-to-fifo")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	out["symlink to a named pipe"] = link
	null := filepath.Join(dir, "null")
	// /dev/null is character device 1:3 on Linux; elsewhere the numbers
	// differ, but any device will do.
	if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
		out["character device"] = null
	} else {
		t.Logf("no character device test (mknod: %v)", err)
	}
	if st, err := os.Stat("/dev/stdout"); err == nil && !st.Mode().IsRegular() {
		// a link to /proc/self/fd/1: never written, only refused
		l := filepath.Join(dir, "stdout")
		if os.Symlink("/dev/stdout", l) == nil {
			out["symlink to /dev/stdout"] = l
		}
	}
	return out
}

// TestStaleTempsRemoved leaves temporary files as a killed writer would
// (nobody holds them) and one held by a live writer (locked): the next
// write removes the first, keeps the second, and touches nothing else.
func TestStaleTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.png")
	write := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := []string{write(".p.png.123.tmp"), write(".p.png.98765.tmp")}
	other := []string{write(".q.png.123.tmp"), write(".p.png.notdigits.tmp"), write("p.png.5.tmp")}
	live := write(".p.png.42.tmp")
	f, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := lockTemp(f); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytesAtomic(path, []byte("done")); err != nil {
		t.Fatal(err)
	}
	for _, p := range stale {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("stale %s not removed", filepath.Base(p))
		}
	}
	for _, p := range append(other, live) {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", filepath.Base(p), err)
		}
	}
	if got, _ := os.ReadFile(path); string(got) != "done" {
		t.Errorf("content %q", got)
	}
}
