package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/advlab/advlab/internal/fsutil"
	"github.com/advlab/advlab/zoo"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// transfer measures PGD's transfer between the zoo's signs networks.
func (r *reportRun) transfer() error {
	r.printf("## Transfer between architectures (Szegedy et al.'s Table 2, on the signs models)\n\n")
	r.printf("PGD L∞ 8/255 crafted on each signs model, evaluated on every one:\n\n")
	out, err := r.run("transfer", "--models", strings.Join(r.models[:], ","), "--method", "pgd",
		"--steps", strconv.Itoa(r.n.transferSteps), "--seed", r.seedArg(), "--limit", strconv.Itoa(r.n.transferLimit), "--images", r.test)
	if err != nil {
		return err
	}
	r.md.Write(bytes.TrimSpace(out))
	r.printf("\n\n")
	return nil
}

// szegedy measures Szegedy et al.'s tables on the zoo's MNIST networks,
// writes the whole document beside the report and shows Table 3 in it.
func (r *reportRun) szegedy() error {
	doc := r.path("szegedy.md")
	args := []string{"szegedy", "--zoo", r.zoo + "/digits", "--limit", strconv.Itoa(r.n.szegedyLimit),
		"--steps", strconv.Itoa(r.n.szegedySteps), "--search-steps", strconv.Itoa(r.n.szegedySearch),
		"--seed", r.seedArg(), "-o", doc}
	r.step++
	fmt.Fprintf(r.env.Stderr, "report: [%d] %s\n", r.step, commandLine(args))
	run, _, err := measureSzegedy(r.ctx, &Env{Stdout: io.Discard, Stderr: r.env.Stderr}, args[1:])
	if err != nil {
		return fmt.Errorf("report: `%s` failed: %w", commandLine(args), err)
	}
	var full bytes.Buffer
	run.render(&full)
	if err := fsutil.WriteBytesAtomic(doc, full.Bytes()); err != nil {
		return fmt.Errorf("writing %s: %w", doc, err)
	}
	r.printf("## Szegedy et al. (2013) on the zoo's MNIST networks\n\n")
	r.printf("```sh\n%s\n```\n\n", commandLine(args))
	r.printf("L-BFGS on %d images per network; Tables 1 and 2 are in [szegedy.md](%s), Table 3 follows.\n\n", run.imagesPerNet, r.rel(doc))
	run.renderTable3(&r.md)
	return nil
}

// defenses measures the defenses table of the defenses command.
func (r *reportRun) defenses() error {
	r.printf("## Defenses\n\n")
	common := []string{"--limit", strconv.Itoa(r.n.defensesLimit), "--area", strconv.FormatFloat(r.n.defensesArea, 'g', -1, 64),
		"--steps", strconv.Itoa(r.n.defensesSteps), "--queries", strconv.Itoa(r.n.defensesQueries),
		"--patch-steps", strconv.Itoa(r.n.defensesPatch), "--placements", strconv.Itoa(r.n.placements), "--seed", r.seedArg(), "--json"}
	args := []string{"defenses", "--model", r.models[0]}
	for _, d := range r.n.defenses {
		args = append(args, "--defense", d)
	}
	runs := [][]string{append(args, common...)}
	// Madry et al.'s adversarial training beside the defenses, bare: the
	// input defenses on top of it would only repeat their rows.
	robust, hasRobust := zoo.ModelPath(r.zoo, "signs-resnet-robust")
	if hasRobust {
		runs = append(runs, append([]string{"defenses", "--model", robust}, common...))
	}
	var rep defensesReport
	for _, run := range runs {
		out, err := r.run(run...)
		if err != nil {
			return err
		}
		var part defensesReport
		if err := json.Unmarshal(out, &part); err != nil {
			return fmt.Errorf("report: reading defenses' JSON: %w", err)
		}
		rows := append(rep.Rows, part.Rows...)
		rep, rep.Rows = part, rows
	}
	r.printf("%d demo images; robust accuracy under adaptive AutoAttack L∞ %.4g; a patch of %.3g of the area targeting %q,\n",
		rep.Images, float64(rep.Eps), float64(rep.Area), rep.Target)
	r.printf("trained against each model and measured on it (%d placements per image not of the target); PatchCleanser's certified\n", r.n.placements)
	r.printf("accuracy where it applies.")
	if hasRobust {
		r.printf(" signs-resnet-robust is the same ResNet adversarially trained (PGD, Madry et al. 2018; its sidecar says how):\n")
		r.printf("what stops small perturbations is set beside what a patch does to it.")
	}
	r.printf("\n\n| %s |\n|%s\n", strings.Join(defensesColumns, " | "), strings.Repeat(" --- |", len(defensesColumns)))
	for _, row := range rep.Rows {
		r.printf("| %s |\n", strings.Join(row.cells(pct), " | "))
	}
	for _, row := range rep.Rows {
		for _, w := range row.Warnings {
			r.printf("\nWarning (%s): %s\n", row.Model, w)
		}
	}
	r.printf("\n")
	return nil
}

// writeAttentionPlot draws, for each report (one attribution method
// each), the mean mass inside the patch and inside the control against
// the area they cover, with the diagonal of attention in proportion to
// area.
func writeAttentionPlot(path string, reps []*evalJSON) error {
	p := plot.New()
	p.Title.Text = "Attribution mass inside the patch against its area"
	p.X.Label.Text = "share of the image the patch covers"
	p.Y.Label.Text = "share of the attribution's mass inside it"
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top, p.Legend.Left = true, true
	top := 0.0
	for i, rep := range reps {
		pts, ctl := plotter.XYs{}, plotter.XYs{}
		for _, pt := range rep.Curves[0].Points {
			if pt.Attention == nil || pt.ControlAttention == nil {
				continue
			}
			if a, m := pt.Attention.Area, pt.Attention.Mass; a != nil && m != nil {
				top = math.Max(top, *a)
				pts = append(pts, plotter.XY{X: *a, Y: *m})
			}
			if a, m := pt.ControlAttention.Area, pt.ControlAttention.Mass; a != nil && m != nil {
				ctl = append(ctl, plotter.XY{X: *a, Y: *m})
			}
		}
		for k, xy := range []plotter.XYs{pts, ctl} {
			if len(xy) == 0 {
				continue
			}
			l, s, err := plotter.NewLinePoints(xy)
			if err != nil {
				return fmt.Errorf("plotting %s: %w", rep.Attention, err)
			}
			l.Color, s.Color, s.Shape = plotutil.Color(i), plotutil.Color(i), plotutil.Shape(i)
			name := rep.Attention + ": patch"
			if k == 1 {
				l.Dashes = plotutil.Dashes(1)
				name = rep.Attention + ": " + rep.Control + " control"
			}
			p.Add(l, s)
			p.Legend.Add(name, l, s)
		}
	}
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: math.Max(top, 0.01), Y: math.Max(top, 0.01)}})
	if err != nil {
		return fmt.Errorf("plotting the diagonal: %w", err)
	}
	diag.Dashes = plotutil.Dashes(2)
	p.Add(diag)
	p.Legend.Add("in proportion to area", diag)
	return savePlotPNG(p, 6*vg.Inch, 4*vg.Inch, path)
}
