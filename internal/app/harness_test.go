package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
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
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

const token = "test-token-do-not-print"

// harness is one embedded NATS server and one ChatHub simulator.
type harness struct {
	t      *testing.T
	dir    string
	port   int
	ns     *server.Server
	sim    *chathubsim.Server
	simURL string
	nc     *nats.Conn
	js     jetstream.JetStream
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir()}
	h.startNATS()
	t.Cleanup(func() { h.ns.Shutdown(); h.ns.WaitForShutdown() })

	h.sim = chathubsim.New(token, map[int]string{24: "Customer Support", 25: "Sales"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h.sim}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	h.simURL = "http://" + ln.Addr().String()

	h.nc, err = nats.Connect(h.ns.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.nc.Close)
	if h.js, err = jetstream.New(h.nc); err != nil {
		t.Fatal(err)
	}
	// The HR system owns HR_EVENTS and may publish before any worker ran.
	if _, err := h.js.CreateStream(t.Context(), jetstream.StreamConfig{
		Name: "HR_EVENTS", Subjects: []string{"hr.events.>"}, Duplicates: 2 * time.Minute,
	}); err != nil {
		t.Fatal(err)
	}
	return h
}

// startNATS starts (or restarts) the server on the same port and store.
func (h *harness) startNATS() {
	h.t.Helper()
	ns, err := embedded.Start(embedded.Options{StoreDir: h.dir, Port: h.port})
	if err != nil {
		h.t.Fatal(err)
	}
	h.ns = ns
	h.port = ns.Addr().(*net.TCPAddr).Port
}

// config is a worker configuration for tests: no rate limit, fast retries.
func (h *harness) config(mutate ...func(*config.Config)) config.Config {
	h.t.Helper()
	cfg, err := config.Parse(map[string]string{
		"NATS_URL":           h.ns.ClientURL(),
		"CHATHUB_BASE_URL":   h.simURL,
		"CHATHUB_TOKEN":      token,
		"CHATHUB_RATE_LIMIT": "0",
		"CHATHUB_TIMEOUT":    "2s",
		"HTTP_ADDR":          "127.0.0.1:0",
		"RETRY_BASE_DELAY":   "50ms",
		"RETRY_MAX_DELAY":    "400ms",
		"ACK_WAIT":           "5s",
		"LEASE_TTL":          "10s",
		"SHUTDOWN_GRACE":     "5s",
		"BATCH_MAX_WAIT":     "50ms",
	}, false)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, m := range mutate {
		m(&cfg)
	}
	return cfg
}

// running is a worker started by the harness.
type running struct {
	w    *app.Worker
	stop context.CancelFunc
	done chan error
	once sync.Once
}

// start runs a worker until the test ends or stop is called.
func (h *harness) start(cfg config.Config) *running {
	h.t.Helper()
	log := zerolog.Nop()
	if os.Getenv("TEST_LOG") != "" {
		// TEST_LOG=1 shows the workers' logs, for debugging a test.
		log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	}
	w, err := app.New(h.t.Context(), cfg, log)
	if err != nil {
		h.t.Fatalf("app.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{w: w, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- w.Run(ctx) }()
	h.t.Cleanup(func() { r.shutdown(h.t) })
	return r
}

// shutdown stops the worker gracefully and waits for it.
func (r *running) shutdown(t *testing.T) {
	t.Helper()
	r.once.Do(func() {
		r.stop()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("worker returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("worker did not stop within 30s")
		}
	})
}

// crash kills the worker without any cleanup.
func (r *running) crash(t *testing.T) {
	r.w.Kill()
	r.shutdown(t)
}

// publish sends events to HR_EVENTS with Nats-Msg-Id set to msgID (none
// when empty).
func (h *harness) publish(body []byte, kind, msgID string) {
	h.t.Helper()
	msg := &nats.Msg{Subject: "hr.events." + kind, Data: body, Header: nats.Header{}}
	if msgID != "" {
		msg.Header.Set(jetstream.MsgIDHeader, msgID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.js.PublishMsg(ctx, msg); err != nil {
		h.t.Fatalf("publish: %v", err)
	}
}

// results returns every result in HR_RESULTS, with its subject and msg id.
func (h *harness) results() []storedResult {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.js.Stream(ctx, "HR_RESULTS")
	if err != nil {
		h.t.Fatalf("results stream: %v", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		h.t.Fatalf("results stream info: %v", err)
	}
	var out []storedResult
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			h.t.Fatalf("result %d: %v", seq, err)
		}
		r, err := hrevent.DecodeResult(m.Data)
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, storedResult{Result: r, Subject: m.Subject, MsgID: m.Header.Get(jetstream.MsgIDHeader), Body: m.Data})
	}
	return out
}

type storedResult struct {
	hrevent.Result
	Subject, MsgID string
	Body           []byte
}

// waitResults waits until n results are stored and the consumer has
// nothing left to deliver or to be acked.
func (h *harness) waitResults(n int, timeout time.Duration) []storedResult {
	h.t.Helper()
	var got []storedResult
	await.True(h.t, timeout, func() bool {
		got = h.results()
		return len(got) >= n && h.consumerIdle()
	}, fmt.Sprintf("%d results and an idle consumer", n))
	return got
}

func (h *harness) consumerIdle() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := h.js.Consumer(ctx, "HR_EVENTS", "chathub-operator-worker")
	if err != nil {
		return false
	}
	info, err := c.Info(ctx)
	return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
}

// event builds a valid event body.
type event struct {
	ID, Kind, Employee, Name string
	Org                      int
	At                       time.Time
}

func (e event) body() []byte {
	data := map[string]any{"employeeId": e.Employee, "organizationId": e.Org}
	if e.Name != "" {
		data["name"] = e.Name
	}
	b, _ := json.Marshal(map[string]any{
		"specversion": "1.0", "id": e.ID, "source": "hr/test", "type": "hr.employee." + e.Kind,
		"time": e.At.UTC().Format(time.RFC3339Nano), "datacontenttype": "application/json", "data": data,
	})
	return b
}

func (h *harness) publishEvent(e event) { h.publish(e.body(), e.Kind, e.ID) }

// byEventID indexes results, failing the test if an event has two.
func byEventID(t *testing.T, results []storedResult) map[string]storedResult {
	t.Helper()
	m := map[string]storedResult{}
	for _, r := range results {
		if _, dup := m[r.EventID]; dup && r.EventID != "" {
			t.Errorf("event %s has two results", r.EventID)
		}
		m[r.EventID] = r
	}
	return m
}

// noToken fails if the token appears in any result.
func noToken(t *testing.T, results []storedResult) {
	t.Helper()
	for _, r := range results {
		if strings.Contains(string(r.Body), token) {
			t.Errorf("result %s carries the token", r.MsgID)
		}
	}
}

var validatorOnce = sync.OnceValues(hrevent.NewValidator)
