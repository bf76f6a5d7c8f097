package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// alertFailed is what the worker logs when an alert cannot be published.
const alertFailed = "cannot publish the guard's alert; trying again"

// TestGuardAlertIsRetried: HR_ALERTS is gone when the guard trips, so the
// alert cannot be published. The worker tries again until it can, and
// once the stream is back the alert arrives, once.
func TestGuardAlertIsRetried(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	var logs testenv.SyncBuffer
	h.StartWithLog(guarded(h, "3", 2, time.Hour), zerolog.New(&logs))
	staff(t, h, 24, 0, 10)
	deleteAlerts(t, h)
	tripGuard(t, h)
	await.True(t, 30*time.Second, func() bool { return strings.Count(logs.String(), alertFailed) >= 2 }, "the alert to be tried twice")
	createAlerts(t, h)
	awaitOneAlert(t, h)
}

// TestGuardAlertAfterACrash: the worker records the trip but dies before
// its alert is published; the next worker publishes it, once.
func TestGuardAlertAfterACrash(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	var logs testenv.SyncBuffer
	cfg := guarded(h, "3", 2, time.Hour)
	first := h.StartWithLog(cfg, zerolog.New(&logs))
	staff(t, h, 24, 0, 10)
	deleteAlerts(t, h)
	tripGuard(t, h)
	await.True(t, 30*time.Second, func() bool { return strings.Contains(logs.String(), alertFailed) }, "the alert to fail")
	first.Crash(t)
	createAlerts(t, h)
	h.Start(cfg)
	awaitOneAlert(t, h)
}

// tripGuard terminates 6 of organization 24's 10 at once, past the
// threshold of 3, and waits until they are held.
func tripGuard(t *testing.T, h *testenv.Harness) {
	t.Helper()
	var burst []testenv.Event
	for i := range 6 {
		burst = append(burst, terminate(i, t0.Add(time.Hour)))
	}
	h.PublishAsync(burst)
	await.True(t, 30*time.Second, func() bool { return heldOrgs(t, h)[24] == 6 }, "6 held")
}

// awaitOneAlert waits until the trip is recorded as alerted, and checks
// that HR_ALERTS holds its alert once.
func awaitOneAlert(t *testing.T, h *testenv.Harness) {
	t.Helper()
	store := harnessStore(t, h)
	await.True(t, 30*time.Second, func() bool {
		st, _, err := store.State(t.Context(), 24)
		return err == nil && st.Tripped != nil && st.Tripped.Alerted
	}, "the trip to be recorded as alerted")
	alerts := h.Messages("HR_ALERTS")
	if len(alerts) != 1 || alerts[0].Subject != "hr.alerts.guard.24" {
		t.Fatalf("%d alerts, want 1 on hr.alerts.guard.24", len(alerts))
	}
	v, _ := testenv.ValidatorOnce()
	if err := v.ValidateAlert(alerts[0].Data); err != nil {
		t.Error(err)
	}
}

func deleteAlerts(t *testing.T, h *testenv.Harness) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := h.JS.DeleteStream(ctx, "HR_ALERTS"); err != nil {
		t.Fatal(err)
	}
}

// createAlerts creates HR_ALERTS again, as the worker does at start.
func createAlerts(t *testing.T, h *testenv.Harness) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := h.JS.CreateStream(ctx, jetstream.StreamConfig{Name: "HR_ALERTS", Subjects: []string{broker.AlertsSubjects},
		Duplicates: broker.ResultsDuplicates}); err != nil {
		t.Fatal(err)
	}
}
