//go:build unix

package fsutil

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/advlab/advlab/internal/treesnap"
)

// tree makes a small layout in a temporary folder: an input model, an
// input image folder with a class folder, a symlink to each, a hard link to
// the model, a FIFO and an empty output folder. It returns the root.
func tree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(root, "m.onnx"), []byte("model"), 0o600))
	must(os.MkdirAll(filepath.Join(root, "images", "cat"), 0o755))
	must(os.WriteFile(filepath.Join(root, "images", "cat", "1.png"), []byte("png"), 0o644))
	must(os.Symlink("m.onnx", filepath.Join(root, "link.onnx")))
	must(os.Symlink("images", filepath.Join(root, "imglink")))
	must(os.Link(filepath.Join(root, "m.onnx"), filepath.Join(root, "hard.onnx")))
	must(syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	must(os.Mkdir(filepath.Join(root, "out"), 0o755))
	return root
}

func TestOutputsCheck(t *testing.T) {
	tests := []struct {
		name  string
		files []string // as --out (first) and --csv (second)
		dirs  []string // as --dir
		// want is a fragment of the error; "" means accepted.
		want   string
		stdout bool
	}{
		{name: "new file beside the inputs", files: []string{"grad.onnx"}},
		{name: "existing regular file", files: []string{"images/../m2.onnx"}},
		{name: "not given", files: []string{""}},
		{name: "the input itself", files: []string{"m.onnx"}, want: "--out m.onnx: it is the same file as the model m.onnx"},
		{name: "the input by another path", files: []string{"./out/../m.onnx"}, want: "same file as the model"},
		{name: "the input through a symlink", files: []string{"link.onnx"}, want: "same file as the model"},
		{name: "a hard link of the input", files: []string{"hard.onnx"}, want: "same file as the model"},
		{name: "an input image", files: []string{"images/cat/1.png"}, want: "inside --images images"},
		{name: "new file inside the image folder", files: []string{"images/cat/new.csv"}, want: "inside --images"},
		{name: "inside the image folder through a symlink", files: []string{"imglink/x.png"}, want: "inside --images"},
		{name: "missing folder", files: []string{"nope/p.png"}, want: "the folder nope does not exist; create it or choose another"},
		{name: "folder is a file", files: []string{"m.onnx/p.png"}, want: "is not a folder"},
		{name: "a folder", files: []string{"out"}, want: "it is a folder; name a file inside it"},
		{name: "a named pipe", files: []string{"fifo"}, want: "it is a named pipe"},
		{name: "stdout refused", files: []string{"-"}, want: "--out -: this command cannot write to standard output"},
		{name: "stdout taken", files: []string{"-"}, stdout: true},
		{name: "two outputs, one file", files: []string{"p.png", "./p.png"}, want: "--csv ./p.png: --out p.png writes there too"},
		{name: "two outputs, one file through a symlink", files: []string{"out/p.png", "outlink/p.png"}, want: "writes there too"},
		{name: "new folder", dirs: []string{"adv/run1"}},
		{name: "existing folder", dirs: []string{"out"}},
		{name: "folder is the image folder", dirs: []string{"images"}, want: "--dir images: it is inside --images images"},
		{name: "folder inside the image folder", dirs: []string{"imglink/adv"}, want: "inside --images"},
		{name: "folder is a file", dirs: []string{"m.onnx"}, want: "--dir m.onnx: it exists and is not a folder"},
		{name: "folder and file, one name", files: []string{"out"}, dirs: []string{"out"}, want: "it is a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tree(t)
			os.WriteFile(filepath.Join(root, "m2.onnx"), []byte("old output"), 0o600)
			os.Symlink("out", filepath.Join(root, "outlink"))
			t.Chdir(root)
			before := treesnap.Take(t, root)
			o := Outputs{
				Inputs: []Path{{"the model", "m.onnx"}, {"--images", "images"}, {"--palette", ""}, {"--mask", "missing.png"}},
				Stdout: tt.stdout,
			}
			for i, f := range tt.files {
				o.Files = append(o.Files, Path{[]string{"--out", "--csv"}[i], f})
			}
			for _, d := range tt.dirs {
				o.Dirs = append(o.Dirs, Path{"--dir", d})
			}
			err := o.Check()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("accepted; want %q", tt.want)
			case err != nil && (!strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n")):
				t.Fatalf("error %q; want one line with %q", err, tt.want)
			}
			after := treesnap.Take(t, root)
			for _, d := range tt.dirs {
				if err == nil {
					if st, serr := os.Stat(d); serr != nil || !st.IsDir() {
						t.Errorf("folder %s not created: %v", d, serr)
					}
					for p := filepath.Join(root, d); p != root; p = filepath.Dir(p) {
						if _, old := before[p]; !old {
							delete(after, p)
						}
					}
				}
			}
			if diff := treesnap.Diff(before, after); diff != "" {
				t.Errorf("the tree changed: %s", diff)
			}
		})
	}
}

// TestOutputsCheckCreatesNothingWhenRefused checks that a refused output
// leaves a folder output of the same call uncreated.
func TestOutputsCheckCreatesNothingWhenRefused(t *testing.T) {
	root := tree(t)
	adv := filepath.Join(root, "adv")
	err := Outputs{
		Inputs: []Path{{"the model", filepath.Join(root, "m.onnx")}},
		Dirs:   []Path{{"--out", adv}},
		Files:  []Path{{"-o", filepath.Join(root, "m.onnx")}},
	}.Check()
	if err == nil {
		t.Fatal("accepted")
	}
	if _, serr := os.Stat(adv); serr == nil {
		t.Errorf("%s created though the check failed (%v)", adv, err)
	}
}

func TestOutputsCheckUnwritableFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes in any folder; a read-only folder needs another user")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(dir, 0o500)
	err := Outputs{Files: []Path{{"-o", filepath.Join(dir, "p.png")}}}.Check()
	if err == nil || !strings.Contains(err.Error(), "cannot write in the folder") {
		t.Fatalf("error %v; want cannot write", err)
	}
}
