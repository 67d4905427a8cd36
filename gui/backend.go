package gui

import (
	"context"
	"image"
	"math"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/eval"
	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/imgops"
)

// The workbench reaches the engine only through the small interfaces of this
// file. Package gui/enginebackend implements them with engine and imgops;
// the tests implement them with fakes, so that every panel can be driven
// without ONNX Runtime.

// Backend is everything the workbench asks of the engine.
type Backend interface {
	ModelLoader
	ImageLoader
	Attacker
	PatchTrainer
	PatchEvaluator
	Defender
	PatchSweeper
	Explainer
	Exporter
}

// Model is a loaded classifier as the workbench shows it. The backend that
// loaded it is the only one that may run it.
type Model interface {
	// Name is the model's short name.
	Name() string
	// Labels are its class names, index = class.
	Labels() []string
	// Details say what the model expects: input size, preprocessing, origin.
	Details() ModelDetails
}

// ModelDetails describe a model for the models panel.
type ModelDetails struct {
	// Path is the .onnx file ("" for the embedded demo model).
	Path string
	// Channels, Height and Width are the size of one input image.
	Channels, Height, Width int
	// Layout is NCHW or NHWC.
	Layout string
	// Preprocessing says in one line how [0,1] pixels become the model's
	// input ("x·255 − mean / std", "none").
	Preprocessing string
	// Architecture and Parameters come from the model's sidecar, if any.
	Architecture string
	Parameters   int64
	// Findings are what the engine found and chose when it loaded the model
	// (as `advlab inspect` says it), one "what: finding" line each: the opset
	// translation, batching, output kind, labels, and notes on any guess.
	Findings []string
}

// ModelLoader opens and runs classifiers.
type ModelLoader interface {
	// DemoModel loads the embedded demo model.
	DemoModel(ctx context.Context) (Model, error)
	// LoadModel loads an ONNX classifier from path.
	LoadModel(ctx context.Context, path string) (Model, error)
	// CloseModel releases a model's resources.
	CloseModel(m Model)
	// Predict classifies img (any size: it is resized to the model's input)
	// and returns the class probabilities.
	Predict(ctx context.Context, m Model, img image.Image) (Prediction, error)
}

// Sample is one image of an image set.
type Sample struct {
	// Name is the image's path relative to the set's folder ("stop/0001.png").
	Name string
	// Class is the class folder the image sits in ("" when unknown).
	Class string
	// Image is the decoded image at its own size.
	Image image.Image
}

// ImageSet is a folder of images in the ImageFolder layout
// (DIR/<class>/<image>), or the demo samples.
type ImageSet struct {
	// Name is what the workbench calls the set: the folder or "demo samples".
	Name string
	// Samples are the images, in the loader's order.
	Samples []Sample
	// Notes are remarks of the loader (skipped files, …).
	Notes []string
}

// ImageLoader reads image sets.
type ImageLoader interface {
	// DemoImages returns the embedded demo sample images.
	DemoImages(ctx context.Context) (*ImageSet, error)
	// LoadImages reads an ImageFolder folder, or a single image file.
	LoadImages(ctx context.Context, path string) (*ImageSet, error)
}

// Prediction is a model's class probabilities for one image.
type Prediction struct {
	// Probs are softmax probabilities, index = class.
	Probs []float32
}

// PredictionOf is the prediction of one row of a model's logits: their
// softmax.
func PredictionOf(logits []float32) Prediction {
	p := engine.Softmax(logits)
	probs := make([]float32, len(p))
	for i, v := range p {
		probs[i] = float32(v)
	}
	return Prediction{Probs: probs}
}

// Ranked is one class of a prediction's ranking.
type Ranked struct {
	Class int
	Prob  float32
}

// Top returns the k most probable classes, most probable first.
func (p Prediction) Top(k int) []Ranked {
	idx := engine.TopK(p.Probs, k)
	r := make([]Ranked, len(idx))
	for i, c := range idx {
		r[i] = Ranked{Class: c, Prob: p.Probs[c]}
	}
	return r
}

// Class returns the most probable class, or -1 for an empty prediction.
func (p Prediction) Class() int { return engine.Argmax(p.Probs) }

// Placement is where the patch lies on an image, in units that do not depend
// on the image's size, so that it survives a change of image.
type Placement struct {
	// CX and CY are the patch's centre as fractions of the image's width
	// and height.
	CX, CY float64
	// Area is the fraction of the image's area the patch's mask covers
	// (Brown et al.'s "scale").
	Area float64
	// AngleDeg is the rotation in degrees, counter-clockwise on screen.
	AngleDeg float64
}

// DefaultPlacement is a patch covering a tenth of the image, in its centre.
var DefaultPlacement = Placement{CX: 0.5, CY: 0.5, Area: 0.1}

// Transform returns the patch operator's transform placing p on a w×h image.
func (pl Placement) Transform(p *imgops.Patch, w, h int) imgops.Transform {
	return imgops.Transform{
		AngleRad: pl.AngleDeg * math.Pi / 180,
		Scale:    imgops.ScaleForAreaFraction(p, w, h, pl.Area),
		CX:       pl.CX * float64(w),
		CY:       pl.CY * float64(h),
	}
}

// Attack methods the Attack panel offers, in its order. "patch" is not an
// optimisation: it pastes the current patch at the current placement.
const (
	MethodLBFGS    = "lbfgs"
	MethodFGSM     = "fgsm"
	MethodPGD      = "pgd"
	MethodCW       = "cw"
	MethodDeepFool = "deepfool"
	MethodSquare   = "square"
	MethodPatch    = "patch"
)

// AttackRequest asks for adversarial examples of Samples against Source.
type AttackRequest struct {
	// Method is one of the Method constants.
	Method string
	// Source is the model attacked; Models are every model the adversarials
	// are then classified by (Source among them), to show transfer.
	Source Model
	Models []Model
	// Samples are the images attacked.
	Samples []Sample
	// Target is the target class of Source, or -1 for untargeted.
	Target int
	// Params are the method's parameters as text, keyed by the names of
	// the engine's attack registry (missing: the method's default).
	Params map[string]string
	// Batch is the number of images per batch.
	Batch int
	// Patch and Placement are the patch method's patch and where it goes.
	Patch     *imgops.Patch
	Placement Placement
}

// AttackProgress is a snapshot of a running attack.
type AttackProgress struct {
	// Fraction is the estimated completion in [0,1].
	Fraction float64
	// Text says what runs ("pgd batch 2/5, step 12/40").
	Text string
}

// AttackItem is the outcome of the attack on one sample.
type AttackItem struct {
	// Sample is the index of the image in the request's Samples.
	Sample int
	// Clean and Adversarial are the image before and after, at the source
	// model's input size.
	Clean, Adversarial image.Image
	// CleanPred and AdvPred are every model's predictions (index as in the
	// request's Models).
	CleanPred, AdvPred []Prediction
	// RoundedPred are every model's predictions after the 8-bit round trip
	// of the adversarial (what Adversarial shows and a saved PNG holds);
	// AdvPred are those of the adversarial as crafted.
	RoundedPred []Prediction
	// Success is the engine's verdict for the source model, and
	// RoundedSuccess whether the source is still fooled after rounding.
	Success, RoundedSuccess bool
	// L2 and Linf measure the perturbation in [0,1] pixel units.
	L2, Linf float64
}

// Flipped reports whether model i's top class differs between the clean and
// the adversarial image.
func (it AttackItem) Flipped(i int) bool {
	return it.CleanPred[i].Class() != it.AdvPred[i].Class()
}

// FlippedRounded reports whether model i's top class differs between the
// clean image and the adversarial after the 8-bit round trip (false when
// the backend gave no 8-bit predictions).
func (it AttackItem) FlippedRounded(i int) bool {
	return i < len(it.RoundedPred) && it.CleanPred[i].Class() != it.RoundedPred[i].Class()
}

// AttackResult is the outcome of an attack on a set of images.
type AttackResult struct {
	// Method is the attack that ran; Models the models as in the request.
	Method string
	Models []Model
	// Source is the index of the attacked model in Models.
	Source int
	// Items are the images attacked, in request order (fewer than asked when
	// the attack was stopped).
	Items []AttackItem
}

// SuccessRate returns the fraction of items whose top class model i changed.
func (r *AttackResult) SuccessRate(i int) float64 {
	if r == nil || len(r.Items) == 0 {
		return 0
	}
	n := 0
	for _, it := range r.Items {
		if it.Flipped(i) {
			n++
		}
	}
	return float64(n) / float64(len(r.Items))
}

// Attacker crafts adversarial examples.
type Attacker interface {
	// RunAttack runs req. progress is called from the attack's goroutine and
	// must not block. When ctx is cancelled it returns what was finished with
	// ctx.Err().
	RunAttack(ctx context.Context, req AttackRequest, progress func(AttackProgress)) (*AttackResult, error)
}

// TrainRequest asks for an adversarial patch (Brown et al. 2017) trained by
// expectation over transformations.
type TrainRequest struct {
	// Models are the models trained against (an ensemble when several).
	Models []Model
	// Samples are the training images.
	Samples []Sample
	// Target is the target label (a name of Models[0]'s labels).
	Target string
	// Mask is the patch's shape; MaskPath is the PNG whose alpha is the
	// outline when Mask is imgops.MaskAlpha.
	Mask     imgops.MaskShape
	MaskPath string
	// Size is the patch's longer side in pixels.
	Size int
	// MaxAngleDeg bounds the random rotation; ScaleMin and ScaleMax bound
	// the area fraction the patch covers.
	MaxAngleDeg        float64
	ScaleMin, ScaleMax float64
	// Steps, Batch and LearningRate drive the optimiser.
	Steps, Batch int
	LearningRate float64
	// TVWeight and NPSWeight weigh the total-variation and
	// non-printability regularisers.
	TVWeight, NPSWeight float64
	// Seed seeds the transformations and the initial patch.
	Seed uint64
	// Init, when not nil, is the patch training continues from.
	Init *imgops.Patch
}

// PatchTrainer trains adversarial patches.
type PatchTrainer interface {
	// TrainPatch trains a patch and returns the engine's result as it is:
	// the patch with the metadata its file records. progress is called from
	// the trainer's goroutine once per step with the engine's snapshot (its
	// patch the receiver may keep, its metadata, its ETA) and must not
	// block. When ctx is cancelled it returns the last patch with
	// ctx.Err(); a request the engine rejects returns no result.
	TrainPatch(ctx context.Context, req TrainRequest, progress func(patch.Progress)) (*patch.Result, error)
}

// EvalRequest asks for a patch's success rate against patch scale.
type EvalRequest struct {
	Patch   *imgops.Patch
	Models  []Model
	Samples []Sample
	// Target is the target label; "" measures untargeted success (the top
	// class changed).
	Target string
	// Areas are the patch scales, as fractions of the image's area.
	Areas []float64
	// Placements is the number of random placements per image and scale;
	// MaxAngleDeg bounds their rotation.
	Placements  int
	MaxAngleDeg float64
	Seed        uint64
}

// EvalCurve is one model's success rate at each scale.
type EvalCurve struct {
	Model       string
	Areas       []float64
	SuccessRate []float64
	// Control is the success rate of a control patch (noise of the same
	// size and mask) at the same placements, as Brown et al. plot beside
	// the adversarial patch; nil when not measured.
	Control []float64
}

// PatchEvaluator measures patches.
type PatchEvaluator interface {
	// EvaluatePatch measures the success rate at each of req.Areas for each
	// model. progress gets the completed fraction and must not block.
	EvaluatePatch(ctx context.Context, req EvalRequest, progress func(float64)) ([]EvalCurve, error)
}

// DefendedModel is a model wrapped in a defense (engine/defense): the
// workbench shows and runs it in place of its bare model.
type DefendedModel interface {
	Model
	// Bare is the model the defense wraps.
	Bare() Model
	// Defense is the defense's spec, NAME[:k=v,…] as engine/defense.Parse reads it.
	Defense() string
}

// DefenseTableRequest asks for the defenses table (eval.DefenseTable) of
// Models, each as it is loaded, bare or defended.
type DefenseTableRequest struct {
	Models  []Model
	Samples []Sample
	// Limit keeps at most that many samples, spread over the classes (0: all).
	Limit   int
	Options eval.DefenseOptions
}

// Defender puts models in defenses and compares them.
type Defender interface {
	// DefendModel returns m (bare, or the bare model of a DefendedModel)
	// wrapped in the defense spec; "" returns the bare model. A detector
	// that needs calibrating is calibrated on samples.
	DefendModel(ctx context.Context, m Model, spec string, samples []Sample) (Model, error)
	// DefenseTable measures every model of req with eval.DefenseTable and
	// returns its rows as they are. progress is called from the table's
	// goroutine and must not block; a cancelled run returns the rows done
	// with ctx.Err().
	DefenseTable(ctx context.Context, req DefenseTableRequest, progress func(eval.DefenseProgress)) ([]eval.DefenseRow, error)
}

// PrintSettings say how a patch is exported.
type PrintSettings struct {
	// Format is "pdf" or "png".
	Format string
	// SizeMM is the patch's longer side on paper.
	SizeMM float64
	// DPI is the resolution of the printed image.
	DPI float64
	// Paper is "a4" or "letter" (PDF only).
	Paper string
}

// Exporter reads and writes patches and images.
type Exporter interface {
	// LoadPatch reads a patch file (or any PNG, its alpha as the mask).
	LoadPatch(path string) (*imgops.Patch, imgops.PatchMeta, error)
	// SavePatch writes a patch file at its own resolution.
	SavePatch(path string, p *imgops.Patch, meta imgops.PatchMeta) error
	// ExportPatch writes p for printing at a physical size.
	ExportPatch(path string, p *imgops.Patch, meta imgops.PatchMeta, s PrintSettings) error
	// SaveImage writes img as a PNG.
	SaveImage(path string, img image.Image) error
}
