package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs main itself when a test starts this test binary as the
// worker (see worker), so that exit codes and both streams are checked
// as a user sees them; otherwise it runs the tests.
func TestMain(m *testing.M) {
	if os.Getenv("WORKER_TEST_AS_MAIN") == "1" {
		os.Args = append([]string{"worker"}, os.Args[1:]...)
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

// worker runs the binary with args and only the given variables, and
// returns stdout, stderr and the exit code.
func worker(t *testing.T, environ []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], args...)
	cmd.Env = append([]string{"WORKER_TEST_AS_MAIN=1", "PATH=" + os.Getenv("PATH")}, environ...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// TestHelpAndUsageErrors: help once on stdout with exit 0; a usage error
// is one line on stderr saying where the help is, with exit 2.
func TestHelpAndUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"publish", "-h"}, {"publish", "--help"}, {"help", "publish"}, {"-h", "publish"}, {"check", "-h"}} {
		out, errOut, code := worker(t, nil, args...)
		if code != 0 || errOut != "" || strings.Count(out, "usage: worker ") != 1 || strings.Count(out, "example:") != 1 {
			t.Errorf("%v: exit %d, stderr %q, help printed %d times:\n%s", args, code, errOut, strings.Count(out, "usage: worker "), out)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"publish", "-bogus"}, "worker: flag provided but not defined: -bogus; see 'worker publish -h'"},
		{[]string{"results", "extra"}, `worker: unexpected argument "extra"; see 'worker results -h'`},
		{[]string{"publish"}, "worker: missing FILE; see 'worker publish -h'"},
		{[]string{"guard", "approve"}, "worker: -org is required with approve: the organization whose held deactivations to approve; see 'worker guard -h'"},
		{[]string{"operators"}, "worker: -org is required: the organization id, a positive integer; see 'worker operators -h'"},
		{[]string{"help", "bogus"}, `worker: unknown command "bogus"; see 'worker help'`},
		{[]string{"help", "publish", "plan"}, `worker: unexpected argument "plan"; see 'worker help'`},
		{[]string{"bogus"}, `worker: unknown command "bogus"; see 'worker help'`},
		{[]string{"version", "now"}, `worker: unexpected argument "now"; see 'worker version -h'`},
		{[]string{"run", "now"}, `worker: unexpected argument "now"; see 'worker run -h'`},
		{[]string{"demo", "-fast"}, "worker: flag provided but not defined: -fast; see 'worker demo -h'"},
	} {
		out, errOut, code := worker(t, nil, tc.args...)
		if code != 2 || out != "" || errOut != tc.want+"\n" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and only\n%s", tc.args, code, out, errOut, tc.want)
		}
	}
}

// TestConfigurationErrorLines: every problem of a configuration is a line
// of its own with the program's name, and the worker does not start.
func TestConfigurationErrorLines(t *testing.T) {
	t.Parallel()
	out, errOut, code := worker(t, []string{"JS_REPLICAS=9"})
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	if code != 1 || out != "" || len(lines) != 4 {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s\nwant exit 1 and four problems", code, out, errOut)
	}
	for i, v := range []string{"NATS_URL", "CHATHUB_BASE_URL", "CHATHUB_TOKEN", "JS_REPLICAS"} {
		if !strings.HasPrefix(lines[i], "worker: "+v) {
			t.Errorf("line %d: %q, want it to start with worker: %s", i+1, lines[i], v)
		}
	}
}
