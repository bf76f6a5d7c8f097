package chathub

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/employee"
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
	// stopped: Run ended, and answered what it had not started; work
	// given until the next Run is answered at once (errStopped).
	stopped bool
	wg      sync.WaitGroup
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
	if e.stopped {
		e.mu.Unlock()
		done(employee.Answer{Op: op, Err: errStopped})
		return
	}
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

// errStopped answers work the executor will not do: it stopped.
var errStopped = errors.New("the ChatHub executor stopped")

// abandon answers every operation never started with err, and every one
// given until the next Run with errStopped.
func (e *Executor) abandon(err error) {
	e.mu.Lock()
	e.stopped = true
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
