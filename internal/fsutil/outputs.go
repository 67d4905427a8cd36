package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Path is a file or folder a command reads or writes, with the flag that
// named it so that a refusal can say which ("--out", "-o"; for a positional
// argument, a word such as "the model").
type Path struct {
	Flag string
	// Path is the name given; "" means the option was not given, and the
	// entry is skipped.
	Path string
}

// String is the flag and the path, as a refusal quotes them.
func (p Path) String() string {
	if p.Flag == "" {
		return p.Path
	}
	return p.Flag + " " + p.Path
}

// Outputs are what a command reads and what it will write. A command
// states them once, before any work, and Check refuses what would destroy
// an input or lose the work at its end.
type Outputs struct {
	// Inputs are the files and folders the command reads. No output may be
	// an input file, nor lie inside an input folder. Inputs that do not
	// exist are skipped: the command reports them when it reads them.
	Inputs []Path
	// Files are the files the command will write (with WriteFileAtomic).
	// Each one's folder must exist and be writable; an existing file must
	// be a regular file.
	Files []Path
	// Dirs are the folders the command will write files into. A missing
	// one is created (with its parents) once every check has passed.
	Dirs []Path
	// Stdout means that "-" among Files is standard output, which the
	// command writes itself; otherwise "-" is refused.
	Stdout bool
}

// Check applies the rules of Outputs and creates the missing Dirs. Its
// error is one line naming the option and saying what to do.
func (o Outputs) Check() error {
	var ins []input
	for _, p := range o.Inputs {
		if p.Path == "" {
			continue
		}
		if st, err := os.Stat(p.Path); err == nil {
			ins = append(ins, input{Path: p, st: st})
		}
	}
	var outs []output
	for _, p := range o.Files {
		if p.Path == "" || p.Path == "-" && o.Stdout {
			continue
		}
		if p.Path == "-" {
			return fmt.Errorf("%s: this command cannot write to standard output; name a file", p)
		}
		out, err := checkFile(p, ins)
		if err != nil {
			return err
		}
		outs = append(outs, out)
	}
	var create []Path
	for _, p := range o.Dirs {
		if p.Path == "" {
			continue
		}
		out, err := checkDir(p, ins)
		if err != nil {
			return err
		}
		if out.st == nil {
			create = append(create, p)
		}
		outs = append(outs, out)
	}
	for i, a := range outs {
		for _, b := range outs[:i] {
			if a.canon == b.canon || a.st != nil && b.st != nil && os.SameFile(a.st, b.st) {
				return fmt.Errorf("%s: %s writes there too; give each output its own name", a.Path, b.Path)
			}
		}
	}
	for _, p := range create {
		if err := os.MkdirAll(p.Path, 0o755); err != nil {
			return fmt.Errorf("%s: cannot create the folder (%v); choose another", p, unwrapPath(err))
		}
		if err := probeWritable(p.Path); err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
	}
	return nil
}

// input is an input that exists.
type input struct {
	Path
	st fs.FileInfo
}

// output is a checked output: its absolute name with the symbolic links of
// its existing part resolved, and its FileInfo when it exists.
type output struct {
	Path
	canon string
	st    fs.FileInfo
}

// checkFile checks one file output against the inputs.
func checkFile(p Path, ins []input) (output, error) {
	out := output{Path: p}
	dir := filepath.Dir(p.Path)
	if err := checkFolder(dir); err != nil {
		return out, fmt.Errorf("%s: %v", p, err)
	}
	st, err := os.Stat(p.Path)
	switch {
	case err == nil:
		if err := regularFile(st); err != nil {
			return out, fmt.Errorf("%s: %v", p, err)
		}
		out.st = st
	case errors.Is(err, fs.ErrNotExist):
		if lst, lerr := os.Lstat(p.Path); lerr == nil && lst.Mode()&fs.ModeSymlink != 0 {
			return out, fmt.Errorf("%s: it is a symbolic link to nothing; remove it or choose another file", p)
		}
	default:
		return out, fmt.Errorf("%s: %v", p, unwrapPath(err))
	}
	for _, in := range ins {
		if out.st != nil && os.SameFile(out.st, in.st) {
			return out, fmt.Errorf("%s: it is the same file as %s, which writing it would destroy; choose another output", p, in.Path)
		}
	}
	if err := checkOutside(p, dir, ins); err != nil {
		return out, err
	}
	if err := probeWritable(dir); err != nil {
		return out, fmt.Errorf("%s: %v", p, err)
	}
	out.canon = canonical(p.Path)
	return out, nil
}

// checkDir checks one folder output against the inputs.
func checkDir(p Path, ins []input) (output, error) {
	out := output{Path: p}
	st, err := os.Stat(p.Path)
	switch {
	case err == nil:
		if !st.IsDir() {
			return out, fmt.Errorf("%s: it exists and is not a folder; choose a folder", p)
		}
		out.st = st
		if err := probeWritable(p.Path); err != nil {
			return out, fmt.Errorf("%s: %v", p, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return out, fmt.Errorf("%s: %v", p, unwrapPath(err))
	}
	if err := checkOutside(p, p.Path, ins); err != nil {
		return out, err
	}
	out.canon = canonical(p.Path)
	return out, nil
}

// checkOutside refuses p when dir, the folder it writes in, is an input
// folder or lies inside one. Folders are compared by identity
// (os.SameFile), so symbolic links and other names of a folder are seen
// through.
func checkOutside(p Path, dir string, ins []input) error {
	for d := canonical(dir); ; d = filepath.Dir(d) {
		if st, err := os.Stat(d); err == nil {
			for _, in := range ins {
				if in.st.IsDir() && os.SameFile(st, in.st) {
					return fmt.Errorf("%s: it is inside %s, which it would change; write outputs outside the inputs", p, in.Path)
				}
			}
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}

// canonical returns path made absolute with the symbolic links of its
// longest existing prefix resolved, so that two names of one output
// compare equal even before it exists.
func canonical(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	rest := ""
	for d := abs; ; d = filepath.Dir(d) {
		if real, err := filepath.EvalSymlinks(d); err == nil {
			return filepath.Join(real, rest)
		}
		if filepath.Dir(d) == d {
			return abs
		}
		rest = filepath.Join(filepath.Base(d), rest)
	}
}

// probeWritable checks that a file can be created in dir (permissions,
// read-only mounts) by creating and removing one of WriteFileAtomic's
// temporary files, which a cleaner removes should the process die first.
func probeWritable(dir string) error {
	const probe = "advlab-probe"
	removeStaleTemps(dir, probe)
	tmp, err := createTemp(dir, probe)
	if err != nil {
		return fmt.Errorf("cannot write in the folder %s (%v); choose another", dir, unwrapPath(err))
	}
	name := tmp.Name()
	tmp.Close()
	os.Remove(name)
	return nil
}

// unwrapPath drops the operation and path of an *fs.PathError, which the
// messages already name.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
