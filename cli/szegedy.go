package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/attack"
	"github.com/advlab/advlab/engine/eval"
	"github.com/advlab/advlab/engine/onnxmodel"
	"github.com/advlab/advlab/internal/fsutil"
)

func init() {
	register(&command{
		name:    "szegedy",
		summary: "reproduce Tables 1, 2 and 3 of Szegedy et al. (2013) on the zoo's MNIST networks",
		run:     runSzegedy,
	})
}

const szegedyUsage = "[--zoo DIR] [--images DIR] [--limit N] [--batch B] [--seed N] [--steps S] [--search-steps K] [-o FILE]"

// szegedyRun is everything the report needs.
type szegedyRun struct {
	zoo, images  string
	args         string
	limit        int
	seed         uint64
	opts         attack.LBFGSOptions
	models       []eval.Model
	tab          *transferTable
	facts        []netFacts // what each network's sidecar says, in szegedyNets order
	t3models     []eval.Model
	t3tab        *transferTable // Table 3: L-BFGS transfer between szegedyTable3Nets
	t3facts      []netFacts     // in szegedyTable3Nets order
	noise        []transferRow
	elapsed      time.Duration
	imagesPerNet int
}

func runSzegedy(ctx context.Context, env *Env, args []string) error {
	r, out, err := measureSzegedy(ctx, env, args)
	if err != nil {
		return err
	}
	var doc bytes.Buffer
	r.render(&doc)
	if out == "" || out == "-" {
		_, err := env.Stdout.Write(doc.Bytes())
		return err
	}
	if err := fsutil.WriteBytesAtomic(out, doc.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s (%d images, %s)\n", out, r.imagesPerNet, r.elapsed.Round(time.Second))
	return nil
}

// measureSzegedy parses szegedy's arguments and runs its measurements; it
// returns them with the -o file, for runSzegedy and report to render.
func measureSzegedy(ctx context.Context, env *Env, args []string) (*szegedyRun, string, error) {
	fs := newFlagSet(env, "szegedy", szegedyUsage)
	zoo := fs.String("zoo", "zoo/digits", "folder of the MNIST networks (<name>.onnx with sidecars)")
	images := fs.String("images", "", "image folder (default ZOO/samples)")
	limit := fs.Int("limit", 100, "use at most N images, spread over the classes (0: all)")
	batch := fs.Int("batch", 100, "images per batch")
	seed := fs.Uint64("seed", 1, "seed of the random target labels and the noise")
	steps := fs.Int("steps", 100, "L-BFGS iterations per value of c")
	search := fs.Int("search-steps", 10, "values of c tried per image")
	out := fs.String("o", "", "write the Markdown report to FILE (default or -: stdout)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, "", err
	}
	if len(pos) > 0 {
		return nil, "", usagef("unexpected argument %q", pos[0])
	}
	if *batch <= 0 {
		return nil, "", usagef("--batch %d must be positive", *batch)
	}
	opts := attack.DefaultLBFGSOptions()
	opts.MaxIterations, opts.SearchSteps, opts.Seed, opts.Untargeted = *steps, *search, *seed, attack.RandomWrongLabel
	lbfgs, err := attack.NewLBFGS(&opts)
	if err != nil {
		return nil, "", usagef("%v", err)
	}
	var files, missing []string
	for _, n := range szegedyNets {
		files = append(files, n.File)
	}
	for _, n := range szegedyTable3Nets {
		files = append(files, n.File)
	}
	if *images == "" {
		*images = filepath.Join(*zoo, "samples")
	}
	ins := []fsutil.Path{{Flag: "--images", Path: *images}}
	for _, f := range files {
		ins = append(ins, fsutil.Path{Flag: "the network", Path: filepath.Join(*zoo, f+".onnx")})
	}
	if err := checkOutputs(fsutil.Outputs{Inputs: ins, Files: []fsutil.Path{{Flag: "-o", Path: *out}}, Stdout: true}); err != nil {
		return nil, "", err
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(*zoo, f+".onnx")); err != nil {
			missing = append(missing, f+".onnx")
		}
	}
	if len(missing) > 0 {
		return nil, "", fmt.Errorf("the zoo at %s lacks %s; build it with tools/zoo (see README; --only table3 builds Table 3's networks) or point --zoo at it", *zoo, strings.Join(missing, ", "))
	}
	ds, err := loadImageSet(ctx, env, imageSetFlags{dir: *images}, *limit)
	if err != nil {
		return nil, "", err
	}
	r := &szegedyRun{zoo: *zoo, images: *images, limit: *limit, seed: *seed, opts: opts, args: strings.Join(args, " ")}
	var models []attackModel
	defer func() {
		for _, m := range models {
			m.Close()
		}
	}()
	var cs []engine.Classifier
	for i, f := range files {
		m, err := openAttackModel(filepath.Join(*zoo, f+".onnx"))
		if err != nil {
			return nil, "", err
		}
		models = append(models, m)
		cs = append(cs, m)
		if i < len(szegedyNets) {
			r.facts = append(r.facts, sidecarFacts(m))
		} else {
			r.t3facts = append(r.t3facts, sidecarFacts(m))
		}
	}
	if r.models, err = prepareModels(env, cs[:len(szegedyNets)], ds); err != nil {
		return nil, "", err
	}
	if r.t3models, err = prepareModels(env, cs[len(szegedyNets):], ds); err != nil {
		return nil, "", err
	}
	start := time.Now()
	if r.tab, err = transferMatrix(ctx, env, r.models, func(int) attack.Attack { return lbfgs }, nil, *batch); err != nil {
		return nil, "", err
	}
	if err := r.addNoiseRows(ctx, *batch); err != nil {
		return nil, "", err
	}
	if r.t3tab, err = transferMatrix(ctx, env, r.t3models, func(int) attack.Attack { return lbfgs }, nil, *batch); err != nil {
		return nil, "", err
	}
	r.elapsed = time.Since(start)
	r.imagesPerNet = ds.Len()
	return r, *out, nil
}

// addNoiseRows evaluates every network on the clean images plus Gaussian
// noise of each of the paper's standard deviations, clipped to [0,1].
func (r *szegedyRun) addNoiseRows(ctx context.Context, batch int) error {
	base := r.models[0]
	rng := rand.New(rand.NewPCG(r.seed, 0x6e6f697365))
	for _, sigma := range szegedyNoise {
		x := make([]float32, len(base.Images))
		for i, v := range base.Images {
			x[i] = clip01f(v + float32(sigma*rng.NormFloat64()))
		}
		rep, err := eval.Perturbed(ctx, "noise", x, r.models, 0, -1, &eval.Options{Batch: batch})
		if err != nil {
			return err
		}
		row := r.tab.row(rep)
		row.Source = fmt.Sprintf("Gaussian noise, stddev=%g", sigma)
		row.RMSMean = jsonFloat(rep.All.RMSMean)
		r.noise = append(r.noise, row)
	}
	return nil
}

// netFacts are a zoo network's training figures from its sidecar: error
// rates (NaN where absent), the number of training images (0 if absent)
// and, for Table 3's networks, the training half ("" if absent).
type netFacts struct {
	trainErr, testErr float64
	trainImages       int
	trainHalf         string
}

// sidecarFacts reads m's netFacts, if m is a model with a sidecar.
func sidecarFacts(m attackModel) netFacts {
	f := netFacts{trainErr: math.NaN(), testErr: math.NaN()}
	em, ok := m.(*onnxmodel.Model)
	if !ok {
		return f
	}
	if em.Config().TrainAccuracy > 0 {
		f.trainErr = 1 - em.Config().TrainAccuracy
	}
	if em.Config().TestAccuracy > 0 {
		f.testErr = 1 - em.Config().TestAccuracy
	}
	var ds struct {
		TrainImages int    `json:"train_images"`
		TrainHalf   string `json:"train_half"`
	}
	if len(em.Config().Dataset) > 0 && json.Unmarshal(em.Config().Dataset, &ds) == nil {
		f.trainImages, f.trainHalf = ds.TrainImages, ds.TrainHalf
	}
	return f
}

func clip01f(v float32) float32 {
	return min(max(v, 0), 1)
}
