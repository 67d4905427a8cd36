package gui

import (
	"fmt"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// topK is the number of classes the prediction panel shows per model.
const topK = 5

// predictionsPanel shows, for every loaded model, the top-5 classes of the
// image on the canvas with probability bars.
type predictionsPanel struct {
	box     *fyne.Container
	content fyne.CanvasObject
	cards   []*predictionCard
}

// predictionCard is one model's top-5.
type predictionCard struct {
	model  Model
	title  *widget.Label
	labels [topK]*widget.Label
	pcts   [topK]*widget.Label
	bars   [topK]*probBar
	status *widget.Label
	box    *fyne.Container
}

func newPredictionsPanel() *predictionsPanel {
	pp := &predictionsPanel{box: container.NewVBox()}
	header := widget.NewLabelWithStyle("Predictions", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	pp.content = container.NewBorder(header, nil, nil, nil, container.NewVScroll(pp.box))
	return pp
}

// SetModels makes one card per model, empty until Set.
func (pp *predictionsPanel) SetModels(models []Model) {
	pp.cards = nil
	pp.box.RemoveAll()
	for _, m := range models {
		c := &predictionCard{model: m, box: container.NewVBox()}
		c.title = widget.NewLabelWithStyle(m.Name(), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		c.title.Truncation = fyne.TextTruncateEllipsis
		c.status = widget.NewLabel("…")
		c.status.SizeName = theme.SizeNameCaptionText
		c.box.Add(c.title)
		for i := range c.labels {
			// The label gets the row's whole width (a narrow panel would
			// otherwise cut "pedestrian_crossing" short), the probability
			// sits at its right and a thin bar under both.
			c.labels[i] = widget.NewLabel("")
			c.labels[i].Truncation = fyne.TextTruncateEllipsis
			c.pcts[i] = widget.NewLabel("")
			c.pcts[i].Alignment = fyne.TextAlignTrailing
			c.bars[i] = newProbBar()
			c.box.Add(container.NewVBox(container.NewBorder(nil, nil, nil, c.pcts[i], c.labels[i]), c.bars[i]))
		}
		c.box.Add(c.status)
		pp.cards = append(pp.cards, c)
		pp.box.Add(c.box)
		pp.box.Add(widget.NewSeparator())
	}
	pp.box.Refresh()
}

func (pp *predictionsPanel) card(m Model) *predictionCard {
	for _, c := range pp.cards {
		if c.model == m {
			return c
		}
	}
	return nil
}

// Set shows m's prediction, or err in its place.
func (pp *predictionsPanel) Set(m Model, p Prediction, err error) {
	c := pp.card(m)
	if c == nil {
		return
	}
	if err != nil {
		for i := range c.labels {
			c.labels[i].SetText("")
			c.pcts[i].SetText("")
			c.bars[i].SetValue(0)
		}
		c.status.SetText("Error: " + err.Error())
		c.status.Wrapping = fyne.TextWrapWord
		return
	}
	labels := m.Labels()
	top := p.Top(topK)
	for i := range c.labels {
		if i >= len(top) {
			c.labels[i].SetText("")
			c.pcts[i].SetText("")
			c.bars[i].SetValue(0)
			continue
		}
		c.labels[i].SetText(labelOf(labels, top[i].Class))
		c.pcts[i].SetText(fmt.Sprintf("%.1f%%", 100*top[i].Prob))
		c.bars[i].SetValue(float64(top[i].Prob))
	}
	c.status.Wrapping = fyne.TextWrapOff
	c.status.SetText("")
}

// Top returns the label and probability text of m's most probable class, as
// shown.
func (pp *predictionsPanel) Top(m Model) string {
	if c := pp.card(m); c != nil && c.labels[0].Text != "" {
		return c.labels[0].Text + "  " + c.pcts[0].Text
	}
	return ""
}

// labelOf returns labels[i], or the index when the model has no such label.
func labelOf(labels []string, i int) string {
	if i >= 0 && i < len(labels) {
		return labels[i]
	}
	return fmt.Sprint(i)
}

// probBar is a thin horizontal bar filled in proportion to a probability,
// in the theme's primary colour over its input background.
type probBar struct {
	widget.BaseWidget
	value float64
}

func newProbBar() *probBar {
	b := &probBar{}
	b.ExtendBaseWidget(b)
	return b
}

// SetValue sets the filled fraction, in [0, 1].
func (b *probBar) SetValue(v float64) {
	if v != b.value {
		b.value = v
		b.Refresh()
	}
}

// CreateRenderer is part of fyne.Widget.
func (b *probBar) CreateRenderer() fyne.WidgetRenderer {
	r := &probBarRenderer{b: b, track: canvas.NewRectangle(color.Transparent), fill: canvas.NewRectangle(color.Transparent)}
	r.track.CornerRadius, r.fill.CornerRadius = 2, 2
	r.Refresh()
	return r
}

type probBarRenderer struct {
	b           *probBar
	track, fill *canvas.Rectangle
}

func (r *probBarRenderer) Destroy()                     {}
func (r *probBarRenderer) MinSize() fyne.Size           { return fyne.NewSize(40, 6) }
func (r *probBarRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.track, r.fill} }

func (r *probBarRenderer) Layout(size fyne.Size) {
	pad := theme.InnerPadding()
	w := max(size.Width-2*pad, 0)
	r.track.Move(fyne.NewPos(pad, 0))
	r.track.Resize(fyne.NewSize(w, size.Height))
	r.fill.Move(fyne.NewPos(pad, 0))
	r.fill.Resize(fyne.NewSize(w*float32(min(max(r.b.value, 0), 1)), size.Height))
}

func (r *probBarRenderer) Refresh() {
	th := r.b.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.track.FillColor = th.Color(theme.ColorNameInputBackground, v)
	r.fill.FillColor = th.Color(theme.ColorNamePrimary, v)
	r.Layout(r.b.Size())
	r.track.Refresh()
	r.fill.Refresh()
}
