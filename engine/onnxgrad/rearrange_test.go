package onnxgrad

import (
	"testing"

	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// Gradient checks of DepthToSpace, SpaceToDepth and Tile against central
// finite differences.

func TestGradGraphRearrange(t *testing.T) {
	d2s := func(mode string) func(g *testkit.Graph, x string) (string, int64) {
		return func(g *testkit.Graph, x string) (string, int64) {
			y := g.Op("DepthToSpace", []string{x}, onnxproto.AttrInt("blocksize", 2), onnxproto.AttrString("mode", mode))
			return g.Op("Mul", []string{y, g.Op("Sigmoid", []string{y})}), 48
		}
	}
	runGradCases(t, []gradCase{
		{name: "DepthToSpace/DCR", shape: []int64{8, 2, 3}, build: d2s("DCR")},
		{name: "DepthToSpace/CRD", shape: []int64{8, 2, 3}, build: d2s("CRD")},
		{name: "SpaceToDepth", shape: []int64{2, 4, 6}, build: func(g *testkit.Graph, x string) (string, int64) {
			y := g.Op("SpaceToDepth", []string{x}, onnxproto.AttrInt("blocksize", 2))
			return g.Op("Mul", []string{y, g.Weight(1, 8, 2, 3)}), 48
		}},
		{name: "Tile/spatial repeats", build: func(g *testkit.Graph, x string) (string, int64) {
			y := g.Op("Tile", []string{x, g.Ints(1, 2, 1, 3)})
			return g.Op("Mul", []string{y, g.Op("Sigmoid", []string{y})}), 3 * 8 * 12
		}},
		{name: "Tile/a pooled map back to the image size", build: func(g *testkit.Graph, x string) (string, int64) {
			m := g.Op("ReduceMean", []string{g.Op("Mul", []string{x, x})}, onnxproto.AttrInts("axes", []int64{2, 3}), onnxproto.AttrInt("keepdims", 1))
			return g.Op("Mul", []string{g.Op("Tile", []string{m, g.Ints(1, 1, 4, 4)}), g.Weight(1, 3, 4, 4)}), 48
		}},
		{name: "Tile/repeats all 1", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Tile", []string{g.Op("Mul", []string{x, x}), g.Ints(1, 1, 1, 1)}), 48
		}},
	})
}

// TestOperatorsListsNewRules checks that the operators advertised to users
// include the rules added with Einsum, Resize and the others.
func TestOperatorsListsNewRules(t *testing.T) {
	have := map[string]bool{}
	for _, op := range Operators() {
		have[op] = true
	}
	for _, op := range []string{"Einsum", "Resize", "LRN", "Mean", "Max", "Min", "ReduceMin", "ReduceL2", "ReduceLogSumExp", "DepthToSpace", "SpaceToDepth", "Tile"} {
		if !have[op] {
			t.Errorf("Operators() lacks %s", op)
		}
	}
}
