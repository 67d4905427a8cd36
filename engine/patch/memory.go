package patch

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/imgops"
)

// activationFactor is the memory of one gradient-graph run per byte of its
// input batch: the activations the forward pass keeps for the backward and
// the backward's own. Image classifiers come to tens of times their input
// (ResNet-18 at 224²: about 2.5 million forward activations for 150,000
// input values, held again in the backward); 64 errs towards refusing. A
// forward run alone keeps none for a backward: a quarter of it.
const (
	activationFactor = 64
	forwardFactor    = activationFactor / 4
)

// slack covers the short-lived copies beside the buffers the estimates
// count: returned gradients and logits, the result's patch, sample lists.
const slack = 1.25

// fallbackBudget is the memory budget where the machine's cannot be read.
const fallbackBudget = 8 << 30

// memoryBudget returns the bytes a training or evaluation run may plan to
// use, and what that is: half the machine's physical memory, so that a
// request the machine cannot hold is refused before any work instead of
// being killed half-way. Tests replace it.
var memoryBudget = func() (float64, string) {
	if total, ok := physicalMemory(); ok {
		return float64(total) / 2, "half of this machine's memory"
	}
	return fallbackBudget, "advlab's budget where the machine's memory is unknown"
}

// physicalMemory reads MemTotal from /proc/meminfo.
func physicalMemory() (int64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == "MemTotal:" && fields[2] == "kB" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil && kb > 0 && kb < math.MaxInt64/1024 {
				return kb * 1024, true
			}
		}
	}
	return 0, false
}

// trainBytes estimates the memory Train needs with options o (defaults
// applied) on n images against models of the given input shapes, as the
// part that does not grow with the batch and the part each image of the
// batch adds.
func trainBytes(o Options, n int, shapes []engine.ImageShape) (fixed, perImage float64) {
	pw, ph := float64(o.Width), float64(o.Height)
	// The patch (float32) and its mask; Adam's moments and the step's
	// gradient in float64.
	fixed = pw*ph*(3*4+4) + 3*pw*ph*(8+8+8)
	for _, s := range shapes {
		in := float64(s.Size()) * 4
		fixed += float64(n) * in // the images at the model's input size
		perImage += in*(1+activationFactor) + imgops.CompositionBytes(o.Width, o.Height, 1, s.Channels, s.Height, s.Width, 1, true)
	}
	return slack * fixed, slack * perImage
}

// checkTrainMemory refuses options whose training would not fit the memory
// budget, saying how large a batch would.
func checkTrainMemory(o Options, n int, shapes []engine.ImageShape) error {
	fixed, per := trainBytes(o, n, shapes)
	need := fixed + float64(o.BatchSize)*per
	budget, what := memoryBudget()
	if need <= budget {
		return nil
	}
	fit := math.Floor((budget - fixed) / per)
	hint := "use a smaller patch"
	if fit >= 1 {
		hint = fmt.Sprintf("lower the batch size to %d or less, or use a smaller patch", int64(fit))
	}
	return fmt.Errorf("a %d×%d patch at batch size %d needs about %s, more than %s (%s): %s",
		o.Width, o.Height, o.BatchSize, gib(need), gib(budget), what, hint)
}

// checkEvalMemory refuses an evaluation of a pw×ph patch on n images that
// would not fit the memory budget: the patch and its control, each model's
// images at its input size, and one batch composed and run forward.
func checkEvalMemory(pw, ph, n, batch int, shapes []engine.ImageShape) error {
	need := 2 * float64(pw) * float64(ph) * 4 * 4
	largest := 0.0
	for _, s := range shapes {
		in := float64(s.Size()) * 4
		need += float64(n) * in
		run := float64(batch)*in*(1+forwardFactor) + imgops.CompositionBytes(pw, ph, batch, s.Channels, s.Height, s.Width, runtime.GOMAXPROCS(0), false)
		largest = max(largest, run)
	}
	need = slack * (need + largest)
	budget, what := memoryBudget()
	if need <= budget {
		return nil
	}
	return fmt.Errorf("evaluating a %d×%d patch on %d images at batch size %d needs about %s, more than %s (%s): use a smaller patch, a smaller batch or fewer images",
		pw, ph, n, batch, gib(need), gib(budget), what)
}

// gib formats bytes in GiB.
func gib(b float64) string {
	return fmt.Sprintf("%.1f GiB", b/(1<<30))
}
