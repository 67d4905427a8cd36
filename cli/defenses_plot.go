package cli

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// defensesBars are the figures drawn per row, in the order of the bars.
var defensesBars = []struct {
	name string
	of   func(defensesRow) float64
}{
	{"clean accuracy", func(r defensesRow) float64 { return float64(r.CleanAccuracy) }},
	{"robust accuracy (AutoAttack)", func(r defensesRow) float64 { return float64(r.RobustAccuracy) }},
	{"targeted patch success", func(r defensesRow) float64 { return float64(r.PatchSuccess) }},
	{"untargeted patch success", func(r defensesRow) float64 { return float64(r.UntargetedPatchSuccess) }},
}

// writeDefensesPlot draws one group of bars per row (model and defense):
// clean accuracy, robust accuracy, targeted and untargeted patch success.
func writeDefensesPlot(path string, r defensesReport) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Defenses: AutoAttack L∞ %.4g, patches of %.3g of the area", float64(r.Eps), float64(r.Area))
	p.Y.Label.Text = "rate"
	p.Y.Min, p.Y.Max = 0, 1.25 // room for the legend above the bars
	p.Legend.Top = true
	var names []string
	for _, row := range r.Rows {
		names = append(names, row.Model)
	}
	width := vg.Points(12)
	for k, b := range defensesBars {
		vals := make(plotter.Values, len(r.Rows))
		for i, row := range r.Rows {
			if v := b.of(row); !math.IsNaN(v) {
				vals[i] = v
			}
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return fmt.Errorf("plotting %s: %w", b.name, err)
		}
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(k)
		bars.Offset = width * vg.Length(2*k-len(defensesBars)+1) / 2
		p.Add(bars)
		p.Legend.Add(b.name, bars)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4 // room for the outer bars
	p.X.Tick.Label.Rotation = math.Pi / 8
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = -0.9, -0.5
	return savePlotPNG(p, vg.Length(max(6, 1.5*float64(len(r.Rows))))*vg.Inch, 4.5*vg.Inch, path)
}
