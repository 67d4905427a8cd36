package cli

import (
	"fmt"
	"strings"

	"github.com/advlab/advlab/engine"
)

// loadModel opens the model a --model flag names: an .onnx path, or "" for
// the embedded demo model.
func loadModel(spec string) (*engine.Model, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return engine.DefaultModel()
	}
	return engine.LoadModel(spec)
}

// loadModels opens every model in specs, closing those already opened when
// one fails.
func loadModels(specs []string) ([]*engine.Model, error) {
	var out []*engine.Model
	for _, s := range specs {
		m, err := loadModel(s)
		if err != nil {
			closeModels(out)
			return nil, err
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no model given")
	}
	return out, nil
}

func closeModels(ms []*engine.Model) {
	for _, m := range ms {
		m.Close()
	}
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
