package fsutil

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileAtomicKeepsOldFileOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	if err := WriteBytesAtomic(path, []byte("good")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error = %v, want boom", err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != "good" {
		t.Fatalf("file = %q after a failed write, want the old content", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestWriteFileAtomicMode(t *testing.T) {
	tests := []struct {
		name string
		old  fs.FileMode // 0: no file before
		want fs.FileMode
	}{
		{"new file", 0, newFileMode},
		{"private file stays private", 0o600, 0o600},
		{"executable stays executable", 0o755, 0o755},
		{"read-only for others", 0o640, 0o640},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			if tt.old != 0 {
				if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.old); err != nil { // beyond the umask
					t.Fatal(err)
				}
			}
			if err := WriteBytesAtomic(path, []byte("new")); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode() != tt.want {
				t.Errorf("mode %v, want %v", st.Mode(), tt.want)
			}
			if got, _ := os.ReadFile(path); string(got) != "new" {
				t.Errorf("content %q", got)
			}
		})
	}
}

func TestWriteFileAtomicFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.txt")
	link := filepath.Join(dir, "sub", "link.txt")
	if err := os.WriteFile(real, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytesAtomic(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	lst, err := os.Lstat(link)
	if err != nil || lst.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link is no longer a link: %v %v", lst, err)
	}
	got, _ := os.ReadFile(real)
	st, _ := os.Stat(real)
	if string(got) != "new" || st.Mode().Perm() != 0o600 {
		t.Fatalf("target %q mode %v; want the new content with the old mode", got, st.Mode())
	}
	for _, d := range []string{dir, filepath.Join(dir, "sub")} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				t.Errorf("temporary file %s left in %s", e.Name(), d)
			}
		}
	}
}

// TestWriteFileAtomicRefusesSpecialFiles writes over things that are not
// regular files; each must be refused, left as it was, and, for the pipe,
// without opening it (which would block until a reader came).
func TestWriteFileAtomicRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	specials := specialFiles(t, dir)
	if err := os.Mkdir(filepath.Join(dir, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	specials["folder"] = filepath.Join(dir, "folder")
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	specials["dangling symlink"] = dangling
	for name, path := range specials {
		t.Run(name, func(t *testing.T) {
			before, _ := os.Lstat(path)
			err := WriteBytesAtomic(path, []byte("x"))
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q: want one line naming the file", err)
			}
			after, aerr := os.Lstat(path)
			if aerr != nil || after.Mode() != before.Mode() || !os.SameFile(before, after) {
				t.Errorf("%s changed: %v → %v (%v)", path, before.Mode(), after, aerr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("writing through the dangling symlink created its target")
	}
}

func TestWriteFileAtomicMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	err := WriteBytesAtomic(filepath.Join(dir, "f"), []byte("x"))
	want := "the folder " + dir + " does not exist; create it or choose another"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v; want %q", err, want)
	}
}

func TestIsTempOf(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{".p.png.123.tmp", true},
		{".p.png.1.tmp", true},
		{".p.png..tmp", false},
		{".p.png.12a.tmp", false},
		{"p.png.123.tmp", false},
		{".p.png.123.tmpx", false},
		{".q.png.123.tmp", false},
		{".p.png.x.123.tmp", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isTempOf(tt.name, "p.png"); got != tt.want {
				t.Errorf("isTempOf(%q) = %v", tt.name, got)
			}
		})
	}
}
