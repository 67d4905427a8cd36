package enginebackend

import (
	"context"
	"fmt"
	"image"
	"math"
	"os"
	"sort"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/patch"
	"github.com/advlab/advlab/gui"
	"github.com/advlab/advlab/imgops"
)

// datasetOf makes an engine dataset of the workbench's samples (their class
// folders are the true labels).
func datasetOf(samples []gui.Sample) *engine.Dataset {
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

// classifiers returns the models as engine classifiers, each behind its
// lock and in its defense, if any.
func classifiers(ms []gui.Model) ([]engine.Classifier, error) {
	out := make([]engine.Classifier, len(ms))
	for i, m := range ms {
		c, err := classifierOf(m)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// patchOptions translates the Patch tab's request into the engine's options.
func patchOptions(req gui.TrainRequest) (patch.Options, error) {
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
func (Backend) TrainPatch(ctx context.Context, req gui.TrainRequest, progress func(patch.Progress)) (*patch.Result, error) {
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

// EvaluatePatch measures the patch with patch.Evaluate: the targeted
// success rate at each area fraction, or the untargeted error when req has
// no target, for every model, beside a noise patch of the same size.
func (Backend) EvaluatePatch(ctx context.Context, req gui.EvalRequest, progress func(float64)) ([]gui.EvalCurve, error) {
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
	var out []gui.EvalCurve
	for _, c := range rep.Curves {
		ec := gui.EvalCurve{Model: c.Model}
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
func (Backend) LoadPatch(path string) (*imgops.Patch, imgops.PatchMeta, error) {
	p, meta, err := imgops.LoadPatch(path)
	if err != nil {
		return nil, meta, fmt.Errorf("%w; open a patch saved by advlab (File › Save patch) or a PNG whose transparency outlines the patch", err)
	}
	return p, meta, nil
}

// SavePatch writes a patch file.
func (Backend) SavePatch(path string, p *imgops.Patch, meta imgops.PatchMeta) error {
	return imgops.SavePatch(path, p, meta)
}

// ExportPatch writes a printable PDF page or a PNG with its DPI.
func (Backend) ExportPatch(path string, p *imgops.Patch, meta imgops.PatchMeta, s gui.PrintSettings) error {
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
func (Backend) SaveImage(path string, img image.Image) error {
	return imgops.WritePNG(path, img, 0, nil)
}
