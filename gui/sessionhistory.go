package gui

// The history a session keeps beside the workbench's state (version 2): the
// last training's loss and success curves with how far it went, and the
// summary of the last attack's results, whose images are not saved.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"fyne.io/fyne/v2/widget"
)

// Training outcomes as a session records them.
const (
	outcomeDone    = "done"
	outcomeStopped = "stopped"
	outcomeFailed  = "failed"
	// maxSessionSteps bounds the training curves a session holds.
	maxSessionSteps = 1 << 22
)

// errFailedBefore stands for the error of a failed run reopened from a
// session, whose error itself is not kept.
var errFailedBefore = errors.New("the training failed before the session was saved")

// sessionTraining is the last training: its steps, how many it completed,
// how it ended, and the loss and success rate at every reported step.
type sessionTraining struct {
	Steps       int        `json:"steps"`
	Done        int        `json:"done"`
	Outcome     string     `json:"outcome"`
	Step        []float64  `json:"step"`
	Loss        jsonFloats `json:"loss"`
	SuccessRate jsonFloats `json:"success_rate"`
}

// sessionAttack is the summary of the last attack's results.
type sessionAttack struct {
	Method  string `json:"method"`
	Summary string `json:"summary"`
}

// jsonFloats are numbers of which JSON can hold the finite ones: a loss that
// diverged is written as null, and read back as NaN.
type jsonFloats []float64

// MarshalJSON is part of json.Marshaler.
func (v jsonFloats) MarshalJSON() ([]byte, error) {
	out := make([]*float64, len(v))
	for i := range v {
		if !math.IsNaN(v[i]) && !math.IsInf(v[i], 0) {
			out[i] = &v[i]
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON is part of json.Unmarshaler.
func (v *jsonFloats) UnmarshalJSON(b []byte) error {
	var in []*float64
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*v = make(jsonFloats, len(in))
	for i, p := range in {
		(*v)[i] = math.NaN()
		if p != nil {
			(*v)[i] = *p
		}
	}
	return nil
}

// check reports a training record that no run could have left.
func (st *sessionTraining) check() error {
	n := len(st.Step)
	switch {
	case st.Steps < 0 || st.Steps > maxSessionSteps || st.Done < 0 || st.Done > st.Steps:
		return fmt.Errorf("a training of %d steps that completed %d", st.Steps, st.Done)
	case n > maxSessionSteps || len(st.Loss) != n || len(st.SuccessRate) != n:
		return fmt.Errorf("training curves of %d steps, %d losses and %d success rates", n, len(st.Loss), len(st.SuccessRate))
	case st.Outcome != outcomeDone && st.Outcome != outcomeStopped && st.Outcome != outcomeFailed:
		return fmt.Errorf("a training that ended %q (want %s, %s or %s)", st.Outcome, outcomeDone, outcomeStopped, outcomeFailed)
	}
	return nil
}

// text says how the run ended, under the progress bar.
func (r *trainRun) text() string {
	switch {
	case errors.Is(r.Err, context.Canceled):
		return fmt.Sprintf("Stopped at step %d of %d; the patch is kept", r.Done, r.Steps)
	case r.Err != nil:
		return "Failed"
	}
	return fmt.Sprintf("Done: %d steps", r.Steps)
}

// fraction is the progress bar's share at the run's end.
func (r *trainRun) fraction() float64 {
	if r.Err == nil {
		return 1
	}
	return float64(r.Done) / float64(max(r.Steps, 1))
}

// snapshotTraining records the last training, nil when none ran. A run
// still going is recorded as stopped where it is.
func (tp *trainPanel) snapshotTraining() *sessionTraining {
	tp.mu.Lock()
	st := &sessionTraining{Step: append([]float64(nil), tp.lossX...), Loss: append(jsonFloats(nil), tp.lossY...),
		SuccessRate: append(jsonFloats(nil), tp.rateY...)}
	tp.mu.Unlock()
	run := tp.lastRun
	if tp.running || run == nil {
		if len(st.Step) == 0 {
			return nil
		}
		done := int(st.Step[len(st.Step)-1])
		run = &trainRun{Steps: max(tp.runSteps, done), Done: done, Err: context.Canceled}
	}
	st.Steps, st.Done, st.Outcome = run.Steps, run.Done, outcomeDone
	switch {
	case errors.Is(run.Err, context.Canceled):
		st.Outcome = outcomeStopped
	case run.Err != nil:
		st.Outcome = outcomeFailed
	}
	return st
}

// restoreTraining shows st's curves and end in the Patch tab; nil clears
// them.
func (tp *trainPanel) restoreTraining(st *sessionTraining) {
	tp.mu.Lock()
	tp.lossX, tp.lossY, tp.rateY = nil, nil, nil
	if st != nil {
		tp.lossX = append([]float64(nil), st.Step...)
		tp.lossY = append([]float64(nil), st.Loss...)
		tp.rateY = append([]float64(nil), st.SuccessRate...)
	}
	tp.mu.Unlock()
	tp.lastRun = nil
	tp.fraction.Set(0)
	tp.eta.SetText("")
	if st != nil {
		run := &trainRun{Steps: st.Steps, Done: st.Done}
		switch st.Outcome {
		case outcomeStopped:
			run.Err = context.Canceled
		case outcomeFailed:
			run.Err = errFailedBefore
		}
		tp.lastRun = run
		tp.fraction.Set(run.fraction())
		tp.eta.SetText(run.text())
	}
	tp.redrawPlots()
}

// snapshotAttack records the summary of the attack results shown, nil
// when none are.
func (cv *compareView) snapshotAttack() *sessionAttack {
	if cv.res == nil && cv.attackSummary == "" {
		return nil
	}
	m := cv.attackMethod
	if cv.res != nil {
		m = cv.res.Method
	}
	return &sessionAttack{Method: m, Summary: cv.attackSummary}
}

// restoreAttack puts away the results shown, which are of the models the
// session replaces, and shows the summary of the session's attack, without
// its images; nil leaves the view empty.
func (cv *compareView) restoreAttack(sa *sessionAttack) {
	cv.res, cv.item, cv.attackSummary, cv.attackMethod = nil, 0, "", ""
	for _, v := range []*compareImage{cv.clean, cv.adv, cv.pert} {
		v.SetImage(nil)
	}
	for _, l := range []*widget.Label{cv.cleanCap, cv.advCap, cv.pertCap} {
		l.SetText("")
	}
	cv.advTitle.SetText("Adversarial")
	cv.grid.Refresh()
	cv.showPosition()
	cv.summary.SetText(compareHint)
	if sa == nil {
		return
	}
	cv.attackMethod, cv.attackSummary = sa.Method, sa.Summary
	cv.summary.SetText(fmt.Sprintf("The last attack (%s) before the session was saved; run it again to see its images:\n%s", methodShort(sa.Method), sa.Summary))
}
