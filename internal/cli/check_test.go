package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// check runs worker check with the harness's configuration, changed by
// the given variables ("" unsets one).
func check(t *testing.T, h *testenv.Harness, vars map[string]string, args ...string) (string, string, error) {
	t.Helper()
	environ := map[string]string{"NATS_URL": h.NS.ClientURL(), "CHATHUB_BASE_URL": h.SimURL, "CHATHUB_TOKEN": testenv.Token}
	maps.Copy(environ, vars)
	maps.DeleteFunc(environ, func(_, v string) bool { return v == "" })
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err := cli.Check(ctx, args, cli.Env{Stdout: &out, Stderr: &errOut, Environ: environ})
	return out.String(), errOut.String(), err
}

// has says whether the output holds a line with the status, the check
// and the detail (a regular expression).
func has(out, status, check, detail string) bool {
	return regexp.MustCompile(`(?m)^` + status + ` +` + regexp.QuoteMeta(check) + ` +` + detail).MatchString(out)
}

// TestCheckBeforeAndAfterTheWorker: before a worker ran, what it creates
// is missing, which is not a problem; after, everything exists.
func TestCheckBeforeAndAfterTheWorker(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	out, _, err := check(t, h, nil)
	if err != nil {
		t.Errorf("before the worker: %v\n%s", err, out)
	}
	for _, want := range [][3]string{
		{"ok", "configuration", "valid"},
		{"ok", "variables", "no unknown variable"},
		{"ok", "nats", `connected to nats://127\.0\.0\.1:\d+, server 2\.`},
		{"ok", "jetstream", "enabled"},
		{"ok", "stream HR_EVENTS", "exists: 0 messages"},
		{"missing", "stream HR_RESULTS", "does not exist yet: the worker creates it at its first start"},
		{"missing", "stream CHATHUB_SCHEDULES", "does not exist yet"},
		{"missing", "consumer chathub-operator-worker", "not on HR_EVENTS yet"},
		{"missing", "bucket chathub-operator-worker", "does not exist yet"},
		{"ok", "chathub", "http://127.*accepts the token"},
	} {
		if !has(out, want[0], want[1], want[2]) {
			t.Errorf("want %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "all is well: the worker can start, and creates the 5 missing objects at its first start") {
		t.Errorf("summary:\n%s", out)
	}

	h.Start(h.Config())
	h.PublishEvent(testenv.Event{ID: "c1", Kind: "hired", Employee: "E-c", Name: "Checked", Org: 24, At: t0})
	h.WaitResults(1, 30*time.Second)
	out, _, err = check(t, h, nil, "-json")
	var got struct {
		OK                bool
		Problems, Missing int
		Checks            []struct{ Check, Status, Detail string }
	}
	if err != nil || json.Unmarshal([]byte(out), &got) != nil || !got.OK || got.Problems != 0 || got.Missing != 0 || len(got.Checks) != 11 {
		t.Fatalf("after the worker: %v\n%s", err, out)
	}
	for _, c := range got.Checks {
		if c.Status != "ok" {
			t.Errorf("check %+v, want ok", c)
		}
		if c.Check == "stream HR_EVENTS" && c.Detail != "exists: 1 message" {
			t.Errorf("HR_EVENTS: %q, want one message", c.Detail)
		}
	}
}

// TestCheckFindsProblems: each problem is one line saying what to do,
// and the command exits 1; the other checks still run.
func TestCheckFindsProblems(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	noJetStream := startPlainNATS(t)
	for _, tc := range []struct {
		name  string
		vars  map[string]string
		check string
		want  string
	}{
		{"wrong token", map[string]string{"CHATHUB_TOKEN": "wrong-token-123"},
			"chathub", `http://\S+ refuses the token \(HTTP 401\): check CHATHUB_TOKEN or CHATHUB_TOKEN_FILE`},
		{"unreachable NATS", map[string]string{"NATS_URL": "nats://" + closedAddr(t)},
			"nats", `cannot connect to NATS at nats://127\.0\.0\.1:\d+: .*; is NATS_URL right, and is the server up`},
		{"no JetStream", map[string]string{"NATS_URL": noJetStream},
			"jetstream", "JetStream is not enabled on the server: run nats-server with -js"},
		{"replicas on a single server", map[string]string{"JS_REPLICAS": "3"},
			"jetstream", `JS_REPLICAS=3, but the NATS server is not part of a cluster: set JS_REPLICAS=1`},
		{"unreachable ChatHub", map[string]string{"CHATHUB_BASE_URL": "http://" + closedAddr(t)},
			"chathub", `no answer from http://127\.0\.0\.1:\d+; is CHATHUB_BASE_URL right`},
		{"base URL not the API's", map[string]string{"CHATHUB_BASE_URL": h.SimURL + "/v2"},
			"chathub", `http://\S+/v2 answers HTTP 404 on the operator API: CHATHUB_BASE_URL is not the API's base URL`},
		{"bad configuration", map[string]string{"CHATHUB_TOKEN": "", "BATCH_MAX_WAIT": "soon"},
			"configuration", "BATCH_MAX_WAIT: cannot parse its value"},
	} {
		out, errOut, err := check(t, h, tc.vars)
		if cli.ExitCode(err) != 1 || err.Error() != "check found 1 problem" {
			t.Errorf("%s: exit %d (%v), want 1 with one problem\n%s", tc.name, cli.ExitCode(err), err, out)
		}
		if !has(out, "problem", tc.check, tc.want) {
			t.Errorf("%s: want problem %s %q:\n%s", tc.name, tc.check, tc.want, out)
		}
		if n := len(regexp.MustCompile(`(?m)^problem `).FindAllString(out, -1)); n != 1 || errOut != "" {
			t.Errorf("%s: want exactly one problem line, nothing on stderr:\n%s%s", tc.name, out, errOut)
		}
		if strings.Contains(out, "wrong-token-123") || strings.Contains(out, testenv.Token) {
			t.Errorf("%s: the token is printed:\n%s", tc.name, out)
		}
	}
	// NATS and ChatHub are not tried with a configuration that has problems.
	out, _, _ := check(t, h, map[string]string{"CHATHUB_TOKEN": "", "BATCH_MAX_WAIT": "soon"})
	if !has(out, "skipped", "nats", "not tried: fix the configuration first") || !has(out, "skipped", "chathub", "not tried") {
		t.Errorf("bad configuration:\n%s", out)
	}
	// A misspelled variable is a warning, not a problem.
	out, _, err := check(t, h, map[string]string{"BATCH_MAXWAIT": "1s"})
	if err != nil || !has(out, "warning", "variables", "BATCH_MAXWAIT is not a variable the worker reads \\(ignored\\); did you mean BATCH_MAX_WAIT\\?") {
		t.Errorf("misspelled variable: %v\n%s", err, out)
	}
	// A ChatHub that answers 503 cannot say whether it accepts the token.
	h.Sim.SetFaults(chathubsim.Faults{ErrorRate: 1})
	out, _, err = check(t, h, nil)
	if cli.ExitCode(err) != 1 || !has(out, "problem", "chathub", `\S+ answers HTTP 503, so whether it accepts the token is unknown: try again later`) {
		t.Errorf("ChatHub unavailable: %v\n%s", err, out)
	}
	if _, _, err := check(t, h, nil, "-timeout", "0s"); cli.ExitCode(err) != 2 {
		t.Errorf("-timeout 0s: %v, want a usage error", err)
	}
}

// startPlainNATS starts a NATS server without JetStream and returns its URL.
func startPlainNATS(t *testing.T) string {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS without JetStream did not start")
	}
	return ns.ClientURL()
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
