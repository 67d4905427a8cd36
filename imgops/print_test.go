package imgops

import (
	"bytes"
	"compress/zlib"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pdfStreams returns the PDF's stream contents, inflated where they are
// Flate-compressed.
func pdfStreams(pdf []byte) [][]byte {
	var out [][]byte
	re := regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`)
	for _, m := range re.FindAllSubmatch(pdf, -1) {
		if r, err := zlib.NewReader(bytes.NewReader(m[1])); err == nil {
			if b, err := io.ReadAll(r); err == nil {
				out = append(out, b)
				continue
			}
		}
		out = append(out, m[1])
	}
	return out
}

// pdfPlacement reads the page's MediaBox and the image's placement (the
// `w 0 0 h x y cm /I.. Do` operator) in millimetres, y measured from the
// page's bottom as PDF does.
func pdfPlacement(t *testing.T, pdf []byte) (pageW, pageH, w, h, x, y float64) {
	t.Helper()
	const mmPerPt = 25.4 / 72
	mb := regexp.MustCompile(`/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]`).FindSubmatch(pdf)
	if mb == nil {
		t.Fatal("no MediaBox in the PDF")
	}
	pageW, pageH = atof(t, mb[1])*mmPerPt, atof(t, mb[2])*mmPerPt
	cm := regexp.MustCompile(`q ([0-9.]+) 0 0 ([0-9.]+) ([0-9.]+) ([0-9.]+) cm /I[^ ]+ Do Q`)
	for _, s := range pdfStreams(pdf) {
		if m := cm.FindSubmatch(s); m != nil {
			return pageW, pageH, atof(t, m[1]) * mmPerPt, atof(t, m[2]) * mmPerPt, atof(t, m[3]) * mmPerPt, atof(t, m[4]) * mmPerPt
		}
	}
	t.Fatal("no image placement in the PDF's content")
	return
}

func atof(t *testing.T, b []byte) float64 {
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPDFPhysicalSize(t *testing.T) {
	tests := []struct {
		name         string
		mask         Mask
		opts         PrintOptions
		pageW, pageH float64
		w, h         float64
		px           [2]int
	}{
		{"5cm circle on A4", CircleMask(50), PrintOptions{SizeMM: 50}, 210, 297, 50, 50, [2]int{591, 591}},
		{"2in rectangle on letter", RectMask(40, 20), PrintOptions{SizeMM: 50.8, DPI: 150, Paper: Letter}, 215.9, 279.4, 50.8, 25.4, [2]int{300, 150}},
		{"tall ellipse", EllipseMask(30, 60), PrintOptions{SizeMM: 120, DPI: 100}, 210, 297, 60, 120, [2]int{236, 472}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewNoisePatch(tc.mask, 3)
			path := filepath.Join(t.TempDir(), "patch.pdf")
			meta := PatchMeta{Target: "toaster", Models: []string{"resnet18"}, Created: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
			if err := WritePDF(path, p, meta, tc.opts); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			pageW, pageH, w, h, x, y := pdfPlacement(t, data)
			const tol = 0.1
			if math.Abs(pageW-tc.pageW) > tol || math.Abs(pageH-tc.pageH) > tol {
				t.Errorf("page %.2f×%.2f mm, want %v×%v", pageW, pageH, tc.pageW, tc.pageH)
			}
			if math.Abs(w-tc.w) > tol || math.Abs(h-tc.h) > tol {
				t.Errorf("patch printed %.3f×%.3f mm, want %v×%v", w, h, tc.w, tc.h)
			}
			if math.Abs(x+w/2-pageW/2) > tol {
				t.Errorf("patch centre at x = %.2f mm, want the page's centre %.2f", x+w/2, pageW/2)
			}
			if y < 0 || y+h > pageH {
				t.Errorf("patch at y = %.2f mm leaves the page", y)
			}
			if !bytes.Contains(data, []byte("toaster")) && !containsInStreams(data, "toaster") {
				t.Error("the caption does not name the target")
			}
			checkPDFImage(t, path, tc.px)
		})
	}
}

func containsInStreams(pdf []byte, s string) bool {
	for _, st := range pdfStreams(pdf) {
		if bytes.Contains(st, []byte(s)) {
			return true
		}
	}
	return false
}

// checkPDFImage asks poppler's pdfimages, when present, for the embedded
// image's pixel size: the patch resampled to size × DPI.
func checkPDFImage(t *testing.T, path string, px [2]int) {
	bin, err := exec.LookPath("pdfimages")
	if err != nil {
		t.Log("pdfimages is not on PATH; skipping the embedded image check")
		return
	}
	out, err := exec.Command(bin, "-list", path).Output()
	if err != nil {
		t.Fatalf("pdfimages: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 {
		t.Fatalf("pdfimages lists %d lines, want one image:\n%s", len(lines), out)
	}
	f := strings.Fields(lines[2])
	if f[3] != strconv.Itoa(px[0]) || f[4] != strconv.Itoa(px[1]) || f[5] != "rgb" || f[7] != "8" {
		t.Errorf("embedded image %s×%s %s %s-bit, want %d×%d rgb 8-bit", f[3], f[4], f[5], f[7], px[0], px[1])
	}
}

func TestPDFRenderedSize(t *testing.T) {
	// Render with poppler at 508 dpi (20 px/mm) and measure a black 5 cm
	// square along its centre row and column: 1000 px, ±2 px (0.1 mm).
	bin, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Skip("pdftoppm is not on PATH")
	}
	p := NewGreyPatch(RectMask(10, 10))
	clear(p.Pix)
	dir := t.TempDir()
	path := filepath.Join(dir, "square.pdf")
	if err := WritePDF(path, p, PatchMeta{}, PrintOptions{SizeMM: 50}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	_, pageH, w, h, x, y := pdfPlacement(t, data)
	const dpmm = 20.0
	cx, cy := (x+w/2)*dpmm, (pageH-(y+h/2))*dpmm // pixels, from the top-left
	render := func(x0, y0, pw, ph int) []byte {
		out := filepath.Join(dir, "crop")
		cmd := exec.Command(bin, "-r", "508", "-gray", "-x", strconv.Itoa(x0), "-y", strconv.Itoa(y0),
			"-W", strconv.Itoa(pw), "-H", strconv.Itoa(ph), "-singlefile", path, out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v: %s", err, b)
		}
		pgm, err := os.ReadFile(out + ".pgm")
		if err != nil {
			t.Fatal(err)
		}
		return pgm[len(pgm)-pw*ph:] // binary PGM: the pixels end the file
	}
	count := func(pix []byte) int {
		n := 0
		for _, v := range pix {
			if v < 128 {
				n++
			}
		}
		return n
	}
	span := int(70 * dpmm) // 7 cm: the square and no cut mark
	row := count(render(int(cx)-span/2, int(cy), span, 1))
	col := count(render(int(cx), int(cy)-span/2, 1, span))
	t.Logf("rendered %d×%d px", row, col)
	for name, got := range map[string]int{"width": row, "height": col} {
		if math.Abs(float64(got)-50*dpmm) > 2 {
			t.Errorf("rendered %s %d px = %.2f mm, want 50 mm (1000 px)", name, got, float64(got)/dpmm)
		}
	}
}

func TestPDFErrors(t *testing.T) {
	p := NewGreyPatch(CircleMask(10))
	tests := []struct {
		name string
		opts PrintOptions
		want string
	}{
		{"too big", PrintOptions{SizeMM: 250}, "does not fit on A4"},
		{"no size", PrintOptions{}, "positive size"},
		{"dpi", PrintOptions{SizeMM: 50, DPI: 10}, "resolution"},
		{"pixels", PrintOptions{SizeMM: 180, DPI: 2400}, "pixels"},
		{"paper", PrintOptions{SizeMM: 50, Paper: "a3"}, "unknown paper"},
	}
	for _, tc := range tests {
		err := EncodePDF(io.Discard, p, PatchMeta{}, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestPrintPNG(t *testing.T) {
	// A 2 cm circle at 254 dpi: 200 px across, pHYs 10000 px/m, still a
	// patch file with its metadata plus the print size.
	p := NewNoisePatch(CircleMask(32), 1)
	path := filepath.Join(t.TempDir(), "print.png")
	if err := WritePrintPNG(path, p, PatchMeta{Target: "cat"}, PrintOptions{SizeMM: 20, DPI: 254}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	info, err := ReadPNGInfo(data)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(info.DPI-254) > 0.01 {
		t.Errorf("DPI %v, want 254", info.DPI)
	}
	q, meta, err := DecodePatch(data)
	if err != nil {
		t.Fatal(err)
	}
	if q.W != 200 || q.H != 200 || meta.Target != "cat" || meta.Extra["print_dpi"] != 254.0 {
		t.Errorf("print PNG is %d×%d with %+v", q.W, q.H, meta)
	}
	if q.Mask.Pix[0] != 0 || q.Mask.Pix[100*200+100] != 1 {
		t.Error("the print PNG's outside is not transparent or its centre not opaque")
	}
}

// The largest patch boxes, worked out by hand from the page's design: 12 mm
// margins, cut marks reaching 2 + 5 mm past the box, a 4.5 mm note line and
// 2 mm under it at the top, and a footer of two 4.5 mm caption lines, 8 mm
// for the scale bar and 12 mm per row of 8 mm swatches (9 mm apart).
//
//	A4 width:      210 − 2·12 − 2·7 = 172
//	A4 height:     30 colours, 20 a row → 2 rows, footer 9 + 8 + 24 = 41;
//	               (297 − 12 − 41) − (12 + 4.5 + 2) − 14 = 211.5
//	Letter width:  215.9 − 24 − 14 = 177.9
//	Letter height: 21 a row → 2 rows; (279.4 − 53) − 18.5 − 14 = 193.9
//	A4, 60 colours: 3 rows, footer 53; 297 − 65 − 18.5 − 14 = 199.5
func TestPageLayoutMaxPatchSize(t *testing.T) {
	tests := []struct {
		name  string
		paper Paper
		pal   Palette
		w, h  float64
	}{
		{"A4", A4, nil, 172, 211.5},
		{"default paper", "", nil, 172, 211.5},
		{"Letter", Letter, nil, 177.9, 193.9},
		{"A4 with 60 colours", A4, make(Palette, 60), 172, 199.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, h := NewPageLayout(tc.paper, tc.pal).MaxPatchSize()
			if math.Abs(w-tc.w) > 1e-9 || math.Abs(h-tc.h) > 1e-9 {
				t.Errorf("largest patch %v×%v mm; want %v×%v", w, h, tc.w, tc.h)
			}
		})
	}
}

// TestFitsIsWhatEncodePDFAccepts asks, for sizes around each limit on both
// papers and for square, wide and tall patches, whether the patch fits: the
// hand-worked limits above, CheckPDF and EncodePDF itself all agree.
func TestFitsIsWhatEncodePDFAccepts(t *testing.T) {
	shapes := []struct {
		name string
		mask Mask
		// long side at the limit on A4 and on Letter
		limitA4, limitLetter float64
	}{
		{"square", RectMask(20, 20), 172, 177.9},
		{"wide 2:1", RectMask(40, 20), 172, 177.9},
		{"tall 1:2", RectMask(20, 40), 211.5, 193.9},
	}
	for _, sh := range shapes {
		p := NewGreyPatch(sh.mask)
		for _, paper := range []Paper{A4, Letter} {
			limit := sh.limitA4
			if paper == Letter {
				limit = sh.limitLetter
			}
			for _, d := range []float64{-20, -0.01, 0, 0.01, 0.5, 14} {
				size := limit + d
				t.Run(sh.name+"/"+string(paper), func(t *testing.T) {
					o := PrintOptions{SizeMM: size, DPI: 50, Paper: paper}
					want := d <= 0
					check := CheckPDF(p, o)
					enc := EncodePDF(io.Discard, p, PatchMeta{}, o)
					if (check == nil) != want || (enc == nil) != want {
						t.Errorf("%.2f mm: CheckPDF %v, EncodePDF %v; want fits = %v", size, check, enc, want)
					}
					w, h, _, _ := PrintSize(p, o)
					if fits := NewPageLayout(paper, nil).Fits(w, h); (fits == nil) != want {
						t.Errorf("%.2f mm: Fits(%.2f, %.2f) = %v; want fits = %v", size, w, h, fits, want)
					}
				})
			}
		}
	}
}

func TestFitsRejectsNoSize(t *testing.T) {
	l := NewPageLayout(A4, nil)
	for _, wh := range [][2]float64{{0, 0}, {0, 10}, {10, -1}, {math.NaN(), 10}} {
		if err := l.Fits(wh[0], wh[1]); err == nil {
			t.Errorf("Fits(%v, %v) = nil; want an error", wh[0], wh[1])
		}
	}
}

// TestPatchOriginIsWhereThePDFDrawsIt reads the image's placement back from
// the PDF and compares it with the layout's (which a preview draws by).
func TestPatchOriginIsWhereThePDFDrawsIt(t *testing.T) {
	tests := []struct {
		name  string
		mask  Mask
		paper Paper
		size  float64
	}{
		{"small square on A4", RectMask(10, 10), A4, 50},
		{"largest wide on Letter", RectMask(40, 20), Letter, 177.9},
		{"largest tall on A4", RectMask(20, 40), A4, 211.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewGreyPatch(tc.mask)
			path := filepath.Join(t.TempDir(), "p.pdf")
			if err := WritePDF(path, p, PatchMeta{}, PrintOptions{SizeMM: tc.size, DPI: 50, Paper: tc.paper}); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			_, pageH, w, h, x, yUp := pdfPlacement(t, data)
			l := NewPageLayout(tc.paper, nil)
			wantX, wantY := l.PatchOrigin(w, h)
			y := pageH - yUp - h // PDF measures y up from the bottom
			if math.Abs(x-wantX) > 0.05 || math.Abs(y-wantY) > 0.05 {
				t.Errorf("patch drawn at (%.2f, %.2f) mm; the layout says (%.2f, %.2f)", x, y, wantX, wantY)
			}
			if y-l.CutGap-l.CutLen < l.Top-0.05 || y+h+l.CutGap+l.CutLen > l.Bottom+0.05 {
				t.Errorf("the cut marks of a patch at y %.2f–%.2f leave the band %.2f–%.2f", y, y+h, l.Top, l.Bottom)
			}
		})
	}
}
