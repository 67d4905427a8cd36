package onnxsafe

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/encoding/protowire"
)

// TestLoadInlinesExternalData checks that valid external data loads, from a
// relative model folder too, and that the returned model holds W's bytes and
// references no file.
func TestLoadInlinesExternalData(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) *onnx.ModelProto
	}{
		{"subfolder with offset and length", func(t *testing.T, dir string) *onnx.ModelProto {
			off, n := writeWeights(t, dir, "weights/w.bin", 16)
			return withW(externalTensor("W", []int64{4, 3}, "weights/w.bin", off, n))
		}},
		{"no offset, no length", func(t *testing.T, dir string) *onnx.ModelProto {
			writeWeights(t, dir, "w.bin", 0)
			return withW(externalTensor("W", []int64{4, 3}, "w.bin", "", ""))
		}},
		{"symlink inside the folder pointing inside it", func(t *testing.T, dir string) *onnx.ModelProto {
			writeWeights(t, dir, "real/w.bin", 0)
			if err := os.Symlink(filepath.Join("real", "w.bin"), filepath.Join(dir, "w.bin")); err != nil {
				t.Fatal(err)
			}
			return withW(externalTensor("W", []int64{4, 3}, "w.bin", "", ""))
		}},
		{"48 bytes at the end of a 4 GiB sparse file", func(t *testing.T, dir string) *onnx.ModelProto {
			p := filepath.Join(dir, "big.bin")
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			const off = 4<<30 - 48
			if _, err := f.WriteAt(rawFloats(testW), off); err != nil {
				t.Fatal(err)
			}
			return withW(externalTensor("W", []int64{4, 3}, "big.bin", "4294967248", "48"))
		}},
		{"If subgraph Constant in the folder", func(t *testing.T, dir string) *onnx.ModelProto {
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
			data := marshal(t, c.setup(t, dir))
			rel, err := filepath.Rel(cwd, dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range []string{dir, rel} {
				mp, err := loadGuarded(t, data, d, Limits{MaxTotalBytes: 1 << 20})
				if err != nil {
					t.Fatalf("Load(dir %q): %v", d, err)
				}
				selfContained(t, mp)
				found := 0
				everyTensor(mp, func(x *onnx.TensorProto) {
					if x.GetName() == "W" {
						found++
						if !bytes.Equal(x.GetRawData(), rawFloats(testW)) {
							t.Errorf("W holds %x; want %x", x.GetRawData(), rawFloats(testW))
						}
					}
				})
				if found == 0 {
					t.Error("W is gone from the loaded model")
				}
			}
		})
	}
}

func TestLimitsZeroMeansDefault(t *testing.T) {
	if got := (Limits{}).withDefaults(); got != DefaultLimits() {
		t.Errorf("Limits{} gives %+v; want DefaultLimits %+v", got, DefaultLimits())
	}
	custom := Limits{MaxTotalBytes: 7}.withDefaults()
	if custom.MaxTotalBytes != 7 || custom.MaxElements != DefaultLimits().MaxElements {
		t.Errorf("Limits{MaxTotalBytes: 7} gives %+v; want 7 and the other defaults", custom)
	}
}

// TestLoadUnknownFields checks that fields newer than the schema are dropped
// unless ONNX Runtime reads them and they carry only metadata.
func TestLoadUnknownFields(t *testing.T) {
	field := func(num protowire.Number, s string) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), []byte(s))
	}
	m := inlineModel()
	m.Graph.Node[0].ProtoReflect().SetUnknown(append(field(8, "overload"), field(99, "junk")...))
	m.Graph.ProtoReflect().SetUnknown(field(77, "junk"))
	mp, err := loadGuarded(t, marshal(t, m), "", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := mp.Graph.Node[0].ProtoReflect().GetUnknown(); !bytes.Equal(got, field(8, "overload")) {
		t.Errorf("node keeps unknown bytes %q; want only its overload field", got)
	}
	if got := mp.Graph.ProtoReflect().GetUnknown(); len(got) != 0 {
		t.Errorf("graph keeps unknown bytes %q; want none", got)
	}
}
