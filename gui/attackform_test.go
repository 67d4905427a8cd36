package gui

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/advlab/advlab/engine/attack"
)

// engineOptions returns the options of an engine attack.
func engineOptions(a attack.Attack) any {
	switch a := a.(type) {
	case *attack.LBFGS:
		return a.Options()
	case *attack.FGSM:
		return a.Options()
	case *attack.PGD:
		return a.Options()
	case *attack.CW:
		return a.Options()
	case *attack.DeepFool:
		return a.Options()
	case *attack.Square:
		return a.Options()
	}
	return nil
}

// TestAttackFormDefaultsAreTheEngines runs every registry method from a
// fresh Attack tab: the request must build the attack of the engine's
// Default*Options (C&W 200 steps, Square 1000 queries, L-BFGS 100
// iterations, DeepFool L2: the defaults a single Steps field once
// overrode), and every field shows its parameter's default and unit.
func TestAttackFormDefaultsAreTheEngines(t *testing.T) {
	l, _ := attack.NewLBFGS(nil)
	f, _ := attack.NewFGSM(nil)
	p, _ := attack.NewPGD(nil)
	c, _ := attack.NewCW(nil)
	d, _ := attack.NewDeepFool(nil)
	s, _ := attack.NewSquare(nil)
	engine := map[string]any{"lbfgs": l.Options(), "fgsm": f.Options(), "pgd": p.Options(), "cw": c.Options(), "deepfool": d.Options(), "square": s.Options()}
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	ap := wb.attackPanel
	wb.rightTabs.Select(wb.attackTab)
	ap.scope.SetSelected(scopeAll)
	for i, m := range attack.Methods() {
		t.Run(m.Name, func(t *testing.T) {
			ap.method.SetSelected(methodName(m.Name))
			test.Tap(ap.run)
			wb.tasks.Wait()
			if len(be.attacks) != i+1 {
				t.Fatalf("%d attacks ran; dialog %q", len(be.attacks), topDialogText(wb.win))
			}
			req := be.attacks[i]
			a, err := attack.New(req.Method, req.Params)
			if err != nil {
				t.Fatal(err)
			}
			if got := engineOptions(a); !reflect.DeepEqual(got, engine[m.Name]) {
				t.Errorf("the form's defaults build %+v; the engine's are %+v", got, engine[m.Name])
			}
			mf := ap.forms[m.Name]
			for j, prm := range m.Params {
				f := mf.field(prm.Name)
				if f == nil {
					t.Fatalf("no field for %s", prm.Name)
				}
				if f.text() != prm.Default {
					t.Errorf("%s shows %q; default %q", prm.Name, f.text(), prm.Default)
				}
				if it := mf.rows[j].label; !strings.HasPrefix(it.Text, prm.Label) || !strings.Contains(it.Text, prm.Unit) {
					t.Errorf("row %d is %q; want %s with its unit %q", j, it.Text, prm.Label, prm.Unit)
				}
			}
		})
	}
}

// TestAttackFieldsRememberedPerMethod checks that each method keeps its own
// value of a shared parameter name: C&W's steps do not become PGD's.
func TestAttackFieldsRememberedPerMethod(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	ap := wb.attackPanel
	ap.forms[MethodCW].field("steps").setText("12")
	fresh := newAttackPanel(wb)
	if got := fresh.forms[MethodCW].field("steps").text(); got != "12" {
		t.Errorf("C&W steps restored as %q", got)
	}
	if got, want := fresh.forms[MethodPGD].field("steps").text(), "40"; got != want {
		t.Errorf("PGD steps %q; want its own default %q", got, want)
	}
}

// TestPGDStepSizeShowsAuto checks that a parameter the registry lets pick
// its own value (PGD's step size) shows "auto" with its rule rather than
// the 0 that stands for it, that a number overrides it, and that clearing
// the field or typing "auto" returns to it; the engine gets what the
// registry reads, which builds the step of Madry et al.'s rule.
func TestPGDStepSizeShowsAuto(t *testing.T) {
	be := newFakeBackend()
	wb, _ := newTestWorkbench(t, be)
	ap := wb.attackPanel
	wb.rightTabs.Select(wb.attackTab)
	ap.method.SetSelected(methodName(MethodPGD))
	mf := ap.forms[MethodPGD]
	f := mf.field("step-size")
	if f.entry.Text != "" || !strings.Contains(f.entry.PlaceHolder, "auto = 2.5·ε/steps") {
		t.Fatalf("step size shows %q, placeholder %q; want it empty with \"auto = 2.5·ε/steps\"", f.entry.Text, f.entry.PlaceHolder)
	}
	for _, tc := range []struct {
		name, typed, want string
	}{
		{"a number overrides auto", "0.01", "0.01"},
		{"cleared returns to auto", "", "auto"},
		{"typed auto", "auto", "auto"},
		{"typed 0", "0", "auto"},
		{"a fraction", "2/255", "2/255"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.entry.SetText("")
			test.Type(f.entry, tc.typed)
			if err := f.entry.Validate(); err != nil {
				t.Fatalf("%q is rejected: %v", tc.typed, err)
			}
			before := len(be.attacks)
			test.Tap(ap.run)
			wb.tasks.Wait()
			if len(be.attacks) != before+1 {
				t.Fatalf("no attack ran; dialog %q", topDialogText(wb.win))
			}
			v := be.attacks[len(be.attacks)-1].Params
			if v["step-size"] != tc.want {
				t.Errorf("the engine got step-size %q; want %q", v["step-size"], tc.want)
			}
			a, err := attack.New(MethodPGD, v)
			if err != nil {
				t.Fatal(err)
			}
			eps, _ := strconv.ParseFloat(strings.TrimSuffix(v["eps"], "/255"), 64)
			eps /= 255
			steps, _ := strconv.Atoi(v["steps"])
			want := 2.5 * eps / float64(steps)
			switch tc.want {
			case "0.01":
				want = 0.01
			case "2/255":
				want = 2.0 / 255
			}
			if got := a.(*attack.PGD).Options().StepSize; math.Abs(got-want) > 1e-12 {
				t.Errorf("the attack steps %g; want %g", got, want)
			}
		})
	}
	if f.entry.SetText("-1"); f.entry.Validate() == nil {
		t.Error("a negative step size is accepted")
	}
}
