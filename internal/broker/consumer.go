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

	"github.com/chathub-operator-worker/worker/internal/handlers"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/metrics"
)

type (
	// Processor decides a batch of messages.
	Processor interface {
		Process(ctx context.Context, msgs []handlers.Message) ([]handlers.Decision, handlers.Report)
	}
	// Prober tells whether ChatHub accepts the token again after a 401,
	// asking about an organization the refused batch touched.
	Prober func(ctx context.Context, orgID int) error
)

// Options tune the consumer loop.
type Options struct {
	// BatchMaxEvents is the most messages handed to the Processor at once.
	BatchMaxEvents int
	// BatchMaxWait is the longest the first message of a batch waits for
	// more; a batch goes as soon as nothing more is arriving.
	BatchMaxWait time.Duration
	// ShutdownGrace is how long an in-flight batch may run on after the
	// stop signal before its ChatHub calls are cancelled.
	ShutdownGrace time.Duration
	// Metrics counts events, retries and batches; may be nil.
	Metrics *metrics.Metrics
}

// quietGap is how long the batcher waits for one more message when the
// stream has nothing more pending, before it sends what it has.
const quietGap = 10 * time.Millisecond

// idleBeat is how often an idle consumer loop shows it is alive.
const idleBeat = 5 * time.Second

// atHand is how long the batcher waits for a message it expects to be
// buffered already.
const atHand = 100 * time.Microsecond

// Consumer runs the worker's loop on one JetStream consumer.
type Consumer struct {
	js      jetstream.JetStream
	nc      *nats.Conn
	cons    jetstream.Consumer
	proc    Processor
	probe   Prober
	opts    Options
	log     zerolog.Logger
	results *Publisher

	lastBeat  atomic.Int64 // when the loop last made progress, Unix ns
	bound     atomic.Bool  // consuming, not paused
	paused    atomic.Bool  // ChatHub refused the token
	pausedOrg atomic.Int64 // an organization to probe the token with
}

// NewConsumer returns a Consumer; Run starts it.
func NewConsumer(nc *nats.Conn, js jetstream.JetStream, cons jetstream.Consumer, proc Processor, probe Prober, opts Options, log zerolog.Logger) *Consumer {
	if opts.BatchMaxEvents <= 0 {
		opts.BatchMaxEvents = 400
	}
	if opts.BatchMaxWait <= 0 {
		opts.BatchMaxWait = 200 * time.Millisecond
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 20 * time.Second
	}
	return &Consumer{js: js, nc: nc, cons: cons, proc: proc, probe: probe, opts: opts, log: log,
		results: NewPublisher(js, log)}
}

// beat records that the consumer loop is making progress.
func (c *Consumer) beat() { c.lastBeat.Store(time.Now().UnixNano()) }

// Alive says whether the consumer loop has made progress within limit: a
// batch's ChatHub work ends before its leases do, so a loop silent for
// longer than that is stuck.
func (c *Consumer) Alive(limit time.Duration) error {
	last := c.lastBeat.Load()
	if last == 0 {
		return nil // not started yet
	}
	if since := time.Since(time.Unix(0, last)); since > limit {
		return fmt.Errorf("the consumer loop has made no progress for %s", since.Round(time.Second))
	}
	return nil
}

// Ready says why the worker cannot take events now, or nil.
func (c *Consumer) Ready() error {
	switch {
	case !c.nc.IsConnected():
		return errors.New("not connected to NATS")
	case c.paused.Load():
		return errors.New("ChatHub refuses the company token")
	case !c.bound.Load():
		return errors.New("not bound to the consumer")
	}
	return nil
}

// Run takes batches until ctx is done. It then stops fetching, lets the
// batch in flight finish (its ChatHub calls are cancelled ShutdownGrace
// after ctx), hands back the messages it had not started, and returns nil.
func (c *Consumer) Run(ctx context.Context) error {
	// work outlives ctx by the grace period, so a batch can finish.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(c.opts.ShutdownGrace, cancelWork)
		context.AfterFunc(work, func() { t.Stop() })
	})
	defer stopGrace()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { c.watchBacklog(ctx) })

	for ctx.Err() == nil {
		if err := c.consume(ctx, work); err != nil {
			return err
		}
		switch {
		case ctx.Err() != nil:
		case c.paused.Load():
			c.waitForToken(ctx)
		default:
			// The iterator closed under us (the connection went away):
			// take a breath before binding again.
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
	return nil
}

// consume pulls messages until ctx is done or ChatHub refuses the token.
// The iterator buffers at most BatchMaxEvents messages, so few wait on
// their AckWait while a batch is worked on.
func (c *Consumer) consume(ctx, work context.Context) error {
	iter, err := c.cons.Messages(jetstream.PullMaxMessages(2 * c.opts.BatchMaxEvents))
	if err != nil {
		return fmt.Errorf("cannot consume: %w", err)
	}
	c.bound.Store(true)
	// carry holds the messages the processor left for the next batch, and
	// carryFrom when the first of them arrived.
	var carry []jetstream.Msg
	var carryFrom time.Time
	defer func() {
		c.bound.Store(false)
		for _, m := range carry {
			_ = m.Nak()
		}
		c.handBack(iter)
	}()
	// A batch's results and acks go out while the next batch is worked
	// on; at most one batch is finishing at a time.
	var finishing sync.WaitGroup
	defer finishing.Wait()
	for {
		// The carried messages lead the next batch.
		carried := len(carry)
		c.beat()
		batch, arrived, err := c.gather(ctx, iter, carry, carryFrom)
		carry = nil
		if len(batch) > 0 {
			start := time.Now()
			decisions, report := c.process(work, batch, carried)
			carryFrom = arrived
			var done []jetstream.Msg
			var doneDecisions []handlers.Decision
			for i, d := range decisions {
				if d.Action == handlers.Carry {
					carry = append(carry, batch[i])
					continue
				}
				done, doneDecisions = append(done, batch[i]), append(doneDecisions, d)
			}
			finishing.Wait()
			finishing.Go(func() { c.finish(work, done, doneDecisions, start) })
			c.noteReport(report)
		}
		switch {
		case ctx.Err() != nil || c.paused.Load():
			return nil
		case errors.Is(err, jetstream.ErrMsgIteratorClosed):
			// The connection closed under us; start a new iterator.
			return nil
		case err != nil:
			c.log.Warn().Err(err).Msg("consumer")
		}
	}
}

// gather starts from the carried messages, or waits for a first message,
// then takes more until the batch is
// full, BatchMaxWait has passed since the first, or nothing more is
// waiting: when the stream says no message is pending beyond those
// delivered and none arrives within quietGap, the batch goes at once. So a
// quiet stream gets immediate sends and a burst gets full batches.
//
// It returns when the batch's first message arrived: carried messages keep
// the time they first arrived, so that BATCH_MAX_WAIT still bounds their
// wait.
func (c *Consumer) gather(ctx context.Context, iter jetstream.MessagesContext, carry []jetstream.Msg, carryFrom time.Time) ([]jetstream.Msg, time.Time, error) {
	batch, arrived := carry, carryFrom
	for len(batch) == 0 {
		// Wait in slices, so that an idle loop still shows it is alive.
		c.beat()
		waitCtx, cancel := context.WithTimeout(ctx, idleBeat)
		first, err := iter.Next(jetstream.NextContext(waitCtx))
		cancel()
		switch {
		case err == nil:
			batch, arrived = []jetstream.Msg{first}, time.Now()
		case ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
		default:
			return nil, time.Time{}, err
		}
	}
	deadline := arrived.Add(c.opts.BatchMaxWait)
	for len(batch) < c.opts.BatchMaxEvents {
		wait := quietGap
		if streamPending(batch[len(batch)-1]) > 0 {
			// More is in the stream: it is worth waiting for.
			wait = time.Until(deadline)
		}
		// Past the deadline, only what is already at hand is taken.
		wait = max(min(wait, time.Until(deadline)), atHand)
		m, err := iter.Next(jetstream.NextMaxWait(wait))
		if errors.Is(err, nats.ErrTimeout) {
			break
		}
		if err != nil {
			return batch, arrived, err
		}
		batch = append(batch, m)
	}
	return batch, arrived, nil
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
func (c *Consumer) handBack(iter jetstream.MessagesContext) {
	iter.Drain()
	for {
		m, err := iter.Next(jetstream.NextMaxWait(time.Second))
		if err != nil {
			return
		}
		_ = m.Nak()
	}
}

// process hands one batch to the Processor, telling JetStream meanwhile
// that its messages are being worked on.
// The first carried messages of the batch were carried over from the
// previous one.
func (c *Consumer) process(ctx context.Context, batch []jetstream.Msg, carried int) ([]handlers.Decision, handlers.Report) {
	msgs := make([]handlers.Message, len(batch))
	for i, m := range batch {
		msgs[i] = handlers.Message{Body: m.Data(), Delivered: 1, Carried: i < carried}
		if md, err := m.Metadata(); err == nil {
			msgs[i].Seq, msgs[i].Delivered = md.Sequence.Stream, int(md.NumDelivered)
		}
	}
	// More is waiting if the stream said so, or if the batch is full (the
	// iterator may hold the rest already).
	more := len(batch) >= c.opts.BatchMaxEvents || streamPending(batch[len(batch)-1]) > 0
	for i := range msgs {
		msgs[i].MoreWaiting = more
	}
	stopBeat := c.heartbeat(batch, c.cons.CachedInfo().Config.AckWait)
	defer stopBeat()
	return c.proc.Process(ctx, msgs)
}

// finish publishes a batch's results and acknowledges every message. This
// is the one place where decisions become acks: a message whose result was
// not stored is not acked, so its next delivery decides again.
func (c *Consumer) finish(ctx context.Context, batch []jetstream.Msg, decisions []handlers.Decision, start time.Time) {
	published := c.results.PublishAll(context.WithoutCancel(ctx), decisions)
	counts := map[string]int{}
	for i, m := range batch {
		d := decisions[i]
		if d.Result != nil && !published[i] {
			c.opts.Metrics.ResultUnpublished()
			d = handlers.Decision{Action: handlers.Nak, Delay: time.Second, Why: "result-unpublished"}
		}
		c.acknowledge(m, d)
		if d.Result != nil {
			counts[string(d.Result.Outcome)]++
			c.opts.Metrics.Event(kindLabel(d.Result), string(d.Result.Outcome))
		} else {
			counts["retry"]++
			c.opts.Metrics.Retry(d.Why)
		}
	}
	c.opts.Metrics.Batch(len(batch), time.Since(start))
	ev := c.log.Info().Int("events", len(batch)).Dur("took", time.Since(start))
	for k, v := range counts {
		ev = ev.Int(k, v)
	}
	ev.Msg("batch")
}

// noteReport pauses consumption when ChatHub refused the token.
func (c *Consumer) noteReport(report handlers.Report) {
	if !report.Unauthorized {
		return
	}
	c.pausedOrg.Store(int64(report.Org))
	c.paused.Store(true)
	c.opts.Metrics.Paused(true)
	c.log.Error().Err(report.Err).Msg("ChatHub refuses the company token; pausing until it accepts it")
}

// acknowledge maps one decision to its JetStream acknowledgement.
func (c *Consumer) acknowledge(m jetstream.Msg, d handlers.Decision) {
	var err error
	switch d.Action {
	case handlers.Ack:
		err = m.Ack()
	case handlers.Term:
		err = m.TermWithReason(d.Result.Reason)
	case handlers.Nak:
		err = m.NakWithDelay(d.Delay)
	}
	if err != nil {
		// The message comes back after AckWait and is decided again.
		c.log.Warn().Err(err).Msg("cannot acknowledge message")
	}
}

// heartbeat tells JetStream the batch is still being worked on, so that a
// batch slowed by the rate limit is not redelivered to another worker.
func (c *Consumer) heartbeat(batch []jetstream.Msg, ackWait time.Duration) (stop func()) {
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
				for _, m := range batch {
					_ = m.InProgress()
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// waitForToken asks ChatHub, with growing pauses, whether it accepts the
// token again.
func (c *Consumer) waitForToken(ctx context.Context) {
	delay := time.Second
	for {
		c.beat()
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err := c.probe(ctx, int(c.pausedOrg.Load())); err == nil {
			c.paused.Store(false)
			c.opts.Metrics.Paused(false)
			c.log.Info().Msg("ChatHub accepts the company token again; resuming")
			return
		} else {
			c.log.Warn().Err(err).Dur("next_try_in", delay).Msg("ChatHub still refuses the token")
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// kindLabel is the event kind for metrics: one of the four, or unknown.
func kindLabel(r *hrevent.Result) string {
	if k := hrevent.KindOfType(r.EventType); k != "" {
		return string(k)
	}
	return "unknown"
}

// backlogEvery is how often the consumer's backlog is read for metrics.
const backlogEvery = 5 * time.Second

// watchBacklog reads the consumer's pending and ack-pending counts until
// ctx is done.
func (c *Consumer) watchBacklog(ctx context.Context) {
	if c.opts.Metrics == nil {
		return
	}
	t := time.NewTicker(backlogEvery)
	defer t.Stop()
	for {
		infoCtx, cancel := context.WithTimeout(ctx, backlogEvery)
		if info, err := c.cons.Info(infoCtx); err == nil {
			c.opts.Metrics.Backlog(info.NumPending, uint64(info.NumAckPending))
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
