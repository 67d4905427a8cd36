package onnxupgrade

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	ort "github.com/yalue/onnxruntime_go"
)

var (
	ortOnce sync.Once
	ortErr  error
)

// needORT starts ONNX Runtime once, and skips the test when its shared
// library cannot be found.
func needORT(t testing.TB) {
	t.Helper()
	ortOnce.Do(func() {
		lib := os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH")
		if lib == "" {
			p := filepath.Join("..", "..", "third_party", "onnxruntime", "linux-amd64", "libonnxruntime.so.1")
			if _, err := os.Stat(p); err == nil {
				lib = p
			}
		}
		if lib == "" {
			ortErr = fmt.Errorf("ONNXRUNTIME_SHARED_LIBRARY_PATH is unset and third_party/onnxruntime has no library")
			return
		}
		ort.SetSharedLibraryPath(lib)
		ortErr = ort.InitializeEnvironment()
	})
	if ortErr != nil {
		t.Skipf("ONNX Runtime unavailable: %v", ortErr)
	}
}

// feed is one named input for runORT: float32 data, or int64 or bool when
// those are set.
type feed struct {
	name  string
	shape []int64
	f32   []float32
	i64   []int64
	b     []bool
	f16   []uint16 // fed as FLOAT16
}

func (f feed) value() (ort.Value, error) {
	shape := ort.NewShape(f.shape...)
	switch {
	case f.i64 != nil:
		return ort.NewTensor(shape, f.i64)
	case f.b != nil:
		return ort.NewTensor(shape, f.b)
	case f.f16 != nil:
		raw := make([]byte, 2*len(f.f16))
		for i, h := range f.f16 {
			raw[2*i], raw[2*i+1] = byte(h), byte(h>>8)
		}
		return ort.NewCustomDataTensor(shape, raw, ort.TensorElementDataTypeFloat16)
	}
	return ort.NewTensor(shape, f.f32)
}

// randomFeed makes a float32 input of normal values.
func randomFeed(rng *rand.Rand, name string, shape ...int64) feed {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return feed{name: name, shape: shape, f32: v}
}

// runORT runs the encoded model in ONNX Runtime and returns the named
// outputs as float64, whatever their element type.
func runORT(t testing.TB, model []byte, feeds []feed, outputs []string) ([][]float64, error) {
	t.Helper()
	names := make([]string, len(feeds))
	ins := make([]ort.Value, len(feeds))
	for i, f := range feeds {
		names[i] = f.name
		v, err := f.value()
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", f.name, err)
		}
		defer v.Destroy()
		ins[i] = v
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, names, outputs, nil)
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	defer sess.Destroy()
	outs := make([]ort.Value, len(outputs))
	if err := sess.Run(ins, outs); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	res := make([][]float64, len(outs))
	for i, o := range outs {
		defer o.Destroy()
		res[i], err = asFloat64(o)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", outputs[i], err)
		}
	}
	return res, nil
}

func asFloat64(v ort.Value) ([]float64, error) {
	switch t := v.(type) {
	case *ort.Tensor[float32]:
		return convert(t.GetData(), func(x float32) float64 { return float64(x) }), nil
	case *ort.Tensor[float64]:
		return convert(t.GetData(), func(x float64) float64 { return x }), nil
	case *ort.Tensor[int64]:
		return convert(t.GetData(), func(x int64) float64 { return float64(x) }), nil
	case *ort.Tensor[int32]:
		return convert(t.GetData(), func(x int32) float64 { return float64(x) }), nil
	case *ort.Tensor[bool]:
		return convert(t.GetData(), func(x bool) float64 {
			if x {
				return 1
			}
			return 0
		}), nil
	}
	return nil, fmt.Errorf("unsupported output type %T", v)
}

func convert[T any](v []T, f func(T) float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = f(x)
	}
	return out
}

// maxAbsDiff compares two outputs; NaNs must match NaNs.
func maxAbsDiff(a, b []float64) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("%d values against %d", len(a), len(b))
	}
	d := 0.0
	for i := range a {
		if math.IsNaN(a[i]) || math.IsNaN(b[i]) {
			if math.IsNaN(a[i]) != math.IsNaN(b[i]) {
				return 0, fmt.Errorf("value %d: %v against %v", i, a[i], b[i])
			}
			continue
		}
		if a[i] == b[i] { // equal infinities
			continue
		}
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d, nil
}

// outputNames lists a model's graph outputs.
func outputNames(m *onnx.ModelProto) []string {
	names := make([]string, len(m.Graph.Output))
	for i, o := range m.Graph.Output {
		names[i] = o.Name
	}
	return names
}
