package onnxrt

import (
	"errors"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// TestOneLine checks the escaping of control characters in ONNX Runtime's
// messages, and that the original error stays reachable.
func TestOneLine(t *testing.T) {
	cause := errors.New("No Op registered for Glob\n\x06al\r\tPool")
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"plain", errors.New("Invalid model"), "Invalid model"},
		{"control characters", cause, `No Op registered for Glob\x0a\x06al\x0d\x09Pool`},
		{"unicode kept", errors.New("op «Σ»\n"), `op «Σ»\x0a`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := oneLine(c.err)
			if c.err == nil {
				if got != nil {
					t.Fatalf("oneLine(nil) = %v", got)
				}
				return
			}
			if got.Error() != c.want {
				t.Errorf("oneLine(%q) = %q, want %q", c.err, got, c.want)
			}
			if !errors.Is(got, c.err) {
				t.Errorf("oneLine(%q) no longer wraps the original", c.err)
			}
		})
	}
}

// TestNewSessionErrorIsOneLine is the regression test for a finding of
// FuzzModelPipeline: ONNX Runtime quotes a node's operator type in its
// error, and a model file's operator type may hold a newline.
func TestNewSessionErrorIsOneLine(t *testing.T) {
	if err := Init(); err != nil {
		t.Skipf("ONNX Runtime is unavailable (set %s): %v", LibraryEnv, err)
	}
	value := func(name string) *onnx.ValueInfoProto {
		return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT)}}}}
	}
	m := &onnx.ModelProto{
		IrVersion:   8,
		OpsetImport: []*onnx.OperatorSetIdProto{{Version: 17}},
		Graph: &onnx.GraphProto{
			Name:   "g",
			Node:   []*onnx.NodeProto{{Name: "n\nm", OpType: "Glob\nalPool", Input: []string{"x"}, Output: []string{"y"}}},
			Input:  []*onnx.ValueInfoProto{value("x")},
			Output: []*onnx.ValueInfoProto{value("y")},
		},
	}
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(data, []string{"x"}, []string{"y"})
	if err == nil {
		s.Destroy()
		t.Fatal("ONNX Runtime accepted an unknown operator")
	}
	if strings.ContainsAny(err.Error(), "\r\n") {
		t.Errorf("error spans several lines: %q", err)
	}
	if !strings.Contains(err.Error(), `Glob\x0aalPool`) {
		t.Errorf("error %q does not name the operator, escaped", err)
	}
}
