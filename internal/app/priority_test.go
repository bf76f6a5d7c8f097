package app_test

import (
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestOffboardingGoesBeforeAHireBurst: at a rate too low for the work
// waiting (2 calls/s; 2,000 hires over four organizations need about 24
// calls), terminations published after the burst reach ChatHub before
// the burst is done, within seconds of their publish: offboarding never
// waits behind hires.
func TestOffboardingGoesBeforeAHireBurst(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config(func(c *config.Config) { c.ChatHubRateLimit = 2 }))
	staff(t, h, 24, 0, 5)
	var burst []testenv.Event
	for i := 100; i < 2100; i++ {
		burst = append(burst, hire(i, 24+i%4))
	}
	h.PublishAsync(burst)
	var terms []testenv.Event
	for i := range 5 {
		terms = append(terms, terminate(i, t0.Add(time.Hour)))
	}
	h.PublishAsync(terms)
	published := time.Now()
	await.True(t, 60*time.Second, func() bool {
		for i := range 5 {
			if statusOf(h, 24, person(i)) != 2 {
				return false
			}
		}
		return true
	}, "the terminations to reach ChatHub")
	took := time.Since(published)
	made := 0
	for org := 24; org < 28; org++ {
		made += len(h.Sim.Operators(org))
	}
	t.Logf("terminations in ChatHub %s after their publish, %d of %d hires made by then", took.Round(time.Millisecond), made-5, len(burst))
	if made-5 >= len(burst) {
		t.Errorf("the terminations waited until all %d hires were made", len(burst))
	}
	if took > 8*time.Second {
		t.Errorf("the terminations reached ChatHub %s after their publish, want within 8 s (the burst needs about 12 s)", took.Round(time.Millisecond))
	}
	h.WaitResults(5+len(burst)+5, 2*time.Minute)
}
