package onnxupgrade

import (
	"fmt"

	"github.com/advancedclimatesystems/gonnx/onnx"
)

// upgrader rewrites the nodes of one model, graph by graph.
type upgrader struct {
	from  int64
	rep   *Report
	names map[string]bool // every name in the model, to make fresh ones
	used  map[string]bool // every value some node or graph output reads
	notes []string
	noted map[string]bool
}

func newUpgrader(m *onnx.ModelProto, from int64, rep *Report) *upgrader {
	u := &upgrader{from: from, rep: rep, names: map[string]bool{}, used: map[string]bool{}, noted: map[string]bool{}}
	walkGraphs(m.Graph, func(g *onnx.GraphProto) {
		for _, vs := range [][]*onnx.ValueInfoProto{g.Input, g.Output, g.ValueInfo} {
			for _, v := range vs {
				if v != nil {
					u.names[v.Name] = true
				}
			}
		}
		for _, v := range g.Output {
			if v != nil {
				u.used[v.Name] = true
			}
		}
		for _, t := range g.Initializer {
			if t != nil {
				u.names[t.Name] = true
			}
		}
		for _, n := range g.Node {
			if n == nil {
				continue
			}
			u.names[n.Name] = true
			for _, s := range n.Input {
				u.names[s] = true
				u.used[s] = true
			}
			for _, s := range n.Output {
				u.names[s] = true
			}
		}
	})
	return u
}

// fresh returns a name not yet used in the model, built from base.
func (u *upgrader) fresh(base string) string {
	name := base
	for i := 1; u.names[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	u.names[name] = true
	return name
}

// note records an assumption once per model.
func (u *upgrader) note(s string) {
	if !u.noted[s] {
		u.noted[s] = true
		u.notes = append(u.notes, s)
	}
}

// graph translates the nodes of g in place; outer is the scope g is nested
// in, nil for the main graph.
func (u *upgrader) graph(g *onnx.GraphProto, outer *scope) error {
	s := newScope(g, outer)
	nodes := make([]*onnx.NodeProto, 0, len(g.Node))
	for _, n := range g.Node {
		if n == nil {
			continue
		}
		for _, a := range n.Attribute {
			if a == nil {
				continue
			}
			if a.G != nil {
				if err := u.graph(a.G, s); err != nil {
					return err
				}
			}
			for _, sg := range a.Graphs {
				if sg != nil {
					if err := u.graph(sg, s); err != nil {
						return err
					}
				}
			}
		}
		out := []*onnx.NodeProto{n}
		if isDefaultDomain(n.Domain) {
			if tr := translators[n.OpType]; tr != nil {
				rewritten, kind, err := tr(u, s, n)
				if err != nil {
					return err
				}
				if kind != "" {
					u.rep.Translated[kind]++
					out = rewritten
				}
			}
		}
		for _, o := range out {
			s.infer(o)
		}
		nodes = append(nodes, out...)
	}
	g.Node = nodes
	dropStaleValueInfo(g)
	return nil
}

// dropStaleValueInfo removes the value_info of values the graph no longer
// computes, such as the outputs of a Dropout's unread mask or of the
// training outputs of an old BatchNormalization.
func dropStaleValueInfo(g *onnx.GraphProto) {
	live := map[string]bool{}
	for _, v := range g.Input {
		if v != nil {
			live[v.Name] = true
		}
	}
	for _, t := range g.Initializer {
		live[t.GetName()] = true
	}
	for _, n := range g.Node {
		for _, o := range n.GetOutput() {
			live[o] = true
		}
	}
	kept := g.ValueInfo[:0:0]
	for _, v := range g.ValueInfo {
		if v != nil && live[v.Name] {
			kept = append(kept, v)
		}
	}
	g.ValueInfo = kept
}

// nodeErr makes the one-line error for a node that cannot be upgraded.
func nodeErr(n *onnx.NodeProto, format string, args ...any) error {
	return fmt.Errorf("onnxupgrade: node %q (%s): %s", n.Name, n.OpType, fmt.Sprintf(format, args...))
}

// attr returns n's attribute called name, or nil.
func attr(n *onnx.NodeProto, name string) *onnx.AttributeProto {
	for _, a := range n.Attribute {
		if a != nil && a.Name == name {
			return a
		}
	}
	return nil
}

// dropAttrs removes the named attributes from n and reports whether any was
// there.
func dropAttrs(n *onnx.NodeProto, names ...string) bool {
	kept := n.Attribute[:0:0]
	dropped := false
	for _, a := range n.Attribute {
		drop := false
		if a != nil {
			for _, name := range names {
				if a.Name == name {
					drop = true
				}
			}
		}
		if drop {
			dropped = true
			continue
		}
		kept = append(kept, a)
	}
	n.Attribute = kept
	return dropped
}

// setAttr replaces or adds an attribute.
func setAttr(n *onnx.NodeProto, a *onnx.AttributeProto) {
	dropAttrs(n, a.Name)
	n.Attribute = append(n.Attribute, a)
}

func intAttr(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: v}
}

func stringAttr(name, v string) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_STRING, S: []byte(v)}
}

// attrInt returns an INT attribute's value, or def when it is absent.
func attrInt(n *onnx.NodeProto, name string, def int64) int64 {
	if a := attr(n, name); a != nil {
		return a.I
	}
	return def
}

// attrString returns a STRING attribute's value, or def when it is absent.
func attrString(n *onnx.NodeProto, name, def string) string {
	if a := attr(n, name); a != nil {
		return string(a.S)
	}
	return def
}

// input returns n's i-th input name, "" when it has fewer.
func input(n *onnx.NodeProto, i int) string {
	if i < len(n.Input) {
		return n.Input[i]
	}
	return ""
}

// setInput sets n's i-th input, padding skipped optional inputs with "".
func setInput(n *onnx.NodeProto, i int, name string) {
	for len(n.Input) <= i {
		n.Input = append(n.Input, "")
	}
	n.Input[i] = name
}

// addInt64s adds a 1-D int64 constant to scope s and returns its name.
func (u *upgrader) addInt64s(s *scope, base string, v []int64) string {
	t := &onnx.TensorProto{Name: u.fresh(base), Dims: []int64{int64(len(v))}, DataType: int32(onnx.TensorProto_INT64), Int64Data: append([]int64(nil), v...)}
	s.addConst(t)
	return t.Name
}

// addFloats adds a 1-D float32 constant to scope s and returns its name.
func (u *upgrader) addFloats(s *scope, base string, v []float32) string {
	t := &onnx.TensorProto{Name: u.fresh(base), Dims: []int64{int64(len(v))}, DataType: int32(onnx.TensorProto_FLOAT), FloatData: append([]float32(nil), v...)}
	s.addConst(t)
	return t.Name
}

// addScalar adds a scalar constant of element type elem holding v to scope
// s and returns its name, together with any node needed to produce it: the
// float16 types are made by a Cast of a float32 scalar so that the rounding
// is ONNX Runtime's own. An unknown type is taken as float32, with a note.
func (u *upgrader) addScalar(s *scope, n *onnx.NodeProto, base string, elem int32, v float32) (string, []*onnx.NodeProto) {
	name := u.fresh(base)
	switch onnx.TensorProto_DataType(elem) {
	case onnx.TensorProto_DOUBLE:
		s.addConst(&onnx.TensorProto{Name: name, DataType: elem, DoubleData: []float64{float64(v)}})
		return name, nil
	case onnx.TensorProto_FLOAT16, onnx.TensorProto_BFLOAT16:
		f := u.fresh(base + "_f32")
		s.addConst(&onnx.TensorProto{Name: f, DataType: int32(onnx.TensorProto_FLOAT), FloatData: []float32{v}})
		cast := &onnx.NodeProto{Name: u.fresh(name + "_cast"), OpType: "Cast", Input: []string{f}, Output: []string{name}, Attribute: []*onnx.AttributeProto{intAttr("to", int64(elem))}}
		return name, []*onnx.NodeProto{cast}
	case onnx.TensorProto_FLOAT:
	default:
		u.note(fmt.Sprintf("the input of %s nodes such as %q was taken to be float32 (its type is not declared)", n.OpType, n.Name))
	}
	s.addConst(&onnx.TensorProto{Name: name, DataType: int32(onnx.TensorProto_FLOAT), FloatData: []float32{v}})
	return name, nil
}
