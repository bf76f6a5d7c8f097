package broker

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/chathub-operator-worker/worker/internal/employee"
)

// stored is an employee record as the bucket keeps it: the storage format,
// apart from the domain's types, so that either can change without the
// other. It reads records written by earlier versions of the worker (one
// organization per employee, no marks of the newest event, an intent to
// create): their fields keep their names.
type stored struct {
	EmployeeID string `json:"employeeId"`
	// OrganizationID is the employee's organization (the newest event's).
	OrganizationID int           `json:"organizationId"`
	Hire           *storedMark   `json:"hire,omitempty"`
	Leave          *storedMark   `json:"leave,omitempty"`
	LeaveStarted   bool          `json:"leaveStarted,omitempty"`
	Term           *storedMark   `json:"term,omitempty"`
	Latest         *storedMark   `json:"latest,omitempty"`
	Name           string        `json:"name,omitempty"`
	Named          *storedMark   `json:"named,omitempty"`
	Scheduled      []storedEvent `json:"scheduled,omitempty"`
	Owed           []storedEvent `json:"owed,omitempty"`
	OperatorID     int64         `json:"operatorId,omitempty"`
	OperatorStatus int           `json:"operatorStatus"`
	// OperatorOrg is the operator's organization when it is not the
	// employee's (a move not yet made).
	OperatorOrg int `json:"operatorOrg,omitempty"`
	// OperatorUnsure: its status may differ from what is recorded.
	OperatorUnsure bool             `json:"operatorUnsure,omitempty"`
	Retired        []storedOperator `json:"retired,omitempty"`
	Relist         bool             `json:"relist,omitempty"`
	// Pending is a create that may have been made.
	Pending *storedPending `json:"pending,omitempty"`
	Retry   *struct {
		Attempts int       `json:"attempts"`
		NextAt   time.Time `json:"nextAt"`
		Err      string    `json:"err"`
	} `json:"retry,omitempty"`
	Failure string           `json:"failure,omitempty"`
	Recent  []storedResolved `json:"recent,omitempty"`
	Guard   *storedGuard     `json:"guard,omitempty"`
	Due     time.Time        `json:"due,omitzero"`
}

type storedMark struct {
	Kind string    `json:"kind,omitempty"`
	Time time.Time `json:"time"`
	ID   string    `json:"id"`
	Seq  uint64    `json:"seq"`
}

// storedEvent is a change waiting for its time, or an event owed its
// result.
type storedEvent struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`
	Time     time.Time `json:"time"`
	Seq      uint64    `json:"seq"`
	Org      int       `json:"org,omitempty"`
	Name     string    `json:"name,omitempty"`
	Attempts int       `json:"attempts,omitempty"`
	Trace    string    `json:"trace,omitempty"`
	Repeat   bool      `json:"repeat,omitempty"`
}

// storedPending is a create that may have been made (an earlier version
// wrote its name and when; this one its name, organization, and until
// when it may still be under way).
type storedPending struct {
	Name  string    `json:"name"`
	Org   int       `json:"org,omitempty"`
	Until time.Time `json:"until,omitzero"`
}

// storedGuard is a hold of the mass-offboarding guard (an earlier version
// wrote no organization: the employee's).
type storedGuard struct {
	Since time.Time `json:"since"`
	Held  uint64    `json:"held,omitempty"`
	Org   int       `json:"org,omitempty"`
}

type storedOperator struct {
	ID     int64 `json:"id"`
	Org    int   `json:"org"`
	Status int   `json:"status"`
	Unsure bool  `json:"unsure,omitempty"`
}

type storedResolved struct {
	ID      string    `json:"id"`
	Seq     uint64    `json:"seq"`
	Outcome string    `json:"outcome"`
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

// EncodeRecord writes a record in the storage format.
func EncodeRecord(r employee.Record) ([]byte, error) {
	s := stored{EmployeeID: r.EmployeeID, OrganizationID: r.Org, Hire: markOut(r.Hire), Leave: markOut(r.Leave),
		LeaveStarted: r.LeaveStarted, Term: markOut(r.Term), Latest: markOut(r.Latest), Name: r.Name, Named: markOut(r.Named),
		OperatorID: r.Operator.ID, OperatorStatus: int(r.Operator.Status), OperatorUnsure: r.Operator.Unsure, Relist: r.Relist,
		Failure: r.Failure, Due: r.Due}
	if r.Operator.ID != 0 && r.Operator.Org != r.Org {
		s.OperatorOrg = r.Operator.Org
	}
	if p := r.Pending; p != nil {
		s.Pending = &storedPending{Name: p.Name, Org: p.Org, Until: p.Until}
	}
	for _, c := range r.Scheduled {
		s.Scheduled = append(s.Scheduled, storedEvent{ID: c.ID, Kind: string(c.Kind), Time: c.Time, Seq: c.Seq, Org: c.Org, Name: c.Name})
	}
	for _, o := range r.Owed {
		s.Owed = append(s.Owed, storedEvent{ID: o.ID, Kind: string(o.Kind), Time: o.Time, Seq: o.Seq, Org: o.Org, Attempts: o.Attempts,
			Trace: o.Trace, Repeat: o.Repeat})
	}
	for _, o := range r.Retired {
		s.Retired = append(s.Retired, storedOperator{ID: o.ID, Org: o.Org, Status: int(o.Status), Unsure: o.Unsure})
	}
	for _, x := range r.Recent {
		s.Recent = append(s.Recent, storedResolved{ID: x.ID, Seq: x.Seq, Outcome: string(x.Outcome), Reason: x.Reason, At: x.At})
	}
	if r.Retry != nil {
		s.Retry = &struct {
			Attempts int       `json:"attempts"`
			NextAt   time.Time `json:"nextAt"`
			Err      string    `json:"err"`
		}{r.Retry.Attempts, r.Retry.NextAt, r.Retry.Err}
	}
	if r.Guard != nil {
		s.Guard = &storedGuard{Since: r.Guard.Since, Held: r.Guard.Held, Org: r.Guard.Org}
	}
	return json.Marshal(s)
}

// DecodeRecord reads a record in the storage format, of this version or
// an earlier one.
func DecodeRecord(data []byte) (employee.Record, error) {
	var s stored
	if err := json.Unmarshal(data, &s); err != nil {
		return employee.Record{}, fmt.Errorf("cannot decode record: %w", err)
	}
	r := employee.Record{EmployeeID: s.EmployeeID, Org: s.OrganizationID, Hire: markIn(s.Hire, employee.Hire),
		Term: markIn(s.Term, employee.Termination), LeaveStarted: s.LeaveStarted, Latest: markIn(s.Latest, ""),
		Name: s.Name, Named: markIn(s.Named, ""), Relist: s.Relist, Failure: s.Failure, Due: s.Due}
	if p := s.Pending; p != nil {
		r.Pending = &employee.Pending{Org: orDefault(p.Org, s.OrganizationID), Name: p.Name, Until: p.Until}
	}
	leave := employee.LeaveEnd
	if s.LeaveStarted {
		leave = employee.LeaveStart
	}
	r.Leave = markIn(s.Leave, leave)
	if r.Latest == nil {
		// An earlier version's record: the newest of its marks, whose
		// organization was the employee's one.
		for _, m := range []*employee.Mark{r.Hire, r.Leave, r.Term} {
			if m != nil && (r.Latest == nil || employee.Less(r.Latest.Time, r.Latest.ID, m.Time, m.ID)) {
				r.Latest = m
			}
		}
	}
	if r.Named == nil && s.Name != "" {
		r.Named = r.Hire
	}
	if s.OperatorID != 0 {
		r.Operator = employee.Operator{ID: s.OperatorID, Org: s.OrganizationID, Status: employee.Status(s.OperatorStatus), Unsure: s.OperatorUnsure}
		if s.OperatorOrg != 0 {
			r.Operator.Org = s.OperatorOrg
		}
	}
	for _, c := range s.Scheduled {
		r.Scheduled = append(r.Scheduled, employee.Change{ID: c.ID, Kind: employee.Kind(c.Kind), Time: c.Time, Seq: c.Seq,
			Org: orDefault(c.Org, s.OrganizationID), Name: c.Name})
	}
	for _, o := range s.Owed {
		r.Owed = append(r.Owed, employee.Owed{ID: o.ID, Kind: employee.Kind(o.Kind), Time: o.Time, Seq: o.Seq,
			Org: orDefault(o.Org, s.OrganizationID), Attempts: o.Attempts, Trace: o.Trace, Repeat: o.Repeat})
	}
	for _, o := range s.Retired {
		r.Retired = append(r.Retired, employee.Operator{ID: o.ID, Org: o.Org, Status: employee.Status(o.Status), Unsure: o.Unsure})
	}
	for _, x := range s.Recent {
		r.Recent = append(r.Recent, employee.Resolved{ID: x.ID, Seq: x.Seq, Outcome: employee.Outcome(x.Outcome), Reason: x.Reason, At: x.At})
	}
	if s.Retry != nil {
		r.Retry = &employee.Retry{Attempts: s.Retry.Attempts, NextAt: s.Retry.NextAt, Err: s.Retry.Err}
	}
	if s.Guard != nil && s.Guard.Held != 0 {
		// Only a hold is kept: an earlier version also marked the
		// deactivations the guard was counting.
		r.Guard = &employee.Guarded{Since: s.Guard.Since, Held: s.Guard.Held, Org: orDefault(s.Guard.Org, s.OrganizationID)}
	}
	return r, nil
}

func markOut(m *employee.Mark) *storedMark {
	if m == nil {
		return nil
	}
	return &storedMark{Kind: string(m.Kind), Time: m.Time, ID: m.ID, Seq: m.Seq}
}

// markIn reads a mark; kind fills in what an earlier version left out.
func markIn(m *storedMark, kind employee.Kind) *employee.Mark {
	if m == nil {
		return nil
	}
	if m.Kind != "" {
		kind = employee.Kind(m.Kind)
	}
	return &employee.Mark{Kind: kind, Time: m.Time, ID: m.ID, Seq: m.Seq}
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}
