package engine

import (
	"fmt"

	"github.com/advlab/advlab/zoo"
)

// DefaultSamples loads the embedded demo model's held-out sample images.
func DefaultSamples() (*Dataset, error) {
	ds, err := LoadImageFS(zoo.DefaultSamples(), ".")
	if err != nil {
		return nil, fmt.Errorf("embedded demo images: %w", err)
	}
	return ds, nil
}
