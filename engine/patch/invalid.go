package patch

import "errors"

// ErrInvalidOptions marks the errors of Train and Evaluate that come from
// their inputs rather than from running a model: options out of range (as
// Options.Validate and EvalOptions.Validate report them), a target that is
// none of a model's classes, images that do not fit the models, a
// checkpoint of another run. They are all found before any model runs, so a
// front-end can tell a request to fix (errors.Is(err, ErrInvalidOptions))
// from a failure while running, such as ONNX Runtime refusing an input.
var ErrInvalidOptions = errors.New("invalid patch options")

// invalidError is an error of the inputs: its message is the cause's, and it
// matches both ErrInvalidOptions and the cause.
type invalidError struct{ err error }

func (e invalidError) Error() string   { return e.err.Error() }
func (e invalidError) Unwrap() []error { return []error{ErrInvalidOptions, e.err} }

// invalid marks err as an error of the inputs; nil stays nil.
func invalid(err error) error {
	if err == nil || errors.Is(err, ErrInvalidOptions) {
		return err
	}
	return invalidError{err}
}
