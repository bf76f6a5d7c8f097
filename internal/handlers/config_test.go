package handlers

import (
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/config"
)

// TestDefaultRetryOutlastsAnHour: with the default settings, an employee
// whose ChatHub calls keep failing is tried again for longer than an hour
// before its events fail, so an outage of up to an hour ends with every
// event applied (CONTRACT §3). The pauses are drawn at random within
// ±20 %; their sum must clear the hour every time.
func TestDefaultRetryOutlastsAnHour(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse(map[string]string{}, config.Demo)
	if err != nil {
		t.Fatal(err)
	}
	c := Config{MaxAttempts: cfg.RetryMaxAttempts, RetryBase: cfg.RetryBaseDelay, RetryMax: cfg.RetryMaxDelay}.WithDefaults()
	for range 100 {
		var total time.Duration
		// Attempt n failing waits backoffDelay(n) before attempt n+1;
		// attempt MaxAttempts failing is final.
		for n := 1; n < c.MaxAttempts; n++ {
			total += c.backoffDelay(n)
		}
		if total < time.Hour {
			t.Fatalf("the default retries span %s before failing, want over an hour", total)
		}
	}
}
