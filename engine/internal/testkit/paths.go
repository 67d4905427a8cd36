// Package testkit holds what the engine's packages share in their tests:
// small closed-form classifiers, an ONNX graph builder, ONNX Runtime runs of
// a graph, the PyTorch reference fixtures and paths into the source tree.
// Only tests import it.
package testkit

import (
	"os"
	"path/filepath"
	"runtime"
)

// RepoPath returns the path of elem inside the advlab source tree, wherever
// the test that asks runs from.
func RepoPath(elem ...string) string {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	return filepath.Join(append([]string{root}, elem...)...)
}

// RealWorldDir returns the folder of real third-party models and images
// (../shared/realworld beside the source tree, or $ADVLAB_REALWORLD), or ""
// when it is absent, as on a user's machine.
func RealWorldDir() string {
	for _, d := range []string{os.Getenv("ADVLAB_REALWORLD"), RepoPath("..", "shared", "realworld")} {
		if d == "" {
			continue
		}
		if st, err := os.Stat(filepath.Join(d, "models")); err == nil && st.IsDir() {
			return d
		}
	}
	return ""
}
