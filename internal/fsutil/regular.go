package fsutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// OpenRegular opens path for reading and returns it only when it is a regular
// file, with its size. It opens without blocking, so a FIFO or a device named
// by a hostile file fails at once instead of hanging; with noFollow a symbolic
// link as the last element of path is refused too. The caller closes the file.
func OpenRegular(path string, noFollow bool) (*os.File, int64, error) {
	f, err := openNonBlocking(path, noFollow)
	if err != nil {
		return nil, 0, fmt.Errorf("opening %q: %s", path, describe(err))
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("reading %q: %s", path, describe(err))
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%q is a %s, not a regular file; give a plain file", path, kind(st.Mode()))
	}
	return f, st.Size(), nil
}

// ReadRegular reads the whole of the regular file at path, refusing a FIFO, a
// device, a folder or a file larger than max bytes with a one-line error. It is
// the way to read files a user or a model names: sidecars, patches, palettes,
// masks, images.
func ReadRegular(path string, max int64) ([]byte, error) {
	f, size, err := OpenRegular(path, false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > max {
		return nil, fmt.Errorf("%q holds %d bytes, more than the %d advlab reads for such a file; check that it is the right file", path, size, max)
	}
	// The file may grow after the Stat: read at most one byte past max to notice.
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %q: %s", path, describe(err))
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%q grew past %d bytes while being read; read it again when nothing writes to it", path, max)
	}
	return data, nil
}

// describe returns the reason an os error carries without the path, which the
// caller quotes itself so that a hostile name cannot break the error's line.
func describe(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "folder"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	}
	return "special file"
}
