package gui

import (
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
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
