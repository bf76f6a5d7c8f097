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
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// story is one employee's life: their events in time order. org is the
// organization they start in; a mover's events may name the other one.
type story struct {
	employee, name string
	org            int
	events         []testenv.Event
}

var kinds = []string{"hired", "leave_started", "leave_ended", "terminated", "transferred"}

// genStories draws employee lives: hires, leaves, returns, terminations,
// rehires and transfers; some begin with something other than a hire.
// Every third employee is a mover: a third of their events name the other
// organization (an explicit transfer or any other event: a move either
// way).
func genStories(rng *rand.Rand, n int) []story {
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	stories := make([]story, n)
	for i := range stories {
		s := story{employee: fmt.Sprintf("E-%03d %s", i, []string{"", ".", "*", ">", "é"}[i%5]),
			name: fmt.Sprintf("Person %03d", i), org: 24 + i%2}
		at := base
		for j := range 1 + rng.IntN(6) {
			kind := kinds[rng.IntN(len(kinds))]
			if j == 0 && rng.IntN(5) > 0 {
				kind = "hired"
			}
			org := s.org
			if i%3 == 0 && rng.IntN(3) == 0 {
				org = 49 - s.org
			}
			// Few distinct times, so that ties broken by id occur.
			at = at.Add(time.Duration(rng.IntN(3)) * time.Hour)
			e := testenv.Event{ID: fmt.Sprintf("evt-%03d-%d-%d", i, j, rng.IntN(1000)), Kind: kind, Employee: s.employee, Org: org, At: at}
			if kind == "hired" || rng.IntN(3) == 0 {
				e.Name = s.name
			}
			s.events = append(s.events, e)
		}
		stories[i] = s
	}
	return stories
}

// expectedState applies the employee state machine to the events in time
// order (ties: the greater id is later): a hire makes anyone active; for
// an employee who is active or on leave, a leave makes them on leave, a
// return active, a termination terminated; a transfer changes no state.
// It returns the state and the organization of the newest event.
func expectedState(events []testenv.Event) (string, int) {
	sorted := slices.Clone(events)
	slices.SortFunc(sorted, func(a, b testenv.Event) int {
		if employee.Less(a.At, a.ID, b.At, b.ID) {
			return -1
		}
		return 1
	})
	state, org := "none", 0
	for _, e := range sorted {
		org = e.Org
		switch {
		case e.Kind == "hired":
			state = "active"
		case state == "none" || state == "terminated" || e.Kind == "transferred":
		case e.Kind == "leave_started":
			state = "on leave"
		case e.Kind == "leave_ended":
			state = "active"
		default:
			state = "terminated"
		}
	}
	return state, org
}

// assertChatHub checks what ChatHub holds for each story against the
// state its events give in time order (docs/promises.md), in
// every organization, and that no operator was made twice for one
// employee: one create for an employee who stays in one organization (a
// rehire reactivates), at most one per event for a mover (each move to an
// organization creates one there at most).
func assertChatHub(t *testing.T, sim *chathubsim.Server, stories []story) {
	t.Helper()
	created := sim.Counters().CreatedByName
	all := sim.Operators(0)
	for _, s := range stories {
		var live []chathubsim.Operator
		n := 0
		for _, op := range all {
			if op.Name == s.name {
				n++
				if op.Status != 2 {
					live = append(live, op)
				}
			}
		}
		want, org := expectedState(s.events)
		switch want {
		case "none":
			if n != 0 {
				t.Errorf("%s (never hired): %d operators, want none", s.employee, n)
			}
		case "terminated":
			if len(live) != 0 {
				t.Errorf("%s (terminated): %d operators not deleted, want none", s.employee, len(live))
			}
		default:
			wantStatus := map[string]int{"active": 0, "on leave": 1}[want]
			if len(live) != 1 || live[0].Status != wantStatus || live[0].OrganizationID != org {
				t.Errorf("%s (%s in organization %d): live operators %+v, want exactly one there with status %d", s.employee, want, org, live, wantStatus)
			}
		}
		limit := 1
		if slices.ContainsFunc(s.events, func(e testenv.Event) bool { return e.Org != s.events[0].Org }) {
			limit = len(s.events)
		}
		if created[s.name] > limit {
			t.Errorf("%s: %d operators created, want at most %d", s.employee, created[s.name], limit)
		}
	}
}

// publishShuffled publishes every story's events in random order, a tenth
// of them twice under another message id (a duplicate the stream's
// deduplication does not catch), and returns the number of distinct events.
// With pace, it publishes one event per pace: slower than a flow, so that
// a worker decides on each as it comes, not on the whole burst.
func publishShuffled(h *testenv.Harness, rng *rand.Rand, stories []story, pace time.Duration) int {
	var all []testenv.Event
	for _, s := range stories {
		all = append(all, s.events...)
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var tick <-chan time.Time
	if pace > 0 {
		t := time.NewTicker(pace)
		defer t.Stop()
		tick = t.C
	}
	for i, e := range all {
		if tick != nil {
			<-tick
		}
		h.PublishEvent(e)
		if i%10 == 0 {
			h.Publish(e.Body(), e.Kind, e.ID+"#again")
		}
	}
	return len(all)
}

// TestConvergenceUnderFaults: random life stories, shuffled, duplicated
// and redelivered, against a ChatHub that fails, throttles and loses
// answers after committing: ChatHub ends as the events say, with no duplicate
// operator, and every event has exactly one result.
func TestConvergenceUnderFaults(t *testing.T) {
	t.Parallel()
	// Odd seeds publish everything before the worker starts (a backlog in
	// few large batches), even seeds while it runs, one event at a time
	// (many small batches, intermediate states reached).
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			h := testenv.New(t)
			h.Sim.Seed(seed)
			// Answers are lost often: a backlog costs few calls, and every
			// seed must lose some.
			h.Sim.SetFaults(chathubsim.Faults{ErrorRate: 0.1, ThrottleRate: 0.02, RetryAfter: time.Second,
				SyncDropRate: 0.4, StatusDropRate: 0.3})
			stories := genStories(rng, 40)
			cfg := h.Config(func(c *config.Config) { c.BatchMaxSize = 7 })
			if seed%2 == 0 {
				h.Start(cfg)
			}
			n := publishShuffled(h, rng, stories, time.Duration(1-seed%2)*60*time.Millisecond)
			if seed%2 == 1 {
				h.Start(cfg)
			}

			results := h.WaitResults(n, 2*time.Minute)
			byID := testenv.ByEventID(t, results)
			if len(byID) != n {
				t.Errorf("%d events have results, want %d", len(byID), n)
			}
			for _, r := range results {
				if r.Outcome == hrevent.Failed || r.Outcome == hrevent.Rejected {
					t.Errorf("event %s: %s: %s", r.EventID, r.Outcome, r.Reason)
				}
				if (r.First() && r.MsgID != "result:"+r.EventID) || !strings.HasPrefix(r.Subject, "hr.results."+string(r.Outcome)+".") {
					t.Errorf("result %s on %s", r.MsgID, r.Subject)
				}
			}
			assertChatHub(t, h.Sim, stories)
			testenv.NoToken(t, results)
			c := h.Sim.Counters()
			t.Logf("%d events, %d results; ChatHub: %v calls, %d dropped after commit, %d 5xx, %d 429",
				n, len(results), c.Calls, c.Dropped, c.ServerErrors, c.Throttled)
			if c.Dropped == 0 {
				t.Error("no answer was dropped: the test did not exercise unknown outcomes")
			}
		})
	}
}
