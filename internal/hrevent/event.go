// Package hrevent reads HR employee events (CloudEvents 1.0 in JSON) and
// writes the worker's result events. It validates every message against the
// JSON Schemas in schemas/.
package hrevent

import (
	"strings"
	"time"
)

// Kind is what happened to an employee; it is also the last token of the
// event's subject.
type Kind string

// The four kinds of HR event.
const (
	Hired        Kind = "hired"
	LeaveStarted Kind = "leave_started"
	LeaveEnded   Kind = "leave_ended"
	Terminated   Kind = "terminated"
)

// typePrefix turns a Kind into its CloudEvents type.
const typePrefix = "hr.employee."

// Type returns the CloudEvents type of the kind.
func (k Kind) Type() string { return typePrefix + string(k) }

// KindOfType returns the Kind of a CloudEvents type, or "" when the type is
// not one of the four.
func KindOfType(t string) Kind {
	switch k := Kind(strings.TrimPrefix(t, typePrefix)); k {
	case Hired, LeaveStarted, LeaveEnded, Terminated:
		if strings.HasPrefix(t, typePrefix) {
			return k
		}
	}
	return ""
}

// Event is a valid HR event.
type Event struct {
	ID             string
	Source         string
	Type           string
	Kind           Kind
	Time           time.Time
	EmployeeID     string
	OrganizationID int
	// Name is trimmed; empty when the event carries none (only a hire
	// must).
	Name string
	// TraceParent is the event's W3C traceparent, or "".
	TraceParent string
}

// Before reports whether e comes before o in an employee's history: by
// time, and for equal times by id compared byte by byte.
func (e Event) Before(o Event) bool { return Less(e.Time, e.ID, o.Time, o.ID) }

// Less orders two events given by time and id: by time, and for equal
// times the greater id, compared byte by byte, is the later.
func Less(t1 time.Time, id1 string, t2 time.Time, id2 string) bool {
	if !t1.Equal(t2) {
		return t1.Before(t2)
	}
	return id1 < id2
}
