package app_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestWrongBaseURLPath: CHATHUB_BASE_URL with a wrong path gets 404 for
// every call. That says the worker is misconfigured, not that the events
// are wrong: none is failed, /readyz answers 503, and once the worker is
// restarted with the right URL every event is applied.
func TestWrongBaseURLPath(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	wrong := h.Start(h.Config(func(c *config.Config) { c.ChatHubBaseURL = h.SimURL + "/api/v2" }))
	for i := range 20 {
		h.PublishEvent(hire(i, 24))
	}
	readyz := "http://" + wrong.W.Addr() + "/readyz"
	await.True(t, 30*time.Second, func() bool { return status(t, readyz) == http.StatusServiceUnavailable }, "/readyz to turn unready")
	if got := h.Results(); len(got) != 0 {
		t.Fatalf("%d results with a wrong base URL, want none: %s %q", len(got), got[0].Outcome, got[0].Reason)
	}
	wrong.Shutdown(t)

	h.Start(h.Config())
	results := h.WaitResults(20, time.Minute)
	assertNoneFailed(t, results)
	if ops := h.Sim.Operators(24); len(ops) != 20 {
		t.Errorf("%d operators, want 20", len(ops))
	}
}

// TestProxyRefusal: a proxy in front of ChatHub answers 403 to every
// call for a while. The worker fails nothing, says it is not ready, and
// applies everything by itself once the proxy lets the calls through.
func TestProxyRefusal(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	var blocked atomic.Bool
	var refused atomic.Int64
	blocked.Store(true)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if blocked.Load() {
			refused.Add(1)
			http.Error(w, "Request blocked by the web application firewall", http.StatusForbidden)
			return
		}
		h.Sim.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	w := h.Start(h.Config(func(c *config.Config) { c.ChatHubBaseURL = proxy.URL }))
	for i := range 20 {
		h.PublishEvent(hire(i, 24))
	}
	readyz := "http://" + w.W.Addr() + "/readyz"
	await.True(t, 30*time.Second, func() bool { return status(t, readyz) == http.StatusServiceUnavailable }, "/readyz to turn unready")
	if got := h.Results(); len(got) != 0 {
		t.Fatalf("%d results while the proxy refuses, want none: %s %q", len(got), got[0].Outcome, got[0].Reason)
	}
	blocked.Store(false)
	results := h.WaitResults(20, time.Minute)
	assertNoneFailed(t, results)
	await.True(t, 30*time.Second, func() bool { return status(t, readyz) == http.StatusOK }, "/readyz to turn ready")
	if ops := h.Sim.Operators(24); len(ops) != 20 {
		t.Errorf("%d operators, want 20", len(ops))
	}
	t.Logf("the proxy refused %d calls", refused.Load())
}
