package cli_test

import (
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
