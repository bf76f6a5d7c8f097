package cli_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestToolsBeforeAnyWorker: before any worker has run (and before the HR
// system created HR_EVENTS), each tool says in one line that the stream or
// bucket does not exist yet and that the worker creates it at its first
// start, prints nothing else, and exits 1.
func TestToolsBeforeAnyWorker(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	if err := h.JS.DeleteStream(t.Context(), "HR_EVENTS"); err != nil {
		t.Fatal(err)
	}
	events := writeFile(t, "events.jsonl", string(testenv.Event{ID: "b1", Kind: "hired", Employee: "E-b", Name: "Early", Org: 24, At: t0}.Body())+"\n")
	for _, tc := range []struct {
		cmd  func(context.Context, []string, cli.Env) error
		args []string
		want string
	}{
		{cli.Publish, []string{events}, "cannot publish: no stream takes hr.events.hired: HR_EVENTS does not exist yet: " +
			"the worker creates it at its first start (start the worker once), or the HR system creates it with subjects hr.events.>"},
		{cli.Results, []string{"-follow=false"}, "stream HR_RESULTS does not exist yet: the worker creates it at its first start"},
		{cli.Results, []string{"-json"}, "stream HR_RESULTS does not exist yet"},
		{cli.Replay, nil, "stream HR_RESULTS does not exist yet"},
		{cli.Guard, nil, "the bucket chathub-operator-worker does not exist yet: the worker creates it at its first start"},
		{cli.Guard, []string{"approve", "-org", "24"}, "the bucket chathub-operator-worker does not exist yet"},
	} {
		out, errOut, err := run(t, h, tc.cmd, tc.args...)
		if cli.ExitCode(err) != 1 || !errors.Is(err, cli.ErrNotCreated) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: exit %d, %v\nwant one line with %q", tc.args, cli.ExitCode(err), err, tc.want)
		}
		if out != "" || errOut != "" {
			t.Errorf("%v: printed %q, %q; want only the error", tc.args, out, errOut)
		}
	}
}

// TestToolsWarnOfUnknownVariables: a misspelled variable is named on
// stderr with the closest known one, and the tool runs all the same.
func TestToolsWarnOfUnknownVariables(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	var out, errOut bytes.Buffer
	env := cli.Env{Stdout: &out, Stderr: &errOut, Environ: map[string]string{
		"NATS_URL": h.NS.ClientURL(), "BATCH_MAXWAIT": "1s", "GUARD_SOMETHING": "x", "HTTP_PROXY": "",
	}}
	if err := cli.Results(t.Context(), []string{"-follow=false"}, env); err != nil {
		t.Errorf("results: %v", err)
	}
	want := "worker: warning: BATCH_MAXWAIT is not a variable the worker reads (ignored); did you mean BATCH_MAX_WAIT?\n" +
		"worker: warning: GUARD_SOMETHING is not a variable the worker reads (ignored)\n"
	if errOut.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut.String(), want)
	}
	if !strings.HasPrefix(out.String(), "OUTCOME ") {
		t.Errorf("stdout: %q", out.String())
	}
}
