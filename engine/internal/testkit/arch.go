package testkit

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
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
	return FixtureFolders(tb, archsDir, "real-architecture", archsGenerator, readArchFixture)
}

// FixtureFolders reads every fixture folder of dir with read, in name order
// (a folder whose name starts with a dot is a generation in progress), and
// skips the test when there are none; what names the kind of fixture and
// generator the script that writes them, for the messages.
func FixtureFolders[T any](tb testing.TB, dir, what, generator string, read func(dir string) (T, error)) []T {
	tb.Helper()
	rel := filepath.Join(filepath.Base(filepath.Dir(dir)), filepath.Base(dir))
	entries, err := os.ReadDir(dir) // sorted by name
	if os.IsNotExist(err) {
		tb.Skipf("no %s fixtures in %s; generate them with %s", what, rel, generator)
	}
	if err != nil {
		tb.Fatal(err)
	}
	var out []T
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		fx, err := read(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatalf("%v; delete the folder and rerun %s", err, generator)
		}
		out = append(out, fx)
	}
	if len(out) == 0 {
		tb.Skipf("%s is empty; generate the %s fixtures with %s", rel, what, generator)
	}
	return out
}

// Check reports a header whose shapes do not fit together.
func (r *ArchRef) Check() error {
	if len(r.InputShape) != 3 || r.Batch <= 0 || r.NumClasses <= 0 || len(r.Targets) != r.Batch {
		return fmt.Errorf("ref.json has batch %d, input_shape %v, %d classes, %d targets", r.Batch, r.InputShape, r.NumClasses, len(r.Targets))
	}
	return nil
}

// ImageSize is the number of values in one image of the batch.
func (r *ArchRef) ImageSize() int { return r.InputShape[0] * r.InputShape[1] * r.InputShape[2] }

// FixtureArray is one raw float32 file of a fixture: its key in ref.json's
// "files", where it goes, and how many values it must hold.
type FixtureArray struct {
	Key string
	Dst *[]float32
	N   int
}

// ReadFixtureArrays reads each of arrays from the file that files names for
// its key in dir.
func ReadFixtureArrays(dir string, files map[string]string, arrays ...FixtureArray) error {
	for _, a := range arrays {
		name, ok := files[a.Key]
		if !ok {
			return fmt.Errorf("ref.json names no %s file", a.Key)
		}
		var err error
		if *a.Dst, err = ReadFloat32s(filepath.Join(dir, name), a.N); err != nil {
			return fmt.Errorf("%s: %w", a.Key, err)
		}
	}
	return nil
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
	if err := r.Check(); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", dir, err)
	}
	n, image := r.Batch, r.ImageSize()
	if err := ReadFixtureArrays(dir, r.Files,
		FixtureArray{Key: "images", Dst: &fx.Images, N: n * image},
		FixtureArray{Key: "logits", Dst: &fx.Logits, N: n * r.NumClasses},
		FixtureArray{Key: "loss", Dst: &fx.Loss, N: n},
		FixtureArray{Key: "grad", Dst: &fx.Grad, N: n * image},
	); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", dir, err)
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
