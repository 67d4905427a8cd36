package onnxupgrade

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// TargetOpset is the default-domain opset that Upgrade produces.
const TargetOpset = 13

// MinOpset is the oldest default-domain opset that Upgrade accepts.
const MinOpset = 7

// minIRVersion is the IR version of ONNX 1.8, the release that brought opset 13.
const minIRVersion = 7

// Report says what Upgrade did to a model.
type Report struct {
	// FromOpset is the model's default-domain opset before the upgrade.
	FromOpset int64
	// ToOpset is its default-domain opset after it.
	ToOpset int64
	// Translated counts the rewritten nodes by kind; the kind is the
	// operator type, with the form it took in parentheses where an
	// operator has more than one, such as "Softmax (flatten-to-2D)".
	Translated map[string]int
	// Notes are the normalisations and assumptions made, one sentence each.
	Notes []string
}

// String sums the report up on one line.
func (r Report) String() string {
	var b strings.Builder
	if r.FromOpset == r.ToOpset {
		fmt.Fprintf(&b, "opset %d unchanged", r.FromOpset)
	} else {
		fmt.Fprintf(&b, "opset %d → %d", r.FromOpset, r.ToOpset)
	}
	kinds := make([]string, 0, len(r.Translated))
	for k := range r.Translated {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		ci, cj := r.Translated[kinds[i]], r.Translated[kinds[j]]
		if ci != cj {
			return ci > cj
		}
		return kinds[i] < kinds[j]
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d %s", r.Translated[k], k)
	}
	sep := ": "
	if len(parts) > 0 {
		b.WriteString(sep + strings.Join(parts, ", ") + " translated")
		sep = "; "
	}
	if len(r.Notes) > 0 {
		b.WriteString(sep + strings.Join(r.Notes, "; "))
	}
	return b.String()
}

// errNoModel is returned for a nil model or one without a graph.
var errNoModel = errors.New("onnxupgrade: the model has no graph; load a complete .onnx file")

// Upgrade returns a copy of m at default-domain opset 13 with a Report of
// what it did. Models already at opset 13 or later are returned with only
// the file normalisations applied (initializers removed from the graph
// inputs, IR version raised to 7). m itself is never modified. Models older
// than opset 7, and nodes whose old meaning has no opset-13 equivalent, are
// refused with an error that names the node.
func Upgrade(m *onnx.ModelProto) (*onnx.ModelProto, Report, error) {
	if m == nil || m.Graph == nil {
		return nil, Report{}, errNoModel
	}
	out, ok := proto.Clone(m).(*onnx.ModelProto)
	if !ok {
		return nil, Report{}, errors.New("onnxupgrade: could not copy the model")
	}
	from, imp, err := defaultOpset(out)
	if err != nil {
		return nil, Report{}, err
	}
	rep := Report{FromOpset: from, ToOpset: from, Translated: map[string]int{}}
	if imp != nil && from < MinOpset {
		return nil, rep, fmt.Errorf("onnxupgrade: the model is at opset %d, older than the oldest supported (%d); re-export it at opset %d or later", from, MinOpset, TargetOpset)
	}
	if n := dropInitializerInputs(out.Graph); n > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d %s listed as graph inputs made constants", n, plural(n, "weight", "weights")))
	}
	if imp != nil && from < TargetOpset {
		u := newUpgrader(out, from, &rep)
		if err := u.graph(out.Graph, nil); err != nil {
			return nil, rep, err
		}
		imp.Version = TargetOpset
		rep.ToOpset = TargetOpset
		rep.Notes = append(rep.Notes, u.notes...)
	}
	if out.IrVersion < minIRVersion {
		rep.Notes = append(rep.Notes, fmt.Sprintf("IR version %d raised to %d", out.IrVersion, minIRVersion))
		out.IrVersion = minIRVersion
	}
	return out, rep, nil
}

// UpgradeBytes parses an encoded model, upgrades it as Upgrade does,
// converts it to float32 as ToFloat32 does when it holds FLOAT16 or
// BFLOAT16 tensors (noted in the Report), and returns it encoded again: the
// one call that brings a downloaded .onnx file into the form advlab's
// gradient compiler reads.
func UpgradeBytes(data []byte) ([]byte, Report, error) {
	var m onnx.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		return nil, Report{}, fmt.Errorf("onnxupgrade: parse model: %w; is it an .onnx file?", err)
	}
	up, rep, err := Upgrade(&m)
	if err != nil {
		return nil, rep, err
	}
	if hasHalf(up) {
		var n int
		if up, n, err = ToFloat32(up); err != nil {
			return nil, rep, err
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d half-precision %s converted to float32", n, plural(n, "tensor", "tensors")))
	}
	out, err := proto.Marshal(up)
	if err != nil {
		return nil, rep, fmt.Errorf("onnxupgrade: encode the upgraded model: %w", err)
	}
	return out, rep, nil
}

// defaultOpset finds the model's default-domain opset import. It returns a
// nil import, and no error, for a model without default-domain nodes that
// imports no default opset.
func defaultOpset(m *onnx.ModelProto) (int64, *onnx.OperatorSetIdProto, error) {
	var imp *onnx.OperatorSetIdProto
	for _, o := range m.OpsetImport {
		if o == nil || !isDefaultDomain(o.Domain) {
			continue
		}
		if imp != nil && imp.Version != o.Version {
			return 0, nil, fmt.Errorf("onnxupgrade: the model imports the default opset twice (%d and %d); keep one opset_import entry", imp.Version, o.Version)
		}
		imp = o
	}
	if imp != nil {
		return imp.Version, imp, nil
	}
	if hasDefaultNodes(m.Graph) {
		return 0, nil, errors.New("onnxupgrade: the model has standard operators but no default-domain opset import; add one (opset_import domain \"\") or re-export the model")
	}
	return 0, nil, nil
}

func hasDefaultNodes(g *onnx.GraphProto) bool {
	found := false
	walkGraphs(g, func(g *onnx.GraphProto) {
		for _, n := range g.Node {
			if n != nil && isDefaultDomain(n.Domain) {
				found = true
			}
		}
	})
	return found
}

// isDefaultDomain reports whether d names the standard ONNX operator set.
func isDefaultDomain(d string) bool { return d == "" || d == "ai.onnx" }

// dropInitializerInputs removes from g.Input the entries that name an
// initializer, as IR-3 exporters listed every weight there, and returns how
// many it removed. Under IR >= 4 such an entry would make the weight a
// caller-overridable default; advlab treats weights as constants.
func dropInitializerInputs(g *onnx.GraphProto) int {
	inits := make(map[string]bool, len(g.Initializer))
	for _, t := range g.Initializer {
		if t != nil {
			inits[t.Name] = true
		}
	}
	kept := g.Input[:0:0]
	n := 0
	for _, in := range g.Input {
		if in != nil && inits[in.Name] {
			n++
			continue
		}
		kept = append(kept, in)
	}
	g.Input = kept
	return n
}

// walkGraphs calls f on g and on every subgraph held in a node attribute,
// depth first.
func walkGraphs(g *onnx.GraphProto, f func(*onnx.GraphProto)) {
	if g == nil {
		return
	}
	f(g)
	for _, n := range g.Node {
		if n == nil {
			continue
		}
		for _, a := range n.Attribute {
			if a == nil {
				continue
			}
			walkGraphs(a.G, f)
			for _, sg := range a.Graphs {
				walkGraphs(sg, f)
			}
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
