package onnxmodel_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/onnxrt"
	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"
)

// variantsDir holds small torchvision classifiers exported in the forms
// downloaded classifiers come in (old opsets, a fixed batch of 1, Softmax and
// LogSoftmax heads, NHWC, BGR 0..255, float16), with PyTorch autograd's
// reference outputs; variantsGenerator writes them (make test runs it).
var variantsDir = testkit.RepoPath("testdata-cache", "variants")

const variantsGenerator = "scripts/fixtures/torch-variants.sh (run by scripts/gen-fixtures and make test)"

// variantFP16Tolerance replaces testkit.ArchTolerance for float16 models, whose
// weights and activations are rounded to 11 significant bits.
const variantFP16Tolerance = 2e-2

// variantRef is a variant's ref.json: testkit.ArchRef's keys plus the variant's form
// (documented at the top of tools/fixtures/torch_variants.py).
type variantRef struct {
	testkit.ArchRef
	Variant            string    `json:"variant"`
	Opset              int64     `json:"opset"`
	BatchMode          string    `json:"batch_mode"` // "fixed1" or "dynamic"
	Head               string    `json:"head"`       // "logits", "softmax" or "logsoftmax"
	Layout             string    `json:"layout"`     // "NCHW" or "NHWC"
	ChannelOrder       string    `json:"channel_order"`
	InputRange         []float32 `json:"input_range"`
	Dtype              string    `json:"dtype"` // "float32" or "float16"
	ExpectedOutputKind string    `json:"expected_output_kind"`
	InputName          string    `json:"input_name"`
	OutputName         string    `json:"output_name"`
	ModelInputShape    []int64   `json:"model_input_shape"` // -1 for a dynamic batch
	Generator          string    `json:"generator"`
}

// variantSidecar is a variant's model.json: only what a user would know.
// mean and std are per channel of the model's input, in its channel order and
// in input_range's units.
type variantSidecar struct {
	Layout       string    `json:"layout"`
	InputSize    []int     `json:"input_size"`
	InputRange   []float32 `json:"input_range"`
	Mean         []float32 `json:"mean"`
	Std          []float32 `json:"std"`
	ChannelOrder string    `json:"channel_order"`
}

// variantFixture is one variant with PyTorch's outputs on a fixed batch.
type variantFixture struct {
	Name    string
	Dir     string
	Ref     variantRef
	Sidecar variantSidecar
	// Images is the batch in advlab's pixel space (RGB, [0,1], NCHW), however
	// the model takes its input. Logits are the network's logits before the
	// head; Output is what model.onnx outputs (the logits or the head's
	// output); Loss the per-sample cross-entropy; Grad d(sum Loss)/d(Images).
	Images, Logits, Output, Loss, Grad []float32
}

// ModelPath is the fixture's ONNX file; its sidecar model.json is beside it.
func (fx *variantFixture) ModelPath() string { return filepath.Join(fx.Dir, "model.onnx") }

// Arch views the variant as an testkit.ArchFixture (Logits are the pre-head logits).
func (fx *variantFixture) Arch() *testkit.ArchFixture {
	return &testkit.ArchFixture{Name: fx.Name, Dir: fx.Dir, Ref: fx.Ref.ArchRef,
		Images: fx.Images, Logits: fx.Logits, Loss: fx.Loss, Grad: fx.Grad}
}

// variantFixtures reads every variant in variantsDir, in name order, and skips
// the test when there are none.
func variantFixtures(tb testing.TB) []*variantFixture {
	tb.Helper()
	return testkit.FixtureFolders(tb, variantsDir, "model-variant", variantsGenerator, readVariantFixture)
}

func readVariantFixture(dir string) (*variantFixture, error) {
	fx := &variantFixture{Name: filepath.Base(dir), Dir: dir}
	if _, err := os.Stat(filepath.Join(dir, "DONE")); err != nil {
		return nil, fmt.Errorf("fixture %s is incomplete (no DONE marker)", dir)
	}
	if err := readJSONStrict(filepath.Join(dir, "ref.json"), &fx.Ref, false); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", dir, err)
	}
	// The sidecar may hold only the keys a user would know: an unknown key
	// (labels, or a fact advlab must find itself) fails.
	if err := readJSONStrict(filepath.Join(dir, "model.json"), &fx.Sidecar, true); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", dir, err)
	}
	r := &fx.Ref
	if err := r.Check(); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", dir, err)
	}
	n, image := r.Batch, r.ImageSize()
	if err := testkit.ReadFixtureArrays(dir, r.Files,
		testkit.FixtureArray{Key: "images", Dst: &fx.Images, N: n * image},
		testkit.FixtureArray{Key: "logits", Dst: &fx.Logits, N: n * r.NumClasses},
		testkit.FixtureArray{Key: "output", Dst: &fx.Output, N: n * r.NumClasses},
		testkit.FixtureArray{Key: "loss", Dst: &fx.Loss, N: n},
		testkit.FixtureArray{Key: "grad", Dst: &fx.Grad, N: n * image},
	); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", dir, err)
	}
	return fx, nil
}

// readJSONStrict decodes a JSON file into v, rejecting unknown keys if strict.
func readJSONStrict(path string, v any, strict bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}

// variantInput converts n RGB [0,1] NCHW images of c×h×w into the model's
// input as the sidecar describes it: channel order, range, mean and std (per
// model channel, in the range's units), layout.
func variantInput(sc variantSidecar, c, h, w int, images []float32, n int) []float32 {
	lo, hi := float32(0), float32(1)
	if len(sc.InputRange) == 2 {
		lo, hi = sc.InputRange[0], sc.InputRange[1]
	}
	perChannel := func(v []float32, def float32, ch int) float32 {
		switch len(v) {
		case 0:
			return def
		case 1:
			return v[0]
		}
		return v[ch]
	}
	out := make([]float32, n*c*h*w)
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			src := ch
			if sc.ChannelOrder == "BGR" {
				src = c - 1 - ch
			}
			mean, std := perChannel(sc.Mean, 0, ch), perChannel(sc.Std, 1, ch)
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					v := (lo + (hi-lo)*images[((b*c+src)*h+y)*w+x] - mean) / std
					if sc.Layout == "NHWC" {
						out[((b*h+y)*w+x)*c+ch] = v
					} else {
						out[((b*c+ch)*h+y)*w+x] = v
					}
				}
			}
		}
	}
	return out
}

// runVariant runs the model in ONNX Runtime on n images already converted
// to its input (float32 values; rounded to float16 for a float16 model) and
// returns its n×K output as float32.
func runVariant(tb testing.TB, fx *variantFixture, input []float32, n int) []float32 {
	tb.Helper()
	r := fx.Ref
	s, err := ort.NewDynamicAdvancedSession(fx.ModelPath(), []string{r.InputName}, []string{r.OutputName}, nil)
	if err != nil {
		tb.Fatalf("loading %s into ONNX Runtime: %v", fx.ModelPath(), err)
	}
	defer s.Destroy()
	shape := append([]int64{int64(n)}, r.ModelInputShape[1:]...)
	outShape := ort.NewShape(int64(n), int64(r.NumClasses))
	if r.Dtype == "float16" {
		in, err := ort.NewCustomDataTensor(ort.NewShape(shape...), float16Bytes(input), ort.TensorElementDataTypeFloat16)
		if err != nil {
			tb.Fatal(err)
		}
		defer in.Destroy()
		raw := make([]byte, 2*n*r.NumClasses)
		out, err := ort.NewCustomDataTensor(outShape, raw, ort.TensorElementDataTypeFloat16)
		if err != nil {
			tb.Fatal(err)
		}
		defer out.Destroy()
		if err := s.Run([]ort.Value{in}, []ort.Value{out}); err != nil {
			tb.Fatalf("running %s: %v", fx.Name, err)
		}
		return float16Floats(raw)
	}
	in, err := ort.NewTensor(ort.NewShape(shape...), input)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Destroy()
	out, err := ort.NewEmptyTensor[float32](outShape)
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Destroy()
	if err := s.Run([]ort.Value{in}, []ort.Value{out}); err != nil {
		tb.Fatalf("running %s: %v", fx.Name, err)
	}
	return append([]float32(nil), out.GetData()...)
}

// checkVariantIO checks the graph's declared input and output against ref.json:
// names, element type, and a batch dimension fixed at 1 or dynamic.
func checkVariantIO(t *testing.T, fx *variantFixture) {
	t.Helper()
	ins, outs, err := ort.GetInputOutputInfo(fx.ModelPath())
	if err != nil {
		t.Fatalf("reading %s's inputs and outputs: %v", fx.ModelPath(), err)
	}
	if len(ins) != 1 || len(outs) != 1 {
		t.Fatalf("model has %d inputs and %d outputs, want 1 and 1", len(ins), len(outs))
	}
	r := fx.Ref
	elem := map[string]ort.TensorElementDataType{"float32": ort.TensorElementDataTypeFloat, "float16": ort.TensorElementDataTypeFloat16}[r.Dtype]
	batch := map[string]int64{"fixed1": 1, "dynamic": -1}[r.BatchMode]
	for _, c := range []struct {
		what  string
		info  ort.InputOutputInfo
		name  string
		shape []int64
	}{
		{"input", ins[0], r.InputName, r.ModelInputShape},
		{"output", outs[0], r.OutputName, []int64{batch, int64(r.NumClasses)}},
	} {
		if c.info.Name != c.name || c.info.DataType != elem || !reflect.DeepEqual([]int64(c.info.Dimensions), c.shape) {
			t.Errorf("%s is %q %v of type %v; ref.json says %q %v of %s", c.what, c.info.Name, c.info.Dimensions, c.info.DataType, c.name, c.shape, r.Dtype)
		}
	}
}

// checkVariantGraph checks ref.json's opset and dtype against the ONNX file
// itself: the default domain's opset, and weights all of the model's dtype.
func checkVariantGraph(t *testing.T, fx *variantFixture) {
	t.Helper()
	data, err := os.ReadFile(fx.ModelPath())
	if err != nil {
		t.Fatal(err)
	}
	var m onnx.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		t.Fatalf("parsing %s: %v", fx.ModelPath(), err)
	}
	opset := int64(-1)
	for _, o := range m.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			opset = o.GetVersion()
		}
	}
	if opset != fx.Ref.Opset {
		t.Errorf("the graph imports opset %d; ref.json says %d", opset, fx.Ref.Opset)
	}
	want, other := onnx.TensorProto_FLOAT, onnx.TensorProto_FLOAT16
	if fx.Ref.Dtype == "float16" {
		want, other = other, want
	}
	n := 0
	for _, w := range m.GetGraph().GetInitializer() {
		switch onnx.TensorProto_DataType(w.GetDataType()) {
		case want:
			n++
		case other:
			t.Errorf("initializer %q is %v in a %s model", w.GetName(), other, fx.Ref.Dtype)
		}
	}
	if n == 0 {
		t.Errorf("the graph has no %v weights", want)
	}
}

// checkVariantHeader checks ref.json against the sidecar and the reference
// files against each other in closed form: loss = logsumexp(logits) −
// logits[target], and output = head(logits).
func checkVariantHeader(t *testing.T, fx *variantFixture) {
	t.Helper()
	r, sc := fx.Ref, fx.Sidecar
	size := r.InputShape[1]
	wantInput := map[string][]int64{
		"NCHW": {-1, 3, int64(size), int64(size)},
		"NHWC": {-1, int64(size), int64(size), 3},
	}[r.Layout]
	if wantInput != nil && r.BatchMode == "fixed1" {
		wantInput[0] = 1
	}
	kind := map[string]string{"logits": "logits", "softmax": "probabilities", "logsoftmax": "log_probabilities"}[r.Head]
	switch {
	case sc.Layout != r.Layout || sc.ChannelOrder != r.ChannelOrder:
		t.Errorf("sidecar layout %q, channel order %q; ref.json %q, %q", sc.Layout, sc.ChannelOrder, r.Layout, r.ChannelOrder)
	case !reflect.DeepEqual(sc.InputSize, r.InputShape) || !reflect.DeepEqual(sc.InputRange, r.InputRange):
		t.Errorf("sidecar input size %v, range %v; ref.json %v, %v", sc.InputSize, sc.InputRange, r.InputShape, r.InputRange)
	case !reflect.DeepEqual(sc.Mean, r.Mean) || !reflect.DeepEqual(sc.Std, r.Std):
		t.Errorf("sidecar mean %v, std %v; ref.json %v, %v", sc.Mean, sc.Std, r.Mean, r.Std)
	case kind == "" || r.ExpectedOutputKind != kind:
		t.Errorf("head %q with expected output kind %q", r.Head, r.ExpectedOutputKind)
	case !reflect.DeepEqual(r.ModelInputShape, wantInput):
		t.Errorf("model input shape %v, want %v for layout %q, batch mode %q", r.ModelInputShape, wantInput, r.Layout, r.BatchMode)
	}
	k := r.NumClasses
	for i := 0; i < r.Batch; i++ {
		z := fx.Logits[i*k : (i+1)*k]
		lse := logSumExp(z)
		if want := lse - float64(z[r.Targets[i]]); math.Abs(float64(fx.Loss[i])-want) > 1e-5*(1+math.Abs(want)) {
			t.Errorf("sample %d: loss %g, but the cross-entropy of the logits is %g", i, fx.Loss[i], want)
		}
		for j, zj := range z {
			want := float64(zj)
			switch r.Head {
			case "softmax":
				want = math.Exp(want - lse)
			case "logsoftmax":
				want -= lse
			}
			if got := float64(fx.Output[i*k+j]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
				t.Errorf("sample %d class %d: output %g, but %s of the logits is %g", i, j, got, r.Head, want)
			}
		}
	}
	var g float64
	for _, v := range fx.Grad {
		g += float64(v) * float64(v)
	}
	if g == 0 || math.IsNaN(g) || math.IsInf(g, 0) {
		t.Errorf("the reference gradient's squared norm is %g; a zero gradient makes every gradient test pass", g)
	}
}

// impliedLogits returns the logits a head's output implies, up to a constant
// per sample: log p for a softmax, the output itself for a log-softmax.
func impliedLogits(out []float32, head string) []float32 {
	z := append([]float32(nil), out...)
	if head == "softmax" {
		for i, p := range z {
			z[i] = float32(math.Log(float64(p)))
		}
	}
	return z
}

// centred subtracts from each row of k values its mean.
func centred(z []float32, k int) []float32 {
	out := make([]float32, len(z))
	for i := 0; i+k <= len(z); i += k {
		var m float64
		for _, v := range z[i : i+k] {
			m += float64(v)
		}
		m /= float64(k)
		for j, v := range z[i : i+k] {
			out[i+j] = float32(float64(v) - m)
		}
	}
	return out
}

// logSumExp returns log Σ exp(z), computed in float64.
func logSumExp(z []float32) float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s)
}

// TestVariantFixturesAreConsistent checks the variant fixtures without
// advlab's loader: the files and their sizes, ref.json against the sidecar,
// the reference outputs against each other in closed form, the graph's inputs
// and outputs, and ONNX Runtime's output of each model, on the batch converted
// to the model's own input format, against PyTorch's.
func TestVariantFixturesAreConsistent(t *testing.T) {
	fxs := variantFixtures(t)
	if err := onnxrt.Init(); err != nil {
		t.Skipf("ONNX Runtime is unavailable (set %s): %v", onnxrt.LibraryEnv, err)
	}
	for _, fx := range fxs {
		t.Run(fx.Name, func(t *testing.T) {
			checkVariantHeader(t, fx)
			checkVariantIO(t, fx)
			checkVariantGraph(t, fx)
			r := fx.Ref
			c, h, w := r.InputShape[0], r.InputShape[1], r.InputShape[2]
			input := variantInput(fx.Sidecar, c, h, w, fx.Images, r.Batch)
			var got []float32
			if r.BatchMode == "fixed1" {
				for i := 0; i < r.Batch; i++ {
					got = append(got, runVariant(t, fx, input[i*c*h*w:(i+1)*c*h*w], 1)...)
				}
			} else {
				got = runVariant(t, fx, input, r.Batch)
			}
			tol := testkit.ArchTolerance
			if r.Dtype == "float16" {
				tol = variantFP16Tolerance
			}
			e := testkit.RelL2(got, fx.Output)
			if e > tol {
				t.Errorf("ONNX Runtime's %s output: relative error %.3g > %g against PyTorch", r.Head, e, tol)
			}
			// A near-uniform softmax (ViT's small head) is close to any other:
			// the logits it implies, up to softmax's constant, must match too.
			if k := r.NumClasses; r.Head != "logits" {
				if e := testkit.RelL2(centred(impliedLogits(got, r.Head), k), centred(fx.Logits, k)); e > tol {
					t.Errorf("the logits implied by ONNX Runtime's %s output: relative error %.3g > %g against PyTorch", r.Head, e, tol)
				}
			}
			t.Logf("opset %d, %s, %s head, %s %s %v, %s: relative error %.2e (worst sample %.2e)",
				r.Opset, r.BatchMode, r.Head, r.Layout, r.ChannelOrder, r.InputRange, r.Dtype, e, testkit.WorstSampleRelL2(got, fx.Output, r.Batch))
		})
	}
}
