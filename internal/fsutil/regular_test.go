//go:build unix

package fsutil

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.json")
	if err := os.WriteFile(plain, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(plain, link); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		max        int64
		want       string // "" = success; else a fragment of the error
	}{
		{"regular file", plain, 10, ""},
		{"symlink to a regular file is followed", link, 10, ""},
		{"file over the limit", plain, 9, "more than the 9"},
		{"FIFO fails without hanging", fifo, 10, "named pipe"},
		{"folder", dir, 10, "folder"},
		{"character device", "/dev/null", 10, "character device"},
		{"missing file", filepath.Join(dir, "none"), 10, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			type result struct {
				data []byte
				err  error
			}
			done := make(chan result, 1)
			go func() {
				b, err := ReadRegular(c.path, c.max)
				done <- result{b, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("ReadRegular did not return: it blocked on the file")
			}
			if c.want == "" {
				if r.err != nil || string(r.data) != "0123456789" {
					t.Fatalf("got %q, %v; want the file's bytes", r.data, r.err)
				}
				return
			}
			if r.err == nil || !strings.Contains(r.err.Error(), c.want) || strings.Contains(r.err.Error(), "\n") {
				t.Fatalf("error %v; want one line containing %q", r.err, c.want)
			}
		})
	}
}

func TestOpenRegularNoFollow(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "w.bin")
	if err := os.WriteFile(plain, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.bin")
	if err := os.Symlink(plain, link); err != nil {
		t.Fatal(err)
	}
	f, size, err := OpenRegular(plain, true)
	if err != nil || size != 3 {
		t.Fatalf("plain file: size %d, %v; want 3, nil", size, err)
	}
	f.Close()
	if f, _, err := OpenRegular(link, true); err == nil {
		f.Close()
		t.Fatal("a symlink opened with noFollow; want an error")
	}
}
