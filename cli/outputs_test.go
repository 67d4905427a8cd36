//go:build unix

package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/advlab/advlab/internal/treesnap"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/patch"
)

// progressLine matches a line of training progress.
var progressLine = regexp.MustCompile(`step \d+/\d+`)

// outputsWorkspace is a folder of inputs a command may be told to
// overwrite: a model file, a patch file, an image folder, a checkpoint of
// an earlier run, a named pipe, and a zoo of stand-in networks.
type outputsWorkspace struct {
	root, model, patch, images, ckpt, fifo, zoo string
}

func newOutputsWorkspace(t *testing.T) outputsWorkspace {
	t.Helper()
	root := t.TempDir()
	w := outputsWorkspace{root: root, model: filepath.Join(root, "m.onnx"), images: filepath.Join(root, "images"),
		ckpt: filepath.Join(root, "c.json"), fifo: filepath.Join(root, "fifo"), zoo: filepath.Join(root, "zoo")}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(w.model, []byte("not opened before the check"), 0o600))
	w.patch = filepath.Join(root, "p.png")
	must(os.Rename(whitePatch(t, "bright"), w.patch))
	must(os.Chmod(w.patch, 0o640))
	must(os.Rename(brightFolder(t, 2), w.images))
	cp := &patch.Checkpoint{Format: patch.CheckpointFormat, Options: []byte(`{}`), Models: []string{"brightness"}, Step: 7}
	must(cp.Save(w.ckpt))
	must(syscall.Mkfifo(w.fifo, 0o644))
	must(os.Mkdir(w.zoo, 0o755))
	for _, n := range szegedyNets {
		must(os.WriteFile(filepath.Join(w.zoo, n.File+".onnx"), []byte("net"), 0o644))
	}
	return w
}

// TestOutputsNeverClobberInputs runs each command with an output that
// would destroy an input, a special file or the work: each must fail with
// exit status 2 and a one-line reason, before any work (no model opened,
// no training step), and leave every file as it was, bytes and mode.
func TestOutputsNeverClobberInputs(t *testing.T) {
	tests := []struct {
		name string
		args func(w outputsWorkspace) []string
		want string
	}{
		{"gradgraph over its model", func(w outputsWorkspace) []string {
			return []string{"gradgraph", w.model, "-o", w.model}
		}, "is the same file as the model"},
		{"gradgraph over its model through a symlink", func(w outputsWorkspace) []string {
			link := filepath.Join(w.root, "link.onnx")
			os.Symlink(w.model, link)
			return []string{"gradgraph", w.model, "-o", link}
		}, "is the same file as the model"},
		{"gradgraph into a named pipe", func(w outputsWorkspace) []string {
			return []string{"gradgraph", w.model, "-o", w.fifo}
		}, "it is a named pipe"},
		{"export over its patch", func(w outputsWorkspace) []string {
			return []string{"export", w.patch, "--size", "5cm", "-o", w.patch}
		}, "is the same file as the patch"},
		{"export into a missing folder", func(w outputsWorkspace) []string {
			return []string{"export", w.patch, "--size", "5cm", "-o", filepath.Join(w.root, "nope", "p.pdf")}
		}, "nope does not exist; create it or choose another"},
		{"evalpatch plots over its patch", func(w outputsWorkspace) []string {
			return []string{"evalpatch", "--patch", w.patch, "--images", w.images, "--plot", w.patch}
		}, "--plot " + "%p: it is the same file as --patch"},
		{"evalpatch writes its CSV over its patch", func(w outputsWorkspace) []string {
			return []string{"evalpatch", "--patch", w.patch, "--images", w.images, "--csv", w.patch}
		}, "same file as --patch"},
		{"evalpatch writes its CSV and plot to one file", func(w outputsWorkspace) []string {
			out := filepath.Join(w.root, "r.png")
			return []string{"evalpatch", "--patch", w.patch, "--images", w.images, "--csv", out, "--plot", out}
		}, "writes there too"},
		{"evalpatch CSV into the image folder", func(w outputsWorkspace) []string {
			return []string{"evalpatch", "--patch", w.patch, "--images", w.images, "--csv", filepath.Join(w.images, "dark", "r.csv")}
		}, "is inside --images"},
		{"evalpatch CSV into a missing folder", func(w outputsWorkspace) []string {
			return []string{"evalpatch", "--patch", w.patch, "--images", w.images, "--csv", "/nonexistent/r.csv"}
		}, "the folder /nonexistent does not exist"},
		{"evalpatch CSV to standard output", func(w outputsWorkspace) []string {
			return []string{"evalpatch", "--patch", w.patch, "--images", w.images, "--csv", "-"}
		}, "cannot write to standard output"},
		{"attack over its images", func(w outputsWorkspace) []string {
			return []string{"attack", "--method", "fgsm", "--images", w.images, "--out", w.images}
		}, "is inside --images"},
		{"attack into a class folder of its images", func(w outputsWorkspace) []string {
			return []string{"attack", "--method", "fgsm", "--images", w.images, "--out", filepath.Join(w.images, "dark")}
		}, "is inside --images"},
		{"attack into a file", func(w outputsWorkspace) []string {
			return []string{"attack", "--method", "fgsm", "--images", w.images, "--out", w.patch}
		}, "it exists and is not a folder"},
		{"patch writes the patch over its checkpoint", func(w outputsWorkspace) []string {
			out := filepath.Join(w.root, "x")
			return brightPatchArgs(w.images, out, "--checkpoint", out)
		}, "--checkpoint %r/x: --out %r/x writes there too"},
		{"patch into a missing folder", func(w outputsWorkspace) []string {
			return brightPatchArgs(w.images, "/nonexistent/p.png")
		}, "--out /nonexistent/p.png: the folder /nonexistent does not exist; create it or choose another"},
		{"patch over a training image", func(w outputsWorkspace) []string {
			return brightPatchArgs(w.images, filepath.Join(w.images, "bright", "0.png"))
		}, "is inside --images"},
		{"patch over the checkpoint of another run", func(w outputsWorkspace) []string {
			return brightPatchArgs(w.images, filepath.Join(w.root, "new.png"), "--checkpoint", w.ckpt)
		}, "holds step 7 of a run against brightness; resume that run, or replace it on purpose (--resume continues it, --force replaces it)"},
		{"patch checkpoints over its patch file", func(w outputsWorkspace) []string {
			return brightPatchArgs(w.images, filepath.Join(w.root, "new.png"), "--checkpoint", w.patch)
		}, "is not a patch checkpoint"},
		{"szegedy over a network", func(w outputsWorkspace) []string {
			return []string{"szegedy", "--zoo", w.zoo, "--images", w.images, "-o", filepath.Join(w.zoo, szegedyNets[0].File+".onnx")}
		}, "is the same file as the network"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &brightness{}
			opened := useFake(t, b)
			w := newOutputsWorkspace(t)
			args := tt.args(w)
			before := treesnap.Take(t, w.root)
			code, stdout, stderr := runAdvlab(args...)
			want := strings.NewReplacer("%p", w.patch, "%r", w.root).Replace(tt.want)
			if code != 2 {
				t.Fatalf("exit %d; want 2 (stderr %q)", code, stderr)
			}
			if lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n"); len(lines) != 1 || !strings.Contains(stderr, want) {
				t.Fatalf("stderr %q; want one line with %q", stderr, want)
			}
			if stdout != "" || progressLine.MatchString(stderr) || b.calls != 0 {
				t.Errorf("work was done: stdout %q, %d model calls", stdout, b.calls)
			}
			if *opened != 0 {
				t.Errorf("the model was opened %d times before the refusal", *opened)
			}
			if diff := treesnap.Diff(before, treesnap.Take(t, w.root)); diff != "" {
				t.Errorf("files changed: %s", diff)
			}
		})
	}
}

// TestPatchForceReplacesCheckpoint: with --force a fresh run replaces the
// checkpoint of another run, and the new checkpoint is its own.
func TestPatchForceReplacesCheckpoint(t *testing.T) {
	useFake(t, &brightness{})
	w := newOutputsWorkspace(t)
	out := filepath.Join(w.root, "new.png")
	if code, _, stderr := runAdvlab(brightPatchArgs(w.images, out, "--steps", "3", "--checkpoint", w.ckpt, "--force")...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cp, err := patch.LoadCheckpoint(w.ckpt)
	if err != nil || cp.Step != 3 {
		t.Fatalf("checkpoint %+v, %v; want step 3 of the new run", cp, err)
	}
	if st, _ := os.Stat(w.ckpt); st.Mode().Perm() != 0o644 {
		t.Errorf("checkpoint mode %v; want the old file's 0644", st.Mode())
	}
}

// interrupting cancels its context at the model's call number at.
type interrupting struct {
	*brightness
	at     int
	cancel context.CancelFunc
}

func (m *interrupting) tick() {
	if m.calls+1 == m.at {
		m.cancel()
	}
}

func (m *interrupting) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	m.tick()
	return m.brightness.Logits(ctx, images, n)
}

func (m *interrupting) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	m.tick()
	return m.brightness.Gradient(ctx, loss, images, targets)
}

// TestAttackInterruptedReportsFinishedImages interrupts PGD at the first
// model call of its second batch of two: the report holds the two images
// of the first batch only, and says that the other two were not attacked,
// instead of counting them as failures.
func TestAttackInterruptedReportsFinishedImages(t *testing.T) {
	dir := brightFolder(t, 2) // 4 images
	args := []string{"attack", "--method", "pgd", "--eps", "0.001", "--steps", "5", "--images", dir, "--json", "--batch", "2"}
	// Calls per batch of the uninterrupted run: ε is too small to fool
	// anything, so every batch runs the same steps.
	whole := &brightness{}
	useFake(t, whole)
	code, stdout, stderr := runAdvlab(append(slices.Clone(args[:len(args)-1]), "4")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var full attackReport
	if err := json.Unmarshal([]byte(stdout), &full); err != nil || full.Images != 4 || full.AttackSuccessRate != 0 {
		t.Fatalf("uninterrupted run %+v (%v)", full, err)
	}
	perBatch := whole.calls - 1 // less the evaluation of the saved images
	ctx, cancel := context.WithCancel(context.Background())
	m := &interrupting{brightness: &brightness{}, at: perBatch + 1, cancel: cancel}
	old := openAttackModel
	openAttackModel = func(string) (attackModel, error) { return m, nil }
	t.Cleanup(func() { openAttackModel = old })
	var out, errb strings.Builder
	code = Run(ctx, &Env{Stdout: &out, Stderr: &errb}, args)
	if code != 1 {
		t.Fatalf("exit %d; want 1 for an interrupted run (stderr %q)", code, errb.String())
	}
	var rep attackReport
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out.String())
	}
	if rep.Images != 2 || len(rep.Records) != 2 || rep.Attacked != 2 {
		t.Fatalf("report of %d images (%d records, %d attacked); want the 2 finished", rep.Images, len(rep.Records), rep.Attacked)
	}
	for i, r := range rep.Records {
		if r.File != full.Records[i].File {
			t.Errorf("record %d is %s; want %s", i, r.File, full.Records[i].File)
		}
	}
	if !strings.Contains(errb.String(), "interrupted; reporting the 2 images finished (2 not attacked)") {
		t.Errorf("stderr %q", errb.String())
	}
}

// TestGradGraphToStdout: -o - writes the gradient graph to standard
// output, the same bytes as -o FILE, with the summary on stderr.
func TestGradGraphToStdout(t *testing.T) {
	dir := t.TempDir()
	model := gradTestModel(t, dir, "Tanh")
	file := filepath.Join(dir, "g.onnx")
	if code, _, stderr := runCLI("gradgraph", model, "-o", file); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI("gradgraph", model, "-o", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != string(want) || len(want) == 0 {
		t.Errorf("stdout holds %d bytes; want the %d of -o FILE", len(stdout), len(want))
	}
	if !strings.Contains(stderr, "wrote -") {
		t.Errorf("stderr %q; want the summary", stderr)
	}
}
