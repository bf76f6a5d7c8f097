package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestErrorsAreOneLine: a usage error names its problem in one line and
// prints no help; exit 2 (1 for other errors).
func TestErrorsAreOneLine(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	for _, tc := range []struct {
		cmd  func(context.Context, []string, cli.Env) error
		args []string
		want string
	}{
		{cli.Publish, nil, "missing FILE"},
		{cli.Publish, []string{"a.csv", "b.csv"}, `unexpected argument "b.csv"`},
		{cli.Publish, []string{"/nonexistent/file.jsonl"}, "cannot read /nonexistent/file.jsonl"},
		{cli.Operators, nil, "-org is required"},
		{cli.Results, []string{"-bogus"}, "flag provided but not defined: -bogus"},
		{cli.Results, []string{"-outcome", "great"}, `-outcome: "great" is not one of`},
		{cli.Replay, []string{"-outcome", "great"}, `-outcome: "great" is not one of`},
		{cli.Guard, []string{"approve"}, "-org is required with approve"},
		{cli.Guard, []string{"-org", "24", "approve", "now"}, `unexpected argument "now"`},
		{cli.Guard, []string{"allow", "-org", "24"}, `unknown action "allow": want approve or reject`},
		{cli.Explain, []string{""}, "EMPLOYEE_ID is empty"},
		{cli.Explain, nil, "missing EMPLOYEE_ID"},
	} {
		out, _, err := run(t, h, tc.cmd, tc.args...)
		code := 2
		if strings.HasPrefix(tc.want, "cannot") {
			code = 1
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || cli.ExitCode(err) != code {
			t.Errorf("%v: err = %v (exit %d), want one line with %q, exit %d", tc.args, err, cli.ExitCode(err), tc.want, code)
		}
		// A usage error prints no help: only its line, which main prints.
		if out != "" {
			t.Errorf("%v: printed %q", tc.args, out)
		}
	}
	var out bytes.Buffer
	err := cli.Results(t.Context(), nil, cli.Env{Stdout: &out, Stderr: &out, Environ: map[string]string{}})
	if err == nil || !strings.HasPrefix(err.Error(), "NATS_URL (or a NATS_CONTEXT with a url) is required") {
		t.Errorf("without NATS_URL: %v", err)
	}
}
