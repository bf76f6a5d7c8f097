package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestToolsWithAMover: a CSV file moves an employee (kind transferred,
// organizationId the new one); plan says it moves them, publish sends it,
// reconcile expects the operator in the organization they left to be
// deleted (in step once it is; drift, to delete again, when a person
// brings it back), and explain shows a move dated ahead.
func TestToolsWithAMover(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	hires := writeFile(t, "hires.csv", "employeeId,organizationId,name,kind,time\n"+
		"E-1,24,Alex Brown,hired,2026-11-23T09:00:00Z\nE-2,24,Emma Davis,hired,2026-11-23T09:00:00Z\n")
	if _, _, err := run(t, h, cli.Publish, hires); err != nil {
		t.Fatal(err)
	}
	h.WaitResults(2, 30*time.Second)
	h.WaitSettled("E-1", "E-2")
	old := operatorOf(t, h.Sim, "Alex Brown")

	moves := writeFile(t, "moves.csv", "employeeId,organizationId,name,kind,time\nE-1,25,,transferred,2026-11-23T10:00:00Z\n")
	out, _, err := run(t, h, cli.Plan, "-json", moves)
	var p struct {
		Orgs []struct {
			OrganizationID                           int `json:"organizationId"`
			Create, Delete, MovesIn, MovesOut, Calls int
		} `json:"organizations"`
		Calls int
	}
	if err != nil || json.Unmarshal([]byte(out), &p) != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	if len(p.Orgs) != 2 || p.Orgs[0].Delete != 1 || p.Orgs[0].MovesOut != 1 || p.Orgs[1].Create != 1 || p.Orgs[1].MovesIn != 1 || p.Calls != 3 {
		t.Errorf("plan: %+v, want a create moving in to 25, a delete moving out of 24, 3 calls", p)
	}
	out, _, _ = run(t, h, cli.Plan, moves)
	if !strings.Contains(out, "1 employee moves in from another organization") || !strings.Contains(out, "1 employee moves out") {
		t.Errorf("plan:\n%s", out)
	}
	if _, _, err := run(t, h, cli.Publish, moves); err != nil {
		t.Fatal(err)
	}
	h.WaitResults(3, 30*time.Second)
	h.WaitSettled("E-1")
	if out, _, err := run(t, h, cli.Reconcile); err != nil || !strings.Contains(out, "in step") {
		t.Errorf("after the move: %v\n%s", err, out)
	}

	h.Sim.SetStatus(old.ID, 0) // a person brings the old operator back
	out, _, err = run(t, h, cli.Reconcile, "-org", "24")
	if cli.ExitCode(err) != 3 || !strings.Contains(out, "employee E-1 left organization 24: operator") || !strings.Contains(out, "it should be deleted") {
		t.Errorf("the old operator back: exit %d (%v)\n%s", cli.ExitCode(err), err, out)
	}
	if out, _, err := run(t, h, cli.Reconcile, "-org", "24", "-apply", "-wait", "20s"); err != nil {
		t.Errorf("-apply: %v\n%s", err, out)
	}
	if s := statusIn(h, 24, old.ID); s != 2 {
		t.Errorf("the old operator after -apply: status %d, want deleted", s)
	}

	later := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	h.PublishEvent(testenv.Event{ID: "move-2", Kind: "transferred", Employee: "E-2", Org: 25, At: later})
	await.True(t, 30*time.Second, func() bool {
		out, _, err := run(t, h, cli.Explain, "-json", "E-2")
		return err == nil && strings.Contains(out, `"id":"move-2"`)
	}, "the transfer dated ahead to wait in the record")
	out, _, err = run(t, h, cli.Explain, "E-2")
	want := []string{"desired:   active now; active in organization 25 from " + later.Format(time.RFC3339) + " (transferred move-2)",
		"in organization 25 that no employee claims, or create one, then delete operator"}
	for _, w := range want {
		if err != nil || !strings.Contains(out, w) {
			t.Errorf("explain: %v, want %q in\n%s", err, w, out)
		}
	}
}

// statusIn is the status of operator id in org, or -1.
func statusIn(h *testenv.Harness, org int, id int64) int {
	for _, op := range h.Sim.Operators(org) {
		if op.ID == id {
			return op.Status
		}
	}
	return -1
}
