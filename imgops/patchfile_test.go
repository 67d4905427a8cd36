package imgops

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSaveLoadPatchRoundTrip(t *testing.T) {
	p := NewNoisePatch(CircleMask(21), 5)
	idx := 859
	created := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	meta := PatchMeta{
		Target:      "toaster",
		TargetIndex: &idx,
		Models:      []string{"resnet18.onnx", "vgg16.onnx"},
		Training:    json.RawMessage(`{"steps":2000,"lr":0.01}`),
		Created:     created,
		Extra:       map[string]any{"note": "ünïcode", "n": 3},
	}
	path := filepath.Join(t.TempDir(), "patch.png")
	if err := SavePatch(path, p, meta); err != nil {
		t.Fatal(err)
	}
	q, got, err := LoadPatch(path)
	if err != nil {
		t.Fatal(err)
	}
	if q.W != p.W || q.H != p.H {
		t.Fatalf("loaded %d×%d, want %d×%d", q.W, q.H, p.W, p.H)
	}
	// 16-bit storage: every value within half a step of 1/65535.
	for k := range p.Pix {
		if d := math.Abs(float64(q.Pix[k] - p.Pix[k])); d > 1e-5 {
			t.Fatalf("colour %d = %v, want %v", k, q.Pix[k], p.Pix[k])
		}
	}
	for k := range p.Mask.Pix {
		if d := math.Abs(float64(q.Mask.Pix[k] - p.Mask.Pix[k])); d > 1e-5 {
			t.Fatalf("mask %d = %v, want %v", k, q.Mask.Pix[k], p.Mask.Pix[k])
		}
	}
	if got.Format != PatchFormat || got.Target != "toaster" || *got.TargetIndex != 859 ||
		strings.Join(got.Models, ",") != "resnet18.onnx,vgg16.onnx" || got.MaskShape != "circle" ||
		!got.Created.Equal(created) || got.Extra["note"] != "ünïcode" || got.Extra["n"] != 3.0 {
		t.Errorf("metadata = %+v", got)
	}
	if string(got.Training) != `{"steps":2000,"lr":0.01}` {
		t.Errorf("training options = %s", got.Training)
	}
	if q.Mask.Shape != "circle" {
		t.Errorf("mask shape = %q, want circle", q.Mask.Shape)
	}
	// Any PNG viewer sees the patch: image/png decodes an RGBA image whose
	// alpha is the mask.
	data, _ := os.ReadFile(path)
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Errorf("corner of a circle has alpha %d, want 0", a)
	}
	if _, _, _, a := img.At(10, 10).RGBA(); a != 0xffff {
		t.Errorf("centre of a circle has alpha %d, want opaque", a)
	}
}

func TestLoadPatchPlainPNG(t *testing.T) {
	// A sticker drawn elsewhere: 8-bit, no metadata, a transparent corner.
	img := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.NRGBA{255, 0, 0, 255})
	img.Set(1, 0, color.NRGBA{0, 255, 0, 255})
	img.Set(0, 1, color.NRGBA{0, 0, 255, 255})
	img.Set(1, 1, color.NRGBA{10, 20, 30, 0})
	var buf bytes.Buffer
	png.Encode(&buf, img)
	p, meta, err := DecodePatch(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if meta.Format != "" {
		t.Errorf("a plain PNG has metadata %+v", meta)
	}
	want := []float32{1, 0, 0, 10.0 / 255, 0, 1, 0, 20.0 / 255, 0, 0, 1, 30.0 / 255}
	for k := range want {
		if math.Abs(float64(p.Pix[k]-want[k])) > 1e-6 {
			t.Fatalf("colours %v, want %v", p.Pix, want)
		}
	}
	if p.Mask.Pix[3] != 0 || p.Mask.Pix[0] != 1 || p.Mask.Shape != "alpha" {
		t.Errorf("mask %v (%s), want 1 1 1 0 (alpha)", p.Mask.Pix, p.Mask.Shape)
	}
}

func TestLoadPatchErrors(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	EncodePNG(&buf, image.NewNRGBA(image.Rect(0, 0, 2, 2)), 0, map[string]string{PatchKeyword: "{not json"})
	bad := filepath.Join(dir, "bad.png")
	os.WriteFile(bad, buf.Bytes(), 0o644)
	text := filepath.Join(dir, "text.png")
	os.WriteFile(text, []byte("hello"), 0o644)
	for _, path := range []string{bad, text, filepath.Join(dir, "missing.png")} {
		_, _, err := LoadPatch(path)
		if err == nil {
			t.Errorf("LoadPatch(%s) succeeded", filepath.Base(path))
		}
	}
	if err := SavePatch(filepath.Join(dir, "x.png"), &Patch{W: 1, H: 1}, PatchMeta{}); err == nil {
		t.Error("SavePatch accepted an invalid patch")
	}
}

func FuzzDecodePatch(f *testing.F) {
	var buf bytes.Buffer
	EncodePatch(&buf, NewNoisePatch(CircleMask(6), 1), PatchMeta{Target: "t"}, 300)
	f.Add(buf.Bytes())
	buf.Reset()
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 2, 2)))
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		p, _, err := DecodePatch(data)
		if err == nil {
			if verr := p.Validate(); verr != nil {
				t.Fatalf("DecodePatch returned an invalid patch: %v", verr)
			}
		}
	})
}

// TestDecodePatchRefusesMetadata checks that a patch file whose metadata
// this version cannot vouch for is refused with a one-line reason, and that
// the same file with sound metadata decodes.
func TestDecodePatchRefusesMetadata(t *testing.T) {
	cases := []struct {
		name, meta, want string // want "" means it decodes
	}{
		{"current format", `{"format":"advlab-patch/1","target":"stop","target_index":3}`, ""},
		{"largest class index", `{"format":"advlab-patch/1","target_index":1048575}`, ""},
		{"newer format", `{"format":"advlab-patch/2","target":"stop"}`, `format "advlab-patch/2" is not "advlab-patch/1"`},
		{"no format", `{"target":"stop"}`, `format "" is not`},
		{"negative target index", `{"format":"advlab-patch/1","target_index":-1}`, "target_index -1 is outside 0..1048575"},
		{"target index beyond any model", `{"format":"advlab-patch/1","target_index":1048576}`, "target_index 1048576 is outside"},
		{"target index beyond int", `{"format":"advlab-patch/1","target_index":1e30}`, "patch metadata"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := EncodePNG(&buf, image.NewNRGBA(image.Rect(0, 0, 2, 2)), 0, map[string]string{PatchKeyword: c.meta}); err != nil {
				t.Fatal(err)
			}
			p, meta, err := DecodePatch(buf.Bytes())
			if c.want == "" {
				if err != nil {
					t.Fatalf("DecodePatch: %v", err)
				}
				if p.W != 2 || meta.Format != PatchFormat {
					t.Errorf("decoded a %d-pixel-wide patch with format %q", p.W, meta.Format)
				}
				return
			}
			if err == nil {
				t.Fatalf("DecodePatch accepted metadata %s", c.meta)
			}
			if !strings.Contains(err.Error(), c.want) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("error %q; want one line containing %q", err, c.want)
			}
		})
	}
}
