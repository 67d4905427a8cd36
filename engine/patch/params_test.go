package patch

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/advlab/advlab/imgops"
)

// TestParamsStateTheDefaults checks each documented parameter against the
// option it documents, read from the options structs field by field.
func TestParamsStateTheDefaults(t *testing.T) {
	o, e := DefaultOptions(), DefaultEvalOptions()
	want := map[string]map[string]string{
		"train": {
			"size": "32", "rotation": "22.5", "scale-min": "0.05", "scale-max": "0.25", "steps": "500", "batch": "16",
			"lr": "0.01", "tv": "0", "nps": "0", "seed": "0", "mask": "circle", "optimizer": "adam", "target": "",
		},
		"eval": {"scale-min": "0.1", "scale-max": "0.5", "scales": "5", "placements": "4", "rotation": "22.5", "seed": "0", "distractor-scale": "0.3", "target": ""},
	}
	fields := map[string]map[string]float64{
		"train": {"size": float64(o.Width), "rotation": o.Transforms.MaxAngleDeg, "scale-min": o.Transforms.ScaleMin, "scale-max": o.Transforms.ScaleMax,
			"steps": float64(o.Steps), "batch": float64(o.BatchSize), "lr": o.LearningRate, "tv": o.TVWeight, "nps": o.NPSWeight, "seed": float64(o.Seed)},
		"eval": {"scale-min": e.Scales[0], "scale-max": e.Scales[len(e.Scales)-1], "scales": float64(len(e.Scales)), "placements": float64(e.Placements),
			"rotation": e.Transforms.MaxAngleDeg, "seed": float64(e.Seed), "distractor-scale": e.DistractorScale},
	}
	for kind, ps := range map[string][]Param{"train": TrainParams(), "eval": EvalParams()} {
		for _, p := range ps {
			t.Run(kind+"/"+p.Name, func(t *testing.T) {
				if p.Label == "" || p.Help == "" {
					t.Errorf("%s has no label or help", p.Name)
				}
				if w, ok := want[kind][p.Name]; ok && p.Default != w {
					t.Errorf("default %q, want %q", p.Default, w)
				}
				if f, ok := fields[kind][p.Name]; ok {
					v, err := strconv.ParseFloat(p.Default, 64)
					if err != nil || v != f {
						t.Errorf("default %q does not parse to the option's %v (%v)", p.Default, f, err)
					}
				}
			})
		}
	}
	if _, ok := LookupParam(EvalParams(), "steps"); ok {
		t.Error("evaluation documents a training parameter")
	}
}

// TestEvaluateDefaultsAreValid checks that DefaultEvalOptions passes
// Validate and measures the area, as Brown et al.'s axis does.
func TestEvaluateDefaultsAreValid(t *testing.T) {
	o := DefaultEvalOptions()
	if err := o.Validate(); err != nil {
		t.Fatalf("the default evaluation options are rejected: %v", err)
	}
	if o.Transforms.ScaleMode != imgops.AreaFraction {
		t.Errorf("scale mode %v, want the area fraction", o.Transforms.ScaleMode)
	}
}

// TestSweepParamsStateTheDefaults checks the sweep's documented parameters
// against the sweep's definitions: every kind's values parse back to its
// DefaultValues, which a sweep accepts, in a unit the kind states; the
// scale is DefaultSweepScale, inside the evaluation's default range.
func TestSweepParamsStateTheDefaults(t *testing.T) {
	e := DefaultEvalOptions()
	for _, k := range SweepKinds {
		t.Run(string(k), func(t *testing.T) {
			ps := SweepParams(k)
			for _, p := range ps {
				if p.Label == "" || p.Help == "" {
					t.Errorf("%s has no label or help", p.Name)
				}
			}
			kind, _ := LookupParam(ps, "sweep")
			if got, err := ParseSweepKind(kind.Default); err != nil || got != DefaultSweepKind {
				t.Errorf("sweep default %q is not DefaultSweepKind %s (%v)", kind.Default, DefaultSweepKind, err)
			}
			for _, sk := range SweepKinds {
				if !strings.Contains(kind.Help, string(sk)) {
					t.Errorf("the sweep's help %q does not name %s", kind.Help, sk)
				}
			}
			vals, ok := LookupParam(ps, "sweep-values")
			if !ok || vals.Unit == "" || vals.Unit != k.Unit() {
				t.Fatalf("values %+v: want the unit %q", vals, k.Unit())
			}
			sw := Sweep{Kind: k}
			for _, f := range strings.Split(vals.Default, ",") {
				v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
				if err != nil {
					t.Fatalf("value %q of %q: %v", f, vals.Default, err)
				}
				sw.Values = append(sw.Values, v)
			}
			if !slices.Equal(sw.Values, k.DefaultValues()) {
				t.Errorf("values %v, want DefaultValues %v", sw.Values, k.DefaultValues())
			}
			if err := sw.validate(); err != nil {
				t.Errorf("the default values are rejected: %v", err)
			}
			scale, _ := LookupParam(ps, "sweep-scale")
			v, err := strconv.ParseFloat(scale.Default, 64)
			if err != nil || v != DefaultSweepScale || !scale.Fraction {
				t.Errorf("scale %+v: want the fraction %v (%v)", scale, DefaultSweepScale, err)
			}
			if v < e.Scales[0] || v > e.Scales[len(e.Scales)-1] {
				t.Errorf("scale %v outside the evaluation's %v", v, e.Scales)
			}
		})
	}
}
