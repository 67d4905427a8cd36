package boxmin

import (
	"errors"
	"fmt"
	"math"
)

// This file is advlab's box-constrained quasi-Newton optimiser, the one
// Szegedy et al.'s "box-constrained L-BFGS" needs: minimise f(x) subject to
// lo ≤ x ≤ hi. No Go library does this (gonum/optimize has no bounds).
//
// It is a projected L-BFGS with an ε-active set, in the manner of Bertsekas's
// projected Newton method (1982) and Kim, Sra and Dhillon's PQN (2010), rather
// than Byrd, Lu, Nocedal and Zhu's L-BFGS-B (1995) with its generalized Cauchy
// point and compact-matrix subspace minimisation. The reasons: on the boxes
// advlab optimises (pixels in [0,1]) the two reach the same stationary points;
// the projected method is a few hundred lines that can be read and tested,
// where L-BFGS-B is thousands; and its state machine fits reverse
// communication, so that an attack can run one optimiser per image and
// evaluate every image's next point in one batched gradient call.
//
// One iteration: variables at (or within ε of) a bound whose gradient pushes
// outwards are held; the L-BFGS two-loop recursion gives a direction in the
// other, free variables; a backtracking line search along the projection arc
// x(α) = P(x + αd) accepts the first α with Armijo decrease
// f(x(α)) ≤ f(x) + 1e-4·∇f(x)·(x(α) − x).

// Status is what a Minimizer wants next, or why it stopped.
type Status int

const (
	// BoxEvaluate asks the caller to evaluate f and its gradient at X() and
	// pass them to Tell.
	BoxEvaluate Status = iota
	// BoxConverged means the projected gradient or the relative decrease of f
	// fell below its tolerance.
	BoxConverged
	// BoxStalled means the line search found no decrease even along the
	// projected steepest-descent direction: x is as good as float64 allows.
	BoxStalled
	// BoxMaxIterations means the iteration or evaluation budget ran out.
	BoxMaxIterations
)

// String returns the status in words.
func (s Status) String() string {
	switch s {
	case BoxEvaluate:
		return "evaluate"
	case BoxConverged:
		return "converged"
	case BoxStalled:
		return "stalled"
	case BoxMaxIterations:
		return "iteration limit"
	}
	return "unknown"
}

// Options configures a Minimizer. Zero fields take the defaults.
type Options struct {
	// Memory is the number of correction pairs L-BFGS keeps (default 10).
	Memory int
	// MaxIterations bounds accepted steps (default 100).
	MaxIterations int
	// MaxEvaluations bounds calls to Tell (default 20·MaxIterations).
	MaxEvaluations int
	// PGTol stops when the ∞-norm of the projected gradient P(x−∇f)−x is at
	// most PGTol (default 1e-6).
	PGTol float64
	// FTol stops when an iteration decreases f by at most
	// FTol·max(|f|, 1) (default 1e-10).
	FTol float64
}

func (o Options) withDefaults() Options {
	if o.Memory <= 0 {
		o.Memory = 10
	}
	if o.MaxIterations <= 0 {
		o.MaxIterations = 100
	}
	if o.MaxEvaluations <= 0 {
		o.MaxEvaluations = 20 * o.MaxIterations
	}
	if o.PGTol <= 0 {
		o.PGTol = 1e-6
	}
	if o.FTol <= 0 {
		o.FTol = 1e-10
	}
	return o
}

// Line-search constants.
const (
	armijoC      = 1e-4 // sufficient-decrease constant
	maxBacktrack = 30   // step halvings before the line search gives up
	activeEps    = 1e-3 // upper bound of the ε of the ε-active set
)

// Minimizer minimises a function over a box by reverse communication: the
// caller evaluates f and ∇f at X() and passes them to Tell until Tell returns
// something other than BoxEvaluate. Best then holds the solution.
type Minimizer struct {
	opts   Options
	lo, hi []float64

	x, g  []float64 // accepted iterate and its gradient
	f     float64
	trial []float64 // the point the caller is evaluating
	d     []float64 // search direction
	free  []bool    // variables the direction may move
	gd    float64   // ∇f·d over all variables
	alpha float64
	backs int

	s, y [][]float64 // correction pairs, oldest first
	rho  []float64
	q    []float64 // two-loop scratch
	a    []float64

	started     bool
	accepted    bool // the last point told became the iterate
	steepest    bool // the current direction is −∇f (memory was reset)
	iter, evals int
	status      Status
}

// New starts a minimisation from x0 (projected onto the box)
// within lo ≤ x ≤ hi. opts may be nil for defaults.
func New(x0, lo, hi []float64, opts *Options) (*Minimizer, error) {
	n := len(x0)
	if n == 0 || len(lo) != n || len(hi) != n {
		return nil, fmt.Errorf("box minimiser: x0, lo and hi have lengths %d, %d, %d", n, len(lo), len(hi))
	}
	for i := range lo {
		if !(lo[i] <= hi[i]) {
			return nil, fmt.Errorf("box minimiser: bound %d is empty: [%g, %g]", i, lo[i], hi[i])
		}
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	m := &Minimizer{
		opts: o.withDefaults(), lo: lo, hi: hi,
		x: make([]float64, n), g: make([]float64, n), trial: make([]float64, n),
		d: make([]float64, n), free: make([]bool, n), q: make([]float64, n),
	}
	for i, v := range x0 {
		m.trial[i] = clampF(v, lo[i], hi[i])
	}
	return m, nil
}

// X returns the point at which the caller must evaluate f next. The slice is
// owned by the minimiser and valid until the next Tell.
func (m *Minimizer) X() []float64 { return m.trial }

// Best returns the best point found so far (every accepted point improves on
// the last) and its value; before the first Tell it returns the start and +Inf.
func (m *Minimizer) Best() ([]float64, float64) {
	if !m.started {
		return m.trial, math.Inf(1)
	}
	return m.x, m.f
}

// Iterations returns the number of accepted steps.
func (m *Minimizer) Iterations() int { return m.iter }

// Evaluations returns the number of function evaluations told so far.
func (m *Minimizer) Evaluations() int { return m.evals }

// Accepted reports whether the point of the last Tell became the current
// iterate, so that what the caller learnt there (a classification, say)
// describes Best.
func (m *Minimizer) Accepted() bool { return m.accepted }

// Status returns the last status Tell returned.
func (m *Minimizer) Status() Status { return m.status }

// Tell gives the minimiser f(X()) and ∇f(X()) (g is copied) and returns what
// it wants next. A NaN or infinite f counts as no decrease.
func (m *Minimizer) Tell(f float64, g []float64) Status {
	if m.status != BoxEvaluate {
		return m.status
	}
	m.evals++
	m.accepted = false
	if !m.started {
		if len(g) != len(m.x) {
			panic("box minimiser: gradient has the wrong length")
		}
		m.started = true
		m.accepted = true
		copy(m.x, m.trial)
		copy(m.g, g)
		m.f = f
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return m.stop(BoxStalled)
		}
		return m.nextDirection()
	}
	if math.IsNaN(f) || f > m.f+armijoC*m.decrease() {
		return m.backtrack(f)
	}
	return m.accept(f, g)
}

// decrease returns ∇f(x)·(trial − x), the predicted change along the arc.
func (m *Minimizer) decrease() float64 {
	var s float64
	for i := range m.x {
		s += m.g[i] * (m.trial[i] - m.x[i])
	}
	return s
}

// accept takes the trial point as the next iterate.
func (m *Minimizer) accept(f float64, g []float64) Status {
	n := len(m.x)
	var sv, yv []float64
	if len(m.s) == m.opts.Memory {
		sv, yv = m.s[0], m.y[0]
		m.s, m.y, m.rho = m.s[1:], m.y[1:], m.rho[1:]
	} else {
		sv, yv = make([]float64, n), make([]float64, n)
	}
	var sy, yy float64
	for i := range m.x {
		sv[i] = m.trial[i] - m.x[i]
		yv[i] = g[i] - m.g[i]
		sy += sv[i] * yv[i]
		yy += yv[i] * yv[i]
	}
	if sy > 1e-10*yy && sy > 0 { // keep the approximation positive definite
		m.s, m.y, m.rho = append(m.s, sv), append(m.y, yv), append(m.rho, 1/sy)
	}
	fOld := m.f
	m.accepted = true
	copy(m.x, m.trial)
	copy(m.g, g)
	m.f = f
	m.iter++
	if fOld-f <= m.opts.FTol*math.Max(math.Max(math.Abs(fOld), math.Abs(f)), 1) {
		return m.stop(BoxConverged)
	}
	return m.nextDirection()
}

// backtrack shortens the step after a failed Armijo test.
func (m *Minimizer) backtrack(f float64) Status {
	if m.evals >= m.opts.MaxEvaluations {
		return m.stop(BoxMaxIterations)
	}
	m.backs++
	if m.backs > maxBacktrack || m.trialIsX() {
		if m.steepest {
			return m.stop(BoxStalled)
		}
		m.resetMemory() // a bad quasi-Newton model: start again from −∇f
		return m.nextDirection()
	}
	// Minimiser of the quadratic through φ(0), φ'(0) and φ(α), kept in
	// [0.1α, 0.5α]; plain halving when f is not finite.
	next := 0.5 * m.alpha
	if !math.IsNaN(f) && !math.IsInf(f, 0) {
		den := 2 * (f - m.f - m.gd*m.alpha)
		if den > 0 {
			next = clampF(-m.gd*m.alpha*m.alpha/den, 0.1*m.alpha, 0.5*m.alpha)
		}
	}
	m.alpha = next
	m.setTrial()
	return BoxEvaluate
}

// trialIsX reports whether the trial point no longer differs from x.
func (m *Minimizer) trialIsX() bool {
	for i := range m.x {
		if m.trial[i] != m.x[i] {
			return false
		}
	}
	return true
}

func (m *Minimizer) resetMemory() {
	m.s, m.y, m.rho = m.s[:0], m.y[:0], m.rho[:0]
}

func (m *Minimizer) stop(s Status) Status {
	m.status = s
	return s
}

// nextDirection checks convergence at x, computes the search direction and
// proposes the first trial point of the line search.
func (m *Minimizer) nextDirection() Status {
	if m.iter >= m.opts.MaxIterations || m.evals >= m.opts.MaxEvaluations {
		return m.stop(BoxMaxIterations)
	}
	var pgInf, pg2 float64
	for i := range m.x {
		p := clampF(m.x[i]-m.g[i], m.lo[i], m.hi[i]) - m.x[i]
		pgInf = math.Max(pgInf, math.Abs(p))
		pg2 += p * p
	}
	if pgInf <= m.opts.PGTol {
		return m.stop(BoxConverged)
	}
	eps := math.Min(activeEps, math.Sqrt(pg2))
	var gFree2 float64
	for i := range m.x {
		held := (m.x[i] <= m.lo[i]+eps && m.g[i] > 0) || (m.x[i] >= m.hi[i]-eps && m.g[i] < 0)
		m.free[i] = !held
		if !held {
			gFree2 += m.g[i] * m.g[i]
		}
	}
	m.steepest = len(m.s) == 0
	gamma := m.twoLoop()
	m.gd = 0
	for i := range m.d {
		if !m.free[i] {
			// Held variables take a scaled gradient step, which the
			// projection stops at their bound.
			m.d[i] = -gamma * m.g[i]
		}
		m.gd += m.g[i] * m.d[i]
	}
	if !(m.gd < 0) && !m.steepest {
		m.resetMemory()
		return m.nextDirection()
	}
	if !(m.gd < 0) {
		return m.stop(BoxStalled)
	}
	m.alpha = 1
	if m.steepest && gFree2 > 0 {
		// Without curvature information, a first step of unit length.
		m.alpha = 1 / (gamma * math.Sqrt(gFree2))
		if m.iter > 0 {
			m.alpha = math.Min(m.alpha, 1)
		}
	}
	m.backs = 0
	m.setTrial()
	return BoxEvaluate
}

// twoLoop sets d = −H∇f on the free variables by the L-BFGS two-loop
// recursion restricted to them, and returns the initial scaling γ = s·y/y·y
// of the newest pair (1 without memory).
func (m *Minimizer) twoLoop() float64 {
	k := len(m.s)
	if cap(m.a) < k {
		m.a = make([]float64, m.opts.Memory)
	}
	a := m.a[:k]
	q := m.q
	for i := range q {
		if m.free[i] {
			q[i] = m.g[i]
		} else {
			q[i] = 0
		}
	}
	for j := k - 1; j >= 0; j-- {
		a[j] = m.rho[j] * dotMasked(m.s[j], q, m.free)
		axpyMasked(-a[j], m.y[j], q, m.free)
	}
	gamma := 1.0
	if k > 0 {
		gamma = 1 / (m.rho[k-1] * dot(m.y[k-1], m.y[k-1]))
	}
	for i := range q {
		q[i] *= gamma
	}
	for j := 0; j < k; j++ {
		b := m.rho[j] * dotMasked(m.y[j], q, m.free)
		axpyMasked(a[j]-b, m.s[j], q, m.free)
	}
	for i := range q {
		m.d[i] = -q[i]
	}
	return gamma
}

// setTrial sets trial = P(x + αd).
func (m *Minimizer) setTrial() {
	for i := range m.x {
		m.trial[i] = clampF(m.x[i]+m.alpha*m.d[i], m.lo[i], m.hi[i])
	}
}

// Minimize minimises fn over lo ≤ x ≤ hi from x0 and returns the best
// point, its value and why it stopped. fn returns f(x) and writes ∇f(x) into
// grad.
func Minimize(fn func(x, grad []float64) float64, x0, lo, hi []float64, opts *Options) ([]float64, float64, Status, error) {
	m, err := New(x0, lo, hi, opts)
	if err != nil {
		return nil, 0, 0, err
	}
	grad := make([]float64, len(x0))
	st := BoxEvaluate
	for st == BoxEvaluate {
		f := fn(m.X(), grad)
		st = m.Tell(f, grad)
	}
	x, f := m.Best()
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return x, f, st, errors.New("box minimiser: the objective is not finite at the start")
	}
	return append([]float64(nil), x...), f, st, nil
}

func clampF(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func dotMasked(a, b []float64, mask []bool) float64 {
	var s float64
	for i := range a {
		if mask[i] {
			s += a[i] * b[i]
		}
	}
	return s
}

func axpyMasked(alpha float64, x, y []float64, mask []bool) {
	for i := range x {
		if mask[i] {
			y[i] += alpha * x[i]
		}
	}
}
