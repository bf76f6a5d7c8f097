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

	"github.com/chathub-operator-worker/worker/internal/ctxtime"
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
	// Settle bounds how long a round waits for changes still streaming in
	// (BATCH_MAX_WAIT); HoldMax bounds how long rounds wait for the intake
	// to take in what HR_EVENTS held (see hold).
	Settle, HoldMax time.Duration
	// ShutdownGrace is how long rounds in flight may run on after the stop
	// signal before their ChatHub calls are cancelled.
	ShutdownGrace time.Duration
	// IntakeInHand says whether this process's intake holds events whose
	// records it has not written yet (more changes are on their way); may
	// be nil.
	IntakeInHand func() bool
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
	// holding: rounds wait for the intake, so record changes are left in
	// the stream meanwhile, where newer ones replace older ones, and the
	// intake has the broker to itself.
	holding atomic.Bool
	in      chan jetstream.Msg
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
	if opts.IntakeInHand == nil {
		opts.IntakeInHand = func() bool { return false }
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 20 * time.Second
	}
	room := make(chan struct{}, 2*opts.RoundMax)
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
		if cons == q.changes && q.holding.Load() {
			_ = ctxtime.Sleep(ctx, holdPoll)
			continue
		}
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
			_ = ctxtime.Sleep(ctx, time.Second)
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

// hold makes rounds wait until the intake has taken in every event that
// was in HR_EVENTS when the hold began, so that ChatHub is driven to the
// state the stream gives, not to one on the way there: after a backlog
// that is the whole backlog; under a steady flow, the batch the intake has
// in hand. Events that arrive meanwhile do not prolong it, and it lasts at
// most HoldMax (after which it does not return until the intake caught up
// once). Wake-ups do not wait: a scheduled change is due.
type hold struct {
	// target is the last stream sequence the intake must have acked.
	target  uint64
	since   time.Time
	capped  bool
	checked time.Time
	on      bool
	// spent: a hold ended and no round has started since. The next hold
	// waits for that round, or a steady flow (where the intake always has
	// a batch in hand) would hold rounds back for good.
	spent bool
}

// check says whether to hold, asking the intake's consumer at most every
// few milliseconds.
func (q *Queue) check(ctx context.Context, h *hold) bool {
	if h.spent {
		return false
	}
	now := time.Now()
	if now.Sub(h.checked) < holdPoll {
		return h.on
	}
	h.checked = now
	infoCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	info, err := q.intake.Info(infoCtx)
	cancel()
	switch {
	case err != nil:
		// Without word from the intake (NATS is slow or away, and rounds
		// would fail anyway), keep waiting, within HoldMax.
		if h.since.IsZero() {
			h.since = now
		}
		h.on = !h.capped && now.Sub(h.since) < q.opts.HoldMax
	case info.NumPending == 0 && (info.NumAckPending == 0 || info.AckFloor.Stream >= h.target && h.target != 0):
		// Caught up with what the hold waited for, and nothing more is
		// waiting to be taken in.
		*h = hold{checked: now, spent: h.on}
	case h.capped:
	case h.target == 0 || info.AckFloor.Stream >= h.target:
		// A new hold, or more arrived while it waited: a burst is still
		// being published, so wait for that too, within the same HoldMax.
		if h.since.IsZero() {
			h.since = now
		}
		h.target, h.on = info.Delivered.Stream+info.NumPending, true
	case now.Sub(h.since) >= q.opts.HoldMax:
		q.log.Warn().Uint64("waiting_for_sequence", h.target).Uint64("ack_floor", info.AckFloor.Stream).
			Msg("the intake has not caught up within the hold; reconciling meanwhile")
		h.capped, h.on = true, false
	}
	return h.on
}

// holdPoll is how often a holding queue asks the intake again.
const holdPoll = 5 * time.Millisecond
