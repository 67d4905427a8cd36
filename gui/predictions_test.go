package gui

import (
	"errors"
	"fmt"
	"image/color"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// TestPredictionsShowTheTopFive gives a 16-class model's prediction to the
// panel: it shows the five most probable classes in order, each with its
// percentage and a bar of that length, and an error in their place.
func TestPredictionsShowTheTopFive(t *testing.T) {
	test.NewTempApp(t)
	var labels []string
	for i := 0; i < 16; i++ {
		labels = append(labels, fmt.Sprintf("class%02d", i))
	}
	m := &fakeModel{name: "sixteen", labels: labels, side: 8}
	probs := make([]float32, 16)
	// 0.3 to class 9, 0.25 to 2, 0.2 to 14, 0.1 to 5, 0.05 to 0, the rest
	// shared by the other eleven (0.1/11 each, below all five).
	for i := range probs {
		probs[i] = 0.1 / 11
	}
	for c, p := range map[int]float32{9: 0.3, 2: 0.25, 14: 0.2, 5: 0.1, 0: 0.05} {
		probs[c] = p
	}
	pp := newPredictionsPanel()
	pp.SetModels([]Model{m})
	pp.Set(m, Prediction{Probs: probs}, nil)
	c := pp.card(m)
	want := []struct {
		label, pct string
		bar        float64
	}{{"class09", "30.0%", 0.3}, {"class02", "25.0%", 0.25}, {"class14", "20.0%", 0.2}, {"class05", "10.0%", 0.1}, {"class00", "5.0%", 0.05}}
	for i, w := range want {
		if c.labels[i].Text != w.label || c.pcts[i].Text != w.pct || abs(c.bars[i].value-w.bar) > 1e-6 {
			t.Errorf("row %d: %s %s bar %.3f; want %s %s bar %.2f", i, c.labels[i].Text, c.pcts[i].Text, c.bars[i].value, w.label, w.pct, w.bar)
		}
	}
	// The bar's fill is in proportion to the probability.
	c.bars[0].Resize(fyne.NewSize(200, 6))
	r := test.WidgetRenderer(c.bars[0]).(*probBarRenderer)
	if got, full := r.fill.Size().Width, r.track.Size().Width; abs(float64(got/full)-0.3) > 0.01 {
		t.Errorf("bar fill %.1f of %.1f; want 30%%", got, full)
	}

	pp.Set(m, Prediction{}, errors.New("running sixteen: out of memory"))
	if c.labels[0].Text != "" || c.bars[0].value != 0 || !strings.Contains(c.status.Text, "out of memory") {
		t.Errorf("after an error: row 0 %q, status %q", c.labels[0].Text, c.status.Text)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// variantTheme is Fyne's default theme held at one variant, as the system's
// light or dark setting makes it.
type variantTheme struct {
	fyne.Theme
	v fyne.ThemeVariant
}

func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.v)
}

// TestCustomWidgetsFollowTheTheme switches the app between the light and the
// dark variant and checks that the widgets that draw their own colours (the
// plots, the probability bars) take the variant's colours.
func TestCustomWidgetsFollowTheTheme(t *testing.T) {
	a := test.NewTempApp(t)
	p := newPlotView("Loss", plotMinForTest)
	p.SetSeries([]series{{Name: "loss", Color: seriesColor(0), X: []float64{0, 1}, Y: []float64{1, 0}}})
	b := newProbBar()
	b.SetValue(0.5)
	w := test.NewTempWindow(t, nil)
	w.SetContent(fyne.NewContainerWithoutLayout(p, b))
	p.Resize(plotMinForTest)
	b.Resize(fyne.NewSize(100, 6))
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark, theme.VariantLight} {
		th := variantTheme{theme.DefaultTheme(), v}
		a.Settings().SetTheme(th)
		p.Refresh()
		b.Refresh()
		var title *canvas.Text
		for _, o := range test.WidgetRenderer(p).Objects() {
			if tx, ok := o.(*canvas.Text); ok && tx.Text == "Loss" {
				title = tx
			}
		}
		if title == nil || title.Color != th.Color(theme.ColorNameForeground, v) {
			t.Errorf("variant %d: plot title colour %v; want the foreground %v", v, title, th.Color(theme.ColorNameForeground, v))
		}
		r := test.WidgetRenderer(b).(*probBarRenderer)
		if r.track.FillColor != th.Color(theme.ColorNameInputBackground, v) || r.fill.FillColor != th.Color(theme.ColorNamePrimary, v) {
			t.Errorf("variant %d: bar track %v, fill %v", v, r.track.FillColor, r.fill.FillColor)
		}
	}
}
