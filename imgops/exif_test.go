package imgops

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// exifAPP1 builds an APP1 Exif segment whose first IFD holds one entry, the
// orientation o as a SHORT, in the byte order given.
func exifAPP1(o uint16, bo binary.ByteOrder) []byte {
	var t bytes.Buffer
	if bo == binary.LittleEndian {
		t.WriteString("II")
	} else {
		t.WriteString("MM")
	}
	w := func(v any) { binary.Write(&t, bo, v) }
	w(uint16(42))
	w(uint32(8))      // first IFD right after the header
	w(uint16(2))      // two entries: an unrelated one, then the orientation
	w(uint16(0x010F)) // Make, ASCII, 4 bytes inline
	w(uint16(2))
	w(uint32(4))
	t.WriteString("abc\x00")
	w(uint16(0x0112))
	w(uint16(3))
	w(uint32(1))
	w(o)
	w(uint16(0))
	w(uint32(0)) // no next IFD
	payload := append([]byte("Exif\x00\x00"), t.Bytes()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(payload)))
	return append(seg, payload...)
}

// withEXIF inserts seg right after a JPEG's SOI marker.
func withEXIF(jpg, seg []byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// quadrants is a 16×8 grey image whose four 8×4 quadrants are 0, 85, 170
// and 255 (top-left, top-right, bottom-left, bottom-right).
func quadrants() *image.Gray {
	img := image.NewGray(image.Rect(0, 0, 16, 8))
	for y := 0; y < 8; y++ {
		for x := 0; x < 16; x++ {
			img.SetGray(x, y, color.Gray{uint8(85 * (x/8 + 2*(y/4)))})
		}
	}
	return img
}

func TestJPEGOrientation(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, quadrants(), &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	plain := buf.Bytes()
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"no exif", plain, 1},
		{"not a jpeg", []byte("\x89PNG\r\n\x1a\n"), 1},
		{"truncated segment", plain[:2+4][:5], 1},
		{"little endian 6", withEXIF(plain, exifAPP1(6, binary.LittleEndian)), 6},
		{"big endian 8", withEXIF(plain, exifAPP1(8, binary.BigEndian)), 8},
		{"out of range 9 is upright", withEXIF(plain, exifAPP1(9, binary.BigEndian)), 1},
		{"zero is upright", withEXIF(plain, exifAPP1(0, binary.LittleEndian)), 1},
		{"segment without Exif header", withEXIF(plain, []byte{0xFF, 0xE1, 0, 6, 'X', 'M', 'P', 0}), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := jpegOrientation(tc.data); got != tc.want {
				t.Errorf("orientation %d, want %d", got, tc.want)
			}
		})
	}
}

// TestDecodeImageOrientation checks every EXIF orientation against the
// spec's definition of where each stored pixel is displayed.
func TestDecodeImageOrientation(t *testing.T) {
	src := quadrants()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	W, H := 16, 8
	// stored returns the stored pixel displayed at (x, y) for orientation o
	// (EXIF 2.3, tag 0x0112: 6 is a quarter turn clockwise to display).
	stored := func(o, x, y int) (int, int) {
		switch o {
		case 2:
			return W - 1 - x, y
		case 3:
			return W - 1 - x, H - 1 - y
		case 4:
			return x, H - 1 - y
		case 5:
			return y, x
		case 6:
			return y, H - 1 - x
		case 7:
			return W - 1 - y, H - 1 - x
		case 8:
			return W - 1 - y, x
		}
		return x, y
	}
	for o := 1; o <= 8; o++ {
		t.Run(string(rune('0'+o)), func(t *testing.T) {
			img, down, err := DecodeImage(withEXIF(buf.Bytes(), exifAPP1(uint16(o), binary.LittleEndian)), "x.jpg", 0)
			if err != nil || down {
				t.Fatalf("decode: %v (downscaled %v)", err, down)
			}
			dw, dh := W, H
			if o >= 5 {
				dw, dh = H, W
			}
			if b := img.Bounds(); b.Dx() != dw || b.Dy() != dh {
				t.Fatalf("displayed %v, want %dx%d", b, dw, dh)
			}
			for _, p := range [][2]int{{dw / 4, dh / 4}, {3 * dw / 4, dh / 4}, {dw / 4, 3 * dh / 4}, {3 * dw / 4, 3 * dh / 4}} {
				sx, sy := stored(o, p[0], p[1])
				want := int(src.GrayAt(sx, sy).Y)
				got := int(color.GrayModel.Convert(img.At(img.Bounds().Min.X+p[0], img.Bounds().Min.Y+p[1])).(color.Gray).Y)
				if got-want > 12 || want-got > 12 {
					t.Errorf("pixel %v = %d, want %d (stored %d,%d)", p, got, want, sx, sy)
				}
			}
		})
	}
}

// FuzzJPEGOrientation checks that any bytes give an orientation in 1..8
// without panicking, and that a valid segment's value is read back.
func FuzzJPEGOrientation(f *testing.F) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, quadrants(), nil); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes(), uint16(6), true)
	f.Add(withEXIF(buf.Bytes(), exifAPP1(3, binary.BigEndian)), uint16(3), false)
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF}, uint16(0), true)
	f.Fuzz(func(t *testing.T, data []byte, o uint16, little bool) {
		if got := jpegOrientation(data); got < 1 || got > 8 {
			t.Fatalf("orientation %d of arbitrary bytes", got)
		}
		var bo binary.ByteOrder = binary.BigEndian
		if little {
			bo = binary.LittleEndian
		}
		want := int(o)
		if o < 1 || o > 8 {
			want = 1
		}
		if got := jpegOrientation(withEXIF(buf.Bytes(), exifAPP1(o, bo))); got != want {
			t.Fatalf("orientation %d read back as %d", o, got)
		}
	})
}
