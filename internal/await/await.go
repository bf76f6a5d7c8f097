// Package await lets tests wait on a condition with a deadline instead of
// sleeping.
package await

import (
	"testing"
	"time"
)

// True polls cond every few milliseconds until it holds, and fails the test
// if it does not within timeout.
func True(tb testing.TB, timeout time.Duration, cond func() bool, what string) {
	tb.Helper()
	if !Within(timeout, cond) {
		tb.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}

// Within polls cond every few milliseconds until it holds, and reports
// whether it did within timeout.
func Within(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
	return true
}
