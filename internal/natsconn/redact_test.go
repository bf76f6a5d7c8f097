package natsconn_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/natsconn"
)

// The secrets of these tests: none may show in a log line or an error.
const (
	password = "s3cret-pw"
	natsTok  = "t0ken-secret"
)

// secrets are the forms a secret may take once a URL is parsed.
var secrets = []string{password, natsTok, "s3c@ret", "s3c%40ret"}

// closedPort is a loopback port where nothing listens.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// logUntil is a log that cancels a context once a line holds want.
type logUntil struct {
	mu     sync.Mutex
	lines  strings.Builder
	want   string
	cancel context.CancelFunc
}

func (l *logUntil) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines.Write(p)
	if strings.Contains(string(p), l.want) {
		l.cancel()
	}
	return len(p), nil
}

func (l *logUntil) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines.String()
}

// connectOnce runs the worker's connect until its first retry is logged,
// and returns the log and the error it gave up with.
func connectOnce(t *testing.T, cfg config.Config, opts ...nats.Option) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	logs := &logUntil{want: "NATS is not reachable yet", cancel: cancel}
	nc, err := natsconn.ConnectPatiently(ctx, cfg, zerolog.New(logs), opts...)
	if err == nil {
		nc.Close()
		t.Fatal("connected to a server that is not there")
	}
	if !strings.Contains(logs.String(), "NATS is not reachable yet") {
		t.Fatalf("no retry was logged: %v\n%s", err, logs)
	}
	return logs.String(), err
}

// assertNoSecret fails if any secret shows in what.
func assertNoSecret(t *testing.T, what string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(what, s) {
			t.Errorf("%q shows in:\n%s", s, what)
		}
	}
}

// TestNoPasswordInLogs: while the server is unreachable, neither the
// retries' log lines nor the errors show a password or a token from
// NATS_URL, whatever its form: with or without a scheme, in any server of
// a list, user and password or a token, percent-encoded or not.
func TestNoPasswordInLogs(t *testing.T) {
	t.Parallel()
	p1, p2 := closedPort(t), closedPort(t)
	for _, url := range []string{
		fmt.Sprintf("alice:%s@127.0.0.1:%d", password, p1),
		fmt.Sprintf("nats://alice:%s@127.0.0.1:%d", password, p1),
		fmt.Sprintf("nats://127.0.0.1:%d, alice:%s@127.0.0.1:%d", p1, password, p2),
		fmt.Sprintf("nats://127.0.0.1:%d,nats://alice:%s@127.0.0.1:%d", p1, password, p2),
		fmt.Sprintf("%s@127.0.0.1:%d", natsTok, p1),
		fmt.Sprintf("nats://127.0.0.1:%d,%s@127.0.0.1:%d", p1, natsTok, p2),
		fmt.Sprintf("ws://alice:%s@127.0.0.1:%d", password, p1),
		fmt.Sprintf("nats://alice:s3c%%40ret@127.0.0.1:%d", p1),
	} {
		t.Run(url, func(t *testing.T) {
			t.Parallel()
			cfg := parse(t, map[string]string{"NATS_URL": url})
			logs, err := connectOnce(t, cfg)
			assertNoSecret(t, logs)
			assertNoSecret(t, err.Error())
			_, err = natsconn.Connect(cfg)
			assertNoSecret(t, fmt.Sprintf("%v %+v", err, err))
			if !strings.Contains(logs, "127.0.0.1") {
				t.Errorf("the log does not say which server:\n%s", logs)
			}
		})
	}
}

// TestNoPasswordInParseErrors: a URL that nats.go cannot parse makes an
// error that quotes the URL; the worker's error does not.
func TestNoPasswordInParseErrors(t *testing.T) {
	t.Parallel()
	for _, url := range []string{"nats://alice:" + password + "@nats:abc", "alice:" + password + "@nats:abc",
		"nats://alice:s3c#" + password + "@nats:4222", "nats://" + natsTok + "@nats:99999"} {
		_, err := natsconn.Connect(config.Config{NATSURL: url})
		if err == nil {
			t.Errorf("%s: connected", url)
			continue
		}
		assertNoSecret(t, err.Error())
	}
}

// TestCredentialsInClearAreWarnedAbout: a user and password (or token)
// that would go to a server off loopback over plain nats:// gets a
// warning; over tls://, with a CA to trust, or to loopback, it does not.
func TestCredentialsInClearAreWarnedAbout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctxDir := filepath.Join(dir, "nats", "context")
	if err := os.MkdirAll(ctxDir, 0o700); err != nil {
		t.Fatal(err)
	}
	pki(t, dir)
	port := closedPort(t)
	tests := []struct {
		name, url, ctx string
		env            map[string]string
		warn           bool
	}{
		{"context password, plain, off loopback", "nats://192.0.2.1:4222", `"user":"alice","password":"` + password + `"`, nil, true},
		{"context token, no scheme, off loopback", "192.0.2.1:4222", `"token":"` + natsTok + `"`, nil, true},
		{"context password, second server off loopback", fmt.Sprintf("nats://127.0.0.1:%d,192.0.2.1:4222", port), `"user":"alice","password":"` + password + `"`, nil, true},
		{"context password, websocket off loopback", "ws://192.0.2.1:80", `"user":"alice","password":"` + password + `"`, nil, true},
		{"password in the URL, off loopback", "nats://alice:" + password + "@192.0.2.1:4222", "", nil, true},
		{"context password, tls", "tls://192.0.2.1:4222", `"user":"alice","password":"` + password + `"`, nil, false},
		{"context password, a CA to trust", "nats://192.0.2.1:4222", `"user":"alice","password":"` + password + `"`,
			map[string]string{"NATS_TLS_CA": filepath.Join(dir, "ca.pem")}, false},
		{"context password, loopback", fmt.Sprintf("nats://127.0.0.1:%d", port), `"user":"alice","password":"` + password + `"`, nil, false},
		{"no credentials", "nats://192.0.2.1:4222", "", nil, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := fmt.Sprintf("c%d", i)
			body := fmt.Sprintf(`{"url": %q`, tt.url)
			if tt.ctx != "" {
				body += ", " + tt.ctx
			}
			if err := os.WriteFile(filepath.Join(ctxDir, name+".json"), []byte(body+"}"), 0o600); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"NATS_CONTEXT": name, "XDG_CONFIG_HOME": dir}
			for k, v := range tt.env {
				env[k] = v
			}
			logs, err := connectOnce(t, parse(t, env), nats.Timeout(50*time.Millisecond))
			if got := strings.Contains(logs, "in clear"); got != tt.warn {
				t.Errorf("warned: %v, want %v:\n%s", got, tt.warn, logs)
			}
			assertNoSecret(t, logs+err.Error())
		})
	}
}

// TestWhatWaitingCures: a tls:// server that is not up yet is waited for
// like any other (the URL's "tls:" is no TLS error), while a URL list that
// nats.go refuses is returned at once, not retried for ever.
func TestWhatWaitingCures(t *testing.T) {
	t.Parallel()
	port := closedPort(t)
	logs, err := connectOnce(t, parse(t, map[string]string{"NATS_URL": fmt.Sprintf("tls://127.0.0.1:%d", port)}))
	if err == nil || !strings.Contains(logs, "not reachable yet") {
		t.Errorf("a tls:// server that is down was not waited for: %v", err)
	}
	for _, url := range []string{fmt.Sprintf("nats://127.0.0.1:%d,ws://127.0.0.1:%d", port, port), "nats://alice:" + password + "@nats:abc"} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		nc, err := natsconn.ConnectPatiently(ctx, config.Config{NATSURL: url}, zerolog.Nop())
		if err == nil {
			nc.Close()
			t.Errorf("%s: connected", url)
		} else if ctx.Err() != nil {
			t.Errorf("%s was retried until the deadline: %v", url, err)
		}
		cancel()
	}
}

// TestRedactURL: every server of a list loses its password or token, and
// keeps the rest, so a log line can still say which server it means
// (nats.go's ConnectedUrlRedacted leaves a token in place).
func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"nats://nats:4222":                          "nats://nats:4222",
		"alice:s3cret-pw@nats:4222":                 "alice:[redacted]@nats:4222",
		"nats://t0ken-secret@nats:4222":             "nats://[redacted]@nats:4222",
		"nats://a:4222, TLS://bob:p@ss@b:4443":      "nats://a:4222,tls://bob:[redacted]@b:4443",
		"t0ken-secret@nats,wss://alice:s3c%40ret@w": "[redacted]@nats,wss://alice:[redacted]@w",
	} {
		if got := natsconn.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
