package gui

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/advlab/advlab/cli"
	"github.com/advlab/advlab/imgops"
)

// GUIAndCLIPatchFilesAgree trains a patch in the Patch tab of a workbench
// on be (the real engine: see engine_test.go) and saves it
// with File › Save patch, trains one with `advlab patch` and the same
// options, and compares the two files: the same metadata (the creation time
// aside), since both record what the engine made, and the same colours,
// since the same seed, model, images and options give the same patch.
func GUIAndCLIPatchFilesAgree(t *testing.T, be Backend) {
	dir := t.TempDir()
	guiPath, cliPath := filepath.Join(dir, "gui.png"), filepath.Join(dir, "cli.png")

	wb, files := newTestWorkbench(t, be)
	t.Cleanup(wb.close)
	if len(wb.models) != 1 || wb.images == nil {
		t.Fatalf("the demo did not load: %s", wb.status.Text)
	}
	target := wb.models[0].Labels()[2]
	tp := wb.train
	tp.target.SetSelected(target)
	tp.mask.SetSelected(string(imgops.MaskCircle))
	for f, v := range map[*numField]string{
		tp.size: "16", tp.maxAngle: "10", tp.scaleMin: "10", tp.scaleMax: "20", tp.steps: "3",
		tp.batch: "4", tp.lr: "0.02", tp.tv: "0.001", tp.nps: "0.5", tp.seed: "7",
	} {
		typeInto(f, v)
	}
	test.Tap(tp.start)
	wb.tasks.Wait()
	if tp.lastRun == nil || tp.lastRun.Err != nil || tp.lastRun.Done != 3 {
		t.Fatalf("GUI training did not finish: %+v (%s)", tp.lastRun, topDialogText(wb.win))
	}
	files.save = guiPath
	wb.savePatchDialog()
	wb.tasks.Wait()

	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), &cli.Env{Stdout: &stdout, Stderr: &stderr}, []string{
		"patch", "--target", target, "--out", cliPath, "--size", "16", "--mask", "circle", "--scale-mode", "area",
		"--scale-min", "0.1", "--scale-max", "0.2", "--rotation", "10", "--steps", "3", "--batch", "4",
		"--lr", "0.02", "--tv", "0.001", "--nps", "0.5", "--seed", "7",
	})
	if code != 0 {
		t.Fatalf("advlab patch: exit %d: %s", code, stderr.String())
	}

	gp, gm := loadPatchFile(t, guiPath)
	cp, cm := loadPatchFile(t, cliPath)
	if !reflect.DeepEqual(gm, cm) {
		t.Errorf("the patch files' metadata differ:\nGUI %s\nCLI %s", metaJSON(t, gm), metaJSON(t, cm))
	}
	if gp.W != cp.W || gp.H != cp.H || !slices.Equal(gp.Pix, cp.Pix) || !slices.Equal(gp.Mask.Pix, cp.Mask.Pix) {
		t.Errorf("the GUI's %d×%d patch and the CLI's %d×%d differ with the same options and seed", gp.W, gp.H, cp.W, cp.H)
	}
	if gm.Target != target || gm.MaskShape != imgops.MaskCircle || len(gm.Models) != 1 {
		t.Errorf("metadata %s; want target %q, a circle, one model", metaJSON(t, gm), target)
	}
}

// patchFileMeta is a patch file's metadata with the training options
// decoded, so that key order and spacing do not matter, and without its
// creation time.
type patchFileMeta struct {
	imgops.PatchMeta
	Training map[string]any
}

func loadPatchFile(t *testing.T, path string) (*imgops.Patch, patchFileMeta) {
	t.Helper()
	p, meta, err := imgops.LoadPatch(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Format != imgops.PatchFormat || meta.Created.IsZero() || len(meta.Training) == 0 {
		t.Fatalf("%s: not a self-describing patch file: %+v", path, meta)
	}
	out := patchFileMeta{PatchMeta: meta}
	if err := json.Unmarshal(meta.Training, &out.Training); err != nil {
		t.Fatalf("%s: training options: %v", path, err)
	}
	out.PatchMeta.Training, out.PatchMeta.Created = nil, time.Time{}
	return p, out
}

func metaJSON(t *testing.T, m patchFileMeta) string {
	t.Helper()
	b, err := json.Marshal(struct {
		imgops.PatchMeta
		Training map[string]any `json:"training"`
	}{m.PatchMeta, m.Training})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
