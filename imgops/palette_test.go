package imgops

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultPalette(t *testing.T) {
	p := DefaultPalette()
	if len(p) != 30 {
		t.Fatalf("default palette has %d colours, want 30", len(p))
	}
	seen := map[[3]float32]bool{}
	for i, c := range p {
		if seen[c] {
			t.Errorf("colour %d %v repeats", i, c)
		}
		seen[c] = true
		for _, v := range c {
			if v < 0 || v > 1 {
				t.Errorf("colour %d %v outside [0,1]", i, c)
			}
		}
	}
	if got := p.RGBA(27); got != (color.RGBA{0, 0, 0, 255}) {
		t.Errorf("colour 27 = %v, want black", got)
	}
}

func TestParsePalette(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Palette
		wantErr string
	}{
		{"csv", "255,0,0\n0,255,0\n", Palette{{1, 0, 0}, {0, 1, 0}}, ""},
		{"header and comments", "r,g,b\n# reds\n255; 0; 0  # pure\n\n0 0 255\r\n", Palette{{1, 0, 0}, {0, 0, 1}}, ""},
		{"tabs", "0\t0\t0", Palette{{0, 0, 0}}, ""},
		{"out of range", "1,2,3\n256,0,0\n", nil, "line 2: want three integers 0-255"},
		{"two fields", "1,2\n", nil, "line 1: want three integers"},
		{"float", "0.5,0.5,0.5\n", nil, "line 1:"},
		{"negative", "-1,0,0\n", nil, "line 1:"},
		{"empty", "# nothing\n\n", nil, "no colours"},
		{"header twice", "r,g,b\nr,g,b\n", nil, "line 2:"},
		{"too many", strings.Repeat("1,2,3\n", 257), nil, "more than 256 colours"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePalette([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error spans lines: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("colour %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestLoadPaletteSwatchPNG(t *testing.T) {
	// Two flat swatches and a transparent gap: two colours, in reading order.
	img := image.NewNRGBA(image.Rect(0, 0, 6, 2))
	for y := 0; y < 2; y++ {
		for x := 0; x < 6; x++ {
			switch {
			case x < 2:
				img.Set(x, y, color.NRGBA{255, 0, 0, 255})
			case x >= 4:
				img.Set(x, y, color.NRGBA{0, 0, 255, 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "swatches.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPalette(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 2 || p[0] != [3]float32{1, 0, 0} || p[1] != [3]float32{0, 0, 1} {
		t.Errorf("swatch palette = %v, want red then blue", p)
	}
	// A truncated PNG is a one-line error naming the file.
	bad := filepath.Join(t.TempDir(), "bad.png")
	os.WriteFile(bad, buf.Bytes()[:40], 0o644)
	if _, err := LoadPalette(bad); err == nil || !strings.Contains(err.Error(), "bad.png") {
		t.Errorf("truncated swatch PNG: error %v, want one naming the file", err)
	}
	if _, err := LoadPalette(filepath.Join(t.TempDir(), "missing.txt")); err == nil {
		t.Error("a missing palette file loaded")
	}
}

func FuzzParsePalette(f *testing.F) {
	f.Add([]byte("255,0,0\n0 255 0\n# c\n"))
	f.Add([]byte("r,g,b\n1;2;3"))
	f.Add([]byte(pngSignature + "\x00\x00\x00\x0dIHDR"))
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 3, 3)))
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePalette(data)
		if err == nil && (len(p) == 0 || len(p) > maxPaletteColours) {
			t.Fatalf("ParsePalette returned %d colours without error", len(p))
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("error spans lines: %q", err)
		}
	})
}
