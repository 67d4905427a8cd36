package defense

import (
	"context"
	"fmt"

	"github.com/advlab/advlab/engine"
)

// Transformed is a classifier that classifies T(x) with the classifier it
// wraps. Its Gradient is the wrapped model's gradient at T(x) carried back
// through T: by T's adjoint where T is differentiable, and unchanged
// (straight through, BPDA) where it is not.
type Transformed struct {
	inner engine.Classifier
	name  string
	apply transform
	// adjoint maps the gradient at T(x) to the gradient at x; nil is the
	// straight-through estimator, T's derivative taken as the identity.
	adjoint func(g []float32, shape engine.ImageShape) []float32
}

// Inner returns the classifier the defense wraps.
func (t *Transformed) Inner() engine.Classifier { return t.inner }

// Name is the wrapped model's name and the defense's ("signs-resnet+jpeg75").
func (t *Transformed) Name() string { return t.inner.Name() + "+" + t.name }

// Labels are the wrapped model's.
func (t *Transformed) Labels() []string { return t.inner.Labels() }

// InputShape is the wrapped model's.
func (t *Transformed) InputShape() engine.ImageShape { return t.inner.InputShape() }

// BPDA reports whether the gradient is the straight-through approximation
// rather than the exact one.
func (t *Transformed) BPDA() bool { return t.adjoint == nil }

// Transform returns T(images), the input the wrapped model sees.
func (t *Transformed) Transform(images []float32) ([]float32, error) {
	if err := checkBatch(t.Name(), t.InputShape(), images, -1); err != nil {
		return nil, err
	}
	return t.apply(images, t.InputShape())
}

// Logits classifies T(images).
func (t *Transformed) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	if err := checkBatch(t.Name(), t.InputShape(), images, n); err != nil {
		return nil, err
	}
	x, err := t.apply(images, t.InputShape())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name(), err)
	}
	return t.inner.Logits(ctx, x, n)
}

// Gradient runs the wrapped model on T(images) and carries its gradient
// back to images.
func (t *Transformed) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	if err := checkBatch(t.Name(), t.InputShape(), images, len(targets)); err != nil {
		return engine.Gradients{}, err
	}
	x, err := t.apply(images, t.InputShape())
	if err != nil {
		return engine.Gradients{}, fmt.Errorf("%s: %w", t.Name(), err)
	}
	g, err := t.inner.Gradient(ctx, loss, x, targets)
	if err != nil {
		return g, err
	}
	if t.adjoint != nil {
		g.Grad = t.adjoint(g.Grad, t.InputShape())
	}
	return g, nil
}

// checkBatch rejects a batch that is not n whole images of shape (n < 0:
// any whole number of images).
func checkBatch(name string, shape engine.ImageShape, images []float32, n int) error {
	size := shape.Size()
	if size == 0 || len(images)%size != 0 || len(images) == 0 || (n >= 0 && len(images) != n*size) {
		return fmt.Errorf("%s: %d floats are not %d images of %dx%dx%d; pass whole NCHW images", name, len(images), max(n, 0), shape.Channels, shape.Height, shape.Width)
	}
	return nil
}
