package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// operatorOf returns the organization's operator named name that is not
// deleted, failing the test unless there is exactly one.
func operatorOf(t *testing.T, sim *chathubsim.Server, name string) chathubsim.Operator {
	t.Helper()
	var found []chathubsim.Operator
	for _, op := range sim.Operators(24) {
		if op.Name == name && op.Status != 2 {
			found = append(found, op)
		}
	}
	if len(found) != 1 {
		t.Fatalf("operators named %q: %+v, want one", name, found)
	}
	return found[0]
}

// TestExplain: an employee whose id holds spaces, subject wildcards, a
// slash and an emoji, hired and terminated next month.
func TestExplain(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	id := "E 1.*>/🙂"
	leaving := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	h.PublishEvent(testenv.Event{ID: "x-h", Kind: "hired", Employee: id, Name: "Alex Brown", Org: 24, At: t0})
	h.PublishEvent(testenv.Event{ID: "x-t", Kind: "terminated", Employee: id, Org: 24, At: leaving})
	h.WaitResults(1, 30*time.Second)
	h.WaitSettled(id)
	op := operatorOf(t, h.Sim, "Alex Brown")

	out, _, err := run(t, h, cli.Explain, "-json", id)
	var x struct {
		EmployeeID, Desired, Next string
		OrganizationID            int
		Ahead                     []struct{ State, Kind, Event string }
		Operator                  struct {
			ID                int64
			Recorded, ChatHub string
		}
		Waiting []struct {
			ID        string
			Scheduled bool
		}
		Recent []struct{ ID, Outcome string }
	}
	if err != nil || json.Unmarshal([]byte(out), &x) != nil {
		t.Fatalf("explain -json: %v\n%s", err, out)
	}
	if x.EmployeeID != id || x.OrganizationID != 24 || x.Desired != "active" || x.Operator.ID != op.ID ||
		x.Operator.Recorded != "active" || x.Operator.ChatHub != "active" {
		t.Errorf("explain: %+v", x)
	}
	if len(x.Ahead) != 1 || x.Ahead[0].State != "terminated" || x.Ahead[0].Event != "x-t" {
		t.Errorf("ahead: %+v, want the termination", x.Ahead)
	}
	if len(x.Waiting) != 1 || x.Waiting[0].ID != "x-t" || !x.Waiting[0].Scheduled {
		t.Errorf("waiting: %+v, want the scheduled termination", x.Waiting)
	}
	if len(x.Recent) != 1 || x.Recent[0].ID != "x-h" || x.Recent[0].Outcome != "applied" {
		t.Errorf("recent: %+v, want the hire applied", x.Recent)
	}
	wantNext := "at " + leaving.Format(time.RFC3339) + ": set operator"
	if !strings.Contains(x.Next, wantNext) || !strings.HasSuffix(x.Next, "to deleted") {
		t.Errorf("next = %q, want it to say %q … to deleted", x.Next, wantNext)
	}
	out, _, err = run(t, h, cli.Explain, id)
	if err != nil || !strings.Contains(out, "desired:   active now; terminated from "+leaving.Format(time.RFC3339)) {
		t.Errorf("explain: %v\n%s", err, out)
	}
	_, _, err = run(t, h, cli.Explain, "nobody")
	if cli.ExitCode(err) != 1 || !strings.Contains(err.Error(), `employee "nobody" is unknown`) {
		t.Errorf("unknown employee: exit %d, %v", cli.ExitCode(err), err)
	}
}

// TestPlan: a file that adopts, creates, sends someone on leave, repeats
// an old event and schedules a termination; nothing is published.
func TestPlan(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	h.PublishEvent(testenv.Event{ID: "p-h1", Kind: "hired", Employee: "E1", Name: "Alex Brown", Org: 24, At: t0})
	h.WaitResults(1, 30*time.Second)
	h.WaitSettled("E1")
	h.Sim.AddOperator(24, "Ada Lovelace", 0)
	before := h.StreamMsgs("HR_EVENTS")
	next := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	lines := []string{
		string(testenv.Event{ID: "p-h2", Kind: "hired", Employee: "E2", Name: "Ada Lovelace", Org: 24, At: t0}.Body()),
		string(testenv.Event{ID: "p-h3", Kind: "hired", Employee: "E3", Name: "Grace Hopper", Org: 24, At: t0}.Body()),
		string(testenv.Event{ID: "p-l1", Kind: "leave_started", Employee: "E1", Org: 24, At: t0.Add(time.Hour)}.Body()),
		string(testenv.Event{ID: "p-h1", Kind: "hired", Employee: "E1", Name: "Alex Brown", Org: 24, At: t0}.Body()),
		string(testenv.Event{ID: "p-t3", Kind: "terminated", Employee: "E3", Org: 24, At: next}.Body()),
		`{"id": "half an event"}`,
	}
	path := writeFile(t, "plan.jsonl", strings.Join(lines, "\n")+"\n")
	out, _, err := run(t, h, cli.Plan, "-json", path)
	if cli.ExitCode(err) != 3 {
		t.Errorf("exit %d (%v), want 3 for the invalid line", cli.ExitCode(err), err)
	}
	var p struct {
		Lines   int
		Invalid []struct{ Line int }
		Orgs    []struct {
			OrganizationID                   int `json:"organizationId"`
			Create, Adopt, Deactivate, Calls int
		} `json:"organizations"`
		NoOps     []struct{ EventID string }
		Scheduled []struct{ EventID, State string }
		Calls     int
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan -json: %v\n%s", err, out)
	}
	if len(p.Orgs) != 1 || p.Orgs[0].Create != 1 || p.Orgs[0].Adopt != 1 || p.Orgs[0].Deactivate != 1 {
		t.Errorf("organizations: %+v, want 1 create, 1 adoption, 1 deactivation in 24", p.Orgs)
	}
	if p.Lines != 6 || len(p.Invalid) != 1 || p.Invalid[0].Line != 6 {
		t.Errorf("lines %d, invalid %+v", p.Lines, p.Invalid)
	}
	if len(p.NoOps) != 1 || p.NoOps[0].EventID != "p-h1" {
		t.Errorf("no-ops: %+v, want the repeated hire", p.NoOps)
	}
	if len(p.Scheduled) != 1 || p.Scheduled[0].EventID != "p-t3" || p.Scheduled[0].State != "terminated" {
		t.Errorf("scheduled: %+v", p.Scheduled)
	}
	// A list, one synchronize call, one status call.
	if p.Calls != 3 {
		t.Errorf("calls = %d, want 3", p.Calls)
	}
	if after := h.StreamMsgs("HR_EVENTS"); after != before {
		t.Errorf("plan published: %d messages, was %d", after, before)
	}
}

// TestReconcile: hand edits in ChatHub are reported, left alone without
// -apply, and driven back with it; an unmanaged operator is only reported.
func TestReconcile(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	names := map[string]string{"R1": "Alex Brown", "R2": "Emma Davis", "R3": "Mike Wilson", "R4": "Sarah Connor"}
	for id, name := range names {
		h.PublishEvent(testenv.Event{ID: "r-" + id, Kind: "hired", Employee: id, Name: name, Org: 24, At: t0})
	}
	h.WaitResults(len(names), 30*time.Second)
	h.WaitSettled("R1", "R2", "R3", "R4")
	out, _, err := run(t, h, cli.Reconcile)
	if err != nil || !strings.Contains(out, "in step") {
		t.Fatalf("before any hand edit: %v\n%s", err, out)
	}
	r1, r2, r3 := operatorOf(t, h.Sim, "Alex Brown"), operatorOf(t, h.Sim, "Emma Davis"), operatorOf(t, h.Sim, "Mike Wilson")
	h.Sim.SetStatus(r1.ID, 1)
	h.Sim.SetStatus(r2.ID, 2)
	h.Sim.Remove(r3.ID)
	stray := h.Sim.AddOperator(24, "Temp Agent", 0)

	out, _, err = run(t, h, cli.Reconcile, "-org", "24", "-json")
	if cli.ExitCode(err) != 3 {
		t.Errorf("exit %d (%v), want 3: drift found and not applied", cli.ExitCode(err), err)
	}
	got := decodeReconcile(t, out)
	want := map[string]string{"R1": "status_changed", "R2": "deleted", "R3": "gone", "": "unmanaged"}
	if got.Drift != 3 || got.Unmanaged != 1 || got.InStep || len(got.Organizations) != 1 || got.Organizations[0].Employees != 4 {
		t.Errorf("summary: %+v", got)
	}
	for _, f := range got.Organizations[0].Findings {
		if want[f.EmployeeID] != f.Kind || f.Applied || (f.Kind == "unmanaged" && f.OperatorID != stray) {
			t.Errorf("finding %+v", f)
		}
	}
	if op := operatorOf(t, h.Sim, "Alex Brown"); op.Status != 1 {
		t.Errorf("without -apply ChatHub changed: %+v", op)
	}

	out, _, err = run(t, h, cli.Reconcile, "-apply", "-wait", "20s", "-json")
	if err != nil {
		t.Fatalf("-apply: %v\n%s", err, out)
	}
	if got := decodeReconcile(t, out); got.Applied != 3 || got.Back != 3 || len(got.NotBack) != 0 {
		t.Errorf("-apply: %+v", got)
	}
	for _, name := range []string{"Alex Brown", "Emma Davis", "Mike Wilson", "Sarah Connor", "Temp Agent"} {
		if op := operatorOf(t, h.Sim, name); op.Status != 0 {
			t.Errorf("%s after -apply: %+v, want active", name, op)
		}
	}
	out, _, err = run(t, h, cli.Reconcile)
	if err != nil || !strings.Contains(out, "in step: no employee's operator differs from ChatHub (1 unmanaged operator)") ||
		!strings.Contains(out, `operator `) || !strings.Contains(out, `"Temp Agent" is active and no employee claims it (left alone)`) {
		t.Errorf("after -apply: %v\n%s", err, out)
	}
	// An organization ChatHub refuses is an error that does not keep the
	// others from being compared.
	out, _, err = run(t, h, cli.Reconcile, "-org", "24,999", "-json")
	if got := decodeReconcile(t, out); cli.ExitCode(err) != 1 || len(got.Organizations) != 2 || got.Organizations[0].Employees != 4 ||
		!strings.Contains(got.Organizations[1].Error, "HTTP 400") {
		t.Errorf("-org 24,999: exit %d (%v)\n%s", cli.ExitCode(err), err, out)
	}
}

type reconcileJSON struct {
	Organizations []struct {
		Employees int
		Error     string
		Findings  []struct {
			Kind, EmployeeID string
			OperatorID       int64
			Applied          bool
		} `json:"drift"`
	}
	Drift, Applied, Unmanaged, Back int
	InStep                          bool
	NotBack                         []string
}

func decodeReconcile(t *testing.T, out string) reconcileJSON {
	t.Helper()
	var got reconcileJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("reconcile -json: %v\n%s", err, out)
	}
	return got
}

// TestHealthcheck: the container healthcheck against a running worker,
// and against nothing.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	w := h.Start(h.Config())
	url := "http://" + w.W.Addr()
	if out, _, err := run(t, h, cli.Healthcheck, "-url", url); err != nil || out != "ok\n" {
		t.Errorf("alive: %v %q", err, out)
	}
	await.True(t, 10*time.Second, func() bool {
		_, _, err := run(t, h, cli.Healthcheck, "-ready", "-url", url)
		return err == nil
	}, "the worker ready")
	h.Sim.SetFaults(chathubsim.Faults{Unauthorized: true})
	h.PublishEvent(testenv.Event{ID: "hc-1", Kind: "hired", Employee: "HC", Name: "Hal", Org: 24, At: t0})
	await.True(t, 10*time.Second, func() bool {
		_, _, err := run(t, h, cli.Healthcheck, "-ready", "-url", url)
		return cli.ExitCode(err) == 1 && strings.Contains(err.Error(), "503")
	}, "not ready while ChatHub refuses the token")
	if _, _, err := run(t, h, cli.Healthcheck, "-url", "http://127.0.0.1:1"); cli.ExitCode(err) != 1 {
		t.Errorf("nothing listening: %v", err)
	}
}
