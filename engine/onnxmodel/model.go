package onnxmodel

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/modelconfig"
	"github.com/advlab/advlab/engine/onnxgrad"
	"github.com/advlab/advlab/engine/onnxsafe"
	"github.com/advlab/advlab/engine/onnxupgrade"
	"github.com/advlab/advlab/internal/fsutil"
)

// maxModelBytes bounds the size of an ONNX file advlab reads into memory.
const maxModelBytes = 2 << 30

// Model is an ONNX image classifier, loaded, checked and brought to one
// canonical form: one float32 image input in [0,1]-derived units and one
// [N, K] logits output. Its configuration is fixed when it is loaded and
// read through methods, so its forward and gradient sessions always agree.
// It implements engine.Classifier.
type Model struct {
	path   string
	name   string
	cfg    modelconfig.Config
	pre    modelconfig.Preprocess
	gpre   onnxgrad.Preprocess // pre in the canonical graph's channel order
	input  onnxgrad.InputSpec
	labels []string
	// proto is the canonical graph whose output logitsName holds the logits.
	proto *onnx.ModelProto
	// chunk is the batch size each ONNX Runtime run must have (a graph
	// whose batch is fixed and could not be made dynamic), or 0.
	chunk  int
	info   Info
	runner runner
}

// Info is what advlab found in a model and what it chose when it had to
// guess, for `advlab inspect` and the workbench's model panel.
type Info struct {
	// Opset is the model file's default-domain operator set version.
	Opset int64
	// Upgrade says what the opset translation did ("" when none was needed).
	Upgrade string
	// Float16 is the number of float16/bfloat16 tensors converted to float32.
	Float16 int
	// InputName and InputDims are the graph's image input as declared (-1
	// for a dynamic dimension).
	InputName string
	InputDims []int64
	// Flat says the declared input is a flat vector that advlab reshapes from
	// images of the input shape, in FlattenOrder.
	Flat         bool
	FlattenOrder modelconfig.FlattenOrder
	// Batching says how batches reach the graph: "dynamic", "made dynamic
	// (…)" or "fixed at B: runs in chunks of B".
	Batching string
	// Config is where the model's configuration came from: a sidecar's path,
	// "metadata", or "none".
	Config string
	// Preprocessing describes the preprocessing and where each part came from.
	Preprocessing string
	// OutputName is the graph output advlab reads; Output what it holds and
	// OutputFrom how advlab knows.
	OutputName string
	Output     modelconfig.Output
	OutputFrom string
	// Logits says which tensor advlab differentiates as the logits.
	Logits string
	// Labels says where the class names came from.
	Labels string
	// Notes are further one-line remarks on what was changed or guessed.
	Notes []string
}

// Name returns the model's short name.
func (m *Model) Name() string { return m.name }

// Labels returns the class names.
func (m *Model) Labels() []string { return m.labels }

// InputShape returns the size of one input image.
func (m *Model) InputShape() engine.ImageShape { return m.input.ImageShape }

// Resize returns how images of another size are brought to the model's.
func (m *Model) Resize() engine.Resize {
	return engine.Resize{CenterCrop: m.pre.Resize.Mode == modelconfig.CenterCrop, CropFraction: float64(m.pre.Resize.CropFraction)}
}

// NumClasses returns the number of classes, K.
func (m *Model) NumClasses() int { return len(m.labels) }

// Path returns the file the model came from ("" for an embedded model).
func (m *Model) Path() string { return m.path }

// Config returns the configuration the model was loaded with.
func (m *Model) Config() modelconfig.Config { return m.cfg }

// Preprocess returns how [0,1] RGB pixels become the model's input.
func (m *Model) Preprocess() modelconfig.Preprocess { return m.pre }

// Input returns the canonical graph's image input.
func (m *Model) Input() onnxgrad.InputSpec { return m.input }

// Info returns what advlab found and chose when it loaded the model.
func (m *Model) Info() Info {
	out := m.info
	out.Notes = append([]string(nil), m.info.Notes...)
	return out
}

// GraphSpec returns what the gradient-graph compiler needs to know of the
// model's canonical graph.
func (m *Model) GraphSpec() onnxgrad.Spec {
	spec := onnxgrad.Spec{Input: m.input, Logits: logitsName, Preprocess: m.gpre, NumClasses: len(m.labels)}
	spec.Input.Batch = m.chunk
	return spec
}

// gradPreprocess is the affine map of p in the canonical graph's channel
// order: RGB, since a BGR model's channel swap is part of the graph.
func gradPreprocess(p modelconfig.Preprocess) onnxgrad.Preprocess {
	c := len(p.Mean)
	out := onnxgrad.Preprocess{Range: p.Range, Mean: make([]float32, c), Std: make([]float32, c)}
	for i := 0; i < c; i++ {
		s := p.SourceChannel(i)
		out.Mean[s], out.Std[s] = p.Mean[i], p.Std[i]
	}
	return out
}

// Load reads an ONNX classifier from path, with its sidecar <name>.json (or
// <name>.onnx.json) when one exists.
func Load(path string) (*Model, error) {
	data, err := fsutil.ReadRegular(path, maxModelBytes)
	if err != nil {
		return nil, fmt.Errorf("opening model: %w", err)
	}
	cfgPath, cfgData, err := modelconfig.Find(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("opening model: %w", err)
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	m, err := load(name, data, cfgData, cfgPath, filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.path = path
	return m, nil
}

// LoadData builds a model from an ONNX file's bytes and an optional
// sidecar's bytes (nil when there is none). dir is the folder external tensor
// data and a labels_file may be read from; "" forbids both.
func LoadData(name string, data, sidecar []byte, dir string) (*Model, error) {
	src := ""
	if sidecar != nil {
		src = "sidecar"
	}
	return load(name, data, sidecar, src, dir)
}

func load(name string, data, sidecar []byte, sidecarPath, dir string) (*Model, error) {
	mp, err := onnxsafe.Load(data, dir, onnxsafe.Limits{})
	if err != nil {
		return nil, err
	}
	if mp.GetGraph() == nil || len(mp.GetGraph().GetNode()) == 0 {
		return nil, errors.New("not an ONNX model: it has no graph nodes; check that the file is a .onnx model and not truncated")
	}
	m := &Model{name: name}
	for _, op := range mp.GetOpsetImport() {
		if op.GetDomain() == "" || op.GetDomain() == "ai.onnx" {
			m.info.Opset = op.GetVersion()
		}
	}
	if m.info.Opset == 0 {
		return nil, errors.New("the model imports no standard ONNX operator set; export it with a standard exporter (torch.onnx.export, tf2onnx)")
	}
	if err := m.readConfig(mp, sidecar, sidecarPath, dir); err != nil {
		return nil, err
	}
	up, rep, err := onnxupgrade.Upgrade(mp)
	if err != nil {
		return nil, err
	}
	if rep.FromOpset != rep.ToOpset || len(rep.Translated) > 0 || len(rep.Notes) > 0 {
		m.info.Upgrade = rep.String()
	}
	up, m.info.Float16, err = onnxupgrade.ToFloat32(up)
	if err != nil {
		return nil, err
	}
	if m.info.Float16 > 0 {
		m.info.Notes = append(m.info.Notes, fmt.Sprintf("float16 model: %d tensors converted to float32, so advlab computes in float32", m.info.Float16))
	}
	if err := m.canonicalise(up); err != nil {
		return nil, err
	}
	return m, nil
}

// readConfig reads the sidecar, or else the model's metadata properties.
func (m *Model) readConfig(mp *onnx.ModelProto, sidecar []byte, sidecarPath, dir string) error {
	var err error
	if sidecar != nil {
		if m.cfg, err = modelconfig.Parse(sidecar, dir); err != nil {
			return fmt.Errorf("the model's sidecar %s: %w", sidecarPath, err)
		}
		m.info.Config = sidecarPath
	} else {
		props := map[string]string{}
		for _, p := range mp.GetMetadataProps() {
			props[p.GetKey()] = p.GetValue()
		}
		if m.cfg, err = modelconfig.FromMetadata(props); err != nil {
			return fmt.Errorf("the model's metadata: %w", err)
		}
		m.info.Config = "none"
		if m.cfg.Source == "metadata" {
			m.info.Config = "metadata"
		}
	}
	if m.cfg.Name != "" {
		m.name = m.cfg.Name
	}
	return nil
}

// chooseLabels sets the class names for k classes: the configuration's, the
// built-in ImageNet names for 1000 or 1001 classes, or the class numbers.
func (m *Model) chooseLabels(k int) error {
	switch {
	case len(m.cfg.Labels) == k:
		m.labels = m.cfg.Labels
		m.info.Labels = fmt.Sprintf("%d from the %s", k, configWord(m.info.Config))
	case len(m.cfg.Labels) > 0:
		return fmt.Errorf("the %s lists %d labels but the model has %d classes; list one label per class", configWord(m.info.Config), len(m.cfg.Labels), k)
	default:
		if l, ok := modelconfig.ImageNetLabels(k); ok {
			m.labels = l
			m.info.Labels = fmt.Sprintf("built-in ImageNet-1k names (%d classes%s); give \"labels\" in a sidecar if the model was trained on something else", k, map[bool]string{true: ", background first", false: ""}[k == 1001])
			return nil
		}
		m.labels = make([]string, k)
		for i := range m.labels {
			m.labels[i] = strconv.Itoa(i)
		}
		m.info.Labels = fmt.Sprintf("none given: classes are numbered 0..%d", k-1)
	}
	return nil
}

// configWord names where the configuration came from, for messages.
func configWord(src string) string {
	switch src {
	case "metadata":
		return "model's metadata"
	case "none", "":
		return "configuration"
	}
	return "sidecar"
}

// Operators counts the operators of the model's canonical graph by type,
// with the domain for those outside the standard one ("ai.onnx.ml.ZipMap").
func (m *Model) Operators() map[string]int {
	out := map[string]int{}
	for _, n := range m.proto.GetGraph().GetNode() {
		op := n.GetOpType()
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			op = d + "." + op
		}
		out[op]++
	}
	return out
}
