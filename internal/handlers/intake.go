package handlers

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// Message is one message taken off HR_EVENTS.
type Message struct {
	Body      []byte
	Seq       uint64 // stream sequence in HR_EVENTS
	Delivered int    // delivery attempt, from 1
}

// Intake takes HR events into the employees' records. Each record is
// written once per batch, checked against the revision read; a message is
// acknowledged only once what it changed is written and any result it has
// now is stored. Events that change something wait in the record for the
// reconciler, which the write itself calls (the store notifies it).
type Intake struct {
	cfg       Config
	store     Store
	results   Results
	validator *hrevent.Validator
	cache     *recordCache
	log       zerolog.Logger
}

// recordCacheSize bounds the records kept between batches (a few MiB).
const recordCacheSize = 1024

// New returns the intake and the reconciler of one worker, which share a
// cache of the records it last read or wrote.
func New(cfg Config, p Ports, v *hrevent.Validator, log zerolog.Logger) (*Intake, *Reconciler) {
	cfg = cfg.WithDefaults()
	cache := newRecordCache(recordCacheSize)
	return &Intake{cfg: cfg, store: p.Store, results: p.Results, validator: v, cache: cache, log: log},
		&Reconciler{cfg: cfg, store: p.Store, hub: p.ChatHub, results: p.Results, wakes: p.Wakes, events: p.Events,
			guards: p.Guards, alerts: p.Alerts, cache: cache, log: log}
}

// item is one message of the batch.
type item struct {
	msg     Message
	ev      hrevent.Event
	verdict employee.Verdict
	reason  string
	// operator and status are the employee's as recorded, for the result.
	operator int64
	status   employee.Status
	// result is published before the message is acknowledged.
	result  *hrevent.Result
	outcome *Outcome
	// span is the event's intake span; trace its traceparent, kept for
	// the result when the event carried one.
	span  trace.Span
	trace string
}

// Handle takes one batch and returns an outcome per message.
func (in *Intake) Handle(ctx context.Context, msgs []Message) []Outcome {
	items := in.parse(ctx, msgs)
	defer endSpans(items)
	var valid []*item
	for _, it := range items {
		if it.outcome == nil {
			valid = append(valid, it)
		}
	}
	in.record(ctx, byEmployee(valid))
	for _, it := range valid {
		in.decide(it)
	}
	in.publish(ctx, items)
	out := make([]Outcome, len(items))
	for i, it := range items {
		out[i] = *it.outcome
	}
	return out
}

// parse validates the messages on every core: schema validation is the
// intake's main CPU cost. An invalid message is rejected at once.
func (in *Intake) parse(ctx context.Context, msgs []Message) []*item {
	items := make([]*item, len(msgs))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(msgs)/32))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(msgs); i += workers {
				it := &item{msg: msgs[i]}
				ev, err := in.validator.Parse(msgs[i].Body)
				in.startSpan(ctx, it, ev, err)
				if err != nil {
					it.result = in.rejected(msgs[i], err)
					it.result.TraceParent = it.trace
					it.outcome = ptr(Outcome{Action: Term, Why: it.result.Reason})
				}
				it.ev = ev
				items[i] = it
			}
		})
	}
	wg.Wait()
	return items
}

// decide turns an item's verdict into its outcome and result.
func (in *Intake) decide(it *item) {
	if it.outcome != nil {
		return
	}
	switch it.verdict {
	case employee.Skip:
		it.result = eventResult(it, hrevent.Skipped, it.reason)
		it.outcome = ptr(done)
	case employee.Fail:
		it.result = eventResult(it, hrevent.Failed, it.reason)
		it.result.Echo(it.msg.Body)
		it.outcome = ptr(Outcome{Action: Term, Why: it.reason})
		in.log.Error().Str("event_id", it.ev.ID).Str("employee_id", it.ev.EmployeeID).
			Int("organization_id", it.ev.OrganizationID).Str("outcome", string(hrevent.Failed)).
			Str("reason", it.reason).Msg("event failed")
	default:
		// Owed (the reconciler publishes its result) or known already.
		it.outcome = ptr(done)
	}
}

// publish stores the batch's results; a message whose result was not
// stored is delivered again and decided again.
func (in *Intake) publish(ctx context.Context, items []*item) {
	var results []hrevent.Result
	var from []*item
	for _, it := range items {
		if it.result != nil {
			results, from = append(results, *it.result), append(from, it)
		}
	}
	if len(results) == 0 {
		return
	}
	for i, err := range in.results.Publish(ctx, results) {
		if err != nil {
			in.cfg.Metrics.ResultUnpublished()
			from[i].outcome = ptr(retry(in.cfg.RetryBase, "results"))
		}
	}
}

// rejected is the result of a message that is not a valid event.
func (in *Intake) rejected(m Message, err error) *hrevent.Result {
	var inv *hrevent.InvalidError
	r := &hrevent.Result{Outcome: hrevent.Rejected, Reason: err.Error(), Attempts: m.Delivered, StreamSequence: m.Seq}
	if errors.As(err, &inv) {
		r.EventID, r.EventType = inv.Partial.ID, inv.Partial.Type
		r.EmployeeID, r.OrganizationID = inv.Partial.EmployeeID, inv.Partial.OrganizationID
	}
	r.Echo(m.Body)
	in.log.Warn().Str("event_id", r.EventID).Str("employee_id", r.EmployeeID).Uint64("stream_sequence", m.Seq).
		Str("outcome", string(hrevent.Rejected)).Str("reason", r.Reason).Msg("event rejected")
	return r
}

// byEmployee groups the items per employee, each group in event order.
func byEmployee(items []*item) []*entry {
	var entries []*entry
	index := map[string]*entry{}
	for _, it := range items {
		e := index[it.ev.EmployeeID]
		if e == nil {
			e = &entry{id: it.ev.EmployeeID, org: it.ev.OrganizationID}
			index[e.id] = e
			entries = append(entries, e)
		}
		e.items = append(e.items, it)
	}
	for _, e := range entries {
		slices.SortStableFunc(e.items, func(a, b *item) int {
			switch {
			case a.ev.Before(b.ev):
				return -1
			case b.ev.Before(a.ev):
				return 1
			}
			return 0
		})
	}
	return entries
}
