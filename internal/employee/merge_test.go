package employee_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// TestMergeVerdicts: what merging decides for each event, in the order of
// the table, against one record.
func TestMergeVerdicts(t *testing.T) {
	t.Parallel()
	at := now.Add(-time.Hour)
	var r employee.Record
	steps := []struct {
		name    string
		e       employee.Event
		seq     uint64
		want    employee.VerdictKind
		reason  string
		changed bool
		repeat  bool
	}{
		{"a leave for someone never hired", ev("l0", employee.LeaveStart, at.Add(-2*time.Hour)), 1, employee.Skip, "no hire dated before this event has been seen", true, false},
		{"the first hire", ev("h1", employee.Hire, at), 2, employee.Owe, "", true, false},
		{"the same message again", ev("h1", employee.Hire, at), 2, employee.Known, "", false, false},
		{"the same id in another message", ev("h1", employee.Hire, at), 3, employee.Skip, "duplicate: event \"h1\" was already taken from the stream at sequence 2", false, true},
		{"an older hire", ev("h0", employee.Hire, at.Add(-time.Minute)), 4, employee.Skip, "older than \"h1\"", false, false},
		{"a leave dated before the hire", ev("l1", employee.LeaveEnd, at.Add(-time.Minute)), 5, employee.Skip, "older than the hire \"h1\"", true, false},
		{"a transfer", in(ev("x1", employee.Transfer, at.Add(30*time.Second)), 25), 6, employee.Owe, "", true, false},
		{"a stale transfer", in(ev("x0", employee.Transfer, at.Add(10*time.Second)), 26), 7, employee.Skip, "older than \"x1\"", false, false},
		{"a termination", in(ev("t1", employee.Termination, at.Add(time.Minute)), 25), 8, employee.Owe, "", true, false},
		{"a leave after the termination", in(ev("l2", employee.LeaveStart, at.Add(2*time.Minute)), 25), 9, employee.Skip, "terminated by \"t1\"", true, false},
		{"a transfer after the termination", in(ev("x2", employee.Transfer, at.Add(3*time.Minute)), 27), 10, employee.Skip, "terminated by \"t1\"", true, false},
		{"a rehire dated next week", ev("h2", employee.Hire, now.Add(7*24*time.Hour)), 11, employee.Owe, "", true, false},
		{"a leave dated after that rehire", ev("l3", employee.LeaveStart, now.Add(8*24*time.Hour)), 12, employee.Owe, "", true, false},
	}
	for _, s := range steps {
		v := r.Merge(s.e, s.seq, 1, "", now)
		if v.Kind != s.want || !strings.Contains(v.Reason, s.reason) || v.Changed != s.changed || v.Repeat != s.repeat {
			t.Errorf("%s: verdict %+v, want %v %q changed %v repeat %v", s.name, v, s.want, s.reason, s.changed, s.repeat)
		}
	}
	if got := r.State(); got != employee.Terminated {
		t.Errorf("state now %v, want terminated", got)
	}
	if r.Org != 27 {
		t.Errorf("organization now %d, want 27: the newest event names it, even for a terminated employee", r.Org)
	}
	if got := r.StateAt(now.Add(7*24*time.Hour + time.Second)); got != employee.Active {
		t.Errorf("state after the rehire %v, want active", got)
	}
	if got := r.OrgAt(now.Add(7*24*time.Hour + time.Second)); got != 24 {
		t.Errorf("organization after the rehire %d, want 24", got)
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
	r.Merge(ev("h1", employee.Hire, now.Add(-time.Hour)), 1, 1, "", now)
	r.Merge(ev("t1", employee.Termination, now.Add(1500*time.Millisecond)), 2, 1, "", now)
	if got := r.State(); got != employee.Active {
		t.Fatalf("a termination 1.5 s ahead took effect at once: %v", got)
	}
	r.Fold(now.Add(1499 * time.Millisecond))
	if r.State() != employee.Active {
		t.Error("the termination took effect before its time")
	}
	r.Fold(now.Add(1500 * time.Millisecond))
	if r.State() != employee.Terminated {
		t.Error("the termination did not take effect at its time")
	}

	var soon employee.Record
	soon.Merge(ev("h1", employee.Hire, now.Add(-time.Hour)), 1, 1, "", now)
	soon.Merge(ev("l1", employee.LeaveStart, now.Add(900*time.Millisecond)), 2, 1, "", now)
	if soon.State() != employee.OnLeave || len(soon.Scheduled) != 0 {
		t.Error("a leave 0.9 s ahead did not take effect at once")
	}
}

// TestScheduledChangeBeforeItsHire: a leave dated ahead that arrives
// before the employee's hire is owed, not skipped at once: the hire dated
// before it may come, and then the leave is applied at its time.
func TestScheduledChangeBeforeItsHire(t *testing.T) {
	t.Parallel()
	var r employee.Record
	if v := r.Merge(ev("l1", employee.LeaveStart, now.Add(time.Hour)), 1, 1, "", now); v.Kind != employee.Owe {
		t.Fatalf("a leave dated ahead of a hire not seen yet: %+v, want owed", v)
	}
	r.Merge(ev("h1", employee.Hire, now.Add(-time.Hour)), 2, 1, "", now)
	h := newHub()
	drive(&r, h, now)
	results := drive(&r, h, now.Add(time.Hour))
	if len(results) != 1 || results[0].ID != "l1" || results[0].Outcome != employee.Applied {
		t.Errorf("at the leave's time: %+v, want l1 applied", results)
	}

	var never employee.Record
	never.Merge(ev("l1", employee.LeaveStart, now.Add(time.Hour)), 1, 1, "", now)
	results = drive(&never, newHub(), now.Add(time.Hour))
	if len(results) != 1 || results[0].Outcome != employee.Skipped || !strings.Contains(results[0].Reason, "no hire dated before") {
		t.Errorf("a leave dated ahead for someone never hired, at its time: %+v, want skipped, no hire", results)
	}
}

// TestReplayAfterFailure: an event published again after it failed is
// tried again, as a repeat; published again after it was applied, it is a
// duplicate.
func TestReplayAfterFailure(t *testing.T) {
	t.Parallel()
	var r employee.Record
	hire := ev("h1", employee.Hire, now.Add(-time.Hour))
	r.Merge(hire, 1, 1, "", now)
	r.Failure = "ChatHub refused"
	r.Fail(r.Failure, now)
	if v := r.Merge(hire, 7, 1, "", now); v.Kind != employee.Owe || !v.Changed || !v.Repeat || r.Failure != "" {
		t.Fatalf("replay after failure: %+v failure %q, want owed, a repeat, tried again", v, r.Failure)
	}
	if d := r.Decide(now, open{}); len(d.Ops) != 1 || d.Ops[0].Kind != employee.Ensure {
		t.Errorf("replay after failure: %+v, want the operator made", d)
	}
	if v := r.Merge(hire, 7, 2, "", now); v.Kind != employee.Known {
		t.Errorf("the replay redelivered: %+v, want known", v)
	}
	r.Resolve(now)
	if v := r.Merge(hire, 9, 1, "", now); v.Kind != employee.Skip || !strings.Contains(v.Reason, "duplicate") {
		t.Errorf("replay after success: %+v, want a skipped duplicate", v)
	}
}

// TestSkippedEventRedelivered: a message skipped at once whose result was
// not stored comes back; it is skipped again, with the same reason, so
// that its result is published. One owed a result is known.
func TestSkippedEventRedelivered(t *testing.T) {
	t.Parallel()
	var r employee.Record
	r.Merge(ev("h1", employee.Hire, now), 1, 1, "", now)
	old := ev("t0", employee.Termination, now.Add(-time.Hour))
	v1 := r.Merge(old, 2, 1, "", now)
	v2 := r.Merge(old, 2, 2, "", now)
	if v1.Kind != employee.Skip || v2.Kind != employee.Skip || v1.Reason != v2.Reason {
		t.Errorf("first %+v, redelivered %+v: want the same skip", v1, v2)
	}
	if v := r.Merge(ev("h1", employee.Hire, now), 1, 2, "", now); v.Kind != employee.Known {
		t.Errorf("the owed hire redelivered: %+v, want known", v)
	}
	r.Resolve(now)
	if v := r.Merge(ev("h1", employee.Hire, now), 1, 3, "", now); v.Kind != employee.Known {
		t.Errorf("the resolved hire redelivered: %+v, want known", v)
	}
}

// TestWaitingEventsAreBounded: an employee's record holds at most
// MaxWaiting events waiting; one more fails with a reason a person can
// act on, and the record stays as it was.
func TestWaitingEventsAreBounded(t *testing.T) {
	t.Parallel()
	var r employee.Record
	r.Merge(ev("h1", employee.Hire, now.Add(-time.Hour)), 1, 1, "", now)
	for i := range employee.MaxWaiting - 1 {
		e := ev("l"+string(rune('a'+i%26))+time.Duration(i).String(), employee.LeaveStart, now.Add(time.Duration(i+2)*time.Hour))
		if v := r.Merge(e, uint64(i+2), 1, "", now); v.Kind != employee.Owe {
			t.Fatalf("change %d: %+v", i, v)
		}
	}
	before := len(r.Scheduled)
	v := r.Merge(ev("one-more", employee.LeaveEnd, now.Add(time.Hour)), 9999, 1, "", now)
	if v.Kind != employee.Fail || !strings.Contains(v.Reason, "events waiting") || len(r.Scheduled) != before {
		t.Errorf("one event too many: %+v, %d waiting (was %d); want failed, record unchanged", v, len(r.Scheduled), before)
	}
}
