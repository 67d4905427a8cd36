package onnxupgrade

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"
)

// realworldDir is the shared folder of third-party models, the repository
// root's sibling; ADVLAB_REALWORLD names it where the checkout lives
// elsewhere (a worktree).
func realworldDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "realworld")
	if _, err := os.Stat(dir); err != nil {
		if env := os.Getenv("ADVLAB_REALWORLD"); env != "" {
			dir = env
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "models")); err != nil {
		t.Skipf("shared/realworld models absent (%v)", err)
	}
	return dir
}

// TestUpgradeRealModels upgrades the third-party models of shared/realworld
// and checks, in ONNX Runtime, that each computes what the original does on
// the same random input.
func TestUpgradeRealModels(t *testing.T) {
	dir := realworldDir(t)
	needORT(t)
	tests := []struct {
		file string
		from int64
		// translated are Report entries the upgrade must make.
		translated map[string]int
		half       bool    // FLOAT16 model: ToFloat32 after Upgrade
		tol        float64 // max |diff| of the outputs
		scale      float64 // input range ±scale
	}{
		{file: "imagenet_mobilenet_v1_025_128.onnx", from: 11, tol: 1e-5, scale: 1},
		{file: "imagenet_squeezenet11_caffe2_fp16.onnx", from: 7, translated: map[string]int{"Dropout (inference, Identity)": 1, "Softmax": 1}, half: true, tol: 2e-3, scale: 120},
		{file: "cifar10_tutorial_cnn.onnx", from: 10, tol: 1e-5, scale: 1},
		{file: "cifar10_classifier32.onnx", from: 11, tol: 1e-5, scale: 1},
		{file: "mnist_cnn_logsoftmax.onnx", from: 9, translated: map[string]int{"LogSoftmax": 1}, tol: 1e-5, scale: 1},
		{file: "mnist8_cntk.onnx", from: 8, tol: 1e-5, scale: 1},
	}
	for i, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, "models", tt.file))
			if err != nil {
				t.Skipf("model absent: %v", err)
			}
			var orig onnx.ModelProto
			if err := proto.Unmarshal(data, &orig); err != nil {
				t.Fatalf("parse: %v", err)
			}
			up, rep, err := Upgrade(&orig)
			if err != nil {
				t.Fatalf("Upgrade: %v", err)
			}
			t.Log(rep)
			if rep.FromOpset != tt.from || rep.ToOpset != TargetOpset {
				t.Errorf("report says opset %d → %d, want %d → 13", rep.FromOpset, rep.ToOpset, tt.from)
			}
			for k, n := range tt.translated {
				if rep.Translated[k] != n {
					t.Errorf("translated %d %q, want %d (report %v)", rep.Translated[k], k, n, rep.Translated)
				}
			}
			if tt.half {
				var n int
				if up, n, err = ToFloat32(up); err != nil {
					t.Fatalf("ToFloat32: %v", err)
				}
				if n != len(up.Graph.Initializer) {
					t.Errorf("ToFloat32 converted %d tensors, want all %d initializers", n, len(up.Graph.Initializer))
				}
			}
			in, shape := dataInput(&orig)
			rng := rand.New(rand.NewPCG(uint64(i), 11))
			x := make([]float32, numel(shape))
			for j := range x {
				x[j] = float32((2*rng.Float64() - 1) * tt.scale)
			}
			origFeed := feed{name: in, shape: shape, f32: x}
			if tt.half {
				origFeed.f32 = nil
				origFeed.f16 = make([]uint16, len(x))
				for j, v := range x {
					origFeed.f16[j] = float32ToFloat16(v)
					x[j] = float16ToFloat32(origFeed.f16[j]) // both models see the same values
				}
			}
			outs := outputNames(&orig)
			var want [][]float64
			if tt.half {
				want, err = runORTHalfOut(t, data, origFeed, outs[0], outputShape(&orig))
			} else {
				want, err = runORT(t, data, []feed{origFeed}, outs)
			}
			if err != nil {
				t.Fatalf("original model: %v", err)
			}
			got, err := runORT(t, marshal(t, up), []feed{{name: in, shape: shape, f32: x}}, outputNames(up))
			if err != nil {
				t.Fatalf("upgraded model: %v", err)
			}
			for k := range want {
				d, err := maxAbsDiff(got[k], want[k])
				t.Logf("output %s: max |diff| %.3g, largest value %.3g", outs[k], d, maxAbs(want[k]))
				if err != nil || d > tt.tol {
					t.Errorf("output %s: max |diff| %g (%v), want <= %g", outs[k], d, err, tt.tol)
				}
			}
		})
	}
}

// dataInput returns the graph input that is not a weight, with its
// symbolic dimensions set to 1.
func dataInput(m *onnx.ModelProto) (string, []int64) {
	inits := map[string]bool{}
	for _, t := range m.Graph.Initializer {
		inits[t.Name] = true
	}
	for _, in := range m.Graph.Input {
		if inits[in.Name] {
			continue
		}
		vi, _ := typeInfo(in.Type)
		shape := make([]int64, len(vi.dims))
		for i, d := range vi.dims {
			shape[i] = max(d, 1)
		}
		return in.Name, shape
	}
	return "", nil
}

// outputShape is the declared shape of m's first output.
func outputShape(m *onnx.ModelProto) []int64 {
	vi, _ := typeInfo(m.Graph.Output[0].Type)
	return vi.dims
}

func numel(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

// runORTHalfOut runs a model with one FLOAT16 output of a known shape,
// which it decodes to float64 (onnxruntime_go leaves float16 outputs to the
// caller to allocate).
func runORTHalfOut(t *testing.T, model []byte, in feed, out string, shape []int64) ([][]float64, error) {
	t.Helper()
	x, err := in.value()
	if err != nil {
		return nil, err
	}
	defer x.Destroy()
	raw := make([]byte, 2*numel(shape))
	y, err := ort.NewCustomDataTensor(ort.NewShape(shape...), raw, ort.TensorElementDataTypeFloat16)
	if err != nil {
		return nil, err
	}
	defer y.Destroy()
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{in.name}, []string{out}, nil)
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	defer sess.Destroy()
	if err := sess.Run([]ort.Value{x}, []ort.Value{y}); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	raw = y.GetData()
	res := make([]float64, len(raw)/2)
	for i := range res {
		res[i] = float64(float16ToFloat32(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8))
	}
	return [][]float64{res}, nil
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}
