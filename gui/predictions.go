package gui

import (
	"fmt"

	"fyne.io/fyne/v2"
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
	bars   [topK]*widget.ProgressBar
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
			c.labels[i] = widget.NewLabel("")
			c.labels[i].Truncation = fyne.TextTruncateEllipsis
			c.bars[i] = widget.NewProgressBar()
			c.bars[i].TextFormatter = func() string { return "" }
			row := container.NewGridWithColumns(2, c.labels[i], c.bars[i])
			c.box.Add(row)
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
			c.bars[i].SetValue(0)
			continue
		}
		c.labels[i].SetText(fmt.Sprintf("%s  %.1f%%", labelOf(labels, top[i].Class), 100*top[i].Prob))
		c.bars[i].SetValue(float64(top[i].Prob))
	}
	c.status.Wrapping = fyne.TextWrapOff
	c.status.SetText("")
}

// Top returns the label and probability text of m's most probable class, as
// shown.
func (pp *predictionsPanel) Top(m Model) string {
	if c := pp.card(m); c != nil {
		return c.labels[0].Text
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
