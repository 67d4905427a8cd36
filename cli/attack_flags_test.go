package cli

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine/attack"
)

// TestAttackFlagDefaultsAreTheEngines checks, for every method of the
// registry, that --method alone builds the attack of the engine's
// Default*Options, and that the help of each flag states the engine's
// default.
func TestAttackFlagDefaultsAreTheEngines(t *testing.T) {
	l, _ := attack.NewLBFGS(nil)
	f, _ := attack.NewFGSM(nil)
	p, _ := attack.NewPGD(nil)
	c, _ := attack.NewCW(nil)
	d, _ := attack.NewDeepFool(nil)
	s, _ := attack.NewSquare(nil)
	engine := map[string]any{"lbfgs": l.Options(), "fgsm": f.Options(), "pgd": p.Options(), "cw": c.Options(), "deepfool": d.Options(), "square": s.Options()}
	for _, m := range attack.Methods() {
		t.Run(m.Name, func(t *testing.T) {
			fs := flag.NewFlagSet("attack", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var af attackFlags
			af.register(fs, false)
			if err := fs.Parse([]string{"--method", m.Name}); err != nil {
				t.Fatal(err)
			}
			if err := af.check(fs); err != nil {
				t.Fatal(err)
			}
			a, err := af.build()
			if err != nil {
				t.Fatal(err)
			}
			if got := optionsOf(a); !reflect.DeepEqual(got, engine[m.Name]) {
				t.Errorf("flag defaults build %+v; the engine's are %+v", got, engine[m.Name])
			}
			for _, p := range m.Params {
				fl := fs.Lookup(p.Name)
				if fl == nil {
					t.Fatalf("no --%s flag", p.Name)
				}
				if !helpStates(fl.Usage, m.Name, p.Help+" ("+p.Default) {
					t.Errorf("--%s help %q does not state %s's default %s", p.Name, fl.Usage, m.Name, p.Default)
				}
			}
		})
	}
}

// helpStates reports whether a flag's help has a part "m1, m2: text" that
// names method and holds want, ending there or before a unit.
func helpStates(usage, method, want string) bool {
	for _, part := range strings.Split(usage, "; ") {
		methods, text, ok := strings.Cut(part, ": ")
		if !ok || !contains(strings.Split(methods, ", "), method) {
			continue
		}
		if strings.HasPrefix(text, want+" ") || strings.HasPrefix(text, want+")") {
			return true
		}
	}
	return false
}

func optionsOf(a attack.Attack) any {
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
