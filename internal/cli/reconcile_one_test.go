package cli_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestReconcileEmployee: provisioning on demand. One employee in step;
// a hand edit reported, left alone without -apply and driven back with
// it; a hire that ChatHub failed, waiting an hour for its retry, made at
// once by -apply, its result published.
func TestReconcileEmployee(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config(func(c *config.Config) { c.RetryBaseDelay, c.RetryMaxDelay = time.Hour, time.Hour }))
	h.PublishEvent(testenv.Event{ID: "o-1", Kind: "hired", Employee: "O1", Name: "Alex Brown", Org: 24, At: t0})
	h.WaitResults(1, 30*time.Second)
	h.WaitSettled("O1")
	out, _, err := run(t, h, cli.Reconcile, "-employee", "O1")
	if err != nil || !strings.Contains(out, "employee O1, organization 24: active, so ChatHub should hold an active operator") ||
		!strings.Contains(out, "is active as recorded, active in ChatHub; in step") {
		t.Fatalf("in step: %v\n%s", err, out)
	}

	// A person deactivates the operator by hand.
	op := operatorOf(t, h.Sim, "Alex Brown")
	h.Sim.SetStatus(op.ID, 1)
	out, _, err = run(t, h, cli.Reconcile, "-employee", "O1", "-json")
	got := decodeOne(t, out)
	if cli.ExitCode(err) != 3 || got.InStep || got.Listed != "inactive" || got.Recorded != "active" ||
		got.Drift == nil || got.Drift.Kind != "status_changed" || got.Drift.Applied || got.Applied || got.After != nil {
		t.Errorf("drift without -apply: exit %d (%v)\n%s", cli.ExitCode(err), err, out)
	}
	if operatorOf(t, h.Sim, "Alex Brown").Status != 1 {
		t.Error("without -apply ChatHub changed")
	}
	out, _, err = run(t, h, cli.Reconcile, "-employee", "O1", "-apply", "-wait", "20s")
	if err != nil || !strings.Contains(out, "applied:   corrected the record (status_changed) and woke the worker for the employee") ||
		!strings.Contains(out, "after:     operator "+strconv.FormatInt(op.ID, 10)+" is active as recorded, active in ChatHub; in step") {
		t.Errorf("-apply: %v\n%s", err, out)
	}
	if operatorOf(t, h.Sim, "Alex Brown").Status != 0 {
		t.Error("-apply did not drive the operator back")
	}

	// ChatHub fails a hire; its retry waits an hour.
	h.Sim.SetFaults(chathubsim.Faults{ErrorRate: 1})
	h.PublishEvent(testenv.Event{ID: "o-2", Kind: "hired", Employee: "O2", Name: "Emma Davis", Org: 24, At: t0})
	await.True(t, 30*time.Second, func() bool {
		out, _, err := run(t, h, cli.Explain, "O2")
		return err == nil && strings.Contains(out, "retry:")
	}, "the hire to wait for its retry")
	h.Sim.SetFaults(chathubsim.Faults{})
	out, _, err = run(t, h, cli.Reconcile, "-employee", "O2")
	if cli.ExitCode(err) != 3 || !strings.Contains(out, "no operator recorded; differs while the worker is at work on the employee") ||
		!strings.Contains(out, "next:      retry at ") {
		t.Errorf("waiting for the retry: exit %d (%v)\n%s", cli.ExitCode(err), err, out)
	}
	out, errOut, err := run(t, h, cli.Reconcile, "-employee", "O2", "-apply", "-wait", "20s", "-json")
	got = decodeOne(t, out)
	if err != nil || !got.Applied || !got.RetryNow || got.After == nil || !got.After.InStep || got.After.Listed != "active" ||
		got.Next != "nothing: in step" || !strings.Contains(errOut, "waiting up to 20s for the worker to drive employee O2") {
		t.Errorf("-apply with a retry waiting: %v\n%s%s", err, out, errOut)
	}
	results := testenv.ByEventID(t, h.WaitResults(2, 30*time.Second))
	if r := results["o-2"]; r.Outcome != hrevent.Applied || operatorOf(t, h.Sim, "Emma Davis").Status != 0 {
		t.Errorf("the hire made on demand: %s", r.Outcome)
	}

	_, _, err = run(t, h, cli.Reconcile, "-employee", "nobody")
	if cli.ExitCode(err) != 1 || err.Error() != `employee "nobody" is unknown: no event of theirs has been taken in` {
		t.Errorf("unknown employee: exit %d, %v", cli.ExitCode(err), err)
	}
	_, _, err = run(t, h, cli.Reconcile, "-employee", "O1", "-org", "24")
	if cli.ExitCode(err) != 2 {
		t.Errorf("-employee with -org: exit %d, %v", cli.ExitCode(err), err)
	}
}

type oneJSON struct {
	InStep, Busy, Applied, RetryNow bool
	Listed, Recorded, Next          string
	Drift                           *struct {
		Kind    string
		Applied bool
	}
	After *struct {
		InStep bool
		Listed string
	}
}

func decodeOne(t *testing.T, out string) oneJSON {
	t.Helper()
	var got oneJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("reconcile -employee -json: %v\n%s", err, out)
	}
	return got
}
