package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/app"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/embedded"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// natsConf is the example server configuration that deploy/nats ships;
// it includes chathub-permissions.conf, the permissions the docs list.
const natsConf = "../../deploy/nats/nats-server.conf"

// passwords of the example's users, by the variable that gives them to
// the server.
var passwords = map[string]struct{ env, password string }{
	"chathub-worker": {"CHATHUB_WORKER_PASSWORD", "worker-secret"},
	"chathub-tools":  {"CHATHUB_TOOLS_PASSWORD", "tools-secret"},
	"hr-system":      {"HR_SYSTEM_PASSWORD", "hr-secret"},
}

// secured is a NATS server configured by natsConf, and the ChatHub
// simulator.
type secured struct {
	t      *testing.T
	ns     *server.Server
	log    *serverLog
	sim    *chathubsim.Server
	simURL string
}

// newSecured starts them. It sets environment variables, so its test
// cannot run in parallel.
func newSecured(t *testing.T) *secured {
	t.Helper()
	for _, u := range passwords {
		t.Setenv(u.env, u.password)
	}
	s := &secured{t: t, log: &serverLog{}}
	var err error
	s.ns, err = embedded.Start(embedded.Options{StoreDir: t.TempDir(), ConfigFile: natsConf, Logger: s.log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	})
	s.sim = chathubsim.New(testenv.Token, map[int]string{24: "Customer Support", 25: "Sales"})
	srv := httptest.NewServer(s.sim)
	t.Cleanup(srv.Close)
	s.simURL = srv.URL
	return s
}

// url is NATS_URL for user.
func (s *secured) url(user string) string {
	return fmt.Sprintf("nats://%s:%s@%s", user, passwords[user].password, s.ns.Addr())
}

// connect connects as user; errs receives what the server refuses.
func (s *secured) connect(user string) (*nats.Conn, jetstream.JetStream, <-chan error) {
	s.t.Helper()
	errs := make(chan error, 16)
	nc, err := nats.Connect(s.url(user), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case errs <- err:
		default:
		}
	}))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		s.t.Fatal(err)
	}
	return nc, js, errs
}

// workerConfig is the configuration of a worker that connects as
// chathub-worker and uses every part of the worker that touches NATS: the
// shared rate limit, the guard, the periodic drift check that applies what
// it finds, and the purge of old events (every 200 ms, events older than
// 2 s).
func (s *secured) workerConfig() config.Config {
	s.t.Helper()
	cfg, err := config.Parse(map[string]string{
		"NATS_URL": s.url("chathub-worker"), "CHATHUB_BASE_URL": s.simURL, "CHATHUB_TOKEN": testenv.Token,
		"CHATHUB_RATE_LIMIT": "100", "CHATHUB_TIMEOUT": "2s", "HTTP_ADDR": "127.0.0.1:0",
		"RETRY_BASE_DELAY": "1h", "RETRY_MAX_DELAY": "1h", "ACK_WAIT": "5s", "LEASE_TTL": "8s",
		"SHUTDOWN_GRACE": "5s", "BATCH_MAX_WAIT": "50ms", "GUARD_THRESHOLD": "1", "GUARD_MIN": "0",
		"RECONCILE_INTERVAL": "1s", "RECONCILE_APPLY": "true",
	}, config.Worker)
	if err != nil {
		s.t.Fatal(err)
	}
	cfg.EventsMaxAge = config.Age(2 * time.Second)
	return cfg
}

// startWorker runs a worker that logs to log; the returned function stops
// it and waits (the test's end does too).
func (s *secured) startWorker(cfg config.Config, log *testenv.SyncBuffer) (*app.Worker, func()) {
	s.t.Helper()
	w, err := app.New(s.t.Context(), cfg, zerolog.New(log).Level(zerolog.InfoLevel))
	if err != nil {
		s.t.Fatalf("app.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				s.t.Errorf("worker returned %v", err)
			}
		})
	}
	s.t.Cleanup(stop)
	return w, stop
}

// tool runs a command as user, with the simulator for ChatHub.
func (s *secured) tool(user string, cmd func(context.Context, []string, cli.Env) error, args ...string) (string, error) {
	s.t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(s.t.Context(), 30*time.Second)
	defer cancel()
	err := cmd(ctx, args, cli.Env{Stdout: &out, Stderr: &errOut, Environ: map[string]string{
		"NATS_URL": s.url(user), "CHATHUB_BASE_URL": s.simURL, "CHATHUB_TOKEN": testenv.Token,
	}})
	return out.String() + errOut.String(), err
}

// follow runs worker results -json as chathub-tools until the test ends;
// the result lines land in the buffer returned.
func (s *secured) follow() *testenv.SyncBuffer {
	out := &testenv.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- cli.Results(ctx, []string{"-json"}, cli.Env{Stdout: out, Stderr: out, Environ: map[string]string{"NATS_URL": s.url("chathub-tools")}})
	}()
	s.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			s.t.Errorf("worker results: %v", err)
		}
	})
	return out
}

// serverLog keeps what the server logs about permissions.
type serverLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *serverLog) keep(format string, v ...any) {
	line := fmt.Sprintf(format, v...)
	if strings.Contains(line, "Violation") {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, line)
	}
}

// violations are the permission violations logged so far.
func (l *serverLog) violations() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func (l *serverLog) Noticef(format string, v ...any) { l.keep(format, v...) }
func (l *serverLog) Warnf(format string, v ...any)   { l.keep(format, v...) }
func (l *serverLog) Fatalf(format string, v ...any)  { l.keep(format, v...) }
func (l *serverLog) Errorf(format string, v ...any)  { l.keep(format, v...) }
func (l *serverLog) Debugf(format string, v ...any)  { l.keep(format, v...) }
func (l *serverLog) Tracef(format string, v ...any)  { l.keep(format, v...) }
