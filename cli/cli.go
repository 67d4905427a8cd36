// Package cli is advlab's headless command line: every job the GUI does, for
// scripts and tests. Each command lives in its own file and registers itself.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one `advlab <name>` subcommand.
type command struct {
	name    string
	summary string // one line for `advlab help`
	// run executes the command; args exclude the command's name. A returned
	// error is printed as one line; a usageError also prints the usage.
	run func(ctx context.Context, env *Env, args []string) error
}

// Env is what a command writes to; tests substitute buffers.
type Env struct {
	Stdout, Stderr io.Writer
	// Interactive is true when Stderr is a terminal, so progress bars may redraw.
	Interactive bool
}

var commands = map[string]*command{}

// register adds a command; it is called from each command file's init.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("cli: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// IsCommand reports whether name is an advlab subcommand (or help), so that
// main can tell a CLI invocation from a GUI start.
func IsCommand(name string) bool {
	_, ok := commands[name]
	return ok || name == "help" || name == "-h" || name == "--help"
}

// errUsage marks errors caused by bad flags or arguments.
var errUsage = errors.New("usage")

// usagef returns a one-line usage error.
func usagef(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// Main runs `advlab args...` and returns the process exit status: 0 on
// success, 1 when the command failed, 2 on a usage error. Ctrl-C cancels the
// command's context, so long runs stop cleanly and keep their last result;
// the first signal restores the default handling, so a second one ends a
// stage that cannot stop sooner (ONNX Runtime building a session) at once.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop)
	env := &Env{Stdout: os.Stdout, Stderr: os.Stderr, Interactive: isTerminal(os.Stderr)}
	return Run(ctx, env, args)
}

// Run is Main with an explicit context and output, for tests.
func Run(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(env.Stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "advlab: unknown command %q; run `advlab help` for the list\n", args[0])
		return 2
	}
	err := c.run(ctx, env, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(env.Stderr, "advlab %s: %s\n", c.name, strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		return 2
	default:
		fmt.Fprintf(env.Stderr, "advlab %s: %s\n", c.name, oneLine(err.Error()))
		return 1
	}
}

// newFlagSet returns a flag set whose errors come back as usage errors rather
// than exiting, and whose -h prints the command's flags to stderr.
func newFlagSet(env *Env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: advlab %s %s\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing flags and positional arguments in any
// order, and wraps flag errors as usage errors.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "advlab: a workbench for adversarial examples and adversarial patches against image classifiers.")
	fmt.Fprintln(w, "\nWith no command, advlab opens the GUI on the embedded demo model.\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `advlab <command> -h` for a command's options.")
}

// oneLine joins a multi-line error message so it prints as one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
