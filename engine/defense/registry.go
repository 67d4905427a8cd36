package defense

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
)

// ErrInvalidSpec is wrapped by every error that rejects a defense's name or
// parameters, so that front-ends tell a usage mistake from a failure.
var ErrInvalidSpec = errors.New("invalid defense")

type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return ErrInvalidSpec }

func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// Defense is one entry of the registry: its name, what it does, and its
// parameters (attack.Param, whose Check a front-end can use), with defaults
// read from the defense's Default*Options.
type Defense struct {
	// Name is the spec's NAME ("jpeg").
	Name string
	// Description is one line on what the defense does.
	Description string
	// Gradient says how an attack's gradient passes it: "exact", "BPDA"
	// (straight through), "EOT" (expectation over the noise) or "none"
	// (the detector adds no gradient).
	Gradient string
	// Params are its parameters, in order.
	Params []attack.Param

	def func() *def
}

// def binds a defense's parameters to a fresh copy of its options.
type def struct {
	Defense
	fields []field
	// check validates the options as a whole, when the fields alone do not.
	check func() error
	wrap  func(engine.Classifier) (engine.Classifier, error)
}

type field struct {
	attack.Param
	set func(string) error
}

func intParam(v *int, p attack.Param) field {
	p.Kind, p.Default = attack.Int, strconv.Itoa(*v)
	return field{p, func(s string) error {
		x, err := strconv.Atoi(s)
		if err != nil {
			return invalidf("%s %q is not a whole number", p.Name, s)
		}
		*v = x
		return nil
	}}
}

func floatParam(v *float64, p attack.Param) field {
	p.Kind, p.Default = attack.Float, strconv.FormatFloat(*v, 'g', -1, 64)
	return field{p, func(s string) error {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return invalidf("%s %q is not a number", p.Name, s)
		}
		*v = x
		return nil
	}}
}

func seedParam(v *uint64) field {
	p := attack.Param{Name: "seed", Label: "Seed", Kind: attack.Int, Min: 0, Max: math.MaxUint64, Default: strconv.FormatUint(*v, 10), Help: "seed of the noise"}
	return field{p, func(s string) error {
		x, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return invalidf("seed %q is not a whole number", s)
		}
		*v = x
		return nil
	}}
}

// transformDef is a Transformed defense: its name (with the parameter's
// value appended), its parameter and its transform; adjoint nil is BPDA.
func transformDef(name, desc string, p field, value func() string, apply func() transform,
	adjoint func() func([]float32, engine.ImageShape) []float32) *def {
	grad := "BPDA"
	if adjoint != nil {
		grad = "exact"
	}
	return &def{
		Defense: Defense{Name: name, Description: desc, Gradient: grad},
		fields:  []field{p},
		wrap: func(c engine.Classifier) (engine.Classifier, error) {
			t := &Transformed{inner: c, name: name + value(), apply: apply()}
			if adjoint != nil {
				t.adjoint = adjoint()
			}
			return t, nil
		},
	}
}

func jpegDef() *def {
	q := 75
	return transformDef("jpeg", "JPEG compression and decompression at a quality",
		intParam(&q, attack.Param{Name: "quality", Label: "Quality", Min: 1, Max: 100, Help: "JPEG quality, 1–100"}),
		func() string { return strconv.Itoa(q) },
		func() transform {
			return func(x []float32, s engine.ImageShape) ([]float32, error) { return JPEG(x, s, q) }
		}, nil)
}

func bitsDef() *def {
	b := 4
	return transformDef("bits", "bit-depth reduction: each value rounded to 2^bits levels",
		intParam(&b, attack.Param{Name: "bits", Label: "Bits", Min: 1, Max: 8, Help: "bits per value, 1–8"}),
		func() string { return strconv.Itoa(b) },
		func() transform {
			return func(x []float32, _ engine.ImageShape) ([]float32, error) { return ReduceBits(x, b), nil }
		}, nil)
}

func medianDef() *def {
	n := 3
	return transformDef("median", "median filter over a size×size window, per channel",
		intParam(&n, attack.Param{Name: "size", Label: "Window", Unit: "pixels", Min: 2, Max: 15, Help: "window side, 2–15"}),
		func() string { return strconv.Itoa(n) },
		func() transform {
			return func(x []float32, s engine.ImageShape) ([]float32, error) { return MedianFilter(x, s, n), nil }
		}, nil)
}

func blurDef() *def {
	sigma := 1.0
	return transformDef("blur", "Gaussian blur of standard deviation sigma pixels",
		floatParam(&sigma, attack.Param{Name: "sigma", Label: "σ", Unit: "pixels", Min: 0.1, Max: 10, Help: "standard deviation of the Gaussian"}),
		func() string { return strconv.FormatFloat(sigma, 'g', -1, 64) },
		func() transform {
			return func(x []float32, s engine.ImageShape) ([]float32, error) { return GaussianBlur(x, s, sigma), nil }
		},
		func() func([]float32, engine.ImageShape) []float32 {
			return func(g []float32, s engine.ImageShape) []float32 { return BlurAdjoint(g, s, sigma) }
		})
}

func squeezeDef() *def {
	o := DefaultSqueezeOptions()
	return &def{
		Defense: Defense{Name: "squeeze", Gradient: "none",
			Description: "feature squeezing detector (Xu et al.): rejects inputs whose prediction moves under bit reduction or a median filter"},
		fields: []field{
			intParam(&o.Bits, attack.Param{Name: "bits", Label: "Bits", Min: 1, Max: 8, Help: "bit depth of the first squeezer (8: none)"}),
			intParam(&o.Median, attack.Param{Name: "median", Label: "Median", Unit: "pixels", Min: 1, Max: 15, Help: "median window of the second squeezer (1: none)"}),
			floatParam(&o.FPR, attack.Param{Name: "fpr", Label: "False positives", Min: 0, Max: 1, Help: "rate of clean images rejected, for calibration"}),
			floatParam(&o.Threshold, attack.Param{Name: "threshold", Label: "Threshold", Min: 0, Max: 2, Help: "L1 score above which inputs are rejected (0: calibrate on clean images)"}),
		},
		check: func() error { return o.Validate() }, // a closure: o.Validate would bind a copy of the defaults
		wrap:  func(c engine.Classifier) (engine.Classifier, error) { return NewSqueezed(c, &o) },
	}
}

func smoothDef() *def {
	o := DefaultSmoothOptions()
	return &def{
		Defense: Defense{Name: "smooth", Gradient: "EOT",
			Description: "randomized smoothing (Cohen et al.): a vote under Gaussian noise, with a certified L2 radius"},
		fields: []field{
			floatParam(&o.Sigma, attack.Param{Name: "sigma", Label: "σ", Unit: "[0,1] pixels", Min: 0, Max: 10, Help: "standard deviation of the noise"}),
			intParam(&o.N, attack.Param{Name: "n", Label: "Votes", Min: 1, Max: 1e6, Help: "noisy votes per prediction"}),
			intParam(&o.EOT, attack.Param{Name: "eot", Label: "EOT samples", Min: 1, Max: 1e4, Help: "noise samples averaged per gradient"}),
			intParam(&o.N0, attack.Param{Name: "n0", Label: "Selection votes", Min: 1, Max: 1e6, Help: "votes that choose the class to certify"}),
			intParam(&o.CertifyN, attack.Param{Name: "certify-n", Label: "Certification votes", Min: 1, Max: 1e7, Help: "votes that bound the class's probability"}),
			floatParam(&o.Alpha, attack.Param{Name: "alpha", Label: "α", Min: 0, Max: 1, Help: "probability that a certificate is wrong"}),
			seedParam(&o.Seed),
		},
		check: func() error { return o.Validate() }, // a closure: o.Validate would bind a copy of the defaults
		wrap:  func(c engine.Classifier) (engine.Classifier, error) { return NewSmoothed(c, &o) },
	}
}

func cleanserDef() *def {
	o := DefaultCleanserOptions()
	return &def{
		Defense: Defense{Name: "cleanser", Gradient: "EOT",
			Description: "PatchCleanser (Xiang et al.): double masking, certified against any patch up to a size"},
		fields: []field{
			floatParam(&o.Size, attack.Param{Name: "size", Label: "Patch size", Min: 0.001, Max: 4096, Help: "largest patch: below 1 a fraction of the image side, from 1 on pixels"}),
			intParam(&o.Masks, attack.Param{Name: "masks", Label: "Masks per axis", Min: 1, Max: 64, Help: "k: the mask set is k×k"}),
			floatParam(&o.Fill, attack.Param{Name: "fill", Label: "Mask value", Min: 0, Max: 1, Help: "value of masked pixels"}),
		},
		check: func() error { return o.Validate() }, // a closure: o.Validate would bind a copy of the defaults
		wrap:  func(c engine.Classifier) (engine.Classifier, error) { return NewCleanser(c, &o) },
	}
}

// defs are the defenses in the order front-ends list them.
var defs = []func() *def{jpegDef, bitsDef, medianDef, blurDef, squeezeDef, smoothDef, cleanserDef}

// Defenses returns every defense of the registry.
func Defenses() []Defense {
	out := make([]Defense, len(defs))
	for i, mk := range defs {
		d := mk()
		out[i] = d.Defense
		out[i].def = mk
		for _, f := range d.fields {
			out[i].Params = append(out[i].Params, f.Param)
		}
	}
	return out
}

// Names returns the defenses' names in order.
func Names() []string {
	var out []string
	for _, d := range Defenses() {
		out = append(out, d.Name)
	}
	return out
}

// Spec is a parsed defense: its registry entry and the parameter values
// given, checked.
type Spec struct {
	Defense
	// Values are the parameters given, as text, by name.
	Values map[string]string
}

// Parse reads NAME[:k=v,…], such as "jpeg:quality=50" or "smooth:sigma=0.5,n=200".
// Every error names what is wrong and wraps ErrInvalidSpec.
func Parse(text string) (Spec, error) {
	name, args, _ := strings.Cut(strings.TrimSpace(text), ":")
	name = strings.TrimSpace(name)
	i := slices.IndexFunc(Defenses(), func(d Defense) bool { return d.Name == name })
	if i < 0 {
		return Spec{}, invalidf("unknown defense %q: want one of %s, optionally with :k=v,…", name, strings.Join(Names(), ", "))
	}
	s := Spec{Defense: Defenses()[i], Values: map[string]string{}}
	if strings.TrimSpace(args) != "" {
		for _, kv := range strings.Split(args, ",") {
			k, v, ok := strings.Cut(kv, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok || k == "" {
				return Spec{}, invalidf("defense %s: %q is not k=v", name, kv)
			}
			if _, dup := s.Values[k]; dup {
				return Spec{}, invalidf("defense %s: %s given twice", name, k)
			}
			s.Values[k] = v
		}
	}
	if _, err := s.build(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// build binds the values to a fresh copy of the defense's options.
func (s Spec) build() (*def, error) {
	d := s.def()
	for k, v := range s.Values {
		j := slices.IndexFunc(d.fields, func(f field) bool { return f.Name == k })
		if j < 0 {
			var names []string
			for _, f := range d.fields {
				names = append(names, f.Name)
			}
			return nil, invalidf("defense %s takes no parameter %q (it takes %s)", s.Name, k, strings.Join(names, ", "))
		}
		if err := d.fields[j].Check(v); err != nil {
			return nil, invalidf("defense %s: %v", s.Name, err)
		}
		if err := d.fields[j].set(v); err != nil {
			return nil, invalidf("defense %s: %v", s.Name, err)
		}
	}
	if d.check != nil {
		if err := d.check(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Wrap puts the defense around c.
func (s Spec) Wrap(c engine.Classifier) (engine.Classifier, error) {
	if c == nil {
		return nil, fmt.Errorf("defense %s: no model to wrap", s.Name)
	}
	d, err := s.build()
	if err != nil {
		return nil, err
	}
	return d.wrap(c)
}

// String returns the spec as Parse reads it, parameters in registry order.
func (s Spec) String() string {
	var parts []string
	for _, p := range s.Params {
		if v, ok := s.Values[p.Name]; ok {
			parts = append(parts, p.Name+"="+v)
		}
	}
	if len(parts) == 0 {
		return s.Name
	}
	return s.Name + ":" + strings.Join(parts, ",")
}

// Calibrator is a defense that must see clean images before it classifies
// (the feature-squeezing detector's threshold).
type Calibrator interface {
	Calibrate(ctx context.Context, clean []float32, n int) error
}
