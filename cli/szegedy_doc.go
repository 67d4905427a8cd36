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
	p("  N(0, σ²) to every pixel and clip to [0,1] (so the measured distortion is below σ: see Table 2's last column).\n\n")

	p("## Table 1: test error and minimal distortion\n\n")
	p("| Network | Description | paper: train err. | paper: test err. | paper: av. min. distortion | advlab: train err. | advlab: test err. (zoo split) | advlab: err. on the %d images | advlab: av. min. distortion | advlab: L-BFGS success |\n", r.imagesPerNet)
	p("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for i, n := range szegedyNets {
		row, f := r.tab.Rows[i], r.facts[i]
		p("| %s | %s | %s | %s | %.3g | %s | %s | %s | %.3f | %s |\n", n.Paper, n.Desc, paperPct(n.TrainErr), paperPct(n.TestErr), n.Distortion,
			pct(f.trainErr), pct(f.testErr), pct(float64(r.tab.CleanError[i])), float64(row.RMSMean), pct(float64(row.AttackSuccessRate)))
	}
	p("\n")
	for i, n := range szegedyNets {
		p("- %s\n", r.table1Sentence(i, n))
	}
	p("- %s\n\n", r.trendSentence())

	p("## Table 2: cross-model generalisation\n\n")
	p("Each cell is the error of the column network on the examples crafted for the row network: **advlab** (paper).\n")
	p("The paper's figures are transcribed from Table 2 of arXiv:1312.6199v4.\n\n")
	head := []string{""}
	for _, n := range szegedyNets {
		head = append(head, n.Paper)
	}
	head = append(head, "av. distortion")
	p("| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat(" --- |", len(head)))
	clean := []string{"clean images (advlab only)"}
	for _, e := range r.tab.CleanError {
		clean = append(clean, fmt.Sprintf("**%s**", pct(float64(e))))
	}
	p("| %s | |\n", strings.Join(clean, " | "))
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
	p("\n")
	r.renderTable3(w)
	p("## Why the numbers differ\n\n")
	data := "a small part of MNIST"
	if n := r.facts[0].trainImages; n > 0 {
		data = fmt.Sprintf("the %s-image training split", thousands(n))
	}
	p("- **Training data.** The zoo's networks are trained on %s of the 10,000 MNIST digits that\n", data)
	p("  `tools/zoo` can fetch, not on the 60,000 images of the paper, with modern optimisers and their own weight-decay\n")
	p("  recipes; the \"test err.\" column is measured on the zoo's 2,000-image held-out split (from each model's sidecar)\n")
	p("  and the next column on the images attacked here. %s\n", r.sigmoidFit())
	p("- **Subset.** The distortions and Table 2 are averages over %d images, not the whole test set; with %d images one\n", r.imagesPerNet, r.imagesPerNet)
	p("  image is %.1f percentage points, so differences of a few points are noise.\n", 100/float64(max(r.imagesPerNet, 1)))
	p("- **Objective and search.** c·‖r‖² instead of c·|r|, our search schedule over c, and our iteration limits find\n")
	p("  smaller or larger minima than the paper's unpublished settings; the minimum is only as minimal as the search.\n")
	p("- **Targets.** The paper does not say how target labels were chosen; a random wrong label gives larger distortions\n")
	p("  than the nearest class would.\n")
	p("- **Failures and clean errors.** Images a network already misclassifies are not attacked, and an attack that fails\n")
	p("  leaves the clean image; both enter Table 2 as they are, so the diagonal is the adversarial error, not a forced 100%%,\n")
	p("  and every cell includes the column network's own errors on the clean images (the table's first row).\n")
	p("- **Noise.** The paper gives its noise rows' distortion as the standard deviation itself (0.1, 0.3), which suggests\n")
	p("  unclipped noise; it does not say. advlab clips to [0,1], as an image must be: on MNIST's black background (pixel 0)\n")
	p("  the negative half of the noise is cut away and the positive half lifts the background by 0.4σ on average (0.04\n")
	p("  and 0.12), a shift of the whole image rather than zero-mean noise, and the measured distortion is below σ.\n")
}

// table1Sentence compares one network's Table 1 figures with the paper's.
func (r *szegedyRun) table1Sentence(i int, n szegedyNet) string {
	row, f := r.tab.Rows[i], r.facts[i]
	mean, lo, hi := meanInterval(row.rms)
	if len(row.rms) == 0 {
		return fmt.Sprintf("**%s**: L-BFGS found no example, so there is no distortion to set beside the paper's %.3g.", n.Paper, n.Distortion)
	}
	var verdict string
	switch {
	case lo <= n.Distortion && n.Distortion <= hi:
		verdict = "consistent with it"
	case mean > n.Distortion:
		verdict = fmt.Sprintf("%.0f%% more", 100*(mean/n.Distortion-1))
	default:
		verdict = fmt.Sprintf("%.0f%% less", 100*(1-mean/n.Distortion))
	}
	s := fmt.Sprintf("**%s**: mean minimal distortion %.3f (95%% interval %.3f–%.3f over %d examples) against the paper's %.3g, %s",
		n.Paper, mean, lo, hi, len(row.rms), n.Distortion, verdict)
	if !math.IsNaN(f.testErr) {
		data := ""
		if f.trainImages > 0 {
			data = fmt.Sprintf("trained on %s digits instead of 60,000, ", thousands(f.trainImages))
		}
		s += fmt.Sprintf("; %sthe zoo's network has train/test error %s/%s against the paper's %s/%s",
			data, pct(f.trainErr), pct(f.testErr), paperPct(n.TrainErr), paperPct(n.TestErr))
		switch q := f.testErr / n.TestErr; {
		case q >= 2:
			s += fmt.Sprintf(": %.1f× the paper's test error", q)
		case q <= 1.25 && q >= 0.8:
			s += ", close to them"
		}
	}
	if sr := float64(row.AttackSuccessRate); sr < 1 {
		s += fmt.Sprintf("; L-BFGS reached its target on %s of the images it attacked, where the paper reports every attack succeeding", pct(sr))
	}
	return s + "."
}

// sigmoidFit says how the zoo's two sigmoid networks compare with the
// paper's on training and test error.
func (r *szegedyRun) sigmoidFit() string {
	a, b := r.facts[3], r.facts[4]
	if math.IsNaN(a.testErr) || math.IsNaN(b.testErr) || math.IsNaN(a.trainErr) || math.IsNaN(b.trainErr) {
		return "Less data and different training move both error and distortion."
	}
	return fmt.Sprintf("The two sigmoid networks fit their training\n"+
		"  sets (train error %s and %s; the paper's 0%%) but have %.1f× and %.1f× the paper's test error: they are not the\n"+
		"  paper's networks, and the transfer to and from them need not match the paper's.",
		pct(a.trainErr), pct(b.trainErr), a.testErr/szegedyNets[3].TestErr, b.testErr/szegedyNets[4].TestErr)
}

// trendSentence checks the two orderings Table 1 of the paper shows:
// softmax regression needs more distortion the stronger its weight decay,
// and the autoencoder network more than both sigmoid networks.
func (r *szegedyRun) trendSentence() string {
	d := func(i int) float64 { return float64(r.tab.Rows[i].RMSMean) }
	same := func(ok bool) string {
		if ok {
			return "the same order"
		}
		return "not the paper's order"
	}
	return fmt.Sprintf("**Trends.** In the paper, softmax regression needs more distortion the stronger its weight decay "+
		"(0.062, 0.1, 0.14); here %.3f, %.3f, %.3f: %s. In the paper AE400-10 needs more than both sigmoid networks "+
		"(0.086 against 0.058 and 0.065); here %.3f against %.3f and %.3f: %s.",
		d(0), d(1), d(2), same(d(0) < d(1) && d(1) < d(2)), d(5), d(3), d(4), same(d(5) > d(3) && d(5) > d(4)))
}

// table2Sentence sets one row of Table 2 beside the paper's: the mean error
// it causes on the other networks, how much of that the networks get wrong
// on the clean images anyway, and the cell furthest from the paper's.
func (r *szegedyRun) table2Sentence(i int, row transferRow) string {
	paper := szegedyTable2[i]
	var ours, theirs, clean, paperTest float64
	k, far := 0, -1
	for j, e := range row.Errors {
		if j == i {
			continue
		}
		ours += float64(e)
		theirs += paper.Errors[j]
		clean += float64(r.tab.CleanError[j])
		paperTest += szegedyNets[j].TestErr
		if far < 0 || math.Abs(float64(e)-paper.Errors[j]) > math.Abs(float64(row.Errors[far])-paper.Errors[far]) {
			far = j
		}
		k++
	}
	ours, theirs, clean, paperTest = ours/float64(k), theirs/float64(k), clean/float64(k), paperTest/float64(k)
	farNet := szegedyNets[far].Paper
	farCell := fmt.Sprintf("**%s**: %s against the paper's %s, with %s on the clean images",
		farNet, pct(float64(row.Errors[far])), paperPct(paper.Errors[far]), pct(float64(r.tab.CleanError[far])))
	if i >= len(r.tab.Rows) {
		return fmt.Sprintf("**%s**, clipped to [0,1] (measured distortion %.3f), moves the networks' error from %s on the clean images "+
			"to %s on average (%+.1f points); the paper's row averages %s against a mean test error of %s (%+.1f). "+
			"Furthest from the paper: %s.",
			paper.Row, float64(row.RMSMean), pct(clean), pct(ours), 100*(ours-clean), pct(theirs), pct(paperTest), 100*(theirs-paperTest), farCell)
	}
	s := fmt.Sprintf("Examples crafted on **%s** (distortion %.3f, paper %.3g) are misclassified by the other five networks %s of the time "+
		"on average against the paper's %s: %+.1f points over those networks' %s on the clean images, where the paper's figure "+
		"is %+.1f points over their mean test error of %s. Furthest from the paper: %s.",
		paper.Row, float64(row.RMSMean), paper.Dist, pct(ours), pct(theirs), 100*(ours-clean), pct(clean), 100*(theirs-paperTest), pct(paperTest), farCell)
	if own := float64(row.Errors[i]); own < 1 {
		s += fmt.Sprintf(" Their own network misclassifies %s of them (paper 100%%).", pct(own))
	}
	return s
}

// meanInterval returns the mean of v and its normal 95% confidence
// interval, mean ± 1.96·s/√n.
func meanInterval(v []float64) (mean, lo, hi float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) < 2 {
		return mean, mean, mean
	}
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	h := 1.96 * math.Sqrt(ss/float64(len(v)-1)/float64(len(v)))
	return mean, mean - h, mean + h
}

// thousands writes n with a comma between thousands: 8,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// paperPct prints a figure of the paper with the precision it was given in.
func paperPct(v float64) string {
	if math.IsNaN(v) {
		return "see paper"
	}
	return fmt.Sprintf("%g%%", math.Round(v*10000)/100)
}
