package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// ErrHelp is returned when the user asked for help; it is printed already
// and the command exits 0.
var ErrHelp = errors.New("help requested")

// ExitError carries the exit code of a command: 1 error, 2 usage, 3
// partly done or drift found.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// usageError is a command line the command cannot run: exit 2. The
// message names the problem only; main adds where the help is.
func usageError(format string, args ...any) error {
	return &ExitError{Code: 2, Err: fmt.Errorf(format, args...)}
}

// partly is work done in part (some lines invalid, drift found): exit 3.
func partly(format string, args ...any) error {
	return &ExitError{Code: 3, Err: fmt.Errorf(format, args...)}
}

// ExitCode maps what a command returned to the process's exit code.
func ExitCode(err error) int {
	var ee *ExitError
	switch {
	case err == nil, errors.Is(err, ErrHelp):
		return 0
	case errors.As(err, &ee):
		return ee.Code
	}
	return 1
}

// Args checks that the arguments left after the flags are exactly the
// named ones ("FILE"), and says which is missing or unexpected otherwise.
func Args(got []string, names ...string) error {
	switch {
	case len(got) < len(names):
		return usageError("missing %s", strings.Join(names[len(got):], " "))
	case len(got) > len(names):
		return usageError("unexpected argument %q", got[len(names)])
	}
	for i, a := range got {
		if a == "" {
			return usageError("%s is empty", names[i])
		}
	}
	return nil
}

// Count says how many of a thing there are, in the singular for one:
// "1 operator", "3 operators".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Spec describes a command for its help.
type Spec struct {
	// Synopsis is the command line after "worker", e.g. "plan [-json] FILE".
	Synopsis string
	// Summary says what the command does, in a sentence or two.
	Summary string
	// Example is a command line or two a user can copy.
	Example string
}

// Flags returns a flag set whose -h and --help print the command's help
// (synopsis, what it does, its flags, an example) to stdout.
func (s Spec) Flags(env Env) *flag.FlagSet {
	name, _, _ := strings.Cut(s.Synopsis, " ")
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		w := env.Stdout
		fmt.Fprintf(w, "usage: worker %s\n\n%s\n", s.Synopsis, s.Summary)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(w, "\nflags:")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
		if s.Example != "" {
			fmt.Fprintf(w, "\nexample:\n  %s\n", strings.ReplaceAll(s.Example, "\n", "\n  "))
		}
	}
	return fs
}

// Parse parses args into fs, flags before, between or after the
// arguments (single or double dash), and returns the arguments. Help is
// printed once and returned as ErrHelp; a bad flag is a usage error that
// names it, without the help.
func (s Spec) Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	// The flag package calls Usage itself on -h and on a bad flag; it is
	// silenced while parsing so that help prints once, and only when asked.
	help := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = help }()
	var positional, after []string
	rest := args
	for i, a := range args {
		if a == "--" {
			rest, after = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				help()
				return nil, ErrHelp
			}
			return nil, usageError("%v", err)
		}
		rest = fs.Args()
		if len(rest) == 0 {
			return append(positional, after...), nil
		}
		// An argument: keep it, and parse the flags after it too.
		positional = append(positional, rest[0])
		rest = rest[1:]
	}
}
