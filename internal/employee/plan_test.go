package employee_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// hired is a record of an active employee whose operator ChatHub holds.
func hired() employee.Record {
	var r employee.Record
	r.Merge(ev("h1", hrevent.Hired, now.Add(-time.Hour)), 1, 1, "", now)
	r.Resolve(now)
	r.OperatorID, r.OperatorStatus = 101, employee.StatusActive
	return r
}

func TestNext(t *testing.T) {
	t.Parallel()
	later := now.Add(time.Minute)
	cases := []struct {
		name string
		rec  func() employee.Record
		want employee.Plan
	}{
		{"in step, nothing owed", hired, employee.Plan{}},
		{"a new leave", func() employee.Record {
			r := hired()
			r.Merge(ev("l1", hrevent.LeaveStarted, now), 2, 1, "", now)
			return r
		}, employee.Plan{Act: true}},
		{"an event that changes nothing still owes its result", func() employee.Record {
			r := hired()
			r.Merge(ev("e1", hrevent.LeaveEnded, now), 2, 1, "", now)
			return r
		}, employee.Plan{Act: true}},
		{"another worker holds the lease", func() employee.Record {
			r := hired()
			r.Merge(ev("l1", hrevent.LeaveStarted, now), 2, 1, "", now)
			r.Lease = &employee.Lease{Owner: "other", Until: later}
			return r
		}, employee.Plan{BusyUntil: later}},
		{"a lease left behind", func() employee.Record {
			r := hired()
			r.Lease = &employee.Lease{Owner: "other", Until: now.Add(-time.Second)}
			return r
		}, employee.Plan{Act: true, Stale: true}},
		{"a lease of its own left behind", func() employee.Record {
			r := hired()
			r.Lease = &employee.Lease{Owner: "me", Until: later}
			return r
		}, employee.Plan{Act: true, Stale: true}},
		{"a retry not yet due", func() employee.Record {
			r := hired()
			r.Merge(ev("l1", hrevent.LeaveStarted, now), 2, 1, "", now)
			r.Retry = &employee.Retry{Attempts: 1, NextAt: later}
			return r
		}, employee.Plan{WakeAt: later}},
		{"a retry due", func() employee.Record {
			r := hired()
			r.Merge(ev("l1", hrevent.LeaveStarted, now), 2, 1, "", now)
			r.Retry = &employee.Retry{Attempts: 1, NextAt: now}
			return r
		}, employee.Plan{Act: true}},
		{"refused by ChatHub until the next event", func() employee.Record {
			r := hired()
			r.OperatorStatus = employee.StatusInactive
			r.Failure = "ChatHub refused"
			return r
		}, employee.Plan{}},
		{"a change dated ahead", func() employee.Record {
			r := hired()
			r.Merge(ev("t1", hrevent.Terminated, later), 2, 1, "", now)
			return r
		}, employee.Plan{WakeAt: later}},
	}
	for _, c := range cases {
		r := c.rec()
		if got := r.Next(now, "me"); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestOvertakenEvents: a hire and a termination waiting together create no
// operator; the hire is skipped, naming the termination, and the
// termination is applied (CONTRACT §2).
func TestOvertakenEvents(t *testing.T) {
	t.Parallel()
	var r employee.Record
	r.Merge(ev("h1", hrevent.Hired, now.Add(-time.Hour)), 1, 3, "", now)
	r.Merge(ev("t1", hrevent.Terminated, now.Add(-time.Minute)), 2, 1, "", now)
	if r.NeedsCreate() || !r.Converged() {
		t.Fatal("a terminated employee needs no operator")
	}
	res := r.Resolve(now)
	if len(res) != 2 {
		t.Fatalf("%d results, want 2", len(res))
	}
	for _, x := range res {
		switch x.ID {
		case "h1":
			if x.Outcome != hrevent.Skipped || !strings.Contains(x.Reason, `overtaken by terminated "t1"`) || x.Attempts != 3 {
				t.Errorf("hire: %s %q after %d attempts", x.Outcome, x.Reason, x.Attempts)
			}
		case "t1":
			if x.Outcome != hrevent.Applied {
				t.Errorf("termination: %s %q", x.Outcome, x.Reason)
			}
		}
	}
	if len(r.Recent) != 2 || r.HasDue() {
		t.Errorf("recent %v, due %v", r.Recent, r.HasDue())
	}
	// A redelivery of a resolved event's message is known: its result is out.
	if v, _, _ := r.Merge(ev("h1", hrevent.Hired, now.Add(-time.Hour)), 1, 2, "", now); v != employee.Known {
		t.Errorf("redelivered resolved hire: %v, want known", v)
	}
}

func TestFailResolvesOnlyWhatTookEffect(t *testing.T) {
	t.Parallel()
	r := hired()
	r.Merge(ev("l1", hrevent.LeaveStarted, now), 2, 1, "", now)
	r.Merge(ev("t1", hrevent.Terminated, now.Add(time.Hour)), 3, 1, "", now)
	res := r.Fail("ChatHub refused", now)
	if len(res) != 1 || res[0].ID != "l1" || res[0].Outcome != hrevent.Failed {
		t.Errorf("failed %+v, want only the leave", res)
	}
	if len(r.Owed) != 1 || r.Owed[0].ID != "t1" {
		t.Errorf("still owed %+v, want the scheduled termination", r.Owed)
	}
}

func TestDeactivates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		event hrevent.Kind
		from  employee.Status
		want  bool
	}{
		{"active to on leave", hrevent.LeaveStarted, employee.StatusActive, true},
		{"active to terminated", hrevent.Terminated, employee.StatusActive, true},
		{"on leave to terminated", hrevent.Terminated, employee.StatusInactive, true},
		{"on leave to active", hrevent.LeaveEnded, employee.StatusInactive, false},
		{"deleted stays deleted", hrevent.Terminated, employee.StatusDeleted, false},
		{"a rehire", hrevent.Hired, employee.StatusDeleted, false},
	} {
		r := hired()
		r.OperatorStatus = tc.from
		r.Merge(ev("x", tc.event, now), 9, 1, "", now)
		if got := r.Deactivates(); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
	var none employee.Record
	none.Merge(ev("t", hrevent.Terminated, now), 1, 1, "", now)
	if none.Deactivates() {
		t.Error("an employee with no operator deactivates nothing")
	}
}

func TestNextAction(t *testing.T) {
	t.Parallel()
	later := now.Add(24 * time.Hour)
	for _, tc := range []struct {
		name string
		rec  func() employee.Record
		want string
	}{
		{"in step", hired, "nothing: in step"},
		{"a leave", func() employee.Record {
			r := hired()
			r.Merge(ev("l1", hrevent.LeaveStarted, now), 2, 1, "", now)
			return r
		}, "set operator 101 to inactive now"},
		{"a new hire", func() employee.Record {
			var r employee.Record
			r.Merge(ev("h1", hrevent.Hired, now), 1, 1, "", now)
			return r
		}, `create an operator named "Alex" in organization 24, unless one of that name can be adopted now`},
		{"a termination tomorrow", func() employee.Record {
			r := hired()
			r.Merge(ev("t1", hrevent.Terminated, later), 2, 1, "", now)
			return r
		}, "nothing now; at " + later.UTC().Format(time.RFC3339) + ": set operator 101 to deleted"},
		{"held at the guard", func() employee.Record {
			r := hired()
			r.Merge(ev("t1", hrevent.Terminated, now), 2, 1, "", now)
			r.Guard = &employee.Guarded{Since: now, Held: 1}
			return r
		}, "wait: the mass-offboarding guard of organization 24 holds this deactivation"},
	} {
		if got := tc.rec().NextAction(now); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
