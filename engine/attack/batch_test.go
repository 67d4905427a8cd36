package attack

import (
	"context"
	"errors"
	"testing"

	"github.com/advlab/advlab/engine/internal/testkit"
)

// TestRunBatchedInterrupted cancels a run of PGD in its second batch of
// three: the first batch is finished, the second unfinished, the third
// absent, and Finished keeps exactly the first batch, equal to attacking it
// alone.
func TestRunBatchedInterrupted(t *testing.T) {
	l := testkit.NewLinear(9, 3, 0.5)
	x, labels := testkit.MidImages(l, 9, 9)
	d := l.Shape.Size()
	// ε too small to fool anything, so every batch runs all its steps.
	a, err := NewPGD(&PGDOptions{Eps: 1e-4, Norm: LInf, Steps: 10, Restarts: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		cancelInBatch int // 0: never
		samples, done int
		wantErr       error
	}{
		{"uninterrupted", 0, 9, 9, nil},
		{"cancelled in the first batch", 1, 3, 0, context.Canceled},
		{"cancelled in the second batch", 2, 6, 3, context.Canceled},
		{"cancelled in the last batch", 3, 9, 6, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res, err := RunBatched(ctx, a, l, x, labels, -1, 3, func(p Progress) {
				if p.Batch == tt.cancelInBatch && p.Step == 1 {
					cancel()
				}
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v; want %v", err, tt.wantErr)
			}
			if len(res.Samples) != tt.samples || res.Unfinished != tt.samples-tt.done {
				t.Fatalf("%d samples, %d unfinished; want %d and %d", len(res.Samples), res.Unfinished, tt.samples, tt.samples-tt.done)
			}
			fin := res.Finished()
			if len(fin.Samples) != tt.done || len(fin.Adversarial) != tt.done*d || fin.Unfinished != 0 {
				t.Fatalf("Finished: %d samples, %d values, %d unfinished; want %d images", len(fin.Samples), len(fin.Adversarial), fin.Unfinished, tt.done)
			}
			for b := 0; b < tt.done/3; b++ {
				alone, err := a.Run(context.Background(), l, x[b*3*d:(b+1)*3*d], labels[b*3:(b+1)*3], -1, nil)
				if err != nil {
					t.Fatal(err)
				}
				for i, s := range alone.Samples {
					if fin.Samples[b*3+i] != s {
						t.Errorf("image %d: %+v; attacked alone %+v", b*3+i, fin.Samples[b*3+i], s)
					}
				}
			}
		})
	}
}
