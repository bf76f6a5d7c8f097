// Package hrevent reads HR employee events (CloudEvents 1.0 in JSON) and
// writes the worker's result events. It validates every message against the
// JSON Schemas in schemas/.
package hrevent

import (
	"slices"
	"strings"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// Kind is what happened to an employee; it is also the last token of the
// event's subject. The domain lists the kinds (employee.Kinds).
type Kind = employee.Kind

// The kinds of HR event, by their names on the wire.
const (
	Hired        = employee.Hire
	LeaveStarted = employee.LeaveStart
	LeaveEnded   = employee.LeaveEnd
	Terminated   = employee.Termination
	Transferred  = employee.Transfer
)

// typePrefix turns a Kind into its CloudEvents type.
const typePrefix = "hr.employee."

// TypeOf returns the CloudEvents type of the kind.
func TypeOf(k Kind) string { return typePrefix + string(k) }

// KindOfType returns the Kind of a CloudEvents type, or "" when the type is
// not one the worker knows.
func KindOfType(t string) Kind {
	name, ok := strings.CutPrefix(t, typePrefix)
	if !ok || !slices.Contains(employee.Kinds, Kind(name)) {
		return ""
	}
	return Kind(name)
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

// Domain is the event as the domain sees it.
func (e Event) Domain() employee.Event {
	return employee.Event{ID: e.ID, Kind: e.Kind, Time: e.Time, EmployeeID: e.EmployeeID, OrganizationID: e.OrganizationID, Name: e.Name}
}
