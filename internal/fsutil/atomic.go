// Package fsutil holds the file-system habits every advlab writer shares:
// files are replaced atomically, and a command checks all its outputs
// against its inputs before it does any work (see Outputs).
package fsutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// newFileMode is the mode of a file that did not exist before.
const newFileMode fs.FileMode = 0o644

// WriteFileAtomic writes a file through write into a temporary file in the
// destination's folder, syncs it, and renames it over path, so that a crash or
// an error never leaves a half-written file and an existing file is replaced
// only by a complete one. A file replaced keeps its permission bits; a
// symbolic link keeps pointing at the new content. It refuses a path that
// exists and is not a regular file (a folder, a device such as /dev/null, a
// named pipe, a socket): renaming over one would destroy it. Temporary files
// left by a writer that was killed are removed on the way.
func WriteFileAtomic(path string, write func(w io.Writer) error) (err error) {
	if err := checkFolder(filepath.Dir(path)); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	target, mode, err := replaceTarget(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	dir, base := filepath.Dir(target), filepath.Base(target)
	removeStaleTemps(dir, base)
	tmp, err := createTemp(dir, base)
	if err != nil {
		return fmt.Errorf("creating a temporary file beside %s: %w", path, err)
	}
	// The lock on tmp, which tells cleaners that it is alive, goes with
	// its close, after the rename where the system allows renaming an
	// open file.
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if closeBeforeRename {
		if err = tmp.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err = os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	if !closeBeforeRename {
		if err = tmp.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}

// WriteBytesAtomic is WriteFileAtomic for data already in memory.
func WriteBytesAtomic(path string, data []byte) error {
	return WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// replaceTarget returns the file that writing path replaces (path, or
// where its symbolic links lead) and the mode the new file gets: the old
// file's permission bits, or newFileMode.
func replaceTarget(path string) (string, fs.FileMode, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if lst, lerr := os.Lstat(path); lerr == nil && lst.Mode()&fs.ModeSymlink != 0 {
			return "", 0, errors.New("it is a symbolic link to nothing; remove it or choose another file")
		}
		return path, newFileMode, nil
	}
	if err != nil {
		return "", 0, err
	}
	if err := regularFile(st); err != nil {
		return "", 0, err
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", 0, err
	}
	return real, st.Mode().Perm(), nil
}

// regularFile explains why a file that exists cannot be replaced.
func regularFile(st fs.FileInfo) error {
	m := st.Mode()
	var what string
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return errors.New("it is a folder; name a file inside it")
	case m&fs.ModeCharDevice != 0, m&fs.ModeDevice != 0:
		what = "a device"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	default:
		what = "not a regular file"
	}
	return fmt.Errorf("it is %s, which advlab does not write over; choose a file name", what)
}

// checkFolder reports whether dir exists and is a folder, in words that
// say what to do.
func checkFolder(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the folder %s does not exist; create it or choose another", dir)
	case err != nil:
		return fmt.Errorf("the folder %s: %v", dir, err)
	case !st.IsDir():
		return fmt.Errorf("%s is not a folder; choose another", dir)
	}
	return nil
}

// tempPrefix and tempSuffix frame the temporary files of WriteFileAtomic
// for a file named base: "." + base + "." + digits + ".tmp".
func tempPrefix(base string) string { return "." + base + "." }

const tempSuffix = ".tmp"

// isTempOf reports whether name is one of the temporary files that
// WriteFileAtomic makes for base.
func isTempOf(name, base string) bool {
	mid, ok := strings.CutPrefix(name, tempPrefix(base))
	if !ok {
		return false
	}
	mid, ok = strings.CutSuffix(mid, tempSuffix)
	if !ok || mid == "" {
		return false
	}
	for _, r := range mid {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// maxTempTries bounds how often createTemp starts over when a cleaner
// removed its file before it could lock it.
const maxTempTries = 8

// createTemp makes and locks a new temporary file for base in dir. A
// cleaner that took the file for stale between its creation and the lock
// has removed it, so the lock is followed by a check that the name still
// leads to the locked file.
func createTemp(dir, base string) (*os.File, error) {
	for range maxTempTries {
		tmp, err := os.CreateTemp(dir, tempPrefix(base)+"*"+tempSuffix)
		if err != nil {
			return nil, err
		}
		if err := lockTemp(tmp); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return nil, err
		}
		held, herr := tmp.Stat()
		named, nerr := os.Lstat(tmp.Name())
		if herr == nil && nerr == nil && os.SameFile(held, named) {
			return tmp, nil
		}
		tmp.Close()
	}
	return nil, errors.New("another process keeps removing the temporary files; try again")
}

// removeStaleTemps removes the temporary files for base in dir that no
// live writer holds: those of a run that was killed before its rename.
func removeStaleTemps(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isTempOf(e.Name(), base) {
			continue
		}
		removeIfStale(filepath.Join(dir, e.Name()))
	}
}
