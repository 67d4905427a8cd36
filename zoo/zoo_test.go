package zoo

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
)

// sidecar mirrors the zoo's sidecar format; decoding with
// DisallowUnknownFields keeps the files to exactly these keys.
type sidecar struct {
	Name         string    `json:"name"`
	Architecture string    `json:"architecture"`
	Parameters   int64     `json:"parameters"`
	Labels       []string  `json:"labels"`
	Layout       string    `json:"layout"`
	InputSize    []int     `json:"input_size"`
	InputRange   []float64 `json:"input_range"`
	Mean         []float64 `json:"mean"`
	Std          []float64 `json:"std"`
	Dataset      struct {
		Name        string `json:"name"`
		How         string `json:"how"`
		TrainImages int    `json:"train_images"`
		TestImages  int    `json:"test_images"`
		Seed        int64  `json:"seed"`
		// TrainHalf ("P1" or "P2") and TrainHalfHow are set on Szegedy et
		// al.'s Table 3 networks, trained on one half of the training split.
		TrainHalf    string `json:"train_half,omitempty"`
		TrainHalfHow string `json:"train_half_how,omitempty"`
	} `json:"dataset"`
	TrainAccuracy  float64 `json:"train_accuracy"`
	TestAccuracy   float64 `json:"test_accuracy"`
	SampleSet      string  `json:"sample_set"`
	SampleAccuracy float64 `json:"sample_accuracy"`
	WeightDecay    any     `json:"weight_decay"` // one λ, or one per weight matrix
	Training       string  `json:"training"`
	Default        bool    `json:"default"`
	// AdversarialTraining, RobustAccuracy and RobustAccuracyHow are set on
	// the adversarially trained models.
	AdversarialTraining *struct {
		Method      string  `json:"method"`
		Norm        string  `json:"norm"`
		Eps         float64 `json:"eps"`
		Steps       int     `json:"steps"`
		StepSize    float64 `json:"step_size"`
		RandomStart bool    `json:"random_start"`
		Mix         string  `json:"mix"`
	} `json:"adversarial_training,omitempty"`
	RobustAccuracy    *float64 `json:"robust_accuracy,omitempty"`
	RobustAccuracyHow string   `json:"robust_accuracy_how,omitempty"`
}

func parseSidecar(t *testing.T, b []byte) sidecar {
	t.Helper()
	var s sidecar
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("sidecar: %v", err)
	}
	return s
}

// checkSidecar checks what advlab's engine relies on.
func checkSidecar(t *testing.T, s sidecar) {
	t.Helper()
	if s.Name == "" || s.Architecture == "" || s.Parameters <= 0 || s.Training == "" {
		t.Errorf("name, architecture, parameters and training must be set: %+v", s)
	}
	if s.Layout != "NCHW" {
		t.Errorf("layout %q, want NCHW", s.Layout)
	}
	if len(s.InputSize) != 3 || (s.InputSize[0] != 1 && s.InputSize[0] != 3) || s.InputSize[1] <= 0 || s.InputSize[2] <= 0 {
		t.Errorf("input_size %v, want [1 or 3, H, W]", s.InputSize)
	}
	if !slices.Equal(s.InputRange, []float64{0, 1}) {
		t.Errorf("input_range %v, want [0, 1]", s.InputRange)
	}
	if len(s.InputSize) == 3 && (len(s.Mean) != s.InputSize[0] || len(s.Std) != s.InputSize[0]) {
		t.Errorf("mean %v and std %v need one value per channel", s.Mean, s.Std)
	}
	for _, v := range s.Std {
		if v <= 0 {
			t.Errorf("std %v must be positive", s.Std)
		}
	}
	if len(s.Labels) < 2 {
		t.Errorf("labels %v: want at least two classes", s.Labels)
	}
	seen := map[string]bool{}
	for _, l := range s.Labels {
		if l == "" || strings.ContainsAny(l, `/\`) || seen[l] {
			t.Errorf("label %q is empty, not a folder name, or repeated", l)
		}
		seen[l] = true
	}
	for _, a := range []float64{s.TrainAccuracy, s.TestAccuracy, s.SampleAccuracy} {
		if a <= 0 || a > 1 {
			t.Errorf("accuracy %v outside (0, 1]", a)
		}
	}
	if s.SampleSet != "samples" {
		t.Errorf("sample_set %q, want samples", s.SampleSet)
	}
	if s.Dataset.Name == "" || s.Dataset.How == "" || s.Dataset.TrainImages <= 0 || s.Dataset.TestImages <= 0 {
		t.Errorf("dataset %+v is incomplete", s.Dataset)
	}
}

// checkSamples checks that fsys holds <label>/<file>.png for exactly the
// sidecar's labels, each an 8-bit PNG at the model's input size.
func checkSamples(t *testing.T, fsys fs.FS, s sidecar) {
	t.Helper()
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	var folders []string
	for _, e := range entries {
		if !e.IsDir() {
			t.Errorf("%s: only label folders belong at the top of a sample set", e.Name())
			continue
		}
		folders = append(folders, e.Name())
	}
	labels := slices.Clone(s.Labels)
	slices.Sort(labels)
	if !slices.Equal(folders, labels) {
		t.Fatalf("sample folders %v differ from the sidecar's labels %v", folders, labels)
	}
	n := 0
	for _, label := range labels {
		files, err := fs.ReadDir(fsys, label)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Errorf("%s: no samples", label)
		}
		for _, f := range files {
			name := path.Join(label, f.Name())
			if f.IsDir() || path.Ext(name) != ".png" {
				t.Errorf("%s: want only .png files in a label folder", name)
				continue
			}
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if got := img.Bounds(); got != image.Rect(0, 0, s.InputSize[2], s.InputSize[1]) {
				t.Errorf("%s: %v, want %dx%d", name, got, s.InputSize[2], s.InputSize[1])
			}
			switch img.(type) {
			case *image.Gray:
				if s.InputSize[0] != 1 {
					t.Errorf("%s: greyscale, but the model takes %d channels", name, s.InputSize[0])
				}
			case *image.RGBA:
				if s.InputSize[0] != 3 {
					t.Errorf("%s: RGB, but the model takes %d channel", name, s.InputSize[0])
				}
			default:
				t.Errorf("%s: decodes to %T; want 8-bit grey or RGB", name, img)
			}
			n++
		}
	}
	t.Logf("%s: %d samples in %d classes", s.Name, n, len(labels))
}

func TestDefaultModel(t *testing.T) {
	onnx, sc := DefaultModel()
	if len(onnx) == 0 || !bytes.Contains(onnx, []byte("logits")) {
		t.Errorf("the default ONNX model (%d bytes) has no logits output", len(onnx))
	}
	s := parseSidecar(t, sc)
	checkSidecar(t, s)
	if s.Name != DefaultModelName() {
		t.Errorf("sidecar name %q, DefaultModelName %q", s.Name, DefaultModelName())
	}
	if !s.Default {
		t.Error(`the default model's sidecar lacks "default": true`)
	}
	checkSamples(t, DefaultSamples(), s)

	// Callers get their own copies.
	onnx[0] ^= 0xff
	if again, _ := DefaultModel(); again[0] == onnx[0] {
		t.Error("DefaultModel returned shared memory")
	}
}

// TestZooFiles checks every model in the zoo folder, embedded or not: its
// sidecar, its samples, and that exactly one model is the default.
func TestZooFiles(t *testing.T) {
	var defaults []string
	for _, group := range []string{"digits", "signs"} {
		entries, err := os.ReadDir(group)
		if err != nil {
			t.Fatal(err)
		}
		models := 0
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), ".onnx")
			if !ok {
				continue
			}
			models++
			t.Run(group+"/"+name, func(t *testing.T) {
				b, err := os.ReadFile(path.Join(group, name+".json"))
				if err != nil {
					t.Fatalf("every model needs a sidecar: %v", err)
				}
				s := parseSidecar(t, b)
				checkSidecar(t, s)
				if s.Name != group+"-"+name {
					t.Errorf("sidecar name %q, want %q", s.Name, group+"-"+name)
				}
				if s.Default {
					defaults = append(defaults, s.Name)
				}
				sub, err := fs.Sub(os.DirFS(group), s.SampleSet)
				if err != nil {
					t.Fatal(err)
				}
				checkSamples(t, sub, s)
			})
		}
		if models == 0 {
			t.Errorf("%s: no models", group)
		}
	}
	if !slices.Equal(defaults, []string{DefaultModelName()}) {
		t.Errorf("default models %v, want exactly [%s]", defaults, DefaultModelName())
	}
}

// TestTable3Halves checks the sidecars of Szegedy et al.'s Table 3 networks:
// each was trained on the half of the digits training split it names, the
// two halves together are the split the other digits models use, and the
// test split is the same.
func TestTable3Halves(t *testing.T) {
	b, err := os.ReadFile("digits/fc100-100-10.json")
	if err != nil {
		t.Fatal(err)
	}
	full := parseSidecar(t, b)
	halves := map[string]int{}
	for _, tt := range []struct{ name, half string }{
		{"fc100-100-10-p1", "P1"},
		{"fc123-456-10-p1", "P1"},
		{"fc100-100-10-p2", "P2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := os.ReadFile(path.Join("digits", tt.name+".json"))
			if err != nil {
				t.Fatalf("Table 3's network is missing (tools/zoo/build --only table3 builds it): %v", err)
			}
			s := parseSidecar(t, b)
			if s.Dataset.TrainHalf != tt.half || s.Dataset.TrainHalfHow == "" {
				t.Errorf("train_half %q (%q), want %s with its description", s.Dataset.TrainHalf, s.Dataset.TrainHalfHow, tt.half)
			}
			if s.Dataset.TestImages != full.Dataset.TestImages || s.Dataset.Seed != full.Dataset.Seed || s.Dataset.How != full.Dataset.How {
				t.Errorf("dataset %+v is not the split of fc100-100-10's %+v", s.Dataset, full.Dataset)
			}
			halves[tt.half] = s.Dataset.TrainImages
		})
	}
	if halves["P1"]+halves["P2"] != full.Dataset.TrainImages || halves["P1"] != halves["P2"] {
		t.Errorf("halves of %v training images, want two equal halves of %d", halves, full.Dataset.TrainImages)
	}
}

// TestRobustModels checks the sidecars of the adversarially trained models
// against their standard counterparts: the same architecture, parameter
// count and data, PGD training at the ε the zoo promises (in [0,1] pixels),
// and a PGD-20 robust test accuracy that is below the clean one and says
// how it was measured.
func TestRobustModels(t *testing.T) {
	for _, tt := range []struct {
		group, standard, robust string
		eps                     float64
	}{
		{"digits", "cnn", "cnn-robust", 0.3},
		{"signs", "resnet", "resnet-robust", 8.0 / 255},
	} {
		t.Run(tt.group+"/"+tt.robust, func(t *testing.T) {
			b, err := os.ReadFile(path.Join(tt.group, tt.standard+".json"))
			if err != nil {
				t.Fatal(err)
			}
			std := parseSidecar(t, b)
			b, err = os.ReadFile(path.Join(tt.group, tt.robust+".json"))
			if err != nil {
				t.Fatalf("the robust model is missing (tools/zoo/build --only robust builds it): %v", err)
			}
			s := parseSidecar(t, b)
			if s.Parameters != std.Parameters || !strings.HasPrefix(s.Architecture, strings.SplitN(std.Architecture, ":", 2)[0]+":") || s.Dataset != std.Dataset {
				t.Errorf("%s is not %s's network on its data: %d parameters, %q, %+v", s.Name, std.Name, s.Parameters, s.Architecture, s.Dataset)
			}
			a := s.AdversarialTraining
			if a == nil {
				t.Fatal("no adversarial_training")
			}
			if a.Method != "PGD" || a.Norm != "linf" || !a.RandomStart || a.Steps < 1 || a.Mix == "" {
				t.Errorf("adversarial_training %+v, want L∞ PGD with a random start and a mix", *a)
			}
			if d := a.Eps - tt.eps; d > 1e-6 || d < -1e-6 {
				t.Errorf("eps %v, want %v", a.Eps, tt.eps)
			}
			if !(a.StepSize > 0 && a.StepSize <= a.Eps) {
				t.Errorf("step_size %v, want in (0, eps]", a.StepSize)
			}
			if s.RobustAccuracy == nil || *s.RobustAccuracy <= 0 || *s.RobustAccuracy >= s.TestAccuracy || !strings.Contains(s.RobustAccuracyHow, "PGD-20") {
				t.Errorf("robust_accuracy %v (%q), want in (0, test accuracy %v) with how it was measured", s.RobustAccuracy, s.RobustAccuracyHow, s.TestAccuracy)
			}
			if std.AdversarialTraining != nil || std.RobustAccuracy != nil {
				t.Errorf("%s is a standard model but its sidecar says it was adversarially trained", std.Name)
			}
		})
	}
}
