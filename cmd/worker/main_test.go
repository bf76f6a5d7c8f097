package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"help"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "publish FILE") {
		t.Errorf("help: %v\n%s", err, out.String())
	}
	if err := run(t.Context(), []string{"bogus"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), `unknown command "bogus"`) {
		t.Errorf("unknown command: %v", err)
	}
	// A misconfiguration stops the worker at start, naming the variables.
	t.Setenv("NATS_URL", "")
	t.Setenv("CHATHUB_BASE_URL", "")
	t.Setenv("CHATHUB_TOKEN", "")
	t.Setenv("BATCH_MAX_WAIT", "soon")
	err := run(t.Context(), nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "BATCH_MAX_WAIT: cannot parse") {
		t.Errorf("bad duration: %v", err)
	}
	t.Setenv("BATCH_MAX_WAIT", "")
	err = run(t.Context(), nil, &out, &errOut)
	for _, v := range []string{"NATS_URL", "CHATHUB_BASE_URL", "CHATHUB_TOKEN"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("missing configuration: %v, want it to name %s", err, v)
		}
	}
}
