package onnxmodel

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/internal/testkit"
	"github.com/advlab/advlab/engine/onnxgrad"
	"google.golang.org/protobuf/proto"
)

// The models in these tests are built here rather than committed: a tiny
// classifier (GlobalAveragePool, Flatten, MatMul by a 3×2 weight) that loads
// and runs, and variants of it that each break one thing the loader checks.

// tinyWeight is the tiny classifier's 3×2 MatMul weight, row-major.
var tinyWeight = []float32{1, -1, 0.5, 2, -0.25, 0.75}

// tinyDim is one dimension of a value's shape: an int64 size or a string name.
type tinyDim any

func tinyValue(name string, elem onnx.TensorProto_DataType, shape ...tinyDim) *onnx.ValueInfoProto {
	var dims []*onnx.TensorShapeProto_Dimension
	for _, d := range shape {
		switch d := d.(type) {
		case string:
			dims = append(dims, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: d}})
		case int:
			dims = append(dims, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
		}
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: int32(elem), Shape: &onnx.TensorShapeProto{Dim: dims}},
	}}}
}

func float32Bytes(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

// tinyModel returns the tiny classifier: "input" [N,3,4,4] → "logits" [N,2],
// logits = mean over pixels of each channel, times tinyWeight.
func tinyModel() *onnx.ModelProto {
	return &onnx.ModelProto{
		IrVersion:    8,
		ProducerName: "advlab engine tests",
		OpsetImport:  []*onnx.OperatorSetIdProto{{Domain: "", Version: 17}},
		Graph: &onnx.GraphProto{
			Name: "tiny",
			Node: []*onnx.NodeProto{
				{OpType: "GlobalAveragePool", Input: []string{"input"}, Output: []string{"pooled"}, Name: "pool"},
				{OpType: "Flatten", Input: []string{"pooled"}, Output: []string{"flat"}, Name: "flatten"},
				{OpType: "MatMul", Input: []string{"flat", "W"}, Output: []string{"logits"}, Name: "fc"},
			},
			Initializer: []*onnx.TensorProto{{
				Name: "W", Dims: []int64{3, 2}, DataType: int32(onnx.TensorProto_FLOAT), RawData: float32Bytes(tinyWeight),
			}},
			Input:  []*onnx.ValueInfoProto{tinyValue("input", onnx.TensorProto_FLOAT, "batch", 3, 4, 4)},
			Output: []*onnx.ValueInfoProto{tinyValue("logits", onnx.TensorProto_FLOAT, "batch", 2)},
		},
	}
}

// tinyBytes serialises a variant of the tiny classifier made by edit.
func tinyBytes(tb testing.TB, edit func(m *onnx.ModelProto)) []byte {
	tb.Helper()
	m := tinyModel()
	if edit != nil {
		edit(m)
	}
	data, err := proto.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// externalWeight moves the tiny classifier's weight to external data at loc.
func externalWeight(loc string) func(m *onnx.ModelProto) {
	return func(m *onnx.ModelProto) {
		w := m.Graph.Initializer[0]
		w.RawData = nil
		w.DataLocation = onnx.TensorProto_EXTERNAL
		w.ExternalData = []*onnx.StringStringEntryProto{{Key: "location", Value: loc}}
	}
}

func writeFile(tb testing.TB, path string, data []byte) string {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

func tinyPNG(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestLoadModelTiny is the control for TestLoadModelRejects: the unbroken tiny
// classifier loads, from the file and with its weight in a file beside it, and
// its logits are what its weight says.
func TestLoadModelTiny(t *testing.T) {
	dir := t.TempDir()
	inline := writeFile(t, filepath.Join(dir, "inline", "tiny.onnx"), tinyBytes(t, nil))
	writeFile(t, filepath.Join(dir, "external", "tiny.bin"), float32Bytes(tinyWeight))
	external := writeFile(t, filepath.Join(dir, "external", "tiny.onnx"), tinyBytes(t, externalWeight("tiny.bin")))
	for _, path := range []string{inline, external} {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			m, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if m.Input().Name != "input" || m.InputShape() != (engine.ImageShape{Channels: 3, Height: 4, Width: 4}) || m.Input().Layout != onnxgrad.NCHW || m.Input().Batch != 0 {
				t.Errorf("input %+v, want \"input\" NCHW 3×4×4 with a dynamic batch", m.Input())
			}
			if m.Info().OutputName != "logits" || m.NumClasses() != 2 || !m.Preprocess().IsIdentity() {
				t.Errorf("output %q with %d classes, preprocessing %+v; want \"logits\", 2, identity", m.Info().OutputName, m.NumClasses(), m.Preprocess())
			}
			// A constant image of channel values (1, 2, 3) pools to (1, 2, 3).
			img := make([]float32, 3*16)
			for i := range img {
				img[i] = float32(i/16 + 1)
			}
			logits, err := m.Logits(context.Background(), img, 1)
			if err != nil {
				t.Skipf("ONNX Runtime: %v", err)
			}
			want := []float32{1*1 + 2*0.5 + 3*-0.25, 1*-1 + 2*2 + 3*0.75}
			if testkit.RelL2(logits, want) > 1e-6 {
				t.Errorf("logits %v, want %v", logits, want)
			}
		})
	}
}

// TestLoadModelRejects checks that each kind of broken or hostile model file
// fails to load with a clear, one-line error, and never panics.
func TestLoadModelRejects(t *testing.T) {
	dir := t.TempDir()
	valid := tinyBytes(t, nil)
	// A real file outside each model's folder, so that the external-data cases
	// fail because of where the path points, not because nothing is there.
	secret := writeFile(t, filepath.Join(dir, "secret.bin"), float32Bytes(tinyWeight))

	cases := []struct {
		name string
		file func(folder string) string // writes the model into folder and returns its path
		want string                     // a phrase the error must contain
	}{
		{"truncated ONNX file", func(folder string) string {
			return writeFile(t, filepath.Join(folder, "m.onnx"), valid[:len(valid)*2/3])
		}, "not a readable ONNX file"},
		{"empty file", func(folder string) string {
			return writeFile(t, filepath.Join(folder, "m.onnx"), nil)
		}, "has no graph"},
		{"PNG image", func(folder string) string {
			return writeFile(t, filepath.Join(folder, "m.onnx"), tinyPNG(t))
		}, "ONNX"},
		{"text file", func(folder string) string {
			return writeFile(t, filepath.Join(folder, "m.onnx"), []byte("labels: cat, dog\nthis is not a model\n"))
		}, "ONNX"},
		{"JSON sidecar given as the model", func(folder string) string {
			return writeFile(t, filepath.Join(folder, "m.json"), []byte(`{"labels": ["cat", "dog"]}`))
		}, "ONNX"},
		{"folder instead of a file", func(folder string) string {
			return folder
		}, "is a folder"},
		{"missing file", func(folder string) string {
			return filepath.Join(folder, "nothing.onnx")
		}, "no such file"},
		{"rank-2 input", func(folder string) string {
			return writeFile(t, filepath.Join(folder, "m.onnx"), tinyBytes(t, func(m *onnx.ModelProto) {
				g := m.Graph
				g.Node = g.Node[2:] // MatMul straight on the [N,3] input
				g.Node[0].Input[0] = "input"
				g.Input[0] = tinyValue("input", onnx.TensorProto_FLOAT, "batch", 3)
			}))
		}, "no square image"},
		{"two inputs", func(folder string) string {
			return writeFile(t, filepath.Join(folder, "m.onnx"), tinyBytes(t, func(m *onnx.ModelProto) {
				g := m.Graph
				g.Input = append(g.Input, tinyValue("mask", onnx.TensorProto_FLOAT, "batch", 3, 4, 4))
				g.Node = append([]*onnx.NodeProto{{OpType: "Mul", Input: []string{"input", "mask"}, Output: []string{"masked"}}}, g.Node...)
				g.Node[1].Input[0] = "masked"
			}))
		}, "has 2 inputs (input, mask)"},
		{"integer input", func(folder string) string {
			return writeFile(t, filepath.Join(folder, "m.onnx"), tinyBytes(t, func(m *onnx.ModelProto) {
				m.Graph.Input[0] = tinyValue("input", onnx.TensorProto_UINT8, "batch", 3, 4, 4)
			}))
		}, "floating-point image input"},
		{"no standard opset", func(folder string) string {
			return writeFile(t, filepath.Join(folder, "m.onnx"), tinyBytes(t, func(m *onnx.ModelProto) {
				m.OpsetImport = []*onnx.OperatorSetIdProto{{Domain: "com.example", Version: 1}}
			}))
		}, "operator set"},
		{"weight larger than the file", func(folder string) string {
			return writeFile(t, filepath.Join(folder, "m.onnx"), tinyBytes(t, func(m *onnx.ModelProto) {
				m.Graph.Initializer[0].Dims = []int64{1 << 20, 1 << 20}
			}))
		}, "corrupt or hostile"},
		{"external data ../secret.bin", func(folder string) string {
			return writeFile(t, filepath.Join(folder, "m.onnx"), tinyBytes(t, externalWeight("../secret.bin")))
		}, "outside the model's folder"},
		{"external data at an absolute path", func(folder string) string {
			return writeFile(t, filepath.Join(folder, "m.onnx"), tinyBytes(t, externalWeight(secret)))
		}, "outside the model's folder"},
		{"external data through a symlink out of the folder", func(folder string) string {
			if err := os.Symlink(secret, filepath.Join(folder, "w.bin")); err != nil {
				t.Skip(err)
			}
			return writeFile(t, filepath.Join(folder, "m.onnx"), tinyBytes(t, externalWeight("w.bin")))
		}, "outside the model's folder"},
		{"external data longer than its file", func(folder string) string {
			writeFile(t, filepath.Join(folder, "w.bin"), float32Bytes(tinyWeight[:3]))
			return writeFile(t, filepath.Join(folder, "m.onnx"), tinyBytes(t, externalWeight("w.bin")))
		}, "is truncated"},
		{"sidecar that is not JSON", func(folder string) string {
			writeFile(t, filepath.Join(folder, "m.json"), []byte("labels = cat, dog"))
			return writeFile(t, filepath.Join(folder, "m.onnx"), valid)
		}, "not valid JSON"},
		{"sidecar with the wrong number of labels", func(folder string) string {
			writeFile(t, filepath.Join(folder, "m.json"), []byte(`{"labels": ["cat", "dog", "bird"]}`))
			return writeFile(t, filepath.Join(folder, "m.onnx"), valid)
		}, "lists 3 labels but the model has 2 classes"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			folder := filepath.Join(dir, "case", string(rune('a'+i)))
			if err := os.MkdirAll(folder, 0o755); err != nil {
				t.Fatal(err)
			}
			path := c.file(folder)
			m, err := loadNoPanic(t, path)
			if err == nil {
				m.Close()
				t.Fatalf("LoadModel succeeded; want an error containing %q", c.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q does not say %q", msg, c.want)
			}
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("error spans several lines: %q", msg)
			}
			t.Log(msg)
		})
	}
}

// TestLoadModelTruncatedAnywhere cuts the tiny classifier at every byte: no
// prefix of a model file may load or panic.
func TestLoadModelTruncatedAnywhere(t *testing.T) {
	data := tinyBytes(t, nil)
	for n := 0; n < len(data); n++ {
		m, err := loadDataNoPanic(t, data[:n])
		if err == nil {
			m.Close()
			t.Errorf("the first %d of %d bytes loaded as a model", n, len(data))
		} else if strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("cut at %d: error spans several lines: %q", n, err)
		}
	}
}

func loadNoPanic(t *testing.T, path string) (m *Model, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("LoadModel(%s) panicked: %v", path, r)
		}
	}()
	return Load(path)
}

func loadDataNoPanic(t *testing.T, data []byte) (m *Model, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("LoadModelData on %d bytes panicked: %v", len(data), r)
		}
	}()
	return LoadData("tiny", data, nil, "")
}

// FuzzLoadModelData feeds arbitrary model and sidecar bytes to the loader,
// which reads untrusted files: it may refuse them but must never panic, and
// what it accepts must be a usable classifier description.
func FuzzLoadModelData(f *testing.F) {
	valid := tinyBytes(f, nil)
	f.Add(valid, []byte(nil))
	f.Add(valid, []byte(`{"labels": ["a", "b"], "input_range": [0, 255], "mean": [1, 2, 3], "std": [4, 5, 6]}`))
	f.Add(valid, []byte(`{"layout": "NHWC", "input_size": [3, 4, 4]}`))
	f.Add(tinyBytes(f, externalWeight("w.bin")), []byte(nil))
	f.Add(tinyBytes(f, externalWeight("../w.bin")), []byte(nil))
	f.Add(tinyBytes(f, func(m *onnx.ModelProto) {
		m.MetadataProps = []*onnx.StringStringEntryProto{{Key: "labels", Value: "cat,dog"}, {Key: "mean", Value: "0.5"}}
	}), []byte(nil))
	f.Add(tinyBytes(f, func(m *onnx.ModelProto) { m.Graph.Input[0] = tinyValue("input", onnx.TensorProto_FLOAT, 1, 4, 4, 3) }), []byte(nil))
	f.Add(valid[:len(valid)/2], []byte(nil))
	f.Add(tinyPNG(f), []byte(nil))
	f.Add([]byte{}, []byte("{"))

	// A folder with one weight file in it, so that external data is actually read.
	dir := f.TempDir()
	writeFile(f, filepath.Join(dir, "w.bin"), float32Bytes(tinyWeight))

	f.Fuzz(func(t *testing.T, data, sidecar []byte) {
		m, err := LoadData("fuzz", data, sidecar, dir)
		if err != nil {
			return
		}
		s := m.InputShape()
		if s.Channels <= 0 || s.Height <= 0 || s.Width <= 0 || m.NumClasses() <= 0 || m.Input().Name == "" || m.Info().OutputName == "" {
			t.Fatalf("accepted a model with input %+v, output %q, %d classes", m.Input(), m.Info().OutputName, m.NumClasses())
		}
		if len(m.Preprocess().Mean) != s.Channels || len(m.Preprocess().Std) != s.Channels {
			t.Fatalf("accepted preprocessing %+v for %d channels", m.Preprocess(), s.Channels)
		}
	})
}

// TestLoadModelInputRange255 runs a real architecture, exported for inputs
// normalised from [0,1] with ImageNet's mean and std, under a sidecar that
// says the same in 0..255 units (input_range [0,255], mean and std ×255):
// Logits must equal PyTorch's on the same pixels, and so must the gradient
// with respect to the [0,1] pixels.
func TestLoadModelInputRange255(t *testing.T) {
	fx := testkit.ArchFixtureNamed(t, "squeezenet1_1")
	dir := t.TempDir()
	src, err := os.Open(fx.ModelPath())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	sc := struct {
		InputRange []float32 `json:"input_range"`
		Mean       []float32 `json:"mean"`
		Std        []float32 `json:"std"`
	}{InputRange: []float32{0, 255}}
	for c := range fx.Ref.Mean {
		sc.Mean = append(sc.Mean, 255*fx.Ref.Mean[c])
		sc.Std = append(sc.Std, 255*fx.Ref.Std[c])
	}
	side, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "model.json"), side)

	m, err := Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Preprocess().Range != [2]float32{0, 255} || m.Preprocess().Mean[0] != 255*fx.Ref.Mean[0] || m.Preprocess().Std[2] != 255*fx.Ref.Std[2] {
		t.Fatalf("preprocessing %+v does not follow the sidecar %s", m.Preprocess(), side)
	}
	ctx := context.Background()
	logits, err := m.Logits(ctx, fx.Images, fx.Ref.Batch)
	if err != nil {
		t.Fatal(err)
	}
	if e := testkit.RelL2(logits, fx.Logits); e > 1e-4 {
		t.Errorf("%s with input_range [0,255]: Logits relative error %.3g against PyTorch", fx.Name, e)
	}
	g, err := m.Gradient(ctx, engine.CrossEntropy, fx.Images, fx.Ref.Targets)
	if err != nil {
		t.Fatal(err)
	}
	if e := testkit.RelL2(g.Grad, fx.Grad); e > testkit.ArchTolerance {
		t.Errorf("%s with input_range [0,255]: gradient relative error %.3g against PyTorch", fx.Name, e)
	}
}
