package cli

import (
	"strings"

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
