package employee

import (
	"fmt"
	"slices"
	"time"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// ScheduleAhead is how far ahead of the clock an event must be dated to be
// a scheduled change (CONTRACT §3): it then waits for its time.
const ScheduleAhead = time.Second

// Verdict is what the intake does with one event once it is merged.
type Verdict int

const (
	// Owe: the event is recorded; its result comes when ChatHub reflects
	// it, or when a later event overtakes it.
	Owe Verdict = iota
	// Skip: the event changes nothing; its skipped result goes out now.
	Skip
	// Fail: the event cannot be applied; its failed result goes out now.
	Fail
	// Known: this very message was taken before; its result is either
	// owed already or out already.
	Known
)

// Merge folds one event, taken from the stream at seq after delivered
// attempts, into the record at time now. It returns what to do with the
// event, the reason for a skipped or failed result, and whether the record
// changed and must be written.
func (r *Record) Merge(e hrevent.Event, seq uint64, delivered int, trace string, now time.Time) (Verdict, string, bool) {
	if r.EmployeeID == "" {
		*r = New(e.EmployeeID, e.OrganizationID)
	}
	if e.OrganizationID != r.OrganizationID {
		return Fail, fmt.Sprintf("organizationId %d differs from %d in this employee's earlier events; an employee belongs to one organization",
			e.OrganizationID, r.OrganizationID), false
	}
	changed := r.Fold(now)
	owe := Owed{ID: e.ID, Kind: e.Kind, Time: e.Time, Seq: seq, Attempts: max(delivered, 1), Trace: trace}
	if known, dupOf := r.seen(e.ID, seq); known {
		// This very message was taken before. If it was decided at once
		// (skipped) its result may not have been stored: decide again.
		if reason := r.skippedBefore(e, seq); reason != "" {
			return Skip, reason, changed
		}
		return Known, "", changed
	} else if dupOf != 0 && r.Failure != "" && !slices.ContainsFunc(r.Owed, func(o Owed) bool { return o.ID == e.ID }) {
		// Published again after its employee's changes failed: a replay,
		// once the cause is fixed. Try again.
		r.Failure = ""
		r.Owed = append(r.Owed, owe)
		return Owe, "", true
	} else if dupOf != 0 {
		return Skip, fmt.Sprintf("duplicate: event %s was already taken from the stream at sequence %d", quote(e.ID), dupOf), changed
	}
	if e.Time.After(now.Add(ScheduleAhead)) {
		// The change waits for its time even when it changes nothing: an
		// earlier hire that arrives later must find it in the history.
		r.Scheduled = append(r.Scheduled, Change{ID: e.ID, Kind: e.Kind, Time: e.Time, Seq: seq, Name: e.Name})
		if e.Kind != hrevent.Hired && !r.hiredBefore(e) {
			return Skip, "employee " + quote(e.EmployeeID) + " has no operator and no hire dated before this event, so there is nothing to change", true
		}
		r.Owed = append(r.Owed, owe)
		r.Failure = ""
		return Owe, "", true
	}
	m := &Mark{Time: e.Time, ID: e.ID, Seq: seq}
	if cur := *r.slot(e.Kind); !r.move(e.Kind, m, e.Name) {
		return Skip, fmt.Sprintf("the event is older than %s (%s), which supersedes it for this employee",
			quote(cur.ID), cur.Time.UTC().Format(time.RFC3339)), changed
	}
	r.Failure = ""
	if reason := r.skipReason(e, m); reason != "" {
		// The mark moved all the same: an earlier hire that arrives later
		// must find this event in the history.
		return Skip, reason, true
	}
	r.Owed = append(r.Owed, owe)
	return Owe, "", true
}

// seen reports whether this message was taken before (known), or else the
// stream sequence of another message with the same event id (a duplicate).
func (r *Record) seen(id string, seq uint64) (known bool, dupOf uint64) {
	check := func(otherID string, otherSeq uint64) {
		if otherID == id {
			known, dupOf = known || otherSeq == seq, otherSeq
		}
	}
	for _, m := range []*Mark{r.Hire, r.Leave, r.Term} {
		if m != nil {
			check(m.ID, m.Seq)
		}
	}
	for _, c := range r.Scheduled {
		check(c.ID, c.Seq)
	}
	for _, o := range r.Owed {
		check(o.ID, o.Seq)
	}
	for _, o := range r.Recent {
		check(o.ID, o.Seq)
	}
	return known, dupOf
}

// skippedBefore is the reason this message was skipped when it was taken
// before, or "" when it was owed a result instead (its result is then
// owed, or out, and accounted for in the record).
func (r *Record) skippedBefore(e hrevent.Event, seq uint64) string {
	accounted := func(id string, s uint64) bool { return id == e.ID && s == seq }
	if slices.ContainsFunc(r.Owed, func(o Owed) bool { return accounted(o.ID, o.Seq) }) ||
		slices.ContainsFunc(r.Recent, func(o Resolved) bool { return accounted(o.ID, o.Seq) }) {
		return ""
	}
	if slices.ContainsFunc(r.Scheduled, func(c Change) bool { return accounted(c.ID, c.Seq) }) {
		if e.Kind != hrevent.Hired && !r.hiredBefore(e) {
			return "employee " + quote(e.EmployeeID) + " has no operator and no hire dated before this event, so there is nothing to change"
		}
		return ""
	}
	return r.skipReason(e, &Mark{Time: e.Time, ID: e.ID, Seq: seq})
}

// hiredBefore reports whether a hire, taken effect or scheduled, comes
// before e.
func (r *Record) hiredBefore(e hrevent.Event) bool {
	m := &Mark{Time: e.Time, ID: e.ID}
	if r.Hire != nil && r.Hire.before(m) {
		return true
	}
	return slices.ContainsFunc(r.Scheduled, func(c Change) bool {
		return c.Kind == hrevent.Hired && hrevent.Less(c.Time, c.ID, e.Time, e.ID)
	})
}

// skipReason says why an event that moved its mark still changes nothing
// in ChatHub, or "" when it takes effect.
func (r *Record) skipReason(e hrevent.Event, m *Mark) string {
	if e.Kind == hrevent.Hired {
		return ""
	}
	switch {
	case r.Hire == nil:
		return "employee " + quote(e.EmployeeID) + " has no operator: no hire dated before this event has been seen, so there is nothing to change"
	case m.before(r.Hire):
		return "the event is older than the hire " + quote(r.Hire.ID) + " already applied, which supersedes it"
	case e.Kind != hrevent.Terminated && r.Hire.before(r.Term) && r.Term.before(m):
		return "the employee was terminated by " + quote(r.Term.ID) + " before this event; a leave changes nothing for them"
	}
	return ""
}

func quote(s string) string {
	if r := []rune(s); len(r) > 80 {
		s = string(r[:80]) + "…"
	}
	return "\"" + s + "\""
}
