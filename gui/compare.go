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

// gridCellSide is the side of a grid cell's image.
const gridCellSide = 96

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
	auto    *widget.Check
	// scaleBar is the heat map's colour scale, from 0 to scaleHigh.
	scaleBar  *imageView
	scaleHigh *widget.Label
	// prev and next step through the attacked images side by side;
	// position says which one is shown.
	prev, next *widget.Button
	position   *widget.Label
	ampRow     fyne.CanvasObject // hidden in grid mode, which shows no heat map
	summary    *widget.Label
	// attackSummary and attackMethod are the last results' summary and
	// attack, kept by a session when their images are not.
	attackSummary, attackMethod string

	clean, adv, pert          *compareImage
	vp                        viewport // their zoom and pan, shared
	zoomIn, zoomOut, fit      *widget.Button
	zoomText                  *widget.Label
	cleanCap, advCap, pertCap *widget.Label
	advTitle                  *widget.Label
	side                      fyne.CanvasObject

	grid    *widget.GridWrap
	cells   []*gridImage // the grid's images, which share the zoom
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
	cv.amp.OnChanged = func(float64) {
		if cv.auto.Checked {
			cv.auto.SetChecked(false) // moving the slider asks for its gain
		}
		cv.showItem()
	}
	cv.auto = widget.NewCheck("Auto range", func(bool) { cv.showItem() })
	cv.auto.SetChecked(true)
	cv.scaleBar = newImageView(colourScale(256, 8), fyne.NewSize(48, 10))
	cv.scaleHigh = widget.NewLabel("")
	cv.scaleHigh.SizeName = theme.SizeNameCaptionText
	cv.prev = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { cv.step(-1) })
	cv.next = widget.NewButtonWithIcon("", theme.NavigateNextIcon(), func() { cv.step(1) })
	cv.position = widget.NewLabel("")
	cv.summary = widget.NewLabel(compareHint)
	cv.summary.Wrapping = fyne.TextWrapWord

	imgMin := fyne.NewSize(160, 160)
	cv.clean, cv.adv, cv.pert = newCompareImage(cv, imgMin), newCompareImage(cv, imgMin), newCompareImage(cv, imgMin)
	cv.cleanCap, cv.advCap, cv.pertCap = captionLabel(), captionLabel(), captionLabel()
	cv.advTitle = boldLabel("Adversarial")
	cv.side = sideBySide(
		[3]fyne.CanvasObject{boldLabel("Clean"), cv.advTitle, boldLabel("Perturbation (heat map)")},
		[3]fyne.CanvasObject{cv.clean, cv.adv, cv.pert},
		[3]fyne.CanvasObject{cv.cleanCap, cv.advCap, container.NewVBox(
			container.NewBorder(nil, nil, captionText("0"), cv.scaleHigh, cv.scaleBar), cv.pertCap)})

	cv.grid = widget.NewGridWrap(cv.gridLen, cv.gridCreate, cv.gridUpdate)
	cv.grid.OnSelected = func(id widget.GridWrapItemID) {
		cv.grid.UnselectAll()
		cv.openItem(id)
	}

	saveCmp := widget.NewButtonWithIcon("Save PNG…", theme.DocumentSaveIcon(), wb.saveComparisonDialog)
	saveAdv := widget.NewButtonWithIcon("Save images…", theme.FolderOpenIcon(), wb.saveAdversarialDialog)
	bar := container.NewHBox(cv.mode, layout.NewSpacer(), saveCmp, saveAdv)
	cv.ampRow = container.NewBorder(nil, nil, cv.auto, cv.ampText, cv.amp)
	nav := container.NewBorder(nil, nil, container.NewHBox(cv.prev, cv.position, cv.next), cv.zoomControls(), cv.ampRow)
	cv.body = container.NewStack(cv.side)
	cv.content = container.NewBorder(container.NewVBox(bar, nav, cv.summary), nil, nil, nil, cv.body)
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

// captionText is a small fixed text.
func captionText(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.SizeName = theme.SizeNameCaptionText
	return l
}

// step shows the previous (d = −1) or next (d = 1) attacked image side by
// side, and makes it the canvas's image.
func (cv *compareView) step(d int) {
	if cv.res == nil || len(cv.res.Items) == 0 {
		return
	}
	k := cv.item + d
	if k < 0 || k >= len(cv.res.Items) {
		return
	}
	cv.item = k
	cv.mode.SetSelected(modeSide)
	cv.wb.selectImage(cv.res.Items[k].Sample)
	cv.showItem()
}

// showPosition says which attacked image is shown and enables the steps
// that lead somewhere.
func (cv *compareView) showPosition() {
	if cv.res == nil || len(cv.res.Items) == 0 {
		cv.position.SetText("")
		cv.prev.Disable()
		cv.next.Disable()
		return
	}
	cv.position.SetText(fmt.Sprintf("%d/%d", cv.item+1, len(cv.res.Items)))
	enable := func(b *widget.Button, on bool) {
		if on {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	enable(cv.prev, cv.item > 0)
	enable(cv.next, cv.item < len(cv.res.Items)-1)
}

func captionLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Wrapping = fyne.TextWrapWord
	l.Alignment = fyne.TextAlignCenter
	return l
}

// amplification is the heat map's gain: with Auto range, the one that
// spans the colour map over this image's largest change; otherwise the
// slider's.
func (cv *compareView) amplification() float64 {
	if cv.auto.Checked && cv.res != nil && cv.item >= 0 && cv.item < len(cv.res.Items) {
		it := cv.res.Items[cv.item]
		if d := maxAbsDiff(it.Clean, it.Adversarial); d > 0 {
			return 1 / d
		}
	}
	return math.Pow(10, cv.amp.Value)
}

// heatScaleText says what the heat map's colours stand for; a perturbation
// of one size everywhere (FGSM, Square) shows as one colour, and says so.
func (cv *compareView) heatScaleText(it AttackItem) string {
	hi, atHi := diffStats(it.Clean, it.Adversarial)
	if hi == 0 {
		return "no pixel changed"
	}
	s := fmt.Sprintf("colours: 0 to %.1f/255 (×%.0f)", 255/cv.amplification(), cv.amplification())
	if atHi >= 0.9 {
		s += fmt.Sprintf("; %.0f%% of pixels changed by the most, %.0f/255, hence mostly one colour", 100*atHi, hi*255)
	}
	return s
}

// compareHint is the Compare view's summary while it has no results.
const compareHint = "Run an attack in the Attack tab to compare clean and adversarial images."

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
	text := summaryText(res)
	cv.attackSummary, cv.attackMethod = text, res.Method
	if w := cv.wb.fitWarning(res.Models...); w != "" {
		text = w + "\n" + text // the figures of an unfit pair are artefacts
	}
	cv.summary.SetText(text)
	cv.showPosition()
	cv.advTitle.SetText("Adversarial (" + methodShort(res.Method) + ")")
	if len(res.Items) > 1 && cv.mode.Selected == "" {
		cv.mode.SetSelected(modeGrid)
	}
	cv.grid.Refresh()
	cv.vp = viewport{} // a new result shows its images whole
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
	cv.setViewport(cv.vp) // kept on these images
	cv.clean.SetImage(it.Clean)
	cv.adv.SetImage(it.Adversarial)
	cv.refreshOverlay()
	cv.pert.SetImage(heatMap(it.Clean, it.Adversarial, amp))
	cv.cleanCap.SetText(cleanCaption(cv.res, it, cv.sampleOf(it)))
	cv.advCap.SetText(advCaption(cv.res, it))
	l2, linf := it.L2, it.Linf
	if l2 == 0 && linf == 0 {
		l2, linf = perturbationNorms(it.Clean, it.Adversarial)
	}
	cv.pertCap.SetText(fmt.Sprintf("L2 %.3f · L∞ %.3f (%.1f/255)\n%s", l2, linf, linf*255, cv.heatScaleText(it)))
	cv.scaleHigh.SetText(fmt.Sprintf("%.1f/255", 255/amp))
	cv.showPosition()
}

// sampleOf returns the image set's sample it was made from, or nil when
// the set changed since.
func (cv *compareView) sampleOf(it AttackItem) *Sample {
	if s := it.Sample; cv.wb.images != nil && s >= 0 && s < len(cv.wb.images.Samples) {
		return &cv.wb.images.Samples[s]
	}
	return nil
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

// openItem shows the result's item id side by side.
func (cv *compareView) openItem(id int) {
	if cv.res == nil || id < 0 || id >= len(cv.res.Items) {
		return
	}
	cv.wb.selectImage(cv.res.Items[id].Sample)
	cv.item = id
	cv.mode.SetSelected(modeSide)
}

func (cv *compareView) gridLen() int {
	if cv.res == nil {
		return 0
	}
	return len(cv.res.Items)
}

func (cv *compareView) gridCreate() fyne.CanvasObject {
	img := newGridImage(cv)
	frame := canvas.NewRectangle(color.Transparent)
	frame.StrokeWidth = 3
	// Three lines (gridCaption), each truncated on its own; the cell is
	// wider than its image so that a class name of a dozen letters fits.
	label := widget.NewLabel("CHANGED → no-entry\nwas speed-30\n8-bit: CHANGED")
	label.SizeName = theme.SizeNameCaptionText
	label.Alignment = fyne.TextAlignCenter
	label.Truncation = fyne.TextTruncateEllipsis
	width := canvas.NewRectangle(color.Transparent)
	width.SetMinSize(fyne.NewSize(gridCellSide*5/4, 0))
	return container.NewBorder(nil, label, nil, nil, container.NewStack(img, frame, width))
}

func (cv *compareView) gridUpdate(id widget.GridWrapItemID, o fyne.CanvasObject) {
	if cv.res == nil || id >= len(cv.res.Items) {
		return
	}
	it := cv.res.Items[id]
	c := o.(*fyne.Container)
	stack := c.Objects[0].(*fyne.Container)
	label := c.Objects[1].(*widget.Label)
	img := stack.Objects[0].(*gridImage)
	img.id = id
	img.SetImage(it.Adversarial)
	frame := stack.Objects[1].(*canvas.Rectangle)
	src := cv.res.Source
	label.SetText(gridCaption(cv.res, it))
	if it.Flipped(src) {
		frame.StrokeColor = color.NRGBA{220, 40, 40, 255}
	} else {
		frame.StrokeColor = color.Transparent
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
	name, s := "", cv.sampleOf(it)
	if s != nil {
		name = s.Name
	}
	title := widget.NewLabelWithStyle(fmt.Sprintf("advlab · %s · %s", methodShort(cv.res.Method), name), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l2, linf := perturbationNorms(it.Clean, it.Adversarial)
	min := fyne.NewSize(320, 320)
	obj := container.NewPadded(container.NewBorder(title, nil, nil, nil, sideBySide(
		[3]fyne.CanvasObject{boldLabel("Clean"), boldLabel("Adversarial"), boldLabel(fmt.Sprintf("Perturbation ×%.0f", amp))},
		[3]fyne.CanvasObject{newImageView(it.Clean, min), newImageView(it.Adversarial, min), newImageView(heatMap(it.Clean, it.Adversarial, amp), min)},
		[3]fyne.CanvasObject{caption(cleanCaption(cv.res, it, s)), caption(advCaption(cv.res, it)),
			caption(fmt.Sprintf("L2 %.3f · L∞ %.0f/255\n%s", l2, linf*255, cv.heatScaleText(it)))},
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
