package cli

import (
	"fmt"
	"io"
	"strings"
)

// renderTable3 writes the Table 3 section: the networks trained on the two
// halves of the training split, and the L-BFGS transfer matrix between them.
func (r *szegedyRun) renderTable3(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Table 3: cross-training-set generalisation\n\n")
	p("The paper splits MNIST's training set into two disjoint halves, P1 and P2, trains FC100-100-10 and FC123-456-10 on P1\n")
	p("and FC100-100-10' on P2, and measures each network's error on the examples crafted for the others. The zoo does the\n")
	p("same with its own training split (`tools/zoo/build --only table3`): P1 is its first half, P2 its second, and all three\n")
	p("networks use FC100-100-10's recipe of Table 1. The attack is the L-BFGS above, with the same settings, images and targets.\n")
	p("The paper's figures are not set beside these: no reliable copy of its Table 3 could be consulted when this section was\n")
	p("written, and figures from memory would not be facts (see `cli/szegedy_paper.go`).\n\n")

	p("| Network | paper's name | trained on | images | advlab: train err. | advlab: test err. (zoo split) | advlab: err. on the %d images | L-BFGS success | av. distortion |\n", r.imagesPerNet)
	p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for i, n := range szegedyTable3Nets {
		f, row := r.t3facts[i], r.t3tab.Rows[i]
		half := f.trainHalf
		if half == "" {
			half = "? (sidecar says no half)"
		}
		p("| `%s` | %s | %s | %s | %s | %s | %s | %s | %.3f |\n", n.File, n.Paper, half, thousands(f.trainImages), pct(f.trainErr), pct(f.testErr),
			pct(float64(r.t3tab.CleanError[i])), pct(float64(row.AttackSuccessRate)), float64(row.RMSMean))
	}
	p("\nEach cell is the error of the column network on the examples crafted for the row network (clean images where the\n")
	p("row network was already wrong or the attack failed).\n\n")
	head := []string{"crafted on \\ evaluated on"}
	for _, n := range szegedyTable3Nets {
		head = append(head, fmt.Sprintf("%s (%s)", n.Paper, n.Half))
	}
	head = append(head, "av. distortion")
	p("| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat(" --- |", len(head)))
	clean := []string{"clean images"}
	for _, e := range r.t3tab.CleanError {
		clean = append(clean, pct(float64(e)))
	}
	p("| %s | |\n", strings.Join(clean, " | "))
	for i, row := range r.t3tab.Rows {
		cells := []string{fmt.Sprintf("%s (%s)", szegedyTable3Nets[i].Paper, szegedyTable3Nets[i].Half)}
		for _, e := range row.Errors {
			cells = append(cells, fmt.Sprintf("**%s**", pct(float64(e))))
		}
		cells = append(cells, fmt.Sprintf("%.3f", float64(row.RMSMean)))
		p("| %s |\n", strings.Join(cells, " | "))
	}
	p("\n- %s\n- %s\n\n", r.table3Pair("Across architectures", "the same half P1", 0, 1), r.table3Pair("Across training sets", "the same architecture", 0, 2))
	for _, n := range r.t3tab.Notes {
		p("Note: %s.\n\n", n)
	}
}

// table3Pair describes the transfer both ways between Table 3's networks a
// and b: the error each makes on the other's examples, above its error on
// the clean images.
func (r *szegedyRun) table3Pair(what, shared string, a, b int) string {
	na, nb := szegedyTable3Nets[a], szegedyTable3Nets[b]
	ab, ba := float64(r.t3tab.Rows[a].Errors[b]), float64(r.t3tab.Rows[b].Errors[a])
	ca, cb := float64(r.t3tab.CleanError[a]), float64(r.t3tab.CleanError[b])
	return fmt.Sprintf("**%s** (%s): %s (%s) misclassifies %s of the examples crafted on %s (%s), %+.1f points over its %s on the clean images; "+
		"%s misclassifies %s of those crafted on %s, %+.1f points over its %s.",
		what, shared, nb.Paper, nb.Half, pct(ab), na.Paper, na.Half, 100*(ab-cb), pct(cb), na.Paper, pct(ba), nb.Paper, 100*(ba-ca), pct(ca))
}
