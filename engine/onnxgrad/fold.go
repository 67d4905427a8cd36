package onnxgrad

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// foldConstantIfs returns the model with every If whose condition is a
// constant (an initializer or a Constant node's output) replaced by the
// nodes of the branch it takes, the branch's outputs renamed to the If's
// outputs and its initializers moved into the graph, so that the rest of
// the exporter sees no control flow. Exporters leave such Ifs behind
// (PyTorch's for a Python condition on a shape it traced as a constant).
// An If whose condition is not a constant is refused, naming the node. A
// model with no If is returned as it is; the caller's model is never
// changed.
func foldConstantIfs(m *onnx.ModelProto) (*onnx.ModelProto, error) {
	g := m.GetGraph()
	hasIf := false
	for _, n := range g.GetNode() {
		hasIf = hasIf || n.GetOpType() == "If"
	}
	if !hasIf {
		return m, nil
	}
	f := &ifFolder{consts: map[string]bool{}, names: map[string]bool{}}
	for _, in := range g.GetInput() {
		f.names[in.GetName()] = true
	}
	f.scan(g.GetNode(), g.GetInitializer())
	nodes, err := f.fold(g.GetNode())
	if err != nil {
		return nil, err
	}
	fg := &onnx.GraphProto{
		Name: g.GetName(), Node: nodes, Initializer: append(append([]*onnx.TensorProto{}, g.GetInitializer()...), f.inits...),
		SparseInitializer: g.GetSparseInitializer(), DocString: g.GetDocString(), Input: g.GetInput(), Output: g.GetOutput(),
		ValueInfo: g.GetValueInfo(), QuantizationAnnotation: g.GetQuantizationAnnotation(),
	}
	return &onnx.ModelProto{
		IrVersion: m.GetIrVersion(), OpsetImport: m.GetOpsetImport(), ProducerName: m.GetProducerName(),
		ProducerVersion: m.GetProducerVersion(), Domain: m.GetDomain(), ModelVersion: m.GetModelVersion(),
		DocString: m.GetDocString(), Graph: fg, MetadataProps: m.GetMetadataProps(), TrainingInfo: m.GetTrainingInfo(),
		Functions: m.GetFunctions(),
	}, nil
}

// ifFolder is one run of foldConstantIfs.
type ifFolder struct {
	consts map[string]bool // constant conditions, by tensor name
	names  map[string]bool // every tensor name in use
	inits  []*onnx.TensorProto
}

// scan records the tensor names of nodes and initializers, and the values
// of those that can be If conditions (one-element bool or integer tensors).
func (f *ifFolder) scan(nodes []*onnx.NodeProto, inits []*onnx.TensorProto) {
	cond := func(name string, t *onnx.TensorProto) {
		if v, err := tensorInt64s(t); err == nil && len(v) == 1 {
			f.consts[name] = v[0] != 0
		}
	}
	for _, t := range inits {
		f.names[t.GetName()] = true
		cond(t.GetName(), t)
	}
	for _, n := range nodes {
		for _, o := range n.GetOutput() {
			f.names[o] = true
		}
		if n.GetOpType() != "Constant" || len(n.GetOutput()) != 1 {
			continue
		}
		if a := nodeAttr(n, "value"); a != nil && a.GetT() != nil {
			cond(n.GetOutput()[0], a.GetT())
		} else if a := nodeAttr(n, "value_int"); a != nil {
			f.consts[n.GetOutput()[0]] = a.GetI() != 0
		}
	}
}

// fold returns nodes with each If replaced by its taken branch, folded in
// turn.
func (f *ifFolder) fold(nodes []*onnx.NodeProto) ([]*onnx.NodeProto, error) {
	var out []*onnx.NodeProto
	for _, n := range nodes {
		if n.GetOpType() != "If" || (n.GetDomain() != "" && n.GetDomain() != "ai.onnx") {
			out = append(out, n)
			continue
		}
		folded, err := f.inline(n)
		if err != nil {
			return nil, err
		}
		out = append(out, folded...)
	}
	return out, nil
}

// inline returns the nodes that replace If node n.
func (f *ifFolder) inline(n *onnx.NodeProto) ([]*onnx.NodeProto, error) {
	cond := ""
	if len(n.GetInput()) > 0 {
		cond = n.GetInput()[0]
	}
	v, ok := f.consts[cond]
	if !ok {
		return nil, fmt.Errorf("node %q (If): its condition %q is not a constant; the gradient graph folds an If only when its condition is an initializer or a Constant", n.GetName(), cond)
	}
	which := "else_branch"
	if v {
		which = "then_branch"
	}
	a := nodeAttr(n, which)
	b := a.GetG()
	if b == nil {
		return nil, fmt.Errorf("node %q (If) has no %s", n.GetName(), which)
	}
	if len(b.GetOutput()) != len(n.GetOutput()) {
		return nil, fmt.Errorf("node %q (If): its %s has %d outputs for the node's %d", n.GetName(), which, len(b.GetOutput()), len(n.GetOutput()))
	}
	// Names the branch computes: its outputs take the If's names, the rest
	// keep theirs unless they clash with a name already in use.
	produced := map[string]bool{}
	for _, bn := range b.GetNode() {
		for _, o := range bn.GetOutput() {
			produced[o] = o != ""
		}
	}
	rename := map[string]string{}
	var tail []*onnx.NodeProto
	for k, o := range b.GetOutput() {
		name, to := o.GetName(), n.GetOutput()[k]
		if produced[name] && rename[name] == "" {
			rename[name] = to
			continue
		}
		src := name
		tail = append(tail, &onnx.NodeProto{Name: fmt.Sprintf("%s/output%d", n.GetName(), k), OpType: "Identity", Input: []string{src}, Output: []string{to}})
	}
	local := func(name string) {
		if name == "" || rename[name] != "" {
			return
		}
		r := name
		for i := 1; f.names[r]; i++ {
			r = fmt.Sprintf("%s/%s%d", n.GetName(), name, i)
		}
		rename[name] = r
		f.names[r] = true
	}
	for _, t := range b.GetInitializer() {
		local(t.GetName())
	}
	for _, bn := range b.GetNode() {
		for _, o := range bn.GetOutput() {
			local(o)
		}
	}
	mapped := func(s string) string {
		if r, ok := rename[s]; ok {
			return r
		}
		return s
	}
	for _, t := range b.GetInitializer() {
		c := cloneTensorProto(t)
		c.Name = mapped(t.GetName())
		f.inits = append(f.inits, c)
	}
	var body []*onnx.NodeProto
	for _, bn := range b.GetNode() {
		c := &onnx.NodeProto{Name: n.GetName() + "/" + bn.GetName(), OpType: bn.GetOpType(), Domain: bn.GetDomain(),
			Attribute: bn.GetAttribute(), DocString: bn.GetDocString()}
		for _, in := range bn.GetInput() {
			c.Input = append(c.Input, mapped(in))
		}
		for _, o := range bn.GetOutput() {
			c.Output = append(c.Output, mapped(o))
		}
		body = append(body, c)
	}
	for _, t := range tail {
		t.Input[0] = mapped(t.Input[0])
	}
	// The branch's own constants may decide the Ifs nested in it.
	f.scan(body, f.inits)
	body, err := f.fold(body)
	if err != nil {
		return nil, err
	}
	return append(body, tail...), nil
}
