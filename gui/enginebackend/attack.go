package enginebackend

import (
	"context"
	"errors"
	"fmt"
	"image"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
	"github.com/advlab/advlab/engine/eval"
	"github.com/advlab/advlab/gui"
	"github.com/advlab/advlab/imgops"
)

// tensorOf lays samples out as one NCHW batch of shape.
func tensorOf(samples []gui.Sample, s engine.ImageShape) []float32 {
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
func (b Backend) RunAttack(ctx context.Context, req gui.AttackRequest, progress func(gui.AttackProgress)) (*gui.AttackResult, error) {
	src, err := classifierOf(req.Source)
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
	res := &gui.AttackResult{Method: req.Method, Models: req.Models, Source: -1}
	for i, m := range req.Models {
		if m == req.Source {
			res.Source = i
		}
	}
	if res.Source < 0 {
		res.Models = append([]gui.Model{req.Source}, req.Models...)
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
			progress(gui.AttackProgress{Fraction: p.Fraction, Text: text})
		}
	}
	shape := src.InputShape()
	var rep *eval.Report
	var runErr error
	if req.Method == gui.MethodPatch {
		adv, err := pastePatch(req, models[res.Source].Images, shape)
		if err != nil {
			return nil, err
		}
		rep, runErr = eval.Perturbed(ctx, gui.MethodPatch, adv, models, res.Source, req.Target, opts)
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
	res.Items = make([]gui.AttackItem, n)
	for i, im := range rep.Images {
		it := gui.AttackItem{Sample: i, Clean: cleanImgs[i], Adversarial: advImgs[i], L2: im.L2, Linf: im.Linf,
			Success: im.Success, RoundedSuccess: im.On[res.Source].FooledRounded}
		for _, o := range im.On {
			it.CleanPred = append(it.CleanPred, gui.PredictionOf(o.CleanLogits))
			it.AdvPred = append(it.AdvPred, gui.PredictionOf(o.AdvLogits))
			it.RoundedPred = append(it.RoundedPred, gui.PredictionOf(o.RoundedLogits))
		}
		res.Items[i] = it
	}
	return res, runErr
}

// evalModels lays the samples out for every model, each behind its lock;
// a sample's class folder is its true class where the model has that class.
func evalModels(ms []gui.Model, samples []gui.Sample) ([]eval.Model, error) {
	out := make([]eval.Model, len(ms))
	for j, m := range ms {
		c, err := classifierOf(m)
		if err != nil {
			return nil, err
		}
		labels := make([]int, len(samples))
		for i, sm := range samples {
			labels[i] = -1
			if sm.Class != "" {
				if k, err := engine.ClassIndex(c.Labels(), sm.Class); err == nil {
					labels[i] = k
				}
			}
		}
		out[j] = eval.Model{Classifier: c, Images: tensorOf(samples, c.InputShape()), Labels: labels}
	}
	return out, nil
}

// pastePatch applies req.Patch at req.Placement to every image of x.
func pastePatch(req gui.AttackRequest, x []float32, s engine.ImageShape) ([]float32, error) {
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
