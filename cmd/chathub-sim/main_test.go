package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestHelp: -help prints the flags on stdout and exits 0; a bad flag or
// an argument is one line and exit 2.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-help"}, {"-h"}, {"--help"}} {
		var out, errOut bytes.Buffer
		err := run(t.Context(), args, &out, &errOut)
		if exitCode(err) != 0 || errOut.Len() != 0 || strings.Count(out.String(), "usage: chathub-sim") != 1 || !strings.Contains(out.String(), "-error-rate") {
			t.Errorf("%v: exit %d (%v), stderr %q, stdout:\n%s", args, exitCode(err), err, errOut.String(), out.String())
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-bogus"}, "flag provided but not defined: -bogus; see 'chathub-sim -h'"},
		{[]string{"-orgs"}, "flag needs an argument: -orgs; see 'chathub-sim -h'"},
		{[]string{"serve"}, `unexpected argument "serve"; see 'chathub-sim -h'`},
	} {
		var out, errOut bytes.Buffer
		err := run(t.Context(), tc.args, &out, &errOut)
		if exitCode(err) != 2 || err.Error() != tc.want || out.Len()+errOut.Len() != 0 {
			t.Errorf("%v: exit %d %q, printed %q %q; want exit 2 %q", tc.args, exitCode(err), err, out.String(), errOut.String(), tc.want)
		}
	}
}
