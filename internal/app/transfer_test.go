package app_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathubsim"
	"github.com/chathub-operator-worker/worker/internal/config"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// transfer moves employee E-i to org at a time.
func transfer(id string, i, org int, at time.Time) testenv.Event {
	return testenv.Event{ID: id, Kind: "transferred", Employee: fmt.Sprint("E-", i), Org: org, At: at}
}

// change is an event of another kind for employee E-i, naming org.
func change(id, kind string, i, org int, at time.Time) testenv.Event {
	return testenv.Event{ID: id, Kind: kind, Employee: fmt.Sprint("E-", i), Org: org, At: at}
}

// liveOf lists the operators named name that are not deleted, in every
// organization.
func liveOf(sim *chathubsim.Server, name string) []chathubsim.Operator {
	var live []chathubsim.Operator
	for _, op := range sim.Operators(0) {
		if op.Name == name && op.Status != 2 {
			live = append(live, op)
		}
	}
	return live
}

// assertOneLive fails unless name has exactly one operator that is not
// deleted, in org with status, and returns its id.
func assertOneLive(t *testing.T, sim *chathubsim.Server, name string, org, status int) int64 {
	t.Helper()
	live := liveOf(sim, name)
	if len(live) != 1 || live[0].OrganizationID != org || live[0].Status != status {
		t.Errorf("%s: live operators %+v, want exactly one, in organization %d with status %d", name, live, org, status)
		return 0
	}
	return live[0].ID
}

// genMoves draws movers: each is hired, then has two to six events, most
// of them transfers, the rest leaves, returns, terminations and rehires,
// each naming organization 24 or 25 drawn anew: explicit and implied
// moves, and transfers to where the employee already is.
func genMoves(rng *rand.Rand, n int) []story {
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	next := []string{"transferred", "transferred", "transferred", "leave_started", "leave_ended", "terminated", "hired"}
	stories := make([]story, n)
	for i := range stories {
		s := story{employee: fmt.Sprintf("M-%03d", i), name: fmt.Sprintf("Mover %03d", i), org: 24 + i%2}
		at := base
		s.events = []testenv.Event{{ID: fmt.Sprintf("mv-%03d-0", i), Kind: "hired", Employee: s.employee, Name: s.name, Org: s.org, At: at}}
		for j := range 2 + rng.IntN(5) {
			at = at.Add(time.Duration(rng.IntN(3)) * time.Hour)
			e := testenv.Event{ID: fmt.Sprintf("mv-%03d-%d-%d", i, j+1, rng.IntN(1000)), Kind: next[rng.IntN(len(next))],
				Employee: s.employee, Org: 24 + rng.IntN(2), At: at}
			if e.Kind == "hired" {
				e.Name = s.name
			}
			s.events = append(s.events, e)
		}
		stories[i] = s
	}
	return stories
}

// TestTransfersShuffledAndDuplicated: movers' events, mostly transfers,
// shuffled, a tenth published twice under another message id and every
// transfer again under its own (the stream drops those), against a
// ChatHub that loses answers after committing. Odd seeds publish a
// backlog before the worker starts, even seeds one event at a time while
// it runs, so that moves are made on the way. Each employee ends with
// exactly one operator that is not deleted, in the organization of their
// newest event (none when terminated), no operator is made twice, and
// every event has one result, none failed.
func TestTransfersShuffledAndDuplicated(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{5, 6} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 17))
			h := testenv.New(t)
			h.Sim.Seed(seed)
			h.Sim.SetFaults(chathubsim.Faults{ErrorRate: 0.05, SyncDropRate: 0.3, StatusDropRate: 0.2})
			stories := genMoves(rng, 30)
			cfg := h.Config(func(c *config.Config) { c.BatchMaxSize = 5 })
			if seed%2 == 0 {
				h.Start(cfg)
			}
			n := publishShuffled(h, rng, stories, time.Duration(1-seed%2)*40*time.Millisecond)
			for _, s := range stories {
				for _, e := range s.events {
					if e.Kind == "transferred" {
						h.PublishEvent(e)
					}
				}
			}
			if seed%2 == 1 {
				h.Start(cfg)
			}
			results := h.WaitResults(n, 2*time.Minute)
			byID := testenv.ByEventID(t, results)
			if len(byID) != n {
				t.Errorf("%d events have results, want %d", len(byID), n)
			}
			assertNoneFailed(t, results)
			assertChatHub(t, h.Sim, stories)
			c := h.Sim.Counters()
			t.Logf("%d events, %d results; ChatHub: %v calls, %d dropped after commit", n, len(results), c.Calls, c.Dropped)
		})
	}
}

// TestTransferWhileOnLeave: an employee on leave moves; the operator in
// the new organization gets the leave's status before the old one is
// deleted, and the transfer's result names it.
func TestTransferWhileOnLeave(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	h.PublishEvent(hire(1, 24))
	h.PublishEvent(change("leave-1", "leave_started", 1, 24, t0.Add(time.Hour)))
	h.WaitResults(2, 30*time.Second)
	old := idOf(h.Sim, person(1))
	h.PublishEvent(transfer("move-1", 1, 25, t0.Add(2*time.Hour)))
	r := testenv.ByEventID(t, h.WaitResults(3, 30*time.Second))["move-1"]
	id := assertOneLive(t, h.Sim, person(1), 25, 1)
	if r.Outcome != hrevent.Applied || r.OrganizationID != 25 || r.OperatorID != id || id == old || r.OperatorStatus == nil || *r.OperatorStatus != 1 {
		t.Errorf("transfer: %s %q, organization %d, operator %d (%v); want applied, operator %d on leave in 25", r.Outcome, r.Reason, r.OrganizationID, r.OperatorID, r.OperatorStatus, id)
	}
	changes := h.Sim.Changes()
	onLeave := slices.IndexFunc(changes, func(c chathubsim.Change) bool { return c.OperatorID == id && c.Status == 1 })
	deleted := slices.IndexFunc(changes, func(c chathubsim.Change) bool { return c.OperatorID == old && c.Status == 2 })
	if onLeave < 0 || deleted < onLeave {
		t.Errorf("changes %+v: want operator %d on leave before operator %d is deleted", changes, id, old)
	}
}

// TestTransferThenTermination: a transfer, then a termination once it is
// made, deletes the operator in the new organization; a transfer and a
// termination published together leave no operator either.
func TestTransferThenTermination(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	staff(t, h, 24, 1, 2)
	h.PublishEvent(transfer("move-1", 1, 25, t0.Add(time.Hour)))
	h.WaitResults(3, 30*time.Second)
	h.PublishEvent(change("term-1", "terminated", 1, 25, t0.Add(2*time.Hour)))
	h.PublishAsync([]testenv.Event{transfer("move-2", 2, 25, t0.Add(time.Hour)), change("term-2", "terminated", 2, 25, t0.Add(2*time.Hour))})
	results := testenv.ByEventID(t, h.WaitResults(6, 30*time.Second))
	for _, id := range []string{"move-1", "term-1", "term-2"} {
		if r := results[id]; r.Outcome != hrevent.Applied {
			t.Errorf("%s: %s %q, want applied", id, r.Outcome, r.Reason)
		}
	}
	if r := results["move-2"]; r.Outcome != hrevent.Applied && !strings.Contains(r.Reason, `overtaken by terminated "term-2"`) {
		t.Errorf("move-2: %s %q, want applied or overtaken by the termination", r.Outcome, r.Reason)
	}
	for i := 1; i <= 2; i++ {
		if live := liveOf(h.Sim, person(i)); len(live) != 0 {
			t.Errorf("%s, terminated: live operators %+v", person(i), live)
		}
	}
}
