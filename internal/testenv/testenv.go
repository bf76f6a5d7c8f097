// Package testenv runs the worker's world for tests: an embedded NATS
// server on loopback with a temp store, the ChatHub simulator over real
// HTTP, and workers started against them.
package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/app"
	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/embedded"
)

// Token is the simulator's token; tests check it never leaks.
const Token = "test-token-do-not-print"

// Harness is embedded NATS (one server, or a cluster) and one ChatHub
// simulator.
type Harness struct {
	t     *testing.T
	nodes []*node

	NS     *server.Server      // the first NATS server
	Sim    *chathubsim.Server  // the ChatHub simulator
	SimURL string              // its base URL
	NC     *nats.Conn          // the test's own connection, reconnecting
	JS     jetstream.JetStream // on NC
}

// node is one NATS server, restartable on the same ports and store.
type node struct {
	opts embedded.Options
	srv  *server.Server
}

// New starts one NATS server and the simulator.
func New(t *testing.T) *Harness { return newHarness(t, 1) }

// NewCluster starts a cluster of n NATS servers with routes on loopback,
// and the simulator. Streams the harness creates have n replicas.
func NewCluster(t *testing.T, n int) *Harness { return newHarness(t, n) }

func newHarness(t *testing.T, n int) *Harness {
	t.Helper()
	h := &Harness{t: t}
	var routes []string
	for i := range n {
		o := embedded.Options{StoreDir: t.TempDir(), Port: freePort(t), Name: fmt.Sprintf("n%d", i)}
		if n > 1 {
			o.Cluster = &embedded.Cluster{Name: "test", Port: freePort(t)}
			routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", o.Cluster.Port))
		}
		h.nodes = append(h.nodes, &node{opts: o})
	}
	for _, nd := range h.nodes {
		if nd.opts.Cluster != nil {
			nd.opts.Cluster.Routes = routes
		}
	}
	// Cluster members wait for each other, so they start together.
	var wg sync.WaitGroup
	for i := range h.nodes {
		wg.Go(func() { h.StartNode(i) })
	}
	wg.Wait()
	h.NS = h.nodes[0].srv
	t.Cleanup(func() {
		for i := range h.nodes {
			h.StopNode(i)
		}
	})

	h.Sim = chathubsim.New(Token, map[int]string{24: "Customer Support", 25: "Sales"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h.Sim}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	h.SimURL = "http://" + ln.Addr().String()

	h.NC, err = nats.Connect(h.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.NC.Close)
	if h.JS, err = jetstream.New(h.NC); err != nil {
		t.Fatal(err)
	}
	// The HR system owns HR_EVENTS and may publish before any worker ran.
	// A new cluster needs a moment to elect its JetStream leader.
	await.True(t, 60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		_, err := h.JS.CreateStream(ctx, jetstream.StreamConfig{
			Name: "HR_EVENTS", Subjects: []string{"hr.events.>"}, Duplicates: 2 * time.Minute, Replicas: n,
		})
		return err == nil
	}, "HR_EVENTS to be created")
	return h
}

// URL lists every server's client URL, for NATS_URL.
func (h *Harness) URL() string {
	var urls []string
	for _, nd := range h.nodes {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", nd.opts.Port))
	}
	return strings.Join(urls, ",")
}

// StartNATS restarts the first server on the same port and store.
func (h *Harness) StartNATS() {
	h.StartNode(0)
	h.NS = h.nodes[0].srv
}

// StartNode starts (or restarts) server i on its ports and store.
func (h *Harness) StartNode(i int) {
	nd := h.nodes[i]
	srv, err := embedded.Start(nd.opts)
	if err != nil {
		h.t.Error(err)
		return
	}
	nd.srv = srv
}

// StopNode shuts server i down and waits until it is gone.
func (h *Harness) StopNode(i int) {
	if srv := h.nodes[i].srv; srv != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// config is a worker configuration for tests: no rate limit, fast retries.
func (h *Harness) Config(mutate ...func(*config.Config)) config.Config {
	h.t.Helper()
	cfg, err := config.Parse(map[string]string{
		"NATS_URL":           h.URL(),
		"CHATHUB_BASE_URL":   h.SimURL,
		"CHATHUB_TOKEN":      Token,
		"CHATHUB_RATE_LIMIT": "0",
		"CHATHUB_TIMEOUT":    "2s",
		"HTTP_ADDR":          "127.0.0.1:0",
		"RETRY_BASE_DELAY":   "50ms",
		"RETRY_MAX_DELAY":    "400ms",
		"ACK_WAIT":           "5s",
		"JS_REPLICAS":        fmt.Sprint(len(h.nodes)),
		"LEASE_TTL":          "10s",
		"SHUTDOWN_GRACE":     "5s",
		"BATCH_MAX_WAIT":     "50ms",
		// Most tests are about other things than the guard.
		"GUARD_THRESHOLD": "0",
	}, config.Worker)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, m := range mutate {
		m(&cfg)
	}
	return cfg
}

// Worker is a worker started by the Harness.
type Worker struct {
	W    *app.Worker
	stop context.CancelFunc
	done chan error
	once sync.Once
}

// start runs a worker until the test ends or stop is called.
func (h *Harness) Start(cfg config.Config) *Worker {
	h.t.Helper()
	log := zerolog.Nop()
	if os.Getenv("TEST_LOG") != "" {
		// TEST_LOG=1 shows the workers' logs, for debugging a test.
		log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	}
	return h.StartWithLog(cfg, log)
}

// StartWithLog runs a worker that logs to log, built with options.
func (h *Harness) StartWithLog(cfg config.Config, log zerolog.Logger, options ...app.Option) *Worker {
	h.t.Helper()
	w, err := app.New(h.t.Context(), cfg, log, options...)
	if err != nil {
		h.t.Fatalf("app.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Worker{W: w, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- w.Run(ctx) }()
	h.t.Cleanup(func() { r.Shutdown(h.t) })
	return r
}

// shutdown stops the worker gracefully and waits for it.
func (r *Worker) Shutdown(t *testing.T) {
	t.Helper()
	r.once.Do(func() {
		r.stop()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("worker returned %v", err)
			}
		case <-time.After(30 * time.Second):
			// The stacks say where it is stuck; debug=1 folds alike
			// goroutines, so the dump stays readable.
			var stacks strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
			t.Errorf("worker did not stop within 30s; goroutines:\n%s", stacks.String())
		}
	})
}

// crash kills the worker without any cleanup.
func (r *Worker) Crash(t *testing.T) {
	r.W.Kill()
	r.Shutdown(t)
}
