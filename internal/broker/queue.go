package broker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/handlers"
	"github.com/chathub-operator-worker/worker/internal/metrics"
)

type (
	// ReconcileHandler runs one round over changes of distinct employees.
	ReconcileHandler interface {
		Reconcile(ctx context.Context, changes []handlers.Change) ([]handlers.Outcome, handlers.Report)
	}
	// Prober tells whether ChatHub accepts the token again after a 401,
	// asking about an organization the refused round touched.
	Prober func(ctx context.Context, orgID int) error
)

// QueueOptions tune the reconcile queue.
type QueueOptions struct {
	// RoundMax is the most employees in one round.
	RoundMax int
	// Rounds is how many rounds run at once, on distinct employees.
	Rounds int
	// Settle is how long a round waits for a batch the intake is taking
	// in (BATCH_MAX_WAIT), and HoldMax how long it waits while the intake
	// has a backlog, so that ChatHub is driven to the state that the
	// events still in the stream give, not to one on the way there.
	Settle, HoldMax time.Duration
	// ShutdownGrace is how long rounds in flight may run on after the stop
	// signal before their ChatHub calls are cancelled.
	ShutdownGrace time.Duration
	// Metrics counts retries; may be nil.
	Metrics *metrics.Metrics
}

// Queue feeds the reconciler: it consumes the record changes the store
// notifies (every write of an employee record is a message on the
// bucket's stream, and the stream keeps only the newest per employee) and
// the wake-ups the schedules fire, files them per employee, and runs
// rounds. An employee is in one round at a time, in this worker; a lease
// in the record keeps other workers off it.
type Queue struct {
	changes, wakes, intake jetstream.Consumer
	handler                ReconcileHandler
	probe                  Prober
	opts                   QueueOptions
	log                    zerolog.Logger

	beat      beat
	bound     atomic.Bool
	paused    atomic.Bool
	pausedOrg atomic.Int64
	// resumed wakes the dispatcher when the token is accepted again.
	resumed chan struct{}
	// changesPending is how many record changes the stream held beyond
	// the last one fetched.
	changesPending atomic.Uint64
	in             chan jetstream.Msg
	// room is how many more messages the queue may hold; fetchers take
	// from it, acknowledgements give back.
	room chan struct{}
	bg   sync.WaitGroup
}

// NewQueue returns a Queue; Run starts it.
func NewQueue(changes, wakes, intake jetstream.Consumer, h ReconcileHandler, probe Prober, opts QueueOptions, log zerolog.Logger) *Queue {
	if opts.RoundMax <= 0 {
		opts.RoundMax = 1000
	}
	if opts.Rounds <= 0 {
		opts.Rounds = 4
	}
	if opts.Settle <= 0 {
		opts.Settle = 200 * time.Millisecond
	}
	if opts.HoldMax <= 0 {
		opts.HoldMax = 30 * time.Second
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 20 * time.Second
	}
	room := make(chan struct{}, 4*opts.RoundMax)
	for range cap(room) {
		room <- struct{}{}
	}
	return &Queue{changes: changes, wakes: wakes, intake: intake, handler: h, probe: probe, opts: opts, log: log,
		resumed: make(chan struct{}, 1), in: make(chan jetstream.Msg), room: room}
}

// Alive says whether the dispatcher made progress within limit.
func (q *Queue) Alive(limit time.Duration) error { return q.beat.alive("reconcile", limit) }

// Ready says why the reconciler cannot work now, or nil.
func (q *Queue) Ready() error {
	switch {
	case q.paused.Load():
		return errors.New("ChatHub refuses the company token")
	case !q.bound.Load():
		return errors.New("not bound to the reconcile consumers")
	}
	return nil
}

// fetch pulls from one consumer into the queue, as many messages as there
// is room for, until ctx is done.
func (q *Queue) fetch(ctx context.Context, cons jetstream.Consumer) {
	for ctx.Err() == nil {
		n := q.reserve(ctx)
		if n == 0 {
			return
		}
		fetchCtx, cancel := context.WithTimeout(ctx, idleBeat)
		batch, err := cons.Fetch(n, jetstream.FetchContext(fetchCtx))
		got := 0
		if err == nil {
			for m := range batch.Messages() {
				got++
				if cons == q.changes {
					q.changesPending.Store(streamPending(m))
				}
				select {
				case q.in <- m:
				case <-ctx.Done():
					_ = m.Nak()
				}
			}
			err = batch.Error()
		}
		cancel()
		q.release(n - got)
		if err != nil && ctx.Err() == nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
			q.log.Warn().Err(err).Msg("cannot fetch for the reconciler")
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// reserve waits for room for at least one message and takes what room
// there is, up to a round's worth.
func (q *Queue) reserve(ctx context.Context) int {
	select {
	case <-q.room:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for n < q.opts.RoundMax {
		select {
		case <-q.room:
			n++
			continue
		default:
		}
		break
	}
	return n
}

func (q *Queue) release(n int) {
	for range n {
		q.room <- struct{}{}
	}
}

// hold says whether rounds should wait for the intake. While the intake
// has a backlog (events not yet taken in, or a large batch in hand),
// rounds wait up to HoldMax; while it has a few events in hand, up to
// Settle. Wake-ups do not wait for the intake: a scheduled change is due.
type hold struct {
	since   time.Time
	limit   time.Duration
	checked time.Time
	on      bool
}

// check asks the intake's consumer how far behind it is, at most every
// few milliseconds.
func (q *Queue) check(ctx context.Context, h *hold) bool {
	now := time.Now()
	if now.Sub(h.checked) < holdPoll {
		return h.on
	}
	h.checked = now
	infoCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	info, err := q.intake.Info(infoCtx)
	cancel()
	limit := time.Duration(0)
	switch {
	case err != nil:
		// Without word from the intake, do not wait on it.
	case info.NumPending > 0 || info.NumAckPending >= q.opts.RoundMax/10:
		// A backlog: events not yet taken in, or a batch of them in hand.
		limit = q.opts.HoldMax
	case info.NumAckPending > 0:
		limit = q.opts.Settle
	}
	if limit == 0 {
		*h = hold{checked: now}
		return false
	}
	if h.since.IsZero() || limit > h.limit {
		h.since, h.limit = now, limit
	}
	h.on = now.Sub(h.since) < h.limit
	return h.on
}

// holdPoll is how often a holding queue asks the intake again.
const holdPoll = 5 * time.Millisecond
