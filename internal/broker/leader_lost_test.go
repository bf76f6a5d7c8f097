package broker_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/embedded"
)

// flakyGet is a bucket whose reads fail while fail is set.
type flakyGet struct {
	jetstream.KeyValue
	fail atomic.Bool
}

func (f *flakyGet) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	if f.fail.Load() {
		return nil, errors.New("nats: timeout (simulated)")
	}
	return f.KeyValue.Get(ctx, key)
}

// TestTakenOverWhileTheKeyCannotBeRead: after a renewal that went
// through, the next finds the key changed and cannot read it: the lead is
// taken as lost at once, not after most of the lease.
func TestTakenOverWhileTheKeyCannotBeRead(t *testing.T) {
	t.Parallel()
	nc, js := jetStream(t)
	real, err := js.CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	kv := &flakyGet{KeyValue: real}
	l := broker.NewLeader(nc, kv, "w1", 10*time.Second, zerolog.Nop())
	lostAt := lead(t, l)
	await.True(t, 5*time.Second, l.Leads, "w1 leads")
	start := time.Now()
	await.True(t, 10*time.Second, func() bool { return time.Since(start) > 2500*time.Millisecond }, "a renewal to go through")
	other, _ := json.Marshal(map[string]any{"owner": "w2", "since": time.Now()})
	kv.fail.Store(true)
	if _, err := real.Put(t.Context(), broker.LeaderKey, other); err != nil {
		t.Fatal(err)
	}
	took := time.Now()
	select {
	case at := <-lostAt:
		if at.Sub(took) > 3*time.Second {
			t.Errorf("w1 drove ChatHub for %v beside w2 (TTL 10 s, renewals every 2 s)", at.Sub(took))
		}
	case <-time.After(15 * time.Second):
		t.Error("w1 never stopped")
	}
}

// TestCutOffLeaderStops: the leader's connection to NATS is gone for
// longer than a blink: it stops its work before a standby could take it
// for gone and take over.
func TestCutOffLeaderStops(t *testing.T) {
	t.Parallel()
	ns, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	kv, err := js.CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	l := broker.NewLeader(nc, kv, "w1", time.Minute, zerolog.Nop())
	lost := lead(t, l)
	await.True(t, 5*time.Second, l.Leads, "w1 to lead")
	ns.Shutdown()
	ns.WaitForShutdown()
	cut := time.Now()
	select {
	case at := <-lost:
		if took := at.Sub(cut); took > 4*time.Second {
			t.Errorf("w1 stopped %s after it was cut off, want before a standby takes over (5 s)", took.Round(time.Millisecond))
		}
	case <-time.After(20 * time.Second):
		t.Error("w1, cut off from NATS, never stopped its work")
	}
}
