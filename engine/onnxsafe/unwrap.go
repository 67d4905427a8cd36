package onnxsafe

import (
	"errors"
	"io/fs"
)

// unwrapPath drops the path an os error repeats, which the caller quotes.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
