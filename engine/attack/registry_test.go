package attack

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// optionsOf returns the options an attack runs with.
func optionsOf(t *testing.T, a Attack) any {
	t.Helper()
	switch a := a.(type) {
	case *LBFGS:
		return a.Options()
	case *FGSM:
		return a.Options()
	case *PGD:
		return a.Options()
	case *CW:
		return a.Options()
	case *DeepFool:
		return a.Options()
	case *Square:
		return a.Options()
	case *APGD:
		return a.Options()
	case *AutoAttack:
		return a.Options()
	}
	t.Fatalf("unknown attack %T", a)
	return nil
}

// engineDefaults builds each method from its Default*Options directly, the
// reference the registry must agree with.
func engineDefaults(t *testing.T) map[string]Attack {
	t.Helper()
	l, _ := NewLBFGS(nil)
	f, _ := NewFGSM(nil)
	p, _ := NewPGD(nil)
	c, _ := NewCW(nil)
	d, _ := NewDeepFool(nil)
	s, _ := NewSquare(nil)
	ap, _ := NewAPGD(nil)
	aa, _ := NewAutoAttack(nil)
	return map[string]Attack{"lbfgs": l, "fgsm": f, "pgd": p, "cw": c, "deepfool": d, "square": s, "apgd": ap, "autoattack": aa}
}

func TestRegistryDefaultsAreTheEngines(t *testing.T) {
	want := engineDefaults(t)
	if got := MethodNames(); !reflect.DeepEqual(got, []string{"lbfgs", "fgsm", "pgd", "cw", "deepfool", "square", "apgd", "autoattack"}) {
		t.Errorf("methods %v", got)
	}
	for _, m := range Methods() {
		t.Run(m.Name, func(t *testing.T) {
			ref := optionsOf(t, want[m.Name])
			a, err := m.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			if a.Name() != m.Name {
				t.Errorf("built %s", a.Name())
			}
			if got := optionsOf(t, a); !reflect.DeepEqual(got, ref) {
				t.Errorf("no values: %+v; want %+v", got, ref)
			}
			// Every default, typed back in, gives the engine's defaults.
			all := Values{}
			for _, p := range m.Params {
				if err := p.Check(p.Default); err != nil {
					t.Errorf("default of %s: %v", p.Name, err)
				}
				all[p.Name] = p.Default
				a, err := m.New(Values{p.Name: p.Default})
				if err != nil {
					t.Fatalf("%s=%s: %v", p.Name, p.Default, err)
				}
				if got := optionsOf(t, a); !reflect.DeepEqual(got, ref) {
					t.Errorf("%s=%s: %+v; want %+v", p.Name, p.Default, got, ref)
				}
				if p.Label == "" || p.Help == "" || (p.Kind == Choice && len(p.Choices) != len(p.ChoiceLabels)) {
					t.Errorf("param %+v lacks a label, help or choice labels", p)
				}
			}
			a, err = m.New(all)
			if err != nil {
				t.Fatal(err)
			}
			if got := optionsOf(t, a); !reflect.DeepEqual(got, ref) {
				t.Errorf("all defaults: %+v; want %+v", got, ref)
			}
			if m.Title == "" || m.Short == "" || m.Description == "" || strings.Contains(m.Description, "\n") {
				t.Errorf("method %s lacks a title or a one-line description", m.Name)
			}
		})
	}
}

// TestRegistrySetsTheNamedOption checks, option by option, that a value
// reaches the field the parameter names (the CLI's shared names map to
// different fields per method).
func TestRegistrySetsTheNamedOption(t *testing.T) {
	tests := []struct {
		method string
		v      Values
		check  func(any) bool
	}{
		{"pgd", Values{"steps": "7", "eps": "16/255", "norm": "2"}, func(o any) bool {
			p := o.(PGDOptions)
			return p.Steps == 7 && p.Eps == 16.0/255 && p.Norm == L2 && p.StepSize == 2.5*(16.0/255)/7
		}},
		{"pgd", Values{"steps": "8", "eps": "0.04", "step-size": "auto"}, func(o any) bool {
			return o.(PGDOptions).StepSize == 2.5*0.04/8 // Madry et al.'s rule
		}},
		{"pgd", Values{"steps": "8", "eps": "0.04", "step-size": " AUTO "}, func(o any) bool {
			return o.(PGDOptions).StepSize == 2.5*0.04/8
		}},
		{"pgd", Values{"step-size": "0.01", "restarts": "3", "seed": "18446744073709551615", "all-steps": "true", "random-start": "false"}, func(o any) bool {
			p := o.(PGDOptions)
			return p.StepSize == 0.01 && p.Restarts == 3 && p.Seed == 1<<64-1 && p.AllSteps && !p.RandomStart
		}},
		{"square", Values{"steps": "20", "p-init": "0.1", "eps": "0.3"}, func(o any) bool {
			s := o.(SquareOptions)
			return s.Queries == 20 && s.PInit == 0.1 && s.Eps == 0.3
		}},
		{"lbfgs", Values{"steps": "5", "search-steps": "3", "untargeted": "runner-up", "initial-const": "0.5"}, func(o any) bool {
			l := o.(LBFGSOptions)
			return l.MaxIterations == 5 && l.SearchSteps == 3 && l.Untargeted == RunnerUp && l.InitialConst == 0.5
		}},
		{"cw", Values{"steps": "9", "confidence": "2", "binary-steps": "4", "learning-rate": "0.1", "norm": "l2"}, func(o any) bool {
			c := o.(CWOptions)
			return c.Steps == 9 && c.Confidence == 2 && c.BinarySteps == 4 && c.LearningRate == 0.1
		}},
		{"deepfool", Values{"norm": "inf", "overshoot": "0", "candidates": "3"}, func(o any) bool {
			d := o.(DeepFoolOptions)
			return d.Norm == LInf && d.Overshoot == 0 && d.Candidates == 3
		}},
		{"fgsm", Values{"eps": " 0.25 ", "norm": "linf"}, func(o any) bool {
			f := o.(FGSMOptions)
			return f.Eps == 0.25 && f.Norm == LInf
		}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			a, err := New(tt.method, tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if o := optionsOf(t, a); !tt.check(o) {
				t.Errorf("%v gave %+v", tt.v, o)
			}
		})
	}
}

func TestRegistryRejectsBadValues(t *testing.T) {
	tests := []struct {
		method string
		v      Values
		want   string
	}{
		{"magic", nil, `unknown method "magic"`},
		{"pgd", Values{"confidence": "1"}, `pgd takes no parameter "confidence"`},
		{"pgd", Values{"eps": "-0.1"}, "eps -0.1 must be positive"},
		{"pgd", Values{"eps": "big"}, `eps "big" is not a number`},
		{"fgsm", Values{"eps": "3"}, "larger than the whole"},
		{"pgd", Values{"steps": "0"}, "steps 0 must be positive"},
		{"pgd", Values{"steps": "2.5"}, `steps "2.5" is not a whole number`},
		{"pgd", Values{"steps": "2000000"}, "steps 2000000 is out of range"},
		{"pgd", Values{"norm": "3"}, `unknown norm "3"`},
		{"cw", Values{"norm": "inf"}, "norm must be 2"},
		{"square", Values{"norm": "2"}, "norm must be inf"},
		{"deepfool", Values{"overshoot": "-1"}, "overshoot -1 must be at least 0"},
		{"lbfgs", Values{"untargeted": "nearest"}, "untargeted must be random or runner-up"},
		{"pgd", Values{"all-steps": "maybe"}, `all-steps "maybe" is not true or false`},
		{"square", Values{"seed": "-1"}, `seed "-1" is not a whole number`},
		{"square", Values{"eps": "1/0"}, `eps "1/0" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.want, func(t *testing.T) {
			_, err := New(tt.method, tt.v)
			if err == nil {
				t.Fatalf("%v accepted", tt.v)
			}
			if !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("%v does not wrap ErrInvalidOptions", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") || strings.Contains(msg, ErrInvalidOptions.Error()) {
				t.Errorf("error %q; want one line saying %q", msg, tt.want)
			}
		})
	}
}

// TestRegistryNamesMeanOneKind checks that a name shared by several methods
// (a CLI flag) is of one kind everywhere.
func TestRegistryNamesMeanOneKind(t *testing.T) {
	kinds := map[string]ParamKind{}
	for _, m := range Methods() {
		for _, p := range m.Params {
			if k, ok := kinds[p.Name]; ok && k != p.Kind {
				t.Errorf("%s's %s is %v, elsewhere %v", m.Name, p.Name, p.Kind, k)
			}
			kinds[p.Name] = p.Kind
		}
	}
	p, _ := Lookup("pgd")
	if eps, _ := p.Param("eps"); eps.Default != "8/255" || eps.Unit == "" {
		t.Errorf("pgd eps %+v", eps)
	}
	d, _ := Lookup("deepfool")
	if n, _ := d.Param("norm"); n.Default != "2" || d.Targeted {
		t.Errorf("deepfool norm %+v, targeted %v", n, d.Targeted)
	}
}

// TestRegistryAutoValues checks which parameters pick their value
// themselves: PGD's step size does (by Madry et al.'s 2.5·ε/steps), and
// "auto" is no value for a parameter without such a rule.
func TestRegistryAutoValues(t *testing.T) {
	pgd, _ := Lookup("pgd")
	step, _ := pgd.Param("step-size")
	eps, _ := pgd.Param("eps")
	if step.Auto == "" || step.Default != AutoValue {
		t.Fatalf("pgd step-size: Auto %q, Default %q; want a rule and %q", step.Auto, step.Default, AutoValue)
	}
	tests := []struct {
		name   string
		p      Param
		text   string
		isAuto bool
		ok     bool
	}{
		{"auto", step, "auto", true, true},
		{"zero means auto", step, "0", true, true},
		{"a number", step, "0.01", false, true},
		{"negative", step, "-1", false, false},
		{"auto without a rule", eps, "auto", false, false},
		{"zero without a rule", eps, "0", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.IsAuto(tc.text); got != tc.isAuto {
				t.Errorf("IsAuto(%q) = %v; want %v", tc.text, got, tc.isAuto)
			}
			if err := tc.p.Check(tc.text); (err == nil) != tc.ok {
				t.Errorf("Check(%q) = %v; want ok %v", tc.text, err, tc.ok)
			}
		})
	}
	for _, m := range Methods() {
		for _, p := range m.Params {
			if p.Auto != "" && p.Kind != Float {
				t.Errorf("%s %s has an Auto rule but is a %s", m.Name, p.Name, p.Kind)
			}
		}
	}
}
