package onnxsafe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// FuzzLoad feeds Load arbitrary bytes beside a folder holding a weights file:
// it must never panic, its errors must be one line, and what it accepts must
// reference no file and load again with no folder at all.
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	writeWeights(f, dir, "w.bin", 0)
	if err := os.WriteFile(filepath.Join(dir, "values.bin"), rawFloats([]float32{1, 2, 0.5, -1}), 0o644); err != nil {
		f.Fatal(err)
	}
	extValues := sparseW()
	extValues.Values = externalTensor("W", extValues.Values.Dims, "values.bin", "0", "16")
	huge := sparseW()
	huge.Dims = []int64{1 << 31}
	for _, m := range []*onnx.ModelProto{
		inlineModel(),
		withW(externalTensor("W", []int64{4, 3}, "w.bin", "0", "48")),
		withW(externalTensor("W", []int64{4, 3}, "/etc/passwd", "9223372036854775807", "48")),
		withSparseW(sparseW()),
		withSparseW(extValues),
		withSparseW(huge),
		withConstantW(sparseValueAttr(sparseW())),
		withConstantW(tensorAttr("value", floatTensor("W", []int64{4, 3}, testW))),
		withIfW(externalTensor("W", []int64{4, 3}, "w.bin", "", "")),
		withW(floatTensor("W", []int64{1 << 40}, testW)),
		withInit(stringTensor("labels", []int64{2}, "cat", "dog")),
		withIO(1<<40, 4, 1<<21),
		withFunctionField(functionAttributeProto, tensorAttr("alpha", externalTensor("alpha", []int64{1}, "w.bin", "0", "4"))),
	} {
		f.Add(marshal(f, m))
	}
	lim := Limits{MaxTotalBytes: 1 << 20, MaxElements: 1 << 16, MaxStrings: 1 << 10, MaxStringBytes: 1 << 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		mp, err := Load(data, dir, lim)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error spans several lines: %q", err)
			}
			return
		}
		selfContained(t, mp)
		again, err := proto.Marshal(mp)
		if err != nil {
			t.Fatalf("the loaded model does not marshal: %v", err)
		}
		if _, err := Load(again, "", lim); err != nil {
			t.Fatalf("the loaded model does not load again without its folder: %v", err)
		}
	})
}
