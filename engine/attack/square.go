package attack

import (
	"context"
	"math"
	"math/rand/v2"

	"github.com/advlab/advlab/engine"
)

// SquareOptions configures the Square Attack.
type SquareOptions struct {
	// Eps is the ℓ∞ radius (default 8/255).
	Eps float64
	// Queries bounds the iterations, so the queries, per image (default 1000).
	Queries int
	// PInit is the initial fraction of the image's pixels a square covers,
	// halved on the paper's schedule (default 0.05).
	PInit float64
	// Seed seeds the random squares.
	Seed uint64
}

// DefaultSquareOptions returns ε = 8/255, 1000 queries, p_init = 0.05.
func DefaultSquareOptions() SquareOptions {
	return SquareOptions{Eps: 8.0 / 255, Queries: 1000, PInit: 0.05}
}

// Validate checks the options before any work.
func (o SquareOptions) Validate() error {
	if err := validateEps("square", o.Eps, LInf); err != nil {
		return err
	}
	if o.Queries <= 0 {
		return invalidf("square: queries %d must be positive", o.Queries)
	}
	if !(o.PInit > 0 && o.PInit <= 1) {
		return invalidf("square: p_init %g must be in (0,1]", o.PInit)
	}
	return nil
}

// Square is the ℓ∞ Square Attack of Andriushchenko, Croce, Flammarion and
// Hein (2020), a black-box attack that uses only Logits. It starts from
// vertical stripes of ±ε and then, one random square window at a time,
// proposes new ±ε values per channel inside the window, keeping a proposal
// only when it lowers the margin loss (z_y − max_{j≠y} z_j, or
// max_{j≠t} z_j − z_t when targeted). An image stops as soon as it is fooled.
// Queries per image: 1 for the clean image, 1 for the stripes, then 1 per
// iteration until success or Queries iterations.
type Square struct{ opts SquareOptions }

// NewSquare returns a Square Attack; nil options mean DefaultSquareOptions.
func NewSquare(opts *SquareOptions) (*Square, error) {
	o := DefaultSquareOptions()
	if opts != nil {
		o = *opts
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return &Square{opts: o}, nil
}

// Name returns "square".
func (a *Square) Name() string { return "square" }

// Options returns the options the attack runs with.
func (a *Square) Options() SquareOptions { return a.opts }

// Run implements Attack.
func (a *Square) Run(ctx context.Context, c engine.Classifier, images []float32, labels []int, target int, progress func(Progress)) (Result, error) {
	s, err := newAttackState(ctx, a.Name(), c, images, labels, target, progress)
	if err != nil {
		return Result{}, err
	}
	o := a.opts
	rng := rand.New(rand.NewPCG(o.Seed, 0x5a4a))
	idx := s.pending()
	if len(idx) == 0 {
		return s.finish(nil)
	}
	ch, h, w := s.shape.Channels, s.shape.Height, s.shape.Width
	eps := float32(o.Eps)
	// Vertical stripes: one ±ε per channel and column.
	best := s.gather(images, idx)
	for j, i := range idx {
		x, x0 := s.image(best, j), s.image(images, i)
		for cc := 0; cc < ch; cc++ {
			for col := 0; col < w; col++ {
				v := eps * float32(2*rng.IntN(2)-1)
				for row := 0; row < h; row++ {
					p := (cc*h+row)*w + col
					x[p] = clip01(x0[p] + v)
				}
			}
		}
	}
	margins := make([]float64, len(idx))
	z, err := c.Logits(ctx, best, len(idx))
	if err != nil {
		return s.finish(err)
	}
	s.count(idx, false)
	for j, i := range idx {
		zi := z[j*s.k : (j+1)*s.k]
		margins[j] = s.marginLoss(i, zi)
		s.observe(i, s.image(best, j), zi, margins[j])
	}
	cand := make([]float32, len(best))
	for it := 0; it < o.Queries; it++ {
		if err := ctx.Err(); err != nil {
			return s.finish(err)
		}
		// Drop fooled images, keeping best and margins aligned with idx.
		k := 0
		for j, i := range idx {
			if s.res.Samples[i].Success {
				continue
			}
			copy(s.image(best, k), s.image(best, j))
			margins[k], idx[k] = margins[j], i
			k++
		}
		idx, best, margins = idx[:k], best[:k*s.size], margins[:k]
		if len(idx) == 0 {
			break
		}
		side := squareSide(o.PInit, it, o.Queries, h, w)
		cand = cand[:len(best)]
		copy(cand, best)
		for j, i := range idx {
			a.propose(rng, s.image(cand, j), s.image(best, j), s.image(images, i), s.shape, side)
		}
		z, err := c.Logits(ctx, cand, len(idx))
		if err != nil {
			return s.finish(err)
		}
		s.count(idx, true)
		for j, i := range idx {
			zi := z[j*s.k : (j+1)*s.k]
			if m := s.marginLoss(i, zi); m < margins[j] {
				margins[j] = m
				copy(s.image(best, j), s.image(cand, j))
				s.observe(i, s.image(best, j), zi, m)
			}
		}
		s.report("", it+1, o.Queries, float64(it+1)/float64(o.Queries))
	}
	s.report("", o.Queries, o.Queries, 1)
	return s.finish(nil)
}

// propose sets one random side×side window of x (a copy of cur) to
// x0 ± ε, one sign per channel, drawing again (up to 10 times) when the draw
// would leave the window unchanged.
func (a *Square) propose(rng *rand.Rand, x, cur, x0 []float32, shape engine.ImageShape, side int) {
	ch, h, w := shape.Channels, shape.Height, shape.Width
	eps := float32(a.opts.Eps)
	for range 10 {
		r0, c0 := rng.IntN(h-side+1), rng.IntN(w-side+1)
		changed := false
		for cc := 0; cc < ch; cc++ {
			v := eps * float32(2*rng.IntN(2)-1)
			for row := r0; row < r0+side; row++ {
				for col := c0; col < c0+side; col++ {
					p := (cc*h+row)*w + col
					x[p] = clip01(x0[p] + v)
					changed = changed || x[p] != cur[p]
				}
			}
		}
		if changed {
			return
		}
	}
}

// marginLoss is the Square Attack's loss for image i: negative exactly when
// the goal is met.
func (s *attackState) marginLoss(i int, z []float32) float64 {
	g := s.goal(i)
	m := float64(z[g]) - maxOther(z, g)
	if s.targeted(i) {
		return -m
	}
	return m
}

// squareSide is the side of the square at iteration it of n: p_init halved
// at the paper's milestones (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000
// of 10 000 iterations, rescaled to n), as a fraction of the image's area.
func squareSide(pInit float64, it, n, h, w int) int {
	milestones := []int{10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000}
	t := int(float64(it) / float64(n) * 10000)
	p := pInit
	for _, m := range milestones {
		if t > m {
			p /= 2
		}
	}
	side := int(math.Round(math.Sqrt(p * float64(h*w))))
	return max(1, min(side, min(h, w)-1))
}

// squareSpec is the Square Attack's entry in the registry.
func squareSpec() *spec {
	o := DefaultSquareOptions()
	return &spec{
		Method: Method{Name: "square", Title: "Square (black box)", Short: "Square", Targeted: true,
			Description: "Andriushchenko et al.'s Square Attack: random square updates, logits only (black box)"},
		fields: []field{
			epsField(&o.Eps),
			intField(&o.Queries, Param{Name: "steps", Label: "Queries", Unit: "queries", Min: 1, Max: 1e7, Help: "iterations, one query each, per image"}),
			floatField(&o.PInit, Param{Name: "p-init", Label: "Initial square", Unit: "fraction of the pixels", Min: 0, Max: 1,
				Help: "fraction of the image the first squares cover"}, false),
			seedField(&o.Seed, "seed of the random squares"),
			normField(nil, LInf, LInf),
		},
		build: func() (Attack, error) { return NewSquare(&o) },
	}
}
