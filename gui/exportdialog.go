package gui

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/image/draw"

	"github.com/advlab/advlab/imgops"
)

// Export choices.
const (
	formatPDF   = "PDF page with cut marks"
	formatPNG   = "PNG at a resolution (DPI)"
	paperA4     = "A4"
	paperLetter = "Letter"
)

// unitsMM converts the dialog's units to millimetres.
var unitsMM = map[string]float64{"cm": 10, "mm": 1, "in": 25.4}

// previewHeight is the height of the page's preview, in pixels.
const previewHeight = 300

// exportDialog asks how to print the patch: PDF page or PNG, its size in
// cm, mm or inches, the resolution and the paper, with a preview of the page
// at scale. What it accepts, and where the preview puts things, it asks
// imgops, which lays out the page and checks the sizes for the exporter:
// Export is disabled, with the reason shown, for exactly what the export
// would refuse.
type exportDialog struct {
	wb    *Workbench
	patch *imgops.Patch
	meta  imgops.PatchMeta

	format  *widget.RadioGroup
	size    *widget.Entry
	unit    *widget.Select
	dpi     *widget.SelectEntry
	paper   *widget.Select
	info    *widget.Label
	preview *imageView
	export  *widget.Button
	content fyne.CanvasObject
	dlg     *dialog.CustomDialog
}

// newExportDialog builds the dialog for p with the remembered values.
func newExportDialog(wb *Workbench, p *imgops.Patch, meta imgops.PatchMeta) *exportDialog {
	pr := wb.prefs
	ed := &exportDialog{wb: wb, patch: p, meta: meta}
	ed.info = widget.NewLabel("")
	ed.info.Wrapping = fyne.TextWrapWord
	ed.export = widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), ed.onExport)
	ed.export.Importance = widget.HighImportance
	ed.preview = newImageView(nil, fyne.NewSize(previewHeight*210/297, previewHeight))
	ed.format = widget.NewRadioGroup([]string{formatPDF, formatPNG}, func(s string) { pr.setText("export.format", s); ed.update() })
	ed.size = widget.NewEntry()
	ed.size.SetText(pr.text("export.size", "5"))
	ed.size.Validator = func(string) error { _, err := ed.sizeMM(); return err }
	ed.size.OnChanged = func(s string) {
		if _, err := ed.sizeMM(); err == nil {
			pr.setText("export.size", strings.TrimSpace(s))
		}
		ed.update()
	}
	ed.unit = widget.NewSelect([]string{"cm", "mm", "in"}, func(s string) { pr.setText("export.unit", s); ed.update() })
	// A Select is as wide as its placeholder: a short one leaves the width
	// of the row to the number.
	ed.unit.PlaceHolder = "unit"
	ed.dpi = widget.NewSelectEntry([]string{"150", "300", "600"})
	ed.dpi.SetText(pr.text("export.dpi", "300"))
	ed.dpi.OnChanged = func(s string) {
		if _, err := ed.dpiValue(); err == nil {
			pr.setText("export.dpi", strings.TrimSpace(s))
		}
		ed.update()
	}
	ed.paper = widget.NewSelect([]string{paperA4, paperLetter}, func(s string) { pr.setText("export.paper", s); ed.update() })
	ed.unit.SetSelected(pr.text("export.unit", "cm"))
	ed.paper.SetSelected(pr.text("export.paper", paperA4))
	ed.format.SetSelected(pr.text("export.format", formatPDF))

	form := widget.NewForm(
		widget.NewFormItem("Format", ed.format),
		widget.NewFormItem("Longer side", container.NewBorder(nil, nil, nil, ed.unit, ed.size)),
		widget.NewFormItem("Resolution (dpi)", ed.dpi),
		widget.NewFormItem("Paper", ed.paper),
	)
	ed.content = container.NewBorder(nil, nil, nil, container.NewCenter(ed.preview), container.NewVBox(form, ed.info))
	ed.update()
	return ed
}

// sizeMM parses the size field in its unit.
func (ed *exportDialog) sizeMM() (float64, error) {
	s := strings.TrimSpace(ed.size.Text)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("size %q: type a positive number of %s, e.g. 5", s, ed.unitName())
	}
	return v * unitsMM[ed.unitName()], nil
}

func (ed *exportDialog) unitName() string {
	if ed.unit == nil || ed.unit.Selected == "" {
		return "cm"
	}
	return ed.unit.Selected
}

// dpiValue parses the resolution field; which resolutions print is
// imgops's to say.
func (ed *exportDialog) dpiValue() (float64, error) {
	s := strings.TrimSpace(ed.dpi.Text)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("resolution %q: type a number of dots per inch (300 suits most printers)", s)
	}
	return v, nil
}

// printOptions are s as imgops's exporter takes them.
func (s PrintSettings) printOptions() (imgops.PrintOptions, error) {
	paper, err := imgops.ParsePaper(s.Paper)
	if err != nil {
		return imgops.PrintOptions{}, err
	}
	return imgops.PrintOptions{SizeMM: s.SizeMM, DPI: s.DPI, Paper: paper}, nil
}

// checkExport returns the error the export of p with s will fail with, or
// nil when it will write the file: imgops's own check, not a copy of it.
func checkExport(p *imgops.Patch, s PrintSettings) error {
	o, err := s.printOptions()
	if err != nil {
		return err
	}
	if s.Format == "pdf" {
		err = imgops.CheckPDF(p, o)
	} else {
		err = imgops.CheckPrintPNG(p, o)
	}
	if inner := errors.Unwrap(err); inner != nil {
		err = inner // "exporting the patch: " is the dialog's title already
	}
	return err
}

// Settings reads the dialog; the error says why the export would fail.
func (ed *exportDialog) Settings() (PrintSettings, error) {
	mm, err := ed.sizeMM()
	if err != nil {
		return PrintSettings{}, err
	}
	dpi, err := ed.dpiValue()
	if err != nil {
		return PrintSettings{}, err
	}
	s := PrintSettings{Format: "pdf", SizeMM: mm, DPI: dpi, Paper: "a4"}
	if ed.format.Selected == formatPNG {
		s.Format = "png"
	}
	if ed.paper.Selected == paperLetter {
		s.Paper = "letter"
	}
	if err := checkExport(ed.patch, s); err != nil {
		return s, err
	}
	return s, nil
}

// printedSize is the patch's printed width and height in millimetres and
// pixels with s, as the exporter sizes it.
func (ed *exportDialog) printedSize(s PrintSettings) (wMM, hMM float64, wPx, hPx int) {
	return imgops.PrintSize(ed.patch, imgops.PrintOptions{SizeMM: s.SizeMM, DPI: s.DPI})
}

// update refreshes the size readout and the preview, and enables Export
// only for settings the export accepts; otherwise the readout says why.
func (ed *exportDialog) update() {
	if ed.info == nil || ed.paper == nil || ed.format == nil || ed.dpi == nil {
		return // still being built
	}
	if ed.format.Selected == formatPNG {
		ed.paper.Disable()
	} else {
		ed.paper.Enable()
	}
	s, err := ed.Settings()
	if err != nil {
		ed.info.SetText(err.Error())
		ed.export.Disable()
		return
	}
	ed.export.Enable()
	w, h, wpx, hpx := ed.printedSize(s)
	ed.info.SetText(fmt.Sprintf("%.1f × %.1f cm (%.2f × %.2f in)\n%d × %d pixels at %g dpi", w/10, h/10, w/25.4, h/25.4, wpx, hpx, s.DPI))
	ed.preview.SetImage(ed.previewImage(s))
}

// previewImage draws the page (PDF) or the patch on white (PNG) at scale,
// the page laid out as imgops lays it out.
func (ed *exportDialog) previewImage(s PrintSettings) image.Image {
	paper, _ := imgops.ParsePaper(s.Paper)
	l := imgops.NewPageLayout(paper, nil)
	pw, ph := l.Width, l.Height
	w, h, _, _ := ed.printedSize(s)
	if s.Format == "png" {
		pw, ph = w*1.2, h*1.2
	}
	k := float64(previewHeight) / ph // pixels per mm
	page := image.NewNRGBA(image.Rect(0, 0, int(math.Round(pw*k)), previewHeight))
	draw.Draw(page, page.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	grey := color.NRGBA{120, 120, 120, 255}
	frame(page, page.Bounds(), grey)
	x0, y0 := (pw-w)/2, (ph-h)/2
	if s.Format == "pdf" {
		x0, y0 = l.PatchOrigin(w, h)
	}
	r := image.Rect(int(x0*k), int(y0*k), int(math.Round((x0+w)*k)), int(math.Round((y0+h)*k)))
	draw.ApproxBiLinear.Scale(page, r, ed.patch.Image(), ed.patch.Image().Bounds(), draw.Over, nil)
	if s.Format == "pdf" {
		cutMarks(page, x0*k, y0*k, (x0+w)*k, (y0+h)*k, l.CutGap*k, l.CutLen*k)
		// The footer: caption lines as grey bars, the scale bar in black.
		for _, y := range []float64{l.Bottom + 3, l.Bottom + 7.5} {
			fill(page, image.Rect(int(l.Margin*k), int(y*k)-1, int((pw-l.Margin)*k*0.7), int(y*k)+1), grey)
		}
		bx, by, blen := l.ScaleBar()
		fill(page, image.Rect(int(bx*k), int(by*k), int((bx+blen)*k), int(by*k)+2), color.Black)
	}
	return page
}

func fill(img *image.NRGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r.Intersect(img.Bounds()), image.NewUniform(c), image.Point{}, draw.Src)
}

func frame(img *image.NRGBA, r image.Rectangle, c color.Color) {
	fill(img, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), c)
	fill(img, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), c)
	fill(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), c)
	fill(img, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), c)
}

// cutMarks draws corner marks around the box (x0,y0)-(x1,y1), gap away from
// it and length long, as the PDF does.
func cutMarks(img *image.NRGBA, x0, y0, x1, y1, gap, length float64) {
	i := func(v float64) int { return int(math.Round(v)) }
	for _, y := range []float64{y0, y1} {
		fill(img, image.Rect(i(x0-gap-length), i(y), i(x0-gap), i(y)+1), color.Black)
		fill(img, image.Rect(i(x1+gap), i(y), i(x1+gap+length), i(y)+1), color.Black)
	}
	for _, x := range []float64{x0, x1} {
		fill(img, image.Rect(i(x), i(y0-gap-length), i(x)+1, i(y0-gap)), color.Black)
		fill(img, image.Rect(i(x), i(y1+gap), i(x)+1, i(y1+gap+length)), color.Black)
	}
}

// Show shows the dialog; Export asks for a file and writes it.
func (ed *exportDialog) Show() {
	ed.dlg = dialog.NewCustomWithoutButtons("Export the patch for printing", ed.content, ed.wb.win)
	ed.dlg.SetButtons([]fyne.CanvasObject{widget.NewButton("Cancel", ed.dlg.Hide), ed.export})
	ed.dlg.Show()
}

// onExport closes the dialog and goes on to the file chooser.
func (ed *exportDialog) onExport() {
	if ed.dlg != nil {
		ed.dlg.Hide()
	}
	ed.confirm()
}

// confirm asks where to write and exports there. Export is disabled while
// the settings are wrong; should confirm be reached anyway, it says why.
func (ed *exportDialog) confirm() {
	s, err := ed.Settings()
	if err != nil {
		ed.wb.showError("Exporting the patch", err)
		return
	}
	name := "patch." + s.Format
	if ed.meta.Target != "" {
		name = "patch-" + strings.ReplaceAll(strings.ToLower(ed.meta.Target), " ", "-") + "." + s.Format
	}
	ed.wb.files.SaveFile("Export the patch as "+strings.ToUpper(s.Format), name, func(path string) {
		ed.wb.exportPatch(path, ed.patch, ed.meta, s)
	})
}

// showExportDialog opens the export dialog for the current patch.
func (wb *Workbench) showExportDialog() *exportDialog {
	if wb.patch == nil {
		wb.showError("Exporting the patch", errors.New("there is no patch; train one in the Patch tab or open one with File › Open patch"))
		return nil
	}
	ed := newExportDialog(wb, wb.patch.Clone(), wb.patchMeta)
	ed.Show()
	return ed
}

// exportPatch writes the patch for printing off the UI goroutine.
func (wb *Workbench) exportPatch(path string, p *imgops.Patch, meta imgops.PatchMeta, s PrintSettings) {
	end := wb.begin("Exporting the patch…")
	wb.tasks.Go(func() {
		err := wb.be.ExportPatch(path, p, meta, s)
		wb.tasks.ui(func() {
			end()
			if err != nil {
				wb.showError("Exporting the patch", err)
				return
			}
			wb.setStatus(fmt.Sprintf("Wrote %s: %.1f cm at %g dpi", path, s.SizeMM/10, s.DPI))
		})
	})
}

// savePatchDialog saves the current patch as a patch file (its own
// resolution, metadata included), to open again later.
func (wb *Workbench) savePatchDialog() {
	if wb.patch == nil {
		wb.showError("Saving the patch", errors.New("there is no patch yet; train one first"))
		return
	}
	p, meta := wb.patch.Clone(), wb.patchMeta
	wb.files.SaveFile("Save the patch", "patch.png", func(path string) {
		end := wb.begin("Saving the patch…")
		wb.tasks.Go(func() {
			err := wb.be.SavePatch(path, p, meta)
			wb.tasks.ui(func() {
				end()
				if err != nil {
					wb.showError("Saving the patch", err)
					return
				}
				wb.prefs.addRecent(prefRecentPatches, path)
				wb.win.SetMainMenu(wb.mainMenu())
				wb.setStatus("Saved the patch to " + path)
			})
		})
	})
}
