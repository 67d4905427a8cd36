package testkit

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// archsDir holds real torchvision architectures exported to ONNX with PyTorch
// autograd's reference outputs, one folder per architecture. They are too big
// to commit; archsGenerator writes them (make test runs it).
var archsDir = RepoPath("testdata-cache", "archs")

const archsGenerator = "scripts/fixtures/torch-archs.sh (run by scripts/gen-fixtures and make test)"

// ArchTolerance is the largest relative L2 error, ‖got−want‖/‖want‖, allowed
// between advlab's float32 results and PyTorch's float64 reference.
const ArchTolerance = 1e-3

// ArchRef is the header ref.json of one architecture's fixture.
type ArchRef struct {
	Architecture   string            `json:"architecture"`
	Batch          int               `json:"batch"`
	InputShape     []int             `json:"input_shape"`
	NumClasses     int               `json:"num_classes"`
	Targets        []int64           `json:"targets"`
	Mean           []float32         `json:"mean"`
	Std            []float32         `json:"std"`
	Files          map[string]string `json:"files"`
	TorchGradMs    float64           `json:"torch_grad_ms"`
	TorchForwardMs float64           `json:"torch_forward_ms"`
}

// ArchFixture is one architecture with PyTorch's outputs on a fixed batch.
type ArchFixture struct {
	Name string
	Dir  string
	Ref  ArchRef
	// Images is the batch (NCHW, [0,1]); Logits, Loss and Grad are PyTorch's
	// logits, per-sample cross-entropy, and d(sum loss)/d(Images).
	Images, Logits, Loss, Grad []float32
}

// ModelPath is the fixture's ONNX file; its sidecar model.json is beside it.
func (fx *ArchFixture) ModelPath() string { return filepath.Join(fx.Dir, "model.onnx") }

// ArchFixtures reads every architecture in archsDir, in name order, and skips
// the test when there are none.
func ArchFixtures(tb testing.TB) []*ArchFixture {
	tb.Helper()
	entries, err := os.ReadDir(archsDir)
	if os.IsNotExist(err) {
		tb.Skipf("no real-architecture fixtures in testdata-cache/archs; generate them with %s", archsGenerator)
	}
	if err != nil {
		tb.Fatal(err)
	}
	var out []*ArchFixture
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") { // .tmp-* is a generation in progress
			continue
		}
		fx, err := readArchFixture(filepath.Join(archsDir, e.Name()))
		if err != nil {
			tb.Fatalf("%v; delete the folder and rerun %s", err, archsGenerator)
		}
		out = append(out, fx)
	}
	if len(out) == 0 {
		tb.Skipf("testdata-cache/archs is empty; generate the fixtures with %s", archsGenerator)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ArchFixtureNamed returns the fixture called name, or the first one when it
// is absent, skipping the test when there are none.
func ArchFixtureNamed(tb testing.TB, name string) *ArchFixture {
	tb.Helper()
	all := ArchFixtures(tb)
	for _, fx := range all {
		if fx.Name == name {
			return fx
		}
	}
	return all[0]
}

func readArchFixture(dir string) (*ArchFixture, error) {
	fx := &ArchFixture{Name: filepath.Base(dir), Dir: dir}
	data, err := os.ReadFile(filepath.Join(dir, "ref.json"))
	if err != nil {
		return nil, fmt.Errorf("fixture %s is incomplete: %w", dir, err)
	}
	if err := json.Unmarshal(data, &fx.Ref); err != nil {
		return nil, fmt.Errorf("fixture %s: ref.json: %w", dir, err)
	}
	r := &fx.Ref
	if len(r.InputShape) != 3 || r.Batch <= 0 || r.NumClasses <= 0 || len(r.Targets) != r.Batch {
		return nil, fmt.Errorf("fixture %s: ref.json has batch %d, input_shape %v, %d classes, %d targets", dir, r.Batch, r.InputShape, r.NumClasses, len(r.Targets))
	}
	image := r.InputShape[0] * r.InputShape[1] * r.InputShape[2]
	for _, f := range []struct {
		key  string
		dst  *[]float32
		size int
	}{
		{"images", &fx.Images, r.Batch * image},
		{"logits", &fx.Logits, r.Batch * r.NumClasses},
		{"loss", &fx.Loss, r.Batch},
		{"grad", &fx.Grad, r.Batch * image},
	} {
		if *f.dst, err = ReadFloat32s(filepath.Join(dir, r.Files[f.key]), f.size); err != nil {
			return nil, fmt.Errorf("fixture %s: %s: %w", dir, f.key, err)
		}
	}
	return fx, nil
}

// ReadFloat32s reads a raw little-endian float32 file of exactly n values.
func ReadFloat32s(path string, n int) ([]float32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) != 4*n {
		return nil, fmt.Errorf("%s has %d bytes, want %d float32s", path, len(data), n)
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return out, nil
}

// RelL2 returns ‖got−want‖/‖want‖, computed in float64; +Inf for mismatched
// lengths or non-finite values, so that they always fail a tolerance.
func RelL2(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d, w float64
	for i := range want {
		e := float64(got[i]) - float64(want[i])
		d += e * e
		w += float64(want[i]) * float64(want[i])
	}
	r := math.Sqrt(d / w)
	if w == 0 {
		r = math.Sqrt(d)
	}
	if math.IsNaN(r) {
		return math.Inf(1)
	}
	return r
}

// WorstSampleRelL2 returns the largest RelL2 over the n samples of a batch,
// so a wrong small-norm sample cannot hide behind a large one.
func WorstSampleRelL2(got, want []float32, n int) float64 {
	if len(got) != len(want) || n <= 0 || len(want)%n != 0 {
		return math.Inf(1)
	}
	size, worst := len(want)/n, 0.0
	for i := 0; i < n; i++ {
		worst = max(worst, RelL2(got[i*size:(i+1)*size], want[i*size:(i+1)*size]))
	}
	return worst
}
