package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/internal/fsutil"
)

func init() {
	register(&command{
		name:    "gradgraph",
		summary: "write a model's gradient graph: one ONNX graph computing logits, loss and d loss/d image",
		run:     runGradGraph,
	})
}

const gradGraphUsage = "MODEL.onnx -o OUT.onnx [--loss ce|margin|logit]"

// gradLosses maps the --loss names to loss kinds.
var gradLosses = map[string]engine.LossKind{
	engine.CrossEntropy.String(): engine.CrossEntropy,
	engine.Margin.String():       engine.Margin,
	engine.Logit.String():        engine.Logit,
}

// runGradGraph exports the gradient graph advlab runs for a model, so it can
// be inspected (Netron) or run by other ONNX tools: inputs are the model's
// image input, in [0,1] pixels with the preprocessing folded in, and
// "target" (int64 [N]); outputs are "logits", "loss" and "grad".
func runGradGraph(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "gradgraph", gradGraphUsage)
	out := fs.String("o", "", "output file for the gradient graph (.onnx), or - for standard output")
	lossName := fs.String("loss", "ce", "loss to differentiate: ce (cross-entropy), margin (Carlini–Wagner) or logit (the target's logit)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usagef("want the model to export: advlab gradgraph %s", gradGraphUsage)
	case len(pos) > 1:
		return usagef("want one model, got %d (%s)", len(pos), strings.Join(pos, " "))
	case *out == "":
		return usagef("-o is required: the file to write the gradient graph to, e.g. -o grad.onnx")
	}
	loss, ok := gradLosses[strings.ToLower(*lossName)]
	if !ok {
		return usagef("--loss %s: use ce, margin or logit", *lossName)
	}
	if err := checkOutputs(fsutil.Outputs{Inputs: []fsutil.Path{{Flag: "the model", Path: pos[0]}},
		Files: []fsutil.Path{{Flag: "-o", Path: *out}}, Stdout: true}); err != nil {
		return err
	}
	m, err := loadModel(pos[0])
	if err != nil {
		return err
	}
	defer m.Close()
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := m.GradientGraph(loss)
	if err != nil {
		return err
	}
	report := env.Stdout
	if *out == "-" {
		if _, err := env.Stdout.Write(data); err != nil {
			return err
		}
		report = env.Stderr
	} else if err := fsutil.WriteBytesAtomic(*out, data); err != nil {
		return err
	}
	in := m.Input()
	fmt.Fprintf(report, "wrote %s: %s loss of %s; inputs %s (%s, %d×%d×%d, [0,1] pixels) and target [N]; outputs logits [N,%d], loss [N], grad\n",
		*out, loss, m.Name(), in.Name, in.Layout, in.Channels, in.Height, in.Width, m.NumClasses())
	return nil
}
