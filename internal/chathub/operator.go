// Package chathub is a client for the ChatHub operator API: list an
// organization's operators, create operators with synchronize and change an
// operator's status. It knows nothing of NATS or of HR events.
package chathub

import (
	"strings"

	"github.com/chathub-operator-worker/worker/internal/opstatus"
)

// Status is an operator's status as ChatHub stores it.
type Status = opstatus.Status

// The statuses ChatHub knows.
const (
	StatusActive   = opstatus.Active
	StatusInactive = opstatus.Inactive
	StatusDeleted  = opstatus.Deleted
)

// Organization is the organization an operator belongs to.
type Organization struct {
	ID   int    `json:"id"`
	Name string `json:"name,omitempty"`
}

// Operator is one ChatHub operator. Organization is filled by the list call;
// the synchronize response leaves it empty.
type Operator struct {
	ID           int64         `json:"id"`
	Name         string        `json:"name"`
	Status       Status        `json:"status"`
	Organization *Organization `json:"organization,omitempty"`
}

// NewOperator is one item of a synchronize call.
type NewOperator struct {
	OrganizationID int    `json:"organizationId"`
	Name           string `json:"name"`
}

// Stats counts an organization's operators by status, as the API docs'
// status-monitoring use case shows them.
type Stats struct {
	Total    int `json:"total"`
	Active   int `json:"active"`
	Inactive int `json:"inactive"`
	Deleted  int `json:"deleted"`
}

// ActiveOperators returns the operators of ops that are on duty.
func ActiveOperators(ops []Operator) []Operator {
	var active []Operator
	for _, op := range ops {
		if op.Status == StatusActive {
			active = append(active, op)
		}
	}
	return active
}

// FindByName returns the operators of ops whose name equals name, compared
// case-insensitively after trimming, as the API docs' helper does.
func FindByName(ops []Operator, name string) []Operator {
	name = strings.TrimSpace(name)
	var found []Operator
	for _, op := range ops {
		if strings.EqualFold(strings.TrimSpace(op.Name), name) {
			found = append(found, op)
		}
	}
	return found
}

// NameKey is the key under which FindByNames files a name: trimmed and
// lower-cased, so that names FindByName matches share a key.
func NameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// FindByID returns the operator of ops with the given id.
func FindByID(ops []Operator, id int64) (Operator, bool) {
	for _, op := range ops {
		if op.ID == id {
			return op, true
		}
	}
	return Operator{}, false
}

// Statistics counts ops by status.
func Statistics(ops []Operator) Stats {
	s := Stats{Total: len(ops)}
	for _, op := range ops {
		switch op.Status {
		case StatusActive:
			s.Active++
		case StatusInactive:
			s.Inactive++
		case StatusDeleted:
			s.Deleted++
		}
	}
	return s
}
