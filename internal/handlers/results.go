package handlers

import (
	"slices"

	"go.opentelemetry.io/otel/trace"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// resolved turns the domain's results into result events, each with the
// operator as the record holds it now.
func (p *Pipeline) resolved(look trace.Span, res []employee.Resolution, rec *employee.Record) []hrevent.Result {
	out := make([]hrevent.Result, 0, len(res))
	for _, x := range res {
		r := hrevent.Result{
			EventID: x.ID, EventType: hrevent.TypeOf(x.Kind), EmployeeID: rec.EmployeeID, OrganizationID: x.Org,
			Outcome: hrevent.Outcome(x.Outcome), Reason: x.Reason, Attempts: x.Attempts, StreamSequence: x.Seq, Repeat: x.Repeat,
		}
		r.SetOperator(rec.Operator.ID, int(rec.Operator.Status))
		r.TraceParent = p.resultSpan(look, x, rec.Operator.ID)
		if x.Outcome == employee.Failed {
			p.log.Error().Str("event_id", hrevent.Clip(x.ID)).Str("employee_id", hrevent.Clip(rec.EmployeeID)).Int("organization_id", x.Org).
				Str("outcome", string(x.Outcome)).Int("attempt", x.Attempts).Str("reason", hrevent.Clip(x.Reason)).Msg("event failed")
		}
		out = append(out, r)
	}
	return out
}

// stopping reports whether answers came back because the worker stopped
// its ChatHub work (its calls were cancelled, or never started): the look
// is then handed back, not counted as trouble.
func (p *Pipeline) stopping(answers []employee.Answer) bool {
	if p.work.Err() == nil {
		return false
	}
	return slices.ContainsFunc(answers, func(a employee.Answer) bool { return a.Err != nil })
}
