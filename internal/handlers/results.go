package handlers

import (
	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// eventResult is the result of an event the intake decides at once.
func eventResult(it *item, outcome hrevent.Outcome, reason string) *hrevent.Result {
	r := &hrevent.Result{
		EventID: it.ev.ID, EventType: it.ev.Type, EmployeeID: it.ev.EmployeeID, OrganizationID: it.ev.OrganizationID,
		Outcome: outcome, Reason: reason, Attempts: it.msg.Delivered, StreamSequence: it.msg.Seq, TraceParent: it.trace,
	}
	r.SetOperator(it.operator, int(it.status))
	return r
}

// resolutionResult is the result of an owed event the reconciler resolved.
func resolutionResult(res employee.Resolution, rec *employee.Record) hrevent.Result {
	r := hrevent.Result{
		EventID: res.ID, EventType: res.Kind.Type(), EmployeeID: rec.EmployeeID, OrganizationID: rec.OrganizationID,
		Outcome: res.Outcome, Reason: res.Reason, Attempts: res.Attempts, StreamSequence: res.Seq,
	}
	r.SetOperator(rec.OperatorID, int(rec.OperatorStatus))
	return r
}
