package broker_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/broker"
)

// TestLeaseNamingThisWorkerIsItsOwn: a lease key that names this worker
// (a renewal that landed while its answer was lost, as when a node of the
// cluster restarts) neither makes the leader give up nor makes it wait
// out the lease to lead again.
func TestLeaseNamingThisWorkerIsItsOwn(t *testing.T) {
	t.Parallel()
	nc, js := jetStream(t)
	kv, err := js.CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	mine, _ := json.Marshal(map[string]any{"owner": "w1", "since": time.Now()})
	// A key left naming w1: w1 leads at once, not after the lease.
	if _, err := kv.Put(t.Context(), broker.LeaderKey, mine); err != nil {
		t.Fatal(err)
	}
	l := broker.NewLeader(nc, kv, "w1", 10*time.Second, zerolog.Nop())
	lost := lead(t, l)
	await.True(t, 5*time.Second, l.Leads, "w1 to lead over a key that names it")
	// Its renewal now finds a revision it did not expect, naming it.
	rev, err := kv.Put(t.Context(), broker.LeaderKey, mine)
	if err != nil {
		t.Fatal(err)
	}
	await.True(t, 30*time.Second, func() bool {
		e, err := kv.Get(t.Context(), broker.LeaderKey)
		return err == nil && e.Revision() > rev
	}, "w1 to renew past the revision it did not expect")
	select {
	case <-lost:
		t.Fatal("w1 gave up the lead over a key that names it")
	default:
	}
}

// TestStandbyWaitsOutABlink: the worker that leads is out of reach for a
// moment (its connection blinked: NATS knows nobody listening for it); a
// standby does not take over for that, only once it stays out of reach.
func TestStandbyWaitsOutABlink(t *testing.T) {
	t.Parallel()
	nc, js := jetStream(t)
	kv, err := js.CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	alive := func() *nats.Subscription {
		sub, err := nc.Subscribe(broker.AliveSubject("b", "w1"), func(m *nats.Msg) { _ = m.Respond(nil) })
		if err != nil {
			t.Fatal(err)
		}
		return sub
	}
	sub := alive()
	held, _ := json.Marshal(map[string]any{"owner": "w1", "since": time.Now()})
	if _, err := kv.Put(t.Context(), broker.LeaderKey, held); err != nil {
		t.Fatal(err)
	}
	standby := broker.NewLeader(nc, kv, "w2", time.Minute, zerolog.Nop())
	lead(t, standby)

	// A blink of a second and a half, twice.
	for range 2 {
		_ = sub.Unsubscribe()
		blink := time.Now()
		await.True(t, 5*time.Second, func() bool { return time.Since(blink) > 1500*time.Millisecond }, "the blink to last")
		sub = alive()
		if standby.Leads() {
			t.Fatal("the standby took over from a worker whose connection blinked")
		}
	}
	_ = sub.Unsubscribe()
	gone := time.Now()
	await.True(t, 20*time.Second, standby.Leads, "the standby to take over from a worker gone for good")
	if took := time.Since(gone); took > 10*time.Second {
		t.Errorf("took over %s after the worker went, want well within ACK_WAIT", took.Round(time.Millisecond))
	}
}
