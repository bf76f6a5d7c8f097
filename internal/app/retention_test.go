package app_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestRetention: what the worker creates has the retention configured
// (results and alerts age out, the schedules clear as they are handled,
// the bucket keeps one revision per key), and the events it created age
// out only once taken in: events published while no worker ran stay,
// however old, and still get their results.
func TestRetention(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	ctx := t.Context()
	// The worker creates HR_EVENTS here, not the HR system.
	if err := h.JS.DeleteStream(ctx, "HR_EVENTS"); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	cfg := h.Config(func(c *config.Config) { c.EventsMaxAge, c.ResultsMaxAge = config.Age(30*day), config.Age(60*day) })
	w := h.Start(cfg)

	for name, want := range map[string]time.Duration{"HR_RESULTS": 60 * day, "HR_ALERTS": 60 * day, "HR_EVENTS": 0} {
		s, err := h.JS.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.CachedInfo().Config.MaxAge; got != want {
			t.Errorf("%s keeps messages %s, want %s", name, got, want)
		}
	}
	if s, _ := h.JS.Stream(ctx, "CHATHUB_SCHEDULES"); s == nil || s.CachedInfo().Config.Retention != jetstream.WorkQueuePolicy {
		t.Error("the schedules stream does not clear handled wake-ups")
	}
	if kv, err := h.JS.KeyValue(ctx, testenv.Bucket); err != nil {
		t.Fatal(err)
	} else if st, err := kv.Status(ctx); err != nil || st.History() != 1 {
		t.Errorf("the bucket keeps %d revisions per key (%v), want 1", st.History(), err)
	}

	for i := range 5 {
		h.PublishEvent(hire(i, 24))
	}
	h.WaitResults(5, 30*time.Second)
	w.Shutdown(t)
	for i := 5; i < 8; i++ {
		h.PublishEvent(hire(i, 24))
	}
	intake, err := h.JS.Consumer(ctx, testenv.EventsStream, testenv.Durable)
	if err != nil {
		t.Fatal(err)
	}
	// A year on, the events taken in go and the three never taken in stay.
	purged, err := broker.PurgeTakenIn(ctx, h.JS, "HR_EVENTS", intake, 30*day, time.Now().Add(365*day))
	if err != nil || purged != 5 {
		t.Errorf("purged %d (%v), want the 5 taken in", purged, err)
	}
	if n := h.StreamMsgs("HR_EVENTS"); n != 3 {
		t.Errorf("HR_EVENTS holds %d events, want the 3 not taken in", n)
	}
	// Nothing is old enough today.
	if purged, err := broker.PurgeTakenIn(ctx, h.JS, "HR_EVENTS", intake, 30*day, time.Now()); err != nil || purged != 0 {
		t.Errorf("purged %d young events (%v)", purged, err)
	}
	h.Start(cfg)
	results := testenv.ByEventID(t, h.WaitResults(8, 30*time.Second))
	for i := 5; i < 8; i++ {
		if r, ok := results[hire(i, 24).ID]; !ok || r.Outcome != "applied" {
			t.Errorf("%s: %+v", hire(i, 24).ID, r)
		}
	}
	// A stream the worker did not create is never purged.
	results2, _ := h.JS.Stream(ctx, "HR_RESULTS")
	before := results2.CachedInfo().State.Msgs
	if purged, err := broker.PurgeTakenIn(ctx, h.JS, "HR_RESULTS", intake, 30*day, time.Now().Add(365*day)); err != nil || purged != 0 {
		t.Errorf("purged %d from a stream without the worker's mark (%v); it held %d", purged, err, before)
	}
}
