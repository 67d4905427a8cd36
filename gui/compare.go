package gui

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Comparison modes.
const (
	modeSide = "Side by side"
	modeGrid = "Grid"
)

// compareView shows an attack's result: side by side, the clean image, the
// adversarial image and the perturbation as a heat map, each captioned with
// every model's top prediction (so transfer between models shows); or a grid
// of the whole set with the images whose prediction flipped marked, and the
// success rate per model.
type compareView struct {
	wb *Workbench

	mode    *widget.RadioGroup
	amp     *widget.Slider
	ampText *widget.Label
	ampRow  fyne.CanvasObject // hidden in grid mode, which shows no heat map
	summary *widget.Label

	clean, adv, pert          *imageView
	cleanCap, advCap, pertCap *widget.Label
	advTitle                  *widget.Label
	side                      fyne.CanvasObject

	grid    *widget.GridWrap
	body    *fyne.Container
	content fyne.CanvasObject

	res  *AttackResult
	item int // index into res.Items shown side by side
}

func newCompareView(wb *Workbench) *compareView {
	cv := &compareView{wb: wb, item: -1}
	cv.mode = widget.NewRadioGroup([]string{modeSide, modeGrid}, func(string) { cv.showMode() })
	cv.mode.Horizontal = true
	cv.amp = widget.NewSlider(0, 2) // log10 of the amplification
	cv.amp.Step = 0.05
	cv.amp.SetValue(1)
	cv.ampText = widget.NewLabel("×10")
	cv.amp.OnChanged = func(float64) { cv.showItem() }
	cv.summary = widget.NewLabel("Run an attack in the Attack tab to compare clean and adversarial images.")
	cv.summary.Wrapping = fyne.TextWrapWord

	imgMin := fyne.NewSize(160, 160)
	cv.clean, cv.adv, cv.pert = newImageView(nil, imgMin), newImageView(nil, imgMin), newImageView(nil, imgMin)
	cv.cleanCap, cv.advCap, cv.pertCap = captionLabel(), captionLabel(), captionLabel()
	cv.advTitle = boldLabel("Adversarial")
	cv.side = sideBySide(
		[3]fyne.CanvasObject{boldLabel("Clean"), cv.advTitle, boldLabel("Perturbation (heat map)")},
		[3]fyne.CanvasObject{cv.clean, cv.adv, cv.pert},
		[3]fyne.CanvasObject{cv.cleanCap, cv.advCap, cv.pertCap})

	cv.grid = widget.NewGridWrap(cv.gridLen, cv.gridCreate, cv.gridUpdate)
	cv.grid.OnSelected = func(id widget.GridWrapItemID) {
		if cv.res == nil || id >= len(cv.res.Items) {
			return
		}
		cv.grid.UnselectAll()
		cv.wb.selectImage(cv.res.Items[id].Sample)
		cv.item = id
		cv.mode.SetSelected(modeSide)
	}

	saveCmp := widget.NewButtonWithIcon("Save PNG…", theme.DocumentSaveIcon(), wb.saveComparisonDialog)
	saveAdv := widget.NewButtonWithIcon("Save images…", theme.FolderOpenIcon(), wb.saveAdversarialDialog)
	bar := container.NewHBox(cv.mode, layout.NewSpacer(), saveCmp, saveAdv)
	cv.ampRow = container.NewBorder(nil, nil, widget.NewLabel("Amplify perturbation"), cv.ampText, cv.amp)
	cv.body = container.NewStack(cv.side)
	cv.content = container.NewBorder(container.NewVBox(bar, cv.ampRow, cv.summary), nil, nil, nil, cv.body)
	cv.mode.SetSelected(modeSide)
	return cv
}

// sideBySide lays three columns out as rows of titles, images and captions,
// so that the images get the same size whatever the captions' lengths.
func sideBySide(titles, images, captions [3]fyne.CanvasObject) fyne.CanvasObject {
	row := func(o [3]fyne.CanvasObject) *fyne.Container { return container.NewGridWithColumns(3, o[:]...) }
	return container.New(comparisonLayout{}, row(titles), row(images), row(captions))
}

// comparisonLayout stacks the rows of sideBySide from the top: the titles,
// the images as large squares as the width and height allow, and the
// captions right under them (a plain border layout would stretch the image
// row and leave the captions at the bottom, far from their images).
type comparisonLayout struct{}

func (comparisonLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height
	}
	return s.AddWidthHeight(0, 2*theme.Padding())
}

func (comparisonLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) != 3 {
		return
	}
	pad := theme.Padding()
	titles, images, captions := objs[0], objs[1], objs[2]
	// Wrapped captions know their height only at their width.
	captions.Resize(fyne.NewSize(size.Width, captions.MinSize().Height))
	th, ch := titles.MinSize().Height, captions.MinSize().Height
	side := min(size.Width/3-pad, size.Height-th-ch-2*pad)
	side = max(side, images.MinSize().Height)
	titles.Move(fyne.NewPos(0, 0))
	titles.Resize(fyne.NewSize(size.Width, th))
	images.Move(fyne.NewPos(0, th+pad))
	images.Resize(fyne.NewSize(size.Width, side))
	captions.Move(fyne.NewPos(0, th+pad+side+pad))
	captions.Resize(fyne.NewSize(size.Width, ch))
}

// boldLabel is a column title; it truncates rather than widen the window.
func boldLabel(s string) *widget.Label {
	l := widget.NewLabelWithStyle(s, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

func captionLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Alignment = fyne.TextAlignCenter
	return l
}

// amplification is the heat map's gain.
func (cv *compareView) amplification() float64 { return math.Pow(10, cv.amp.Value) }

// SetResult shows res, side by side at the canvas's image when it was
// attacked.
func (cv *compareView) SetResult(res *AttackResult) {
	cv.res = res
	cv.item = 0
	for i, it := range res.Items {
		if it.Sample == cv.wb.current {
			cv.item = i
		}
	}
	cv.summary.SetText(cv.summaryText())
	cv.advTitle.SetText("Adversarial (" + methodShort(res.Method) + ")")
	if len(res.Items) > 1 && cv.mode.Selected == "" {
		cv.mode.SetSelected(modeGrid)
	}
	cv.grid.Refresh()
	cv.showItem()
}

// ShowSample shows the result for image i side by side, if it was attacked.
func (cv *compareView) ShowSample(i int) {
	if cv.res == nil {
		return
	}
	for k, it := range cv.res.Items {
		if it.Sample == i {
			cv.item = k
			cv.showItem()
			return
		}
	}
}

// summaryText is the success rate per model.
func (cv *compareView) summaryText() string {
	res := cv.res
	var parts, rounded []string
	order := []int{res.Source}
	for i := range res.Models {
		if i != res.Source {
			order = append(order, i)
		}
	}
	for _, i := range order {
		m := res.Models[i]
		n := 0
		for _, it := range res.Items {
			if it.Flipped(i) {
				n++
			}
		}
		role := "transfer"
		if i == res.Source {
			role = "attacked"
		}
		parts = append(parts, fmt.Sprintf("%s (%s) %d/%d = %.0f%%", m.Name(), role, n, len(res.Items), 100*float64(n)/float64(len(res.Items))))
		if len(res.Items[0].RoundedPred) > i {
			r := 0
			for _, it := range res.Items {
				if it.FlippedRounded(i) {
					r++
				}
			}
			rounded = append(rounded, fmt.Sprintf("%s %d/%d = %.0f%%", m.Name(), r, len(res.Items), 100*float64(r)/float64(len(res.Items))))
		}
	}
	text := fmt.Sprintf("%s: prediction flipped on %s", methodShort(res.Method), strings.Join(parts, "; "))
	if len(rounded) > 0 {
		text += "; saved as 8-bit images: " + strings.Join(rounded, "; ")
	}
	return text
}

func (cv *compareView) showMode() {
	if cv.body == nil {
		return
	}
	if cv.mode.Selected == modeGrid {
		cv.body.Objects = []fyne.CanvasObject{cv.grid}
		cv.ampRow.Hide()
	} else {
		cv.body.Objects = []fyne.CanvasObject{cv.side}
		cv.ampRow.Show()
	}
	cv.body.Refresh()
}

// showItem fills the side-by-side columns with the current item.
func (cv *compareView) showItem() {
	amp := cv.amplification()
	cv.ampText.SetText(fmt.Sprintf("×%.0f", amp))
	if cv.res == nil || cv.item < 0 || cv.item >= len(cv.res.Items) {
		return
	}
	it := cv.res.Items[cv.item]
	cv.clean.SetImage(it.Clean)
	cv.adv.SetImage(it.Adversarial)
	cv.pert.SetImage(heatMap(it.Clean, it.Adversarial, amp))
	cv.cleanCap.SetText(predLines(cv.res, it.CleanPred, nil))
	cv.advCap.SetText(predLines(cv.res, it.AdvPred, it.CleanPred))
	cv.pertCap.SetText(fmt.Sprintf("L2 %.3f · L∞ %.3f (%.1f/255)\namplified ×%.0f", it.L2, it.Linf, it.Linf*255, amp))
	if it.L2 == 0 && it.Linf == 0 {
		l2, linf := perturbationNorms(it.Clean, it.Adversarial)
		cv.pertCap.SetText(fmt.Sprintf("L2 %.3f · L∞ %.3f (%.0f/255)\namplified ×%.0f", l2, linf, linf*255, amp))
	}
}

// perturbationNorms measures adv − clean in [0,1] units over 8-bit pixels.
func perturbationNorms(clean, adv image.Image) (l2, linf float64) {
	b := clean.Bounds()
	c, a := toNRGBA(clean, b.Dx(), b.Dy()), toNRGBA(adv, b.Dx(), b.Dy())
	var s float64
	for i := range c.Pix {
		if i%4 == 3 {
			continue
		}
		d := math.Abs(float64(a.Pix[i])-float64(c.Pix[i])) / 255
		s += d * d
		linf = math.Max(linf, d)
	}
	return math.Sqrt(s), linf
}

// predLines captions an image with every model's top class; with ref set,
// a class that differs from ref's is marked as flipped (✗), one that does
// not as kept (✓).
func predLines(res *AttackResult, preds, ref []Prediction) string {
	var lines []string
	for i, m := range res.Models {
		if i >= len(preds) {
			break
		}
		top := preds[i].Top(1)
		if len(top) == 0 {
			continue
		}
		// The mark leads, so that wrapping cannot part it from its line.
		mark := ""
		if ref != nil {
			if preds[i].Class() != ref[i].Class() {
				mark = "✗ "
			} else {
				mark = "✓ "
			}
		}
		lines = append(lines, fmt.Sprintf("%s%s: %s (%.0f%%)", mark, m.Name(), labelOf(m.Labels(), top[0].Class), 100*top[0].Prob))
	}
	return strings.Join(lines, "\n")
}

func (cv *compareView) gridLen() int {
	if cv.res == nil {
		return 0
	}
	return len(cv.res.Items)
}

func (cv *compareView) gridCreate() fyne.CanvasObject {
	img := newImageView(nil, fyne.NewSize(96, 96))
	frame := canvas.NewRectangle(color.Transparent)
	frame.StrokeWidth = 3
	// Two lines: the class seen now, and under it the class seen before
	// (blank when the prediction held), each truncated on its own.
	label := widget.NewLabel("new\nold")
	label.SizeName = theme.SizeNameCaptionText
	label.Alignment = fyne.TextAlignCenter
	label.Truncation = fyne.TextTruncateEllipsis
	return container.NewBorder(nil, label, nil, nil, container.NewStack(img, frame))
}

func (cv *compareView) gridUpdate(id widget.GridWrapItemID, o fyne.CanvasObject) {
	if cv.res == nil || id >= len(cv.res.Items) {
		return
	}
	it := cv.res.Items[id]
	c := o.(*fyne.Container)
	stack := c.Objects[0].(*fyne.Container)
	label := c.Objects[1].(*widget.Label)
	stack.Objects[0].(*imageView).SetImage(it.Adversarial)
	frame := stack.Objects[1].(*canvas.Rectangle)
	src := cv.res.Source
	m := cv.res.Models[src]
	if it.Flipped(src) {
		frame.StrokeColor = color.NRGBA{220, 40, 40, 255}
		label.SetText("✗ " + labelOf(m.Labels(), it.AdvPred[src].Class()) + "\n← " + labelOf(m.Labels(), it.CleanPred[src].Class()))
	} else {
		frame.StrokeColor = color.Transparent
		label.SetText("✓ " + labelOf(m.Labels(), it.AdvPred[src].Class()) + "\n ")
	}
	frame.Refresh()
}

// flippedMarks returns, per grid cell, whether it is marked as flipped.
func (cv *compareView) flippedMarks() []bool {
	if cv.res == nil {
		return nil
	}
	out := make([]bool, len(cv.res.Items))
	for i, it := range cv.res.Items {
		out[i] = it.Flipped(cv.res.Source)
	}
	return out
}

// renderSide draws the side-by-side comparison of the current item into an
// image for export: a fresh copy of the columns laid out at a fixed size and
// painted by Fyne's software renderer, so that the PNG shows what the window
// shows (captions included) at a resolution independent of the window.
func (cv *compareView) renderSide() (image.Image, error) {
	if cv.res == nil || cv.item < 0 || cv.item >= len(cv.res.Items) {
		return nil, fmt.Errorf("there is no comparison to save; run an attack in the Attack tab first")
	}
	it := cv.res.Items[cv.item]
	amp := cv.amplification()
	caption := func(text string) fyne.CanvasObject {
		l := captionLabel()
		l.SetText(text)
		return l
	}
	name := ""
	if s := it.Sample; cv.wb.images != nil && s >= 0 && s < len(cv.wb.images.Samples) {
		name = cv.wb.images.Samples[s].Name
	}
	title := widget.NewLabelWithStyle(fmt.Sprintf("advlab · %s · %s", methodShort(cv.res.Method), name), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l2, linf := perturbationNorms(it.Clean, it.Adversarial)
	min := fyne.NewSize(320, 320)
	obj := container.NewPadded(container.NewBorder(title, nil, nil, nil, sideBySide(
		[3]fyne.CanvasObject{boldLabel("Clean"), boldLabel("Adversarial"), boldLabel(fmt.Sprintf("Perturbation ×%.0f", amp))},
		[3]fyne.CanvasObject{newImageView(it.Clean, min), newImageView(it.Adversarial, min), newImageView(heatMap(it.Clean, it.Adversarial, amp), min)},
		[3]fyne.CanvasObject{caption(predLines(cv.res, it.CleanPred, nil)), caption(predLines(cv.res, it.AdvPred, it.CleanPred)),
			caption(fmt.Sprintf("L2 %.3f · L∞ %.0f/255", l2, linf*255))},
	)))
	c := software.NewCanvas()
	c.SetPadded(false)
	c.SetContent(obj)
	size := obj.MinSize().Max(fyne.NewSize(1080, 0))
	c.Resize(size)
	return c.Capture(), nil
}

// saveComparisonDialog asks where to save the comparison as a PNG.
func (wb *Workbench) saveComparisonDialog() {
	img, err := wb.compare.renderSide()
	if err != nil {
		wb.showError("Saving the comparison", err)
		return
	}
	wb.files.SaveFile("Save the comparison as PNG", "comparison.png", func(path string) {
		wb.saveImages("Saving the comparison", map[string]image.Image{path: img})
	})
}

// saveAdversarialDialog asks for a folder and saves every adversarial image
// of the last attack there as PNG.
func (wb *Workbench) saveAdversarialDialog() {
	res := wb.attack
	if res == nil {
		wb.showError("Saving adversarial images", fmt.Errorf("there are no adversarial images yet; run an attack in the Attack tab first"))
		return
	}
	wb.files.OpenFolder("Folder for the adversarial images", func(dir string) {
		out := map[string]image.Image{}
		for _, it := range res.Items {
			// The index keeps names unique; the sample's path keeps them legible.
			name := fmt.Sprintf("%04d", it.Sample)
			if wb.images != nil && it.Sample < len(wb.images.Samples) {
				rel := wb.images.Samples[it.Sample].Name
				name += "_" + strings.ReplaceAll(strings.TrimSuffix(rel, filepath.Ext(rel)), "/", "_")
			}
			out[filepath.Join(dir, name+"_"+res.Method+".png")] = it.Adversarial
		}
		wb.saveImages("Saving adversarial images", out)
	})
}

// saveImages writes images off the UI goroutine.
func (wb *Workbench) saveImages(what string, imgs map[string]image.Image) {
	end := wb.begin(what + "…")
	wb.tasks.Go(func() {
		var err error
		for path, img := range imgs {
			if err = wb.be.SaveImage(path, img); err != nil {
				break
			}
		}
		wb.tasks.ui(func() {
			end()
			if err != nil {
				wb.showError(what, err)
				return
			}
			wb.setStatus(fmt.Sprintf("%s: wrote %d file(s)", what, len(imgs)))
		})
	})
}
