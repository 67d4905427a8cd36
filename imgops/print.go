package imgops

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"maps"
	"math"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/advlab/advlab/internal/fsutil"
)

// PrintOptions say how big a patch is printed.
type PrintOptions struct {
	// SizeMM is the patch's longer side on paper, in millimetres.
	SizeMM float64
	// DPI is the resolution the patch is resampled to; 0 means 300.
	DPI float64
	// Paper is the PDF's sheet; "" means A4.
	Paper Paper
	// Palette is shown as reference swatches on the PDF; nil means
	// DefaultPalette.
	Palette Palette
}

// The bounds of a print: resolutions a printer can use, and a pixel size
// that stays in memory comfortably.
const (
	minDPI          = 50
	maxDPI          = 2400
	maxPrintPixels  = 16384
	defaultPrintDPI = 300
)

// withDefaults fills the zero fields and checks the rest.
func (o PrintOptions) withDefaults() (PrintOptions, error) {
	if o.DPI == 0 {
		o.DPI = defaultPrintDPI
	}
	if o.Paper == "" {
		o.Paper = A4
	}
	if o.Palette == nil {
		o.Palette = DefaultPalette()
	}
	switch {
	case !(o.SizeMM > 0):
		return o, fmt.Errorf("print size %v mm: want a positive size", o.SizeMM)
	case !(o.DPI >= minDPI && o.DPI <= maxDPI):
		return o, fmt.Errorf("resolution %v dpi: want %d to %d", o.DPI, minDPI, maxDPI)
	case o.SizeMM/25.4*o.DPI > maxPrintPixels:
		return o, fmt.Errorf("%.0f mm at %v dpi is over %d pixels; use a lower resolution", o.SizeMM, o.DPI, maxPrintPixels)
	}
	if _, err := ParsePaper(string(o.Paper)); err != nil {
		return o, err
	}
	return o, nil
}

// PrintSize returns the patch's printed width and height in millimetres
// (its longer side is SizeMM) and its resampled size in pixels (the longer
// side is SizeMM at DPI, rounded).
func PrintSize(p *Patch, o PrintOptions) (wMM, hMM float64, wPx, hPx int) {
	if o.DPI == 0 {
		o.DPI = defaultPrintDPI
	}
	long := float64(max(p.W, p.H))
	wMM, hMM = o.SizeMM*float64(p.W)/long, o.SizeMM*float64(p.H)/long
	wPx = max(1, int(math.Round(wMM/25.4*o.DPI)))
	hPx = max(1, int(math.Round(hMM/25.4*o.DPI)))
	return wMM, hMM, wPx, hPx
}

// EncodePrintPNG writes p resampled to its print size as a patch file (see
// EncodePatch) whose pHYs records the DPI, so that image editors and
// printing dialogs show the physical size. The masked-out area is
// transparent. meta gains "print_size_mm" and "print_dpi" in Extra.
func EncodePrintPNG(w io.Writer, p *Patch, meta PatchMeta, o PrintOptions) error {
	o, err := checkPrint(p, o)
	if err != nil {
		return err
	}
	wMM, hMM, wPx, hPx := PrintSize(p, o)
	meta.Extra = maps.Clone(meta.Extra)
	if meta.Extra == nil {
		meta.Extra = map[string]any{}
	}
	meta.Extra["print_size_mm"] = []float64{round2(wMM), round2(hMM)}
	meta.Extra["print_dpi"] = o.DPI
	return EncodePatch(w, p.Resize(wPx, hPx), meta, o.DPI)
}

// WritePrintPNG is EncodePrintPNG into the file at path, written atomically.
func WritePrintPNG(path string, p *Patch, meta PatchMeta, o PrintOptions) error {
	return fsutil.WriteFileAtomic(path, func(w io.Writer) error {
		return EncodePrintPNG(w, p, meta, o)
	})
}

// The PDF page's layout, in millimetres.
const (
	pdfMargin   = 12.0
	cutGap      = 2.0 // between the patch's box and its cut marks
	cutLen      = 5.0
	cutWidth    = 0.2
	swatchSize  = 8.0
	swatchGap   = 1.0
	captionLine = 4.5
	scaleBarMM  = 50.0
)

// PageLayout is where EncodePDF puts things on its page, in millimetres
// from the page's top-left corner. It is the one place the page is laid
// out: EncodePDF draws by it, and a front-end that previews the page or
// checks a size before exporting reads it rather than keeping its own copy.
type PageLayout struct {
	// Paper is the sheet; Width and Height its size (portrait).
	Paper         Paper
	Width, Height float64
	// Margin is the blank border on every side.
	Margin float64
	// Top and Bottom bound the band in which the patch is centred: below
	// the printing note, above the footer, which starts at Bottom.
	Top, Bottom float64
	// CutGap is how far outside the patch's box the cut marks start;
	// CutLen is how long they are.
	CutGap, CutLen float64
	// SwatchesPerRow and SwatchRows are the footer's palette swatches.
	SwatchesPerRow, SwatchRows int
}

// NewPageLayout returns the layout of EncodePDF's page on paper ("" means
// A4; an unknown name lays out A4 too, which PrintOptions' checks reject)
// with pal's swatches in the footer (nil means DefaultPalette).
func NewPageLayout(paper Paper, pal Palette) PageLayout {
	if paper != Letter {
		paper = A4
	}
	if pal == nil {
		pal = DefaultPalette()
	}
	l := PageLayout{Paper: paper, Margin: pdfMargin, CutGap: cutGap, CutLen: cutLen}
	l.Width, l.Height = paper.Size()
	l.SwatchesPerRow = int((l.Width - 2*pdfMargin + swatchGap) / (swatchSize + swatchGap))
	l.SwatchRows = (len(pal) + l.SwatchesPerRow - 1) / l.SwatchesPerRow
	footer := 2*captionLine + 8 + float64(l.SwatchRows)*(swatchSize+swatchGap+3)
	l.Top, l.Bottom = pdfMargin+captionLine+2, l.Height-pdfMargin-footer
	return l
}

// MaxPatchSize returns the largest patch box, width and height in
// millimetres, that fits on the page with its cut marks.
func (l PageLayout) MaxPatchSize() (w, h float64) {
	reach := l.CutGap + l.CutLen
	return l.Width - 2*l.Margin - 2*reach, l.Bottom - l.Top - 2*reach
}

// Fits returns nil when a patch printed w×h mm fits on the page with its cut
// marks and footer, and otherwise an error saying the largest size that
// does.
func (l PageLayout) Fits(w, h float64) error {
	maxW, maxH := l.MaxPatchSize()
	if !(w > 0 && h > 0) {
		return fmt.Errorf("a %.1f×%.1f mm patch: want a positive size", w, h)
	}
	// A nanometre of slack: the limits are sums of decimals (279.4 − 12 −
	// …), and the largest size a front-end shows must pass.
	const slack = 1e-6
	if w > maxW+slack || h > maxH+slack {
		return fmt.Errorf("a %.1f×%.1f mm patch does not fit on %s (at most %.1f×%.1f mm with cut marks and footer); use a smaller size or larger paper",
			w, h, strings.ToUpper(string(l.Paper)), maxW, maxH)
	}
	return nil
}

// PatchOrigin returns the top-left corner of a w×h mm patch on the page:
// centred across the page and in the band between Top and Bottom.
func (l PageLayout) PatchOrigin(w, h float64) (x, y float64) {
	return (l.Width - w) / 2, l.Top + (l.Bottom-l.Top-h)/2
}

// ScaleBar returns where the footer's scale bar starts and how long it is,
// in millimetres: a print whose bar does not measure length was scaled.
func (l PageLayout) ScaleBar() (x, y, length float64) {
	return l.Margin, l.Bottom + 2 + 2*captionLine + 1 + 2, scaleBarMM
}

// CheckPDF returns the error EncodePDF returns for p and o before it draws
// anything (a bad size, resolution or paper, or a patch that does not fit
// on the page), or nil when EncodePDF will write the page. A dialog that
// calls it refuses exactly what the export refuses.
func CheckPDF(p *Patch, o PrintOptions) error {
	_, err := checkPDF(p, o)
	return err
}

// CheckPrintPNG is CheckPDF for EncodePrintPNG, which needs no page.
func CheckPrintPNG(p *Patch, o PrintOptions) error {
	_, err := checkPrint(p, o)
	return err
}

// checkPrint validates p and o and fills o's defaults.
func checkPrint(p *Patch, o PrintOptions) (PrintOptions, error) {
	if err := p.Validate(); err != nil {
		return o, fmt.Errorf("exporting the patch: %w", err)
	}
	o, err := o.withDefaults()
	if err != nil {
		return o, fmt.Errorf("exporting the patch: %w", err)
	}
	return o, nil
}

// checkPDF is checkPrint plus the page's fit.
func checkPDF(p *Patch, o PrintOptions) (PrintOptions, error) {
	o, err := checkPrint(p, o)
	if err != nil {
		return o, err
	}
	wMM, hMM, _, _ := PrintSize(p, o)
	if err := NewPageLayout(o.Paper, o.Palette).Fits(wMM, hMM); err != nil {
		return o, fmt.Errorf("exporting the patch: %w", err)
	}
	return o, nil
}

// EncodePDF writes a PDF page (A4 or Letter) holding p at exactly its print
// size: the longer side is o.SizeMM, the image embedded losslessly (PNG in
// Flate) after resampling to the print resolution, the masked-out area white.
// The page is laid out by NewPageLayout: the patch centred across the page
// and in the space above the footer, with cut marks at the corners of its
// box; the footer holds a caption (target, models, date, size), a 50 mm
// scale bar to check that the printer did not scale the page, and the
// palette's reference swatches. CheckPDF says beforehand whether it will
// fail.
func EncodePDF(w io.Writer, p *Patch, meta PatchMeta, o PrintOptions) error {
	o, err := checkPDF(p, o)
	if err != nil {
		return err
	}
	wMM, hMM, wPx, hPx := PrintSize(p, o)
	l := NewPageLayout(o.Paper, o.Palette)
	var png bytes.Buffer
	if err := encodeOpaquePNG(&png, flattenOnWhite(p.Resize(wPx, hPx))); err != nil {
		return err
	}

	size := "A4"
	if o.Paper == Letter {
		size = "Letter"
	}
	pdf := fpdf.New("P", "mm", size, "")
	pdf.SetMargins(l.Margin, l.Margin, l.Margin)
	pdf.SetAutoPageBreak(false, 0)
	created := meta.Created
	if created.IsZero() {
		created = time.Now().UTC()
	}
	pdf.SetCreationDate(created)
	pdf.SetModificationDate(created)
	pdf.SetCreator("advlab", true)
	pdf.SetTitle("advlab adversarial patch", true)
	pdf.AddPage()
	tr := pdf.UnicodeTranslatorFromDescriptor("")

	pdf.SetFont("Helvetica", "", 9)
	pdf.Text(l.Margin, l.Margin+3, "Print at 100% (actual size), not \"fit to page\"; the scale bar below must measure 50 mm.")

	x, y := l.PatchOrigin(wMM, hMM)
	pdf.RegisterImageOptionsReader("patch", fpdf.ImageOptions{ImageType: "PNG"}, &png)
	pdf.ImageOptions("patch", x, y, wMM, hMM, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	cutMarks(pdf, l, x, y, x+wMM, y+hMM)

	// Footer: caption, scale bar, swatches.
	fy := l.Bottom + 2
	pdf.SetFont("Helvetica", "", 9)
	pdf.Text(l.Margin, fy+3, tr(captionText(meta, created)))
	pdf.Text(l.Margin, fy+3+captionLine, fmt.Sprintf("Patch %.1f x %.1f mm (longer side %.1f mm), %d x %d px at %.0f dpi.", wMM, hMM, o.SizeMM, wPx, hPx, o.DPI))
	bx, by, _ := l.ScaleBar()
	scaleBar(pdf, bx, by)
	swatches(pdf, o.Palette, l.Margin, by+6, l.SwatchesPerRow)

	if err := pdf.Error(); err != nil {
		return fmt.Errorf("building the PDF: %w", err)
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("writing the PDF: %w", err)
	}
	return nil
}

// WritePDF is EncodePDF into the file at path, written atomically.
func WritePDF(path string, p *Patch, meta PatchMeta, o PrintOptions) error {
	return fsutil.WriteFileAtomic(path, func(w io.Writer) error {
		return EncodePDF(w, p, meta, o)
	})
}

// captionText says what the patch is: target, models and date.
func captionText(meta PatchMeta, created time.Time) string {
	target := meta.Target
	if target == "" {
		target = "(untargeted or unknown)"
	}
	if meta.TargetIndex != nil {
		target += fmt.Sprintf(" (class %d)", *meta.TargetIndex)
	}
	models := strings.Join(meta.Models, ", ")
	if models == "" {
		models = "(unknown)"
	}
	return fmt.Sprintf("advlab patch - target: %s - model: %s - %s", target, models, created.Format("2006-01-02"))
}

// cutMarks draws L-shaped marks outside each corner of the box, l.CutGap
// away from it, along its edges' extensions.
func cutMarks(pdf *fpdf.Fpdf, l PageLayout, x0, y0, x1, y1 float64) {
	pdf.SetLineWidth(cutWidth)
	pdf.SetDrawColor(0, 0, 0)
	for _, c := range [4][2]float64{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}} {
		sx, sy := -1.0, -1.0 // outward directions
		if c[0] == x1 {
			sx = 1
		}
		if c[1] == y1 {
			sy = 1
		}
		pdf.Line(c[0]+sx*l.CutGap, c[1], c[0]+sx*(l.CutGap+l.CutLen), c[1])
		pdf.Line(c[0], c[1]+sy*l.CutGap, c[0], c[1]+sy*(l.CutGap+l.CutLen))
	}
}

// scaleBar draws a scaleBarMM-long ruler with 10 mm ticks at (x, y).
func scaleBar(pdf *fpdf.Fpdf, x, y float64) {
	pdf.SetLineWidth(0.2)
	pdf.Line(x, y, x+scaleBarMM, y)
	for t := 0.0; t <= scaleBarMM; t += 10 {
		pdf.Line(x+t, y-1.5, x+t, y)
	}
	pdf.SetFont("Helvetica", "", 7)
	pdf.Text(x+scaleBarMM+2, y, fmt.Sprintf("%.0f mm", scaleBarMM))
}

// swatches draws the palette as filled squares labelled with their 0-255
// RGB values, perRow to a row.
func swatches(pdf *fpdf.Fpdf, pal Palette, x, y float64, perRow int) {
	pdf.SetFont("Helvetica", "", 4)
	pdf.SetLineWidth(0.1)
	pdf.SetDrawColor(128, 128, 128)
	for i := range pal {
		c := pal.RGBA(i)
		sx := x + float64(i%perRow)*(swatchSize+swatchGap)
		sy := y + float64(i/perRow)*(swatchSize+swatchGap+3)
		pdf.SetFillColor(int(c.R), int(c.G), int(c.B))
		pdf.Rect(sx, sy, swatchSize, swatchSize, "FD")
		pdf.Text(sx, sy+swatchSize+2, fmt.Sprintf("%d,%d,%d", c.R, c.G, c.B))
	}
}

// flattenOnWhite composes p over white paper: what the printer prints.
func flattenOnWhite(p *Patch) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, p.W, p.H))
	n := p.W * p.H
	for k := 0; k < n; k++ {
		m := p.Mask.Pix[k]
		for c := 0; c < 3; c++ {
			img.Pix[4*k+c] = to8(m*p.Pix[c*n+k] + 1 - m)
		}
		img.Pix[4*k+3] = 255
	}
	return img
}

// encodeOpaquePNG writes an opaque image as an 8-bit RGB PNG, the form
// fpdf embeds without re-encoding.
func encodeOpaquePNG(w io.Writer, img *image.RGBA) error {
	if !img.Opaque() {
		return errors.New("internal error: the flattened patch is not opaque")
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("encoding the patch for the PDF: %w", err)
	}
	return nil
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
