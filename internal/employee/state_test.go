package employee_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// machine applies events in time order to the state machine: the
// reference the record must agree with. It returns the state and the
// organization of the newest event.
func machine(events []employee.Event) (employee.State, int) {
	sorted := slices.Clone(events)
	slices.SortFunc(sorted, func(a, b employee.Event) int {
		switch {
		case a.Before(b):
			return -1
		case b.Before(a):
			return 1
		}
		return 0
	})
	s, org := employee.None, 0
	for _, e := range sorted {
		org = e.OrganizationID
		switch {
		case e.Kind == employee.Hire:
			s = employee.Active
		case s == employee.None || s == employee.Terminated || e.Kind == employee.Transfer:
		case e.Kind == employee.LeaveStart:
			s = employee.OnLeave
		case e.Kind == employee.LeaveEnd:
			s = employee.Active
		case e.Kind == employee.Termination:
			s = employee.Terminated
		}
	}
	return s, org
}

// genHistory draws an employee's events with few distinct times, so that
// ties broken by id are common, in up to three organizations; some are
// dated ahead of now.
func genHistory(t *rapid.T) []employee.Event {
	n := rapid.IntRange(0, 12).Draw(t, "n")
	var events []employee.Event
	for i := range n {
		k := rapid.SampledFrom(employee.Kinds).Draw(t, "kind")
		at := now.Add(time.Duration(rapid.IntRange(-5, 5).Draw(t, "minute")) * time.Minute)
		events = append(events, employee.Event{
			ID: fmt.Sprintf("e%02d-%d", rapid.IntRange(0, 99).Draw(t, "idnum"), i), Kind: k, Time: at,
			EmployeeID: "E1", OrganizationID: rapid.IntRange(24, 26).Draw(t, "org"), Name: "N",
		})
	}
	return events
}

// TestMergeConvergesInAnyOrder: whatever the delivery order, with
// duplicates and redeliveries, the record's state and organization at any
// time are the state machine's over the events dated up to then.
func TestMergeConvergesInAnyOrder(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		events := genHistory(t)
		type delivery struct {
			e   employee.Event
			seq uint64
		}
		var deliveries []delivery
		for i, e := range events {
			for range rapid.IntRange(1, 3).Draw(t, "copies") {
				seq := uint64(i + 1)
				if rapid.Bool().Draw(t, "dup") {
					seq += 1000
				}
				deliveries = append(deliveries, delivery{e, seq})
			}
		}
		var r employee.Record
		for _, d := range rapid.Permutation(deliveries).Draw(t, "order") {
			r.Merge(d.e, d.seq, 1, "", now)
		}
		for _, at := range []time.Time{now, now.Add(2 * time.Minute), now.Add(time.Hour)} {
			var upTo []employee.Event
			for _, e := range events {
				if !e.Time.After(at) {
					upTo = append(upTo, e)
				}
			}
			state, org := machine(upTo)
			if got := r.StateAt(at); got != state {
				t.Fatalf("state at %s = %v, want %v for %+v", at.Format(time.Kitchen), got, state, events)
			}
			if got := r.OrgAt(at); len(upTo) > 0 && got != org {
				t.Fatalf("organization at %s = %d, want %d for %+v", at.Format(time.Kitchen), got, org, events)
			}
		}
	})
}

// TestDrivingConverges: merging a timeline in any order and doing what
// the record decides, step by step (ChatHub losing answers after making
// the change), ends with ChatHub holding what the state machine gives (exactly one operator that is not deleted, in the
// employee's organization, with the state's status; none for an employee
// terminated or never hired), and every event owed a result gets exactly
// one.
func TestDrivingConverges(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		events := genHistory(t)
		h := newHub()
		var r employee.Record
		owed := map[string]bool{}
		at := now
		for i, e := range rapid.Permutation(events).Draw(t, "order") {
			if v := r.Merge(e, uint64(i+1), 1, "", at); v.Kind == employee.Owe {
				owed[e.ID] = true
			}
			if rapid.Bool().Draw(t, "drive") {
				// ChatHub may lose the answer to the first call, having
				// made the change.
				h.lose = rapid.Bool().Draw(t, "lose")
				resolve(t, owed, drive(&r, h, at))
			}
		}
		at, h.lose = now.Add(time.Hour), false
		resolve(t, owed, drive(&r, h, at))
		if len(owed) != 0 {
			t.Fatalf("owed events without a result: %v", owed)
		}
		state, org := machine(events)
		want, needed := state.Want()
		live := h.live()
		switch {
		case !needed && len(live) != 0:
			t.Fatalf("%v employee has live operators %+v", state, live)
		case needed && (len(live) != 1 || live[0].Org != org || live[0].Status != want):
			t.Fatalf("%v employee in organization %d: live operators %+v, want one there with status %v", state, org, live, want)
		}
	})
}

// resolve checks and crosses off the results that came due.
func resolve(t *rapid.T, owed map[string]bool, results []employee.Resolution) {
	for _, res := range results {
		if !owed[res.ID] {
			t.Fatalf("%s resolved twice or never owed", res.ID)
		}
		delete(owed, res.ID)
		if res.Outcome == employee.Failed {
			t.Fatalf("%s failed: %s", res.ID, res.Reason)
		}
	}
}
