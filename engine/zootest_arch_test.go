package engine

import (
	"testing"
)

// loadArchModel loads a fixture's model and closes it when the test ends.
func loadArchModel(tb testing.TB, fx *archFixture) *Model {
	tb.Helper()
	m, err := LoadModel(fx.ModelPath())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}
