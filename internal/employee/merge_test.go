package employee_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

func ev(id string, k hrevent.Kind, at time.Time) hrevent.Event {
	return hrevent.Event{ID: id, Kind: k, Type: k.Type(), Time: at, EmployeeID: "E1", OrganizationID: 24, Name: "Alex"}
}

// TestMergeVerdicts: what the intake decides for each event, in the order
// of the table, against one record.
func TestMergeVerdicts(t *testing.T) {
	t.Parallel()
	at := now.Add(-time.Hour)
	var r employee.Record
	other := ev("o1", hrevent.LeaveStarted, at)
	other.OrganizationID = 25
	steps := []struct {
		name    string
		e       hrevent.Event
		seq     uint64
		want    employee.Verdict
		reason  string
		changed bool
	}{
		{"a leave for someone never hired", ev("l0", hrevent.LeaveStarted, at.Add(-2*time.Hour)), 1, employee.Skip, "no hire dated before this event has been seen", true},
		{"the first hire", ev("h1", hrevent.Hired, at), 2, employee.Owe, "", true},
		{"the same message again", ev("h1", hrevent.Hired, at), 2, employee.Known, "", false},
		{"the same id in another message", ev("h1", hrevent.Hired, at), 3, employee.Skip, "duplicate: event \"h1\" was already taken from the stream at sequence 2", false},
		{"an older hire", ev("h0", hrevent.Hired, at.Add(-time.Minute)), 4, employee.Skip, "older than \"h1\"", false},
		{"a leave dated before the hire", ev("l1", hrevent.LeaveEnded, at.Add(-time.Minute)), 5, employee.Skip, "older than the hire \"h1\"", true},
		{"another organization", other, 6, employee.Fail, "organizationId 25 differs from 24", false},
		{"a termination", ev("t1", hrevent.Terminated, at.Add(time.Minute)), 7, employee.Owe, "", true},
		{"a leave after the termination", ev("l2", hrevent.LeaveStarted, at.Add(2*time.Minute)), 8, employee.Skip, "terminated by \"t1\"", true},
		{"a rehire dated next week", ev("h2", hrevent.Hired, now.Add(7*24*time.Hour)), 9, employee.Owe, "", true},
		{"a leave dated after that rehire", ev("l3", hrevent.LeaveStarted, now.Add(8*24*time.Hour)), 10, employee.Owe, "", true},
	}
	for _, s := range steps {
		v, reason, changed := r.Merge(s.e, s.seq, 1, "", now)
		if v != s.want || !strings.Contains(reason, s.reason) || changed != s.changed {
			t.Errorf("%s: verdict %v %q changed %v, want %v %q changed %v", s.name, v, reason, changed, s.want, s.reason, s.changed)
		}
	}
	if got := r.State(); got != employee.Terminated {
		t.Errorf("state now %v, want terminated", got)
	}
	if got := r.StateAt(now.Add(7*24*time.Hour + time.Second)); got != employee.Active {
		t.Errorf("state after the rehire %v, want active", got)
	}
	if got := r.NextChange(); !got.Equal(now.Add(7 * 24 * time.Hour)) {
		t.Errorf("next change %v, want the rehire's time", got)
	}
}

// TestScheduledChangeWaitsForItsTime: an event dated more than a second
// ahead takes effect at its time, not before; one dated less than a second
// ahead takes effect at once.
func TestScheduledChangeWaitsForItsTime(t *testing.T) {
	t.Parallel()
	var r employee.Record
	r.Merge(ev("h1", hrevent.Hired, now.Add(-time.Hour)), 1, 1, "", now)
	r.Merge(ev("t1", hrevent.Terminated, now.Add(1500*time.Millisecond)), 2, 1, "", now)
	if got := r.State(); got != employee.Active {
		t.Fatalf("a termination 1.5 s ahead took effect at once: %v", got)
	}
	if p := r.Next(now.Add(1499*time.Millisecond), "w"); p.WakeAt != now.Add(1500*time.Millisecond) {
		t.Errorf("plan before the time: %+v, want a wake-up at the termination", p)
	}
	if r.State() != employee.Active {
		t.Error("the termination took effect before its time")
	}
	r.Next(now.Add(1500*time.Millisecond), "w")
	if r.State() != employee.Terminated {
		t.Error("the termination did not take effect at its time")
	}

	var soon employee.Record
	soon.Merge(ev("h1", hrevent.Hired, now.Add(-time.Hour)), 1, 1, "", now)
	soon.Merge(ev("l1", hrevent.LeaveStarted, now.Add(900*time.Millisecond)), 2, 1, "", now)
	if soon.State() != employee.OnLeave || len(soon.Scheduled) != 0 {
		t.Error("a leave 0.9 s ahead did not take effect at once")
	}
}

// TestReplayAfterFailure: an event published again after it failed is
// tried again; published again after it was applied, it is a duplicate.
func TestReplayAfterFailure(t *testing.T) {
	t.Parallel()
	var r employee.Record
	hire := ev("h1", hrevent.Hired, now.Add(-time.Hour))
	r.Merge(hire, 1, 1, "", now)
	r.Fail("ChatHub refused to list the organization's operators", now)
	r.Failure = "ChatHub refused"
	if v, _, changed := r.Merge(hire, 7, 1, "", now); v != employee.Owe || !changed || r.Failure != "" {
		t.Fatalf("replay after failure: %v changed %v failure %q, want owed and tried again", v, changed, r.Failure)
	}
	if p := r.Next(now, "w"); !p.Act {
		t.Errorf("replay after failure: plan %+v, want act", p)
	}
	if v, _, _ := r.Merge(hire, 7, 2, "", now); v != employee.Known {
		t.Errorf("the replay redelivered: %v, want known", v)
	}
	r.Resolve(now)
	if v, reason, _ := r.Merge(hire, 9, 1, "", now); v != employee.Skip || !strings.Contains(reason, "duplicate") {
		t.Errorf("replay after success: %v %q, want a skipped duplicate", v, reason)
	}
}

// TestSkippedEventRedelivered: a message skipped at once whose result was
// not stored comes back; it is skipped again, with the same reason, so
// that its result is published. One owed a result is known.
func TestSkippedEventRedelivered(t *testing.T) {
	t.Parallel()
	var r employee.Record
	r.Merge(ev("h1", hrevent.Hired, now), 1, 1, "", now)
	old := ev("t0", hrevent.Terminated, now.Add(-time.Hour))
	v1, reason1, _ := r.Merge(old, 2, 1, "", now)
	v2, reason2, _ := r.Merge(old, 2, 2, "", now)
	if v1 != employee.Skip || v2 != employee.Skip || reason1 != reason2 {
		t.Errorf("first %v %q, redelivered %v %q: want the same skip", v1, reason1, v2, reason2)
	}
	if v, _, _ := r.Merge(ev("h1", hrevent.Hired, now), 1, 2, "", now); v != employee.Known {
		t.Errorf("the owed hire redelivered: %v, want known", v)
	}
	r.Resolve(now)
	if v, _, _ := r.Merge(ev("h1", hrevent.Hired, now), 1, 3, "", now); v != employee.Known {
		t.Errorf("the resolved hire redelivered: %v, want known", v)
	}
}
