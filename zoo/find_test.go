package zoo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestModelPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "signs", "folder.onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "signs", "resnet-robust.onnx"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want string
	}{
		{"signs-resnet-robust", filepath.Join(dir, "signs", "resnet-robust.onnx")},
		{"signs-vgg", ""},    // absent
		{"signs-folder", ""}, // not a file
		{"signs", ""},        // no model part
		{"signs-../signs/resnet-robust", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ModelPath(dir, tc.name)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("ModelPath(%q) = %q, %v; want %q", tc.name, got, ok, tc.want)
			}
		})
	}
	if p, ok := ModelPath(".", DefaultModelName()); !ok || filepath.Base(p) != "resnet.onnx" {
		t.Errorf("the default model %s is not found in the zoo's own folder: %q", DefaultModelName(), p)
	}
}
