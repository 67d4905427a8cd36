package gui

import (
	"reflect"
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
