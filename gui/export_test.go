package gui

import (
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/advlab/advlab/imgops"
)

func TestExportDialogValuesReachTheExporter(t *testing.T) {
	be := newFakeBackend()
	wb, files := newTestWorkbench(t, be)
	wb.patchMeta.Target = "Stop Sign"

	ed := wb.showExportDialog()
	ed.format.SetSelected(formatPDF)
	ed.size.SetText("")
	test.Type(ed.size, "2")
	ed.unit.SetSelected("in")
	ed.dpi.SetText("600")
	ed.paper.SetSelected(paperLetter)
	if !strings.Contains(ed.info.Text, "5.1 × 5.1 cm") || !strings.Contains(ed.info.Text, "1200 × 1200 pixels at 600 dpi") {
		t.Errorf("size readout = %q", ed.info.Text)
	}
	if b := ed.preview.Image().Bounds(); b.Dy() != previewHeight || math.Abs(float64(b.Dx())/float64(b.Dy())-215.9/279.4) > 0.01 {
		t.Errorf("preview is %v; want a Letter page", b)
	}
	files.save = "/out/patch.pdf"
	ed.confirm()
	wb.tasks.Wait()

	if len(be.exports) != 1 {
		t.Fatalf("exports = %+v", be.exports)
	}
	got := be.exports[0]
	want := PrintSettings{Format: "pdf", SizeMM: 50.8, DPI: 600, Paper: "letter"}
	if got.Path != "/out/patch.pdf" || got.Settings != want || got.Target != "Stop Sign" {
		t.Errorf("exported %+v; want %+v to /out/patch.pdf", got, want)
	}
	if files.asked[len(files.asked)-1] != "save patch-stop-sign.pdf" {
		t.Errorf("proposed name: %q", files.asked)
	}

	// The values are remembered, and a PNG needs no paper.
	ed2 := newExportDialog(wb, wb.patch, wb.patchMeta)
	if ed2.size.Text != "2" || ed2.unit.Selected != "in" || ed2.dpi.Text != "600" || ed2.paper.Selected != paperLetter {
		t.Errorf("remembered: size %q %s, dpi %q, paper %s", ed2.size.Text, ed2.unit.Selected, ed2.dpi.Text, ed2.paper.Selected)
	}
	ed2.format.SetSelected(formatPNG)
	if !ed2.paper.Disabled() {
		t.Error("paper is enabled for a PNG")
	}
	files.save = "/out/patch.png"
	ed2.confirm()
	wb.tasks.Wait()
	if s := be.exports[1].Settings; s.Format != "png" || s.DPI != 600 {
		t.Errorf("PNG export settings %+v", s)
	}
}

func TestExportRejectsWhatDoesNotFit(t *testing.T) {
	be := newFakeBackend()
	wb, files := newTestWorkbench(t, be)
	ed := newExportDialog(wb, wb.patch, wb.patchMeta)
	ed.format.SetSelected(formatPDF)
	ed.unit.SetSelected("cm")
	ed.size.SetText("40")
	if !strings.Contains(ed.info.Text, "does not fit") {
		t.Errorf("readout for 40 cm on A4 = %q", ed.info.Text)
	}
	ed.size.SetText("five")
	if !strings.Contains(ed.info.Text, "positive number of cm") {
		t.Errorf("readout for a bad size = %q", ed.info.Text)
	}
	files.save = "/out/x.pdf"
	ed.confirm()
	wb.tasks.Wait()
	if len(be.exports) != 0 {
		t.Error("exported with a bad size")
	}
	if msg := topDialogText(wb.win); !strings.Contains(msg, "five") {
		t.Errorf("dialog = %q", msg)
	}
}

// TestExportDialogGivesTheSizeRoom lays the dialog out at its smallest and
// checks that the size field is wider than its unit (a Select as wide as
// "(Select one)" squeezed the number to a few pixels).
func TestExportDialogGivesTheSizeRoom(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	ed := newExportDialog(wb, wb.patch, wb.patchMeta)
	w := test.NewTempWindow(t, ed.content)
	w.Resize(ed.content.MinSize())
	if sw, uw := ed.size.Size().Width, ed.unit.Size().Width; sw < uw || sw < 80 {
		t.Errorf("size field %.0f wide beside a unit %.0f wide", sw, uw)
	}
}

// ExportDialogRefusesWhatTheExporterRefuses sets the dialog to sizes around
// each limit, on both papers and for square, wide and tall patches, and asks
// exporter (the real one, writing the file: see engine_test.go) the same:
// Export is enabled exactly when the export succeeds. The limits, worked out
// by hand in imgops's TestPageLayoutMaxPatchSize, are those of the longer
// side; the dialog used to take up to 186 mm on A4, which the export then
// refused.
func ExportDialogRefusesWhatTheExporterRefuses(t *testing.T, exporter Exporter) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	dir := t.TempDir()
	shapes := []struct {
		name                 string
		mask                 imgops.Mask
		limitA4, limitLetter float64
	}{
		{"square", imgops.RectMask(16, 16), 172, 177.9},
		{"wide", imgops.RectMask(32, 16), 172, 177.9},
		{"tall", imgops.RectMask(16, 32), 211.5, 193.9},
	}
	papers := []struct {
		name, paper string
	}{{paperA4, "a4"}, {paperLetter, "letter"}}
	for _, sh := range shapes {
		p := imgops.NewGreyPatch(sh.mask)
		for _, pp := range papers {
			limit := sh.limitA4
			if pp.paper == "letter" {
				limit = sh.limitLetter
			}
			for _, d := range []float64{-30, -0.05, 0, 0.05, 1, 186 - limit} {
				size := strconv.FormatFloat(limit+d, 'f', -1, 64)
				t.Run(sh.name+"/"+pp.name+"/"+size+"mm", func(t *testing.T) {
					ed := newExportDialog(wb, p, imgops.PatchMeta{})
					ed.format.SetSelected(formatPDF)
					ed.paper.SetSelected(pp.name)
					ed.unit.SetSelected("mm")
					ed.dpi.SetText("50")
					ed.size.SetText(size)
					s, dialogErr := ed.Settings()
					exportErr := exporter.ExportPatch(filepath.Join(dir, "p.pdf"), p, imgops.PatchMeta{}, PrintSettings{Format: "pdf", SizeMM: limit + d, DPI: 50, Paper: pp.paper})
					if (dialogErr == nil) != (exportErr == nil) {
						t.Fatalf("dialog: %v; exporter: %v", dialogErr, exportErr)
					}
					if want := d <= 0; (exportErr == nil) != want {
						t.Errorf("the exporter says %v; want fits = %v", exportErr, want)
					}
					if ed.export.Disabled() != (dialogErr != nil) {
						t.Errorf("Export disabled = %v with %v", ed.export.Disabled(), dialogErr)
					}
					if dialogErr != nil && !strings.Contains(ed.info.Text, "does not fit") {
						t.Errorf("readout %q; want the reason", ed.info.Text)
					}
					if dialogErr == nil && (s.SizeMM != limit+d || s.Paper != pp.paper) {
						t.Errorf("settings %+v", s)
					}
				})
			}
		}
	}
	// A PNG has no page but a pixel limit: 16384 px at 2400 dpi is 173.4 mm.
	ed := newExportDialog(wb, wb.patch, wb.patchMeta)
	ed.format.SetSelected(formatPNG)
	ed.unit.SetSelected("mm")
	ed.dpi.SetText("2400")
	ed.size.SetText("173.5")
	_, dialogErr := ed.Settings()
	exportErr := exporter.ExportPatch(filepath.Join(dir, "p.png"), wb.patch, wb.patchMeta, PrintSettings{Format: "png", SizeMM: 173.5, DPI: 2400})
	if dialogErr == nil || exportErr == nil || !ed.export.Disabled() {
		t.Errorf("173.5 mm at 2400 dpi: dialog %v, exporter %v, Export disabled %v; want both refused", dialogErr, exportErr, ed.export.Disabled())
	}
}

// TestExportDialogWarnsOfNoSize leaves the size blank or zero: the dialog
// says what to type and Export is disabled (tapping it does nothing), with
// no error dialog; a size then enables it.
func TestExportDialogWarnsOfNoSize(t *testing.T) {
	tests := []struct{ text, unit string }{{"", "cm"}, {"  ", "mm"}, {"0", "mm"}, {"0.0", "in"}, {"-3", "cm"}}
	for _, tc := range tests {
		t.Run(strconv.Quote(tc.text)+" "+tc.unit, func(t *testing.T) {
			be := newFakeBackend()
			wb, files := newTestWorkbench(t, be)
			ed := wb.showExportDialog()
			ed.unit.SetSelected(tc.unit)
			ed.size.SetText(tc.text)
			if !ed.export.Disabled() {
				t.Error("Export is enabled without a size")
			}
			if !strings.Contains(ed.info.Text, "positive number of "+tc.unit) {
				t.Errorf("readout %q; want it to say what to type", ed.info.Text)
			}
			overlays := len(wb.win.Canvas().Overlays().List())
			test.Tap(ed.export)
			wb.tasks.Wait()
			if len(files.asked) != 0 || len(be.exports) != 0 {
				t.Errorf("a disabled Export asked %q and exported %+v", files.asked, be.exports)
			}
			if n := len(wb.win.Canvas().Overlays().List()); n != overlays {
				t.Errorf("%d dialogs after tapping Export; want the export dialog alone: %q", n, topDialogText(wb.win))
			}
			ed.size.SetText("5")
			if ed.export.Disabled() {
				t.Errorf("Export is disabled for 5 %s: %q", tc.unit, ed.info.Text)
			}
			files.save = "/out/p.pdf"
			test.Tap(ed.export)
			wb.tasks.Wait()
			if len(be.exports) != 1 {
				t.Errorf("Export with a size wrote %d files", len(be.exports))
			}
		})
	}
}
