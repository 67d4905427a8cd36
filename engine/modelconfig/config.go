package modelconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// MaxConfigBytes bounds a sidecar file or metadata value advlab reads.
const MaxConfigBytes = 16 << 20

// MaxDim bounds each dimension of input_size and image_shape.
const MaxDim = 8192

// maxLabels bounds the number of classes a configuration may list; ImageNet-21k
// has 21,843, so this leaves room and stops a hostile file from exhausting memory.
const maxLabels = 200000

// ChannelOrder is the order of colour channels the model expects.
type ChannelOrder string

const (
	// RGB is red, green, blue (PyTorch, TensorFlow).
	RGB ChannelOrder = "RGB"
	// BGR is blue, green, red (Caffe, OpenCV).
	BGR ChannelOrder = "BGR"
)

// Layout is the order of an image input's dimensions.
type Layout string

const (
	// NCHW is batch, channels, height, width: PyTorch's order.
	NCHW Layout = "NCHW"
	// NHWC is batch, height, width, channels: TensorFlow's order.
	NHWC Layout = "NHWC"
)

// ResizeMode is how an image of another size is brought to the model's size.
type ResizeMode string

const (
	// Stretch scales the whole image to the input size, ignoring aspect ratio.
	Stretch ResizeMode = "stretch"
	// CenterCrop scales the short side to S/CropFraction and keeps the centre S×S.
	CenterCrop ResizeMode = "center_crop"
)

// Output is what the model's class output holds.
type Output string

const (
	// Logits are unnormalised class scores.
	Logits Output = "logits"
	// Probabilities are softmax outputs that sum to one.
	Probabilities Output = "probabilities"
	// LogProbabilities are log-softmax outputs.
	LogProbabilities Output = "log_probabilities"
)

// FlattenOrder is how a flat input [N, C·H·W] is laid out.
type FlattenOrder string

const (
	// RowMajor flattens C, then H, then W, W varying fastest (NumPy, PyTorch).
	RowMajor FlattenOrder = "row_major"
	// ColumnMajor flattens with H varying fastest within each column (MATLAB, Fortran).
	ColumnMajor FlattenOrder = "column_major"
)

// Config is everything a user can state about a model. Every key is optional;
// the zero value states nothing. Numbers of the preprocessing are float32
// because that is what the model computes in.
type Config struct {
	// Name is the model's short name.
	Name string
	// Architecture describes the network.
	Architecture string
	// Parameters is the number of trained parameters.
	Parameters int64
	// Dataset is a free-form JSON object describing the training data.
	Dataset json.RawMessage
	// TrainAccuracy, TestAccuracy and SampleAccuracy are fractions in [0,1].
	TrainAccuracy, TestAccuracy, SampleAccuracy float64
	// SampleSet is a folder of sample images beside the model.
	SampleSet string
	// Default marks the model a zoo opens first.
	Default bool
	// Training describes how the model was trained.
	Training string
	// WeightDecay is the L2 penalty used in training, one per layer or one in all.
	WeightDecay []float64
	// AdversarialTraining, for an adversarially trained model, says how;
	// nil when unset.
	AdversarialTraining *AdversarialTraining
	// RobustAccuracy is the fraction of test images still classified right
	// under the attack RobustAccuracyHow describes.
	RobustAccuracy float64
	// RobustAccuracyHow describes the attack and images RobustAccuracy was
	// measured with.
	RobustAccuracyHow string

	// Labels are the class names, sanitised (see SanitizeLabel), from the
	// "labels" key or read from "labels_file".
	Labels []string
	// LabelsFile is the labels_file key as written, "" when absent.
	LabelsFile string
	// InputRange is [lo, hi], the range [0,1] pixels are scaled to; nil when unset.
	InputRange []float32
	// Mean and Std are per model channel (in the model's channel order) or a
	// single value for all channels, in InputRange's units; nil when unset.
	Mean, Std []float32
	// ChannelOrder is "" when unset.
	ChannelOrder ChannelOrder
	// Layout is "" when unset.
	Layout Layout
	// InputSize is [C, H, W] of an image input whose graph leaves them dynamic.
	InputSize []int
	// Resize is "" when unset.
	Resize ResizeMode
	// CropFraction is the centre crop's fraction, in (0,1]; 0 when unset.
	CropFraction float32
	// Output is "" when unset.
	Output Output
	// ImageShape is [C, H, W] of the image behind a flat input such as [N, 784].
	ImageShape []int
	// FlattenOrder is "" when unset.
	FlattenOrder FlattenOrder
	// Preset names a set of preprocessing defaults (see PresetNames); "" when
	// unset. Explicit keys (input_range, mean, std, channel_order, resize,
	// crop_fraction) override the preset's values one by one, and
	// Preprocess.Describe says which came from where.
	Preset string

	// Source says where the configuration came from: "sidecar" or "metadata".
	Source string
}

// setter parses one key's value into c. dir is the model's folder ("" when
// there is none, as for metadata).
type setter func(c *Config, key string, v any, dir string) error

// keys lists every key a configuration may hold, with its parser.
var keys = map[string]setter{
	"name":         func(c *Config, k string, v any, _ string) (err error) { c.Name, err = text(k, v); return },
	"architecture": func(c *Config, k string, v any, _ string) (err error) { c.Architecture, err = longText(k, v); return },
	"training":     func(c *Config, k string, v any, _ string) (err error) { c.Training, err = longText(k, v); return },
	"parameters": func(c *Config, k string, v any, _ string) (err error) {
		c.Parameters, err = integer(k, v, 0, 1<<53)
		return
	},
	"dataset":         setDataset,
	"train_accuracy":  func(c *Config, k string, v any, _ string) (err error) { c.TrainAccuracy, err = fraction(k, v); return },
	"test_accuracy":   func(c *Config, k string, v any, _ string) (err error) { c.TestAccuracy, err = fraction(k, v); return },
	"sample_accuracy": func(c *Config, k string, v any, _ string) (err error) { c.SampleAccuracy, err = fraction(k, v); return },
	"sample_set":      setSampleSet,
	"default": func(c *Config, k string, v any, _ string) error {
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("key %q: want true or false, got %s", k, describe(v))
		}
		c.Default = b
		return nil
	},
	"weight_decay":         setWeightDecay,
	"adversarial_training": setAdversarialTraining,
	"robust_accuracy":      func(c *Config, k string, v any, _ string) (err error) { c.RobustAccuracy, err = fraction(k, v); return },
	"robust_accuracy_how": func(c *Config, k string, v any, _ string) (err error) {
		c.RobustAccuracyHow, err = longText(k, v)
		return
	},
	"labels":      setLabels,
	"labels_file": setLabelsFile,
	"input_range": setInputRange,
	"mean": func(c *Config, k string, v any, _ string) (err error) {
		c.Mean, err = float32s(k, v, true, 1, 4)
		return
	},
	"std": setStd,
	"channel_order": func(c *Config, k string, v any, _ string) error {
		s, err := choice(k, v, string(RGB), string(BGR))
		c.ChannelOrder = ChannelOrder(s)
		return err
	},
	"layout": func(c *Config, k string, v any, _ string) error {
		s, err := choice(k, v, string(NCHW), string(NHWC))
		c.Layout = Layout(s)
		return err
	},
	"input_size":  func(c *Config, k string, v any, _ string) (err error) { c.InputSize, err = shape(k, v); return },
	"image_shape": func(c *Config, k string, v any, _ string) (err error) { c.ImageShape, err = shape(k, v); return },
	"resize": func(c *Config, k string, v any, _ string) error {
		s, err := choice(k, v, string(Stretch), string(CenterCrop))
		c.Resize = ResizeMode(s)
		return err
	},
	"crop_fraction": func(c *Config, k string, v any, _ string) error {
		f, err := float32Value(k, v)
		if err == nil && !(f > 0 && f <= 1) {
			err = fmt.Errorf("key %q: %v must lie in (0, 1]; 0.875 is the usual ImageNet crop", k, f)
		}
		c.CropFraction = f
		return err
	},
	"output": func(c *Config, k string, v any, _ string) error {
		s, err := choice(k, v, string(Logits), string(Probabilities), string(LogProbabilities))
		c.Output = Output(s)
		return err
	},
	"flatten_order": func(c *Config, k string, v any, _ string) error {
		s, err := choice(k, v, string(RowMajor), string(ColumnMajor))
		c.FlattenOrder = FlattenOrder(s)
		return err
	},
	"preset": func(c *Config, k string, v any, _ string) error {
		s, err := choice(k, v, PresetNames()...)
		c.Preset = s
		return err
	},
}

// KnownKeys returns every key a sidecar may hold, sorted.
func KnownKeys() []string {
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Parse reads a sidecar's JSON strictly: an unknown key, a value of the wrong
// type or length, and an impossible value are errors that name the key. dir
// is the model's folder, where labels_file is looked up ("" refuses
// labels_file).
func Parse(data []byte, dir string) (Config, error) {
	c, err := parse(data, dir, "the sidecar")
	c.Source = "sidecar"
	return c, err
}

func parse(data []byte, dir, what string) (Config, error) {
	if len(data) > MaxConfigBytes {
		return Config{}, fmt.Errorf("%s is %d bytes, more than advlab's limit of %d; a model description needs far less", what, len(data), MaxConfigBytes)
	}
	fields, err := decodeObject(data, what)
	if err != nil {
		return Config{}, err
	}
	var c Config
	for _, f := range fields {
		set, ok := keys[f.key]
		if !ok {
			return Config{}, unknownKey(what, f.key)
		}
		if f.val == nil {
			return Config{}, fmt.Errorf("%s: key %q is null; give a value or leave the key out", what, f.key)
		}
		if err := set(&c, f.key, f.val, dir); err != nil {
			return Config{}, fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := c.check(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", what, err)
	}
	return c, nil
}

func unknownKey(what, key string) error {
	hint := ""
	if s := closest(key, KnownKeys()); s != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", s)
	}
	shown := key
	if len(shown) > 60 {
		shown = shown[:60] + "…"
	}
	return fmt.Errorf("%s: unknown key %q%s; the known keys are %s", what, SanitizeLabel(shown), hint, strings.Join(KnownKeys(), ", "))
}

// check refuses combinations of keys that contradict each other.
func (c Config) check() error {
	if c.InputSize != nil && c.ImageShape != nil && !equalInts(c.InputSize, c.ImageShape) {
		return fmt.Errorf("input_size %v and image_shape %v disagree; give input_size for an image input or image_shape for a flat one", c.InputSize, c.ImageShape)
	}
	if c.Resize == Stretch && c.CropFraction != 0 {
		return fmt.Errorf("crop_fraction %v is given with resize \"stretch\", which does not crop; remove one of them", c.CropFraction)
	}
	return nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// text reads a one-line string, sanitised like a label.
func text(key string, v any) (string, error) {
	s, err := str(key, v)
	return SanitizeLabel(s), err
}

// longText reads a descriptive string, sanitised but allowed to be long.
func longText(key string, v any) (string, error) {
	s, err := str(key, v)
	return sanitize(s, maxTextRunes), err
}

func fraction(key string, v any) (float64, error) {
	f, err := number(key, v)
	if err == nil && (f < 0 || f > 1) {
		err = fmt.Errorf("key %q: %v is not a fraction in [0, 1]; write 95%% as 0.95", key, f)
	}
	return f, err
}

// shape reads [C, H, W] with C in 1..4 and H, W in 1..MaxDim.
func shape(key string, v any) ([]int, error) {
	l, err := list(key, v, false, 3, 3)
	if err != nil {
		return nil, fmt.Errorf("%w: give [channels, height, width], e.g. [3, 224, 224]", err)
	}
	out := make([]int, 3)
	for i, e := range l {
		hi := int64(MaxDim)
		if i == 0 {
			hi = 4
		}
		n, err := integer(key, e, 1, hi)
		if err != nil {
			return nil, fmt.Errorf("key %q, %s: %w", key, []string{"channels", "height", "width"}[i], unwrapKey(err))
		}
		out[i] = int(n)
	}
	return out, nil
}

func setDataset(c *Config, k string, v any, _ string) error {
	if _, ok := v.(map[string]any); !ok {
		return fmt.Errorf("key %q: want a JSON object such as {\"name\": \"mnist\"}, got %s", k, describe(v))
	}
	b, err := json.Marshal(v)
	c.Dataset = b
	return err
}

func setSampleSet(c *Config, k string, v any, _ string) error {
	s, err := str(k, v)
	if err != nil {
		return err
	}
	if !filepath.IsLocal(filepath.FromSlash(s)) {
		return fmt.Errorf("key %q: %q must be a folder inside the model's folder", k, s)
	}
	c.SampleSet = s
	return nil
}

func setWeightDecay(c *Config, k string, v any, _ string) error {
	l, err := list(k, v, true, 1, 1024)
	if err != nil {
		return err
	}
	c.WeightDecay = make([]float64, len(l))
	for i, e := range l {
		f, err := number(k, e)
		if err != nil {
			return err
		}
		if f < 0 {
			return fmt.Errorf("key %q: %v is negative; a weight decay is zero or more", k, f)
		}
		c.WeightDecay[i] = f
	}
	return nil
}

func setInputRange(c *Config, k string, v any, _ string) error {
	r, err := float32s(k, v, false, 2, 2)
	if err != nil {
		return fmt.Errorf("%w: give [low, high], e.g. [0, 255]", err)
	}
	if !(r[1] > r[0]) || float64(r[1])-float64(r[0]) > 3e38 {
		return fmt.Errorf("key %q: %v must have high > low, e.g. [0, 255] or [-1, 1]", k, r)
	}
	c.InputRange = r
	return nil
}

func setStd(c *Config, k string, v any, _ string) error {
	s, err := float32s(k, v, true, 1, 4)
	if err != nil {
		return err
	}
	for _, x := range s {
		if !(x >= MinStdFraction) {
			return fmt.Errorf("key %q: %v has a value below %g; a standard deviation is positive, e.g. 0.229 on [0,1] or 58.4 on 0..255", k, s, MinStdFraction)
		}
	}
	c.Std = s
	return nil
}

func setLabels(c *Config, k string, v any, _ string) error {
	if c.LabelsFile != "" {
		return errBothLabels
	}
	l, err := list(k, v, false, 1, maxLabels)
	if err != nil {
		return fmt.Errorf("%w: give the class names in output order, e.g. [\"cat\", \"dog\"]", err)
	}
	out := make([]string, len(l))
	for i, e := range l {
		s, ok := e.(string)
		if !ok {
			return fmt.Errorf("key %q, label %d: want a string, got %s", k, i, describe(e))
		}
		if out[i] = SanitizeLabel(s); out[i] == "" {
			return fmt.Errorf("key %q: label %d is empty; give every class a name", k, i)
		}
	}
	c.Labels = out
	return nil
}

var errBothLabels = errors.New(`both "labels" and "labels_file" are given; keep one`)

func setLabelsFile(c *Config, k string, v any, dir string) error {
	s, err := str(k, v)
	if err != nil {
		return err
	}
	if c.Labels != nil {
		return errBothLabels
	}
	if dir == "" {
		return fmt.Errorf("key %q: there is no model folder to read %q from; list the labels under \"labels\" instead", k, s)
	}
	labels, err := ReadLabelsFile(dir, s)
	if err != nil {
		return fmt.Errorf("key %q: %w", k, err)
	}
	c.LabelsFile, c.Labels = s, labels
	return nil
}
