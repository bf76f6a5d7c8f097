package app_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestBadItemsDoNotSinkTheBatch: ChatHub refuses a whole synchronize batch
// for two names in it; the worker splits the batch, creates the others and
// fails only those two, each with ChatHub's message.
func TestBadItemsDoNotSinkTheBatch(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Sim.SetFaults(chathubsim.Faults{RejectNames: []string{"Person 0003", "Person 0011"}})
	for i := range 16 {
		h.PublishEvent(hire(i, 24))
	}
	h.Start(h.Config())
	results := testenv.ByEventID(t, h.WaitResults(16, 30*time.Second))
	for i := range 16 {
		r := results[fmt.Sprintf("hire-%d", i)]
		if i == 3 || i == 11 {
			if r.Outcome != hrevent.Failed || !strings.Contains(r.Reason, "is not allowed") || r.Event == nil {
				t.Errorf("hire %d: %s %q, want failed with ChatHub's message and the event", i, r.Outcome, r.Reason)
			}
			continue
		}
		if r.Outcome != hrevent.Applied || r.OperatorID == 0 {
			t.Errorf("hire %d: %s %s", i, r.Outcome, r.Reason)
		}
	}
	if ops := h.Sim.Operators(24); len(ops) != 14 {
		t.Errorf("%d operators, want 14", len(ops))
	}
	t.Logf("synchronize calls: %d, batch sizes %v", h.Sim.Counters().Calls["synchronize"], h.Sim.Counters().BatchSizes)
}

// TestUnauthorizedWindow: while ChatHub refuses the token the worker fails
// nothing, says it is not ready, and applies everything once the token is
// accepted again.
func TestUnauthorizedWindow(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Sim.SetFaults(chathubsim.Faults{Unauthorized: true})
	w := h.Start(h.Config())
	for i := range 10 {
		h.PublishEvent(hire(i, 24))
	}
	readyz := "http://" + w.W.Addr() + "/readyz"
	await.True(t, 30*time.Second, func() bool { return status(t, readyz) == http.StatusServiceUnavailable }, "/readyz to turn unready")
	if got := h.Results(); len(got) != 0 {
		t.Fatalf("%d results during the 401 window, want none: %+v", len(got), got[0].Result)
	}
	h.Sim.SetFaults(chathubsim.Faults{})
	results := h.WaitResults(10, time.Minute)
	assertNoneFailed(t, results)
	await.True(t, 10*time.Second, func() bool { return status(t, readyz) == http.StatusOK }, "/readyz to turn ready")
	if n := h.Sim.Counters().Unauthorized; n == 0 {
		t.Error("the simulator served no 401")
	}
}

// TestRefusedTokenShowsAtOnce: a worker whose token ChatHub refuses says
// it is not ready before any event comes, and ready once ChatHub accepts
// the token.
func TestRefusedTokenShowsAtOnce(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Sim.SetFaults(chathubsim.Faults{Unauthorized: true})
	w := h.Start(h.Config())
	readyz := "http://" + w.W.Addr() + "/readyz"
	await.True(t, 30*time.Second, func() bool { return status(t, readyz) == http.StatusServiceUnavailable }, "/readyz to say not ready")
	h.Sim.SetFaults(chathubsim.Faults{})
	await.True(t, 30*time.Second, func() bool { return status(t, readyz) == http.StatusOK }, "/readyz to turn ready")
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRenewedTokenFileIsPickedUp: ChatHub refuses the token; once the
// token file holds a good one, the paused worker resumes by itself.
func TestRenewedTokenFileIsPickedUp(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("expired-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := h.Start(h.Config(func(c *config.Config) { c.ChatHubToken, c.ChatHubTokenFile = "expired-token", path }))
	h.PublishEvent(hire(1, 24))
	readyz := "http://" + w.W.Addr() + "/readyz"
	await.True(t, 30*time.Second, func() bool { return status(t, readyz) == http.StatusServiceUnavailable }, "/readyz to turn unready")
	if err := os.WriteFile(path, []byte(testenv.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	results := h.WaitResults(1, 30*time.Second)
	assertNoneFailed(t, results)
}

// TestChatHubOutage: ChatHub answers nothing but 503 for a while; events
// wait with backoff and are all applied once it is back, none failed.
func TestChatHubOutage(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Sim.SetFaults(chathubsim.Faults{ErrorRate: 1})
	h.Start(h.Config(func(c *config.Config) { c.ChatHubTimeout = time.Second; c.LeaseTTL = 4 * time.Second }))
	for i := range 20 {
		h.PublishEvent(hire(i, 24+i%2))
	}
	await.True(t, 30*time.Second, func() bool { return h.Sim.Counters().ServerErrors >= 10 }, "the outage to be felt")
	if got := h.Results(); len(got) != 0 {
		t.Fatalf("%d results during the outage, want none (retried, not failed)", len(got))
	}
	h.Sim.SetFaults(chathubsim.Faults{})
	results := h.WaitResults(20, time.Minute)
	assertNoneFailed(t, results)
	if n := len(h.Sim.Operators(24)) + len(h.Sim.Operators(25)); n != 20 {
		t.Errorf("%d operators, want 20", n)
	}
}

// TestTokenNeverLogged: at the most verbose level, through a 401 window,
// failures and retries, no log line carries the token.
func TestTokenNeverLogged(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	var logs testenv.SyncBuffer
	h.Sim.SetFaults(chathubsim.Faults{Unauthorized: true})
	h.StartWithLog(h.Config(), zerolog.New(&logs).Level(zerolog.TraceLevel))
	h.PublishEvent(hire(1, 24))
	h.PublishEvent(testenv.Event{ID: "bad-org", Kind: "hired", Employee: "E-x", Name: "Nowhere", Org: 999, At: t0})
	await.True(t, 30*time.Second, func() bool { return strings.Contains(logs.String(), "refuses the company token") }, "the 401 to be logged")
	h.Sim.SetFaults(chathubsim.Faults{ErrorRate: 0.5})
	h.WaitResults(2, time.Minute)
	if strings.Contains(logs.String(), testenv.Token) {
		t.Error("a log line carries the token")
	}
	if !strings.Contains(logs.String(), `"event_id":"bad-org"`) {
		t.Errorf("the failure was not logged with its event id:\n%s", logs.String())
	}
}
