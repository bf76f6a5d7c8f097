package broker_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/embedded"
)

// burn keeps every core busy until the test ends, as CI's parallel builds
// and tests do.
func burn(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 * runtime.NumCPU() {
		wg.Go(func() {
			for x := 0; ; x++ {
				select {
				case <-stop:
					return
				default:
				}
				for i := range 50_000 {
					x ^= i
				}
			}
		})
	}
	t.Cleanup(func() { close(stop); wg.Wait() })
}

// TestStartsStaySpacedUnderLoad: with every core busy, three replicas with
// four callers each never start more than 10 calls within a second, as
// the limiter lets them go. A limiter that planned start times ahead would let
// a late waker and an on-time one start together.
func TestStartsStaySpacedUnderLoad(t *testing.T) {
	t.Parallel()
	const rate = 10
	ns, err := embedded.Start(embedded.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	burn(t)
	meters := make([]*chathubsim.Meter, 3)
	var wg sync.WaitGroup
	for i := range meters {
		meters[i] = &chathubsim.Meter{L: replica(t, ns.ClientURL(), rate)}
		for range 4 {
			wg.Go(func() {
				for range 2 {
					if err := meters[i].Wait(context.Background()); err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()
	var starts []time.Time
	for _, m := range meters {
		starts = append(starts, m.Starts()...)
	}
	slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
	if most := chathubsim.MaxInWindow(starts, time.Second); most > rate {
		t.Errorf("%d calls started within one second, want at most %d", most, rate)
	}
	t.Logf("%d starts under load, at most %d in any second (margin %s)", len(starts), chathubsim.MaxInWindow(starts, time.Second), chathub.DefaultRateMargin)
}
