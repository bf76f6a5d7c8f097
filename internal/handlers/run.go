package handlers

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/chathub-operator-worker/worker/internal/ctxtime"
	"github.com/chathub-operator-worker/worker/internal/employee"
)

// Run runs the pipeline while this worker leads. work is the context of
// its ChatHub work: cancelled when leadership is lost, or when the grace
// after a stop ran out. Once stop is done, no new look starts: the looks
// under way finish (their operations answered), then Run returns; when
// work ends first, every message still held is handed back.
func (p *Pipeline) Run(stop, work context.Context) {
	p.work = work
	// A pause of an earlier lead ended with it (its probe too): this one
	// finds out afresh whether ChatHub accepts the token.
	if p.paused.Swap(false) {
		p.cfg.Metrics.Paused(false)
	}
	p.gate.reset()
	// A token ChatHub refuses shows at once (/readyz), not at the first
	// event.
	p.bg.Go(func() {
		ctx, cancel := context.WithTimeout(work, 30*time.Second)
		defer cancel()
		if err := p.ports.Probe(ctx, 0); errors.Is(err, employee.ErrUnauthorized) {
			p.pause(nil)
		}
	})
	p.caughtUp.Store(true)
	looks, stopLooks := context.WithCancel(work)
	defer stopLooks()
	var wg sync.WaitGroup
	for range p.cfg.Looks {
		wg.Go(func() {
			for s := p.queue.next(looks); s != nil; s = p.queue.next(looks) {
				p.step(work, s)
			}
		})
	}
	for range committers {
		wg.Go(func() { p.committer(looks, work) })
	}
	wg.Go(func() { p.queue.timerLoop(looks) })
	wg.Go(func() { p.heartbeat(looks) })
	wg.Go(func() { p.gate.watch(looks) })
	// The sweep ends on the stop signal (it must not wake employees
	// while the looks under way drain) or with the work (the lead lost).
	sweeping, stopSweep := context.WithCancel(work)
	defer stopSweep()
	defer context.AfterFunc(stop, stopSweep)()
	wg.Go(func() {
		// Work a worker that stopped left: creates it may have made, and
		// employees it had not finished.
		p.intents.recover(sweeping)
		p.sweep(sweeping, true)
	})
	select {
	case <-stop.Done():
		p.log.Info().Msg("stopping: no new event is taken; the looks under way finish within SHUTDOWN_GRACE")
		p.queue.drain()
		for !p.queue.idle() && ctxtime.Sleep(work, 20*time.Millisecond) == nil {
		}
	case <-work.Done():
	}
	stopLooks()
	wg.Wait()
	for len(p.commits) > 0 {
		<-p.commits // looks of a lead that ended: their messages go back
	}
	p.handBack()
	p.bg.Wait()
	p.gate.flush(context.WithoutCancel(work))
}

// committers is how many batches of looks end at once.
const committers = 4

// Wake takes a wake-up for the employee: a change dated ahead or a retry
// is due, or a tool asks for a look. delivered is its delivery attempt.
func (p *Pipeline) Wake(employeeID string, m Message, delivered int) {
	p.queue.trigger(employeeID, m, delivered > 1)
}

// heartbeat marks the held messages in progress, well within AckWait, so
// that none is delivered again while this worker holds it.
func (p *Pipeline) heartbeat(ctx context.Context) {
	for ctxtime.Sleep(ctx, p.cfg.AckWait/3) == nil {
		for _, m := range p.queue.heldMessages() {
			if m != nil {
				_ = m.InProgress()
			}
		}
		p.queue.spillSome()
	}
}

// sweep looks at the employees on the list of unfinished work: at once
// (work a worker that stopped or died left, whose statuses it does not
// trust), then every Sweep for those whose time passed without a look (a
// wake-up that was lost).
func (p *Pipeline) sweep(ctx context.Context, takeover bool) {
	for {
		now := p.cfg.Now()
		err := p.ports.Store.Unfinished(ctx, func(id string, at time.Time) {
			if !at.After(now) {
				// Work written down while its calls were under way is
				// not trusted after a takeover; work that waited for a
				// time had none under way.
				p.queue.wake(id, takeover && at.IsZero())
			}
		})
		if err != nil && ctx.Err() == nil {
			p.log.Warn().Err(err).Msg("cannot read the list of unfinished work")
		}
		if ctxtime.Sleep(ctx, p.cfg.Sweep) != nil {
			return
		}
		takeover = false
	}
}

// handBack returns every message still held, so that whoever leads next
// takes it at once instead of after AckWait.
func (p *Pipeline) handBack() {
	msgs := p.queue.heldMessages()
	n := 0
	for _, m := range msgs {
		if m != nil {
			_ = m.Nak(0)
			n++
		}
	}
	p.queue.reset()
	if n > 0 {
		p.log.Info().Int("messages", n).Msg("handed back the messages not finished: whoever leads next takes them at once")
	}
}

// pause stops ChatHub work while ChatHub refuses the token, and probes it
// (re-reading a token file, by Probe) with growing pauses until it
// accepts it again; the looks waiting then go on.
func (p *Pipeline) pause(answers []employee.Answer) {
	org := 0
	for _, a := range answers {
		if a.Err != nil {
			org = a.Op.Org
		}
	}
	p.pausedOrg.Store(int64(org))
	if p.paused.Swap(true) {
		return
	}
	p.cfg.Metrics.Paused(true)
	p.log.Error().Int("organization_id", org).Msg("ChatHub refuses the company token (or the base URL or a proxy is wrong); pausing until it accepts it")
	p.bg.Go(func() {
		for delay := time.Second; ctxtime.Sleep(p.work, delay) == nil; delay = min(2*delay, 30*time.Second) {
			ctx, cancel := context.WithTimeout(p.work, 30*time.Second)
			err := p.ports.Probe(ctx, int(p.pausedOrg.Load()))
			cancel()
			if err == nil {
				p.paused.Store(false)
				p.cfg.Metrics.Paused(false)
				p.log.Info().Msg("ChatHub accepts the company token again; resuming")
				p.queue.resume()
				return
			}
			p.log.Warn().Err(err).Int64("next_try_in_ms", delay.Milliseconds()).Msg("ChatHub still refuses the token")
		}
	})
}

// Ready says why the pipeline cannot do its work now, or nil.
func (p *Pipeline) Ready() error {
	if p.paused.Load() {
		return errRefused
	}
	return nil
}

var errRefused = errors.New("ChatHub refuses the company token, or the worker is misconfigured (CHATHUB_BASE_URL, a proxy in the way)")
