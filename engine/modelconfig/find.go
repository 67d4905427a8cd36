package modelconfig

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Find looks for the sidecar of the model at modelPath: <base>.json (model.json
// for model.onnx) and <model>.onnx.json. It returns the one that exists and its
// bytes; "", nil, nil when there is none. Two sidecars, or one that is not a
// readable regular file of at most MaxConfigBytes, are errors: a sidecar that
// is silently skipped would silently change the preprocessing.
func Find(modelPath string) (path string, data []byte, err error) {
	base := strings.TrimSuffix(modelPath, filepath.Ext(modelPath))
	candidates := []string{base + ".json"}
	if modelPath+".json" != candidates[0] {
		candidates = append(candidates, modelPath+".json")
	}
	var found []string
	for _, p := range candidates {
		_, err := os.Lstat(p)
		switch {
		case err == nil:
			found = append(found, p)
		case errors.Is(err, fs.ErrNotExist):
		default:
			return "", nil, fmt.Errorf("checking for the model's sidecar %s: %w", p, err)
		}
	}
	switch len(found) {
	case 0:
		return "", nil, nil
	case 2:
		return "", nil, fmt.Errorf("the model has two sidecars, %s and %s, and advlab reads only one: merge what you need into one and delete the other (e.g. rm %q)", found[0], found[1], found[1])
	}
	data, err = readRegular(found[0], MaxConfigBytes)
	if err != nil {
		return "", nil, fmt.Errorf("reading the model's sidecar: %w; fix it or remove it", err)
	}
	return found[0], data, nil
}

// readRegular reads a regular file of at most limit bytes. It opens without
// blocking and checks the open file, so a FIFO or device put in a file's place
// is refused at once instead of hanging or streaming forever.
func readRegular(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(path, st, limit); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err = f.Stat() // the file opened, which may differ from the one checked
	if err != nil {
		return nil, err
	}
	if err := regular(path, st, limit); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s grew past %d bytes while being read", path, limit)
	}
	return data, nil
}

func regular(path string, st fs.FileInfo, limit int64) error {
	m := st.Mode()
	switch {
	case m.IsDir():
		return fmt.Errorf("%s is a folder, not a file", path)
	case m&fs.ModeNamedPipe != 0:
		return fmt.Errorf("%s is a named pipe (FIFO), not a file", path)
	case m&(fs.ModeDevice|fs.ModeCharDevice) != 0:
		return fmt.Errorf("%s is a device, not a file", path)
	case !m.IsRegular():
		return fmt.Errorf("%s is not a regular file (%v)", path, m.Type())
	case st.Size() > limit:
		return fmt.Errorf("%s is %d bytes, more than advlab's limit of %d", path, st.Size(), limit)
	}
	return nil
}
