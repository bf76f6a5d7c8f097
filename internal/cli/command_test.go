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
	if !strings.Contains(out.String(), "usage: worker publish [-allow-invalid] FILE") || !strings.Contains(out.String(), "example:\n  worker publish team.csv") {
		t.Errorf("help:\n%s", out.String())
	}
}
