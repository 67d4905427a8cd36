// Package enginebackend is the workbench's engine: it implements the gui
// package's Backend interfaces with engine/onnxmodel for models, engine/attack
// and engine/eval for adversarial examples, engine/patch for patches and
// imgops for patch files and printing. cmd/advlab hands it to gui.New, so
// that the compiler keeps the GUI on its side of those interfaces: gui never
// imports ONNX Runtime or the gradient graphs, and its tests run on fakes.
package enginebackend

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"sync"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/onnxmodel"
	"github.com/advlab/advlab/gui"
	"github.com/advlab/advlab/imgops"
)

// Backend is the gui.Backend of the real application. Its zero value is
// ready; the models it loads hold their own ONNX Runtime sessions.
type Backend struct{}

var _ gui.Backend = Backend{}

// New returns the Backend that runs the engine.
func New() Backend { return Backend{} }

// engineModel is an onnxmodel.Model as the workbench sees it. The lock makes
// it safe to share between the canvas's predictions and a running attack:
// engine classifiers are for one goroutine at a time.
type engineModel struct {
	m  *onnxmodel.Model
	mu sync.Mutex
}

func (em *engineModel) Name() string     { return em.m.Name() }
func (em *engineModel) Labels() []string { return em.m.Labels() }

func (em *engineModel) Details() gui.ModelDetails {
	m := em.m
	return gui.ModelDetails{
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

// locked is an engine.Classifier that takes a model's lock for every call,
// so that an attack and the canvas's predictions can interleave.
type locked struct {
	mu *sync.Mutex
	c  engine.Classifier
}

// lockedModel is em's engine model behind em's lock.
func lockedModel(em *engineModel) locked { return locked{&em.mu, em.m} }

func (l locked) Name() string                  { return l.c.Name() }
func (l locked) Labels() []string              { return l.c.Labels() }
func (l locked) InputShape() engine.ImageShape { return l.c.InputShape() }

func (l locked) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.Logits(ctx, images, n)
}

func (l locked) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.Gradient(ctx, loss, images, targets)
}

// asEngine is the engine model behind m, bare or defended.
func asEngine(m gui.Model) (*engineModel, error) {
	if dm, ok := m.(*defendedModel); ok {
		return dm.em, nil
	}
	em, ok := m.(*engineModel)
	if !ok {
		return nil, fmt.Errorf("model %q was not loaded by the engine", m.Name())
	}
	return em, nil
}

// DemoModel loads the embedded demo model.
func (Backend) DemoModel(ctx context.Context) (gui.Model, error) {
	m, err := onnxmodel.Default()
	if err != nil {
		return nil, fmt.Errorf("loading the demo model: %w; open an .onnx model with File › Open model", err)
	}
	return checkModel(ctx, m)
}

// LoadModel loads an ONNX classifier and runs it once on a grey image, so
// that a graph ONNX Runtime cannot run (an unsupported operator) fails here,
// in the open dialog, rather than at the first prediction.
func (Backend) LoadModel(ctx context.Context, path string) (gui.Model, error) {
	m, err := onnxmodel.Load(path)
	if err != nil {
		// Load runs the model on a probe batch itself, where ONNX Runtime
		// refuses an unknown operator.
		return nil, err
	}
	em, err := checkModel(ctx, m)
	return em, err
}

func checkModel(ctx context.Context, m *onnxmodel.Model) (gui.Model, error) {
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
func (Backend) CloseModel(m gui.Model) {
	if em, err := asEngine(m); err == nil {
		em.mu.Lock()
		em.m.Close()
		em.mu.Unlock()
	}
}

// Predict resizes img to the model's input and returns its softmax (through
// the model's defense, if any).
func (Backend) Predict(ctx context.Context, m gui.Model, img image.Image) (gui.Prediction, error) {
	c, err := classifierOf(m)
	if err != nil {
		return gui.Prediction{}, err
	}
	s := c.InputShape()
	x, _ := imgops.ImageToTensor(img, s.Channels, s.Height, s.Width)
	z, err := c.Logits(ctx, x, 1)
	if err != nil {
		return gui.Prediction{}, err
	}
	return gui.PredictionOf(z), nil
}

// DemoImages returns the embedded demo samples: held-out images of the demo
// model's classes, in its label folders.
func (Backend) DemoImages(ctx context.Context) (*gui.ImageSet, error) {
	ds, err := engine.DefaultSamples()
	if err != nil {
		return nil, fmt.Errorf("%w; open a folder of images with File › Open image folder", err)
	}
	return imageSetOf(gui.DemoSetName, ds), nil
}

// LoadImages reads an ImageFolder folder, or one image file.
func (Backend) LoadImages(ctx context.Context, path string) (*gui.ImageSet, error) {
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

func imageSetOf(name string, ds *engine.Dataset) *gui.ImageSet {
	set := &gui.ImageSet{Name: name, Notes: ds.Notes}
	for _, it := range ds.Items {
		set.Samples = append(set.Samples, gui.Sample{Name: it.Rel, Class: it.Class, Image: it.Image})
	}
	return set
}
