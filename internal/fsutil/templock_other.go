//go:build !unix

package fsutil

import (
	"os"
	"time"
)

// Without flock, a temporary file is taken for stale when nobody has
// written to it for staleAfter: far longer than any advlab write takes.
const staleAfter = time.Hour

// closeBeforeRename is true: an open file cannot be renamed everywhere.
const closeBeforeRename = true

// lockTemp has nothing to lock where there is no flock.
func lockTemp(*os.File) error { return nil }

// removeIfStale removes the temporary file at path when it is old.
func removeIfStale(path string) {
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() || time.Since(st.ModTime()) < staleAfter {
		return
	}
	os.Remove(path)
}
