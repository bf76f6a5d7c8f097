package app_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/broker"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestNATSPermissions runs two workers (a leader and a standby), the
// tools and an HR publisher as the users of deploy/nats/nats-server.conf,
// with exactly the permissions of deploy/nats/chathub-permissions.conf
// (the list docs/nats-permissions.md explains): the worker creates its
// streams, consumers and bucket, hires, sends on leave and terminates,
// holds a burst at the guard until the tools approve it, applies a
// scheduled termination at its time, drives a hand edit back, purges old
// events and answers a liveness request, and the tools publish, follow
// results, explain, plan, reconcile (and provision an employee whose
// retry waits) and check, while the server logs no permission violation.
// Then it shows that the permissions are enforced and that a violation
// would have been seen.
func TestNATSPermissions(t *testing.T) {
	s := newSecured(t)
	var workerLog testenv.SyncBuffer
	cfg := s.workerConfig()
	first, stopFirst := s.startWorker(cfg, &workerLog)
	second, stopSecond := s.startWorker(cfg, &workerLog)
	results := s.follow()

	// The HR system publishes the hires; worker publish (as the tools)
	// the leave, the termination and the scheduled termination.
	_, hr, _ := s.connect("hr-system")
	for _, e := range []testenv.Event{
		{ID: "h-1", Kind: "hired", Employee: "P-1", Name: "Alex Brown", Org: 24, At: t0},
		{ID: "h-2", Kind: "hired", Employee: "P-2", Name: "Emma Davis", Org: 24, At: t0},
		{ID: "h-3", Kind: "hired", Employee: "P-3", Name: "Mike Wilson", Org: 24, At: t0},
		{ID: "h-4", Kind: "hired", Employee: "P-4", Name: "Sarah Connor", Org: 25, At: t0},
		// ChatHub refuses organization 99: the failed result echoes the
		// event, read back from HR_EVENTS.
		{ID: "h-5", Kind: "hired", Employee: "P-5", Name: "Nora Quinn", Org: 99, At: t0},
	} {
		publish(t, hr, e)
	}
	if got := awaitResults(t, results, "h-1", "h-2", "h-3", "h-4", "h-5"); got["h-5"] != "failed" || got["h-1"] != "applied" {
		t.Errorf("hires: %v", got)
	}
	if !strings.Contains(results.String(), `"event":`) {
		t.Errorf("the failed result does not echo its event:\n%s", results.String())
	}
	leaving := time.Now().Add(3 * time.Second).UTC()
	lines := []string{
		string(testenv.Event{ID: "l-2", Kind: "leave_started", Employee: "P-2", Org: 24, At: t0.Add(time.Hour)}.Body()),
		string(testenv.Event{ID: "t-3", Kind: "terminated", Employee: "P-3", Org: 24, At: t0.Add(time.Hour)}.Body()),
		string(testenv.Event{ID: "t-4", Kind: "terminated", Employee: "P-4", Org: 25, At: leaving}.Body()),
	}
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := s.tool("chathub-tools", cli.Publish, path); err != nil {
		t.Fatalf("worker publish: %v\n%s", err, out)
	}

	// Two deactivations in organization 24 are past GUARD_THRESHOLD 1.
	await.True(t, 30*time.Second, func() bool {
		out, err := s.tool("chathub-tools", cli.Guard, "-json")
		var held []struct{ OrganizationID, Held int }
		return err == nil && json.Unmarshal([]byte(out), &held) == nil &&
			len(held) == 1 && held[0].OrganizationID == 24 && held[0].Held > 0
	}, "the guard to hold organization 24")
	if out, err := s.tool("chathub-tools", cli.Explain, "P-4"); err != nil || !strings.Contains(out, "terminated from") {
		t.Errorf("worker explain P-4: %v\n%s", err, out)
	}
	if out, err := s.tool("chathub-tools", cli.Guard, "approve", "-org", "24"); err != nil {
		t.Fatalf("worker guard approve: %v\n%s", err, out)
	}
	got := awaitResults(t, results, "l-2", "t-3", "t-4")
	for id, outcome := range got {
		if outcome != "applied" {
			t.Errorf("%s: %s, want applied", id, outcome)
		}
	}
	for name, want := range map[string]int{"Alex Brown": 0, "Emma Davis": 1, "Mike Wilson": 2} {
		if st := simStatus(s.sim, 24, name); st != want {
			t.Errorf("%s: status %d, want %d", name, st, want)
		}
	}
	if st := simStatus(s.sim, 25, "Sarah Connor"); st != 2 || time.Now().Before(leaving) {
		t.Errorf("the scheduled termination: status %d", st)
	}

	// The tools read and plan; worker check runs as either user.
	if out, err := s.tool("chathub-tools", cli.Reconcile); err != nil || !strings.Contains(out, "in step") {
		t.Errorf("worker reconcile: %v\n%s", err, out)
	}
	if out, err := s.tool("chathub-tools", cli.Plan, path); err != nil {
		t.Errorf("worker plan: %v\n%s", err, out)
	}
	for _, user := range []string{"chathub-worker", "chathub-tools"} {
		if out, err := s.tool(user, cli.Check); err != nil {
			t.Errorf("worker check as %s: %v\n%s", user, err, out)
		}
	}

	// A hand edit is found by the workers' drift check and driven back.
	if !s.sim.SetStatus(operatorID(t, s.sim, 24, "Alex Brown"), 1) {
		t.Fatal("cannot edit Alex Brown by hand")
	}
	await.True(t, 20*time.Second, func() bool { return simStatus(s.sim, 24, "Alex Brown") == 0 }, "the drift check to drive Alex Brown back")

	// A hire ChatHub failed waits an hour for its retry; the tools
	// provision the employee on demand.
	s.sim.SetFaults(chathubsim.Faults{ErrorRate: 1})
	publish(t, hr, testenv.Event{ID: "h-6", Kind: "hired", Employee: "P-6", Name: "Olivia Park", Org: 25, At: t0})
	await.True(t, 30*time.Second, func() bool {
		out, err := s.tool("chathub-tools", cli.Explain, "P-6")
		return err == nil && strings.Contains(out, "retry:")
	}, "the hire to wait for its retry")
	s.sim.SetFaults(chathubsim.Faults{})
	if out, err := s.tool("chathub-tools", cli.Reconcile, "-employee", "P-6", "-apply", "-wait", "20s"); err != nil {
		t.Errorf("worker reconcile -employee P-6 -apply: %v\n%s", err, out)
	}
	if got := awaitResults(t, results, "h-6"); got["h-6"] != "applied" {
		t.Errorf("the hire provisioned on demand: %s", got["h-6"])
	}

	// The events taken in are purged, and the leader answers a liveness
	// request.
	_, tools, _ := s.connect("chathub-tools")
	kv, err := tools.KeyValue(t.Context(), cfg.KVBucket)
	if err != nil {
		t.Fatal(err)
	}
	await.True(t, 20*time.Second, func() bool {
		s, err := tools.Stream(t.Context(), cfg.EventsStream)
		return err == nil && s.CachedInfo().State.Msgs == 0
	}, "the events taken in to be purged")
	holder, err := broker.Holder(t.Context(), kv)
	if err != nil || holder == "" || !first.Leads() && !second.Leads() {
		t.Fatalf("leader %q (%v)", holder, err)
	}
	workerNC, _, _ := s.connect("chathub-worker")
	alive := "chathub.alive." + broker.Token(cfg.KVBucket) + "." + broker.Token(holder)
	if _, err := workerNC.Request(alive, nil, 5*time.Second); err != nil {
		t.Errorf("the leader's liveness answer: %v", err)
	}

	stopFirst()
	stopSecond()
	if v := s.log.violations(); len(v) > 0 {
		t.Errorf("the server logged permission violations:\n%s", strings.Join(v, "\n"))
	}
	if log := workerLog.String(); strings.Contains(strings.ToLower(log), "permissions violation") {
		t.Errorf("the workers' log shows a permission violation:\n%s", log)
	}

	// The permissions are enforced, and a violation is seen: the worker
	// may not publish events, nor the tools results.
	for user, subject := range map[string]string{"chathub-worker": "hr.events.hired", "chathub-tools": "hr.results.applied"} {
		nc, _, errs := s.connect(user)
		if err := nc.Publish(subject, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errs:
			if !strings.Contains(err.Error(), "Permissions Violation for Publish") {
				t.Errorf("%s publishing to %s: %v", user, subject, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s published to %s unrefused", user, subject)
		}
	}
	await.True(t, 5*time.Second, func() bool {
		v := strings.Join(s.log.violations(), "\n")
		return strings.Contains(v, `"hr.events.hired"`) && strings.Contains(v, `"hr.results.applied"`)
	}, "the server to log both refusals")
}

// awaitResults waits until worker results has printed a result for each
// event id, and returns their outcomes.
func awaitResults(t *testing.T, out *testenv.SyncBuffer, ids ...string) map[string]string {
	t.Helper()
	got := map[string]string{}
	await.True(t, 30*time.Second, func() bool {
		all := map[string]string{}
		for line := range strings.Lines(out.String()) {
			var r struct{ EventID, Outcome string }
			if json.Unmarshal([]byte(line), &r) == nil {
				all[r.EventID] = r.Outcome
			}
		}
		for _, id := range ids {
			if _, ok := all[id]; !ok {
				return false
			}
			got[id] = all[id]
		}
		return true
	}, "the results of "+strings.Join(ids, ", "))
	return got
}

// simStatus is the status of the organization's operator named name, -1
// when there is none.
func simStatus(sim *chathubsim.Server, org int, name string) int {
	for _, op := range sim.Operators(org) {
		if op.Name == name {
			return op.Status
		}
	}
	return -1
}

// operatorID is the id of the organization's operator named name.
func operatorID(t *testing.T, sim *chathubsim.Server, org int, name string) int64 {
	t.Helper()
	for _, op := range sim.Operators(org) {
		if op.Name == name {
			return op.ID
		}
	}
	t.Fatalf("no operator named %q in organization %d", name, org)
	return 0
}

// publish publishes e as the HR system does.
func publish(t *testing.T, js jetstream.JetStream, e testenv.Event) {
	t.Helper()
	msg := nats.NewMsg("hr.events." + e.Kind)
	msg.Data = e.Body()
	msg.Header.Set(jetstream.MsgIDHeader, e.ID)
	if _, err := js.PublishMsg(t.Context(), msg); err != nil {
		t.Fatalf("the HR system publishes %s: %v", e.ID, err)
	}
}
