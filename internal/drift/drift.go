// Package drift compares what the employees' records say ChatHub holds
// with what ChatHub lists, and corrects the records where a person changed
// ChatHub by hand, so that the pipeline drives ChatHub back to the
// desired state through its usual path (rate limit, adopt before create,
// claims). The worker runs it every RECONCILE_INTERVAL; `worker reconcile`
// runs it on demand.
package drift

import (
	"slices"
	"strings"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathub"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// Kind is a kind of drift.
type Kind string

// The kinds of drift, as reports and metrics name them.
const (
	// StatusChanged: the operator's status is not the one the employee's
	// state asks for, though the worker set it (changed by hand).
	StatusChanged Kind = "status_changed"
	// Deleted: the operator was deleted by hand (status 2) while the
	// employee should have one.
	Deleted Kind = "deleted"
	// Gone: ChatHub no longer lists the operator the record names, while
	// the employee should have one.
	Gone Kind = "gone"
	// Unmanaged: an operator that is not deleted and that no employee
	// claims. Reported, never touched.
	Unmanaged Kind = "unmanaged"
)

// Kinds lists every kind, in the order reports give them.
var Kinds = []Kind{StatusChanged, Deleted, Gone, Unmanaged}

// Finding is one operator that is not what the records say.
type Finding struct {
	Kind           Kind   `json:"kind"`
	OrganizationID int    `json:"organizationId"`
	EmployeeID     string `json:"employeeId,omitempty"`
	OperatorID     int64  `json:"operatorId"`
	Name           string `json:"name"`
	// Desired is the status the employee's state asks for; empty for an
	// unmanaged operator.
	Desired string `json:"desired,omitempty"`
	// Listed is the status ChatHub lists, "missing" when it lists none.
	Listed string `json:"listed"`
	// Applied: the record was corrected, and the pipeline drives
	// ChatHub back.
	Applied bool `json:"applied,omitempty"`
	// Left: the operator is of an organization the employee left, so it
	// is expected to be deleted.
	Left bool `json:"left,omitempty"`

	revision uint64
	listed   employee.Status
}

// Entry is what the comparison needs of one employee's record.
type Entry struct {
	EmployeeID string
	// OrganizationID is the organization of the employee's operator, or
	// theirs when they have none.
	OrganizationID int
	Revision       uint64
	Name           string
	OperatorID     int64
	Recorded       employee.Status
	Desired        employee.Status
	Needed         bool
	// Busy: the worker is working on the employee (an event waiting for
	// its result, a create, a move, a retry, a guard hold, a failure):
	// ChatHub is expected to differ, so the employee is not compared.
	Busy bool
	// Creating is the name of an operator that may be being made for
	// the employee.
	Creating string
}

// EntryOf reads a record at time now.
func EntryOf(rec employee.Record, rev uint64, now time.Time) Entry {
	rec.Fold(now)
	want, needed := rec.State().Want()
	e := Entry{EmployeeID: rec.EmployeeID, OrganizationID: rec.Org, Revision: rev, Name: rec.Name,
		OperatorID: rec.Operator.ID, Recorded: rec.Operator.Status, Desired: want, Needed: needed}
	if rec.Operator.ID != 0 {
		e.OrganizationID = rec.Operator.Org
	}
	e.Busy = rec.Retry != nil || rec.Guard != nil || rec.Relist || rec.Failure != "" || rec.HasDue() || !rec.Settled()
	if e.Busy && needed && rec.Operator.Org != rec.Org {
		e.Creating = rec.Name
	}
	return e
}

// Entries reads a record at time now: its entry in the employee's
// organization, and a busy one in each other organization where the
// worker is still deleting an operator of theirs (in an organization they
// left) or looking for one a create may have made: what it holds there
// for them is expected to differ until it is done.
func Entries(rec employee.Record, rev uint64, now time.Time) []Entry {
	e := EntryOf(rec, rev, now)
	out := []Entry{e}
	elsewhere := func(org int, creating string) {
		if org == e.OrganizationID || slices.ContainsFunc(out, func(x Entry) bool { return x.OrganizationID == org }) {
			return
		}
		out = append(out, Entry{EmployeeID: rec.EmployeeID, OrganizationID: org, Revision: rev, Name: rec.Name, Busy: true, Creating: creating})
	}
	if p := rec.Pending; p != nil {
		elsewhere(p.Org, p.Name)
	}
	for _, o := range rec.Retired {
		elsewhere(o.Org, "")
	}
	return out
}

// Report is the comparison of one organization.
type Report struct {
	OrganizationID int `json:"organizationId"`
	// Employees is how many employees' records were compared, Busy how
	// many were not because the worker is working on them.
	Employees int `json:"employees"`
	Busy      int `json:"busy"`
	// Operators is how many operators ChatHub lists.
	Operators int       `json:"operators"`
	Findings  []Finding `json:"drift"`
	// Error says why the organization could not be compared (or its
	// drift not all applied).
	Error string `json:"error,omitempty"`
}

// Count is how many findings are of kind.
func (r Report) Count(kind Kind) int {
	n := 0
	for _, f := range r.Findings {
		if f.Kind == kind {
			n++
		}
	}
	return n
}

// Managed is how many findings concern employees (all but unmanaged).
func (r Report) Managed() int { return len(r.Findings) - r.Count(Unmanaged) }

// Compare compares an organization's entries with its operators as
// ChatHub lists them. claimed holds the operators the store gives to an
// employee (adopted or created by the worker).
func Compare(org int, entries []Entry, claimed map[int64]string, ops []chathub.Operator) Report {
	rep := Report{OrganizationID: org, Operators: len(ops), Findings: []Finding{}}
	byID := make(map[int64]chathub.Operator, len(ops))
	for _, op := range ops {
		byID[op.ID] = op
	}
	named := map[int64]bool{}
	creating := map[string]bool{}
	for _, e := range entries {
		if e.OperatorID != 0 {
			named[e.OperatorID] = true
		}
		if e.Creating != "" {
			creating[chathub.NameKey(e.Creating)] = true
		}
		if e.Busy {
			rep.Busy++
			continue
		}
		rep.Employees++
		if f, ok := compareOne(e, byID); ok {
			rep.Findings = append(rep.Findings, f)
		}
	}
	for _, op := range ops {
		switch owner := claimed[op.ID]; {
		case op.Status == chathub.StatusDeleted || named[op.ID]:
		case owner != "":
			// An operator of an organization its employee left, deleted by
			// the worker and since brought back by hand: it is to be
			// deleted again. (One still being deleted is the employee's
			// record's, which is busy then.)
			if !slices.ContainsFunc(entries, func(e Entry) bool { return e.EmployeeID == owner && e.Busy }) {
				rep.Findings = append(rep.Findings, Finding{Kind: StatusChanged, OrganizationID: org, EmployeeID: owner, OperatorID: op.ID,
					Name: op.Name, Desired: employee.StatusDeleted.String(), Listed: op.Status.String(), listed: op.Status, Left: true})
			}
		case !creating[chathub.NameKey(op.Name)]:
			// An operator being created may be listed before its
			// employee's record names it.
			rep.Findings = append(rep.Findings, Finding{Kind: Unmanaged, OrganizationID: org, OperatorID: op.ID,
				Name: op.Name, Listed: op.Status.String(), listed: op.Status})
		}
	}
	slices.SortStableFunc(rep.Findings, func(a, b Finding) int {
		if c := slices.Index(Kinds, a.Kind) - slices.Index(Kinds, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.EmployeeID, b.EmployeeID)
	})
	return rep
}

// compareOne finds the drift of one settled employee, if any.
func compareOne(e Entry, byID map[int64]chathub.Operator) (Finding, bool) {
	if e.OperatorID == 0 {
		return Finding{}, false
	}
	f := Finding{OrganizationID: e.OrganizationID, EmployeeID: e.EmployeeID, OperatorID: e.OperatorID,
		Name: e.Name, Desired: e.Desired.String(), revision: e.Revision}
	op, listed := byID[e.OperatorID]
	switch {
	case !listed && e.Needed:
		f.Kind, f.Listed = Gone, "missing"
		return f, true
	case !listed:
		return Finding{}, false // gone is as good as deleted
	}
	f.Name, f.Listed, f.listed = op.Name, op.Status.String(), op.Status
	switch {
	case f.listed == e.Desired:
		return Finding{}, false
	case f.listed == employee.StatusDeleted && e.Needed:
		f.Kind = Deleted
	default:
		f.Kind = StatusChanged
	}
	return f, true
}

// Correct lays a finding over the employee's record: the record then says
// what ChatHub holds, and the worker sees that it differs from the desired
// state. An operator gone from ChatHub is forgotten and its employee lists
// ChatHub afresh (a cached list may still hold it) before adopting or
// creating one; one of an organization the employee left is to be deleted
// again.
func Correct(rec *employee.Record, f Finding) {
	switch {
	case f.Left:
		rec.Retired = append(rec.Retired, employee.Operator{ID: f.OperatorID, Org: f.OrganizationID, Status: f.listed})
	case f.Kind == Gone:
		rec.Operator, rec.Relist = employee.Operator{}, true
	case f.Kind == StatusChanged, f.Kind == Deleted:
		rec.Operator.Status = f.listed
	}
}
