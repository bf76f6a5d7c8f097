package app_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestSetupBindsWithoutRewriting: the worker creates what is missing with
// the settings the contract asks for, and leaves a stream it did not create
// exactly as it found it.
func TestSetupBindsWithoutRewriting(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	ctx := t.Context()
	// The HR system's own stream, with settings of its choosing.
	before, err := h.JS.UpdateStream(ctx, jetstream.StreamConfig{
		Name: "HR_EVENTS", Subjects: []string{"hr.events.>"}, Duplicates: 2 * time.Minute,
		MaxAge: 90 * 24 * time.Hour, Description: "owned by HR",
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Start(h.Config())

	events, err := h.JS.Stream(ctx, "HR_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	if got := events.CachedInfo().Config; got.Description != "owned by HR" || got.MaxAge != before.CachedInfo().Config.MaxAge || got.Duplicates != before.CachedInfo().Config.Duplicates {
		t.Errorf("HR_EVENTS was rewritten: %+v", got)
	}
	results, err := h.JS.Stream(ctx, "HR_RESULTS")
	if err != nil {
		t.Fatal(err)
	}
	if d := results.CachedInfo().Config.Duplicates; d < 10*time.Minute {
		t.Errorf("HR_RESULTS keeps duplicates for %s, want at least 10m", d)
	}
	cons, err := h.JS.Consumer(ctx, testenv.EventsStream, testenv.Durable)
	if err != nil {
		t.Fatal(err)
	}
	c := cons.CachedInfo().Config
	if c.AckPolicy != jetstream.AckExplicitPolicy || c.DeliverPolicy != jetstream.DeliverAllPolicy || c.MaxDeliver != -1 {
		t.Errorf("consumer: ack %v, deliver %v, max deliver %d; want explicit acks, every message, no delivery limit", c.AckPolicy, c.DeliverPolicy, c.MaxDeliver)
	}
	if _, err := h.JS.KeyValue(ctx, testenv.Bucket); err != nil {
		t.Errorf("KV bucket: %v", err)
	}
}
