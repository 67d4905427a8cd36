package onnxmodel

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/onnxgrad"
	"google.golang.org/protobuf/proto"
)

// maxModelBytes bounds the size of an ONNX file advlab reads into memory.
const maxModelBytes = 2 << 30

// Sidecar is the JSON file beside a model (<model>.json) that tells advlab
// what the graph cannot: labels, preprocessing, and where the model came from.
// The same keys may be stored in the model's metadata properties.
type Sidecar struct {
	Name           string          `json:"name,omitempty"`
	Architecture   string          `json:"architecture,omitempty"`
	Parameters     int64           `json:"parameters,omitempty"`
	Labels         []string        `json:"labels,omitempty"`
	Layout         onnxgrad.Layout `json:"layout,omitempty"`
	InputSize      []int           `json:"input_size,omitempty"` // C, H, W
	InputRange     []float32       `json:"input_range,omitempty"`
	Mean           []float32       `json:"mean,omitempty"`
	Std            []float32       `json:"std,omitempty"`
	Dataset        json.RawMessage `json:"dataset,omitempty"`
	TrainAccuracy  float64         `json:"train_accuracy,omitempty"`
	TestAccuracy   float64         `json:"test_accuracy,omitempty"`
	SampleSet      string          `json:"sample_set,omitempty"`
	SampleAccuracy float64         `json:"sample_accuracy,omitempty"`
	Default        bool            `json:"default,omitempty"`
}

// Model is an ONNX image classifier, loaded and checked, with its
// preprocessing. It implements Classifier once ONNX Runtime is available.
type Model struct {
	// Path is the file the model came from ("" for an embedded model).
	Path string
	// Info is the sidecar or metadata that described the model.
	Info Sidecar
	// Input is the graph's image input.
	Input onnxgrad.InputSpec
	// Output is the name of the graph's logits output.
	Output string
	// Pre is the preprocessing folded in front of the graph.
	Pre onnxgrad.Preprocess
	// Opset is the model's default-domain operator set version.
	Opset int64

	name   string
	labels []string
	proto  *onnx.ModelProto
	runner runner
}

// Name returns the model's short name.
func (m *Model) Name() string { return m.name }

// Labels returns the class names.
func (m *Model) Labels() []string { return m.labels }

// InputShape returns the size of one input image.
func (m *Model) InputShape() engine.ImageShape { return m.Input.ImageShape }

// NumClasses returns the number of classes, K.
func (m *Model) NumClasses() int { return len(m.labels) }

// GraphSpec returns what the gradient-graph exporter needs to know of the model.
func (m *Model) GraphSpec() onnxgrad.Spec {
	return onnxgrad.Spec{Input: m.Input, Logits: m.Output, Preprocess: m.Pre, NumClasses: len(m.labels)}
}

// LoadModel reads an ONNX classifier from path, with its sidecar <name>.json
// (or <name>.onnx.json) when one exists.
func Load(path string) (*Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("opening model: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("opening model: %s is a folder; give an .onnx file", path)
	}
	if st.Size() > maxModelBytes {
		return nil, fmt.Errorf("opening model %s: %d bytes is larger than advlab's limit of %d", path, st.Size(), int64(maxModelBytes))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("opening model: %w", err)
	}
	var sidecar []byte
	base := strings.TrimSuffix(path, filepath.Ext(path))
	for _, p := range []string{base + ".json", path + ".json"} {
		if b, err := os.ReadFile(p); err == nil {
			sidecar = b
			break
		}
	}
	name := filepath.Base(base)
	m, err := LoadData(name, data, sidecar, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Path = path
	return m, nil
}

// LoadModelData builds a model from an ONNX file's bytes and an optional
// sidecar's bytes (nil when there is none). dir is the folder external tensor
// data may be read from; "" forbids external data.
func LoadData(name string, data, sidecar []byte, dir string) (*Model, error) {
	mp := &onnx.ModelProto{}
	if err := proto.Unmarshal(data, mp); err != nil {
		return nil, fmt.Errorf("not a readable ONNX file (%v); export the model with torch.onnx.export or tf2onnx and try again", err)
	}
	if mp.GetGraph() == nil || len(mp.GetGraph().GetNode()) == 0 {
		return nil, errors.New("not an ONNX model: it has no graph nodes; check that the file is a .onnx model and not truncated")
	}
	if err := inlineExternalData(mp.GetGraph(), dir, int64(len(data))); err != nil {
		return nil, err
	}
	m := &Model{name: name, proto: mp}
	for _, op := range mp.GetOpsetImport() {
		if op.GetDomain() == "" || op.GetDomain() == "ai.onnx" {
			m.Opset = op.GetVersion()
		}
	}
	if m.Opset == 0 {
		return nil, errors.New("the model imports no standard ONNX operator set")
	}
	if len(sidecar) > 0 {
		if err := json.Unmarshal(sidecar, &m.Info); err != nil {
			return nil, fmt.Errorf("reading the model's sidecar JSON: %v; fix or remove the .json file beside the model", err)
		}
	} else if err := sidecarFromMetadata(mp, &m.Info); err != nil {
		return nil, err
	}
	if m.Info.Name != "" {
		m.name = m.Info.Name
	}
	if err := m.findInput(); err != nil {
		return nil, err
	}
	if err := m.findOutput(); err != nil {
		return nil, err
	}
	if err := m.readPreprocess(); err != nil {
		return nil, err
	}
	return m, nil
}

// sidecarFromMetadata reads sidecar keys from the model's metadata
// properties: either one "advlab" key holding the whole sidecar JSON, or
// individual keys ("labels", "input_range", "mean", "std", "layout") holding
// JSON values or comma-separated lists.
func sidecarFromMetadata(mp *onnx.ModelProto, sc *Sidecar) error {
	props := map[string]string{}
	for _, p := range mp.GetMetadataProps() {
		props[p.GetKey()] = p.GetValue()
	}
	if v, ok := props["advlab"]; ok {
		if err := json.Unmarshal([]byte(v), sc); err != nil {
			return fmt.Errorf("reading the model's \"advlab\" metadata property: %v", err)
		}
		return nil
	}
	if v, ok := props["labels"]; ok {
		if err := json.Unmarshal([]byte(v), &sc.Labels); err != nil {
			sc.Labels = splitList(v)
		}
	}
	for key, dst := range map[string]*[]float32{"input_range": &sc.InputRange, "mean": &sc.Mean, "std": &sc.Std} {
		v, ok := props[key]
		if !ok {
			continue
		}
		if err := json.Unmarshal([]byte(v), dst); err != nil {
			for _, f := range splitList(v) {
				x, err := strconv.ParseFloat(f, 32)
				if err != nil {
					return fmt.Errorf("metadata property %q = %q: not a list of numbers", key, v)
				}
				*dst = append(*dst, float32(x))
			}
		}
	}
	if v, ok := props["layout"]; ok {
		sc.Layout = onnxgrad.Layout(strings.ToUpper(strings.TrimSpace(v)))
	}
	return nil
}

func splitList(s string) []string {
	s = strings.Trim(strings.TrimSpace(s), "[]")
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.Trim(strings.TrimSpace(f), `"'`); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (m *Model) findInput() error {
	inputs := onnxgrad.GraphInputs(m.proto.GetGraph())
	if len(inputs) != 1 {
		names := make([]string, len(inputs))
		for i, in := range inputs {
			names[i] = in.GetName()
		}
		return fmt.Errorf("the model has %d inputs (%s); advlab needs a classifier whose only input is an image batch", len(inputs), strings.Join(names, ", "))
	}
	in := inputs[0]
	if et := in.GetType().GetTensorType().GetElemType(); et != int32(onnx.TensorProto_FLOAT) {
		return fmt.Errorf("input %q has element type %s; advlab needs a float32 image input", in.GetName(), onnx.TensorProto_DataType(et))
	}
	d := onnxgrad.Dims(in)
	if len(d) != 4 {
		return fmt.Errorf("input %q has rank %d; advlab needs an image input of rank 4 (NCHW or NHWC)", in.GetName(), len(d))
	}
	layout := m.Info.Layout
	if layout == "" {
		isChan := func(x int64) bool { return x == 1 || x == 3 || x == 4 }
		switch {
		case isChan(d[1]):
			layout = onnxgrad.NCHW
		case isChan(d[3]):
			layout = onnxgrad.NHWC
		default:
			layout = onnxgrad.NCHW
		}
	}
	var c, h, w int64
	switch layout {
	case onnxgrad.NCHW:
		c, h, w = d[1], d[2], d[3]
	case onnxgrad.NHWC:
		h, w, c = d[1], d[2], d[3]
	default:
		return fmt.Errorf("layout %q in the sidecar: use NCHW or NHWC", layout)
	}
	if s := m.Info.InputSize; len(s) == 3 {
		for i, p := range []*int64{&c, &h, &w} {
			if *p > 0 && *p != int64(s[i]) {
				return fmt.Errorf("the sidecar's input_size %v contradicts the graph's input shape %v", s, d)
			}
			*p = int64(s[i])
		}
	} else if len(s) != 0 {
		return fmt.Errorf("the sidecar's input_size %v: give [channels, height, width]", s)
	}
	if c <= 0 || h <= 0 || w <= 0 {
		return fmt.Errorf("input %q has dynamic image dimensions %v; give \"input_size\": [C, H, W] in the model's sidecar JSON", in.GetName(), d)
	}
	if c != 1 && c != 3 {
		return fmt.Errorf("input %q has %d channels; advlab handles grayscale (1) and RGB (3) images", in.GetName(), c)
	}
	m.Input = onnxgrad.InputSpec{Name: in.GetName(), Layout: layout, ImageShape: engine.ImageShape{Channels: int(c), Height: int(h), Width: int(w)}}
	if d[0] > 0 {
		m.Input.Batch = int(d[0])
	}
	return nil
}

func (m *Model) findOutput() error {
	outs := m.proto.GetGraph().GetOutput()
	var pick *onnx.ValueInfoProto
	if len(outs) == 1 {
		pick = outs[0]
	} else {
		for _, o := range outs {
			if strings.Contains(strings.ToLower(o.GetName()), "logit") {
				pick = o
				break
			}
		}
		if pick == nil {
			for _, o := range outs {
				if len(onnxgrad.Dims(o)) == 2 {
					pick = o
					break
				}
			}
		}
	}
	if pick == nil {
		return fmt.Errorf("the model has %d outputs and none looks like logits [N,K]; name the logits output \"logits\"", len(outs))
	}
	d := onnxgrad.Dims(pick)
	if len(d) != 2 {
		return fmt.Errorf("output %q has rank %d; advlab needs logits of shape [N, K]", pick.GetName(), len(d))
	}
	if et := pick.GetType().GetTensorType().GetElemType(); et != int32(onnx.TensorProto_FLOAT) {
		return fmt.Errorf("output %q has element type %s; advlab needs float32 logits", pick.GetName(), onnx.TensorProto_DataType(et))
	}
	m.Output = pick.GetName()
	k := int(d[1])
	if k <= 0 {
		k = len(m.Info.Labels)
	}
	if k <= 0 {
		return fmt.Errorf("output %q has a dynamic class count; list the labels in the model's sidecar JSON", pick.GetName())
	}
	switch {
	case len(m.Info.Labels) == 0:
		m.labels = make([]string, k)
		for i := range m.labels {
			m.labels[i] = strconv.Itoa(i)
		}
	case len(m.Info.Labels) != k:
		return fmt.Errorf("the sidecar lists %d labels but the model has %d classes", len(m.Info.Labels), k)
	default:
		m.labels = m.Info.Labels
	}
	return nil
}

func (m *Model) readPreprocess() error {
	c := m.Input.Channels
	p := onnxgrad.Preprocess{Range: [2]float32{0, 1}}
	switch len(m.Info.InputRange) {
	case 0:
	case 2:
		p.Range = [2]float32{m.Info.InputRange[0], m.Info.InputRange[1]}
		if p.Range[1] <= p.Range[0] {
			return fmt.Errorf("input_range %v: the upper bound must exceed the lower", m.Info.InputRange)
		}
	default:
		return fmt.Errorf("input_range %v: give [low, high], e.g. [0, 255]", m.Info.InputRange)
	}
	perChannel := func(name string, v []float32, def float32) ([]float32, error) {
		out := make([]float32, c)
		switch len(v) {
		case 0:
			for i := range out {
				out[i] = def
			}
		case 1:
			for i := range out {
				out[i] = v[0]
			}
		case c:
			copy(out, v)
		default:
			return nil, fmt.Errorf("%s has %d values; the model has %d channels", name, len(v), c)
		}
		return out, nil
	}
	var err error
	if p.Mean, err = perChannel("mean", m.Info.Mean, 0); err != nil {
		return err
	}
	if p.Std, err = perChannel("std", m.Info.Std, 1); err != nil {
		return err
	}
	for _, s := range p.Std {
		if s <= 0 {
			return fmt.Errorf("std %v: every value must be positive", m.Info.Std)
		}
	}
	m.Pre = p
	return nil
}

// inlineExternalData reads tensors stored outside the ONNX file into the
// graph, refusing any location outside dir and any length the file does not
// actually have, so a hostile model cannot read arbitrary files or make advlab
// allocate more than is on disk.
func inlineExternalData(g *onnx.GraphProto, dir string, fileSize int64) error {
	var tensors []*onnx.TensorProto
	tensors = append(tensors, g.GetInitializer()...)
	for _, n := range g.GetNode() {
		for _, a := range n.GetAttribute() {
			if a.GetT() != nil {
				tensors = append(tensors, a.GetT())
			}
			if a.GetG() != nil || len(a.GetGraphs()) > 0 {
				return fmt.Errorf("node %q (%s) has a subgraph; advlab does not support control flow in classifiers", n.GetName(), n.GetOpType())
			}
		}
	}
	for _, t := range tensors {
		if t.GetDataLocation() != onnx.TensorProto_EXTERNAL {
			if err := checkTensorSize(t, int64(len(t.GetRawData()))+fileSize); err != nil {
				return err
			}
			continue
		}
		if dir == "" {
			return fmt.Errorf("tensor %q is stored in an external file, which an embedded model cannot have", t.GetName())
		}
		var loc string
		var offset, length int64 = 0, -1
		for _, kv := range t.GetExternalData() {
			var err error
			switch kv.GetKey() {
			case "location":
				loc = kv.GetValue()
			case "offset":
				offset, err = strconv.ParseInt(kv.GetValue(), 10, 64)
			case "length":
				length, err = strconv.ParseInt(kv.GetValue(), 10, 64)
			}
			if err != nil {
				return fmt.Errorf("tensor %q: bad external-data %s %q", t.GetName(), kv.GetKey(), kv.GetValue())
			}
		}
		if loc == "" || filepath.IsAbs(loc) || !filepath.IsLocal(filepath.FromSlash(loc)) {
			return fmt.Errorf("tensor %q: external data path %q leaves the model's folder; advlab only reads external data beside the model", t.GetName(), loc)
		}
		path := filepath.Join(dir, filepath.FromSlash(loc))
		if real, err := filepath.EvalSymlinks(path); err == nil {
			absDir, _ := filepath.Abs(dir)
			if realDir, err := filepath.EvalSymlinks(absDir); err == nil {
				absDir = realDir
			}
			if rel, err := filepath.Rel(absDir, real); err != nil || !filepath.IsLocal(rel) {
				return fmt.Errorf("tensor %q: external data %q links outside the model's folder", t.GetName(), loc)
			}
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("tensor %q: reading its external data: %w", t.GetName(), err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return fmt.Errorf("tensor %q: reading its external data: %w", t.GetName(), err)
		}
		if length < 0 {
			length = st.Size() - offset
		}
		if offset < 0 || length < 0 || offset+length > st.Size() {
			f.Close()
			return fmt.Errorf("tensor %q: external data offset %d length %d lies beyond the end of %s (%d bytes)", t.GetName(), offset, length, loc, st.Size())
		}
		if err := checkTensorSize(t, length); err != nil {
			f.Close()
			return err
		}
		buf := make([]byte, length)
		_, err = f.ReadAt(buf, offset)
		f.Close()
		if err != nil {
			return fmt.Errorf("tensor %q: reading its external data: %w", t.GetName(), err)
		}
		t.RawData = buf
		t.DataLocation = onnx.TensorProto_DEFAULT
		t.ExternalData = nil
	}
	return nil
}

// elemSize is the byte size of ONNX tensor element types advlab may meet in
// initializers; 0 for types it does not size (strings).
func elemSize(dt int32) int64 {
	switch onnx.TensorProto_DataType(dt) {
	case onnx.TensorProto_FLOAT, onnx.TensorProto_INT32, onnx.TensorProto_UINT32:
		return 4
	case onnx.TensorProto_DOUBLE, onnx.TensorProto_INT64, onnx.TensorProto_UINT64:
		return 8
	case onnx.TensorProto_FLOAT16, onnx.TensorProto_BFLOAT16, onnx.TensorProto_INT16, onnx.TensorProto_UINT16:
		return 2
	case onnx.TensorProto_INT8, onnx.TensorProto_UINT8, onnx.TensorProto_BOOL:
		return 1
	}
	return 0
}

// checkTensorSize rejects a tensor whose declared dimensions need more bytes
// than the data available to it, before anything is allocated from them.
func checkTensorSize(t *onnx.TensorProto, available int64) error {
	n := int64(1)
	for _, d := range t.GetDims() {
		if d < 0 {
			return fmt.Errorf("tensor %q has a negative dimension %v", t.GetName(), t.GetDims())
		}
		if d > 0 && n > (1<<62)/d {
			return fmt.Errorf("tensor %q declares an impossible size %v", t.GetName(), t.GetDims())
		}
		n *= d
	}
	es := elemSize(t.GetDataType())
	if es == 0 {
		return nil
	}
	if n*es > available {
		return fmt.Errorf("tensor %q declares %v (%d bytes) but the file holds only %d; the model file is truncated or corrupt", t.GetName(), t.GetDims(), n*es, available)
	}
	return nil
}
