package onnxgrad

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
)

// Spec tells the gradient-graph exporter what a classifier graph's image
// input and logits output are, and the preprocessing to fold in front of it.
type Spec struct {
	Input      InputSpec
	Logits     string
	Preprocess Preprocess
	NumClasses int
	// Feature, when not "", names an internal tensor of the classifier (a
	// feature map, say) whose value and gradient the graph also outputs, as
	// FeatureOutput and FeatureGradOutput. "" leaves the graph as it was.
	Feature string
}

// The gradient graph's own names. gradPrefix starts every node and tensor
// the exporter adds, so none can clash with the classifier's.
const (
	gradPrefix      = "advlab_grad/"
	gradInputName   = gradPrefix + "input"
	gradTargetName  = "target"
	gradLogitsName  = "logits"
	gradLossName    = "loss"
	gradGradName    = "grad"
	minGradOpset    = 13
	targetGradOpset = 17 // ScatterElements reduction="add" needs 16, LayerNormalization 17
)

// Export builds, from a classifier graph, one ONNX graph whose
// inputs are the image input (same name and shape, in [0,1] pixels) and
// "target" (int64 [N]), and whose outputs are "logits" [N,K], "loss" [N] and
// "grad" (the gradient of the sum of loss with respect to the image input).
//
// The forward pass runs once; the backward pass to the image is made of
// standard ONNX operators, one backward rule per forward operator (see
// Operators), and reuses the classifier's weights without copying
// them. Tensor shapes are learnt by running the classifier once in ONNX
// Runtime at two batch sizes, so ONNX Runtime must be available. A graph with
// an operator on the image-to-logits path that has no backward rule is
// rejected here, never at run time, and so is a model through which no
// gradient reaches the image (ErrNoGradient).
func Export(model *onnx.ModelProto, spec Spec, loss engine.LossKind) (*onnx.ModelProto, error) {
	out, _, err := ExportReport(model, spec, loss)
	return out, err
}

// ExportReport is Export, and also reports where the gradient graph is
// straight-through rather than exact (quantisation, binarisation), for the
// loader to say so.
func ExportReport(model *onnx.ModelProto, spec Spec, loss engine.LossKind) (*onnx.ModelProto, Report, error) {
	x, err := newGradExport(model, spec, loss)
	if err != nil {
		return nil, Report{}, fmt.Errorf("gradient graph: %w", err)
	}
	if err := x.probe(); err != nil {
		return nil, Report{}, fmt.Errorf("gradient graph: probing tensor shapes: %w", err)
	}
	if err := x.analyse(); err != nil {
		return nil, Report{}, fmt.Errorf("gradient graph: %w", err)
	}
	out, err := x.build()
	if err != nil {
		return nil, Report{}, fmt.Errorf("gradient graph: %w", err)
	}
	return out, x.report(), nil
}

// Operators lists, sorted, the ONNX operators the gradient-graph
// exporter can differentiate through.
func Operators() []string {
	ops := make([]string, 0, len(gradRules))
	for op := range gradRules {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// gradExport is one run of the exporter: the forward graph being
// differentiated, what the probe learnt of its tensors, and the graph being
// emitted.
type gradExport struct {
	spec    Spec
	loss    engine.LossKind
	src     *onnx.ModelProto
	opset   int64 // the model's default-domain opset
	logits  string
	feature string // Spec.Feature after renaming, or ""
	// nodes are copies of the classifier's nodes that the logits need, in
	// topological order, reading the preprocessed image from gradInputName.
	nodes   []*onnx.NodeProto
	inits   map[string]*onnx.TensorProto
	renamed map[string]string // classifier tensor names the exporter had to change
	info    map[string]*tensorInfo
	// avgOnes holds, per AveragePool output, the pool of an all-ones input
	// as ONNX Runtime computes it (one spatial map), for the exact divisors.
	avgOnes map[string][]float32

	diff      map[string]bool // float tensors that depend on the image
	need      map[string]bool // differentiable tensors the logits depend on
	active    map[*onnx.NodeProto]bool
	producers map[string]*onnx.NodeProto // the node that computes each tensor

	emit
	grads  map[string][]string   // gradient contributions per forward tensor
	bcast  map[string]bool       // contributions that broadcast to their tensor's shape
	shapes map[string]string     // Shape nodes already emitted, per tensor
	masks  map[string]maskedGrad // outputs of bwdCtx.masked, by name
}

func newGradExport(model *onnx.ModelProto, spec Spec, loss engine.LossKind) (*gradExport, error) {
	if len(model.GetGraph().GetNode()) == 0 {
		return nil, errors.New("the model has no graph nodes")
	}
	model, err := foldConstantIfs(model)
	if err != nil {
		return nil, err
	}
	g := model.GetGraph()
	if loss != engine.CrossEntropy && loss != engine.Margin && loss != engine.Logit {
		return nil, fmt.Errorf("unknown loss kind %d", int(loss))
	}
	x := &gradExport{spec: spec, loss: loss, src: model, inits: map[string]*onnx.TensorProto{},
		renamed: map[string]string{}, info: map[string]*tensorInfo{}, avgOnes: map[string][]float32{},
		grads: map[string][]string{}, bcast: map[string]bool{}, shapes: map[string]string{},
		masks: map[string]maskedGrad{}}
	x.emit.init()
	for _, op := range model.GetOpsetImport() {
		if op.GetDomain() == "" || op.GetDomain() == "ai.onnx" {
			x.opset = op.GetVersion()
		}
	}
	if x.opset < minGradOpset {
		return nil, fmt.Errorf("the model uses ONNX opset %d; advlab needs opset %d or newer: re-export it with opset_version=17 (torch.onnx.export(..., opset_version=17))", x.opset, minGradOpset)
	}
	for _, n := range g.GetNode() {
		if err := customOpError(n); err != nil {
			return nil, err
		}
		for _, a := range n.GetAttribute() {
			if a.GetG() != nil || len(a.GetGraphs()) > 0 {
				return nil, fmt.Errorf("node %q (%s) has a subgraph; the gradient graph does not support control flow", n.GetName(), n.GetOpType())
			}
		}
	}
	if spec.Input.Name == "" || spec.Logits == "" {
		return nil, errors.New("the graph spec names no image input or logits output")
	}
	if spec.Input.Name == spec.Logits {
		return nil, fmt.Errorf("the logits %q are the image input itself", spec.Logits)
	}
	found := false
	for _, in := range GraphInputs(g) {
		found = found || in.GetName() == spec.Input.Name
	}
	if !found {
		return nil, fmt.Errorf("the graph has no input %q", spec.Input.Name)
	}
	for _, t := range g.GetInitializer() {
		x.inits[t.GetName()] = t
	}
	if err := x.selectNodes(); err != nil {
		return nil, err
	}
	return x, nil
}

// reservedNames are the gradient graph's inputs and outputs: a classifier
// tensor with one of these names is renamed out of the way.
var reservedNames = map[string]bool{gradTargetName: true, gradLogitsName: true, gradLossName: true, gradGradName: true}

// selectNodes copies the nodes the logits depend on, sorts them
// topologically, feeds them the internal image input and renames classifier
// tensors that clash with the gradient graph's own names.
func (x *gradExport) selectNodes() error {
	g := x.src.GetGraph()
	producer := map[string]int{}
	for i, n := range g.GetNode() {
		for _, o := range n.GetOutput() {
			if o != "" {
				producer[o] = i
			}
		}
	}
	if _, ok := producer[x.spec.Logits]; !ok {
		return fmt.Errorf("no node computes the logits %q", x.spec.Logits)
	}
	if x.reserved(x.spec.Input.Name) {
		return fmt.Errorf("the image input is called %q, a name the gradient graph needs for itself; rename the model's input", x.spec.Input.Name)
	}
	// Depth-first from the logits gives a topological order of what they need.
	state := map[int]int{} // 1 visiting, 2 done
	var order []int
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case 1:
			return fmt.Errorf("the graph has a cycle through node %q", g.GetNode()[i].GetName())
		case 2:
			return nil
		}
		state[i] = 1
		for _, in := range g.GetNode()[i].GetInput() {
			if p, ok := producer[in]; ok && in != "" {
				if err := visit(p); err != nil {
					return err
				}
			}
		}
		state[i] = 2
		order = append(order, i)
		return nil
	}
	if err := visit(producer[x.spec.Logits]); err != nil {
		return err
	}
	sort.Ints(order) // keep the file's order where it is valid…
	if !topological(g.GetNode(), order, producer) {
		order = order[:0] // …and fall back on the depth-first order where not
		state = map[int]int{}
		if err := visit(producer[x.spec.Logits]); err != nil {
			return err
		}
	}
	rename := func(s string) string {
		switch {
		case s == x.spec.Input.Name:
			return gradInputName
		case s == x.spec.Logits && s == gradLogitsName:
			return s
		case x.reserved(s) || strings.HasPrefix(s, gradPrefix):
			r := gradPrefix + "model/" + s
			x.renamed[s] = r
			return r
		}
		return s
	}
	for _, i := range order {
		n := g.GetNode()[i]
		c := &onnx.NodeProto{Name: n.GetName(), OpType: n.GetOpType(), Domain: n.GetDomain(),
			Attribute: n.GetAttribute(), DocString: n.GetDocString()}
		for _, in := range n.GetInput() {
			c.Input = append(c.Input, rename(in))
		}
		for _, o := range n.GetOutput() {
			c.Output = append(c.Output, rename(o))
		}
		x.nodes = append(x.nodes, c)
	}
	x.logits = rename(x.spec.Logits)
	if x.spec.Feature != "" {
		x.feature = rename(x.spec.Feature)
	}
	for name, t := range x.inits {
		if r := rename(name); r != name {
			delete(x.inits, name)
			c := cloneTensorProto(t)
			c.Name = r
			x.inits[r] = c
		}
	}
	return nil
}

// topological reports whether the nodes at order are sorted so that every
// node comes after the producers of its inputs.
func topological(nodes []*onnx.NodeProto, order []int, producer map[string]int) bool {
	pos := map[int]int{}
	for k, i := range order {
		pos[i] = k
	}
	for k, i := range order {
		for _, in := range nodes[i].GetInput() {
			if p, ok := producer[in]; ok && in != "" && pos[p] >= k {
				return false
			}
		}
	}
	return true
}

// analyse marks the tensors that depend on the image (diff) and those the
// logits depend on (need); a node with both an input and an output on that
// path is active and must have a backward rule that covers its use.
func (x *gradExport) analyse() error {
	x.diff = map[string]bool{gradInputName: true}
	x.need = map[string]bool{x.logits: true}
	x.active = map[*onnx.NodeProto]bool{}
	x.producers = map[string]*onnx.NodeProto{}
	for _, n := range x.nodes {
		for _, o := range n.GetOutput() {
			if o != "" {
				x.producers[o] = n
			}
		}
	}
	for _, n := range x.nodes {
		if zeroGradOps[n.GetOpType()] {
			continue
		}
		if !x.takesImage(n) {
			continue
		}
		for _, o := range n.GetOutput() {
			if t := x.info[o]; o != "" && t != nil && isFloatType(t.elem) {
				x.diff[o] = true
			}
		}
	}
	if err := x.pathCut(); err != nil {
		return err
	}
	for i := len(x.nodes) - 1; i >= 0; i-- {
		n := x.nodes[i]
		onPath := false
		for _, o := range n.GetOutput() {
			onPath = onPath || (o != "" && x.diff[o] && x.need[o])
		}
		if !onPath {
			continue
		}
		for _, in := range n.GetInput() {
			if in != "" && x.diff[in] {
				x.need[in] = true
			}
		}
		if s := x.straightSource(n); x.diff[s] {
			x.need[s] = true
		}
		x.active[n] = true
		if err := x.checkRule(n); err != nil {
			return err
		}
	}
	if t := x.info[x.logits]; t == nil || t.elem != onnx.TensorProto_FLOAT || len(t.dims) != 2 {
		return fmt.Errorf("the logits %q are not a float32 tensor of rank 2", x.spec.Logits)
	}
	return x.checkFeature()
}

// checkRule rejects an active node that no backward rule covers: an unknown
// operator, a gradient needed through an input or output the rule does not
// differentiate, or a tensor on the path that is not float32.
func (x *gradExport) checkRule(n *onnx.NodeProto) error {
	r := gradRules[n.GetOpType()]
	if r == nil {
		return fmt.Errorf("operator %s (node %q) lies on the path from the image to the logits and has no backward rule; supported operators: %s",
			n.GetOpType(), n.GetName(), strings.Join(Operators(), ", "))
	}
	for i, in := range n.GetInput() {
		if in == "" || !x.need[in] {
			continue
		}
		if !r.flowsTo(i) {
			return fmt.Errorf("node %q (%s): its input %d (%q) depends on the image, and the gradient graph only differentiates %s through %s",
				n.GetName(), n.GetOpType(), i, x.orig(in), n.GetOpType(), r.inputNames())
		}
		if t := x.info[in]; t == nil || t.elem != onnx.TensorProto_FLOAT {
			return fmt.Errorf("node %q (%s): tensor %q on the path from the image is not float32; the gradient graph handles float32 models only", n.GetName(), n.GetOpType(), x.orig(in))
		}
	}
	for i, o := range n.GetOutput() {
		if o != "" && x.need[o] && x.diff[o] && !r.flowsFrom(i) {
			return fmt.Errorf("node %q (%s): its output %d (%q) is used on the way to the logits, and the gradient graph differentiates only output 0 of %s",
				n.GetName(), n.GetOpType(), i, x.orig(o), n.GetOpType())
		}
	}
	if r.check != nil {
		if err := r.check(x, n); err != nil {
			return fmt.Errorf("node %q (%s): %w", n.GetName(), n.GetOpType(), err)
		}
	}
	return nil
}

// orig returns the classifier's name of a tensor the exporter may have renamed.
func (x *gradExport) orig(name string) string {
	if name == gradInputName {
		return x.spec.Input.Name
	}
	for o, r := range x.renamed {
		if r == name {
			return o
		}
	}
	return name
}

// isFloatType reports whether a tensor of type t can carry a gradient.
func isFloatType(t onnx.TensorProto_DataType) bool {
	switch t {
	case onnx.TensorProto_FLOAT, onnx.TensorProto_FLOAT16, onnx.TensorProto_DOUBLE, onnx.TensorProto_BFLOAT16:
		return true
	}
	return false
}

// zeroGradOps are operators whose float outputs have a zero gradient almost
// everywhere (or are random): the image-dependence stops at them. Sign is
// not one: it is binarisation, with a straight-through rule (quant.go).
// DynamicQuantizeLinear's float scale depends on the image only through its
// range, not as the quantised values do.
var zeroGradOps = map[string]bool{
	"Floor": true, "Ceil": true, "Round": true, "DynamicQuantizeLinear": true,
	"RandomNormalLike": true, "RandomUniformLike": true, "EyeLike": true, "Bernoulli": true,
}
