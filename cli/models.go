package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/defense"
	"github.com/advlab/advlab/engine/onnxmodel"
)

// loadModel opens the model a --model flag names: an .onnx path, or "" for
// the embedded demo model.
func loadModel(spec string) (*onnxmodel.Model, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return onnxmodel.Default()
	}
	return onnxmodel.Load(spec)
}

// listFlag is a flag that may be repeated or comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// defenseHelp is the --defense flag's help, built from the registry.
func defenseHelp() string {
	var parts []string
	for _, d := range defense.Defenses() {
		var ps []string
		for _, p := range d.Params {
			ps = append(ps, p.Name+"="+p.Default)
		}
		parts = append(parts, d.Name+":"+strings.Join(ps, ","))
	}
	return "wrap the model in a defense NAME[:k=v,…]: " + strings.Join(parts, "; ")
}

// defend wraps c in the defense spec names ("" leaves c bare). A detector
// that needs calibrating is calibrated on the images x (n of them, at c's
// input size), with a note: the false-positive rate is then the one it
// was tuned for on those very images.
func defend(ctx context.Context, env *Env, spec string, c engine.Classifier, x []float32, n int) (engine.Classifier, error) {
	if strings.TrimSpace(spec) == "" {
		return c, nil
	}
	s, err := defense.Parse(spec)
	if err != nil {
		return nil, usagef("--defense: %v", err)
	}
	d, err := s.Wrap(c)
	if err != nil {
		return nil, usagef("--defense: %v", err)
	}
	if cal, ok := d.(defense.Calibrator); ok {
		if err := cal.Calibrate(ctx, x, n); err != nil {
			return nil, err
		}
		fmt.Fprintf(env.Stderr, "note: calibrated %s on the %d clean images given\n", d.Name(), n)
	}
	return d, nil
}
