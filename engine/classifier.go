package engine

import "context"

// LossKind selects the scalar, per-sample loss that a gradient graph
// differentiates with respect to the input image.
type LossKind int

const (
	// CrossEntropy is −log softmax(z)[t], the loss of Szegedy et al. and of
	// FGSM/PGD; descending it pushes the image towards class t.
	CrossEntropy LossKind = iota
	// Margin is the Carlini–Wagner margin max_{j≠t} z_j − z_t; it is negative
	// exactly when t is the top-1 class.
	Margin
	// Logit is z_t itself, the logit of class t. DeepFool builds its linear
	// model of the decision boundaries from these gradients.
	Logit
)

// String returns the loss's name as the CLI spells it.
func (l LossKind) String() string {
	switch l {
	case CrossEntropy:
		return "ce"
	case Margin:
		return "margin"
	case Logit:
		return "logit"
	}
	return "unknown"
}

// ImageShape is the size of the images a classifier takes, in NCHW order
// without the batch dimension.
type ImageShape struct {
	Channels, Height, Width int
}

// Size returns the number of float32 values in one image.
func (s ImageShape) Size() int { return s.Channels * s.Height * s.Width }

// Gradients is the result of one fused forward and backward run.
type Gradients struct {
	Logits []float32 // n×K logits, row-major
	Loss   []float32 // n per-sample losses
	Grad   []float32 // gradient of the sum of Loss with respect to the images, NCHW
}

// Classifier is an image classifier seen in [0,1] pixel space. Images are
// float32 NCHW batches of n images of InputShape; logits are n×K row-major.
// It is what attacks and patch training need of a model, so they can be tested
// against small closed-form classifiers as well as ONNX models.
// Implementations are safe for use by one goroutine at a time.
type Classifier interface {
	// Name is a short, human name for reports ("signs-resnet").
	Name() string
	// Labels are the class names, index = class.
	Labels() []string
	// InputShape is the size of one input image.
	InputShape() ImageShape
	// Logits runs the forward pass on n images.
	Logits(ctx context.Context, images []float32, n int) ([]float32, error)
	// Gradient runs the forward and backward pass once for the batch, with one
	// target class per image (len(targets) is the batch size).
	Gradient(ctx context.Context, loss LossKind, images []float32, targets []int64) (Gradients, error)
}

// Rejecter is a Classifier that can refuse an input, such as a detector of
// adversarial examples: one of its classes means "rejected". An attack whose
// adversarial is rejected has failed, whatever its goal, so attacks and
// evaluation count that class as meeting no goal.
type Rejecter interface {
	// RejectClass is the index of the "rejected" class among Labels.
	RejectClass() int
}

// RejectClass returns c's rejected class, or -1 when c never rejects.
func RejectClass(c Classifier) int {
	if r, ok := c.(Rejecter); ok {
		return r.RejectClass()
	}
	return -1
}
