package onnxgrad

import (
	"fmt"
	"sort"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
)

// Backward rule of Einsum. y[out] = Σ_{other labels} Π_k X_k[labels_k], so
// the gradient of operand i is Σ over the labels not in operand i of
// dy[out]·Π_{k≠i} X_k[labels_k]: itself an Einsum of dy with the other
// operands, whose output is operand i's labels. Labels of operand i that
// neither dy nor another operand has were summed out of operand i alone:
// the gradient is constant along them and broadcasts there.

// einsumSpec is an Einsum equation with every ellipsis replaced by explicit
// labels (right-aligned, as numpy broadcasts), resolved against the probed
// operand shapes.
type einsumSpec struct {
	ops  [][]byte       // each operand's labels, one per axis
	out  []byte         // the output's labels
	size map[byte]int64 // each label's size after broadcasting
}

// einsumSpec parses n's equation for its probed operands.
func (x *gradExport) einsumSpec(n *onnx.NodeProto) (*einsumSpec, error) {
	eq := strings.ReplaceAll(nodeString(n, "equation", ""), " ", "")
	fail := func(format string, a ...any) error {
		return fmt.Errorf("equation %q: %s", eq, fmt.Sprintf(format, a...))
	}
	lhs, rhs, explicit := strings.Cut(eq, "->")
	terms := strings.Split(lhs, ",")
	if len(terms) != len(n.GetInput()) {
		return nil, fail("%d operand terms for %d inputs", len(terms), len(n.GetInput()))
	}
	used := map[byte]bool{}
	for _, r := range strings.ReplaceAll(eq, "...", "") {
		switch {
		case r == ',' || r == '-' || r == '>':
		case r < 128 && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'):
			used[byte(r)] = true
		default:
			return nil, fail("%q is not a label", r)
		}
	}
	// The ellipsis: its rank in each operand, and fresh labels for its axes.
	ranks := make([]int, len(terms))
	ell := 0
	for k, t := range terms {
		if strings.Count(t, "...") > 1 {
			return nil, fail("operand %d has more than one ellipsis", k)
		}
		labels := len(strings.ReplaceAll(t, "...", ""))
		r := x.rank(n.GetInput()[k])
		if strings.Contains(t, "...") {
			ranks[k] = r - labels
		} else if r != labels {
			return nil, fail("operand %d has %d labels for rank %d", k, labels, r)
		}
		if ranks[k] < 0 {
			return nil, fail("operand %d has %d labels for rank %d", k, labels, r)
		}
		ell = max(ell, ranks[k])
	}
	var fresh []byte
	for c := byte('A'); len(fresh) < ell && c <= 'z'; c++ {
		if ('A' <= c && c <= 'Z' || 'a' <= c) && !used[c] {
			fresh = append(fresh, c)
		}
	}
	if len(fresh) < ell {
		return nil, fail("too many labels to expand the ellipsis")
	}
	expand := func(t string, r int) []byte {
		before, after, ok := strings.Cut(t, "...")
		if !ok {
			return []byte(t)
		}
		return append(append([]byte(before), fresh[ell-r:]...), after...)
	}
	s := &einsumSpec{size: map[byte]int64{}}
	count := map[byte]int{}
	for k, t := range terms {
		labels := expand(t, ranks[k])
		seen := map[byte]bool{}
		for _, l := range labels {
			if seen[l] {
				return nil, fail("label %c repeats in operand %d (a diagonal); the gradient graph supports no diagonals", l, k)
			}
			seen[l] = true
			count[l]++
		}
		s.ops = append(s.ops, labels)
	}
	if explicit {
		s.out = expand(rhs, ell)
	} else {
		s.out = append(s.out, fresh...)
		var once []byte
		for l, c := range count {
			if c == 1 && !strings.ContainsRune(string(fresh), rune(l)) {
				once = append(once, l)
			}
		}
		sort.Slice(once, func(i, j int) bool { return once[i] < once[j] })
		s.out = append(s.out, once...)
	}
	seen := map[byte]bool{}
	for _, l := range s.out {
		if seen[l] || count[l] == 0 {
			return nil, fail("output label %c repeats or is in no operand", l)
		}
		seen[l] = true
	}
	// Sizes: a label's dims agree, or are 1 where they broadcast; a batch
	// dimension never broadcasts.
	dyn := map[byte]bool{}
	for k, labels := range s.ops {
		ti := x.tinfo(n.GetInput()[k])
		for a, l := range labels {
			d, old := ti.dims[a], s.size[l]
			dyn[l] = dyn[l] || ti.dyn[a]
			if old != 0 && d != old && d != 1 && old != 1 {
				return nil, fail("label %c has sizes %d and %d", l, old, d)
			}
			s.size[l] = max(old, d)
		}
	}
	for k, labels := range s.ops {
		ti := x.tinfo(n.GetInput()[k])
		for a, l := range labels {
			if dyn[l] && !ti.dyn[a] {
				return nil, fail("label %c broadcasts a dimension that changes with the batch size", l)
			}
		}
	}
	return s, nil
}

func checkEinsum(x *gradExport, n *onnx.NodeProto) error {
	_, err := x.einsumSpec(n)
	return err
}

// bwdEinsum emits, per operand on the path, the Einsum of dy with the other
// operands (those broadcast along a label first expanded to its size),
// summed over the axes where the operand itself broadcast, and unsqueezed
// where its labels were summed out of it alone.
func bwdEinsum(c *bwdCtx) error {
	s, err := c.einsumSpec(c.n)
	if err != nil {
		return err
	}
	for i, labels := range s.ops {
		if !c.needs(i) {
			continue
		}
		var terms [][]byte
		var inputs []string
		if len(s.out) > 0 {
			terms, inputs = append(terms, s.out), append(inputs, c.dy[0])
		}
		have := map[byte]bool{}
		for _, l := range s.out {
			have[l] = true
		}
		for k, lk := range s.ops {
			if k == i {
				continue
			}
			terms, inputs = append(terms, lk), append(inputs, einsumExpanded(c, s, k))
			for _, l := range lk {
				have[l] = true
			}
		}
		var kept []byte
		var alone, spread []int64 // axes of operand i summed alone, or broadcast
		xi := c.tinfo(c.in(i))
		for a, l := range labels {
			switch {
			case !have[l]:
				alone = append(alone, int64(a))
			default:
				if xi.dims[a] == 1 && s.size[l] != 1 {
					spread = append(spread, int64(len(kept)))
				}
				kept = append(kept, l)
			}
		}
		g := einsumOf(c, terms, inputs, kept)
		if len(s.out) == 0 { // dy is a scalar
			g = c.op("Mul", []string{g, c.dy[0]})
		}
		if len(spread) > 0 {
			g = c.op("ReduceSum", []string{g, c.i64s(spread...)}, onnxproto.AttrInt("keepdims", 1))
		}
		if len(alone) > 0 {
			g = c.op("Unsqueeze", []string{g, c.i64s(alone...)})
			c.giveBroadcast(i, g)
			continue
		}
		c.give(i, g)
	}
	return nil
}

// einsumOf emits the Einsum of inputs with the given labels into out, or
// less where that is the identity; with no inputs it is the scalar 1.
func einsumOf(c *bwdCtx, terms [][]byte, inputs []string, out []byte) string {
	if len(inputs) == 0 {
		return c.f32(1)
	}
	if len(inputs) == 1 && string(terms[0]) == string(out) {
		return inputs[0]
	}
	parts := make([]string, len(terms))
	for k, t := range terms {
		parts[k] = string(t)
	}
	eq := strings.Join(parts, ",") + "->" + string(out)
	return c.op("Einsum", inputs, onnxproto.AttrString("equation", eq))
}

// einsumExpanded returns operand k, expanded along the labels where it
// broadcasts (size 1 against a larger size), for an Einsum that no longer
// has the operand that set the size.
func einsumExpanded(c *bwdCtx, s *einsumSpec, k int) string {
	in := c.in(k)
	ti := c.tinfo(in)
	shape := make([]int64, len(ti.dims))
	grow := false
	for a, l := range s.ops[k] {
		shape[a] = 1
		if ti.dims[a] == 1 && s.size[l] != 1 {
			shape[a], grow = s.size[l], true
		}
	}
	if !grow {
		return in
	}
	return c.op("Expand", []string{in, c.i64s(shape...)})
}
