package modelconfig

import (
	"fmt"
	"sort"
	"strings"
)

// AdversarialTraining says how a model was adversarially trained (Madry et
// al. 2018): the attack that made its training examples, in [0,1] pixel
// units like advlab's own ε, and how they were mixed with clean ones. It is
// the sidecar's "adversarial_training" object.
type AdversarialTraining struct {
	// Method is the training attack: "PGD" or "FGSM".
	Method string
	// Norm is the threat model's norm: "linf" or "l2".
	Norm string
	// Eps is the perturbation bound in [0,1] pixels, before the model's
	// mean/std normalisation.
	Eps float64
	// Steps is the attack's iterations per batch (1 for FGSM); 0 when unset.
	Steps int
	// StepSize is each iteration's step in [0,1] pixels; 0 when unset.
	StepSize float64
	// RandomStart says whether each attack began at a uniform random point
	// of the ε-ball.
	RandomStart bool
	// Mix is what the loss was taken on: "adversarial" (the adversarial
	// examples only, Madry et al.'s objective) or "half" (the mean of the
	// clean and the adversarial loss); "" when unset.
	Mix string
}

// adversarialKeys parses the keys of an "adversarial_training" object.
var adversarialKeys = map[string]func(a *AdversarialTraining, k string, v any) error{
	"method": func(a *AdversarialTraining, k string, v any) (err error) {
		a.Method, err = choice(k, v, "PGD", "FGSM")
		return
	},
	"norm": func(a *AdversarialTraining, k string, v any) (err error) {
		a.Norm, err = choice(k, v, "linf", "l2")
		return
	},
	"eps": func(a *AdversarialTraining, k string, v any) (err error) {
		a.Eps, err = positive(k, v, "an ε in [0,1] pixels such as 0.031 for 8/255")
		return
	},
	"steps": func(a *AdversarialTraining, k string, v any) error {
		n, err := integer(k, v, 1, 1e6)
		a.Steps = int(n)
		return err
	},
	"step_size": func(a *AdversarialTraining, k string, v any) (err error) {
		a.StepSize, err = positive(k, v, "a step in [0,1] pixels such as 0.0078 for 2/255")
		return
	},
	"random_start": func(a *AdversarialTraining, k string, v any) error {
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("key %q: want true or false, got %s", k, describe(v))
		}
		a.RandomStart = b
		return nil
	},
	"mix": func(a *AdversarialTraining, k string, v any) (err error) {
		a.Mix, err = choice(k, v, "adversarial", "half")
		return
	},
}

// positive reads a finite number above zero; example says what to give.
func positive(key string, v any, example string) (float64, error) {
	f, err := number(key, v)
	if err == nil && !(f > 0) {
		err = fmt.Errorf("key %q: %v must be above zero; give %s", key, f, example)
	}
	return f, err
}

func setAdversarialTraining(c *Config, k string, v any, _ string) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("key %q: want a JSON object such as {\"method\": \"PGD\", \"norm\": \"linf\", \"eps\": 0.3}, got %s", k, describe(v))
	}
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	sort.Strings(names)
	var a AdversarialTraining
	for _, name := range names {
		set, ok := adversarialKeys[name]
		if !ok {
			return fmt.Errorf("key %q: unknown key %q; the known keys are %s", k, SanitizeLabel(name), strings.Join(adversarialKeyNames(), ", "))
		}
		if obj[name] == nil {
			return fmt.Errorf("key %q: key %q is null; give a value or leave the key out", k, name)
		}
		if err := set(&a, name, obj[name]); err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
	}
	for _, need := range []string{"method", "norm", "eps"} {
		if _, ok := obj[need]; !ok {
			return fmt.Errorf("key %q: %q is missing; give at least method, norm and eps", k, need)
		}
	}
	if a.Method == "FGSM" && a.Steps > 1 {
		return fmt.Errorf("key %q: FGSM takes one step, not %d; write \"method\": \"PGD\" for an iterated attack", k, a.Steps)
	}
	c.AdversarialTraining = &a
	return nil
}

func adversarialKeyNames() []string {
	out := make([]string, 0, len(adversarialKeys))
	for k := range adversarialKeys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
