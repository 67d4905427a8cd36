package attack

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrInvalidOptions is wrapped by every error that rejects an attack's
// options (the registry's parsing and each options type's Validate), so that
// front-ends tell a usage mistake from a failure with errors.Is.
var ErrInvalidOptions = errors.New("invalid attack options")

// invalidError is a one-line options error that wraps ErrInvalidOptions
// without repeating the sentinel's text.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }
func (e *invalidError) Unwrap() error { return ErrInvalidOptions }

// invalidf returns an options error; its message names the parameter.
func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// ParamKind is the type of value a parameter takes.
type ParamKind int

const (
	// Float is a real number; a fraction such as 8/255 is accepted.
	Float ParamKind = iota
	// Int is a whole number.
	Int
	// Choice is one of Param.Choices.
	Choice
	// Bool is true or false.
	Bool
)

// String names the kind.
func (k ParamKind) String() string {
	return [...]string{"float", "int", "choice", "bool"}[k]
}

// Param describes one option of an attack method, for a front-end to build
// a flag or a form field from. Default is read from the method's
// Default*Options, so it cannot drift from the engine.
type Param struct {
	// Name is the parameter as a command-line flag spells it ("step-size").
	Name string
	// Label is its name in a form ("Step size").
	Label string
	// Unit says what the number counts ("[0,1] pixels", "queries"), if anything.
	Unit string
	// Kind is the type of value.
	Kind ParamKind
	// Min and Max bound a Float or Int (inclusive; Validate may be stricter,
	// as eps > 0 or an L∞ eps ≤ 1).
	Min, Max float64
	// Choices are a Choice's values as typed; ChoiceLabels the same values
	// as a form shows them.
	Choices, ChoiceLabels []string
	// Default is the default value as text, parseable by Check.
	Default string
	// Auto, when set, is the rule by which the method picks the value
	// itself ("2.5·ε/steps"), which it does for the value AutoValue (or 0).
	Auto string
	// Help is one line saying what the parameter does.
	Help string
}

// AutoValue is the text that asks a parameter with an Auto rule to pick its
// value itself.
const AutoValue = "auto"

// IsAuto reports whether text asks the parameter to pick its value by its
// Auto rule: "auto", or the number 0 that the options take for it.
func (p Param) IsAuto(text string) bool {
	if p.Auto == "" {
		return false
	}
	s := strings.TrimSpace(text)
	if strings.EqualFold(s, AutoValue) {
		return true
	}
	v, err := parseFloat(s)
	return err == nil && v == 0
}

// Check reports whether text is a value the parameter takes, by its kind and
// range alone (New also checks the options together).
func (p Param) Check(text string) error {
	s := strings.TrimSpace(text)
	if p.IsAuto(s) {
		return nil
	}
	switch p.Kind {
	case Float:
		v, err := parseFloat(s)
		if err != nil {
			return invalidf("%s %q is not a number; type one from %s to %s", p.Name, s, fmtNum(p.Min), fmtNum(p.Max))
		}
		return p.inRange(v, s)
	case Int:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v != math.Trunc(v) {
			return invalidf("%s %q is not a whole number; type one from %s to %s", p.Name, s, fmtNum(p.Min), fmtNum(p.Max))
		}
		return p.inRange(v, s)
	case Bool:
		if _, err := strconv.ParseBool(s); err != nil {
			return invalidf("%s %q is not true or false", p.Name, s)
		}
		return nil
	}
	for _, c := range p.Choices {
		if c == s {
			return nil
		}
	}
	return invalidf("%s must be %s, not %q", p.Name, strings.Join(p.Choices, " or "), s)
}

func (p Param) inRange(v float64, s string) error {
	if math.IsNaN(v) || v < p.Min || v > p.Max {
		return invalidf("%s %s is out of range; type a value from %s to %s", p.Name, s, fmtNum(p.Min), fmtNum(p.Max))
	}
	return nil
}

// Values are parameter values as text, keyed by Param.Name; a missing name
// takes its default.
type Values map[string]string

// Method is one attack of the registry: what a front-end lists, the
// parameters it asks for, and how to build the attack from them.
type Method struct {
	// Name is the short name (Attack.Name, the --method value).
	Name string
	// Title is the name a form lists ("Carlini–Wagner L2"); Short the one a
	// title or a summary uses ("C&W L2").
	Title, Short string
	// Description is one line on what the method does.
	Description string
	// Targeted is true when the method can aim at a target class.
	Targeted bool
	// Params are the method's options, in the order a form shows them.
	Params []Param

	spec func() *spec
}

// New builds the method's attack from v, validated: each value is parsed by
// its Param, the options as a whole by the method's Validate, and the
// values then checked against their ranges. Every error names the
// parameter and wraps ErrInvalidOptions.
func (m Method) New(v Values) (Attack, error) {
	s := m.spec()
	for name, text := range v {
		f := s.field(name)
		if f == nil {
			names := make([]string, len(s.fields))
			for i, f := range s.fields {
				names[i] = f.Name
			}
			return nil, invalidf("%s takes no parameter %q (it takes %s)", m.Name, name, strings.Join(names, ", "))
		}
		if err := f.set(strings.TrimSpace(text)); err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	a, err := s.build()
	if err != nil {
		return nil, err
	}
	for name, text := range v {
		if f := s.field(name); f.Kind != Float && f.Kind != Int {
			continue // set checked it (a norm takes ParseNorm's spellings)
		}
		if err := s.field(name).Check(text); err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name, err)
		}
	}
	return a, nil
}

// Param returns the method's parameter called name.
func (m Method) Param(name string) (Param, bool) {
	for _, p := range m.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Methods returns every attack method, in the order front-ends list them.
func Methods() []Method {
	out := make([]Method, len(specs))
	for i, mk := range specs {
		s := mk()
		m := s.Method
		m.spec = mk
		for _, f := range s.fields {
			m.Params = append(m.Params, f.Param)
		}
		out[i] = m
	}
	return out
}

// Lookup returns the method called name.
func Lookup(name string) (Method, bool) {
	for _, m := range Methods() {
		if m.Name == name {
			return m, true
		}
	}
	return Method{}, false
}

// MethodNames returns the methods' names in order.
func MethodNames() []string {
	var out []string
	for _, m := range Methods() {
		out = append(out, m.Name)
	}
	return out
}

// New builds the attack called method from v (see Method.New).
func New(method string, v Values) (Attack, error) {
	m, ok := Lookup(method)
	if !ok {
		return nil, invalidf("unknown method %q: want one of %s", method, strings.Join(MethodNames(), ", "))
	}
	return m.New(v)
}

// spec binds a method's parameters to the fields of a fresh copy of its
// default options: a parameter's default is read from the field and its
// value written back to it, so the two cannot disagree.
type spec struct {
	Method
	fields []field
	build  func() (Attack, error)
}

// field is a parameter bound to one option.
type field struct {
	Param
	set func(string) error
}

func (s *spec) field(name string) *field {
	for i := range s.fields {
		if s.fields[i].Name == name {
			return &s.fields[i]
		}
	}
	return nil
}

// floatField binds p to *v. pixels formats a whole number of 8-bit levels
// as n/255. With p.Auto set, 0 in *v is the automatic value, AutoValue
// spells it and is then the default.
func floatField(v *float64, p Param, pixels bool) field {
	p.Kind, p.Default = Float, fmtNum(*v)
	if k := *v * 255; pixels && *v != math.Trunc(*v) && math.Abs(k-math.Round(k)) < 1e-9 {
		p.Default = fmt.Sprintf("%d/255", int(math.Round(k)))
	}
	if p.Auto != "" && *v == 0 {
		p.Default = AutoValue
	}
	return field{Param: p, set: func(s string) error {
		if p.IsAuto(s) {
			*v = 0
			return nil
		}
		x, err := parseFloat(s)
		if err != nil {
			return invalidf("%s %q is not a number", p.Name, s)
		}
		*v = x
		return nil
	}}
}

func intField(v *int, p Param) field {
	p.Kind, p.Default = Int, strconv.Itoa(*v)
	return field{Param: p, set: func(s string) error {
		x, err := strconv.Atoi(s)
		if err != nil {
			return invalidf("%s %q is not a whole number", p.Name, s)
		}
		*v = x
		return nil
	}}
}

func seedField(v *uint64, help string) field {
	p := Param{Name: "seed", Label: "Seed", Kind: Int, Min: 0, Max: math.MaxUint64, Default: strconv.FormatUint(*v, 10), Help: help}
	return field{Param: p, set: func(s string) error {
		x, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return invalidf("seed %q is not a whole number from 0 to %d", s, uint64(math.MaxUint64))
		}
		*v = x
		return nil
	}}
}

func boolField(v *bool, p Param) field {
	p.Kind, p.Default = Bool, strconv.FormatBool(*v)
	return field{Param: p, set: func(s string) error {
		x, err := strconv.ParseBool(s)
		if err != nil {
			return invalidf("%s %q is not true or false", p.Name, s)
		}
		*v = x
		return nil
	}}
}

// normField binds the norm to *v, taking the norms allowed (ParseNorm's
// spellings). v nil makes a method of one fixed norm accept it by name.
func normField(v *Norm, def Norm, allowed ...Norm) field {
	p := Param{Name: "norm", Label: "Norm", Kind: Choice, Default: def.String(), Help: "norm of the perturbation"}
	for _, n := range allowed {
		p.Choices = append(p.Choices, n.String())
		p.ChoiceLabels = append(p.ChoiceLabels, map[Norm]string{LInf: "L∞", L2: "L2"}[n])
	}
	if len(allowed) == 1 {
		p.Help = "the attack's norm, the only one it takes"
	}
	return field{Param: p, set: func(s string) error {
		n, err := ParseNorm(s)
		if err != nil {
			return invalidf("%v", err)
		}
		for _, a := range allowed {
			if a == n {
				if v != nil {
					*v = n
				}
				return nil
			}
		}
		return invalidf("norm must be %s, not %q", strings.Join(p.Choices, " or "), s)
	}}
}

// epsField is the perturbation budget of the ε-bounded methods.
func epsField(v *float64) field {
	return floatField(v, Param{Name: "eps", Label: "ε", Unit: "[0,1] pixels", Min: 0, Max: 1e3,
		Help: "perturbation budget (8/255 is eight 8-bit levels)"}, true)
}

// parseFloat reads a number or a fraction a/b.
func parseFloat(s string) (float64, error) {
	num, den, frac := strings.Cut(s, "/")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil {
		return 0, err
	}
	if frac {
		d, err := strconv.ParseFloat(strings.TrimSpace(den), 64)
		if err != nil || d == 0 {
			return 0, fmt.Errorf("bad fraction %q", s)
		}
		v /= d
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not finite", s)
	}
	return v, nil
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// specs are the methods in the order front-ends list them; each is written
// beside its method.
var specs = []func() *spec{lbfgsSpec, fgsmSpec, pgdSpec, cwSpec, deepFoolSpec, squareSpec, apgdSpec, autoAttackSpec}

// choiceField binds a choice among names (labels as a form shows them) to
// *v, one of vals.
func choiceField[T comparable](v *T, p Param, names, labels []string, vals []T) field {
	p.Kind, p.Choices, p.ChoiceLabels = Choice, names, labels
	for i, x := range vals {
		if x == *v {
			p.Default = names[i]
		}
	}
	return field{Param: p, set: func(s string) error {
		for i, n := range names {
			if n == s {
				*v = vals[i]
				return nil
			}
		}
		return invalidf("%s must be %s, not %q", p.Name, strings.Join(names, " or "), s)
	}}
}
