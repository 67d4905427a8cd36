package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/defense"
)

// defenseFlags are --defense and --non-adaptive, the one helper of every
// command that runs a model: specs are parsed by check, before any model
// is loaded, and wrap puts them around each model before any runs.
type defenseFlags struct {
	raw    specFlag
	specs  []defense.Spec
	repeat bool
	// nonAdaptive is --non-adaptive, where the command has it.
	nonAdaptive bool
}

// register adds --defense (repeatable when repeat) with what it does in
// this command, and --non-adaptive when nonAdaptive says what it does.
func (f *defenseFlags) register(fs *flag.FlagSet, repeat bool, what, nonAdaptive string) {
	f.repeat = repeat
	help := defenseHelp() + "; " + what
	if repeat {
		help += "; repeat for more"
	}
	fs.Var(&f.raw, "defense", help)
	if nonAdaptive != "" {
		fs.BoolVar(&f.nonAdaptive, "non-adaptive", false, "with --defense: "+nonAdaptive)
	}
}

// check parses every --defense; a bad spec, a repeated --defense where one
// is allowed, or --non-adaptive without a defense is a usage error.
func (f *defenseFlags) check() error {
	if len(f.raw) > 1 && !f.repeat {
		return usagef("--defense given %d times: this command takes one", len(f.raw))
	}
	f.specs = nil
	for _, text := range f.raw {
		s, err := defense.Parse(text)
		if err != nil {
			return usagef("--defense: %v", err)
		}
		f.specs = append(f.specs, s)
	}
	if f.nonAdaptive && len(f.specs) == 0 {
		return usagef("--non-adaptive needs --defense: it transfers attacks on the bare model to the defended one")
	}
	return nil
}

// given reports whether any --defense was given.
func (f *defenseFlags) given() bool { return len(f.raw) > 0 }

// wrap returns c in each defense, in the order given, without running any:
// a defense that does not fit c's input (a PatchCleanser mask larger than
// the image) is a usage error here.
func (f *defenseFlags) wrap(c engine.Classifier) ([]engine.Classifier, error) {
	var out []engine.Classifier
	for _, s := range f.specs {
		d, err := s.Wrap(c)
		if err != nil {
			return nil, usagef("--defense %s for %s: %v", s, c.Name(), err)
		}
		out = append(out, d)
	}
	return out, nil
}

// withDefended returns every model followed by its defended copies
// (m1, m1+d1, m1+d2, m2, …) and, for each, whether it is a bare model.
func (f *defenseFlags) withDefended(cs []engine.Classifier) ([]engine.Classifier, []bool, error) {
	var out []engine.Classifier
	var bare []bool
	for _, c := range cs {
		ds, err := f.wrap(c)
		if err != nil {
			return nil, nil, err
		}
		out, bare = append(out, c), append(bare, true)
		for _, d := range ds {
			out, bare = append(out, d), append(bare, false)
		}
	}
	return out, bare, nil
}

// calibrateAll calibrates every detector among cs on ds's clean images, at
// each one's input size.
func calibrateAll(ctx context.Context, env *Env, cs []engine.Classifier, ds *engine.Dataset) error {
	for _, c := range cs {
		x, _ := ds.TensorFor(c)
		if err := calibrate(ctx, env, c, x, ds.Len()); err != nil {
			return err
		}
	}
	return nil
}

// calibrate tunes c on the clean images x (n of them) when it is a
// detector that needs it, with a note: the false-positive rate is then the
// one it was tuned for on those very images.
func calibrate(ctx context.Context, env *Env, c engine.Classifier, x []float32, n int) error {
	cal, ok := c.(defense.Calibrator)
	if !ok {
		return nil
	}
	if err := cal.Calibrate(ctx, x, n); err != nil {
		return fmt.Errorf("calibrating %s: %w", c.Name(), err)
	}
	fmt.Fprintf(env.Stderr, "note: calibrated %s on the %d clean images given\n", c.Name(), n)
	return nil
}

// specFlag is a flag that may be repeated; unlike listFlag it keeps commas,
// which separate a defense's parameters.
type specFlag []string

func (l *specFlag) String() string { return strings.Join(*l, " ") }

func (l *specFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}
