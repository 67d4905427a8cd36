package engine

import "errors"

// DefaultModel loads the embedded demo model.
func DefaultModel() (*Model, error) {
	return nil, errors.New("the embedded demo model is not built yet")
}
