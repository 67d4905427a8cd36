package cli

import (
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
)

// attackMethods are the --method values, in the order help lists them.
var attackMethods = []string{"lbfgs", "fgsm", "pgd", "cw", "deepfool", "square"}

// methodFlags says which attack options each method takes; an option given
// for a method that ignores it is a usage error rather than silently unused.
var methodFlags = map[string][]string{
	"lbfgs":    {"steps", "seed", "target"},
	"fgsm":     {"eps", "norm", "target"},
	"pgd":      {"eps", "norm", "steps", "step-size", "restarts", "seed", "target", "all-steps"},
	"cw":       {"steps", "confidence", "target", "norm"},
	"deepfool": {"steps", "norm", "overshoot"},
	"square":   {"eps", "steps", "seed", "target", "norm"},
}

// attackOptionNames are every option attackFlags registers.
var attackOptionNames = []string{"eps", "norm", "steps", "step-size", "restarts", "target", "seed", "confidence", "overshoot", "all-steps"}

// attackFlags are the options `attack` and `transfer` share.
type attackFlags struct {
	method     string
	eps        float64
	norm       string
	steps      int
	stepSize   float64
	restarts   int
	target     string
	seed       uint64
	confidence float64
	overshoot  float64
	allSteps   bool
	set        map[string]bool
}

// register adds the attack options to fs. allSteps is --all-steps's
// default: transfer wants PGD's most confident adversarials, attack the
// first it finds.
func (f *attackFlags) register(fs *flag.FlagSet, allSteps bool) {
	fs.StringVar(&f.method, "method", "", "attack: "+strings.Join(attackMethods, ", "))
	fs.Float64Var(&f.eps, "eps", 0, "perturbation budget in [0,1] pixel units (fgsm, pgd, square; default 8/255)")
	fs.StringVar(&f.norm, "norm", "inf", "norm of the budget: inf or 2 (fgsm, pgd, deepfool; cw is 2, square inf)")
	fs.IntVar(&f.steps, "steps", 0, "iterations: pgd steps (40), cw Adam steps per c (200), deepfool steps (50), square queries (1000), lbfgs iterations per c (100)")
	fs.Float64Var(&f.stepSize, "step-size", 0, "pgd step size (default 2.5·eps/steps)")
	fs.IntVar(&f.restarts, "restarts", 1, "pgd random restarts")
	fs.StringVar(&f.target, "target", "", "target class label (default: untargeted; lbfgs then picks a random wrong label per image)")
	fs.Uint64Var(&f.seed, "seed", 0, "random seed (pgd starts, square windows, lbfgs targets)")
	fs.Float64Var(&f.confidence, "confidence", 0, "cw confidence margin κ")
	fs.Float64Var(&f.overshoot, "overshoot", 0.02, "deepfool overshoot")
	fs.BoolVar(&f.allSteps, "all-steps", allSteps, "pgd: run every step and keep the fooling iterate of highest loss, instead of stopping at the first")
}

// check records which options were given and rejects an unknown method and
// options the method does not take. It does no work.
func (f *attackFlags) check(fs *flag.FlagSet) error {
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if f.method == "" {
		return usagef("--method is required (%s)", strings.Join(attackMethods, ", "))
	}
	allowed, ok := methodFlags[f.method]
	if !ok {
		return usagef("unknown method %q: want one of %s", f.method, strings.Join(attackMethods, ", "))
	}
	var extra []string
	for _, name := range attackOptionNames {
		if f.set[name] && !contains(allowed, name) {
			extra = append(extra, "--"+name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		why := ""
		if f.method == "deepfool" && contains(extra, "--target") {
			why = " (deepfool is untargeted)"
		}
		if contains(extra, "--eps") && (f.method == "lbfgs" || f.method == "cw" || f.method == "deepfool") {
			why = " (" + f.method + " finds a minimal perturbation; it has no budget)"
		}
		return usagef("%s %s not taken by --method %s%s", strings.Join(extra, ", "), plural(len(extra), "is", "are"), f.method, why)
	}
	if f.set["norm"] {
		n, err := attack.ParseNorm(f.norm)
		if err != nil {
			return usagef("--norm: %v", err)
		}
		if f.method == "cw" && n != attack.L2 {
			return usagef("--method cw is the L2 attack; --norm must be 2")
		}
		if f.method == "square" && n != attack.LInf {
			return usagef("--method square is the L∞ attack here; --norm must be inf")
		}
	}
	return nil
}

// build returns the attack the options describe, validated, before any work.
func (f *attackFlags) build() (attack.Attack, error) {
	norm, err := attack.ParseNorm(f.norm)
	if err != nil {
		return nil, usagef("--norm: %v", err)
	}
	eps := 8.0 / 255
	if f.set["eps"] {
		eps = f.eps
	}
	steps := func(def int) int {
		if f.set["steps"] {
			return f.steps
		}
		return def
	}
	var a attack.Attack
	switch f.method {
	case "fgsm":
		a, err = attack.NewFGSM(&attack.FGSMOptions{Eps: eps, Norm: norm})
	case "pgd":
		a, err = attack.NewPGD(&attack.PGDOptions{Eps: eps, Norm: norm, Steps: steps(40), StepSize: f.stepSize,
			Restarts: f.restarts, RandomStart: true, Seed: f.seed, AllSteps: f.allSteps})
	case "cw":
		o := attack.DefaultCWOptions()
		o.Steps, o.Confidence = steps(o.Steps), f.confidence
		a, err = attack.NewCW(&o)
	case "deepfool":
		o := attack.DefaultDeepFoolOptions()
		o.Steps, o.Overshoot = steps(o.Steps), f.overshoot
		if f.set["norm"] {
			o.Norm = norm
		}
		a, err = attack.NewDeepFool(&o)
	case "square":
		o := attack.DefaultSquareOptions()
		o.Eps, o.Queries, o.Seed = eps, steps(o.Queries), f.seed
		a, err = attack.NewSquare(&o)
	case "lbfgs":
		o := attack.DefaultLBFGSOptions()
		o.MaxIterations, o.Seed = steps(o.MaxIterations), f.seed
		a, err = attack.NewLBFGS(&o)
	default:
		return nil, usagef("unknown method %q", f.method)
	}
	if err != nil {
		return nil, usagef("%v", err)
	}
	if f.set["step-size"] && !(f.stepSize > 0) {
		return nil, usagef("--step-size %g must be positive", f.stepSize)
	}
	return a, nil
}

// describe returns the attack and its settings in one line for reports.
func (f *attackFlags) describe() string {
	var parts []string
	for _, name := range methodFlags[f.method] {
		if !f.set[name] {
			continue
		}
		var v any
		switch name {
		case "eps":
			v = f.eps
		case "norm":
			v = f.norm
		case "steps":
			v = f.steps
		case "step-size":
			v = f.stepSize
		case "restarts":
			v = f.restarts
		case "target":
			v = f.target
		case "seed":
			v = f.seed
		case "confidence":
			v = f.confidence
		case "overshoot":
			v = f.overshoot
		case "all-steps":
			v = f.allSteps
		}
		parts = append(parts, fmt.Sprintf("%s=%v", name, v))
	}
	if f.method == "pgd" && f.allSteps && !f.set["all-steps"] {
		parts = append(parts, "all-steps=true")
	}
	if len(parts) == 0 {
		return f.method + " (defaults)"
	}
	return f.method + " (" + strings.Join(parts, ", ") + ")"
}

// targetIndex resolves --target among a model's labels: -1 when not given.
func (f *attackFlags) targetIndex(c engine.Classifier) (int, error) {
	if !f.set["target"] {
		return -1, nil
	}
	i, err := engine.ClassIndex(c.Labels(), f.target)
	if err != nil {
		return 0, usagef("--target for %s: %v", c.Name(), err)
	}
	return i, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
