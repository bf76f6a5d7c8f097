package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseFlagsAnywhere(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	spec := Spec{Synopsis: "publish [-allow-invalid] FILE", Summary: "Publishes.", Example: "worker publish team.csv"}
	for _, tc := range []struct {
		args  []string
		pos   []string
		allow bool
		src   string
		err   error
		code  int
	}{
		{[]string{"team.csv", "-allow-invalid"}, []string{"team.csv"}, true, "", nil, 0},
		{[]string{"--allow-invalid", "team.csv", "-source", "hr/x"}, []string{"team.csv"}, true, "hr/x", nil, 0},
		{[]string{"-", "--source=hr/y"}, []string{"-"}, false, "hr/y", nil, 0},
		{[]string{"--", "-odd-name.csv"}, []string{"-odd-name.csv"}, false, "", nil, 0},
		{[]string{"-h"}, nil, false, "", ErrHelp, 0},
		{[]string{"team.csv", "--help"}, nil, false, "", ErrHelp, 0},
		{[]string{"-bogus"}, nil, false, "", nil, 2},
	} {
		fs := spec.Flags(Env{Stdout: &out})
		allow := fs.Bool("allow-invalid", false, "")
		src := fs.String("source", "", "")
		pos, err := spec.Parse(fs, tc.args)
		if tc.err != nil || tc.code != 0 {
			if (tc.err != nil && !errors.Is(err, tc.err)) || ExitCode(err) != tc.code {
				t.Errorf("%v: err %v (exit %d)", tc.args, err, ExitCode(err))
			}
			continue
		}
		if err != nil || strings.Join(pos, " ") != strings.Join(tc.pos, " ") || *allow != tc.allow || *src != tc.src {
			t.Errorf("%v: %v %v %v %q", tc.args, err, pos, *allow, *src)
		}
	}
	// Two of the cases asked for help; the bad flag printed none.
	if n := strings.Count(out.String(), "usage: worker publish [-allow-invalid] FILE"); n != 2 || !strings.Contains(out.String(), "example:\n  worker publish team.csv") {
		t.Errorf("help printed %d times, want 2:\n%s", n, out.String())
	}
}

// TestHelpOnce: -h prints the help once; a bad flag prints nothing and is
// a one-line usage error naming the flag.
func TestHelpOnce(t *testing.T) {
	t.Parallel()
	spec := Spec{Synopsis: "results [-json]", Summary: "Prints results.", Example: "worker results"}
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-json", "-help"}} {
		var out bytes.Buffer
		fs := spec.Flags(Env{Stdout: &out})
		fs.Bool("json", false, "print JSON")
		if _, err := spec.Parse(fs, args); !errors.Is(err, ErrHelp) || strings.Count(out.String(), "usage: worker results") != 1 ||
			!strings.Contains(out.String(), "-json") {
			t.Errorf("%v: %v, help:\n%s", args, err, out.String())
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"-json=maybe"}, `invalid boolean value "maybe" for -json: parse error`},
	} {
		var out bytes.Buffer
		fs := spec.Flags(Env{Stdout: &out})
		fs.Bool("json", false, "print JSON")
		_, err := spec.Parse(fs, tc.args)
		if ExitCode(err) != 2 || err.Error() != tc.want || out.Len() != 0 {
			t.Errorf("%v: exit %d %q, printed %q; want exit 2 %q and nothing printed", tc.args, ExitCode(err), err, out.String(), tc.want)
		}
	}
}

func TestArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		got, names []string
		want       string
	}{
		{nil, nil, ""},
		{[]string{"a.csv"}, []string{"FILE"}, ""},
		{nil, []string{"FILE"}, "missing FILE"},
		{[]string{"x"}, nil, `unexpected argument "x"`},
		{[]string{"a", "b"}, []string{"FILE"}, `unexpected argument "b"`},
		{[]string{""}, []string{"EMPLOYEE_ID"}, "EMPLOYEE_ID is empty"},
	} {
		err := Args(tc.got, tc.names...)
		if (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || err.Error() != tc.want || ExitCode(err) != 2)) {
			t.Errorf("Args(%q, %q) = %v, want %q", tc.got, tc.names, err, tc.want)
		}
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0 operators", 1: "1 operator", 2: "2 operators", 12: "12 operators"} {
		if got := Count(n, "operator"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}
