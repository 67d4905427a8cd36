package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advlab/advlab/engine"
)

// brightness is a closed-form two-class classifier on 1×8×8 images: class
// "bright" when the mean pixel is above 0.5, "dark" below, with logits
// ±k·(mean − 0.5). It stands in for an ONNX model in CLI tests.
type brightness struct {
	id     string
	side   int // image side; 0 means 8
	calls  int // Logits and Gradient calls
	closed bool
}

func (b *brightness) Name() string     { return "brightness" + b.id }
func (b *brightness) Labels() []string { return []string{"dark", "bright"} }
func (b *brightness) InputShape() engine.ImageShape {
	s := b.side
	if s == 0 {
		s = 8
	}
	return engine.ImageShape{Channels: 1, Height: s, Width: s}
}
func (b *brightness) Close() error { b.closed = true; return nil }

const brightK = 20

func (b *brightness) logits(x []float32) (float64, float64) {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	m := s/float64(len(x)) - 0.5
	return -brightK * m, brightK * m
}

func (b *brightness) Logits(ctx context.Context, images []float32, n int) ([]float32, error) {
	b.calls++
	d := b.InputShape().Size()
	if len(images) != n*d {
		return nil, fmt.Errorf("bad batch")
	}
	out := make([]float32, 0, 2*n)
	for i := 0; i < n; i++ {
		z0, z1 := b.logits(images[i*d : (i+1)*d])
		out = append(out, float32(z0), float32(z1))
	}
	return out, nil
}

func (b *brightness) Gradient(ctx context.Context, loss engine.LossKind, images []float32, targets []int64) (engine.Gradients, error) {
	b.calls++
	d := b.InputShape().Size()
	n := len(targets)
	g := engine.Gradients{Logits: make([]float32, 2*n), Loss: make([]float32, n), Grad: make([]float32, n*d)}
	for i := 0; i < n; i++ {
		z0, z1 := b.logits(images[i*d : (i+1)*d])
		z := []float64{z0, z1}
		t := int(targets[i])
		dz := []float64{-brightK / float64(d), brightK / float64(d)} // ∂z_j/∂x_p
		var coef [2]float64
		switch loss {
		case engine.CrossEntropy:
			m := math.Max(z0, z1)
			s := math.Exp(z0-m) + math.Exp(z1-m)
			coef[0], coef[1] = math.Exp(z0-m)/s, math.Exp(z1-m)/s
			coef[t]--
			g.Loss[i] = float32(m + math.Log(s) - z[t])
		case engine.Margin:
			coef[1-t], coef[t] = 1, -1
			g.Loss[i] = float32(z[1-t] - z[t])
		case engine.Logit:
			coef[t] = 1
			g.Loss[i] = float32(z[t])
		}
		g.Logits[2*i], g.Logits[2*i+1] = float32(z0), float32(z1)
		for p := 0; p < d; p++ {
			g.Grad[i*d+p] = float32(coef[0]*dz[0] + coef[1]*dz[1])
		}
	}
	return g, nil
}

// useFake makes the attack commands open b instead of a model file.
func useFake(t *testing.T, b *brightness) *int {
	t.Helper()
	opened := new(int)
	old := openAttackModel
	openAttackModel = func(string) (attackModel, error) { *opened++; return b, nil }
	t.Cleanup(func() { openAttackModel = old })
	return opened
}

// brightFolder writes dark (0.35) and bright (0.65) 8×8 PNGs, with a little
// texture, into DIR/dark and DIR/bright.
func brightFolder(t *testing.T, perClass int) string {
	t.Helper()
	dir := t.TempDir()
	for c, base := range map[string]uint8{"dark": 89, "bright": 166} {
		if err := os.MkdirAll(filepath.Join(dir, c), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < perClass; i++ {
			img := image.NewGray(image.Rect(0, 0, 8, 8))
			for p := range img.Pix {
				img.Pix[p] = base + uint8((p*7+i*3)%9) - 4
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, c, fmt.Sprintf("%d.png", i)), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func runAdvlab(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(context.Background(), &Env{Stdout: &out, Stderr: &errb}, args)
	return code, out.String(), errb.String()
}

// TestAttackBadOptions checks that bad options fail with exit status 2 and a
// one-line reason before any work: no model evaluation, and for option
// mistakes not even opening the model.
func TestAttackBadOptions(t *testing.T) {
	good := brightFolder(t, 1)
	empty := t.TempDir()
	if err := os.MkdirAll(filepath.Join(empty, "dark"), 0o755); err != nil {
		t.Fatal(err)
	}
	stray := brightFolder(t, 1)
	if err := os.Rename(filepath.Join(stray, "dark"), filepath.Join(stray, "grey")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		want    string
		mayOpen bool // the reason needs the model's labels
	}{
		{"no method", []string{"--images", good}, "--method is required", false},
		{"unknown method", []string{"--method", "magic", "--images", good}, `unknown method "magic"`, false},
		{"negative eps", []string{"--method", "pgd", "--eps", "-0.1", "--images", good}, "eps -0.1 must be positive", false},
		{"eps above 1", []string{"--method", "fgsm", "--eps", "3", "--images", good}, "larger than the whole", false},
		{"eps for deepfool", []string{"--method", "deepfool", "--eps", "0.1", "--images", good}, "--eps is not taken by --method deepfool", false},
		{"eps for lbfgs", []string{"--method", "lbfgs", "--eps", "0.1", "--images", good}, "has no budget", false},
		{"target for deepfool", []string{"--method", "deepfool", "--target", "dark", "--images", good}, "deepfool is untargeted", false},
		{"step size for fgsm", []string{"--method", "fgsm", "--step-size", "0.1", "--images", good}, "--step-size is not taken", false},
		{"cw with inf norm", []string{"--method", "cw", "--norm", "inf", "--images", good}, `cw: norm must be 2, not "inf"`, false},
		{"unknown norm", []string{"--method", "pgd", "--norm", "3", "--images", good}, `unknown norm "3"`, false},
		{"zero steps", []string{"--method", "pgd", "--steps", "0", "--images", good}, "steps 0 must be positive", false},
		{"negative step size", []string{"--method", "pgd", "--step-size", "-1", "--images", good}, "step size", false},
		{"zero restarts", []string{"--method", "pgd", "--restarts", "0", "--images", good}, "restarts 0", false},
		{"all steps for fgsm", []string{"--method", "fgsm", "--all-steps", "--images", good}, "--all-steps is not taken by --method fgsm", false},
		{"zero batch", []string{"--method", "fgsm", "--batch", "0", "--images", good}, "--batch 0", false},
		{"negative limit", []string{"--method", "fgsm", "--limit", "-1", "--images", good}, "--limit -1", false},
		{"no images flag", []string{"--method", "fgsm"}, "or --labels-csv FILE is required", false},
		{"missing folder", []string{"--method", "fgsm", "--images", filepath.Join(good, "nope")}, "no such file", false},
		{"empty folder", []string{"--method", "fgsm", "--images", empty}, "no images in", false},
		{"stray argument", []string{"--method", "fgsm", "--images", good, "extra"}, `unexpected argument "extra"`, false},
		{"unknown flag", []string{"--method", "fgsm", "--images", good, "--frobnicate"}, "frobnicate", false},
		{"target the model lacks", []string{"--method", "pgd", "--target", "purple", "--images", good}, `"purple" is not one of the model's classes; they are dark, bright`, true},
		{"class folder the model lacks", []string{"--method", "pgd", "--images", stray}, `"grey"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &brightness{}
			opened := useFake(t, b)
			code, stdout, stderr := runAdvlab(append([]string{"attack"}, tt.args...)...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not say %q", stderr, tt.want)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 && !strings.Contains(tt.name, "unknown flag") {
				t.Errorf("reason is not one line: %q", stderr)
			}
			if stdout != "" {
				t.Errorf("printed %q", stdout)
			}
			if b.calls > 0 {
				t.Errorf("the model was evaluated %d times before the options were checked", b.calls)
			}
			if *opened > 0 && !tt.mayOpen {
				t.Errorf("the model was opened before the options were checked")
			}
		})
	}
}

func TestAttackJSONEndToEnd(t *testing.T) {
	dir := brightFolder(t, 3)
	out := filepath.Join(t.TempDir(), "adv")
	for _, method := range []string{"pgd", "fgsm", "deepfool", "cw", "lbfgs", "square"} {
		t.Run(method, func(t *testing.T) {
			b := &brightness{}
			useFake(t, b)
			args := []string{"attack", "--method", method, "--images", dir, "--json", "--batch", "4", "--out", out + method}
			if method == "pgd" || method == "fgsm" || method == "square" {
				args = append(args, "--eps", "0.3")
			}
			code, stdout, stderr := runAdvlab(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var rep attackReport
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout)
			}
			if rep.Images != 6 || len(rep.Records) != 6 || rep.Method != method {
				t.Fatalf("report %+v", rep)
			}
			if rep.CleanAccuracy != 1 {
				t.Errorf("clean accuracy %v, want 1", rep.CleanAccuracy)
			}
			if rep.AdversarialAccuracy != 0 || rep.AttackSuccessRate != 1 {
				t.Errorf("adversarial accuracy %v, success %v; want 0 and 1", rep.AdversarialAccuracy, rep.AttackSuccessRate)
			}
			for _, r := range rep.Records {
				if r.File == "" || r.Label == "" || r.Adversarial == r.Label || !r.Success {
					t.Errorf("record %+v", r)
				}
				f, err := os.Open(filepath.Join(out+method, strings.TrimSuffix(r.File, ".png")+".png"))
				if err != nil {
					t.Fatal(err)
				}
				img, err := png.Decode(f)
				f.Close()
				if err != nil || img.Bounds().Dx() != 8 {
					t.Fatalf("saved image %s: %v", r.File, err)
				}
			}
			if !b.closed {
				t.Error("model not closed")
			}
		})
	}
}

// TestAttackQuantisationUndoesTinyPerturbations checks that the report tells
// apart success before and after 8-bit quantisation: DeepFool with no
// overshoot ends a hair past the boundary, which rounding can undo.
func TestAttackQuantisationReported(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "dark"), 0o755); err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for p := range img.Pix {
		img.Pix[p] = 127
	}
	for p := 0; p < 31; p++ { // mean 0.49994: a hair dark
		img.SetGray(p%8, p/8, color.Gray{Y: 128})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dark", "edge.png"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	useFake(t, &brightness{})
	code, stdout, stderr := runAdvlab("attack", "--method", "deepfool", "--overshoot", "0", "--images", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"clean accuracy         100.0%", "adversarial accuracy   0.0%", "after 8-bit quantisation (in-memory 8-bit round trip): adversarial accuracy 100.0%"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

func TestAttackTargeted(t *testing.T) {
	dir := brightFolder(t, 2)
	useFake(t, &brightness{})
	code, stdout, stderr := runAdvlab("attack", "--method", "pgd", "--eps", "0.3", "--target", "bright", "--images", dir, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep attackReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.TargetedSuccessRate == nil || *rep.TargetedSuccessRate != 1 || rep.Target != "bright" || rep.AdversarialAccuracy != 0.5 {
		t.Errorf("targeted report %+v", rep)
	}
}
