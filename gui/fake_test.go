package gui

import (
	"context"
	"errors"
	"image"
	"image/color"
	"math"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/advlab/advlab/engine/defense"
	"github.com/advlab/advlab/engine/eval"
	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/engine/saliency"
	"github.com/advlab/advlab/imgops"
)

// fakeModel is a classifier whose class k's logit is 12 times the mean
// brightness of the k-th vertical stripe of the image: moving a bright patch
// across a dark image moves the top class with it.
type fakeModel struct {
	name   string
	labels []string
	side   int
	path   string // "" for the demo model
}

func (m *fakeModel) Name() string     { return m.name }
func (m *fakeModel) Labels() []string { return m.labels }
func (m *fakeModel) Details() ModelDetails {
	return ModelDetails{Path: m.path, Channels: 3, Height: m.side, Width: m.side, Layout: "NCHW", Preprocessing: "none: pixels in [0, 1]"}
}

func (m *fakeModel) predict(img image.Image) Prediction {
	x, _ := imgops.ImageToTensor(img, 3, m.side, m.side)
	k := len(m.labels)
	z := make([]float32, k)
	n := m.side * m.side
	for i := 0; i < m.side; i++ {
		for j := 0; j < m.side; j++ {
			c := j * k / m.side
			v := (x[i*m.side+j] + x[n+i*m.side+j] + x[2*n+i*m.side+j]) / 3
			z[c] += v * 12 * float32(k) / float32(n)
		}
	}
	return PredictionOf(z)
}

var signLabels = []string{"stop", "yield", "speed-30", "no-entry", "priority"}

// fakeBackend implements Backend without the engine, recording what the
// workbench asked of it.
type fakeBackend struct {
	mu sync.Mutex

	demoErr    error
	loadErr    error
	loadLabels []string // the labels of LoadModel's model; signLabels when nil
	// attackGate, when set, holds RunAttack before each image until a value
	// arrives (or the context ends, which returns the images done).
	attackGate chan struct{}
	stepDelay  time.Duration
	steps      []patch.Progress // every progress report sent
	lastPatch  *imgops.Patch    // the patch of the last report
	trainReqs  []TrainRequest
	attacks    []AttackRequest
	evals      []EvalRequest
	exports    []fakeExport
	saved      []string
	loaded     []string
	closed     []Model // every model closed, in order
	predicts   int
	// defenseGate, when set, holds DefenseTable before each row until a
	// value arrives (or the context ends, which returns the rows done).
	defenseGate chan struct{}
	defends     []string // every spec DefendModel was asked for
	tables      []DefenseTableRequest
	sweeps      []SweepRequest
	// sweepGate, when set, holds SweepPatch before each value until a
	// value arrives (or the context ends).
	sweepGate chan struct{}
	// explains are the saliency requests; explainGate, when set, holds
	// Explain until a value arrives.
	explains    []SaliencyRequest
	explainGate chan struct{}
}

// fakeDefended is a fake model in a defense; it predicts as its bare model.
type fakeDefended struct {
	*fakeModel
	spec string
}

func (d *fakeDefended) Name() string    { return d.fakeModel.name + "+" + d.spec }
func (d *fakeDefended) Bare() Model     { return d.fakeModel }
func (d *fakeDefended) Defense() string { return d.spec }

// DefendModel checks spec with the engine's registry, as the engine does.
func (b *fakeBackend) DefendModel(ctx context.Context, m Model, spec string, samples []Sample) (Model, error) {
	b.mu.Lock()
	b.defends = append(b.defends, spec)
	b.mu.Unlock()
	if d, ok := m.(*fakeDefended); ok {
		m = d.fakeModel
	}
	if spec == "" {
		return m, nil
	}
	s, err := defense.Parse(spec)
	if err != nil {
		return nil, err
	}
	return &fakeDefended{fakeModel: m.(*fakeModel), spec: s.String()}, nil
}

// DefenseTable gives each model a row: clean accuracy 1, robust accuracy
// 0.5 when defended and 0 bare, patch successes 0.25 and 0.75.
func (b *fakeBackend) DefenseTable(ctx context.Context, req DefenseTableRequest, progress func(eval.DefenseProgress)) ([]eval.DefenseRow, error) {
	b.mu.Lock()
	b.tables = append(b.tables, req)
	gate := b.defenseGate
	b.mu.Unlock()
	var rows []eval.DefenseRow
	for i, m := range req.Models {
		progress(eval.DefenseProgress{Row: i, Rows: len(req.Models), Model: m.Name(), Stage: "autoattack", Fraction: float64(i) / float64(len(req.Models))})
		if gate != nil {
			select {
			case <-gate:
			case <-ctx.Done():
				return rows, ctx.Err()
			}
		}
		row := eval.DefenseRow{Model: m.Name(), CleanAccuracy: 1, PatchSuccess: 0.25, UntargetedPatchSuccess: 0.75, CertifiedAccuracy: math.NaN()}
		if d, ok := m.(DefendedModel); ok {
			row.Defense, row.RobustAccuracy = d.Defense(), 0.5
		}
		rows = append(rows, row)
	}
	return rows, nil
}

type fakeExport struct {
	Path     string
	Settings PrintSettings
	Target   string
}

func newFakeBackend() *fakeBackend { return &fakeBackend{stepDelay: time.Millisecond} }

func (b *fakeBackend) DemoModel(ctx context.Context) (Model, error) {
	if b.demoErr != nil {
		return nil, b.demoErr
	}
	return &fakeModel{name: "fake-signs", labels: signLabels, side: 32}, nil
}

func (b *fakeBackend) LoadModel(ctx context.Context, path string) (Model, error) {
	b.mu.Lock()
	b.loaded = append(b.loaded, path)
	b.mu.Unlock()
	if b.loadErr != nil {
		return nil, b.loadErr
	}
	labels := signLabels
	if b.loadLabels != nil {
		labels = b.loadLabels
	}
	return &fakeModel{name: "second", labels: labels, side: 24, path: path}, nil
}

func (b *fakeBackend) CloseModel(m Model) {
	b.mu.Lock()
	b.closed = append(b.closed, m)
	b.mu.Unlock()
}

func (b *fakeBackend) Predict(ctx context.Context, m Model, img image.Image) (Prediction, error) {
	b.mu.Lock()
	b.predicts++
	b.mu.Unlock()
	return m.(predicter).predict(img), nil
}

// darkImage is a dark w×h image with a faint gradient, so images differ.
func darkImage(w, h int, tint uint8) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{tint, 20, uint8(10 + x), 255})
		}
	}
	return img
}

func (b *fakeBackend) DemoImages(ctx context.Context) (*ImageSet, error) {
	set := &ImageSet{Name: "demo samples"}
	for i := 0; i < 6; i++ {
		set.Samples = append(set.Samples, Sample{Name: signLabels[i%5] + "/img.png", Class: signLabels[i%5], Image: darkImage(48, 48, uint8(10*i))})
	}
	return set, nil
}

func (b *fakeBackend) LoadImages(ctx context.Context, path string) (*ImageSet, error) {
	b.mu.Lock()
	b.loaded = append(b.loaded, path)
	b.mu.Unlock()
	if b.loadErr != nil {
		return nil, b.loadErr
	}
	return &ImageSet{Name: path, Samples: []Sample{{Name: "a/1.png", Class: "a", Image: darkImage(40, 30, 0)}}}, nil
}

// RunAttack brightens a square in the left of every other image: the fake
// models then see class 0.
func (b *fakeBackend) RunAttack(ctx context.Context, req AttackRequest, progress func(AttackProgress)) (*AttackResult, error) {
	b.mu.Lock()
	b.attacks = append(b.attacks, req)
	b.mu.Unlock()
	res := &AttackResult{Method: req.Method, Models: req.Models}
	for i, m := range req.Models {
		if m == req.Source {
			res.Source = i
		}
	}
	for i, s := range req.Samples {
		if b.attackGate != nil {
			select {
			case <-b.attackGate:
			case <-ctx.Done():
				return res, ctx.Err()
			}
		}
		progress(AttackProgress{Fraction: float64(i) / float64(len(req.Samples)), Text: "fake"})
		clean := fitImage(s.Image, 32)
		adv := image.NewNRGBA(clean.Bounds())
		copy(adv.Pix, clean.Pix)
		if i%2 == 0 { // every other image is fooled
			for y := 0; y < 32; y++ {
				for x := 0; x < 6; x++ {
					adv.Set(x, y, color.White)
				}
			}
		}
		it := AttackItem{Sample: i, Clean: clean, Adversarial: adv}
		for _, m := range req.Models {
			it.CleanPred = append(it.CleanPred, m.(predicter).predict(clean))
			it.AdvPred = append(it.AdvPred, m.(predicter).predict(adv))
		}
		// The 8-bit round trip undoes the flip of image 2, as it does
		// for an attack that only just crossed the decision boundary.
		it.RoundedPred = it.AdvPred
		if i == 2 {
			it.RoundedPred = it.CleanPred
		}
		it.Success = it.Flipped(res.Source)
		it.RoundedSuccess = it.FlippedRounded(res.Source)
		res.Items = append(res.Items, it)
	}
	return res, nil
}

// TrainPatch sends one report per step, each with a patch filled with
// step/steps and an ETA from the pace so far, until the steps are done or
// ctx is cancelled.
func (b *fakeBackend) TrainPatch(ctx context.Context, req TrainRequest, progress func(patch.Progress)) (*patch.Result, error) {
	b.mu.Lock()
	b.trainReqs = append(b.trainReqs, req)
	b.mu.Unlock()
	meta := imgops.PatchMeta{Target: req.Target, MaskShape: req.Mask}
	for _, m := range req.Models {
		meta.Models = append(meta.Models, m.Name())
	}
	start := time.Now()
	res := &patch.Result{Meta: meta}
	for step := 1; step <= req.Steps; step++ {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(b.stepDelay):
		}
		p := imgops.NewGreyPatch(imgops.CircleMask(req.Size))
		for i := range p.Pix {
			p.Pix[i] = float32(step) / float32(req.Steps)
		}
		el := time.Since(start)
		pr := patch.Progress{Step: step, Steps: req.Steps, Loss: 1 / float64(step), SuccessRate: float64(step) / float64(req.Steps),
			Patch: p, Meta: meta, Elapsed: el, ETA: el / time.Duration(step) * time.Duration(req.Steps-step)}
		b.mu.Lock()
		b.steps = append(b.steps, pr)
		b.lastPatch = p.Clone()
		b.mu.Unlock()
		progress(pr)
		res.Patch, res.Steps, res.Elapsed = p.Clone(), step, el
	}
	return res, nil
}

func (b *fakeBackend) EvaluatePatch(ctx context.Context, req EvalRequest, progress func(float64)) ([]EvalCurve, error) {
	b.mu.Lock()
	b.evals = append(b.evals, req)
	b.mu.Unlock()
	var out []EvalCurve
	for i, m := range req.Models {
		c := EvalCurve{Model: m.Name(), Areas: req.Areas}
		for _, a := range req.Areas {
			c.SuccessRate = append(c.SuccessRate, math.Min(1, a*3/float64(i+1)))
		}
		out = append(out, c)
		progress(float64(i+1) / float64(len(req.Models)))
	}
	return out, nil
}

// SweepPatch reports, for model i, success 1 − |v|/(100·(i+1)) at value v
// and a control of a tenth of that, one point per value.
func (b *fakeBackend) SweepPatch(ctx context.Context, req SweepRequest, progress func(float64)) (*patch.EvalReport, error) {
	b.mu.Lock()
	b.sweeps = append(b.sweeps, req)
	b.mu.Unlock()
	rep := &patch.EvalReport{Target: req.Target, ScaleMode: "area", Images: len(req.Samples), Placements: req.Placements,
		Control: "noise", Sweep: req.Sweep.Kind}
	for i, m := range req.Models {
		c := patch.EvalCurve{Model: m.Name(), Target: req.Target}
		for k, v := range req.Sweep.Values {
			if b.sweepGate != nil {
				select {
				case <-b.sweepGate:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			s := 1 - math.Abs(v)/(100*float64(i+1))
			val := v
			c.Points = append(c.Points, patch.EvalPoint{Scale: req.Area, AreaFraction: req.Area, SuccessRate: s, ControlSuccessRate: s / 10,
				Error: s, ControlError: s / 10, Trials: len(req.Samples) * req.Placements, Placements: len(req.Samples) * req.Placements,
				Value: &val, DistractorSuccessRate: math.NaN(), DistractorNamed: math.NaN(), ControlDistractorNamed: math.NaN()})
			progress(float64(i*len(req.Sweep.Values)+k+1) / float64(len(req.Models)*len(req.Sweep.Values)))
		}
		rep.Curves = append(rep.Curves, c)
	}
	return rep, nil
}

// Explain returns each pixel's brightness (the mean of its channels) as
// the map, and, with a patch, a share of mass 0.5 over the placement's area.
func (b *fakeBackend) Explain(ctx context.Context, req SaliencyRequest) (*SaliencyResult, error) {
	b.mu.Lock()
	b.explains = append(b.explains, req)
	gate := b.explainGate
	b.mu.Unlock()
	if gate != nil {
		<-gate
	}
	bd := req.Image.Bounds()
	res := &SaliencyResult{Method: req.Method, Class: 0, Width: bd.Dx(), Height: bd.Dy(), Map: make([]float32, bd.Dx()*bd.Dy())}
	for y := 0; y < bd.Dy(); y++ {
		for x := 0; x < bd.Dx(); x++ {
			r, g, bl, _ := req.Image.At(bd.Min.X+x, bd.Min.Y+y).RGBA()
			res.Map[y*bd.Dx()+x] = float32(r+g+bl) / (3 * 65535)
		}
	}
	if req.Patch != nil {
		res.Share = &saliency.Share{Mass: 0.5, Area: req.Placement.Area}
	}
	return res, nil
}

func (b *fakeBackend) LoadPatch(path string) (*imgops.Patch, imgops.PatchMeta, error) {
	if b.loadErr != nil {
		return nil, imgops.PatchMeta{}, b.loadErr
	}
	return imgops.NewNoisePatch(imgops.RectMask(20, 10), 3), imgops.PatchMeta{Target: "yield"}, nil
}

func (b *fakeBackend) SavePatch(path string, p *imgops.Patch, meta imgops.PatchMeta) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.saved = append(b.saved, path)
	return nil
}

func (b *fakeBackend) ExportPatch(path string, p *imgops.Patch, meta imgops.PatchMeta, s PrintSettings) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.exports = append(b.exports, fakeExport{Path: path, Settings: s, Target: meta.Target})
	return nil
}

func (b *fakeBackend) SaveImage(path string, img image.Image) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.saved = append(b.saved, path)
	return nil
}

// fakeFiles answers the file dialogs with fixed paths and records the asks.
type fakeFiles struct {
	open, folder, save string
	asked              []string
}

func (f *fakeFiles) OpenFile(title string, exts []string, cb func(string)) {
	f.asked = append(f.asked, "open "+title)
	if f.open != "" {
		cb(f.open)
	}
}

func (f *fakeFiles) OpenFolder(title string, cb func(string)) {
	f.asked = append(f.asked, "folder "+title)
	if f.folder != "" {
		cb(f.folder)
	}
}

func (f *fakeFiles) SaveFile(title, name string, cb func(string)) {
	f.asked = append(f.asked, "save "+name)
	if f.save != "" {
		cb(f.save)
	}
}

// newTestWorkbench opens the workbench on be in a test window of the real
// size, loads the demo and waits for it.
func newTestWorkbench(tb testing.TB, be Backend) (*Workbench, *fakeFiles) {
	tb.Helper()
	a := test.NewTempApp(tb)
	w := test.NewTempWindow(tb, widget.NewLabel(""))
	wb := newWorkbench(a, w, be)
	wb.tasks.manualLoop()
	files := &fakeFiles{}
	wb.files = files
	w.Resize(fyne.NewSize(1280, 800))
	wb.start(nil)
	wb.tasks.Wait()
	return wb, files
}

// waitFor polls cond until it holds. It sets no time limit of its own, which
// would fail on a loaded machine: a cond that never holds ends in go test's
// -timeout, whose goroutine dump shows where.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Since(start) > time.Minute {
			t.Logf("still waiting for %s after %v", what, time.Since(start).Round(time.Second))
			start = time.Now()
		}
	}
}

// topDialogText returns the texts of the labels in the window's top
// overlay (a dialog), or "" when none is shown.
func topDialogText(w fyne.Window) string {
	top := w.Canvas().Overlays().Top()
	if top == nil {
		return ""
	}
	s := ""
	for _, o := range test.LaidOutObjects(top) {
		switch l := o.(type) {
		case *widget.Label:
			s += l.Text + "\n"
		case *widget.RichText:
			s += l.String() + "\n"
		}
	}
	return s
}

var errBoom = errors.New("boom: the file is not an ONNX model; export it again")

// predicter is a fake model of any kind.
type predicter interface{ predict(image.Image) Prediction }
