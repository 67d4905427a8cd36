package cli

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// render writes the Markdown report of a szegedy run.
func (r *szegedyRun) render(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	subset := "all"
	if r.limit > 0 {
		subset = fmt.Sprintf("a subset of (at most %d)", r.limit)
	}
	p("# Szegedy et al. (2013) on advlab's MNIST zoo\n\n")
	p("This file is generated: `advlab szegedy %s` (see `cli/szegedy*.go`). It repeats the MNIST experiments of\n", r.args)
	p("Section 4.3 of *Intriguing properties of neural networks* (Szegedy, Zaremba, Sutskever, Bruna, Erhan, Goodfellow,\n")
	p("Fergus; arXiv:1312.6199) with advlab's box-constrained L-BFGS attack on the networks of `%s`, using %s\n", r.zoo, subset)
	p("the held-out sample images in `%s`: **%d images**, spread evenly over the classes. It took %s.\n\n", r.images, r.imagesPerNet, r.elapsed.Round(time.Second))

	p("## Method\n\n")
	p("- **Attack**: for each image x and target label l, minimise c·‖r‖₂² + CE(x + r, l) subject to x + r ∈ [0,1]⁷⁸⁴ with\n")
	p("  advlab's projected L-BFGS (`engine/lbfgsb.go`, memory %d, at most %d iterations per c), and search c per image for\n", r.opts.Memory, r.opts.MaxIterations)
	p("  the largest value whose minimiser is classified l (%d values: ×10 steps from c = %g until the boundary is bracketed, then\n", r.opts.SearchSteps, r.opts.InitialConst)
	p("  geometric bisection). The smallest perturbation classified l at any evaluated point is kept. The paper penalises\n")
	p("  c·|r|; we use the squared norm, as most reimplementations do, which is smooth at r = 0.\n")
	p("- **Target**: a uniformly random wrong label per image (seed %d), the same for every network.\n", r.seed)
	p("- **Distortion**: sqrt(Σ r²/n) with n = 784 pixels in [0,1], the paper's measure, averaged over the successful examples.\n")
	p("- **Error on the examples** (Table 2): a network's error rate on the adversarial set of the row network: every image,\n")
	p("  with the clean image where the row network was already wrong or the attack failed. The noise rows add\n")
	p("  N(0, σ²) to every pixel and clip to [0,1] (so the measured distortion is a little under σ).\n\n")

	p("## Table 1: test error and minimal distortion\n\n")
	p("| Network | Description | paper: train err. | paper: test err. | paper: av. min. distortion | advlab: test err. (zoo split) | advlab: err. on the %d images | advlab: av. min. distortion | advlab: L-BFGS success |\n", r.imagesPerNet)
	p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for i, n := range szegedyNets {
		test := paperPct(n.TestErr)
		if n.TestErrNote != "" {
			test = n.TestErrNote
		}
		row := r.tab.Rows[i]
		p("| %s | %s | %s | %s | %.3g | %s | %s | %.3f | %s |\n", n.Paper, n.Desc, paperPct(n.TrainErr), test, n.Distortion,
			pctOr(r.sidecarErr[i], "n/a"), pct(float64(r.tab.CleanError[i])), float64(row.RMSMean), pct(float64(row.AttackSuccessRate)))
	}
	p("\n")
	for i, n := range szegedyNets {
		p("- %s\n", r.table1Sentence(i, n))
	}
	p("\n")

	p("## Table 2: cross-model generalisation\n\n")
	p("Each cell is the error of the column network on the examples crafted for the row network: **advlab** (paper).\n")
	p("The paper's figures are transcribed from its Table 2 as we remember it; check them against the paper before citing.\n\n")
	head := []string{""}
	for _, n := range szegedyNets {
		head = append(head, n.Paper)
	}
	head = append(head, "av. distortion")
	p("| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat(" --- |", len(head)))
	rows := append(append([]transferRow(nil), r.tab.Rows...), r.noise...)
	for i, row := range rows {
		paper := szegedyTable2[i]
		cells := []string{paper.Row}
		for j, e := range row.Errors {
			cells = append(cells, fmt.Sprintf("**%s** (%s)", pct(float64(e)), paperPct(paper.Errors[j])))
		}
		cells = append(cells, fmt.Sprintf("**%.3f** (%.3g)", float64(row.RMSMean), paper.Dist))
		p("| %s |\n", strings.Join(cells, " | "))
	}
	p("\n")
	for i, row := range rows {
		p("- %s\n", r.table2Sentence(i, row))
	}
	for _, n := range r.tab.Notes {
		p("\nNote: %s.\n", n)
	}
	p("\n## Why the numbers differ\n\n")
	p("- **Training data.** The zoo's networks are trained on the 8,000-image training split of the 10,000 MNIST digits that\n")
	p("  `tools/zoo` can fetch, not on the 60,000 images of the paper, with modern optimisers and their own weight-decay\n")
	p("  recipes; the \"test err.\" column is measured on the zoo's 2,000-image held-out split (from each model's sidecar)\n")
	p("  and the next column on the images attacked here. Less data and different training move both error and distortion.\n")
	p("- **Subset.** The distortions and Table 2 are averages over %d images, not the whole test set; with %d images one\n", r.imagesPerNet, r.imagesPerNet)
	p("  image is %.1f percentage points, so differences of a few points are noise.\n", 100/float64(max(r.imagesPerNet, 1)))
	p("- **Objective and search.** c·‖r‖² instead of c·|r|, our search schedule over c, and our iteration limits find\n")
	p("  smaller or larger minima than the paper's unpublished settings; the minimum is only as minimal as the search.\n")
	p("- **Targets.** The paper does not say how target labels were chosen; a random wrong label gives larger distortions\n")
	p("  than the nearest class would.\n")
	p("- **Failures and clean errors.** Images a network already misclassifies are not attacked, and an attack that fails\n")
	p("  leaves the clean image; both enter Table 2 as they are, so the diagonal is the adversarial error, not a forced 100%%.\n")
}

// table1Sentence compares one network's Table 1 figures with the paper's.
func (r *szegedyRun) table1Sentence(i int, n szegedyNet) string {
	ours := float64(r.tab.Rows[i].RMSMean)
	s := fmt.Sprintf("**%s**: minimal distortion %.3f against the paper's %.3f (%s)", n.Paper, ours, n.Distortion, ratio(ours, n.Distortion))
	if e := r.sidecarErr[i]; !math.IsNaN(e) {
		ref := n.TestErr
		if math.IsNaN(ref) {
			s += fmt.Sprintf("; test error %s (the paper's: see paper)", pct(e))
		} else {
			s += fmt.Sprintf("; test error %s against %s", pct(e), paperPct(ref))
		}
	}
	if sr := float64(r.tab.Rows[i].AttackSuccessRate); sr < 1 {
		s += fmt.Sprintf("; L-BFGS reached its target on %s of the images it attacked, where the paper reports every attack succeeding", pct(sr))
	}
	return s + "."
}

// table2Sentence summarises one row of Table 2 against the paper's.
func (r *szegedyRun) table2Sentence(i int, row transferRow) string {
	paper := szegedyTable2[i]
	var ours, theirs float64
	k := 0
	for j, e := range row.Errors {
		if j == i {
			continue
		}
		ours += float64(e)
		theirs += paper.Errors[j]
		k++
	}
	ours, theirs = ours/float64(k), theirs/float64(k)
	if i >= len(r.tab.Rows) {
		return fmt.Sprintf("**%s** raises the networks' error to %s on average, the paper's to %s (%s).",
			paper.Row, pct(meanErr(row.Errors)), pct(meanF(paper.Errors[:])), ratio(meanErr(row.Errors), meanF(paper.Errors[:])))
	}
	return fmt.Sprintf("Examples crafted on **%s** fool the other networks %s of the time on average (paper %s, %s), "+
		"and their own network %s (paper 100%%), at distortion %.3f (paper %.3g).",
		paper.Row, pct(ours), pct(theirs), ratio(ours, theirs), pct(float64(row.Errors[i])), float64(row.RMSMean), paper.Dist)
}

// ratio describes a/b in words.
func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "no ratio"
	}
	return fmt.Sprintf("%.2f× the paper's", a/b)
}

// paperPct prints a figure of the paper with the precision it was given in.
func paperPct(v float64) string {
	if math.IsNaN(v) {
		return "see paper"
	}
	return fmt.Sprintf("%g%%", math.Round(v*10000)/100)
}

func pctOr(v float64, alt string) string {
	if math.IsNaN(v) {
		return alt
	}
	return pct(v)
}

func meanErr(v []jsonFloat) float64 {
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	return s / float64(len(v))
}

func meanF(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
