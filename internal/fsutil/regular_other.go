//go:build !unix

package fsutil

import (
	"fmt"
	"os"
)

// openNonBlocking checks the path before opening it where the system has no
// O_NONBLOCK or O_NOFOLLOW: a special file or (with noFollow) a link is
// refused before the open can block on it.
func openNonBlocking(path string, noFollow bool) (*os.File, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode()&os.ModeSymlink != 0 {
		if noFollow {
			return nil, &os.PathError{Op: "open", Path: path, Err: fmt.Errorf("is a symbolic link")}
		}
		if st, err = os.Stat(path); err != nil {
			return nil, err
		}
	}
	if !st.Mode().IsRegular() {
		return nil, &os.PathError{Op: "open", Path: path, Err: fmt.Errorf("is a %s, not a regular file", kind(st.Mode()))}
	}
	return os.Open(path)
}
