package onnxupgrade

import (
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

const f16 = onnx.TensorProto_FLOAT16

// halfModel is a FLOAT16 model at opset 9: a raw_data initializer, a
// Constant in int32_data, a Cast to float16, and a Clip-6 whose bounds the
// upgrade must give as float16 inputs.
func halfModel() *onnx.ModelProto {
	b := newBuilder(9)
	b.inTyped("x", f16, []int64{2, 3}, false)
	raw := make([]byte, 6)
	for i, v := range []float32{0.5, -1.25, 2} {
		binary.LittleEndian.PutUint16(raw[2*i:], float32ToFloat16(v))
	}
	b.g.Initializer = append(b.g.Initializer,
		&onnx.TensorProto{Name: "w", Dims: []int64{3}, DataType: int32(f16), RawData: raw},
		&onnx.TensorProto{Name: "bw", Dims: []int64{3}, DataType: int32(f32), FloatData: []float32{1, -1.5, 2}})
	c := &onnx.TensorProto{Dims: []int64{1}, DataType: int32(f16), Int32Data: []int32{int32(float32ToFloat16(0.75))}}
	b.node("Constant", nil, []string{"c"}, &onnx.AttributeProto{Name: "value", Type: onnx.AttributeProto_TENSOR, T: c})
	b.node("Cast", []string{"bw"}, []string{"bw16"}, aInt("to", int64(f16)))
	b.node("Add", []string{"x", "w"}, []string{"s"})
	b.node("Mul", []string{"s", "c"}, []string{"m"})
	b.node("Add", []string{"m", "bw16"}, []string{"a"})
	b.node("Clip", []string{"a"}, []string{"y"}, aFloat("min", -1), aFloat("max", 1.5))
	b.outShaped("y", f16, 2, 3)
	return b.model()
}

// TestToFloat32MatchesFloat16Model runs a float16 model in ONNX Runtime on
// float16 inputs, and its upgraded float32 conversion on the same values.
func TestToFloat32MatchesFloat16Model(t *testing.T) {
	needORT(t)
	orig := halfModel()
	up, _, err := Upgrade(orig)
	if err != nil {
		t.Fatalf("Upgrade: %v", err)
	}
	conv, n, err := ToFloat32(up)
	if err != nil {
		t.Fatalf("ToFloat32: %v", err)
	}
	if n != 2 {
		t.Errorf("converted %d tensors, want 2 (w and the Constant)", n)
	}
	for _, v := range append(append([]*onnx.ValueInfoProto{}, conv.Graph.Input...), conv.Graph.Output...) {
		if vi, _ := typeInfo(v.Type); vi.elem != int32(f32) {
			t.Errorf("%s is %v, want FLOAT", v.Name, onnx.TensorProto_DataType(vi.elem))
		}
	}
	rng := rand.New(rand.NewPCG(3, 3))
	x := make([]float32, 6)
	h := make([]uint16, 6)
	for i := range x {
		h[i] = float32ToFloat16(float32(rng.NormFloat64()))
		x[i] = float16ToFloat32(h[i])
	}
	want, err := runORTHalfOut(t, marshal(t, orig), feed{name: "x", shape: []int64{2, 3}, f16: h}, "y", []int64{2, 3})
	if err != nil {
		t.Fatalf("float16 model: %v", err)
	}
	got, err := runORT(t, marshal(t, conv), []feed{{name: "x", shape: []int64{2, 3}, f32: x}}, []string{"y"})
	if err != nil {
		t.Fatalf("converted model: %v", err)
	}
	// One float16 rounding step at values below 2 is at most 2^-10.
	if d, err := maxAbsDiff(got[0], want[0]); err != nil || d > 1.0/1024 {
		t.Errorf("max |diff| %g (%v), want <= 2^-10\n got %v\nwant %v", d, err, got[0], want[0])
	}
	data, rep, err := UpgradeBytes(marshal(t, orig))
	if err != nil {
		t.Fatalf("UpgradeBytes: %v", err)
	}
	if !strings.Contains(rep.String(), "2 half-precision tensors converted to float32") {
		t.Errorf("UpgradeBytes report %q does not count the converted tensors", rep)
	}
	viaBytes, err := runORT(t, data, []feed{{name: "x", shape: []int64{2, 3}, f32: x}}, []string{"y"})
	if err != nil {
		t.Fatalf("UpgradeBytes model: %v", err)
	}
	if d, err := maxAbsDiff(viaBytes[0], got[0]); err != nil || d != 0 {
		t.Errorf("UpgradeBytes differs from Upgrade+ToFloat32 by %g (%v)", d, err)
	}
	if half, _, err := Upgrade(orig); err == nil {
		if _, err := runORTHalfOut(t, marshal(t, half), feed{name: "x", shape: []int64{2, 3}, f16: h}, "y", []int64{2, 3}); err != nil {
			t.Errorf("upgraded float16 model (before ToFloat32) does not run: %v", err)
		}
	}
}

// TestToFloat32BFloat16 runs an opset-13 model with a bfloat16 weight in
// ONNX Runtime, before and after the conversion.
func TestToFloat32BFloat16(t *testing.T) {
	needORT(t)
	b := newBuilder(13)
	b.in("x", 2, 3)
	b.g.Initializer = append(b.g.Initializer, &onnx.TensorProto{Name: "bw", Dims: []int64{3}, DataType: int32(onnx.TensorProto_BFLOAT16), Int32Data: []int32{0x3f80, 0xbfc0, 0x0001}})
	b.node("Cast", []string{"bw"}, []string{"w"}, aInt("to", int64(f32)))
	b.node("Mul", []string{"x", "w"}, []string{"y"})
	b.out("y", f32)
	orig := b.model()
	conv, n, err := ToFloat32(orig)
	if err != nil || n != 1 {
		t.Fatalf("ToFloat32: %d tensors, %v; want 1", n, err)
	}
	feeds := []feed{randomFeed(rand.New(rand.NewPCG(4, 4)), "x", 2, 3)}
	want, err := runORT(t, marshal(t, orig), feeds, []string{"y"})
	if err != nil {
		t.Fatalf("bfloat16 model: %v", err)
	}
	got, err := runORT(t, marshal(t, conv), feeds, []string{"y"})
	if err != nil {
		t.Fatalf("converted model: %v", err)
	}
	if d, err := maxAbsDiff(got[0], want[0]); err != nil || d != 0 {
		t.Errorf("max |diff| %g (%v), want 0", d, err)
	}
}

func TestToFloat32Rejects(t *testing.T) {
	tests := []struct {
		name   string
		tensor *onnx.TensorProto
		want   string
	}{
		{"short raw data", &onnx.TensorProto{Name: "t", Dims: []int64{3}, DataType: int32(f16), RawData: []byte{1, 2}}, "holds 2 bytes"},
		{"short int32 data", &onnx.TensorProto{Name: "t", Dims: []int64{2}, DataType: int32(f16), Int32Data: []int32{1}}, "holds 1 values"},
		{"negative dimension", &onnx.TensorProto{Name: "t", Dims: []int64{-2}, DataType: int32(f16)}, "invalid or too large"},
		{"external data", &onnx.TensorProto{Name: "t", Dims: []int64{1}, DataType: int32(f16), DataLocation: onnx.TensorProto_EXTERNAL}, "outside the model file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &onnx.ModelProto{IrVersion: 7, Graph: &onnx.GraphProto{Initializer: []*onnx.TensorProto{tt.tensor}}}
			if _, _, err := ToFloat32(m); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ToFloat32 error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, _, err := ToFloat32(nil); err == nil {
		t.Errorf("ToFloat32(nil) succeeded")
	}
	if _, _, err := UpgradeBytes([]byte("not a model")); err == nil || !strings.Contains(err.Error(), "parse model") {
		t.Errorf("UpgradeBytes of garbage: %v, want a parse error", err)
	}
}

// TestUpgradeRejects checks that what has no opset-13 form is refused with
// one line that names the node.
func TestUpgradeRejects(t *testing.T) {
	one := func(opset int64, op string, dims []int64, attrs ...*onnx.AttributeProto) *onnx.ModelProto {
		return unary(opset, op, dims, attrs...)().model()
	}
	bnTraining := batchNorm(7, []int64{3})()
	bnTraining.g.Node[0].Output = []string{"y", "rm"}
	bnTraining.out("rm", f32)
	twoImports := one(9, "Relu", []int64{2})
	twoImports.OpsetImport = append(twoImports.OpsetImport, &onnx.OperatorSetIdProto{Domain: "ai.onnx", Version: 11})
	noImport := one(9, "Relu", []int64{2})
	noImport.OpsetImport = nil
	tests := []struct {
		name  string
		model *onnx.ModelProto
		want  string
	}{
		{"opset 6", one(6, "Relu", []int64{2}), "opset 6"},
		{"Concat without axis", one(7, "Concat", []int64{2}), `node "Concat_y" (Concat): has no axis`},
		{"Unsqueeze without axes", one(11, "Unsqueeze", []int64{2}), `node "Unsqueeze_y" (Unsqueeze): the required attribute "axes"`},
		{"Slice without ends", one(9, "Slice", []int64{2}, aInts("starts", 0)), `node "Slice_y" (Slice)`},
		{"TopK without k", one(9, "TopK", []int64{2}), `node "TopK_y" (TopK)`},
		{"Pad without pads", one(9, "Pad", []int64{2}), `node "Pad_y" (Pad)`},
		{"BatchNormalization spatial=0", batchNorm(7, []int64{3, 4, 4}, aInt("spatial", 0))().model(), `node "BatchNormalization_y" (BatchNormalization): has spatial=0`},
		{"BatchNormalization training output", bnTraining.model(), `training-mode output "rm"`},
		{"Resize-10 up and down", resize10("nearest", 1, 1, 2, 0.5)().model(), `node "Resize_y" (Resize): enlarges some axes`},
		{"Upsample cubic", one(8, "Upsample", []int64{1, 1, 2, 2}, aString("mode", "cubic"), aFloats("scales", 1, 1, 2, 2)), `node "Upsample_y" (Upsample): has the unknown mode "cubic"`},
		{"Upsample without scales", one(8, "Upsample", []int64{1, 1, 2, 2}), `node "Upsample_y" (Upsample): has no scales`},
		{"Scan-8", one(8, "Scan", []int64{2}), `node "Scan_y" (Scan): is an opset-8 Scan`},
		{"experimental GRUUnit", one(8, "GRUUnit", []int64{1, 1, 4, 4}), `node "GRUUnit_y" (GRUUnit): is an experimental operator`},
		{"Crop without border", one(8, "Crop", []int64{1, 1, 4, 4}), `node "Crop_y" (Crop): needs a border`},
		{"Cast to unknown name", one(9, "Cast", []int64{2}, aString("to", "FLOAT17")), `casts to the unknown type "FLOAT17"`},
		{"opset-6 axis broadcasting", one(7, "Add", []int64{2}, aInt("broadcast", 1), aInt("axis", 1)), `node "Add_y" (Add): uses opset-6 broadcasting`},
		{"two default opsets", twoImports, "imports the default opset twice"},
		{"no default opset", noImport, "no default-domain opset import"},
		{"nil model", nil, "has no graph"},
		{"no graph", &onnx.ModelProto{IrVersion: 3}, "has no graph"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Upgrade(tt.model)
			if err == nil {
				t.Fatalf("Upgrade succeeded, want an error containing %q", tt.want)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line containing %q", msg, tt.want)
			}
		})
	}
}

func TestUpgradeNormalisesNewModels(t *testing.T) {
	b := newBuilder(13)
	b.ir = 3
	b.in("x", 2, 3)
	b.floats("w", []int64{3}, 1, 2, 3)
	b.g.Input = append(b.g.Input, valueInfo("w", f32, []int64{3}, false))
	b.node("Add", []string{"x", "w"}, []string{"y"})
	b.out("y", f32)
	up, rep, err := Upgrade(b.model())
	if err != nil {
		t.Fatalf("Upgrade: %v", err)
	}
	if len(up.Graph.Input) != 1 || up.Graph.Input[0].Name != "x" {
		t.Errorf("graph inputs %v, want only x", up.Graph.Input)
	}
	if up.IrVersion != 7 || up.OpsetImport[0].Version != 13 {
		t.Errorf("IR %d opset %d, want IR 7 opset 13", up.IrVersion, up.OpsetImport[0].Version)
	}
	if want := "opset 13 unchanged: 1 weight listed as graph inputs made constants; IR version 3 raised to 7"; rep.String() != want {
		t.Errorf("report %q, want %q", rep, want)
	}
}

func TestReportString(t *testing.T) {
	tests := []struct {
		name string
		r    Report
		want string
	}{
		{"translations and notes", Report{FromOpset: 9, ToOpset: 13, Translated: map[string]int{"Unsqueeze": 12, "Softmax (flatten-to-2D)": 2, "Clip": 2}, Notes: []string{"52 weights listed as graph inputs made constants"}},
			"opset 9 → 13: 12 Unsqueeze, 2 Clip, 2 Softmax (flatten-to-2D) translated; 52 weights listed as graph inputs made constants"},
		{"nothing to do", Report{FromOpset: 11, ToOpset: 13}, "opset 11 → 13"},
		{"notes only", Report{FromOpset: 10, ToOpset: 13, Notes: []string{"IR version 6 raised to 7"}}, "opset 10 → 13: IR version 6 raised to 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzUpgrade feeds Upgrade and ToFloat32 arbitrary bytes that parse as a
// model; neither may panic.
func FuzzUpgrade(f *testing.F) {
	for i, c := range opCases() {
		if i%4 == 0 {
			f.Add(marshal(f, c.build().model()))
		}
	}
	f.Add(marshal(f, halfModel()))
	f.Add(marshal(f, ifModel().model()))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m onnx.ModelProto
		if err := proto.Unmarshal(data, &m); err != nil {
			return
		}
		if up, _, err := Upgrade(&m); err == nil {
			_, _, _ = ToFloat32(up)
		}
		_, _, _ = ToFloat32(&m)
		_, _, _ = UpgradeBytes(data)
	})
}

func TestUpgradeDropsStaleValueInfo(t *testing.T) {
	b := newBuilder(7)
	b.in("x", 2, 3, 4, 4)
	for _, p := range []string{"s", "bias", "mean", "var"} {
		b.floats(p, []int64{3}, 1, 1, 1)
	}
	b.node("BatchNormalization", []string{"x", "s", "bias", "mean", "var"}, []string{"y", "rm", "rv"}, aInt("spatial", 1))
	b.node("Dropout", []string{"y"}, []string{"z", "mask"})
	b.out("z", f32)
	for _, name := range []string{"y", "rm", "rv", "mask"} {
		b.g.ValueInfo = append(b.g.ValueInfo, valueInfo(name, f32, nil, true))
	}
	up, _, err := Upgrade(b.model())
	if err != nil {
		t.Fatalf("Upgrade: %v", err)
	}
	var names []string
	for _, v := range up.Graph.ValueInfo {
		names = append(names, v.Name)
	}
	if len(names) != 1 || names[0] != "y" {
		t.Errorf("value_info %v, want only y", names)
	}
	if bn := up.Graph.Node[0]; len(bn.Output) != 1 || attr(bn, "spatial") != nil {
		t.Errorf("BatchNormalization kept outputs %v, attributes %v", bn.Output, bn.Attribute)
	}
}
