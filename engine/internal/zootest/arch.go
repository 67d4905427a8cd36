package zootest

import (
	"testing"

	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/onnxmodel"
)

// LoadArch loads a fixture's model and closes it when the test ends.
func LoadArch(tb testing.TB, fx *testkit.ArchFixture) *onnxmodel.Model {
	tb.Helper()
	m, err := onnxmodel.Load(fx.ModelPath())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}
