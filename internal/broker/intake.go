package broker

import (
	"context"
	"errors"
	"fmt"
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

// IntakeHandler takes a batch of HR event messages.
type IntakeHandler interface {
	Handle(ctx context.Context, msgs []handlers.Message) []handlers.Outcome
}

// IntakeOptions tune the intake loop.
type IntakeOptions struct {
	// BatchMaxEvents is the most messages handed over at once.
	BatchMaxEvents int
	// BatchMaxWait is the longest the first message of a batch waits for
	// more; a batch goes as soon as nothing more is arriving.
	BatchMaxWait time.Duration
	// Metrics counts batches and retries; may be nil.
	Metrics *metrics.Metrics
}

// quietGap is how long the batcher waits for one more message when the
// stream has nothing more pending, before it sends what it has.
const quietGap = 10 * time.Millisecond

// trickleMax is how long a batch waits for stragglers while the stream
// has nothing more pending.
const trickleMax = 4 * quietGap

// atHand is how long the batcher waits for a message it expects to be
// buffered already.
const atHand = 100 * time.Microsecond

// Intake runs the intake loop on the durable consumer of HR_EVENTS.
type Intake struct {
	cons    jetstream.Consumer
	handler IntakeHandler
	opts    IntakeOptions
	log     zerolog.Logger
	beat    beat
	bound   atomic.Bool
	// inHand: a batch is being gathered or handled, so record changes
	// are on their way to the reconciler.
	inHand atomic.Bool
}

// NewIntake returns an Intake; Run starts it.
func NewIntake(cons jetstream.Consumer, h IntakeHandler, opts IntakeOptions, log zerolog.Logger) *Intake {
	if opts.BatchMaxEvents <= 0 {
		opts.BatchMaxEvents = 1000
	}
	if opts.BatchMaxWait <= 0 {
		opts.BatchMaxWait = 200 * time.Millisecond
	}
	return &Intake{cons: cons, handler: h, opts: opts, log: log}
}

// Alive says whether the loop made progress within limit.
func (in *Intake) Alive(limit time.Duration) error { return in.beat.alive("intake", limit) }

// Bound says whether the loop is consuming.
func (in *Intake) Bound() bool { return in.bound.Load() }

// InHand says whether the loop holds events whose records it has not
// written yet.
func (in *Intake) InHand() bool { return in.inHand.Load() }

// Run takes batches until ctx is done, then hands back what it had
// buffered and returns. A batch in flight finishes: the intake only reads
// and writes records and results, which take moments.
func (in *Intake) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := in.consume(ctx); err != nil {
			return err
		}
		if ctx.Err() == nil {
			// The iterator closed under us (the connection went away):
			// take a breath before binding again.
			_ = ctxtime.Sleep(ctx, time.Second)
		}
	}
	return nil
}

// consume pulls messages until ctx is done. The iterator buffers at most
// two batches, so few messages wait on their AckWait.
func (in *Intake) consume(ctx context.Context) error {
	iter, err := in.cons.Messages(jetstream.PullMaxMessages(2 * in.opts.BatchMaxEvents))
	if err != nil {
		return fmt.Errorf("cannot consume: %w", err)
	}
	in.bound.Store(true)
	defer func() {
		in.bound.Store(false)
		handBack(iter)
	}()
	// A batch is handled with a context that outlives ctx, so that what
	// it wrote gets its results and acks.
	work := context.WithoutCancel(ctx)
	for {
		batch, err := in.gather(ctx, iter)
		if len(batch) > 0 {
			in.handle(work, batch)
		}
		in.inHand.Store(false)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, jetstream.ErrMsgIteratorClosed):
			return nil
		case err != nil:
			in.log.Warn().Err(err).Msg("intake")
		}
	}
}

// gather waits for a first message, then takes more until the batch is
// full, BatchMaxWait has passed since the first, or nothing more is
// waiting: when the stream says no message is pending beyond those
// delivered and none arrives within quietGap, the batch goes at once. So a
// quiet stream gets immediate sends and a burst gets full batches.
func (in *Intake) gather(ctx context.Context, iter jetstream.MessagesContext) ([]jetstream.Msg, error) {
	var batch []jetstream.Msg
	for len(batch) == 0 {
		// Wait in slices, so that an idle loop still shows it is alive.
		in.beat.now()
		waitCtx, cancel := context.WithTimeout(ctx, idleBeat)
		first, err := iter.Next(jetstream.NextContext(waitCtx))
		cancel()
		switch {
		case err == nil:
			batch = []jetstream.Msg{first}
		case ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
		default:
			return nil, err
		}
	}
	in.inHand.Store(true)
	first := time.Now()
	deadline := first.Add(in.opts.BatchMaxWait)
	for len(batch) < in.opts.BatchMaxEvents {
		wait := quietGap
		switch {
		case streamPending(batch[len(batch)-1]) > 0:
			// More is in the stream: it is worth waiting for.
			wait = time.Until(deadline)
		case time.Since(first) >= trickleMax:
			// A steady trickle: the reconciler waits for this batch, so
			// it goes now; the reconciler gathers hires of its own.
			wait = 0
		}
		// Past the deadline, only what is already at hand is taken.
		wait = max(min(wait, time.Until(deadline)), atHand)
		m, err := iter.Next(jetstream.NextMaxWait(wait))
		if errors.Is(err, nats.ErrTimeout) {
			break
		}
		if err != nil {
			return batch, err
		}
		batch = append(batch, m)
	}
	return batch, nil
}

// handle hands one batch to the handler and acknowledges every message.
func (in *Intake) handle(ctx context.Context, batch []jetstream.Msg) {
	start := time.Now()
	msgs := make([]handlers.Message, len(batch))
	for i, m := range batch {
		msgs[i] = handlers.Message{Body: m.Data(), Delivered: 1}
		if md, err := m.Metadata(); err == nil {
			msgs[i].Seq, msgs[i].Delivered = md.Sequence.Stream, int(md.NumDelivered)
		}
	}
	stop := heartbeat(batch, in.cons.CachedInfo().Config.AckWait)
	outcomes := in.handler.Handle(ctx, msgs)
	stop()
	for i, m := range batch {
		acknowledge(m, outcomes[i], in.opts.Metrics, in.log)
	}
	in.opts.Metrics.Batch(len(batch), time.Since(start))
	in.log.Debug().Int("events", len(batch)).Int64("took_ms", time.Since(start).Milliseconds()).Msg("intake batch")
}

// streamPending is how many messages the stream still held for the
// consumer when m was delivered.
func streamPending(m jetstream.Msg) uint64 {
	md, err := m.Metadata()
	if err != nil {
		return 0
	}
	return md.NumPending
}

// handBack stops pulling and returns the messages that were delivered but
// not started, so that another worker (or the next start) takes them at
// once instead of after AckWait.
func handBack(iter jetstream.MessagesContext) {
	iter.Drain()
	for {
		m, err := iter.Next(jetstream.NextMaxWait(time.Second))
		if err != nil {
			return
		}
		_ = m.Nak()
	}
}

// heartbeat tells JetStream that msgs are still being worked on, so that
// they are not redelivered to another worker meanwhile.
func heartbeat(msgs []jetstream.Msg, ackWait time.Duration) (stop func()) {
	if ackWait <= 0 {
		ackWait = 30 * time.Second
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(ackWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				for _, m := range msgs {
					_ = m.InProgress()
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// backlogEvery is how often the consumer's backlog is read for metrics.
const backlogEvery = 5 * time.Second

// WatchBacklog reads the consumer's pending and ack-pending counts into
// the metrics until ctx is done.
func (in *Intake) WatchBacklog(ctx context.Context) {
	if in.opts.Metrics == nil {
		return
	}
	t := time.NewTicker(backlogEvery)
	defer t.Stop()
	for {
		infoCtx, cancel := context.WithTimeout(ctx, backlogEvery)
		if info, err := in.cons.Info(infoCtx); err == nil {
			in.opts.Metrics.Backlog(info.NumPending, uint64(info.NumAckPending))
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
