package onnxmodel

import (
	"fmt"

	"github.com/advlab/advlab/zoo"
)

// Default loads the demo model embedded in advlab (the zoo's default
// sign classifier), so that every command works with no model of the user's.
func Default() (*Model, error) {
	data, sidecar := zoo.DefaultModel()
	m, err := LoadData(zoo.DefaultModelName(), data, sidecar, "")
	if err != nil {
		return nil, fmt.Errorf("embedded demo model: %w", err)
	}
	return m, nil
}
