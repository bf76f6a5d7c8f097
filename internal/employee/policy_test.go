package employee_test

import (
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// TestDefaultRetryOutlastsAnHour: with the default settings, an employee
// whose ChatHub calls keep failing is tried again for longer than an hour
// before its events fail, so an outage of up to an hour ends with every
// event applied. The pauses are drawn at random within ±20 %; their sum
// must clear the hour every time.
func TestDefaultRetryOutlastsAnHour(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse(map[string]string{}, config.Demo)
	if err != nil {
		t.Fatal(err)
	}
	p := employee.Policy{MaxAttempts: cfg.RetryMaxAttempts, Base: cfg.RetryBaseDelay, Max: cfg.RetryMaxDelay}
	if p != employee.DefaultPolicy {
		t.Errorf("the configuration's defaults %+v differ from DefaultPolicy %+v", p, employee.DefaultPolicy)
	}
	for range 100 {
		var total time.Duration
		// Attempt n failing waits Backoff(n) before attempt n+1; attempt
		// MaxAttempts failing is final.
		for n := 1; n < p.MaxAttempts; n++ {
			total += p.Backoff(n)
		}
		if total < time.Hour {
			t.Fatalf("the default retries span %s before failing, want over an hour", total)
		}
	}
}
