package cli

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/onnxmodel"
	"github.com/advlab/advlab/engine/onnxrt"
	ort "github.com/yalue/onnxruntime_go"
)

// gradTestModel writes a tiny NCHW classifier (Conv 3→2, activation, global
// average pool, Gemm to 3 classes) on 3×5×5 images, with a sidecar giving
// [0,255] input and a mean and std, and returns its path.
func gradTestModel(t *testing.T, dir, activation string) string {
	t.Helper()
	floats := func(name string, dims []int64, n int) *onnx.TensorProto {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(math.Sin(float64(3*i+len(name)))) * 0.5
		}
		return floatTensor(name, dims, v)
	}
	sidecar := `{"labels": ["a", "b", "c"], "input_range": [0, 255], "mean": [120, 110, 100], "std": [60, 50, 70]}`
	return writeTestModel(t, dir, activation, &onnx.GraphProto{
		Name: "cli-grad",
		Node: []*onnx.NodeProto{
			{Name: "conv", OpType: "Conv", Input: []string{"image", "W", "B"}, Output: []string{"c"},
				Attribute: []*onnx.AttributeProto{{Name: "pads", Type: onnx.AttributeProto_INTS, Ints: []int64{1, 1, 1, 1}}}},
			{Name: "act", OpType: activation, Input: []string{"c"}, Output: []string{"a"}},
			{Name: "pool", OpType: "GlobalAveragePool", Input: []string{"a"}, Output: []string{"p"}},
			{Name: "flat", OpType: "Flatten", Input: []string{"p"}, Output: []string{"f"}},
			{Name: "fc", OpType: "Gemm", Input: []string{"f", "F"}, Output: []string{"scores"}},
		},
		Initializer: []*onnx.TensorProto{floats("W", []int64{2, 3, 3, 3}, 54), floats("B", []int64{2}, 2), floats("F", []int64{2, 3}, 6)},
		Input:       []*onnx.ValueInfoProto{floatValue("image", "N", 3, 5, 5)},
		Output:      []*onnx.ValueInfoProto{floatValue("scores", "N", 3)},
	}, sidecar)
}

func TestGradGraphCommand(t *testing.T) {
	dir := t.TempDir()
	model := gradTestModel(t, dir, "Tanh")
	for _, loss := range []string{"ce", "margin", "logit"} {
		t.Run(loss, func(t *testing.T) {
			out := filepath.Join(dir, loss+".onnx")
			code, stdout, stderr := runCLI("gradgraph", "--loss", loss, model, "-o", out)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, "wrote "+out) || !strings.Contains(stdout, loss+" loss") {
				t.Errorf("stdout %q", stdout)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			// A fresh session on the written file, against the model's own
			// Gradient for the same batch.
			if err := onnxrt.Init(); err != nil {
				t.Fatal(err)
			}
			s, err := ort.NewDynamicAdvancedSessionWithONNXData(data, []string{"image", "target"}, []string{"logits", "loss", "grad"}, nil)
			if err != nil {
				t.Fatalf("a new ONNX Runtime session cannot load the output: %v", err)
			}
			defer s.Destroy()
			const n = 2
			images := make([]float32, n*75)
			for i := range images {
				images[i] = float32(i%17) / 17
			}
			targets := []int64{2, 0}
			img, _ := ort.NewTensor(ort.NewShape(n, 3, 5, 5), images)
			defer img.Destroy()
			tgt, _ := ort.NewTensor(ort.NewShape(n), targets)
			defer tgt.Destroy()
			outs := []ort.Value{nil, nil, nil}
			if err := s.Run([]ort.Value{img, tgt}, outs); err != nil {
				t.Fatal(err)
			}
			for _, o := range outs {
				defer o.Destroy()
			}
			m, err := onnxmodel.Load(model)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			want, err := m.Gradient(context.Background(), gradLosses[loss], images, targets)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range [][]float32{want.Logits, want.Loss, want.Grad} {
				got := outs[i].(*ort.Tensor[float32]).GetData()
				if len(got) != len(w) {
					t.Fatalf("output %d has %d values, want %d", i, len(got), len(w))
				}
				for j := range w {
					if math.Abs(float64(got[j]-w[j])) > 1e-5*(1+math.Abs(float64(w[j]))) {
						t.Fatalf("output %d [%d] = %g, Model.Gradient gives %g", i, j, got[j], w[j])
					}
				}
			}
		})
	}
}

func TestGradGraphCommandErrors(t *testing.T) {
	dir := t.TempDir()
	good := gradTestModel(t, dir, "Tanh")
	bad := gradTestModel(t, dir, "Shrink")
	out := filepath.Join(dir, "out.onnx")
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no model", []string{"-o", out}, 2, []string{"want the model"}},
		{"no output", []string{good}, 2, []string{"-o is required"}},
		{"two models", []string{good, bad, "-o", out}, 2, []string{"want one model"}},
		{"unknown loss", []string{good, "-o", out, "--loss", "hinge"}, 2, []string{"--loss hinge", "ce, margin or logit"}},
		{"operator without a backward rule", []string{bad, "-o", out}, 1, []string{"operator Shrink", `node "act"`, "supported operators"}},
		{"missing model", []string{filepath.Join(dir, "none.onnx"), "-o", out}, 1, []string{"no such file"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(append([]string{"gradgraph"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d: %s", code, c.code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not say %q", stderr, w)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}
