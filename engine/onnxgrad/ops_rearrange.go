package onnxgrad

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
)

// Backward rules of operators that rearrange or repeat blocks of a tensor:
// DepthToSpace, SpaceToDepth and Tile.

// blockSize returns a DepthToSpace's or SpaceToDepth's blocksize, checking
// that its input is [N,C,H,W] with C, H and W fixed.
func (x *gradExport) blockSize(n *onnx.NodeProto) (int64, error) {
	xi := x.tinfo(n.GetInput()[0])
	if len(xi.dims) != 4 {
		return 0, fmt.Errorf("input of rank %d; it needs [N,C,H,W]", len(xi.dims))
	}
	for a := 1; a < 4; a++ {
		if xi.dyn[a] {
			return 0, fmt.Errorf("axis %d changes with the batch size", a)
		}
	}
	b := nodeInt(n, "blocksize", 0)
	if b < 1 {
		return 0, fmt.Errorf("blocksize %d", b)
	}
	if m := nodeString(n, "mode", "DCR"); n.GetOpType() == "DepthToSpace" && m != "DCR" && m != "CRD" {
		return 0, fmt.Errorf("unknown mode %q", m)
	}
	return b, nil
}

func checkBlocks(x *gradExport, n *onnx.NodeProto) error {
	_, err := x.blockSize(n)
	return err
}

// bwdDepthToSpace undoes the rearrangement: SpaceToDepth is the exact
// inverse of DepthToSpace in DCR mode; CRD mode is undone by its own
// reshape and transpose, inverted: dy as [N, C/b², H, b, W, b] is permuted
// back to [N, C/b², b, b, H, W].
func bwdDepthToSpace(c *bwdCtx) error {
	b, err := c.blockSize(c.n)
	if err != nil {
		return err
	}
	if nodeString(c.n, "mode", "DCR") == "DCR" {
		c.give(0, c.op("SpaceToDepth", []string{c.dy[0]}, onnxproto.AttrInt("blocksize", b)))
		return nil
	}
	xi := c.tinfo(c.in(0))
	ch, h, w := xi.dims[1], xi.dims[2], xi.dims[3]
	g := c.op("Reshape", []string{c.dy[0], c.i64s(0, ch/(b*b), h, b, w, b)})
	g = c.op("Transpose", []string{g}, onnxproto.AttrInts("perm", []int64{0, 1, 3, 5, 2, 4}))
	c.give(0, c.op("Reshape", []string{g, c.i64s(0, ch, h, w)}))
	return nil
}

// bwdSpaceToDepth: DepthToSpace in DCR mode is SpaceToDepth's inverse.
func bwdSpaceToDepth(c *bwdCtx) error {
	b, err := c.blockSize(c.n)
	if err != nil {
		return err
	}
	c.give(0, c.op("DepthToSpace", []string{c.dy[0]}, onnxproto.AttrInt("blocksize", b), onnxproto.AttrString("mode", "DCR")))
	return nil
}

// tileRepeats returns a Tile's repeats, which must be known at export.
func (x *gradExport) tileRepeats(n *onnx.NodeProto) ([]int64, error) {
	in := n.GetInput()
	r, ok := x.intValues(in[1])
	if !ok {
		return nil, fmt.Errorf("its repeats %q are not known when the graph is exported", x.orig(in[1]))
	}
	xi := x.tinfo(in[0])
	if len(r) != len(xi.dims) {
		return nil, fmt.Errorf("%d repeats for rank %d", len(r), len(xi.dims))
	}
	dyn := 0
	for a, v := range r {
		if v < 0 {
			return nil, fmt.Errorf("repeat %d on axis %d", v, a)
		}
		if xi.dyn[a] {
			dyn++
		}
	}
	if dyn > 1 {
		return nil, fmt.Errorf("it tiles a tensor with more than one batch axis")
	}
	return r, nil
}

func checkTile(x *gradExport, n *onnx.NodeProto) error {
	_, err := x.tileRepeats(n)
	return err
}

// bwdTile sums the tiles: output axis a of size r·d holds r copies of the
// input's d elements one after the other, so dy reshaped to
// [r0, d0, r1, d1, …] and summed over the repeat axes is dx.
func bwdTile(c *bwdCtx) error {
	reps, err := c.tileRepeats(c.n)
	if err != nil {
		return err
	}
	xi := c.tinfo(c.in(0))
	var shape, axes []int64
	tiled := false
	for a, r := range reps {
		d := xi.dims[a]
		if xi.dyn[a] {
			d = -1
		}
		shape = append(shape, r, d)
		axes = append(axes, int64(2*a))
		tiled = tiled || r != 1
	}
	if !tiled {
		c.give(0, c.dy[0])
		return nil
	}
	for _, r := range reps {
		if r == 0 {
			c.give(0, c.zerosLike(c.in(0)))
			return nil
		}
	}
	g := c.op("Reshape", []string{c.dy[0], c.i64s(shape...)})
	c.give(0, c.op("ReduceSum", []string{g, c.i64s(axes...)}, onnxproto.AttrInt("keepdims", 0)))
	return nil
}
