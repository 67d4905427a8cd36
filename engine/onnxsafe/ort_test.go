package onnxsafe

import (
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"
)

var (
	ortOnce sync.Once
	ortErr  error
)

// needORT initialises ONNX Runtime once, or skips the test when no library
// can be found.
func needORT(t *testing.T) {
	t.Helper()
	lib := os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH")
	if lib == "" {
		if p := "../../third_party/onnxruntime/linux-amd64/libonnxruntime.so.1"; fileExists(p) {
			lib = p
		}
	}
	if lib == "" {
		t.Skip("ONNX Runtime not found: set ONNXRUNTIME_SHARED_LIBRARY_PATH to libonnxruntime.so to compare outputs")
	}
	ortOnce.Do(func() {
		ort.SetSharedLibraryPath(lib)
		ortErr = ort.InitializeEnvironment()
	})
	if ortErr != nil {
		t.Fatalf("initialising ONNX Runtime from %s: %v", lib, ortErr)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// runFirstOutput runs a model in ONNX Runtime on a fixed input (every input
// filled from a simple deterministic sequence, dynamic dimensions set to 1)
// and returns its first output's bytes.
func runFirstOutput(t *testing.T, data []byte) []byte {
	t.Helper()
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		t.Fatalf("ONNX Runtime cannot read the model: %v", err)
	}
	var names []string
	var values []ort.Value
	defer func() {
		for _, v := range values {
			v.Destroy()
		}
	}()
	for _, in := range ins {
		shape := append(ort.Shape{}, in.Dimensions...)
		for i := range shape {
			if shape[i] <= 0 {
				shape[i] = 1
			}
		}
		n := shape.FlattenedSize()
		var v ort.Value
		switch in.DataType {
		case ort.TensorElementDataTypeFloat:
			x := make([]float32, n)
			for i := range x {
				x[i] = float32((i*37)%101)/101 - 0.3
			}
			v, err = ort.NewTensor(shape, x)
		case ort.TensorElementDataTypeFloat16:
			b := make([]byte, 2*n)
			for i := int64(0); i < n; i++ {
				h := 0x3800 + uint16((i*37)%1021) // halves in [0.5, 1)
				b[2*i], b[2*i+1] = byte(h), byte(h>>8)
			}
			v, err = ort.NewCustomDataTensor(shape, b, ort.TensorElementDataTypeFloat16)
		default:
			t.Fatalf("input %q has type %v; the test feeds only float inputs", in.Name, in.DataType)
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, in.Name)
		values = append(values, v)
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(data, names, []string{outs[0].Name}, nil)
	if err != nil {
		t.Fatalf("ONNX Runtime cannot load the model: %v", err)
	}
	defer sess.Destroy()
	result := []ort.Value{nil}
	if o := outs[0]; o.DataType == ort.TensorElementDataTypeFloat16 {
		// onnxruntime_go sizes an output it allocates in elements, not bytes,
		// which is too small for FLOAT16: give it a buffer of the right size.
		n := o.Dimensions.FlattenedSize()
		if n <= 0 {
			t.Fatalf("FLOAT16 output %q has a dynamic shape %v", o.Name, o.Dimensions)
		}
		if result[0], err = ort.NewCustomDataTensor(o.Dimensions, make([]byte, 2*n), o.DataType); err != nil {
			t.Fatal(err)
		}
	}
	if err := sess.Run(values, result); err != nil {
		t.Fatalf("running the model: %v", err)
	}
	defer result[0].Destroy()
	switch r := result[0].(type) {
	case *ort.Tensor[float32]:
		return rawFloats(r.GetData())
	case *ort.CustomDataTensor:
		return append([]byte{}, r.GetData()...)
	}
	t.Fatalf("output of type %T", result[0])
	return nil
}

// sameOutputs fails unless two runs agree to float32 rounding.
func sameOutputs(t *testing.T, got, want []byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("output has %d bytes; want %d", len(got), len(want))
	}
	for i := 0; i+4 <= len(got); i += 4 {
		g := math.Float32frombits(uint32(got[i]) | uint32(got[i+1])<<8 | uint32(got[i+2])<<16 | uint32(got[i+3])<<24)
		w := math.Float32frombits(uint32(want[i]) | uint32(want[i+1])<<8 | uint32(want[i+2])<<16 | uint32(want[i+3])<<24)
		if math.Abs(float64(g-w)) > 1e-6*(1+math.Abs(float64(w))) {
			t.Fatalf("output %d is %g; the reference gives %g", i/4, g, w)
		}
	}
}

func loadAndMarshal(t *testing.T, data []byte, dir string) []byte {
	t.Helper()
	mp, err := loadGuarded(t, data, dir, Limits{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	selfContained(t, mp)
	b, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestORTLoadedModelsMatchInline runs what Load returns in ONNX Runtime and
// compares it with ONNX Runtime running the same model with dense inline
// weights.
func TestORTLoadedModelsMatchInline(t *testing.T) {
	needORT(t)
	want := runFirstOutput(t, marshal(t, inlineModel()))
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) *onnx.ModelProto
	}{
		{"external data in a relative subfolder", func(t *testing.T, dir string) *onnx.ModelProto {
			off, n := writeWeights(t, dir, "weights/w.bin", 8)
			return withW(externalTensor("W", []int64{4, 3}, "weights/w.bin", off, n))
		}},
		{"sparse initializer", func(t *testing.T, dir string) *onnx.ModelProto {
			return withSparseW(sparseW())
		}},
		{"sparse initializer with coordinate indices", func(t *testing.T, dir string) *onnx.ModelProto {
			s := sparseW()
			var c []int64
			for _, i := range int64Values(s.Indices) {
				c = append(c, i/3, i%3)
			}
			s.Indices = &onnx.TensorProto{Name: "W_indices", Dims: []int64{int64(len(c) / 2), 2}, DataType: int32(onnx.TensorProto_INT64), Int64Data: c}
			return withSparseW(s)
		}},
		{"sparse initializer with external values", func(t *testing.T, dir string) *onnx.ModelProto {
			s := sparseW()
			if err := os.WriteFile(filepath.Join(dir, "values.bin"), s.Values.RawData, 0o644); err != nil {
				t.Fatal(err)
			}
			s.Values = externalTensor("W", s.Values.Dims, "values.bin", "0", "")
			return withSparseW(s)
		}},
		{"Constant sparse_value", func(t *testing.T, dir string) *onnx.ModelProto {
			return withConstantW(sparseValueAttr(sparseW()))
		}},
		{"If subgraph with an external Constant", func(t *testing.T, dir string) *onnx.ModelProto {
			writeWeights(t, dir, "w.bin", 0)
			return withIfW(externalTensor("W", []int64{4, 3}, "w.bin", "", ""))
		}},
	}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			rel, err := filepath.Rel(cwd, dir)
			if err != nil {
				t.Fatal(err)
			}
			got := runFirstOutput(t, loadAndMarshal(t, marshal(t, c.setup(t, dir)), rel))
			sameOutputs(t, got, want)
		})
	}
}

// TestORTRealWorldModelsUnchanged loads third-party classifiers through the
// gate and checks that ONNX Runtime gives what it gives for the original file.
func TestORTRealWorldModelsUnchanged(t *testing.T) {
	// The shared folder is the repository root's sibling; ADVLAB_REALWORLD
	// names it where the checkout lives elsewhere (a worktree).
	root := filepath.Join("..", "..", "..", "shared", "realworld")
	if env := os.Getenv("ADVLAB_REALWORLD"); !fileExists(root) && env != "" {
		root = env
	}
	dir := filepath.Join(root, "models")
	paths, _ := filepath.Glob(filepath.Join(dir, "*.onnx"))
	if len(paths) == 0 {
		t.Skipf("no real-world models in %s (the shared folder is absent here)", dir)
	}
	needORT(t)
	sort.Strings(paths)
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".onnx"), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			want := runFirstOutput(t, data)
			got := runFirstOutput(t, loadAndMarshal(t, data, dir))
			if len(got) != len(want) || string(got) != string(want) {
				sameOutputs(t, got, want)
			}
		})
	}
}
