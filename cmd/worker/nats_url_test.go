package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// chatHubEnv is a ChatHub configuration that parses; these tests never
// get as far as calling it.
var chatHubEnv = []string{"CHATHUB_BASE_URL=http://127.0.0.1:9", "CHATHUB_TOKEN=token-of-the-test", "HTTP_ADDR=127.0.0.1:0"}

// TestMalformedNATSURLStopsAtStart: a NATS_URL that cannot work however
// long the worker waits stops it at start, with one line naming the
// variable, instead of being tried again for ever.
func TestMalformedNATSURLStopsAtStart(t *testing.T) {
	t.Parallel()
	for _, url := range []string{"localhost:abc", "nats://a:4222,b:x"} {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		cmd := exec.CommandContext(ctx, os.Args[0])
		cmd.Env = append([]string{"WORKER_TEST_AS_MAIN=1", "NATS_URL=" + url}, chatHubEnv...)
		out, err := cmd.CombinedOutput()
		timedOut := ctx.Err() != nil
		cancel()
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if timedOut || cmd.ProcessState.ExitCode() != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "worker: NATS_URL") {
			t.Errorf("NATS_URL=%s: exit %d (%v, timed out %v), output %q; want exit 1 at once and one line naming NATS_URL",
				url, cmd.ProcessState.ExitCode(), err, timedOut, out)
		}
	}
}

// TestNATSPasswordNeverLogged: while the server cannot be reached, the
// worker's retries never show the password of NATS_URL, given without a
// scheme or in the second URL of a list.
func TestNATSPasswordNeverLogged(t *testing.T) {
	t.Parallel()
	const password = "pw-of-the-test"
	p1, p2 := closedPort(t), closedPort(t)
	for _, url := range []string{
		fmt.Sprintf("alice:%s@127.0.0.1:%d", password, p1),
		fmt.Sprintf("nats://127.0.0.1:%d,alice:%s@127.0.0.1:%d", p1, password, p2),
		fmt.Sprintf("nats://127.0.0.1:%d,nats://alice:%s@127.0.0.1:%d", p1, password, p2),
	} {
		t.Run(url, func(t *testing.T) {
			t.Parallel()
			logs := retries(t, url, 3)
			if strings.Contains(logs, password) {
				t.Errorf("the password shows in the worker's log:\n%s", logs)
			}
			if !strings.Contains(logs, "127.0.0.1") {
				t.Errorf("the log does not say which server:\n%s", logs)
			}
		})
	}
}

// retries runs the worker with NATS_URL=url until it logged n retries of
// its connect, and returns what it wrote.
func retries(t *testing.T, url string, n int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append([]string{"WORKER_TEST_AS_MAIN=1", "NATS_URL=" + url}, chatHubEnv...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	seen := 0
	lines := bufio.NewScanner(stderr)
	for seen < n && lines.Scan() {
		logs.WriteString(lines.Text() + "\n")
		if strings.Contains(lines.Text(), "NATS is not reachable yet") {
			seen++
		}
	}
	cancel()
	_ = cmd.Wait()
	if seen < n {
		t.Fatalf("%d retries logged, want %d:\n%s", seen, n, logs.String())
	}
	return logs.String()
}

// closedPort is a loopback port where nothing listens.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
