package onnxsafe

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// Load parses model bytes and returns a self-contained ModelProto: every
// tensor location (dense, sparse values and indices, Constant and other
// attribute tensors, in subgraphs and functions, recursively) resolved against
// dir, its bytes inlined and data_location cleared, so that ONNX Runtime is
// handed bytes that reference no file. dir is the model's folder (relative
// paths are made absolute); "" allows no external data. Every size the model
// declares is checked against lim (zero fields take DefaultLimits' values)
// before anything is allocated from it. Fields newer than advlab's ONNX schema
// are dropped, except the plain-data ones ONNX Runtime uses, and the function
// attributes and value_info, which are checked like the rest.
func Load(data []byte, dir string, lim Limits) (*onnx.ModelProto, error) {
	mp := &onnx.ModelProto{}
	if err := proto.Unmarshal(data, mp); err != nil {
		return nil, fmt.Errorf("not a readable ONNX file (%v); export the model again with torch.onnx.export or tf2onnx", err)
	}
	if mp.GetGraph() == nil {
		return nil, errors.New("the ONNX file has no graph; check that it is a model and not truncated")
	}
	l := &loader{lim: lim.withDefaults()}
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("locating the model's folder %q: %v", dir, err)
		}
		l.dir = abs
	}
	if err := l.model(mp); err != nil {
		return nil, err
	}
	return mp, nil
}

// loader carries the limits and the running budgets through one Load.
type loader struct {
	lim      Limits
	dir      string // absolute model folder, "" = no external data
	realDir  string // dir with its symlinks resolved, once needed
	total    int64  // tensor bytes so far
	strBytes int64  // string bytes so far
}

func (l *loader) model(mp *onnx.ModelProto) error {
	strip(mp.ProtoReflect())
	if err := l.graph(mp.GetGraph(), "", true); err != nil {
		return err
	}
	for _, f := range mp.GetFunctions() {
		if err := l.function(f); err != nil {
			return err
		}
	}
	for i, ti := range mp.GetTrainingInfo() {
		for _, g := range []*onnx.GraphProto{ti.GetInitialization(), ti.GetAlgorithm()} {
			if g != nil {
				if err := l.graph(g, fmt.Sprintf(" in training_info %d", i), false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// graph checks one graph; where says where it sits ("" for the main graph).
func (l *loader) graph(g *onnx.GraphProto, where string, top bool) error {
	for _, t := range g.GetInitializer() {
		if err := l.tensor(t, "initializer"+where); err != nil {
			return err
		}
	}
	for _, s := range g.GetSparseInitializer() {
		if err := l.sparse(s, "sparse initializer"+where); err != nil {
			return err
		}
	}
	for _, v := range g.GetInput() {
		if err := l.valueInfo(v, "input", where, true, false); err != nil {
			return err
		}
	}
	for _, v := range g.GetOutput() {
		if err := l.valueInfo(v, "output", where, true, top); err != nil {
			return err
		}
	}
	for _, v := range g.GetValueInfo() {
		if err := l.valueInfo(v, "value_info", where, false, false); err != nil {
			return err
		}
	}
	return l.nodes(g.GetNode(), where)
}

func (l *loader) nodes(nodes []*onnx.NodeProto, where string) error {
	for _, n := range nodes {
		for _, a := range n.GetAttribute() {
			at := fmt.Sprintf("attribute %q of node %q (%s)%s", a.GetName(), n.GetName(), n.GetOpType(), where)
			sub := fmt.Sprintf(" in the subgraph %q of node %q (%s)%s", a.GetName(), n.GetName(), n.GetOpType(), where)
			if err := l.attribute(a, at, sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// attribute checks every tensor, graph and type an attribute holds, whatever
// its type field says, since the bytes reach ONNX Runtime either way.
func (l *loader) attribute(a *onnx.AttributeProto, at, sub string) error {
	if t := a.GetT(); t != nil {
		if err := l.tensor(t, at); err != nil {
			return err
		}
	}
	for _, t := range a.GetTensors() {
		if err := l.tensor(t, at); err != nil {
			return err
		}
	}
	if s := a.GetSparseTensor(); s != nil {
		if err := l.sparse(s, at); err != nil {
			return err
		}
	}
	for _, s := range a.GetSparseTensors() {
		if err := l.sparse(s, at); err != nil {
			return err
		}
	}
	if g := a.GetG(); g != nil {
		if err := l.graph(g, sub, false); err != nil {
			return err
		}
	}
	for i, g := range a.GetGraphs() {
		if err := l.graph(g, fmt.Sprintf("%s (graph %d)", sub, i), false); err != nil {
			return err
		}
	}
	if tp := a.GetTp(); tp != nil {
		if err := l.typeShape(tp, at, false, false); err != nil {
			return err
		}
	}
	for _, tp := range a.GetTypeProtos() {
		if err := l.typeShape(tp, at, false, false); err != nil {
			return err
		}
	}
	return nil
}

// valueInfo checks the static dimensions of a graph's input, output or
// value_info; io marks inputs and outputs, whose first dimension is the batch,
// and classes the main graph's outputs.
func (l *loader) valueInfo(v *onnx.ValueInfoProto, role, where string, io, classes bool) error {
	if v.GetType() == nil {
		return nil
	}
	return l.typeShape(v.GetType(), fmt.Sprintf("%s %q%s", role, v.GetName(), where), io, classes)
}

func (l *loader) typeShape(tp *onnx.TypeProto, what string, io, classes bool) error {
	var shape *onnx.TensorShapeProto
	switch {
	case tp.GetTensorType() != nil:
		shape = tp.GetTensorType().GetShape()
	case tp.GetSparseTensorType() != nil:
		shape = tp.GetSparseTensorType().GetShape()
	case tp.GetSequenceType() != nil:
		return l.nestedType(tp.GetSequenceType().GetElemType(), what)
	case tp.GetOptionalType() != nil:
		return l.nestedType(tp.GetOptionalType().GetElemType(), what)
	case tp.GetMapType() != nil:
		return l.nestedType(tp.GetMapType().GetValueType(), what)
	}
	var static []int64
	for i, d := range shape.GetDim() {
		dv, ok := d.GetValue().(*onnx.TensorShapeProto_Dimension_DimValue)
		if !ok {
			continue // symbolic or unknown
		}
		x := dv.DimValue
		limit, name := l.lim.MaxDim, "MaxDim"
		switch {
		case io && i == 0:
			limit, name = l.lim.MaxBatch, "batch"
		case classes:
			limit, name = l.lim.MaxClasses, "class"
		}
		if x < 0 {
			return fmt.Errorf("%s has a negative dimension %d; fix the model's shapes or re-export it", what, x)
		}
		if x > limit {
			return fmt.Errorf("%s has dimension %d of %d, beyond advlab's %s limit of %d; the model is corrupt or not an image classifier", what, i, x, name, limit)
		}
		static = append(static, x)
	}
	if _, err := elements(static, l.lim.MaxElements); err != nil {
		return fmt.Errorf("%s %v; the model is corrupt or not an image classifier", what, err)
	}
	return nil
}

func (l *loader) nestedType(tp *onnx.TypeProto, what string) error {
	if tp == nil {
		return nil
	}
	return l.typeShape(tp, what, false, false)
}
