package defense

import (
	"context"
	"math"
	"testing"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
	"github.com/advlab/advlab/engine/internal/testkit"
)

func TestSqueezeScoreCalibrationAndRejection(t *testing.T) {
	lin := testkit.NewLinear(9, 4, 4)
	s, err := NewSqueezed(lin, &SqueezeOptions{Bits: 3, Median: 2, FPR: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	x, _ := testkit.MidImages(lin, 10, 200)
	if _, err := s.Logits(ctx, x, 200); err == nil {
		t.Fatal("an uncalibrated detector classified")
	}
	scores, _, err := s.Scores(ctx, x, 200)
	if err != nil {
		t.Fatal(err)
	}
	// The score by hand: max over squeezers of Σ|softmax(raw) − softmax(squeezed)|.
	size := lin.Shape.Size()
	for i := 0; i < 200; i++ {
		im := x[i*size : (i+1)*size]
		softmax := func(z []float64) []float64 {
			f := make([]float32, len(z))
			for j, v := range z {
				f[j] = float32(v)
			}
			return engine.Softmax(f)
		}
		p := softmax(lin.RawLogits(im))
		var want float64
		for _, sq := range [][]float32{ReduceBits(im, 3), MedianFilter(im, lin.Shape, 2)} {
			q := softmax(lin.RawLogits(sq))
			var l1 float64
			for j := range p {
				l1 += math.Abs(p[j] - q[j])
			}
			want = math.Max(want, l1)
		}
		if math.Abs(scores[i]-want) > 1e-5 {
			t.Fatalf("image %d: score %g, want %g", i, scores[i], want)
		}
	}
	if err := s.Calibrate(ctx, x, 200); err != nil {
		t.Fatal(err)
	}
	z, err := s.Logits(ctx, x, 200)
	if err != nil {
		t.Fatal(err)
	}
	rejected := 0
	for i, sc := range scores {
		rej := engine.Argmax(z[i*5:(i+1)*5]) == s.RejectClass()
		if rej != (sc > s.Threshold()) {
			t.Fatalf("image %d: score %g against threshold %g, rejected %v", i, sc, s.Threshold(), rej)
		}
		if rej {
			rejected++
		}
	}
	// 10% of 200 at most, and not far below (the scores are distinct).
	if rejected > 20 || rejected < 19 {
		t.Errorf("%d of 200 clean images rejected at a 10%% false-positive rate", rejected)
	}
	if got := s.Labels()[s.RejectClass()]; got != "rejected" || len(s.Labels()) != 5 {
		t.Errorf("labels %v", s.Labels())
	}
}

// TestRejectionIsAFailedAttack: an untargeted attack whose adversarial is
// rejected has not succeeded, though its class differs from the label.
func TestRejectionIsAFailedAttack(t *testing.T) {
	lin := testkit.NewLinear(11, 3, 4)
	x, labels := testkit.MidImages(lin, 12, 40)
	s, err := NewSqueezed(lin, &SqueezeOptions{Bits: 2, Median: 1, FPR: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Calibrate(context.Background(), x, 40); err != nil {
		t.Fatal(err)
	}
	a, err := attack.NewFGSM(&attack.FGSMOptions{Eps: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.Run(context.Background(), s, x, labels, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	rejected := 0
	for i, sr := range r.Samples {
		if sr.Pred == s.RejectClass() {
			rejected++
			if sr.Success {
				t.Errorf("image %d: rejected, yet counted a success", i)
			}
		}
	}
	if rejected == 0 {
		t.Fatal("no adversarial was rejected; the test proves nothing")
	}
}
