package onnxrt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// LibraryEnv is the environment variable that names the ONNX Runtime shared
// library explicitly; it wins over every other place advlab looks.
const LibraryEnv = "ONNXRUNTIME_SHARED_LIBRARY_PATH"

// libraryName is the file name of the ONNX Runtime 1.24 shared library.
const libraryName = "libonnxruntime.so.1"

// fetchHint is what the user must run when no library is found.
const fetchHint = "run scripts/fetch-onnxruntime in the advlab source tree (or set " + LibraryEnv + " to a libonnxruntime.so.1 of ONNX Runtime 1.24)"

// ortRuntime owns ONNX Runtime's single global environment: the library path is
// set once and the environment initialised once, for the life of the process.
var ortRuntime struct {
	mu      sync.Mutex
	started bool
	err     error
}

// Init finds the ONNX Runtime shared library and initialises its
// environment. It is safe to call many times and from many goroutines; only the
// first call does work, and a failure is remembered and returned again.
func Init() error {
	ortRuntime.mu.Lock()
	defer ortRuntime.mu.Unlock()
	if ortRuntime.started || ortRuntime.err != nil {
		return ortRuntime.err
	}
	lib, err := FindLibrary()
	if err != nil {
		ortRuntime.err = err
		return err
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		ortRuntime.err = fmt.Errorf("starting ONNX Runtime from %s: %w; %s", lib, err, fetchHint)
		return ortRuntime.err
	}
	ortRuntime.started = true
	return nil
}

// FindLibrary returns the ONNX Runtime shared library advlab would use, looking
// in order at $ONNXRUNTIME_SHARED_LIBRARY_PATH, beside the executable, in the
// source tree's third_party/onnxruntime/linux-<arch>/ (searched upwards from the
// executable and from the working directory), then the system library paths.
func FindLibrary() (string, error) {
	if p := os.Getenv(LibraryEnv); p != "" {
		if isFile(p) {
			return p, nil
		}
		return "", fmt.Errorf("%s=%s: no such file; %s", LibraryEnv, p, fetchHint)
	}
	for _, p := range libraryCandidates() {
		if isFile(p) {
			return p, nil
		}
	}
	return "", errors.New("ONNX Runtime shared library " + libraryName + " not found; " + fetchHint)
}

// libraryCandidates lists, in search order, the paths FindLibrary tries after
// the environment variable.
func libraryCandidates() []string {
	var out []string
	var starts []string
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		dir := filepath.Dir(exe)
		out = append(out, filepath.Join(dir, libraryName))
		starts = append(starts, dir)
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	tree := filepath.Join("third_party", "onnxruntime", "linux-"+runtime.GOARCH, libraryName)
	for _, start := range starts {
		for dir := start; ; dir = filepath.Dir(dir) {
			out = append(out, filepath.Join(dir, tree))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	for _, dir := range systemLibraryDirs() {
		out = append(out, filepath.Join(dir, libraryName))
	}
	return out
}

// systemLibraryDirs lists the directories the dynamic loader searches by
// default on Linux, plus those in LD_LIBRARY_PATH.
func systemLibraryDirs() []string {
	var dirs []string
	for _, d := range filepath.SplitList(os.Getenv("LD_LIBRARY_PATH")) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	multiarch := map[string]string{"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}[runtime.GOARCH]
	for _, d := range []string{"/usr/local/lib", "/usr/lib", "/lib"} {
		dirs = append(dirs, d)
		if multiarch != "" {
			dirs = append(dirs, filepath.Join(d, multiarch))
		}
	}
	return dirs
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
