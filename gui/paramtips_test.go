package gui

import (
	"strconv"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine/defense"
	"github.com/advlab/advlab/engine/eval"
	"github.com/advlab/advlab/engine/patch"
)

// TestPatchAndEvaluateFieldsHaveTheEnginesDefaults checks every field of the
// Patch and Evaluate tabs, the Evaluate tab's sweep and defenses among
// them: its label has a tooltip that says what it is and names its
// default, that default is the engine's (read from its options structs and
// sweep definitions, not from the parameter tables the tips come from),
// and a fresh field holds it.
func TestPatchAndEvaluateFieldsHaveTheEnginesDefaults(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	o, e, d := patch.DefaultOptions(), patch.DefaultEvalOptions(), eval.DefaultDefenseOptions()
	pct := func(v float64) string { return strconv.FormatFloat(100*v, 'g', 6, 64) }
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	sweepValues := func(k patch.SweepKind) string {
		var s []string
		for _, v := range k.DefaultValues() {
			s = append(s, g(v))
		}
		return strings.Join(s, ", ")
	}
	es, ed := wb.eval.sweeps, wb.eval.defenses
	cases := []struct {
		tab, name string
		form      *paramForm
		field     *fieldEntry // nil: not a text field
		want      string      // the default as the field shows it
		tipWant   string      // what the tip names as the default
	}{
		{"patch", "target", wb.train.form, nil, "", "the model's first label"},
		{"patch", "model", wb.train.form, nil, "", "the selected model alone"},
		{"patch", "mask", wb.train.form, nil, "", string(o.Shape)},
		{"patch", "size", wb.train.form, wb.train.size.Entry, strconv.Itoa(o.Width), ""},
		{"patch", "rotation", wb.train.form, wb.train.maxAngle.Entry, g(o.Transforms.MaxAngleDeg), ""},
		{"patch", "scale-min", wb.train.form, wb.train.scaleMin.Entry, pct(o.Transforms.ScaleMin), pct(o.Transforms.ScaleMin) + "%"},
		{"patch", "scale-max", wb.train.form, wb.train.scaleMax.Entry, pct(o.Transforms.ScaleMax), pct(o.Transforms.ScaleMax) + "%"},
		{"patch", "steps", wb.train.form, wb.train.steps.Entry, strconv.Itoa(o.Steps), ""},
		{"patch", "batch", wb.train.form, wb.train.batch.Entry, strconv.Itoa(o.BatchSize), ""},
		{"patch", "lr", wb.train.form, wb.train.lr.Entry, g(o.LearningRate), ""},
		{"patch", "tv", wb.train.form, wb.train.tv.Entry, g(o.TVWeight), ""},
		{"patch", "nps", wb.train.form, wb.train.nps.Entry, g(o.NPSWeight), ""},
		{"patch", "seed", wb.train.form, wb.train.seed.Entry, strconv.FormatUint(o.Seed, 10), ""},
		{"evaluate", "target", wb.eval.form, nil, "", "the patch's target"},
		{"evaluate", "scale-min", wb.eval.form, wb.eval.areaMin.Entry, pct(e.Scales[0]), pct(e.Scales[0]) + "%"},
		{"evaluate", "scale-max", wb.eval.form, wb.eval.areaMax.Entry, pct(e.Scales[len(e.Scales)-1]), pct(e.Scales[len(e.Scales)-1]) + "%"},
		{"evaluate", "scales", wb.eval.form, wb.eval.points.Entry, strconv.Itoa(len(e.Scales)), ""},
		{"evaluate", "placements", wb.eval.form, wb.eval.placements.Entry, strconv.Itoa(e.Placements), ""},
		{"evaluate", "rotation", wb.eval.form, wb.eval.maxAngle.Entry, g(e.Transforms.MaxAngleDeg), ""},
		{"evaluate", "seed", wb.eval.form, wb.eval.seed.Entry, strconv.FormatUint(e.Seed, 10), ""},
		{"sweep", "sweep", es.form, nil, "", string(patch.DefaultSweepKind)},
		{"sweep", "sweep-values", es.form, es.values, sweepValues(patch.DefaultSweepKind), ""},
		{"sweep", "sweep-scale", es.form, es.area.Entry, pct(patch.DefaultSweepScale), pct(patch.DefaultSweepScale) + "%"},
		{"defenses", "eps", ed.form, ed.eps.Entry, strconv.FormatFloat(255*d.Eps, 'g', 6, 64), strconv.FormatFloat(255*d.Eps, 'g', 6, 64) + "/255"},
		{"defenses", "patch-steps", ed.form, ed.patchSteps.Entry, strconv.Itoa(d.PatchSteps), ""},
		{"defenses", "limit", ed.form, ed.limit.Entry, strconv.Itoa(eval.DefaultDefenseImages), ""},
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
			if tc.field != nil && tc.field.Text != tc.want {
				t.Errorf("a fresh field holds %q; the engine's default is %s", tc.field.Text, tc.want)
			}
		})
	}
	if es.kind.Selected != string(patch.DefaultSweepKind) {
		t.Errorf("a fresh sweep is of %q; the engine's first is %s", es.kind.Selected, patch.DefaultSweepKind)
	}
	for _, f := range []*paramForm{wb.train.form, wb.eval.form, es.form, ed.form} {
		if len(f.labels) != seen[f] || 2*len(f.labels) != len(f.box.Objects) {
			t.Errorf("a form has %d labelled rows in %d objects; the test checks %d", len(f.labels), len(f.box.Objects), seen[f])
		}
	}
}

// TestSweepValuesTipFollowsTheKind picks every sweep: the values field
// takes the kind's own values and its tip names them, with the kind's unit.
func TestSweepValuesTipFollowsTheKind(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	es := wb.eval.sweeps
	for _, k := range patch.SweepKinds {
		t.Run(string(k), func(t *testing.T) {
			es.kind.SetSelected(string(k))
			var want []string
			for _, v := range k.DefaultValues() {
				want = append(want, strconv.FormatFloat(v, 'g', -1, 64))
			}
			def := strings.Join(want, ", ")
			if es.values.Text != def {
				t.Errorf("values %q; %s's own are %q", es.values.Text, k, def)
			}
			tip := es.form.labels["sweep-values"].tip
			if !strings.Contains(tip, "\nDefault: "+def+".") || !strings.Contains(tip, "\nIn "+k.Unit()+".") {
				t.Errorf("tip %q does not name %s's values %s in %q", tip, k, def, k.Unit())
			}
		})
	}
}

// TestDefenseSelectorTipNamesTheParameters picks every defense of the
// registry: the selector's tooltip says what it does and names each of its
// parameters with the registry's default, on the parameter's own line.
func TestDefenseSelectorTipNamesTheParameters(t *testing.T) {
	wb, _ := newTestWorkbench(t, newFakeBackend())
	ds := wb.modelsPanel.defense
	if ds.label.tips == nil {
		t.Fatal("the selector's label is not hooked to the tooltips")
	}
	if !strings.Contains(ds.label.tip, noDefense+": the bare model") {
		t.Errorf("the bare model's tip %q does not say it is bare", ds.label.tip)
	}
	for _, d := range defense.Defenses() {
		t.Run(d.Name, func(t *testing.T) {
			ds.name.SetSelected(d.Name)
			wb.tasks.Wait()
			tip := ds.label.tip
			if !strings.Contains(tip, d.Name+": "+d.Description) {
				t.Errorf("tip %q does not say what %s does", tip, d.Name)
			}
			lines := strings.Split(tip, "\n")
			for _, p := range d.Params {
				found := false
				for _, l := range lines {
					if strings.HasPrefix(l, "• "+p.Name+" ") {
						found = true
						if !strings.HasSuffix(l, "Default: "+p.Default+".") || !strings.Contains(l, p.Help) {
							t.Errorf("%s's line %q does not give its help and the default %s", p.Name, l, p.Default)
						}
					}
				}
				if !found {
					t.Errorf("tip %q does not name the parameter %s", tip, p.Name)
				}
			}
		})
	}
	ds.name.SetSelected(noDefense)
	wb.tasks.Wait()
}
