package cli

import (
	"flag"
	"strconv"

	"github.com/advlab/advlab/engine/patch"
)

// paramFlags defines the flags of the engine's documented parameters
// (patch.Param: engine/patch's and engine/eval's tables): their defaults
// and help are the engine's table, which the workbench's forms and
// tooltips read too.
type paramFlags struct {
	fs *flag.FlagSet
	ps []patch.Param
}

// usage is p's help with its unit.
func (pf paramFlags) usage(p patch.Param) string {
	if p.Unit != "" {
		return p.Help + " (" + p.Unit + ")"
	}
	return p.Help
}

func (pf paramFlags) param(name string) patch.Param {
	p, ok := patch.LookupParam(pf.ps, name)
	if !ok {
		return patch.Param{Name: name, Help: "(undocumented)"}
	}
	return p
}

// Int defines the integer flag of name.
func (pf paramFlags) Int(name string) *int {
	v := new(int)
	pf.IntVar(v, name)
	return v
}

// IntVar defines the integer flag of name, stored in v.
func (pf paramFlags) IntVar(v *int, name string) {
	p := pf.param(name)
	d, _ := strconv.Atoi(p.Default) // a table's default the flag test checks
	pf.fs.IntVar(v, name, d, pf.usage(p))
}

// Uint64 defines the unsigned flag of name.
func (pf paramFlags) Uint64(name string) *uint64 {
	v := new(uint64)
	pf.Uint64Var(v, name)
	return v
}

// Uint64Var defines the unsigned flag of name, stored in v.
func (pf paramFlags) Uint64Var(v *uint64, name string) {
	p := pf.param(name)
	d, _ := strconv.ParseUint(p.Default, 10, 64)
	pf.fs.Uint64Var(v, name, d, pf.usage(p))
}

// Float64Var defines the real flag of name, stored in v.
func (pf paramFlags) Float64Var(v *float64, name string) {
	p := pf.param(name)
	d, _ := strconv.ParseFloat(p.Default, 64)
	pf.fs.Float64Var(v, name, d, pf.usage(p))
}

// Float64 defines the real flag of name.
func (pf paramFlags) Float64(name string) *float64 {
	v := new(float64)
	pf.Float64Var(v, name)
	return v
}

// String defines the text flag of name; help, when not "", replaces the
// table's (a flag that also takes a file, say).
func (pf paramFlags) String(name, help string) *string {
	p := pf.param(name)
	if help == "" {
		help = pf.usage(p)
	}
	return pf.fs.String(name, p.Default, help)
}

// StringVar defines the text flag of name, stored in v; help as String's.
func (pf paramFlags) StringVar(v *string, name, help string) {
	p := pf.param(name)
	if help == "" {
		help = pf.usage(p)
	}
	pf.fs.StringVar(v, name, p.Default, help)
}
