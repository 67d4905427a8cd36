package imgops

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func testImage() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	return img
}

func TestEncodePNGRoundTrip(t *testing.T) {
	text := map[string]string{
		"Title":       "adversarial patch",
		"Comment":     "two\nlines",
		"advlab-json": `{"target":"grille de radiateur – 🚗"}`,
	}
	var buf bytes.Buffer
	if err := EncodePNG(&buf, testImage(), 300, text); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	// image/png still decodes it, pixel for pixel.
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("image/png rejects the file: %v", err)
	}
	want := testImage()
	for y := 0; y < 3; y++ {
		for x := 0; x < 5; x++ {
			if g, w := color.NRGBAModel.Convert(img.At(x, y)), want.At(x, y); g != w {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, g, w)
			}
		}
	}
	info, err := ReadPNGInfo(data)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(info.DPI-300) > 0.01 {
		t.Errorf("DPI = %v, want 300", info.DPI)
	}
	for k, v := range text {
		if info.Text[k] != v {
			t.Errorf("text %q = %q, want %q", k, info.Text[k], v)
		}
	}
	// 300 dpi is 300/0.0254 = 11811.02 pixels per metre, unit 1 (metre),
	// and pHYs comes before the first IDAT.
	chunks, _ := ReadChunks(data)
	var order []string
	for _, c := range chunks {
		order = append(order, c.Type)
		if c.Type == "pHYs" {
			if x, y := binary.BigEndian.Uint32(c.Data), binary.BigEndian.Uint32(c.Data[4:]); x != 11811 || y != 11811 || c.Data[8] != 1 {
				t.Errorf("pHYs = %d×%d unit %d, want 11811×11811 unit 1", x, y, c.Data[8])
			}
		}
	}
	s := strings.Join(order, " ")
	if !strings.HasPrefix(s, "IHDR pHYs") || !strings.Contains(s, "iTXt") || !strings.Contains(s, "tEXt") {
		t.Errorf("chunk order %s; want IHDR pHYs first and both tEXt and iTXt", s)
	}
}

func TestPNGResolutionWithImageMagick(t *testing.T) {
	// An independent reader: ImageMagick reports the resolution in pixels
	// per centimetre for PNG files (300 dpi = 118.11 /cm).
	identify, err := exec.LookPath("identify")
	if err != nil {
		t.Skip("ImageMagick's identify is not on PATH")
	}
	path := filepath.Join(t.TempDir(), "r.png")
	if err := WritePNG(path, testImage(), 300, map[string]string{"Title": "x"}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(identify, "-units", "PixelsPerInch", "-format", "%x", path).Output()
	if err != nil {
		t.Fatalf("identify: %v", err)
	}
	dpi, err := strconv.ParseFloat(strings.Fields(string(out))[0], 64)
	if err != nil || math.Abs(dpi-300) > 0.05 {
		t.Errorf("identify reads %q; want 300 dpi", out)
	}
}

func TestReadPNGInfoCompressedText(t *testing.T) {
	z := func(s string) []byte {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	var buf bytes.Buffer
	png.Encode(&buf, testImage())
	data, err := InsertChunks(buf.Bytes(),
		Chunk{"zTXt", append([]byte("Author\x00\x00"), z("Caf\xe9")...)},
		Chunk{"iTXt", append([]byte("Note\x00\x01\x00fr\x00Remarque\x00"), z("été")...)},
		Chunk{"tEXt", []byte("Latin\x00\xe9")},
	)
	if err != nil {
		t.Fatal(err)
	}
	info, err := ReadPNGInfo(data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Author": "Café", "Note": "été", "Latin": "é"}
	for k, v := range want {
		if info.Text[k] != v {
			t.Errorf("%s = %q, want %q", k, info.Text[k], v)
		}
	}
	if info.DPI != 0 {
		t.Errorf("DPI = %v without pHYs, want 0", info.DPI)
	}
}

func TestReadChunksRejectsDamage(t *testing.T) {
	var buf bytes.Buffer
	EncodePNG(&buf, testImage(), 72, map[string]string{"k": "v"})
	good := buf.Bytes()
	damage := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		data []byte
	}{
		{"signature", damage(func(b []byte) []byte { b[1] = 'X'; return b })},
		{"crc", damage(func(b []byte) []byte { b[20] ^= 1; return b })},
		{"truncated", good[:len(good)-5]},
		{"length", damage(func(b []byte) []byte { binary.BigEndian.PutUint32(b[8:], 1<<30); return b })},
		{"empty", nil},
	}
	for _, tc := range tests {
		if _, err := ReadChunks(tc.data); err == nil {
			t.Errorf("%s: ReadChunks accepted damaged data", tc.name)
		}
	}
	if _, err := TextChunk(" bad", "x"); err == nil {
		t.Error("TextChunk accepted a keyword with a leading space")
	}
	if _, err := TextChunk(strings.Repeat("k", 80), "x"); err == nil {
		t.Error("TextChunk accepted an 80-character keyword")
	}
}

func FuzzReadPNGInfo(f *testing.F) {
	var buf bytes.Buffer
	EncodePNG(&buf, testImage(), 300, map[string]string{"a": "b", "u": "ü"})
	f.Add(buf.Bytes())
	f.Add([]byte(pngSignature))
	f.Add([]byte(pngSignature + "\x00\x00\x00\x00IEND\xae\x42\x60\x82"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ReadPNGInfo(data)
		if err == nil && info.Text == nil {
			t.Fatal("no error and no text map")
		}
		if chunks, err := ReadChunks(data); err == nil {
			if _, err := InsertChunks(data, PhysChunk(96)); err != nil && len(chunks) > 0 && chunks[0].Type == "IHDR" {
				t.Fatalf("InsertChunks failed on chunks ReadChunks accepts: %v", err)
			}
		}
	})
}
