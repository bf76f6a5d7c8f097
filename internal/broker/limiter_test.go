package broker_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/embedded"
)

// replica connects to the server as one more replica and returns its
// shared limiter at rps.
func replica(t *testing.T, url string, rps float64) *broker.Shared {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	kv, err := js.CreateOrUpdateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	lim, err := broker.NewShared(kv, rps, chathub.DefaultRateMargin)
	if err != nil {
		t.Fatal(err)
	}
	return lim
}

// TestReplicasShareTheBudget: three replicas, each with its own client and
// ten callers, together stay within 10 calls a second at ChatHub.
func TestReplicasShareTheBudget(t *testing.T) {
	t.Parallel()
	const rate, perReplica = 10, 11
	ns, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	sim := chathubsim.New("tok", map[int]string{1: "Org"})
	srv := httptest.NewServer(sim)
	defer srv.Close()

	var wg sync.WaitGroup
	start := time.Now()
	var meters []*chathubsim.Meter
	for range 3 {
		meter := &chathubsim.Meter{L: replica(t, ns.ClientURL(), rate)}
		meters = append(meters, meter)
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		c, err := chathub.NewClient(srv.URL, "tok", chathub.WithLimiter(meter), chathub.WithCacheTTL(0),
			chathub.WithCallObserver(meter.Observe), chathub.WithHTTPClient(&http.Client{Transport: tr}))
		if err != nil {
			t.Fatal(err)
		}
		work := make(chan struct{}, perReplica)
		for range perReplica {
			work <- struct{}{}
		}
		close(work)
		for range 10 {
			wg.Go(func() {
				for range work {
					if _, err := c.ListOperators(context.Background(), 1); err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	arrivals := sim.Arrivals()
	if len(arrivals) != 3*perReplica {
		t.Fatalf("%d calls arrived, want %d", len(arrivals), 3*perReplica)
	}
	// Arrivals come later than starts by up to the longest call, so a
	// window at the simulator is cut by that much.
	longest := time.Duration(0)
	for _, m := range meters {
		longest = max(longest, m.Longest())
	}
	window := chathubsim.ArrivalWindow(longest)
	if most := chathubsim.MaxInWindow(arrivals, window); most > rate {
		t.Errorf("%d calls arrived within %s from 3 replicas, want at most %d", most, window, rate)
	}
	if min := time.Duration(3*perReplica-1) * time.Second / rate; elapsed < min {
		t.Errorf("%d calls took %s, want at least %s", 3*perReplica, elapsed, min)
	}
	t.Logf("3 replicas x %d calls at a shared %d/s: %s, at most %d in any second at the simulator",
		perReplica, rate, elapsed.Round(time.Millisecond), chathubsim.MaxInWindow(arrivals, time.Second))
}

// TestHoldReachesOtherReplicas: a 429 seen by one replica holds the others.
func TestHoldReachesOtherReplicas(t *testing.T) {
	t.Parallel()
	ns, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	lims := []*broker.Shared{replica(t, ns.ClientURL(), 1000), replica(t, ns.ClientURL(), 1000)}
	until := time.Now().Add(500 * time.Millisecond)
	lims[0].HoldUntil(until)
	if err := lims[1].Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if early := time.Until(until); early > 0 {
		t.Errorf("the other replica's call started %s before the hold ended", early)
	}
}
