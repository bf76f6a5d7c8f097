package employee

import (
	"fmt"
	"slices"
	"time"
)

// ScheduleAhead is how far ahead of the clock an event must be dated to be
// a scheduled change: it then waits for its time.
const ScheduleAhead = time.Second

// MaxWaiting bounds the events one employee's record holds waiting (dated
// ahead, or owed a result), so that a record always fits in one message
// of the store. An event beyond it fails with a reason.
const MaxWaiting = 500

// MaxWaitingBytes bounds the same events by the text they carry (ids,
// names, traces): an id may have 256 characters of four bytes each, and
// the store escapes a byte to as many as six, so a count alone does not
// keep a record within one message of the store (1 MiB by NATS's
// default). Six times this, plus the fixed fields of MaxWaiting events
// twice over, stays under 1 MiB; with ids of a few dozen characters the
// count is reached first.
const MaxWaitingBytes = 96 << 10

// Verdict is what merging one event did.
type Verdict struct {
	Kind VerdictKind
	// Reason says why, for a skipped or failed event.
	Reason string
	// Changed: the record changed and must be written.
	Changed bool
	// Repeat: another message carried the same event id before (a
	// duplicate, or a replay after a failure); its result is told apart
	// from the first message's.
	Repeat bool
}

// VerdictKind is what becomes of one event once it is merged.
type VerdictKind int

const (
	// Owe: the event is recorded; its result comes when ChatHub reflects
	// it, or when a later event overtakes it.
	Owe VerdictKind = iota
	// Skip: the event changes nothing; its skipped result goes out now.
	Skip
	// Fail: the event cannot be taken; its failed result goes out now.
	Fail
	// Known: this very message was taken before; its result is owed
	// already or out already.
	Known
)

// Merge folds one event, taken from the stream at seq after delivered
// attempts, into the record at time now.
func (r *Record) Merge(e Event, seq uint64, delivered int, trace string, now time.Time) Verdict {
	if r.EmployeeID == "" {
		*r = New(e.EmployeeID)
	}
	changed := r.Fold(now)
	owe := Owed{ID: e.ID, Kind: e.Kind, Time: e.Time, Seq: seq, Org: e.OrganizationID, Attempts: max(delivered, 1), Trace: trace}
	known, dupOf := r.seen(e.ID, seq)
	switch {
	case known:
		// This very message was taken before. If it was decided at once
		// (skipped) its result may not have been stored: decide again.
		if reason := r.skippedBefore(e, seq); reason != "" {
			return Verdict{Kind: Skip, Reason: reason, Changed: changed}
		}
		return Verdict{Kind: Known, Changed: changed}
	case dupOf != 0 && r.Failure != "" && !slices.ContainsFunc(r.Owed, func(o Owed) bool { return o.ID == e.ID }):
		// Published again after its employee's changes failed: a replay,
		// once the cause is fixed. Try again.
		r.Failure = ""
		owe.Repeat = true
		r.Owed = append(r.Owed, owe)
		return Verdict{Kind: Owe, Changed: true, Repeat: true}
	case dupOf != 0:
		return Verdict{Kind: Skip, Reason: fmt.Sprintf("duplicate: event %s was already taken from the stream at sequence %d", Quote(e.ID), dupOf),
			Changed: changed, Repeat: true}
	case r.waiting() >= MaxWaiting || r.waitingBytes()+waitCost(e.ID, e.Name, trace) > MaxWaitingBytes:
		return Verdict{Kind: Fail, Reason: fmt.Sprintf("employee %s already has %d events waiting for their time or their result, "+
			"as many as one employee's record holds; publish this event again once they are resolved", Quote(e.EmployeeID), r.waiting()),
			Changed: changed}
	}
	if e.Time.After(now.Add(ScheduleAhead)) {
		// The change waits for its time, and its result with it: by then
		// a hire dated before it may have arrived.
		r.Scheduled = append(r.Scheduled, Change{ID: e.ID, Kind: e.Kind, Time: e.Time, Seq: seq, Org: e.OrganizationID, Name: e.Name})
		r.Owed = append(r.Owed, owe)
		r.Failure = ""
		return Verdict{Kind: Owe, Changed: true}
	}
	m := &Mark{Kind: e.Kind, Time: e.Time, ID: e.ID, Seq: seq}
	cur := r.markOf(e.Kind)
	if !r.take(m, e.OrganizationID, e.Name) {
		return Verdict{Kind: Skip, Reason: fmt.Sprintf("the event is older than %s (%s), which supersedes it for this employee",
			Quote(cur.ID), cur.Time.UTC().Format(time.RFC3339)), Changed: changed}
	}
	r.Failure = ""
	if r.Retry != nil {
		// A new event is tried at once, not after the backoff of the
		// trouble before it: it may be a termination.
		r.Retry.NextAt = time.Time{}
	}
	if reason := r.skipReason(e, m); reason != "" {
		// The marks moved all the same: an earlier hire that arrives
		// later must find this event in the history.
		return Verdict{Kind: Skip, Reason: reason, Changed: true}
	}
	r.Owed = append(r.Owed, owe)
	return Verdict{Kind: Owe, Changed: true}
}

// waiting counts the events the record holds waiting for their time or
// their result.
func (r *Record) waiting() int {
	n := len(r.Owed)
	for _, c := range r.Scheduled {
		if !slices.ContainsFunc(r.Owed, func(o Owed) bool { return o.ID == c.ID }) {
			n++
		}
	}
	return n
}

// waitingBytes is the text the events waiting carry: the id of each
// change waiting for its time (and its name), and of each event owed a
// result (and its trace). An event that waits for both is counted as
// waitCost counts it.
func (r *Record) waitingBytes() int {
	n := 0
	for _, c := range r.Scheduled {
		n += len(c.ID) + len(c.Name)
	}
	for _, o := range r.Owed {
		n += len(o.ID) + len(o.Trace)
	}
	return n
}

// waitCost is what one more event adds to waitingBytes at most: its id
// twice (dated ahead, it waits for its time and for its result), its name
// and its trace.
func waitCost(id, name, trace string) int { return 2*len(id) + len(name) + len(trace) }

// markOf is the mark an event of kind k must be newer than to take
// effect: its kind's, or for a transfer the newest event's.
func (r *Record) markOf(k Kind) *Mark {
	if slot := r.slot(k); slot != nil {
		return *slot
	}
	return r.Latest
}

// seen reports whether this message was taken before (known), or else the
// stream sequence of another message with the same event id (a duplicate).
func (r *Record) seen(id string, seq uint64) (known bool, dupOf uint64) {
	check := func(otherID string, otherSeq uint64) {
		if otherID == id {
			known, dupOf = known || otherSeq == seq, otherSeq
		}
	}
	for _, m := range []*Mark{r.Hire, r.Leave, r.Term, r.Latest} {
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
func (r *Record) skippedBefore(e Event, seq uint64) string {
	accounted := func(id string, s uint64) bool { return id == e.ID && s == seq }
	if slices.ContainsFunc(r.Owed, func(o Owed) bool { return accounted(o.ID, o.Seq) }) ||
		slices.ContainsFunc(r.Recent, func(o Resolved) bool { return accounted(o.ID, o.Seq) }) ||
		slices.ContainsFunc(r.Scheduled, func(c Change) bool { return accounted(c.ID, c.Seq) }) {
		return ""
	}
	return r.skipReason(e, &Mark{Kind: e.Kind, Time: e.Time, ID: e.ID, Seq: seq})
}

// skipReason says why an event that took effect still changes nothing in
// ChatHub, or "" when it does.
func (r *Record) skipReason(e Event, m *Mark) string {
	if e.Kind == Hire {
		return ""
	}
	switch {
	case r.Hire == nil:
		return noHire(e.EmployeeID)
	case m.before(r.Hire):
		return "the event is older than the hire " + Quote(r.Hire.ID) + " already applied, which supersedes it"
	case e.Kind != Termination && r.Hire.before(r.Term) && r.Term.before(m):
		return "the employee was terminated by " + Quote(r.Term.ID) + " before this event, which changes nothing for them"
	}
	return ""
}

func noHire(employeeID string) string {
	return "employee " + Quote(employeeID) + " has no operator: no hire dated before this event has been seen, so there is nothing to change"
}

// Quote quotes s for a reason, cut to 80 characters: reasons stay short
// whatever the input.
func Quote(s string) string {
	if r := []rune(s); len(r) > 80 {
		s = string(r[:80]) + "…"
	}
	return "\"" + s + "\""
}
