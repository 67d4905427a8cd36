package imgops

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"strconv"
	"strings"
)

// Palette is a set of printable colours, RGB in [0,1], against which NPS
// measures a patch and which a printed sheet shows as reference swatches.
type Palette [][3]float32

// maxPaletteColours bounds a loaded palette: NPS costs one distance per
// colour per pixel, and a swatch sheet with more colours is a photograph.
const maxPaletteColours = 256

// defaultPalette is a coarse grid, not a measured printer gamut: the 27
// colours of {32, 128, 224}³ (kept away from the saturated corners of RGB
// that CMYK inks cannot reach) plus black, white and a dark grey. Print the
// swatch strip of a PDF export, photograph it, and load the measured colours
// with LoadPalette for a palette that fits your printer.
var defaultPalette = func() [][3]uint8 {
	levels := []uint8{32, 128, 224}
	var p [][3]uint8
	for _, r := range levels {
		for _, g := range levels {
			for _, b := range levels {
				p = append(p, [3]uint8{r, g, b})
			}
		}
	}
	return append(p, [3]uint8{0, 0, 0}, [3]uint8{255, 255, 255}, [3]uint8{80, 80, 80})
}()

// DefaultPalette returns advlab's 30-colour default palette (see
// defaultPalette in palette.go for how it is made).
func DefaultPalette() Palette {
	p := make(Palette, len(defaultPalette))
	for i, c := range defaultPalette {
		p[i] = [3]float32{float32(c[0]) / 255, float32(c[1]) / 255, float32(c[2]) / 255}
	}
	return p
}

// RGBA returns colour i as an 8-bit colour, for drawing swatches.
func (p Palette) RGBA(i int) color.RGBA {
	c := p[i]
	return color.RGBA{R: to8(c[0]), G: to8(c[1]), B: to8(c[2]), A: 255}
}

// LoadPalette reads a palette file: a PNG of flat swatches (its distinct
// opaque colours, in reading order), or text with one colour a line as three
// integers 0–255 separated by commas, semicolons or spaces (CSV works; '#'
// starts a comment; a header line of names is skipped).
func LoadPalette(path string) (Palette, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the palette: %w", err)
	}
	p, err := ParsePalette(data)
	if err != nil {
		return nil, fmt.Errorf("palette %s: %w", path, err)
	}
	return p, nil
}

// ParsePalette parses the contents of a palette file (see LoadPalette). The
// input is untrusted: errors are one line and name the offending line.
func ParsePalette(data []byte) (Palette, error) {
	if bytes.HasPrefix(data, []byte(pngSignature)) {
		return parseSwatchPNG(data)
	}
	var p Palette
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<16)
	line, seen := 0, false
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		fields := strings.FieldsFunc(text, func(r rune) bool {
			return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\r'
		})
		if len(fields) == 0 {
			continue
		}
		first := !seen
		seen = true
		if first && isHeader(fields) {
			continue
		}
		c, err := parseTriple(fields)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v, got %q", line, err, shorten(strings.TrimSpace(text), 40))
		}
		if len(p) == maxPaletteColours {
			return nil, fmt.Errorf("more than %d colours; a palette lists printable colours, not an image", maxPaletteColours)
		}
		p = append(p, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %v", line+1, err)
	}
	if len(p) == 0 {
		return nil, errors.New("no colours; want lines of three integers 0-255 like \"200,30,30\"")
	}
	return p, nil
}

// isHeader reports whether fields are names (like "r,g,b"): each starts
// with a letter.
func isHeader(fields []string) bool {
	for _, f := range fields {
		if c := f[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func parseTriple(fields []string) ([3]float32, error) {
	const want = "want three integers 0-255 like \"200,30,30\""
	var c [3]float32
	if len(fields) != 3 {
		return c, errors.New(want)
	}
	for i, f := range fields {
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 || v > 255 {
			return c, errors.New(want)
		}
		c[i] = float32(v) / 255
	}
	return c, nil
}

// maxSwatchPixels bounds the size of a swatch PNG decoded for its colours.
const maxSwatchPixels = 4096 * 4096

func parseSwatchPNG(data []byte) (Palette, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("swatch PNG: %v", err)
	}
	if cfg.Width*cfg.Height > maxSwatchPixels || cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("swatch PNG is %d×%d; want at most %d pixels", cfg.Width, cfg.Height, maxSwatchPixels)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("swatch PNG: %v", err)
	}
	return swatchColours(img)
}

// swatchColours returns the distinct opaque colours of img in reading order.
func swatchColours(img image.Image) (Palette, error) {
	seen := map[color.NRGBA]bool{}
	var p Palette
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if c.A != 255 || seen[c] {
				continue
			}
			if len(p) == maxPaletteColours {
				return nil, fmt.Errorf("swatch PNG has more than %d distinct colours; want flat swatches, not a photograph", maxPaletteColours)
			}
			seen[c] = true
			p = append(p, [3]float32{float32(c.R) / 255, float32(c.G) / 255, float32(c.B) / 255})
		}
	}
	if len(p) == 0 {
		return nil, errors.New("swatch PNG has no opaque pixel")
	}
	return p, nil
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
