package chathub

import (
	"cmp"
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/chathub-operator-worker/worker/internal/ctxtime"
	"github.com/chathub-operator-worker/worker/internal/tracing"
)

// The executor's dispatch: who gets each slot the limiter grants.

// Run dispatches until ctx is done, then waits for the calls under way;
// operations never started are answered with ctx's error.
func (e *Executor) Run(ctx context.Context) {
	e.Open()
	defer e.wg.Wait()
	// What was never started is answered with why: never with a nil
	// error, which would say it was done.
	defer func() { e.abandon(cmp.Or(ctx.Err(), errStopped)) }()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		if next, due := e.due(time.Now()); !due {
			if !next.IsZero() {
				timer.Reset(time.Until(next))
			}
			select {
			case <-e.kick:
			case <-timer.C:
			case <-ctx.Done():
			}
			continue
		}
		if err := e.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			// The shared rate could not be read (NATS slow or away): the
			// work waits, and is asked for again.
			e.log.Warn().Err(err).Msg("cannot take a slot of ChatHub's rate; trying again")
			_ = ctxtime.Sleep(ctx, time.Second)
			continue
		}
		// What is most urgent is chosen once the slot is there: work that
		// arrived during the wait may go first, and a synchronize call
		// takes the hires that joined it meanwhile. A slot for work
		// withdrawn meanwhile is lost.
		e.start(ctx)
	}
}

// Open lets the executor take work again after Run ended; Run opens it
// too. Whoever starts Run beside the work's producers opens it first, so
// that nothing given before Run begins is turned away.
func (e *Executor) Open() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopped = false
}

// due reports whether anything may take a slot now, and otherwise when a
// partial synchronize call comes due. Work under way always may; new work
// only while fewer than InFlight are in flight.
func (e *Executor) due(now time.Time) (next time.Time, due bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	room := e.inFlight < e.opts.InFlight
	for _, list := range [][]*waiter{e.urgent, e.normal} {
		for _, w := range list {
			if w.task == nil || room {
				return time.Time{}, true
			}
		}
	}
	if !room {
		return time.Time{}, false
	}
	busy := e.opts.Busy()
	for _, q := range e.orgs {
		at, ok := q.dueAt(now, e.opts, busy)
		if soon := now.Add(recheck); ok && busy && soon.Before(at) {
			// Nobody tells when the work on its way is done: ask again
			// soon.
			at = soon
		}
		switch {
		case !ok:
		case !at.After(now):
			return time.Time{}, true
		case next.IsZero() || at.Before(next):
			next = at
		}
	}
	return next, false
}

// start gives the slot just granted to the most urgent work that may
// take it: urgent before the rest, then the oldest.
func (e *Executor) start(ctx context.Context) {
	now := time.Now()
	e.mu.Lock()
	room := e.inFlight < e.opts.InFlight
	w := pop(&e.urgent, room)
	var batch *orgQueue
	if w == nil && room {
		busy := e.opts.Busy()
		for _, q := range e.orgs {
			if at, ok := q.dueAt(now, e.opts, busy); ok && !at.After(now) && (batch == nil || q.oldest().Before(batch.oldest())) {
				batch = q
			}
		}
	}
	if w == nil && (batch == nil || len(e.normal) > 0 && e.normal[0].at.Before(batch.oldest())) {
		if w = pop(&e.normal, room); w != nil {
			batch = nil
		}
	}
	var tasks []*task
	if w == nil && batch != nil {
		tasks = batch.take(e.opts.BatchMaxSize)
	}
	if (w != nil && w.task != nil) || len(tasks) > 0 {
		e.inFlight++
	}
	e.mu.Unlock()
	switch {
	case w != nil && w.task == nil:
		close(w.ready) // a call of work under way goes on
	case w != nil:
		e.spawn(func() { e.setStatus(prepaid(tracing.Extract(ctx, w.task.op.Trace), w.task.op.Urgent), w.task) })
	case len(tasks) > 0:
		e.spawn(func() {
			ctx, span := e.batchSpan(ctx, tasks)
			defer span.End()
			e.ensure(prepaid(ctx, false), batch.org, tasks)
		})
	}
}

// batchSpan is the span of one organization's hires made together,
// linked to the looks that asked for them; its calls are its children.
func (e *Executor) batchSpan(ctx context.Context, tasks []*task) (context.Context, trace.Span) {
	links := make([]trace.Link, 0, len(tasks))
	for _, t := range tasks {
		if t.op.Trace != "" {
			links = append(links, trace.LinkFromContext(tracing.Extract(context.Background(), t.op.Trace)))
		}
	}
	return e.client.tracer.Start(ctx, "chathub ensure", trace.WithLinks(links...),
		trace.WithAttributes(attribute.Int("chathub.organization_id", tasks[0].op.Org), attribute.Int("hr.employees", len(tasks))))
}

// pop takes the first waiter of list that may go: a call under way, or
// new work when there is room.
func pop(list *[]*waiter, room bool) *waiter {
	for i, w := range *list {
		if w.task == nil || room {
			*list = append((*list)[:i], (*list)[i+1:]...)
			return w
		}
	}
	return nil
}

// spawn runs work in flight, and frees its place when it ends.
func (e *Executor) spawn(work func()) {
	e.wg.Go(func() {
		defer func() {
			e.mu.Lock()
			e.inFlight--
			e.mu.Unlock()
			e.poke()
		}()
		work()
	})
}

// acquire waits for a slot for a call of work under way.
func (e *Executor) acquire(ctx context.Context, urgent bool) error {
	w := &waiter{ready: make(chan struct{}), at: time.Now()}
	e.mu.Lock()
	if urgent {
		e.urgent = append(e.urgent, w)
	} else {
		e.normal = append(e.normal, w)
	}
	e.mu.Unlock()
	e.poke()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		e.mu.Lock()
		for _, list := range []*[]*waiter{&e.urgent, &e.normal} {
			for i, x := range *list {
				if x == w {
					*list = append((*list)[:i], (*list)[i+1:]...)
				}
			}
		}
		e.mu.Unlock()
		return ctx.Err()
	}
}
