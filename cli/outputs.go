package cli

import (
	"github.com/advlab/advlab/internal/fsutil"
)

// checkOutputs applies fsutil's rules to what a command reads and writes,
// before it does any work: an output that would destroy an input, or that
// could not be written at the end, is a usage error (exit 2).
func checkOutputs(o fsutil.Outputs) error {
	if err := o.Check(); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// pathsOf names every entry of a repeated option, for fsutil.Outputs.
func pathsOf(flag string, values []string) []fsutil.Path {
	out := make([]fsutil.Path, len(values))
	for i, v := range values {
		out[i] = fsutil.Path{Flag: flag, Path: v}
	}
	return out
}
