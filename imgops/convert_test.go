package imgops

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestImageToTensor(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	img.Set(0, 0, color.NRGBA{255, 0, 0, 255})
	img.Set(1, 0, color.NRGBA{0, 0, 255, 128}) // alpha is ignored
	tests := []struct {
		name string
		c    int
		want []float32
	}{
		{"rgb", 3, []float32{1, 0, 0, 0, 0, 1}},
		{"gray", 1, []float32{lumR, lumB}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, resized := ImageToTensor(img, tc.c, 1, 2)
			if resized {
				t.Error("resized an image of the right size")
			}
			for k := range tc.want {
				if math.Abs(float64(got[k]-tc.want[k])) > 1e-4 {
					t.Fatalf("tensor %v, want %v", got, tc.want)
				}
			}
		})
	}
	// A 4×4 black/white checker resized to 2×2: every value is the same
	// grey, and the resize is reported.
	checker := image.NewGray(image.Rect(0, 0, 4, 4))
	for y := 0; y < 4; y++ {
		for x := 0; x < 4; x++ {
			if (x+y)%2 == 0 {
				checker.SetGray(x, y, color.Gray{255})
			}
		}
	}
	got, resized := ImageToTensor(checker, 1, 2, 2)
	if !resized {
		t.Error("resize not reported")
	}
	for _, v := range got {
		if math.Abs(float64(v)-0.5) > 0.05 {
			t.Errorf("resized checker %v, want about 0.5 everywhere", got)
			break
		}
	}
}

func TestTensorToImage(t *testing.T) {
	img, err := TensorToImage([]float32{0, 1, -1, 2, 0.5, 0.5}, 3, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{0, 0, 128, 255, 255, 255, 128, 255}
	for i := range want {
		if img.Pix[i] != want[i] {
			t.Fatalf("pixels %v, want %v", img.Pix, want)
		}
	}
	gray, _ := TensorToImage([]float32{0.2}, 1, 1, 1)
	if gray.Pix[0] != 51 || gray.Pix[1] != 51 || gray.Pix[3] != 255 {
		t.Errorf("gray pixel %v", gray.Pix)
	}
	if _, err := TensorToImage(make([]float32, 5), 3, 1, 2); err == nil {
		t.Error("accepted a tensor of the wrong length")
	}
	if _, err := TensorToImage(make([]float32, 4), 2, 1, 2); err == nil {
		t.Error("accepted 2 channels")
	}
}

func TestLoadPlacementMask(t *testing.T) {
	// A 4×2 picture, white on the left half: resized to 8×4, the left half
	// is allowed.
	img := image.NewGray(image.Rect(0, 0, 4, 2))
	img.Pix = []uint8{255, 255, 0, 0, 255, 255, 0, 0}
	dir := t.TempDir()
	path := filepath.Join(dir, "place.png")
	if err := WritePNG(path, img, 0, nil); err != nil {
		t.Fatal(err)
	}
	m, err := LoadPlacementMask(path, 8, 4)
	if err != nil {
		t.Fatal(err)
	}
	if m.W != 8 || m.H != 4 || m.Pix[0] < 0.99 || m.Pix[7] > 0.01 {
		t.Errorf("placement mask %d×%d %v", m.W, m.H, m.Pix)
	}
	os.WriteFile(filepath.Join(dir, "bad.png"), []byte("not an image"), 0o644)
	for _, p := range []string{"bad.png", "missing.png"} {
		if _, err := LoadPlacementMask(filepath.Join(dir, p), 8, 4); err == nil {
			t.Errorf("%s loaded", p)
		}
	}
}
