package cli

import (
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
	"github.com/advlab/advlab/imgops"
	"github.com/advlab/advlab/internal/fsutil"
)

// attackModel is what the attack commands need of a model: a classifier
// they can close. *engine.Model is one.
type attackModel interface {
	engine.Classifier
	Close() error
}

// openAttackModel opens the model a --model flag names; tests replace it
// with closed-form classifiers.
var openAttackModel = func(spec string) (attackModel, error) {
	m, err := loadModel(spec)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// outputPath is where image item is written under dir: <class>/<name>.png,
// keeping the original extension in the name when dropping it would collide
// with another file of the class.
func outputPath(dir string, item engine.DatasetItem, taken map[string]bool) string {
	rel := filepath.FromSlash(item.Rel)
	base := strings.TrimSuffix(rel, filepath.Ext(rel)) + ".png"
	if taken[base] {
		base = rel + ".png"
	}
	taken[base] = true
	return filepath.Join(dir, base)
}

// writeAdversarial writes each adversarial image as a lossless 8-bit PNG
// under dir in the dataset's <class>/<file>.png layout, atomically, and
// returns the images read back from the written files, so that the caller
// evaluates exactly what was saved.
func writeAdversarial(dir string, items []engine.DatasetItem, x []float32, shape engine.ImageShape) ([]float32, error) {
	size := shape.Size()
	back := make([]float32, len(x))
	taken := map[string]bool{}
	for i, it := range items {
		img, err := imgops.TensorToImage(x[i*size:(i+1)*size], shape.Channels, shape.Height, shape.Width)
		if err != nil {
			return nil, err
		}
		path := outputPath(dir, it, taken)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("writing adversarial images: %w", err)
		}
		if err := fsutil.WriteFileAtomic(path, func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
			return nil, fmt.Errorf("writing adversarial images: %w", err)
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("reading back %s: %w", path, err)
		}
		saved, err := png.Decode(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading back %s: %w", path, err)
		}
		t, _ := imgops.ImageToTensor(saved, shape.Channels, shape.Height, shape.Width)
		copy(back[i*size:], t)
	}
	return back, nil
}

// jsonFloat is a float64 that encodes NaN as null.
type jsonFloat float64

// MarshalJSON writes the number with six significant digits, or null.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return fmt.Appendf(nil, "%.6g", float64(f)), nil
}

// pct formats a rate as a percentage.
func pct(r float64) string {
	if math.IsNaN(r) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*r)
}

// progressPrinter returns a progress callback that redraws one status line
// on stderr at most every 100 ms when stderr is a terminal, and a function
// that ends the line. The callback never blocks the attack: updates go
// through a one-slot channel where a newer update replaces one the printer
// has not taken (engine.Latest).
func progressPrinter(env *Env, label string) (func(attack.Progress), func()) {
	if !env.Interactive {
		return nil, func() {}
	}
	ch := make(chan attack.Progress, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var last time.Time
		for p := range ch {
			if time.Since(last) < 100*time.Millisecond && p.Fraction < 1 {
				continue
			}
			last = time.Now()
			phase := ""
			if p.Phase != "" {
				phase = " " + p.Phase
			}
			fmt.Fprintf(env.Stderr, "\r%s: batch %d/%d%s step %d/%d, %d/%d fooled, %3.0f%%   ",
				label, p.Batch, p.Batches, phase, p.Step, p.Steps, p.Succeeded, p.Images, 100*p.Fraction)
		}
	}()
	stop := func() {
		close(ch)
		<-done
		fmt.Fprint(env.Stderr, "\r\033[K")
	}
	return engine.Latest(ch), stop
}
