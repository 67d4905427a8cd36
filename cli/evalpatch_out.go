package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/engine/saliency"
	"github.com/advlab/advlab/internal/fsutil"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// writeEvalOutputs writes the comparison's CSV and plot where asked, and
// prints it as JSON or tables. One patch keeps the single report's shape
// (an EvalReport); several are a patch.Comparison, with a "patch" column
// first in the CSV.
func writeEvalOutputs(env *Env, cmp *patch.Comparison, csvPath, plotPath string, asJSON bool) error {
	single := len(cmp.Patches) == 1
	if csvPath != "" {
		write := cmp.WriteCSV
		if single {
			write = cmp.Patches[0].WriteCSV
		}
		if err := fsutil.WriteFileAtomic(csvPath, write); err != nil {
			return fmt.Errorf("writing %s: %w", csvPath, err)
		}
	}
	if plotPath != "" {
		if err := writeEvalPlot(plotPath, cmp); err != nil {
			return err
		}
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if single {
			return enc.Encode(cmp.Patches[0].EvalReport)
		}
		return enc.Encode(cmp)
	}
	for _, pr := range cmp.Patches {
		printEvalReport(env.Stdout, pr.EvalReport, pr.Patch)
	}
	return nil
}

// printEvalReport writes the human table.
func printEvalReport(w io.Writer, r *patch.EvalReport, path string) {
	goal := fmt.Sprintf("target %q", r.Target)
	if r.Target == "" {
		goal = "untargeted"
	}
	fmt.Fprintf(w, "%s, %s: %d images × %d placements per scale, rotation ±%g°, %s control\n",
		path, goal, r.Images, r.Placements, r.MaxAngleDeg, r.Control)
	first := r.ScaleMode
	if r.Sweep != "" {
		first = string(r.Sweep)
	}
	for _, c := range r.Curves {
		fmt.Fprintf(w, "%s (clean accuracy %s)\n", c.Model, pct(c.CleanAccuracy))
		head := fmt.Sprintf("  %-10s %-8s %-9s %-9s %-9s %-9s", first, "area", "success", "control", "error", "control")
		if r.Distractors > 0 {
			head += fmt.Sprintf(" %-10s %-9s %-9s", "w/ object", "named", "control")
		}
		if r.Attention != "" {
			head += fmt.Sprintf(" %-15s %-15s", r.Attention+" in", "in control")
		}
		fmt.Fprintln(w, head)
		for _, p := range c.Points {
			x := p.Scale
			if p.Value != nil {
				x = *p.Value
			}
			row := fmt.Sprintf("  %-10.3g %-8.3f %-9s %-9s %-9s %-9s", x, p.AreaFraction,
				pct(p.SuccessRate), pct(p.ControlSuccessRate), pct(p.Error), pct(p.ControlError))
			if r.Distractors > 0 {
				row += fmt.Sprintf(" %-10s %-9s %-9s", pct(p.DistractorSuccessRate), pct(p.DistractorNamed), pct(p.ControlDistractorNamed))
			}
			if r.Attention != "" {
				row += fmt.Sprintf(" %-15s %-15s", attentionCell(p.Attention), attentionCell(p.ControlAttention))
			}
			fmt.Fprintln(w, row)
		}
	}
}

// attentionCell is an attention share as "mass% (×ratio)": the share of
// the map inside the region and its ratio to the region's share of the
// image.
func attentionCell(s *saliency.Share) string {
	if s == nil || math.IsNaN(s.Mass) {
		return "n/a"
	}
	return fmt.Sprintf("%s (×%.2f)", pct(s.Mass), s.Ratio())
}

// writeEvalPlot draws each model's success rate against scale, with its
// control dashed beside it: Brown et al.'s Figure 2; with several patches,
// one curve per patch and model. Untargeted reports plot the error instead.
func writeEvalPlot(path string, cmp *patch.Comparison) error {
	r := cmp.Patches[0].EvalReport
	p := plot.New()
	what := "targeted success rate"
	if r.Target == "" {
		what = "untargeted error"
	}
	p.Title.Text = fmt.Sprintf("Patch %s against size", what)
	if r.Target != "" {
		p.Title.Text = fmt.Sprintf("Patch success (target %q) against size", r.Target)
	}
	p.X.Label.Text = map[string]string{"area": "share of the image's area the patch covers", "side": "patch side / image side"}[r.ScaleMode]
	if r.Sweep != "" {
		p.Title.Text = fmt.Sprintf("Patch %s against %s", what, r.Sweep)
		p.X.Label.Text = string(r.Sweep)
	}
	p.Y.Label.Text = what
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = true, true
	i := -1
	for pi, pr := range cmp.Patches {
		for _, c := range pr.Curves {
			i++
			pts, ctl := make(plotter.XYs, 0, len(c.Points)), make(plotter.XYs, 0, len(c.Points))
			for _, pt := range c.Points {
				y, yc := pt.SuccessRate, pt.ControlSuccessRate
				if pr.Target == "" {
					y, yc = pt.Error, pt.ControlError
				}
				x := pt.Scale
				if pt.Value != nil {
					x = *pt.Value
				}
				if !math.IsNaN(y) {
					pts = append(pts, plotter.XY{X: x, Y: y})
				}
				if !math.IsNaN(yc) {
					ctl = append(ctl, plotter.XY{X: x, Y: yc})
				}
			}
			for k, xy := range []plotter.XYs{pts, ctl} {
				if len(xy) == 0 || k == 1 && pi > 0 { // the patches share one control
					continue
				}
				l, s, err := plotter.NewLinePoints(xy)
				if err != nil {
					return fmt.Errorf("plotting %s: %w", c.Model, err)
				}
				l.Color, s.Color = plotutil.Color(i), plotutil.Color(i)
				s.Shape = plotutil.Shape(i)
				name := c.Model
				if len(cmp.Patches) > 1 {
					name += " · " + filepath.Base(pr.Patch)
				}
				if k == 1 {
					l.Dashes = plotutil.Dashes(1)
					name += " (" + r.Control + " control)"
				}
				p.Add(l, s)
				p.Legend.Add(name, l, s)
			}
		}
	}
	return savePlotPNG(p, 6*vg.Inch, 4*vg.Inch, path)
}

// savePlotPNG draws p at w×h as a PNG to path, atomically.
func savePlotPNG(p *plot.Plot, w, h vg.Length, path string) error {
	wt, err := p.WriterTo(w, h, "png")
	if err != nil {
		return fmt.Errorf("drawing the plot: %w", err)
	}
	if err := fsutil.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	}); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
