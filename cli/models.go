package cli

import (
	"fmt"
	"strings"

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

// loadModels opens every model in specs, closing those already opened when
// one fails.
func loadModels(specs []string) ([]*onnxmodel.Model, error) {
	var out []*onnxmodel.Model
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

func closeModels(ms []*onnxmodel.Model) {
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
