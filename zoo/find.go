package zoo

import (
	"os"
	"path/filepath"
	"strings"
)

// ModelPath returns the file of the zoo model called name under dir (the
// zoo folder, laid out as dir/<family>/<model>.onnx), and whether it is
// there. A zoo model's name is its family and its file's stem joined by a
// dash: "signs-resnet" is dir/signs/resnet.onnx, "signs-resnet-robust"
// dir/signs/resnet-robust.onnx.
func ModelPath(dir, name string) (string, bool) {
	family, stem, ok := strings.Cut(name, "-")
	if !ok || family == "" || stem == "" || strings.ContainsAny(name, `/\`) || strings.Contains(name, "..") {
		return "", false
	}
	p := filepath.Join(dir, family, stem+".onnx")
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return "", false
	}
	return p, true
}
