package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/advlab/advlab/imgops"
	"github.com/advlab/advlab/internal/fsutil"
)

// CheckpointFormat names the version of the checkpoint file format.
const CheckpointFormat = "advlab-patch-checkpoint/1"

// Checkpoint is the state of a patch training run after some steps:
// enough to continue it so that it ends exactly where the uninterrupted run
// does. Everything a step draws is seeded by (Seed, step), so the state is
// the patch, the optimiser's moments and the step count; the options and
// models are recorded to refuse a resume that would train something else.
// Floats are written as JSON numbers, which Go reads back exactly.
type Checkpoint struct {
	Format string `json:"format"`
	// Options are the training options as Train recorded them.
	Options json.RawMessage `json:"options"`
	// Models names the ensemble, in order.
	Models []string `json:"models"`
	// Step is the number of steps completed.
	Step int `json:"step"`
	// W, H, Pix and Mask are the patch (colours CHW, mask row-major).
	W         int              `json:"width"`
	H         int              `json:"height"`
	Pix       []float32        `json:"pix"`
	Mask      []float32        `json:"mask"`
	MaskShape imgops.MaskShape `json:"mask_shape"`
	// AdamM and AdamV are Adam's first and second moments (zero under
	// SignSGD).
	AdamM []float64 `json:"adam_m"`
	AdamV []float64 `json:"adam_v"`
	// Window is the running success rate's recent steps; Loss the last
	// step's loss; Elapsed the training time so far.
	Window  successWindow `json:"window"`
	Loss    float64       `json:"loss"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// checkpoint captures the trainer's state.
func (t *patchTrainer) checkpoint() *Checkpoint {
	var names []string
	for _, m := range t.models {
		names = append(names, m.c.Name())
	}
	return &Checkpoint{
		Format: CheckpointFormat, Options: t.optsJSON, Models: names, Step: t.step,
		W: t.patch.W, H: t.patch.H, Pix: slices.Clone(t.patch.Pix), Mask: slices.Clone(t.patch.Mask.Pix),
		MaskShape: t.patch.Mask.Shape, AdamM: slices.Clone(t.adamM), AdamV: slices.Clone(t.adamV),
		Window: successWindow{Hits: slices.Clone(t.window.Hits), Trials: slices.Clone(t.window.Trials)},
		Loss:   t.loss, Elapsed: t.elapsed,
	}
}

// restore continues from cp after checking that it belongs to this run.
func (t *patchTrainer) restore(cp *Checkpoint) error {
	if cp.Format != CheckpointFormat {
		return fmt.Errorf("resuming: checkpoint format %q; want %q", cp.Format, CheckpointFormat)
	}
	var names []string
	for _, m := range t.models {
		names = append(names, m.c.Name())
	}
	if !slices.Equal(names, cp.Models) {
		return fmt.Errorf("resuming: the checkpoint was trained against %v, not %v", cp.Models, names)
	}
	same, err := sameOptions(cp.Options, t.optsJSON)
	if err != nil {
		return fmt.Errorf("resuming: %w", err)
	}
	if !same {
		return fmt.Errorf("resuming: the checkpoint's training options differ from these (only steps may change): %s", cp.Options)
	}
	n := 3 * t.patch.W * t.patch.H
	switch {
	case cp.W != t.patch.W || cp.H != t.patch.H || len(cp.Pix) != n || len(cp.Mask) != n/3:
		return fmt.Errorf("resuming: the checkpoint's patch is %d×%d; want %d×%d", cp.W, cp.H, t.patch.W, t.patch.H)
	case !slices.Equal(cp.Mask, t.patch.Mask.Pix):
		return fmt.Errorf("resuming: the checkpoint's mask differs from the %s mask of these options", t.patch.Mask.Shape)
	case len(cp.AdamM) != n || len(cp.AdamV) != n:
		return fmt.Errorf("resuming: the checkpoint's optimiser state holds %d values; want %d", len(cp.AdamM), n)
	case cp.Step < 0 || cp.Step > t.opts.Steps:
		return fmt.Errorf("resuming: the checkpoint is at step %d; these options stop at %d", cp.Step, t.opts.Steps)
	case len(cp.Window.Hits) != len(cp.Window.Trials):
		return fmt.Errorf("resuming: the checkpoint's success window is inconsistent")
	}
	copy(t.patch.Pix, cp.Pix)
	copy(t.adamM, cp.AdamM)
	copy(t.adamV, cp.AdamV)
	t.step, t.loss, t.elapsed = cp.Step, cp.Loss, cp.Elapsed
	t.window = successWindow{Hits: slices.Clone(cp.Window.Hits), Trials: slices.Clone(cp.Window.Trials)}
	return nil
}

// sameOptions compares two recorded option sets, ignoring the step count.
func sameOptions(a, b json.RawMessage) (bool, error) {
	norm := func(raw json.RawMessage) ([]byte, error) {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("reading the recorded options: %w", err)
		}
		delete(m, "steps")
		return json.Marshal(m)
	}
	x, err := norm(a)
	if err != nil {
		return false, err
	}
	y, err := norm(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(x, y), nil
}

// Save writes the checkpoint to path atomically: a crash leaves the
// previous checkpoint whole.
func (cp *Checkpoint) Save(path string) error {
	if err := fsutil.WriteFileAtomic(path, func(w io.Writer) error {
		return json.NewEncoder(w).Encode(cp)
	}); err != nil {
		return fmt.Errorf("writing the checkpoint: %w", err)
	}
	return nil
}

// ErrCheckpointExists marks a fresh run refused because its checkpoint
// file already holds something that its checkpoints would replace.
var ErrCheckpointExists = errors.New("the checkpoint file is taken")

// CheckFreshCheckpoint reports whether a new training run may write its
// checkpoints to path: only when nothing is there. A checkpoint of an
// earlier run would be lost (it wants resuming instead), and any other
// file too. The error wraps ErrCheckpointExists and says what is there.
func CheckFreshCheckpoint(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("checking the checkpoint file: %w", err)
	case !st.Mode().IsRegular():
		return fmt.Errorf("%w: %s exists and is not a regular file; choose another checkpoint file", ErrCheckpointExists, path)
	}
	cp, err := LoadCheckpoint(path)
	if err != nil {
		return fmt.Errorf("%w: %s exists and is not a patch checkpoint; choose another checkpoint file", ErrCheckpointExists, path)
	}
	return fmt.Errorf("%w: %s holds step %d of a run against %s; resume that run, or replace it on purpose",
		ErrCheckpointExists, path, cp.Step, strings.Join(cp.Models, " + "))
}

// maxCheckpointBytes bounds a checkpoint file read into memory.
const maxCheckpointBytes = 1 << 30

// LoadCheckpoint reads a checkpoint written by Train.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the checkpoint: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCheckpointBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the checkpoint: %w", err)
	}
	if len(data) > maxCheckpointBytes {
		return nil, fmt.Errorf("%s is larger than a checkpoint can be (%d bytes)", path, maxCheckpointBytes)
	}
	var cp Checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return nil, fmt.Errorf("%s is not a patch checkpoint: %v", path, err)
	}
	if cp.Format != CheckpointFormat {
		return nil, fmt.Errorf("%s is not a patch checkpoint (format %q; want %q)", path, cp.Format, CheckpointFormat)
	}
	return &cp, nil
}
