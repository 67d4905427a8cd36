package gui

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// greyImage is a w×h grey image.
func greyImage(w, h int) image.Image {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	return img
}

// digitsModel is a 1-channel 28×28 fake with digit labels, like the zoo's
// digits CNN.
type digitsModel struct{ fakeModel }

func (m *digitsModel) Details() ModelDetails {
	return ModelDetails{Channels: 1, Height: 28, Width: 28, Layout: "NCHW"}
}

func TestFitNotes(t *testing.T) {
	digits := &digitsModel{fakeModel{name: "digits-cnn", labels: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, side: 28}}
	signs := &fakeModel{name: "signs", labels: signLabels, side: 64}
	colourSigns := &ImageSet{Samples: []Sample{{Name: "stop/1.png", Class: "stop", Image: darkImage(64, 64, 200)}}}
	greyDigits := &ImageSet{Samples: []Sample{{Name: "7/1.png", Class: "7", Image: greyImage(28, 28)}}}
	tests := []struct {
		name  string
		m     Model
		set   *ImageSet
		wants []string // substrings, one per note, in order
	}{
		{"colour signs on the digits CNN", digits, colourSigns, []string{"digits-cnn reads 1-channel grey images but the images are in colour", "the images are 64×64 but digits-cnn reads 28×28", "none of the class folders (stop) is a class of digits-cnn"}},
		{"grey digits on the digits CNN", digits, greyDigits, nil},
		{"grey digits on a colour model", signs, greyDigits, []string{"signs reads colour images but the images are grey", "the images are 28×28 but signs reads 64×64", "none of the class folders (7) is a class of signs"}},
		{"colour signs on a colour model", signs, colourSigns, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fitNotes(tc.m, traitsOf(tc.set))
			if len(got) != len(tc.wants) {
				t.Fatalf("notes %q; want %d", got, len(tc.wants))
			}
			for i, w := range tc.wants {
				if !strings.Contains(got[i], w) {
					t.Errorf("note %d %q lacks %q", i, got[i], w)
				}
			}
		})
	}
	if isColour(greyImage(8, 8)) || !isColour(darkImage(8, 8, 100)) {
		t.Error("isColour is wrong on a grey or a colour image")
	}
	jpegGrey := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	jpegGrey.SetNRGBA(0, 0, color.NRGBA{100, 101, 99, 255}) // within rounding
	if isColour(jpegGrey) {
		t.Error("a grey image off by a rounding step reads as colour")
	}
}

// TestMismatchedImagesAreWarnedAbout opens colour sign images with a grey
// digits model loaded: the Attack and Patch tabs and the comparison carry a
// visible warning, which goes when the model is removed.
func TestMismatchedImagesAreWarnedAbout(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	digits := &digitsModel{fakeModel{name: "digits-cnn", labels: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, side: 28}}
	if wb.attackPanel.fit.Visible() || strings.Contains(wb.train.plan.Text, "⚠") {
		t.Fatalf("the demo pair is warned about: %q / %q", wb.attackPanel.fit.Text, wb.train.plan.Text)
	}
	wb.addModel(digits)
	if !wb.attackPanel.fit.Visible() || !strings.Contains(wb.attackPanel.fit.Text, "⚠ digits-cnn reads 1-channel grey images") {
		t.Errorf("attack tab warning %q (shown %v)", wb.attackPanel.fit.Text, wb.attackPanel.fit.Visible())
	}
	if !strings.HasPrefix(wb.train.plan.Text, "Trains against digits-cnn; starts a new patch\n⚠ digits-cnn reads 1-channel") {
		t.Errorf("patch tab plan %q", wb.train.plan.Text)
	}
	wb.rightTabs.Select(wb.attackTab)
	wb.attackPanel.run.OnTapped()
	wb.tasks.Wait()
	if s := wb.compare.summary.Text; !strings.HasPrefix(s, "⚠ digits-cnn reads 1-channel") {
		t.Errorf("the comparison's summary does not warn: %q", s)
	}
	wb.removeModel(digits)
	if wb.attackPanel.fit.Visible() {
		t.Errorf("the warning stays after removing the model: %q", wb.attackPanel.fit.Text)
	}
}

// TestRemovingAModelAsksFirst taps a model's remove button: a dialog asks,
// Keep keeps it, Remove removes it.
func TestRemovingAModelAsksFirst(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	wb.openModel("/m/second.onnx")
	wb.tasks.Wait()
	tapRemove := func() {
		row := wb.modelsPanel.createRow()
		wb.modelsPanel.updateRow(1, row)
		test.Tap(row.(*fyne.Container).Objects[1].(*widget.Button))
	}
	for _, tc := range []struct {
		button string
		models int
	}{{"Keep", 2}, {"Remove", 1}} {
		tapRemove()
		text := topDialogText(wb.win)
		if !strings.Contains(text, "Remove second from the workbench?") {
			t.Fatalf("dialog %q", text)
		}
		tapDialogButton(t, wb.win, tc.button)
		wb.tasks.Wait()
		if len(wb.models) != tc.models {
			t.Errorf("after %s: %d models", tc.button, len(wb.models))
		}
	}
}

// tapDialogButton taps the button labelled text in the window's top overlay.
func tapDialogButton(t *testing.T, w fyne.Window, text string) {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog is shown")
	}
	for _, o := range test.LaidOutObjects(top) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			test.Tap(b)
			return
		}
	}
	t.Fatalf("the dialog has no %q button", text)
}
