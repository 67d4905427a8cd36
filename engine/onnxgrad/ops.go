package onnxgrad

import (
	"fmt"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// gradRule is the backward rule of one ONNX operator.
type gradRule struct {
	// inputs are the inputs a gradient flows to; nil means all of them.
	// A node whose other inputs depend on the image is rejected.
	inputs []int
	// allOutputs lets gradients flow from every output (Split); otherwise
	// only from output 0.
	allOutputs bool
	// broadcastDy: backward takes a dy that only broadcasts to the output
	// (numpy rules), as from a GlobalAveragePool's rule, and still gives
	// full-shaped gradients, because it first multiplies dy by a tensor of
	// the output's shape; the Expand that would write dy out is saved.
	broadcastDy bool
	// check rejects, at export time, attributes or inputs the rule cannot
	// handle. It runs for nodes on the image-to-logits path only.
	check func(x *gradExport, n *onnx.NodeProto) error
	// prepare may change the forward node (e.g. ask MaxPool for its
	// indices) before it is emitted.
	prepare func(c *bwdCtx) error
	// backward emits the gradients of the node's inputs from those of its
	// outputs.
	backward func(c *bwdCtx) error
}

func (r *gradRule) flowsTo(i int) bool {
	if r.inputs == nil {
		return true
	}
	for _, j := range r.inputs {
		if i == j {
			return true
		}
	}
	return false
}

func (r *gradRule) flowsFrom(i int) bool { return i == 0 || r.allOutputs }

// inputNames describes the inputs the rule differentiates, for errors.
func (r *gradRule) inputNames() string {
	if r.inputs == nil {
		return "every input"
	}
	s := make([]string, len(r.inputs))
	for i, j := range r.inputs {
		s[i] = fmt.Sprint(j)
	}
	if len(s) == 1 {
		return "input " + s[0]
	}
	return "inputs " + strings.Join(s, ", ")
}

// bwdCtx is one node's backward step: the node, its output gradients, and
// the exporter to emit into.
type bwdCtx struct {
	*gradExport
	n  *onnx.NodeProto
	dy []string // gradient of each output, "" when none reaches it
}

// in returns the node's input i, or "" when it has none.
func (c *bwdCtx) in(i int) string {
	if i < len(c.n.GetInput()) {
		return c.n.GetInput()[i]
	}
	return ""
}

// out returns the node's output i, or "" when it has none.
func (c *bwdCtx) out(i int) string {
	if i < len(c.n.GetOutput()) {
		return c.n.GetOutput()[i]
	}
	return ""
}

// needs reports whether input i lies on the path from the image to the
// logits, i.e. must receive a gradient.
func (c *bwdCtx) needs(i int) bool {
	in := c.in(i)
	return in != "" && c.diff[in] && c.need[in]
}

// give records g as the gradient of input i, if that input needs one.
func (c *bwdCtx) give(i int, g string) {
	if c.needs(i) {
		c.addGrad(c.in(i), g)
	}
}

// giveBroadcast records g, which broadcasts to input i's shape, as the
// gradient of input i, if that input needs one (gradExport.addGradBroadcast).
func (c *bwdCtx) giveBroadcast(i int, g string) {
	if c.needs(i) {
		c.addGradBroadcast(c.in(i), g)
	}
}

// giveLike records g as the gradient of input i, as one that broadcasts
// if g does (a dy passed on as it came, gradRule.broadcastDy).
func (c *bwdCtx) giveLike(i int, g string) {
	if c.bcast[g] {
		c.giveBroadcast(i, g)
	} else {
		c.give(i, g)
	}
}

// dyOrZeros returns the gradient of output i, or zeros shaped like it.
func (c *bwdCtx) dyOrZeros(i int) string {
	if c.dy[i] != "" {
		return c.dy[i]
	}
	return c.zerosLike(c.out(i))
}

// gradRules maps each differentiable ONNX operator to its backward rule.
var gradRules = map[string]*gradRule{
	// Element-wise arithmetic with broadcasting (gradgraph_ops_elementwise.go).
	"Add":        {backward: bwdAdd},
	"Sub":        {backward: bwdSub},
	"Mul":        {backward: bwdMul},
	"Div":        {backward: bwdDiv},
	"Sum":        {backward: bwdSum},
	"Neg":        {backward: bwdNeg},
	"Pow":        {backward: bwdPow},
	"Sqrt":       {backward: bwdSqrt},
	"Exp":        {backward: bwdExp},
	"Log":        {backward: bwdLog},
	"Abs":        {backward: bwdAbs},
	"Reciprocal": {backward: bwdReciprocal},

	// Variadic Mean, Max and Min (ops_variadic.go).
	"Mean": {backward: bwdMean},
	"Max":  {backward: bwdMaxMin},
	"Min":  {backward: bwdMaxMin},

	// Activations (gradgraph_ops_activation.go).
	"Relu":        {broadcastDy: true, backward: bwdRelu},
	"LeakyRelu":   {backward: bwdLeakyRelu},
	"PRelu":       {inputs: []int{0}, backward: bwdPRelu},
	"Sigmoid":     {backward: bwdSigmoid},
	"Tanh":        {backward: bwdTanh},
	"Erf":         {backward: bwdErf},
	"Gelu":        {backward: bwdGelu},
	"HardSigmoid": {backward: bwdHardSigmoid},
	"HardSwish":   {broadcastDy: true, backward: bwdHardSwish},
	"Clip":        {inputs: []int{0}, broadcastDy: true, backward: bwdClip},
	"Softmax":     {backward: bwdSoftmax},
	"LogSoftmax":  {backward: bwdLogSoftmax},

	// Smooth, exponential and trigonometric activations (ops_activation2.go).
	"Softplus":        {backward: bwdSoftplus},
	"Mish":            {backward: bwdMish},
	"Elu":             {backward: bwdElu},
	"Selu":            {backward: bwdSelu},
	"Celu":            {backward: bwdCelu},
	"ThresholdedRelu": {backward: bwdThresholdedRelu},
	"Softsign":        {backward: bwdSoftsign},
	"Sin":             {backward: bwdSin},
	"Cos":             {backward: bwdCos},
	"Tan":             {backward: bwdTan},
	"Asin":            {backward: bwdAsin},
	"Acos":            {backward: bwdAcos},
	"Atan":            {backward: bwdAtan},
	"Sinh":            {backward: bwdSinh},
	"Cosh":            {backward: bwdCosh},
	"Asinh":           {backward: bwdAsinh},
	"Acosh":           {backward: bwdAcosh},
	"Atanh":           {backward: bwdAtanh},

	// Straight-through rules (quant.go): fake quantisation and binarisation.
	"DequantizeLinear": {inputs: []int{0}, check: checkDequantize, backward: bwdDequantize},
	"Sign":             {backward: bwdSignSTE},

	// Convolutions and matrix products (gradgraph_ops_linear.go).
	"Conv":          {inputs: []int{0}, check: checkConv, backward: bwdConv},
	"ConvTranspose": {inputs: []int{0}, check: checkConvTranspose, backward: bwdConvTranspose},
	"Gemm":          {backward: bwdGemm},
	"MatMul":        {backward: bwdMatMul},

	// Einsum contractions (ops_einsum.go).
	"Einsum": {check: checkEinsum, backward: bwdEinsum},

	// Pooling (gradgraph_ops_pool.go).
	"MaxPool":           {inputs: []int{0}, check: checkPool, prepare: prepMaxPool, backward: bwdMaxPool},
	"AveragePool":       {inputs: []int{0}, check: checkPool, backward: bwdAveragePool},
	"GlobalAveragePool": {backward: bwdGlobalAveragePool},
	"GlobalMaxPool":     {backward: bwdGlobalMaxPool},

	// Normalisation (gradgraph_ops_norm.go).
	"BatchNormalization":    {inputs: []int{0}, check: checkBatchNorm, backward: bwdBatchNorm},
	"LayerNormalization":    {inputs: []int{0}, check: checkLayerNorm, prepare: prepLayerNorm, backward: bwdLayerNorm},
	"InstanceNormalization": {inputs: []int{0}, backward: bwdInstanceNorm},
	"LRN":                   {check: checkLRN, backward: bwdLRN}, // ops_lrn.go

	// Reductions (gradgraph_ops_norm.go).
	"ReduceSum":  {inputs: []int{0}, check: checkReduce, backward: bwdReduceSum},
	"ReduceMean": {inputs: []int{0}, check: checkReduce, backward: bwdReduceMean},
	"ReduceMax":  {inputs: []int{0}, check: checkReduce, backward: bwdReduceMax},

	// More reductions (ops_reduce.go).
	"ReduceMin":       {inputs: []int{0}, check: checkReduce, backward: bwdReduceMax},
	"ReduceL2":        {inputs: []int{0}, check: checkReduce, backward: bwdReduceL2},
	"ReduceLogSumExp": {inputs: []int{0}, check: checkReduce, backward: bwdReduceLogSumExp},

	// Shapes, copies and indexing (gradgraph_ops_shape.go, gradgraph_ops_index.go).
	"Identity":       {backward: bwdIdentity},
	"Dropout":        {inputs: []int{0}, check: checkDropout, backward: bwdIdentity},
	"Cast":           {backward: bwdIdentity},
	"Reshape":        {inputs: []int{0}, backward: bwdReshape},
	"Flatten":        {backward: bwdReshape},
	"Squeeze":        {inputs: []int{0}, backward: bwdReshape},
	"Unsqueeze":      {inputs: []int{0}, backward: bwdReshape},
	"Transpose":      {backward: bwdTranspose},
	"Expand":         {inputs: []int{0}, backward: bwdExpand},
	"Where":          {inputs: []int{1, 2}, backward: bwdWhere},
	"Concat":         {check: checkConcat, backward: bwdConcat},
	"Split":          {inputs: []int{0}, allOutputs: true, backward: bwdSplit},
	"Slice":          {inputs: []int{0}, check: checkSlice, backward: bwdSlice},
	"Pad":            {inputs: []int{0}, check: checkPad, backward: bwdPad},
	"Gather":         {inputs: []int{0}, check: checkGather, backward: bwdGather},
	"GatherElements": {inputs: []int{0}, check: checkGather, backward: bwdGatherElements},

	// Block rearrangements and tiling (ops_rearrange.go).
	"DepthToSpace": {check: checkBlocks, backward: bwdDepthToSpace},
	"SpaceToDepth": {check: checkBlocks, backward: bwdSpaceToDepth},
	"Tile":         {inputs: []int{0}, check: checkTile, backward: bwdTile},

	// Resampling (ops_resize.go).
	"Resize": {inputs: []int{0}, check: checkResize, backward: bwdResize},
}
