package onnxgrad

import (
	"math"

	"github.com/advlab/advlab/engine/internal/onnxproto"
)

// The input gradient of a convolution as a forward convolution. The
// transposed convolution of dy is the same sum as a stride-1 convolution of
// dy, zero-upsampled by the strides, by the transposed and spatially flipped
// filters. ONNX Runtime's CPU ConvTranspose is a GEMM into a column buffer
// followed by col2im, run group by group, and it stays in NCHW; its Conv has
// direct and depthwise kernels in the blocked NCHWc layout. On MobileNet-like
// networks the ConvTransposes of 1×1 and depthwise convolutions were half of
// the whole gradient run.

// convBackwardByConv emits dx of a Conv with geometry g as Convs, or
// reports false where a ConvTranspose is better or the rewrite does not
// apply (pads wider than the dilated kernel). A stride-1 convolution becomes
// one Conv. A strided depthwise convolution becomes its stride² phases
// (convBackwardPhases). A strided dense convolution stays a ConvTranspose:
// one GEMM for all channels, which beat the phases on every architecture of
// the benchmark (ResNet, DenseNet, GoogLeNet, RegNet).
func convBackwardByConv(c *bwdCtx, g *convGeometry, outPad []int64) (string, bool) {
	wi := c.tinfo(c.in(1))
	k := len(g.kernel)
	pads := make([]int64, 2*k)
	strided := false
	for i := 0; i < k; i++ {
		pads[i], pads[k+i] = g.keff(i)-1-g.begin[i], g.keff(i)-1-g.end[i]+outPad[i]
		if pads[i] < 0 || pads[k+i] < 0 {
			return "", false
		}
		strided = strided || g.strides[i] > 1
	}
	if strided {
		if g.group != c.tinfo(c.in(0)).dims[1] || wi.dims[1] != 1 || g.strides[0] > 3 {
			return "", false // dense, or strides past those of downsampling
		}
		return convBackwardPhases(c, g, pads[:k], wi.dims)
	}
	wt := transposedFilters(c, c.in(1), g.group, wi.dims, g.kernel)
	return c.op("Conv", []string{c.dy[0], wt}, onnxproto.AttrInts("kernel_shape", g.kernel), onnxproto.AttrInts("dilations", g.dilations),
		onnxproto.AttrInt("group", g.group), onnxproto.AttrInts("pads", pads)), true
}

// convBackwardPhases emits dx of a strided 2-D Conv without dilation as
// stride² stride-1 Convs of dy, one per phase (dx at rows ≡ rh and columns
// ≡ rw modulo the stride), each by the taps of the flipped transposed
// filters that reach that phase, then interleaved. It is the
// upsampled convolution without the zeros: as many multiplications as the
// ConvTranspose. begin holds the pads the stride-1 form would have,
// keff−1−pad. An empty phase (a kernel smaller than the stride) is zeros.
func convBackwardPhases(c *bwdCtx, g *convGeometry, begin, wdims []int64) (string, bool) {
	if len(g.kernel) != 2 || g.strides[0] != g.strides[1] || g.dilations[0] != 1 || g.dilations[1] != 1 {
		return "", false
	}
	s := g.strides[0]
	in, out := c.tinfo(c.in(0)).dims[2:], c.tinfo(c.out(0)).dims[2:]
	// Per axis and residue r: the first tap, the number of taps and the
	// pads of the phase's Conv, whose output has ceil(in/s) positions.
	type tap struct{ first, count, padBegin, padEnd int64 }
	taps := [2][]tap{}
	for i := 0; i < 2; i++ {
		q := (in[i] + s - 1) / s
		for r := int64(0); r < s; r++ {
			first := ((begin[i]-r)%s + s) % s
			t := tap{first: first}
			if first < g.kernel[i] {
				t.count = (g.kernel[i] - first + s - 1) / s
				t.padBegin = -(r - begin[i] + first) / s
				t.padEnd = q - out[i] - t.padBegin + t.count - 1
				if t.padBegin < 0 || t.padEnd < 0 {
					return "", false
				}
			}
			taps[i] = append(taps[i], t)
		}
	}
	wt := transposedFilters(c, c.in(1), g.group, wdims, g.kernel)
	phases := make([]string, 0, s*s)
	some := "" // a non-empty phase, whose shape the empty ones take
	for _, th := range taps[0] {
		for _, tw := range taps[1] {
			if th.count == 0 || tw.count == 0 {
				phases = append(phases, "")
				continue
			}
			sub := c.op("Slice", []string{wt, c.i64s(th.first, tw.first), c.i64s(math.MaxInt64, math.MaxInt64), c.i64s(2, 3), c.i64s(s, s)})
			phases = append(phases, c.op("Conv", []string{c.dy[0], sub}, onnxproto.AttrInts("kernel_shape", []int64{th.count, tw.count}),
				onnxproto.AttrInt("group", g.group), onnxproto.AttrInts("pads", []int64{th.padBegin, tw.padBegin, th.padEnd, tw.padEnd})))
			some = phases[len(phases)-1]
		}
	}
	if some == "" {
		return "", false
	}
	zeros := ""
	for i, p := range phases {
		if p != "" {
			continue
		}
		if zeros == "" {
			zeros = c.op("ConstantOfShape", []string{c.op("Shape", []string{some})}, onnxproto.AttrTensor("value", onnxproto.Float32Tensor([]int64{1}, []float32{0})))
		}
		phases[i] = zeros
	}
	dx := interleave(c, phases, s, []int64{(in[0] + s - 1) / s, (in[1] + s - 1) / s})
	if q := (in[0] + s - 1) / s * s; q != in[0] || (in[1]+s-1)/s*s != in[1] {
		dx = c.op("Slice", []string{dx, c.i64s(0, 0), c.i64s(in...), c.i64s(2, 3)})
	}
	return dx, true
}

// transposedFilters returns the filters of the convolution whose transpose
// a Conv with filters w ([Cout, Cin/group, k…]) is: [Cin, Cout/group, k…],
// each group's input and output channels swapped, spatially flipped. With w
// an initializer, ONNX Runtime folds these nodes when the session starts.
func transposedFilters(c *bwdCtx, w string, group int64, wdims, kernel []int64) string {
	cout, cinG := wdims[0], wdims[1]
	coutG := cout / group
	spatial := wdims[2:]
	switch {
	case group == 1:
		perm := []int64{1, 0}
		for i := range spatial {
			perm = append(perm, int64(2+i))
		}
		w = c.op("Transpose", []string{w}, onnxproto.AttrInts("perm", perm))
	case coutG == 1 && cinG == 1: // depthwise: already [C, 1, k…]
	case coutG == 1:
		w = c.op("Reshape", []string{w, c.i64s(append([]int64{group * cinG, 1}, spatial...)...)})
	default:
		perm := []int64{0, 2, 1}
		for i := range spatial {
			perm = append(perm, int64(3+i))
		}
		w = c.op("Reshape", []string{w, c.i64s(append([]int64{group, coutG, cinG}, spatial...)...)})
		w = c.op("Transpose", []string{w}, onnxproto.AttrInts("perm", perm))
		w = c.op("Reshape", []string{w, c.i64s(append([]int64{group * cinG, coutG}, spatial...)...)})
	}
	var starts, ends, axes, steps []int64
	for i, kd := range kernel {
		if kd > 1 {
			starts, ends, axes, steps = append(starts, -1), append(ends, math.MinInt64), append(axes, int64(2+i)), append(steps, -1)
		}
	}
	if len(axes) == 0 {
		return w
	}
	return c.op("Slice", []string{w, c.i64s(starts...), c.i64s(ends...), c.i64s(axes...), c.i64s(steps...)})
}

// interleave merges s² phases [N, C, q0, q1], listed row phase major, into
// [N, C, q0·s, q1·s] with phase (rh, rw) at rows ≡ rh and columns ≡ rw.
// Columns first: each row phase's s tensors are stacked on a new last axis
// and merged into the columns; then the row phases are stacked on an axis
// between rows and columns and merged into the rows. Two Concats, where ONNX
// Runtime's DepthToSpace, a six-axis transpose, was nearly twice as slow.
func interleave(c *bwdCtx, phases []string, s int64, q []int64) string {
	rows := make([]string, s)
	for rh := int64(0); rh < s; rh++ {
		cols := make([]string, s)
		for rw := int64(0); rw < s; rw++ {
			cols[rw] = c.op("Unsqueeze", []string{phases[rh*s+rw], c.i64s(-1)})
		}
		r := c.op("Reshape", []string{c.op("Concat", cols, onnxproto.AttrInt("axis", -1)), c.i64s(0, 0, q[0], q[1]*s)})
		rows[rh] = c.op("Unsqueeze", []string{r, c.i64s(3)})
	}
	return c.op("Reshape", []string{c.op("Concat", rows, onnxproto.AttrInt("axis", 3)), c.i64s(0, 0, q[0]*s, q[1]*s)})
}
