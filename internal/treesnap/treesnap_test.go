package treesnap

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDiff(t *testing.T) {
	root := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "1")
	write("b", "2")
	before := Take(t, root)
	if d := Diff(before, Take(t, root)); d != "" {
		t.Fatalf("an untouched tree differs: %s", d)
	}
	write("a", "changed")
	os.Remove(filepath.Join(root, "b"))
	write("c", "new")
	if err := os.Chmod(filepath.Join(root, "a"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "changed " + filepath.Join(root, "a") + "; removed " + filepath.Join(root, "b") + "; added " + filepath.Join(root, "c")
	if d := Diff(before, Take(t, root)); d != want {
		t.Errorf("diff %q; want %q", d, want)
	}
}
