package enginebackend

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/defense"
	"github.com/advlab/advlab/engine/eval"
	"github.com/advlab/advlab/gui"
)

// defendedModel is an engine model wrapped in a defense. The defense's
// own state (a detector's threshold, smoothing's noise) is behind its
// lock, the wrapped model behind the engine model's.
type defendedModel struct {
	em   *engineModel
	spec string
	mu   sync.Mutex
	c    engine.Classifier
}

var _ gui.DefendedModel = (*defendedModel)(nil)

func (dm *defendedModel) Name() string     { return dm.c.Name() }
func (dm *defendedModel) Labels() []string { return dm.c.Labels() }
func (dm *defendedModel) Bare() gui.Model  { return dm.em }
func (dm *defendedModel) Defense() string  { return dm.spec }

// Details are the bare model's, with the defense and how an attack's
// gradient passes it.
func (dm *defendedModel) Details() gui.ModelDetails {
	d := dm.em.Details()
	s, err := defense.Parse(dm.spec)
	if err == nil {
		d.Findings = append(d.Findings, fmt.Sprintf("Defense: %s — %s (attacks get its %s gradient)", s, s.Description, s.Gradient))
	}
	return d
}

// lockedCertifier is locked for PatchCleanser, whose certificates the
// defenses table reports.
type lockedCertifier struct{ locked }

func (l lockedCertifier) Certify(ctx context.Context, images []float32, labels []int) ([]bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c.(eval.Certifier).Certify(ctx, images, labels)
}

func (l lockedCertifier) PatchSide() int { return l.c.(eval.Certifier).PatchSide() }

// classifierOf is the engine classifier the workbench's model runs: the
// engine model behind its lock, or its defense around that.
func classifierOf(m gui.Model) (engine.Classifier, error) {
	switch x := m.(type) {
	case *engineModel:
		return lockedModel(x), nil
	case *defendedModel:
		l := locked{&x.mu, x.c}
		if _, ok := x.c.(eval.Certifier); ok {
			return lockedCertifier{l}, nil
		}
		return l, nil
	}
	return nil, fmt.Errorf("model %q was not loaded by the engine", m.Name())
}

// DefendModel wraps m's bare model in spec with engine/defense.
func (Backend) DefendModel(ctx context.Context, m gui.Model, spec string, samples []gui.Sample) (gui.Model, error) {
	if dm, ok := m.(*defendedModel); ok {
		m = dm.em
	}
	em, err := asEngine(m)
	if err != nil {
		return nil, err
	}
	if spec == "" {
		return em, nil
	}
	s, err := defense.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("%w; pick the defense again with valid parameters", err)
	}
	c, err := s.Wrap(lockedModel(em))
	if err != nil {
		return nil, fmt.Errorf("%w; pick the defense again with valid parameters", err)
	}
	if cal, ok := c.(defense.Calibrator); ok {
		if len(samples) == 0 {
			return nil, errors.New("the " + s.Name + " detector calibrates on clean images: open an image folder first")
		}
		if err := cal.Calibrate(ctx, tensorOf(samples, c.InputShape()), len(samples)); err != nil {
			return nil, fmt.Errorf("calibrating %s: %w", c.Name(), err)
		}
	}
	return &defendedModel{em: em, spec: s.String(), c: c}, nil
}

// DefenseTable runs eval.DefenseTable on the models as they are loaded.
func (Backend) DefenseTable(ctx context.Context, req gui.DefenseTableRequest, progress func(eval.DefenseProgress)) ([]eval.DefenseRow, error) {
	if len(req.Samples) == 0 {
		return nil, errors.New("no images to measure on; open an image folder first")
	}
	var cases []eval.DefenseCase
	for _, m := range req.Models {
		c, err := classifierOf(m)
		if err != nil {
			return nil, err
		}
		dc := eval.DefenseCase{Model: c}
		if dm, ok := m.(gui.DefendedModel); ok {
			dc.Defense = dm.Defense()
		}
		cases = append(cases, dc)
	}
	return eval.DefenseTable(ctx, cases, datasetOf(req.Samples).Subset(req.Limit), req.Options, progress)
}
