package app

import (
	"context"
	"time"

	"github.com/chathub-operator-worker/worker/internal/broker"
)

// stateEvery is how often the shared state is read for metrics.
const stateEvery = 15 * time.Second

// watchState reads what every replica shares into gauges: each
// organization's guard (approvals and rejections from the command line
// included), and the wake-ups scheduled and due.
func (w *Worker) watchState(ctx context.Context) {
	t := time.NewTicker(stateEvery)
	defer t.Stop()
	for {
		readCtx, cancel := context.WithTimeout(ctx, stateEvery)
		if states, err := w.store.States(readCtx); err == nil {
			for _, st := range states {
				held := 0
				if st.Tripped != nil {
					held = st.Tripped.Held
				}
				w.metrics.GuardHeld(st.OrganizationID, held)
			}
		}
		w.readWakeups(readCtx)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// readWakeups sets the wake-up gauges: scheduled (waiting for their time)
// and due (fired, not yet handled by the pipeline).
func (w *Worker) readWakeups(ctx context.Context) {
	ci, err := w.objs.Wakes.Info(ctx)
	if err != nil {
		return
	}
	s, err := w.js.Stream(ctx, w.cfg.SchedulesStream)
	if err != nil {
		return
	}
	si, err := s.Info(ctx)
	if err != nil {
		return
	}
	due := ci.NumPending + uint64(ci.NumAckPending)
	w.metrics.Wakeups(si.State.Msgs-min(due, si.State.Msgs), due)
}

// purgeEvents applies EVENTS_MAX_AGE: every hour (or every tenth of the
// age when shorter), it purges the events taken in that are older.
func (w *Worker) purgeEvents(ctx context.Context) {
	age := w.cfg.EventsMaxAge.Duration()
	if age <= 0 {
		return
	}
	every := min(time.Hour, age/10)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
		purgeCtx, cancel := context.WithTimeout(ctx, time.Minute)
		n, err := broker.PurgeTakenIn(purgeCtx, w.js, w.cfg.EventsStream, w.objs.Intake, age, time.Now())
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			w.log.Warn().Err(err).Msg("cannot purge old events")
		case n > 0:
			w.log.Info().Uint64("events", n).Str("stream", w.cfg.EventsStream).Msg("purged events taken in and older than EVENTS_MAX_AGE")
		}
	}
}

// backlogEvery is how often the intake consumer's backlog is read for
// metrics.
const backlogEvery = 5 * time.Second

// watchBacklog reads the intake consumer's pending and ack-pending counts
// into the metrics until ctx is done.
func (w *Worker) watchBacklog(ctx context.Context) {
	for {
		infoCtx, cancel := context.WithTimeout(ctx, backlogEvery)
		if info, err := w.objs.Intake.Info(infoCtx); err == nil {
			w.metrics.Backlog(info.NumPending, uint64(info.NumAckPending))
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-time.After(backlogEvery):
		}
	}
}
