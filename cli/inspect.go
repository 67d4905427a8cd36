package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/advlab/advlab/engine"
	"github.com/advlab/advlab/engine/modelconfig"
	"github.com/advlab/advlab/engine/onnxmodel"
)

func init() {
	register(&command{
		name:    "inspect",
		summary: "say what advlab makes of a model: opset, input, preprocessing, output kind, labels, operators, gradient",
		run:     runInspect,
	})
}

const inspectUsage = "MODEL.onnx [--json]"

// inspectReport is `advlab inspect`'s result, as --json prints it.
type inspectReport struct {
	Model string `json:"model"`
	onnxmodel.Info
	Input struct {
		Name     string `json:"name"`
		Layout   string `json:"layout"`
		Channels int    `json:"channels"`
		Height   int    `json:"height"`
		Width    int    `json:"width"`
	} `json:"input"`
	Resize     string         `json:"resize"`
	Classes    int            `json:"classes"`
	FirstLabel []string       `json:"first_labels"`
	Operators  map[string]int `json:"operators"`
	// Gradient is "ok" or why the model has no gradient graph.
	Gradient string `json:"gradient"`
	// GradientNotes say where the gradient graph is not the model's exact
	// gradient (straight-through quantisation, binarisation).
	GradientNotes []string `json:"gradient_notes,omitempty"`
}

// runInspect loads a model the way every command does and reports what was
// found and chosen, including whatever advlab had to guess.
func runInspect(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "inspect", inspectUsage)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one model: advlab inspect %s", inspectUsage)
	}
	m, err := loadModel(pos[0])
	if err != nil {
		return err
	}
	defer m.Close()
	r := inspectReport{Model: m.Name(), Info: m.Info(), Classes: m.NumClasses(), Operators: m.Operators()}
	in := m.Input()
	r.Input.Name, r.Input.Layout = in.Name, string(in.Layout)
	r.Input.Channels, r.Input.Height, r.Input.Width = in.Channels, in.Height, in.Width
	r.Resize = "stretch to the input size"
	if rs := m.Resize(); rs.CenterCrop {
		r.Resize = fmt.Sprintf("short side to S/%.3g, then the centre S×S", rs.CropFraction)
	}
	r.FirstLabel = m.Labels()[:min(5, m.NumClasses())]
	r.Gradient = "ok"
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.GradientNotes, err = m.GradientNotes(engine.CrossEntropy); err != nil {
		r.Gradient = err.Error()
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printInspect(env.Stdout, &r)
	return nil
}

func printInspect(w io.Writer, r *inspectReport) {
	line := func(k, f string, a ...any) { fmt.Fprintf(w, "%-15s %s\n", k+":", fmt.Sprintf(f, a...)) }
	line("model", "%s", r.Model)
	op := fmt.Sprintf("%d", r.Opset)
	if r.Upgrade != "" {
		op += " — " + r.Upgrade
	}
	line("opset", "%s", op)
	declared := make([]string, len(r.InputDims))
	for i, d := range r.InputDims {
		declared[i] = fmt.Sprint(d)
		if d < 0 {
			declared[i] = "?"
		}
	}
	in := fmt.Sprintf("%q [%s]: %s %d×%d×%d", r.InputName, strings.Join(declared, ","), r.Input.Layout, r.Input.Channels, r.Input.Height, r.Input.Width)
	if r.Flat {
		in += fmt.Sprintf(", flat (%s)", r.FlattenOrder)
	}
	line("input", "%s", in)
	line("batch", "%s", r.Batching)
	line("configuration", "%s", r.Config)
	line("preprocessing", "%s; %s", r.Preprocessing, r.Resize)
	line("output", "%q: %s — %s", r.OutputName, r.Output, r.OutputFrom)
	line("logits", "%s", r.Logits)
	line("labels", "%s: %s…", r.Labels, strings.Join(sanitizeAll(r.FirstLabel), ", "))
	line("operators", "%s", formatOperators(r.Operators))
	grad := r.Gradient
	for _, n := range r.GradientNotes {
		grad += "; " + strings.TrimPrefix(n, "gradient: ")
	}
	line("gradient", "%s", grad)
	for _, n := range r.Notes {
		line("note", "%s", n)
	}
}

// sanitizeAll makes names safe to print on a terminal.
func sanitizeAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = modelconfig.SanitizeLabel(x)
	}
	return out
}

// formatOperators lists operator counts, most frequent first.
func formatOperators(ops map[string]int) string {
	type kv struct {
		op string
		n  int
	}
	var l []kv
	for k, v := range ops {
		l = append(l, kv{k, v})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].n > l[j].n || (l[i].n == l[j].n && l[i].op < l[j].op) })
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = fmt.Sprintf("%s×%d", e.op, e.n)
	}
	return strings.Join(parts, " ")
}
