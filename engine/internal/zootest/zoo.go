package zootest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/onnxmodel"
)

// Dir is the demo zoo, relative to this package.
var Dir = testkit.RepoPath("zoo")

// Model loads zoo/<set>/<name>.onnx with the sample images of the set,
// skipping the test with the reason when the zoo or the gradient graph
// exporter is not there.
func Model(tb testing.TB, set, name string) (*onnxmodel.Model, *engine.Dataset) {
	tb.Helper()
	path := filepath.Join(Dir, set, name+".onnx")
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("zoo model %s absent: build the zoo with tools/zoo (%v)", path, err)
	}
	samples := filepath.Join(Dir, set, "samples")
	if _, err := os.Stat(samples); err != nil {
		tb.Skipf("zoo samples %s absent: build the zoo with tools/zoo", samples)
	}
	m, err := onnxmodel.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	ds, err := engine.LoadImageFolder(samples)
	if err != nil {
		tb.Fatal(err)
	}
	x, _ := ds.TensorFor(m)
	if _, err := m.Gradient(context.Background(), engine.CrossEntropy, x[:m.InputShape().Size()], []int64{0}); err != nil {
		if strings.Contains(err.Error(), "under construction") || strings.Contains(err.Error(), "shared library") || strings.Contains(err.Error(), "onnxruntime") {
			tb.Skipf("%s: no gradients yet: %v", name, err)
		}
		tb.Fatal(err)
	}
	return m, ds
}

// DefaultName returns the name of the model of a zoo set whose sidecar
// says it is the default, else fallback.
func DefaultName(set, fallback string) string {
	files, _ := filepath.Glob(filepath.Join(Dir, set, "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(strings.ReplaceAll(string(b), " ", ""), `"default":true`) {
			return strings.TrimSuffix(filepath.Base(f), ".json")
		}
	}
	return fallback
}
