package handlers

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// machine applies events in time order to the state machine of CONTRACT §3:
// the reference the record must agree with.
func machine(events []hrevent.Event) State {
	sorted := slices.Clone(events)
	slices.SortFunc(sorted, func(a, b hrevent.Event) int {
		if a.Before(b) {
			return -1
		}
		if b.Before(a) {
			return 1
		}
		return 0
	})
	s := StateNone
	for _, e := range sorted {
		switch {
		case e.Kind == hrevent.Hired:
			s = StateActive
		case s == StateNone || s == StateTerminated:
		case e.Kind == hrevent.LeaveStarted:
			s = StateOnLeave
		case e.Kind == hrevent.LeaveEnded:
			s = StateActive
		case e.Kind == hrevent.Terminated:
			s = StateTerminated
		}
	}
	return s
}

var kinds = []hrevent.Kind{hrevent.Hired, hrevent.LeaveStarted, hrevent.LeaveEnded, hrevent.Terminated}

// genHistory draws an employee's events with few distinct times, so that
// ties broken by id are common.
func genHistory(t *rapid.T) []hrevent.Event {
	n := rapid.IntRange(0, 12).Draw(t, "n")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var events []hrevent.Event
	for i := range n {
		k := rapid.SampledFrom(kinds).Draw(t, "kind")
		at := base.Add(time.Duration(rapid.IntRange(0, 5).Draw(t, "minute")) * time.Minute)
		events = append(events, hrevent.Event{
			ID: fmt.Sprintf("e%02d-%s", rapid.IntRange(0, 99).Draw(t, "idnum"), fmt.Sprint(i)), Kind: k, Type: k.Type(),
			Time: at, EmployeeID: "E1", OrganizationID: 1, Name: "N",
		})
	}
	return events
}

// TestMergeConvergesInAnyOrder: whatever the delivery order, with
// duplicates and redeliveries, the record's state is the state machine's.
func TestMergeConvergesInAnyOrder(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		events := genHistory(t)
		want := machine(events)
		// Deliver each event one to three times, shuffled; a repeat is a
		// redelivery (same sequence) or a duplicate (new sequence).
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
		var r Record
		for _, d := range order {
			r.merge(d.e, d.seq)
		}
		if got := r.State(); got != want {
			t.Fatalf("state = %v, want %v for %+v", got, want, events)
		}
	})
}

func TestMergeVerdicts(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hire := hrevent.Event{ID: "h", Kind: hrevent.Hired, Time: at, Name: "A"}
	var r Record
	if v := r.merge(hire, 1); v != verdictNew {
		t.Errorf("first hire: %v", v)
	}
	if v := r.merge(hire, 1); v != verdictRedelivery {
		t.Errorf("same message again: %v", v)
	}
	if v := r.merge(hire, 2); v != verdictDuplicate {
		t.Errorf("same id, other message: %v", v)
	}
	older := hrevent.Event{ID: "g", Kind: hrevent.Hired, Time: at}
	if v := r.merge(older, 3); v != verdictOlder {
		t.Errorf("equal time, smaller id: %v", v)
	}
	leave := hrevent.Event{ID: "a", Kind: hrevent.LeaveStarted, Time: at.Add(-time.Minute), EmployeeID: "E"}
	if v := r.merge(leave, 4); v != verdictNew || r.skipReason(leave) == "" || r.State() != StateActive {
		t.Errorf("leave before the hire: verdict %v, reason %q, state %v", v, r.skipReason(leave), r.State())
	}
}
