package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// qdqModel writes gradTestModel's classifier with its image fake-quantised
// to uint8 by a QuantizeLinear→DequantizeLinear pair first, as ONNX
// Runtime's static quantiser writes it, and returns its path.
func qdqModel(t *testing.T, dir string) string {
	t.Helper()
	src, err := os.ReadFile(gradTestModel(t, dir, "Relu"))
	if err != nil {
		t.Fatal(err)
	}
	var m onnx.ModelProto
	if err := proto.Unmarshal(src, &m); err != nil {
		t.Fatal(err)
	}
	g := m.GetGraph()
	g.Initializer = append(g.Initializer,
		&onnx.TensorProto{Name: "scale", DataType: int32(onnx.TensorProto_FLOAT), RawData: []byte{0x81, 0x80, 0x80, 0x3b}}, // 1/255
		&onnx.TensorProto{Name: "zero_point", DataType: int32(onnx.TensorProto_UINT8), RawData: []byte{0}})
	g.Node[0].Input[0] = "image_dq"
	g.Node = append([]*onnx.NodeProto{
		{Name: "q", OpType: "QuantizeLinear", Input: []string{"image", "scale", "zero_point"}, Output: []string{"image_q"}},
		{Name: "dq", OpType: "DequantizeLinear", Input: []string{"image_q", "scale", "zero_point"}, Output: []string{"image_dq"}},
	}, g.Node...)
	data, err := proto.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "qdq.onnx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestInspectReportsStraightThrough checks that inspect's gradient line and
// JSON say that a fake-quantised model's gradient is straight-through, and
// that a float model's gradient line says only "ok".
func TestInspectReportsStraightThrough(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, model, line string
		notes             []string
	}{
		{"quantised", qdqModel(t, dir), "gradient:       ok; straight-through through 1 QuantizeLinear/DequantizeLinear pairs\n",
			[]string{"gradient: straight-through through 1 QuantizeLinear/DequantizeLinear pairs"}},
		{"float", gradTestModel(t, dir, "Tanh"), "gradient:       ok\n", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI("inspect", c.model)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, c.line) {
				t.Errorf("inspect lacks %q:\n%s", c.line, stdout)
			}
			code, stdout, stderr = runCLI("inspect", "--json", c.model)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var r struct {
				Gradient      string   `json:"gradient"`
				GradientNotes []string `json:"gradient_notes"`
			}
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatalf("%v in %s", err, stdout)
			}
			if r.Gradient != "ok" || strings.Join(r.GradientNotes, "|") != strings.Join(c.notes, "|") {
				t.Errorf("JSON gradient %q, notes %q; want ok, %q", r.Gradient, r.GradientNotes, c.notes)
			}
		})
	}
}
