package onnxgrad

import (
	"strings"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// Einsum gradient checks against central finite differences, on the
// contractions real models use. The image is [N,3,4,4].

func einsum(g *testkit.Graph, eq string, in ...string) string {
	return g.Op("Einsum", in, onnxproto.AttrString("equation", eq))
}

func TestGradGraphEinsum(t *testing.T) {
	rows := func(g *testkit.Graph, x string, shape ...int64) string {
		return g.Op("Reshape", []string{x, g.Ints(shape...)})
	}
	runGradCases(t, []gradCase{
		{name: "bij,bjk->bik both operands from the image", build: func(g *testkit.Graph, x string) (string, int64) {
			a := rows(g, x, 0, 12, 4)
			b := rows(g, g.Op("Sigmoid", []string{x}), 0, 4, 12)
			return einsum(g, "bij,bjk->bik", a, b), 144
		}},
		{name: "bij,jk->bik weight", build: func(g *testkit.Graph, x string) (string, int64) {
			return einsum(g, "bij,jk->bik", rows(g, x, 0, 12, 4), g.Weight(1, 4, 5)), 60
		}},
		{name: "...ij,...jk->...ik ellipsis", build: func(g *testkit.Graph, x string) (string, int64) {
			return einsum(g, "...ij,...jk->...ik", x, g.Op("Sigmoid", []string{x})), 48
		}},
		{name: "...ij,jk implicit output", build: func(g *testkit.Graph, x string) (string, int64) {
			return einsum(g, "...ij,jk", x, g.Weight(1, 4, 2)), 24
		}},
		{name: "bij,bkj->bik transposed, same tensor twice", build: func(g *testkit.Graph, x string) (string, int64) {
			a := rows(g, x, 0, 6, 8)
			return einsum(g, "bij,bkj->bik", a, a), 36
		}},
		{name: "bji,bjk->bik transposed first operand", build: func(g *testkit.Graph, x string) (string, int64) {
			return einsum(g, "bji,bjk->bik", rows(g, x, 0, 6, 8), rows(g, g.Op("Tanh", []string{x}), 0, 6, 8)), 64
		}},
		{name: "attention bhid,bhjd->bhij then bhij,bhjd->bhid", build: func(g *testkit.Graph, x string) (string, int64) {
			k := g.Op("Mul", []string{x, g.Weight(1, 1, 3, 4, 4)})
			v := g.Op("Add", []string{x, g.Weight(1, 1, 3, 4, 4)})
			att := g.Op("Softmax", []string{einsum(g, "bhid,bhjd->bhij", x, k)}, onnxproto.AttrInt("axis", -1))
			return einsum(g, "bhij,bhjd->bhid", att, v), 48
		}},
		{name: "MaxViT relative positions bhid,jd->bhij", build: func(g *testkit.Graph, x string) (string, int64) {
			return einsum(g, "bhid,jd->bhij", x, g.Weight(1, 5, 4)), 60
		}},
		{name: "nchw,cd->ndhw channel mixing", build: func(g *testkit.Graph, x string) (string, int64) {
			return einsum(g, "nchw,cd->ndhw", x, g.Weight(1, 3, 2)), 32
		}},
		{name: "bchw->bc labels summed out alone", build: func(g *testkit.Graph, x string) (string, int64) {
			return einsum(g, "bchw->bc", g.Op("Mul", []string{x, x})), 3
		}},
		{name: "bchw->bwhc transpose only", build: func(g *testkit.Graph, x string) (string, int64) {
			return g.Op("Mul", []string{einsum(g, "bchw->bwhc", x), g.Weight(1, 1, 4, 4, 3)}), 48
		}},
		{name: "...w,...w->...w size-1 axis broadcast", build: func(g *testkit.Graph, x string) (string, int64) {
			m := g.Op("ReduceMean", []string{x}, onnxproto.AttrInts("axes", []int64{2}), onnxproto.AttrInt("keepdims", 1))
			return einsum(g, "...w,...w->...w", m, g.Op("Mul", []string{x, x})), 48
		}},
		{name: "bchw,chw->b to a scalar per sample, three operands", build: func(g *testkit.Graph, x string) (string, int64) {
			y := einsum(g, "bchw,chw,bchw->b", x, g.Weight(1, 3, 4, 4), g.Op("Sigmoid", []string{x}))
			return g.Op("Unsqueeze", []string{y, g.Ints(1)}), 1
		}},
	})
}

// TestGradGraphEinsumRefused checks that what the Einsum rule cannot
// differentiate is refused at export, naming the node and the equation.
func TestGradGraphEinsumRefused(t *testing.T) {
	for _, c := range []struct{ name, eq string }{
		{"diagonal", "bii->bi"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := testkit.NewGraph(17, 1)
			sq := g.Op("Reshape", []string{"image", g.Ints(0, 4, 4)})
			m := g.Model("image", []int64{1, 4, 4}, g.Classifier(einsum(g, c.eq, sq), 4, gradTestK), gradTestK)
			spec := testSpec("image", []int64{1, 4, 4}, NCHW)
			spec.Logits = m.GetGraph().GetOutput()[0].GetName()
			_, err := Export(m, spec, engine.CrossEntropy)
			if err == nil || !strings.Contains(err.Error(), c.eq) || !strings.Contains(err.Error(), "Einsum_") {
				t.Fatalf("export error %v, want one naming the Einsum node and %q", err, c.eq)
			}
		})
	}
}
