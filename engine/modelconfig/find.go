package modelconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/advlab/advlab/internal/fsutil"
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
	data, err = fsutil.ReadRegular(found[0], MaxConfigBytes)
	if err != nil {
		return "", nil, fmt.Errorf("reading the model's sidecar: %w; fix it or remove it", err)
	}
	return found[0], data, nil
}
