package gui

import (
	"strconv"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine/patch"
)

// TestPatchAndEvaluateFieldsHaveTheEnginesDefaults checks every field of the
// Patch and Evaluate tabs: its label has a tooltip that says what it is and
// names its default, that default is the engine's (read from its options
// structs, not from the parameter table the tips come from), and a fresh
// field holds it.
func TestPatchAndEvaluateFieldsHaveTheEnginesDefaults(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	o, e := patch.DefaultOptions(), patch.DefaultEvalOptions()
	pct := func(v float64) string { return strconv.FormatFloat(100*v, 'g', 6, 64) }
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	cases := []struct {
		tab, name string
		form      *paramForm
		field     *numField // nil: not a number
		want      string    // the default as the field shows it
		tipWant   string    // what the tip names as the default
	}{
		{"patch", "target", wb.train.form, nil, "", "the model's first label"},
		{"patch", "model", wb.train.form, nil, "", "the selected model alone"},
		{"patch", "mask", wb.train.form, nil, "", string(o.Shape)},
		{"patch", "size", wb.train.form, wb.train.size, strconv.Itoa(o.Width), ""},
		{"patch", "rotation", wb.train.form, wb.train.maxAngle, g(o.Transforms.MaxAngleDeg), ""},
		{"patch", "scale-min", wb.train.form, wb.train.scaleMin, pct(o.Transforms.ScaleMin), pct(o.Transforms.ScaleMin) + "%"},
		{"patch", "scale-max", wb.train.form, wb.train.scaleMax, pct(o.Transforms.ScaleMax), pct(o.Transforms.ScaleMax) + "%"},
		{"patch", "steps", wb.train.form, wb.train.steps, strconv.Itoa(o.Steps), ""},
		{"patch", "batch", wb.train.form, wb.train.batch, strconv.Itoa(o.BatchSize), ""},
		{"patch", "lr", wb.train.form, wb.train.lr, g(o.LearningRate), ""},
		{"patch", "tv", wb.train.form, wb.train.tv, g(o.TVWeight), ""},
		{"patch", "nps", wb.train.form, wb.train.nps, g(o.NPSWeight), ""},
		{"patch", "seed", wb.train.form, wb.train.seed, strconv.FormatUint(o.Seed, 10), ""},
		{"evaluate", "target", wb.eval.form, nil, "", "the patch's target"},
		{"evaluate", "scale-min", wb.eval.form, wb.eval.areaMin, pct(e.Scales[0]), pct(e.Scales[0]) + "%"},
		{"evaluate", "scale-max", wb.eval.form, wb.eval.areaMax, pct(e.Scales[len(e.Scales)-1]), pct(e.Scales[len(e.Scales)-1]) + "%"},
		{"evaluate", "scales", wb.eval.form, wb.eval.points, strconv.Itoa(len(e.Scales)), ""},
		{"evaluate", "placements", wb.eval.form, wb.eval.placements, strconv.Itoa(e.Placements), ""},
		{"evaluate", "rotation", wb.eval.form, wb.eval.maxAngle, g(e.Transforms.MaxAngleDeg), ""},
		{"evaluate", "seed", wb.eval.form, wb.eval.seed, strconv.FormatUint(e.Seed, 10), ""},
	}
	seen := map[*paramForm]int{}
	for _, tc := range cases {
		t.Run(tc.tab+"/"+tc.name, func(t *testing.T) {
			seen[tc.form]++
			l := tc.form.labels[tc.name]
			if l == nil {
				t.Fatalf("the %s tab has no labelled %s field", tc.tab, tc.name)
			}
			if l.tips == nil {
				t.Error("the label is not hooked to the tooltips")
			}
			def := tc.tipWant
			if def == "" {
				def = tc.want
			}
			if !strings.Contains(l.tip, ": ") || !strings.Contains(l.tip, "\nDefault: "+def+".") {
				t.Errorf("tip %q does not say what the field is and name the default %s", l.tip, def)
			}
			if tc.field != nil && tc.field.Entry.Text != tc.want {
				t.Errorf("a fresh field holds %q; the engine's default is %s", tc.field.Entry.Text, tc.want)
			}
		})
	}
	for _, f := range []*paramForm{wb.train.form, wb.eval.form} {
		if len(f.labels) != seen[f] || 2*len(f.labels) != len(f.box.Objects) {
			t.Errorf("a form has %d labelled rows in %d objects; the test checks %d", len(f.labels), len(f.box.Objects), seen[f])
		}
	}
}
