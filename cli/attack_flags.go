package cli

import (
	"flag"
	"sort"
	"strings"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
)

// attackFlags are the options `attack` and `transfer` share: --method, one
// flag per parameter name of attack's registry (a name several methods
// share, such as --steps, is one flag whose meaning and default are the
// chosen method's), and --target.
type attackFlags struct {
	method string
	target string
	params map[string]*paramFlag
	// allSteps is --all-steps's default where the method takes it:
	// transfer wants PGD's most confident adversarials, attack the first.
	allSteps bool
	set      map[string]bool
}

// paramFlag holds the text of one registry parameter given on the command
// line; it is a boolean flag (--all-steps alone) for Bool parameters.
type paramFlag struct {
	text    string
	boolean bool
}

func (p *paramFlag) String() string     { return p.text }
func (p *paramFlag) Set(s string) error { p.text = s; return nil }
func (p *paramFlag) IsBoolFlag() bool   { return p.boolean }

// register adds the attack options to fs, built from the registry.
func (f *attackFlags) register(fs *flag.FlagSet, allSteps bool) {
	f.allSteps = allSteps
	f.params = map[string]*paramFlag{}
	fs.StringVar(&f.method, "method", "", "attack: "+strings.Join(attack.MethodNames(), ", "))
	// One flag per name; its help gives each method's meaning and default,
	// methods that agree sharing one entry.
	type entry struct{ methods, text string }
	var names []string
	help := map[string][]entry{}
	for _, m := range attack.Methods() {
		for _, p := range m.Params {
			if _, ok := f.params[p.Name]; !ok {
				f.params[p.Name] = &paramFlag{boolean: p.Kind == attack.Bool}
				names = append(names, p.Name)
			}
			def := p.Default
			if p.IsAuto(def) {
				def += " = " + p.Auto
			}
			if p.Name == "all-steps" && allSteps {
				def = "true"
			}
			if p.Unit != "" {
				def += " " + p.Unit
			}
			text := p.Help + " (" + def + ")"
			es := help[p.Name]
			if i := len(es) - 1; i >= 0 && es[i].text == text {
				es[i].methods += ", " + m.Name
			} else {
				es = append(es, entry{m.Name, text})
			}
			help[p.Name] = es
		}
	}
	for _, n := range names {
		var parts []string
		for _, e := range help[n] {
			parts = append(parts, e.methods+": "+e.text)
		}
		fs.Var(f.params[n], n, strings.Join(parts, "; "))
	}
	fs.StringVar(&f.target, "target", "", "target class label (default: untargeted; lbfgs then picks a target per image by --untargeted)")
}

// registered returns the chosen method's registry entry.
func (f *attackFlags) registered() (attack.Method, error) {
	if f.method == "" {
		return attack.Method{}, usagef("--method is required (%s)", strings.Join(attack.MethodNames(), ", "))
	}
	m, ok := attack.Lookup(f.method)
	if !ok {
		return m, usagef("unknown method %q: want one of %s", f.method, strings.Join(attack.MethodNames(), ", "))
	}
	return m, nil
}

// check records which options were given and rejects an unknown method and
// options the method does not take. It does no work.
func (f *attackFlags) check(fs *flag.FlagSet) error {
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	m, err := f.registered()
	if err != nil {
		return err
	}
	var extra []string
	for name := range f.params {
		if _, ok := m.Param(name); f.set[name] && !ok {
			extra = append(extra, "--"+name)
		}
	}
	if f.set["target"] && !m.Targeted {
		extra = append(extra, "--target")
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	why := ""
	if contains(extra, "--target") && !m.Targeted {
		why = " (" + m.Name + " is untargeted)"
	}
	if _, ok := m.Param("eps"); contains(extra, "--eps") && !ok {
		why = " (" + m.Name + " finds a minimal perturbation; it has no budget)"
	}
	return usagef("%s %s not taken by --method %s%s", strings.Join(extra, ", "), plural(len(extra), "is", "are"), m.Name, why)
}

// values returns the registry values the options give.
func (f *attackFlags) values(m attack.Method) attack.Values {
	v := attack.Values{}
	for _, p := range m.Params {
		if f.set[p.Name] {
			v[p.Name] = f.params[p.Name].text
		}
	}
	if _, ok := m.Param("all-steps"); ok && f.allSteps && !f.set["all-steps"] {
		v["all-steps"] = "true"
	}
	return v
}

// build returns the attack the options describe, validated by the
// registry, before any work.
func (f *attackFlags) build() (attack.Attack, error) {
	m, err := f.registered()
	if err != nil {
		return nil, err
	}
	a, err := m.New(f.values(m))
	if err != nil {
		return nil, usagef("%v", err)
	}
	return a, nil
}

// describe returns the attack and its settings in one line for reports.
func (f *attackFlags) describe() string {
	m, err := f.registered()
	if err != nil {
		return f.method
	}
	v := f.values(m)
	var parts []string
	for _, p := range m.Params {
		if s, ok := v[p.Name]; ok {
			parts = append(parts, p.Name+"="+s)
		}
	}
	if f.set["target"] {
		parts = append(parts, "target="+f.target)
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
