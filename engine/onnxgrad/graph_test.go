package onnxgrad

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
)

// The gradient graph is checked against central finite differences of the
// summed loss, computed by running the *forward* graph in ONNX Runtime on
// perturbed images (all perturbations in one batch), and its logits and
// losses against the forward graph and a closed form.

// gradTestK is the number of classes of the test classifiers.
const gradTestK = 4

// gradCase is one operator (or attribute variant) under test: build turns
// the image x [N, shape...] into a tensor with features values per sample,
// which the harness feeds to a random linear classifier.
type gradCase struct {
	name  string
	opset int64   // 17 when 0
	shape []int64 // image shape without the batch; [3,4,4] when nil
	build func(g *testkit.Graph, x string) (out string, features int64)
	// eps is the finite-difference step (1e-2 when 0); kinks are pixel
	// values the inputs keep 3·eps away from; distinct makes every input
	// value distinct (for max pooling), spaced 0.9/size apart.
	eps      float32
	kinks    []float32
	distinct bool
}

func (c gradCase) seed() uint64 {
	h := fnv.New64a()
	h.Write([]byte(c.name))
	return h.Sum64()
}

// runGradCases checks each case's gradient graph for cross-entropy.
func runGradCases(t *testing.T, cases []gradCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opset := c.opset
			if opset == 0 {
				opset = 17
			}
			shape := c.shape
			if shape == nil {
				shape = []int64{3, 4, 4}
			}
			g := testkit.NewGraph(opset, c.seed())
			out, features := c.build(g, "image")
			logits := g.Classifier(out, features, gradTestK)
			m := g.Model("image", shape, logits, gradTestK)
			spec := testSpec("image", shape, NCHW)
			eps := c.eps
			if eps == 0 {
				eps = 1e-2
			}
			rng := rand.New(rand.NewPCG(c.seed(), 5))
			images := RandomImages(rng, 2*int(prodInts(shape)), eps, c.kinks, c.distinct)
			checkGradient(t, m, spec, engine.CrossEntropy, images, 2, eps, 1e-2)
		})
	}
}

// testSpec describes a test model's image input, with no preprocessing.
func testSpec(input string, shape []int64, layout Layout) Spec {
	is := engine.ImageShape{Channels: int(shape[0]), Height: 1, Width: 1}
	if len(shape) > 1 {
		is.Height = int(shape[1])
	}
	if len(shape) > 2 {
		is.Width = int(shape[2])
	}
	if layout == NHWC {
		is = engine.ImageShape{Channels: int(shape[2]), Height: int(shape[0]), Width: int(shape[1])}
	}
	return Spec{
		Input:      InputSpec{Name: input, Layout: layout, ImageShape: is},
		Logits:     "",
		Preprocess: Preprocess{Range: [2]float32{0, 1}},
		NumClasses: gradTestK,
	}
}

// RandomImages returns n pixel values in [0,1]: uniform, kept 3·eps away from
// the kinks, or all distinct.
func RandomImages(rng *rand.Rand, n int, eps float32, kinks []float32, distinct bool) []float32 {
	out := make([]float32, n)
	if distinct {
		for i, p := range rng.Perm(n) {
			out[i] = 0.05 + 0.9*float32(p)/float32(n)
		}
		return out
	}
	for i := range out {
	again:
		v := rng.Float32()
		for _, k := range kinks {
			if float32(math.Abs(float64(v-k))) < 3*eps {
				goto again
			}
		}
		out[i] = v
	}
	return out
}

// RefLoss is the per-sample loss of logits z against class t, in float64.
func RefLoss(kind engine.LossKind, z []float32, t int) float64 {
	switch kind {
	case engine.Margin:
		best := math.Inf(-1)
		for j, v := range z {
			if j != t {
				best = math.Max(best, float64(v))
			}
		}
		return best - float64(z[t])
	case engine.Logit:
		return float64(z[t])
	}
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, float64(v))
	}
	s := 0.0
	for _, v := range z {
		s += math.Exp(float64(v) - mx)
	}
	return mx + math.Log(s) - float64(z[t])
}

// RelErr is ‖got−want‖/‖want‖ in float64 (‖got−want‖ when want is 0).
func RelErr(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d, w float64
	for i := range want {
		e := float64(got[i]) - float64(want[i])
		d += e * e
		w += float64(want[i]) * float64(want[i])
	}
	if w == 0 {
		return math.Sqrt(d)
	}
	r := math.Sqrt(d / w)
	if math.IsNaN(r) {
		return math.Inf(1)
	}
	return r
}

// specImageDims returns the model's input shape at batch n.
func specImageDims(spec Spec, n int) []int64 {
	x := &gradExport{spec: spec}
	return x.inputShape(n)
}

// preprocessed applies the spec's preprocessing to images in the input's layout.
func preprocessed(spec Spec, images []float32) []float32 {
	in := spec.Input
	scale, shift, _ := preprocessAffine(spec.Preprocess, in.Channels)
	out := make([]float32, len(images))
	for i, v := range images {
		c := (i / (in.Height * in.Width)) % in.Channels
		if in.Layout == NHWC {
			c = i % in.Channels
		}
		out[i] = v*scale[c] + shift[c]
	}
	return out
}

// checkGradient exports m's gradient graph for loss and checks, on a batch
// of n images: its logits against the forward graph, its losses against a
// closed form of those logits, its gradient against central finite
// differences (relative L2 error ≤ tol), and that one image alone gives the
// same gradient as in the batch (the dynamic batch survives). It returns
// the gradient.
func checkGradient(t *testing.T, m *onnx.ModelProto, spec Spec, loss engine.LossKind, images []float32, n int, eps float32, tol float64) []float32 {
	t.Helper()
	if spec.Logits == "" {
		spec.Logits = m.GetGraph().GetOutput()[0].GetName()
	}
	gm, err := Export(m, spec, loss)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	checkGradGraphStructure(t, m, gm, spec)
	gdata, fdata := testkit.MarshalModel(t, gm), testkit.MarshalModel(t, m)
	size := len(images) / n
	k := spec.NumClasses
	targets := make([]int64, n)
	for i := range targets {
		targets[i] = int64((i + 1) % k)
	}
	in := spec.Input.Name
	res := testkit.OrtRun(t, gdata, []string{in, "target"}, [][]int64{specImageDims(spec, n), {int64(n)}}, []any{images, targets}, []string{"logits", "loss", "grad"})
	fwd := testkit.OrtRun(t, fdata, []string{in}, [][]int64{specImageDims(spec, n)}, []any{preprocessed(spec, images)}, []string{spec.Logits})[0]
	if e := RelErr(res[0], fwd); e > 1e-5 {
		t.Errorf("logits differ from the forward graph's: relative error %.3g", e)
	}
	for i := 0; i < n; i++ {
		want := RefLoss(loss, fwd[i*k:(i+1)*k], int(targets[i]))
		if d := math.Abs(float64(res[1][i]) - want); d > 1e-4*(1+math.Abs(want)) {
			t.Errorf("loss[%d] = %g, want %g from the logits", i, res[1][i], want)
		}
	}
	// All 2·len(images) perturbed images in one forward batch.
	batch := make([]float32, 0, 2*len(images)*size)
	for j := range images {
		b := j / size
		for _, sgn := range []float32{1, -1} {
			img := append([]float32(nil), images[b*size:(b+1)*size]...)
			img[j%size] += sgn * eps
			batch = append(batch, img...)
		}
	}
	nb := 2 * len(images)
	z := testkit.OrtRun(t, fdata, []string{in}, [][]int64{specImageDims(spec, nb)}, []any{preprocessed(spec, batch)}, []string{spec.Logits})[0]
	fd := make([]float32, len(images))
	var norm float64
	for j := range images {
		tj := int(targets[j/size])
		lp := RefLoss(loss, z[(2*j)*k:(2*j+1)*k], tj)
		lm := RefLoss(loss, z[(2*j+1)*k:(2*j+2)*k], tj)
		fd[j] = float32((lp - lm) / (2 * float64(eps)))
		norm += float64(fd[j]) * float64(fd[j])
	}
	if norm == 0 {
		t.Fatal("the finite-difference gradient is zero: the test checks nothing")
	}
	if e := RelErr(res[2], fd); e > tol {
		t.Errorf("grad vs finite differences: relative error %.3g > %g", e, tol)
		for j := 0; j < len(fd) && j < 12; j++ {
			t.Logf("  [%d] grad %.5f fd %.5f", j, res[2][j], fd[j])
		}
	}
	one := testkit.OrtRun(t, gdata, []string{in, "target"}, [][]int64{specImageDims(spec, 1), {1}}, []any{images[:size], targets[:1]}, []string{"grad"})[0]
	if e := RelErr(one, res[2][:size]); e > 1e-4 {
		t.Errorf("grad of one image alone differs from its grad in the batch: relative error %.3g", e)
	}
	return res[2]
}

// checkGradGraphStructure checks what must hold of any gradient graph:
// standard operators only, unique node names, opset ≥ 17, the inputs and
// outputs by name, and the classifier's weights present once, not copied.
func checkGradGraphStructure(t *testing.T, src, gm *onnx.ModelProto, spec Spec) {
	t.Helper()
	g := gm.GetGraph()
	names := map[string]bool{}
	for _, n := range g.GetNode() {
		if n.GetDomain() != "" {
			t.Errorf("node %q is in domain %q", n.GetName(), n.GetDomain())
		}
		if n.GetName() != "" && names[n.GetName()] {
			t.Errorf("node name %q repeats", n.GetName())
		}
		names[n.GetName()] = true
	}
	for _, op := range gm.GetOpsetImport() {
		if op.GetDomain() == "" && op.GetVersion() < 17 {
			t.Errorf("opset %d < 17", op.GetVersion())
		}
	}
	var ins, outs []string
	for _, v := range g.GetInput() {
		ins = append(ins, v.GetName())
	}
	for _, v := range g.GetOutput() {
		outs = append(outs, v.GetName())
	}
	if fmt.Sprint(ins) != fmt.Sprint([]string{spec.Input.Name, "target"}) || fmt.Sprint(outs) != "[logits loss grad]" {
		t.Errorf("inputs %v, outputs %v", ins, outs)
	}
	count := map[string]int{}
	for _, t := range g.GetInitializer() {
		count[t.GetName()]++
	}
	srcBytes := 0
	for _, w := range src.GetGraph().GetInitializer() {
		if count[w.GetName()] > 1 {
			t.Errorf("initializer %q appears %d times", w.GetName(), count[w.GetName()])
		}
		srcBytes += len(w.GetRawData())
	}
	added := 0
	for _, w := range g.GetInitializer() {
		if strings.HasPrefix(w.GetName(), gradPrefix) {
			added += len(w.GetRawData())
		}
	}
	if added > 4096+srcBytes/4 {
		t.Errorf("the exporter added %d bytes of constants to %d bytes of weights", added, srcBytes)
	}
}
