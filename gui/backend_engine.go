package gui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"sort"
	"sync"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
	"github.com/advlab/advlab/engine/eval"
	"github.com/advlab/advlab/engine/onnxmodel"
	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/imgops"
)

// engineBackend is the Backend of the real application: engine for models,
// image sets and attacks, imgops for patches and export.
type engineBackend struct{}

// NewEngineBackend returns the Backend that runs the engine.
func NewEngineBackend() Backend { return engineBackend{} }

// engineModel is an engine.Model as the workbench sees it. The lock makes
// it safe to share between the canvas's predictions and a running attack:
// engine classifiers are for one goroutine at a time.
type engineModel struct {
	m  *onnxmodel.Model
	mu sync.Mutex
}

func (em *engineModel) Name() string     { return em.m.Name() }
func (em *engineModel) Labels() []string { return em.m.Labels() }

func (em *engineModel) Details() ModelDetails {
	m := em.m
	return ModelDetails{
		Path: m.Path(), Channels: m.Input().Channels, Height: m.Input().Height, Width: m.Input().Width,
		Layout: string(m.Input().Layout), Preprocessing: m.Info().Preprocessing,
		Architecture: m.Config().Architecture, Parameters: m.Config().Parameters,
		Findings: findings(m.Info()),
	}
}

// findings lists what loading the model found and chose, as inspect does.
func findings(info onnxmodel.Info) []string {
	var out []string
	if info.Upgrade != "" {
		out = append(out, "Opset: "+info.Upgrade)
	}
	out = append(out, "Batch: "+info.Batching, "Output: "+string(info.Output)+" — "+info.OutputFrom, "Labels: "+info.Labels)
	for _, n := range info.Notes {
		out = append(out, "Note: "+n)
	}
	return out
}

// locked is an engine.Classifier that takes the model's lock for every call,
// so that an attack and the canvas's predictions can interleave.
type locked struct{ em *engineModel }

func (l locked) Name() string                  { return l.em.m.Name() }
func (l locked) Labels() []string              { return l.em.m.Labels() }
func (l locked) InputShape() engine.ImageShape { return l.em.m.InputShape() }

func (l locked) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	l.em.mu.Lock()
	defer l.em.mu.Unlock()
	return l.em.m.Logits(ctx, images, n)
}

func (l locked) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	l.em.mu.Lock()
	defer l.em.mu.Unlock()
	return l.em.m.Gradient(ctx, loss, images, targets)
}

func asEngine(m Model) (*engineModel, error) {
	em, ok := m.(*engineModel)
	if !ok {
		return nil, fmt.Errorf("model %q was not loaded by the engine", m.Name())
	}
	return em, nil
}

// DemoModel loads the embedded demo model.
func (engineBackend) DemoModel(ctx context.Context) (Model, error) {
	m, err := onnxmodel.Default()
	if err != nil {
		return nil, fmt.Errorf("loading the demo model: %w; open an .onnx model with File › Open model", err)
	}
	return checkModel(ctx, m)
}

// LoadModel loads an ONNX classifier and runs it once on a grey image, so
// that a graph ONNX Runtime cannot run (an unsupported operator) fails here,
// in the open dialog, rather than at the first prediction.
func (engineBackend) LoadModel(ctx context.Context, path string) (Model, error) {
	m, err := onnxmodel.Load(path)
	if err != nil {
		return nil, err
	}
	em, err := checkModel(ctx, m)
	return em, err
}

func checkModel(ctx context.Context, m *onnxmodel.Model) (Model, error) {
	x := make([]float32, m.InputShape().Size())
	for i := range x {
		x[i] = 0.5
	}
	if _, err := m.Logits(ctx, x, 1); err != nil {
		m.Close()
		return nil, err
	}
	return &engineModel{m: m}, nil
}

// CloseModel releases the model's ONNX Runtime sessions.
func (engineBackend) CloseModel(m Model) {
	if em, err := asEngine(m); err == nil {
		em.mu.Lock()
		em.m.Close()
		em.mu.Unlock()
	}
}

// Predict resizes img to the model's input and returns its softmax.
func (engineBackend) Predict(ctx context.Context, m Model, img image.Image) (Prediction, error) {
	em, err := asEngine(m)
	if err != nil {
		return Prediction{}, err
	}
	s := em.m.InputShape()
	x, _ := imgops.ImageToTensor(img, s.Channels, s.Height, s.Width)
	z, err := locked{em}.Logits(ctx, x, 1)
	if err != nil {
		return Prediction{}, err
	}
	return predictionOf(z), nil
}

// predictionOf is the prediction of one row of logits.
func predictionOf(z []float32) Prediction {
	p := engine.Softmax(z)
	probs := make([]float32, len(p))
	for i, v := range p {
		probs[i] = float32(v)
	}
	return Prediction{Probs: probs}
}

// DemoImages returns the embedded demo samples: held-out images of the demo
// model's classes, in its label folders.
func (engineBackend) DemoImages(ctx context.Context) (*ImageSet, error) {
	ds, err := engine.DefaultSamples()
	if err != nil {
		return nil, fmt.Errorf("%w; open a folder of images with File › Open image folder", err)
	}
	return imageSetOf(demoSetName, ds), nil
}

// LoadImages reads an ImageFolder folder, or one image file.
func (engineBackend) LoadImages(ctx context.Context, path string) (*ImageSet, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading images: %w", err)
	}
	var ds *engine.Dataset
	if st.IsDir() {
		ds, err = engine.LoadImageFolder(path)
	} else {
		ds, err = engine.LoadImageFiles([]string{path})
	}
	if err != nil && errors.Is(err, engine.ErrUnreadableImage) {
		// The engine names the file; say what to do with it.
		return nil, fmt.Errorf("%w; convert it to PNG or JPEG, or move it out of the folder, and open the images again", err)
	}
	if err != nil {
		return nil, err
	}
	return imageSetOf(path, ds), nil
}

func imageSetOf(name string, ds *engine.Dataset) *ImageSet {
	set := &ImageSet{Name: name, Notes: ds.Notes}
	for _, it := range ds.Items {
		set.Samples = append(set.Samples, Sample{Name: it.Rel, Class: it.Class, Image: it.Image})
	}
	return set
}

// tensorOf lays samples out as one NCHW batch of shape.
func tensorOf(samples []Sample, s engine.ImageShape) []float32 {
	size := s.Size()
	x := make([]float32, len(samples)*size)
	for i, sm := range samples {
		t, _ := imgops.ImageToTensor(sm.Image, s.Channels, s.Height, s.Width)
		copy(x[i*size:], t)
	}
	return x
}

// imagesOf returns the n images of an NCHW batch.
func imagesOf(x []float32, n int, s engine.ImageShape) ([]image.Image, error) {
	out := make([]image.Image, n)
	for i := range out {
		img, err := imgops.TensorToImage(x[i*s.Size():(i+1)*s.Size()], s.Channels, s.Height, s.Width)
		if err != nil {
			return nil, err
		}
		out[i] = img
	}
	return out, nil
}

// RunAttack crafts adversarials against the source model with the engine's
// attacks, built from the attack registry (or pastes the patch), and
// evaluates clean, adversarial and 8-bit adversarial images on every model
// with engine/eval.
func (b engineBackend) RunAttack(ctx context.Context, req AttackRequest, progress func(AttackProgress)) (*AttackResult, error) {
	src, err := asEngine(req.Source)
	if err != nil {
		return nil, err
	}
	if len(req.Samples) == 0 {
		return nil, errors.New("no images to attack; open an image folder first")
	}
	batch := req.Batch
	if batch <= 0 {
		batch = 16
	}
	res := &AttackResult{Method: req.Method, Models: req.Models, Source: -1}
	for i, m := range req.Models {
		if m == req.Source {
			res.Source = i
		}
	}
	if res.Source < 0 {
		res.Models = append([]Model{req.Source}, req.Models...)
		res.Source = 0
	}
	models, err := evalModels(res.Models, req.Samples)
	if err != nil {
		return nil, err
	}
	opts := &eval.Options{Batch: batch}
	if progress != nil {
		opts.Progress = func(_ int, p attack.Progress) {
			text := fmt.Sprintf("%s: batch %d/%d, step %d/%d, %d/%d fooled", p.Attack, p.Batch, p.Batches, p.Step, p.Steps, p.Succeeded, p.Images)
			if p.Phase != "" {
				text += ", " + p.Phase
			}
			progress(AttackProgress{Fraction: p.Fraction, Text: text})
		}
	}
	shape := src.m.InputShape()
	var rep *eval.Report
	var runErr error
	if req.Method == MethodPatch {
		adv, err := pastePatch(req, models[res.Source].Images, shape)
		if err != nil {
			return nil, err
		}
		rep, runErr = eval.Perturbed(ctx, MethodPatch, adv, models, res.Source, req.Target, opts)
	} else {
		a, err := attack.New(req.Method, req.Params)
		if err != nil {
			return nil, err
		}
		rep, runErr = eval.Attack(ctx, a, models, res.Source, req.Target, opts)
	}
	if rep == nil || len(rep.Images) == 0 {
		if runErr == nil {
			runErr = errors.New("the attack returned no images")
		}
		return nil, runErr
	}
	n := len(rep.Images)
	cleanImgs, err := imagesOf(models[res.Source].Images, n, shape)
	if err != nil {
		return nil, err
	}
	advImgs, err := imagesOf(rep.Adversarial, n, shape)
	if err != nil {
		return nil, err
	}
	res.Items = make([]AttackItem, n)
	for i, im := range rep.Images {
		it := AttackItem{Sample: i, Clean: cleanImgs[i], Adversarial: advImgs[i], L2: im.L2, Linf: im.Linf,
			Success: im.Success, RoundedSuccess: im.On[res.Source].FooledRounded}
		for _, o := range im.On {
			it.CleanPred = append(it.CleanPred, predictionOf(o.CleanLogits))
			it.AdvPred = append(it.AdvPred, predictionOf(o.AdvLogits))
			it.RoundedPred = append(it.RoundedPred, predictionOf(o.RoundedLogits))
		}
		res.Items[i] = it
	}
	return res, runErr
}

// evalModels lays the samples out for every model, each behind its lock;
// a sample's class folder is its true class where the model has that class.
func evalModels(ms []Model, samples []Sample) ([]eval.Model, error) {
	out := make([]eval.Model, len(ms))
	for j, m := range ms {
		em, err := asEngine(m)
		if err != nil {
			return nil, err
		}
		labels := make([]int, len(samples))
		for i, sm := range samples {
			labels[i] = -1
			if sm.Class != "" {
				if k, err := engine.ClassIndex(em.m.Labels(), sm.Class); err == nil {
					labels[i] = k
				}
			}
		}
		out[j] = eval.Model{Classifier: locked{em}, Images: tensorOf(samples, em.m.InputShape()), Labels: labels}
	}
	return out, nil
}

// pastePatch applies req.Patch at req.Placement to every image of x.
func pastePatch(req AttackRequest, x []float32, s engine.ImageShape) ([]float32, error) {
	if req.Patch == nil {
		return nil, errors.New("no patch: train one in the Patch tab or open a patch file")
	}
	n := len(x) / s.Size()
	ts := make([]imgops.Transform, n)
	for i := range ts {
		ts[i] = req.Placement.Transform(req.Patch, s.Width, s.Height)
	}
	comp, err := imgops.Apply(req.Patch, x, n, s.Channels, s.Height, s.Width, ts)
	if err != nil {
		return nil, err
	}
	return comp.Images, nil
}

// datasetOf makes an engine dataset of the workbench's samples (their class
// folders are the true labels).
func datasetOf(samples []Sample) *engine.Dataset {
	ds := &engine.Dataset{}
	seen := map[string]bool{}
	for _, s := range samples {
		ds.Items = append(ds.Items, engine.DatasetItem{Rel: s.Name, Class: s.Class, Image: s.Image})
		if s.Class != "" && !seen[s.Class] {
			seen[s.Class] = true
			ds.Classes = append(ds.Classes, s.Class)
		}
	}
	sort.Strings(ds.Classes)
	return ds
}

// classifiers returns the models as engine classifiers, each behind its lock.
func classifiers(ms []Model) ([]engine.Classifier, error) {
	out := make([]engine.Classifier, len(ms))
	for i, m := range ms {
		em, err := asEngine(m)
		if err != nil {
			return nil, err
		}
		out[i] = locked{em}
	}
	return out, nil
}

// patchOptions translates the Patch tab's request into the engine's options.
func patchOptions(req TrainRequest) (patch.Options, error) {
	o := patch.DefaultOptions()
	o.Target = req.Target
	o.Width, o.Height = req.Size, req.Size
	o.Shape = req.Mask
	if req.Mask == imgops.MaskAlpha {
		f, err := os.Open(req.MaskPath)
		if err != nil {
			return o, fmt.Errorf("reading the mask outline: %w", err)
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			return o, fmt.Errorf("reading the mask outline %s: %w; choose a PNG with transparency", req.MaskPath, err)
		}
		// The outline's aspect ratio, its longer side Size pixels.
		b := img.Bounds()
		if b.Dx() >= b.Dy() {
			o.Height = max(1, int(math.Round(float64(req.Size)*float64(b.Dy())/float64(b.Dx()))))
		} else {
			o.Width = max(1, int(math.Round(float64(req.Size)*float64(b.Dx())/float64(b.Dy()))))
		}
		o.MaskImage = img
	}
	o.Transforms.MaxAngleDeg = req.MaxAngleDeg
	o.Transforms.ScaleMode = imgops.AreaFraction
	o.Transforms.ScaleMin, o.Transforms.ScaleMax = req.ScaleMin, req.ScaleMax
	o.Steps, o.BatchSize, o.LearningRate = req.Steps, req.Batch, req.LearningRate
	o.TVWeight, o.NPSWeight = req.TVWeight, req.NPSWeight
	o.Seed = req.Seed
	if req.Init != nil && req.Init.W == o.Width && req.Init.H == o.Height {
		o.Init = req.Init
	}
	return o, nil
}

// TrainPatch trains a patch with the engine's expectation over
// transformation (patch.Train) against req.Models, an ensemble when
// several, and hands back the engine's progress and result unchanged. When
// ctx is cancelled it returns the last completed patch.
func (engineBackend) TrainPatch(ctx context.Context, req TrainRequest, progress func(patch.Progress)) (*patch.Result, error) {
	cs, err := classifiers(req.Models)
	if err != nil {
		return nil, err
	}
	o, err := patchOptions(req)
	if err != nil {
		return nil, err
	}
	return patch.Train(ctx, cs, datasetOf(req.Samples), o, progress)
}

// EvaluatePatch measures the patch with engine.EvaluatePatch: the targeted
// success rate at each area fraction, or the untargeted error when req has
// no target, for every model, beside a noise patch of the same size.
func (engineBackend) EvaluatePatch(ctx context.Context, req EvalRequest, progress func(float64)) ([]EvalCurve, error) {
	cs, err := classifiers(req.Models)
	if err != nil {
		return nil, err
	}
	o := patch.EvalOptions{
		Target: req.Target, Scales: req.Areas, Placements: req.Placements, Seed: req.Seed,
		Transforms: imgops.Options{MaxAngleDeg: req.MaxAngleDeg, ScaleMode: imgops.AreaFraction},
	}
	rep, err := patch.Evaluate(ctx, cs, datasetOf(req.Samples), req.Patch, o, progress)
	if err != nil {
		return nil, err
	}
	var out []EvalCurve
	for _, c := range rep.Curves {
		ec := EvalCurve{Model: c.Model}
		for _, pt := range c.Points {
			ec.Areas = append(ec.Areas, pt.AreaFraction)
			if req.Target != "" {
				ec.SuccessRate = append(ec.SuccessRate, pt.SuccessRate)
				ec.Control = append(ec.Control, pt.ControlSuccessRate)
			} else {
				ec.SuccessRate = append(ec.SuccessRate, pt.Error)
				ec.Control = append(ec.Control, pt.ControlError)
			}
		}
		out = append(out, ec)
	}
	return out, nil
}

// LoadPatch reads a patch file.
func (engineBackend) LoadPatch(path string) (*imgops.Patch, imgops.PatchMeta, error) {
	p, meta, err := imgops.LoadPatch(path)
	if err != nil {
		return nil, meta, fmt.Errorf("%w; open a patch saved by advlab (File › Save patch) or a PNG whose transparency outlines the patch", err)
	}
	return p, meta, nil
}

// SavePatch writes a patch file.
func (engineBackend) SavePatch(path string, p *imgops.Patch, meta imgops.PatchMeta) error {
	return imgops.SavePatch(path, p, meta)
}

// ExportPatch writes a printable PDF page or a PNG with its DPI.
func (engineBackend) ExportPatch(path string, p *imgops.Patch, meta imgops.PatchMeta, s PrintSettings) error {
	paper, err := imgops.ParsePaper(s.Paper)
	if err != nil {
		return err
	}
	o := imgops.PrintOptions{SizeMM: s.SizeMM, DPI: s.DPI, Paper: paper}
	if s.Format == "pdf" {
		return imgops.WritePDF(path, p, meta, o)
	}
	return imgops.WritePrintPNG(path, p, meta, o)
}

// SaveImage writes img as a PNG.
func (engineBackend) SaveImage(path string, img image.Image) error {
	return imgops.WritePNG(path, img, 0, nil)
}
