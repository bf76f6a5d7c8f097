package employee_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// machine applies events in time order to the state machine of CONTRACT §3:
// the reference the record must agree with.
func machine(events []hrevent.Event) employee.State {
	sorted := slices.Clone(events)
	slices.SortFunc(sorted, func(a, b hrevent.Event) int {
		switch {
		case a.Before(b):
			return -1
		case b.Before(a):
			return 1
		}
		return 0
	})
	s := employee.None
	for _, e := range sorted {
		switch {
		case e.Kind == hrevent.Hired:
			s = employee.Active
		case s == employee.None || s == employee.Terminated:
		case e.Kind == hrevent.LeaveStarted:
			s = employee.OnLeave
		case e.Kind == hrevent.LeaveEnded:
			s = employee.Active
		case e.Kind == hrevent.Terminated:
			s = employee.Terminated
		}
	}
	return s
}

var kinds = []hrevent.Kind{hrevent.Hired, hrevent.LeaveStarted, hrevent.LeaveEnded, hrevent.Terminated}

// now is the clock of the property tests; events are dated before it or
// more than a second after it (scheduled).
var now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// genHistory draws an employee's events with few distinct times, so that
// ties broken by id are common; some are dated ahead of now.
func genHistory(t *rapid.T) []hrevent.Event {
	n := rapid.IntRange(0, 12).Draw(t, "n")
	var events []hrevent.Event
	for i := range n {
		k := rapid.SampledFrom(kinds).Draw(t, "kind")
		at := now.Add(time.Duration(rapid.IntRange(-5, 5).Draw(t, "minute")) * time.Minute)
		events = append(events, hrevent.Event{
			ID: fmt.Sprintf("e%02d-%d", rapid.IntRange(0, 99).Draw(t, "idnum"), i), Kind: k, Type: k.Type(),
			Time: at, EmployeeID: "E1", OrganizationID: 1, Name: "N",
		})
	}
	return events
}

// TestMergeConvergesInAnyOrder: whatever the delivery order, with
// duplicates and redeliveries, the record's state at any time is the state
// machine's over the events dated up to then, and every event that is not
// a repeat is either owed or decided at once.
func TestMergeConvergesInAnyOrder(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		events := genHistory(t)
		type delivery struct {
			e   hrevent.Event
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
		order := rapid.Permutation(deliveries).Draw(t, "order")
		var r employee.Record
		for _, d := range order {
			r.Merge(d.e, d.seq, 1, "", now)
		}
		for _, at := range []time.Time{now, now.Add(2 * time.Minute), now.Add(time.Hour)} {
			var upTo []hrevent.Event
			for _, e := range events {
				if !e.Time.After(at) {
					upTo = append(upTo, e)
				}
			}
			if got, want := r.StateAt(at), machine(upTo); got != want {
				t.Fatalf("state at %s = %v, want %v for %+v", at.Format(time.Kitchen), got, want, events)
			}
		}
	})
}

// TestResolveNamesEveryOwedEventOnce: once every change has taken effect,
// every owed event gets exactly one result, applied exactly when the final
// state is the one it asks for.
func TestResolveNamesEveryOwedEventOnce(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		events := genHistory(t)
		var r employee.Record
		owed := map[string]bool{}
		for i, e := range rapid.Permutation(events).Draw(t, "order") {
			if v, _, _ := r.Merge(e, uint64(i+1), 1, "", now); v == employee.Owe {
				owed[e.ID] = true
			}
		}
		r.Fold(now.Add(time.Hour))
		final := r.State()
		for _, res := range r.Resolve(now) {
			if !owed[res.ID] {
				t.Fatalf("%s resolved twice or never owed", res.ID)
			}
			delete(owed, res.ID)
			if (res.Outcome == hrevent.Applied) != (target(res.Kind) == final) {
				t.Fatalf("%s %s: %s with final state %v", res.Kind, res.ID, res.Outcome, final)
			}
		}
		if len(owed) != 0 || len(r.Owed) != 0 {
			t.Fatalf("owed events without a result: %v", owed)
		}
	})
}

func target(k hrevent.Kind) employee.State {
	return map[hrevent.Kind]employee.State{hrevent.Hired: employee.Active, hrevent.LeaveEnded: employee.Active,
		hrevent.LeaveStarted: employee.OnLeave, hrevent.Terminated: employee.Terminated}[k]
}
