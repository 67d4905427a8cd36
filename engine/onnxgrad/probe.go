package onnxgrad

import (
	"fmt"
	"math/rand/v2"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine/internal/onnxproto"
	"github.com/advlab/advlab/engine/onnxrt"
	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"
)

// tensorInfo is what the probe learnt of one tensor of the classifier.
type tensorInfo struct {
	elem onnx.TensorProto_DataType
	// dims are the tensor's dimensions at the first probe's batch size; dyn
	// marks those that change with the batch size (batch dimensions).
	dims []int64
	dyn  []bool
	// ints are the values of a small integer tensor (shapes, indices,
	// axes), or nil when they are unknown or change with the batch size.
	ints []int64
}

// static reports whether no dimension of the tensor depends on the batch.
func (t *tensorInfo) static() bool {
	for _, d := range t.dyn {
		if d {
			return false
		}
	}
	return true
}

// size returns the number of elements at the probe's batch size.
func (t *tensorInfo) size() int64 {
	n := int64(1)
	for _, d := range t.dims {
		n *= d
	}
	return n
}

// maxProbedInts bounds the integer tensors whose values the probe records.
const maxProbedInts = 64

// probeBatches returns the batch sizes the probe runs: two, so that batch
// dimensions show as the dimensions that differ, unless the graph's batch is
// fixed.
func (x *gradExport) probeBatches() []int {
	if b := x.spec.Input.Batch; b > 0 {
		return []int{b}
	}
	return []int{2, 3}
}

// probe runs a copy of the forward graph whose outputs are all its tensors
// through ONNX Runtime on random images, and records every tensor's type,
// shape and (for small integer tensors) values. It also pools an all-ones
// tensor with every AveragePool's attributes, to learn the divisors ONNX
// Runtime uses at each output position.
func (x *gradExport) probe() error {
	if err := onnxrt.Init(); err != nil {
		return err
	}
	for name, t := range x.inits {
		info := &tensorInfo{elem: onnx.TensorProto_DataType(t.GetDataType()), dims: t.GetDims(), dyn: make([]bool, len(t.GetDims()))}
		if n := info.size(); n <= maxProbedInts && (info.elem == onnx.TensorProto_INT64 || info.elem == onnx.TensorProto_INT32) {
			info.ints, _ = tensorInt64s(t)
		}
		x.info[name] = info
	}
	var in *onnx.ValueInfoProto
	for _, v := range x.src.GetGraph().GetInput() {
		if v.GetName() == x.spec.Input.Name {
			in = &onnx.ValueInfoProto{Name: gradInputName, Type: v.GetType()}
		}
	}
	nodes := append([]*onnx.NodeProto(nil), x.nodes...)
	// Every tensor is probed as Unsqueeze(t, [0]): ONNX Runtime's Go binding
	// cannot return a rank-0 tensor, and shape arithmetic is full of them.
	var outputs []string
	probed := map[string]string{} // probe output → tensor
	unsq := map[string]*onnx.NodeProto{}
	zero := onnxproto.Int64Tensor([]int64{1}, []int64{0})
	zero.Name = gradPrefix + "probe/axis0"
	for _, n := range x.nodes {
		for _, o := range n.GetOutput() {
			p := gradPrefix + "probe/" + o
			if o != "" && probed[p] == "" {
				probed[p] = o
				outputs = append(outputs, p)
				unsq[p] = &onnx.NodeProto{OpType: "Unsqueeze", Input: []string{o, zero.Name}, Output: []string{p}}
				nodes = append(nodes, unsq[p])
			}
		}
	}
	avg := map[string]string{} // probe output → AveragePool output
	for i, n := range x.nodes {
		if n.GetOpType() != "AveragePool" || len(n.GetOutput()) == 0 {
			continue
		}
		pre := fmt.Sprintf("%sprobe%d/", gradPrefix, i)
		ones := onnxproto.Float32Tensor([]int64{1}, []float32{1})
		nodes = append(nodes,
			&onnx.NodeProto{OpType: "Shape", Input: n.GetInput()[:1], Output: []string{pre + "shape"}},
			&onnx.NodeProto{OpType: "ConstantOfShape", Input: []string{pre + "shape"}, Output: []string{pre + "ones"}, Attribute: []*onnx.AttributeProto{onnxproto.AttrTensor("value", ones)}},
			&onnx.NodeProto{OpType: "AveragePool", Input: []string{pre + "ones"}, Output: []string{pre + "avg"}, Attribute: n.GetAttribute()})
		avg[pre+"avg"] = n.GetOutput()[0]
		outputs = append(outputs, pre+"avg")
	}
	g := &onnx.GraphProto{Name: "advlab_probe", Node: nodes, Input: []*onnx.ValueInfoProto{in}, Initializer: []*onnx.TensorProto{zero}}
	for _, t := range x.inits {
		g.Initializer = append(g.Initializer, t)
	}
	for _, o := range outputs {
		g.Output = append(g.Output, &onnx.ValueInfoProto{Name: o})
	}
	m := &onnx.ModelProto{IrVersion: max(x.src.GetIrVersion(), 7), OpsetImport: x.src.GetOpsetImport(), Graph: g}
	data, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	// ONNX Runtime's Go binding copies float16 and other unusual tensors
	// wrongly, so those are probed by their Shape, with the type that
	// ONNX Runtime infers for them.
	_, infos, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return fmt.Errorf("loading the model into ONNX Runtime: %w", err)
	}
	shaped := map[string]onnx.TensorProto_DataType{}
	for _, info := range infos {
		elem := onnx.TensorProto_DataType(int(info.DataType))
		if n := unsq[info.Name]; n != nil && !plainElemType(elem) {
			n.OpType, n.Input = "Shape", n.Input[:1]
			shaped[info.Name] = elem
		}
	}
	if len(shaped) > 0 {
		if data, err = proto.Marshal(m); err != nil {
			return err
		}
	}
	s, err := onnxrt.NewSession(data, []string{gradInputName}, outputs)
	if err != nil {
		return fmt.Errorf("loading the model into ONNX Runtime: %w", err)
	}
	defer s.Destroy()
	for k, b := range x.probeBatches() {
		if err := x.probeRun(s, b, k == 0, outputs, probed, shaped, avg); err != nil {
			return fmt.Errorf("running the model at batch size %d: %w", b, err)
		}
	}
	return nil
}

// inputShape returns the image input's shape at batch size b.
func (x *gradExport) inputShape(b int) []int64 {
	s := x.spec.Input
	if s.Layout == NHWC {
		return []int64{int64(b), int64(s.Height), int64(s.Width), int64(s.Channels)}
	}
	return []int64{int64(b), int64(s.Channels), int64(s.Height), int64(s.Width)}
}

// probeRun runs the probe session once at batch size b and records or
// compares (first == false) what it sees.
func (x *gradExport) probeRun(s *ort.DynamicAdvancedSession, b int, first bool, outputs []string, probed map[string]string, shaped map[string]onnx.TensorProto_DataType, avg map[string]string) error {
	shape := x.inputShape(b)
	c := x.spec.Input.Channels
	img := make([]float32, b*x.spec.Input.Size())
	rng := rand.New(rand.NewPCG(uint64(b), 7))
	p := x.spec.Preprocess
	for i := range img {
		ch := (i / (x.spec.Input.Height * x.spec.Input.Width)) % c
		if x.spec.Input.Layout == NHWC {
			ch = i % c
		}
		v := rng.Float32()
		if len(p.Mean) == c && len(p.Std) == c && p.Range[1] > p.Range[0] {
			v = (v*(p.Range[1]-p.Range[0]) + p.Range[0] - p.Mean[ch]) / p.Std[ch]
		}
		img[i] = v
	}
	in, err := ort.NewTensor(ort.NewShape(shape...), img)
	if err != nil {
		return err
	}
	defer in.Destroy()
	outs := make([]ort.Value, len(outputs))
	if err := onnxrt.Run(s, []ort.Value{in}, outs); err != nil {
		return err
	}
	defer func() {
		for _, o := range outs {
			if o != nil {
				o.Destroy()
			}
		}
	}()
	record := func(p, name string, v ort.Value) error {
		if v.GetONNXType() != ort.ONNXTypeTensor {
			return fmt.Errorf("tensor %q is a %v, not a tensor", x.orig(name), v.GetONNXType())
		}
		got := &tensorInfo{elem: onnx.TensorProto_DataType(int(v.DataType())), dims: append([]int64(nil), v.GetShape()[1:]...)}
		if elem, ok := shaped[p]; ok {
			t, ok := v.(*ort.Tensor[int64])
			if !ok {
				return fmt.Errorf("the shape of %q is a %T", x.orig(name), v)
			}
			got = &tensorInfo{elem: elem, dims: append([]int64(nil), t.GetData()...)}
		}
		got.dyn = make([]bool, len(got.dims))
		if _, ok := shaped[p]; !ok && got.size() <= maxProbedInts {
			switch t := v.(type) {
			case *ort.Tensor[int64]:
				got.ints = append([]int64{}, t.GetData()...)
			case *ort.Tensor[int32]:
				for _, e := range t.GetData() {
					got.ints = append(got.ints, int64(e))
				}
			case *ort.Tensor[bool]:
				for _, e := range t.GetData() {
					got.ints = append(got.ints, map[bool]int64{false: 0, true: 1}[e])
				}
			}
			if got.ints == nil && (got.elem == onnx.TensorProto_INT64 || got.elem == onnx.TensorProto_INT32 || got.elem == onnx.TensorProto_BOOL) {
				got.ints = []int64{} // an empty tensor
			}
		}
		old := x.info[name]
		if first || old == nil {
			x.info[name] = got
			return nil
		}
		if len(old.dims) != len(got.dims) || old.elem != got.elem {
			return fmt.Errorf("tensor %q changes rank or type with the batch size (%v, then %v)", x.orig(name), old.dims, got.dims)
		}
		for i := range old.dims {
			old.dyn[i] = old.dyn[i] || old.dims[i] != got.dims[i]
		}
		if old.ints != nil && fmt.Sprint(old.ints) != fmt.Sprint(got.ints) {
			old.ints = nil
		}
		return nil
	}
	for i, name := range outputs {
		if y, ok := avg[name]; ok {
			t, ok := outs[i].(*ort.Tensor[float32])
			if !ok || len(outs[i].GetShape()) < 3 {
				return fmt.Errorf("pooling ones for %q gave %T", x.orig(y), outs[i])
			}
			sp := int64(1)
			for _, d := range outs[i].GetShape()[2:] {
				sp *= d
			}
			if first {
				x.avgOnes[y] = append([]float32(nil), t.GetData()[:sp]...)
			}
			continue
		}
		if err := record(name, probed[name], outs[i]); err != nil {
			return err
		}
	}
	dims := shape
	if first {
		x.info[gradInputName] = &tensorInfo{elem: onnx.TensorProto_FLOAT, dims: dims, dyn: make([]bool, len(dims))}
	} else {
		x.info[gradInputName].dyn[0] = true
	}
	return nil
}

// plainElemType reports whether ONNX Runtime's Go binding returns tensors
// of type t faithfully.
func plainElemType(t onnx.TensorProto_DataType) bool {
	switch t {
	case onnx.TensorProto_FLOAT, onnx.TensorProto_DOUBLE, onnx.TensorProto_BOOL,
		onnx.TensorProto_INT8, onnx.TensorProto_INT16, onnx.TensorProto_INT32, onnx.TensorProto_INT64,
		onnx.TensorProto_UINT8, onnx.TensorProto_UINT16, onnx.TensorProto_UINT32, onnx.TensorProto_UINT64:
		return true
	}
	return false
}
