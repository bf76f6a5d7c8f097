package broker

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chathub-operator-worker/worker/internal/ctxtime"
	"github.com/chathub-operator-worker/worker/internal/handlers"
)

// round is one call of the handler, and what it was given.
type round struct {
	slots    []*slot
	msgs     [][]jetstream.Msg
	outcomes []handlers.Outcome
	report   handlers.Report
}

// Run reconciles until ctx is done. It then stops fetching, lets the
// rounds in flight finish (their ChatHub calls are cancelled
// ShutdownGrace after ctx), hands back the messages it held, and returns.
func (q *Queue) Run(ctx context.Context) error {
	// work outlives ctx by the grace period, so a round can finish.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(q.opts.ShutdownGrace, cancelWork)
		context.AfterFunc(work, func() { t.Stop() })
	})
	defer stopGrace()

	// The fetchers and the token probe end with ctx.
	defer q.bg.Wait()
	q.bg.Go(func() { q.fetch(ctx, q.changes) })
	q.bg.Go(func() { q.fetch(ctx, q.wakes) })
	q.bound.Store(true)
	defer q.bound.Store(false)

	p := newPending()
	finished := make(chan *round)
	running := 0
	var h hold
	ackWait := q.changes.CachedInfo().Config.AckWait
	if ackWait <= 0 {
		ackWait = 30 * time.Second
	}
	heartbeat := time.NewTicker(ackWait / 3)
	defer heartbeat.Stop()
	recheck := time.NewTimer(time.Hour)
	defer recheck.Stop()
	// lastIn is when the last message came in, gathering when a round
	// could first have started.
	var lastIn, gathering time.Time
	for {
		q.beat.now()
		if next := p.wake(time.Now()); !next.IsZero() {
			recheck.Reset(time.Until(next))
		}
		// Start rounds while there is room, work, and no reason to wait.
		for running < q.opts.Rounds && !q.paused.Load() && ctx.Err() == nil {
			n := p.waiting()
			if n == 0 && !q.holding.Load() {
				break
			}
			onlyWakes := q.check(ctx, &h)
			if q.holding.Swap(onlyWakes) && !onlyWakes {
				// The hold is over: record changes left in the stream
				// meanwhile start coming; gather them.
				lastIn, gathering = time.Now(), time.Now()
				q.changesPending.Store(q.unfetched(ctx))
			}
			if onlyWakes {
				recheck.Reset(holdPoll)
			}
			if n == 0 {
				break
			}
			// Let changes that are streaming in arrive, so that a round
			// takes them together: while they keep coming (at most 40 ms),
			// and while the stream says more are there to fetch, or a round
			// of only hires left over by other rounds waits for those still
			// running, which leave more (at most Settle).
			quiet := time.Since(lastIn)
			backlog := q.changesPending.Load() > 0 || (running > 0 && p.onlyDeferred())
			streaming := n < q.opts.RoundMax && (quiet < quietGap || backlog)
			if !onlyWakes && gathering.IsZero() {
				gathering = time.Now()
			}
			limit := trickleMax
			if backlog {
				limit = q.opts.Settle
			}
			if !onlyWakes && streaming && time.Since(gathering) < limit {
				recheck.Reset(max(quietGap-quiet, holdPoll))
				break
			}
			slots, msgs := p.take(q.opts.RoundMax, onlyWakes)
			if len(slots) == 0 {
				break
			}
			gathering, h.spent = time.Time{}, false
			running++
			r := &round{slots: slots, msgs: msgs}
			more := streaming || p.waiting() > 0 || q.changesPending.Load() > 0 || q.opts.IntakeInHand()
			changes := make([]handlers.Change, len(r.slots))
			for i, s := range r.slots {
				changes[i] = s.change
				changes[i].More = more
			}
			go func() {
				r.outcomes, r.report = q.handler.Reconcile(work, changes)
				finished <- r
			}()
		}
		if ctx.Err() != nil && running == 0 {
			break
		}
		in := q.in
		if ctx.Err() != nil {
			in = nil
		}
		select {
		case m := <-in:
			lastIn = time.Now()
			if c, wake, ok := changeOf(m); ok && (wake || !p.needless(c)) {
				p.add(m, c, wake)
			} else {
				_ = m.Ack()
				q.release(1)
			}
		case r := <-finished:
			running--
			q.finish(ctx, p, r)
		case <-heartbeat.C:
			for _, m := range p.all() {
				_ = m.InProgress()
			}
		case <-recheck.C:
		case <-q.resumed:
		case <-ctx.Done():
		case <-time.After(idleBeat):
		}
	}
	// Hand back what was never started, so another worker (or the next
	// start) takes it at once instead of after AckWait.
	for _, m := range p.all() {
		_ = m.Nak()
	}
	return nil
}

// unfetched is how many record changes the stream holds beyond those
// delivered to this worker's fetches; 1 (more to come, until a fetched
// one says how many) when the broker does not say.
func (q *Queue) unfetched(ctx context.Context) uint64 {
	infoCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	info, err := q.changes.Info(infoCtx)
	if err != nil {
		return 1
	}
	return info.NumPending
}

// finish maps a round's outcomes to acknowledgements: every message of an
// employee gets the employee's outcome.
func (q *Queue) finish(ctx context.Context, p *pending, r *round) {
	var again []*slot
	for i, s := range r.slots {
		o := r.outcomes[i]
		var deferred []jetstream.Msg
		if o.Action == handlers.Defer {
			deferred = r.msgs[i]
		} else {
			for _, m := range r.msgs[i] {
				acknowledge(m, o, q.opts.Metrics, q.log)
			}
			q.release(len(r.msgs[i]))
		}
		waits, stale := p.done(s, deferred, o.Revision, o.Settled)
		for _, m := range stale {
			_ = m.Ack()
		}
		q.release(len(stale))
		switch {
		case waits && o.Action == handlers.Defer && o.Delay > 0:
			p.rest(s, time.Now().Add(o.Delay))
		case waits:
			again = append(again, s)
		}
	}
	p.requeue(again)
	if r.report.Unauthorized && !q.paused.Swap(true) {
		q.pausedOrg.Store(int64(r.report.Org))
		q.opts.Metrics.Paused(true)
		q.log.Error().Err(r.report.Err).Msg("ChatHub refuses the company token; pausing until it accepts it")
		q.bg.Go(func() { q.waitForToken(ctx) })
	}
}

// waitForToken asks ChatHub, with growing pauses, whether it accepts the
// token again, then resumes the rounds.
func (q *Queue) waitForToken(ctx context.Context) {
	delay := time.Second
	for {
		if ctxtime.Sleep(ctx, delay) != nil {
			return
		}
		probeCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := q.probe(probeCtx, int(q.pausedOrg.Load()))
		cancel()
		if err == nil {
			q.paused.Store(false)
			q.opts.Metrics.Paused(false)
			q.log.Info().Msg("ChatHub accepts the company token again; resuming")
			select {
			case q.resumed <- struct{}{}:
			default:
			}
			return
		}
		q.log.Warn().Err(err).Int64("next_try_in_ms", delay.Milliseconds()).Msg("ChatHub still refuses the token")
		delay = min(2*delay, 30*time.Second)
	}
}
