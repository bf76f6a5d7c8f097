package chathub

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/chathub-operator-worker/worker/internal/employee"
	"github.com/chathub-operator-worker/worker/internal/tracing"
)

// Executor makes employees' operations against ChatHub. It is the one
// place that spends ChatHub's rate: each time the limiter lets a call go,
// it starts the most urgent work waiting (deactivations before hires and
// reactivations, first come first served within each), and never waits
// for a call to end before starting the next. Hires wait per organization
// for a synchronize call to fill (see orgQueue): the only place anything
// waits to batch.
type Executor struct {
	client  *Client
	claims  employee.Claims
	limiter Limiter
	opts    ExecutorOptions
	log     zerolog.Logger

	mu sync.Mutex
	// urgent and normal wait for a slot, oldest first: status changes not
	// started, and calls already under way that need another slot.
	urgent, normal []*waiter
	orgs           map[int]*orgQueue
	// inFlight counts the work started and not ended.
	inFlight int
	// kick wakes the dispatcher when work arrives or ends.
	kick chan struct{}
	wg   sync.WaitGroup
}

// ExecutorOptions tune an Executor.
type ExecutorOptions struct {
	// BatchMaxSize is the most names in one synchronize call.
	BatchMaxSize int
	// BatchMaxWait bounds how long a hire waits for its synchronize call
	// to fill (not for the rate).
	BatchMaxWait time.Duration
	// Busy says whether more work is on its way (events not taken in yet,
	// looks not done): a partial call then waits for it, within
	// BatchMaxWait. Nil: never.
	Busy func() bool
	// InFlight bounds the work under way at once.
	InFlight int
	// Intents keeps the notes of the creates under way; nil keeps none
	// (a worker that takes over after a crash then cannot know them).
	Intents employee.Intents
	// Adopted, Synchronized and DriftFound report, for metrics: an
	// operator adopted, a synchronize call's names, an operator found
	// deleted or removed by hand. Each may be nil.
	Adopted      func()
	Synchronized func(names int)
	DriftFound   func(kind string)
}

// waiter is something that needs a slot: a status change not started
// (task), or a call of work under way (ready is closed when it may go).
type waiter struct {
	task  *task
	ready chan struct{}
	at    time.Time
}

// task is one operation and whom to answer.
type task struct {
	op   employee.Op
	done func(employee.Answer)
	at   time.Time
}

// NewExecutor returns an executor making calls with c, whose limiter it
// takes over (every call of c then goes through the executor's queue),
// and claiming operators in claims. Run starts it.
func NewExecutor(c *Client, claims employee.Claims, opts ExecutorOptions, log zerolog.Logger) *Executor {
	if opts.BatchMaxSize <= 0 {
		opts.BatchMaxSize = 100
	}
	if opts.BatchMaxWait <= 0 {
		opts.BatchMaxWait = 200 * time.Millisecond
	}
	if opts.Busy == nil {
		opts.Busy = func() bool { return false }
	}
	if opts.InFlight <= 0 {
		opts.InFlight = 256
	}
	e := &Executor{client: c, claims: claims, limiter: c.limiter, opts: opts, log: log,
		orgs: map[int]*orgQueue{}, kick: make(chan struct{}, 1)}
	c.limiter = gate{e}
	return e
}

// Do queues op; done is called with its answer once it is made. Ensure
// operations wait in their organization's synchronize queue.
func (e *Executor) Do(op employee.Op, done func(employee.Answer)) {
	t := &task{op: op, done: done, at: time.Now()}
	e.mu.Lock()
	if op.Kind == employee.Ensure {
		e.org(op.Org).add(t)
	} else {
		w := &waiter{task: t, at: t.at}
		if op.Urgent {
			e.urgent = append(e.urgent, w)
		} else {
			e.normal = append(e.normal, w)
		}
	}
	e.mu.Unlock()
	e.poke()
}

// Withdraw takes back an operation not started yet.
func (e *Executor) Withdraw(op employee.Op) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if op.Kind == employee.Ensure {
		if q := e.orgs[op.Org]; q != nil {
			return q.remove(op)
		}
		return false
	}
	for _, list := range []*[]*waiter{&e.urgent, &e.normal} {
		for i, w := range *list {
			if w.task != nil && w.task.op == op {
				*list = append((*list)[:i], (*list)[i+1:]...)
				return true
			}
		}
	}
	return false
}

// CountActive is how many of the organization's operators are active,
// from its name index, listing it (urgently: a guard waits) if needed.
func (e *Executor) CountActive(ctx context.Context, org int) (int, error) {
	return e.client.CountActive(withPriority(ctx, true), org)
}

// org returns the organization's synchronize queue; e.mu is held.
func (e *Executor) org(id int) *orgQueue {
	q := e.orgs[id]
	if q == nil {
		q = &orgQueue{org: id}
		e.orgs[id] = q
	}
	return q
}

func (e *Executor) poke() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Run dispatches until ctx is done, then waits for the calls under way;
// operations never started are answered with ctx's error.
func (e *Executor) Run(ctx context.Context) {
	defer e.wg.Wait()
	defer e.abandon(ctx.Err())
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
			return
		}
		// What is most urgent is chosen once the slot is there: work that
		// arrived during the wait may go first, and a synchronize call
		// takes the hires that joined it meanwhile. A slot for work
		// withdrawn meanwhile is lost.
		e.start(ctx)
	}
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

// abandon answers every operation never started with err.
func (e *Executor) abandon(err error) {
	e.mu.Lock()
	var tasks []*task
	for _, w := range append(e.urgent, e.normal...) {
		if w.task != nil {
			tasks = append(tasks, w.task)
		}
	}
	for _, q := range e.orgs {
		tasks = append(tasks, q.take(len(q.tasks))...)
	}
	e.urgent, e.normal = nil, nil
	e.mu.Unlock()
	for _, t := range tasks {
		t.done(employee.Answer{Op: t.op, Err: err})
	}
}
