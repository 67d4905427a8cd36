package modelconfig

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseKeys(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		wantErr string // substring; "" for success
		check   func(c Config) bool
	}{
		{"name", `{"name": "digits-cnn"}`, "", func(c Config) bool { return c.Name == "digits-cnn" }},
		{"name escape codes", `{"name": "a\u001b[31mb"}`, "", func(c Config) bool { return c.Name == "ab" }},
		{"name not string", `{"name": 3}`, `key "name": want a string`, nil},
		{"architecture", `{"architecture": "CNN"}`, "", func(c Config) bool { return c.Architecture == "CNN" }},
		{"architecture long and escaped", `{"architecture": "\u001b[2J` + strings.Repeat("x", 300) + `"}`, "",
			func(c Config) bool { return c.Architecture == strings.Repeat("x", 300) }},
		{"parameters", `{"parameters": 171158}`, "", func(c Config) bool { return c.Parameters == 171158 }},
		{"parameters fractional", `{"parameters": 1.5}`, `key "parameters": 1.5 must be a whole number`, nil},
		{"parameters negative", `{"parameters": -1}`, `key "parameters"`, nil},
		{"dataset object", `{"dataset": {"name": "mnist", "seed": 1}}`, "", func(c Config) bool { return strings.Contains(string(c.Dataset), `"seed":1`) }},
		{"dataset string", `{"dataset": "mnist"}`, `key "dataset": want a JSON object`, nil},
		{"train_accuracy", `{"train_accuracy": 0.99}`, "", func(c Config) bool { return c.TrainAccuracy == 0.99 }},
		{"test_accuracy percent", `{"test_accuracy": 95}`, `key "test_accuracy": 95 is not a fraction`, nil},
		{"sample_accuracy", `{"sample_accuracy": 1}`, "", func(c Config) bool { return c.SampleAccuracy == 1 }},
		{"sample_set", `{"sample_set": "samples"}`, "", func(c Config) bool { return c.SampleSet == "samples" }},
		{"sample_set escapes", `{"sample_set": "../x"}`, `key "sample_set"`, nil},
		{"default", `{"default": true}`, "", func(c Config) bool { return c.Default }},
		{"default string", `{"default": "yes"}`, `key "default": want true or false`, nil},
		{"training", `{"training": "Adam"}`, "", func(c Config) bool { return c.Training == "Adam" }},
		{"weight_decay scalar", `{"weight_decay": 1e-4}`, "", func(c Config) bool { return reflect.DeepEqual(c.WeightDecay, []float64{1e-4}) }},
		{"weight_decay list", `{"weight_decay": [1e-5, 1e-6]}`, "", func(c Config) bool { return reflect.DeepEqual(c.WeightDecay, []float64{1e-5, 1e-6}) }},
		{"weight_decay negative", `{"weight_decay": -1}`, `key "weight_decay"`, nil},
		{"adversarial_training", `{"adversarial_training": {"method": "pgd", "norm": "Linf", "eps": 0.3, "steps": 10, "step_size": 0.05, "random_start": true, "mix": "adversarial"}}`, "",
			func(c Config) bool {
				return reflect.DeepEqual(c.AdversarialTraining, &AdversarialTraining{Method: "PGD", Norm: "linf", Eps: 0.3, Steps: 10, StepSize: 0.05, RandomStart: true, Mix: "adversarial"})
			}},
		{"adversarial_training minimal", `{"adversarial_training": {"method": "FGSM", "norm": "l2", "eps": 0.5}}`, "",
			func(c Config) bool {
				return reflect.DeepEqual(c.AdversarialTraining, &AdversarialTraining{Method: "FGSM", Norm: "l2", Eps: 0.5})
			}},
		{"adversarial_training not object", `{"adversarial_training": "PGD"}`, `key "adversarial_training": want a JSON object`, nil},
		{"adversarial_training unknown key", `{"adversarial_training": {"method": "PGD", "norm": "linf", "eps": 0.3, "epsilon": 0.3}}`, `unknown key "epsilon"`, nil},
		{"adversarial_training no eps", `{"adversarial_training": {"method": "PGD", "norm": "linf"}}`, `"eps" is missing`, nil},
		{"adversarial_training zero eps", `{"adversarial_training": {"method": "PGD", "norm": "linf", "eps": 0}}`, `key "eps": 0 must be above zero`, nil},
		{"adversarial_training bad norm", `{"adversarial_training": {"method": "PGD", "norm": "l1", "eps": 0.3}}`, `key "norm": "l1" is not one of`, nil},
		{"adversarial_training bad method", `{"adversarial_training": {"method": "CW", "norm": "l2", "eps": 0.3}}`, `key "method": "CW" is not one of`, nil},
		{"adversarial_training fractional steps", `{"adversarial_training": {"method": "PGD", "norm": "linf", "eps": 0.3, "steps": 2.5}}`, `key "steps": 2.5 must be a whole number`, nil},
		{"adversarial_training negative step", `{"adversarial_training": {"method": "PGD", "norm": "linf", "eps": 0.3, "step_size": -0.01}}`, `key "step_size"`, nil},
		{"adversarial_training random_start string", `{"adversarial_training": {"method": "PGD", "norm": "linf", "eps": 0.3, "random_start": "yes"}}`, `key "random_start": want true or false`, nil},
		{"adversarial_training bad mix", `{"adversarial_training": {"method": "PGD", "norm": "linf", "eps": 0.3, "mix": "clean"}}`, `key "mix": "clean" is not one of "adversarial", "half"`, nil},
		{"adversarial_training null member", `{"adversarial_training": {"method": "PGD", "norm": "linf", "eps": null}}`, `key "eps" is null`, nil},
		{"adversarial_training FGSM iterated", `{"adversarial_training": {"method": "FGSM", "norm": "linf", "eps": 0.3, "steps": 10}}`, `FGSM takes one step`, nil},
		{"robust_accuracy", `{"robust_accuracy": 0.91, "robust_accuracy_how": "PGD-20"}`, "", func(c Config) bool { return c.RobustAccuracy == 0.91 && c.RobustAccuracyHow == "PGD-20" }},
		{"robust_accuracy percent", `{"robust_accuracy": 91}`, `key "robust_accuracy": 91 is not a fraction`, nil},
		{"labels", `{"labels": ["cat", "dog"]}`, "", func(c Config) bool { return reflect.DeepEqual(c.Labels, []string{"cat", "dog"}) }},
		{"labels sanitised", `{"labels": ["\u001b]0;pwned\u0007cat\n", "dog"]}`, "", func(c Config) bool { return reflect.DeepEqual(c.Labels, []string{"cat", "dog"}) }},
		{"labels not strings", `{"labels": [1, 2]}`, `key "labels", label 0: want a string`, nil},
		{"labels empty label", `{"labels": ["cat", "\u001b[0m"]}`, `label 1 is empty`, nil},
		{"labels not list", `{"labels": "cat,dog"}`, `key "labels": want a list`, nil},
		{"labels_file without folder", `{"labels_file": "labels.txt"}`, `key "labels_file": there is no model folder`, nil},
		{"input_range", `{"input_range": [0, 255]}`, "", func(c Config) bool { return reflect.DeepEqual(c.InputRange, []float32{0, 255}) }},
		{"input_range reversed", `{"input_range": [1, 0]}`, `key "input_range"`, nil},
		{"input_range one value", `{"input_range": [255]}`, `key "input_range": want exactly 2 values`, nil},
		{"input_range huge", `{"input_range": [0, 1e39]}`, `does not fit in float32`, nil},
		{"input_range overflow", `{"input_range": [0, 1e400]}`, `out of range`, nil},
		{"mean list", `{"mean": [0.5, 0.4, 0.3]}`, "", func(c Config) bool { return reflect.DeepEqual(c.Mean, []float32{0.5, 0.4, 0.3}) }},
		{"mean scalar", `{"mean": 0.5}`, "", func(c Config) bool { return reflect.DeepEqual(c.Mean, []float32{0.5}) }},
		{"mean five", `{"mean": [1,2,3,4,5]}`, `key "mean": want 1 to 4 values, got 5`, nil},
		{"mean string", `{"mean": ["a"]}`, `key "mean", value 1: want a number`, nil},
		{"std", `{"std": [0.25]}`, "", func(c Config) bool { return reflect.DeepEqual(c.Std, []float32{0.25}) }},
		{"std zero", `{"std": [1, 0, 1]}`, `key "std"`, nil},
		{"std negative", `{"std": -1}`, `key "std"`, nil},
		{"std 1e-45 rounds to zero or denormal", `{"std": 1e-46}`, `key "std"`, nil},
		{"std 1e-45", `{"std": [1e-45]}`, `key "std": [1e-45] has a value below 1e-06`, nil},
		{"channel_order", `{"channel_order": "BGR"}`, "", func(c Config) bool { return c.ChannelOrder == BGR }},
		{"channel_order lower case", `{"channel_order": "bgr"}`, "", func(c Config) bool { return c.ChannelOrder == BGR }},
		{"channel_order bad", `{"channel_order": "GBR"}`, `key "channel_order": "GBR" is not one of "RGB", "BGR"`, nil},
		{"layout", `{"layout": "NHWC"}`, "", func(c Config) bool { return c.Layout == NHWC }},
		{"layout bad", `{"layout": "CHW"}`, `key "layout"`, nil},
		{"input_size", `{"input_size": [3, 224, 224]}`, "", func(c Config) bool { return reflect.DeepEqual(c.InputSize, []int{3, 224, 224}) }},
		{"input_size two", `{"input_size": [224, 224]}`, `key "input_size": want exactly 3 values`, nil},
		{"input_size channels", `{"input_size": [5, 224, 224]}`, `key "input_size", channels`, nil},
		{"input_size too big", `{"input_size": [3, 9000, 224]}`, `key "input_size", height`, nil},
		{"input_size zero", `{"input_size": [3, 0, 224]}`, `key "input_size", height`, nil},
		{"resize", `{"resize": "center_crop"}`, "", func(c Config) bool { return c.Resize == CenterCrop }},
		{"resize bad", `{"resize": "crop"}`, `key "resize"`, nil},
		{"crop_fraction", `{"crop_fraction": 0.9}`, "", func(c Config) bool { return c.CropFraction == 0.9 }},
		{"crop_fraction zero", `{"crop_fraction": 0}`, `key "crop_fraction": 0 must lie in (0, 1]`, nil},
		{"crop_fraction over one", `{"crop_fraction": 1.2}`, `key "crop_fraction"`, nil},
		{"crop_fraction with stretch", `{"crop_fraction": 0.9, "resize": "stretch"}`, `crop_fraction 0.9 is given with resize "stretch"`, nil},
		{"output", `{"output": "log_probabilities"}`, "", func(c Config) bool { return c.Output == LogProbabilities }},
		{"output bad", `{"output": "softmax"}`, `key "output"`, nil},
		{"image_shape", `{"image_shape": [1, 28, 28]}`, "", func(c Config) bool { return reflect.DeepEqual(c.ImageShape, []int{1, 28, 28}) }},
		{"image_shape vs input_size", `{"image_shape": [1, 28, 28], "input_size": [3, 28, 28]}`, `disagree`, nil},
		{"flatten_order", `{"flatten_order": "column_major"}`, "", func(c Config) bool { return c.FlattenOrder == ColumnMajor }},
		{"flatten_order bad", `{"flatten_order": "C"}`, `key "flatten_order"`, nil},
		{"preset", `{"preset": "imagenet-caffe"}`, "", func(c Config) bool { return c.Preset == "imagenet-caffe" }},
		{"preset bad", `{"preset": "imagenet-pytorch"}`, `key "preset": "imagenet-pytorch" is not one of`, nil},
		{"labels and labels_file", `{"labels": ["a"], "labels_file": "x.txt"}`, `both "labels" and "labels_file"`, nil},
		{"null", `{"mean": null}`, `key "mean" is null`, nil},
		{"duplicate key", `{"std": [1], "std": [2]}`, `gives key "std" twice`, nil},
		{"not an object", `[1, 2]`, `must be a JSON object`, nil},
		{"trailing data", `{} {}`, `more after its closing brace`, nil},
		{"truncated", `{"mean": [0.5`, `key "mean" has no valid JSON value: it ends too early`, nil},
		{"NaN literal", `{"std": NaN}`, `JSON has no NaN or Infinity`, nil},
		{"empty object", `{}`, "", func(c Config) bool { return reflect.DeepEqual(c, Config{Source: "sidecar"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.json), "")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%s) error = %v, want one containing %q", tt.json, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%s): %v", tt.json, err)
			}
			if !tt.check(c) {
				t.Errorf("Parse(%s) = %+v", tt.json, c)
			}
		})
	}
}

func TestParseUnknownKeySuggests(t *testing.T) {
	tests := []struct{ key, suggest string }{
		{"stdev", "std"},
		{"input-range", "input_range"},
		{"Mean", "mean"},
		{"lables", "labels"},
		{"channelorder", "channel_order"},
		{"cropfraction", "crop_fraction"},
		{"zzzzzzzz", ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			_, err := Parse([]byte(`{"`+tt.key+`": 1}`), "")
			if err == nil {
				t.Fatal("unknown key accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, `unknown key "`+tt.key+`"`) || !strings.Contains(msg, "input_size, labels, labels_file") {
				t.Errorf("error %q does not name the key and list the known keys", msg)
			}
			hint := `did you mean "` + tt.suggest + `"?`
			if tt.suggest == "" {
				if strings.Contains(msg, "did you mean") {
					t.Errorf("error %q suggests a key for nonsense", msg)
				}
			} else if !strings.Contains(msg, hint) {
				t.Errorf("error %q lacks %q", msg, hint)
			}
		})
	}
}

// zooDir is the demo zoo in the repository.
const zooDir = "../../zoo"

// TestZooSidecarsParseAndResolve reads every sidecar of the demo zoo and
// checks the resolved preprocessing against the same file read by plain
// encoding/json.
func TestZooSidecarsParseAndResolve(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(zooDir, "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no zoo sidecars under %s (%v)", zooDir, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(data, filepath.Dir(f))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var ref struct {
				Name       string    `json:"name"`
				Labels     []string  `json:"labels"`
				InputSize  []int     `json:"input_size"`
				InputRange []float32 `json:"input_range"`
				Mean, Std  []float32

				Architecture, Training string
				TestAccuracy           float64 `json:"test_accuracy"`
				Default                bool
				RobustAccuracy         float64 `json:"robust_accuracy"`
				Adversarial            *struct {
					Eps   float64
					Steps int
				} `json:"adversarial_training"`
			}
			if err := json.Unmarshal(data, &ref); err != nil {
				t.Fatal(err)
			}
			if c.Name != ref.Name || !reflect.DeepEqual(c.Labels, ref.Labels) || !reflect.DeepEqual(c.InputSize, ref.InputSize) {
				t.Errorf("Parse = name %q labels %v size %v, want %q %v %v", c.Name, c.Labels, c.InputSize, ref.Name, ref.Labels, ref.InputSize)
			}
			if c.Architecture != ref.Architecture || c.Training != ref.Training || c.TestAccuracy != ref.TestAccuracy || c.Default != ref.Default {
				t.Errorf("descriptive keys differ: %q %q %v %v, want %q %q %v %v", c.Architecture, c.Training, c.TestAccuracy, c.Default,
					ref.Architecture, ref.Training, ref.TestAccuracy, ref.Default)
			}
			if c.RobustAccuracy != ref.RobustAccuracy || (c.AdversarialTraining == nil) != (ref.Adversarial == nil) ||
				(ref.Adversarial != nil && (c.AdversarialTraining.Eps != ref.Adversarial.Eps || c.AdversarialTraining.Steps != ref.Adversarial.Steps)) {
				t.Errorf("robustness keys differ: %v %+v, want %v %+v", c.RobustAccuracy, c.AdversarialTraining, ref.RobustAccuracy, ref.Adversarial)
			}
			p, err := c.Resolve(ref.InputSize[0])
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			for ch := 0; ch < ref.InputSize[0]; ch++ {
				m, s := ref.Mean[0], ref.Std[0]
				if len(ref.Mean) > 1 {
					m = ref.Mean[ch]
				}
				if len(ref.Std) > 1 {
					s = ref.Std[ch]
				}
				for _, x := range []float32{0, 0.5, 1} {
					want := (x*(ref.InputRange[1]-ref.InputRange[0]) + ref.InputRange[0] - m) / s
					pix := []float32{x, x, x}[:ref.InputSize[0]]
					if got := p.Apply(pix)[ch]; !near(got, want) {
						t.Errorf("channel %d pixel %v: input %v, want %v", ch, x, got, want)
					}
				}
			}
		})
	}
}
