package onnxmodel

import (
	"context"
	"fmt"
	"sync"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/onnxgrad"
	"github.com/advlab/advlab/engine/onnxrt"
	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"
)

// runner holds a model's ONNX Runtime sessions, created on first use.
type runner struct {
	mu      sync.Mutex
	forward *ort.DynamicAdvancedSession
	grads   map[engine.LossKind]*ort.DynamicAdvancedSession
	// notesMu guards notes, apart from mu, which is held while a gradient
	// session's graph is exported.
	notesMu sync.Mutex
	// notes are the gradient graphs' remarks per loss, once exported.
	notes map[engine.LossKind][]string
	// features are the gradient graphs that also output a feature map,
	// and feature the default feature map once found (feature.go).
	features map[featureKey]*ort.DynamicAdvancedSession
	feature  string
}

func (m *Model) forwardSession() (*ort.DynamicAdvancedSession, error) {
	m.runner.mu.Lock()
	defer m.runner.mu.Unlock()
	if m.runner.forward != nil {
		return m.runner.forward, nil
	}
	data, err := proto.Marshal(m.proto)
	if err != nil {
		return nil, fmt.Errorf("serialising %s: %w", m.name, err)
	}
	s, err := onnxrt.NewSession(data, []string{m.input.Name}, []string{logitsName})
	if err != nil {
		return nil, fmt.Errorf("loading %s into ONNX Runtime: %w", m.name, err)
	}
	m.runner.forward = s
	return s, nil
}

// GradientGraph exports the model's gradient graph for loss as serialised
// ONNX, and keeps what the export reports for GradientNotes.
func (m *Model) GradientGraph(loss engine.LossKind) ([]byte, error) {
	g, rep, err := onnxgrad.ExportReport(m.proto, m.GraphSpec(), loss)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.name, err)
	}
	data, err := proto.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("serialising the gradient graph of %s: %w", m.name, err)
	}
	m.runner.notesMu.Lock()
	defer m.runner.notesMu.Unlock()
	if m.runner.notes == nil {
		m.runner.notes = map[engine.LossKind][]string{}
	}
	m.runner.notes[loss] = rep.Notes()
	return data, nil
}

// GradientNotes returns the remarks on the gradient graph for loss, one line
// each, e.g. "gradient: straight-through through 21
// QuantizeLinear/DequantizeLinear pairs" where the model's own gradient is
// zero and advlab differentiates a continuous stand-in instead; none when the
// gradient is exact. It exports the graph when no attack has yet, so it
// fails (onnxgrad.ErrNoGradient among others) where the gradient graph does.
func (m *Model) GradientNotes(loss engine.LossKind) ([]string, error) {
	m.runner.notesMu.Lock()
	notes, ok := m.runner.notes[loss]
	m.runner.notesMu.Unlock()
	if !ok {
		if _, err := m.GradientGraph(loss); err != nil {
			return nil, err
		}
		m.runner.notesMu.Lock()
		notes = m.runner.notes[loss]
		m.runner.notesMu.Unlock()
	}
	return append([]string(nil), notes...), nil
}

func (m *Model) gradientSession(loss engine.LossKind) (*ort.DynamicAdvancedSession, error) {
	m.runner.mu.Lock()
	defer m.runner.mu.Unlock()
	if s := m.runner.grads[loss]; s != nil {
		return s, nil
	}
	data, err := m.GradientGraph(loss)
	if err != nil {
		return nil, err
	}
	s, err := onnxrt.NewSession(data, []string{m.input.Name, "target"}, []string{"logits", "loss", "grad"})
	if err != nil {
		return nil, fmt.Errorf("loading the gradient graph of %s into ONNX Runtime: %w", m.name, err)
	}
	if m.runner.grads == nil {
		m.runner.grads = map[engine.LossKind]*ort.DynamicAdvancedSession{}
	}
	m.runner.grads[loss] = s
	return s, nil
}

// Close releases the model's ONNX Runtime sessions. The model may be used
// again afterwards; sessions are then recreated.
func (m *Model) Close() error {
	m.runner.mu.Lock()
	defer m.runner.mu.Unlock()
	var first error
	if m.runner.forward != nil {
		first = m.runner.forward.Destroy()
		m.runner.forward = nil
	}
	for k, s := range m.runner.grads {
		if err := s.Destroy(); err != nil && first == nil {
			first = err
		}
		delete(m.runner.grads, k)
	}
	for k, s := range m.runner.features {
		if err := s.Destroy(); err != nil && first == nil {
			first = err
		}
		delete(m.runner.features, k)
	}
	return first
}

// checkBatch validates a batch of n NCHW images against the model.
func (m *Model) checkBatch(images []float32, n int) error {
	size := m.input.Size()
	if n <= 0 || len(images) != n*size {
		return fmt.Errorf("%s: batch of %d floats is not %d images of %dx%dx%d", m.name, len(images), n, m.input.Channels, m.input.Height, m.input.Width)
	}
	return nil
}

// inputTensor lays out n NCHW images in the model's layout, applying fn to
// each value (preprocessing, or none).
func (m *Model) inputTensor(images []float32, n int, fn func(c int, x float32) float32) (*ort.Tensor[float32], error) {
	c, h, w := m.input.Channels, m.input.Height, m.input.Width
	buf := make([]float32, len(images))
	var shape ort.Shape
	if m.input.Layout == onnxgrad.NHWC {
		shape = ort.NewShape(int64(n), int64(h), int64(w), int64(c))
		for i := 0; i < n; i++ {
			img := images[i*c*h*w : (i+1)*c*h*w]
			out := buf[i*c*h*w : (i+1)*c*h*w]
			for ch := 0; ch < c; ch++ {
				for p := 0; p < h*w; p++ {
					out[p*c+ch] = fn(ch, img[ch*h*w+p])
				}
			}
		}
	} else {
		shape = ort.NewShape(int64(n), int64(c), int64(h), int64(w))
		for i := range images {
			buf[i] = fn((i/(h*w))%c, images[i])
		}
	}
	return ort.NewTensor(shape, buf)
}

// preprocess maps a [0,1] pixel of channel c to the model's input units.
func (m *Model) preprocess(c int, x float32) float32 {
	p := &m.gpre
	return (x*(p.Range[1]-p.Range[0]) + p.Range[0] - p.Mean[c]) / p.Std[c]
}

// Logits runs the forward pass on n NCHW images in [0,1] and returns n×K
// logits. A model whose graph has a fixed batch runs in chunks of it.
func (m *Model) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	if err := m.checkBatch(images, n); err != nil {
		return nil, err
	}
	k := len(m.labels)
	out := make([]float32, 0, n*k)
	err := m.eachChunk(ctx, images, make([]int64, n), func(x []float32, t []int64, real int) error {
		z, err := m.logits(x, len(t))
		out = append(out, z[:min(len(z), real*k)]...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// logits runs the forward session once.
func (m *Model) logits(images []float32, n int) ([]float32, error) {
	s, err := m.forwardSession()
	if err != nil {
		return nil, err
	}
	in, err := m.inputTensor(images, n, m.preprocess)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.name, err)
	}
	defer in.Destroy()
	out := []ort.Value{nil}
	if err := onnxrt.Run(s, []ort.Value{in}, out); err != nil {
		return nil, fmt.Errorf("running %s: %w", m.name, err)
	}
	defer out[0].Destroy()
	logits, err := floatData(out[0], n*len(m.labels))
	if err != nil {
		return nil, fmt.Errorf("%s logits: %w", m.name, err)
	}
	return logits, nil
}

// Gradient runs the model's gradient graph for loss on the batch: once, or
// once per chunk of a fixed-batch graph.
func (m *Model) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	n := len(targets)
	if err := m.checkBatch(images, n); err != nil {
		return engine.Gradients{}, err
	}
	for _, t := range targets {
		if t < 0 || int(t) >= len(m.labels) {
			return engine.Gradients{}, fmt.Errorf("%s: target class %d outside 0..%d", m.name, t, len(m.labels)-1)
		}
	}
	size, k := m.input.Size(), len(m.labels)
	var g engine.Gradients
	err := m.eachChunk(ctx, images, targets, func(x []float32, t []int64, real int) error {
		c, err := m.gradient(loss, x, t)
		if err != nil {
			return err
		}
		g.Logits = append(g.Logits, c.Logits[:real*k]...)
		g.Loss = append(g.Loss, c.Loss[:real]...)
		g.Grad = append(g.Grad, c.Grad[:real*size]...)
		return nil
	})
	if err != nil {
		return engine.Gradients{}, err
	}
	return g, nil
}

// eachChunk runs run on the batch once, or, for a graph whose batch is
// fixed, once per chunk of that size, the last one padded with copies of
// the last image; real is how many of the chunk's images are the caller's.
func (m *Model) eachChunk(ctx context.Context, images []float32, targets []int64, run func(images []float32, targets []int64, real int) error) error {
	n := len(targets)
	if m.chunk == 0 || n == m.chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		return run(images, targets, n)
	}
	size := m.input.Size()
	for i := 0; i < n; i += m.chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := make([]int64, m.chunk)
		for j := range t {
			t[j] = targets[min(i+j, n-1)]
		}
		if err := run(padChunk(images, i, m.chunk, n, size), t, min(m.chunk, n-i)); err != nil {
			return err
		}
	}
	return nil
}

// gradient runs the gradient session once.
func (m *Model) gradient(loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	n := len(targets)
	s, err := m.gradientSession(loss)
	if err != nil {
		return engine.Gradients{}, err
	}
	in, err := m.inputTensor(images, n, func(_ int, x float32) float32 { return x })
	if err != nil {
		return engine.Gradients{}, fmt.Errorf("%s: %w", m.name, err)
	}
	defer in.Destroy()
	tgt, err := ort.NewTensor(ort.NewShape(int64(n)), append([]int64(nil), targets...))
	if err != nil {
		return engine.Gradients{}, fmt.Errorf("%s: %w", m.name, err)
	}
	defer tgt.Destroy()
	outs := []ort.Value{nil, nil, nil}
	if err := onnxrt.Run(s, []ort.Value{in, tgt}, outs); err != nil {
		return engine.Gradients{}, fmt.Errorf("running the gradient graph of %s: %w", m.name, err)
	}
	defer func() {
		for _, o := range outs {
			o.Destroy()
		}
	}()
	var g engine.Gradients
	if g.Logits, err = floatData(outs[0], n*len(m.labels)); err != nil {
		return engine.Gradients{}, fmt.Errorf("%s logits: %w", m.name, err)
	}
	if g.Loss, err = floatData(outs[1], n); err != nil {
		return engine.Gradients{}, fmt.Errorf("%s loss: %w", m.name, err)
	}
	grad, err := floatData(outs[2], len(images))
	if err != nil {
		return engine.Gradients{}, fmt.Errorf("%s grad: %w", m.name, err)
	}
	g.Grad = m.toNCHW(grad, n)
	return g, nil
}

// toNCHW returns an NCHW copy of a tensor in the model's input layout.
func (m *Model) toNCHW(t []float32, n int) []float32 {
	if m.input.Layout != onnxgrad.NHWC {
		return t
	}
	c, hw := m.input.Channels, m.input.Height*m.input.Width
	out := make([]float32, len(t))
	for i := 0; i < n; i++ {
		src := t[i*c*hw : (i+1)*c*hw]
		dst := out[i*c*hw : (i+1)*c*hw]
		for p := 0; p < hw; p++ {
			for ch := 0; ch < c; ch++ {
				dst[ch*hw+p] = src[p*c+ch]
			}
		}
	}
	return out
}

// floatData copies a float32 output of ONNX Runtime, checking its size.
func floatData(v ort.Value, want int) ([]float32, error) {
	t, ok := v.(*ort.Tensor[float32])
	if !ok {
		return nil, fmt.Errorf("output is %T, not float32", v)
	}
	d := t.GetData()
	if len(d) != want {
		return nil, fmt.Errorf("output has %d values (shape %v), want %d", len(d), t.GetShape(), want)
	}
	return append([]float32(nil), d...), nil
}

// Compile-time check that a Model is a Classifier.
var _ engine.Classifier = (*Model)(nil)
