package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

func TestCommandLine(t *testing.T) {
	var out, errOut testenv.SyncBuffer
	env := cli.Env{Stdout: &out, Stderr: &errOut}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		if err := run(t.Context(), args, env); cli.ExitCode(err) != 0 || !strings.Contains(out.String(), "publish") {
			t.Errorf("%v: exit %d %v\n%s", args, cli.ExitCode(err), err, out.String())
		}
	}
	for _, args := range [][]string{{"publish", "-h"}, {"help", "plan"}, {"guard", "--help"}, {"explain", "-h"}, {"reconcile", "-h"}} {
		out = testenv.SyncBuffer{}
		if err := run(t.Context(), args, env); cli.ExitCode(err) != 0 || !strings.Contains(out.String(), "usage: worker ") || !strings.Contains(out.String(), "example:") {
			t.Errorf("%v: exit %d %v\n%s", args, cli.ExitCode(err), err, out.String())
		}
	}
	out = testenv.SyncBuffer{}
	if err := run(t.Context(), []string{"--version"}, env); err != nil || !strings.HasPrefix(out.String(), "worker dev ") || !strings.Contains(out.String(), "nats.go") {
		t.Errorf("--version: %v %q", err, out.String())
	}
	if err := run(t.Context(), []string{"bogus"}, env); cli.ExitCode(err) != 2 || !strings.Contains(err.Error(), `unknown command "bogus"`) {
		t.Errorf("unknown command: exit %d %v", cli.ExitCode(err), err)
	}
	if err := run(t.Context(), []string{"operators", "-bogus"}, env); cli.ExitCode(err) != 2 {
		t.Errorf("an unknown flag: exit %d %v, want 2", cli.ExitCode(err), err)
	}
	// A misconfiguration stops the worker at start, naming the variables.
	t.Setenv("NATS_URL", "")
	t.Setenv("CHATHUB_BASE_URL", "")
	t.Setenv("CHATHUB_TOKEN", "")
	t.Setenv("BATCH_MAX_WAIT", "soon")
	err := run(t.Context(), nil, env)
	if cli.ExitCode(err) != 1 || !strings.Contains(err.Error(), "BATCH_MAX_WAIT: cannot parse") {
		t.Errorf("bad duration: %v", err)
	}
	t.Setenv("BATCH_MAX_WAIT", "")
	err = run(t.Context(), nil, env)
	for _, v := range []string{"NATS_URL", "CHATHUB_BASE_URL", "CHATHUB_TOKEN"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("missing configuration: %v, want it to name %s", err, v)
		}
	}
}

// TestLogLines: RFC 3339 timestamps with milliseconds in UTC, and the
// service named.
func TestLogLines(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(config.Config{LogLevel: "info"}, &buf, false, false)
	log.Info().Msg("hello")
	var line struct{ Time, Service, Message string }
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(line.Time) || line.Service != "chathub-operator-worker" {
		t.Errorf("log line %s", buf.String())
	}
}

// TestUnknownVariableLogged: the running worker names a misspelled
// variable in a warn log line, with the closest known name.
func TestUnknownVariableLogged(t *testing.T) {
	t.Setenv("BATCH_MAXWAIT", "1s")
	var buf bytes.Buffer
	warnUnknown(newLogger(config.Config{LogLevel: "info"}, &buf, false, false))
	// The test's own environment may hold other such variables.
	found := false
	for raw := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		var line struct {
			Level, Message, Variable string
			DidYouMean               string `json:"did_you_mean"`
		}
		if err := json.Unmarshal([]byte(raw), &line); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
		if line.Variable == "BATCH_MAXWAIT" {
			found = line.Level == "warn" && line.Message == "unknown variable ignored" && line.DidYouMean == "BATCH_MAX_WAIT"
		}
	}
	if !found {
		t.Errorf("no warning for BATCH_MAXWAIT suggesting BATCH_MAX_WAIT:\n%s", buf.String())
	}
}

// TestDemoColours: the demo's readable log lines carry ANSI colours only
// on a terminal, and never with NO_COLOR set.
func TestDemoColours(t *testing.T) {
	for _, tc := range []struct {
		terminal bool
		noColor  string
		want     bool
	}{
		{true, "", true},
		{false, "", false},
		{true, "1", false},
	} {
		t.Setenv("NO_COLOR", tc.noColor)
		var buf bytes.Buffer
		c := colour(cli.Env{Terminal: tc.terminal})
		log := newLogger(config.Config{LogLevel: "info"}, &buf, true, c)
		log.Warn().Str("employee_id", "E-1").Msg("event rejected")
		if got := strings.Contains(buf.String(), "\x1b["); got != tc.want || !strings.Contains(buf.String(), "event rejected") {
			t.Errorf("terminal %v, NO_COLOR %q: colours %v, want %v: %q", tc.terminal, tc.noColor, got, tc.want, buf.String())
		}
	}
}
