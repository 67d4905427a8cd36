package imgops

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
)

// pngHeader returns the signature and IHDR chunk of a w×h 8-bit RGBA PNG
// and nothing else: what a decompression bomb's header looks like.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // bit depth, colour type RGBA
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeImage(t *testing.T) {
	grey := func(w, h int, v uint8) *image.Gray {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for i := range g.Pix {
			g.Pix[i] = v
		}
		return g
	}
	deep := image.NewNRGBA64(image.Rect(0, 0, 40, 10))
	for i := 0; i < 40*10; i++ {
		deep.SetNRGBA64(i%40, i/40, color.NRGBA64{R: 0x1234, G: 0x8000, B: 0xfedc, A: 0xffff})
	}
	tests := []struct {
		name     string
		data     []byte
		maxSide  int
		wantW    int
		wantH    int
		wantDown bool
		wantErr  error
		wantMsg  string
	}{
		{name: "bomb header", data: pngHeader(60000, 60000), maxSide: 1024, wantErr: ErrImageTooLarge, wantMsg: "60000x60000"},
		{name: "zero size", data: pngHeader(0, 10), wantErr: ErrUnreadableImage},
		{name: "garbage", data: []byte("not an image"), wantErr: ErrUnreadableImage, wantMsg: "x.png is not a readable image"},
		{name: "small kept as is", data: encodePNG(t, grey(30, 20, 7)), maxSide: 1024, wantW: 30, wantH: 20},
		{name: "no cap", data: encodePNG(t, grey(300, 20, 7)), wantW: 300, wantH: 20},
		{name: "landscape downscaled", data: encodePNG(t, grey(300, 100, 200)), maxSide: 64, wantW: 64, wantH: 21, wantDown: true},
		{name: "portrait downscaled", data: encodePNG(t, grey(10, 300, 200)), maxSide: 64, wantW: 2, wantH: 64, wantDown: true},
		{name: "16-bit stays 16-bit", data: encodePNG(t, deep), maxSide: 20, wantW: 20, wantH: 5, wantDown: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, down, err := DecodeImage(tc.data, "x.png", tc.maxSide)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line wrapping %v with %q", err, tc.wantErr, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != tc.wantW || b.Dy() != tc.wantH || down != tc.wantDown {
				t.Fatalf("got %dx%d downscaled %v, want %dx%d %v", b.Dx(), b.Dy(), down, tc.wantW, tc.wantH, tc.wantDown)
			}
			// A uniform image stays the same colour, at the source's depth.
			src, _, _ := image.Decode(bytes.NewReader(tc.data))
			want := color.NRGBA64Model.Convert(src.At(0, 0)).(color.NRGBA64)
			got := color.NRGBA64Model.Convert(img.At(tc.wantW/2, tc.wantH/2)).(color.NRGBA64)
			if d := int(got.R) - int(want.R); d > 1 || d < -1 || got.G != want.G {
				t.Errorf("centre %v, want %v", got, want)
			}
			if _, ok := src.(*image.Gray); ok {
				if _, ok := img.(*image.Gray); !ok {
					t.Errorf("a grey image became %T", img)
				}
			}
		})
	}
}

func TestDecodedBytes(t *testing.T) {
	tests := []struct {
		name string
		img  image.Image
		want int64
	}{
		{"gray", image.NewGray(image.Rect(0, 0, 10, 3)), 30},
		{"nrgba", image.NewNRGBA(image.Rect(0, 0, 10, 3)), 120},
		{"nrgba64", image.NewNRGBA64(image.Rect(0, 0, 10, 3)), 240},
		{"ycbcr 4:2:0", image.NewYCbCr(image.Rect(0, 0, 10, 4), image.YCbCrSubsampleRatio420), 40 + 2*10},
		{"other types count 4 bytes a pixel", image.NewAlpha16(image.Rect(0, 0, 5, 5)).SubImage(image.Rect(0, 0, 5, 2)).(*image.Alpha16), 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DecodedBytes(tc.img); got != tc.want {
				t.Errorf("DecodedBytes = %d, want %d", got, tc.want)
			}
		})
	}
}
