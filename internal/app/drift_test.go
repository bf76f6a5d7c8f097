package app_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// idOf is the id of the operator named name that is not deleted, or 0.
func idOf(sim *chathubsim.Server, name string) int64 {
	for _, op := range sim.Operators(24) {
		if op.Name == name && op.Status != 2 {
			return op.ID
		}
	}
	return 0
}

// TestStatusForAnOperatorDeletedByHand: ChatHub refuses the status of an
// operator a person deleted (it cannot restore one) or erased. That is
// drift, not a failure: the employee gets a new operator in the status
// their state asks for, and the event is applied.
func TestStatusForAnOperatorDeletedByHand(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Sim.SetFaults(chathubsim.Faults{DeletedFinal: true})
	h.Start(h.Config())
	staff(t, h, 24, 1, 2)
	deleted, erased := idOf(h.Sim, "Person 0001"), idOf(h.Sim, "Person 0002")
	h.Sim.SetStatus(deleted, 2)
	h.Sim.Remove(erased)
	for i := 1; i <= 2; i++ {
		h.PublishEvent(testenv.Event{ID: fmt.Sprint("leave-", i), Kind: "leave_started", Employee: fmt.Sprint("E-", i), Org: 24, At: t0.Add(time.Hour)})
	}
	results := testenv.ByEventID(t, h.WaitResults(4, 30*time.Second))
	for i := 1; i <= 2; i++ {
		r := results[fmt.Sprint("leave-", i)]
		if r.Outcome != hrevent.Applied {
			t.Errorf("leave-%d: %s %s", i, r.Outcome, r.Reason)
		}
		name := fmt.Sprintf("Person %04d", i)
		id := idOf(h.Sim, name)
		if id == 0 || id == deleted || id == erased || lastStatus(h.Sim, id) != 1 {
			t.Errorf("%s: operator %d (status %d), want a new one, inactive", name, id, lastStatus(h.Sim, id))
		}
	}
}

// lastStatus is the status of operator id, or -1.
func lastStatus(sim *chathubsim.Server, id int64) int {
	for _, op := range sim.Operators(24) {
		if op.ID == id {
			return op.Status
		}
	}
	return -1
}

// driftLines collects the "drift check" log lines of several workers.
type driftLines struct{ buf testenv.SyncBuffer }

func (d *driftLines) logger() zerolog.Logger { return zerolog.New(&d.buf) }

// periods counts the checks per interval, failing on a line it cannot read.
func (d *driftLines) periods(t *testing.T) map[int64]int {
	t.Helper()
	out := map[int64]int{}
	for line := range strings.SplitSeq(d.buf.String(), "\n") {
		if !strings.Contains(line, `"message":"drift check"`) {
			continue
		}
		var l struct {
			Period int64 `json:"period"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out[l.Period]++
	}
	return out
}

// TestPeriodicDriftCheck: two replicas with RECONCILE_INTERVAL run the
// check once per interval between them; it reports a status changed by
// hand in logs and metrics and, without RECONCILE_APPLY, leaves it.
func TestPeriodicDriftCheck(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	var logs driftLines
	cfg := h.Config(func(c *config.Config) { c.ReconcileInterval = time.Second })
	// Either replica may lead, and only the leader checks: watch both.
	urls := []string{
		"http://" + h.StartWithLog(cfg, logs.logger()).W.Addr() + "/metrics",
		"http://" + h.StartWithLog(cfg, logs.logger()).W.Addr() + "/metrics",
	}
	staff(t, h, 24, 1, 3)
	id := idOf(h.Sim, "Person 0002")
	h.Sim.SetStatus(id, 1)
	drifted := regexp.MustCompile(`chathub_worker_drift_operators\{kind="status_changed",organization_id="24"\} 1\n`)
	seen := 0
	await.True(t, 30*time.Second, func() bool {
		for _, url := range urls {
			if drifted.MatchString(scrape(t, url)) {
				seen++
			}
		}
		return seen >= 2 && len(logs.periods(t)) >= 5
	}, "the drift gauge shown twice, and five checks")
	for period, n := range logs.periods(t) {
		if n != 1 {
			t.Errorf("interval %d was checked %d times", period, n)
		}
	}
	if !strings.Contains(logs.buf.String(), `"kind":"status_changed","organization_id":24,"employee_id":"E-2"`) {
		t.Errorf("no log line names the drifted employee:\n%s", logs.buf.String())
	}
	if s := lastStatus(h.Sim, id); s != 1 {
		t.Errorf("without RECONCILE_APPLY the operator changed: status %d", s)
	}
}

// TestPeriodicDriftCheckApplies: with RECONCILE_APPLY the worker drives
// the operator changed by hand back.
func TestPeriodicDriftCheckApplies(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config(func(c *config.Config) { c.ReconcileInterval, c.ReconcileApply = time.Second, true }))
	staff(t, h, 24, 1, 2)
	id := idOf(h.Sim, "Person 0001")
	h.Sim.SetStatus(id, 1)
	await.True(t, 30*time.Second, func() bool { return lastStatus(h.Sim, id) == 0 }, "the operator active again")
	if n := len(h.Results()); n != 2 {
		t.Errorf("%d results, want the 2 hires only: drift has no event", n)
	}
}
